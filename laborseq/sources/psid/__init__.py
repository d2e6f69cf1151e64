"""The PSID reader for Data Center extracts (fixed-width data with Stata, SPSS or SAS setup programs).

Modules, from the bottom up:

* :mod:`~laborseq.sources.psid.layout`: the column layout type and its checks;
* :mod:`~laborseq.sources.psid.setup_syntax` and one parser per setup-program dialect,
  :mod:`~laborseq.sources.psid.setup_stata` (``.do``/``.dct``), :mod:`~laborseq.sources.psid.setup_spss`
  (``.sps``), :mod:`~laborseq.sources.psid.setup_sas` (``.sas``);
* :mod:`~laborseq.sources.psid.setup_files`: finding and reading the setup program of a data file;
* :mod:`~laborseq.sources.psid.fixed_width`: reading the data with a layout;
* :mod:`~laborseq.sources.psid.reference_tables`: the built-in wave ids, family interview numbers and
  occupation variables;
* :mod:`~laborseq.sources.psid.variables`: which variable of an extract belongs to which wave and role;
* :mod:`~laborseq.sources.psid.reader`: :func:`~laborseq.sources.psid.reader.read_psid`, the extract ->
  candidates -> harmonised panel.

The file layouts and tables are described in ``docs/survey-formats.md``, section C.2.
"""
