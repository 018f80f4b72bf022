"""A labelled stand-in set for recognizer benchmarks and tests: real faces, class-specific smooth warps.

NOT a generator and NOT micro-expression data. Each pseudo-subject is a real aligned face (the embedded
corpus's faces, reused round-robin) with its own small similarity transform, brightness and
expression "style"; each clip warps that face by a smooth flow field made of Gaussian bumps on the 68
landmarks — brows, eyelids, mouth — whose directions depend on the class (positive: lip corners up
and out; surprise: brows up, jaw down; negative: one of frown / disgust / sadness), scaled by a random
intensity and the subject's style, plus smooth random flow, a small head shift and pixel noise so the
classes overlap. The default sizes mirror the MEGC2019 composite: 442 clips, 68 subjects, negative
250 / positive 109 / surprise 83.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import cv2
import numpy as np

from mexkit.clip import Clip
from mexkit.neutral_face import NeutralFace
from mexkit.optical_flow import warp_backward

MEGC_COUNTS = {"negative": 250, "positive": 109, "surprise": 83}

# Landmark displacements (iBUG 68 indices) in inter-ocular distances; image x to the right, y down.
_BROWS = list(range(17, 27))
TEMPLATES: dict[str, list[dict[int, tuple[float, float]]]] = {
    "positive": [{48: (-0.06, -0.05), 54: (0.06, -0.05), 49: (-0.03, -0.03), 53: (0.03, -0.03), 40: (0, -0.02), 41: (0, -0.02),
                  46: (0, -0.02), 47: (0, -0.02), 31: (0, -0.015), 35: (0, -0.015)}],
    "surprise": [{**{i: (0.0, -0.07) for i in _BROWS}, 37: (0, -0.03), 38: (0, -0.03), 43: (0, -0.03), 44: (0, -0.03),
                  57: (0, 0.06), 8: (0, 0.07), 7: (0, 0.05), 9: (0, 0.05)}],
    "negative": [
        {21: (0.04, 0.04), 22: (-0.04, 0.04), 20: (0.02, 0.03), 23: (-0.02, 0.03), 19: (0, 0.02), 24: (0, 0.02)},  # frown
        {31: (0, -0.04), 35: (0, -0.04), 50: (0, -0.04), 51: (0, -0.045), 52: (0, -0.04), 21: (0.02, 0.02), 22: (-0.02, 0.02)},  # disgust
        {48: (0, 0.05), 54: (0, 0.05), 21: (0.01, -0.03), 22: (-0.01, -0.03), 57: (0, 0.01)},  # sadness
    ],
}


def _resize_face(face: NeutralFace, size: int) -> tuple[np.ndarray, np.ndarray]:
    crop = cv2.resize(face.crop, (size, size), interpolation=cv2.INTER_AREA if size < face.resolution else cv2.INTER_CUBIC)
    s = size / face.resolution
    return crop, ((np.asarray(face.landmarks, np.float64) + 0.5) * s - 0.5)


def _smooth_noise(rng: np.random.Generator, size: int, amplitude: float, grid: int = 4) -> np.ndarray:
    coarse = rng.normal(0.0, amplitude, size=(grid, grid, 2)).astype(np.float32)
    return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)


def _bump_flow(points: np.ndarray, disp: dict[int, tuple[float, float]], iod: float, size: int, sigma: float) -> np.ndarray:
    """Backward flow (size, size, 2) that moves each listed landmark by disp · iod pixels."""
    gy, gx = np.mgrid[0:size, 0:size].astype(np.float32)
    flow = np.zeros((size, size, 2), np.float32)
    for i, (dx, dy) in disp.items():
        cx, cy = points[i]
        g = np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * sigma ** 2))
        flow[..., 0] -= dx * iod * g  # backward: the pixel at x shows what was at x − d
        flow[..., 1] -= dy * iod * g
    return flow


def subject_sizes(num_samples: int, num_subjects: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven samples per subject (at least one each), summing to num_samples."""
    if num_samples < num_subjects:
        raise ValueError(f"need at least one sample per subject ({num_samples} samples, {num_subjects} subjects)")
    return 1 + rng.multinomial(num_samples - num_subjects, rng.dirichlet(np.full(num_subjects, 2.0)))


def iter_parametric_clips(faces: Sequence[NeutralFace], num_subjects: int = 68, counts: dict[str, int] | None = None,
                          size: int = 128, num_frames: int = 9, fps: float = 100.0, intensity: tuple[float, float] = (0.15, 0.7),
                          noise_px: float = 1.2, head_px: float = 1.5, pixel_noise: float = 2.0, seed: int = 0) -> Iterator[Clip]:
    """Yield the set's clips one at a time (uint8 (num_frames, size, size, 3); onset 0, apex in the middle)."""
    if not faces:
        raise ValueError("need at least one real face")
    counts = dict(MEGC_COUNTS if counts is None else counts)
    rng = np.random.default_rng(seed)
    labels = np.array([c for c, n in counts.items() for _ in range(n)])
    rng.shuffle(labels)
    sizes = subject_sizes(len(labels), num_subjects, rng)
    t = np.arange(num_frames)
    apex = num_frames // 2
    profile = np.where(t <= apex, 0.5 - 0.5 * np.cos(np.pi * t / max(apex, 1)),
                       0.5 + 0.5 * np.cos(np.pi * (t - apex) / max(num_frames - 1 - apex, 1))).astype(np.float32)
    start = 0
    for k in range(num_subjects):
        face = faces[k % len(faces)]
        crop, lm = _resize_face(face, size)
        # the pseudo-subject: a similarity transform, a brightness change and an expression style
        angle, scale = rng.uniform(-4, 4), rng.uniform(0.94, 1.06)
        shift = rng.uniform(-0.03, 0.03, size=2) * size
        m = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
        m[:, 2] += shift
        crop = cv2.warpAffine(crop, m, (size, size), borderMode=cv2.BORDER_REPLICATE)
        crop = np.clip(crop.astype(np.float32) * rng.uniform(0.85, 1.15) + rng.uniform(-12, 12), 0, 255)
        lm = lm @ m[:, :2].T + m[:, 2]
        iod = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
        style = {c: rng.uniform(0.6, 1.4) for c in TEMPLATES}
        subject = f"param_s{k + 1:02d}"
        for j, label in enumerate(labels[start:start + sizes[k]]):
            variants = TEMPLATES[label]
            disp = variants[rng.integers(len(variants))]
            amp = rng.uniform(*intensity) * style[label]
            apex_flow = _bump_flow(lm, {i: (dx * amp, dy * amp) for i, (dx, dy) in disp.items()}, iod, size, sigma=0.3 * iod)
            apex_flow += _smooth_noise(rng, size, noise_px) + rng.normal(0, head_px, size=2).astype(np.float32)
            frames = np.stack([warp_backward(crop, p * apex_flow) for p in profile])
            frames = np.clip(frames + rng.normal(0, pixel_noise, size=frames.shape), 0, 255).astype(np.uint8)
            yield Clip(frames=frames, fps=fps, subject=subject, sample_id=f"{subject}_{j:02d}", onset=0, apex=apex,
                       offset=num_frames - 1, label=str(label), dataset="parametric", source=face.source,
                       meta={"base_subject": face.subject, "amplitude": float(amp)})
        start += sizes[k]


def parametric_clips(faces: Sequence[NeutralFace], **kwargs) -> list[Clip]:
    """All clips of `iter_parametric_clips` as a list."""
    return list(iter_parametric_clips(faces, **kwargs))
