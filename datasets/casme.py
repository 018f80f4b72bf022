"""CASME, the first release (Yan et al., FG 2013), read as released — the sixth dataset of MEB's
leave-one-dataset-out AU benchmark.

Layout (as the release and MEB's reader show it):
- Frames: the release has two sections recorded with different cameras, each holding subject folders:
  <root>/RAW/CASME_A/Section A/sub01/EP01_5/EP01_5-1.jpg … (1280×720) and
  <root>/RAW/CASME_B/Section B/sub08/EP03_2/EP03_2-061.jpg … (640×480); Section B numbers its files with
  three digits ("-061"), Section A does not ("-1"). The frame number is the number after the "-" (the
  last digit run), as the sheet's frame columns use it. MEB reads the subject folders gathered into one
  folder (CASME_raw_selected/subNN/…) or its face crops (Cropped/subNN/EP01_5/reg_EP01_5-1.jpg); both
  are found too. Subject folders are looked up to 4 levels under the first of `frames_dirs` that holds
  any; a subject found in two places is read from the first.
- Sheet: CASME-coded-20190721.xls, an old .xls workbook as released (read through calamine; an .xlsx
  conversion reads the same). MEB reads its own conversion, casme.xlsx, which is found too and preferred
  when present: the published errata (datasets/errata_tables/casme.csv) are against its rows. First sheet;
  columns Subject (1, 2, …), Filename (EP01_5), two unnamed spacer columns (after Filename and after
  OffsetF), OnsetF, ApexF1 (first apex frame), ApexF2 (last apex frame; "\\" when the apex is one frame),
  OffsetF, Onset and Total (durations in ms, not read), AU ("4+17", "12"), Emotion (happiness,
  repression, disgust, surprise, tense — AU4 alone —, fear, sadness, contempt).
ApexF1 is the apex; ApexF2 is kept as `apex_last` (release frame number, empty when "\\").
60 fps, colour. Subjects become "casme_sub01"; sample ids "casme_sub01_EP01_5".
"""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from mexkit.errors import MexkitInputError

from .frame_folders import given_frames_dir
from .sheet_adapter import SheetAdapter, digits_code

_SUBJECT = re.compile(r"^sub\d+$", re.IGNORECASE)


class CASMEAdapter(SheetAdapter):
    name = "casme"
    fps = 60.0
    annotation_patterns = ("CASME-coded*.xls", "CASME-coded*.xlsx", "CASME*coded*.xls", "CASME*coded*.xlsx", "casme.xlsx")
    columns = {
        "subject": "Subject", "filename": "Filename", "onset": "OnsetF", "apex": "ApexF1",
        "offset": "OffsetF", "aus": "AU", "label": "Emotion",
    }
    extra_columns = {"ApexF2": "apex_last"}
    frames_dirs = ("CASME_raw_selected", "CASME_RAW_selected", "RAW", "CASME_A", "CASME_B", "Cropped", "CASME_cropped_selected", ".")
    sheet_preference = (("casme.xlsx", "MEB's conversion of the coded sheet is preferred: the published errata are against its rows"),)

    @cached_property
    def subject_dirs(self) -> dict[str, Path]:
        """Subject code ("sub01") → its folder, from the first frames folder that holds subject folders."""
        bases = [given_frames_dir(self.root, self._frames_dir)] if self._frames_dir is not None else [self.root / d for d in self.frames_dirs]
        for base in bases:
            if not base.is_dir():
                continue
            found: dict[str, Path] = {}
            for level in range(4):
                for p in sorted(base.glob("*/" * level + "sub*")):
                    if p.is_dir() and _SUBJECT.match(p.name):
                        found.setdefault(p.name.lower(), p)
            if found:
                return found
        raise MexkitInputError(self.root, f"no CASME subject folders (subNN) under any of {', '.join(self.frames_dirs)} (4 levels down)",
                               "point --root at the CASME release folder (holding RAW/ or CASME_raw_selected/) or pass --frames-dir",
                               stage="frames-folder")

    @cached_property
    def frames_root(self) -> Path:
        """The folder above the first subject folder found (the release has two: Section A and Section B)."""
        return next(iter(self.subject_dirs.values())).parent

    def subject_code(self, value: Any, where: str) -> str:
        return digits_code(value, where, self.annotation_file, "sub{:02d}")

    def folder(self, subject: str, filename: str, row: pd.Series) -> str:
        base = self.subject_dirs.get(subject.lower())
        if base is None:  # no such subject folder: the row is reported without frames, under the first section
            base = self.frames_root / subject
        return self.rel(base / filename)

    def sample_id(self, subject: str, filename: str, onset: int, row: pd.Series) -> str:
        return f"{self.name}_{subject}_{filename}"

    def frame_folders(self) -> list[str]:
        return sorted(self.rel(p) for d in self.subject_dirs.values() for p in d.iterdir() if p.is_dir())
