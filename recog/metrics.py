"""UF1 / UAR (docs/design.md §6, "UF1 and UAR"): a torchmetrics metric over a confusion matrix, plus DataFrame helpers;
and AU-F1 for multi-label AU targets (below, as MEB computes it).

- UF1: unweighted (macro) F1 — the mean over classes of 2·TP / (2·TP + FP + FN).
- UAR: unweighted average recall — the mean over classes of TP / (TP + FN).

Which classes are averaged: the classes that occur in the targets or the predictions for UF1 (as
scikit-learn's `f1_score(average="macro")` with default labels), the classes that occur in the
targets for UAR (as `balanced_accuracy_score`). Pooled over all LOSO folds every class occurs, and
both reduce to the plain means over all classes; per fold (one subject) some classes are absent, and
this rule keeps absent classes from counting as zeros.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torchmetrics import Metric
from torchmetrics.functional.classification import multiclass_confusion_matrix


def scores_from_confusions(confusions: np.ndarray) -> dict[str, np.ndarray]:
    """UF1, UAR and accuracy of a batch of (K, K) confusion matrices (..., K, K) → arrays of shape (...).

    Rows are true classes, columns predicted ones. An empty matrix gives NaN.
    """
    cm = np.asarray(confusions, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)  # TP + FN per class
    predicted = cm.sum(axis=-2)  # TP + FP per class
    total = cm.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1_valid = (support + predicted) > 0
        f1 = np.where(f1_valid, 2 * tp / np.where(f1_valid, support + predicted, 1), 0.0)
        uf1 = f1.sum(axis=-1) / f1_valid.sum(axis=-1)
        r_valid = support > 0
        recall = np.where(r_valid, tp / np.where(r_valid, support, 1), 0.0)
        uar = recall.sum(axis=-1) / r_valid.sum(axis=-1)
        acc = tp.sum(axis=-1) / total
    return {"uf1": uf1, "uar": uar, "accuracy": acc}


def scores_from_confusion(confusion: np.ndarray | torch.Tensor) -> dict[str, float]:
    """UF1, UAR and accuracy of one (K, K) confusion matrix (rows: true class, columns: predicted)."""
    cm = confusion.detach().cpu().numpy() if isinstance(confusion, torch.Tensor) else np.asarray(confusion)
    return {k: float(v) for k, v in scores_from_confusions(cm).items()}


def confusions_from_indices(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int, index: np.ndarray) -> np.ndarray:
    """Confusion matrices of resamples: index (B, N) positions into y_true / y_pred → (B, K, K) counts."""
    k = int(num_classes)
    cell = (np.asarray(y_true)[index] * k + np.asarray(y_pred)[index]) + (np.arange(index.shape[0])[:, None] * k * k)
    return np.bincount(cell.ravel(), minlength=index.shape[0] * k * k).reshape(index.shape[0], k, k)


class UF1UAR(Metric):
    """Accumulates a confusion matrix (DDP-syncable torchmetrics state) and computes UF1, UAR, accuracy.

    update(preds, target): preds are class indices (N,) or scores (N, K); target (N,) class indices.
    compute() → {"uf1", "uar", "accuracy"} as 0-d tensors.
    """

    full_state_update = False
    higher_is_better = True

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.add_state("confmat", default=torch.zeros(self.num_classes, self.num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        preds = torch.as_tensor(preds)
        if preds.ndim == 2:
            preds = preds.argmax(dim=1)
        self.confmat += multiclass_confusion_matrix(preds.long(), torch.as_tensor(target).long(), self.num_classes)

    def compute(self) -> dict[str, torch.Tensor]:
        return {k: torch.tensor(v, dtype=torch.float64) for k, v in scores_from_confusion(self.confmat).items()}


def uf1_uar(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> dict[str, float]:
    """UF1, UAR and accuracy of class-index arrays (through `UF1UAR`)."""
    m = UF1UAR(num_classes)
    m.update(torch.tensor(np.asarray(y_pred, dtype=np.int64)), torch.tensor(np.asarray(y_true, dtype=np.int64)))
    return {k: float(v) for k, v in m.compute().items()}


def uf1_uar_labels(y_true: Sequence, y_pred: Sequence, labels: Sequence) -> tuple[float, float]:
    """(UF1, UAR) of class-name sequences, by the one definition of this module (UF1 over the classes in
    the truth or the predictions, UAR over those in the truth). `labels`: every class name that may occur.

    The CAS metric (mexkit.eval.distribution) and LOSO scoring share it, so the same predictions score
    the same everywhere.
    """
    index = {c: i for i, c in enumerate(labels)}
    unknown = sorted({str(c) for c in list(y_true) + list(y_pred) if c not in index})
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {list(labels)}")
    t = np.array([index[c] for c in y_true], dtype=np.int64)
    q = np.array([index[c] for c in y_pred], dtype=np.int64)
    cm = np.bincount(t * len(index) + q, minlength=len(index) ** 2).reshape(len(index), len(index))
    s = scores_from_confusion(cm)
    return s["uf1"], s["uar"]


def confusion_frame(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[str]) -> pd.DataFrame:
    """Confusion matrix as a DataFrame: index "true <class>", columns "pred <class>"."""
    k = len(classes)
    cm = multiclass_confusion_matrix(torch.tensor(np.asarray(y_pred, dtype=np.int64)),
                                     torch.tensor(np.asarray(y_true, dtype=np.int64)), k).numpy()
    return pd.DataFrame(cm, index=[f"true {c}" for c in classes], columns=[f"pred {c}" for c in classes])


def per_fold_scores(predictions: pd.DataFrame, num_classes: int, fold_col: str = "fold") -> pd.DataFrame:
    """One row per fold (UF1, UAR, accuracy, n) from a predictions table with y_true / y_pred columns."""
    rows = []
    for fold, part in predictions.groupby(fold_col, sort=False):
        s = uf1_uar(part["y_true"].to_numpy(), part["y_pred"].to_numpy(), num_classes)
        rows.append({fold_col: fold, "n_test": len(part), **s})
    return pd.DataFrame(rows)


# --- action units: multi-label detection, scored as MEB scores it ------------------------------------------
# AU-F1 (docs/design.md §5, "AU-F1"), as MEB computes it (tvaranka/meb `utils.MultiLabelF1Score`, on the
# predictions of all folds pooled): for each AU, the binary F1 of its 0/1 column — 2·TP / (2·TP + FP + FN),
# 0 when the AU neither occurs nor is predicted (scikit-learn's zero_division) — then the mean over AUs.
# MEB also prints the per-AU macro F1: the mean of the F1 of the AU's positive and negative class over the
# classes that occur in its truth or predictions (scikit-learn `average="macro"`), then the mean over AUs.
TARGET_METRICS = {"class": ("uf1", "uar"), "aus": ("au_f1", "au_macro_f1")}


def au_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(K, 4) counts [TP, FP, FN, TN] per AU column of 0/1 arrays (N, K)."""
    t, p = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    if t.shape != p.shape or t.ndim != 2:
        raise ValueError(f"need two (N, K) 0/1 arrays of one shape, got {t.shape} and {p.shape}")
    return np.stack([(t & p).sum(0), (~t & p).sum(0), (t & ~p).sum(0), (~t & ~p).sum(0)], axis=-1)


def sample_au_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(N, K, 4) one-hot [TP, FP, FN, TN] of every sample and AU (summed over samples they give `au_counts`)."""
    t, p = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    return np.stack([t & p, ~t & p, t & ~p, ~t & ~p], axis=-1).astype(np.float64)


def au_scores_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-AU F1 and macro F1 and their means over AUs from [TP, FP, FN, TN] counts (..., K, 4):
    {"f1": (..., K), "macro_f1": (..., K), "au_f1": (...), "au_macro_f1": (...)}."""
    c = np.asarray(counts, dtype=np.float64)
    tp, fp, fn, tn = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        d1, d0 = 2 * tp + fp + fn, 2 * tn + fp + fn
        f1 = np.where(d1 > 0, 2 * tp / np.where(d1 > 0, d1, 1), 0.0)
        f0 = np.where(d0 > 0, 2 * tn / np.where(d0 > 0, d0, 1), 0.0)
        has1, has0 = (tp + fn + fp) > 0, (tn + fp + fn) > 0  # the class occurs in the truth or the predictions
        macro = (f1 * has1 + f0 * has0) / np.maximum(has1.astype(float) + has0, 1)
    return {"f1": f1, "macro_f1": macro, "au_f1": f1.mean(axis=-1), "au_macro_f1": macro.mean(axis=-1)}


def au_f1(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """AU-F1 and AU macro F1 of 0/1 arrays (N, K) — pool the folds' predictions first for MEB's figure."""
    s = au_scores_from_counts(au_counts(y_true, y_pred))
    return {"au_f1": float(s["au_f1"]), "au_macro_f1": float(s["au_macro_f1"])}


def au_score_frame(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """One row per AU: F1, macro F1, support (true positives + false negatives), predicted positives, counts."""
    c = au_counts(y_true, y_pred)
    s = au_scores_from_counts(c)
    return pd.DataFrame({"au": list(names), "f1": s["f1"], "macro_f1": s["macro_f1"], "support": c[:, 0] + c[:, 2],
                         "predicted": c[:, 0] + c[:, 1], "tp": c[:, 0], "fp": c[:, 1], "fn": c[:, 2], "tn": c[:, 3]})


def all_on_baseline(y_true: np.ndarray) -> dict[str, float]:
    """AU-F1 / AU macro F1 of the constant predictor that says every AU is on for every sample (MEB's
    "Constant" baseline): per AU F1 = 2p / (1 + p) for its prevalence p."""
    t = np.asarray(y_true)
    return au_f1(t, np.ones_like(t))
