"""What every spotter implements, and the registry of spotters by name.

A spotter works in two steps, so a video is read once and never held in memory:

1. `feature_stream()` — a `FeatureStream` that is pushed one `FaceFrame` at a time (one face track, one
   segment: consecutive frames, no gap) and returns per-frame signal values as soon as they can be
   computed (a value for frame i may need frame i + k, so rows come back late; `flush` at the segment's
   end returns what is left);
2. `find(signals, fps)` — the whole segment's signals (column → (T,) float, NaN = undefined) → intervals
   (positions within the segment, inclusive), with a type (ME / MaE) and a score (larger = surer).

Every window is set in seconds (`seconds`) and turned into frames at the video's rate (`frames`), both
reported by `parameters()`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import numpy as np

from mexkit.video_faces import TrackedFace

from .seconds import frames_for


@dataclass
class FaceFrame:
    """One tracked face in one frame, as spotters see it; registered crops are made once and shared."""

    index: int
    time_s: float
    image: np.ndarray
    face: TrackedFace
    _crops: dict | None = None

    def crop(self, size: int) -> np.ndarray:
        """The registered gray face crop (size × size uint8), eye-template geometry."""
        if self._crops is None:
            self._crops = {}
        if size not in self._crops:
            self._crops[size] = self.face.crop(self.image, size)
        return self._crops[size]

    def crop_landmarks(self, size: int) -> np.ndarray:
        """The face's landmarks (478, 2) in that crop's pixels."""
        m = self.face.crop_affine * size
        return self.face.landmarks @ m[:, :2].T + m[:, 2]


@dataclass
class SpotInterval:
    """An interval within one segment: inclusive positions, type "ME"/"MaE", score (larger = surer)."""

    onset: int
    apex: int
    offset: int
    type: str
    score: float


Rows = list[tuple[int, dict[str, float]]]


class FeatureStream(ABC):
    """Per-frame signal values of one face track over one segment (see the module docstring)."""

    @abstractmethod
    def push(self, frame: FaceFrame) -> Rows:
        """Feed the next frame; → [(frame index, {column: value})] for frames now computable."""

    def flush(self) -> Rows:
        """The segment ended: rows still owed (usually none: frames too near the end stay undefined)."""
        return []


class Spotter(ABC):
    """A training-free spotter at one frame rate. Subclasses set `name`, `columns`, `seconds` (their
    windows and durations in seconds) and `settings` (everything else), and implement the two steps."""

    name: str = ""
    columns: tuple[str, ...] = ()
    seconds: dict[str, float] = {}
    settings: dict = {}

    def __init__(self, fps: float, **overrides):
        self.fps = float(fps)
        self.seconds = dict(type(self).seconds)
        self.settings = dict(type(self).settings)
        for key, value in overrides.items():
            if key in self.seconds:
                self.seconds[key] = float(value)
            elif key in self.settings:
                self.settings[key] = value
            else:
                raise ValueError(f"{self.name}: unknown parameter {key!r}; known: {sorted(self.seconds) + sorted(self.settings)}")

    def frames(self, key: str, minimum: int = 1) -> int:
        """A window of `seconds[key]` in frames at this video's rate (round half up)."""
        return frames_for(self.seconds[key], self.fps, minimum)

    def parameters(self) -> dict:
        """Every parameter: windows in seconds and in frames at this fps, and the other settings."""
        out = {"spotter": self.name, "fps": self.fps}
        for key, value in self.seconds.items():
            out[key] = value
            out[key.removesuffix("_s") + "_frames"] = self.frames(key)
        out.update(self.settings)
        return out

    @abstractmethod
    def feature_stream(self) -> FeatureStream:
        """A fresh per-segment feature stream."""

    @abstractmethod
    def find(self, signals: dict[str, np.ndarray]) -> list[SpotInterval]:
        """Intervals of one segment from its signals (column → (T,) float). It may add derived columns
        (a contrast, an aggregate) to `signals`: they are recorded with the per-frame signals."""


SPOTTERS: dict[str, Callable[..., Spotter]] = {}
DEFAULT_SPOTTER = "blendshapes"  # chosen by ME F1 on the validation split (docs/design.md §8, docs/targets.md)


def register_spotter(cls):
    SPOTTERS[cls.name] = cls
    return cls


def make_spotter(name: str, fps: float, **overrides) -> Spotter:
    """A spotter by name ("default" = DEFAULT_SPOTTER) at a frame rate."""
    from . import blendshape_spotter, blendshape_windows, mdmd, regional_spotter, roi_flow  # noqa: F401  (register)

    key = DEFAULT_SPOTTER if name == "default" else name
    if key not in SPOTTERS:
        raise ValueError(f"unknown spotter {name!r}; choose one of {['default', *sorted(SPOTTERS)]}")
    return SPOTTERS[key](fps, **overrides)


def spotter_names() -> list[str]:
    from . import blendshape_spotter, blendshape_windows, mdmd, regional_spotter, roi_flow  # noqa: F401  (register)

    return ["default", *sorted(SPOTTERS)]
