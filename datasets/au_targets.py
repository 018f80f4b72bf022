"""Action units as a recognition target: the 12 AUs MEB benchmarks, and the rules that turn a release's AU
cell into a 12-AU 0/1 target (docs/design.md §2, "AU targets").

MEB (Varanka et al. 2024, tvaranka/meb `utils.dataset_aus["cross"]`) scores multi-label detection of the
12 AUs in `MEB_AUS`. A cell is read with the token grammar of `mexkit.clip` (`split_au_cell`, `AU_TOKEN`):

- Separators "+", ",", ";", "&", "and" and spaces join AUs: "4+7", "AU12+AU6", "4, 7", "AU1 + AU2".
- A token is an optional "AU", a laterality prefix (L, R, B, T, U) or suffix (L, R), the number and an
  intensity letter A–E: "R12A", "L14", "B1", "12L", "AU12". Side and intensity do not change the target
  (any side counts as present); they are kept in the raw `aus` cell.
- A doubt mark ("12?", "12(?)") is counted, as MEB's digit reading counts it, and noted.
- A "(k)" mark (4DME's "AU4(k)") is NOT counted, as MEB's 4DME reader drops (k) AUs by default; noted.
- Alternatives ("R12 or R15", "4/7"): an AU is counted only when every alternative has it; the others are
  noted, not counted (MEB resolves SAMM's five "or" cells by hand; see the errata tables).
- A cell that is empty or only a no-AU marker ("/", "\\", "-", "?", "none", "n/a") codes no AU: an
  all-zero target (as MEB reads such cells), noted.
- A code outside the 12 (AU25, AU43, "38", AU61) is listed in `other` — recorded per row in the
  manifest's `au_other` column and summarised by `mexkit datasets check` — never silently dropped.
- A token that is none of these ("smile", "12x", "AU") makes the cell unreadable: `AUCellError`, which the
  adapters turn into a reject naming the sheet and the row.

Manifest columns (`manifest_columns.AU_TARGET_COLUMNS`): `au_target` ("AU4+AU7", "none" for a cell that
codes no AU of the 12 … or none at all, "" when the release has no AU annotation — SMIC, the corpus),
`au_other` (";"-joined codes outside the 12), `au_notes` (what was noted, "; "-joined).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from mexkit.clip import AU_TOKEN, split_au_cell

# The 12 AUs of MEB's cross-dataset benchmark, in MEB's order (the columns of every AU target matrix).
MEB_AUS: tuple[str, ...] = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU14", "AU15", "AU17")
NUM_AUS = len(MEB_AUS)
# Whole-cell values that code no action unit.
NO_AU_CELLS = frozenset({"", "/", "\\", "-", "—", "?", "none", "n/a", "na", "nan", "null", "0"})
NO_AU_TARGET = "none"  # au_target of a cell that codes none of the 12
AU_FIX = "write the action units as FACS codes joined by '+' (e.g. 'AU4+L7', 'R12A+14'), or '/' for none"


class AUCellError(ValueError):
    """An AU cell that cannot be read (the message names the token)."""


@dataclass(frozen=True)
class AUCell:
    """One AU cell read by the rules above. present: every counted code, in cell order ("AU4", "AU43");
    notes: what was not counted or counted with a caveat, and why."""

    raw: str
    present: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def target(self) -> np.ndarray:
        """(12,) uint8: 1 for each of MEB_AUS present."""
        return np.array([au in self.present for au in MEB_AUS], dtype=np.uint8)

    @property
    def other(self) -> tuple[str, ...]:
        """Counted codes outside MEB_AUS."""
        return tuple(au for au in self.present if au not in MEB_AUS)

    @property
    def target_text(self) -> str:
        """"AU4+AU7" (MEB order), or "none"."""
        on = [au for au in MEB_AUS if au in self.present]
        return "+".join(on) if on else NO_AU_TARGET

    def columns(self) -> dict[str, str]:
        """The cell's manifest columns (au_target, au_other, au_notes)."""
        return {"au_target": self.target_text, "au_other": ";".join(self.other), "au_notes": "; ".join(self.notes)}


def _cell_text(cell: Any) -> str:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    if isinstance(cell, (int, np.integer)) or (isinstance(cell, (float, np.floating)) and float(cell).is_integer()):
        return str(int(cell))  # a workbook stores "12" as the number 12 (or 12.0)
    text = str(cell).strip()
    return re.sub(r"^(\d+)\.0+$", r"\1", text)


def _code(token: str) -> tuple[str, re.Match]:
    m = AU_TOKEN.match(token)
    if not m:
        raise AUCellError(f"{token!r} is not an action unit code")
    return f"AU{int(m.group('number'))}", m


def read_au_cell(cell: Any) -> AUCell:
    """Read one AU cell (text, a number, None/NaN) by the module's rules; AUCellError if it cannot be read."""
    raw = _cell_text(cell)
    if raw.lower() in NO_AU_CELLS:
        return AUCell(raw, (), ("empty AU cell: no AU coded" if not raw else f"{raw!r}: no AU coded",))
    present: list[str] = []
    notes: list[str] = []
    for group in split_au_cell(raw):
        if len(group) > 1:  # alternatives: counted only when they all name the same AU ("R12 or L12")
            codes = list(dict.fromkeys(_code(alt)[0] for alt in group))
            if len(codes) == 1:
                present += codes
                notes.append(f"{' or '.join(group)}: alternatives of one AU, counted")
            else:
                notes.append(f"{' or '.join(group)}: alternatives, {'+'.join(codes)} not counted")
            continue
        token = group[0]
        code, m = _code(token)
        if m.group("k"):
            notes.append(f"{token}: marked (k), not counted (as MEB reads 4DME)")
            continue
        if m.group("doubt"):
            notes.append(f"{token}: marked uncertain, counted")
        present.append(code)
    present = list(dict.fromkeys(present))
    if not present and not notes:
        raise AUCellError("no action unit in the cell")
    other = [c for c in present if c not in MEB_AUS]
    if other:
        notes.append(f"outside the 12 target AUs: {'+'.join(other)}")
    return AUCell(raw, tuple(present), tuple(notes))


def target_from_text(text: Any) -> np.ndarray | None:
    """(12,) uint8 target of an `au_target` cell ("AU4+AU7", "none"); None when unknown ("" / NaN)."""
    t = _cell_text(text)
    if not t:
        return None
    if t == NO_AU_TARGET:
        return np.zeros(NUM_AUS, np.uint8)
    codes = t.split("+")
    unknown = [c for c in codes if c not in MEB_AUS]
    if unknown:
        raise AUCellError(f"au_target {t!r} names {unknown}, which are not among the 12 target AUs {list(MEB_AUS)}")
    return np.array([au in codes for au in MEB_AUS], dtype=np.uint8)


def text_from_target(target: Sequence[int]) -> str:
    """The `au_target` text of a (12,) 0/1 vector."""
    on = [au for au, v in zip(MEB_AUS, target) if int(v)]
    return "+".join(on) if on else NO_AU_TARGET


def target_matrix(texts: Iterable[Any]) -> np.ndarray:
    """(N, 12) uint8 from `au_target` cells; AUCellError naming the first unknown ("") cell's position."""
    rows = []
    for i, t in enumerate(texts):
        v = target_from_text(t)
        if v is None:
            raise AUCellError(f"row {i} has no AU target (its source has no AU annotation)")
        rows.append(v)
    return np.stack(rows) if rows else np.zeros((0, NUM_AUS), np.uint8)


def au_summary(manifest: pd.DataFrame) -> dict[str, Any]:
    """What a manifest's AU columns hold: rows with a target, positives per target AU, codes outside the 12
    (code → rows) and the rows with notes. Empty when the manifest has no au_target column."""
    if "au_target" not in manifest.columns or manifest.empty:
        return {}
    t = manifest["au_target"].map(_cell_text)
    known = t[t != ""]
    mat = target_matrix(known) if len(known) else np.zeros((0, NUM_AUS), np.uint8)
    other: dict[str, int] = {}
    for cell in manifest.get("au_other", pd.Series([], dtype=object)).map(_cell_text):
        for code in filter(None, cell.split(";")):
            other[code] = other.get(code, 0) + 1
    notes = manifest.get("au_notes", pd.Series([""] * len(manifest))).map(_cell_text)
    return {"rows": len(manifest), "with_target": len(known), "positives": dict(zip(MEB_AUS, mat.sum(axis=0).tolist())),
            "none": int((known == NO_AU_TARGET).sum()), "other": dict(sorted(other.items(), key=lambda kv: (-kv[1], kv[0]))),
            "noted_rows": int((notes != "").sum())}


def format_au_summary(summary: dict[str, Any]) -> list[str]:
    """The lines `mexkit datasets check` prints for `au_summary`."""
    if not summary:
        return []
    if not summary["with_target"]:
        return ["AU targets: none (this release has no AU annotation)"]
    pos = ", ".join(f"{au} {n}" for au, n in summary["positives"].items())
    lines = [f"AU targets ({len(MEB_AUS)} MEB AUs) for {summary['with_target']} of {summary['rows']} samples: {pos}; "
             f"{summary['none']} with none of the 12"]
    other = summary["other"]
    lines.append("AU codes outside the 12 (listed per row in au_other): " + (", ".join(f"{c} ×{n}" for c, n in other.items()) if other else "none"))
    if summary["noted_rows"]:
        lines.append(f"AU cells with notes (au_notes: not counted or counted with a caveat): {summary['noted_rows']}")
    return lines
