"""Warp baseline: interface, ground truth, timing, bad input — and the motion it renders, measured by
re-detecting landmarks on the generated frames with the real MediaPipe face pipeline."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.errors import MexkitInputError
from mexkit.face.landmark_schemes import to68
from mexkit.optical_flow import warp_backward
from mexkit.synth import Condition, load_generator
from mexkit.synth.warp.au_templates import AU_TEMPLATES, AVAILABLE_AUS, to_face_frame
from mexkit.synth.warp.generator import WarpGenerator, resize_face

# Frontal corpus faces with unoccluded mouths (the corpus woman's neutral frame has a hand over her mouth).
FACE_IDS = ["corpus_man__single_face_f0002", "corpus_f1__0-f1-su-ph"]


@pytest.fixture(scope="module")
def faces():
    from mexkit.datasets import load_corpus

    by_id = {f.meta["face_id"]: f for f in load_corpus().faces}
    return [by_id[i] for i in FACE_IDS]


@pytest.fixture(scope="module")
def pipe256():
    from mexkit.face import FacePipeline

    return FacePipeline("mediapipe", resolution=256)


def redetect(pipe, frames: np.ndarray) -> np.ndarray:
    """(T, 68, 2) landmarks found by the face pipeline on each generated frame."""
    out = []
    for f in frames:
        found = pipe.detect(f)
        assert found, "the face pipeline lost the face on a generated frame"
        out.append(to68(found[0].landmarks, pipe.scheme))
    return np.stack(out)


def test_registered_and_frame0_is_the_input(faces):
    gen = load_generator("warp")
    assert isinstance(gen, WarpGenerator) and gen.resolution == 128
    face = faces[0]
    out = gen.generate(face, Condition(label="positive", intensity=0.5, duration_ms=400, fps=40), generator=7)
    clip = out.clip
    t = 16
    assert clip.frames.shape == (t, 128, 128, 3) and clip.frames.dtype == np.uint8
    assert out.flow.shape == (t, 128, 128, 2) and out.flow.dtype == np.float32
    assert out.landmarks.shape == (t, 68, 2)
    small = resize_face(face, 128)
    np.testing.assert_array_equal(clip.frames[0], small.crop)
    assert not out.flow[0].any()
    np.testing.assert_array_equal(out.landmarks[0], small.landmarks)
    assert (clip.label, clip.aus, clip.onset, clip.apex, clip.offset, clip.fps) == ("positive", "6+12", 0, 6, 15, 40.0)
    assert clip.dataset == "synthetic" and clip.subject == face.subject
    assert np.abs(clip.frames[clip.apex].astype(int) - clip.frames[0]).max() > 20  # it moved
    # accepts a raw RGB image too (aligned with the default face pipeline)
    out2 = gen.generate(face.crop, Condition(label="surprise"), generator=0)
    assert out2.clip.frames.shape[1:] == (128, 128, 3)


def test_seeded_and_deterministic(faces):
    gen = WarpGenerator()
    cond = Condition(label="negative", intensity=0.4)
    a, b = gen.generate(faces[0], cond, generator=3), gen.generate(faces[0], cond, generator=3)
    np.testing.assert_array_equal(a.clip.frames, b.clip.frames)
    variants = {gen.generate(faces[0], cond, generator=s).extras["variant"] for s in range(30)}
    assert variants == {"anger", "disgust", "fear", "repression", "sadness"}
    jittered = [gen.generate(faces[0], Condition(label="positive"), generator=s).extras["au_weights"]["AU12"] for s in range(5)]
    assert len(set(jittered)) == 5 and all(0.9 <= w <= 1.1 for w in jittered)


def test_ground_truth_is_what_was_rendered(faces):
    gen = WarpGenerator(resolution=128, au_jitter=0.0)
    out = gen.generate(faces[1], Condition(label="surprise", intensity=1.0), generator=0)
    # landmarks land where they were asked to go (to a fraction of a pixel on average; the coarse
    # spline grid costs up to ~1.5 px where motion is steepest, e.g. the chin near the crop edge)
    err = np.linalg.norm(out.landmarks - out.extras["requested_landmarks"], axis=-1)
    assert err.mean() < 0.2 and err.max() < 1.5
    # the frames are the neutral crop warped by the returned flow (GeneratorOutput.flow convention)
    crop = out.clip.frames[0]
    for t in (3, out.clip.apex, 12):
        diff = np.abs(warp_backward(crop, out.flow[t]).astype(int) - out.clip.frames[t])
        assert diff.max() <= 1
    # and the landmark trajectory follows the flow: y + flow(y) = neutral point
    a = out.clip.apex
    y = out.landmarks[a]
    back = np.array([out.flow[a][int(round(p[1])), int(round(p[0]))] for p in y])
    assert np.abs(y + back - out.landmarks[0]).max() < 0.6


def test_closed_mouth_opens_by_painting(faces, pipe256):
    """A closed neutral mouth cannot be torn open by a warp: the interior is painted (mask/residual), the
    output is warped + 255 · residual (the composition rule), and MediaPipe sees the lips part."""
    from mexkit.synth.warp.dense_warp import mouth_opening

    gen = WarpGenerator(resolution=256, au_jitter=0.0)
    out = gen.generate(faces[0], Condition(label="negative", intensity=1.0, aus=("AU25", "AU26")), generator=0)
    a = out.clip.apex
    assert out.mask is not None and out.mask.shape == out.flow.shape[:3] and out.residual.shape == out.clip.frames.shape
    assert out.mask[0].min() == 1.0 and out.mask[a].min() < 0.05  # nothing painted at onset, fully painted inside at apex
    warped = warp_backward(out.clip.frames[0], out.flow[a]).astype(np.float32)
    composed = warped + 255.0 * out.residual[a]
    assert np.abs(composed - out.clip.frames[a]).max() <= 1.0
    found = redetect(pipe256, out.clip.frames[[0, a]])
    opened_px = mouth_opening(found[1]) - mouth_opening(found[0])
    asked_px = mouth_opening(out.extras["requested_landmarks"][a]) - mouth_opening(faces[0].landmarks)
    assert asked_px > 8 and 0.5 * asked_px < opened_px < 1.5 * asked_px


def test_timing_follows_the_condition_in_ms(faces):
    gen = WarpGenerator(au_jitter=0.0)
    cond = Condition(label="positive", intensity=0.6, duration_ms=300, fps=100, apex_at=0.3, offset_at=0.8)
    out = gen.generate(faces[0], cond, generator=0)
    assert out.clip.num_frames == 30 and out.clip.duration_ms == pytest.approx(300)
    disp = np.linalg.norm(out.landmarks - out.landmarks[0], axis=-1).max(-1)
    assert int(np.argmax(disp)) == cond.apex_frame == out.clip.apex == 9
    assert np.corrcoef(disp, cond.profile())[0, 1] > 0.999
    assert disp[cond.offset_frame:].max() < 1e-6  # back at rest from the offset on


def test_intensity_scales_displacement_relative_to_iod(faces):
    gen = WarpGenerator(au_jitter=0.0)
    face = resize_face(faces[0], 128)
    disp = {}
    for i in (0.25, 0.5, 1.0):
        out = gen.generate(face, Condition(label="positive", intensity=i), generator=0)
        d = to_face_frame(out.extras["apex_displacement"], face.landmarks)  # IOD units
        disp[i] = np.linalg.norm(d[[48, 54]], axis=1).mean()
    assert disp[1.0] == pytest.approx(np.hypot(0.12, 0.12), rel=1e-4)
    assert disp[0.5] == pytest.approx(disp[1.0] / 2, rel=1e-4) and disp[0.25] == pytest.approx(disp[1.0] / 4, rel=1e-4)
    # same face at twice the size: same motion in IOD units, twice in pixels
    big = WarpGenerator(resolution=256, au_jitter=0.0).generate(faces[0], Condition(label="positive", intensity=1.0), generator=0)
    small = gen.generate(face, Condition(label="positive", intensity=1.0), generator=0)
    ratio = np.abs(big.extras["apex_displacement"]).sum() / np.abs(small.extras["apex_displacement"]).sum()
    assert ratio == pytest.approx(2.0, rel=0.02)


@pytest.mark.parametrize("face_index", [0, 1])  # a closed mouth (0) and a slightly open one (1)
def test_warp_never_folds(faces, face_index):
    """The backward map y → y + flow(y) keeps a positive Jacobian for every AU at full intensity."""
    gen = WarpGenerator(au_jitter=0.0)
    assert gen.warper(resize_face(faces[face_index], 128)).mouth_closed == (face_index == 0)
    for au in AVAILABLE_AUS:
        out = gen.generate(faces[face_index], Condition(label="positive", intensity=1.0, aus=(au,)), generator=0)
        f = out.flow[out.clip.apex].astype(np.float64)
        ux, uy = np.gradient(f[..., 0], axis=1), np.gradient(f[..., 0], axis=0)
        vx, vy = np.gradient(f[..., 1], axis=1), np.gradient(f[..., 1], axis=0)
        det = (1 + ux) * (1 + vy) - uy * vx
        assert det.min() > 0.3, au


def test_bad_input_is_refused_clearly(media, faces):
    gen = WarpGenerator()
    with pytest.raises(MexkitInputError, match="intensity must be within"):
        Condition(intensity=1.5)
    with pytest.raises(MexkitInputError, match="shorter than two frames"):
        Condition(duration_ms=20, fps=40)
    with pytest.raises(MexkitInputError, match="unknown class 'happy'"):
        gen.generate(faces[0], Condition(label="happy"))
    with pytest.raises(MexkitInputError, match="unknown action unit 'AU99'"):
        gen.generate(faces[0], Condition(label="negative", aus=("AU99",)))
    with pytest.raises(MexkitInputError, match="too small"):
        gen.generate(np.zeros((30, 30, 3), np.uint8), Condition())
    from mexkit.video_io import read_video

    frame = read_video(media / "no_face.mp4", stop=1)[0][0]
    with pytest.raises(MexkitInputError, match="no face found"):
        gen.generate(frame, Condition())


@pytest.mark.parametrize("face_index", [0, 1])
def test_redetected_motion_matches_each_requested_au(faces, pipe256, face_index):
    """For every AU alone at intensity 1, the landmarks MediaPipe finds on the apex frame moved in the
    requested direction (cosine) and by a comparable amount (MediaPipe's shape prior damps small
    motions: measured/requested 0.5–1.0 and cosine ≥ 0.75 on these two faces)."""
    gen = WarpGenerator(resolution=256, au_jitter=0.0)
    face = faces[face_index]
    for au in AVAILABLE_AUS:
        out = gen.generate(face, Condition(label="positive", intensity=1.0, duration_ms=100, fps=40, aus=(au,)), generator=0)
        a = out.clip.apex
        found = redetect(pipe256, out.clip.frames[[0, a]])
        measured = to_face_frame(found[1] - found[0], found[0])
        requested = to_face_frame(out.extras["requested_landmarks"][a] - face.landmarks, face.landmarks)
        moved = np.abs(AU_TEMPLATES[au]).sum(1) > 0
        m, r = measured[moved], requested[moved]
        cos = (m * r).sum() / np.linalg.norm(m) / np.linalg.norm(r)
        gain = (m * r).sum() / (r**2).sum()
        assert cos > 0.7, f"{au}: direction cosine {cos:.2f}"
        assert 0.4 < gain < 1.5, f"{au}: measured/requested {gain:.2f}"
        # landmarks the AU does not move stay (nearly) still
        assert np.abs(measured[~moved]).mean() < 0.3 * np.abs(r).mean() + 0.005, au


def test_redetected_class_motion_intensity_and_timing(faces, pipe256):
    """A whole positive clip (AU6+12): MediaPipe sees the mouth corners rise and widen on the requested
    onset → apex → offset schedule, and half the intensity gives about half the motion."""
    gen = WarpGenerator(resolution=256, au_jitter=0.0)
    face = faces[0]
    cond = Condition(label="positive", intensity=1.0, duration_ms=400, fps=40)
    out = gen.generate(face, cond, generator=0)
    found = redetect(pipe256, out.clip.frames)
    local = to_face_frame(found - found[0], found[0])  # (T, 68, 2) IOD units
    corners = [48, 54]
    outward = (-local[:, 48, 0] + local[:, 54, 0]) / 2
    upward = -local[:, corners, 1].mean(1)
    assert outward[cond.apex_frame] > 0.07 and upward[cond.apex_frame] > 0.07
    curve = np.linalg.norm(local[:, corners], axis=-1).mean(1)
    assert abs(int(np.argmax(curve)) - cond.apex_frame) <= 1
    assert np.corrcoef(curve, cond.profile())[0, 1] > 0.95
    assert curve[-1] < 0.2 * curve.max()
    half = gen.generate(face, Condition(label="positive", intensity=0.5, duration_ms=100, fps=40), generator=0)
    found_half = redetect(pipe256, half.clip.frames[[0, half.clip.apex]])
    local_half = to_face_frame(found_half[1] - found_half[0], found_half[0])
    ratio = np.linalg.norm(local_half[corners], axis=-1).mean() / curve[cond.apex_frame]
    assert 0.35 < ratio < 0.65
