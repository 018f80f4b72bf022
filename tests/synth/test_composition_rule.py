"""Every generator's GeneratorOutput obeys the one composition rule (synth/output.py):

    frame[t] = clip(warp(neutral, flow[t]) + 255 · residual[t], 0, 255)

The frames are rebuilt from frame 0, `flow` and `residual` with `compose_frames` (exact bilinear
sampling, one rounding) and must match the clip. Tolerance, per warp implementation:
- MoCoGAN and flow diffusion warp with torch grid_sample like `compose_frames`: only rounding differs,
  at most 1 grey level.
- the warp baseline and motion transfer warp with cv2.remap, which quantises sampling positions to
  1/32 px and rounds to uint8 before painting: up to 3 grey levels on the sharpest edges (measured 2–3
  on these faces).
Either way the mean difference stays far below one level (< 0.1).
"""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.synth import Condition, load_generator
from mexkit.synth.output import compose_frames

MAX_DIFF = {"warp": 3, "motion-transfer": 3, "mocogan-demo": 1, "flowdiff-demo": 1}  # see the module docstring
FACE_IDS = ["corpus_man__single_face_f0002", "corpus_f1__0-f1-su-ph"]


@pytest.fixture(scope="module")
def faces():
    from mexkit.datasets import load_corpus

    by_id = {f.meta["face_id"]: f for f in load_corpus().faces}
    return [by_id[i] for i in FACE_IDS]


def make_generator(name: str, faces):
    if name == "motion-transfer":
        src = load_generator("warp").generate(faces[1], Condition(label="surprise", intensity=0.8), generator=3)
        return load_generator(name, driving=src.extras["requested_landmarks"], fps=src.clip.fps)
    return load_generator(name)


@pytest.mark.parametrize("name", ["warp", "motion-transfer", "mocogan-demo", "flowdiff-demo"])
def test_frames_rebuild_from_flow_and_residual(name, faces):
    gen = make_generator(name, faces)
    # negative with AU25+26 makes the warp family paint an opened mouth (a non-zero residual)
    conds = [Condition(label="surprise", intensity=1.0)]
    if name in ("warp", "motion-transfer"):
        conds.append(Condition(label="negative", intensity=1.0, aus=("AU25", "AU26")) if name == "warp" else Condition(label="negative", intensity=1.0))
    else:
        conds.append(Condition(label="positive", intensity=1.0))
    for face, cond in zip(faces, conds):
        out = gen.generate(face, cond, generator=0)
        frames = out.clip.frames
        assert out.flow is not None and out.flow.shape == frames.shape[:3] + (2,)
        if out.residual is not None:
            assert out.residual.shape == frames.shape
        if out.mask is not None:
            assert out.mask.shape == frames.shape[:3] and out.mask.min() >= 0.0 and out.mask.max() <= 1.0
        rebuilt = compose_frames(frames[0], out.flow, out.residual)
        np.testing.assert_array_equal(out.composed_frames(), rebuilt)
        diff = np.abs(rebuilt.astype(np.int16) - frames.astype(np.int16))
        assert np.array_equal(rebuilt[0], frames[0])
        assert diff.max() <= MAX_DIFF[name], f"{name}: max |diff| {diff.max()}"
        assert diff.mean() < 0.1, f"{name}: mean |diff| {diff.mean():.3f}"
        moved = np.abs(frames[1:].astype(np.int16) - frames[:1].astype(np.int16)).mean()
        assert moved > diff.mean() * 5  # the clip moves far more than the rebuild errs


def test_the_warp_baseline_residual_carries_the_painted_mouth(faces):
    """Without the residual the painted mouth is missing: the rule needs it, and it is not a no-op."""
    out = load_generator("warp", au_jitter=0.0).generate(faces[0], Condition(label="negative", intensity=1.0, aus=("AU25", "AU26")), generator=0)
    assert out.residual is not None
    a = out.clip.apex
    without = compose_frames(out.clip.frames[0], out.flow[a:a + 1])[0].astype(np.int16)
    assert np.abs(without - out.clip.frames[a]).max() > 20
