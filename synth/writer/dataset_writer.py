"""The synthetic-dataset writer: any generator × faces × conditions → clips, manifest.csv, rejects.csv.

Layout of the output folder (the contract in the brief's "Synthetic manifest"):
    DIR/manifest.csv          one row per finished clip (MANIFEST_COLUMNS; paths relative to DIR)
    DIR/rejects.csv           faces (or samples) skipped, with stage and reason
    DIR/clips/<sample_id>/    PNG frames 00000.png … (format "png"), or DIR/clips/<sample_id>.mp4

Guarantees. Sample ids are deterministic: a hash of (generator name, weights hash, source face
sha256, condition, seed), so the same command writes the same ids, frames and rows. Each clip is
written into a temporary sibling and renamed into place, and only then is its manifest row appended
(one O_APPEND write, fsynced) — a killed run leaves at worst a temporary folder (removed on the next
run) or a finished clip without its row (regenerated), never a half row or a row without files.
Running the same command again resumes: finished ids are skipped.

Built for scale-out: `build_jobs` makes the deterministic, sorted job list, and
`DatasetWriter.write_sample(job)` turns one job into files + a row with no state shared between
jobs beyond caches, so a Lightning `predict` loop with a prediction writer can shard the job list.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from mexkit.atomic import atomic_append_line, atomic_write_text
from mexkit.errors import MexkitInputError
from mexkit.rejects import REJECT_COLUMNS, RejectLog
from mexkit.video_io import IMAGE_EXTS, natural_key, read_image, write_frames, write_video

from .condition import Condition
from .neutral_face import NeutralFace, prepare_face

MANIFEST_COLUMNS = [
    # the real-data manifest columns
    "sample_id", "subject", "dataset", "label", "aus", "onset", "apex", "offset", "apex_estimated", "fps",
    "num_frames", "path", "source",
    # synthetic provenance
    "generator", "weights_hash", "source_face", "source_subject", "train_subjects", "intensity", "duration_ms", "seed",
    "source_face_sha", "condition",
]
FORMATS = ("png", "mp4")
FACE_CACHE = 4  # aligned faces kept in memory (jobs are sorted by face, so one would do)


class FaceRejected(MexkitInputError):
    """The source face of a job is unusable (no face, tiny image, unreadable file): skip all its jobs."""


@dataclass(frozen=True)
class FaceSource:
    """One source face: a stable key (path relative to the faces folder, or "corpus/<face_id>"), the
    sha256 of its content, its subject, and either the image file or an aligned NeutralFace."""

    key: str
    sha: str
    subject: str
    path: Path | None = None
    face: NeutralFace | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Job:
    """One sample to write: the face, the condition, the seed and the deterministic id."""

    sample_id: str
    source: FaceSource
    index: int
    condition: Condition
    seed: int


# --- faces ---------------------------------------------------------------------------------------

def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def faces_from_folder(folder: str | Path) -> list[FaceSource]:
    """Every image under `folder` (recursively, natural order). Subject: the first sub-folder's name
    for images in sub-folders (DIR/<subject>/img.jpg), else the file's stem."""
    folder = Path(folder)
    if folder.is_file():
        if folder.suffix.lower() not in IMAGE_EXTS:
            raise MexkitInputError(folder, "not an image file", f"pass a folder of face images or one image ({', '.join(sorted(IMAGE_EXTS))})", stage="faces")
        return [FaceSource(key=folder.name, sha=_file_sha(folder), subject=folder.stem, path=folder)]
    if not folder.is_dir():
        raise MexkitInputError(folder, "faces folder not found", "pass --faces DIR (a folder of face images) or --faces corpus", stage="faces")
    files = sorted((p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".")),
                   key=lambda p: natural_key(p.relative_to(folder).as_posix()))
    if not files:
        raise MexkitInputError(folder, "faces folder holds no images", f"put face images ({', '.join(sorted(IMAGE_EXTS))}) in it", stage="faces")
    out = []
    for p in files:
        rel = p.relative_to(folder)
        subject = rel.parts[0] if len(rel.parts) > 1 else p.stem
        out.append(FaceSource(key=rel.as_posix(), sha=_file_sha(p), subject=subject, path=p))
    return out


def faces_from_corpus() -> list[FaceSource]:
    """The embedded corpus's aligned neutral-or-not faces (mexkit.datasets.load_corpus().faces)."""
    from mexkit.datasets import load_corpus

    out = []
    for face in load_corpus().faces:
        h = hashlib.sha256(np.ascontiguousarray(face.crop).tobytes())
        h.update(np.ascontiguousarray(face.landmarks, np.float32).tobytes())
        key = f"corpus/{face.meta.get('face_id') or face.subject}"
        out.append(FaceSource(key=key, sha=h.hexdigest(), subject=face.subject, face=face))
    return out


def face_sources(faces: str | Path | Sequence[FaceSource]) -> list[FaceSource]:
    """`--faces` → face sources: "corpus", a folder of images, one image, or a ready list."""
    if isinstance(faces, (list, tuple)):
        return list(faces)
    return faces_from_corpus() if str(faces) == "corpus" else faces_from_folder(faces)


# --- jobs ----------------------------------------------------------------------------------------

def sample_seed(seed: int, face_sha: str, index: int) -> int:
    """The seed of one sample: independent of job order, different per face, index and run seed."""
    return int(hashlib.sha256(f"{int(seed)}|{face_sha}|{int(index)}".encode()).hexdigest()[:8], 16)


def make_sample_id(generator_name: str, weights_hash: str, face_sha: str, condition: Condition, seed: int) -> str:
    """Deterministic id: hash of (generator, weights hash, source face sha256, condition, seed)."""
    payload = json.dumps({"generator": generator_name, "weights_hash": weights_hash, "face": face_sha,
                          "condition": condition.to_dict(), "seed": int(seed)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def parse_intensity(spec: str | float | tuple[float, float]) -> tuple[float, float]:
    """"0.2:0.6" (uniform range), "0.4" or 0.4 (fixed), (lo, hi) → (lo, hi) within [0, 1]."""
    if isinstance(spec, (tuple, list)):
        lo, hi = (float(x) for x in spec)
    else:
        parts = str(spec).split(":")
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise MexkitInputError(None, f"intensity {spec!r} is not a number or LO:HI range", "pass e.g. --intensity 0.2:0.6", stage="condition") from None
        if len(vals) not in (1, 2):
            raise MexkitInputError(None, f"intensity {spec!r} is not a number or LO:HI range", "pass e.g. --intensity 0.2:0.6", stage="condition")
        lo, hi = vals[0], vals[-1]
    if not (0.0 <= lo <= hi <= 1.0):
        raise MexkitInputError(None, f"intensity range {lo}:{hi} is not within [0, 1] (low <= high)", "pass e.g. --intensity 0.2:0.6", stage="condition")
    return lo, hi


def build_jobs(sources: Sequence[FaceSource], generator_name: str, weights_hash: str, classes: Sequence[str],
               intensity: str | float | tuple[float, float] = (0.2, 0.6), per_face: int = 1, seed: int = 0,
               duration_ms: float = 400.0, fps: float = 40.0, apex_at: float = 0.4, offset_at: float = 1.0,
               aus: Sequence[str] = (), conditions: Sequence[Condition] | None = None) -> list[Job]:
    """The deterministic job list, sorted by face key then sample index.

    Per face, the classes are cycled from an offset fixed by the face's content (so per_face = 1
    still spreads the classes over the faces, and a multiple of len(classes) balances each face), and
    sample k gets an intensity drawn uniformly from the range with its own seed (`sample_seed`): a
    job's content never depends on which other jobs exist. `conditions` (one per index) replaces the class/intensity scheme.
    Faces with identical content are kept once (their ids would collide).
    """
    if per_face < 1:
        raise MexkitInputError(None, f"per-face must be >= 1, got {per_face}", "pass e.g. --per-face 3", stage="condition")
    lo, hi = parse_intensity(intensity)
    classes = [c.strip() for c in classes if c.strip()]
    if not classes and conditions is None:
        raise MexkitInputError(None, "no class given", "pass e.g. --classes positive,negative,surprise", stage="condition")
    jobs, seen = [], set()
    for src in sorted(sources, key=lambda s: natural_key(s.key)):
        if src.sha in seen:
            continue
        seen.add(src.sha)
        offset = int(src.sha[:8], 16)
        for k in range(per_face):
            s = sample_seed(seed, src.sha, k)
            if conditions is not None:
                cond = conditions[k % len(conditions)]
            else:
                value = float(np.random.default_rng(s).uniform(lo, hi)) if hi > lo else lo
                label = classes[(offset + k) % len(classes)]
                cond = Condition(label=label, intensity=round(value, 4), duration_ms=float(duration_ms),
                                 fps=float(fps), apex_at=apex_at, offset_at=offset_at, aus=tuple(aus))
            jobs.append(Job(make_sample_id(generator_name, weights_hash, src.sha, cond, s), src, k, cond, s))
    return jobs


def duplicate_faces(sources: Sequence[FaceSource]) -> list[tuple[FaceSource, FaceSource]]:
    """(duplicate, kept) pairs of faces with identical content, in the order build_jobs sees them."""
    first: dict[str, FaceSource] = {}
    out = []
    for src in sorted(sources, key=lambda s: natural_key(s.key)):
        if src.sha in first:
            out.append((src, first[src.sha]))
        else:
            first[src.sha] = src
    return out


# --- writer --------------------------------------------------------------------------------------

def check_output_folder(out: str | Path) -> Path:
    """Create `out` if needed and prove it is writable; a clear error otherwise."""
    out = Path(out)
    fix = "choose a writable --out folder (e.g. under runs/)"
    if out.exists() and not out.is_dir():
        raise MexkitInputError(out, "output path exists and is not a folder", fix, stage="output")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise MexkitInputError(out, f"output folder cannot be written ({err.strerror or err})", fix, stage="output") from None
    return out


def _csv_line(values: Iterable) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


class DatasetWriter:
    """Writes generated clips into `out` (see the module docstring for layout and guarantees).

    generator: anything `load_generator` returns (a GeneratorMixin: callable, `generator_name`,
    `resolution`, `weights_hash()`; optional `train_subjects`). fmt: "png" frame folders or "mp4".
    pipeline: face pipeline for images that still need aligning (default MediaPipe).
    """

    def __init__(self, generator, out: str | Path, fmt: str = "png", pipeline=None):
        if fmt not in FORMATS:
            raise MexkitInputError(None, f"unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}", stage="output")
        self.generator = generator
        self.fmt = fmt
        self.out = check_output_folder(out)
        self.clips_dir = self.out / "clips"
        self.manifest_path = self.out / "manifest.csv"
        self.generator_name = getattr(generator, "generator_name", "") or type(generator).__name__
        self.weights_hash = generator.weights_hash()
        subjects = getattr(generator, "train_subjects", None)
        if subjects is None and hasattr(generator, "config"):
            subjects = dict(generator.config).get("train_subjects")
        self.train_subjects = ";".join(sorted(set(subjects or ())))
        self.resolution = int(getattr(generator, "resolution", 128))
        self._pipeline = pipeline
        self._faces: OrderedDict[str, NeutralFace] = OrderedDict()
        self._bad_faces: set[str] = set()
        self.rejects = self._open_rejects()

    # --- files -----------------------------------------------------------------------------------
    def clip_path(self, sample_id: str) -> Path:
        return self.clips_dir / (f"{sample_id}.mp4" if self.fmt == "mp4" else sample_id)

    def _open_rejects(self) -> RejectLog:
        """rejects.csv, with rows from earlier runs loaded so a resumed run does not repeat them."""
        path = self.out / "rejects.csv"
        log = RejectLog(path)
        if path.stat().st_size:
            with open(path, newline="", encoding="utf-8") as f:
                log.rows.extend({c: r.get(c, "") for c in REJECT_COLUMNS} for r in csv.DictReader(f))
        return log

    def reject(self, file: str, stage: str, reason: str) -> None:
        if not any(r["file"] == file and r["stage"] == stage and r["reason"] == reason for r in self.rejects.rows):
            self.rejects.add(file, stage, reason)

    def clean_orphans(self) -> list[Path]:
        """Remove temporary folders a killed run left in clips/ (atomic_path's `.<name>.*.tmp`)."""
        removed = []
        if self.clips_dir.is_dir():
            for p in self.clips_dir.iterdir():
                if p.name.startswith(".") and p.name.endswith(".tmp"):
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                    removed.append(p)
        return removed

    def _clip_complete(self, sample_id: str) -> bool:
        p = self.clip_path(sample_id)
        return p.is_file() and p.stat().st_size > 0 if self.fmt == "mp4" else p.is_dir() and any(p.iterdir())

    def prepare(self) -> set[str]:
        """Make the output ready for a (resumed) run: clips/ exists, orphaned temp folders are gone, the
        manifest is repaired; returns the ids already finished. Only one process may run this."""
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        self.clean_orphans()
        return self.open_manifest()

    def finished_ids(self) -> set[str]:
        """Ids with a manifest row (read only; safe while other processes append)."""
        if not self.manifest_path.exists():
            return set()
        with open(self.manifest_path, newline="", encoding="utf-8") as f:
            return {row["sample_id"] for row in csv.DictReader(f) if row.get("sample_id")}

    def open_manifest(self) -> set[str]:
        """Create the manifest (header) or check an existing one; drop rows whose clip is missing and any
        partial last line; return the ids already finished."""
        header = _csv_line(MANIFEST_COLUMNS)
        if not self.manifest_path.exists() or self.manifest_path.stat().st_size == 0:
            atomic_write_text(self.manifest_path, header + "\n")
            return set()
        text = self.manifest_path.read_text(encoding="utf-8")
        lines = text.split("\n")
        if lines[0] != header:
            raise MexkitInputError(self.manifest_path, "manifest has other columns than this writer's (written by another mexkit version?)", "write to a new --out folder", stage="output")
        complete = lines[:-1]  # the text after the last newline is a partial line (or empty)
        rows = list(csv.reader(complete[1:]))
        keep, done = [], set()
        for line, row in zip(complete[1:], rows):
            sid = row[0] if row else ""
            if sid and sid not in done and self._clip_complete(sid):
                keep.append(line)
                done.add(sid)
        if len(keep) != len(rows) or lines[-1] != "":
            atomic_write_text(self.manifest_path, "\n".join([header, *keep]) + "\n")
        return done

    # --- one sample ------------------------------------------------------------------------------
    def load_face(self, source: FaceSource) -> NeutralFace:
        """The aligned face of a source (cached); FaceRejected if it has no usable face."""
        if source.sha in self._faces:
            self._faces.move_to_end(source.sha)
            return self._faces[source.sha]
        if source.face is not None:
            face = source.face
        else:
            if self._pipeline is None:
                from mexkit.face import FacePipeline

                self._pipeline = FacePipeline("mediapipe", resolution=self.resolution if self.resolution in (64, 128, 256) else 256)
            try:
                face = prepare_face(read_image(source.path), resolution=self.resolution, pipeline=self._pipeline, source=source.key, subject=source.subject)
            except MexkitInputError as err:
                raise FaceRejected(source.key, err.reason, err.fix, err.stage) from None
        self._faces[source.sha] = face
        while len(self._faces) > FACE_CACHE:
            self._faces.popitem(last=False)
        return face

    def row(self, job: Job, clip) -> dict:
        """The manifest row of a written clip."""
        c = job.condition
        rel = self.clip_path(job.sample_id).relative_to(self.out).as_posix()
        return {
            "sample_id": job.sample_id, "subject": job.source.subject, "dataset": "synthetic", "label": clip.label or c.label,
            "aus": clip.aus, "onset": clip.onset, "apex": clip.apex, "offset": clip.offset, "apex_estimated": clip.apex_estimated,
            "fps": float(clip.fps), "num_frames": clip.num_frames, "path": rel, "source": job.source.key,
            "generator": self.generator_name, "weights_hash": self.weights_hash, "source_face": job.source.key,
            "source_subject": job.source.subject, "train_subjects": self.train_subjects, "intensity": float(c.intensity),
            "duration_ms": float(c.duration_ms), "seed": int(job.seed), "source_face_sha": job.source.sha,
            "condition": json.dumps(c.to_dict(), sort_keys=True, separators=(",", ":")),
        }

    def generate(self, job: Job):
        """The clip of one job (nothing written). Raises FaceRejected when the job's face is unusable,
        MexkitInputError when the generator refuses the job."""
        face = self.load_face(job.source)
        with torch.no_grad():  # learned generators: no autograd graph kept while writing
            return self.generator(face, job.condition, generator=job.seed).clip

    def write_sample(self, job: Job) -> dict:
        """Generate one clip, write its files atomically, then append its manifest row; returns the row.

        Raises like `generate` (the caller logs either as a reject); nothing is written then.
        """
        return self.write_clip(job, self.generate(job))

    def write_clip(self, job: Job, clip) -> dict:
        """Write a generated clip's files atomically, then append its manifest row; returns the row."""
        path = self.clip_path(job.sample_id)
        if self.fmt == "mp4":
            write_video(path, clip.frames, clip.fps)
        else:
            write_frames(path, clip.frames, "png")
        row = self.row(job, clip)
        atomic_append_line(self.manifest_path, _csv_line(row[c] for c in MANIFEST_COLUMNS))
        return row

    # --- the loop --------------------------------------------------------------------------------
    def run(self, jobs: Sequence[Job], progress: bool = True) -> dict:
        """Write every job not finished yet. Returns counts: total, skipped (done before), written, rejected."""
        from tqdm.auto import tqdm

        done = self.prepare()
        pending = [j for j in jobs if j.sample_id not in done]
        written = rejected = 0
        bar = tqdm(total=len(jobs), initial=len(jobs) - len(pending), unit="clip", desc=f"generate ({self.generator_name})",
                   disable=not progress, dynamic_ncols=True)
        try:
            for job in pending:
                if job.source.sha in self._bad_faces:
                    rejected += 1
                    bar.update(1)
                    continue
                try:
                    self.write_sample(job)
                    written += 1
                except FaceRejected as err:
                    self._bad_faces.add(job.source.sha)
                    self.reject(job.source.key, err.stage or "detect", err.reason)
                    rejected += 1
                except MexkitInputError as err:
                    self.reject(f"{job.source.key}#{job.index} ({job.sample_id})", err.stage or "generate", err.reason)
                    rejected += 1
                bar.update(1)
        finally:
            bar.close()
        return {"total": len(jobs), "skipped": len(jobs) - len(pending), "written": written, "rejected": rejected}

    def manifest(self) -> pd.DataFrame:
        return pd.read_csv(self.manifest_path, keep_default_na=False, na_values=[""])


def generate_dataset(generator, faces: str | Path | Sequence[FaceSource], out: str | Path,
                     classes: Sequence[str] = ("positive", "negative", "surprise"),
                     intensity: str | float | tuple[float, float] = (0.2, 0.6), per_face: int = 1, seed: int = 0,
                     fmt: str = "png", duration_ms: float = 400.0, fps: float = 40.0, aus: Sequence[str] = (),
                     apex_at: float = 0.4, offset_at: float = 1.0, conditions: Sequence[Condition] | None = None, progress: bool = True, pipeline=None) -> dict:
    """Python entry of `mexkit generate`: build the jobs, write (or resume) the dataset, return the counts
    plus the rejects summary. `generator` is a generator object or a name/path for `load_generator`."""
    if isinstance(generator, (str, Path)):
        from .registry import load_generator

        generator = load_generator(generator)
    # Validate everything before touching the output folder.
    sources = face_sources(faces)
    name = getattr(generator, "generator_name", "") or type(generator).__name__
    jobs = build_jobs(sources, name, generator.weights_hash(), classes, intensity, per_face, seed, duration_ms, fps,
                      apex_at=apex_at, offset_at=offset_at, aus=aus, conditions=conditions)
    check = getattr(generator, "check_condition", None)  # optional: refuse unknown classes / AUs up front
    if check is not None:
        asked = [Condition(label=c.strip(), duration_ms=duration_ms, fps=fps, aus=tuple(aus)) for c in classes if c.strip()]
        for cond in [*asked, *{(j.condition.label, j.condition.aus): j.condition for j in jobs}.values()]:
            check(cond)
    writer = DatasetWriter(generator, out, fmt, pipeline)
    for dup, kept in duplicate_faces(sources):
        writer.reject(dup.key, "faces", f"same image content as {kept.key}; kept once")
    counts = writer.run(jobs, progress=progress)
    counts["rejects"] = writer.rejects.summary()
    counts["out"] = str(writer.out)
    return counts
