"""Every NLS Investigator header style, written from one logical extract, reads to the identical panel.

A logical extract is the codebook's list of variables (reference number,
question name, survey year) with one column of values each. From it the tests
write the styles Investigator produces: a CSV headed by reference numbers, by
question names with survey years, by bare question names (repeated across
rounds, resolved from the tagset or the codebook beside the file), a CSV
without a header plus its tagset, and the space-separated ``.dat`` with its
tagset.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from laborseq.sources.nlsy.investigator import NLSYFormatError, read_codebook
from laborseq.sources.nlsy.nlsy79 import read_nlsy79
from laborseq.sources.nlsy.nlsy97 import read_nlsy97

FIXTURES = Path(__file__).parent / "fixtures"
EXTRACTS = {
    "nlsy79": (read_nlsy79, FIXTURES / "nlsy79" / "extended.csv", FIXTURES / "nlsy79" / "extended.cdb", ".NLSY79"),
    "nlsy97": (read_nlsy97, FIXTURES / "nlsy97" / "nlsy97.csv", FIXTURES / "nlsy97" / "nlsy97.cdb", ".NLSY97"),
}
STYLES = ("refnums", "qnames_with_years", "bare_with_tagset", "bare_with_codebook", "headerless_with_tagset", "dat")


def logical_extract(csv: Path, cdb: Path) -> tuple[list[tuple[str, str, str]], list[list[str]]]:
    """(reference number, question name, year label) of every column the codebook describes, and the rows."""
    book = read_codebook(cdb)
    by_name = {f"{e.qname}_{e.year_label}": ref for ref, e in book.entries.items()}
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, h in enumerate(header) if h in book.entries or h in by_name]
    variables = []
    for i in keep:
        ref = header[i] if header[i] in book.entries else by_name[header[i]]
        entry = book.entries[ref]
        variables.append((ref, entry.qname, entry.year_label))
    rows = [[line.split(",")[i] for i in keep] for line in lines[1:] if line.strip()]
    order = sorted(range(len(variables)), key=lambda j: list(book.entries).index(variables[j][0]))
    return [variables[j] for j in order], [[row[j] for j in order] for row in rows]


def write_style(style: str, cohort: str, out: Path) -> tuple[Path, dict]:
    """Write the logical extract of ``cohort`` in ``style``; return the file and the reader's options."""
    _, csv, cdb, suffix = EXTRACTS[cohort]
    variables, rows = logical_extract(csv, cdb)
    refs = [v[0] for v in variables]
    out.mkdir(parents=True, exist_ok=True)
    options: dict = {}
    if style == "dat":
        path = out / "extract.dat"
        path.write_text("\n".join(" ".join(v if v else "" for v in row) for row in rows) + "\n")
        (out / f"extract{suffix}").write_text("\n".join(refs) + "\n")
        return path, {"codebook": cdb}  # a .dat has no names: the codebook names its reference numbers
    header = {
        "refnums": refs,
        "qnames_with_years": [f"{q}_{y}" for _, q, y in variables],
        "bare_with_tagset": [q for _, q, _ in variables],
        "bare_with_codebook": [q for _, q, _ in variables],
        "headerless_with_tagset": None,
    }[style]
    path = out / "extract.csv"
    lines = ([",".join(header)] if header is not None else []) + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    if style in ("bare_with_tagset", "headerless_with_tagset"):
        (out / f"extract{suffix}").write_text("\n".join(refs) + "\n")
        options = {"codebook": cdb}  # the tagset orders the columns, the codebook names its reference numbers
    if style in ("refnums", "qnames_with_years", "bare_with_codebook"):
        shutil.copy(cdb, out / "extract.cdb")
        options = {}
    return path, options


@pytest.mark.parametrize("cohort", sorted(EXTRACTS))
@pytest.mark.parametrize("style", STYLES)
def test_every_header_style_reads_to_the_identical_panel(cohort, style, tmp_path):
    reader = EXTRACTS[cohort][0]
    reference_path, reference_options = write_style("refnums", cohort, tmp_path / "refnums")
    reference = reader(reference_path, **reference_options)
    path, options = write_style(style, cohort, tmp_path / style)
    panel = reader(path, **options)
    pd.testing.assert_frame_equal(panel.data, reference.data)
    assert panel.lineage.to_dict() | {"source": None} == reference.lineage.to_dict() | {"source": None}
    if style == "bare_with_tagset" and cohort == "nlsy79":
        # a real bare-name header: CPSOCC70 and OCCALL-EMP.01 repeat, one column per round
        header = path.read_text().splitlines()[0].split(",")
        assert header.count("CPSOCC70") > 1 and header.count("OCCALL-EMP.01") > 1
    if style.startswith("bare"):
        source = "tagset" if "tagset" in style else "codebook"
        assert panel.metadata["header"] == f"question names without survey years (rounds from the {source})"


@pytest.mark.parametrize("cohort", sorted(EXTRACTS))
def test_bare_names_without_companion_files_say_which_file_to_add(cohort, tmp_path):
    reader, *_ = EXTRACTS[cohort]
    path, _ = write_style("bare_with_codebook", cohort, tmp_path)
    (tmp_path / "extract.cdb").unlink()
    with pytest.raises(
        NLSYFormatError, match=r"without survey years.*repeat.*tagset \(<name>\.NLSY79 / <name>\.NLSY97\)"
    ):
        reader(path)


def test_a_tagset_of_another_extract_is_refused(tmp_path):
    path, _ = write_style("bare_with_tagset", "nlsy79", tmp_path)
    tagset = tmp_path / "extract.NLSY79"
    refs = tagset.read_text().split()
    refs[1], refs[2] = refs[2], refs[1]
    tagset.write_text("\n".join(refs) + "\n")
    with pytest.raises(NLSYFormatError, match=r"column 2 is 'SAMPLE_ID' but the tagset's reference number there"):
        read_nlsy79(path, codebook=EXTRACTS["nlsy79"][2])


def test_a_codebook_with_fewer_rounds_than_the_header_is_refused(tmp_path):
    path, _ = write_style("bare_with_codebook", "nlsy79", tmp_path)
    book = tmp_path / "extract.cdb"
    text = book.read_text()
    start = text.index("R02634.00    [CPSOCC70]")  # drop the 1980 CPSOCC70 entry
    end = text.index("-" * 20, start)
    book.write_text(text[:start] + text[text.index("\n", end) + 1 :])
    with pytest.raises(NLSYFormatError, match=r"3 column\(s\) are named 'CPSOCC70' but the codebook .* has 2 entries"):
        read_nlsy79(path)


def test_a_tagset_without_a_codebook_cannot_give_rounds_to_unknown_reference_numbers(tmp_path):
    path, _ = write_style("bare_with_tagset", "nlsy97", tmp_path)  # synthetic reference numbers: not built in
    with pytest.raises(NLSYFormatError, match=r"repeats across rounds .* neither in a codebook nor built in"):
        read_nlsy97(path, codebook=False)
