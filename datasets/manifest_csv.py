"""A manifest CSV read with its line numbers: a line with the wrong number of fields (garbage, a cut-off
row) is reported by file and line instead of becoming a row of empty cells, and every kept row knows the
line it came from, so later errors can name it too (`ManifestTable.where`)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mexkit.errors import MexkitInputError

from .manifest_validation import is_unknown

# Cells that must be numbers where they are known.
NUMBER_COLUMNS = ("onset", "apex", "offset", "num_frames", "frame_start", "frame_stop", "fps")
FIX = "repair or delete that line of the manifest (each line: one sample, as many comma-separated fields as the header)"


@dataclass
class ManifestTable:
    """The readable rows of a manifest CSV, the file line of each, and the lines left out (as errors, with
    their line numbers in `bad_lines`)."""

    path: Path
    table: pd.DataFrame
    lines: list[int]
    bad: list[MexkitInputError] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)

    def where(self, pos: int) -> str:
        """'line N (sample_id)' of table row `pos`."""
        sid = self.table["sample_id"].iloc[pos] if "sample_id" in self.table.columns else None
        return f"line {self.lines[pos]}" + ("" if is_unknown(sid) else f" ({sid})")


def read_manifest_csv(path: str | Path, **read_csv_kwargs) -> ManifestTable:
    """Read `path` (pandas read_csv keywords pass through); a missing file or a file without a header is a
    MexkitInputError, a malformed line lands in `bad` and is left out of `table`."""
    path = Path(path)
    if path.is_dir():
        raise MexkitInputError(path, "a folder, not a manifest CSV", "give the manifest file (e.g. <folder>/manifest.csv)", stage="manifest")
    if not path.is_file():
        raise MexkitInputError(path, "manifest CSV not found", "check the path (write one with `mexkit datasets manifest`)", stage="manifest")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise MexkitInputError(path, f"cannot be read as a text CSV ({type(err).__name__})", "give a UTF-8 CSV manifest", stage="manifest") from None
    reader = csv.reader(io.StringIO(text))
    header, good, lines, bad = None, [], [], []  # bad: (line, error)
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:
                continue
            if header is None:
                header = record
                continue
            if len(record) != len(header):
                bad.append((line, MexkitInputError(path, f"line {line}: {len(record)} field(s) where the header has {len(header)}", FIX, stage="manifest")))
                continue
            good.append(record)
            lines.append(line)
    except csv.Error as err:
        raise MexkitInputError(path, f"line {reader.line_num}: not CSV ({err})", FIX, stage="manifest") from None
    if header is None:
        raise MexkitInputError(path, "empty manifest (no header line)", "write the manifest columns (docs/design.md §1) and one line per sample", stage="manifest")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(good)
    buf.seek(0)
    table = pd.read_csv(buf, **read_csv_kwargs)
    out = ManifestTable(path, table, lines)
    keep = []
    for pos in range(len(table)):
        error = _number_error(table.iloc[pos], out.where(pos), path)
        if error is None:
            keep.append(pos)
        else:
            bad.append((lines[pos], error))
    if len(keep) < len(table):
        out.table = table.iloc[keep].reset_index(drop=True)
        out.lines = [lines[p] for p in keep]
        for col in NUMBER_COLUMNS:  # a dropped row's text ('fast') left its column as strings: numbers again, as without it
            if col in out.table.columns and not pd.api.types.is_numeric_dtype(out.table[col]):
                try:
                    out.table[col] = pd.to_numeric(out.table[col])
                except (TypeError, ValueError):  # unknown cells ('/') stay text, as pandas reads them
                    pass
    bad.sort(key=lambda b: b[0])
    out.bad_lines, out.bad = [n for n, _ in bad], [e for _, e in bad]
    return out


def _number_error(row: pd.Series, where: str, path: Path) -> MexkitInputError | None:
    for col in NUMBER_COLUMNS:
        if col not in row.index or is_unknown(row[col]):
            continue
        value = row[col]
        try:
            float(value)
        except (TypeError, ValueError):
            return MexkitInputError(path, f"{where}: {col} is not a number ({value!r})", FIX, stage="manifest")
    return None
