"""The write loop: `DatasetWriter` turns jobs into clip files + manifest rows; `generate_dataset` runs it.

Layout and guarantees: see the package docstring (mexkit.synth.writer).
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import pandas as pd
import torch

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import read_image, write_frames, write_video

from ..condition import Condition
from ..generator import Generator
from ..neutral_face import NeutralFace, prepare_face
from .faces import FaceRejected, FaceSource
from .jobs import Job, JobPlan, generator_name, plan_jobs
from .manifest import append_row, finished_ids, open_manifest

FORMATS = ("png", "mp4")
FACE_CACHE = 4  # aligned faces kept in memory (jobs are sorted by face, so one would do)


def check_output_folder(out: str | Path) -> Path:
    """Create `out` if needed and prove it is writable (a probe file); a clear error otherwise. What can
    be told without writing (a file in the way, a path under a file) is `mexkit.path_checks`'s."""
    from mexkit.path_checks import check_output_folder as check_folder_path

    out = check_folder_path(out, "--out")
    fix = "choose a writable --out folder (e.g. under runs/)"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise MexkitInputError(out, f"output folder cannot be written ({err.strerror or err})", fix, stage="output") from None
    return out


def writable_provenance(generator: Generator, name: str) -> dict[str, str]:
    """The provenance cells every row of `generator` gets (train_subjects, driving_*), or a clear error
    when one is unknown: a clip whose makers are not known cannot be checked for leakage, so it is not
    written (docs/design.md §1)."""
    cells = generator.provenance_cells()
    if not cells["train_subjects"]:
        raise MexkitInputError(name, "the generator does not declare which subjects' data trained it (train_subjects)",
                               "export it with `mexkit train` (the config records them), or declare them: train_subjects = () "
                               "for a generator that learned from nobody", stage="provenance")
    if not cells["driving_subject"]:
        raise MexkitInputError(name, "the driving clip's subject is not known",
                               "pass --driving-subject (and --driving-dataset, --driving-sample) with --driving, or give "
                               "MotionTransferGenerator a Clip with its subject", stage="provenance")
    return cells


class DatasetWriter:
    """Writes generated clips into `out` (see mexkit.synth.writer for layout and guarantees).

    generator: a `Generator` (what `load_generator` returns). fmt: "png" frame folders or "mp4".
    pipeline: face pipeline for images that still need aligning (default MediaPipe).
    """

    def __init__(self, generator: Generator, out: str | Path, fmt: str = "png", pipeline=None):
        if fmt not in FORMATS:
            raise MexkitInputError(None, f"unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}", stage="output")
        self.generator = generator
        self.fmt = fmt
        self.provenance = writable_provenance(generator, generator_name(generator))  # before anything is written
        self.out = check_output_folder(out)
        self.clips_dir = self.out / "clips"
        self.manifest_path = self.out / "manifest.csv"
        self.generator_name = generator_name(generator)
        self.weights_hash = generator.weights_hash()
        self.resolution = int(generator.resolution)
        self._pipeline = pipeline
        self._faces: OrderedDict[str, NeutralFace] = OrderedDict()
        self._neutrality: dict[str, dict] = {}
        self._non_neutral: list[tuple[str, float, str]] = []  # (face, neutrality, strongest shapes), warned after the run
        self._bad_faces: set[str] = set()
        self.check_existing()  # before rejects.csv is opened: a refused folder is left as it was
        self.rejects = self._open_rejects()

    # --- files -----------------------------------------------------------------------------------
    def clip_path(self, sample_id: str) -> Path:
        return self.clips_dir / (f"{sample_id}.mp4" if self.fmt == "mp4" else sample_id)

    def _open_rejects(self) -> RejectLog:
        """rejects.csv, with rows from earlier runs loaded (RejectLog), so a resumed run does not repeat them."""
        return RejectLog(self.out / "rejects.csv")

    def reject(self, file: str, stage: str, reason: str) -> None:
        self.rejects.add(file, stage, reason)  # an identical earlier row is not written again

    def clean_orphans(self) -> list[Path]:
        """Remove temporary folders a killed run left in clips/ (atomic_path's `.<name>.*.tmp`)."""
        removed = []
        if self.clips_dir.is_dir():
            for p in self.clips_dir.iterdir():
                if p.name.startswith(".") and p.name.endswith(".tmp"):
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                    removed.append(p)
        return removed

    def clip_complete(self, sample_id: str) -> bool:
        """The clip's files are in place (a non-empty mp4, or a frame folder with frames)."""
        p = self.clip_path(sample_id)
        return p.is_file() and p.stat().st_size > 0 if self.fmt == "mp4" else p.is_dir() and any(p.iterdir())

    def prepare(self) -> set[str]:
        """Make the output ready for a (resumed) run: clips/ exists, orphaned temp folders are gone, the
        manifest is repaired; returns the ids already finished. Only one process may run this."""
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        self.clean_orphans()
        return self.open_manifest()

    def start(self, plan: JobPlan) -> set[str]:
        """`prepare`, then log the plan's duplicate faces as rejects; returns the ids already finished.
        Only one process may run this (rank 0 of a distributed run)."""
        self.check_settings(plan.settings)
        done = self.prepare()
        for dup, kept in plan.duplicates:
            self.reject(dup.key, "faces", f"same image content as {kept.key}; kept once")
        for key, reason in plan.unreadable:
            self.reject(key, "faces", reason)
        return done

    def check_existing(self) -> None:
        """Refuse, before anything is written, an --out folder whose clips/, manifest.csv or rejects.csv are not
        this writer's (a file named clips, a manifest or rejects file with other columns)."""
        from mexkit.path_checks import csv_with_columns
        from mexkit.rejects import REJECT_COLUMNS

        from .manifest import csv_line
        from mexkit.datasets.manifest_columns import SYNTHETIC_MANIFEST_COLUMNS

        fix = "write to a new --out folder (or move those files away)"
        if self.clips_dir.exists() and not self.clips_dir.is_dir():
            raise MexkitInputError(self.clips_dir, "--out: clips is a file here, not the writer's clips folder", fix, stage="output")
        if self.manifest_path.is_file() and self.manifest_path.stat().st_size:
            with open(self.manifest_path, encoding="utf-8", errors="replace") as f:
                first = f.readline().rstrip("\r\n")
            if first != csv_line(SYNTHETIC_MANIFEST_COLUMNS):
                raise MexkitInputError(self.manifest_path, "--out: a manifest with other columns than this writer's (another dataset, or "
                                       "another mexkit version)", fix, stage="output")
        rejects = self.out / "rejects.csv"
        if rejects.is_file() and rejects.stat().st_size and not csv_with_columns(*REJECT_COLUMNS)(rejects):
            raise MexkitInputError(rejects, "--out: a rejects.csv that this writer did not write", fix, stage="output")

    def check_settings(self, settings: dict) -> None:
        """Record the run's settings in DIR/run.json, or refuse to resume into a folder whose earlier run
        had other ones (its clips would be mixed with these without a word). per_face may grow: a resumed
        run with more clips per face extends the same set."""
        from mexkit.atomic import atomic_write_text

        mine = {**settings, "format": self.fmt, "resolution": self.resolution}
        path = self.out / "run.json"
        if path.exists():
            try:
                theirs = json.loads(path.read_text())
            except ValueError:
                theirs = None
            if theirs != json.loads(json.dumps(mine)):
                keys = sorted(k for k in set(mine) | set(theirs or {}) if (theirs or {}).get(k) != json.loads(json.dumps(mine)).get(k))
                raise MexkitInputError(self.out, f"holds a run with other settings ({', '.join(keys) or 'run.json unreadable'} differ)",
                                       "write to a new --out folder, or repeat the earlier command to resume it", stage="output")
            return
        atomic_write_text(path, json.dumps(mine, indent=1, sort_keys=True) + "\n")

    def finished_ids(self) -> set[str]:
        """Ids with a manifest row (read only; safe while other processes append)."""
        return finished_ids(self.manifest_path)

    def open_manifest(self) -> set[str]:
        """Create the manifest (header) or check an existing one; drop rows whose clip is missing and any
        partial last line; return the ids already finished."""
        return open_manifest(self.manifest_path, self.clip_complete)

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
        if source.sha not in self._neutrality:  # measured once per face (mexkit/face/neutrality.py); one warning per run
            from mexkit.face.neutrality import NEUTRALITY_WARN, measure_neutrality

            self._neutrality[source.sha] = measure_neutrality(face, warn=False)
            score = self._neutrality[source.sha]["neutrality"]
            if score is not None and score < NEUTRALITY_WARN:
                self._non_neutral.append((source.key, score, self._neutrality[source.sha]["expression_blendshapes"]))
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
            "source_subject": job.source.subject, **self.provenance, "intensity": float(c.intensity),
            "duration_ms": float(c.duration_ms), "seed": int(job.seed), "source_face_sha": job.source.sha,
            "condition": json.dumps(c.to_dict(), sort_keys=True, separators=(",", ":")),
            **self._neutrality.get(job.source.sha, {"neutrality": None, "expression_blendshapes": ""}),
        }

    def generate(self, job: Job):
        """The clip of one job (nothing written). Raises FaceRejected when the job's face is unusable,
        MexkitInputError when the generator refuses the job."""
        face = self.load_face(job.source)
        with torch.no_grad():  # learned generators: no autograd graph kept while writing
            return self.generator.generate(face, job.condition, generator=job.seed).clip

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
        append_row(self.manifest_path, row)
        return row

    def reject_job(self, job: Job, err: MexkitInputError) -> None:
        """Log why a job produced no clip: its face (FaceRejected: every job of that face) or the job itself."""
        if isinstance(err, FaceRejected):
            self.reject(job.source.key, err.stage or "detect", err.reason)
        else:
            self.reject(f"{job.source.key}#{job.index} ({job.sample_id})", err.stage or "generate", err.reason)

    # --- the loop --------------------------------------------------------------------------------
    def run(self, jobs: Sequence[Job], progress: bool = True, done: set[str] | None = None) -> dict:
        """Write every job not finished yet (`done`: the ids `start`/`prepare` returned; prepared here when
        None). Returns counts: total, skipped (done before), written, rejected."""
        from tqdm.auto import tqdm

        done = self.prepare() if done is None else done
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
                except MexkitInputError as err:
                    if isinstance(err, FaceRejected):
                        self._bad_faces.add(job.source.sha)
                    self.reject_job(job, err)
                    rejected += 1
                bar.update(1)
        finally:
            bar.close()
            self.warn_non_neutral()
        return {"total": len(jobs), "skipped": len(jobs) - len(pending), "written": written, "rejected": rejected}

    def warn_non_neutral(self, show: int = 3) -> None:
        """One NonNeutralFaceWarning for the faces of this run below the neutrality threshold (their scores
        are in the manifest's `neutrality` column either way)."""
        from mexkit.face.neutrality import NEUTRALITY_WARN, NonNeutralFaceWarning

        faces, self._non_neutral = self._non_neutral, []
        if not faces:
            return
        named = ", ".join(f"{key} ({score:.2f}; {shapes.split(';')[0]})" for key, score, shapes in faces[:show])
        more = f" and {len(faces) - show} more" if len(faces) > show else ""
        warnings.warn(f"{len(faces)} of {len(self._neutrality)} faces are not neutral (neutrality < {NEUTRALITY_WARN}): {named}{more}; "
                      "their clips start from that expression — prefer neutral photos (manifest column `neutrality`)",
                      NonNeutralFaceWarning, stacklevel=3)

    def manifest(self) -> pd.DataFrame:
        return pd.read_csv(self.manifest_path, keep_default_na=False, na_values=[""])

    def finish(self, jobs: Sequence[Job]) -> None:
        """Put the manifest's rows in the plan's order (atomically), so a resumed run's manifest is
        byte-identical to an uninterrupted one; rows of ids outside the plan keep their place at the end."""
        from mexkit.atomic import atomic_write_text

        from .manifest import csv_line, read_records

        (header, *rows), _ = read_records(self.manifest_path.read_text(encoding="utf-8"))
        order = {j.sample_id: i for i, j in enumerate(jobs)}
        ranked = sorted(range(len(rows)), key=lambda i: order.get(rows[i][0], len(order)))
        if ranked != list(range(len(rows))):
            atomic_write_text(self.manifest_path, "".join(csv_line(r) + "\n" for r in [header, *(rows[i] for i in ranked)]))


def open_run(generator: Generator | str | Path, faces: str | Path | Sequence[FaceSource], out: str | Path,
             fmt: str = "png", pipeline=None, **request) -> tuple[DatasetWriter, JobPlan]:
    """The preamble of every run (single-process and distributed): plan the jobs — which checks the
    generator, faces and conditions before the output folder is touched — then open the writer.
    `request`: the keyword arguments of `plan_jobs` (classes, intensity, per_face, seed, …)."""
    plan = plan_jobs(generator, faces, pipeline=pipeline, **request)
    return DatasetWriter(plan.generator, out, fmt, pipeline), plan


def generate_dataset(generator: Generator | str | Path, faces: str | Path | Sequence[FaceSource], out: str | Path,
                     classes: Sequence[str] = ("positive", "negative", "surprise"),
                     intensity: str | float | tuple[float, float] = (0.2, 0.6), per_face: int = 1, seed: int = 0,
                     fmt: str = "png", duration_ms: float = 400.0, fps: float = 40.0, aus: Sequence[str] = (),
                     apex_at: float = 0.4, offset_at: float = 1.0, conditions: Sequence[Condition] | None = None,
                     subject_prefix: str = "", outside: bool = False, all_faces: bool = False,
                     progress: bool = True, pipeline=None) -> dict:
    """Python entry of `mexkit generate`: plan the jobs, write (or resume) the dataset, return the counts
    plus the rejects summary. `generator` is a Generator or a name/path for `load_generator`."""
    writer, plan = open_run(generator, faces, out, fmt, pipeline, classes=classes, intensity=intensity, per_face=per_face,
                            seed=seed, duration_ms=duration_ms, fps=fps, aus=aus, apex_at=apex_at, offset_at=offset_at,
                            conditions=conditions, subject_prefix=subject_prefix, outside=outside, all_faces=all_faces)
    counts = writer.run(plan.jobs, progress=progress, done=writer.start(plan))
    writer.finish(plan.jobs)
    counts["rejects"] = writer.rejects.summary()
    counts["out"] = str(writer.out)
    return counts
