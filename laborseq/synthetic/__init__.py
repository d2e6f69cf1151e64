"""Synthetic careers with a known likelihood: a seeded generator over occ1990dd codes and its exact oracle."""

from laborseq.synthetic.careers import RESUME, SURVEY, Population, SyntheticCareers

__all__ = ["RESUME", "SURVEY", "Population", "SyntheticCareers"]
