"""What a generator is asked for: class, intensity, duration, frame rate, timing profile, target AUs."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from mexkit.datasets.label_maps import MEGC_CLASSES
from mexkit.errors import MexkitInputError

__all__ = ["MEGC_CLASSES", "MAX_CLIP_FRAMES", "MAX_FPS", "Condition"]  # MEGC_CLASSES re-exported; defined once, in mexkit.datasets.label_maps

MAX_FPS = 1000.0  # high-speed micro-expression cameras record at 200 fps; beyond 1000 is a typo
MAX_CLIP_FRAMES = 2000  # frames of one generated clip (duration × fps): a clip is held whole in memory while it is made


@dataclass(frozen=True)
class Condition:
    """A generation request (docs/design.md §4).

    label: class name (MEGC composite: negative / positive / surprise).
    intensity: 0–1, relative to the training data's apex.
    duration_ms, fps: clip length; num_frames = round(duration_ms · fps / 1000), at least 2 and at most
      MAX_CLIP_FRAMES; fps at most MAX_FPS (a clip is made whole in memory: 1e9 fps would ask for TiBs).
    apex_at, offset_at: fractions of the clip where the apex is reached and where the face is back at
      rest (onset is frame 0). Micro-expressions: onset→apex ≈ 40 % of the clip, back by its end.
    aus: optional target action units (["AU4", "AU7"]) overriding the class's default set.
    """

    label: str = "positive"
    intensity: float = 0.5
    duration_ms: float = 400.0
    fps: float = 40.0
    apex_at: float = 0.4
    offset_at: float = 1.0
    aus: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not (0.0 <= float(self.intensity) <= 1.0) or np.isnan(self.intensity):
            raise MexkitInputError(None, f"intensity must be within [0, 1], got {self.intensity}", "pass e.g. intensity=0.4", stage="condition")
        if not (np.isfinite(self.fps) and 0 < self.fps <= MAX_FPS):
            raise MexkitInputError(None, f"fps must be within (0, {MAX_FPS:g}], got {self.fps}", "pass e.g. fps=40 (high-speed cameras: 200)",
                                   stage="condition")
        if not (np.isfinite(self.duration_ms) and self.duration_ms > 0):
            raise MexkitInputError(None, f"duration_ms must be a positive number, got {self.duration_ms}", "pass e.g. duration_ms=400", stage="condition")
        if self.duration_ms * self.fps / 1000.0 < 2:
            raise MexkitInputError(
                None,
                f"duration {self.duration_ms} ms at {self.fps} fps is shorter than two frames",
                f"use duration_ms >= {2000.0 / self.fps:.0f} at this frame rate",
                stage="condition",
            )
        if self.duration_ms * self.fps / 1000.0 > MAX_CLIP_FRAMES:
            raise MexkitInputError(None, f"duration {self.duration_ms:g} ms at {self.fps:g} fps is {self.duration_ms * self.fps / 1000.0:.0f} frames, "
                                   f"above {MAX_CLIP_FRAMES} per clip", "a micro-expression lasts under 0.5 s: e.g. duration_ms=400 at fps=200",
                                   stage="condition")
        if not (0.0 < self.apex_at <= self.offset_at <= 1.0):
            raise MexkitInputError(None, f"need 0 < apex_at <= offset_at <= 1, got {self.apex_at}, {self.offset_at}", "e.g. apex_at=0.4, offset_at=1.0", stage="condition")
        object.__setattr__(self, "aus", tuple(self.aus))

    @property
    def num_frames(self) -> int:
        return max(2, int(round(self.duration_ms * self.fps / 1000.0)))

    @property
    def apex_frame(self) -> int:
        return int(round(self.apex_at * (self.num_frames - 1)))

    @property
    def offset_frame(self) -> int:
        return int(round(self.offset_at * (self.num_frames - 1)))

    def profile(self) -> np.ndarray:
        """Expression strength per frame in [0, 1]: 0 at onset, 1 at apex, back to 0 at offset.

        Smooth (raised-cosine) rise and fall, so velocity is zero at onset, apex and offset — the
        unimodal onset→apex→offset curve of real micro-expressions.
        """
        t = np.arange(self.num_frames, dtype=np.float64)
        a, o = self.apex_frame, self.offset_frame
        p = np.zeros_like(t)
        if a > 0:
            rise = t <= a
            p[rise] = 0.5 - 0.5 * np.cos(np.pi * t[rise] / a)
        else:
            p[0] = 1.0
        fall = (t > a) & (t <= o)
        if o > a:
            p[fall] = 0.5 + 0.5 * np.cos(np.pi * (t[fall] - a) / (o - a))
        return p

    def to_dict(self) -> dict:
        d = asdict(self)
        d["aus"] = list(self.aus)
        return d
