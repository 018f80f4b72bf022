"""`DeepRecognizer`: the LightningModule base of the network recognizers, with a fixed training schedule.

A recognizer is a scikit-learn-style estimator built from its hyperparameters alone: `__init__` stores
them unchanged (`save_hyperparameters`) and builds the layers from `seed`; they are checked in `fit`;
`get_params` / `set_params` read and change them (set_params rebuilds the layers: an untrained model),
so `sklearn.base.clone` and `clone()` give a fresh, untrained copy — the LOSO runner makes one per fold. `fit(X, y)` trains for exactly `epochs`
epochs and keeps the final weights: there is no validation set, early stopping or checkpoint choice,
so nothing about the test fold can steer training.

Two loops run the same `training_step` and `configure_optimizers`:
- loop="plain" (default): whole-dataset tensors in memory, a seeded permutation per epoch, one
  optimizer step per batch. For the tiny inputs of micro-expression recognition (442 × 3 × 28 × 28)
  the Trainer's per-step bookkeeping costs more than the step, and a LOSO run has thousands of steps.
- loop="lightning": the Lightning Trainer (CPU/GPU, loggers, DDP) on a TensorDataset.

Randomness is an argument: `seed` fixes the initial weights, the batch order and dropout, without
touching the global RNG.

Targets (`target`): "class" (default) — a softmax head of `num_classes`, cross-entropy, `fit(X, y)` with
class indices y (N,); "aus" — multi-label action units (mexkit.datasets.au_targets.MEB_AUS): a head of 12
outputs read through a sigmoid, binary cross-entropy (with class_weight="balanced", each AU's positives
weighted by negatives / positives), `fit(X, Y)` with Y (N, 12) 0/1, `predict` → (N, 12) 0/1 (probability
> 0.5), `predict_proba` → (N, 12) per-AU sigmoid probabilities (not calibrated). An AU that is never
(always) on in the training rows cannot be learned: its output is fixed to 0 (1), stated in the
`au_fixed` buffer (NaN: learned), which is part of the weights.
"""
from __future__ import annotations

import copy
import inspect
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

from mexkit.datasets.au_targets import NUM_AUS

LOOPS = ("plain", "lightning")
TARGETS = ("class", "aus")


class DeepRecognizer(L.LightningModule):
    """Base class. Subclasses call `super().__init__(...)` with the common schedule arguments and
    their own, call `self.save_hyperparameters()`, then build layers in `build()`; `forward` maps
    (B, ...) float inputs to (B, num_outputs) logits — num_classes, or 12 AUs with target="aus".
    `input_kind` names the feature they take."""

    input_kind = ""

    def __init__(self, num_classes: int = 3, epochs: int = 60, batch_size: int = 64, lr: float = 1e-3,
                 weight_decay: float = 0.0, class_weight: str | None = "balanced", loop: str = "plain", seed: int = 0,
                 target: str = "class"):
        super().__init__()  # the arguments are stored by the subclass's save_hyperparameters and checked in fit
        self.register_buffer("class_weights", torch.ones(int(num_classes)), persistent=False)

    def _check_params(self) -> None:
        """The schedule's hyperparameters are valid (called by fit; a ValueError says which is not)."""
        h = self.hparams
        if h.loop not in LOOPS:
            raise ValueError(f"loop must be one of {LOOPS}, got {h.loop!r}")
        if int(h.epochs) < 1 or int(h.batch_size) < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {h.epochs}, {h.batch_size}")
        if h.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced', got {h.class_weight!r}")
        if int(h.num_classes) < 1:
            raise ValueError(f"num_classes must be >= 1, got {h.num_classes}")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")

    # --- to implement ------------------------------------------------------------------------------
    def build(self) -> None:
        raise NotImplementedError

    def _init_layers(self) -> None:
        """Build the layers with weights drawn from `seed` (the global RNG is left as it was)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.hparams.seed))
            self.build()
        if self.target == "aus":  # NaN: the AU is learned; 0 / 1: fixed (never / always on in the training rows)
            fixed = torch.full((NUM_AUS,), float("nan"))
            if "au_fixed" in self._buffers:
                self.au_fixed = fixed
            else:
                self.register_buffer("au_fixed", fixed)
        elif "au_fixed" in self._buffers:
            del self._buffers["au_fixed"]

    # --- Lightning ---------------------------------------------------------------------------------
    def _common_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        if self.target == "aus":
            return F.binary_cross_entropy_with_logits(self(x), y, pos_weight=self.class_weights.to(x.device))
        return F.cross_entropy(self(x), y, weight=self.class_weights.to(x.device))

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss = self._common_step(batch)
        if self._trainer is not None:
            self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=False)
        return loss

    def predict_step(self, batch, batch_idx: int = 0) -> torch.Tensor:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        if self.target == "aus":
            p = torch.sigmoid(self(x))
            fixed = self.au_fixed.to(p.device)
            return torch.where(torch.isnan(fixed), p, fixed)
        return torch.softmax(self(x), dim=1)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)

    # --- estimator API -----------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return int(self.hparams.num_classes)

    @property
    def target(self) -> str:
        """"class" or "aus" (a model saved before targets existed is a class model)."""
        return str(self.hparams.get("target", "class"))

    @property
    def num_outputs(self) -> int:
        """Width of the head: num_classes, or the 12 AUs with target="aus"."""
        return NUM_AUS if self.target == "aus" else self.num_classes

    @classmethod
    def _param_names(cls) -> list[str]:
        """The hyperparameters: the arguments of the subclass's __init__."""
        sig = inspect.signature(cls.__init__)
        return [n for n, p in sig.parameters.items() if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """{name: value} of the constructor's arguments, as given (scikit-learn's contract)."""
        return {n: self.hparams[n] for n in self._param_names()}

    def set_params(self, **params: Any) -> "DeepRecognizer":
        """Change hyperparameters; the layers are rebuilt from `seed` (the model is untrained again)."""
        unknown = sorted(set(params) - set(self._param_names()))
        if unknown:
            raise ValueError(f"invalid parameters {unknown} for {type(self).__name__}; valid: {self._param_names()}")
        if not params:
            return self
        device = self.device
        self.hparams.update(params)
        if getattr(self, "_hparams_initial", None) is not None:  # what checkpoints and loggers record
            self._hparams_initial.update(copy.deepcopy(params))
        self.class_weights = torch.ones(int(self.hparams.num_classes))
        self._init_layers()
        return self.to(device)

    def clone(self, **overrides: Any) -> "DeepRecognizer":
        """A fresh, untrained recognizer with the same hyperparameters (some overridden)."""
        return type(self)(**{**self.get_params(), **overrides})

    def _set_class_weights(self, y: torch.Tensor) -> None:
        if self.target == "aus":
            pos = y.sum(dim=0).double()
            neg = len(y) - pos
            learnable = (pos > 0) & (neg > 0)
            balanced = self.hparams.class_weight == "balanced"
            self.class_weights = torch.where(learnable & balanced, neg / pos.clamp(min=1), torch.ones_like(pos)).float()
            self.au_fixed = torch.where(pos == 0, 0.0, torch.where(neg == 0, 1.0, float("nan"))).float().to(self.au_fixed.device)
            return
        k = self.num_classes
        if self.hparams.class_weight == "balanced":
            counts = torch.bincount(y, minlength=k).double()
            w = torch.where(counts > 0, counts.sum() / (counts.clamp(min=1) * (counts > 0).sum()), torch.zeros_like(counts))
            self.class_weights = w.float()
        else:
            self.class_weights = torch.ones(k)

    def fit(self, X: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> "DeepRecognizer":
        """Train on inputs X (N, ...) float and class indices y (N,) — or, with target="aus", 0/1 AU
        targets y (N, 12) — for the fixed schedule; returns self."""
        self._check_params()
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=self.device)
        aus = self.target == "aus"
        y = torch.as_tensor(np.asarray(y), dtype=torch.float32 if aus else torch.long, device=self.device)
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"need as many labels as inputs (and at least one), got {len(X)} inputs, {len(y)} labels")
        if aus:
            if y.ndim != 2 or y.shape[1] != NUM_AUS or not bool(((y == 0) | (y == 1)).all()):
                raise ValueError(f"AU targets must be 0/1 of shape (N, {NUM_AUS}), got shape {tuple(y.shape)}")
        elif int(y.max()) >= self.num_classes or int(y.min()) < 0:
            raise ValueError(f"labels must be class indices in [0, {self.num_classes}), got {int(y.min())}..{int(y.max())}")
        self._set_class_weights(y)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.hparams.seed) + 1)  # dropout and batch order; seed itself drew the weights
            if self.hparams.loop == "plain":
                self._fit_plain(X, y)
            else:
                self._fit_lightning(X, y)
        self.eval()
        return self

    def _batches(self, n: int, generator: torch.Generator) -> list[torch.Tensor]:
        """A seeded permutation cut into ceil(n / batch_size) near-equal batches (no batch of one,
        which BatchNorm cannot train on, unless n is 1)."""
        perm = torch.randperm(n, generator=generator)
        return list(torch.tensor_split(perm, max(1, -(-n // int(self.hparams.batch_size)))))

    def _fit_plain(self, X: torch.Tensor, y: torch.Tensor) -> None:
        self.train()
        opt = self.configure_optimizers()
        gen = torch.Generator().manual_seed(int(self.hparams.seed) + 2)  # CPU permutation, moved to the data's device
        step = 0
        for _ in range(int(self.hparams.epochs)):
            for idx in self._batches(len(X), gen):
                idx = idx.to(X.device)
                loss = self.training_step((X[idx], y[idx]), step)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1

    def _fit_lightning(self, X: torch.Tensor, y: torch.Tensor) -> None:
        from torch.utils.data import DataLoader, TensorDataset

        gen = torch.Generator().manual_seed(int(self.hparams.seed) + 2)
        loader = DataLoader(TensorDataset(X.cpu(), y.cpu()), batch_size=int(self.hparams.batch_size), shuffle=True, generator=gen,
                            drop_last=len(X) % int(self.hparams.batch_size) == 1)
        trainer = L.Trainer(max_epochs=int(self.hparams.epochs), accelerator="auto", devices=1, logger=False,
                            enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                            num_sanity_val_steps=0)
        trainer.fit(self, loader)

    @torch.no_grad()
    def predict_proba(self, X: np.ndarray | torch.Tensor, batch_size: int = 512) -> np.ndarray:
        """Class probabilities (N, num_classes) — or per-AU probabilities (N, 12) with target="aus" — in eval mode."""
        was_training = self.training
        self.eval()
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        out = [self.predict_step(X[i:i + batch_size].to(self.device)).cpu() for i in range(0, len(X), batch_size)]
        self.train(was_training)
        return torch.cat(out).numpy() if out else np.zeros((0, self.num_outputs), np.float32)

    def predict(self, X: np.ndarray | torch.Tensor) -> np.ndarray:
        """Predicted class indices (N,) — or, with target="aus", 0/1 AUs (N, 12) (probability > 0.5)."""
        p = self.predict_proba(X)
        return (p > 0.5).astype(np.int64) if self.target == "aus" else p.argmax(axis=1)
