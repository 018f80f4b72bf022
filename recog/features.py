"""Per-clip recognition inputs (docs/design.md §5): onset–apex flow + strain, LBP-TOP histograms, frame stacks.

Every feature here is a fixed function of one clip — nothing is fitted — so computing it never lets
one sample's data shape another's. Anything learned (scaling, SVM, CNN weights) lives in the models
and is fitted inside a LOSO fold on that fold's training rows only.

- `flow_strain`: (3, S, S) float32 — u, v of the onset→apex optical flow (TV-L1 where available, else
  DIS; `method_used` records which) in pixels of the S-grid, and the optical strain magnitude. STSTNet's
  input with S = 28; norm="ststnet" applies its per-channel min–max to [0, 255] (`norm` recorded).
- `lbptop`: (blocks · 3 · 59,) float32 — uniform LBP (8 neighbours) histograms on the XY, XT and YT
  planes of the onset..offset volume, per spatial block, each normalised to sum 1 (Zhao & Pietikäinen).
- `frames_input`: (T, C, S, S) float32 in [0, 1] — frames sampled evenly from onset to offset (the 3D CNN's input).
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable, Sequence

import cv2
import numpy as np
from skimage.feature import local_binary_pattern
from tqdm.auto import tqdm

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.optical_flow import compute_flow, optical_strain, resolve_method

LBP_POINTS = 8
LBP_BINS = LBP_POINTS * (LBP_POINTS - 1) + 3  # 59 non-rotation-invariant uniform patterns


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    if img.shape[0] == size and img.shape[1] == size:
        return img
    interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(img, (size, size), interpolation=interp)


FLOW_NORMS = ("none", "ststnet")


def ststnet_norm(channels: np.ndarray) -> np.ndarray:
    """STSTNet's input normalisation (its `norm_u_v_os` images): each channel of one clip min–max scaled
    to [0, 255] on its own (MATLAB's mat2gray, then 8-bit images the network reads as 0–255 floats;
    not quantised here). A constant channel becomes 0. (C, S, S) → (C, S, S) float32."""
    x = np.asarray(channels, np.float64)
    lo = x.min(axis=(1, 2), keepdims=True)
    span = x.max(axis=(1, 2), keepdims=True) - lo
    return np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0) * 255.0, 0.0).astype(np.float32)


def flow_strain(clip: Clip, size: int = 28, method: str = "tvl1", flow_size: int | None = None, norm: str = "none") -> np.ndarray:
    """Onset→apex flow (u, v) and optical strain, resized to size × size → (3, size, size) float32.

    The flow is computed on the gray onset and apex frames (resized to flow_size first when given);
    u, v are rescaled to pixels of the size-grid (u by size / width, v by size / height, so a non-square
    input is right on both axes), strain (a ratio of displacements) is not. norm: "none" (those raw
    values) or "ststnet" (`ststnet_norm`, the STSTNet paper's inputs); `feature_info` records which.
    """
    if norm not in FLOW_NORMS:
        raise ValueError(f"unknown flow_strain norm {norm!r}; choose one of {FLOW_NORMS}")
    a, b = _gray(clip.frames[clip.onset]), _gray(clip.frames[clip.apex])
    if flow_size:
        a, b = _resize(a, flow_size), _resize(b, flow_size)
    flow = compute_flow(a, b, method)
    strain = optical_strain(flow)
    # u is in pixels of the width, v of the height: each axis has its own scale when the input is not square
    u = _resize(flow[..., 0], size) * (size / flow.shape[1])
    v = _resize(flow[..., 1], size) * (size / flow.shape[0])
    s = _resize(strain, size)
    out = np.stack([u, v, s]).astype(np.float32)
    return ststnet_norm(out) if norm == "ststnet" else out


def _sample_indices(start: int, stop: int, num: int) -> np.ndarray:
    """num frame indices spread evenly over start..stop inclusive (repeats when the clip is shorter)."""
    return np.rint(np.linspace(start, stop, num)).astype(int)


def _lbp_codes(planes: np.ndarray, radius: int) -> np.ndarray:
    """Uniform LBP codes of a stack of 2-D planes (N, A, B) → (N, A, B) uint8."""
    return np.stack([local_binary_pattern(np.ascontiguousarray(p), LBP_POINTS, radius, method="nri_uniform") for p in planes]).astype(np.uint8)


def _block_histograms(codes: np.ndarray, grid: int, radius: int, temporal: bool) -> np.ndarray:
    """Histograms of a (T, H, W) code volume per spatial block (grid × grid) → (grid², 59).

    The spatial border (`radius` pixels) is dropped, and for XT / YT planes (temporal=True) also the
    first and last `radius` frames, where the neighbourhood leaves the volume.
    """
    t, h, w = codes.shape
    r = radius
    inner = codes[r:t - r] if temporal and t > 2 * r else codes
    inner = inner[:, r:h - r, r:w - r]
    ys = np.linspace(0, inner.shape[1], grid + 1).astype(int)
    xs = np.linspace(0, inner.shape[2], grid + 1).astype(int)
    out = np.zeros((grid * grid, LBP_BINS), np.float32)
    for i in range(grid):
        for j in range(grid):
            block = inner[:, ys[i]:ys[i + 1], xs[j]:xs[j + 1]].ravel()
            hist = np.bincount(block, minlength=LBP_BINS)[:LBP_BINS].astype(np.float32)
            out[i * grid + j] = hist / max(hist.sum(), 1.0)
    return out


def lbptop(clip: Clip, grid: int = 5, radius: int = 1, num_frames: int = 10, size: int = 64) -> np.ndarray:
    """LBP-TOP of the onset..offset volume → (grid² · 3 · 59,) float32.

    The gray frames are resized to size × size and resampled to num_frames (temporal interpolation
    by nearest frame).
    """
    idx = _sample_indices(clip.onset, clip.offset, num_frames)
    vol = np.ascontiguousarray(np.stack([_resize(_gray(clip.frames[i]), size) for i in idx]))  # uint8 (T, H, W)
    xy = _lbp_codes(vol, radius)  # planes over (H, W) at each t
    xt = _lbp_codes(vol.transpose(1, 0, 2), radius).transpose(1, 0, 2)  # planes over (T, W) at each y
    yt = _lbp_codes(vol.transpose(2, 0, 1), radius).transpose(1, 2, 0)  # planes over (T, H) at each x
    hists = [_block_histograms(xy, grid, radius, False), _block_histograms(xt, grid, radius, True),
             _block_histograms(yt, grid, radius, True)]
    return np.concatenate([h[:, None, :] for h in hists], axis=1).reshape(-1)  # (blocks, 3 planes, 59) → flat


def frames_input(clip: Clip, num_frames: int = 8, size: int = 32, gray: bool = False) -> np.ndarray:
    """Frames sampled evenly from onset to offset, resized → (T, C, size, size) float32 in [0, 1]."""
    idx = _sample_indices(clip.onset, clip.offset, num_frames)
    frames = [_resize(clip.frames[i], size) for i in idx]
    arr = np.stack([_gray(f)[..., None] for f in frames]) if gray else np.stack(frames)
    return (arr.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)


FEATURES: dict[str, Callable[..., np.ndarray]] = {"flow_strain": flow_strain, "lbptop": lbptop, "frames": frames_input}


def feature_info(kind: str, params: dict | None = None) -> dict:
    """What a feature kind will really compute here (e.g. the flow method after the TV-L1 fallback)."""
    if kind not in FEATURES:
        raise ValueError(f"unknown feature kind {kind!r}; choose one of {sorted(FEATURES)}")
    params = dict(params or {})
    info = {"kind": kind, **params}
    if kind == "flow_strain":
        info["method_used"] = resolve_method(params.get("method", "tvl1"))
        info["norm"] = params.get("norm", "none")
    return info


def compute_features(clips: Sequence[Clip], kind: str, progress: bool = False, **params) -> np.ndarray:
    """Stack one feature kind over clips → (N, ...) float32 (see the module docstring for shapes)."""
    if kind not in FEATURES:
        raise ValueError(f"unknown feature kind {kind!r}; choose one of {sorted(FEATURES)}")
    fn = FEATURES[kind]
    out = [fn(c, **params) for c in tqdm(clips, desc=f"features ({kind})", unit="clip", disable=not progress)]
    return np.stack(out) if out else np.zeros((0,), np.float32)


# What each feature parameter may be: (test, what it must be). Checked before any work (`check_feature`).
_POSITIVE_INT = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "a whole number ≥ 1")
FEATURE_PARAMS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "size": _POSITIVE_INT, "num_frames": _POSITIVE_INT, "grid": _POSITIVE_INT, "radius": _POSITIVE_INT,
    "flow_size": (lambda v: v is None or _POSITIVE_INT[0](v), "a whole number ≥ 1 (or null)"),
    "method": (lambda v: v in ("tvl1", "dis", "farneback"), "one of tvl1, dis, farneback"),
    "norm": (lambda v: v in FLOW_NORMS, f"one of {', '.join(FLOW_NORMS)}"),
    "gray": (lambda v: isinstance(v, bool), "true or false"),
}


def check_feature(feature: dict | None, where: str, section: str = "feature") -> None:
    """A feature spec ({kind, ...params}) as a config gives it, checked before any work: a known kind, only that
    kind's parameters, each of a usable value — else a MexkitInputError naming the config (`where`), the key and
    the fix. None (the model's own input) passes."""
    if not feature:
        return
    feature = dict(feature)
    kind = feature.pop("kind", None)
    if kind not in FEATURES:
        raise MexkitInputError(where, f"{section}: {'no kind' if kind is None else f'unknown kind {kind!r}'}",
                               f"give kind: one of {', '.join(sorted(FEATURES))}", stage="config")
    takes = [n for n in inspect.signature(FEATURES[kind]).parameters if n != "clip"]
    for key, value in feature.items():
        if key not in takes:
            close = difflib.get_close_matches(str(key), takes, n=1)
            raise MexkitInputError(where, f"{section}: unknown key {key!r} for kind {kind}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                                   f"use only {', '.join(takes)}", stage="config")
        test, must = FEATURE_PARAMS.get(key, (lambda v: True, ""))
        if not test(value):
            raise MexkitInputError(where, f"{section}.{key}: {value!r} is not usable", f"give {key} as {must}", stage="config")


def check_experiment_features(cfg: dict, where: str) -> None:
    """Every feature of an experiment config (`feature`, and each `models.<name>.feature`) through `check_feature`."""
    check_feature(cfg.get("feature"), where)
    for name, entry in (cfg.get("models") or {}).items():
        check_feature((entry or {}).get("feature") if isinstance(entry, dict) else None, where, f"models.{name}.feature")
