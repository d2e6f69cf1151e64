"""The resume reader: job spells in a CSV or parquet file -> one occ1990dd state per person-year.

Modules, from the bottom up:

* :mod:`~laborseq.sources.resumes.column_values`: text, nulls and dates of the file's columns;
* :mod:`~laborseq.sources.resumes.spells`: spells parsed and validated batch by batch;
* :mod:`~laborseq.sources.resumes.person_years`: the year-assignment rules, from spells to the panel;
* :mod:`~laborseq.sources.resumes.reader`: :func:`~laborseq.sources.resumes.reader.read_resumes`, which
  streams the file in batches and documents the rules.
"""
