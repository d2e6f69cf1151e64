"""Scoring a forecast against what was later observed: observed shares, events and :class:`ForecastScore`.

The observed rows of a :class:`~laborseq.panel.CareerPanel` are matched to the
forecast's persons and years (:func:`observed_rows`), summarised as observed
state shares (:func:`observed_shares`, the crosses of a fan chart) and scored as
in the CAREER forecasting evaluation (:func:`score_forecast`): perplexity of p̄
and binary events with ROC AUC.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from laborseq._util.json import to_jsonable
from laborseq._util.random import RNGLike, check_random_state
from laborseq.evaluation.metrics import EVENT_METRICS, NOT_EMPLOYED_TOKENS, event_summary, perplexity
from laborseq.forecast.shares import group_codes, long_table, state_map
from laborseq.panel import OCC, PERSON, YEAR, CareerPanel

if TYPE_CHECKING:
    from laborseq.forecast.result import ForecastResult


@dataclass(frozen=True)
class ForecastScore:
    """Score of a forecast against observed states (see :meth:`~laborseq.forecast.result.ForecastResult.score`).

    Attributes
    ----------
    by_horizon : pandas.DataFrame
        One row per forecast year: ``horizon`` (years after the origin),
        ``year``, ``n`` (person-years scored), ``perplexity`` (``exp`` of the mean
        ``-log p̄(observed state)``) and, per binary event, ``{event}_rate``
        (observed share of person-years with the event), ``{event}_predicted``
        (mean predicted probability), ``{event}_perplexity`` (binary perplexity)
        and ``{event}_auc`` (ROC AUC; NaN when the event always or never happened); with
        bootstrap draws, ``perplexity_low`` and ``perplexity_high`` (person-bootstrap interval).
    overall : dict
        The same metrics pooled over all scored person-years, plus ``n_persons``
        and ``n_person_years``.
    events : tuple of str
        The binary events scored (``"moves"``, and ``"not_employed"`` when the
        classes contain ``unemployed`` or ``out_of_labor_force``).
    model, origin, complete_only
        What was scored and how.
    n_rows_ignored : int
        Rows of the observed panel outside the forecast persons and years.
    n_persons_incomplete : int
        Forecast persons observed in some forecast year but not in the last one,
        dropped because ``complete_only=True`` (0 otherwise).
    weighted : bool
        Whether person-years were weighted by their survey weights.
    n_boot : int
        Person-bootstrap draws of the perplexity intervals (0: none).
    level : float
        Their coverage.
    """

    by_horizon: pd.DataFrame
    overall: dict[str, float]
    events: tuple[str, ...]
    model: str
    origin: int
    complete_only: bool
    n_rows_ignored: int
    n_persons_incomplete: int
    weighted: bool = False
    n_boot: int = 0
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (NaN becomes ``None``; an infinite perplexity stays a float, which ``json.dumps``
        writes as ``Infinity``)."""
        return {
            "model": self.model,
            "origin": self.origin,
            "complete_only": self.complete_only,
            "events": list(self.events),
            "n_rows_ignored": self.n_rows_ignored,
            "n_persons_incomplete": self.n_persons_incomplete,
            "weighted": self.weighted,
            "n_boot": self.n_boot,
            "level": self.level,
            "overall": to_jsonable(self.overall),
            "by_horizon": to_jsonable(self.by_horizon.to_dict("records")),
        }

    def __str__(self) -> str:
        o = self.overall
        lines = [
            f"Forecast score of {self.model or 'forecast'} from origin {self.origin} "
            f"({o['n_persons']:,} persons, {o['n_person_years']:,} person-years"
            f"{', complete persons only' if self.complete_only else ''})",
            f"  perplexity {o['perplexity']:.4f}",
        ]
        for event in self.events:
            lines.append(
                f"  {event:<13} rate {o[f'{event}_rate']:.4f}  predicted {o[f'{event}_predicted']:.4f}  "
                f"binary perplexity {o[f'{event}_perplexity']:.4f}  AUC {o[f'{event}_auc']:.4f}"
            )
        lines.append(self.by_horizon.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
        return "\n".join(lines)


def score_forecast(
    result: ForecastResult,
    observed: CareerPanel,
    *,
    complete_only: bool = True,
    weighted: bool = True,
    n_boot: int = 0,
    level: float = 0.95,
    rng: RNGLike = 0,
) -> ForecastScore:
    """Score ``result`` against the observed states of its persons; see :meth:`ForecastResult.score`."""
    if n_boot < 0 or not 0 < level < 1:
        raise ValueError(f"score: n_boot must be >= 0 and level in (0, 1), got {n_boot} and {level}")
    rows = observed_rows(result, observed, weighted=weighted)
    n_incomplete = 0
    if complete_only:
        last = len(result.years) - 1
        complete = np.zeros(result.n_persons, dtype=bool)
        complete[rows.person[rows.year == last]] = True
        seen = np.zeros(result.n_persons, dtype=bool)
        seen[rows.person] = True
        n_incomplete = int((seen & ~complete).sum())
        rows = rows.subset(complete[rows.person])
    if len(rows.person) == 0:
        raise ValueError(
            "score: no observed rows of the forecast persons in the forecast years"
            + (" among persons observed in the last forecast year" if complete_only else "")
        )
    p_true = result.probabilities[rows.person, rows.year, rows.state].astype(np.float64)
    zero = int((p_true <= 0).sum())
    if zero:
        warnings.warn(
            f"forecast{' ' + result.model if result.model else ''} gives zero probability to {zero} observed "
            "person-years; its perplexity is infinite",
            stacklevel=3,  # the caller of ForecastResult.score
        )
    with np.errstate(divide="ignore"):
        log_p = np.log(p_true)
    events = _events(result, rows)

    w = rows.weight
    records = []
    for j, year in enumerate(result.years):
        at = rows.year == j
        w_at = None if w is None else w[at]
        record: dict[str, Any] = {
            "horizon": int(year - result.origin),
            YEAR: int(year),
            "n": int(at.sum()),
            "perplexity": perplexity(log_p[at], w_at),
        }
        for name, (y, q) in events.items():
            record.update({f"{name}_{m}": v for m, v in event_summary(y[at], q[at], w_at).items()})
        records.append(record)
    columns = ["horizon", YEAR, "n", "perplexity"] + [f"{e}_{m}" for e in events for m in EVENT_METRICS]
    by_horizon = pd.DataFrame.from_records(records, columns=columns)

    overall: dict[str, Any] = {
        "n_persons": len(np.unique(rows.person)),
        "n_person_years": len(rows.person),
        "perplexity": perplexity(log_p, w),
    }
    for name, (y, q) in events.items():
        overall.update({f"{name}_{m}": v for m, v in event_summary(y, q, w).items()})
    if n_boot:
        low, high = _bootstrap_perplexity(rows, log_p, len(result.years), n_boot, level, rng)
        by_horizon.insert(4, "perplexity_low", low[:-1])
        by_horizon.insert(5, "perplexity_high", high[:-1])
        overall.update(perplexity_low=low[-1], perplexity_high=high[-1])
    return ForecastScore(
        by_horizon=by_horizon,
        overall=overall,
        events=tuple(events),
        model=result.model,
        origin=result.origin,
        complete_only=complete_only,
        n_rows_ignored=rows.n_ignored,
        n_persons_incomplete=n_incomplete,
        weighted=w is not None,
        n_boot=n_boot,
        level=level,
    )


def _bootstrap_perplexity(
    rows: ObservedRows, log_p: np.ndarray, n_years: int, n_boot: int, level: float, rng: RNGLike
) -> tuple[np.ndarray, np.ndarray]:
    """Person-bootstrap interval of the perplexity at every horizon and pooled (last entry), ``(low, high)``.

    Each draw resamples the scored persons with replacement (their person-years travel with them) and
    recomputes ``exp`` of the (weighted) mean ``-log p̄`` at each horizon and over all of them.
    """
    persons, person = np.unique(rows.person, return_inverse=True)
    w = np.ones(len(log_p)) if rows.weight is None else rows.weight
    n = len(persons)
    loss = np.zeros((n, n_years + 1))
    mass = np.zeros((n, n_years + 1))
    with np.errstate(invalid="ignore"):
        np.add.at(loss, (person, rows.year), -log_p * w)
        np.add.at(mass, (person, rows.year), w)
    loss[:, -1], mass[:, -1] = loss[:, :-1].sum(axis=1), mass[:, :-1].sum(axis=1)
    draws = check_random_state(rng).multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        boot = np.exp((draws @ loss) / (draws @ mass))
    tail = (1.0 - level) / 2.0
    low, high = np.nanquantile(boot, [tail, 1.0 - tail], axis=0)
    return low, high


def observed_shares(result: ForecastResult, observed: CareerPanel, by: str | None, coarsen: str | None) -> pd.DataFrame:
    """Observed distribution of states in the forecast years; see :meth:`ForecastResult.observed_shares`."""
    rows = observed_rows(result, observed)
    labels, col_map = state_map(result, coarsen)
    values, codes = group_codes(result, by)
    b, g, h = len(values), len(labels), len(result.years)
    bc = codes[rows.person]
    keep = bc >= 0
    cell = bc[keep].astype(np.int64) * h + rows.year[keep]
    counts = np.bincount(cell * g + col_map[rows.state[keep]], minlength=b * h * g).reshape(b, h, g)
    n = np.bincount(cell, minlength=b * h).reshape(b, h, 1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = counts / n
    return long_table(result, by, values, labels, {"share": share, "n": np.broadcast_to(n, share.shape)})


@dataclass(frozen=True)
class ObservedRows:
    """Scored observations as positions: person in ``persons``, year in ``years``, state in ``classes``."""

    person: np.ndarray
    year: np.ndarray
    state: np.ndarray
    n_ignored: int
    weight: np.ndarray | None = None

    def subset(self, mask: np.ndarray) -> ObservedRows:
        """The rows where ``mask`` is true (``n_ignored`` unchanged)."""
        weight = None if self.weight is None else self.weight[mask]
        return ObservedRows(self.person[mask], self.year[mask], self.state[mask], self.n_ignored, weight)


def observed_rows(result: ForecastResult, observed: CareerPanel, weighted: bool = False) -> ObservedRows:
    """Rows of ``observed`` for forecast persons in forecast years, as indices (with their survey weights
    when ``weighted`` and the panel has them).

    Raises
    ------
    TypeError
        When ``observed`` is not a :class:`~laborseq.panel.CareerPanel`.
    ValueError
        When those rows hold a state that is not among the forecast's classes.
    """
    if not isinstance(observed, CareerPanel):
        raise TypeError(f"expected a CareerPanel of observed careers, got {type(observed).__name__}")
    data = observed.data
    person = pd.Index(result.persons).get_indexer(pd.Index(data[PERSON]))
    year = pd.Index(result.years).get_indexer(data[YEAR].to_numpy().astype(np.int64))
    keep = (person >= 0) & (year >= 0)
    occ = data[OCC]
    lookup = pd.Index(result.classes).get_indexer(pd.Index(occ.cat.categories.astype(str)))
    state = lookup[occ.cat.codes.to_numpy()[keep]]
    if (state < 0).any():
        bad = sorted(set(np.asarray(occ[keep])[state < 0].astype(str)))
        raise ValueError(
            f"observed panel has state(s) {bad[:10]} that are not among the forecast's classes "
            f"(scheme {result.scheme.name!r}); harmonize it to the forecast's scheme"
        )
    return ObservedRows(
        person=person[keep].astype(np.int64),
        year=year[keep].astype(np.int64),
        state=state.astype(np.int64),
        n_ignored=int((~keep).sum()),
        weight=observed.weights[keep] if weighted and observed.has_weight else None,
    )


def _events(result: ForecastResult, rows: ObservedRows) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Observed indicator and predicted probability of every defined binary event, per scored row."""
    last = result.last_state[rows.person]
    p_last = result.probabilities[rows.person, rows.year, last].astype(np.float64)
    events = {"moves": (rows.state != last, 1.0 - p_last)}
    tokens = np.array([result.classes.index(t) for t in NOT_EMPLOYED_TOKENS if t in result.classes], dtype=np.int64)
    if len(tokens):
        q = result.probabilities[rows.person[:, None], rows.year[:, None], tokens[None, :]].sum(axis=1)
        events["not_employed"] = (np.isin(rows.state, tokens), q.astype(np.float64))
    return events
