"""Reports: Markdown, self-contained HTML and JSON that render computed studies.

The comparison report computes no statistics of its own (its breakdowns are
computed with the study); forecast sections ask each ``ForecastResult`` for its
projected shares and fan charts.

:mod:`laborseq.report.document` is the document model; :mod:`~laborseq.report.comparison`,
:mod:`~laborseq.report.forecast`, :mod:`~laborseq.report.wages` and :mod:`~laborseq.report.rationales`
render the studies of the same names.
"""
