"""The neutrality score (mexkit/face/neutrality.py) on hand-made blendshapes and on real faces: a real smile
clip's apex is less neutral than its onset, posed expressions and turned faces are flagged, a neutral
face is not; the writer records it and warns once per run. Its validation (AUC, threshold):
test_neutrality_validation.py."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mexkit.face.neutrality import (NEUTRALITY_WARN, NonNeutralFaceWarning, face_blendshapes, measure_neutrality, neutrality_of,
                                    prototype_scores, yaw_index)


@pytest.fixture(scope="module")
def corpus():
    from mexkit.datasets import load_corpus

    return load_corpus()


def test_prototype_scores_by_hand():
    shapes = {"mouthSmileLeft": 0.8, "mouthSmileRight": 0.6, "cheekSquintLeft": 0.2, "cheekSquintRight": 0.4,
              "eyeBlinkLeft": 0.9, "eyeLookUpRight": 0.8, "browOuterUpLeft": 0.6}
    scores = prototype_scores(shapes)
    assert scores["happiness"] == pytest.approx((0.7 + 0.3) / 2)      # AU6 cheekSquint, AU12 mouthSmile (pairs averaged)
    assert scores["contempt"] == pytest.approx(0.7 / 2)               # AU12 + AU14 (no dimple)
    assert scores["surprise"] == pytest.approx(0.6 / 4)               # AU1, AU2 (only its left given: 0.6), AU5, AU26
    score, strongest = neutrality_of(shapes)
    assert score == pytest.approx(0.5) and strongest[0] == ("happiness/mouthSmile", pytest.approx(0.7))
    # blinks and gaze belong to no prototype; a lone raised brow is diluted by its prototype's other units
    assert neutrality_of({"eyeBlinkLeft": 0.9, "eyeBlinkRight": 0.9, "eyeLookUpRight": 0.8})[0] == pytest.approx(1.0)


def test_yaw_index_of_frontal_and_turned_faces():
    lm = np.zeros((68, 2))
    lm[0], lm[16], lm[30] = (10, 50), (90, 50), (50, 60)
    assert yaw_index(lm) == pytest.approx(0.0)
    lm[30] = (80, 60)
    assert yaw_index(lm) == pytest.approx(0.375)


def test_a_real_smile_is_less_neutral_at_its_apex_than_at_its_onset(corpus):
    for clip in [c for c in corpus.clips if c.label == "positive"]:
        onset, _ = neutrality_of(face_blendshapes(clip.frames[clip.onset]))
        apex, strongest = neutrality_of(face_blendshapes(clip.frames[clip.apex]))
        assert apex < onset, (clip.sample_id, onset, apex)
        assert "mouthSmile" in strongest[0][0] or "cheekSquint" in strongest[0][0], strongest


def test_posed_expressions_and_turned_faces_are_flagged_and_a_neutral_face_is_not(corpus):
    by_id = {f.meta["face_id"]: f for f in corpus.faces}
    for face_id in ("corpus_multi3__multi_face", "corpus_f1__0-f1-su-ph", "corpus_f13__15-f13-anc-ph", "corpus_m7__45-m7-di-ph"):
        with pytest.warns(NonNeutralFaceWarning, match="not a neutral face"):
            flagged = measure_neutrality(by_id[face_id])
        assert flagged["neutrality"] < NEUTRALITY_WARN, face_id
    assert measure_neutrality(by_id["corpus_m7__45-m7-di-ph"], warn=False)["expression_blendshapes"].startswith("turned away")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonNeutralFaceWarning)
        calm = measure_neutrality(by_id["corpus_man__single_face_f0002"])
    assert calm["neutrality"] >= NEUTRALITY_WARN


def test_the_writer_records_each_faces_neutrality(tmp_path):
    from mexkit.synth.writer import faces_from_corpus, generate_dataset

    faces = [f for f in faces_from_corpus() if f.key in ("corpus/corpus_multi3__multi_face", "corpus/corpus_man__single_face_f0002")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        generate_dataset("warp", faces, tmp_path, progress=False)
    said = [str(w.message) for w in caught if issubclass(w.category, NonNeutralFaceWarning)]
    assert len(said) == 1 and "1 of 2 faces" in said[0] and "corpus/corpus_multi3__multi_face" in said[0], said  # once per run
    m = pd.read_csv(tmp_path / "manifest.csv").set_index("source_face")
    assert m.loc["corpus/corpus_multi3__multi_face", "neutrality"] < NEUTRALITY_WARN <= m.loc["corpus/corpus_man__single_face_f0002", "neutrality"]
    assert m["expression_blendshapes"].str.contains(":").all()
