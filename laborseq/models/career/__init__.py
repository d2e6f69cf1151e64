"""CAREER, the transformer foundation model of careers, and its forecast stepper."""

from laborseq.models.career.model import CAREER, PRESETS

__all__ = ["CAREER", "PRESETS"]
