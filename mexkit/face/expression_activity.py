"""Expression activity: how far a person's face is from their own neutral, frame by frame (one signal for
synth and recog).

MediaPipe's 52 blendshapes come with its landmarks (mexkit.video_faces.FaceTracker gives them per frame).
The AU-like ones, EXPRESSION_BLENDSHAPES — brows, cheeks, eye squint / wide, nose sneer, mouth corners —
move with expressions; blinks and gaze are no expression, and the shapes speech drives (jaw open, mouth
close / funnel / pucker / roll / shrug, lips up / down, sideways jaw and mouth, cheek puff) are left out
so talking does not count. The person's neutral is a running median of each shape (medians of
`block_s` blocks, then the median of the blocks within ± `baseline_s` / 2 of each frame), and

    activity(t) = max over shapes of (shape(t) − its baseline(t))          (blendshape units, ~0–1)

NaN where no face was found. This is the signal of recog's blendshape spotter (docs/design.md §8);
`mexkit insert` uses it to keep inserted events away from the person's own expressions (CALM_ACTIVITY).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

EXPRESSION_BLENDSHAPES = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekSquintLeft", "cheekSquintRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight",
    "noseSneerLeft", "noseSneerRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight", "mouthPressLeft", "mouthPressRight",
)
BASELINE_S = 2.0  # the blendshape spotter's baseline window (recog/spotting/blendshape_spotter.py)
BLOCK_S = 0.5
# Below this activity a face shows no expression of its own: the blendshape spotter's "on" level
# (an expression interval starts where activity exceeds 0.10).
CALM_ACTIVITY = 0.10


def expression_columns(names: Sequence[str]) -> np.ndarray:
    """Indices of EXPRESSION_BLENDSHAPES in a blendshape name list (e.g. mexkit.video_faces.BLENDSHAPE_NAMES)."""
    names = list(names)
    missing = [n for n in EXPRESSION_BLENDSHAPES if n not in names]
    if missing:
        raise ValueError(f"blendshape names lack {missing[:3]}…: not MediaPipe's 52 shapes")
    return np.array([names.index(n) for n in EXPRESSION_BLENDSHAPES])


def running_baseline(x: np.ndarray, block: int, window_blocks: int) -> np.ndarray:
    """Per column, the median of block medians around each frame: (T, C) → (T, C). Blocks of `block`
    frames; each frame takes the median over the `window_blocks` blocks centred on its own (fewer at the
    ends). NaN rows are ignored; a column with no value near a frame gives NaN there."""
    x = np.asarray(x, np.float64)
    t, c = x.shape
    if t == 0:
        return np.zeros((0, c))
    block = max(1, int(block))
    nb = -(-t // block)
    pad = np.full((nb * block, c), np.nan)
    pad[:t] = x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks: no face there
        med = np.nanmedian(pad.reshape(nb, block, c), axis=1)
        half = max(1, int(window_blocks)) // 2
        out = np.stack([np.nanmedian(med[max(0, i - half):i + half + 1], axis=0) for i in range(nb)])
    return np.repeat(out, block, axis=0)[:t]


def expression_activity(shapes: np.ndarray, fps: float, baseline_s: float = BASELINE_S, block_s: float = BLOCK_S) -> np.ndarray:
    """(T, C) expression blendshapes (columns of EXPRESSION_BLENDSHAPES; NaN rows = no face) → (T,) activity."""
    x = np.asarray(shapes, np.float64)
    if len(x) == 0:
        return np.zeros(0)
    block = max(1, int(round(block_s * fps)))
    base = running_baseline(x, block, max(1, int(round(baseline_s / block_s))))
    rise = x - base
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = np.nanmax(np.where(np.isfinite(rise), rise, np.nan), axis=1)
    return np.where(np.isfinite(a), a, np.nan)
