"""MoCoGAN's two critics, conditioned on the neutral face, plus the pluggable identity loss.

ImageDiscriminator: 2D, judges single frames (paired with the neutral face they came from).
VideoDiscriminator: 3D conv, judges whole clips (paired with the neutral face, and the motion
  video − neutral is given explicitly so small motion is visible), with an auxiliary class head
  (AC-GAN) so generated clips must show the requested class.
IdentityLoss: 1 − cosine between embeddings of generated frames and the neutral face through any
  differentiable embedder module. dlib's ResNet (mexkit.face.identity.DlibIdentity) is not a torch
  module and not differentiable, and no differentiable face embedder ships offline, so this loss is
  OFF by default; pass a torch embedder (your own weights) to switch it on.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm


class ImageDiscriminator(nn.Module):
    """(N, 3, S, S) frames + (N, 3, S, S) neutral faces, float in [-1, 1] → (N,) realism logits."""

    def __init__(self, channels: int = 32, num_layers: int = 4):
        super().__init__()
        layers: list[nn.Module] = []
        c_in, c = 6, channels
        for i in range(num_layers):
            layers += [spectral_norm(nn.Conv2d(c_in, c, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
            c_in, c = c, min(c * 2, 8 * channels)
        self.features = nn.Sequential(*layers)
        self.out = spectral_norm(nn.Conv2d(c_in, 1, 3, 1, 1))

    def forward(self, frames: torch.Tensor, neutral: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(torch.cat([frames, neutral], dim=1))).mean(dim=(1, 2, 3))


class VideoDiscriminator(nn.Module):
    """(B, T, 3, S, S) clips + (B, 3, S, S) neutral faces → ((B,) realism logits, (B, K) class logits).

    Input channels per frame: the frame, and the frame minus the neutral face (motion made explicit).
    """

    def __init__(self, num_classes: int = 3, channels: int = 32, motion_gain: float = 4.0):
        super().__init__()
        c = channels
        self.motion_gain = float(motion_gain)
        self.features = nn.Sequential(
            spectral_norm(nn.Conv3d(6, c, (3, 4, 4), (1, 2, 2), (1, 1, 1))), nn.LeakyReLU(0.2, True),
            spectral_norm(nn.Conv3d(c, 2 * c, 4, 2, 1)), nn.LeakyReLU(0.2, True),
            spectral_norm(nn.Conv3d(2 * c, 4 * c, 4, 2, 1)), nn.LeakyReLU(0.2, True),
            spectral_norm(nn.Conv3d(4 * c, 8 * c, (3, 4, 4), (1, 2, 2), (1, 1, 1))), nn.LeakyReLU(0.2, True),
        )
        self.real_fake = spectral_norm(nn.Linear(8 * c, 1))
        self.classify = nn.Linear(8 * c, num_classes)

    def forward(self, video: torch.Tensor, neutral: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        motion = (video - neutral[:, None]) * self.motion_gain
        x = torch.cat([video, motion], dim=2).transpose(1, 2)  # (B, 6, T, S, S)
        h = self.features(x).mean(dim=(2, 3, 4))
        return self.real_fake(h)[:, 0], self.classify(h)


class IdentityLoss(nn.Module):
    """1 − cos(embed(frame), embed(neutral)), averaged over frames 1..T−1.

    embedder: any torch module mapping (N, 3, S, S) float in [-1, 1] to (N, D) embeddings (for example
    a TorchScript face-recognition network loaded from a local file with `IdentityLoss.from_torchscript`).
    Its weights are frozen.
    """

    def __init__(self, embedder: nn.Module):
        super().__init__()
        self.embedder = embedder.eval()
        for p in self.embedder.parameters():
            p.requires_grad_(False)

    @classmethod
    def from_torchscript(cls, path: str) -> "IdentityLoss":
        from pathlib import Path

        from mexkit.errors import MissingWeightsError

        if not Path(path).exists():
            raise MissingWeightsError("identity embedder", str(path), "export a differentiable face embedder to TorchScript and pass its path")
        return cls(torch.jit.load(str(path), map_location="cpu"))

    def train(self, mode: bool = True) -> "IdentityLoss":  # the embedder stays in eval mode
        super().train(mode)
        self.embedder.eval()
        return self

    def forward(self, video: torch.Tensor, neutral: torch.Tensor) -> torch.Tensor:
        b, t = video.shape[:2]
        ref = F.normalize(self.embedder(neutral), dim=-1)
        emb = F.normalize(self.embedder(video[:, 1:].reshape(b * (t - 1), *video.shape[2:])), dim=-1)
        cos = (emb.reshape(b, t - 1, -1) * ref[:, None]).sum(-1)
        return (1.0 - cos).mean()
