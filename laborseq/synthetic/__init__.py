"""Synthetic careers with a known likelihood: a seeded generator over occ1990dd codes and its exact oracle.

:class:`SyntheticCareers` (:mod:`~laborseq.synthetic.process`, with the
equations) draws careers of the populations :data:`SURVEY` and :data:`RESUME`
(:mod:`~laborseq.synthetic.population`) from parameters it draws from its seed
(:class:`TrueParameters`, :mod:`~laborseq.synthetic.parameters`), and scores
any panel exactly by forward filtering over latent types
(:mod:`~laborseq.synthetic.likelihood`). :mod:`~laborseq.synthetic.simulation`
simulates persons, :mod:`~laborseq.synthetic.transitions` holds the per-type
transition tables and career histories both share, and
:mod:`~laborseq.synthetic.encoding` validates and encodes panels.
"""

from laborseq.synthetic.parameters import TrueParameters
from laborseq.synthetic.population import COVARIATES, GENDERS, RACES, REGIONS, RESUME, SURVEY, Population
from laborseq.synthetic.process import SyntheticCareers

__all__ = [
    "COVARIATES",
    "GENDERS",
    "RACES",
    "REGIONS",
    "RESUME",
    "SURVEY",
    "Population",
    "SyntheticCareers",
    "TrueParameters",
]
