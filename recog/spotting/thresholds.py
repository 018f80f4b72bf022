"""The signal-to-interval steps the classical spotters share: the contrast of a feature against its
neighbours, the relative (Moilanen) threshold, runs above a threshold, and peaks with a fixed half-width.

All arrays are 1-D float over consecutive frames of ONE segment (no gap inside); NaN = undefined frame.
Intervals are inclusive (onset, offset) positions in that array.
"""
from __future__ import annotations

import numpy as np


def contrast(feature: np.ndarray, m: int) -> np.ndarray:
    """C(i) = F(i) − ½(F(i−m) + F(i+m)) (MDMD, LBP-χ²); NaN where a neighbour is missing. (T,) → (T,)."""
    f = np.asarray(feature, np.float64)
    c = np.full_like(f, np.nan)
    if m >= 1 and len(f) > 2 * m:
        c[m:-m] = f[m:-m] - 0.5 * (f[:-2 * m] + f[2 * m:])
    return c


def relative_threshold(signal: np.ndarray, p: float) -> float:
    """T = mean + p·(max − mean) over the defined values (Moilanen et al.; MDMD p = 0.01, SoftNet 0.55)."""
    s = np.asarray(signal, np.float64)
    s = s[np.isfinite(s)]
    if not len(s):
        return float("nan")
    mean = float(s.mean())
    return mean + p * (float(s.max()) - mean)


def runs_above(signal: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Maximal runs of consecutive frames with signal > threshold → [(first, last)] inclusive. A run that
    reaches the end is closed there (MDMD's MDMDmat_to_txt.m drops it: it only closes a run on a 0)."""
    above = np.asarray(signal, np.float64) > threshold  # NaN compares False
    if not above.any():
        return []
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), stops.tolist()))


def moving_mean_centred(signal: np.ndarray, k: int) -> np.ndarray:
    """SoftNet's score aggregation: a(c) = mean(s[c−k : c+k]) (2k values), NaN where the window leaves
    the array or holds a NaN. (T,) → (T,)."""
    s = np.asarray(signal, np.float64)
    out = np.full_like(s, np.nan)
    if len(s) <= 2 * k or k < 1:
        return out
    cs = np.concatenate([[0.0], np.cumsum(s)])
    idx = np.arange(k, len(s) - k)  # SoftNet: agg[x + k] = s[x : x + 2k].mean() for x < len − 2k
    out[idx] = (cs[idx + k] - cs[idx - k]) / (2 * k)  # NaN inside a window propagates through cumsum
    return out


def peaks_with_halfwidth(signal: np.ndarray, height: float, distance: int) -> list[int]:
    """scipy.signal.find_peaks(signal, height=height, distance=distance) over the defined stretch."""
    from scipy.signal import find_peaks

    s = np.asarray(signal, np.float64)
    ok = np.isfinite(s)
    if not ok.any() or not np.isfinite(height):
        return []
    filled = np.where(ok, s, -np.inf)
    peaks, _ = find_peaks(filled, height=height, distance=max(1, distance))
    return peaks.tolist()
