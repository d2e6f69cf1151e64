"""Occupation schemes: the set of states a career panel can be in.

An :class:`OccupationScheme` names every state a panel may take: the occupation
codes of one classification (with titles and any number of grouping levels) and
the status tokens that stand for spells outside employment. The scheme travels
with a :class:`~laborseq.panel.CareerPanel`, is saved in its parquet metadata and
fixes the column order of every model's ``predict_proba``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

STATUS_TOKENS: tuple[str, ...] = ("unemployed", "out_of_labor_force", "in_school", "military")
"""The status tokens laborseq knows: non-employment states that sit beside occupations."""


@dataclass(frozen=True)
class OccupationScheme:
    """A classification of occupations plus status tokens.

    Parameters
    ----------
    name : str
        Identifier of the scheme, e.g. ``"nlswork13"`` or ``"occ1990dd"``.
    codes : tuple of str
        Occupation codes, in a fixed order.
    titles : mapping of str to str, optional
        Human-readable title of each code (codes without a title show the code).
    groups : mapping of str to mapping of str to str, optional
        Grouping levels: ``groups[level][code]`` is the group of ``code`` at
        ``level`` (e.g. ``"major_group"``). Status tokens may be included.
    status_tokens : tuple of str, optional
        States that are not occupations (``"unemployed"``, ``"out_of_labor_force"``,
        ``"in_school"``, ``"military"``).
    variant : str, optional
        Which member of a family of schemes this is (e.g. ``"dorn2013"``).
    source : str, optional
        Where the codes and titles come from (citation or provenance note).

    Notes
    -----
    The states of the scheme, in the order of :attr:`states`, are the codes
    followed by the status tokens. A code may not also be a status token.
    """

    name: str
    codes: tuple[str, ...]
    titles: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    status_tokens: tuple[str, ...] = ()
    variant: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        codes = tuple(str(c) for c in self.codes)
        tokens = tuple(str(t) for t in self.status_tokens)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "status_tokens", tokens)
        if not codes and not tokens:
            raise ValueError(f"OccupationScheme {self.name!r}: no codes and no status tokens")
        seen: set[str] = set()
        for state in codes + tokens:
            if state in seen:
                raise ValueError(f"OccupationScheme {self.name!r}: state {state!r} is listed twice")
            seen.add(state)
        for level, mapping in self.groups.items():
            unknown = sorted(set(mapping) - seen)
            if unknown:
                raise ValueError(
                    f"OccupationScheme {self.name!r}: group level {level!r} names states "
                    f"that are not in the scheme: {unknown[:10]}"
                )
        object.__setattr__(self, "_index", {s: i for i, s in enumerate(codes + tokens)})

    @classmethod
    def from_codes(
        cls,
        codes: Iterable[Any],
        *,
        name: str = "custom",
        titles: Mapping[Any, str] | None = None,
        status_tokens: Iterable[str] = (),
        **kwargs: Any,
    ) -> OccupationScheme:
        """Build a scheme from a collection of codes (sorted, numerically when possible).

        Parameters
        ----------
        codes : iterable
            Occupation codes; duplicates are removed, whole-number floats are
            written as integers (``3.0`` -> ``"3"``), and any of
            :data:`STATUS_TOKENS` is moved to ``status_tokens``.
        name : str
            Name of the scheme.
        titles : mapping, optional
            Titles keyed by code.
        status_tokens : iterable of str
            Status tokens of the scheme.
        **kwargs
            Passed to :class:`OccupationScheme`.
        """
        unique = {_code_str(c) for c in codes}
        tokens = list(dict.fromkeys([*(str(t) for t in status_tokens), *(t for t in STATUS_TOKENS if t in unique)]))
        unique -= set(tokens)
        ordered = sorted(unique, key=_code_sort_key)
        return cls(
            name=name,
            codes=tuple(ordered),
            titles={str(k): v for k, v in (titles or {}).items()},
            status_tokens=tuple(tokens),
            **kwargs,
        )

    @property
    def states(self) -> tuple[str, ...]:
        """All states: codes, then status tokens."""
        return self.codes + self.status_tokens

    @property
    def n_states(self) -> int:
        """Number of states."""
        return len(self.codes) + len(self.status_tokens)

    def __contains__(self, state: object) -> bool:
        return state in self._index  # type: ignore[attr-defined]

    def index(self, state: str) -> int:
        """Position of ``state`` in :attr:`states`."""
        try:
            return self._index[state]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"state {state!r} is not in scheme {self.name!r}") from None

    def title(self, state: str) -> str:
        """Title of ``state`` (the code itself when the scheme has no title for it)."""
        if state not in self:
            raise KeyError(f"state {state!r} is not in scheme {self.name!r}")
        return self.titles.get(state, state)

    def is_status(self, state: str) -> bool:
        """Whether ``state`` is a status token rather than an occupation."""
        return state in self.status_tokens

    def group_of(self, state: str, level: str) -> str:
        """Group of ``state`` at grouping ``level``; status tokens are their own group."""
        if level not in self.groups:
            raise KeyError(f"scheme {self.name!r} has no group level {level!r}; it has {list(self.groups)}")
        if state not in self:
            raise KeyError(f"state {state!r} is not in scheme {self.name!r}")
        return self.groups[level].get(state, state if self.is_status(state) else "unassigned")

    def coarsen_map(self, level: str) -> dict[str, str]:
        """Map every state to its group at ``level``; status tokens map to themselves.

        Codes without a group at ``level`` raise ``ValueError`` (nothing is lumped
        silently into an "other" group).
        """
        if level not in self.groups:
            raise KeyError(f"scheme {self.name!r} has no group level {level!r}; it has {list(self.groups)}")
        mapping = self.groups[level]
        missing = [c for c in self.codes if c not in mapping]
        if missing:
            raise ValueError(
                f"scheme {self.name!r}: {len(missing)} code(s) have no {level!r} group, e.g. {missing[:5]}"
            )
        out = {c: mapping[c] for c in self.codes}
        out.update({t: t for t in self.status_tokens})
        return out

    def coarsen(self, level: str) -> OccupationScheme:
        """The coarser scheme whose codes are the groups at ``level`` (status tokens kept).

        Use :meth:`coarsen_map` (or :meth:`CareerPanel.coarsen`) to recode states.
        """
        mapping = self.coarsen_map(level)
        groups = list(dict.fromkeys(mapping[c] for c in self.codes))
        return OccupationScheme(
            name=f"{self.name}:{level}",
            codes=tuple(groups),
            status_tokens=self.status_tokens,
            variant=self.variant,
            source=f"{self.source or self.name}, coarsened to {level}",
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable description (inverse of :meth:`from_dict`)."""
        return {
            "name": self.name,
            "codes": list(self.codes),
            "titles": dict(self.titles),
            "groups": {level: dict(m) for level, m in self.groups.items()},
            "status_tokens": list(self.status_tokens),
            "variant": self.variant,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OccupationScheme:
        """Rebuild a scheme from :meth:`to_dict` output."""
        return cls(
            name=data["name"],
            codes=tuple(data["codes"]),
            titles=dict(data.get("titles", {})),
            groups={k: dict(v) for k, v in data.get("groups", {}).items()},
            status_tokens=tuple(data.get("status_tokens", ())),
            variant=data.get("variant"),
            source=data.get("source"),
        )

    def to_json(self) -> str:
        """The scheme as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OccupationScheme):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.name, self.codes, self.status_tokens, self.variant))

    def __repr__(self) -> str:
        return (
            f"OccupationScheme(name={self.name!r}, variant={self.variant!r}, "
            f"codes={len(self.codes)}, status_tokens={list(self.status_tokens)})"
        )


def _code_str(code: Any) -> str:
    """A code as a string; whole-number floats lose their ``.0``."""
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    if hasattr(code, "item") and callable(code.item):
        return _code_str(code.item())
    return str(code)


def _code_sort_key(code: str) -> tuple[int, float, str]:
    """Sort numeric codes numerically, then everything else alphabetically."""
    try:
        return (0, float(code), code)
    except ValueError:
        return (1, 0.0, code)
