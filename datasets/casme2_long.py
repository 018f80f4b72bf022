"""CAS(ME)² long videos (Qu et al., IEEE TAC 2018), read as released: ground-truth intervals for spotting.

Layout:  <root>/rawpic/s15/15_0101disgustingteeth/img1.jpg … (one folder per recording; img numbers from 1)
Sheet:   <root>/CAS(ME)^2code_final.xlsx, no header row. Sheet `CASFEcode_final` (some copies name it
         `CASMEcode_final`), by position: subject number, clip code (`anger1_1`), onset, apex, offset, AUs,
         emotion, expression type (`macro-expression` / `micro-expression`), self-report. Sheet
         `naming rule1`: column 3 the subject number, column 2 its folder (`s15`); sheet `naming rule2`:
         column 1 the recording code (`0401`), column 2 its name (`anger1`, the clip code before `_`).
         The recording's folder is the one in rawpic/<sNN>/ whose name after the first `_` starts with
         the code (`15_0401girlcrashing`), as the MEGC2020 baseline finds it.
Recorded choices (each written into the row's `notes` cell):
- offset 0 (not annotated; 44 macro-expression rows): offset = apex. Loaders disagree (apex, apex + 20,
  2·apex − onset); mexkit takes apex because the MEGC2020 baseline and SoftNet, whose published F1 figures
  a user compares with, both do. Both apex and offset 0: the row is rejected.
- apex 0 (one row): the middle frame of onset..offset.
- emotion `happyiness` (a typo in the release): read as `happiness`.
30 fps. Videos are "s15/15_0101disgustingteeth"; subjects "casme2-long_s15" (the CAS(ME)² participants are
not those of CASME II).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .annotation_sheet import _read_raw
from .long_video_adapter import IntervalRow, LongVideoAdapter, frame_cell
from .manifest_validation import is_unknown

CODE_SHEETS = ("CASFEcode_final", "CASMEcode_final")
NAMING_SUBJECTS = "naming rule1"
NAMING_VIDEOS = "naming rule2"
# Column positions of the code sheet (no header row in the release).
COLUMNS = {"subject": 0, "clip": 1, "onset": 2, "apex": 3, "offset": 4, "aus": 5, "emotion": 6, "type": 7}
TYPES = {"micro-expression": "ME", "macro-expression": "MaE"}
EMOTION_TYPOS = {"happyiness": "happiness"}


def sheet_names(path: Path) -> list[str]:
    """The sheet names of a workbook (an unreadable file → MexkitInputError naming it)."""
    try:
        return list(pd.ExcelFile(path, engine="calamine" if path.suffix.lower() == ".xls" else "openpyxl").sheet_names)
    except Exception as err:  # corrupt zip, not a workbook
        raise MexkitInputError(path, f"cannot read the spreadsheet ({type(err).__name__}: {err})", "re-copy the released file", stage="annotations") from None


def _need_columns(raw: pd.DataFrame, needed: dict[str, int], path: Path, sheet: str) -> None:
    """A headerless sheet must reach its last used column; name the first one missing."""
    for what, j in sorted(needed.items(), key=lambda kv: kv[1]):
        if raw.shape[1] <= j or raw.iloc[:, j].isna().all():
            raise MexkitInputError(path, f"sheet {sheet!r}: column {j + 1} ({what}) is missing or empty (the sheet has {raw.shape[1]} columns)",
                                   "use the released workbook (CAS(ME)^2code_final.xlsx, no header row)", stage="annotations")


class CASME2LongAdapter(LongVideoAdapter):
    name = "casme2-long"
    fps = 30.0
    subject_prefix = "casme2-long"
    annotation_patterns = ("CAS(ME)^2code_final*.xlsx", "CAS(ME)*code_final*.xlsx", "*code_final*.xlsx", "CAS(ME)*code*.xls")
    frames_dirs = ("rawpic",)

    def _video_codes(self, path: Path) -> dict[str, str]:
        raw = _read_raw(path, NAMING_VIDEOS)
        _need_columns(raw, {"recording code": 0, "recording name": 1}, path, NAMING_VIDEOS)
        out = {}
        for code, name in zip(raw.iloc[:, 0], raw.iloc[:, 1]):
            if is_unknown(code) or is_unknown(name):
                continue
            c = str(int(code)) if isinstance(code, (int, float)) else str(code).strip()
            if c.isdigit():  # a code saved as a number loses its leading zero (401 → 0401)
                out[str(name).strip().lower()] = c.zfill(4)
        return out

    def _subject_folders(self, path: Path) -> dict[int, str]:
        raw = _read_raw(path, NAMING_SUBJECTS)
        _need_columns(raw, {"subject folder": 1, "subject number": 2}, path, NAMING_SUBJECTS)
        out: dict[int, str] = {}
        for folder, number in zip(raw.iloc[:, 1], raw.iloc[:, 2]):
            try:
                n = int(float(number))
            except (TypeError, ValueError):
                continue  # a title or header cell
            f = str(folder).strip()
            if not re.fullmatch(r"s\d+", f):
                raise MexkitInputError(path, f"sheet {NAMING_SUBJECTS!r}: column 2 should hold subject folders like 's15', found {folder!r}",
                                       "use the released workbook", stage="annotations")
            if out.get(n, f) != f:
                raise MexkitInputError(path, f"sheet {NAMING_SUBJECTS!r}: subject {n} maps to both {out[n]!r} and {f!r}", "use the released workbook", stage="annotations")
            out[n] = f
        return out

    def _recording_folder(self, subject_folder: str, code: str) -> Path:
        base = self.frames_root / subject_folder
        if not base.is_dir():
            raise MexkitInputError(base, "subject folder not found", "check rawpic/ against the sheet's naming rule1", stage="frames-folder")
        hits = [p for p in sorted(base.iterdir()) if p.is_dir() and "_" in p.name and p.name.split("_", 1)[1].startswith(code)]
        if len(hits) != 1:
            have = ", ".join(p.name for p in sorted(base.iterdir()) if p.is_dir()) or "none"
            what = "no recording folder" if not hits else f"{len(hits)} recording folders"
            raise MexkitInputError(base, f"{what} for code {code} (folders there: {have})", "restore the released rawpic/ folders", stage="frames-folder")
        return hits[0]

    def read_intervals(self, rejects: RejectLog) -> list[IntervalRow]:
        path = self.annotation_file
        names = sheet_names(path)
        code_sheet = next((s for s in CODE_SHEETS if s in names), None)
        missing = [s for s in (NAMING_SUBJECTS, NAMING_VIDEOS) if s not in names]
        if code_sheet is None or missing:
            lack = ([f"{CODE_SHEETS[0]!r} (or {CODE_SHEETS[1]!r})"] if code_sheet is None else []) + [repr(s) for s in missing]
            raise MexkitInputError(path, f"sheet(s) {', '.join(lack)} not found; sheets: {names}",
                                   "use the released CAS(ME)^2code_final.xlsx (pass --annotations)", stage="annotations")
        raw = _read_raw(path, code_sheet)
        _need_columns(raw, COLUMNS, path, code_sheet)
        codes = self._video_codes(path)
        subjects = self._subject_folders(path)
        self.frames_root  # a missing rawpic/ is a dataset-level error, not one per row
        out: list[IntervalRow] = []
        for i in range(len(raw)):
            cells = raw.iloc[i]
            if cells.isna().all():
                continue
            ref = f"{path.name} sheet {code_sheet} row {i + 1}"
            c = {k: cells.iloc[j] for k, j in COLUMNS.items()}
            if i == 0 and isinstance(c["onset"], str) and not re.fullmatch(r"\s*\d+(\.\d+)?\s*", c["onset"]):
                continue  # a header row added to a copy (the release has none)
            try:
                out.append(self._interval(c, ref, path, codes, subjects))
            except MexkitInputError as err:
                rejects.add(err.path or path, err.stage, err.reason if err.reason.startswith(ref) else f"{ref}: {err.reason}")
        return out

    def _interval(self, c: dict[str, Any], ref: str, path: Path, codes: dict[str, str], subjects: dict[int, str]) -> IntervalRow:
        notes: list[str] = []
        try:
            number = int(float(c["subject"]))
        except (TypeError, ValueError):
            raise MexkitInputError(path, f"{ref}: subject {c['subject']!r} is not a subject number", "use the released subject numbers", stage="annotations") from None
        if number not in subjects:
            raise MexkitInputError(path, f"{ref}: subject {number} is not in sheet {NAMING_SUBJECTS!r}", "use the released workbook", stage="annotations")
        clip = str(c["clip"]).strip()
        name = clip.split("_")[0].lower()
        if name not in codes:
            raise MexkitInputError(path, f"{ref}: clip {clip!r} names recording {name!r}, which sheet {NAMING_VIDEOS!r} does not list",
                                   "use the released workbook", stage="annotations")
        kind = str(c["type"]).strip().lower()
        if kind not in TYPES:
            raise MexkitInputError(path, f"{ref}: expression type {c['type']!r} is neither micro-expression nor macro-expression",
                                   "fix the type cell (column 8)", stage="annotations")
        onset = frame_cell(c["onset"], "onset", ref, path, notes)
        apex = frame_cell(c["apex"], "apex", ref, path, notes, allow_unknown=True)
        offset = frame_cell(c["offset"], "offset", ref, path, notes, allow_unknown=True)
        if apex == 0:
            apex = None
            notes.append("apex 0 in the sheet (not annotated)")
        if offset in (0, None):
            if apex is None:
                raise MexkitInputError(path, f"{ref}: neither apex nor offset is annotated (both 0)", "fill in the offset", stage="annotations")
            offset = apex
            notes.append("offset 0 in the sheet (not annotated): offset = apex, as the MEGC2020 baseline and SoftNet read it")
        emotion = "" if is_unknown(c["emotion"]) else str(c["emotion"]).strip()
        if emotion.lower() in EMOTION_TYPOS:
            fixed = EMOTION_TYPOS[emotion.lower()]
            notes.append(f"emotion {emotion!r} (a typo in the release) read as {fixed!r}")
            emotion = fixed
        folder = self._recording_folder(subjects[number], codes[name])
        return self.interval(folder, subjects[number], onset, apex, offset, TYPES[kind], emotion, c["aus"], ref, path,
                             (c["onset"], c["apex"], c["offset"]), notes)

    def video_folders(self) -> list[str]:
        return sorted(self.rel(p) for p in self.frames_root.glob("s*/*") if p.is_dir())
