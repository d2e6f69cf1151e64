"""NLSY79 and NLSY97 readers for NLS Investigator downloads.

Modules, from the bottom up:

* :mod:`~laborseq.sources.nlsy.names`: reference numbers and question names in one spelling;
* :mod:`~laborseq.sources.nlsy.investigator`: the files of a download (codebook, tagset, CSV/DAT values);
* :mod:`~laborseq.sources.nlsy.columns`: what each column is (question name, survey year, role, code frame);
* :mod:`~laborseq.sources.nlsy.covariates`: person and round covariates, weights;
* :mod:`~laborseq.sources.nlsy.reader`: :func:`~laborseq.sources.nlsy.reader.read_investigator`,
  the export -> candidates -> harmonised panel;
* :mod:`~laborseq.sources.nlsy.nlsy79`, :mod:`~laborseq.sources.nlsy.nlsy97`: the cohorts and their readers.

The download layouts are described in ``docs/survey-formats.md``, section C.1.
"""
