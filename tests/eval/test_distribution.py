"""Distribution metrics: Fréchet distance (checked against Gaussians, and growing as real clips lose their
motion) and CAS with the default or any user feature function / classifier."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.eval.distribution import (classification_accuracy_score, feature_matrix, flow_statistics_features,
                                      frechet_distance, labelled, uf1_uar)


def test_frechet_distance_of_gaussians():
    rng = np.random.default_rng(0)
    mu = np.array([1.0, -2.0, 0.5])
    a = rng.normal(size=(20000, 3))
    b = rng.normal(size=(20000, 3)) * 2.0 + mu  # N(μ, 4I): FD = |μ|² + 3·(1 + 4 − 2·2) = |μ|² + 3
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(float(mu @ mu) + 3.0, rel=0.03)
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(a[:1], b)


def _motion_scaled(clip, alpha: float):
    """The same real clip with its apex moved toward the onset: alpha=1 original, 0 no motion."""
    return clip.with_frames(clip.frames, apex=clip.onset + int(round(alpha * (clip.apex - clip.onset))))


def test_frechet_grows_as_real_clips_lose_motion(corpus):
    real = feature_matrix(corpus.clips)
    assert real.shape == (len(corpus.clips), 64)
    fd = [frechet_distance(real, feature_matrix([_motion_scaled(c, a) for c in corpus.clips])) for a in (1.0, 0.5, 0.25, 0.0)]
    print(f"FD(real, motion scaled 1 / .5 / .25 / 0): {np.round(fd, 4)}")
    assert fd[0] == pytest.approx(0.0, abs=1e-8)
    assert np.all(np.diff(fd) > 0)


def test_flow_features_do_not_depend_on_resolution(corpus):
    import cv2

    clip = corpus.clips[0]
    small = clip.with_frames(np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in clip.frames]))
    a, b = flow_statistics_features(clip), flow_statistics_features(small)
    assert np.corrcoef(a, b)[0, 1] > 0.99


def test_cas_trains_on_synthetic_and_tests_on_real(corpus):
    """Synthetic stand-ins: the labelled real clips with noise; any feature function and estimator plug in."""
    from sklearn.neighbors import KNeighborsClassifier

    from mexkit.eval.degrade import add_noise

    real = [c for c in corpus.clips if c.label]
    fake = [c.with_frames(add_noise(c.frames, 3.0, seed=i)) for i, c in enumerate(real)]
    fx, fy = labelled(feature_matrix(fake), [c.label for c in fake])
    rx, ry = labelled(feature_matrix(real), [c.label for c in real])
    res = classification_accuracy_score(fx, fy, rx, ry)
    assert res["n_train"] == res["n_test"] == len(real)
    assert res["confusion"].to_numpy().sum() == len(real) and 0 <= res["uf1"] <= 1 and 0 <= res["uar"] <= 1
    knn = KNeighborsClassifier(n_neighbors=1)
    res1 = classification_accuracy_score(fx, fy, rx, ry, estimator=knn)
    assert res1["accuracy"] == 1.0  # each real clip's nearest synthetic clip is its own noisy copy
    assert not hasattr(knn, "classes_")  # the estimator passed in is cloned, never fitted in place

    def mean_color(clip):  # any callable clip → vector is a feature function
        return clip.frames[clip.apex].reshape(-1, 3).mean(0)

    assert feature_matrix(real, mean_color).shape == (len(real), 3)
    with pytest.raises(ValueError, match="two classes"):
        classification_accuracy_score(fx[:1], fy[:1], rx, ry)


def test_uf1_uar_by_hand():
    y = ["a", "a", "b", "b", "c"]
    p = ["a", "b", "b", "b", "a"]
    uf1, uar = uf1_uar(y, p, ["a", "b", "c"])
    assert uar == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert uf1 == pytest.approx((0.5 + 0.8 + 0.0) / 3)
