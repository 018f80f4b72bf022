"""`mexkit generate --full-frame`: clips at the photo's own size, every face of a photo in the same frames.

The job plan is the writer's own (`plan_jobs`: same faces, conditions, seeds and sample ids); only how
jobs become files differs. Jobs are grouped by (photo, index): group k of a photo holds job k of each
of its faces (one face without `--all-faces`, every face with it). A group is one clip,
`clips/<group id>/` (or `.mp4`), rendered by `mexkit.synth.full_frame.iter_full_frames` on the
original photo; each face keeps its own manifest row (its condition, seed, provenance, onset/apex/offset),
whose `path` is the group's clip. The group id hashes its sample ids, so it is as deterministic as they
are. Atomic and resumable as the crop writer: the clip is renamed into place, then the rows are
appended; a group with a row missing is rendered again (same bytes) and its missing rows appended.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from mexkit.errors import MexkitInputError
from mexkit.video_io import read_image, write_frames, write_video

from ..generator import Generator
from .dataset_writer import DatasetWriter
from .faces import FaceRejected, FaceSource
from .jobs import Job, JobPlan, plan_jobs
from .manifest import append_row

FACE_SUFFIX = "#face"  # group_faces keys: "<image key>#face<k>"


def photo_key(source: FaceSource) -> str:
    """The key of the photo a face source comes from ("group.jpg#face2" → "group.jpg")."""
    key = source.key
    return key.rsplit(FACE_SUFFIX, 1)[0] if FACE_SUFFIX in key and source.path is None else key


def group_jobs(jobs: Sequence[Job]) -> "OrderedDict[str, list[Job]]":
    """{group id: jobs} — job k of every face of one photo together, in plan order; id = hash of the sample ids."""
    by_photo: OrderedDict[tuple[str, int], list[Job]] = OrderedDict()
    for job in jobs:
        by_photo.setdefault((photo_key(job.source), job.index), []).append(job)
    out: OrderedDict[str, list[Job]] = OrderedDict()
    for group in by_photo.values():
        out[hashlib.sha256("|".join(sorted(j.sample_id for j in group)).encode()).hexdigest()[:16]] = group
    return out


def check_photo_faces(faces) -> Path:
    """--faces for full-frame work must be photos (a folder or one image): the corpus holds aligned crops only."""
    if isinstance(faces, (list, tuple)) or str(faces) == "corpus":
        raise MexkitInputError(str(faces) if not isinstance(faces, (list, tuple)) else None,
                               "full-frame clips need the original photos, and the corpus holds aligned crops only",
                               "pass --faces PHOTO or --faces FOLDER of photos with --full-frame", stage="faces")
    return Path(faces)


class FullFrameWriter(DatasetWriter):
    """A `DatasetWriter` whose clips are whole photos: see the module docstring. `faces`: the --faces path."""

    def __init__(self, plan: JobPlan, faces: str | Path, out: str | Path, fmt: str = "png", pipeline=None):
        super().__init__(plan.generator, out, fmt, pipeline)
        self.faces_root = check_photo_faces(faces)
        self.groups = group_jobs(plan.jobs)
        self._group_of = {j.sample_id: gid for gid, group in self.groups.items() for j in group}

    def clip_path(self, sample_id: str) -> Path:
        return super().clip_path(self._group_of.get(sample_id, sample_id))

    def check_settings(self, settings: dict) -> None:
        super().check_settings({**settings, "full_frame": True})

    def photo_path(self, source: FaceSource) -> Path:
        if source.path is not None:
            return source.path
        return self.faces_root if self.faces_root.is_file() else self.faces_root / photo_key(source)

    def render_group(self, group: Sequence[Job]):
        """Generate every face of a group and render them on the photo → (kept jobs, their clips, frame iterator)."""
        from ..full_frame import iter_full_frames

        try:
            image = read_image(self.photo_path(group[0].source))
        except MexkitInputError as err:
            raise FaceRejected(photo_key(group[0].source), err.reason, err.fix, "faces") from None
        kept, pairs = [], []
        for job in group:
            if job.source.sha in self._bad_faces:
                continue
            try:
                face = self.load_face(job.source)
                with torch.no_grad():
                    out = self.generator.generate(face, job.condition, generator=job.seed)
            except MexkitInputError as err:
                if isinstance(err, FaceRejected):
                    self._bad_faces.add(job.source.sha)
                self.reject_job(job, err)
                continue
            kept.append(job)
            pairs.append((out, face))
        return kept, [o.clip for o, _ in pairs], (iter_full_frames(image, pairs) if pairs else None), image.shape

    def run(self, jobs: Sequence[Job], progress: bool = True, done: set[str] | None = None) -> dict:
        """Write every group with a row missing; counts as `DatasetWriter.run` (per face job)."""
        from tqdm.auto import tqdm

        done = self.prepare() if done is None else done
        written = rejected = 0
        skipped = sum(j.sample_id in done for j in jobs)
        bar = tqdm(total=len(jobs), initial=skipped, unit="clip",
                   desc=f"generate full-frame ({self.generator_name})", disable=not progress, dynamic_ncols=True)
        try:
            for gid, group in group_jobs(jobs).items():
                pending = [j for j in group if j.sample_id not in done]
                if not pending:
                    continue
                try:
                    kept, clips, frames, _ = self.render_group(group)
                except FaceRejected as err:
                    for job in pending:
                        self.reject_job(job, err)
                    rejected += len(pending)
                    bar.update(len(pending))
                    continue
                rejected += len([j for j in pending if j not in kept])
                if frames is not None:
                    path = self.clip_path(kept[0].sample_id)
                    if self.fmt == "mp4":
                        write_video(path, np.stack(list(frames)), clips[0].fps)
                    else:
                        write_frames(path, frames, "png")
                    for job, clip in zip(kept, clips):
                        if job.sample_id not in done:
                            append_row(self.manifest_path, self.row(job, clip))
                            written += 1
                bar.update(len(pending))
        finally:
            bar.close()
            self.warn_non_neutral()
        return {"total": len(jobs), "skipped": skipped, "written": written, "rejected": rejected}


def generate_full_frame(generator: Generator | str | Path, faces: str | Path, out: str | Path, fmt: str = "png",
                        progress: bool = True, pipeline=None, **request) -> dict:
    """Python entry of `mexkit generate --full-frame`: plan the jobs (the keyword arguments of `plan_jobs`:
    classes, intensity, per_face, seed, all_faces, …), write (or resume) full-frame clips, return the counts
    plus the rejects summary."""
    check_photo_faces(faces)
    plan = plan_jobs(generator, faces, pipeline=pipeline, **request)
    writer = FullFrameWriter(plan, faces, out, fmt, pipeline)
    counts = writer.run(plan.jobs, progress=progress, done=writer.start(plan))
    writer.finish(plan.jobs)
    counts["rejects"] = writer.rejects.summary()
    counts["out"] = str(writer.out)
    return counts
