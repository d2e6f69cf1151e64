"""Reading a PSID fixed-width data file with its column layout.

Every field is numeric (``docs/survey-formats.md``, section C.2.1): blanks, then
digits (right-justified; left-justified values are accepted), or a signed or
decimal number. :func:`read_fixed_width` checks the file against its
:class:`~laborseq.sources.psid.layout.Layout` (rows shorter than the layout,
characters beyond it, a row count other than the header's) and names the line
and variable of any value that is not a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from laborseq.sources.psid.layout import Field, Layout, PSIDFormatError, of_setup_file
from laborseq.sources.psid.setup_files import read_layout


def read_fixed_width(
    path: Path | str, layout: Layout | None = None, columns: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read a PSID fixed-width file into numbers.

    Parameters
    ----------
    path : path-like
        The data file (``J<jobid>.txt``); LF or CRLF line ends.
    layout : Layout, optional
        Its layout; by default read from the setup file beside it.
    columns : iterable of str, optional
        Variables to convert (default: all). Only these are checked for
        non-numeric values; the row length is always checked against the layout.

    Returns
    -------
    pandas.DataFrame
        One float64 column per variable (NaN where the field is blank), one row
        per line, in file order (``index`` 0 is line 1).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    PSIDFormatError
        On an empty file, a row shorter than the layout, characters beyond the
        layout, a row count different from the header's ``N_OF_OBSERVATIONS``, or
        a field that is not a number (with the variable and line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"PSID data file {path} does not exist")
    layout = layout if layout is not None else read_layout(path)
    names = list(layout.names) if columns is None else [layout[c].name for c in columns]
    rows = _Rows(path, layout)
    return pd.DataFrame(rows.numbers([layout[name] for name in names]), copy=False)


class _Rows:
    """The lines of a fixed-width file as a byte matrix (or a buffer with line offsets)."""

    def __init__(self, path: Path, layout: Layout) -> None:
        raw = path.read_bytes()
        if not raw.strip():
            raise PSIDFormatError(f"PSID data file {path} is empty", path=path)
        buf = np.frombuffer(raw, dtype=np.uint8)
        newlines = np.flatnonzero(buf == 10)
        ends = newlines if raw.endswith(b"\n") else np.r_[newlines, len(buf)]
        starts = np.r_[0, newlines + 1][: len(ends)]
        lengths = ends - starts
        has_cr = lengths > 0
        has_cr[has_cr] = buf[ends[has_cr] - 1] == 13
        lengths = lengths - has_cr
        while len(lengths) and lengths[-1] == 0:  # trailing blank lines
            starts, lengths = starts[:-1], lengths[:-1]
        self.path, self.layout, self.n = path, layout, len(lengths)
        self._check(buf, starts, lengths)
        stride = int(starts[1] - starts[0]) if self.n > 1 else int(lengths[0]) + 1
        uniform = self.n == 1 or (
            bool((lengths == lengths[0]).all()) and bool((np.diff(starts) == stride).all()) and stride > lengths[0]
        )
        if uniform:
            need = self.n * stride
            padded = buf if len(buf) >= need else np.concatenate([buf, np.full(need - len(buf), 10, np.uint8)])
            self._matrix: np.ndarray | None = padded[:need].reshape(self.n, stride)
        else:
            self._matrix = None
        self._buf, self._starts = buf, starts

    def _check(self, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        layout, width = self.layout, self.layout.width
        short = np.flatnonzero(lengths < width)
        if len(short):
            i = int(short[0])
            cut = next(f for f in layout.fields if f.end > lengths[i])
            raise PSIDFormatError(
                f"{self.path}, line {i + 1}: the row has {int(lengths[i])} characters but the "
                f"layout{of_setup_file(layout)} needs {width} (variable {cut.name} is in columns {cut.start} - "
                f"{cut.end}); {len(short)} row(s) are too short: wrong setup file, or a damaged download?",
                path=self.path,
                line=i + 1,
                variable=cut.name,
            )
        for i in np.flatnonzero(lengths > width):
            tail = buf[starts[i] + width : starts[i] + lengths[i]]
            if (tail != 32).any():
                raise PSIDFormatError(
                    f"{self.path}, line {i + 1}: the row has {int(lengths[i])} characters, beyond the {width} the "
                    f"layout{of_setup_file(layout)} covers; the setup file does not describe this data file",
                    path=self.path,
                    line=int(i) + 1,
                )
        if layout.n_observations is not None and layout.n_observations != self.n:
            raise PSIDFormatError(
                f"{self.path} has {self.n} rows but the header of {layout.path} declares N_OF_OBSERVATIONS "
                f"{layout.n_observations}: an incomplete download, or the setup file of another extract",
                path=self.path,
            )

    _BLOCK = 16384  # rows per block: a block's bytes, transposed, stay in cache

    def _block(self, a: int, b: int) -> np.ndarray:
        """Rows ``a:b`` as a ``(columns, rows)`` byte matrix (one contiguous row per column)."""
        if self._matrix is not None:
            block = self._matrix[a:b]
        else:
            block = self._buf[self._starts[a:b, None] + np.arange(self.layout.width)[None, :]]
        return np.ascontiguousarray(block.T)

    def chars(self, f: Field) -> np.ndarray:
        """The field's bytes, shape ``(n_rows, width)``."""
        if self._matrix is not None:
            return self._matrix[:, f.start - 1 : f.end]
        return self._buf[self._starts[:, None] + np.arange(f.start - 1, f.end)[None, :]]

    def numbers(self, fields: list[Field]) -> dict[str, np.ndarray]:
        """The fields as float64 (NaN when blank), by blocks of rows; non-numbers raise with the line."""
        out = {f.name: np.empty(self.n, dtype=np.float64) for f in fields}
        general: list[Field] = []
        for a in range(0, self.n, self._BLOCK):
            b = min(a + self._BLOCK, self.n)
            columns = self._block(a, b)
            for f in fields:
                if f in general:
                    continue
                value = _digits(columns[f.start - 1 : f.end])
                if value is None:
                    general.append(f)
                else:
                    out[f.name][a:b] = value
        for f in general:
            out[f.name] = self._general(f, self.chars(f))
        return out

    def _general(self, f: Field, chars: np.ndarray) -> np.ndarray:
        """Fields with signs or decimal points: parse as text, reject anything else."""
        text = pd.Series(np.ascontiguousarray(chars).view(f"S{chars.shape[1]}").ravel()).str.decode("latin-1")
        text = text.str.strip()
        number = text.str.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)")
        values = pd.to_numeric(text.where(number), errors="coerce")
        bad = ~number & (text != "")
        if bad.any():
            self._fail(f, chars, int(np.flatnonzero(bad.to_numpy())[0]))
        return values.to_numpy(dtype=np.float64)

    def _fail(self, f: Field, chars: np.ndarray, i: int) -> None:
        value = bytes(chars[i]).decode("latin-1")
        label = self.layout.label(f.name)
        raise PSIDFormatError(
            f"{self.path}, line {i + 1}: variable {f.name}{f' ({label})' if label else ''} in columns "
            f"{f.start} - {f.end} holds {value!r}, which is not a number",
            path=self.path,
            line=i + 1,
            variable=f.name,
        )


def _digits(columns: np.ndarray) -> np.ndarray | None:
    """Values of a field given as ``(width, rows)`` bytes of blanks and digits; ``None`` if other bytes occur.

    Right-justified numbers (blanks, then digits) are the rule; left-justified ones are accepted. A blank
    between digits also gives ``None``, so that the text path names the offending line.
    """
    digit = (columns >= 48) & (columns <= 57)
    space = columns == 32
    if not (digit | space).all():
        return None
    value = np.zeros(columns.shape[1], dtype=np.float64)
    if not (digit[:-1] & space[1:]).any():  # no blank after a digit: plain place values
        for j in range(columns.shape[0]):
            value = value * 10 + np.where(digit[j], columns[j] - 48.0, 0.0)
    else:
        seen = np.zeros(columns.shape[1], dtype=bool)
        gap = np.zeros(columns.shape[1], dtype=bool)
        for j in range(columns.shape[0]):
            if (gap & digit[j]).any():
                return None  # a blank inside a number: let the text path name the line
            value = np.where(digit[j], value * 10 + (columns[j] - 48.0), value)
            gap |= seen & space[j]
            seen |= digit[j]
    value[~digit.any(axis=0)] = np.nan
    return value
