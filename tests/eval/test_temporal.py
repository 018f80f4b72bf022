"""Temporal metrics validated on real aligned clips: scores grow monotonically with injected flicker and jitter."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.eval.degrade import add_flicker, add_jitter
from mexkit.eval.temporal import TemporalScorer, consistent_mask, temporal_scores

FLICKER = [0.0, 2.0, 4.0, 8.0, 16.0]  # grey levels
JITTER = [0.0, 0.5, 1.0, 2.0, 4.0]  # pixels at 128 px


def _strictly_up(values) -> bool:
    return bool(np.all(np.diff(np.asarray(values, np.float64)) > 0))


@pytest.fixture(scope="module")
def clips(short_clips):
    return short_clips[:3]  # a man's and two of a woman's real clips, 12 frames each


@pytest.mark.parametrize("occlusion", [True, False])
def test_flicker_raises_warp_error_and_flicker(clips, occlusion):
    for clip in clips:
        rows = [temporal_scores(add_flicker(clip.frames, a, seed=7), occlusion=occlusion) for a in FLICKER]
        we, fl = [r["warp_error"] for r in rows], [r["flicker"] for r in rows]
        print(f"{clip.sample_id} (occlusion check {occlusion}): flicker {FLICKER} → warp_error {np.round(we, 5)}, flicker {np.round(fl, 3)}")
        assert _strictly_up(we) and _strictly_up(fl)


def test_jitter_raises_jitter_and_tlpips(clips, random_lpips):
    scorer = TemporalScorer("dis", lpips=random_lpips)
    for clip in clips:
        rows = [scorer(clip.with_frames(add_jitter(clip.frames, j, seed=7)), reference=clip) for j in JITTER]
        ji, tl = [r["jitter"] for r in rows], [r["tlpips"] for r in rows]
        print(f"{clip.sample_id}: jitter {JITTER} px → jitter {np.round(ji, 4)} IOD, tLPIPS {np.round(tl, 4)}")
        assert _strictly_up(ji) and _strictly_up(tl)
        assert tl[0] == pytest.approx(0.0, abs=1e-9)  # the clip against itself
        # motion compensation: global shake is not mistaken for flicker
        assert rows[-1]["flicker"] < 2.0 * rows[0]["flicker"] + 0.5


def test_tlpips_needs_lpips_and_reference(clips, random_lpips):
    clip = clips[0]
    assert "lpips_consecutive" not in TemporalScorer("dis")(clip)
    row = TemporalScorer("dis", lpips=random_lpips)(clip)
    assert row["lpips_consecutive"] > 0 and "tlpips" not in row


def test_consistency_mask_on_a_known_translation(clips):
    """A pure 3-px shift: every pixel is consistent except the strip that entered the frame."""
    from mexkit.eval.temporal import clip_flows

    frame = clips[0].frames[0]
    shifted = np.concatenate([frame[:, :3], frame[:, :-3]], axis=1)
    fw, bw = clip_flows(np.stack([frame, shifted]), "dis")
    assert np.median(fw[0][..., 0]) == pytest.approx(3.0, abs=0.3)
    mask = consistent_mask(fw[0], bw[0])
    assert mask[:, 8:-8].mean() > 0.9
    assert not mask[:, :2].any()  # warped from outside the frame


def test_static_clip_scores_zero_and_errors(clips):
    static = np.repeat(clips[0].frames[:1], 5, axis=0)
    row = temporal_scores(static)
    assert row["warp_error"] == pytest.approx(0.0, abs=1e-12) and row["flicker"] == pytest.approx(0.0, abs=1e-6) and row["jitter"] == 0.0
    with pytest.raises(ValueError, match="two frames"):
        temporal_scores(static[:1])


def test_motion_boundaries_are_left_out_of_the_warping_error(clips):
    """Lai et al.'s second occlusion term: where the flow changes abruptly (one half of a real frame
    moves, the other does not) pixels are left out; a uniform translation has no boundary."""
    from mexkit.eval.temporal import clip_flows, motion_boundary, valid_pixels

    flow = np.zeros((32, 32, 2), np.float32)
    flow[:, :16, 0] = 4.0
    edge = motion_boundary(flow)
    assert edge[:, 15:17].all() and not edge[:, :14].any() and not edge[:, 18:].any()
    assert not motion_boundary(np.full((32, 32, 2), 3.0, np.float32)).any()
    frame = clips[0].frames[0]
    h, w = frame.shape[:2]
    moved = frame.copy()
    moved[:, 3:w // 2] = frame[:, :w // 2 - 3]  # the left half slides 3 px right, the right half stays
    fw, bw = clip_flows(np.stack([frame, moved]), "dis")
    left_out = ~valid_pixels(fw[0], bw[0])
    near = left_out[:, w // 2 - 4:w // 2 + 4].mean()
    far = left_out[:, w // 2 + 12:w - 8].mean()
    assert near > 0.5 and near > 4 * far, (near, far)
