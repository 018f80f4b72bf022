"""Published annotation errata, one versioned table per dataset (datasets/errata_tables/<dataset>.csv).

Each entry: `row` (the 0-based index of the data row below the sheet's header, as MEB's readers index
the released workbook), `field` (a role — onset, apex, offset, aus, label — or a released column name),
`released` (the released value when the source states it, e.g. "/" or -1 for a missing apex; blank when
it does not), `corrected` (a value, or "swap:<row>" for a value exchanged with another row), the `sheet`
it was published against, `version` and `source`. The facts come from MEB (tvaranka/meb,
meb/datasets/datasets.py).

An entry is applied only to the sheet it was published against (row indices differ between sheet
versions) and only where a stated released value matches the cell; every skipped entry is reported
with the reason. Applied entries are named in the manifest's `errata` column and listed by
`mexkit datasets check`. `errata=False` on an adapter (`--no-errata`) reads the release exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .annotation_sheet import ROW
from .manifest_validation import is_unknown

TABLES = Path(__file__).parent / "errata_tables"


@dataclass(frozen=True)
class Erratum:
    dataset: str
    entry: int
    row: int
    field: str
    released: str
    corrected: str
    note: str
    sheet: str
    version: int
    source: str
    sample: str = ""

    @property
    def name(self) -> str:
        """Short id written to the manifest's `errata` column ("fourdme v1 #3 label")."""
        return f"{self.dataset} v{self.version} #{self.entry} {self.field}"


@dataclass
class ErrataReport:
    """What happened to a dataset's errata table on one read of its sheet."""

    dataset: str
    enabled: bool = True
    applied: list[str] = field(default_factory=list)  # one line per applied entry
    skipped: list[str] = field(default_factory=list)  # one line per entry not applied, with why
    per_row: dict[int, list[str]] = field(default_factory=dict)  # spreadsheet row -> applied entry names

    def lines(self) -> list[str]:
        if not self.enabled:
            return ["errata: off (--no-errata / errata=False): the sheet is read exactly as released"]
        return [f"errata applied: {len(self.applied)}", *(f"  {x}" for x in self.applied),
                f"errata not applied: {len(self.skipped)}", *(f"  {x}" for x in self.skipped)]


@lru_cache(maxsize=None)
def load_errata(dataset: str) -> tuple[Erratum, ...]:
    """The errata table of a dataset (empty if it has none)."""
    path = TABLES / f"{dataset}.csv"
    if not path.is_file():
        return ()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return tuple(
        Erratum(dataset=dataset, entry=int(r["entry"]), row=int(r["row"]), field=r["field"], released=r["released"],
                corrected=r["corrected"], note=r["note"], sheet=r["sheet"], version=int(r["version"]), source=r["source"],
                sample=r.get("sample", ""))
        for _, r in df.iterrows()
    )


def _same(cell, released: str) -> bool:
    if is_unknown(released):
        return is_unknown(cell)
    try:
        return float(cell) == float(released)
    except (TypeError, ValueError):
        return str(cell).strip() == released.strip()


def _typed(value: str):
    try:
        f = float(value)
        return int(f) if f.is_integer() else f
    except ValueError:
        return value


def apply_errata(df: pd.DataFrame, header_row: int, dataset: str, sheet_file: Path, columns: dict[str, str],
                 describe=lambda row: "", enabled: bool = True) -> tuple[pd.DataFrame, ErrataReport]:
    """The sheet rows with the dataset's errata applied, and the report of what was applied and skipped.

    df: rows from read_annotation_sheet (with `_row`); columns: role -> released column name;
    describe(row) names the sample of a sheet row for the report ("sub01/EP02_01f").
    """
    report = ErrataReport(dataset, enabled=enabled)
    errata = load_errata(dataset)
    if not enabled or not errata:
        return df, report
    out = df.copy()
    pos = {int(r) - header_row - 1: i for i, r in zip(df.index, df[ROW])}
    pending = []
    for e in errata:
        where = f"#{e.entry} row {e.row} {e.field}"
        if e.sheet.lower() != sheet_file.name.lower():
            report.skipped.append(f"{where}: published against {e.sheet}; this tree's sheet is {sheet_file.name}")
            continue
        if e.row not in pos:
            report.skipped.append(f"{where}: the sheet has no data row {e.row}")
            continue
        col = columns.get(e.field, e.field)
        if col not in df.columns:
            report.skipped.append(f"{where}: the sheet has no column {col!r}")
            continue
        i = pos[e.row]
        cell = df.at[i, col]
        if e.released != "" and not _same(cell, e.released):
            report.skipped.append(f"{where}: released value differs (sheet has {cell!r}, the erratum corrects {e.released!r})")
            continue
        if e.corrected.startswith("swap:"):
            j = pos.get(int(e.corrected[5:]))
            if j is None:
                report.skipped.append(f"{where}: the sheet has no data row {e.corrected[5:]} to swap with")
                continue
            new = df.at[j, col]  # from the released rows, so a pair swaps once
        else:
            new = _typed(e.corrected)
        pending.append((e, i, col, cell, new))
    for e, i, col, cell, new in pending:
        out.at[i, col] = new
        sheet_row = int(df.at[i, ROW])
        report.per_row.setdefault(sheet_row, []).append(e.name)
        who = describe(df.loc[i])
        report.applied.append(f"#{e.entry} row {e.row} (sheet row {sheet_row}{', ' + who if who else ''}) {e.field}: {cell!r} -> {new!r} [{e.note}; {e.source}]")
    return out, report
