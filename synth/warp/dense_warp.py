"""Dense backward flow from sparse landmark displacements (thin-plate spline), and warping with it.

The landmark displacements say where each neutral landmark P_i moves (P_i → P_i + D_i). A thin-plate
spline through the control points (the 68 landmarks plus zero-motion anchors on the crop border, so
the background stays put) interpolates that forward displacement to a dense field f. The generator
needs the *backward* flow b (GeneratorOutput.flow convention: output pixel y samples the neutral crop
at y + b(y)), i.e. the inverse map: b(y) = -f(y + b(y)), solved by fixed-point iteration.

Cost: the spline is evaluated on a coarse grid (default size/4 per side) and upsampled bilinearly —
the field is smooth, so this loses little and makes a 128² field cost well under a millisecond. The
kernel matrix depends only on the neutral landmarks, so `LandmarkWarper` is built once per face and
reused for every displacement (apex shape, or each frame of a driving clip).
"""
from __future__ import annotations

import contextlib
import functools

import cv2
import numpy as np

from mexkit.errors import MexkitInputError


@functools.lru_cache(maxsize=1)
def _threadpools():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_thread_blas():
    """Context limiting BLAS to one thread: these systems are ~100×100, where OpenBLAS threads only
    add overhead (and, on a busy 2-core machine, stalls of hundreds of milliseconds)."""
    try:
        return _threadpools().limit(limits=1, user_api="blas")
    except Exception:  # threadpoolctl missing or unable to introspect: run as is
        return contextlib.nullcontext()


def _tps_kernel(r2: np.ndarray) -> np.ndarray:
    """U(r) = r² log r² (the 2-D thin-plate radial basis), with U(0) = 0."""
    return r2 * np.log(np.maximum(r2, 1e-30))


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) squared distances between (N, 2) and (M, 2) points."""
    dx = a[:, None, 0] - b[None, :, 0]
    dy = a[:, None, 1] - b[None, :, 1]
    return dx * dx + dy * dy


def border_anchors(size: int, per_side: int = 8) -> np.ndarray:
    """(4·per_side, 2) points evenly spaced on the crop border (pixel centres 0 … size-1)."""
    s = np.linspace(0.0, size - 1.0, per_side + 1)[:-1]
    e = float(size - 1)
    top = np.stack([s, np.zeros_like(s)], 1)
    right = np.stack([np.full_like(s, e), s], 1)
    bottom = np.stack([e - s, np.full_like(s, e)], 1)
    left = np.stack([np.zeros_like(s), e - s], 1)
    return np.concatenate([top, right, bottom, left]).astype(np.float64)


# iBUG-68 inner lip contour (60 → 64 upper, 64 → 60 lower) and the upper/lower point pairs across the mouth.
INNER_LIP = (60, 61, 62, 63, 64, 65, 66, 67)
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))
CLOSED_MOUTH_INNER = (61, 62, 63, 65, 66, 67)


def mouth_opening(landmarks: np.ndarray) -> np.ndarray:
    """Inner-lip opening (pixels) of (..., 68, 2) landmarks: mean over the three upper/lower pairs of
    the lower point's offset below the upper one, measured across the eye line's perpendicular."""
    from .au_templates import face_frame

    lm = np.asarray(landmarks, np.float64)
    _, ey, _ = face_frame(lm.reshape(-1, 68, 2)[0])
    up = lm[..., [a for a, _ in INNER_LIP_PAIRS], :]
    low = lm[..., [b for _, b in INNER_LIP_PAIRS], :]
    return ((low - up) @ ey).mean(-1)


class LandmarkWarper:
    """Thin-plate-spline warps of one aligned face, from landmark displacements to dense backward flow.

    landmarks: (K, 2) neutral landmark positions in crop pixels (K = 68 for the iBUG layout).
    size: crop side in pixels. grid: side of the coarse evaluation grid (None → size // 4, at least 16).
    anchors_per_side: zero-motion control points per crop edge. regularization: TPS smoothing λ (in
    units of the normalised kernel).

    Closed mouth (68 points, inner-lip opening < closed_mouth_gap · IOD): the inner lips sit on top
    of each other, and no continuous warp can pull coincident points apart without folding the image
    (a spline overshoots around them). Their six upper/lower inner points are then left out of the
    spline — the lips stretch with the outer lip contour and the corners — and an opening mouth is
    painted in by `paint_mouth` instead (`mouth_closed` says which case applies).
    """

    def __init__(self, landmarks: np.ndarray, size: int, grid: int | None = None, anchors_per_side: int = 8,
                 regularization: float = 1e-4, closed_mouth_gap: float = 0.05):
        lm = np.asarray(landmarks, np.float64)
        if lm.ndim != 2 or lm.shape[1] != 2 or not np.isfinite(lm).all():
            raise MexkitInputError(None, f"landmarks must be finite (K, 2) points, got shape {lm.shape}", "pass the face's (68, 2) landmarks", stage="warp")
        self.size = int(size)
        self.grid = int(grid or max(16, self.size // 4))
        self.num_landmarks = len(lm)
        self.scale = float(self.size - 1)
        self.mouth_closed = False
        if self.num_landmarks == 68:
            from .au_templates import face_frame

            self.mouth_closed = bool(mouth_opening(lm) < closed_mouth_gap * face_frame(lm)[2])
        skip = set(CLOSED_MOUTH_INNER) if self.mouth_closed else set()
        self.control_idx = np.array([i for i in range(self.num_landmarks) if i not in skip], np.intp)
        anchors = border_anchors(self.size, anchors_per_side)
        # Anchors too close to a landmark would pin it; drop those (faces reaching the crop edge).
        far = _sq_dist(anchors, lm).min(1) > (0.05 * self.size) ** 2
        self.anchors = anchors[far]
        ctrl = np.concatenate([lm[self.control_idx], self.anchors]) / self.scale  # normalised to [0, 1]
        self.control = ctrl
        n = len(ctrl)
        k = _tps_kernel(_sq_dist(ctrl, ctrl)) + regularization * np.eye(n)
        p = np.hstack([np.ones((n, 1)), ctrl])
        a = np.zeros((n + 3, n + 3))
        a[:n, :n], a[:n, n:], a[n:, :n] = k, p, p.T
        # Coarse grid (cell centres of a `grid` × `grid` lattice spanning the crop), in normalised units.
        g = ((np.arange(self.grid) + 0.5) * self.size / self.grid - 0.5) / self.scale
        gx, gy = np.meshgrid(g, g)
        pts = np.stack([gx.ravel(), gy.ravel()], 1)
        evaluation = np.hstack([_tps_kernel(_sq_dist(pts, ctrl)), np.ones((len(pts), 1)), pts])  # (G², n+3)
        m = len(self.control_idx)
        with single_thread_blas():
            # Only landmark values are ever non-zero, so fold solve and evaluation into one (G², K) map.
            self._landmark_to_grid = (evaluation @ np.linalg.inv(a)[:, :m]).astype(np.float32)

    def forward_field(self, displacements: np.ndarray) -> np.ndarray:
        """Forward displacement f on the coarse grid: (..., K, 2) → (..., grid, grid, 2) in pixels."""
        d = np.asarray(displacements, np.float64)
        lead = d.shape[:-2]
        if d.shape[-2:] != (self.num_landmarks, 2):
            raise MexkitInputError(None, f"displacements must be (..., {self.num_landmarks}, 2), got {d.shape}", "pass one (x, y) offset per landmark", stage="warp")
        d = d.reshape(-1, self.num_landmarks, 2)[:, self.control_idx].astype(np.float32)
        b = len(d)
        values = d.transpose(1, 0, 2).reshape(len(self.control_idx), 2 * b)  # (K, B·2)
        if b == 1:  # one small product: no thread pool involved
            field = np.dot(self._landmark_to_grid, values)
        else:
            with single_thread_blas():
                field = self._landmark_to_grid @ values  # (G², B·2)
        return field.reshape(self.grid, self.grid, b, 2).transpose(2, 0, 1, 3).reshape(*lead, self.grid, self.grid, 2)

    def backward_flow(self, displacements: np.ndarray, iterations: int = 4) -> np.ndarray:
        """Dense backward flow at full size: (..., K, 2) displacements → (..., size, size, 2) float32.

        Output pixel y samples the neutral crop at y + b(y); landmark P_i is rendered at ≈ P_i + D_i.
        """
        fwd = self.forward_field(displacements)
        lead = fwd.shape[:-3]
        fwd = fwd.reshape(-1, self.grid, self.grid, 2)
        cell = self.size / self.grid  # pixels per grid cell
        g = np.arange(self.grid, dtype=np.float32)
        gx, gy = np.meshgrid(g, g)
        out = np.empty((len(fwd), self.size, self.size, 2), np.float32)
        for i, f in enumerate(fwd):
            f = np.ascontiguousarray(f)
            b = -f
            for _ in range(iterations):  # b(y) = -f(y + b(y)), evaluated on the coarse grid
                b = -cv2.remap(f, gx + b[..., 0] / cell, gy + b[..., 1] / cell, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            # Grid nodes sit at pixel-cell centres, exactly the sampling cv2.resize assumes.
            out[i] = cv2.resize(b, (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        return out.reshape(*lead, self.size, self.size, 2)


def pixel_coordinate_maps(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate maps (x, y) for cv2.remap, each (size, size) float32 (the torch sampling grid in
    grid_sample units is flow_warp.identity_grid)."""
    r = np.arange(size, dtype=np.float32)
    gx, gy = np.meshgrid(r, r)
    return gx, gy


def warp_frames(image: np.ndarray, flows: np.ndarray, grid: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Warp one uint8 (H, W, 3) image by each backward flow (T, H, W, 2) → (T, H, W, 3) uint8.

    A frame whose flow is exactly zero is a copy of the image (bit-exact), so frame 0 equals the input.
    """
    h, w = image.shape[:2]
    gx, gy = grid if grid is not None else pixel_coordinate_maps(h)
    out = np.empty((len(flows), h, w, 3), np.uint8)
    for t, flow in enumerate(flows):
        if not flow.any():  # exact copy, not a resampling
            out[t] = image
        else:
            out[t] = cv2.remap(image, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def warp_frames_scaled(image: np.ndarray, flow: np.ndarray, scales: np.ndarray,
                       grid: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """`warp_frames` for flows that are one (H, W, 2) field scaled per frame (flows[t] = scales[t] · flow).

    → (T, H, W, 3) uint8; frames with scale 0 are exact copies of the image.
    """
    h, w = image.shape[:2]
    gx, gy = grid if grid is not None else pixel_coordinate_maps(h)
    fx, fy = np.ascontiguousarray(flow[..., 0]), np.ascontiguousarray(flow[..., 1])
    mx, my = np.empty_like(gx), np.empty_like(gy)
    out = np.empty((len(scales), h, w, 3), np.uint8)
    for t, s in enumerate(np.asarray(scales, np.float32)):
        if s == 0:
            out[t] = image
            continue
        np.multiply(fx, s, out=mx)
        mx += gx
        np.multiply(fy, s, out=my)
        my += gy
        out[t] = cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def sample_flow(flow: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear values (..., 2) of one (H, W, 2) float32 flow at sub-pixel points (..., 2) (border replicated)."""
    pts = np.asarray(points, np.float32)
    xy = pts.reshape(1, -1, 2)
    out = cv2.remap(np.ascontiguousarray(flow, np.float32), np.ascontiguousarray(xy[..., 0]), np.ascontiguousarray(xy[..., 1]),
                    cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(pts.shape)


def rendered_points(points: np.ndarray, flows: np.ndarray, iterations: int = 6) -> np.ndarray:
    """Where neutral points (K, 2) appear in frames warped by backward flows (T, H, W, 2) → (T, K, 2).

    Solves y + b_t(y) = p for each point (fixed-point iteration on the dense flow): the ground-truth
    landmark trajectory of exactly what was rendered, not just what was requested.
    """
    pts = np.asarray(points, np.float32)
    out = np.empty((len(flows), len(pts), 2), np.float32)
    for t, flow in enumerate(flows):
        y = pts.copy()
        if flow.any():
            for _ in range(iterations):
                y = pts - sample_flow(flow, y)
        out[t] = y
    return out


def rendered_points_scaled(points: np.ndarray, flow: np.ndarray, scales: np.ndarray, iterations: int = 6) -> np.ndarray:
    """`rendered_points` for flows that are one field scaled per frame (flows[t] = scales[t] · flow).

    points (K, 2), flow (H, W, 2), scales (T,) → (T, K, 2); all frames solved at once.
    """
    pts = np.asarray(points, np.float32)
    s = np.asarray(scales, np.float32)[:, None, None]
    y = np.broadcast_to(pts, (len(s), *pts.shape)).copy()
    for _ in range(iterations):
        y = pts - s * sample_flow(flow, y)
    y[s[:, 0, 0] == 0] = pts  # frames with zero flow: exactly the neutral points
    return y


def mouth_colour(crop: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """RGB float colour for a mouth interior: the dark line between closed lips, darkened further."""
    pts = np.asarray(landmarks, np.float32)[list(INNER_LIP[:5])]
    t = np.linspace(0.0, 1.0, 25)[:, None]
    line = np.concatenate([pts[i] * (1 - t) + pts[i + 1] * t for i in range(4)])
    samples = np.concatenate([line + (0.0, dy) for dy in (-1.0, 0.0, 1.0)]).astype(np.float32)
    vals = cv2.remap(crop, samples[None, :, 0].copy(), samples[None, :, 1].copy(), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)[0].astype(np.float32)
    lum = vals.mean(1)
    darkest = vals[lum <= np.percentile(lum, 30)]
    return 0.6 * darkest.mean(0)


def paint_mouth(frames: np.ndarray, landmarks: np.ndarray, colour: np.ndarray, neutral_opening: float,
                min_open_px: float = 0.3) -> tuple[np.ndarray, np.ndarray | None]:
    """Paint the mouth interior where the inner lips open beyond the neutral face's opening.

    frames (T, H, W, 3) uint8, changed in place; landmarks (T, 68, 2): where the inner lips should be
    in each frame. Returns (frames, alpha (T, H, W) float32 painted fraction, or None if nothing opened).
    The polygon is rasterised anti-aliased at 1/16 px and feathered by half a pixel.
    """
    opening = mouth_opening(landmarks) - neutral_opening
    if not (opening > min_open_px).any():
        return frames, None
    h, w = frames.shape[1:3]
    alpha = np.zeros(frames.shape[:3], np.float32)
    colour = np.asarray(colour, np.float32)
    for t in np.flatnonzero(opening > min_open_px):
        poly = np.asarray(landmarks[t, list(INNER_LIP)], np.float64)
        x0, y0 = np.floor(poly.min(0)).astype(int) - 2
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 3
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        pts = np.round((poly - (x0, y0)) * 16).astype(np.int32)
        cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA, shift=4)
        a = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 0.5)
        alpha[t, y0:y1, x0:x1] = a
        region = frames[t, y0:y1, x0:x1].astype(np.float32)
        frames[t, y0:y1, x0:x1] = np.clip(region * (1 - a[..., None]) + colour * a[..., None] + 0.5, 0, 255).astype(np.uint8)
    return frames, alpha
