"""ST-LPIPS, the shift-tolerant LPIPS (Ghildyal & Liu, ECCV 2022), with the weights `stlpips-pytorch` ships.

LPIPS (Zhang et al. 2018) compares unit-normalised deep features of two images layer by layer with
learned per-channel weights. ST-LPIPS keeps that formula and changes the trunk so that a shift of a few
pixels barely moves the distance: the first convolution has stride 1, and every downsampling is a
reflect-padded [1 2 1]ᵀ[1 2 1]/16 blur followed by stride 2 ("shift_tolerant" variant). The trunk and the
linear layers were trained together on BAPPS; the package ships both in one file per net
(weights/vST0.0/{alex,vgg}_shift_tolerant.pth, BSD-2), read here with torch.load(weights_only=True). The
networks are rebuilt here (the package's own module imports IPython and torchsummary); a test checks
they give the package's numbers.

Call with uint8 frames (N, H, W, 3) ×2 → (N,) distances (0 = identical).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mexkit.errors import MissingWeightsError

STLPIPS_NETS = ("alex", "vgg")
CHANNELS = {"alex": (64, 192, 384, 256, 256), "vgg": (64, 128, 256, 512, 512)}


class BlurPool(nn.Module):
    """Reflect pad by 2 (`pad_more`), then the 3×3 binomial blur per channel at stride 2."""

    def __init__(self, channels: int):
        super().__init__()
        a = torch.tensor([1.0, 2.0, 1.0])
        filt = (a[:, None] * a[None, :]) / 16.0
        self.register_buffer("filt", filt[None, None].repeat(channels, 1, 1, 1))
        self.pad = nn.ReflectionPad2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(self.pad(x), self.filt, stride=2, groups=x.shape[1])


def _alex_slices() -> list[nn.Sequential]:
    """AlexNet features, shift-tolerant: numbered as the package numbers them (state-dict keys)."""
    layers = [nn.Conv2d(3, 64, 11, stride=1, padding=2), BlurPool(64), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, stride=1), BlurPool(64), nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, stride=1), BlurPool(192), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
              nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
              nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True)]
    return _slice(layers, (0, 3, 7, 11, 13, 15))


def _vgg_slices() -> list[nn.Sequential]:
    """VGG16 features, shift-tolerant (each 2×2 max-pool at stride 1, then a blur-pool)."""
    layers, cin = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512):
        if v == "M":
            layers += [nn.MaxPool2d(2, stride=1), BlurPool(cin)]
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    return _slice(layers, (0, 4, 10, 18, 26, 34))


def _slice(layers: list[nn.Module], cuts: tuple[int, ...]) -> list[nn.Sequential]:
    slices = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        s = nn.Sequential()
        for i in range(lo, hi):
            s.add_module(str(i), layers[i])
        slices.append(s)
    return slices


class _Trunk(nn.Module):
    def __init__(self, net: str):
        super().__init__()
        for k, s in enumerate(_alex_slices() if net == "alex" else _vgg_slices(), 1):
            self.add_module(f"slice{k}", s)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for k in range(1, 6):
            x = getattr(self, f"slice{k}")(x)
            out.append(x)
        return out


class _Lin(nn.Module):
    """A 1×1 convolution to one channel (the package keeps it at index 1, after a dropout)."""

    def __init__(self, channels: int):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(channels, 1, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class _ScalingLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("shift", torch.zeros(1, 3, 1, 1))
        self.register_buffer("scale", torch.ones(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale


def weights_file(net: str) -> Path:
    """The shipped weights of `net` inside the installed stlpips-pytorch package."""
    import importlib.util

    spec = importlib.util.find_spec("stlpips_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise MissingWeightsError("ST-LPIPS weights", "the stlpips-pytorch package",
                                  "pip install stlpips-pytorch==0.0.2 --no-deps (a mexkit dependency; BSD-2, it ships the weights)")
    path = Path(list(spec.submodule_search_locations)[0]) / "weights" / "vST0.0" / f"{net}_shift_tolerant.pth"
    if not path.is_file():
        raise MissingWeightsError("ST-LPIPS weights", str(path), "reinstall stlpips-pytorch==0.0.2")
    return path


class STLPIPS(nn.Module):
    """ST-LPIPS distance with the shipped weights of `net` ("alex", the cheap one, or "vgg")."""

    metric = "st_lpips"
    label = "ST-LPIPS"

    def __init__(self, net: str = "alex"):
        super().__init__()
        if net not in STLPIPS_NETS:
            raise ValueError(f"unknown ST-LPIPS net {net!r}; choose one of {STLPIPS_NETS}")
        self.net_name = net
        self.scaling_layer = _ScalingLayer()
        self.net = _Trunk(net)
        for k, c in enumerate(CHANNELS[net]):
            self.add_module(f"lin{k}", _Lin(c))
        state = torch.load(str(weights_file(net)), map_location="cpu", weights_only=True)
        self.load_state_dict(state, strict=True)
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)
        self.backbone_name = f"{net}_shift_tolerant"
        self.description = f"ST-LPIPS {net} (stlpips-pytorch {net}_shift_tolerant.pth)"

    @torch.no_grad()
    def consecutive(self, frames: np.ndarray, batch_size: int = 16) -> np.ndarray:
        """uint8 (T, H, W, 3) → (T-1,) distances of consecutive frames; each frame's features are computed
        once, a batch at a time (memory bounded by the batch, not the clip)."""
        from .perceptual import to_tensor

        frames = np.asarray(frames)
        out, last = [], None
        for i in range(0, len(frames), batch_size):
            feats = [f / (f.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                     for f in self.net(self.scaling_layer(2 * to_tensor(frames[i:i + batch_size]) - 1))]
            if last is not None:
                feats = [torch.cat([l, f]) for l, f in zip(last, feats)]
            if len(feats[0]) > 1:
                d = sum(getattr(self, f"lin{k}")((f[:-1] - f[1:]) ** 2).mean((2, 3)) for k, f in enumerate(feats))
                out.append(d.flatten())
            last = [f[-1:] for f in feats]
        return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)

    def distance(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1], (N, 3, H, W) ×2 → (N,) distances."""
        x, y = self.scaling_layer(2 * x - 1), self.scaling_layer(2 * y - 1)
        total = 0.0
        for k, (fx, fy) in enumerate(zip(self.net(x), self.net(y))):
            fx = fx / (fx.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            fy = fy / (fy.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + getattr(self, f"lin{k}")((fx - fy) ** 2).mean((2, 3), keepdim=True)
        return total.flatten()

    @torch.no_grad()
    def forward(self, a: np.ndarray, b: np.ndarray, batch_size: int = 16) -> np.ndarray:
        """uint8 (N, H, W, 3) and (N, H, W, 3) → (N,) ST-LPIPS distances."""
        from .perceptual import to_tensor

        a, b = np.asarray(a), np.asarray(b)
        out = [self.distance(to_tensor(a[i:i + batch_size]), to_tensor(b[i:i + batch_size])) for i in range(0, len(a), batch_size)]
        return torch.cat(out).numpy().astype(np.float64)
