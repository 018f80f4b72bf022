"""Micro-expression recognizers, leakage-free leave-one-subject-out evaluation and the augmentation study.

    features.py        onset–apex flow + strain (28×28×3), LBP-TOP, frame stacks — per-clip, nothing fitted
    lbptop_svm.py      LBP-TOP + SVM;  flow_lda.py  shrinkage LDA on flow + strain (flat_classifier.py: their sklearn base)
    deep_recognizer.py LightningModule base with a fixed training schedule (a scikit-learn-style estimator)
    ststnet.py         STSTNet-like CNN on flow + strain;  cnn3d.py  small 3D CNN on frames
    samples.py         SampleSet: labelled real / synthetic clips and their features
    leakage.py         the gate: no training row may derive from a fold's held-out subject
    loso.py            the LOSO runner (per-fold and pooled UF1 / UAR, confusion, CSVs)
    study.py           real vs real + synthetic: paired Wilcoxon over folds, bootstrap CIs over samples and subjects
    cross_fit.py       K cross-fitted learned generators: per-fold synthetic pools no held-out subject shaped
    parametric_set.py  the labelled MEGC-shaped stand-in set and known-effect synthetic clips (validation)
    metrics.py         UF1 / UAR (torchmetrics state, checked against scikit-learn)
    experiment.py      the schema of `recog loso` / `study` configs (jsonargparse, class_path / init_args)
    kept.py            KeptRecognizer / load_recognizer / fit_kept: a recognizer fitted once, kept as a model folder
                       (model_folder.py), its scores (kept_scores.py), `recog fit` (kept_fit.py, kept_heldout.py,
                       model_card.py) and `recog predict` (predict_inputs.py); pretrained/mexkit-demo the shipped one
    cli.py             `mexkit recog loso|fit|predict …`, `mexkit study --config …` (+ --print_config)
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "SampleSet": "samples", "run_loso": "loso", "LOSOResult": "loso", "run_study": "study", "StudyResult": "study",
    "LeakageError": "leakage", "STSTNet": "ststnet", "CNN3D": "cnn3d", "LBPTOPSVM": "lbptop_svm", "UF1UAR": "metrics",
    "uf1_uar": "metrics", "FlowLDA": "flow_lda", "CrossFit": "cross_fit", "run_cross_fitted_study": "cross_fit",
    "KeptRecognizer": "kept", "load_recognizer": "kept", "fit_kept": "kept",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
