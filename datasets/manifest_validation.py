"""Checks every manifest and annotation row passes: columns, timing, ids, paths (docs/design.md §1).

Each check raises `MexkitInputError` naming the file and the row at fault; batch code catches it,
logs the row in rejects.csv and carries on with the rest.
"""
from __future__ import annotations

import difflib
import hashlib
import math
import numbers
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from mexkit.errors import MexkitInputError

from .manifest_columns import MANIFEST_COLUMNS

# Values spreadsheets use for "unknown" (CASME II writes "/", SAMM -1, CASME "\\").
UNKNOWN_CELLS = {"", "/", "\\", "-", "?", "-1", "nan", "none", "n/a", "na"}


def row_ref(file: str | Path, row: int | None, what: str = "row") -> str:
    """'CASME2-coding.xlsx row 7' — how errors point at an annotation row (spreadsheet row numbers)."""
    return f"{Path(file).name} {what} {row}" if row is not None else Path(file).name


def require_columns(df: pd.DataFrame, required: Iterable[str], file: str | Path, header_row: int | None = None) -> None:
    """Raise if any required column is missing, suggesting the closest existing header (renamed columns)."""
    have = [str(c) for c in df.columns]
    missing = [c for c in required if c not in have]
    if not missing:
        return
    hints = []
    for c in missing:
        close = difflib.get_close_matches(c, have, n=1, cutoff=0.6)
        hints.append(f"{c!r}" + (f" (found {close[0]!r}: renamed?)" if close else ""))
    where = f" in the header on row {header_row}" if header_row else ""
    raise MexkitInputError(
        file,
        f"missing column(s) {', '.join(hints)}{where}; columns present: {have}",
        "restore the released spreadsheet (columns must keep their released names)",
        stage="annotations",
    )


def is_unknown(value: Any) -> bool:
    """True for empty cells and the placeholders datasets use for 'unknown' ('/', -1, …)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return str(value).strip().lower() in UNKNOWN_CELLS


def frame_cell_value(value: Any, column: str, where: str, file: str | Path, allow_unknown: bool = False, whole: bool = True) -> float | None:
    """A frame-number cell as a float, its sign and wholeness not yet checked; unknown → None when allowed, else
    a clear error (`whole`: the fix asks for a whole number; the long-video sheets accept fractions)."""
    if is_unknown(value):
        if allow_unknown:
            return None
        raise MexkitInputError(file, f"{where}: {column} is empty or unknown ({value!r})", f"fill in {column}", stage="annotations")
    try:
        return float(str(value).strip())
    except ValueError:
        raise MexkitInputError(file, f"{where}: {column} is not a frame number ({value!r})",
                               f"write {column} as a whole number" if whole else f"write {column} as a number", stage="annotations") from None


def as_frame_number(value: Any, column: str, where: str, file: str | Path, allow_unknown: bool = False) -> int | None:
    """A frame-number cell as int; unknown → None when allowed, else a clear error."""
    f = frame_cell_value(value, column, where, file, allow_unknown)
    if f is None:
        return None
    if not f.is_integer() or f < 0:
        raise MexkitInputError(file, f"{where}: {column} must be a whole, non-negative frame number, got {value!r}", f"fix {column}", stage="annotations")
    return int(f)


def check_timing(onset: int, apex: int | None, offset: int, where: str, file: str | Path) -> None:
    """onset ≤ apex ≤ offset (apex may be unknown)."""
    if onset > offset:
        raise MexkitInputError(file, f"{where}: onset {onset} is after offset {offset}", "swap or correct the onset/offset frames", stage="annotations")
    if apex is not None and not onset <= apex <= offset:
        raise MexkitInputError(
            file, f"{where}: apex {apex} is outside the clip (onset {onset} .. offset {offset})",
            "correct the apex frame (or mark it unknown with '/')", stage="annotations",
        )


def duplicate_ids(ids: Iterable[str]) -> dict[str, list[int]]:
    """{id: [positions]} for ids that occur more than once."""
    seen: dict[str, list[int]] = {}
    for i, x in enumerate(ids):
        seen.setdefault(str(x), []).append(i)
    return {k: v for k, v in seen.items() if len(v) > 1}


def resolve_inside(root: str | Path, rel: Any, file: str | Path, where: str) -> Path:
    """Resolve a manifest path against the dataset root; absolute paths and paths escaping it are errors."""
    if is_unknown(rel):
        raise MexkitInputError(file, f"{where}: path is empty", "give the clip's folder or video relative to the dataset root", stage="manifest")
    rel_s = str(rel).strip()
    root = Path(root).resolve()
    p = Path(rel_s)
    if p.is_absolute() or (len(rel_s) > 1 and rel_s[1] == ":"):
        raise MexkitInputError(file, f"{where}: path {rel_s!r} is absolute", f"write it relative to the dataset root {root}", stage="manifest")
    full = (root / p).resolve()
    if full != root and root not in full.parents:
        raise MexkitInputError(file, f"{where}: path {rel_s!r} escapes the dataset root {root}", "keep every clip inside the dataset root (no '..' or links out of it)", stage="manifest")
    return full


def validate_manifest_rows(df: pd.DataFrame, file: str | Path = "manifest", lines: list[int] | None = None) -> list[tuple[int, MexkitInputError]]:
    """Row-level checks of a finished manifest (no file access): ids unique, 0 ≤ onset ≤ apex ≤ offset <
    num_frames, fps > 0. Returns [(row position, error)] — empty when every row passes. lines: the file line
    of each row (`read_manifest_csv`), for the messages; default: position + 2 (a header, no blank lines)."""
    require_columns(df, MANIFEST_COLUMNS, file)
    row_no = (lambda p: lines[p]) if lines is not None else (lambda p: p + 2)
    bad: list[tuple[int, MexkitInputError]] = []
    for sid, pos in duplicate_ids(df["sample_id"]).items():
        for p in pos:
            others = [row_no(q) for q in pos if q != p]
            bad.append((p, MexkitInputError(file, f"row {row_no(p)}: duplicate sample_id {sid!r} (also on row(s) {others})", "make sample ids unique", stage="manifest")))
    for p, r in enumerate(df.itertuples(index=False)):
        where = f"row {row_no(p)} ({r.sample_id})"
        try:
            if not (isinstance(r.fps, numbers.Real) and r.fps > 0):
                raise MexkitInputError(file, f"{where}: fps must be > 0, got {r.fps!r}", "give the clip's frame rate", stage="manifest")
            check_timing(int(r.onset), int(r.apex), int(r.offset), where, file)
            if int(r.offset) >= int(r.num_frames):
                raise MexkitInputError(file, f"{where}: offset {r.offset} beyond the clip's {r.num_frames} frames", "fix offset or the frames", stage="manifest")
            if str(r.path).startswith("/") or ".." in Path(str(r.path)).parts:
                raise MexkitInputError(file, f"{where}: path {r.path!r} is not relative to the dataset root", "use a relative path", stage="manifest")
        except MexkitInputError as err:
            bad.append((p, err))
        except (TypeError, ValueError) as err:
            bad.append((p, MexkitInputError(file, f"{where}: {err}", "fix the row", stage="manifest")))
    return bad


def manifest_fingerprint(df: pd.DataFrame) -> str:
    """Hash of the (sample_id, subject) pairs: split files name the manifest they were made for."""
    pairs = sorted(zip(df["sample_id"].astype(str), df["subject"].astype(str)))
    return hashlib.sha256("\n".join(f"{a}\t{b}" for a, b in pairs).encode()).hexdigest()[:16]
