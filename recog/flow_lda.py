"""Shrinkage LDA on flattened optical flow + strain, as a scikit-learn estimator.

A cheap, data-hungry recognizer: how much it gains from more training clips is what an augmentation
study measures, so it is the stand-in set's recognizer (configs/study_parametric_*.yaml, the study's
validation in tests/recog/test_study_validation.py and benchmarks/bench_study.py). Inputs are
`features.flow_strain` maps (N, C, H, W); the constructor only stores parameters (sklearn `clone`).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted


class FlowLDA(ClassifierMixin, BaseEstimator):
    """Standard-scaled linear discriminant analysis on flattened inputs.

    shrinkage: "auto" (Ledoit–Wolf, the default), a float in [0, 1], or None (plain LDA, solver "lsqr").
    A training set with a single class gives a model that predicts that class (`constant_`)."""

    input_kind = "flow_strain"

    def __init__(self, shrinkage: str | float | None = "auto"):
        self.shrinkage = shrinkage

    def fit(self, X: np.ndarray, y: np.ndarray) -> "FlowLDA":
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        y = np.asarray(y)
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"need as many labels as inputs (and at least one), got {len(X)} inputs, {len(y)} labels")
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        if len(self.classes_) == 1:
            self.constant_, self.pipeline_ = self.classes_[0], None
            return self
        self.constant_ = None
        self.pipeline_ = make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage=self.shrinkage))
        self.pipeline_.fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "classes_")
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        if self.pipeline_ is None:
            return np.full(len(X), self.constant_)
        return self.pipeline_.predict(X)
