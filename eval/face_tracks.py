"""Per-frame landmarks (68-point layout) and MediaPipe blendshapes of a clip's aligned frames.

Shared by the motion-profile and expression metrics. A clip that already carries per-frame landmarks
(T, K, 2) reuses them; otherwise MediaPipe FaceLandmarker runs on the frames it needs. Inside
`shared_detections(clip)` every frame is detected at most once, however many families ask for it
(MediaPipe's IMAGE mode gives the same answer for the same frame, so no number changes).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mexkit.clip import Clip
from mexkit.errors import NoFaceError
from mexkit.face import FacePipeline
from mexkit.face.landmark_schemes import to68

_PIPELINES: dict[str, FacePipeline] = {}
_SHARED: dict[int, dict[tuple[int, int], list]] = {}  # id(frames) → (id(pipeline), frame index) → faces


@contextlib.contextmanager
def shared_detections(clip: Clip):
    """Detections of this clip's frames are memoised until the block ends (one clip's families share them)."""
    key = id(clip.frames)
    _SHARED.setdefault(key, {})
    try:
        yield
    finally:
        _SHARED.pop(key, None)


def _detect(pipeline: FacePipeline, clip: Clip, t: int) -> list:
    memo = _SHARED.get(id(clip.frames))
    if memo is None:
        return pipeline.detect(clip.frames[t])
    k = (id(pipeline), t)
    if k not in memo:
        memo[k] = pipeline.detect(clip.frames[t])
    return memo[k]


def default_pipeline() -> FacePipeline:
    """One shared MediaPipe pipeline (building it costs ~0.1 s)."""
    if "mediapipe" not in _PIPELINES:
        _PIPELINES["mediapipe"] = FacePipeline("mediapipe", resolution=128, num_faces=1, min_confidence=0.3)
    return _PIPELINES["mediapipe"]


@dataclass
class FaceTrack:
    """landmarks: (T, 68, 2) float32 (NaN where no face was found); blendshapes: frame index → scores."""

    landmarks: np.ndarray
    blendshapes: dict[int, dict[str, float]]

    @property
    def found(self) -> np.ndarray:
        return ~np.isnan(self.landmarks).any(axis=(1, 2))


def _scheme_of(landmarks: np.ndarray) -> str:
    k = landmarks.shape[-2]
    if k == 68:
        return "ibug68"
    if k in (468, 478):
        return "mediapipe478"
    raise ValueError(f"unknown landmark layout with {k} points")


def clip_landmarks(clip: Clip) -> np.ndarray | None:
    """The clip's own per-frame landmarks as (T, 68, 2), or None if it has none per frame."""
    lm = clip.landmarks
    if lm is None or np.ndim(lm) != 3 or len(lm) != clip.num_frames:
        return None
    return to68(np.asarray(lm, np.float32), _scheme_of(lm))


def track_clip(clip: Clip, frames: Sequence[int] | None = None, pipeline: FacePipeline | None = None,
               reuse_landmarks: bool = True) -> FaceTrack:
    """Landmarks for every frame and blendshapes for `frames` (default: all frames that are detected).

    Landmarks come from the clip when it has them per frame and `reuse_landmarks`; MediaPipe then runs
    only on `frames`. Raises NoFaceError if no frame shows a face.
    """
    pipeline = pipeline or default_pipeline()
    own = clip_landmarks(clip) if reuse_landmarks else None
    wanted = range(clip.num_frames) if (own is None or frames is None) else frames
    landmarks = np.full((clip.num_frames, 68, 2), np.nan, np.float32) if own is None else own.copy()
    shapes: dict[int, dict[str, float]] = {}
    for t in wanted:
        faces = _detect(pipeline, clip, t)
        if not faces:
            continue
        if own is None:
            landmarks[t] = faces[0].landmarks68
        if faces[0].blendshapes and (frames is None or t in frames):
            shapes[t] = faces[0].blendshapes
    track = FaceTrack(landmarks, shapes)
    if not track.found.any():
        raise NoFaceError(clip.source or clip.sample_id, f"no face in any of the {clip.num_frames} frames")
    return track


def fill_missing(landmarks: np.ndarray) -> np.ndarray:
    """Linearly interpolate landmarks of frames where no face was found (edges: nearest found frame)."""
    lm = landmarks.copy()
    ok = ~np.isnan(lm).any(axis=(1, 2))
    if ok.all() or not ok.any():
        return lm
    t = np.arange(len(lm))
    flat = lm.reshape(len(lm), -1)
    for j in range(flat.shape[1]):
        flat[~ok, j] = np.interp(t[~ok], t[ok], flat[ok, j])
    return flat.reshape(lm.shape)
