"""FID over frames (Heusel et al. 2017): Inception-v3 pool features (2048-d) of every frame, Fréchet
distance between the real and the synthetic frames.

Weights come from a user-supplied file (nothing is downloaded): a torchvision `inception_v3` state dict
(1000 classes), or pytorch-fid's `pt_inception-2015-12-05-*.pth` (1008 classes: the TF FID graph, whose
pooling differs in some blocks — rebuilt here so its features are those of pytorch-fid). Frames are
resized to 299² (bilinear) and scaled to [-1, 1], as pytorch-fid feeds them. Features are accumulated
as running moments (sum, sum of outer products), so memory stays flat in the number of frames.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mexkit.errors import MexkitInputError

FID_CLASSES = 1008  # pytorch-fid's weights


def _fid_blocks(model) -> None:
    """Swap in the pooling of the TF FID Inception (pytorch-fid): average pools without the padding, and a max pool in the last block."""
    from torchvision.models import inception as tvi

    def avg(x):
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    class A(tvi.InceptionA):
        def forward(self, x):
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)), b3, self.branch_pool(avg(x))], 1)

    class C(tvi.InceptionC):
        def forward(self, x):
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            bd = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(self.branch7x7dbl_2(self.branch7x7dbl_1(x)))))
            return torch.cat([self.branch1x1(x), b7, bd, self.branch_pool(avg(x))], 1)

    class E(tvi.InceptionE):
        pool = staticmethod(avg)

        def forward(self, x):
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
            return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(self.pool(x))], 1)

    class E2(E):
        pool = staticmethod(lambda x: F.max_pool2d(x, kernel_size=3, stride=1, padding=1))

    model.Mixed_5b, model.Mixed_5c, model.Mixed_5d = A(192, 32), A(256, 64), A(288, 64)
    model.Mixed_6b, model.Mixed_6c, model.Mixed_6d, model.Mixed_6e = C(768, 128), C(768, 160), C(768, 160), C(768, 192)
    model.Mixed_7b, model.Mixed_7c = E(1280), E2(2048)


def build_inception(num_classes: int = 1000):
    """An untrained torchvision Inception-v3 (no auxiliary head); 1008 classes → pytorch-fid's variant."""
    from torchvision.models import inception_v3

    model = inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=num_classes, transform_input=False)
    if num_classes == FID_CLASSES:
        _fid_blocks(model)
    return model


class InceptionFeatures:
    """frames (N, H, W, 3) uint8 → (N, 2048) pool features of Inception-v3 loaded from `path`."""

    def __init__(self, path: str | Path, batch_size: int = 16):
        self.path = Path(path)
        if not self.path.is_file():
            raise MexkitInputError(self.path, "FID Inception-v3 weights not found",
                                   "pass --fid-model PATH: a torchvision inception_v3 state dict or pytorch-fid's pt_inception-2015-12-05 .pth "
                                   "(nothing is downloaded)", stage="fid")
        try:
            if self.path.suffix == ".safetensors":
                from safetensors.torch import load_file

                state = load_file(str(self.path))
            else:
                state = torch.load(str(self.path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:  # torch's own text would advise weights_only=False: never (docs/assets.md)
            raise MexkitInputError(self.path, "not plain weights: the file holds pickled Python objects, which mexkit never loads "
                                   "(torch.load(weights_only=True) refused it)",
                                   "save plain weights: torch.save(model.state_dict(), path), or a .safetensors file", stage="fid") from None
        except Exception as err:
            first = str(err).splitlines()[0] if str(err) else ""
            raise MexkitInputError(self.path, f"cannot read Inception-v3 weights ({type(err).__name__}: {first.split(' Re-running')[0]})",
                                   "save them with torch.save(model.state_dict(), path)", stage="fid") from None
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict) or "fc.weight" not in state:
            raise MexkitInputError(self.path, "not an Inception-v3 state dict (no fc.weight)",
                                   "give a torchvision inception_v3 state dict or pytorch-fid's weights", stage="fid")
        state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
        model = build_inception(int(state["fc.weight"].shape[0]))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise MexkitInputError(self.path, f"Inception-v3 weights do not fit (missing {missing[:3]}, unexpected {unexpected[:3]})",
                                   "give a torchvision inception_v3 state dict or pytorch-fid's weights", stage="fid")
        model.fc = torch.nn.Identity()
        self.model = model.eval()
        self.variant = "pytorch-fid" if state["fc.weight"].shape[0] == FID_CLASSES else "torchvision"
        self.batch_size = batch_size
        self.name = f"{self.path.name} ({self.variant})"

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        out = []
        with torch.no_grad():
            for i in range(0, len(frames), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(frames[i:i + self.batch_size])).permute(0, 3, 1, 2).float() / 255.0
                x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) * 2.0 - 1.0
                out.append(self.model(x))
        return torch.cat(out).double().numpy()


class Moments:
    """Running count, sum and sum of outer products of feature vectors (float64)."""

    def __init__(self):
        self.n, self.s, self.ss = 0, None, None

    def add(self, feats: np.ndarray) -> None:
        feats = np.asarray(feats, np.float64)
        if self.s is None:
            self.s, self.ss = np.zeros(feats.shape[1]), np.zeros((feats.shape[1], feats.shape[1]))
        self.n += len(feats)
        self.s += feats.sum(0)
        self.ss += feats.T @ feats

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        mu = self.s / self.n
        return mu, (self.ss - self.n * np.outer(mu, mu)) / (self.n - 1)


def frechet_from_moments(a: Moments, b: Moments, eps: float = 1e-6) -> float:
    """The Fréchet distance of `distribution.frechet_distance` (same formula and eps), from running moments."""
    from scipy import linalg

    if a.n < 2 or b.n < 2:
        raise ValueError(f"Fréchet distance needs at least 2 samples per set, got {a.n} and {b.n}")
    (mu_a, ca), (mu_b, cb) = a.mean_cov(), b.mean_cov()
    ca, cb = ca + eps * np.eye(len(ca)), cb + eps * np.eye(len(cb))
    covmean = linalg.sqrtm(ca @ cb)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2.0 * np.trace(covmean))
