"""Distribution metrics: Fréchet distance between feature sets, and CAS (train on synthetic, test on real).

Both work in the feature space of a recognizer, given as any callable `features(clip) -> (D,) array`
(e.g. a mexkit.recog model's embedding). Without one, `flow_statistics_features` is used: the
onset→apex optical flow and optical strain pooled over a 4×4 grid of the aligned face — the input
micro-expression recognizers (Bi-WOOF, STSTNet) are built on.
"""
from __future__ import annotations

from typing import Callable, Sequence

import cv2
import numpy as np
import pandas as pd
from scipy import linalg

from mexkit.clip import Clip
from mexkit.datasets.label_maps import MEGC_CLASSES, megc_class
from mexkit.optical_flow import compute_flow, optical_strain
from mexkit.recog.metrics import uf1_uar_labels as uf1_uar  # the one UF1/UAR definition (UF1 over truth ∪ predictions), shared with LOSO

FeatureFn = Callable[[Clip], np.ndarray]


def flow_statistics_features(clip: Clip, size: int = 64, grid: int = 4, flow_method: str = "dis") -> np.ndarray:
    """(grid·grid·4,) features: per cell mean u, mean v, mean |flow| and mean strain of onset→apex flow.

    Frames are resized to `size` and flow is in units of the frame width, so clips of any resolution
    compare.
    """
    a = cv2.resize(clip.frames[clip.onset], (size, size), interpolation=cv2.INTER_AREA)
    b = cv2.resize(clip.frames[clip.apex], (size, size), interpolation=cv2.INTER_AREA)
    flow = compute_flow(a, b, flow_method) / size
    strain = optical_strain(flow)
    mag = np.linalg.norm(flow, axis=-1)
    maps = np.stack([flow[..., 0], flow[..., 1], mag, strain], -1)
    cells = maps.reshape(grid, size // grid, grid, size // grid, 4).mean((1, 3))
    return cells.reshape(-1).astype(np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a (N, D) and b (M, D).

    ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½) (Heusel et al. 2017); eps·I is added to both covariances
    (small sets give singular covariances).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Fréchet distance needs at least 2 samples per set, got {len(a)} and {len(b)}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca = np.atleast_2d(np.cov(a, rowvar=False)) + eps * np.eye(a.shape[1])
    cb = np.atleast_2d(np.cov(b, rowvar=False)) + eps * np.eye(b.shape[1])
    covmean = linalg.sqrtm(ca @ cb)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2.0 * np.trace(covmean))


def feature_matrix(clips: Sequence[Clip], features: FeatureFn = flow_statistics_features) -> np.ndarray:
    return np.stack([np.asarray(features(c), np.float64).ravel() for c in clips])


def default_classifier():
    """Standardise + class-balanced logistic regression (deterministic)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))


def classification_accuracy_score(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray, test_y: Sequence[str],
                                  estimator=None, labels: Sequence[str] = MEGC_CLASSES) -> dict:
    """CAS (Ravuri & Vinyals 2019): fit on synthetic features/labels, score on real ones.

    Returns accuracy, UF1, UAR, the confusion matrix (rows true, columns predicted, order `labels`)
    and the set sizes. `estimator`: any scikit-learn classifier (cloned); default `default_classifier()`.
    """
    from sklearn.base import clone
    from sklearn.metrics import confusion_matrix

    train_y, test_y = list(train_y), list(test_y)
    if len(set(train_y)) < 2:
        raise ValueError(f"CAS needs at least two classes among the synthetic clips, got {sorted(set(train_y))}")
    model = clone(estimator) if estimator is not None else default_classifier()
    model.fit(np.asarray(train_x), train_y)
    pred = list(model.predict(np.asarray(test_x)))
    uf1, uar = uf1_uar(test_y, pred, labels)
    return {
        "accuracy": float(np.mean(np.asarray(pred) == np.asarray(test_y))),
        "uf1": uf1, "uar": uar,
        "confusion": pd.DataFrame(confusion_matrix(test_y, pred, labels=list(labels)), index=list(labels), columns=list(labels)),
        "n_train": len(train_y), "n_test": len(test_y),
    }


def labelled(features: np.ndarray, clips_labels: Sequence[str | None]) -> tuple[np.ndarray, list[str]]:
    """Rows whose label maps to a MEGC class, with those classes."""
    classes = [megc_class(l) for l in clips_labels]
    keep = [i for i, c in enumerate(classes) if c is not None]
    return np.asarray(features)[keep], [classes[i] for i in keep]
