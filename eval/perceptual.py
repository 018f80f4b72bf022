"""Perceptual metrics against a reference clip: ST-LPIPS by default (or LPIPS with a user-supplied
backbone), SSIM, PSNR, optional cvvdp.

ST-LPIPS (eval/stlpips.py) runs out of the box: stlpips-pytorch ships its trained trunk and linear
layers. Standard LPIPS needs ImageNet backbone weights that no package ships: pass `backbone=` the path
of a torchvision AlexNet/VGG16/SqueezeNet-1.1 state dict (.pth or .safetensors; keys `features.N.*`, or a
full lpips state dict). `random_backbone=True` builds a seeded random backbone (with lpips' shipped
linear layers) — only for tests and wiring; its numbers are not LPIPS. Nothing is ever downloaded.

Both models name their metric (`metric`: "st_lpips" or "lpips"): the perceptual column, and the temporal
family's `<metric>_consecutive` and `t<metric>` (tST-LPIPS, tLPIPS).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError, MissingWeightsError

LPIPS_NETS = ("alex", "vgg", "squeeze")


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) → float (N, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)


def _load_state(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as err:  # truncated or not a safetensors file
            raise MexkitInputError(path, f"not a readable safetensors file ({type(err).__name__}: {str(err)[:120]})",
                                   "give the backbone's complete .safetensors file (or a plain torch.save state dict)", stage="lpips") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's note on the pickle protocol of a foreign file
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # a pickle of arbitrary objects (or not a torch file): refused, never unpickled
        raise MexkitInputError(path, f"not plain weights: torch.load(weights_only=True) refused it ({type(err).__name__})",
                               "give a .safetensors file or a plain state dict saved with torch.save(model.state_dict(), path) "
                               "(pickled models and other pickles are not loaded)", stage="lpips") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise MexkitInputError(path, "not a state dict", "save the backbone with torch.save(model.state_dict(), path)", stage="lpips")
    return obj


class LPIPS(torch.nn.Module):
    """LPIPS distance (Zhang et al. 2018) with lpips' calibrated linear layers and a local backbone.

    backbone: path of the ImageNet weights of `net`; random_backbone: seeded random trunk (tests only).
    Call with uint8 frames (N, H, W, 3) ×2 → (N,) distances.
    """

    metric = "lpips"
    label = "LPIPS"

    def __init__(self, net: str = "alex", backbone: str | Path | None = None, random_backbone: bool = False, seed: int = 0):
        super().__init__()
        import lpips

        if net not in LPIPS_NETS:
            raise ValueError(f"unknown LPIPS net {net!r}; choose one of {LPIPS_NETS}")
        if backbone is None and not random_backbone:
            raise MissingWeightsError(
                f"LPIPS {net} backbone", "a local file given as backbone=",
                f"LPIPS needs ImageNet {net} weights that cannot be downloaded here: pass the path of a torchvision "
                f"{ {'alex': 'alexnet', 'vgg': 'vgg16', 'squeeze': 'squeezenet1_1'}[net] } state dict "
                "(`mexkit eval --lpips-backbone PATH`), or leave LPIPS out.",
            )
        # pnet_rand=True: lpips never asks torchvision for (downloaded) ImageNet weights.
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torchvision's "pretrained is deprecated"
            torch.manual_seed(seed)
            model = lpips.LPIPS(pretrained=False, net=net, pnet_rand=True, verbose=False)
        lin_path = Path(lpips.__file__).parent / "weights" / "v0.1" / f"{net}.pth"
        model.load_state_dict(torch.load(str(lin_path), map_location="cpu", weights_only=True), strict=False)
        self.backbone_name = "random" if backbone is None else Path(backbone).name
        if backbone is not None:
            self._load_backbone(model, Path(backbone))
        self.model = model.eval()
        self.net = net
        self.description = f"LPIPS {net}:{self.backbone_name}"
        for p in self.parameters():
            p.requires_grad_(False)

    @staticmethod
    def _load_backbone(model, path: Path) -> None:
        if not path.is_file():
            raise MissingWeightsError("LPIPS backbone", str(path), "check the --lpips-backbone path")
        state = _load_state(path)
        trunk = model.net
        index_to_slice = {name: f"{slice_name}.{name}" for slice_name, sl in trunk.named_children() for name, _ in sl.named_children()}
        mapped: dict[str, torch.Tensor] = {}
        for key, value in state.items():
            if key.startswith("net.") and key.count(".") >= 3:  # a full lpips state dict
                mapped[key[4:]] = value
            elif key.startswith("features."):
                _, idx, param = key.split(".", 2)
                if idx in index_to_slice:
                    mapped[f"{index_to_slice[idx]}.{param}"] = value
        expected = set(trunk.state_dict())
        missing = expected - set(mapped)
        if missing:
            raise MexkitInputError(path, f"backbone file lacks {len(missing)} of {len(expected)} trunk weights (e.g. {sorted(missing)[:3]})",
                                   "give the torchvision state dict of the same net (alexnet for net='alex', vgg16 for 'vgg', squeezenet1_1 for 'squeeze')", stage="lpips")
        try:
            trunk.load_state_dict(mapped, strict=True)
        except RuntimeError as err:
            raise MexkitInputError(path, f"backbone weights do not fit the {model.pnet_type} trunk ({str(err).splitlines()[0]})",
                                   "give the torchvision state dict of the same net", stage="lpips") from None

    @torch.no_grad()
    def forward(self, a: np.ndarray, b: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """uint8 (N, H, W, 3) and (N, H, W, 3) → (N,) LPIPS distances."""
        a, b = np.asarray(a), np.asarray(b)
        out = []
        for i in range(0, len(a), batch_size):
            x, y = to_tensor(a[i:i + batch_size]), to_tensor(b[i:i + batch_size])
            out.append(self.model(x, y, normalize=True).flatten())
        return torch.cat(out).numpy().astype(np.float64)


def perceptual_model(net: str = "alex", backbone: str | Path | None = None):
    """The perceptual distance of a run: ST-LPIPS (`net` alex or vgg, shipped weights) without a backbone,
    standard LPIPS with the ImageNet `backbone` file of `net`."""
    if backbone is not None:
        return LPIPS(net, backbone=backbone)
    from .stlpips import STLPIPS, STLPIPS_NETS

    if net not in STLPIPS_NETS:
        raise MexkitInputError(None, f"ST-LPIPS ships no {net!r} weights (only {', '.join(STLPIPS_NETS)})",
                               f"use --lpips-net {' or '.join(STLPIPS_NETS)}, or give --lpips-backbone for standard LPIPS {net}", stage="perceptual")
    return STLPIPS(net)


def ssim_frames(a: np.ndarray, b: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Per-frame SSIM (Wang et al. 2004: Gaussian window σ 1.5 truncated to 11×11, K1 .01, K2 .03, data
    range 255) of uint8 (N, H, W, 3) frames, averaged over channels and the valid (unpadded) region —
    the definition of skimage's `structural_similarity(gaussian_weights=True, use_sample_covariance=False)`,
    computed with separable OpenCV filters (≈ 10× faster)."""
    import cv2

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    pad = 5  # (11 - 1) / 2

    def filt(x):
        return cv2.GaussianBlur(x, (11, 11), sigma, borderType=cv2.BORDER_REFLECT)

    out = np.empty(len(a))
    for i, (x, y) in enumerate(zip(np.asarray(a), np.asarray(b))):
        x, y = x.astype(np.float64), y.astype(np.float64)
        mx, my = filt(x), filt(y)
        vx, vy, cxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        out[i] = s[pad:-pad, pad:-pad].mean()
    return out


def psnr_frames(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-frame PSNR in dB of uint8 (N, H, W, 3) frames (identical frames: capped at 100 dB)."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    from .threads import single_thread

    with single_thread():
        p = peak_signal_noise_ratio(to_tensor(a).double(), to_tensor(b).double(), data_range=1.0, reduction="none", dim=(1, 2, 3))
    return np.minimum(np.nan_to_num(p.numpy(), posinf=100.0), 100.0)


def match_reference(clip: Clip, reference: Clip) -> np.ndarray:
    """Reference frames resized to the clip's size and matched by index (lengths must agree)."""
    import cv2

    if reference.num_frames != clip.num_frames:
        raise MexkitInputError(reference.source or reference.sample_id, f"reference has {reference.num_frames} frames, clip {clip.sample_id!r} has {clip.num_frames}",
                               "pair each generated clip with a ground-truth clip of the same length", stage="perceptual")
    if reference.size == clip.size:
        return reference.frames
    h, w = clip.size
    return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in reference.frames])


class PerceptualScorer:
    """Per-clip ST-LPIPS or LPIPS (column `lpips.metric`) / SSIM / PSNR (and optional cvvdp JOD) of a clip
    against its ground truth."""

    family = "perceptual"

    def __init__(self, lpips: "LPIPS | STLPIPS | None" = None, cvvdp: "CvvdpScorer | None" = None):
        self.lpips = lpips
        self.cvvdp = cvvdp

    def __call__(self, clip: Clip, reference: Clip) -> dict[str, float]:
        ref = match_reference(clip, reference)
        row = {"ssim": float(ssim_frames(clip.frames, ref).mean()), "psnr": float(psnr_frames(clip.frames, ref).mean())}
        if self.lpips is not None:
            row[self.lpips.metric] = float(self.lpips(clip.frames, ref).mean())
        if self.cvvdp is not None:
            row["cvvdp_jod"] = self.cvvdp(clip.frames, ref, clip.fps)
        return row


class CvvdpScorer:
    """ColorVideoVDP (Mantiuk et al. 2024; optional `pip install cvvdp`): JOD quality of a video against
    its reference, 10 = indistinguishable. Runs offline with its shipped calibration."""

    def __init__(self, display: str = "standard_fhd"):
        try:
            import pycvvdp
        except ImportError:
            raise MexkitInputError(None, "cvvdp is not installed", "pip install cvvdp (optional dependency), or drop --cvvdp", stage="perceptual") from None
        self.metric = pycvvdp.cvvdp(display_name=display, quiet=True, device=torch.device("cpu"))

    def __call__(self, test: np.ndarray, reference: np.ndarray, fps: float) -> float:
        with torch.no_grad():
            q, _ = self.metric.predict(np.ascontiguousarray(test), np.ascontiguousarray(reference), dim_order="FHWC", frames_per_second=float(fps))
        return float(q)
