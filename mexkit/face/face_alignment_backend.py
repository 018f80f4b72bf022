"""face-alignment (FAN) backend — only with weights from a local folder; nothing is downloaded.

face-alignment fetches its FAN and s3fd networks from a website on first use, which fails offline.
Here the FAN network is built from `face_alignment.models.FAN` and its weights are loaded from
`weights_dir` (the file names face-alignment itself uses); faces are boxed by s3fd when its weights
are in the same folder, else by dlib's HOG detector (ships offline). `random_init=True` builds the
network with random weights so the wiring can be tested without the real file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import MissingWeightsError
from .backend import FaceBackend, register_backend
from .face import Face

FAN_FILE = "2DFAN4-11f355bf06.pth.tar"
S3FD_FILE = "s3fd-619a316812.pth"


def _find(weights_dir: Path, name: str) -> Path | None:
    for cand in (weights_dir / name, weights_dir / "checkpoints" / name, weights_dir / "hub" / "checkpoints" / name):
        if cand.exists():
            return cand
    return None


@register_backend("face-alignment")
class FaceAlignmentBackend(FaceBackend):
    """weights_dir: folder with 2DFAN4-11f355bf06.pth.tar (and optionally s3fd-619a316812.pth);
    defaults to $MEXKIT_FAN_WEIGHTS or $TORCH_HOME/hub/checkpoints."""

    name = "face-alignment"
    scheme = "ibug68"

    def __init__(self, weights_dir: str | Path | None = None, random_init: bool = False, seed: int = 0):
        import torch
        from face_alignment.models import FAN

        self._torch = torch
        if weights_dir is None:
            env = os.environ.get("MEXKIT_FAN_WEIGHTS") or (Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" if "TORCH_HOME" in os.environ else None)
            weights_dir = Path(env) if env else None
        fan_path = _find(Path(weights_dir), FAN_FILE) if weights_dir else None
        if fan_path is None and not random_init:
            raise MissingWeightsError(
                "face-alignment FAN",
                f"{FAN_FILE} in {weights_dir or '(no folder given)'}",
                "face-alignment downloads it on first use, which cannot work offline: copy the file from a "
                "machine that has it (~/.cache/torch/hub/checkpoints/) into a folder and pass "
                "FacePipeline(backend='face-alignment', weights_dir=FOLDER) or set MEXKIT_FAN_WEIGHTS. "
                "The 'mediapipe' and 'dlib' backends work offline without it.",
            )
        self.net = FAN(4)
        if fan_path is not None:
            state = torch.load(fan_path, map_location="cpu", weights_only=True)
            self.net.load_state_dict(state)
            self.weights = str(fan_path)
        else:
            g = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for p in self.net.parameters():
                    p.copy_(torch.randn(p.shape, generator=g) * 0.02)
            self.weights = "random-init"
        self.net.eval()
        self._s3fd = None
        s3fd_path = _find(Path(weights_dir), S3FD_FILE) if weights_dir else None
        if s3fd_path is not None:
            from face_alignment.detection.sfd.sfd_detector import SFDDetector

            self._s3fd = SFDDetector(device="cpu", path_to_detector=str(s3fd_path))
        else:
            from .dlib_backend import DlibBackend

            self._boxer = DlibBackend()

    def _boxes(self, image: np.ndarray) -> list[tuple[float, float, float, float]]:
        if self._s3fd is not None:
            return [tuple(map(float, d[:4])) for d in self._s3fd.detect_from_image(image.copy())]
        return [f.bbox for f in self._boxer.detect(image)]

    def _landmarks(self, image: np.ndarray, bbox) -> np.ndarray:
        from face_alignment.utils import CENTER_Y_OFFSET, crop, get_preds_fromhm

        x0, y0, x1, y1 = bbox
        center = np.array([x1 - (x1 - x0) / 2.0, y1 - (y1 - y0) / 2.0])
        center[1] -= (y1 - y0) * CENTER_Y_OFFSET
        scale = (x1 - x0 + y1 - y0) / 195.0  # face-alignment's reference scale for its detectors
        inp = crop(image, center, scale).transpose((2, 0, 1)).astype(np.float32) / 255.0
        with self._torch.no_grad():
            out = self.net(self._torch.from_numpy(inp)[None])
        out = (out[-1] if isinstance(out, list) else out).numpy()
        _, pts_img, _ = get_preds_fromhm(out, center, scale)
        return np.asarray(pts_img, dtype=np.float32).reshape(68, 2)

    def detect(self, image: np.ndarray) -> list[Face]:
        faces = [Face(bbox=b, landmarks=self._landmarks(image, b), scheme=self.scheme) for b in self._boxes(image)]
        return sorted(faces, key=lambda f: -f.area)

    def landmarks_in_box(self, image: np.ndarray, bbox) -> Face:
        return Face(bbox=tuple(map(float, bbox)), landmarks=self._landmarks(image, bbox), scheme=self.scheme)
