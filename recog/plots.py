"""Figures of recognition results (PNG, matplotlib Agg): confusion matrix, per-fold bars, study plots."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    from mexkit.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    _plt().close(fig)
    return path


def plot_confusion(confusion: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Counts with row-normalised colour (recall per true class)."""
    plt = _plt()
    cm = confusion.to_numpy(dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(cm), 1.0 + 1.0 * len(cm)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(cm.shape[1]), [c.removeprefix("pred ") for c in confusion.columns], rotation=30)
    ax.set_yticks(range(cm.shape[0]), [c.removeprefix("true ") for c in confusion.index])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def plot_per_fold(per_fold: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    plt = _plt()
    n = len(per_fold)
    x = np.arange(n)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.25 * n + 2), 3.0))
    ax.bar(x - 0.2, per_fold["uf1"], 0.4, label="UF1")
    ax.bar(x + 0.2, per_fold["uar"], 0.4, label="UAR")
    ax.set_xticks(x, per_fold["fold"], rotation=90 if n > 8 else 0, fontsize=7 if n > 8 else 9)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def plot_paired_folds(folds: pd.DataFrame, metric: str, path: str | Path, title: str = "") -> Path:
    """Per-fold metric of the two arms, one line per fold (real → real + synthetic)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    a, b = folds[f"{metric}_real"].to_numpy(), folds[f"{metric}_augmented"].to_numpy()
    for ya, yb in zip(a, b):
        ax.plot([0, 1], [ya, yb], "-o", color="tab:blue" if yb >= ya else "tab:red", alpha=0.6, markersize=3)
    ax.plot([0, 1], [np.nanmean(a), np.nanmean(b)], "-s", color="black", lw=2, label="fold mean")
    ax.set_xticks([0, 1], ["real", "real + synthetic"])
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel(metric.upper() + " per fold")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def plot_bootstrap(diffs: np.ndarray, observed: float, ci: tuple[float, float], metric: str, path: str | Path, title: str = "") -> Path:
    """Histogram of bootstrap differences (augmented − real) with the observed value and the CI."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    ax.hist(diffs, bins=40, color="tab:gray", alpha=0.8)
    ax.axvline(observed, color="black", lw=2, label=f"observed {observed:+.3f}")
    ax.axvline(ci[0], color="tab:orange", ls="--", label=f"95% CI [{ci[0]:+.3f}, {ci[1]:+.3f}]")
    ax.axvline(ci[1], color="tab:orange", ls="--")
    ax.axvline(0, color="tab:red", lw=0.8)
    ax.set_xlabel(f"Δ pooled {metric.upper()} (real + synthetic − real)")
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)
