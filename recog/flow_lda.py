"""Shrinkage LDA on flattened optical flow + strain, as a scikit-learn estimator.

A cheap, data-hungry recognizer: how much it gains from more training clips is what an augmentation
study measures, so it is the stand-in set's recognizer (configs/study_parametric_*.yaml, the study's
validation in tests/recog/test_study_validation.py and benchmarks/bench_study.py). Inputs are
`features.flow_strain` maps (N, C, H, W); the constructor only stores parameters (sklearn `clone`).
"""
from __future__ import annotations

from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .flat_classifier import FlatClassifier


class FlowLDA(FlatClassifier):
    """Standard-scaled linear discriminant analysis on flattened inputs.

    shrinkage: "auto" (Ledoit–Wolf, the default), a float in [0, 1], or None (plain LDA, solver "lsqr").
    A training set with a single class gives a model that predicts that class (`constant_`).
    target: "class" (default) or "aus" (one LDA per AU, per-AU probabilities; `flat_classifier.py`)."""

    input_kind = "flow_strain"

    def __init__(self, shrinkage: str | float | None = "auto", target: str = "class"):
        self.shrinkage = shrinkage
        self.target = target

    def build_pipeline(self):
        return make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage=self.shrinkage))
