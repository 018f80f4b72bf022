"""Motion profile and micro-ness of a clip from its landmark displacement curve.

curve[t]: mean distance of the 51 inner landmarks (brows, eyes, nose, mouth) at frame t from their
position at the onset frame, after removing head motion (similarity fit on the nose bridge and eye
corners), in inter-ocular distances (IOD). From it:
- apex_disp_iod: the peak of the curve (how large the expression is, relative to the face);
- duration_half_ms: full width at half the peak, in ms (linearly interpolated crossings) — micro-
  expressions last under ~500 ms;
- onset_apex_ms: time from the onset frame to the peak;
- unimodality: R² of the best unimodal fit (non-decreasing up to some frame, non-increasing after it;
  isotonic regression) — 1 for a clean rise and fall, lower when the curve wobbles or has two peaks;
- apex_offset_frames: estimated apex (curve peak) minus the annotated apex.
"""
from __future__ import annotations

import numpy as np

from mexkit.clip import Clip
from mexkit.face.landmark_schemes import interocular

from .face_tracks import fill_missing, track_clip

STABLE_POINTS = [27, 28, 29, 30, 36, 39, 42, 45]  # nose bridge, outer and inner eye corners
INNER_POINTS = list(range(17, 68))


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama 1991) mapping src (N, 2) onto dst (N, 2): scale, R (2×2), t (2,)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ sign @ vt
    scale = float((sig * np.diag(sign)).sum() / max((s**2).sum() / len(src), 1e-12))
    return scale, rot, mu_d - scale * rot @ mu_s


def displacement_curve(landmarks: np.ndarray, onset: int = 0) -> np.ndarray:
    """(T, 68, 2) landmarks → (T,) mean inner-landmark displacement from the onset frame, in IODs."""
    lm = np.asarray(landmarks, np.float64)
    ref = lm[onset]
    iod = float(interocular(ref))
    curve = np.empty(len(lm))
    for t, x in enumerate(lm):
        scale, rot, shift = similarity_fit(x[STABLE_POINTS], ref[STABLE_POINTS])
        y = x[INNER_POINTS] @ (scale * rot).T + shift
        curve[t] = np.linalg.norm(y - ref[INNER_POINTS], axis=1).mean()
    return curve / max(iod, 1e-6)


def full_width_half_max(curve: np.ndarray, peak: int) -> float:
    """Width (frames, interpolated) of the run around `peak` where the curve stays ≥ half its peak."""
    half = curve[peak] / 2.0
    i = peak
    while i > 0 and curve[i - 1] >= half:
        i -= 1
    left = i - (curve[i] - half) / (curve[i] - curve[i - 1]) if i > 0 else 0.0
    j = peak
    while j < len(curve) - 1 and curve[j + 1] >= half:
        j += 1
    right = j + (curve[j] - half) / (curve[j] - curve[j + 1]) if j < len(curve) - 1 else float(len(curve) - 1)
    return float(right - left)


def isotonic_increasing(y: np.ndarray) -> np.ndarray:
    """Least-squares non-decreasing fit (pool-adjacent-violators)."""
    blocks: list[list[float]] = []  # [mean, weight]
    for v in np.asarray(y, np.float64):
        blocks.append([float(v), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    return np.concatenate([np.full(int(w), m) for m, w in blocks]) if blocks else np.zeros(0)


def unimodal_fit(y: np.ndarray) -> np.ndarray:
    """Least-squares unimodal fit: non-decreasing up to a mode, non-increasing after (best mode searched)."""
    y = np.asarray(y, np.float64)
    best, best_err = y, np.inf
    for p in range(len(y)):
        fit = np.concatenate([isotonic_increasing(y[:p + 1]), isotonic_increasing(y[p + 1:][::-1])[::-1]])
        err = float(((fit - y) ** 2).sum())
        if err < best_err:
            best, best_err = fit, err
    return best


def unimodality(y: np.ndarray) -> float:
    """R² of the unimodal fit of y (1 = unimodal; a constant curve counts as unimodal)."""
    y = np.asarray(y, np.float64)
    ss = float(((y - y.mean()) ** 2).sum())
    if ss <= 1e-18:
        return 1.0
    return 1.0 - float(((y - unimodal_fit(y)) ** 2).sum()) / ss


def profile_stats(curve: np.ndarray, fps: float, onset: int = 0, apex: int | None = None, offset: int | None = None) -> dict[str, float]:
    """Scalar summaries of a displacement curve over onset..offset (see the module docstring)."""
    curve = np.asarray(curve, np.float64)
    offset = len(curve) - 1 if offset is None else int(offset)
    seg = curve[onset:offset + 1]
    peak = int(np.argmax(seg))
    row = {
        "apex_disp_iod": float(seg[peak]),
        "duration_half_ms": 1000.0 * full_width_half_max(seg, peak) / fps,
        "onset_apex_ms": 1000.0 * peak / fps,
        "unimodality": unimodality(seg),
        "apex_frame_est": onset + peak,
    }
    if apex is not None:
        row["apex_offset_frames"] = onset + peak - int(apex)
    return row


class MotionProfileScorer:
    """Per-clip motion-profile scores; `curves` keeps each clip's curve for the report's plots."""

    family = "motion"

    def __init__(self, pipeline=None, keep_curves: bool = True):
        self.pipeline = pipeline
        self.keep_curves = keep_curves
        self.curves: dict[str, np.ndarray] = {}

    def curve(self, clip: Clip) -> np.ndarray:
        track = track_clip(clip, frames=[], pipeline=self.pipeline)
        return displacement_curve(fill_missing(track.landmarks), clip.onset)

    def __call__(self, clip: Clip) -> dict[str, float]:
        curve = self.curve(clip)
        if self.keep_curves:
            self.curves[clip.sample_id] = curve.astype(np.float32)
        row = profile_stats(curve, clip.fps, clip.onset, clip.apex, clip.offset)
        row["num_frames"] = clip.num_frames
        row["fps"] = float(clip.fps)
        return row
