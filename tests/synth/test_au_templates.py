"""AU templates: coverage, symmetry on real faces, class sets, units, and calibration against a real smile."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.errors import MexkitInputError
from mexkit.synth.warp.au_templates import (
    AU_TEMPLATES, CLASS_VARIANTS, EXPRESSION_AUS, LEFT68, MIDLINE68, MIRROR68, au_displacement, check_label,
    face_frame, normalize_aus, resolve_aus, templates_hash, to_face_frame, to_image_frame,
)
from mexkit.synth.motion_transfer.generator import relative_motion

REQUIRED = [1, 2, 4, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 24, 25, 26]


@pytest.fixture(scope="module")
def corpus():
    from mexkit.datasets import load_corpus

    return load_corpus()


def test_required_aus_exist_and_move_something():
    for n in REQUIRED:
        t = AU_TEMPLATES[f"AU{n}"]
        assert t.shape == (68, 2)
        assert np.abs(t).max() >= 0.02, f"AU{n} moves less than 2 % of the IOD at full intensity"


def test_templates_are_left_right_mirrored():
    assert (MIRROR68[MIRROR68] == np.arange(68)).all()
    assert len(LEFT68) == 29 and len(MIDLINE68) == 10
    for au, t in AU_TEMPLATES.items():
        np.testing.assert_array_equal(t[MIRROR68, 0], -t[:, 0], err_msg=au)
        np.testing.assert_array_equal(t[MIRROR68, 1], t[:, 1], err_msg=au)


FRONTAL = ["corpus_man__single_face_f0002", "corpus_f1__0-f1-su-ph", "corpus_f15__0-f15-hao-ph", "corpus_astronaut__skimage.data"]


def test_mirror_table_matches_real_face_geometry(corpus):
    """On real frontal faces, each point and its mirror partner sit symmetric about the face's midline
    (a wrong pairing puts them ~0.3 IOD or more apart). Turned heads (m7, the hand-on-face woman) are left out."""
    for face in (f for f in corpus.faces if f.meta["face_id"] in FRONTAL):
        ex, ey, iod = face_frame(face.landmarks)
        mid = face.landmarks[list(MIDLINE68)].mean(0)
        local = np.stack([(face.landmarks - mid) @ ex, (face.landmarks - mid) @ ey], 1) / iod
        left = list(LEFT68)
        right = MIRROR68[left]
        assert (local[left, 0] < 0.02).all() and (local[right, 0] > -0.02).all(), face.subject
        # Mirror partners: opposite x, same y (real faces are not exactly symmetric: median error < 0.05 IOD).
        assert np.median(np.abs(local[left, 0] + local[right, 0])) < 0.05, face.subject
        assert np.median(np.abs(local[left, 1] - local[right, 1])) < 0.05, face.subject


def test_class_sets_follow_emfacs():
    assert set(EXPRESSION_AUS["happiness"]) == {"AU6", "AU12"}
    assert {"AU1", "AU2"} <= set(EXPRESSION_AUS["surprise"])
    negative_aus = set().union(*(EXPRESSION_AUS[v] for v in CLASS_VARIANTS["negative"]))
    assert {"AU4", "AU7", "AU9", "AU10", "AU14", "AU15", "AU17", "AU23", "AU24"} <= negative_aus
    assert "AU12" not in negative_aus
    for name, weights in EXPRESSION_AUS.items():
        assert set(weights) <= set(AU_TEMPLATES), name
    # the seeded choice reaches every negative variant
    picked = {resolve_aus("negative", choice=u)[0] for u in np.linspace(0, 0.999, 50)}
    assert picked == set(CLASS_VARIANTS["negative"])


def test_target_aus_override_the_class_and_bad_names_are_refused():
    assert normalize_aus("4+7") == ["AU4", "AU7"]
    assert normalize_aus(["AU12", "R14", "12"]) == ["AU12", "AU14"]
    assert resolve_aus("negative", ["AU4", "AU7"]) == ("custom", {"AU4": 1.0, "AU7": 1.0})
    with pytest.raises(MexkitInputError, match="unknown action unit 'AU99'"):
        normalize_aus(["AU99"])
    with pytest.raises(MexkitInputError, match="unknown action unit"):
        normalize_aus("4+smile")
    with pytest.raises(MexkitInputError, match="unknown class 'happy'"):
        check_label("happy")


def test_displacement_is_in_iod_units_and_turns_with_the_face(corpus):
    lm = corpus.faces[0].landmarks.astype(np.float64)
    local = au_displacement({"AU12": 1.0})
    d = to_image_frame(local, lm)
    _, _, iod = face_frame(lm)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), iod * np.linalg.norm(local, axis=1), rtol=1e-5)
    np.testing.assert_allclose(to_face_frame(d, lm), local, atol=1e-6)
    # rotate and scale the face: the pixel displacement rotates and scales with it
    a, s = np.deg2rad(25.0), 1.7
    rot = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    d2 = to_image_frame(local, lm @ rot.T + 10.0)
    np.testing.assert_allclose(d2, d @ rot.T, atol=1e-3)


def test_templates_hash_is_stable():
    assert templates_hash() == templates_hash() and len(templates_hash()) == 16


def test_smile_template_matches_a_real_smile(corpus):
    """Calibration: AU6+12 at intensity 1 against the real smile of the corpus clip single_face_0015
    (landmarks from the MediaPipe pipeline, head motion removed): mouth corners move the same way
    and by a similar amount."""
    clip = next(c for c in corpus.clips if c.sample_id == "single_face_0015")
    motion = relative_motion(clip.landmarks)
    real = motion[clip.apex] - motion[clip.onset]
    tmpl = au_displacement(EXPRESSION_AUS["happiness"])
    corners = [48, 54, 60, 64]
    cos = (real[corners] * tmpl[corners]).sum() / np.linalg.norm(real[corners]) / np.linalg.norm(tmpl[corners])
    ratio = np.linalg.norm(real[corners], axis=1).mean() / np.linalg.norm(tmpl[corners], axis=1).mean()
    assert cos > 0.85
    assert 0.67 < ratio < 1.5
