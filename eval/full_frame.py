"""Measuring full-frame clips (synth/full_frame.py): the faces re-detected as crop clips, and a seam score.

`face_clips(frames)` finds every face in the first frame of a full-frame clip, aligns each to the eye
template on that frame and cuts every frame with that one transform (as `FacePipeline.align_clip` does:
per-frame alignment would add jitter), so the crop-level families (identity, temporal, …) score the
rendered frames the way they score a generator's own crops.

`seam_score(frame, reference, mask)`: whether pasting motion into a photo left an edge along the
mask's border. With G = the squared Sobel gradient of the luma,

    r(F) = mean G(F) over the border band  /  mean G(F) over the rest of the face (mask = 1)
    seam = r(frame) / r(reference)

the border band being the pixels within `band` px of either edge of the mask's transition — where it
leaves 0 and where it reaches 1 (one line for a hard mask). The real photo is the reference: natural
edges that happen to lie along the band (jaw, hairline) cancel, so the photo itself scores exactly 1, a
seamless rendering about 1, and a paste with a step along its border clearly above 1.
"""
from __future__ import annotations

import cv2
import numpy as np

from mexkit.clip import Clip
from mexkit.face import FacePipeline
from mexkit.face.align import eye_affine, warp_to_crop
from mexkit.face.landmark_schemes import to68

SEAM_BAND_PX = 2


def face_clips(frames: np.ndarray, resolution: int = 128, pipeline: FacePipeline | None = None, fps: float = 30.0) -> list[Clip]:
    """Every face found (both detectors) in frame 0 of (T, H, W, 3) uint8 frames, left to right, as aligned
    crop clips (T, S, S, 3) cut with frame 0's alignment; meta holds the affine and the face box."""
    pipeline = pipeline or FacePipeline("mediapipe", resolution=resolution)
    faces = sorted(pipeline.detect(frames[0], all_faces=True), key=lambda f: f.bbox[0])
    out = []
    for k, face in enumerate(faces):
        affine = eye_affine(*face.eye_centers, resolution)
        crops = np.stack([warp_to_crop(f, affine, resolution) for f in frames])
        lm = to68(face.landmarks, face.scheme)
        out.append(Clip(frames=crops, fps=fps, sample_id=f"face{k}",
                        landmarks=(lm @ affine[:, :2].T + affine[:, 2]).astype(np.float32),
                        meta={"affine": affine.tolist(), "box": [float(v) for v in face.bbox]}))
    return out


def _gradient_energy(image: np.ndarray) -> np.ndarray:
    luma = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) if image.ndim == 3 else image.astype(np.float32)
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    return gx * gx + gy * gy


def border_band(mask: np.ndarray, band: int = SEAM_BAND_PX) -> np.ndarray:
    """(H, W) bool: pixels within `band` px of the mask's outer edge (0 → > 0) or inner edge (< 1 → 1)."""
    outer = (mask > 0).astype(np.uint8)
    inner = (mask >= 1.0).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    edges = np.zeros(mask.shape, bool)
    for region in (outer, inner):
        if region.any() and not region.all():
            edges |= (cv2.dilate(region, kernel) != cv2.erode(region, kernel))
    return edges


def seam_ratio(image: np.ndarray, mask: np.ndarray, band: int = SEAM_BAND_PX) -> float:
    """Mean gradient energy in the border band over that in the rest of the full-mask face (NaN if either is empty)."""
    g = _gradient_energy(image)
    edges = border_band(mask, band)
    core = (mask >= 1.0) & ~edges
    if not edges.any() or not core.any():
        return float("nan")
    return float(g[edges].mean() / max(g[core].mean(), 1e-9))


def seam_score(frame: np.ndarray, reference: np.ndarray, mask: np.ndarray, band: int = SEAM_BAND_PX) -> float:
    """`seam_ratio` of a rendered frame over that of the real photo it was rendered on (1 = no seam); see the module docstring."""
    return seam_ratio(frame, mask, band) / seam_ratio(reference, mask, band)
