"""Kept recognizers' scores: Platt calibration reproduces its published definition on a hand-computed case
and scikit-learn's CalibratedClassifierCV(method="sigmoid", ensemble=False) on a real recognizer; raw
scores are named for what they are."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.recog.kept_scores import PlattCalibration, calibration_folds, fit_platt, raw_score_kind, raw_scores


def test_platt_on_a_hand_computed_case():
    """Two score values, two of each class: Platt's targets are 3/4 and 1/4 (N₊ = N₋ = 2), the fitted
    sigmoid reproduces them exactly, so b = 0 and a = −log 3."""
    a, b = fit_platt(np.array([-1.0, -1.0, 1.0, 1.0]), np.array([0, 0, 1, 1]))
    assert a == pytest.approx(-np.log(3.0), abs=1e-5) and b == pytest.approx(0.0, abs=1e-5)
    cal = PlattCalibration([a], [b], 2, "decision")
    p = cal(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    np.testing.assert_allclose(p, [[0.75, 0.25], [0.25, 0.75]], atol=1e-5)


def test_platt_matches_scikit_learn_calibrated_classifier(stand_in_features):
    """Same out-of-fold scheme as CalibratedClassifierCV(ensemble=False): identical probabilities."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import cross_val_predict

    from mexkit.recog.lbptop_svm import LBPTOPSVM

    X, y, groups = stand_in_features
    splits = calibration_folds(y, groups, 3, seed=0)
    model = LBPTOPSVM().fit(X, y)
    oof = cross_val_predict(LBPTOPSVM(), X, y, cv=splits, method="decision_function")
    ours = PlattCalibration.fit(oof, y, "decision", len(splits))(raw_scores(model, X, 3))
    ref = CalibratedClassifierCV(LBPTOPSVM(), method="sigmoid", cv=splits, ensemble=False).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert np.allclose(ours.sum(axis=1), 1.0)


def test_raw_scores_are_named_for_what_they_are(stand_in_features):
    from mexkit.recog.flow_lda import FlowLDA
    from mexkit.recog.lbptop_svm import LBPTOPSVM
    from mexkit.recog.ststnet import STSTNet

    X, y, _ = stand_in_features
    assert raw_score_kind(LBPTOPSVM().fit(X, y)) == "decision"
    assert raw_score_kind(FlowLDA().fit(X, y)) == "decision"  # its fitted pipeline's LDA decision function
    net = STSTNet(num_classes=3, input_size=14, epochs=1).fit(X, y)
    assert raw_score_kind(net) == "softmax"
    np.testing.assert_allclose(raw_scores(net, X, 3).sum(axis=1), 1.0, atol=1e-5)
    binary = LBPTOPSVM().fit(X[y < 2], y[y < 2])
    d = binary.decision_function(X[:5])
    np.testing.assert_array_equal(raw_scores(binary, X[:5], 2), np.stack([-d, d], axis=1))
    with pytest.raises(ValueError, match="not all 3"):  # a model that never saw class 2 cannot score it
        raw_scores(binary, X[:5], 3)


def test_calibration_folds_are_grouped_by_person():
    y = np.array([0, 1, 2] * 8)
    groups = np.repeat([f"p{i}" for i in range(6)], 4)
    for tr, te in calibration_folds(y, groups, 3, seed=1):
        assert not set(groups[tr]) & set(groups[te])
    with pytest.raises(ValueError, match="two subjects"):
        calibration_folds(y, ["one"] * len(y), 3, seed=0)


@pytest.fixture(scope="module")
def stand_in_features(param_clips):
    """Flow + strain (DIS, 14²) of the stand-in set's 40 clips (real corpus faces, class-specific warps), class
    indices and subjects."""
    from mexkit.datasets.label_maps import MEGC_CLASSES
    from mexkit.recog.features import compute_features

    X = compute_features(param_clips, "flow_strain", size=14, method="dis")
    y = np.array([MEGC_CLASSES.index(c.label) for c in param_clips])
    return X, y, np.array([c.subject for c in param_clips])
