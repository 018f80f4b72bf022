"""Sets of clips to evaluate, opened from what users point `mexkit eval` at, loaded lazily.

- "corpus": the embedded real corpus (`mexkit.datasets.load_corpus()`);
- a folder with manifest.csv / manifest.parquet (the synth writer's output — manifest + clips/ — or a
  real dataset in the shared manifest format), or the manifest file itself;
- a folder of videos and/or frame folders without a manifest (one clip each, apex unknown);
- one video file or frame folder.
Clips are read one at a time while iterating, so memory stays flat in the number of clips. Rows that
cannot be read are skipped and recorded in the reject log.

Memory is bounded in a clip's length too (docs/design.md §6): a video or frame folder given without a
manifest is scored in consecutive windows of at most WINDOW_PIXELS decoded pixels (frames × height ×
width; 104 frames of 640×360, 1464 of 128×128), each window a clip `<name>@<first>-<last>` read alone; a
manifest row whose clip holds more than MAX_CLIP_PIXELS is rejected before it is decoded (an annotated
clip is not cut), with the fix.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import IMAGE_EXTS, VIDEO_EXTS, clip_fps, clip_shape, iter_clip_frames, read_clip, read_image

MANIFEST_NAMES = ("manifest.csv", "manifest.parquet")
CLIP_FIELDS = ("sample_id", "subject", "dataset", "label", "aus", "onset", "apex", "offset", "fps", "source")
WINDOW_PIXELS = 24_000_000  # a long video without a manifest is scored in windows of at most this many pixels
MAX_CLIP_PIXELS = 4 * WINDOW_PIXELS  # a manifest clip beyond this is rejected before it is decoded
# Manifest columns that name a clip's ground truth (for perceptual metrics), in order of preference.
REFERENCE_COLUMNS = ("reference_id", "driving_sample_id", "gt_sample_id")


def _clean(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


class ClipSet:
    """A named, lazily loaded sequence of clips with one record (manifest row) per clip."""

    def __init__(self, name: str, records: pd.DataFrame, load: Callable[[dict], Clip], root: Path | None = None,
                 rejects: RejectLog | None = None):
        self.name = name
        self.records = records.reset_index(drop=True)
        self._load = load
        self.root = root
        self.rejects = rejects if rejects is not None else RejectLog()
        self.faces: dict | None = None  # face id → NeutralFace, for looking up a clip's source face
        self.manifest: Path | None = None  # the manifest file the records came from, if any
        self.spec: Path | None = None  # the path the user gave (a video, a folder, a manifest), if any

    @classmethod
    def from_clips(cls, name: str, clips: list[Clip], root: Path | None = None) -> "ClipSet":
        records = pd.DataFrame([dict(c.record(), _index=i) for i, c in enumerate(clips)])
        return cls(name, records, lambda row: clips[int(row["_index"])], root)

    def __len__(self) -> int:
        return len(self.records)

    def head(self, n: int | None) -> "ClipSet":
        """The first n clips (all when n is None)."""
        if n is None or n >= len(self):
            return self
        out = ClipSet(self.name, self.records.iloc[:n], self._load, self.root, self.rejects)
        out.faces, out.manifest, out.spec = self.faces, self.manifest, self.spec
        return out

    def load(self, i: int) -> Clip:
        return self._load(self.records.iloc[i].to_dict())

    def __iter__(self) -> Iterator[Clip]:
        """Clips in order; unreadable ones are logged to `rejects` and skipped."""
        for i in range(len(self)):
            row = self.records.iloc[i].to_dict()
            try:
                yield self._load(row)
            except (MexkitInputError, ValueError, OSError) as err:
                self.rejects.add_error(self.where(i), err, stage=f"load {self.name}")

    def where(self, i: int) -> str:
        """What a reject of clip i names: the manifest for a malformed line, else the row's path or sample id."""
        row = self.records.iloc[i]
        if _clean(row.get("_error")) and self.manifest is not None:
            return str(self.manifest)
        rel = _clean(row.get("path"))
        if rel and self.root is not None and not Path(str(rel)).is_absolute():
            return str(self.root / str(rel))
        return str(rel or _clean(row.get("sample_id")) or f"{self.name}[{i}]")

    def aligned(self, resolution: int = 128, backend: str = "mediapipe") -> "ClipSet":
        """The same set with every clip aligned once on its onset frame (FacePipeline.align_clip) to `resolution` px —
        for real datasets stored as raw frames; the metrics assume template-aligned crops."""
        from mexkit.face import FacePipeline

        pipeline = FacePipeline(backend, resolution=resolution)
        inner = self._load
        out = ClipSet(self.name, self.records, lambda row: pipeline.align_clip(inner(row), resolution), self.root, self.rejects)
        out.faces, out.manifest, out.spec = self.faces, self.manifest, self.spec
        return out

    def find(self, sample_id: str) -> Clip | None:
        """The clip with this sample_id, or None."""
        hit = self.records.index[self.records["sample_id"].astype(str) == str(sample_id)]
        return self.load(int(hit[0])) if len(hit) else None

    @property
    def labels(self) -> list:
        return [_clean(v) for v in self.records["label"]] if "label" in self.records else [None] * len(self)


def _manifest_path(path: Path) -> Path | None:
    if path.is_file() and path.suffix.lower() in {".csv", ".parquet"}:
        return path
    for name in MANIFEST_NAMES:
        if (path / name).is_file():
            return path / name
    return None


def read_manifest(path: Path) -> pd.DataFrame:
    """The manifest's rows in file order; a malformed line (wrong field count, a frame number that is not a
    number) stays as a row whose `_error` names the line, so it is rejected by file and line when loaded."""
    if path.suffix.lower() == ".parquet":
        df = pd.read_parquet(path)
    else:
        from mexkit.datasets.manifest_csv import read_manifest_csv

        read = read_manifest_csv(path)
        df = read.table.assign(_line=read.lines)
        if read.bad:
            bad = pd.DataFrame({"sample_id": [f"{path.name}:{n}" for n in read.bad_lines], "_error": [e.reason for e in read.bad],
                                "_line": read.bad_lines})
            df = pd.concat([df, bad], ignore_index=True).sort_values("_line", kind="stable").reset_index(drop=True)
    if "sample_id" not in df.columns:
        raise MexkitInputError(path, "manifest has no sample_id column", "write the shared manifest columns (see docs/design.md §1)")
    return df


def check_unique_ids(records: pd.DataFrame, manifest: Path) -> None:
    """Two rows of one sample_id would be two table rows under one id: refused, naming the manifest and the ids'
    lines (as recog loso, study and datasets manifest refuse them)."""
    ok = records["_error"].isna() if "_error" in records else pd.Series(True, index=records.index)
    ids = records.loc[ok, "sample_id"].astype(str)
    dup = ids[ids.duplicated(keep=False)]
    if dup.empty:
        return
    lines = records.loc[dup.index, "_line"] if "_line" in records else pd.Series(dup.index + 2, index=dup.index)
    shown = [f"{sid!r} (lines {', '.join(str(int(n)) for n in lines[dup == sid])})" for sid in list(dict.fromkeys(dup))[:3]]
    more = f" and {dup.nunique() - 3} more" if dup.nunique() > 3 else ""
    raise MexkitInputError(manifest, f"duplicate sample_id {'; '.join(shown)}{more}", "give every row a unique sample_id", stage="manifest")


def _clip_path(root: Path, row: dict) -> Path:
    rel = _clean(row.get("path"))
    if rel:
        p = Path(str(rel))
        if p.is_absolute():
            raise MexkitInputError(p, "manifest paths must be relative to the dataset root", "rewrite the path column relative to the manifest's folder")
        return root / p
    sid = str(row["sample_id"])
    for cand in (root / "clips" / sid, *(root / "clips" / f"{sid}{ext}" for ext in sorted(VIDEO_EXTS))):
        if cand.exists():
            return cand
    raise MexkitInputError(root / "clips" / sid, "clip not found (manifest row has no path)", "add a path column or write clips under clips/<sample_id>")


def manifest_loader(root: Path, manifest: Path | None = None) -> Callable[[dict], Clip]:
    """Row → Clip for a manifest whose paths are relative to `root`; extra columns go to clip.meta. A row
    `read_manifest` marked malformed raises a MexkitInputError naming `manifest` and the line."""

    def load(row: dict) -> Clip:
        if _clean(row.get("_error")):
            raise MexkitInputError(manifest, str(row["_error"]), "repair or delete that line of the manifest", stage="manifest")
        path = _clip_path(root, row)
        kw = {k: _clean(row.get(k)) for k in CLIP_FIELDS}
        fps = kw.pop("fps")
        kw = {k: v for k, v in kw.items() if v is not None}
        for k in ("onset", "apex", "offset"):
            if k in kw:
                kw[k] = int(kw[k])
        kw["sample_id"] = str(kw.get("sample_id", path.stem))
        kw["subject"] = str(kw.get("subject", ""))
        kw["aus"] = str(kw.get("aus", ""))
        kw.setdefault("source", str(path))
        meta = {k: _clean(v) for k, v in row.items() if k not in CLIP_FIELDS and k != "path" and not k.startswith("_") and _clean(v) is not None}
        meta["set_root"] = str(root)
        if _clean(row.get("_start")) is not None:  # a window of a long video (open_clip_set without a manifest)
            start, stop = int(row["_start"]), int(row["_stop"])
            meta["window"] = [start, stop]
            frames = list(iter_clip_frames(path, start, stop))
            if not frames:
                raise MexkitInputError(path, f"frames {start}..{stop - 1}: the video ends before them", "re-copy the file", stage="input")
            own_fps = fps or clip_fps(path)
            if not own_fps:
                meta["fps_assumed"] = True
            return Clip(np.stack(frames), float(own_fps or 30.0), meta=meta, **kw)
        check_clip_size(path, manifest)
        clip = read_clip(path, fps=float(fps) if fps else None, meta=meta, **kw)
        lm = (path if path.is_dir() else path.parent) / ("landmarks.npy" if path.is_dir() else f"{path.stem}_landmarks.npy")
        if lm.is_file():
            arr = np.load(lm)
            if arr.ndim == 3 and len(arr) == clip.num_frames:
                clip.landmarks = arr.astype(np.float32)
        return clip

    return load


def check_clip_size(path: Path, manifest: Path | None = None) -> None:
    """A manifest's clip above MAX_CLIP_PIXELS (frames × height × width) is a MexkitInputError, said before it is decoded."""
    if not (path.is_dir() or (path.is_file() and path.suffix.lower() in VIDEO_EXTS)):
        return
    t, h, w = clip_shape(path)
    if t * h * w > MAX_CLIP_PIXELS:
        raise MexkitInputError(path, f"clip of {t} frames at {w}×{h} is too long to score as one clip ({t * h * w / 1e6:.0f} Mpx; "
                               f"the limit is {MAX_CLIP_PIXELS / 1e6:.0f} Mpx)",
                               "cut it into clips (one manifest row per expression), crop it first (`mexkit align` / `mexkit prepare`), "
                               "or give eval the video itself without a manifest: it is scored in windows", stage="input")


def clip_rows(path: Path, rel: str, sample_id: str) -> list[dict]:
    """Records of one video or frame folder given without a manifest: one row, or one per window of at most
    WINDOW_PIXELS (`_start`, `_stop`: frame positions, stop exclusive) when it is longer."""
    try:
        t, h, w = clip_shape(path)
    except MexkitInputError:  # unreadable: one row, rejected with its reason when loaded
        return [{"sample_id": sample_id, "path": rel}]
    per_window = max(2, WINDOW_PIXELS // max(h * w, 1))
    if t <= per_window:
        return [{"sample_id": sample_id, "path": rel}]
    count = -(-t // per_window)
    edges = np.linspace(0, t, count + 1).round().astype(int)
    return [{"sample_id": f"{sample_id}@{a}-{b - 1}", "path": rel, "_start": int(a), "_stop": int(b)} for a, b in zip(edges[:-1], edges[1:])]


def _folder_records(folder: Path) -> pd.DataFrame:
    rows = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if (p.is_file() and p.suffix.lower() in VIDEO_EXTS) or (p.is_dir() and any(q.suffix.lower() in IMAGE_EXTS for q in p.iterdir())):
            rows += clip_rows(p, p.name, p.stem if p.is_file() else p.name)
    if not rows:
        raise MexkitInputError(folder, "no manifest, videos or frame folders found",
                               "point at the synth writer's output (manifest.csv + clips/), a dataset manifest, videos or frame folders")
    return pd.DataFrame(rows)


def open_clip_set(spec: str | Path, name: str | None = None, rejects: RejectLog | None = None) -> ClipSet:
    """Open "corpus", a manifest (file or folder holding one), a folder of clips, or one clip (see module docstring)."""
    if str(spec) == "corpus":
        from mexkit.datasets import load_corpus

        corpus = load_corpus()
        cs = ClipSet.from_clips(name or "corpus", corpus.clips, corpus.root)
        cs.faces = {f.meta.get("face_id", f.subject): f for f in corpus.faces}
        return cs
    path = Path(spec)
    if not path.exists():
        raise MexkitInputError(path, "clip set not found", "give 'corpus', a folder with manifest.csv, a manifest file, a folder of clips or a video")
    name = name or path.stem
    manifest = _manifest_path(path)
    if manifest is not None:
        records = read_manifest(manifest)
        check_unique_ids(records, manifest)
        out = ClipSet(name, records, manifest_loader(manifest.parent, manifest), manifest.parent, rejects)
        out.manifest = out.spec = manifest
        return out
    if path.is_file() and path.suffix.lower() not in VIDEO_EXTS:
        raise MexkitInputError(path, f"not a clip set: a {path.suffix or 'extensionless'} file",
                               f"give 'corpus', a manifest (.csv, .parquet), a folder of clips or a video ({', '.join(sorted(VIDEO_EXTS))})")
    if path.is_file() or any(q.suffix.lower() in IMAGE_EXTS for q in path.iterdir()):
        clip_shape(path)  # the one clip given is readable: an empty or corrupt video is said up front, naming it
        out = ClipSet(name, pd.DataFrame(clip_rows(path, path.name, path.stem if path.is_file() else path.name)),
                      manifest_loader(path.parent), path.parent, rejects)
    else:
        out = ClipSet(name, _folder_records(path), manifest_loader(path), path, rejects)
    out.spec = path
    return out


def neutral_image(clip: Clip, clip_set: ClipSet | None = None) -> tuple[np.ndarray | None, str | None]:
    """The generator's neutral input for a synthetic clip, if its manifest names one (`source_face`):
    an image path (absolute or relative to the set's root) or a corpus face ("corpus/<face_id>").
    (None, None) → use the onset frame (a generator's frame 0 is its input by construction)."""
    ref = clip.meta.get("source_face")
    if not ref:
        return None, None
    root = Path(clip.meta.get("set_root", "."))
    for cand in (Path(str(ref)), root / str(ref)):
        if cand.suffix.lower() in IMAGE_EXTS and cand.is_file():
            return read_image(cand), str(cand)
    faces = clip_set.faces if clip_set is not None else None
    if faces is None:
        try:
            from mexkit.datasets import load_corpus

            faces = {f.meta.get("face_id", f.subject): f for f in load_corpus().faces}
        except (ImportError, FileNotFoundError):
            faces = {}
        if clip_set is not None:
            clip_set.faces = faces
    key = str(ref).removeprefix("corpus/")  # the synth writer names corpus faces "corpus/<face_id>"
    face = faces.get(key)
    return (face.crop, f"corpus:{key}") if face is not None else (None, None)


def reference_id(clip: Clip) -> str | None:
    """The sample_id of this clip's ground truth, if its manifest names one."""
    for col in REFERENCE_COLUMNS:
        v = clip.meta.get(col)
        if v:
            return str(v)
    return None
