"""Job planning: generator × faces × conditions → the sorted job list with deterministic ids (`plan_jobs`).

Both ways of writing a dataset — `generate_dataset` (one process) and `generate_dataset_distributed`
(Lightning predict) — start from `plan_jobs`, so they check the same things up front and give the same ids.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from mexkit.errors import MexkitInputError

from ..condition import Condition
from ..generator import Generator
from .faces import FaceSource, broken_links, duplicate_faces, face_sources, group_faces, unique_faces


@dataclass(frozen=True)
class Job:
    """One sample to write: the face, the condition, the seed and the deterministic id."""

    sample_id: str
    source: FaceSource
    index: int
    condition: Condition
    seed: int


@dataclass(frozen=True)
class JobPlan:
    """What a run will do: the generator, its jobs (sorted by face key then index) and the faces kept
    once because another face has the same content, as (duplicate, kept) pairs."""

    generator: Generator
    jobs: list[Job]
    duplicates: list[tuple[FaceSource, FaceSource]]
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (face key, reason): broken links in the faces folder
    settings: dict = field(default_factory=dict)  # what decides the clips besides per_face (the writer's run.json)


def resolve_generator(generator: Generator | str | Path) -> Generator:
    """A Generator object, or a registered name / pretrained folder for `load_generator`."""
    if isinstance(generator, (str, Path)):
        from ..registry import load_generator

        generator = load_generator(generator)
    if not isinstance(generator, Generator):
        raise TypeError(f"{type(generator).__name__} is not a mexkit generator: subclass mexkit.synth.generator.Generator")
    return generator


def generator_name(generator: Generator) -> str:
    """The name a generator's samples carry (its `generator_name`, else its class name)."""
    return generator.generator_name or type(generator).__name__


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


def _face_size(resolution: int) -> int:
    """The crop size faces are aligned at for a generator of this output size (the writer's rule)."""
    return resolution if resolution in (64, 128, 256) else 256


def plan_jobs(generator: Generator | str | Path, faces: str | Path | Sequence[FaceSource],
              classes: Sequence[str] = ("positive", "negative", "surprise"),
              intensity: str | float | tuple[float, float] = (0.2, 0.6), per_face: int = 1, seed: int = 0,
              duration_ms: float = 400.0, fps: float = 40.0, apex_at: float = 0.4, offset_at: float = 1.0,
              aus: Sequence[str] = (), conditions: Sequence[Condition] | None = None, subject_prefix: str = "",
              outside: bool = False, all_faces: bool = False, pipeline=None) -> JobPlan:
    """Everything a run decides before it writes anything: the generator, the faces, the jobs, the checks.

    Per face (each content once, natural order of keys), the classes are cycled from an offset fixed by
    the face's content (so per_face = 1 still spreads the classes over the faces, and a multiple of
    len(classes) balances each face), and sample k gets an intensity drawn uniformly from the range
    with its own seed (`sample_seed`): a job's content never depends on which other jobs exist.
    `conditions` (one per index) replaces the class/intensity scheme. Every asked class and every
    job's condition goes through `generator.check_condition` here, so a condition the generator cannot
    make fails with a MexkitInputError before the output folder is touched. subject_prefix / outside map
    a faces folder's names into the real set's subject ids (`folder_subject`). all_faces: every face of
    each image (group photos, `group_faces`; aligned here with `pipeline`), not only the largest.
    """
    generator = resolve_generator(generator)
    sources = face_sources(faces, subject_prefix, outside)
    unreadable = broken_links(faces) if isinstance(faces, (str, Path)) and str(faces) != "corpus" else []
    if all_faces:
        images = [s for s in sources if s.path is not None]
        grouped, skipped = group_faces(images, _face_size(generator.resolution), pipeline, subject_prefix, outside)
        sources = [s for s in sources if s.path is None] + grouped
        unreadable += skipped
    if per_face < 1:
        raise MexkitInputError(None, f"per-face must be >= 1, got {per_face}", "pass e.g. --per-face 3", stage="condition")
    lo, hi = parse_intensity(intensity)
    classes = [c.strip() for c in classes if c.strip()]
    if not classes and conditions is None:
        raise MexkitInputError(None, "no class given", "pass e.g. --classes positive,negative,surprise", stage="condition")
    name, weights = generator_name(generator), generator.weights_hash()
    jobs = []
    for src in unique_faces(sources):
        offset = int(src.sha[:8], 16)
        for k in range(per_face):
            s = sample_seed(seed, src.sha, k)
            if conditions is not None:
                cond = conditions[k % len(conditions)]
            else:
                value = float(np.random.default_rng(s).uniform(lo, hi)) if hi > lo else lo
                cond = Condition(label=classes[(offset + k) % len(classes)], intensity=round(value, 4), duration_ms=float(duration_ms),
                                 fps=float(fps), apex_at=apex_at, offset_at=offset_at, aus=tuple(aus))
            jobs.append(Job(make_sample_id(name, weights, src.sha, cond, s), src, k, cond, s))
    asked = [Condition(label=c, duration_ms=duration_ms, fps=fps, aus=tuple(aus)) for c in classes]
    for cond in [*asked, *{(j.condition.label, j.condition.aus): j.condition for j in jobs}.values()]:
        generator.check_condition(cond)
    settings = {"generator": name, "weights_hash": weights, "classes": classes, "intensity": [lo, hi], "seed": int(seed),
                "duration_ms": float(duration_ms), "fps": float(fps), "apex_at": float(apex_at), "offset_at": float(offset_at),
                "aus": list(aus), "conditions": None if conditions is None else [c.to_dict() for c in conditions],
                "subject_prefix": subject_prefix, "outside": bool(outside), "all_faces": bool(all_faces)}
    return JobPlan(generator, jobs, duplicate_faces(sources), unreadable, settings)
