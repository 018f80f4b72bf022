"""CAS(ME)^3 Part A (Li et al., IEEE TPAMI 2022), micro-expressions, RGB frames only.

Assumptions (the paper gives few layout details; these follow the released archive as read by
MEB's tools/extract_casme3_part_a.py and datasets.Casme3):
- Frames: <root>/…/part_A/spNO.1/a/color/1.jpg, i.e. <subject>/<Filename>/color/<N>.jpg with N the
  frame number in the whole recording ("JpgIndex"); the sibling depth/ folder (RGB-D) is ignored.
  The frames root is the folder holding the spNO.* subject folders (searched up to 4 levels down,
  e.g. data/part_A_split/part_A).
- Sheet: cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx, first sheet, columns Subject (spNO.1), Filename
  (a, b, …), Onset, Apex, Offset, AU, Objective class, emotion. If an "Expression type" column is
  present, only rows whose type mentions "micro" are used.
- Several samples share one recording folder, so sample ids carry the onset frame:
  "casme3_spNO.1_a_153".
- The recordings have frame drops (MEB's extraction skips missing files): frames absent inside
  onset..offset are allowed, listed in `dropped_frames` and the clip holds the frames present; the
  onset, apex and offset frames themselves must exist.
30 fps. Subjects become "casme3_spNO.1".
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from mexkit.errors import MexkitInputError

from .sheet_adapter import SheetAdapter


def spno_frames_root(root: Path) -> Path:
    """The folder holding the spNO.* subject folders, searched up to 4 levels below root (Part A's clips and long videos)."""
    for level in range(5):
        hits = sorted(p.parent for p in root.glob("*/" * level + "spNO.*") if p.is_dir())
        if hits:
            return hits[0]
    raise MexkitInputError(root, "no CAS(ME)^3 subject folders (spNO.*) found up to 4 levels down", "point --root at the Part A folder or pass --frames-dir", stage="frames-folder")


class CASME3Adapter(SheetAdapter):
    name = "casme3"
    fps = 30.0
    allow_frame_drops = True
    annotation_patterns = ("cas(me)3_part_A*ME*label*.xlsx", "cas(me)3_part_A*.xlsx", "CAS(ME)3_part_A*.xlsx", "*part_A*label*.xlsx")
    columns = {
        "subject": "Subject", "filename": "Filename", "onset": "Onset", "apex": "Apex",
        "offset": "Offset", "aus": "AU", "label": "emotion",
    }
    extra_columns = {"Objective class": "objective_class"}

    @cached_property
    def frames_root(self) -> Path:
        if self._frames_dir is not None:
            return SheetAdapter.frames_root.func(self)
        return spno_frames_root(self.root)

    def keep_row(self, row: pd.Series) -> bool:
        t = row.get("Expression type")
        return t is None or (isinstance(t, float) and pd.isna(t)) or "micro" in str(t).lower()

    def subject_code(self, value: Any, where: str) -> str:
        return str(value).strip()

    def folder(self, subject: str, filename: str, row: pd.Series) -> str:
        return self.rel(self.frames_root / subject / filename / "color")

    def sample_id(self, subject: str, filename: str, onset: int, row: pd.Series) -> str:
        return f"{self.name}_{subject}_{filename}_{onset}"

    def frame_folders(self) -> list[str]:
        return sorted(self.rel(p) for p in self.frames_root.glob("spNO.*/*/color") if p.is_dir())
