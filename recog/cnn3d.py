"""A small 3D CNN on frame stacks: two strided 3×3×3 conv blocks, temporal pooling, a dense layer.

Sized for CPU: 8 frames of 32×32 (`features.frames_input`), about 10 k parameters and ~3 MFLOP per
clip forward — the first convolution halves the spatial size, the second halves time and space, and
the pooled map keeps a coarse 4×4 layout (where on the face the motion is) for the dense layer. With
`motion=True` (default) the onset frame is subtracted from every frame first, so the network sees the
change rather than the face — micro-expressions are small motions on a large static identity.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .deep_recognizer import DeepRecognizer


class CNN3D(DeepRecognizer):
    """Input (B, T, C, H, W) float in [0, 1] → (B, num_outputs) logits (classes, or 12 AUs with target="aus")."""

    input_kind = "frames"

    def __init__(self, num_classes: int = 3, in_channels: int = 3, width: int = 16, motion: bool = True,
                 dropout: float = 0.3, epochs: int = 40, batch_size: int = 32, lr: float = 1e-3, weight_decay: float = 1e-4,
                 class_weight: str | None = "balanced", loop: str = "plain", seed: int = 0, target: str = "class"):
        super().__init__(num_classes, epochs, batch_size, lr, weight_decay, class_weight, loop, seed, target)
        self.save_hyperparameters()
        self._init_layers()

    def build(self) -> None:
        h = self.hparams
        c, w = int(h.in_channels), int(h.width)
        self.block1 = nn.Sequential(nn.Conv3d(c, w // 2, 3, stride=(1, 2, 2), padding=1), nn.BatchNorm3d(w // 2), nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv3d(w // 2, w, 3, stride=2, padding=1), nn.BatchNorm3d(w), nn.ReLU())
        self.fc = nn.Linear(w * 16, self.num_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C, H, W) → (B, width · 16): time-pooled features on a 4 × 4 grid."""
        if self.hparams.motion:
            x = x - x[:, :1]
        x = x.transpose(1, 2)  # (B, C, T, H, W) for Conv3d
        y = self.block2(self.block1(x))
        return F.adaptive_avg_pool3d(y, (1, 4, 4)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.dropout(self.features(x), float(self.hparams.dropout), self.training))
