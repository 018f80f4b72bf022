"""The generic adapter: any folder of clips (frame folders or videos) plus a CSV with manifest columns.

The escape hatch for user data, and how synthetic datasets written by `mexkit generate` are read
back (their manifest.csv carries the same columns plus generator provenance, which is kept).

CSV columns: sample_id, subject, path (required); dataset, label, aus, onset, apex, offset, fps,
frame_start, frame_stop and anything else (optional, kept). `path` is a frame folder or a video file
relative to the dataset root; absolute paths and paths that leave the root are rejected.
A non-empty `aus` cell gives the row its 12-AU target (datasets/au_targets.py; an unreadable cell is a
reject naming the CSV and the row); an empty one leaves it unknown (or keeps an au_target column the
CSV already has). onset/apex/offset index the clip's frames from 0 (defaults: first, middle — flagged — and last);
fps comes from the row or, for videos, from the file. Subjects are used as written unless `prefix`
is given, which prefixes those that lack it (synthetic manifests keep their source subjects so the
leakage checks of the augmentation study still see them).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import IMAGE_EXTS, VIDEO_EXTS, list_frame_files, video_info

from .adapter_base import Annotation, DatasetAdapter, check_frames_decode
from .annotation_sheet import ROW, read_annotation_sheet
from .frame_folders import describe_numbers, numbered_frames, select_range
from .manifest_columns import AU_TARGET_COLUMNS
from .manifest_validation import as_frame_number, check_timing, is_unknown, resolve_inside

GENERIC_REQUIRED = ["sample_id", "subject", "path"]


class GenericAdapter(DatasetAdapter):
    """root: the dataset folder; csv: its manifest (default <root>/manifest.csv)."""

    name = "generic"
    has_aus = True

    def __init__(self, root: str | Path, csv: str | Path | None = None, dataset: str = "generic", prefix: str | None = None):
        super().__init__(root)
        self.csv = Path(csv) if csv is not None else self.root / "manifest.csv"
        self.dataset = dataset
        self.prefix = prefix

    def read_annotations(self, rejects: RejectLog) -> list[Annotation]:
        if not self.csv.is_file():
            raise MexkitInputError(self.csv, "manifest CSV not found", "write a CSV with sample_id, subject, path (and label, onset, apex, offset, fps) or pass csv=PATH (--annotations)", stage="annotations")
        df, _ = read_annotation_sheet(self.csv, GENERIC_REQUIRED, header_row=1)
        anns = []
        for _, row in df.iterrows():
            where = f"row {row[ROW]}"
            try:
                for c in GENERIC_REQUIRED:
                    if is_unknown(row[c]):
                        raise MexkitInputError(self.csv, f"{where}: {c} is empty", f"fill in {c}", stage="manifest")
                full = resolve_inside(self.root, row["path"], self.csv, f"{where} ({row['sample_id']})")
                rel = full.relative_to(self.root.resolve()).as_posix()
                self.note_folder(rel)
                subject = str(row["subject"]).strip()
                if self.prefix and not subject.startswith(self.prefix + "_"):
                    subject = f"{self.prefix}_{subject}"
                extra = {k: v for k, v in row.items() if k != ROW and not str(k).startswith("Unnamed")}
                anns.append(Annotation(
                    sample_id=str(row["sample_id"]).strip(), subject=subject,
                    label=None if is_unknown(row.get("label")) else str(row["label"]).strip(),
                    folder=rel, ref=f"{self.csv.name} row {row[ROW]}", file=str(self.csv),
                    aus="" if is_unknown(row.get("aus")) else str(row["aus"]).strip(), extra=extra,
                ))
            except MexkitInputError as err:
                rejects.add(self.csv, err.stage, err.reason)
        return anns

    def resolve(self, ann: Annotation, cache=None, decode: bool = False) -> dict[str, Any]:
        row, ref, csv = ann.extra, ann.ref, self.csv
        path = self.root / ann.folder
        fs = as_frame_number(row.get("frame_start"), "frame_start", ref, csv, allow_unknown=True)
        fe = as_frame_number(row.get("frame_stop"), "frame_stop", ref, csv, allow_unknown=True)
        fps = None if is_unknown(row.get("fps")) else _float(row["fps"], "fps", ref, csv)
        if path.is_dir():
            if fs is not None or fe is not None:
                frames = numbered_frames(path)
                lo, hi = fs if fs is not None else frames[0][0], fe if fe is not None else frames[-1][0]
                sel, missing = select_range(frames, lo, hi)
                if missing:
                    raise MexkitInputError(path, f"{ref}: frame file(s) missing in {lo}..{hi}: {describe_numbers(missing)}", "restore the frames", stage="frames")
                files = [p for _, p in sel]
            else:
                try:
                    files = list_frame_files(path)
                except MexkitInputError as err:
                    raise MexkitInputError(err.path, f"{ref}: {err.reason}", err.fix, stage="frames" if "gap" in err.reason else "frames-folder") from None
            for p in files:
                if p.stat().st_size == 0:
                    raise MexkitInputError(p, f"{ref}: frame file is empty (0 bytes)", "restore the file", stage="frames")
            if decode:
                check_frames_decode(files, ref)
            n = len(files)
        elif path.is_file() and path.suffix.lower() in VIDEO_EXTS:
            try:
                info = video_info(path)
            except MexkitInputError as err:
                raise MexkitInputError(path, f"{ref}: {err.reason}", err.fix, stage="frames") from None
            n = int(info["frames"])
            if fs is not None or fe is not None:
                lo, hi = fs or 0, fe if fe is not None else n - 1
                if hi >= n:
                    raise MexkitInputError(path, f"{ref}: frame_stop {hi} beyond the video's {n} frames", "fix frame_stop", stage="manifest")
                n = hi - lo + 1
            fps = fps or info["fps"]
        elif path.is_file() and path.suffix.lower() in IMAGE_EXTS:
            n = 1
        else:
            raise MexkitInputError(path, f"{ref}: clip not found (no frame folder or video at this path)", "check the path column (relative to the dataset root)", stage="frames-folder")
        if not fps or fps <= 0:
            raise MexkitInputError(csv, f"{ref}: fps missing or not > 0", "add an fps column (frame folders carry no frame rate)", stage="manifest")
        onset = as_frame_number(row.get("onset"), "onset", ref, csv, allow_unknown=True)
        apex = as_frame_number(row.get("apex"), "apex", ref, csv, allow_unknown=True)
        offset = as_frame_number(row.get("offset"), "offset", ref, csv, allow_unknown=True)
        onset = 0 if onset is None else onset
        offset = n - 1 if offset is None else offset
        check_timing(onset, apex, offset, ref, csv)
        if offset >= n:
            raise MexkitInputError(csv, f"{ref}: offset {offset} beyond the clip's {n} frames", "offset indexes the clip's frames from 0", stage="manifest")
        estimated = apex is None or str(row.get("apex_estimated", "")).strip().lower() in ("true", "1")
        apex = (onset + offset) // 2 if apex is None else apex
        au = self.au_columns(ann) if ann.aus else {c: "" if is_unknown(row.get(c)) else str(row[c]) for c in AU_TARGET_COLUMNS}
        out = {k: v for k, v in row.items() if not is_unknown(v)}
        out.update(au)
        out.update({
            "sample_id": ann.sample_id, "subject": ann.subject,
            "dataset": self.dataset if is_unknown(row.get("dataset")) else str(row["dataset"]).strip(),
            "label": ann.label, "aus": ann.aus, "onset": onset, "apex": apex, "offset": offset, "apex_estimated": estimated,
            "fps": float(fps), "num_frames": n, "path": ann.folder, "source": ann.folder,
            "frame_start": fs, "frame_stop": fe, "dropped_frames": "", "annotation": ref,
        })
        return out

    def frame_folders(self) -> list[str]:
        """Clips (frame folders, videos) beside the referenced ones that no row names."""
        parents = {(self.root / f).parent for f in getattr(self, "_referenced", set())}
        out = []
        for d in parents:
            if not d.is_dir():
                continue
            for p in d.iterdir():
                is_clip = p.is_file() and p.suffix.lower() in VIDEO_EXTS or p.is_dir() and any(q.suffix.lower() in IMAGE_EXTS for q in p.iterdir())
                if is_clip:
                    out.append(p.relative_to(self.root).as_posix())
        return sorted(out)


def _float(v: Any, col: str, where: str, file: Path) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise MexkitInputError(file, f"{where}: {col} is not a number ({v!r})", f"fix {col}", stage="manifest") from None
