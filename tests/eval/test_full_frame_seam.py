"""The seam score (eval/full_frame.py) on hand-made cases and on real photos, and face_clips re-detection."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from mexkit.eval.full_frame import border_band, face_clips, seam_ratio, seam_score


def ramp_image(h=120, w=160):
    """A linear ramp in x, one grey level per pixel: the same Sobel gradient at every pixel off the image edge."""
    x = np.tile(20 + np.arange(w), (h, 1))
    return np.repeat(x[..., None], 3, -1).astype(np.uint8)


def disc_mask(h=120, w=160, r=35.0, feather=0.0):
    yy, xx = np.mgrid[:h, :w]
    d = np.hypot(xx - w / 2, yy - h / 2) - r
    if feather == 0:
        return (d <= 0).astype(np.float32)
    return np.clip(1 - d / feather, 0, 1).astype(np.float32)


def test_border_band_is_a_ring_on_both_edges_of_the_transition():
    hard = border_band(disc_mask(), band=2)
    soft = border_band(disc_mask(feather=10.0), band=2)
    yy, xx = np.nonzero(hard)
    r = np.hypot(xx - 80, yy - 60)
    assert r.min() > 35 - 3.5 and r.max() < 35 + 3.5  # one ring around the disc's edge
    r = np.hypot(*(np.nonzero(soft)[::-1] - np.array([[80], [60]])))
    assert r.min() < 35 + 3 and r.max() > 45 - 3  # the inner (r = 35) and the outer (r = 45) edges
    assert not border_band(np.ones((50, 50), np.float32)).any()


def test_the_photo_itself_scores_exactly_one_and_a_pasted_step_scores_far_above():
    img = ramp_image()
    mask = disc_mask()
    assert seam_score(img, img, mask) == 1.0
    # an even ramp: the gradient is the same in the band and in the core, so the ratio itself is 1
    assert seam_ratio(img, mask) == pytest.approx(1.0, abs=1e-6)
    step = img.astype(np.int16)
    step[mask > 0] += 30  # a paste whose brightness jumps at the border
    stepped = np.clip(step, 0, 255).astype(np.uint8)
    assert seam_score(stepped, img, mask) > 5.0
    # the same brightness change faded in with a smoothstep (zero slope where it starts and ends, as the
    # full-frame mask is) leaves no edge at either border: the score stays near 1, far below the step's
    soft = disc_mask(feather=20.0)
    fade = soft * soft * (3 - 2 * soft)
    faded = np.clip(np.round(img + 30 * fade[..., None]), 0, 255).astype(np.uint8)
    assert seam_score(faded, img, soft) < 1.5 < 5.0 < seam_score(stepped, img, mask)


@pytest.fixture(scope="module")
def posed(media):
    from mexkit.neutral_face import prepare_faces
    from mexkit.video_io import read_image

    out = []
    for name in ("multi_face.jpg", "single_face.jpg", "0-f1-su-ph.jpg", "45-m7-di-ph.jpg"):
        image = read_image(media / name)
        face = next(f for f in prepare_faces(image, resolution=128, source=name) if not isinstance(f, Exception))
        out.append((name, image, face))
    return out


def test_full_frame_rendering_scores_near_one_and_a_square_paste_back_far_above(posed):
    """Real photos: the rendering of synth/full_frame.py against the paste-back of the motion-transfer anchors
    (the generated crop resized back and pasted into its square footprint)."""
    from mexkit.synth import Condition, load_generator
    from mexkit.synth.full_frame import full_frame_mask, region_of, render_full_frame

    gen = load_generator("warp")
    for name, image, face in posed:
        out = gen.generate(face, Condition(label="surprise", intensity=0.6), generator=0)
        a = out.clip.apex
        mask = full_frame_mask(image.shape, [region_of(face, image.shape)])
        ours = seam_score(render_full_frame(out, face, image)[a], image, mask)
        inv = cv2.invertAffineTransform(np.asarray(face.meta["affine"]))
        h, w = image.shape[:2]
        up = cv2.warpAffine(out.clip.frames[a], inv, (w, h), flags=cv2.INTER_LINEAR)
        square = cv2.warpAffine(np.ones((128, 128), np.float32), inv, (w, h), flags=cv2.INTER_NEAREST)
        pasted = np.where(square[..., None] > 0, up, image)
        naive = seam_score(pasted, image, square)
        assert 0.75 < ours < 1.25, f"{name}: full-frame seam {ours:.3f}"
        assert naive > 1.3 and naive > ours + 0.25, f"{name}: paste-back seam {naive:.3f} vs {ours:.3f}"


def test_face_clips_finds_every_face_of_the_group_photo(media):
    from mexkit.video_io import read_image

    image = read_image(media / "multi_face.jpg")
    clips = face_clips(np.stack([image, image]), resolution=64)
    assert len(clips) == 4
    assert all(c.frames.shape == (2, 64, 64, 3) for c in clips)
    assert [c.meta["box"][0] for c in clips] == sorted(c.meta["box"][0] for c in clips)
