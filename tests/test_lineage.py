"""Tests for laborseq.panel.lineage.Lineage: counting drops and recodes, checks, and serialisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from laborseq.panel.lineage import Lineage, LineageError, LineageStep


def make_lineage() -> Lineage:
    lineage = Lineage(source="nlsy79.csv", rows_read=100, unit="person-round")
    lineage.drop("missing code", "-4 valid skip", 10)
    lineage.drop("crosswalk", "unmapped occ1970 code", 5, codes={np.int64(123): np.int64(3), 456: 2})
    lineage.recode("special code", "995 did not work -> unemployed", 7, frame="occ1970", code=np.int64(995))
    lineage.drop("one per year", "-4 valid skip", 3)  # the same reason at a later stage
    return lineage


def test_counts() -> None:
    lineage = make_lineage()
    assert lineage.rows_read == 100
    assert lineage.rows_dropped == 18
    assert lineage.rows_recoded == 7
    assert lineage.rows_kept == 82
    assert lineage.dropped_by_reason() == {"-4 valid skip": 13, "unmapped occ1970 code": 5}


def test_steps_keep_order_action_and_detail() -> None:
    lineage = make_lineage()
    assert [s.stage for s in lineage.steps] == ["missing code", "crosswalk", "special code", "one per year"]
    assert [s.action for s in lineage.steps] == ["dropped", "dropped", "recoded", "dropped"]
    assert lineage.steps[1] == LineageStep(
        "crosswalk", "unmapped occ1970 code", "dropped", 5, {"codes": {"123": 3, "456": 2}}
    )
    detail = lineage.steps[2].detail
    assert detail == {"frame": "occ1970", "code": 995}
    assert type(detail["code"]) is int  # numpy scalars become plain Python
    assert type(lineage.steps[1].detail["codes"]["123"]) is int


def test_zero_counts_are_not_recorded() -> None:
    lineage = Lineage(source="x", rows_read=5)
    lineage.drop("stage", "nothing", 0)
    lineage.recode("stage", "nothing either", np.int64(0))
    assert lineage.steps == []
    assert lineage.rows_kept == 5
    lineage.check(5)


def test_counts_are_converted_to_int() -> None:
    lineage = Lineage(source="x", rows_read=5)
    lineage.drop("stage", "numpy count", np.int64(2))
    assert lineage.steps[0].count == 2 and type(lineage.steps[0].count) is int


@pytest.mark.parametrize("method", ["drop", "recode"])
def test_negative_counts_are_rejected(method: str) -> None:
    lineage = Lineage(source="x", rows_read=5)
    with pytest.raises(ValueError, match=r"non-negative, got -1 for 'oops'"):
        getattr(lineage, method)("stage", "oops", -1)
    assert lineage.steps == []


def test_check_passes_when_rows_add_up() -> None:
    make_lineage().check(82)


@pytest.mark.parametrize("rows_out", [81, 83, 0, 100])
def test_check_raises_lineage_error_when_rows_do_not_add_up(rows_out: int) -> None:
    with pytest.raises(LineageError, match=r"lineage of nlsy79.csv: 100 rows read - 18 counted drops = 82, but"):
        make_lineage().check(rows_out)


def test_lineage_error_is_an_assertion_error() -> None:
    assert issubclass(LineageError, AssertionError)


def test_recodes_do_not_change_rows_kept() -> None:
    lineage = Lineage(source="x", rows_read=10)
    lineage.recode("special code", "to a token", 4)
    assert lineage.rows_kept == 10
    lineage.check(10)


def test_to_dict() -> None:
    data = make_lineage().to_dict()
    assert data["source"] == "nlsy79.csv"
    assert data["unit"] == "person-round"
    assert (data["rows_read"], data["rows_kept"], data["rows_dropped"], data["rows_recoded"]) == (100, 82, 18, 7)
    assert data["dropped"] == {"-4 valid skip": 13, "unmapped occ1970 code": 5}
    assert data["steps"][0] == {
        "stage": "missing code",
        "reason": "-4 valid skip",
        "action": "dropped",
        "count": 10,
        "detail": {},
    }
    json.dumps(data)  # JSON-serializable


def test_round_trip_through_dict_and_json() -> None:
    lineage = make_lineage()
    assert Lineage.from_dict(lineage.to_dict()) == lineage
    assert Lineage.from_dict(json.loads(lineage.to_json())) == lineage
    assert Lineage.from_dict(json.loads(lineage.to_json(indent=None))) == lineage


def test_from_compact_dict_with_reasons_only() -> None:
    lineage = Lineage.from_dict({"source": "s", "rows_read": 10, "dropped": {"a": 2, "b": 3}})
    assert lineage.rows_dropped == 5 and lineage.rows_kept == 5
    assert [(s.stage, s.reason, s.action, s.count) for s in lineage.steps] == [
        ("read", "a", "dropped", 2),
        ("read", "b", "dropped", 3),
    ]
    assert lineage.unit == "person-year"


def test_str_is_a_table() -> None:
    text = str(make_lineage())
    lines = text.splitlines()
    assert lines[0] == "Lineage of nlsy79.csv (rows are person-rounds)"
    assert lines[1].startswith("  rows read") and lines[1].endswith("100")
    assert lines[2].split() == ["-", "missing", "code", "-4", "valid", "skip", "10"]
    assert any(line.strip().startswith("~ special code") and line.endswith(" 7") for line in lines)
    assert lines[-2].startswith("  rows kept") and lines[-2].endswith("82")
    assert lines[-1] == "  (7 kept rows were recoded, marked ~)"


def test_str_without_steps() -> None:
    text = str(Lineage(source="s", rows_read=1234))
    assert "1,234" in text and "recoded" not in text
    assert text.splitlines()[-1].endswith("1,234")


def test_to_frame() -> None:
    frame = make_lineage().to_frame()
    assert list(frame.columns) == ["stage", "reason", "action", "count"]
    assert frame["count"].tolist() == [10, 5, 7, 3]
    assert frame["action"].tolist() == ["dropped", "dropped", "recoded", "dropped"]
    empty = Lineage(source="s", rows_read=0).to_frame()
    assert empty.empty and list(empty.columns) == ["stage", "reason", "action", "count"]


def test_default_unit() -> None:
    assert Lineage(source="s", rows_read=1).unit == "person-year"
