"""Reports: Markdown, self-contained HTML and JSON from model comparisons."""

from laborseq.report.comparison import comparison_report, results_dict, write_comparison_report
from laborseq.report.document import Report

__all__ = ["Report", "comparison_report", "results_dict", "write_comparison_report"]
