"""SAMM Long Videos (Yap et al., FG 2020), read as released: ground-truth intervals for spotting.

Layout:  <root>/SAMM_longvideos/006_1/006_1_0001.jpg … (one folder per recording; 4 or 5 digits, from 1)
Sheet:   <root>/SAMM_LongVideos_V1|V2|V3_Release.xlsx (one copy is .xls), sheet `FACS_Movement_Only`: a
         block of 9 preamble rows, then the header (found by its names): Subject, Filename (`006_1_2`:
         subject, recording, event), Inducement Code, Onset, Apex, Offset, Duration, Type (`Macro` /
         `Micro - 1/2`), Action Units, Notes. When several versions lie in the root the newest (highest V)
         is read, and `check` says so; --annotations reads another.
Recorded choices (each written into the row's `notes` cell):
- apex −1 (not annotated): the middle frame.
- onset 0 on very long macro-expression rows (the movement is under way when the recording starts; there
  is no frame 0): the interval starts at the video's first frame. SoftNet leaves these rows out; mexkit
  keeps them, so a spotter that finds them is not counted wrong.
- fractional frame numbers: rounded half up (floor(x + 0.5)), as the MEGC2020 baseline reads them.
- emotion: the sheet has none. For micro-expression rows it is joined from the short-clip SAMM sheet
  (SAMM_Micro_FACS_Codes*.xlsx under the root, or emotion_sheet=) on Filename — that sheet holds only
  micro-expressions, so the join is on Filename + Type. A row the join misses keeps emotion "" and says so
  (the published note: the join fails for the V3 sheet; `check` counts the rows joined). Macro-expression
  rows have no emotion source and keep "".
200 fps, gray frames. Videos are "006_1"; subjects "samm_006" (the same participants as SAMM).
"""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .annotation_sheet import ROW, find_annotation_files, read_annotation_sheet
from .long_video_adapter import IntervalRow, LongVideoAdapter, frame_cell, type_by_prefix
from .manifest_validation import is_unknown

SHEET = "FACS_Movement_Only"
COLUMNS = {"subject": "Subject", "filename": "Filename", "onset": "Onset", "apex": "Apex", "offset": "Offset", "type": "Type", "aus": "Action Units"}
SHORT_SHEET_PATTERNS = ("SAMM_Micro_FACS_Codes*.xlsx", "SAMM*FACS*Codes*.xlsx")
SHORT_COLUMNS = ("Filename", "Estimated Emotion")


def _version(path: Path) -> int:
    m = re.search(r"_V(\d+)", path.name, re.IGNORECASE)
    return int(m.group(1)) if m else -1


class SAMMLongAdapter(LongVideoAdapter):
    name = "samm-lv"
    fps = 200.0
    subject_prefix = "samm"
    annotation_patterns = ("SAMM_LongVideos_V*_Release.xlsx", "SAMM_LongVideos_V*_Release.xls", "SAMM_LongVideos*.xlsx", "SAMM_LongVideos*.xls")
    frames_dirs = ("SAMM_longvideos", "SAMM_LongVideos", "SAMM_Longvideos")

    def __init__(self, root, annotations=None, frames_dir=None, emotion_sheet: str | Path | None = None):
        super().__init__(root, annotations, frames_dir)
        self._emotion_sheet = Path(emotion_sheet) if emotion_sheet else None
        self.emotion_note = ""

    def choose_sheet(self, hits: list[Path]) -> tuple[Path, str]:
        if len(hits) == 1:
            return hits[0], "the only annotation sheet found"
        best = max(hits, key=lambda p: (_version(p), p.suffix.lower() == ".xlsx", p.name))
        return best, "the newest release version found"

    @cached_property
    def emotions(self) -> tuple[dict[str, tuple[str, int]], Path | None]:
        """Filename → (Estimated Emotion, row) from the short-clip SAMM sheet, and that sheet (None: none found)."""
        if self._emotion_sheet is not None:
            path = self._emotion_sheet
        else:
            try:
                path = find_annotation_files(self.root, SHORT_SHEET_PATTERNS, "SAMM short-clip")[0]
            except MexkitInputError:
                self.emotion_note = "no short-clip SAMM sheet (SAMM_Micro_FACS_Codes*.xlsx) under the root: emotions empty"
                return {}, None
        df, _ = read_annotation_sheet(path, list(SHORT_COLUMNS))
        table = {}
        for fn, emo, row in zip(df["Filename"], df["Estimated Emotion"], df[ROW]):
            if not is_unknown(fn) and not is_unknown(emo):
                table[str(fn).strip()] = (str(emo).strip(), int(row))
        return table, path

    def read_intervals(self, rejects: RejectLog) -> list[IntervalRow]:
        path = self.annotation_file
        c = COLUMNS
        df, _ = read_annotation_sheet(path, list(c.values()), sheet=SHEET)
        self.frames_root  # a missing frames folder is a dataset-level error, not one per row
        emotions, short = self.emotions
        out: list[IntervalRow] = []
        for _, row in df.iterrows():
            ref = f"{path.name} row {row[ROW]}"
            notes: list[str] = []
            try:
                fn = "" if is_unknown(row[c["filename"]]) else str(row[c["filename"]]).strip()
                m = re.fullmatch(r"(\d+)_(\d+)_\w+", fn)
                if not m:
                    raise MexkitInputError(path, f"{ref}: Filename {row[c['filename']]!r} is not subject_recording_event (e.g. 006_1_2)",
                                           "use the released Filename", stage="annotations")
                typ = type_by_prefix(row[c["type"]])
                if typ is None:
                    raise MexkitInputError(path, f"{ref}: Type {row[c['type']]!r} is neither Macro nor Micro", "fix the Type cell", stage="annotations")
                onset = frame_cell(row[c["onset"]], "Onset", ref, path, notes)
                apex = frame_cell(row[c["apex"]], "Apex", ref, path, notes, allow_unknown=True)
                offset = frame_cell(row[c["offset"]], "Offset", ref, path, notes)
                if onset == 0:
                    notes.append("onset 0 in the sheet (under way when the recording starts): the video's first frame used")
                emotion = ""
                if typ == "ME":
                    if short is None:
                        notes.append(self.emotion_note)
                    elif fn in emotions:
                        emotion = emotions[fn][0]
                        notes.append(f"emotion from {short.name} row {emotions[fn][1]}")
                    else:
                        notes.append(f"emotion unknown: Filename {fn} not in {short.name}")
                video = f"{m.group(1)}_{m.group(2)}"
                folder = self.frames_root / video
                out.append(self.interval(folder, m.group(1), onset, apex, offset, typ, emotion, row[c["aus"]], ref, path,
                                         (row[c["onset"]], row[c["apex"]], row[c["offset"]]), notes))
            except MexkitInputError as err:
                rejects.add(err.path or path, err.stage, err.reason)
        return out

    def video_folders(self) -> list[str]:
        return sorted(self.rel(p) for p in self.frames_root.iterdir() if p.is_dir() and re.fullmatch(r"\d+_\d+", p.name))
