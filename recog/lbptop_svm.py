"""LBP-TOP + SVM, the classical micro-expression baseline, as a scikit-learn estimator.

`fit(X, y)` takes LBP-TOP histograms (N, D) from `features.lbptop` and class indices; it learns a
standard scaler and a linear (or RBF) SVM on the training rows only. The constructor only stores
parameters, so `sklearn.base.clone` gives a fresh copy per LOSO fold. A training set with a single
class (possible in tiny LOSO folds) gives a model that predicts that class, stated in `constant_`.
"""
from __future__ import annotations

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from .flat_classifier import FlatClassifier


class LBPTOPSVM(FlatClassifier):
    """Standard-scaled SVM on LBP-TOP histograms.

    C, kernel ("linear" | "rbf"), gamma: the SVC's; class_weight: "balanced" (default) or None;
    random_state: seeds the SVC (used only with probability estimates; kept for the LOSO seed contract).
    """

    input_kind = "lbptop"

    def __init__(self, C: float = 1.0, kernel: str = "linear", gamma: str | float = "scale",
                 class_weight: str | None = "balanced", random_state: int = 0):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.class_weight = class_weight
        self.random_state = random_state

    def build_pipeline(self):
        return make_pipeline(
            StandardScaler(),
            SVC(C=self.C, kernel=self.kernel, gamma=self.gamma, class_weight=self.class_weight, random_state=self.random_state),
        )

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "classes_")
        if self.pipeline_ is None:
            raise ValueError("the model saw a single class; it has no decision function")
        return self.pipeline_.decision_function(self.flat(X))
