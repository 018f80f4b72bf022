"""SAMM (Davison et al., IEEE TAC 2018), read as released.

Layout:  <root>/SAMM/006/006_1_2/006_05562.jpg … (gray 960×650 frames; the number after the
         underscore is the frame's number in the subject's recording)
Sheet:   <root>/SAMM_Micro_FACS_Codes_v2.xlsx; a block of notes first, the header on row 13 (found
         by its names, so a shifted header still reads): Subject, Filename, Inducement Code, Onset
         Frame, Apex Frame, Offset Frame, Duration, Micro, Action Units, Notes, Estimated Emotion,
         Objective Classes. Onset/Apex/Offset are absolute frame numbers (as in the file names),
         not 1-based positions in the clip; an Apex of -1 means unknown (middle frame, flagged).
200 fps, gray (expanded to 3 channels in `Clip`s). Subjects become "samm_006".
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .sheet_adapter import SheetAdapter, digits_code


class SAMMAdapter(SheetAdapter):
    name = "samm"
    fps = 200.0
    gray_source = True
    annotation_patterns = ("SAMM_Micro_FACS_Codes*.xlsx", "SAMM*FACS*Codes*.xlsx", "SAMM*.xlsx")
    columns = {
        "subject": "Subject", "filename": "Filename", "onset": "Onset Frame", "apex": "Apex Frame",
        "offset": "Offset Frame", "aus": "Action Units", "label": "Estimated Emotion",
    }
    extra_columns = {"Objective Classes": "objective_class", "Inducement Code": "inducement_code"}
    frames_dirs = ("SAMM", "SAMM_CROP", ".")

    def subject_code(self, value: Any, where: str) -> str:
        return digits_code(value, where, self.annotation_file, "{:03d}")

    def folder(self, subject: str, filename: str, row: pd.Series) -> str:
        return self.rel(self.frames_root / subject / filename)

    def sample_id(self, subject: str, filename: str, onset: int, row: pd.Series) -> str:
        return f"{self.name}_{filename}"

    def frame_folders(self) -> list[str]:
        return sorted(self.rel(p) for p in self.frames_root.glob("[0-9][0-9][0-9]/*") if p.is_dir())
