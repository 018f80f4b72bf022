"""ROI optical flow with nose-region compensation (SoftNet-SpotME `extraction_preprocess.py` and its
spotting step), training-free; docs/design.md §8 lists what mexkit changes.

Per frame t, with k frames, on the registered 128 × 128 face crop:
- flow (t → t + k);
- global head motion removed by subtracting the mean flow of the 11 × 11 patch centred on the nose
  landmark (68-point index 28): |u − ū_nose|, |v − v̄_nose|;
- both eyes masked (the eye contour pushed out by 15 px, as published);
- the regions of interest: both eyebrows (landmarks 17–21 / 22–26 widened by 12 px, down to the lower
  eyelid) and the mouth (60–64 widened by 12 px, from the upper lip 50 to the chin-side lip 57);
- s(t) = mean over the ROI pixels of the compensated flow magnitude √(|u − ū|² + |v − v̄|²).
  (SoftNet feeds these maps to a CNN; the training-free reading takes the magnitude as the score.)
Then SoftNet's spotting: a(c) = mean(s[c−k : c+k]); T = mean(a) + p·(max a − mean a), p = 0.55;
peaks = find_peaks(a, height=T, distance=k); interval [c − k, c + k]. k is half the mean expression
length: 0.2 s for ME, 0.6 s for MaE (6 / 18 frames at 30 fps) — both detectors run side by side.
"""
from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from mexkit.face.landmark_schemes import MEDIAPIPE_TO_68

from .spotter import FaceFrame, FeatureStream, Rows, SpotInterval, Spotter, register_spotter
from .thresholds import moving_mean_centred, peaks_with_halfwidth, relative_threshold

CROP = 128


def roi_mask(lm68: np.ndarray, size: int = CROP) -> tuple[np.ndarray, tuple[int, int]]:
    """Boolean (size, size) mask of the eyebrow + mouth ROIs with the eyes cut out, and the nose point
    (x, y), from 68-point landmarks in crop pixels — SoftNet's boxes and offsets."""
    p = np.round(lm68).astype(int)

    def clip(v):
        return int(min(max(v, 0), size))

    mask = np.zeros((size, size), np.uint8)
    # eyebrow band: from both brows' outer ends, 12 px margins, down to the lower eyelids
    y_top = min(clip(p[19, 1] - 12), clip(p[24, 1] - 12))
    y_bot = max(clip(p[41, 1] + 12), clip(p[46, 1] + 12))
    mask[y_top:y_bot, clip(p[17, 0] - 12):clip(p[26, 0] + 12)] = 1
    mask[clip(p[50, 1] - 12):clip(p[57, 1] + 12), clip(p[60, 0] - 12):clip(p[64, 0] + 12)] = 1
    for eye in (range(36, 42), range(42, 48)):
        e = p[list(eye)].copy()
        # SoftNet: corners pushed out by 15 px sideways, upper lid up, lower lid down
        e[0, 0] -= 15
        e[1:3, 1] -= 15
        e[3, 0] += 15
        e[4:6, 1] += 15
        cv2.fillPoly(mask, [np.clip(e, 0, size).astype(np.int32)], 0)
    return mask.astype(bool), (int(p[28, 0]), int(p[28, 1]))


def compensated_magnitude(flow: np.ndarray, mask: np.ndarray, nose: tuple[int, int]) -> float:
    """Mean over `mask` of the flow magnitude after subtracting the nose patch's mean flow (11 × 11)."""
    x, y = nose
    patch = flow[max(y - 5, 0):y + 6, max(x - 5, 0):x + 6].reshape(-1, 2)
    mean = patch.mean(0) if len(patch) else np.zeros(2)
    du = np.abs(flow[..., 0] - mean[0])
    dv = np.abs(flow[..., 1] - mean[1])
    mag = np.sqrt(du * du + dv * dv)
    return float(mag[mask].mean()) if mask.any() else float("nan")


class _RoiStream(FeatureStream):
    def __init__(self, ks: dict[str, int], preset: int):
        self.ks = ks
        self.buffers = {kind: deque(maxlen=k + 1) for kind, k in ks.items()}
        self.flow = cv2.DISOpticalFlow_create(preset)
        self.mask = None
        self.nose = None

    def push(self, frame: FaceFrame) -> Rows:
        crop = frame.crop(CROP)
        if self.mask is None:  # ROIs from the segment's first frame, as SoftNet takes them from the first
            self.mask, self.nose = roi_mask(frame.crop_landmarks(CROP)[MEDIAPIPE_TO_68])
        rows: Rows = []
        for kind, k in self.ks.items():
            buf = self.buffers[kind]
            buf.append((frame.index, crop))
            if len(buf) == k + 1:
                flow = self.flow.calc(buf[0][1], buf[k][1], None)
                rows.append((buf[0][0], {f"roi_s_{kind}": compensated_magnitude(flow, self.mask, self.nose)}))
        return rows


@register_spotter
class RoiFlowSpotter(Spotter):
    """ROI optical flow with nose compensation (SoftNet-SpotME preprocessing, training-free score).
    Settings: p (peak height fraction), dis_preset (OpenCV DIS flow; published TV-L1)."""

    name = "roi-flow"
    columns = ("roi_s_me", "roi_a_me", "roi_s_mae", "roi_a_mae")
    seconds = {"k_me_s": 0.2, "k_mae_s": 0.6}
    settings = {"p": 0.55, "dis_preset": "medium"}

    def _ks(self) -> dict[str, int]:
        return {"me": self.frames("k_me_s"), "mae": self.frames("k_mae_s")}

    def feature_stream(self) -> FeatureStream:
        from mexkit.optical_flow import DIS_PRESETS

        return _RoiStream(self._ks(), DIS_PRESETS[self.settings["dis_preset"]])

    def find(self, signals: dict[str, np.ndarray]) -> list[SpotInterval]:
        out = []
        for kind, k in self._ks().items():
            s = signals[f"roi_s_{kind}"]
            a = moving_mean_centred(s, k)
            signals[f"roi_a_{kind}"] = a
            t = relative_threshold(a, float(self.settings["p"]))
            n = len(a)
            spread = np.nanmax(a) - np.nanmean(a) if np.isfinite(a).any() else 0.0
            for c in peaks_with_halfwidth(a, t, k):
                onset, offset = max(0, c - k), min(n - 1, c + k)
                score = float((a[c] - t) / spread) if spread > 0 else 0.0
                out.append(SpotInterval(onset, c, offset, "ME" if kind == "me" else "MaE", score))
        return out
