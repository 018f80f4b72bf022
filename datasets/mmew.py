"""MMEW (Ben et al., IEEE TPAMI 2021), micro-expression part.

Assumptions (following the release as MEB's datasets.MMEW reads it):
- Frames: <root>/Micro_Expression/<Estimated Emotion>/<Filename>/<N>.jpg, e.g.
  Micro_Expression/happiness/S03-01-002/1.jpg; N numbers the frames of the sample from 1, and the
  sheet's frame columns use the same numbers. The Micro_Expression folder may sit one level down
  (<root>/MMEW/Micro_Expression).
- Sheet: MMEW_Micro_Exp.xlsx, first sheet, columns Subject, Filename, OnsetFrame, ApexFrame,
  OffsetFrame, Action Units, Estimated Emotion, remarks.
- The emotion folder is the row's Estimated Emotion; a sample found under another emotion folder
  is reported as such.
90 fps, colour. Subjects become "mmew_S03".
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mexkit.errors import MexkitInputError

from .adapter_base import Annotation
from .sheet_adapter import SheetAdapter, digits_code


class MMEWAdapter(SheetAdapter):
    name = "mmew"
    fps = 90.0
    annotation_patterns = ("MMEW_Micro_Exp*.xlsx", "MMEW*Micro*.xlsx")
    columns = {
        "subject": "Subject", "filename": "Filename", "onset": "OnsetFrame", "apex": "ApexFrame",
        "offset": "OffsetFrame", "aus": "Action Units", "label": "Estimated Emotion",
    }
    extra_columns = {"remarks": "remarks"}
    frames_dirs = ("Micro_Expression", "MMEW/Micro_Expression")

    def subject_code(self, value: Any, where: str) -> str:
        return digits_code(value, where, self.annotation_file, "S{:02d}")

    def folder(self, subject: str, filename: str, row: pd.Series) -> str:
        emotion = str(row[self.columns["label"]]).strip()
        return self.rel(self.frames_root / emotion / filename)

    def sample_id(self, subject: str, filename: str, onset: int, row: pd.Series) -> str:
        return f"{self.name}_{filename}"

    def frame_folders(self) -> list[str]:
        return sorted(self.rel(p) for p in self.frames_root.glob("*/*") if p.is_dir())

    def resolve(self, ann: Annotation, cache=None, decode: bool = False):
        if not (self.root / ann.folder).is_dir():
            elsewhere = [p for p in self.frames_root.glob(f"*/{Path(ann.folder).name}") if p.is_dir()]
            if elsewhere:
                raise MexkitInputError(
                    self.root / ann.folder,
                    f"{ann.ref}: sample folder is under {elsewhere[0].parent.name}/ but the sheet's Estimated Emotion is {ann.label!r}",
                    "move the folder or correct the emotion cell so they agree", stage="frames-folder",
                )
        return super().resolve(ann, cache, decode)
