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
    """One CSV line without its line end (None → empty field)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


def open_manifest(path: Path, clip_complete: Callable[[str], bool]) -> set[str]:
    """Create the manifest (header only) or check and repair an existing one; return the ids finished.

    A row is kept when its id is new and `clip_complete(id)` is true; the text after the last newline
    (a partial line) is dropped. The file is rewritten (atomically) only when something was dropped.
    """
    header = csv_line(SYNTHETIC_MANIFEST_COLUMNS)
    if not path.exists() or path.stat().st_size == 0:
        atomic_write_text(path, header + "\n")
        return set()
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines[0] != header:
        raise MexkitInputError(path, "manifest has other columns than this writer's (written by another mexkit version?)", "write to a new --out folder", stage="output")
    complete = lines[:-1]  # the text after the last newline is a partial line (or empty)
    rows = list(csv.reader(complete[1:]))
    keep, done = [], set()
    for line, row in zip(complete[1:], rows):
        sid = row[0] if row else ""
        if sid and sid not in done and clip_complete(sid):
            keep.append(line)
            done.add(sid)
    if len(keep) != len(rows) or lines[-1] != "":
        atomic_write_text(path, "\n".join([header, *keep]) + "\n")
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
