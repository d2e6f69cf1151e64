"""Hand-built features of a career history, for log-linear models of the next state.

Each feature is a named builder that computes one value per panel row from the
person's earlier observations and covariates. Categorical features are
encoded with the levels seen in training (the first level is the reference
category); numeric features are used as they are. The full set reproduces the
regression baseline of Vafa et al. (CAREER, TMLR 2024): first- and
second-order Markov terms, years in the current state, total years observed,
calendar-year effects, a gap indicator, education and its change, and static
covariates.

=====================  ============  =====================================================
name                   kind          value for the predicted year :math:`t`
=====================  ============  =====================================================
``previous_state``     categorical   state of the previous observation :math:`y_{t-1}`
``second_previous``    categorical   :math:`y_{t-2}` (level ``<none>`` at the second observation)
``years_in_state``     numeric       consecutive observations before :math:`t-1` in state
                                     :math:`y_{t-1}` (0 if :math:`y_{t-2} \\ne y_{t-1}`)
``years_observed``     numeric       number of earlier observations (0-based position)
``calendar_year``      categorical   calendar year of :math:`t` (year fixed effects)
``gap``                numeric       1 if the previous observation is not the year before
``education``          categorical   education in year :math:`t`
``education_change``   numeric       1 if education differs from the previous observation
``static``             categorical   each other covariate of the panel (gender, race,
                                     region, ...), at year :math:`t`; ``birth_year``
                                     enters as 5-year birth cohorts
=====================  ============  =====================================================

Counts are of observations, not calendar years, as in the reference (a gap of
several years counts once); the ``gap`` feature flags them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborseq._util.rows import distinct_rows
from laborseq.panel import YEAR, CareerPanel

NONE_LEVEL = "<none>"
MISSING_LEVEL = "<NA>"

COHORT_WIDTH = 5
"""A ``birth_year`` covariate enters as birth cohorts of this many years (1940-44, 1945-49, ...)."""

FULL_FEATURES: tuple[str, ...] = (
    "previous_state",
    "second_previous",
    "years_in_state",
    "years_observed",
    "calendar_year",
    "gap",
    "education",
    "education_change",
    "static",
)
"""The regression baseline of the CAREER paper."""

FIRST_YEAR_FEATURES: tuple[str, ...] = ("calendar_year", "education", "static")
"""Features available for a person's first observed year (no history)."""


@dataclass(frozen=True)
class _Builder:
    kind: Literal["categorical", "numeric"]
    compute: Callable[[CareerPanel], np.ndarray]
    needs: str | None = None


def _lag_states(panel: CareerPanel, lag: int) -> np.ndarray:
    states = np.asarray(panel.states, dtype=object)
    lagged = panel.lagged_states(lag)
    return np.where(lagged >= 0, states[np.maximum(lagged, 0)], NONE_LEVEL)


def _years_in_state(panel: CareerPanel) -> np.ndarray:
    """Run length of the previous state before t-1, in observations."""
    states = panel.state_index()
    n = len(states)
    first_in_person = np.zeros(n, dtype=bool)
    first_in_person[panel.person_offsets()[:-1]] = True
    run = np.zeros(n, dtype=np.int64)  # run[i]: consecutive observations ending at i in state[i], minus 1
    same = np.zeros(n, dtype=bool)
    same[1:] = ~first_in_person[1:] & (states[1:] == states[:-1])
    # run length via cumulative counts reset where ``same`` is False
    idx = np.arange(n)
    reset = np.where(~same, idx, 0)
    np.maximum.accumulate(reset, out=reset)
    run = idx - reset
    out = np.zeros(n, dtype=float)
    prev_ok = ~first_in_person
    out[1:][prev_ok[1:]] = run[:-1][prev_ok[1:]]
    return out


def _gap(panel: CareerPanel) -> np.ndarray:
    years = panel.data[YEAR].to_numpy().astype(np.int64)
    has_prev = panel.lagged_states(1) >= 0
    out = np.zeros(len(years), dtype=float)
    out[1:] = (years[1:] - years[:-1]) != 1
    return np.where(has_prev, out, 0.0)


def _education_change(panel: CareerPanel) -> np.ndarray:
    edu = _as_levels(panel.data["education"])
    has_prev = panel.lagged_states(1) >= 0
    out = np.zeros(len(edu), dtype=float)
    out[1:] = edu[1:] != edu[:-1]
    return np.where(has_prev, out, 0.0)


def _as_levels(values: pd.Series) -> np.ndarray:
    """Covariate values as strings, missing as ``<NA>``."""
    strings = values.astype(object).where(values.notna(), MISSING_LEVEL)
    return np.array([str(v) for v in strings], dtype=object)


def static_levels(values: pd.Series, column: str | None = None) -> np.ndarray:
    """A covariate's values as the levels its feature uses: strings (missing as ``<NA>``); a ``birth_year``
    ``column`` in birth cohorts of :data:`COHORT_WIDTH` years."""
    if column == "birth_year":
        values = (values // COHORT_WIDTH) * COHORT_WIDTH
    return _as_levels(values)


BUILDERS: dict[str, _Builder] = {
    "previous_state": _Builder("categorical", lambda p: _lag_states(p, 1)),
    "second_previous": _Builder("categorical", lambda p: _lag_states(p, 2)),
    "years_in_state": _Builder("numeric", _years_in_state),
    "years_observed": _Builder("numeric", lambda p: p.positions().astype(float)),
    "calendar_year": _Builder("categorical", lambda p: p.data[YEAR].astype(str).to_numpy(dtype=object)),
    "gap": _Builder("numeric", _gap),
    "education": _Builder("categorical", lambda p: _as_levels(p.data["education"]), needs="education"),
    "education_change": _Builder("numeric", _education_change, needs="education"),
}


@dataclass
class FeatureEncoder:
    """Learns the levels of categorical features and encodes panels consistently.

    Parameters
    ----------
    features : sequence of str
        Builder names (see the module docstring); ``"static"`` expands to every
        covariate of the training panel other than ``education``. Features the
        panel cannot provide (``education`` without an education covariate) and
        numeric features that do not vary in training (``gap`` in a balanced
        annual panel) are left out (listed in ``constant_``).
    formula : str, optional
        Extra covariate terms as a Wilkinson formula right-hand side evaluated
        with formulaic on the panel's covariates (e.g. ``"race + birth_year"``
        or ``"C(region):education"``); the intercept is dropped (the model has
        its own). The categorical levels seen in training are saved, so new
        panels are encoded identically; an unseen level or a missing value in
        a formula variable raises an error naming the variable.
    unseen : {"reference", "raise"}
        What to do with a level not seen in training: use the reference level
        (the feature then adds nothing, as for the base category) and warn, or
        raise an error naming the feature and the levels. Unseen calendar years
        always use the nearest trained year.
    """

    features: Sequence[str]
    unseen: Literal["reference", "raise"] = "reference"
    formula: str | None = None
    levels_: dict[str, list[str]] = field(default_factory=dict)
    numeric_: list[str] = field(default_factory=list)
    categorical_: list[str] = field(default_factory=list)
    constant_: list[str] = field(default_factory=list)
    formula_levels_: dict[str, list[str] | None] = field(default_factory=dict)
    formula_columns_: list[str] = field(default_factory=list)

    @property
    def n_numeric(self) -> int:
        """Number of numeric design columns (builder numerics and formula columns)."""
        return len(self.numeric_) + len(self.formula_columns_)

    @property
    def column_names(self) -> list[str]:
        """Names of the dummy-coded design columns of :meth:`transform` (:attr:`EncodedFeatures.column_names`)."""
        numeric = list(self.numeric_) + [f"formula:{c}" for c in self.formula_columns_]
        levels = {name: self.levels_[name] for name in self.categorical_}
        return EncodedFeatures({}, levels, numeric, np.zeros((0, len(numeric)))).column_names

    def fit(self, panel: CareerPanel, rows: np.ndarray) -> FeatureEncoder:
        """Learn levels from the rows (boolean mask) of ``panel``."""
        unknown = [f for f in self.features if f not in BUILDERS and f != "static"]
        if unknown:
            raise ValueError(f"unknown feature(s) {unknown}; choose from {[*BUILDERS, 'static']}")
        self.categorical_, self.numeric_, self.constant_ = [], [], []
        self.levels_ = {}
        for name in self._expanded(panel):
            kind = "categorical" if name.startswith("static:") else BUILDERS[name].kind
            if kind == "categorical":
                values = self._compute(panel, name)[rows]
                self.levels_[name] = _sorted_levels(values)
                self.categorical_.append(name)
            elif np.ptp(self._compute(panel, name)[rows]) > 0:
                self.numeric_.append(name)
            else:
                self.constant_.append(name)  # no variation in training: not identified, left out
        if self.formula:
            self._fit_formula(panel, rows)
        return self

    # ------------------------------------------------------------------ formula terms
    def _formula_frame(self, panel: CareerPanel, rows: np.ndarray, levels: dict[str, list[str] | None]) -> pd.DataFrame:
        data = panel.data[rows]
        frame = {}
        for var, cats in levels.items():
            if var not in data.columns:
                raise ValueError(f"formula variable {var!r} is not a column of the panel ({list(panel.covariates)})")
            values = data[var]
            missing = values.isna().to_numpy()
            if missing.any():
                raise ValueError(
                    f"formula variable {var!r} is missing in {int(missing.sum())} row(s); fill or drop them"
                )
            if cats is None:
                frame[var] = values.to_numpy(dtype=float)
                continue
            strings = values.astype(str).to_numpy()
            unseen = sorted(set(strings.tolist()) - set(cats))
            if unseen:
                raise ValueError(
                    f"formula variable {var!r} has level(s) {unseen[:10]} not seen in training {cats[:10]}"
                )
            frame[var] = pd.Categorical(strings, categories=cats)
        return pd.DataFrame(frame, index=np.arange(int(rows.sum())))

    def _fit_formula(self, panel: CareerPanel, rows: np.ndarray) -> None:
        variables = sorted(_formulaic().Formula(self.formula).required_variables)
        levels: dict[str, list[str] | None] = {}
        for var in variables:
            if var not in panel.data.columns:
                raise ValueError(f"formula variable {var!r} is not a column of the panel ({list(panel.covariates)})")
            values = panel.data.loc[rows, var]
            numeric = pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype)
            levels[var] = None if numeric else _sorted_levels(values.dropna().astype(str).to_numpy())
        self.formula_levels_ = levels
        matrix = self._formula_matrix(panel, rows)
        self.formula_columns_ = list(matrix.columns)

    def _formula_matrix(self, panel: CareerPanel, rows: np.ndarray) -> pd.DataFrame:
        frame = self._formula_frame(panel, rows, self.formula_levels_)
        matrix = _formulaic().model_matrix(self.formula, frame, na_action="raise", output="pandas")
        return pd.DataFrame(matrix).drop(columns=["Intercept"], errors="ignore")

    def _expanded(self, panel: CareerPanel) -> list[str]:
        names: list[str] = []
        for name in self.features:
            if name == "static":
                names += [f"static:{c}" for c in panel.covariates if c != "education"]
                continue
            needs = BUILDERS[name].needs
            if needs is not None and needs not in panel.covariates:
                continue  # a feature the panel cannot have (documented: skipped)
            names.append(name)
        return names

    @staticmethod
    def _compute(panel: CareerPanel, name: str) -> np.ndarray:
        if name.startswith("static:"):
            column = name.split(":", 1)[1]
            if column not in panel.covariates:
                raise ValueError(f"the panel lacks covariate {column!r} that the model was fitted with")
            return static_levels(panel.data[column], column)
        return BUILDERS[name].compute(panel)

    def transform(self, panel: CareerPanel, rows: np.ndarray) -> EncodedFeatures:
        """Encode the rows (boolean mask) of ``panel`` with the learned levels."""
        codes: dict[str, np.ndarray] = {}
        for name in self.categorical_:
            values = self._compute(panel, name)[rows]
            codes[name] = self.encode_values(name, values)
        blocks = [self._compute(panel, n)[rows][:, None] for n in self.numeric_]
        names = list(self.numeric_)
        if self.formula:
            matrix = self._formula_matrix(panel, rows)
            if list(matrix.columns) != self.formula_columns_:
                raise ValueError(f"formula columns {list(matrix.columns)} differ from training {self.formula_columns_}")
            blocks.append(matrix.to_numpy(dtype=float))
            names += [f"formula:{c}" for c in matrix.columns]
        numeric = np.hstack(blocks) if blocks else np.zeros((int(rows.sum()), 0))
        return EncodedFeatures(codes, {n: self.levels_[n] for n in self.categorical_}, names, numeric)

    def encode_values(self, name: str, values: np.ndarray) -> np.ndarray:
        """Codes of categorical feature ``name``'s ``values`` (strings); unseen levels as the class describes."""
        levels = self.levels_[name]
        lookup = {v: i for i, v in enumerate(levels)}
        codes = np.array([lookup.get(v, -1) for v in values], dtype=np.int64)
        bad = codes < 0
        if not bad.any():
            return codes
        unseen = sorted(set(values[bad].tolist()))[:10]
        message = (
            f"feature {name!r} has level(s) {unseen} not seen in training ({int(bad.sum())} rows); "
            f"trained levels: {levels[:10]}{' ...' if len(levels) > 10 else ''}"
        )
        if name == "calendar_year":
            trained = np.array([int(v) for v in levels])
            years = np.array([int(v) for v in values[bad]])
            codes[bad] = np.abs(years[:, None] - trained[None, :]).argmin(axis=1)
        elif self.unseen == "raise":
            raise ValueError(message)
        else:
            warnings.warn(message + "; they get the reference level's effect (zero)", stacklevel=3)
            codes[bad] = 0
        return codes

    def get_state(self) -> dict[str, Any]:
        """JSON-serializable state."""
        return {
            "features": list(self.features),
            "unseen": self.unseen,
            "levels": self.levels_,
            "numeric": self.numeric_,
            "categorical": self.categorical_,
            "constant": self.constant_,
            "formula": self.formula,
            "formula_levels": self.formula_levels_,
            "formula_columns": self.formula_columns_,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FeatureEncoder:
        """Rebuild from :meth:`get_state`."""
        enc = cls(state["features"], state["unseen"], state.get("formula"))
        enc.formula_levels_ = dict(state.get("formula_levels", {}))
        enc.formula_columns_ = list(state.get("formula_columns", []))
        enc.levels_ = {k: list(v) for k, v in state["levels"].items()}
        enc.numeric_ = list(state["numeric"])
        enc.categorical_ = list(state["categorical"])
        enc.constant_ = list(state.get("constant", []))
        return enc


@dataclass(frozen=True)
class EncodedFeatures:
    """Encoded features of a set of rows.

    Attributes
    ----------
    codes : dict of str to numpy.ndarray
        Level index of each categorical feature (0 is the reference level).
    levels : dict of str to list of str
        Levels of each categorical feature.
    numeric_names : list of str
        Names of the numeric columns.
    numeric : numpy.ndarray
        Shape ``(n, len(numeric_names))``.
    """

    codes: dict[str, np.ndarray]
    levels: dict[str, list[str]]
    numeric_names: list[str]
    numeric: np.ndarray

    def __len__(self) -> int:
        return self.numeric.shape[0]

    @property
    def column_names(self) -> list[str]:
        """Names of the dummy-coded design columns: intercept, non-reference levels, numerics."""
        names = ["const"]
        for name, levels in self.levels.items():
            names += [f"{name}[{lvl}]" for lvl in levels[1:]]
        return names + list(self.numeric_names)

    def distinct(self) -> tuple[np.ndarray, np.ndarray]:
        """One row per distinct feature row (codes and numeric values) and every row's index among them."""
        columns = [*self.codes.values(), *(np.unique(c, return_inverse=True)[1] for c in self.numeric.T)]
        return distinct_rows(columns or [np.zeros(len(self), dtype=np.int64)])

    def take(self, rows: np.ndarray) -> EncodedFeatures:
        """The features of ``rows`` (positions)."""
        return EncodedFeatures(
            {k: v[rows] for k, v in self.codes.items()}, self.levels, self.numeric_names, self.numeric[rows]
        )

    def design_matrix(self) -> np.ndarray:
        """Dense dummy-coded design (reference levels dropped), with an intercept column."""
        n = len(self)
        blocks = [np.ones((n, 1))]
        for name, levels in self.levels.items():
            block = np.zeros((n, max(len(levels) - 1, 0)))
            codes = self.codes[name]
            rows = np.flatnonzero(codes > 0)
            block[rows, codes[rows] - 1] = 1.0
            blocks.append(block)
        blocks.append(self.numeric)
        return np.hstack(blocks)


def _sorted_levels(values: np.ndarray) -> list[str]:
    """Distinct levels, numeric-looking ones sorted numerically, ``<none>`` and ``<NA>`` last."""
    uniq = set(values.tolist())
    specials = [s for s in (NONE_LEVEL, MISSING_LEVEL) if s in uniq]
    rest = uniq - set(specials)

    def key(v: str) -> tuple[int, float, str]:
        try:
            return (0, float(v), v)
        except ValueError:
            return (1, 0.0, v)

    return sorted(rest, key=key) + specials


def _formulaic() -> ModuleType:
    """The formulaic package, imported only when a formula is given (it takes about half a second)."""
    import formulaic  # noqa: PLC0415 - deferred so that importing the encoder (and MNLogit) stays light

    return formulaic
