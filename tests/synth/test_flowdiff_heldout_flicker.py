"""The shipped flow-diffusion demo does not flicker on faces it never saw (issue 18).

Flicker (`mexkit.eval.temporal`: motion-compensated change of low-frequency luminance, grey levels) of
the demo's clips on the corpus faces held out of its training, against the warp baseline on the same
faces and conditions: within the target of docs/targets.md (≤ 1.5× the warp baseline). Before issue 18
(the sampled 8-frame sequence resampled in time, darkening-only shading) the demo was at ~2.7× here
(~0.19 vs ~0.07 grey levels, measured 2026-12-04), and now ~0.8×, so the 1.5× target is far from both;
the old settings are checked to fail it, so the test measures what it claims. The full comparison
(more faces and seeds, identity and class accuracy) is `benchmarks/bench_flowdiff.py --heldout-only`.
"""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.synth import Condition, load_generator
from mexkit.synth.flowdiff.pipeline import _resize_crop

CLASSES = ("negative", "positive", "surprise")
TARGET_RATIO = 1.5  # docs/targets.md: flow-diffusion demo weights


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/synth/conftest.py


@pytest.fixture(scope="module")
def setup():
    from mexkit.datasets import load_corpus

    demo = load_generator("flowdiff-demo")
    demo.set_progress_bar_config(disable=True)
    trained = set(demo.train_subjects)
    held = [f for f in load_corpus().faces if f.subject not in trained]
    assert {f.subject for f in held} == {"corpus_f13", "corpus_m7", "corpus_astronaut"}
    return demo, held


def _mean_flicker(make_clip, faces) -> float:
    from mexkit.eval.temporal import temporal_scores

    scores = []
    for i, face in enumerate(faces):
        for label in CLASSES:
            frames = make_clip(face, Condition(label=label, intensity=1.0, duration_ms=400, fps=40), i)
            scores.append(temporal_scores(frames, "dis")["flicker"])
    return float(np.mean(scores))


def test_demo_flicker_within_target_of_warp_baseline_on_held_out_faces(setup):
    demo, held = setup
    warp = load_generator("warp", resolution=128)
    ref = _mean_flicker(lambda f, c, i: warp.generate(f, c, generator=i).clip.frames, held)
    shipped = {k: demo.config[k] for k in ("temporal_projection", "shading_highpass")}
    assert shipped == {"temporal_projection": "profile", "shading_highpass": 0.0625}

    def flowdiff(f, c, i):
        out = demo(f, c, generator=i, resolution=128)
        assert out.clip.frames.shape == (16, 128, 128, 3)
        assert np.array_equal(out.clip.frames[0], _resize_crop(f.crop, 128))  # frame 0 is the input
        return out.clip.frames

    now = _mean_flicker(flowdiff, held)
    try:
        demo.register_to_config(temporal_projection="none", shading_highpass=0.0)  # before issue 18
        before = _mean_flicker(flowdiff, held)
    finally:
        demo.register_to_config(**shipped)
    assert now <= TARGET_RATIO * ref, f"flicker {now:.3f} vs warp baseline {ref:.3f} ({now / ref:.2f}×)"
    assert before > TARGET_RATIO * ref, f"the pre-issue-18 settings should miss the target: {before:.3f} vs {ref:.3f}"
