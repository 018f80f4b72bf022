"""What the long-video adapters share (CAS(ME)², SAMM Long Videos, CAS(ME)³ Part A; docs/design.md §8).

A long-video release is a set of frame folders (one per recording) and a sheet of expression intervals
in the release's own frame numbers. An adapter reads the sheet as released (`read_intervals`); here every
interval becomes one ground-truth row in the `truth.csv` columns (SPOT_TRUTH_COLUMNS): onset / apex /
offset as 0-based positions of frames in the video as mexkit decodes it — the frame folder in natural
(numeric) order — inclusive. The release numbers stay in `frame_onset` / `frame_apex` / `frame_offset`
(the cells as written), and each rule that changed a row (an unknown apex, a fractional frame number, a
number that falls in a gap of the frame files, a typo) is written into the row's `notes` cell, so no
choice is silent. A row that cannot be placed goes to the rejects with file, stage and reason.

Shared rules (the release-specific ones live in each adapter's docstring):
- a fractional frame number is rounded half up (floor(x + 0.5)), as the MEGC2020 baseline reads SAMM-LV;
- an unknown apex becomes the middle frame, floor((onset + offset) / 2) in positions;
- a number without a frame file: onset → the next frame that has one, offset → the previous one, apex →
  the nearest; an interval reaching past the first or last frame is clipped to the frames present; an
  interval with no frame file inside it is rejected;
- the same video, type, onset and offset twice: the second row is rejected (it would count as a second
  expression to find).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .dataset_check import list_section
from .frame_folders import cached_frames, given_frames_dir
from .manifest_columns import NO_SUBJECTS, SPOT_TRUTH_COLUMNS
from .manifest_validation import frame_cell_value, is_unknown
from .release_files import ReleaseFiles

# Beside the truth columns: the release's frame numbers as written, the rules applied, the sheet row.
TRUTH_EXTRA_COLUMNS = ["frame_onset", "frame_apex", "frame_offset", "notes", "annotation"]
LONG_TRUTH_COLUMNS = SPOT_TRUTH_COLUMNS + TRUTH_EXTRA_COLUMNS
NOTE_SEP = "; "


def round_half_up(x: float) -> int:
    """4526.5 → 4527, 4526.49 → 4526 (Python's round() would give 4526 for 4526.5)."""
    return int(math.floor(x + 0.5))


def frame_cell(value: Any, column: str, where: str, file: str | Path, notes: list[str], allow_unknown: bool = False) -> int | None:
    """A frame-number cell as an int release number; a fractional one rounded half up (noted).

    Unknown cells (empty, '/', -1) → None when allowed, else a MexkitInputError naming the row.
    """
    f = frame_cell_value(value, column, where, file, allow_unknown, whole=False)
    if f is None:
        return None
    if not math.isfinite(f) or f < 0:
        raise MexkitInputError(file, f"{where}: {column} must be a non-negative frame number, got {value!r}", f"fix {column}", stage="annotations")
    if not f.is_integer():
        n = round_half_up(f)
        notes.append(f"{column} {f:g} rounded half up to {n}")
        return n
    return int(f)


@dataclass
class IntervalRow:
    """One annotated interval as the release gives it (release frame numbers, after the sheet rules)."""

    video: str            # the video's id in truth.csv (its frame folder relative to the frames root)
    folder: str           # the frame folder relative to the dataset root
    subject: str          # dataset-prefixed subject ("samm_006")
    onset: int            # release frame numbers
    apex: int | None      # None: not annotated (middle frame used)
    offset: int
    type: str             # "ME" / "MaE"
    emotion: str
    aus: str
    ref: str              # "CAS(ME)^2code_final.xlsx sheet CASFEcode_final row 7"
    file: str
    released: tuple       # the onset / apex / offset cells as written
    notes: list[str] = field(default_factory=list)


def _cell_text(v: Any) -> str:
    """A sheet cell as written: '' for an empty cell, 1234 for 1234.0, anything else as text."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def type_by_prefix(cell: Any) -> str | None:
    """An expression-type cell read by its start: "Micro…" → "ME", "Macro…" → "MaE" (case and spaces ignored), else None."""
    kind = str(cell).strip().lower()
    return "ME" if kind.startswith("micro") else "MaE" if kind.startswith("macro") else None


class LongVideoAdapter(ReleaseFiles):
    """Base of the long-video adapters: intervals → truth rows, the check report.

    Subclasses set `name` (the dataset id written to truth.csv), `fps`, `subject_prefix`,
    `annotation_patterns` (globs of the released sheet) and implement `read_intervals` and
    `video_folders`. `annotations` / `frames_dir` override where the sheet and the frames are.
    """

    name: str = ""
    fps: float = 0.0
    subject_prefix: str = ""
    annotation_patterns: tuple[str, ...] = ()
    frames_dirs: tuple[str, ...] = ()
    writes_truth = True  # `mexkit datasets manifest` writes ground-truth intervals, not clips

    def __init__(self, root: str | Path, annotations: str | Path | None = None, frames_dir: str | Path | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise MexkitInputError(self.root, f"{self.name} root folder not found", "pass the folder that holds the released dataset (--root)", stage="dataset")
        self._given_files(annotations, frames_dir)

    # --- locations (the sheet: ReleaseFiles) --------------------------------------------
    @cached_property
    def frames_root(self) -> Path:
        """The folder that holds the video frame folders (or the subject folders above them)."""
        if self._frames_dir is not None:
            return given_frames_dir(self.root, self._frames_dir)
        for level in range(4):
            for cand in self.frames_dirs:
                hits = sorted(p for p in self.root.glob("*/" * level + cand) if p.is_dir())
                if hits:
                    return hits[0]
        raise MexkitInputError(self.root, f"no {self.name} frames folder (looked for {', '.join(self.frames_dirs)} up to 3 folders down)",
                               "point --root at the released dataset folder or pass --frames-dir", stage="frames-folder")

    def video_id(self, folder: Path) -> str:
        """The id a video goes by in truth.csv: its frame folder relative to the frames root."""
        return folder.relative_to(self.frames_root).as_posix()

    def interval(self, folder: Path, subject: str, onset: int, apex: int | None, offset: int, type: str, emotion: str, aus: Any,
                 ref: str, file: Path, released: tuple, notes: list[str]) -> IntervalRow:
        """The IntervalRow of one sheet row: `folder` the recording's frame folder (under root), `subject` its code in the
        release ("006" → "samm_006"), `aus` the AU cell as written (unknown → "")."""
        return IntervalRow(
            video=self.video_id(folder), folder=self.rel(folder), subject=f"{self.subject_prefix}_{subject}",
            onset=onset, apex=apex, offset=offset, type=type, emotion=emotion,
            aus="" if is_unknown(aus) else str(aus).strip(), ref=ref, file=str(file), released=released, notes=notes,
        )

    # --- to implement -------------------------------------------------------------------
    def read_intervals(self, rejects: RejectLog) -> list[IntervalRow]:
        """Parse the release's sheet; unusable rows go to `rejects` (an unreadable sheet raises)."""
        raise NotImplementedError

    def video_folders(self) -> list[str]:
        """Every video frame folder in the tree, relative to root."""
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------
    def manifest(self, *args, **kwargs):
        raise MexkitInputError(self.root, f"{self.name} holds long videos with expression intervals, not clips",
                               f"write its ground truth with `mexkit datasets manifest --dataset {self.name}` (truth.csv columns) "
                               "or read it with .truth()", stage="dataset")

    def truth(self, rejects: RejectLog | str | Path | None = None, strict: bool = False, decode: bool = False, progress: bool = False) -> pd.DataFrame:
        """One ground-truth row per usable interval, LONG_TRUTH_COLUMNS (SPOT_TRUTH_COLUMNS first).

        rejects: a RejectLog (or a rejects.csv path) collecting every row that could not be placed;
        strict: raise the first problem instead; decode: also decode every frame inside each interval.
        """
        from tqdm.auto import tqdm

        log = rejects if isinstance(rejects, RejectLog) else RejectLog(rejects)
        inner = RejectLog() if strict else log
        rows = self.read_intervals(inner)
        if strict and inner.rows:
            r = inner.rows[0]
            raise MexkitInputError(r["file"], r["reason"], "fix the row", stage=r["stage"])
        self._referenced = {r.folder for r in rows}
        cache: dict[str, Any] = {}
        out, seen = [], {}
        for r in tqdm(rows, desc=f"{self.name} intervals", disable=not progress, leave=False):
            try:
                row = self.place(r, cache, decode=decode)
                key = (row["video"], row["type"], row["onset"], row["offset"])
                if key in seen:
                    raise MexkitInputError(r.file, f"{r.ref}: duplicate interval ({r.type} {r.onset}..{r.offset} of {r.video}, also on {seen[key]})",
                                           "each expression may appear once; remove the duplicate row", stage="annotations")
                seen[key] = r.ref
                out.append(row)
            except MexkitInputError as err:
                if strict:
                    raise
                log.add(err.path or r.file, err.stage, err.reason)
        df = pd.DataFrame(out, columns=LONG_TRUTH_COLUMNS)
        for c in ("onset", "apex", "offset"):
            df[c] = df[c].astype(int)
        return df.sort_values(["video", "onset", "offset", "type"], kind="stable").reset_index(drop=True)

    def place(self, r: IntervalRow, cache: dict[str, Any] | None = None, decode: bool = False) -> dict[str, Any]:
        """The truth row of one interval: release numbers → positions in the decoded video (see module doc)."""
        cache = {} if cache is None else cache
        frames = cached_frames(self.root, r.folder, cache, r.ref)
        numbers = [n for n, _ in frames]
        notes = list(r.notes)
        if r.onset > r.offset:
            raise MexkitInputError(r.file, f"{r.ref}: onset {r.onset} is after offset {r.offset}", "correct the onset/offset frames", stage="annotations")
        if r.apex is not None and not r.onset <= r.apex <= r.offset:
            raise MexkitInputError(r.file, f"{r.ref}: apex {r.apex} is outside onset {r.onset} .. offset {r.offset}", "correct the apex frame", stage="annotations")
        lo = bisect.bisect_left(numbers, r.onset)           # first frame ≥ onset
        hi = bisect.bisect_right(numbers, r.offset) - 1     # last frame ≤ offset
        if lo > hi:
            raise MexkitInputError(self.root / r.folder, f"{r.ref}: no frame file between onset {r.onset} and offset {r.offset} "
                                   f"(frames there: {numbers[0]}..{numbers[-1]})", "check the frame numbers in the sheet against the files", stage="frames")
        for what, n, pos in (("onset", r.onset, lo), ("offset", r.offset, hi)):
            if numbers[pos] != n:
                edge = ("before the video's first frame" if n < numbers[0] else "after the video's last frame") if not numbers[0] <= n <= numbers[-1] else "in a gap of the frame files"
                notes.append(f"{what} frame {n} has no file ({edge}): frame {numbers[pos]} used")
        if r.apex is None:
            apex = (lo + hi) // 2
            notes.append(f"apex not annotated: the middle frame ({numbers[apex]}) used")
        else:
            k = bisect.bisect_left(numbers, r.apex)
            cands = [p for p in (k - 1, k) if lo <= p <= hi]
            apex = min(cands, key=lambda p: (abs(numbers[p] - r.apex), p))
            if numbers[apex] != r.apex:
                notes.append(f"apex frame {r.apex} has no file: the nearest, frame {numbers[apex]}, used")
        if decode:
            from .adapter_base import check_frames_decode

            check_frames_decode([p for _, p in frames[lo:hi + 1]], r.ref)
        return {
            "dataset": self.name, "video": r.video, "subject": r.subject,
            "onset": lo, "apex": apex, "offset": hi, "type": r.type, "emotion": r.emotion, "aus": r.aus,
            "intensity": "", "generator": NO_SUBJECTS, "train_subjects": NO_SUBJECTS, "seed": "",
            "fps": float(self.fps), "source": r.folder,
            "frame_onset": _cell_text(r.released[0]), "frame_apex": _cell_text(r.released[1]), "frame_offset": _cell_text(r.released[2]),
            "notes": NOTE_SEP.join(notes), "annotation": r.ref,
        }

    def check(self, decode: bool = True, progress: bool = False) -> "LongVideoCheck":
        """Intervals per subject and type, the rules applied, rejected rows, videos without intervals."""
        log = RejectLog()
        df = self.truth(log, decode=decode, progress=progress)
        referenced = getattr(self, "_referenced", set())
        try:
            present = self.video_folders()
        except MexkitInputError:
            present = []
        return LongVideoCheck(dataset=self.name, root=self.root, truth=df, rejects=log, videos=len(present),
                              folders_without_rows=sorted(f for f in present if f not in referenced), sheet_note=self.sheet_note)


@dataclass
class LongVideoCheck:
    """What `mexkit datasets check` prints for a long-video release."""

    dataset: str
    root: Path
    truth: pd.DataFrame
    rejects: RejectLog
    videos: int
    folders_without_rows: list[str]  # videos no interval names (normal for some recordings; listed to catch renames)
    sheet_note: str = ""

    def rules(self) -> pd.Series:
        """How many rows each recorded rule touched (numbers stripped, so one rule counts once)."""
        import re

        notes = [re.sub(r"(?<![A-Za-z\d])-?\d+(\.\d+)?(?![A-Za-z\d])", "N", n) for cell in self.truth["notes"] for n in str(cell).split(NOTE_SEP) if n]
        return pd.Series(notes, dtype=object).value_counts() if notes else pd.Series(dtype=int)

    def format(self) -> str:
        t = self.truth
        out = [f"{self.dataset} at {self.root}: {len(t)} intervals in {t['video'].nunique() if len(t) else 0} of {self.videos} videos, "
               f"{t['subject'].nunique() if len(t) else 0} subjects, {len(self.rejects)} rejected"]
        if self.sheet_note:
            out.append(f"annotation sheet: {self.sheet_note}")
        if len(t):
            out += ["", "intervals per subject and type:", pd.crosstab(t["subject"], t["type"], margins=True, margins_name="total").to_string()]
            emo = t["emotion"].replace("", "(none)").value_counts()
            out += ["", "emotions: " + ", ".join(f"{k} {v}" for k, v in emo.items())]
        rules = self.rules()
        out += ["", f"rows changed by a recorded rule (notes column): {int((t['notes'].astype(str) != '').sum()) if len(t) else 0}"]
        out += [f"  {n} × {rule}" for rule, n in rules.items()]

        list_section(out, "rejected rows", [f"{r['file']}: [{r['stage']}] {r['reason']}" for r in self.rejects.rows])
        list_section(out, "videos without intervals", self.folders_without_rows)
        return "\n".join(out)
