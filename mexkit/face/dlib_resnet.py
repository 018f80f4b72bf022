"""dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`) as a PyTorch module.

The same network and the same weights as `dlib.face_recognition_model_v1` — read straight from dlib's
model file, no conversion step, no pickle — so descriptors match dlib's to float rounding (a test
compares them on real corpus faces) while frames run as one batch through torch's convolutions: about
ten times faster than dlib's own CPU build, which has no BLAS.

The architecture is dlib's `anet_type` (dlib/examples/dnn_face_recognition_ex.cpp): input 150×150 RGB
chip, (x − channel mean) / 256; conv 7×7/2 (32) → affine → relu → max-pool 3×3/2; residual levels
3×32, 4×64, 3×128, 3×256 and one more 256 down-block, each block conv 3×3 (stride 2 in a level's first,
"down" block) → affine → relu → conv 3×3 → affine, added to the input (a down block adds the input
average-pooled 2×2/2, zero-extended to the block's channels and size, as dlib's add_prev does) → relu;
global average; a 128-D linear map without bias. dlib pads a convolution or pooling only when its
stride is 1.

dlib's file format (dlib/serialize.h, dlib/cuda/tensor.h): tensors are written as version 2, four
dimensions as dlib integers (a byte holding the length, then little-endian bytes), then raw
little-endian float32. Layers are written from the input outwards, so the parameter tensors appear in
forward order; they are located by their expected sizes, in that order, and any mismatch is an error.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .model_files import dlib_model

MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"
CHIP_SIZE, CHIP_PADDING = 150, 0.25  # what dlib.face_recognition_model_v1 extracts
# (channels, down block?) per residual block, input to output
BLOCKS = ((32, False),) * 3 + ((64, True),) + ((64, False),) * 3 + ((128, True),) + ((128, False),) * 2 \
    + ((256, True),) + ((256, False),) * 2 + ((256, True),)


def _dlib_int(data: bytes, at: int) -> tuple[int, int]:
    """A dlib-serialised integer at `at` → (value, next offset)."""
    head = data[at]
    n = head & 0x0F
    value = int.from_bytes(data[at + 1:at + 1 + n], "little")
    return (-value if head & 0x80 else value), at + 1 + n


def _tensor_headers(data: bytes) -> list[tuple[int, int]]:
    """(offset of the float data, element count) of every place that parses as a version-2 dlib tensor."""
    out, at = [], data.find(b"\x01\x02")
    while at != -1:
        pos, count = at + 2, 1
        try:
            for _ in range(4):
                if data[pos] & 0xF0 or (data[pos] & 0x0F) > 4:
                    raise ValueError
                dim, pos = _dlib_int(data, pos)
                count *= dim
            if 0 < count and pos + 4 * count <= len(data):
                out.append((pos, count))
        except (ValueError, IndexError):
            pass
        at = data.find(b"\x01\x02", at + 1)
    return out


def _parameter_sizes() -> list[int]:
    sizes = [32 * 3 * 7 * 7 + 32, 2 * 32]
    cin = 32
    for n, _ in BLOCKS:
        sizes += [n * cin * 9 + n, 2 * n, n * n * 9 + n, 2 * n]
        cin = n
    return sizes + [256 * 128]


def read_dlib_weights(path: str | Path) -> list[np.ndarray]:
    """The parameter tensors of dlib's face-recognition ResNet file, in forward order (float32 arrays)."""
    path = Path(path)
    data = path.read_bytes()
    headers = _tensor_headers(data)
    out, after = [], 0
    for size in _parameter_sizes():
        match = next(((pos, n) for pos, n in headers if pos >= after and n == size), None)
        if match is None:
            raise ValueError(f"{path}: not dlib's face-recognition ResNet v1 (no parameter tensor of {size} values after byte {after})")
        out.append(np.frombuffer(data, "<f4", count=size, offset=match[0]).copy())
        after = match[0] + 4 * size
    return out


def _add_prev(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's add_prev: the sum over the larger of each dimension, the smaller tensor zero-extended."""
    if a.shape == b.shape:
        return a + b
    out = a.new_zeros([max(x, y) for x, y in zip(a.shape, b.shape)])
    out[:, :a.shape[1], :a.shape[2], :a.shape[3]] += a
    out[:, :b.shape[1], :b.shape[2], :b.shape[3]] += b
    return out


class DlibFaceResNet(nn.Module):
    """(N, 150, 150, 3) uint8 RGB face chips (dlib.get_face_chip, size 150, padding 0.25) → (N, 128)."""

    def __init__(self, weights: list[np.ndarray]):
        super().__init__()
        self.register_buffer("mean", torch.tensor([122.782, 117.001, 104.298]))  # dlib's input_rgb_image means
        params = iter(torch.from_numpy(w) for w in weights)
        cin = 3
        for i, (n, k) in enumerate([(32, 7)] + [(c, 3) for c, _ in BLOCKS for _ in range(2)]):
            conv = next(params)
            split = n * cin * k * k
            self.register_buffer(f"w{i}", conv[:split].reshape(n, cin, k, k))
            self.register_buffer(f"b{i}", conv[split:])
            aff = next(params)
            self.register_buffer(f"g{i}", aff[:n].reshape(1, n, 1, 1))
            self.register_buffer(f"h{i}", aff[n:].reshape(1, n, 1, 1))
            cin = n
        self.register_buffer("fc", next(params).reshape(256, 128))

    def _conv_affine(self, x: torch.Tensor, i: int, stride: int) -> torch.Tensor:
        w = getattr(self, f"w{i}")
        pad = w.shape[-1] // 2 if stride == 1 else 0
        return F.conv2d(x, w, getattr(self, f"b{i}"), stride=stride, padding=pad) * getattr(self, f"g{i}") + getattr(self, f"h{i}")

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        x = (chips.float() - self.mean).permute(0, 3, 1, 2) / 256.0
        x = F.max_pool2d(F.relu(self._conv_affine(x, 0, 2)), 3, 2)
        i = 1
        for _, down in BLOCKS:
            y = F.relu(self._conv_affine(x, i, 2 if down else 1))
            y = self._conv_affine(y, i + 1, 1)
            x = F.relu(_add_prev(y, F.avg_pool2d(x, 2, 2) if down else x))
            i += 2
        return x.mean(dim=(2, 3)) @ self.fc


@lru_cache(maxsize=1)
def load_dlib_face_resnet() -> DlibFaceResNet:
    """The network of face-recognition-models' dlib file (read once per process), in eval mode."""
    return DlibFaceResNet(read_dlib_weights(dlib_model(MODEL_FILE))).eval()
