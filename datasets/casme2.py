"""CASME II (Yan et al., PLoS ONE 2014), read as released.

Layout:  <root>/CASME2_RAW_selected/sub01/EP02_01f/img46.jpg … (also CASME2-RAW / Cropped variants)
Sheet:   <root>/CASME2-coding-20140508.xlsx or CASME2-coding-updated.xlsx (the one MEB reads; MEB notes
         it holds a sample of the MEGC2019 set that the plain sheet lacks). When both are present the
         updated sheet is read, and `check` and the manifest's `annotation_sheet` column say so; pass
         annotations= (--annotations) to read the other. First sheet; columns Subject (1, 2, …), Filename
         (EP02_01f), OnsetFrame, ApexFrame, OffsetFrame, Action Units, Estimated Emotion, with two
         unnamed spacer columns as in the release. Frame numbers are the numbers in the file names.
         Some ApexFrame cells hold "/" (unknown): the middle frame is used and `apex_estimated` set.
Published errata (datasets/errata_tables/casme2.csv, from MEB: 21 flow-estimated apexes and one
offset whose frame has no file) are against the updated sheet and are applied to it only.
200 fps, colour 640×480. Subjects become "casme2_sub01".
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .sheet_adapter import SheetAdapter, digits_code


class CASME2Adapter(SheetAdapter):
    name = "casme2"
    fps = 200.0
    annotation_patterns = ("CASME2-coding*.xlsx", "CASME2*coding*.xlsx", "CASME2*.xlsx")
    columns = {
        "subject": "Subject", "filename": "Filename", "onset": "OnsetFrame", "apex": "ApexFrame",
        "offset": "OffsetFrame", "aus": "Action Units", "label": "Estimated Emotion",
    }
    frames_dirs = ("CASME2_RAW_selected", "CASME2-RAW", "CASME2_RAW", "Cropped", "CASME2_Cropped", "Cropped_original")
    sheet_preference = (("updated", "the updated sheet is preferred: MEB reads it, the published errata are against it, and it holds the MEGC2019 sample the 20140508 sheet lacks"),)

    def subject_code(self, value: Any, where: str) -> str:
        return digits_code(value, where, self.annotation_file, "sub{:02d}")

    def folder(self, subject: str, filename: str, row: pd.Series) -> str:
        return self.rel(self.frames_root / subject / filename)

    def sample_id(self, subject: str, filename: str, onset: int, row: pd.Series) -> str:
        return f"{self.name}_{subject}_{filename}"

    def frame_folders(self) -> list[str]:
        root = self.frames_root
        return sorted(self.rel(p) for p in root.glob("sub*/*") if p.is_dir())

