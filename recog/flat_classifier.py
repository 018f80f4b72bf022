"""`FlatClassifier`: the shared body of the classical recognizers — flatten each input to a vector, fit a
scikit-learn pipeline on the training rows only, and predict the one class when a (tiny LOSO) training
set holds a single class (`constant_`). Subclasses store their parameters and build the pipeline.

With target="aus" the recognizer detects the 12 MEB action units (mexkit.datasets.au_targets.MEB_AUS)
one-vs-rest: `fit(X, Y)` with Y (N, 12) 0/1 fits one pipeline per AU on that AU's 0/1 column;
`predict` → (N, 12) 0/1; per-AU scores by `decision_function` (N, 12) or, where the pipeline has one,
`predict_proba` (N, 12) (the positive class's probability). An AU whose column is constant in the
training rows (never or always on) gets no pipeline: it is predicted constantly, recorded in
`au_constant_` (NaN: learned; 0 / 1: fixed), with decision value −1 / +1 and probability 0 / 1.
State is plain: numpy arrays and scikit-learn pipelines (saved with skops by the model folder).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from mexkit.datasets.au_targets import MEB_AUS, NUM_AUS

TARGETS = ("class", "aus")


def _final_step_has(method: str, aus_only: bool = False):
    """available_if check: the pipeline's last step has `method` (and, with aus_only, target is "aus")."""

    def check(self) -> bool:
        return (not aus_only or self.target == "aus") and hasattr(self.build_pipeline()[-1], method)

    return check


class FlatClassifier(ClassifierMixin, BaseEstimator):
    """Base of LBPTOPSVM and FlowLDA: `build_pipeline()` returns the unfitted scikit-learn pipeline;
    subclasses store `target` ("class" | "aus") with their other parameters."""

    target = "class"

    def build_pipeline(self):
        raise NotImplementedError

    @staticmethod
    def flat(X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64).reshape(len(X), -1)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "FlatClassifier":
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")
        X, y = self.flat(X), np.asarray(y)
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"need as many labels as inputs (and at least one), got {len(X)} inputs, {len(y)} labels")
        self.n_features_in_ = X.shape[1]
        if self.target == "aus":
            return self._fit_aus(X, y)
        self.classes_ = np.unique(y)
        if len(self.classes_) == 1:
            self.constant_, self.pipeline_ = self.classes_[0], None
            return self
        self.constant_ = None
        self.pipeline_ = self.build_pipeline()
        self.pipeline_.fit(X, y)
        return self

    def _fit_aus(self, X: np.ndarray, Y: np.ndarray) -> "FlatClassifier":
        if Y.ndim != 2 or Y.shape[1] != NUM_AUS or not np.isin(Y, (0, 1)).all():
            raise ValueError(f"AU targets must be 0/1 of shape (N, {NUM_AUS}), got shape {Y.shape}")
        Y = Y.astype(np.int64)
        self.classes_ = np.array(MEB_AUS)
        self.au_constant_ = np.full(NUM_AUS, np.nan)
        self.estimators_ = []
        template = self.build_pipeline()
        for k in range(NUM_AUS):
            col = Y[:, k]
            if col.min() == col.max():  # never / always on: nothing to learn
                self.au_constant_[k] = float(col[0])
                self.estimators_.append(None)
            else:
                self.estimators_.append(clone(template).fit(X, col))
        return self

    def _per_au(self, X: np.ndarray, method: str, fixed: tuple[float, float]) -> np.ndarray:
        check_is_fitted(self, "estimators_")
        X = self.flat(X)
        out = np.empty((len(X), NUM_AUS))
        for k, est in enumerate(self.estimators_):
            if est is None:
                out[:, k] = fixed[int(self.au_constant_[k])]
            elif method == "predict_proba":
                out[:, k] = est.predict_proba(X)[:, list(est.classes_).index(1)]
            else:
                out[:, k] = getattr(est, method)(X)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (N,), or 0/1 AUs (N, 12) with target="aus"."""
        if self.target == "aus":
            return self._per_au(X, "predict", (0.0, 1.0)).astype(np.int64)
        check_is_fitted(self, "classes_")
        X = self.flat(X)
        if self.pipeline_ is None:
            return np.full(len(X), self.constant_)
        return self.pipeline_.predict(X)

    @available_if(_final_step_has("decision_function"))
    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The pipeline's decision values; with target="aus", one column per AU (N, 12) (−1 / +1 for a fixed AU)."""
        if self.target == "aus":
            return self._per_au(X, "decision_function", (-1.0, 1.0))
        check_is_fitted(self, "classes_")
        if self.pipeline_ is None:
            raise ValueError("the model saw a single class; it has no decision function")
        return self.pipeline_.decision_function(self.flat(X))

    @available_if(_final_step_has("predict_proba", aus_only=True))
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """With target="aus" and a pipeline that has probabilities (LDA, not the SVM): (N, 12) per-AU
        probabilities of "on" (0 / 1 for a fixed AU)."""
        return self._per_au(X, "predict_proba", (0.0, 1.0))
