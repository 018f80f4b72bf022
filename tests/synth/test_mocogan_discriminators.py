"""Image / video discriminators and the pluggable identity loss, on real corpus frames."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from mexkit.datasets import load_corpus
from mexkit.synth.mocogan.discriminators import IdentityLoss, ImageDiscriminator, VideoDiscriminator
from mexkit.synth.video_datamodule import VideoDataModule


@pytest.fixture(scope="module")
def batch():
    dm = VideoDataModule(sources=["corpus"], num_frames=8, size=32, batch_size=4, flip_p=0.0)
    return next(iter(dm.train_dataloader()))


def test_shapes_and_class_head(batch):
    torch.manual_seed(0)
    di, dv = ImageDiscriminator(8), VideoDiscriminator(num_classes=3, channels=8)
    v, n = batch["video"], batch["neutral"]
    assert di(v[:, 3], n).shape == (4,)
    logit, cls = dv(v, n)
    assert logit.shape == (4,) and cls.shape == (4, 3)


def test_video_discriminator_sees_motion(batch):
    """The same frames in a different order, or frozen, change the video critic's output."""
    torch.manual_seed(0)
    dv = VideoDiscriminator(channels=8)
    v, n = batch["video"], batch["neutral"]
    frozen = n[:, None].expand_as(v)
    a, _ = dv(v, n)
    b, _ = dv(frozen, n)
    c, _ = dv(v.flip(1), n)
    assert not torch.allclose(a, b) and not torch.allclose(a, c)


class _TinyEmbedder(nn.Module):
    """Stand-in for a differentiable face embedder (none ships offline; the real one is user-supplied)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.net(x)


def test_identity_loss_zero_for_same_face_and_differentiable_in_video(batch):
    torch.manual_seed(0)
    loss = IdentityLoss(_TinyEmbedder())
    n = batch["neutral"]
    same = n[:, None].expand(-1, 4, -1, -1, -1)
    assert float(loss(same, n)) == pytest.approx(0.0, abs=1e-6)
    other = torch.roll(n, 1, dims=0)[:, None].expand(-1, 4, -1, -1, -1).clone().requires_grad_(True)
    value = loss(other, n)
    assert float(value) > 1e-4
    value.backward()
    assert other.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.embedder.parameters())  # frozen
    loss.train()
    assert not loss.embedder.training


def test_identity_loss_from_torchscript_missing_file_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="identity embedder"):
        IdentityLoss.from_torchscript(str(tmp_path / "embedder.pt"))
    torch.manual_seed(1)
    module = _TinyEmbedder()
    torch.jit.script(module).save(str(tmp_path / "embedder.pt"))
    loaded = IdentityLoss.from_torchscript(str(tmp_path / "embedder.pt"))
    x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (2, 3, 32, 32)).astype(np.float32))
    video = torch.stack([x, x.flip(-1), x.roll(3, -1)], dim=1)
    assert float(loaded(video, x)) == pytest.approx(float(IdentityLoss(module)(video, x)), abs=1e-6)
