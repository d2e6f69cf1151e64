"""Finding and reading the setup program that holds a PSID file's column layout.

PSID hands out its data as fixed-width ASCII (``J<jobid>.txt`` from the Data
Center, ``FAM2003ER.txt`` etc. from the packaged files) with the column layout
only in the setup programs shipped beside it (``docs/survey-formats.md``,
section C.2.2):

* Stata ``.do``: a ``PSID DATA CENTER`` header block, ``infix`` with
  ``VAR start - end``, then ``label variable VAR "..."``; packaged files may put
  the layout in a ``.dct`` dictionary that the ``.do`` reads
  (:mod:`laborseq.sources.psid.setup_stata`);
* SPSS ``.sps``: ``DATA LIST FILE = ... FIXED /`` with ``VAR start - end``,
  then ``VARIABLE LABELS`` (:mod:`laborseq.sources.psid.setup_spss`);
* SAS ``.sas``: ``ATTRIB VAR LABEL="..." format=f3.`` then ``INPUT VAR start - end``
  (:mod:`laborseq.sources.psid.setup_sas`).

:func:`read_layout` parses whichever is given (or found beside a data file,
preferring ``.do``, then ``.sps``, then ``.sas``) into a
:class:`~laborseq.sources.psid.layout.Layout`. Widths are never guessed: a
data file without a setup file is an error.
"""

from __future__ import annotations

from pathlib import Path

from laborseq.sources.psid.layout import Layout
from laborseq.sources.psid.setup_sas import parse_sas
from laborseq.sources.psid.setup_spss import parse_sps
from laborseq.sources.psid.setup_stata import parse_dct, parse_do

SETUP_SUFFIXES = (".do", ".sps", ".sas")
"""Setup programs looked for beside a data file, in order of preference."""


def find_setup_file(data_path: Path | str) -> Path:
    """The setup program beside ``data_path``: same stem, ``.do`` then ``.sps`` then ``.sas``.

    Raises
    ------
    FileNotFoundError
        When none is there (widths are never guessed).
    """
    data_path = Path(data_path)
    folder = data_path.parent if str(data_path.parent) else Path(".")
    stem = data_path.stem.lower()
    found: dict[str, Path] = {}
    if folder.is_dir():
        for candidate in folder.iterdir():
            suffix = candidate.suffix.lower()
            if candidate.stem.lower() == stem and suffix in SETUP_SUFFIXES and candidate.is_file():
                found.setdefault(suffix, candidate)
    for suffix in SETUP_SUFFIXES:
        if suffix in found:
            return found[suffix]
    raise FileNotFoundError(
        f"no setup file ({data_path.stem}.do, .sps or .sas) beside the PSID data file {data_path}; the column "
        "layout of a fixed-width file is only in its setup program: download it with the data (Data Center: "
        "choose the Stata, SPSS or SAS statements) or pass layout="
    )


def read_layout(path: Path | str) -> Layout:
    """Parse the column layout and labels of a PSID setup program.

    Parameters
    ----------
    path : path-like
        A setup file (``.do``, ``.dct``, ``.sps``, ``.sas``) or a data file, in
        which case the setup file beside it is used (:func:`find_setup_file`).

    Returns
    -------
    Layout

    Raises
    ------
    FileNotFoundError
        When the file, or a setup file beside a data file, does not exist.
    PSIDFormatError
        When the setup file has no layout, a token it cannot read, or a layout
        that fails validation (see :class:`Layout`).
    """
    path = Path(path)
    if path.suffix.lower() not in (*SETUP_SUFFIXES, ".dct"):
        path = find_setup_file(path)
    if not path.is_file():
        raise FileNotFoundError(f"PSID setup file {path} does not exist")
    text = path.read_text(encoding="latin-1").replace("\r\n", "\n").replace("\r", "\n")
    kind = path.suffix.lower().lstrip(".")
    if kind == "do":
        return parse_do(text, path)
    if kind == "dct":
        return parse_dct(text, path, labels={}, header={})
    if kind == "sps":
        return parse_sps(text, path)
    return parse_sas(text, path)
