"""Reading the released annotation spreadsheets (xlsx via pandas/openpyxl, old .xls via calamine, or csv) as they are.

Sheets are read raw (no header guessing by pandas), the header row is found by its column names
(SAMM puts its header on row 13 under a block of notes), and every data row keeps its spreadsheet
row number in `_row` so errors can point at it.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from mexkit.errors import MexkitInputError

from .manifest_validation import require_columns

ROW = "_row"
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


def find_annotation_file(root: Path, patterns: Iterable[str], what: str, depth: int = 3) -> Path:
    """The first file under root (searching `depth` folder levels) matching one of the glob patterns."""
    return find_annotation_files(root, patterns, what, depth)[0]


def find_annotation_files(root: Path, patterns: Iterable[str], what: str, depth: int = 3) -> list[Path]:
    """Every file matching the glob patterns at the shallowest folder level (of `depth`) that has one.

    Several released versions of a sheet may lie side by side (CASME II's 20140508 and updated
    sheets); the caller chooses among them and says which it read.
    """
    patterns = list(patterns)
    for level in range(depth + 1):
        prefix = "*/" * level
        hits: list[Path] = []
        for pat in patterns:
            hits += [p for p in sorted(root.glob(prefix + pat)) if p.is_file() and not p.name.startswith(("~$", ".")) and p not in hits]
        if hits:
            return hits
    raise MexkitInputError(
        root,
        f"{what} annotation spreadsheet not found (looked for {', '.join(patterns)} up to {depth} folders down)",
        "put the released spreadsheet in the dataset root or pass annotations=PATH (--annotations)",
        stage="annotations",
    )


def first_sheet(hits: list[Path]) -> tuple[Path, str]:
    """The default choice among the sheets found (sorted by name): the first, and why."""
    return hits[0], "the only annotation sheet found" if len(hits) == 1 else "first by name"


def locate_annotation_sheet(root: Path, given: Path | None, patterns: Iterable[str], what: str,
                            choose: Callable[[list[Path]], tuple[Path, str]] = first_sheet) -> tuple[Path, str]:
    """The sheet an adapter reads and the note `check` prints about it: `given` (--annotations) when set, else
    the release's sheet under root (find_annotation_files), `choose` picking among several and the others named."""
    if given is not None:
        if not given.is_file():
            raise MexkitInputError(given, "annotation spreadsheet not found", "check the --annotations path", stage="annotations")
        return given, f"{given.name} (given with --annotations)"
    hits = find_annotation_files(root, patterns, what)
    chosen, why = choose(hits)
    others = [h.name for h in hits if h != chosen]
    return chosen, f"{chosen.name} ({why}" + (f"; also present: {', '.join(others)}; pass --annotations to read another)" if others else ")")


def _typed(raw: pd.DataFrame) -> pd.DataFrame:
    """CSV cells arrive as text; turn numeric-looking cells into numbers as a workbook would hold them."""

    def conv(v):
        if not isinstance(v, str) or not _NUMBER.fullmatch(v.strip()):
            return v  # text, and ids with leading zeros ("006") stay as written
        return float(v) if "." in v else int(v)

    return raw.map(conv)


def _read_raw(path: Path, sheet: str | int | None) -> pd.DataFrame:
    if not path.is_file():
        raise MexkitInputError(path, "annotation spreadsheet not found", "check the path (or pass --annotations)", stage="annotations")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):  # old .xls (CAS(ME)³ Part A, a SAMM-LV copy) through calamine
            engine = "calamine" if suffix == ".xls" else "openpyxl"
            try:
                return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, header=None, dtype=object, engine=engine)
            except ValueError as err:
                if "Worksheet" in str(err) or "not found" in str(err):
                    names = list(pd.ExcelFile(path, engine=engine).sheet_names)
                    raise MexkitInputError(path, f"sheet {sheet!r} not found; sheets: {names}", "use the released workbook", stage="annotations") from None
                raise
        if suffix == ".csv":
            return _typed(pd.read_csv(path, header=None, dtype=object, keep_default_na=True))
    except MexkitInputError:
        raise
    except Exception as err:  # corrupt zip, not a workbook, bad encoding
        raise MexkitInputError(path, f"cannot read the spreadsheet ({type(err).__name__}: {err})", "re-copy the released file", stage="annotations") from None
    raise MexkitInputError(path, f"unsupported annotation file type {suffix!r}", "use .xlsx, .xls or .csv", stage="annotations")


def read_annotation_sheet(
    path: str | Path,
    required: list[str],
    sheet: str | int | None = None,
    header_row: int | None = None,
    search_rows: int = 40,
) -> tuple[pd.DataFrame, int]:
    """Read a sheet whose header row holds `required` column names.

    header_row: 1-based spreadsheet row of the header if known; else the first row (within
    `search_rows`) containing all of `required` is used. Returns (rows, header_row); the frame has the
    header's column names (stripped strings) plus `_row`, the spreadsheet row number of each data row.
    Fully empty rows are dropped.
    """
    path = Path(path)
    raw = _read_raw(path, sheet)
    if raw.empty:
        raise MexkitInputError(path, "spreadsheet is empty", "re-copy the released file", stage="annotations")
    cells = raw.map(lambda v: str(v).strip() if isinstance(v, str) else v)
    if header_row is None:
        for i in range(min(search_rows, len(cells))):
            names = {str(v).strip() for v in cells.iloc[i] if isinstance(v, str)}
            if all(c in names for c in required):
                header_row = i + 1
                break
        else:
            # Report against the row that looks most like a header, so renamed columns get a hint.
            best = max(range(min(search_rows, len(cells))), key=lambda i: sum(isinstance(v, str) for v in cells.iloc[i]))
            probe = pd.DataFrame(columns=[str(v) for v in cells.iloc[best] if isinstance(v, str)])
            require_columns(probe, required, path, header_row=best + 1)
    hdr = [str(v).strip() if not (isinstance(v, float) and pd.isna(v)) else f"Unnamed: {j}" for j, v in enumerate(cells.iloc[header_row - 1])]
    body = cells.iloc[header_row:].copy()
    body.columns = hdr
    body[ROW] = range(header_row + 1, header_row + 1 + len(body))
    body = body.dropna(how="all", subset=[c for c in hdr])
    require_columns(body, required, path, header_row=header_row)
    return body.reset_index(drop=True), header_row
