"""Model comparison on identical held-out targets: person bootstrap, paired differences, breakdowns."""

from laborseq.evaluation.comparison import ComparisonResult, compare

__all__ = ["ComparisonResult", "compare"]
