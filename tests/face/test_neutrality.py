"""The neutrality score separates neutral from expressive real faces: a real smile clip's onset frame from
its apex, posed smiles from calm faces; the writer records it and warns."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

from mexkit.face.neutrality import NEUTRALITY_WARN, NonNeutralFaceWarning, face_blendshapes, measure_neutrality, neutrality_of


@pytest.fixture(scope="module")
def corpus():
    from mexkit.datasets import load_corpus

    return load_corpus()


def test_a_real_smile_is_less_neutral_at_its_apex_than_at_its_onset(corpus):
    for clip in [c for c in corpus.clips if c.label == "positive"]:
        onset, _ = neutrality_of(face_blendshapes(clip.frames[clip.onset]))
        apex, strongest = neutrality_of(face_blendshapes(clip.frames[clip.apex]))
        assert apex < onset, (clip.sample_id, onset, apex)
        assert strongest[0][0].startswith(("mouthSmile", "cheekSquint", "mouthUpperUp")), strongest


def test_posed_smiles_are_flagged_and_calm_faces_are_not(corpus):
    by_id = {f.meta["face_id"]: f for f in corpus.faces}
    with pytest.warns(NonNeutralFaceWarning, match="not a neutral face"):
        smile = measure_neutrality(by_id["corpus_multi3__multi_face"])
    assert smile["neutrality"] < NEUTRALITY_WARN and smile["expression_blendshapes"].startswith("mouthSmile")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonNeutralFaceWarning)
        calm = measure_neutrality(by_id["corpus_m7__45-m7-di-ph"])
    assert calm["neutrality"] >= NEUTRALITY_WARN > smile["neutrality"]
    # blinks and gaze are no expression
    assert neutrality_of({"eyeBlinkLeft": 0.9, "eyeLookUpRight": 0.8, "mouthSmileLeft": 0.1})[0] == pytest.approx(0.9)


def test_the_writer_records_each_faces_neutrality(tmp_path):
    from mexkit.synth.writer import faces_from_corpus, generate_dataset

    faces = [f for f in faces_from_corpus() if f.key in ("corpus/corpus_multi3__multi_face", "corpus/corpus_m7__45-m7-di-ph")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        generate_dataset("warp", faces, tmp_path, progress=False)
    said = [str(w.message) for w in caught if issubclass(w.category, NonNeutralFaceWarning)]
    assert len(said) == 1 and "1 of 2 faces" in said[0] and "corpus/corpus_multi3__multi_face" in said[0], said  # once per run
    m = pd.read_csv(tmp_path / "manifest.csv").set_index("source_face")
    assert m.loc["corpus/corpus_multi3__multi_face", "neutrality"] < NEUTRALITY_WARN <= m.loc["corpus/corpus_m7__45-m7-di-ph", "neutrality"]
    assert m["expression_blendshapes"].str.contains(":").all()
