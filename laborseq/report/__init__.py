"""Reports: Markdown, self-contained HTML and JSON that render computed studies (they compute no statistics).

:mod:`laborseq.report.document` is the document model; :mod:`~laborseq.report.comparison`,
:mod:`~laborseq.report.forecast`, :mod:`~laborseq.report.wages` and :mod:`~laborseq.report.rationales`
render the studies of the same names.
"""
