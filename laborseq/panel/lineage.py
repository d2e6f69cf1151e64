"""Lineage: what happened to every row between a raw export and a panel.

A :class:`Lineage` counts the candidate rows a reader considered (for a wide
survey export: every person x round cell; for a long file: every record), then
every drop and every recode with its reason, so that always

    rows read = rows kept + rows dropped (summed over reasons).

Readers attach it to the panel they return (``panel.lineage``); it prints as a
table and round-trips through JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

from laborseq._util.json import to_jsonable

Action = Literal["dropped", "recoded"]


class LineageError(AssertionError):
    """Raised when the rows of a lineage do not add up."""


@dataclass(frozen=True)
class LineageStep:
    """One reason rows were dropped or recoded.

    Attributes
    ----------
    stage : str
        Processing stage (``"missing code"``, ``"crosswalk"``, ``"rounds"``, ...).
    reason : str
        What happened, in words (``"-4 valid skip"``, ``"unmapped occ1970 code"``).
    action : {"dropped", "recoded"}
        Dropped rows leave the panel; recoded rows stay with a changed state.
    count : int
        Number of rows.
    detail : dict
        Extra facts (source codes and their counts, variable names).
    """

    stage: str
    reason: str
    action: Action
    count: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Lineage:
    """Rows read, kept, dropped and recoded, by reason.

    Parameters
    ----------
    source : str
        The input (file name, dataset).
    rows_read : int
        Candidate rows considered.
    unit : str
        What a row is (``"person-round"``, ``"person-year"``, ``"job spell"``).
    steps : list of LineageStep
        Drops and recodes, in the order they happened.
    """

    source: str
    rows_read: int
    unit: str = "person-year"
    steps: list[LineageStep] = field(default_factory=list)

    def drop(self, stage: str, reason: str, count: int, **detail: Any) -> None:
        """Record ``count`` rows dropped for ``reason`` (zero counts are not recorded)."""
        self._add(stage, reason, "dropped", count, detail)

    def recode(self, stage: str, reason: str, count: int, **detail: Any) -> None:
        """Record ``count`` rows whose state was recoded for ``reason``."""
        self._add(stage, reason, "recoded", count, detail)

    def _add(self, stage: str, reason: str, action: Action, count: int, detail: dict[str, Any]) -> None:
        count = int(count)
        if count < 0:
            raise ValueError(f"lineage count must be non-negative, got {count} for {reason!r}")
        if count:
            self.steps.append(LineageStep(stage, reason, action, count, to_jsonable(detail)))

    @property
    def rows_dropped(self) -> int:
        """Rows dropped, all reasons."""
        return sum(s.count for s in self.steps if s.action == "dropped")

    @property
    def rows_recoded(self) -> int:
        """Rows recoded, all reasons."""
        return sum(s.count for s in self.steps if s.action == "recoded")

    @property
    def rows_kept(self) -> int:
        """Rows read minus rows dropped."""
        return self.rows_read - self.rows_dropped

    def dropped_by_reason(self) -> dict[str, int]:
        """Dropped rows per reason (reasons of several stages are summed)."""
        out: dict[str, int] = {}
        for s in self.steps:
            if s.action == "dropped":
                out[s.reason] = out.get(s.reason, 0) + s.count
        return out

    def check(self, rows_out: int) -> None:
        """Raise :class:`LineageError` unless ``rows_out`` equals :attr:`rows_kept`."""
        if rows_out != self.rows_kept:
            raise LineageError(
                f"lineage of {self.source}: {self.rows_read:,} rows read - {self.rows_dropped:,} counted drops = "
                f"{self.rows_kept:,}, but {rows_out:,} rows came out"
            )

    def to_frame(self) -> pd.DataFrame:
        """One row per step: stage, reason, action, count."""
        rows = [{"stage": s.stage, "reason": s.reason, "action": s.action, "count": s.count} for s in self.steps]
        return pd.DataFrame(rows, columns=["stage", "reason", "action", "count"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (inverse of :meth:`from_dict`)."""
        return {
            "source": self.source,
            "unit": self.unit,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "rows_recoded": self.rows_recoded,
            "dropped": self.dropped_by_reason(),
            "steps": [asdict(s) for s in self.steps],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lineage:
        """Rebuild from :meth:`to_dict` output."""
        steps = [LineageStep(**s) for s in data.get("steps", [])]
        if not steps and data.get("dropped"):  # compact form: reasons only
            steps = [LineageStep("read", r, "dropped", int(c)) for r, c in data["dropped"].items()]
        return cls(
            source=data["source"], rows_read=int(data["rows_read"]), unit=data.get("unit", "person-year"), steps=steps
        )

    def to_json(self, indent: int | None = 2) -> str:
        """The lineage as JSON."""
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        width = max([len(s.reason) for s in self.steps] + [24])
        lines = [
            f"Lineage of {self.source} (rows are {self.unit}s)",
            f"  {'rows read':<{width + 20}} {self.rows_read:>12,}",
        ]
        for s in self.steps:
            sign = "-" if s.action == "dropped" else "~"
            lines.append(f"  {sign} {s.stage:<16} {s.reason:<{width}} {s.count:>12,}")
        lines.append(f"  {'rows kept':<{width + 20}} {self.rows_kept:>12,}")
        if self.rows_recoded:
            lines.append(f"  ({self.rows_recoded:,} kept rows were recoded, marked ~)")
        return "\n".join(lines)
