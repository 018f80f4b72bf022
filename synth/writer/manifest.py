"""manifest.csv of a synthetic dataset: one row per finished clip, appended only after its files exist.

Columns: `SYNTHETIC_MANIFEST_COLUMNS` (mexkit.datasets.manifest_columns). `open_manifest` creates the
file or repairs the one a killed run left (drops a partial last line, rows whose clip is missing and
repeated ids); `append_row` adds one row as one O_APPEND write, fsynced.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable, Iterable

from mexkit.atomic import atomic_append_line, atomic_write_text
from mexkit.datasets.manifest_columns import SYNTHETIC_MANIFEST_COLUMNS
from mexkit.errors import MexkitInputError


def csv_line(values: Iterable) -> str:
    """One CSV record without its line end (None → empty field). A cell holding a line break (a face file
    named with a newline) is quoted, so the record reads back as one row."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(["" if v is None else v for v in values])  # quotes cells with \r or \n
    return buf.getvalue()[:-2]


def read_records(text: str) -> tuple[list[list[str]], bool]:
    """The complete CSV records of a manifest's text (header first) and whether a partial record (text after
    the last record end, from a killed run) was left out. Quoted cells may span lines."""
    complete = text if text.endswith("\n") else text[:text.rfind("\n") + 1]
    records = [r for r in csv.reader(io.StringIO(complete)) if r]
    if complete != text:
        return records, True
    return records, False


def open_manifest(path: Path, clip_complete: Callable[[str], bool]) -> set[str]:
    """Create the manifest (header only) or check and repair an existing one; return the ids finished.

    A row is kept when its id is new and `clip_complete(id)` is true; the text after the last newline
    (a partial line) is dropped. The file is rewritten (atomically) only when something was dropped.
    """
    header = csv_line(SYNTHETIC_MANIFEST_COLUMNS)
    if not path.exists() or path.stat().st_size == 0:
        atomic_write_text(path, header + "\n")
        return set()
    records, partial = read_records(path.read_text(encoding="utf-8"))
    if not records or csv_line(records[0]) != header:
        raise MexkitInputError(path, "manifest has other columns than this writer's (written by another mexkit version?)", "write to a new --out folder", stage="output")
    keep, done = [], set()
    for row in records[1:]:
        sid = row[0] if row else ""
        if sid and len(row) == len(records[0]) and sid not in done and clip_complete(sid):  # a cut-off record has fewer cells
            keep.append(row)
            done.add(sid)
    if len(keep) != len(records) - 1 or partial:
        atomic_write_text(path, "".join(csv_line(r) + "\n" for r in [records[0], *keep]))
    return done


def finished_ids(path: Path) -> set[str]:
    """Ids with a manifest row (read only; safe while other processes append)."""
    if not path.exists():
        return set()
    with open(path, newline="", encoding="utf-8") as f:
        return {row["sample_id"] for row in csv.DictReader(f) if row.get("sample_id")}


def append_row(path: Path, row: dict) -> None:
    """Append one manifest row (a dict with every column) durably, as one write."""
    atomic_append_line(path, csv_line(row[c] for c in SYNTHETIC_MANIFEST_COLUMNS))
