"""`FlatClassifier`: the shared body of the classical recognizers — flatten each input to a vector, fit a
scikit-learn pipeline on the training rows only, and predict the one class when a (tiny LOSO) training
set holds a single class (`constant_`). Subclasses store their parameters and build the pipeline."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted


class FlatClassifier(ClassifierMixin, BaseEstimator):
    """Base of LBPTOPSVM and FlowLDA: `build_pipeline()` returns the unfitted scikit-learn pipeline."""

    def build_pipeline(self):
        raise NotImplementedError

    @staticmethod
    def flat(X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64).reshape(len(X), -1)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "FlatClassifier":
        X, y = self.flat(X), np.asarray(y)
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"need as many labels as inputs (and at least one), got {len(X)} inputs, {len(y)} labels")
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        if len(self.classes_) == 1:
            self.constant_, self.pipeline_ = self.classes_[0], None
            return self
        self.constant_ = None
        self.pipeline_ = self.build_pipeline()
        self.pipeline_.fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "classes_")
        X = self.flat(X)
        if self.pipeline_ is None:
            return np.full(len(X), self.constant_)
        return self.pipeline_.predict(X)
