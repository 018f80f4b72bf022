"""What a kept recognizer's scores are (docs/design.md §5 "Kept recognizers"): raw scores of a fitted
model, and their Platt (sigmoid) calibration fitted on internal folds of the training rows only.

Raw scores, (N, K) float64, and the name each gets in a predictions table:
- `decision`: a scikit-learn model's decision function (signed distances, not probabilities); a binary
  model's single column d becomes [−d, d] (the sklearn convention: positive favours classes_[1]);
- `softmax`: a network's softmax output — sums to 1 but is NOT calibrated;
- `sigmoid`: a network's per-output sigmoid (multi-label AU heads) — NOT calibrated;
- `prob`: calibrated probabilities: one Platt sigmoid per class, p_c = 1 / (1 + exp(a_c·s_c + b_c)),
  fitted on out-of-fold raw scores s_c of the training rows (folds grouped by subject, so calibration
  sees subjects its fold model never saw), then normalised over the classes (one class only when K = 2:
  p_0 = 1 − p_1). This is scikit-learn's CalibratedClassifierCV(method="sigmoid", ensemble=False)
  with Platt's target smoothing; the test checks the two agree on a real recognizer. A multi-label (AU)
  head gets one sigmoid per output and no normalisation (each AU is its own yes / no).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import log
from typing import Any, Sequence

import numpy as np

SCORE_KINDS = ("decision", "softmax", "sigmoid", "prob")
CALIBRATIONS = ("none", "sigmoid")


def model_target(model: Any) -> str:
    """What a recognizer learns: "aus" (multi-label action units, its `target` parameter) or "class"."""
    try:
        return str(model.get_params(deep=False).get("target", "class"))
    except AttributeError:
        return str(getattr(model, "target", "class"))


def raw_score_kind(model: Any) -> str:
    """"decision" when the model has a decision function (its own, or its fitted scikit-learn pipeline's),
    else "softmax" (a network's predict_proba; "sigmoid" for a multi-label AU network)."""
    if callable(getattr(model, "decision_function", None)):  # (None where scikit-learn's available_if says it has none)
        return "decision"
    pipe = getattr(model, "pipeline_", None)
    if pipe is not None and callable(getattr(pipe, "decision_function", None)):
        return "decision"
    if callable(getattr(model, "predict_proba", None)):
        return "sigmoid" if model_target(model) == "aus" else "softmax"
    raise TypeError(f"{type(model).__name__} has neither a decision function nor predict_proba: its scores cannot be kept")


def model_classes(model: Any, num_classes: int) -> np.ndarray:
    """The class indices a fitted model scores, in its column order: scikit-learn's `classes_`, else 0..K−1."""
    classes = getattr(model, "classes_", None)
    return np.arange(num_classes) if classes is None else np.asarray(classes, dtype=np.int64)


def raw_scores(model: Any, X: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, K) float64 raw scores of a fitted model on features X (N, ...); the columns are the classes
    0..K−1 (the AUs of an AU model). A scikit-learn class model must have seen every class (`fit_kept`
    refuses training rows without one)."""
    kind = raw_score_kind(model)
    if kind in ("softmax", "sigmoid"):
        return np.asarray(model.predict_proba(X), dtype=np.float64).reshape(len(X), num_classes)
    if model_target(model) == "aus":  # one decision column per AU
        return np.asarray(model.decision_function(X), dtype=np.float64).reshape(len(X), num_classes)
    if callable(getattr(model, "decision_function", None)):
        d = model.decision_function(X)
    else:  # a FlatClassifier whose fitted pipeline has the decision function (FlowLDA)
        d = model.pipeline_.decision_function(model.flat(X))
    d = np.asarray(d, dtype=np.float64)
    if d.ndim == 1:
        d = np.stack([-d, d], axis=1)
    cols = model_classes(model, num_classes)
    if d.shape[1] != num_classes or not np.array_equal(cols, np.arange(num_classes)):
        raise ValueError(f"the model scores classes {cols.tolist()}, not all {num_classes}: it was fitted without some class")
    return d


def fit_platt(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """Platt's sigmoid p = 1 / (1 + exp(a·s + b)) fitted by maximum likelihood to one column of scores
    (N,) and 0/1 targets (N,), with Platt's smoothed targets ((N₊+1)/(N₊+2), 1/(N₋+2)) and his start
    (a, b) = (0, log((N₋+1)/(N₊+1))); scores are divided by max|s| first when that is ≥ 30 (the result
    is mapped back). Returns (a, b)."""
    from scipy.optimize import minimize
    from scipy.special import expit

    f = np.asarray(scores, dtype=np.float64).ravel()
    pos = np.asarray(positive).ravel() > 0
    scale = 1.0
    top = float(np.max(np.abs(f))) if f.size else 0.0
    if top >= 30.0:
        scale = top
        f = f / scale
    n_neg, n_pos = float(np.sum(~pos)), float(np.sum(pos))
    t = np.where(pos, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss_grad(ab: np.ndarray) -> tuple[float, np.ndarray]:
        r = -(ab[0] * f + ab[1])  # the logit of p
        loss = float(np.sum(np.logaddexp(0.0, r) - t * r))
        g = expit(r) - t
        return loss, np.array([-g @ f, -g.sum()], dtype=np.float64)

    res = minimize(loss_grad, np.array([0.0, log((n_neg + 1.0) / (n_pos + 1.0))]), method="L-BFGS-B", jac=True,
                   options={"gtol": 1e-6, "ftol": 64 * np.finfo(float).eps})
    return float(res.x[0] / scale), float(res.x[1])


@dataclass
class PlattCalibration:
    """Per-class Platt sigmoids over raw scores: a, b (K,) — or one pair (for class 1) when K = 2.
    folds / groups / raw_kind say how it was fitted (the model card prints them)."""

    a: list[float]
    b: list[float]
    num_classes: int
    raw_kind: str
    folds: int = 0
    groups: str = "subject"
    multilabel: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, oof_scores: np.ndarray, y: np.ndarray, raw_kind: str, folds: int, groups: str = "subject") -> "PlattCalibration":
        """From out-of-fold raw scores (N, K) and class indices y (N,) — or 0/1 targets Y (N, K) of a
        multi-label head (one sigmoid per output, no normalisation)."""
        oof_scores, y = np.asarray(oof_scores, np.float64), np.asarray(y)
        k = oof_scores.shape[1]
        if y.ndim == 2:
            ab = [fit_platt(oof_scores[:, c], y[:, c]) for c in range(k)]
            return cls([p[0] for p in ab], [p[1] for p in ab], k, raw_kind, int(folds), groups, multilabel=True)
        columns = [1] if k == 2 else range(k)
        ab = [fit_platt(oof_scores[:, c], y == c) for c in columns]
        return cls([p[0] for p in ab], [p[1] for p in ab], k, raw_kind, int(folds), groups)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        """Raw scores (N, K) → calibrated probabilities (N, K): rows summing to 1, or per output (multi-label)."""
        from scipy.special import expit

        s = np.asarray(scores, np.float64)
        a, b = np.asarray(self.a), np.asarray(self.b)
        if self.multilabel:
            return expit(-(s * a + b))
        if self.num_classes == 2:
            p1 = expit(-(a[0] * s[:, 1] + b[0]))
            return np.stack([1.0 - p1, p1], axis=1)
        p = expit(-(s * a + b))
        total = p.sum(axis=1, keepdims=True)
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / self.num_classes)

    def to_dict(self) -> dict[str, Any]:
        return {"method": "sigmoid", "a": list(self.a), "b": list(self.b), "num_classes": self.num_classes, "raw_kind": self.raw_kind,
                "folds": self.folds, "groups": self.groups, "multilabel": self.multilabel, **self.meta}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PlattCalibration":
        known = {"method", "a", "b", "num_classes", "raw_kind", "folds", "groups", "multilabel"}
        return cls([float(x) for x in d["a"]], [float(x) for x in d["b"]], int(d["num_classes"]), str(d["raw_kind"]),
                   int(d.get("folds", 0)), str(d.get("groups", "subject")), bool(d.get("multilabel", False)),
                   {k: v for k, v in d.items() if k not in known})


def calibration_folds(y: np.ndarray, groups: Sequence[str], folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs of an internal cross-validation of the training rows: `folds` folds,
    stratified by class and grouped by subject (StratifiedGroupKFold, shuffled with `seed`); fewer folds
    when there are fewer subjects. Raises ValueError when there are fewer than two subjects."""
    from sklearn.model_selection import StratifiedGroupKFold

    groups = np.asarray([str(g) for g in groups])
    n_groups = len(set(groups))
    if n_groups < 2:
        raise ValueError(f"calibration needs at least two subjects in the training rows, found {n_groups}")
    k = min(int(folds), n_groups)
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=int(seed) & 0x7FFFFFFF)
    return [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(np.zeros(len(y)), np.asarray(y), groups)]
