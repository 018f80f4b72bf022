"""What `mexkit recog predict --clips X` reads: X as a list of clip inputs, each loaded only when predicted.

X is one of
- `corpus`: the embedded corpus's clips (aligned 128-px crops);
- a manifest (CSV / Parquet) or a folder holding manifest.csv (a writer's or an adapter's output): one
  clip per row, its `path` relative to the manifest's folder (or `root`), its onset / apex / offset;
- a folder of clip folders (frame images) or of short video files, or one clip folder: onset = first
  frame, offset = last, apex = the middle (`Clip`'s rule for an unknown apex);
- a short video file (at most MAX_VIDEO_FRAMES frames): aligned once on its onset frame (frame 0) with
  `FacePipeline.align_clip`, as the corpus and the adapters align clips.
Frame folders and manifests are taken as aligned face crops unless `align` names a face backend (then
every clip is aligned on its onset frame first); videos are always aligned. Whatever cannot be read or
aligned is the caller's to log (`ClipInput.load` raises a MexkitInputError naming the file).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import IMAGE_EXTS, VIDEO_EXTS, natural_key

MAX_VIDEO_FRAMES = 300
MANIFEST_EXTS = (".csv", ".parquet")
CLIPS_FIX = ("give --clips a manifest (CSV/Parquet), a folder with manifest.csv, a folder of clip folders, one clip folder, "
             "a short video file, or `corpus`")


@dataclass
class ClipInput:
    """One clip to predict: its id, the path shown in the `input` column, and how to load it."""

    sample_id: str
    input: str
    loader: Callable[[], Clip]

    def load(self) -> Clip:
        clip = self.loader()
        return clip.with_frames(clip.frames, source=self.input, sample_id=self.sample_id)


class _Aligner:
    """Aligns clips once on their onset frame (one FacePipeline, made when first needed)."""

    def __init__(self, backend: str, resolution: int):
        self.backend, self.resolution, self._pipeline = backend, int(resolution), None

    def __call__(self, clip: Clip) -> Clip:
        if self._pipeline is None:
            from mexkit.face import FacePipeline

            self._pipeline = FacePipeline(self.backend, resolution=self.resolution)
        return self._pipeline.align_clip(clip)


def _has_frames(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".") for p in folder.iterdir())


def _video_clip(path: Path, aligner: _Aligner) -> Clip:
    from mexkit.video_io import read_clip, video_info

    n = video_info(path)["frames"]
    if n > MAX_VIDEO_FRAMES:
        raise MexkitInputError(path, f"a long video ({n} frames): predict takes clips of at most {MAX_VIDEO_FRAMES} frames",
                               "cut the clip around the expression first (or find expressions in long videos with the spotting "
                               "command)", stage="input")
    return aligner(read_clip(path))


def _folder_clip(path: Path, aligner: _Aligner | None) -> Clip:
    from mexkit.video_io import read_clip

    clip = read_clip(path)
    return aligner(clip) if aligner is not None else clip


def _manifest_inputs(path: Path, root: Path | None, aligner: _Aligner | None, rejects: RejectLog | None) -> list[ClipInput]:
    from mexkit.datasets.adapter_base import load_manifest_clip

    if path.suffix.lower() == ".parquet":
        try:
            table = pd.read_parquet(path)
        except Exception as err:  # pyarrow's errors for a file that is not Parquet
            raise MexkitInputError(path, f"cannot read the Parquet manifest ({type(err).__name__})", CLIPS_FIX, stage="manifest") from None
    else:
        from mexkit.datasets.manifest_csv import read_manifest_csv

        read = read_manifest_csv(path, keep_default_na=False, na_values=[""])
        table = read.table
        for err in read.bad:
            if rejects is not None:
                rejects.add(path, err.stage, err.reason)
    missing = [c for c in ("sample_id", "path") if c not in table.columns]
    if missing:
        raise MexkitInputError(path, f"manifest lacks the column(s) {missing}", "write it with a mexkit adapter, `mexkit generate`, or add "
                                                                                "sample_id and path (relative to the manifest's folder)",
                               stage="manifest")
    root = root or path.parent
    out = []
    for row in table.to_dict("records"):
        def load(row: dict[str, Any] = row) -> Clip:
            clip = load_manifest_clip(root, row, path)
            return aligner(clip) if aligner is not None else clip

        out.append(ClipInput(str(row["sample_id"]), str(root / str(row["path"])), load))
    return out


def open_clip_inputs(x: str | Path, align: str | None = None, resolution: int = 128, root: str | Path | None = None,
                     rejects: RejectLog | None = None) -> list[ClipInput]:
    """The clip inputs of `--clips X` (module docstring), in a stable order. align: a face backend
    ("mediapipe", "dlib") to align folders and manifests too; videos use it, or MediaPipe. resolution:
    the crop size alignment makes. A malformed manifest line goes to `rejects`. An X that is none of
    these is a MexkitInputError raised before anything is loaded."""
    if str(x) == "corpus":
        from mexkit.datasets.corpus import CORPUS_DIR, load_clips

        manifest = pd.read_csv(CORPUS_DIR / "manifest.csv")
        clips = {c.sample_id: c for c in load_clips(CORPUS_DIR, manifest)}
        return [ClipInput(str(r.sample_id), str(CORPUS_DIR / r.path), lambda c=clips[str(r.sample_id)]: c)
                for r in manifest.itertuples(index=False)]
    path = Path(x)
    aligner = _Aligner(align, resolution) if align else None
    video_aligner = aligner or _Aligner("mediapipe", resolution)
    if not path.exists():
        raise MexkitInputError(path, "--clips: not found", CLIPS_FIX, stage="input")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in MANIFEST_EXTS:
            return _manifest_inputs(path, Path(root) if root else None, aligner, rejects)
        if suffix in VIDEO_EXTS:
            return [ClipInput(path.stem, str(path), lambda: _video_clip(path, video_aligner))]
        if suffix in IMAGE_EXTS:  # one image is a one-frame clip: predicted as such, i.e. rejected with the reason
            return [ClipInput(path.stem, str(path), lambda: _folder_clip(path, aligner))]
        raise MexkitInputError(path, f"--clips: a {suffix or 'suffix-less'} file is not a manifest, a video or an image", CLIPS_FIX, stage="input")
    if (path / "manifest.csv").is_file():
        return _manifest_inputs(path / "manifest.csv", Path(root) if root else None, aligner, rejects)
    if _has_frames(path):
        return [ClipInput(path.name, str(path), lambda: _folder_clip(path, aligner))]
    items = sorted((p for p in path.iterdir() if not p.name.startswith(".")), key=lambda p: natural_key(p.name))
    out = []
    for p in items:
        if p.is_dir():
            out.append(ClipInput(p.name, str(p), lambda p=p: _folder_clip(p, aligner)))
        elif p.suffix.lower() in VIDEO_EXTS:
            out.append(ClipInput(p.stem, str(p), lambda p=p: _video_clip(p, video_aligner)))
    if not out:
        raise MexkitInputError(path, "--clips: the folder holds no frames, clip folders, videos or manifest.csv", CLIPS_FIX, stage="input")
    return out


def load_inputs(inputs: list[ClipInput], rejects: RejectLog):
    """Yield the clips of `inputs` one at a time; one that cannot be loaded (unreadable, no face) goes to
    `rejects` and is skipped."""
    for item in inputs:
        try:
            yield item.load()
        except (MexkitInputError, ValueError, OSError) as err:
            rejects.add_error(item.input, err, stage="load")
