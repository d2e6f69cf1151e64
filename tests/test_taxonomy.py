"""Tests for laborseq.occupations.scheme.OccupationScheme."""

from __future__ import annotations

import json

import pytest

from laborseq.occupations.scheme import STATUS_TOKENS, OccupationScheme


def make_scheme() -> OccupationScheme:
    return OccupationScheme(
        name="toy",
        codes=("11", "22", "33"),
        titles={"11": "Managers", "22": "Clerks"},
        groups={"major": {"11": "white_collar", "22": "white_collar", "33": "blue_collar"}},
        status_tokens=("unemployed", "in_school"),
        variant="v1",
        source="hand-made",
    )


# ---------------------------------------------------------------------- construction


def test_states_are_codes_then_status_tokens() -> None:
    scheme = make_scheme()
    assert scheme.codes == ("11", "22", "33")
    assert scheme.status_tokens == ("unemployed", "in_school")
    assert scheme.states == ("11", "22", "33", "unemployed", "in_school")
    assert scheme.n_states == 5


def test_codes_are_converted_to_string_tuples() -> None:
    scheme = OccupationScheme(name="ints", codes=[3, 1, 2])  # type: ignore[arg-type]
    assert scheme.codes == ("3", "1", "2")  # order kept, only stringified
    assert isinstance(scheme.codes, tuple)
    assert all(isinstance(c, str) for c in scheme.codes)


def test_scheme_with_only_status_tokens_is_allowed() -> None:
    scheme = OccupationScheme(name="status", codes=(), status_tokens=("unemployed",))
    assert scheme.states == ("unemployed",)


def test_empty_scheme_raises() -> None:
    with pytest.raises(ValueError, match="no codes and no status tokens"):
        OccupationScheme(name="empty", codes=())


def test_duplicate_code_raises() -> None:
    with pytest.raises(ValueError, match=r"'1' is listed twice"):
        OccupationScheme(name="dup", codes=("1", "2", "1"))


def test_code_that_is_also_a_status_token_raises() -> None:
    with pytest.raises(ValueError, match=r"'unemployed' is listed twice"):
        OccupationScheme(name="dup", codes=("1", "unemployed"), status_tokens=("unemployed",))


def test_duplicate_after_stringification_raises() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        OccupationScheme(name="dup", codes=(1, "1"))  # type: ignore[arg-type]


def test_group_level_naming_unknown_state_raises() -> None:
    with pytest.raises(ValueError, match=r"group level 'major'.*\['99'\]"):
        OccupationScheme(name="bad", codes=("1", "2"), groups={"major": {"1": "a", "99": "b"}})


def test_group_level_may_include_status_tokens() -> None:
    scheme = OccupationScheme(
        name="g", codes=("1",), status_tokens=("unemployed",), groups={"lvl": {"unemployed": "nonwork"}}
    )
    assert scheme.group_of("unemployed", "lvl") == "nonwork"


# ---------------------------------------------------------------------- from_codes


def test_from_codes_sorts_numerically() -> None:
    scheme = OccupationScheme.from_codes([10, 2, 1])
    assert scheme.codes == ("1", "2", "10")
    assert scheme.name == "custom"


def test_from_codes_sorts_numeric_strings_numerically_then_text_alphabetically() -> None:
    scheme = OccupationScheme.from_codes(["b", "10", "a", "2", "1.5"])
    assert scheme.codes == ("1.5", "2", "10", "a", "b")


def test_from_codes_removes_duplicates() -> None:
    scheme = OccupationScheme.from_codes(["3", 3, "1", "3", 1])
    assert scheme.codes == ("1", "3")


def test_from_codes_moves_status_tokens_out_of_codes() -> None:
    scheme = OccupationScheme.from_codes(
        ["unemployed", "20", "3", "military"], status_tokens=["military", "unemployed"]
    )
    assert scheme.codes == ("3", "20")
    assert scheme.status_tokens == ("military", "unemployed")
    assert scheme.states == ("3", "20", "military", "unemployed")


def test_from_codes_deduplicates_status_tokens_and_keeps_their_order() -> None:
    scheme = OccupationScheme.from_codes(["1"], status_tokens=["in_school", "unemployed", "in_school"])
    assert scheme.status_tokens == ("in_school", "unemployed")


def test_from_codes_passes_titles_and_kwargs() -> None:
    scheme = OccupationScheme.from_codes(
        [2, 1], name="mine", titles={1: "One"}, variant="x", source="src", groups={"g": {"1": "A"}}
    )
    assert scheme.name == "mine"
    assert scheme.titles == {"1": "One"}
    assert scheme.variant == "x"
    assert scheme.source == "src"
    assert scheme.group_of("1", "g") == "A"


def test_status_tokens_constant() -> None:
    assert STATUS_TOKENS == ("unemployed", "out_of_labor_force", "in_school", "military")


# ---------------------------------------------------------------------- lookups


def test_index_follows_states_order() -> None:
    scheme = make_scheme()
    assert [scheme.index(s) for s in scheme.states] == [0, 1, 2, 3, 4]
    assert scheme.index("in_school") == 4


def test_index_of_unknown_state_raises_key_error() -> None:
    with pytest.raises(KeyError, match="'44' is not in scheme 'toy'"):
        make_scheme().index("44")


def test_contains() -> None:
    scheme = make_scheme()
    assert "22" in scheme
    assert "unemployed" in scheme
    assert "44" not in scheme
    assert 22 not in scheme  # states are strings


def test_title_falls_back_to_code() -> None:
    scheme = make_scheme()
    assert scheme.title("11") == "Managers"
    assert scheme.title("33") == "33"
    assert scheme.title("unemployed") == "unemployed"
    with pytest.raises(KeyError):
        scheme.title("44")


def test_is_status() -> None:
    scheme = make_scheme()
    assert scheme.is_status("unemployed")
    assert scheme.is_status("in_school")
    assert not scheme.is_status("11")
    assert not scheme.is_status("military")  # a known token, but not part of this scheme


def test_group_of() -> None:
    scheme = OccupationScheme(
        name="g", codes=("1", "2", "3"), status_tokens=("unemployed",), groups={"major": {"1": "A", "2": "B"}}
    )
    assert scheme.group_of("1", "major") == "A"
    assert scheme.group_of("2", "major") == "B"
    assert scheme.group_of("3", "major") == "unassigned"
    assert scheme.group_of("unemployed", "major") == "unemployed"  # status tokens are their own group


def test_group_of_unknown_level_or_state_raises() -> None:
    scheme = make_scheme()
    with pytest.raises(KeyError, match="no group level 'minor'"):
        scheme.group_of("11", "minor")
    with pytest.raises(KeyError, match="'44' is not in scheme"):
        scheme.group_of("44", "major")


# ---------------------------------------------------------------------- serialization and equality


def test_to_dict_content() -> None:
    assert make_scheme().to_dict() == {
        "name": "toy",
        "codes": ["11", "22", "33"],
        "titles": {"11": "Managers", "22": "Clerks"},
        "groups": {"major": {"11": "white_collar", "22": "white_collar", "33": "blue_collar"}},
        "status_tokens": ["unemployed", "in_school"],
        "variant": "v1",
        "source": "hand-made",
    }


def test_to_dict_from_dict_round_trip() -> None:
    scheme = make_scheme()
    again = OccupationScheme.from_dict(scheme.to_dict())
    assert again == scheme
    assert again.states == scheme.states
    assert again.titles == scheme.titles
    assert again.groups == scheme.groups
    assert again.variant == "v1"
    assert again.source == "hand-made"
    assert hash(again) == hash(scheme)


def test_round_trip_through_json() -> None:
    scheme = make_scheme()
    text = scheme.to_json()
    assert json.loads(text) == scheme.to_dict()
    assert OccupationScheme.from_dict(json.loads(text)) == scheme


def test_from_dict_fills_optional_fields() -> None:
    scheme = OccupationScheme.from_dict({"name": "min", "codes": ["1", "2"]})
    assert scheme.states == ("1", "2")
    assert scheme.titles == {}
    assert scheme.groups == {}
    assert scheme.variant is None
    assert scheme.source is None


def test_equality_depends_on_every_field() -> None:
    base = make_scheme()
    data = base.to_dict()
    assert OccupationScheme.from_dict(dict(data)) == base
    for key, value in [
        ("name", "other"),
        ("codes", ["11", "22", "33", "44"]),
        ("titles", {"11": "Managers"}),
        ("groups", {}),
        ("status_tokens", ["unemployed"]),
        ("variant", "v2"),
        ("source", None),
    ]:
        changed = OccupationScheme.from_dict({**data, key: value})
        assert changed != base, key


def test_equality_with_other_types_is_false() -> None:
    assert make_scheme() != "toy"
    assert make_scheme() != make_scheme().to_dict()


def test_scheme_is_frozen() -> None:
    scheme = make_scheme()
    with pytest.raises(AttributeError):
        scheme.name = "changed"  # type: ignore[misc]


def test_repr_mentions_name_and_code_count() -> None:
    text = repr(make_scheme())
    assert "name='toy'" in text
    assert "codes=3" in text
