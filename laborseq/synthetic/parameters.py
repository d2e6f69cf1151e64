"""The true parameters of a synthetic career process and how they are drawn from its seed.

:class:`TrueParameters` holds the arrays named in the formulas of
:mod:`laborseq.synthetic.process`; :func:`draw_parameters` draws them from a
process's seed and settings. The education loading and female effect of each
state start from a table by occ1990dd major group (professional and managerial
groups load on education, clerical and health lean female, trades male) and
add occupation noise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from laborseq.panel.education import EDUCATION_LEVELS
from laborseq.synthetic.population import RACES, REGIONS

if TYPE_CHECKING:
    from laborseq.synthetic.process import SyntheticCareers

UNEMPLOYED = "unemployed"
"""The status token of the process's unemployment state (a major group of its own)."""

# Education loading and female effect of each occ1990dd major group (before noise).
_GROUP_SKILL = {
    "Managerial specialty": 0.9,
    "Professional specialty and technical support": 1.2,
    "Sales": 0.3,
    "Clerical, administrative support": 0.2,
    "Health services": 0.0,
    "Personal services": -0.4,
    "Service: protection": -0.2,
    "Service: food preparation": -0.6,
    "Service: private household, cleaning and building": -0.7,
    "Farming, forestry, fishing": -0.6,
    "Mechanics and repair": -0.3,
    "Construction trades and extractive": -0.4,
    "Precision production": -0.4,
    "Operators: machine": -0.7,
    "Operators: transport": -0.6,
    "Operators: handlers, helpers, laborers": -0.8,
    UNEMPLOYED: -0.6,
}
_GROUP_FEMALE = {
    "Clerical, administrative support": 0.8,
    "Health services": 0.8,
    "Personal services": 0.5,
    "Service: private household, cleaning and building": 0.6,
    "Professional specialty and technical support": 0.2,
    "Sales": 0.1,
    "Service: food preparation": 0.2,
    "Construction trades and extractive": -1.0,
    "Mechanics and repair": -1.0,
    "Operators: transport": -0.7,
    "Service: protection": -0.5,
    "Precision production": -0.5,
    "Operators: handlers, helpers, laborers": -0.4,
    "Farming, forestry, fishing": -0.4,
    "Operators: machine": -0.2,
}


@dataclass(frozen=True)
class TrueParameters:
    """The drawn parameters of a :class:`SyntheticCareers` process (see :mod:`laborseq.synthetic.process`).

    ``Z`` types, ``K`` states, ``R`` races, ``Q`` regions, ``E`` education levels.
    """

    group: np.ndarray  # (K,) int: group id of each state (unemployed: its own)
    preference: np.ndarray  # (Z, K): theta
    education_loading: np.ndarray  # (K,): ell
    female_effect: np.ndarray  # (K,): omega
    drift: np.ndarray  # (K,): lambda, per decade
    initial_offset: np.ndarray  # (K,): iota
    stay_type: np.ndarray  # (Z,): kappa
    tenure_type: np.ndarray  # (Z,): rho
    stay_state: np.ndarray  # (K,): kappa^state
    return_type: np.ndarray  # (Z,): r
    type_intercept: np.ndarray  # (Z,): alpha
    type_female: np.ndarray  # (Z,): alpha^f
    type_race: np.ndarray  # (Z, R)
    type_region: np.ndarray  # (Z, Q)
    type_education: np.ndarray  # (Z, E)
    type_cohort: np.ndarray  # (Z,): per decade of birth after 1975
    type_selection: np.ndarray  # (Z,): xi

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The parameters by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def draw_parameters(process: SyntheticCareers) -> TrueParameters:
    """The parameters of ``process``, drawn from its seed and settings (the same seed gives the same arrays).

    Parameters
    ----------
    process : SyntheticCareers
        The process whose scheme, number of types and scales set the draws.

    Returns
    -------
    TrueParameters
        The arrays of the process's formulas.
    """
    rng = np.random.default_rng([process.seed, 1])
    scheme = process.scheme
    names = [scheme.group_of(s, "major_group") for s in scheme.states]
    group_ids = {g: i for i, g in enumerate(dict.fromkeys(names))}
    group = np.array([group_ids[g] for g in names], dtype=np.int64)
    k, z, n_groups = scheme.n_states, process.n_types, len(group_ids)
    skill = np.array([_GROUP_SKILL.get(g, 0.0) for g in group_ids])
    female = np.array([_GROUP_FEMALE.get(g, 0.0) for g in group_ids])
    is_unemp = np.array([s == UNEMPLOYED for s in scheme.states])
    popularity = rng.normal(0.0, process.popularity_scale, k) + process.unemployment_level * is_unemp
    type_group = rng.normal(0.0, process.type_group_scale, (z, n_groups))
    type_occ = rng.normal(0.0, process.type_occ_scale, (z, k))
    stay_state = rng.normal(0.0, 0.3, k) - 1.0 * is_unemp
    initial = rng.normal(0.0, 0.3, k) + 1.0 * is_unemp
    group_drift = rng.normal(0.0, process.drift_scale, n_groups)
    ts = process.type_scale
    lo, hi = process.tenure_effect
    return TrueParameters(
        group=group,
        preference=popularity[None, :] + type_group[:, group] + type_occ,
        education_loading=process.education_effect * (skill[group] + rng.normal(0.0, 0.3, k)),
        female_effect=process.gender_effect * (female[group] + rng.normal(0.0, 0.3, k)),
        drift=group_drift[group] + rng.normal(0.0, process.drift_scale / 2, k),
        initial_offset=initial,
        stay_type=process.stay_intercept + rng.normal(0.0, process.stay_spread, z),
        tenure_type=rng.uniform(lo, hi, z),
        stay_state=stay_state,
        return_type=process.return_intercept + rng.normal(0.0, process.return_spread, z),
        type_intercept=rng.normal(0.0, 0.5, z),
        type_female=rng.normal(0.0, ts, z),
        type_race=rng.normal(0.0, ts, (z, len(RACES))),
        type_region=rng.normal(0.0, ts / 2, (z, len(REGIONS))),
        type_education=rng.normal(0.0, ts, (z, len(EDUCATION_LEVELS))),
        type_cohort=rng.normal(0.0, ts / 2, z),
        type_selection=rng.normal(0.0, 1.0, z),
    )
