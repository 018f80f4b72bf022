"""FVD (Unterthiner et al. 2019) as StyleGAN-V computes it (Skorokhodov et al. 2022, src/metrics/frechet_video_distance.py).

- Detector: the I3D (Kinetics-400) TorchScript file StyleGAN-V uses (`i3d_torchscript.pt`), given by
  the user — nothing is downloaded. It is called as `detector(videos, rescale=True, resize=True,
  return_features=True)` on float videos (B, 3, T, H, W) in [0, 255]; the detector itself scales
  them to [-1, 1] and resizes the frames to 224² (the protocol's scaling).
- Clips: the first `num_frames` (16) consecutive frames, non-square frames centre-cropped to a square
  first; clips shorter than that are left out (StyleGAN-V's discard_short_videos).
- Distance: Fréchet distance between Gaussians fitted to the real and the synthetic feature sets.

Small-sample bias: the Fréchet distance of finite sets is biased upwards, and strongly so when the
number of clips is not much larger than the feature dimension (400 for I3D): two halves of the same
real set already score far above 0 with a few hundred clips. StyleGAN-V reports FVD over 2048 clips;
compare FVDs only at the same clip counts, next to the real-vs-real baseline.
"""
from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError

NUM_FRAMES = 16
BIAS_NOTE = ("FVD and FID are biased upwards on small sets (the Fréchet distance of finite samples; strongest when the clip "
             "count is not far above the feature dimension, 400 for I3D, 2048 for Inception): StyleGAN-V reports FVD over 2048 "
             "clips. Compare values only at equal clip/frame counts and against the real-vs-real baseline.")


def square_center_crop(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) → the central min(H, W)² square of every frame."""
    h, w = frames.shape[1:3]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return frames[:, y:y + s, x:x + s]


def _load_torchscript(path: Path, what: str, flag: str):
    import torch

    if not path.is_file():
        raise MexkitInputError(path, f"{what} file not found", f"pass the path of the file with {flag} PATH (nothing is downloaded)",
                               stage=what.split()[0].lower())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch ≥ 2.9 flags torch.jit as deprecated
            return torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, ValueError, OSError, zipfile.BadZipFile) as err:
        raise MexkitInputError(path, f"not a TorchScript {what} ({str(err).splitlines()[0] if str(err) else type(err).__name__})",
                               f"{flag} takes StyleGAN-V's i3d_torchscript.pt (a torch.jit.save'd module)", stage="fvd") from None


class I3DFeatures:
    """clip → (D,) I3D features by the StyleGAN-V protocol (see the module docstring)."""

    def __init__(self, path: str | Path, num_frames: int = NUM_FRAMES):
        self.path = Path(path)
        self.model = _load_torchscript(self.path, "FVD detector (I3D TorchScript)", "--fvd-model")
        self.num_frames = int(num_frames)
        self.name = self.path.name

    def usable(self, clip: Clip) -> bool:
        return clip.num_frames >= self.num_frames

    def __call__(self, clip: Clip) -> np.ndarray:
        import torch

        if not self.usable(clip):
            raise ValueError(f"FVD needs {self.num_frames} frames, the clip has {clip.num_frames}")
        frames = square_center_crop(np.asarray(clip.frames[: self.num_frames]))
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)[None].float()  # (1, 3, T, H, W) in [0, 255]
        with torch.no_grad():
            feats = self.model(x, rescale=True, resize=True, return_features=True)
        return feats.reshape(-1).double().numpy()
