"""Provenance cells of synthetic manifests: which subjects shaped a clip, with "unknown" kept apart from "none".

A `train_subjects` (or `driving_subject`) cell is ";"-joined subject ids, NO_SUBJECTS ("none") when no
subject's data was involved, or "" when nobody said — unknown provenance, which the leakage gate
refuses instead of assuming clean (docs/design.md §1).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from .manifest_columns import NO_SUBJECTS, OUTSIDE_PREFIX


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def subjects_cell(subjects: Iterable[str] | None) -> str:
    """Subjects → a manifest cell: sorted and ";"-joined, NO_SUBJECTS for none, "" for None (unknown)."""
    if subjects is None:
        return ""
    names = sorted({str(s).strip() for s in subjects if str(s).strip() and str(s).strip() != NO_SUBJECTS})
    return ";".join(names) if names else NO_SUBJECTS


def cell_subjects(value: Any) -> list[str] | None:
    """A cell (string, list, NaN) → subject ids; [] for NO_SUBJECTS, None when unknown (blank)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted({str(v).strip() for v in value if str(v).strip() and str(v).strip() != NO_SUBJECTS})
    if _blank(value):
        return None
    return sorted({s.strip() for s in str(value).split(";") if s.strip() and s.strip() != NO_SUBJECTS})


def normalise_cell(value: Any) -> str:
    """The canonical text of a provenance cell (sorted ids, NO_SUBJECTS or "" for unknown)."""
    return subjects_cell(cell_subjects(value))


def merge_cells(*values: Any) -> str:
    """The union of several cells; unknown ("") if any of them is unknown."""
    out: set[str] = set()
    for v in values:
        subjects = cell_subjects(v)
        if subjects is None:
            return ""
        out.update(subjects)
    return subjects_cell(out)


def is_outside(subject: str) -> bool:
    """A subject declared to be outside every real set (`outside:<name>`)."""
    return str(subject).startswith(OUTSIDE_PREFIX)


def outside_subject(name: str) -> str:
    """The subject id of a face from outside every real set."""
    return name if is_outside(name) else f"{OUTSIDE_PREFIX}{name}"
