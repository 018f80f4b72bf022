"""Motion profile and micro-ness on real clips: unimodal curves, duration scales with playback speed,
a static face has no displacement, and tracked landmarks agree with the corpus's."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.clip import Clip
from mexkit.eval.motion_profile import (MotionProfileScorer, displacement_curve, full_width_half_max, isotonic_increasing,
                                        profile_stats, similarity_fit, unimodal_fit, unimodality)


def test_similarity_fit_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (10, 2))
    ang, scale, shift = 0.3, 1.7, np.array([5.0, -3.0])
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    s, r, t = similarity_fit(src, src @ (scale * rot).T + shift)
    assert s == pytest.approx(scale) and np.allclose(r, rot) and np.allclose(t, shift)


def test_isotonic_and_unimodal_fits():
    from sklearn.isotonic import IsotonicRegression

    y = np.random.default_rng(1).normal(size=25).cumsum()
    np.testing.assert_allclose(isotonic_increasing(y), IsotonicRegression().fit_transform(np.arange(25), y), atol=1e-10)
    assert unimodality([0, 1, 3, 4, 2, 1, 0]) == pytest.approx(1.0)
    assert unimodality([0, 3, 0, 3, 0, 3, 0]) < 0.7
    fit = unimodal_fit([0, 2, 1, 3, 0])
    assert np.all(np.diff(fit[: int(np.argmax(fit)) + 1]) >= 0) and np.all(np.diff(fit[int(np.argmax(fit)):]) <= 0)


def test_full_width_half_max_interpolates():
    curve = np.array([0, 0, 1, 2, 4, 2, 1, 0, 0], float)
    assert full_width_half_max(curve, 4) == pytest.approx(2.0)  # crosses 2 at frames 3 and 5
    stats = profile_stats(curve, fps=100.0, onset=0, apex=4)
    assert stats["duration_half_ms"] == pytest.approx(20.0) and stats["onset_apex_ms"] == pytest.approx(40.0)
    assert stats["apex_offset_frames"] == 0 and stats["apex_disp_iod"] == 4.0


def test_real_clips_are_unimodal_and_shuffling_breaks_it(corpus):
    scorer = MotionProfileScorer()
    rng = np.random.default_rng(0)
    for clip in corpus.clips:
        row = scorer(clip)
        curve = scorer.curves[clip.sample_id]
        seg = curve[clip.onset:clip.offset + 1]
        shuffled = np.mean([unimodality(rng.permutation(seg)) for _ in range(5)])
        print(f"{clip.sample_id}: apex {row['apex_disp_iod']:.3f} IOD, FWHM {row['duration_half_ms']:.0f} ms, "
              f"unimodality {row['unimodality']:.3f} (shuffled frames {shuffled:.3f})")
        assert row["unimodality"] > 0.95
        assert shuffled < row["unimodality"] - 0.05
        assert 0.02 < row["apex_disp_iod"] < 0.5  # real expressions move landmarks by a few % of the IOD


def test_duration_halves_at_double_speed(corpus):
    """Every other frame at the same fps = the same expression twice as fast: FWHM in ms halves."""
    ratios = []
    for clip in corpus.clips:
        curve = displacement_curve(clip.landmarks, clip.onset)
        full = profile_stats(curve[clip.onset:], clip.fps)
        fast = profile_stats(curve[clip.onset::2], clip.fps)
        ratios.append(fast["duration_half_ms"] / full["duration_half_ms"])
    print(f"FWHM ratio at double speed: {np.round(ratios, 3)}")
    assert np.median(ratios) == pytest.approx(0.5, abs=0.08)
    assert all(0.3 < r < 0.7 for r in ratios)


def test_static_face_has_no_displacement_and_tracking_matches_corpus(corpus):
    """Fresh MediaPipe tracking (clip without landmarks) reproduces the corpus's curve; a frozen face scores ~0."""
    clip = corpus.clips[0]
    scorer = MotionProfileScorer()
    stored = scorer.curve(clip)
    tracked = scorer.curve(clip.with_frames(clip.frames, landmarks=None))
    static = scorer(Clip(frames=np.repeat(clip.frames[clip.onset:clip.onset + 1], 10, 0), fps=clip.fps, sample_id="static"))
    corr = np.corrcoef(stored, tracked)[0, 1]
    print(f"tracked vs corpus landmarks: corr {corr:.3f}, max |diff| {np.abs(stored - tracked).max():.4f} IOD; static apex {static['apex_disp_iod']:.5f}")
    assert corr > 0.95
    assert static["apex_disp_iod"] < 0.005 < 0.02 < stored.max()
