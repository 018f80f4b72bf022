"""Windows and thresholds are set in seconds and turned into frames at the video's rate, in one place.

`frames_for(seconds, fps)` rounds half up (never to even), so the published frame counts come out at the
datasets' rates: MDMD's k = 0.4 s → 12 frames at 30 fps (CAS(ME)²), 80 at 200 fps (SAMM-LV); its MaE
k = 1.3 s → 39 and 260; LBP-χ²'s k = 0.15 s → 5 and 30 (docs/design.md §8).
"""
from __future__ import annotations

import math

from mexkit.datasets.manifest_columns import ME_MAX_SECONDS


def frames_for(seconds: float, fps: float, minimum: int = 1) -> int:
    """round_half_up(seconds × fps), at least `minimum` frames."""
    return max(minimum, int(math.floor(seconds * fps + 0.5 + 1e-9)))


def max_me_frames(fps: float) -> int:
    """The longest micro-expression in frames (ME ≤ ME_MAX_SECONDS): 15 at 30 fps, 100 at 200 fps."""
    return int(math.floor(ME_MAX_SECONDS * fps + 1e-9))


def type_of(onset: int, offset: int, fps: float) -> str:
    """"ME" when the inclusive interval lasts at most ME_MAX_SECONDS, else "MaE"."""
    return "ME" if offset - onset + 1 <= max_me_frames(fps) else "MaE"
