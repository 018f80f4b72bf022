"""Both offline backends on real faces: detection, several faces, no face, gray input, alignment accuracy."""
import cv2
import numpy as np
import pytest

from mexkit.errors import NoFaceError
from mexkit.face import template_eyes
from mexkit.face.landmark_schemes import eye_centers68, interocular, semantic5, to68
from mexkit.video_io import read_image, read_video

BACKENDS = ["mediapipe_pipeline", "dlib_pipeline"]
PHOTOS = ["single_face.jpg", "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg"]


def _raw_faces(media):
    """Real source images: photos, frames of both videos, the astronaut."""
    import skimage.data

    imgs = {name: read_image(media / name) for name in PHOTOS}
    frames, _ = read_video(media / "single_face.mp4", stop=1)
    imgs["single_face.mp4#0"] = frames[0]
    frames, _ = read_video(media / "WolfgangLanger_Pexels.mp4", start=300, stop=301)
    imgs["Wolfgang#300"] = frames[0]
    imgs["astronaut"] = skimage.data.astronaut()
    return imgs


@pytest.mark.parametrize("backend", BACKENDS)
def test_detects_real_face(backend, media, request):
    pipe = request.getfixturevalue(backend)
    faces = pipe.detect(read_image(media / "single_face.jpg"))
    assert len(faces) == 1
    x0, y0, x1, y1 = faces[0].bbox
    assert 150 < x1 - x0 < 300  # the face is ~200 px wide in this photo
    assert faces[0].landmarks68.shape == (68, 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_several_faces_largest_is_used_and_recorded(backend, media, request):
    pipe = request.getfixturevalue(backend)
    img = read_image(media / "multi_face.jpg")
    faces = pipe.detect(img)
    assert len(faces) >= 2
    aligned = pipe.align_image(img)
    assert aligned.num_faces == len(faces)
    assert aligned.face.area == max(f.area for f in faces)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_face_video_raises_named_error(backend, media, request):
    pipe = request.getfixturevalue(backend)
    frames, _ = read_video(media / "no_face.mp4", stop=1)
    with pytest.raises(NoFaceError, match="no_face.mp4: no face found"):
        pipe.align_image(frames[0], source=media / "no_face.mp4")


@pytest.mark.parametrize("backend", BACKENDS)
def test_gray_face_is_found(backend, media, request):
    pipe = request.getfixturevalue(backend)
    gray = cv2.cvtColor(read_image(media / "single_face.jpg"), cv2.COLOR_RGB2GRAY)
    aligned = pipe.align_image(np.repeat(gray[..., None], 3, -1))
    assert aligned.crop.shape == (128, 128, 3)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", [64, 128, 256])
def test_alignment_puts_eyes_on_template(backend, size, media, request):
    """Re-detect landmarks on each aligned crop: the eye centres must sit within 2 px of the template."""
    pipe = request.getfixturevalue(backend)
    tl, tr = template_eyes(size)
    errors = []
    for name, img in _raw_faces(media).items():
        crop = pipe.align_image(img, resolution=size).crop
        if size == 64:  # detectors need more pixels: measure on the crop upsampled 2x
            faces = pipe.detect(cv2.resize(crop, (128, 128), interpolation=cv2.INTER_CUBIC))
            le, re_ = (e / 2 for e in eye_centers68(faces[0].landmarks68))
        else:
            faces = pipe.detect(crop)
            le, re_ = eye_centers68(faces[0].landmarks68)
        errors.append(max(np.linalg.norm(le - tl), np.linalg.norm(re_ - tr)))
    print(f"\n{pipe.backend.name} {size}px: eye-centre error vs template, max {max(errors):.2f} px, mean {np.mean(errors):.2f} px")
    assert max(errors) < 2.0


def test_backends_agree_on_corpus_crops(mediapipe_pipeline, dlib_pipeline):
    """Landmark disagreement between the two backends on the corpus crops, measured and printed."""
    from mexkit.datasets import load_corpus

    rows = []
    for face in load_corpus().faces:
        mp = mediapipe_pipeline.detect(face.crop)
        dl = dlib_pipeline.detect(face.crop)
        if not (mp and dl):
            continue
        a, b = mp[0].landmarks68, dl[0].landmarks68
        iod = float(interocular(a))
        rows.append((face.subject, np.linalg.norm(semantic5(a) - semantic5(b), axis=-1).mean() / iod,
                     np.linalg.norm(a - b, axis=-1).mean() / iod))
    sem = np.array([r[1] for r in rows])
    all68 = np.array([r[2] for r in rows])
    print(f"\nbackend disagreement on {len(rows)} corpus crops (× inter-ocular distance): "
          f"5 semantic points mean {sem.mean():.3f} max {sem.max():.3f}; all 68 points mean {all68.mean():.3f}")
    assert len(rows) >= 10
    assert sem.mean() < 0.10  # same points on the same faces: within a tenth of the eye distance


def test_align_clip_uses_one_transform(mediapipe_pipeline, media):
    """Alignment happens once, on the onset frame; every frame is warped by that same affine."""
    from mexkit.face import warp_to_crop
    from mexkit.video_io import read_clip

    clip = read_clip(media / "single_face.mp4", onset=10)
    aligned = mediapipe_pipeline.align_clip(clip)
    ref = mediapipe_pipeline.align_image(clip.frames[10])
    assert np.allclose(aligned.affine, ref.affine)
    for t in (0, 40, 71):
        assert np.array_equal(aligned.frames[t], warp_to_crop(clip.frames[t], ref.affine, 128))
    assert aligned.landmarks.shape == (478, 2) and aligned.meta["num_faces"] == 1


def test_track_landmarks_through_clip(dlib_pipeline, media):
    from mexkit.clip import Clip
    from mexkit.video_io import read_video

    frames, fps = read_video(media / "single_face.mp4", start=10, stop=40)
    clip = Clip(frames=frames, fps=fps)
    aligned = dlib_pipeline.align_clip(clip, track_landmarks=True)
    lm = aligned.landmarks
    assert lm.shape == (30, 68, 2)
    # the smile moves the mouth corners apart far more than the inner eye corners move
    mouth = np.linalg.norm(lm[:, 54] - lm[:, 48], axis=-1)
    widening = mouth[-1] - mouth[0]
    eyes = max(np.linalg.norm(lm[:, k] - lm[0, k], axis=-1).max() for k in (39, 42))
    print(f"\nmouth widens {widening:.1f} px; inner eye corners move at most {eyes:.1f} px")
    assert widening > 5.0 and eyes < 0.5 * widening
