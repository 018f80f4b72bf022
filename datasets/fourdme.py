"""4DME (Li et al., IEEE TAC 2022), 2D gray micro-expression sequences.

Assumptions (the release documents little; these follow MEB's datasets.Fourd and its config):
- Frames: <root>/gray_micro/<sub_ID>/<fold_name>/<frame files>, each file name ending in its frame
  number in the recording (the sheet's Onset/Apex/Offset use those numbers).
- Sheet: "4DME_Labelling_Micro_release v1.xlsx", first sheet, columns sub_ID, fold_name, Onset, Apex,
  Offset, AUs, Emotion (the native label as written, e.g. "Negative", "Surprise+Positive"); the
  per-class indicator columns (Positive, Negative, Surprise, Repression, Others) are copied when
  present.
- Sample ids are "fourdme_<fold_name>" (fold_name is prefixed with sub_ID when it does not start
  with it).
60 fps, gray. Subjects become "fourdme_<sub_ID>".
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .sheet_adapter import SheetAdapter


class FourDMEAdapter(SheetAdapter):
    name = "fourdme"
    fps = 60.0
    gray_source = True
    annotation_patterns = ("4DME_Labelling_Micro*.xlsx", "4DME*Label*.xlsx")
    columns = {
        "subject": "sub_ID", "filename": "fold_name", "onset": "Onset", "apex": "Apex",
        "offset": "Offset", "aus": "AUs", "label": "Emotion",
    }
    extra_columns = {c: c.lower() for c in ("Positive", "Negative", "Surprise", "Repression", "Others")}
    frames_dirs = ("gray_micro", "4DMicro/gray_micro")

    def subject_code(self, value: Any, where: str) -> str:
        return str(value).strip()

    def folder(self, subject: str, filename: str, row: pd.Series) -> str:
        return self.rel(self.frames_root / subject / filename)

    def sample_id(self, subject: str, filename: str, onset: int, row: pd.Series) -> str:
        return f"{self.name}_{filename}" if filename.startswith(subject) else f"{self.name}_{subject}_{filename}"

    def frame_folders(self) -> list[str]:
        return sorted(self.rel(p) for p in self.frames_root.glob("*/*") if p.is_dir())
