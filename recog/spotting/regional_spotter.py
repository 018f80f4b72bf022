"""mexkit's micro-expression spotter `regional`: face regions apart, short bumps against each region's own
variability in the video, and ME-length windows around the peaks (docs/design.md §8).

What the measurement of the earlier spotters showed (docs/targets.md): on a talking face, one activity
signal (the largest rise of any blendshape) mixes the expression with speech, and threshold runs on it
merge with speech or come out the wrong length. So:

- Regions (`REGIONS`): the AU-like blendshapes grouped by what moves — brows up (AU1+2), brows down (AU4),
  smile (AU12), lip-corner frown (AU15), cheek and eye squint (AU6/7), nose sneer (AU9), lip stretch and
  dimple (AU14/20), lip press (AU24) — each region the mean of its left and right shapes (an expression
  of either side still shows). The shapes speech drives (jaw, lips up/down, funnel, pucker) are in none.
- Bump: a micro-expression rises and falls within ME_MAX_SECONDS, so per region the contrast
  c(t) = x(t) − ½(x(t − m) + x(t + m)), m = `m_s` (the contrast of MDMD and LBP-χ², on one region);
  slow drifts and held expressions give ≈ 0.
- Level of each region at each frame, the largest of three (blendshape units):
  `me_on` (absolute: a face that does not move gets no interval); median + `mad_c` · 1.4826 · MAD of the
  region's contrast over the segment (per-video adaptive: a shaky track or a busy region needs more);
  and, for the mouth-corner regions only (`MOUTH_REGIONS`: smile, frown, stretch, press — speech drags
  the lip corners), `speech_gate` × the speech motion at that frame, s(t) = Σ |contrast| of the shapes
  speech drives (`SPEECH_BLENDSHAPES`: jaw open, mouth close / funnel / pucker / roll / shrug, lips
  up / down, mouth sideways). A lip-corner bump counts only when it is larger than the talking around it.
- Score r(t) = the largest c / level over the regions; micro-expressions are the peaks of r above 1, at
  least `distance_s` apart; each interval is a fixed window [peak − `before_s`, peak + `after_s`]
  (SoftNet's [peak − k, peak + k], made asymmetric: the onset→apex rise of an ME is shorter than its
  fall); type ME; score r at the peak.
- Macro-expressions: the blendshape spotter's runs (activity above its own running median) lasting
  longer than ME_MAX_SECONDS; shorter runs are left to the ME step.

The windows and levels were chosen on the tuning split only (docs/targets.md, "Spotting figures").
Measured there and on held-out videos: about half the blendshape spotter's false alarms on speech and
better-placed windows, but lower recall (an inserted smile also moves the lips-up / lips-down shapes and
can gate itself away), so it is not the default.
"""
from __future__ import annotations

import numpy as np

from mexkit import video_faces

from .blendshape_spotter import COLUMNS as BS_COLUMNS
from .blendshape_spotter import EXPRESSION_BLENDSHAPES, BlendshapeSpotter, hysteresis_runs
from .seconds import frames_for, max_me_frames
from .spotter import FaceFrame, FeatureStream, Rows, SpotInterval, Spotter, register_spotter
from .thresholds import contrast, peaks_with_halfwidth

# region → the blendshapes it averages (left and right sides together)
REGIONS: dict[str, tuple[str, ...]] = {
    "brow_up": ("browInnerUp", "browOuterUpLeft", "browOuterUpRight"),
    "brow_down": ("browDownLeft", "browDownRight"),
    "smile": ("mouthSmileLeft", "mouthSmileRight"),
    "frown": ("mouthFrownLeft", "mouthFrownRight"),
    "squint": ("cheekSquintLeft", "cheekSquintRight", "eyeSquintLeft", "eyeSquintRight"),
    "sneer": ("noseSneerLeft", "noseSneerRight"),
    "stretch": ("mouthStretchLeft", "mouthStretchRight", "mouthDimpleLeft", "mouthDimpleRight"),
    "press": ("mouthPressLeft", "mouthPressRight"),
}
REGION_COLUMNS = tuple(f"rg_{r}" for r in REGIONS)
MOUTH_REGIONS = ("smile", "frown", "stretch", "press")
SPEECH_BLENDSHAPES = (
    "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthLeft", "mouthRight",
)
SPEECH_COLUMNS = tuple(f"sp_{n}" for n in SPEECH_BLENDSHAPES)


def region_values(shapes: dict[str, float] | dict[str, np.ndarray]) -> dict[str, float | np.ndarray]:
    """Blendshape values by name (floats or (T,) arrays) → one value per region (the mean of its shapes)."""
    return {f"rg_{r}": sum(shapes[n] for n in names) / len(names) for r, names in REGIONS.items()}


class _RegionStream(FeatureStream):
    def __init__(self):
        self.idx: np.ndarray | None = None
        self.sp_idx: np.ndarray | None = None

    def push(self, frame: FaceFrame) -> Rows:
        if self.idx is None:
            names = video_faces.BLENDSHAPE_NAMES
            self.idx = np.array([names.index(n) for n in EXPRESSION_BLENDSHAPES])
            self.sp_idx = np.array([names.index(n) for n in SPEECH_BLENDSHAPES])
        shapes = frame.face.blendshapes.astype(np.float64)
        values = dict(zip(EXPRESSION_BLENDSHAPES, shapes[self.idx].tolist()))
        row = {f"bs_{n}": v for n, v in values.items()}
        row.update(region_values(values))
        row.update(zip(SPEECH_COLUMNS, shapes[self.sp_idx].tolist()))
        return [(frame.index, row)]


def mad_level(c: np.ndarray, k: float) -> float:
    """median + k · 1.4826 · MAD over the defined values of c (the per-video adaptive level); NaN if none."""
    c = np.asarray(c, np.float64)
    c = c[np.isfinite(c)]
    if not len(c):
        return float("nan")
    med = float(np.median(c))
    return med + float(k) * 1.4826 * float(np.median(np.abs(c - med)))


def speech_motion(signals: dict[str, np.ndarray], m: int, shapes: tuple[str, ...] = SPEECH_BLENDSHAPES) -> np.ndarray:
    """s(t) = Σ over `shapes` (default SPEECH_BLENDSHAPES) of |contrast| (window m): how much talking moves the
    mouth at t. (T,)."""
    parts = [np.abs(contrast(signals[f"sp_{n}"], m)) for n in shapes if f"sp_{n}" in signals]
    if not parts:
        return np.zeros(len(next(iter(signals.values()))) if signals else 0)
    return np.sum(np.stack(parts, 1), 1)  # NaN where the contrast is undefined


def peak_windows(score: np.ndarray, level: float, distance: int, before: int, after: int) -> list[tuple[int, int, int]]:
    """Peaks of `score` above `level`, at least `distance` frames apart (scipy's find_peaks), each as the window
    (peak − before, peak, peak + after) clipped to the array → [(onset, peak, offset)] inclusive."""
    n = len(score)
    return [(max(0, p - before), p, min(n - 1, p + after)) for p in peaks_with_halfwidth(score, level, distance)]


@register_spotter
class RegionalSpotter(Spotter):
    """Regional blendshape bumps with a per-video robust level and ME-length peak windows (module docstring)."""

    name = "regional"
    columns = (*BS_COLUMNS, *REGION_COLUMNS, *SPEECH_COLUMNS, "rg_speech", "rg_score", "bs_baseline_max", "bs_activity")
    seconds = {"m_s": 0.16, "distance_s": 0.5, "before_s": 0.16, "after_s": 0.2,
               "baseline_s": 2.0, "block_s": 0.5, "merge_s": 0.1}
    settings = {"me_on": 0.10, "mad_c": 3.0, "speech_gate": 1.5, "me_in_mae": "keep", "on": 0.10, "off": 0.05}

    def feature_stream(self) -> FeatureStream:
        return _RegionStream()

    def score(self, signals: dict[str, np.ndarray]) -> np.ndarray:
        """r(t) = max over regions of contrast / level (module docstring); stored as `rg_score`, the speech
        motion as `rg_speech`. (T,), NaN where no region's contrast is defined."""
        m = self.frames("m_s")
        n = len(signals[REGION_COLUMNS[0]])
        signals["rg_speech"] = speech_motion(signals, m)
        speech = signals["rg_speech"] * float(self.settings["speech_gate"])
        best = np.full(n, -np.inf)
        for region, col in zip(REGIONS, REGION_COLUMNS):
            c = contrast(signals[col], m)
            level = np.full(n, max(float(self.settings["me_on"]), mad_level(c, self.settings["mad_c"])))
            if region in MOUTH_REGIONS:
                level = np.fmax(level, speech)
            with np.errstate(invalid="ignore"):
                best = np.fmax(best, c / level)
        r = np.where(np.isfinite(best), best, np.nan)
        signals["rg_score"] = r
        return r

    def find(self, signals: dict[str, np.ndarray]) -> list[SpotInterval]:
        s = self.score(signals)
        out = []
        me_max = max_me_frames(self.fps)
        before, after = self.frames("before_s", 0), self.frames("after_s", 0)
        if before + after + 1 > me_max:
            raise ValueError(f"{self.name}: before_s + after_s spans {before + after + 1} frames, more than an ME ({me_max})")
        me = [SpotInterval(on, peak, off, "ME", float(s[peak])) for on, peak, off in
              peak_windows(s, 1.0, self.frames("distance_s"), before, after)]
        # macro-expressions: the blendshape spotter's runs, longer than an ME
        bs = BlendshapeSpotter(self.fps, baseline_s=self.seconds["baseline_s"], block_s=self.seconds["block_s"],
                               merge_s=self.seconds["merge_s"], on=self.settings["on"], off=self.settings["off"])
        a = bs.activity(signals)
        signals["bs_activity"] = a
        runs = hysteresis_runs(np.nan_to_num(a, nan=0.0), float(self.settings["on"]), float(self.settings["off"]),
                               frames_for(self.seconds["merge_s"], self.fps, 0), me_max + 1)
        for s0, e0 in runs:
            apex = s0 + int(np.nanargmax(a[s0:e0 + 1]))
            out.append(SpotInterval(s0, apex, e0, "MaE", float(a[apex])))
        if self.settings["me_in_mae"] == "drop":  # a bump inside a macro-expression is its rise or fall, not an ME
            me = [iv for iv in me if not any(m.onset <= iv.apex <= m.offset for m in out)]
        out += me
        out.sort(key=lambda iv: (iv.onset, iv.offset))
        return out
