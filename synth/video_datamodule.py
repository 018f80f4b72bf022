"""`VideoDataModule`: fixed-size training clips from any source of clips, for generator training.

Sources (mix freely; each is a string or a dict, so they read naturally from a LightningCLI YAML):
  - "corpus"                           the embedded corpus clips (`mexkit.datasets.load_corpus().clips`).
  - {"manifest": "DIR/manifest.csv", "root": "DIR"}
                                       any manifest (CSV/Parquet) with the shared columns: the synth writer's
                                       output, a real dataset's manifest from the adapters, a user's generic one.
                                       `path` is relative to `root` (default: the manifest's folder); optional
                                       columns: intensity, duration_ms, flow_path (a .npy of (T, H, W, 2) pixel
                                       backward flow, as `GeneratorOutput.flow`).
                                       Add "align": "mediapipe" for raw (unaligned) frames.
  - {"generator": "warp", "faces": "corpus", "per_face": 8, "seed": 0, ...}
                                       clips made in `setup` by a generator from `load_generator` over neutral
                                       faces ("corpus", a folder of images, or a list of image paths); they keep their ground-truth
                                       flow (`has_flow` True). Keys: classes, intensity [lo, hi],
                                       duration_ms [lo, hi], fps, generator_kwargs.
  Any dict source also takes "repeat": n (use its samples n times, to balance a small source) and
  "exclude_subjects": [...] (drop those subjects, e.g. faces held out for evaluation).
  - Clip objects or `GeneratorOutput`s passed in `clips=` (tests, notebooks).

Every clip is cut to its onset..offset span (or onset..apex with span="onset-apex"), resampled to
`num_frames` frames by nearest index and resized to `size`×`size` (square crops are expected; others
are centre-cropped). Frame 0 is the onset frame, i.e. the neutral face.

A batch (default collate) is a dict:
  neutral     (B, C, H, W)    float in [-1, 1]   the onset frame
  video       (B, T, C, H, W) float in [-1, 1]   the clip, video[:, 0] == neutral
  flow        (B, T, 2, H, W) float              backward flow in grid_sample units (align_corners=False:
                                                 a shift of d pixels is 2·d/W), x then y; zeros if unknown
  has_flow    (B,)            bool               whether `flow` is ground truth
  label       (B,)            long               class index into `classes`, -1 when unlabelled / other
  intensity   (B,)            float              0–1 (1.0 for real clips: their apex is the reference)
  duration_ms (B,)            float              onset..offset duration of the source clip
  apex_at     (B,)            float              where the apex falls in the T frames, 0–1 (1 for onset-apex)
  subject     list[str]; sample_id list[str]

Items that cannot be read are skipped and listed in `self.rejects` (a `RejectLog`, rejects.csv when
`rejects_path` is set); nothing else is lost. DDP: Lightning adds the distributed sampler itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import cv2
import lightning as L
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from mexkit.datasets.label_maps import MEGC_CLASSES, NATIVE_TO_MEGC


@dataclass
class VideoSample:
    """One prepared training clip. frames: uint8 (T, S, S, 3); flow: float32 (T, S, S, 2) in grid units or None."""

    frames: np.ndarray
    label: int
    intensity: float
    duration_ms: float
    subject: str
    sample_id: str
    flow: np.ndarray | None = None
    apex_at: float = 0.4
    shaped_by: tuple[str, ...] = ()  # every subject whose data is in this clip (synthetic: face, weights, driving clip)


def shaping_subjects(clip: Clip) -> tuple[str, ...]:
    """The subjects whose data a clip carries: its own subject and, for a synthetic clip (dataset
    "synthetic" or a generator in its meta), the provenance cells `Generator.generate` stamps (and the
    writer's manifest holds): source_subject, train_subjects, driving_subject. Unknown provenance is
    refused (MexkitInputError), never read as "nobody"."""
    from mexkit.datasets.provenance import cell_subjects

    meta = clip.meta or {}
    own = {str(clip.subject)} if clip.subject else set()
    if clip.dataset != "synthetic" and not meta.get("generator"):
        return tuple(sorted(own))
    where = clip.source or clip.sample_id
    for key in ("train_subjects", "driving_subject"):
        if cell_subjects(meta.get(key)) is None:
            raise MexkitInputError(where, f"synthetic clip with unknown {key} (who shaped its generator / its motion is not recorded)",
                                   "use clips written by `mexkit generate` (its manifest records it) or made by `Generator.generate`",
                                   stage="provenance")
    extra = set(cell_subjects(meta["train_subjects"])) | set(cell_subjects(meta["driving_subject"]))
    if meta.get("source_subject"):
        extra.add(str(meta["source_subject"]))
    return tuple(sorted(own | extra))


def _square(frames: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Centre-crop (T, H, W, C) to a square; returns the crop and its (y0, x0) offset."""
    h, w = frames.shape[1:3]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    return frames[:, y0:y0 + s, x0:x0 + s], y0, x0


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """(T, S, S, C) → (T, size, size, C); area averaging when shrinking, bilinear when growing."""
    if frames.shape[1] == size and frames.shape[2] == size:
        return np.ascontiguousarray(frames)
    interp = cv2.INTER_AREA if frames.shape[1] > size else cv2.INTER_LINEAR
    out = [cv2.resize(f, (size, size), interpolation=interp) for f in frames]
    return np.stack(out).reshape(len(frames), size, size, -1)


def pixel_flow_to_grid(flow: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W, 2) backward flow in pixels (square crop) → (T, size, size, 2) in grid_sample units."""
    flow = np.asarray(flow, np.float32)
    flow, _, _ = _square(flow)
    grid = flow * (2.0 / flow.shape[2])
    return resize_frames(grid, size).astype(np.float32)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def span_indices(onset: int, end: int, num_frames: int) -> np.ndarray:
    """`num_frames` indices from onset to end (inclusive), evenly spaced, nearest frame."""
    return np.rint(np.linspace(onset, end, num_frames)).astype(np.int64)


class ClipListDataset(Dataset):
    """Prepared `VideoSample`s → tensors (see module docstring). flip_p: horizontal flip probability."""

    def __init__(self, samples: Sequence[VideoSample], flip_p: float = 0.0):
        self.samples = list(samples)
        self.flip_p = float(flip_p)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        s = self.samples[i]
        video = torch.from_numpy(s.frames).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
        if s.flow is not None:
            flow = torch.from_numpy(s.flow).permute(0, 3, 1, 2).contiguous()
        else:
            flow = torch.zeros(video.shape[0], 2, *video.shape[2:])
        if self.flip_p > 0 and float(torch.rand(())) < self.flip_p:
            video = video.flip(-1)
            flow = flow.flip(-1)
            flow[:, 0] = -flow[:, 0]
        return {
            "neutral": video[0].clone(),
            "video": video,
            "flow": flow,
            "has_flow": torch.tensor(s.flow is not None),
            "label": torch.tensor(int(s.label), dtype=torch.long),
            "intensity": torch.tensor(float(s.intensity), dtype=torch.float32),
            "duration_ms": torch.tensor(float(s.duration_ms), dtype=torch.float32),
            "apex_at": torch.tensor(float(s.apex_at), dtype=torch.float32),
            "subject": s.subject,
            "sample_id": s.sample_id,
        }


SOURCE_KEYS = {"corpus": (), "manifest": ("root", "align"),
               "generator": ("faces", "per_face", "seed", "classes", "intensity", "duration_ms", "fps", "generator_kwargs")}
COMMON_SOURCE_KEYS = ("repeat", "exclude_subjects")


def check_source(spec: str | dict) -> str | dict:
    """One `sources` entry checked when the datamodule is built (before any training or generating): a known
    kind, only its keys, an existing faces folder — else a MexkitInputError naming the key and the fix."""
    import difflib

    fix = "use 'corpus', {corpus: true}, {manifest: PATH, root: DIR} or {generator: NAME, faces: corpus|FOLDER|[images]}"
    if spec == "corpus":
        return spec
    if not isinstance(spec, dict):
        raise MexkitInputError(None, f"data source {spec!r} is not 'corpus' or a mapping", fix, stage="config")
    kinds = [k for k in SOURCE_KEYS if k in spec]
    if len(kinds) != 1:
        unknown = [k for k in spec if k not in SOURCE_KEYS and k not in COMMON_SOURCE_KEYS]
        close = difflib.get_close_matches(str(unknown[0]), list(SOURCE_KEYS), n=1) if unknown else []
        what = f"unknown key {unknown[0]!r}" + (f" (did you mean {close[0]!r}?)" if close else "") if unknown and not kinds else \
            f"names {' and '.join(kinds) or 'no kind of source'}"
        raise MexkitInputError(None, f"data source {spec!r}: {what}", fix, stage="config")
    allowed = {kinds[0], *SOURCE_KEYS[kinds[0]], *COMMON_SOURCE_KEYS}
    extra = [k for k in spec if k not in allowed]
    if extra:
        close = difflib.get_close_matches(str(extra[0]), sorted(allowed), n=1)
        raise MexkitInputError(None, f"data source {spec!r}: unknown key {extra[0]!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                               f"a {kinds[0]} source takes {', '.join(sorted(allowed))}", stage="config")
    faces = spec.get("faces", "corpus") if kinds[0] == "generator" else "corpus"
    if isinstance(faces, str) and faces != "corpus" and not Path(faces).is_dir():
        raise MexkitInputError(faces, "faces folder not found" if not Path(faces).exists() else "faces: a file, not a folder of face images",
                               "give faces: corpus, a folder of face images, or a list of image files", stage="faces")
    return spec


def _face_images(faces: str | Sequence[str]) -> list[str]:
    """A generator source's faces: a folder's images (natural order) or the list given."""
    if isinstance(faces, str):
        from mexkit.video_io import IMAGE_EXTS, natural_key

        files = sorted((p for p in Path(faces).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".")),
                       key=lambda p: natural_key(p.relative_to(faces).as_posix()))
        if not files:
            raise MexkitInputError(faces, "faces folder holds no images", "put face images in it", stage="faces")
        return [str(f) for f in files]
    return [str(f) for f in faces]


class VideoDataModule(L.LightningDataModule):
    """Clips from the corpus, manifests and generators as fixed-size (B, T, C, H, W) training batches.

    sources: list of source specs (module docstring). clips: extra in-memory Clips / GeneratorOutputs.
    num_frames, size: output T and H = W. classes: class names (index order); label_map: native label →
    class name (default NATIVE_TO_MEGC from mexkit.datasets.label_maps, then identity). span: "onset-offset" or "onset-apex".
    val_fraction: share of samples held out for validation (seeded, by sample). flip_p: train-time
    horizontal flip probability (flow x is negated). rejects_path: where rejects.csv goes (optional).
    """

    def __init__(
        self,
        sources: Sequence[str | dict] = ("corpus",),
        num_frames: int = 16,
        size: int = 64,
        batch_size: int = 8,
        classes: Sequence[str] = MEGC_CLASSES,
        label_map: dict[str, str] | None = None,
        span: str = "onset-offset",
        val_fraction: float = 0.0,
        flip_p: float = 0.5,
        num_workers: int = 0,
        seed: int = 0,
        rejects_path: str | None = None,
        clips: Iterable[Any] | None = None,
    ):
        super().__init__()
        if span not in ("onset-offset", "onset-apex"):
            raise ValueError(f"span must be 'onset-offset' or 'onset-apex', got {span!r}")
        if num_frames < 2:
            raise ValueError(f"num_frames must be >= 2, got {num_frames}")
        self.sources = [check_source(s) for s in (sources or [])]
        self.extra_clips = list(clips or [])
        self.num_frames = int(num_frames)
        self.size = int(size)
        self.batch_size = int(batch_size)
        self.classes = tuple(classes)
        self.label_map = dict(NATIVE_TO_MEGC if label_map is None else label_map)
        self.span = span
        self.val_fraction = float(val_fraction)
        self.flip_p = float(flip_p)
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self.rejects = RejectLog(rejects_path)
        self.samples: list[VideoSample] | None = None
        self.train_set: ClipListDataset | None = None
        self.val_set: ClipListDataset | None = None

    # ------------------------------------------------------------------ labels
    def class_index(self, label: Any) -> int:
        """Class index of a native or class label; -1 if unlabelled or not one of `classes`."""
        if label is None or (isinstance(label, float) and math.isnan(label)):
            return -1
        name = str(label).strip().lower()
        name = self.label_map.get(name, name)
        return self.classes.index(name) if name in self.classes else -1

    # ------------------------------------------------------------------ preparing samples
    def sample_from_clip(self, clip: Clip, flow: np.ndarray | None = None, intensity: float | None = None,
                         label: Any = "__clip__") -> VideoSample:
        """Cut, resample and resize one Clip (and its pixel flow (T, H, W, 2), if known)."""
        end = clip.apex if self.span == "onset-apex" else clip.offset
        idx = span_indices(clip.onset, end, self.num_frames)
        frames, _, _ = _square(clip.frames[idx])
        frames = resize_frames(frames, self.size)
        grid = None
        if flow is not None:
            flow = np.asarray(flow, np.float32)
            if flow.shape[:3] != clip.frames.shape[:3] or flow.shape[-1] != 2:
                raise MexkitInputError(clip.source or clip.sample_id, f"flow shape {flow.shape} does not match frames {clip.frames.shape}",
                                       "give a (T, H, W, 2) pixel flow for every frame", stage="flow")
            grid = pixel_flow_to_grid(flow[idx], self.size)
            grid[0] = 0.0  # frame 0 is the neutral frame itself
        if intensity is None:
            intensity = float(clip.meta.get("intensity", 1.0))
        return VideoSample(
            frames=frames,
            label=self.class_index(clip.label if label == "__clip__" else label),
            intensity=float(intensity),
            duration_ms=1000.0 * (end - clip.onset + 1) / clip.fps,
            subject=str(clip.subject or ""),
            sample_id=str(clip.sample_id or clip.source or ""),
            flow=grid,
            apex_at=float(np.clip((clip.apex - clip.onset) / max(end - clip.onset, 1), 0.0, 1.0)),
            shaped_by=shaping_subjects(clip),
        )

    def _from_object(self, obj: Any) -> VideoSample:
        from .output import GeneratorOutput

        if isinstance(obj, GeneratorOutput):
            return self.sample_from_clip(obj.clip, flow=obj.flow)
        if isinstance(obj, Clip):
            return self.sample_from_clip(obj, flow=obj.meta.get("flow"))
        if isinstance(obj, VideoSample):
            return obj
        raise TypeError(f"clips= takes Clip, GeneratorOutput or VideoSample objects, got {type(obj).__name__}")

    def _corpus_samples(self) -> list[VideoSample]:
        from mexkit.datasets import load_corpus

        out = []
        for clip in load_corpus().clips:
            try:
                out.append(self.sample_from_clip(clip))
            except (MexkitInputError, ValueError) as err:
                self.rejects.add_error(clip.source or clip.sample_id, err, stage="corpus")
        return out

    def _manifest_samples(self, spec: dict) -> list[VideoSample]:
        from mexkit.video_io import read_clip

        path = Path(spec["manifest"])
        if not path.exists():
            raise MexkitInputError(path, "manifest not found", "give the path of a manifest.csv or .parquet", stage="manifest")
        table = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
        missing = {"path", "fps"} - set(table.columns)
        if missing:
            raise MexkitInputError(path, f"manifest lacks columns {sorted(missing)}", "write the shared manifest columns (docs/design.md §1)", stage="manifest")
        root = Path(spec.get("root") or path.parent)
        pipeline = None
        if spec.get("align"):
            from mexkit.face import FacePipeline

            pipeline = FacePipeline(spec["align"], resolution=max(64, min(256, 1 << (self.size - 1).bit_length())))
        out = []
        for row in table.to_dict("records"):
            file = root / str(row["path"])
            try:
                ann = {k: (None if isinstance(row.get(k), float) and math.isnan(row[k]) else row.get(k))
                       for k in ("onset", "apex", "offset")}
                clip = read_clip(file, fps=float(row["fps"]), sample_id=str(row.get("sample_id", file.name)),
                                 subject=str(row.get("subject", "") or ""), label=row.get("label"),
                                 onset=int(ann["onset"] or 0), apex=None if ann["apex"] is None else int(ann["apex"]),
                                 offset=None if ann["offset"] is None else int(ann["offset"]))
                if pipeline is not None:
                    clip = pipeline.align_clip(clip)
                synthetic = str(row.get("dataset", "")) == "synthetic" or not _blank(row.get("generator"))
                if synthetic:  # the writer's provenance columns, for shaping_subjects
                    clip.dataset = "synthetic"
                    clip.meta.update({k: "" if _blank(row.get(k)) else str(row[k]) for k in
                                      ("generator", "source_subject", "train_subjects", "driving_subject")})
                flow = None
                fp = row.get("flow_path")
                if isinstance(fp, str) and fp:
                    flow = np.load(root / fp, allow_pickle=False)
                intensity = row.get("intensity")
                intensity = 1.0 if intensity is None or (isinstance(intensity, float) and math.isnan(intensity)) else float(intensity)
                out.append(self.sample_from_clip(clip, flow=flow, intensity=intensity))
            except (MexkitInputError, ValueError, OSError) as err:
                self.rejects.add_error(file, err, stage="manifest")
        return out

    def _generated_samples(self, spec: dict) -> list[VideoSample]:
        from tqdm.auto import tqdm

        from .condition import Condition
        from .registry import load_generator

        gen = load_generator(spec["generator"], **dict(spec.get("generator_kwargs") or {}))
        if gen.train_subjects is None:
            raise MexkitInputError(str(spec["generator"]), "the generator does not declare the subjects its weights were trained on",
                                   "use an exported mexkit model (its config records train_subjects) or declare them", stage="provenance")
        faces = spec.get("faces", "corpus")
        if faces == "corpus":
            from mexkit.datasets import load_corpus

            faces = list(load_corpus().faces)
        else:
            from mexkit.video_io import read_image

            from .neutral_face import prepare_face

            faces = [prepare_face(read_image(p), resolution=256, source=p, subject=Path(p).stem) for p in _face_images(faces)]
        drop = set(spec.get("exclude_subjects") or [])
        faces = [f for f in faces if f.subject not in drop]
        classes = list(spec.get("classes") or self.classes)
        ilo, ihi = spec.get("intensity", (0.3, 1.0))
        dlo, dhi = spec.get("duration_ms", (300.0, 500.0))
        fps = float(spec.get("fps", 40.0))
        rng = np.random.default_rng(int(spec.get("seed", self.seed)))
        out = []
        jobs = [(f, k) for f in faces for k in range(int(spec.get("per_face", 8)))]
        for face, k in tqdm(jobs, desc=f"generating {spec['generator']} clips", leave=False):
            cond = Condition(label=classes[int(rng.integers(len(classes)))], intensity=float(rng.uniform(ilo, ihi)),
                             duration_ms=float(rng.uniform(dlo, dhi)), fps=fps)
            seed = int(rng.integers(2**31))
            try:
                res = gen.generate(face, cond, generator=seed)
            except (MexkitInputError, ValueError) as err:
                self.rejects.add_error(face.source or face.subject, err, stage="generate")
                continue
            clip = res.clip
            clip.subject = clip.subject or face.subject
            clip.sample_id = clip.sample_id or f"{spec['generator']}_{face.subject}_{k}"
            s = self.sample_from_clip(clip.with_frames(clip.frames, onset=0, apex=cond.apex_frame, offset=cond.offset_frame),
                                      flow=res.flow, intensity=cond.intensity, label=cond.label)
            out.append(s)
        return out

    def build_samples(self) -> list[VideoSample]:
        """All samples of all sources, in source order (rejects recorded, not raised)."""
        samples: list[VideoSample] = []
        for spec in self.sources:
            if spec == "corpus" or (isinstance(spec, dict) and spec.get("corpus")):
                part = self._corpus_samples()
            elif isinstance(spec, dict) and "manifest" in spec:
                part = self._manifest_samples(spec)
            elif isinstance(spec, dict) and "generator" in spec:
                part = self._generated_samples(spec)
            else:
                raise ValueError(f"unknown clip source {spec!r}: use 'corpus', {{'manifest': path}} or {{'generator': name}}")
            if isinstance(spec, dict):
                drop = set(spec.get("exclude_subjects") or [])
                part = [s for s in part if s.subject not in drop]
                part = part * int(spec.get("repeat", 1))
            samples += part
        samples += [self._from_object(o) for o in self.extra_clips]
        return samples

    @property
    def train_subjects(self) -> tuple[str, ...]:
        """Sorted subjects of every sample this datamodule serves (train and validation; () before `setup`):
        whose data shaped the weights, for the writer's leakage gate. For synthetic clips that is the
        union of what shaped them (`VideoSample.shaped_by`), so chained generators keep it all."""
        return tuple(sorted({x for s in self.samples or () for x in ((s.subject,) if s.subject else ()) + tuple(s.shaped_by)}))

    # ------------------------------------------------------------------ Lightning hooks
    def setup(self, stage: str | None = None) -> None:
        if self.samples is not None:
            return
        self.samples = self.build_samples()
        if not self.samples:
            raise MexkitInputError(None, "no usable training clips" + (f"; {self.rejects.summary()}" if len(self.rejects) else ""),
                                   "check the sources (corpus / manifest / generator)", stage="data")
        order = np.random.default_rng(self.seed).permutation(len(self.samples))
        n_val = int(round(self.val_fraction * len(self.samples)))
        n_val = min(n_val, len(self.samples) - 1)
        val_idx, train_idx = order[:n_val], order[n_val:]
        self.train_set = ClipListDataset([self.samples[i] for i in sorted(train_idx)], flip_p=self.flip_p)
        self.val_set = ClipListDataset([self.samples[i] for i in sorted(val_idx)], flip_p=0.0) if n_val else None

    def _loader(self, ds: Dataset, shuffle: bool) -> DataLoader:
        g = torch.Generator().manual_seed(self.seed)
        return DataLoader(ds, batch_size=self.batch_size, shuffle=shuffle, generator=g if shuffle else None,
                          num_workers=self.num_workers, drop_last=shuffle and len(ds) >= self.batch_size,
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        self.setup("fit")
        return self._loader(self.val_set, shuffle=False) if self.val_set is not None else []

    def predict_dataloader(self) -> DataLoader:
        self.setup("predict")
        return self._loader(ClipListDataset(self.samples), shuffle=False)
