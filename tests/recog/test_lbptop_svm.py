"""LBP-TOP + SVM as a scikit-learn estimator on real-face clips."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from mexkit.recog.lbptop_svm import LBPTOPSVM


def test_estimator_api_clone_and_learning(param_set):
    x = param_set.features("lbptop", grid=4, num_frames=6, size=48)
    y = param_set.y
    est = LBPTOPSVM(C=0.5, random_state=3)
    assert est.get_params()["C"] == 0.5
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "classes_")
    with pytest.raises(NotFittedError):
        c.predict(x)
    subjects = param_set.table["subject"].to_numpy()
    test = np.isin(subjects, param_set.table["subject"].value_counts().index[:3])
    est.fit(x[~test], y[~test])
    assert est.score(x[~test], y[~test]) > 0.9  # ClassifierMixin.score: training accuracy
    assert est.score(x[test], y[test]) > 0.45  # above chance on unseen subjects
    assert est.decision_function(x[:3]).shape == (3, 3)


def test_single_class_training_predicts_that_class(param_set):
    x = param_set.features("lbptop", grid=4, num_frames=6, size=48)
    est = LBPTOPSVM().fit(x[:3], np.array([2, 2, 2]))
    assert est.constant_ == 2
    assert est.predict(x).tolist() == [2] * len(x)
