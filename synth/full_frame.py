"""Full-frame rendering: a generator's crop-level motion carried back onto the original image.

Every generator animates an aligned crop, and every `GeneratorOutput` is a backward flow plus a residual
in crop pixels (synth/output.py). The crop was cut from an image by a similarity `A` (image → crop,
`mexkit.face.align.eye_affine`; `NeutralFace.meta["affine"]`). For an image pixel x the crop pixel is
A(x) = M·x + t, and the crop's frame t samples the neutral crop at A(x) + f(A(x)); pulled back through
A⁻¹ that is the image point x + M⁻¹·f(A(x)). So one rule renders every generator at the image's own
resolution:

    D(x) = m(x) · M⁻¹ · f(A(x))            displacement in image pixels
    R(x) = m(x) · r(A(x))                  residual, 255-grey-level units
    frame[t](x) = clip(image(x + D(x)) + 255 · R(x), 0, 255)    where m(x) > 0
    frame[t](x) = image(x)                                      elsewhere (the same bytes)

f and r are read at A(x) with bicubic interpolation (the flow is smooth and the residual band-limited,
so a cubic upsampling adds no facets), the ORIGINAL full-resolution image is warped bilinearly, and the
soft face mask m (`face_region`) scales the motion itself rather than blending two images: the
displacement falls smoothly (C¹) to zero over the feather, so no edge, ghost or seam can appear inside
the mask, and beyond it the pixels are copied untouched. Only the mask's bounding box is computed.

The mask, from the face's 68 landmarks in the image: the convex hull of the jaw line (0–16) and the
eyebrows (17–26) lifted by FOREHEAD_IOD inter-ocular distances (the brow-raising AUs move the forehead),
feathered outward over FEATHER_IOD with a smoothstep, times a smoothstep that fades the motion out
within BORDER_IOD of the crop's own edge (a generator's flow is only defined inside its crop).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from mexkit.face.align import invert_affine, transform_points
from mexkit.face.landmark_schemes import eye_centers68

from .neutral_face import NeutralFace
from .output import GeneratorOutput

FEATHER_IOD = 0.4   # width of the mask's outer ramp, in inter-ocular distances
FOREHEAD_IOD = 0.5  # how far above the eyebrows the mask reaches
BORDER_IOD = 0.3    # the motion fades to zero within this distance of the crop's edge


def smoothstep(u: np.ndarray) -> np.ndarray:
    """3u² − 2u³ on u clipped to [0, 1]: 0 and 1 exactly at the ends, zero slope at both (C¹ joins)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def crop_affine(affine: np.ndarray, from_size: int, to_size: int) -> np.ndarray:
    """The image → crop similarity for the same crop resampled from `from_size` to `to_size` pixels
    (pixel centres: x_new + 0.5 = (x_old + 0.5) · to/from, as `synth.warp.generator.resize_face`)."""
    a = np.asarray(affine, np.float64).reshape(2, 3)
    if from_size == to_size:
        return a
    s = to_size / from_size
    return a * s + np.array([[0, 0, 0.5 * (s - 1)], [0, 0, 0.5 * (s - 1)]])


@dataclass
class FaceRegion:
    """Where one aligned crop lands in an image.

    affine: (2, 3) image → crop at `resolution`. box: (x0, y0, x1, y1) integer pixel bounds (x1, y1
    exclusive) of the mask's support. mask: (h, w) float32 in [0, 1] over the box, 0 outside the face.
    crop_xy: (h, w, 2) float32 crop-pixel position A(x) of every box pixel.
    """

    affine: np.ndarray
    resolution: int
    box: tuple[int, int, int, int]
    mask: np.ndarray
    crop_xy: np.ndarray

    @property
    def inverse_linear(self) -> np.ndarray:
        """(2, 2) M⁻¹: a crop-pixel vector → the image-pixel vector."""
        return np.linalg.inv(np.asarray(self.affine, np.float64)[:, :2])

    def at_resolution(self, size: int) -> "FaceRegion":
        """The same region for an output crop of another size (flows of a generator with another resolution)."""
        if size == self.resolution:
            return self
        s = size / self.resolution
        return FaceRegion(crop_affine(self.affine, self.resolution, size), size, self.box, self.mask,
                          ((self.crop_xy + 0.5) * s - 0.5).astype(np.float32))


def mask_polygon(landmarks68: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """(K, 2) image points of the face polygon: jaw line and eyebrows lifted toward the forehead (convex hull)."""
    lm = np.asarray(landmarks68, np.float64)
    le, re_ = eye_centers68(lm)
    iod = float(np.linalg.norm(np.asarray(re_) - np.asarray(le)))
    up = np.linalg.inv(np.asarray(affine, np.float64)[:, :2]) @ np.array([0.0, -1.0])  # the crop's up, in the image
    up /= max(np.linalg.norm(up), 1e-9)
    pts = np.concatenate([lm[:27], lm[17:27] + up * FOREHEAD_IOD * iod])
    return cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)


def face_region(landmarks68: np.ndarray, affine: np.ndarray, image_shape: Sequence[int], resolution: int) -> FaceRegion:
    """The soft mask and crop coordinates of one face in an image (see the module docstring).

    landmarks68: (68, 2) image pixels (iBUG layout); affine: (2, 3) image → crop at `resolution`;
    image_shape: (H, W, …).
    """
    h_img, w_img = int(image_shape[0]), int(image_shape[1])
    affine = np.asarray(affine, np.float64).reshape(2, 3)
    lm = np.asarray(landmarks68, np.float64)
    le, re_ = eye_centers68(lm)
    iod = float(np.linalg.norm(np.asarray(re_) - np.asarray(le)))
    feather = max(FEATHER_IOD * iod, 2.0)
    poly = mask_polygon(lm, affine)
    x0 = int(np.clip(np.floor(poly[:, 0].min() - feather) - 1, 0, w_img))
    y0 = int(np.clip(np.floor(poly[:, 1].min() - feather) - 1, 0, h_img))
    x1 = int(np.clip(np.ceil(poly[:, 0].max() + feather) + 2, 0, w_img))
    y1 = int(np.clip(np.ceil(poly[:, 1].max() + feather) + 2, 0, h_img))
    h, w = max(y1 - y0, 0), max(x1 - x0, 0)
    if h == 0 or w == 0:
        return FaceRegion(affine, resolution, (x0, y0, x0, y0), np.zeros((0, 0), np.float32), np.zeros((0, 0, 2), np.float32))
    inside = np.zeros((h, w), np.uint8)
    shift = 4  # sub-pixel polygon vertices (1/16 px)
    cv2.fillConvexPoly(inside, np.round((poly - [x0, y0]) * (1 << shift)).astype(np.int32), 1, lineType=cv2.LINE_8, shift=shift)
    dist = cv2.distanceTransform((1 - inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    mask = smoothstep(1.0 - dist / feather)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    cx = affine[0, 0] * xs + affine[0, 1] * ys + affine[0, 2]
    cy = affine[1, 0] * xs + affine[1, 1] * ys + affine[1, 2]
    # distance to the crop's edge (pixel centres -0.5 … S-0.5), in image pixels
    scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))  # crop pixels per image pixel
    edge = np.minimum.reduce([cx + 0.5, resolution - 0.5 - cx, cy + 0.5, resolution - 0.5 - cy]) / scale
    mask = (mask * smoothstep(edge / max(BORDER_IOD * iod, 1.0))).astype(np.float32)
    return FaceRegion(affine, int(resolution), (x0, y0, x1, y1), mask, np.stack([cx, cy], -1).astype(np.float32))


def face_landmarks_in_image(face: NeutralFace, affine: np.ndarray | None = None) -> np.ndarray:
    """(68, 2) landmarks of a prepared face in its source image (its crop landmarks through A⁻¹)."""
    affine = face_affine(face) if affine is None else np.asarray(affine, np.float64)
    return transform_points(face.landmarks, invert_affine(affine)).astype(np.float64)


def face_affine(face: NeutralFace) -> np.ndarray:
    """(2, 3) image → crop similarity a prepared face recorded (meta["affine"]); ValueError without one."""
    affine = (face.meta or {}).get("affine")
    if affine is None:
        raise ValueError(f"face {face.source or face.subject!r} records no alignment (meta['affine']): full-frame rendering "
                         "needs a face prepared from its image (mexkit.neutral_face.prepare_face / prepare_faces)")
    return np.asarray(affine, np.float64).reshape(2, 3)


def region_of(face: NeutralFace, image_shape: Sequence[int]) -> FaceRegion:
    """The `FaceRegion` of a prepared face in its source image."""
    affine = face_affine(face)
    return face_region(face_landmarks_in_image(face, affine), affine, image_shape, face.resolution)


def _sample_crop_field(field: np.ndarray, crop_xy: np.ndarray) -> torch.Tensor:
    """Read (T, S, S, C) crop-pixel fields at (h, w, 2) crop positions, bicubic, border replicated → (T, C, h, w)."""
    t, s = field.shape[0], field.shape[1]
    src = torch.from_numpy(np.ascontiguousarray(np.asarray(field, np.float32).transpose(0, 3, 1, 2)))
    grid = torch.from_numpy((crop_xy.astype(np.float32) + 0.5) * (2.0 / s) - 1.0)[None].expand(t, -1, -1, -1)
    return F.grid_sample(src, grid, mode="bicubic", padding_mode="border", align_corners=False)


def motion_in_image(region: FaceRegion, flow: np.ndarray, residual: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Crop motion → image motion over the region's box.

    flow: (T, S, S, 2) backward flow in crop pixels (S = region.resolution); residual: (T, S, S, 3) or None.
    → displacement (T, h, w, 2) in image pixels, masked (m · M⁻¹ · f(A(x))), and residual (T, h, w, 3)
    masked, or None.
    """
    flow = np.asarray(flow, np.float32)
    if flow.shape[1] != region.resolution:
        region = region.at_resolution(flow.shape[1])
    if region.mask.size == 0:
        return np.zeros((len(flow), 0, 0, 2), np.float32), None
    f = _sample_crop_field(flow, region.crop_xy)  # (T, 2, h, w) crop pixels
    minv = torch.from_numpy(region.inverse_linear.astype(np.float32))
    m = torch.from_numpy(region.mask)
    disp = ((f.permute(0, 2, 3, 1) @ minv.T) * m[None, :, :, None]).numpy()
    res = None
    if residual is not None:
        res = (_sample_crop_field(np.asarray(residual, np.float32), region.crop_xy).permute(0, 2, 3, 1) * m[None, :, :, None]).numpy()
    return disp, res


def apply_motion(image: np.ndarray, region: FaceRegion, disp: np.ndarray, residual: np.ndarray | None = None,
                 out: np.ndarray | None = None) -> np.ndarray:
    """One frame: `image` (H, W, 3) uint8 warped by `disp` (h, w, 2) image pixels over the region's box, plus
    255·`residual` (h, w, 3); pixels where the mask is 0 keep their bytes. Writes into `out` (default a copy)."""
    out = image.copy() if out is None else out
    x0, y0, x1, y1 = region.box
    inside = region.mask > 0
    if not inside.any():
        return out
    reach = int(np.ceil(np.abs(disp).max())) + 2 if disp.size else 2
    sx0, sy0 = max(x0 - reach, 0), max(y0 - reach, 0)
    sx1, sy1 = min(x1 + reach, image.shape[1]), min(y1 + reach, image.shape[0])
    src = torch.from_numpy(np.ascontiguousarray(image[sy0:sy1, sx0:sx1])).permute(2, 0, 1)[None].float()
    hs, ws = sy1 - sy0, sx1 - sx0
    ys, xs = np.mgrid[y0 - sy0:y1 - sy0, x0 - sx0:x1 - sx0].astype(np.float32)
    px, py = xs + disp[..., 0], ys + disp[..., 1]
    grid = torch.from_numpy(np.stack([(px + 0.5) * (2.0 / ws) - 1.0, (py + 0.5) * (2.0 / hs) - 1.0], -1))[None]
    warped = F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=False)[0].permute(1, 2, 0).numpy()
    if residual is not None:
        warped = warped + 255.0 * residual
    patch = np.clip(np.round(warped), 0, 255).astype(np.uint8)
    view = out[y0:y1, x0:x1]
    view[inside] = patch[inside]
    return out


def _clusters(regions: Sequence[FaceRegion]) -> list[list[int]]:
    """Indices of regions grouped so that regions whose boxes overlap share a group (their motions add)."""
    groups: list[list[int]] = []
    boxes: list[list[int]] = []
    for i, r in enumerate(regions):
        box = list(r.box)
        hit = [g for g, b in enumerate(boxes) if box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]]
        members = [i]
        for g in sorted(hit, reverse=True):
            b = boxes.pop(g)
            members = groups.pop(g) + members
            box = [min(box[0], b[0]), min(box[1], b[1]), max(box[2], b[2]), max(box[3], b[3])]
        groups.append(members)
        boxes.append(box)
    return groups


def _point_motion(region: FaceRegion, flow: np.ndarray, residual: np.ndarray | None, ys: np.ndarray,
                  xs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The rule at given box pixels only: (T, N, 2) masked image displacement and (T, N, 3) masked residual."""
    t, s = flow.shape[0], flow.shape[1]
    crop = torch.from_numpy((region.crop_xy[ys, xs] + 0.5) * (2.0 / s) - 1.0)[None, None].expand(t, 1, -1, -1)
    m = torch.from_numpy(region.mask[ys, xs])[None, :, None]

    def sample(field: np.ndarray) -> torch.Tensor:
        src = torch.from_numpy(np.ascontiguousarray(np.asarray(field, np.float32).transpose(0, 3, 1, 2)))
        return F.grid_sample(src, crop, mode="bicubic", padding_mode="border", align_corners=False)[:, :, 0].permute(0, 2, 1)

    f = sample(flow)
    minv = torch.from_numpy(region.inverse_linear.astype(np.float32))
    disp = (f @ minv.T) * m
    res = sample(residual) * m if residual is not None else None
    return disp, res


@dataclass
class _Paste:
    """One group of overlapping face regions, prepared once for every frame: the pixels inside any mask
    (flat indices into the image), where each samples the photo per frame (grid units of `src`), the summed
    residual, and the photo's pixels around them as floats."""

    flat: np.ndarray
    grid: torch.Tensor
    res: torch.Tensor | None
    src: torch.Tensor


def _prepare(image: np.ndarray, regions: Sequence[FaceRegion], flows: Sequence[np.ndarray],
             residuals: Sequence[np.ndarray | None]) -> list[_Paste]:
    pastes = []
    width = image.shape[1]
    for group in _clusters(regions):
        keys, parts = [], []
        for i in group:
            r = regions[i] if flows[i].shape[1] == regions[i].resolution else regions[i].at_resolution(flows[i].shape[1])
            ys, xs = np.nonzero(r.mask > 0)
            if len(ys):
                parts.append((r, flows[i], residuals[i], ys, xs))
                keys.append((ys + r.box[1]).astype(np.int64) * width + (xs + r.box[0]))
        if not parts:
            continue
        flat, where = np.unique(np.concatenate(keys), return_inverse=True)
        n, t = len(flat), len(flows[group[0]])
        disp = torch.zeros(t, n, 2)
        res = torch.zeros(t, n, 3) if any(p[2] is not None for p in parts) else None
        offset = 0
        for r, flow, residual, ys, xs in parts:
            d, rr = _point_motion(r, flow, residual, ys, xs)
            idx = torch.from_numpy(where[offset:offset + len(ys)])
            disp.index_add_(1, idx, d)
            if rr is not None:
                res.index_add_(1, idx, rr)
            offset += len(ys)
        ys_p, xs_p = flat // width, flat % width
        reach = int(np.ceil(float(disp.abs().max()))) + 2
        sy0, sx0 = max(int(ys_p.min()) - reach, 0), max(int(xs_p.min()) - reach, 0)
        sy1, sx1 = min(int(ys_p.max()) + 1 + reach, image.shape[0]), min(int(xs_p.max()) + 1 + reach, width)
        src = torch.from_numpy(np.ascontiguousarray(image[sy0:sy1, sx0:sx1])).permute(2, 0, 1)[None].float()
        scale = torch.tensor([2.0 / (sx1 - sx0), 2.0 / (sy1 - sy0)])
        base = torch.from_numpy(np.stack([xs_p - sx0, ys_p - sy0], -1).astype(np.float32))
        grid = (base + 0.5 + disp) * scale - 1.0  # (T, N, 2): where each pixel samples the photo, frame by frame
        pastes.append(_Paste(flat, grid, None if res is None else res * 255.0, src))
    return pastes


def _write(frame: np.ndarray, paste: _Paste, t: int) -> None:
    """Frame t of one group: the photo sampled (bilinear) at x + D(x), plus 255·R(x), on the mask's pixels only."""
    vals = F.grid_sample(paste.src, paste.grid[t][None, None], mode="bilinear", padding_mode="border", align_corners=False)[0, :, 0]
    if paste.res is not None:
        vals += paste.res[t].T
    frame.reshape(-1, 3)[paste.flat] = vals.round_().clamp_(0, 255).to(torch.uint8).T.numpy()


def render_motion(image: np.ndarray, regions: Sequence[FaceRegion], flows: Sequence[np.ndarray],
                  residuals: Sequence[np.ndarray | None] | None = None) -> Iterator[np.ndarray]:
    """The rule for several faces of one image: frames (H, W, 3) uint8, one per flow frame, lazily.

    regions[i] places flows[i] (T, S, S, 2) and residuals[i] (T, S, S, 3) or None; every flow has the same T.
    Where the masks of two faces overlap their displacements and residuals add (one sample of the image per
    pixel: no edge where one face's mask ends inside another's). Pixels outside every mask keep their bytes.
    """
    image = np.ascontiguousarray(image)
    residuals = list(residuals) if residuals is not None else [None] * len(flows)
    counts = {len(f) for f in flows}
    if len(counts) != 1:
        raise ValueError(f"faces rendered into the same frames need one frame count, got {sorted(counts)}")
    pastes = _prepare(image, regions, flows, residuals)
    for t in range(counts.pop()):
        frame = image.copy()
        for paste in pastes:
            _write(frame, paste, t)
        yield frame


def iter_full_frames(image: np.ndarray, faces: Sequence[tuple[GeneratorOutput, NeutralFace]],
                     regions: Sequence[FaceRegion] | None = None) -> Iterator[np.ndarray]:
    """Frames (H, W, 3) uint8 of several faces animated in the same image, one at a time (`render_motion`).

    faces: (output, face) pairs, each face prepared from `image` (meta["affine"]); every output must have
    the same frame count. regions: precomputed `FaceRegion`s (default `region_of` each face).
    """
    if not faces:
        raise ValueError("no face to render")
    if any(out.flow is None for out, _ in faces):
        raise ValueError("full-frame rendering needs the generator's flow (GeneratorOutput.flow)")
    regions = list(regions) if regions is not None else [region_of(face, image.shape) for _, face in faces]
    return render_motion(image, regions, [out.flow for out, _ in faces], [out.residual for out, _ in faces])


def render_full_frame(output: GeneratorOutput, face: NeutralFace, image: np.ndarray) -> np.ndarray:
    """One generated clip rendered on its whole source image: (T, H, W, 3) uint8 at the image's size.

    output: what `generator.generate(face, …)` returned; face: the `NeutralFace` prepared from `image`
    (`prepare_face` / `prepare_faces` record the alignment). Outside the face's soft mask every frame
    holds the image's own bytes.
    """
    return np.stack(list(iter_full_frames(image, [(output, face)])))


def render_faces(image: np.ndarray, faces: Sequence[tuple[GeneratorOutput, NeutralFace]]) -> np.ndarray:
    """Several faces of one image animated in the same frames: (T, H, W, 3) uint8 (see `iter_full_frames`)."""
    return np.stack(list(iter_full_frames(image, faces)))


def full_frame_mask(image_shape: Sequence[int], regions: Sequence[FaceRegion]) -> np.ndarray:
    """(H, W) float32: the largest mask value of any region at each pixel (0 = untouched by rendering)."""
    out = np.zeros(tuple(int(v) for v in image_shape[:2]), np.float32)
    for r in regions:
        x0, y0, x1, y1 = r.box
        np.maximum(out[y0:y1, x0:x1], r.mask, out=out[y0:y1, x0:x1])
    return out
