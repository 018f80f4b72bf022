"""mexkit's own spotter: MediaPipe's blendshapes (they come with the landmarks, for free) as AU-like
signals, measured against the person's own neutral.

- Signals: the AU-like blendshapes of EXPRESSION_BLENDSHAPES — brows, cheeks, eye squint/wide, nose
  sneer, mouth corners (smile, frown, dimple, stretch, press). Left out on purpose: blinks and gaze
  (not expressions), and the shapes speech drives (jaw open, mouth close/funnel/pucker/roll/shrug,
  lips up/down, jaw and mouth sideways, cheek puff).
- Signals and baseline are the core's expression activity (mexkit/face/expression_activity.py), which
  `mexkit insert` also uses. Baseline: the person's own recent level, a running median of each shape over about `baseline_s`
  (medians of `block_s` blocks, then a median over the blocks around each frame: fast over an hour of
  video). 2 s (and `on` 0.10) were chosen on cap12_edit with stand-in inserted events, before `mexkit
  insert` existed; cap12_edit is now a validation / test video (docs/targets.md). A longer
  window lets speech's slow drifts through, a shorter one eats expressions. An expression held longer
  than about half the window is partly absorbed into the baseline (long MaE are cut short).
- Activity a(t) = the largest rise of any shape above its baseline (0..1, blendshape units).
- Intervals: runs with a > `on` (an absolute level, not relative to the video's maximum: a video with no
  expression gets no interval), widened while a > `off`; runs closer than `merge_s` joined, runs shorter
  than `min_s` dropped; apex = the largest a, score = a at the apex; ME / MaE by duration (≤ 0.5 s).
"""
from __future__ import annotations

import numpy as np

from mexkit import video_faces
from mexkit.face.expression_activity import EXPRESSION_BLENDSHAPES, expression_columns, running_baseline

from .seconds import frames_for, type_of
from .spotter import FaceFrame, FeatureStream, Rows, SpotInterval, Spotter, register_spotter
from .thresholds import runs_above

COLUMNS = tuple(f"bs_{n}" for n in EXPRESSION_BLENDSHAPES)


class _BlendshapeStream(FeatureStream):
    def __init__(self):
        self.idx: np.ndarray | None = None

    def push(self, frame: FaceFrame) -> Rows:
        if self.idx is None:
            self.idx = expression_columns(video_faces.BLENDSHAPE_NAMES)
        values = frame.face.blendshapes[self.idx]
        return [(frame.index, dict(zip(COLUMNS, values.tolist())))]


def hysteresis_runs(a: np.ndarray, on: float, off: float, merge: int, min_len: int) -> list[tuple[int, int]]:
    """Runs with a > on, each widened while a > off, joined when ≤ merge frames apart, kept when at least
    min_len frames long → [(first, last)] inclusive."""
    n = len(a)
    runs = []
    for s, e in runs_above(a, on):
        while s > 0 and a[s - 1] > off:
            s -= 1
        while e < n - 1 and a[e + 1] > off:
            e += 1
        if runs and s - runs[-1][1] - 1 <= merge:
            runs[-1] = (runs[-1][0], max(e, runs[-1][1]))
        elif not runs or s > runs[-1][1]:
            runs.append((s, e))
    return [(s, e) for s, e in runs if e - s + 1 >= min_len]


@register_spotter
class BlendshapeSpotter(Spotter):
    """AU-like blendshape activity above the person's own neutral (see the module docstring)."""

    name = "blendshapes"
    columns = (*COLUMNS, "bs_baseline_max", "bs_activity")
    seconds = {"baseline_s": 2.0, "block_s": 0.5, "merge_s": 0.1, "min_s": 0.1}
    settings = {"on": 0.10, "off": 0.05}

    def feature_stream(self) -> FeatureStream:
        return _BlendshapeStream()

    def activity(self, signals: dict[str, np.ndarray]) -> np.ndarray:
        x = np.stack([signals[c] for c in COLUMNS], 1).astype(np.float64)
        block = self.frames("block_s")
        base = running_baseline(x, block, max(1, int(round(self.seconds["baseline_s"] / self.seconds["block_s"]))))
        signals["bs_baseline_max"] = np.nanmax(base, axis=1) if len(base) else np.zeros(0)
        rise = x - base
        a = np.nanmax(np.where(np.isfinite(rise), rise, -np.inf), axis=1) if len(x) else np.zeros(0)
        return np.where(np.isfinite(a), a, np.nan)

    def find(self, signals: dict[str, np.ndarray]) -> list[SpotInterval]:
        a = self.activity(signals)
        signals["bs_activity"] = a
        runs = hysteresis_runs(np.nan_to_num(a, nan=0.0), float(self.settings["on"]), float(self.settings["off"]),
                               frames_for(self.seconds["merge_s"], self.fps, 0), self.frames("min_s"))
        out = []
        for s, e in runs:
            apex = s + int(np.nanargmax(a[s:e + 1]))
            out.append(SpotInterval(s, apex, e, type_of(s, e, self.fps), float(a[apex])))
        return out
