"""What every dataset adapter shares: annotation rows → validated manifest → `Clip`s, and `check`.

An adapter reads one released dataset exactly as released (folder layout, frame file names,
annotation sheet). Subclasses only say where things are and how their sheet reads
(`read_annotations`, `frame_folders`); turning annotation rows into manifest rows, validating
them, logging rejects and loading clips happens here, the same way for all of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import VIDEO_EXTS, is_gray, read_frames, read_image, read_video

from .frame_folders import cached_frames, describe_numbers, numbered_frames, select_range
from .au_targets import AU_FIX, AUCellError, read_au_cell
from .manifest_columns import AU_TARGET_COLUMNS, FRAME_RANGE_COLUMNS, MANIFEST_COLUMNS
from .manifest_validation import check_timing, duplicate_ids, is_unknown, resolve_inside


@dataclass
class Annotation:
    """One sample as the release annotates it, in the release's own frame numbers.

    onset_frame/offset_frame None → the folder's first/last frame; apex_frame None → unknown (middle
    frame, flagged). `ref` says where the row came from ("CASME2-coding-20140508.xlsx row 7").
    """

    sample_id: str
    subject: str
    label: str | None
    folder: str
    ref: str
    file: str
    aus: str = ""
    onset_frame: int | None = None
    apex_frame: int | None = None
    offset_frame: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _posix(p: Path | str) -> str:
    return Path(p).as_posix()


class DatasetAdapter:
    """Base of the dataset adapters. `root` is the dataset's folder as released.

    Subclasses set `name` (the subject prefix), `fps`, and implement `read_annotations` and
    `frame_folders`. `allow_frame_drops` lets a clip miss frames inside onset..offset (a known
    property of some releases); they are recorded in the manifest's `dropped_frames` column.
    `has_aus`: the release annotates action units (its rows get a 12-AU target, `au_columns`; an empty
    cell codes none); False gives every row an unknown target ("").
    """

    name: str = ""
    fps: float = 0.0
    allow_frame_drops: bool = False
    gray_source: bool = False
    has_aus: bool = False

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise MexkitInputError(self.root, f"{self.name or 'dataset'} root folder not found", "pass the folder that holds the released dataset (--root)", stage="dataset")

    # --- to implement -------------------------------------------------------------------
    def read_annotations(self, rejects: RejectLog) -> list[Annotation]:
        """Parse the release's annotations; unusable rows go to `rejects` (file-level problems raise)."""
        raise NotImplementedError

    def frame_folders(self) -> list[str]:
        """Every sample folder present in the tree, relative to root (for 'folders without rows')."""
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------
    def note_folder(self, folder: str) -> None:
        """Record that an annotation row names `folder` (even a row rejected later)."""
        self._referenced.add(_posix(folder))

    def prefixed(self, subject: Any) -> str:
        """Subject id prefixed by the dataset ("casme2_sub01"); subjects overlap across datasets."""
        return f"{self.name}_{subject}"

    def manifest(self, rejects: RejectLog | str | Path | None = None, strict: bool = False, decode: bool = False, progress: bool = False) -> pd.DataFrame:
        """One validated row per usable sample (docs/design.md §1), paths relative to `root`.

        rejects: a RejectLog (or a path for rejects.csv) collecting every skipped row with file, stage
        and reason. strict: raise the first problem instead. decode: also decode every frame file
        (finds unreadable files and gray/colour mixes; slower). progress: show a progress bar.
        """
        from tqdm.auto import tqdm

        log = rejects if isinstance(rejects, RejectLog) else RejectLog(rejects)
        anns = self._annotations(log, strict)
        rows = []
        cache: dict[str, list] = {}
        for ann in tqdm(anns, desc=f"{self.name} samples", disable=not progress, leave=False):
            try:
                rows.append(self.resolve(ann, cache, decode=decode))
            except MexkitInputError as err:
                if strict:
                    raise
                log.add_error(err.path or ann.ref, err)
        cols = self.manifest_columns()
        for r in rows:  # dataset-specific extra columns keep their order after the shared ones
            cols += [k for k in r if k not in cols]
        df = pd.DataFrame(rows, columns=cols)
        for c in ("onset", "apex", "offset", "num_frames"):
            df[c] = df[c].astype(int)
        df["apex_estimated"] = df["apex_estimated"].astype(bool)
        return df.reset_index(drop=True)

    def manifest_columns(self) -> list[str]:
        return MANIFEST_COLUMNS + FRAME_RANGE_COLUMNS + ["dropped_frames", "annotation"] + AU_TARGET_COLUMNS

    def au_columns(self, ann: Annotation) -> dict[str, str]:
        """The row's 12-AU target columns (datasets/au_targets.py) from its AU cell; a cell that cannot be read
        is a MexkitInputError naming the sheet and the row."""
        if not self.has_aus:
            return {"au_target": "", "au_other": "", "au_notes": "no AU annotation in this release"}
        try:
            return read_au_cell(ann.aus).columns()
        except AUCellError as err:
            raise MexkitInputError(ann.file, f"{ann.ref}: AU cell {ann.aus!r} cannot be read ({err})", AU_FIX, stage="annotations") from None

    def _annotations(self, log: RejectLog, strict: bool) -> list[Annotation]:
        inner = RejectLog() if strict else log
        self._referenced: set[str] = set()
        anns = self.read_annotations(inner)
        if strict and inner.rows:
            r = inner.rows[0]
            raise MexkitInputError(r["file"], r["reason"], "fix the row", stage=r["stage"])
        self._referenced |= {ann.folder for ann in anns}
        dups = duplicate_ids(a.sample_id for a in anns)
        if dups:
            bad = {i for pos in dups.values() for i in pos}
            for sid, pos in dups.items():
                refs = [anns[i].ref for i in pos]
                err = MexkitInputError(anns[pos[0]].file, f"duplicate sample id {sid!r} on {', '.join(refs)}", "each sample may appear once; remove or correct the duplicate rows", stage="annotations")
                if strict:
                    raise err
                for i in pos:
                    log.add(anns[i].ref, "annotations", err.reason)
            anns = [a for i, a in enumerate(anns) if i not in bad]
        return anns

    def resolve(self, ann: Annotation, cache: dict[str, list] | None = None, decode: bool = False) -> dict[str, Any]:
        """Check one annotation against the frame files and return its manifest row."""
        cache = {} if cache is None else cache
        au = self.au_columns(ann)
        folder = self.root / ann.folder
        frames = cached_frames(self.root, ann.folder, cache, ann.ref)
        numbers = [n for n, _ in frames]
        start = numbers[0] if ann.onset_frame is None else ann.onset_frame
        stop = numbers[-1] if ann.offset_frame is None else ann.offset_frame
        check_timing(start, ann.apex_frame, stop, ann.ref, ann.file)
        have = f"frames there: {numbers[0]}..{numbers[-1]}"
        for what, n in (("onset", start), ("offset", stop)):
            if n not in set(numbers):
                raise MexkitInputError(folder, f"{ann.ref}: {what} frame {n} has no file in the folder ({have})", "check the frame numbers in the sheet against the files", stage="frames")
        sel, missing = select_range(frames, start, stop)
        if missing and not self.allow_frame_drops:
            raise MexkitInputError(folder, f"{ann.ref}: frame file(s) missing between onset {start} and offset {stop}: {describe_numbers(missing)}", "restore the missing frames from the release", stage="frames")
        sel_numbers = [n for n, _ in sel]
        if ann.apex_frame is None:
            apex_idx, estimated = (0 + len(sel) - 1) // 2, True
        else:
            if ann.apex_frame not in sel_numbers:
                raise MexkitInputError(folder, f"{ann.ref}: apex frame {ann.apex_frame} has no file in the folder ({have})", "check the apex frame number", stage="frames")
            apex_idx, estimated = sel_numbers.index(ann.apex_frame), False
        for _, p in sel:
            if p.stat().st_size == 0:
                raise MexkitInputError(p, f"{ann.ref}: frame file is empty (0 bytes)", "restore the file from the release", stage="frames")
        if decode:
            check_frames_decode([p for _, p in sel], ann.ref)
        return {
            "sample_id": ann.sample_id,
            "subject": ann.subject,
            "dataset": self.name,
            "label": ann.label,
            "aus": ann.aus,
            "onset": 0,
            "apex": apex_idx,
            "offset": len(sel) - 1,
            "apex_estimated": estimated,
            "fps": float(self.fps),
            "num_frames": len(sel),
            "path": _posix(ann.folder),
            "source": _posix(ann.folder),
            "frame_start": start,
            "frame_stop": stop,
            "dropped_frames": ";".join(map(str, missing)),
            "annotation": ann.ref,
            **au,
            **ann.extra,
        }

    def load_clip(self, row: pd.Series | dict[str, Any]) -> Clip:
        """The `Clip` of one manifest row (frames uint8 (T, H, W, 3); gray sources expanded)."""
        return load_manifest_clip(self.root, row)

    def clips(self, manifest: pd.DataFrame | None = None, rejects: RejectLog | None = None) -> Iterator[Clip]:
        """Clips of every manifest row; a row whose frames fail to load is logged and skipped."""
        log = rejects if rejects is not None else RejectLog()
        df = self.manifest(log) if manifest is None else manifest
        for _, row in df.iterrows():
            try:
                yield self.load_clip(row)
            except MexkitInputError as err:
                log.add_error(err.path or row["path"], err)

    def check(self, decode: bool = True, progress: bool = False) -> "DatasetCheck":
        """Counts per subject and label, frames missing, rows without frames, folders without rows."""
        from .dataset_check import DatasetCheck

        log = RejectLog()
        df = self.manifest(log, decode=decode, progress=progress)
        referenced = getattr(self, "_referenced", set())
        try:
            present = set(self.frame_folders())
        except MexkitInputError:
            present = set()
        orphans = sorted(f for f in present if f not in referenced)
        return DatasetCheck(dataset=self.name, root=self.root, manifest=df, rejects=log, folders_without_rows=orphans,
                            sheet_note=getattr(self, "sheet_note", ""), errata=getattr(self, "errata_report", None))


def check_frames_decode(files: list[Path], ref: str = "") -> None:
    """Decode every frame file; raise naming the first unreadable file or the first gray/colour mix."""
    gray_first: bool | None = None
    prefix = f"{ref}: " if ref else ""
    for p in files:
        try:
            img = read_image(p)
        except MexkitInputError as err:
            raise MexkitInputError(p, prefix + err.reason, err.fix, stage="frames") from None
        g = is_gray(img)
        if gray_first is None:
            gray_first = g
        elif g != gray_first:
            raise MexkitInputError(p, f"{prefix}sequence mixes gray and colour frames ({files[0].name} is {'gray' if gray_first else 'colour'}, {p.name} is not)", "re-export all frames of the clip in one colour mode", stage="frames")


def _val(row: pd.Series | dict, key: str, default: Any = None) -> Any:
    v = row.get(key, default) if hasattr(row, "get") else default
    return default if is_unknown(v) else v


def load_manifest_clip(root: str | Path, row: pd.Series | dict[str, Any], manifest_file: str | Path = "manifest") -> Clip:
    """Load the clip a manifest row describes, from any adapter's manifest (or a generic CSV).

    `path` is a frame folder or a video file relative to `root`. With `frame_start`/`frame_stop`
    (release frame numbers) only those files of the folder are read; otherwise all frames.
    onset/apex/offset index the returned frames.
    """
    sid = str(_val(row, "sample_id", ""))
    where = f"sample {sid}"
    path = resolve_inside(root, row.get("path"), manifest_file, where)
    start, stop = _val(row, "frame_start"), _val(row, "frame_stop")
    if path.is_dir():
        frames = numbered_frames(path)
        if start is not None and stop is not None:
            frames, _ = select_range(frames, int(float(start)), int(float(stop)))
        files = [p for _, p in frames]
        if not files:
            raise MexkitInputError(path, f"{where}: no frame files in {start}..{stop}", "rebuild the manifest", stage="frames")
        try:
            arr = read_frames(files)
        except MexkitInputError as err:
            raise MexkitInputError(err.path, f"{where}: {err.reason}", err.fix, stage="frames") from None
    elif path.suffix.lower() in VIDEO_EXTS:
        s = int(float(start)) if start is not None else 0
        e = int(float(stop)) + 1 if stop is not None else None
        arr, _ = read_video(path, s, e)
    elif path.exists():
        arr = read_image(path)[None]
    else:
        raise MexkitInputError(path, f"{where}: clip not found", "check the dataset root and the manifest's path column", stage="frames")
    n = _val(row, "num_frames")
    if n is not None and int(float(n)) != len(arr):
        raise MexkitInputError(path, f"{where}: {len(arr)} frames on disk but the manifest says {int(float(n))}", "rebuild the manifest (frames changed since it was written)", stage="frames")
    apex = _val(row, "apex")
    apex_estimated = str(row.get("apex_estimated", False)).strip().lower() in ("true", "1", "yes")
    clip = Clip(
        frames=arr,
        fps=float(_val(row, "fps", 0) or 0),
        subject=str(_val(row, "subject", "")),
        sample_id=sid,
        onset=int(float(_val(row, "onset", 0))),
        apex=None if apex is None else int(float(apex)),
        offset=None if _val(row, "offset") is None else int(float(row["offset"])),
        label=None if _val(row, "label") is None else str(row["label"]),
        aus=str(_val(row, "aus", "")),
        dataset=str(_val(row, "dataset", "")),
        source=str(row.get("path")),
        apex_estimated=apex_estimated or apex is None,
        meta={"annotation": str(_val(row, "annotation", "")), "gray_source": bool(len(arr) and is_gray(arr[0]))},
    )
    return clip
