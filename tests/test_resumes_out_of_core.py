"""The out-of-core (DuckDB) resume engine: the identical panel and lineage as the in-memory engine, many input
files, a partitioned dataset written atomically, and synthetic spells read back to the careers they came from."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from cli_errors import error_line
from hypothesis import given, settings
from hypothesis import strategies as st

from laborseq import CareerPanel
from laborseq.cli import main
from laborseq.occupations.crosswalk import UnmappedCodeError
from laborseq.panel.chunks import read_parquet_chunks
from laborseq.sources.resumes.reader import read_resumes, write_resumes
from laborseq.sources.resumes.spell_files import spell_files
from laborseq.sources.resumes.spells import ResumeFormatError
from laborseq.synthetic import SyntheticCareers
from laborseq.synthetic.spells import SPELL_COLUMNS, SpellOptions, spells_from_careers

FIXTURES = Path(__file__).parent / "fixtures" / "resumes"
CSV = FIXTURES / "spells.csv"
COVARIATES = {"frame": "occ2010", "education": "education", "location": "location"}


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as their values (a parquet round trip may change the dtype of the categories, not the values)."""
    return frame.assign(
        **{c: frame[c].astype(object) for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    )


def assert_same(memory, duckdb) -> None:
    pd.testing.assert_frame_equal(plain(memory.data), plain(duckdb.data))
    assert memory.scheme == duckdb.scheme
    assert memory.covariates == duckdb.covariates and memory.static_covariates == duckdb.static_covariates
    assert memory.lineage.to_dict() == duckdb.lineage.to_dict()
    assert memory.metadata == duckdb.metadata


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"rule": "last"},
        {"years": (2012, 2016)},
        {"years": [2011, 2015, 2019]},
        {"current_year": 2017},
        {"current_year": 2016},
        {"variant": "deming2017"},
    ],
    ids=repr,
)
def test_the_fixture_gives_the_same_panel_and_lineage(options: dict) -> None:
    memory = read_resumes(CSV, **COVARIATES, **options)
    duckdb = read_resumes(CSV, **COVARIATES, **options, engine="duckdb")
    assert_same(memory, duckdb)
    assert len(duckdb) > 0 and duckdb.lineage.rows_dropped > 0


def test_unmapped_codes_raise_the_same_error() -> None:
    errors = []
    for engine in ("memory", "duckdb"):
        with pytest.raises(UnmappedCodeError) as info:
            read_resumes(CSV, **COVARIATES, on_unmapped="raise", engine=engine)
        errors.append(info.value)
    assert str(errors[0]) == str(errors[1])
    pd.testing.assert_frame_equal(errors[0].unmapped, errors[1].unmapped)
    assert errors[1].unmapped["rows"].tolist() == [[8, 9]]


def test_no_valid_spell_raises_the_same_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("person_id,start_date,end_date,occ\n1,junk,2010,10\n2,2012,2011,10\n")
    messages = []
    for engine in ("memory", "duckdb"):
        with pytest.raises(ResumeFormatError, match=r"none of the 2 spell\(s\) is valid") as info:
            read_resumes(path, frame="occ2010", engine=engine)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    late = tmp_path / "late.csv"
    late.write_text("person_id,start_date,end_date,occ\n1,2020,,10\n")
    with pytest.raises(ResumeFormatError, match="ongoing spell starts after current_year"):
        read_resumes(late, frame="occ2010", current_year=2019, engine="duckdb")


def test_write_resumes_partitions_whole_persons_in_order(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    written = write_resumes(CSV, out, **COVARIATES, rows_per_file=5, temp_directory=tmp_path / "work")
    memory = read_resumes(CSV, **COVARIATES)
    assert written.n_rows == len(memory) and written.n_persons == memory.n_persons
    assert [f.name for f in written.files] == sorted(p.name for p in out.glob("*.parquet"))
    assert len(written.files) > 1
    persons = [pq.read_table(f, columns=["person_id"]).column(0).to_pylist() for f in written.files]
    assert all(max(a) < min(b) for a, b in itertools.pairwise(persons))  # whole persons, in order
    assert all(len(p) >= 5 for p in persons[:-1])
    chunks = pd.concat([c.data for c in read_parquet_chunks(out, 7)], ignore_index=True)
    pd.testing.assert_frame_equal(plain(chunks), plain(memory.data))
    assert json.loads((out / "lineage.json").read_text()) == memory.lineage.to_dict()
    assert list((tmp_path / "work").iterdir()) == []  # the work directory is removed


def test_a_failed_write_leaves_the_old_dataset_and_no_work_files(tmp_path: Path) -> None:
    out = tmp_path / "panel"
    write_resumes(CSV, out, **COVARIATES)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(UnmappedCodeError):
        write_resumes(CSV, out, **COVARIATES, on_unmapped="raise", temp_directory=tmp_path / "work")
    assert sorted(p.name for p in out.iterdir()) == before
    assert list((tmp_path / "work").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["panel", "work"]


def test_engine_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="memory_limit must be a size"):
        write_resumes(CSV, tmp_path / "out", **COVARIATES, memory_limit="lots")
    with pytest.raises(ValueError, match="rows_per_file"):
        write_resumes(CSV, tmp_path / "out", **COVARIATES, rows_per_file=0)
    with pytest.raises(ValueError, match="engine must be one of"):
        read_resumes(CSV, **COVARIATES, engine="spark")


def test_many_files_read_as_one_input(tmp_path: Path) -> None:
    frame = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    parts = tmp_path / "parts"
    parts.mkdir()
    frame.iloc[:9].to_csv(parts / "a.csv", index=False)
    frame.iloc[9:17].to_parquet(parts / "b.parquet")
    frame.iloc[17:].to_csv(parts / "c.csv.gz", index=False)
    (parts / "README.md").write_text("not data")
    whole = read_resumes(CSV, **COVARIATES)
    for given_as in (parts, str(parts / "*.csv*"), [parts / "a.csv", parts / "b.parquet", parts / "c.csv.gz"]):
        _, files = spell_files(given_as)
        assert [f.name for f in files] == (
            ["a.csv", "c.csv.gz"] if "*" in str(given_as) else ["a.csv", "b.parquet", "c.csv.gz"]
        )
    memory = read_resumes(parts, **COVARIATES)
    duckdb = read_resumes(parts, **COVARIATES, engine="duckdb")
    assert_same(memory, duckdb)
    pd.testing.assert_frame_equal(plain(memory.data), plain(whole.data))
    assert memory.lineage.dropped_by_reason() == whole.lineage.dropped_by_reason()
    assert memory.metadata["files"] == [
        [str(parts / "a.csv"), 0],
        [str(parts / "b.parquet"), 9],
        [str(parts / "c.csv.gz"), 17],
    ]
    # rows run on across the files; a message names the file and its own row
    assert (
        memory.lineage.to_dict()["steps"][0]["detail"]["rows"] == whole.lineage.to_dict()["steps"][0]["detail"]["rows"]
    )
    with pytest.raises(
        UnmappedCodeError,
        match=r"row\(s\) \[8, 9\] of the files in order \(the first is row 8 of .*a.csv, CSV line 10\)",
    ):
        read_resumes(parts, **COVARIATES, on_unmapped="raise")


def test_missing_inputs_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no resume files match"):
        read_resumes(str(tmp_path / "*.csv"), frame="occ2010")
    with pytest.raises(FileNotFoundError, match="holds no CSV, TSV or parquet files"):
        read_resumes(tmp_path, frame="occ2010")


# ---------------------------------------------------------------------- property: both engines agree

day = st.integers(0, 6 * 365).map(lambda d: dt.date(2000, 1, 1) + dt.timedelta(days=d))
spell = st.tuples(
    st.sampled_from(["7", "12", "x9", "004"]),
    day,
    st.one_of(st.none(), st.integers(-30, 900)),
    st.one_of(st.none(), st.sampled_from([10, 20, 230, 800, 2200, 4700, 9920, 0, 12345])),
    st.sampled_from(["HS", "BA", None]),
    st.sampled_from(["NY", "CA", None]),
)
options = st.fixed_dictionaries(
    {
        "rule": st.sampled_from(["longest", "last"]),
        "years": st.sampled_from([None, (2001, 2004), (2003, 2003), [2000, 2002, 2005]]),
        "current_year": st.sampled_from([None, 2003, 2006]),
    }
)


@settings(max_examples=40, deadline=None)
@given(
    raw=st.lists(spell, min_size=1, max_size=30),
    options=options,
    text_keys=st.booleans(),
    n_files=st.integers(1, 3),
)
def test_engines_give_the_identical_panel_and_lineage(
    raw: list[tuple], options: dict, text_keys: bool, n_files: int
) -> None:
    rows = [
        [
            p if text_keys else p.lstrip("x0") or "0",
            s.isoformat(),
            None if n is None else (s + dt.timedelta(days=n)).isoformat(),
            c,
            e,
            loc,
        ]
        for p, s, n, c, e, loc in raw
    ]
    frame = pd.DataFrame(rows, columns=["person_id", "start_date", "end_date", "occ", "education", "location"])
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k, part in enumerate(np.array_split(np.arange(len(frame)), n_files)):
            path = Path(tmp) / f"part-{k}.csv"
            frame.iloc[part].to_csv(path, index=False)
            paths.append(path)
        results = []
        for engine in ("memory", "duckdb"):
            try:
                results.append(read_resumes(paths, **COVARIATES, **options, batch_size=4, engine=engine))
            except ResumeFormatError as err:  # no valid spell: both engines must say so alike
                results.append(str(err))
    if isinstance(results[0], str) or isinstance(results[1], str):
        assert results[0] == results[1]
        return
    assert_same(*results)


# ---------------------------------------------------------------------- synthetic spells: a known process


@pytest.mark.parametrize("engine", ["memory", "duckdb"])
def test_synthetic_spells_read_back_to_their_careers(engine: str, tmp_path: Path) -> None:
    careers = SyntheticCareers(seed=0).sample(400, "resume", rng=3).data
    spells, covered = spells_from_careers(
        careers, np.random.default_rng(5), SpellOptions(side_job_rate=0.3, gap_rate=0.2, ongoing_rate=0.9)
    )
    assert list(spells.columns) == list(SPELL_COLUMNS)
    assert spells["end_date"].isna().any() and (~covered).any()
    assert len(spells) > careers.groupby("person_id").ngroups  # side jobs and job changes
    path = tmp_path / "spells.parquet"
    spells.to_parquet(path)
    panel = read_resumes(path, education="education", location="location", current_year=2022, engine=engine)
    expected = careers[covered].reset_index(drop=True)
    got = panel.data
    assert len(got) == len(expected)
    for ours, theirs in (
        ("person_id", "person_id"),
        ("year", "year"),
        ("occ", "occ"),
        ("education", "education"),
        ("location", "region"),
    ):
        assert (got[ours].astype(str).to_numpy() == expected[theirs].astype(str).to_numpy()).all(), ours
    # every side job was a candidate that lost to the main job of its year
    assert panel.lineage.dropped_by_reason() == {
        "superseded by a higher-priority occupation variable": panel.lineage.rows_read - len(panel)
    }


def test_write_spells_streams_chunks_of_the_sampled_careers(tmp_path: Path) -> None:
    process = SyntheticCareers(seed=0)
    path = process.write_spells(tmp_path / "spells.parquet", 250, rng=4, chunk_size=100)
    spells = pq.read_table(path)
    assert spells.column_names == list(SPELL_COLUMNS)
    assert str(spells.schema.field("start_date").type) == "date32[day]"
    panel = read_resumes(path, education="education", location="location", current_year=2022)
    careers = process.sample(250, "resume", rng=4, chunk_size=100).data
    assert set(panel.data["person_id"]) == set(careers["person_id"])
    merged = panel.data.merge(careers, on=["person_id", "year"], suffixes=("", "_true"))
    assert len(merged) == len(panel)  # every person-year read back is a year of the true career
    assert (merged["occ"].astype(str) == merged["occ_true"].astype(str)).all()
    assert len(panel) < len(careers)  # gap years
    with pytest.raises(ValueError, match="gap_rate must be within"):
        SpellOptions(gap_rate=1.5)


# ---------------------------------------------------------------------- the command line


def test_harmonize_resumes_out_of_core_at_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, lineage = tmp_path / "panel", tmp_path / "lineage.json"
    argv = ["harmonize", "resumes", str(CSV), "--frame", "occ2010", "--education", "education"]
    argv += ["--rule", "last", "--current-year", "2019", "--out", str(out), "--lineage", str(lineage)]
    assert main([*argv, "--engine", "duckdb", "--memory-limit", "500MB", "--temp-directory", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "8 persons, 23 person-years" in printed and "(1 panel files)" in printed
    memory = read_resumes(CSV, frame="occ2010", education="education", rule="last", current_year=2019)
    assert json.loads(lineage.read_text()) == memory.lineage.to_dict()
    assert main(["describe", "--data", str(out)]) == 0  # a directory of panel files is a --data input
    assert "person-years      23" in capsys.readouterr().out
    assert main([*argv[:-4], "--person", "person_id", "--out", str(tmp_path / "p.parquet")]) == 0
    pd.testing.assert_frame_equal(plain(CareerPanel.read_parquet(tmp_path / "p.parquet").data), plain(memory.data))


def test_command_line_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["harmonize", "resumes", str(CSV), "--frame", "occ2010", "--out", str(tmp_path / "out")]
    assert "memory_limit must be a size" in error_line(capsys, [*base, "--engine", "duckdb", "--memory-limit", "x"])
    assert "column(s) ['educ'] not found" in error_line(capsys, [*base, "--engine", "duckdb", "--education", "educ"])
    assert "--engine does not apply to psid" in error_line(
        capsys, ["harmonize", "psid", str(CSV), "--engine", "duckdb", "--out", str(tmp_path / "o")]
    )
    assert not (tmp_path / "out").exists()


def test_paths_with_glob_characters_and_folders_to_skip(tmp_path: Path) -> None:
    odd = tmp_path / "case [1]"
    odd.mkdir()
    frame = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    frame.to_csv(odd / "spells.csv", index=False)
    for skipped in (".ipynb_checkpoints", "_temporary"):
        (odd / skipped).mkdir()
        frame.iloc[:3].to_csv(odd / skipped / "spells.csv", index=False)  # never read: they would add duplicates
    written = write_resumes(odd, odd / "out [2]" / "panel", **COVARIATES)
    memory = read_resumes(CSV, **COVARIATES)
    assert written.n_rows == len(memory)
    assert written.lineage.dropped_by_reason() == memory.lineage.dropped_by_reason()


def test_covariates_typed_differently_across_files_become_text(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {
            "person_id": [1, 1, 2],
            "start_date": ["2010-01-01", "2012-01-01", "2011-01-01"],
            "end_date": ["2011-12-31", "2013-12-31", "2011-12-31"],
            "occ": [10, 2200, 800],
            "education": [12, 16, 14],
        }
    )
    rows.iloc[:2].to_parquet(tmp_path / "a.parquet")  # integer education
    rows.iloc[2:].to_csv(tmp_path / "b.csv", index=False)  # text, as every CSV column
    panels = [read_resumes(tmp_path, frame="occ2010", education="education", engine=e) for e in ("memory", "duckdb")]
    assert_same(*panels)
    assert sorted(panels[0].data["education"].astype(str).unique()) == ["12", "14", "16"]


def test_minus_zero_is_not_the_person_zero(tmp_path: Path) -> None:
    path = tmp_path / "keys.csv"
    path.write_text("person_id,start_date,end_date,occ\n0,2010,2010,10\n-0,2011,2011,10\n")
    for engine in ("memory", "duckdb"):
        panel = read_resumes(path, frame="occ2010", engine=engine)
        assert sorted(panel.data["person_id"].tolist()) == ["-0", "0"]  # two persons, keys kept as text


def test_spells_refuse_states_without_a_code() -> None:
    careers = pd.DataFrame(
        {"person_id": [1], "year": [2000], "occ": ["in_school"], "education": ["hs"], "region": ["west"]}
    )
    with pytest.raises(ValueError, match=r"states \['in_school'\] have no occ1990dd code"):
        spells_from_careers(careers, np.random.default_rng(0))
