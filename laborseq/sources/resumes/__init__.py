"""The resume reader: job spells in CSV or parquet files -> one occ1990dd state per person-year.

Modules, from the bottom up:

* :mod:`~laborseq.sources.resumes.column_values`: text, nulls and dates of the file's columns;
* :mod:`~laborseq.sources.resumes.spells`: spells parsed and validated batch by batch;
* :mod:`~laborseq.sources.resumes.spell_files`: the files of an input (a file, a directory, a pattern, a
  list), opened and read batch by batch;
* :mod:`~laborseq.sources.resumes.person_years`: the year-assignment rules, from spells to the panel, in memory;
* :mod:`~laborseq.sources.resumes.out_of_core`: the same rules out of core, in DuckDB, into a panel dataset;
* :mod:`~laborseq.sources.resumes.reader`: :func:`~laborseq.sources.resumes.reader.read_resumes` and
  :func:`~laborseq.sources.resumes.reader.write_resumes`, which document the rules.
"""
