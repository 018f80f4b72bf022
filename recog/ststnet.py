"""An STSTNet-like recognizer on onset–apex flow + strain (Liong et al., FG 2019).

STSTNet: three parallel 3×3 convolution streams with 3, 5 and 8 channels over the 28×28×3 (u, v,
strain) input, each ReLU → batch norm → 3×3 max-pool (stride 3), concatenated, 2×2 average pool,
dense layer to the classes. Here:
- the three streams read the same input, so they are one 3→16 convolution (the same function; the
  stream widths are kept as `streams` and in the layer's output order);
- max-pool before ReLU and batch norm (ReLU commutes with max-pool; batch norm then normalises the
  pooled maps, a ninth of the elements) and channels-last memory: about 2× less time per sample on CPU;
- a short schedule (60 epochs, batch 64, Adam 1e-3, class-balanced loss) instead of the paper's 800
  epochs at batch 256 and lr 5e-5 — `benchmarks/bench_loso.py` measures both schedules on the same folds.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .deep_recognizer import DeepRecognizer


class STSTNet(DeepRecognizer):
    """Input (B, 3, S, S) float — u, v, strain (`features.flow_strain`, S = 28) → (B, num_outputs) logits (classes, or 12 AUs with target="aus")."""

    input_kind = "flow_strain"

    def __init__(self, num_classes: int = 3, streams: tuple[int, ...] = (3, 5, 8), input_size: int = 28,
                 dropout: float = 0.5, epochs: int = 60, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 0.0,
                 class_weight: str | None = "balanced", loop: str = "plain", seed: int = 0, target: str = "class"):
        super().__init__(num_classes, epochs, batch_size, lr, weight_decay, class_weight, loop, seed, target)
        self.save_hyperparameters()
        self._init_layers()

    def build(self) -> None:
        h = self.hparams
        width = int(sum(h.streams))
        self.conv = nn.Conv2d(3, width, 3, padding=1)  # the parallel streams, concatenated in order
        self.bn = nn.BatchNorm2d(width)
        pooled = (int(h.input_size) + 2 - 3) // 3 + 1  # max-pool 3, stride 3, padding 1
        self.fc = nn.Linear(width * (pooled // 2) ** 2, self.num_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) → (B, D) penultimate features (before dropout and the dense layer)."""
        x = x.contiguous(memory_format=torch.channels_last)
        y = F.max_pool2d(self.conv(x), 3, 3, 1)
        y = self.bn(F.relu(y))
        return F.avg_pool2d(y, 2).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.dropout(self.features(x), float(self.hparams.dropout), self.training))
