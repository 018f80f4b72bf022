"""LBP-TOP + SVM, the classical micro-expression baseline, as a scikit-learn estimator.

`fit(X, y)` takes LBP-TOP histograms (N, D) from `features.lbptop` and class indices; it learns a
standard scaler and a linear (or RBF) SVM on the training rows only. The constructor only stores
parameters, so `sklearn.base.clone` gives a fresh copy per LOSO fold. A training set with a single
class (possible in tiny LOSO folds) gives a model that predicts that class, stated in `constant_`.
With target="aus" it detects the 12 MEB AUs one-vs-rest (one scaled SVM per AU; `flat_classifier.py`).
"""
from __future__ import annotations

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .flat_classifier import FlatClassifier


class LBPTOPSVM(FlatClassifier):
    """Standard-scaled SVM on LBP-TOP histograms.

    C, kernel ("linear" | "rbf"), gamma: the SVC's; class_weight: "balanced" (default) or None;
    random_state: seeds the SVC (used only with probability estimates; kept for the LOSO seed contract);
    target: "class" (default) or "aus" (one-vs-rest per AU, decision values per AU).
    """

    input_kind = "lbptop"

    def __init__(self, C: float = 1.0, kernel: str = "linear", gamma: str | float = "scale",
                 class_weight: str | None = "balanced", random_state: int = 0, target: str = "class"):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.class_weight = class_weight
        self.random_state = random_state
        self.target = target

    def build_pipeline(self):
        return make_pipeline(
            StandardScaler(),
            SVC(C=self.C, kernel=self.kernel, gamma=self.gamma, class_weight=self.class_weight, random_state=self.random_state),
        )
