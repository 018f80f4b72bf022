"""Worker processes of `EvalSuite.run`: each builds its own suite from the parent's settings and scores
whole clips; the parent keeps the order, so the tables are those of one process.

Workers start from a fork server that has imported the heavy modules once (fast starts, and no fork of
a parent whose MediaPipe or OpenMP threads are already running).
"""
from __future__ import annotations

import collections
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Iterable, Iterator

_SUITE = None


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# A worker process costs ~6 s to start (torch, MediaPipe, dlib and the fer network load in it) and scores
# a 16×128² clip with the default families in ~0.35 s on one core (benchmarks/bench_eval.py), so a second
# worker repays itself from about 35 clips on.
CLIPS_PER_WORKER = 40


def auto_workers(clips: int, cores: int | None = None) -> int:
    """Workers worth starting for `clips` clips: one per CLIPS_PER_WORKER clips, at most the cores, at least 1."""
    return max(1, min(cores or default_workers(), clips // CLIPS_PER_WORKER))


def _init(spec: dict, threads: int) -> None:
    global _SUITE
    import torch

    torch.set_num_threads(max(1, threads))
    from .suite import EvalSuite

    _SUITE = EvalSuite(**spec)


def _score(task: tuple) -> dict:
    return _SUITE.score_clip(*task)


def _context():
    try:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["numpy", "cv2", "torch", "mexkit.eval.suite"])
        return ctx
    except ValueError:  # no fork server on this platform
        return mp.get_context("spawn")


def score_in_workers(spec: dict, items: Iterable[tuple | dict], workers: int, threads: int = 1) -> Iterator[dict]:
    """Records of `items` in order: a tuple is the arguments of `EvalSuite.score_clip`, scored by one of
    `workers` processes; a dict is a record the parent already has (a clip that failed to load) and is
    passed through. At most 2 × workers clips are in flight, so memory stays flat."""
    window: collections.deque = collections.deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_init, initargs=(spec, threads)) as pool:
        for item in items:
            window.append(item if isinstance(item, dict) else pool.submit(_score, item))
            while len(window) > 2 * workers:
                head = window.popleft()
                yield head if isinstance(head, dict) else head.result()
        while window:
            head = window.popleft()
            yield head if isinstance(head, dict) else head.result()
