"""MDMD, the MEGC2020 spotting baseline (HeyingGithub/Baseline-project-for-MEGC2020_spotting, MDMD.m +
cmd.m), reproduced; docs/design.md §8 lists what mexkit changes.

Per frame i, with k frames:
- flows f1 = (i−k → i) and f2 = (i−k → i+k) on the registered face crop;
- the crop is cut into 6 × 6 blocks (floor(H/6) × floor(W/6) pixels, the remainder dropped);
- in each block, pixels are binned by θ = degrees(arctan(u / v)) into [0, 90), [90, 180), [−180, −90),
  [−90, 0) — arctan, not arctan2, as published, so only two bins (and θ = 90 when v = 0) ever fill; the
  fullest bin wins (the first on a tie);
- over that bin's pixels r = |f1| − |f2|; the block's value is the mean of the largest round(m/3) r;
- F(i) = mean of the 12 (round(36/3)) largest block values;
then C(i) = F(i) − ½(F(i−m) + F(i+m)), m = k − 1; T = mean(C) + p·(max C − mean C), p = 0.01; runs of
C > T are intervals, kept when their length fits the type (ME 0.235 s … ME_MAX_SECONDS; MaE longer).
The ME and MaE detectors run side by side with their own k (0.4 s and 1.3 s: 12 / 39 frames at 30 fps,
80 / 260 at 200 fps, as published).
"""
from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from .seconds import frames_for, max_me_frames
from .spotter import FaceFrame, FeatureStream, Rows, SpotInterval, Spotter, register_spotter
from .thresholds import contrast, relative_threshold, runs_above

BLOCKS = 6


def _round_half_away(x: np.ndarray) -> np.ndarray:
    """MATLAB's round for non-negative values."""
    return np.floor(np.asarray(x, np.float64) + 0.5).astype(np.int64)


def direction_bins(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """MDMD's 4 direction bins of θ = degrees(arctan(u / v)): 0 for [0, 90), 1 for [90, 180), 2 for
    [−180, −90), 3 for [−90, 0); −1 where θ is NaN (u = v = 0). (H, W) → (H, W) int8."""
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.degrees(np.arctan(u / v))
    bins = np.full(theta.shape, -1, np.int8)
    bins[(theta >= 0) & (theta < 90)] = 0
    bins[(theta >= 90) & (theta < 180)] = 1
    bins[(theta >= -180) & (theta < -90)] = 2
    bins[(theta >= -90) & (theta < 0)] = 3
    return bins


def mdmd_value(flow1: np.ndarray, flow2: np.ndarray, blocks: int = BLOCKS) -> float:
    """F(i) from f1 = flow(i−k → i) and f2 = flow(i−k → i+k), both (H, W, 2) (u, v). See the module doc."""
    h, w = flow1.shape[:2]
    bh, bw = h // blocks, w // blocks
    u1, v1 = flow1[: bh * blocks, : bw * blocks, 0], flow1[: bh * blocks, : bw * blocks, 1]
    u2, v2 = flow2[: bh * blocks, : bw * blocks, 0], flow2[: bh * blocks, : bw * blocks, 1]

    def per_block(a: np.ndarray) -> np.ndarray:  # (H, W) → (blocks², bh·bw)
        return a.reshape(blocks, bh, blocks, bw).transpose(0, 2, 1, 3).reshape(blocks * blocks, bh * bw)

    bins = per_block(direction_bins(u1.astype(np.float64), v1.astype(np.float64)))
    r = per_block(np.hypot(u1, v1).astype(np.float64) - np.hypot(u2, v2).astype(np.float64))
    counts = np.stack([(bins == b).sum(1) for b in range(4)], 1)  # (36, 4)
    dominant = counts.argmax(1)  # first bin on a tie, as MATLAB's max
    m = counts[np.arange(len(counts)), dominant]
    take = _round_half_away(m / 3.0)
    chosen = np.where(bins == dominant[:, None], r, -np.inf)
    top = -np.sort(-chosen, axis=1)  # descending
    csum = np.cumsum(np.where(np.isfinite(top), top, 0.0), axis=1)
    ok = take >= 1  # a block with fewer than 2 pixels in its bin has no value (MATLAB: mean([]) = NaN)
    block_values = np.full(len(m), -np.inf)
    block_values[ok] = csum[ok, take[ok] - 1] / take[ok]
    n_top = int(_round_half_away(blocks * blocks / 3.0))
    best = -np.sort(-block_values)[:n_top]
    best = best[np.isfinite(best)]
    return float(best.mean()) if len(best) else float("nan")


class _RLOF:
    """OpenCV's dense RLOF flow (opencv-contrib), the flow of the published MDMD; `calc` as DIS has it."""

    def calc(self, a: np.ndarray, b: np.ndarray, flow=None) -> np.ndarray:
        return cv2.optflow.calcOpticalFlowDenseRLOF(cv2.cvtColor(a, cv2.COLOR_GRAY2BGR), cv2.cvtColor(b, cv2.COLOR_GRAY2BGR), None)


class _MdmdStream(FeatureStream):
    def __init__(self, ks: dict[str, int], size: int, preset: int | None):
        self.ks = ks
        self.size = size
        self.buffers = {kind: deque(maxlen=2 * k + 1) for kind, k in ks.items()}
        self.flow = _RLOF() if preset is None else cv2.DISOpticalFlow_create(preset)

    def push(self, frame: FaceFrame) -> Rows:
        crop = frame.crop(self.size)
        rows: Rows = []
        for kind, k in self.ks.items():
            buf = self.buffers[kind]
            buf.append((frame.index, crop))
            if len(buf) == 2 * k + 1:
                first, mid, last = buf[0][1], buf[k][1], buf[2 * k][1]
                f1 = self.flow.calc(first, mid, None)
                f2 = self.flow.calc(first, last, None)
                rows.append((buf[k][0], {f"mdmd_F_{kind}": mdmd_value(f1, f2)}))
        return rows


@register_spotter
class MDMDSpotter(Spotter):
    """MDMD (MEGC2020 baseline). Settings: p (threshold fraction), crop (registered crop size in pixels;
    published 227), dis_preset (OpenCV DIS flow; published RLOF). A segment shorter than 2k + 2m + 1
    frames gets no interval of that type (the published auto_k halves k instead: a stream cannot go back)."""

    name = "mdmd"
    columns = ("mdmd_F_me", "mdmd_C_me", "mdmd_F_mae", "mdmd_C_mae")
    seconds = {"k_me_s": 0.4, "k_mae_s": 1.3, "me_min_s": 0.235}
    settings = {"p": 0.01, "crop": 128, "dis_preset": "medium"}  # dis_preset "rlof": the published flow

    def _ks(self) -> dict[str, int]:
        return {"me": self.frames("k_me_s"), "mae": self.frames("k_mae_s")}

    def feature_stream(self) -> FeatureStream:
        from mexkit.optical_flow import DIS_PRESETS

        preset = self.settings["dis_preset"]
        return _MdmdStream(self._ks(), int(self.settings["crop"]), None if preset == "rlof" else DIS_PRESETS[preset])

    def find(self, signals: dict[str, np.ndarray]) -> list[SpotInterval]:
        out = []
        me_max = max_me_frames(self.fps)
        me_min = frames_for(self.seconds["me_min_s"], self.fps)
        for kind, k in self._ks().items():
            f = signals[f"mdmd_F_{kind}"]
            c = contrast(f, max(1, k - 1))
            signals[f"mdmd_C_{kind}"] = c
            if not np.isfinite(c).any():
                continue
            t = relative_threshold(c, float(self.settings["p"]))
            for a, b in runs_above(c, t):
                n = b - a + 1
                if kind == "me" and not me_min <= n <= me_max:
                    continue
                if kind == "mae" and n <= me_max:
                    continue
                apex = a + int(np.nanargmax(c[a:b + 1]))
                spread = np.nanmax(c) - np.nanmean(c)
                score = float((c[apex] - t) / spread) if spread > 0 else 0.0
                out.append(SpotInterval(a, apex, b, "ME" if kind == "me" else "MaE", score))
        return out


@register_spotter
class PublishedMDMDSpotter(MDMDSpotter):
    """MDMD with the published baseline's crop and flow: 227² registered crop, dense RLOF (about 0.1 s a flow
    here, four a frame: some 0.1× real time at 30 fps — for reproducing the baseline, not for long videos)."""

    name = "mdmd-published"
    settings = {**MDMDSpotter.settings, "crop": 227, "dis_preset": "rlof"}
