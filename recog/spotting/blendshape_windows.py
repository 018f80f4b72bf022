"""`blendshapes-win`: the blendshape spotter with ME-length windows (docs/design.md §8).

The blendshape spotter (blendshape_spotter.py) finds expressions as runs of its activity above `on`; on
inserted 0.4 s micro-expressions those runs come out shorter than the event (6–8 frames of 10 at 25 fps:
the activity is above the level only near the apex), so a run that overlaps the event often misses the
MEGC rule (IoU ≥ 0.5). This variant keeps the runs and their apexes, and reports a run no longer than
ME_MAX_SECONDS as the fixed window [apex − `before_s`, apex + `after_s`] (0.12 s and 0.2 s; SoftNet's
[peak − k, peak + k], asymmetric); longer runs stay MaE as found. `on` and the windows were chosen on the tuning split
(`benchmarks/bench_spot.py --tune`).
"""
from __future__ import annotations

import numpy as np

from .blendshape_spotter import BlendshapeSpotter, hysteresis_runs
from .seconds import frames_for, max_me_frames
from .spotter import SpotInterval, register_spotter


@register_spotter
class BlendshapeWindowSpotter(BlendshapeSpotter):
    """Blendshape activity runs; short runs reported as ME-length windows around their apex."""

    name = "blendshapes-win"
    seconds = {**BlendshapeSpotter.seconds, "before_s": 0.12, "after_s": 0.2}
    settings = {**BlendshapeSpotter.settings, "on": 0.14}

    def find(self, signals: dict[str, np.ndarray]) -> list[SpotInterval]:
        a = self.activity(signals)
        signals["bs_activity"] = a
        me_max = max_me_frames(self.fps)
        before, after = self.frames("before_s", 0), self.frames("after_s", 0)
        if before + after + 1 > me_max:
            raise ValueError(f"{self.name}: before_s + after_s spans {before + after + 1} frames, more than an ME ({me_max})")
        runs = hysteresis_runs(np.nan_to_num(a, nan=0.0), float(self.settings["on"]), float(self.settings["off"]),
                               frames_for(self.seconds["merge_s"], self.fps, 0), self.frames("min_s"))
        out, n = [], len(a)
        for s, e in runs:
            apex = s + int(np.nanargmax(a[s:e + 1]))
            if e - s + 1 <= me_max:
                out.append(SpotInterval(max(0, apex - before), apex, min(n - 1, apex + after), "ME", float(a[apex])))
            else:
                out.append(SpotInterval(s, apex, e, "MaE", float(a[apex])))
        return out
