"""CAS(ME)³ Part A long videos (Li et al., IEEE TPAMI 2022), read as released: ground-truth intervals.

Layout:  <root>/part_A/data/part_A/spNO.1/a/color/153.jpg … (one folder per recording, the sibling depth/
         ignored; the frames root is the folder that holds the spNO.* folders, searched up to 4 levels down)
Sheet:   CAS(ME)3_part_A_v2.xls (an old .xls workbook; under part_A/annotation/ in the release), first sheet,
         header on row 1: Subject (spNO.1), Filename (a, b, …), Onset, Apex, Offset, Expression type
         (`Micro-expression` / `Macro-expression`), AU, Objective class, emotion. Frame numbers are the
         numbers in the file names.
Recorded choices (each written into the row's `notes` cell):
- frame numbers do not start at 1 and have gaps: positions are counted over the files present (the n-th
  file in numeric order is position n − 1), so truth.csv indexes the video as mexkit decodes the folder —
  what LGSNet's "reduce" reading does by shifting. A number that falls in a gap: onset → the next file,
  offset → the previous one, apex → the nearest.
- Filename in either case (`A` for folder `a`): matched to the recording folder case-insensitively.
30 fps. Videos are "spNO.1/a/color"; subjects "casme3_spNO.1" (the same participants as the CAS(ME)³ clips).
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .annotation_sheet import ROW, read_annotation_sheet
from .casme3 import spno_frames_root
from .long_video_adapter import IntervalRow, LongVideoAdapter, frame_cell, type_by_prefix
from .manifest_validation import is_unknown

COLUMNS = {"subject": "Subject", "filename": "Filename", "onset": "Onset", "apex": "Apex", "offset": "Offset",
           "type": "Expression type", "aus": "AU", "emotion": "emotion"}


class CASME3LongAdapter(LongVideoAdapter):
    name = "casme3-long"
    fps = 30.0
    subject_prefix = "casme3"
    annotation_patterns = ("CAS(ME)3_part_A_v*.xls", "CAS(ME)3_part_A_v*.xlsx", "cas(me)3_part_A_v*.xls", "cas(me)3_part_A_v*.xlsx")

    @cached_property
    def frames_root(self) -> Path:
        if self._frames_dir is not None:
            return LongVideoAdapter.frames_root.func(self)
        return spno_frames_root(self.root)

    def _recording(self, subject: str, filename: str, ref: str, notes: list[str]) -> Path:
        base = self.frames_root / subject
        if not base.is_dir():
            raise MexkitInputError(base, f"{ref}: subject folder not found", "check the Subject cell against the spNO.* folders", stage="frames-folder")
        if (base / filename).is_dir():
            return base / filename / "color"
        hits = [p for p in sorted(base.iterdir()) if p.is_dir() and p.name.lower() == filename.lower()]
        if len(hits) != 1:
            have = ", ".join(p.name for p in sorted(base.iterdir()) if p.is_dir()) or "none"
            raise MexkitInputError(base, f"{ref}: no recording folder {filename!r} (folders there: {have})", "check the Filename cell", stage="frames-folder")
        notes.append(f"Filename {filename!r} matched folder {hits[0].name!r} (case differs)")
        return hits[0] / "color"

    def read_intervals(self, rejects: RejectLog) -> list[IntervalRow]:
        path = self.annotation_file
        c = COLUMNS
        df, _ = read_annotation_sheet(path, list(c.values()))
        self.frames_root  # a missing frames folder is a dataset-level error, not one per row
        out: list[IntervalRow] = []
        for _, row in df.iterrows():
            ref = f"{path.name} row {row[ROW]}"
            notes: list[str] = []
            try:
                if is_unknown(row[c["subject"]]) or is_unknown(row[c["filename"]]):
                    raise MexkitInputError(path, f"{ref}: Subject or Filename is empty", "fill in the cell", stage="annotations")
                subject, filename = str(row[c["subject"]]).strip(), str(row[c["filename"]]).strip()
                typ = type_by_prefix(row[c["type"]])
                if typ is None:
                    raise MexkitInputError(path, f"{ref}: Expression type {row[c['type']]!r} is neither Micro- nor Macro-expression",
                                           "fix the Expression type cell", stage="annotations")
                onset = frame_cell(row[c["onset"]], "Onset", ref, path, notes)
                apex = frame_cell(row[c["apex"]], "Apex", ref, path, notes, allow_unknown=True)
                offset = frame_cell(row[c["offset"]], "Offset", ref, path, notes)
                folder = self._recording(subject, filename, ref, notes)
                emotion = "" if is_unknown(row[c["emotion"]]) else str(row[c["emotion"]]).strip()
                out.append(self.interval(folder, subject, onset, apex, offset, typ, emotion, row[c["aus"]], ref, path,
                                         (row[c["onset"]], row[c["apex"]], row[c["offset"]]), notes))
            except MexkitInputError as err:
                rejects.add(err.path or path, err.stage, err.reason)
        return out

    def video_folders(self) -> list[str]:
        return sorted(self.rel(p) for p in self.frames_root.glob("spNO.*/*/color") if p.is_dir())
