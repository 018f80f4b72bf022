"""The embedded corpus loads, is consistent, and rebuilds identically from its committed media."""
import numpy as np
import pandas as pd

from mexkit.datasets import load_corpus
from mexkit.datasets.corpus import CORPUS_DIR, FACE_SIZE


def test_corpus_contents():
    c = load_corpus()
    assert len(c.faces) >= 10 and len(c.subjects) >= 10
    assert all(f.crop.shape == (FACE_SIZE, FACE_SIZE, 3) and f.landmarks.shape == (68, 2) for f in c.faces)
    assert len(c.clips) == len(c.manifest) >= 5
    for clip in c.clips:
        assert clip.frames.shape[1:] == (128, 128, 3)
        assert 0 <= clip.onset < clip.apex <= clip.offset < clip.num_frames
        assert clip.landmarks.shape == (clip.num_frames, 68, 2)
        assert clip.subject.startswith("corpus_")
    assert set(c.manifest["label"].dropna()) <= {"positive", "negative", "surprise"}
    # manifest paths are relative to the corpus folder, never absolute
    assert not any(p.startswith("/") for p in c.manifest["path"])


def test_clip_apex_moves_more_than_onset():
    """Labels come from landmark/blendshape motion: the apex frame differs from the onset far more than
    the two rest frames before the onset differ from each other."""
    for clip in load_corpus().clips:
        lm = clip.landmarks
        rest = np.abs(lm[1] - lm[0]).mean()
        peak = np.abs(lm[clip.apex] - lm[clip.onset]).mean()
        assert peak > rest


def test_rebuild_is_reproducible(tmp_path):
    import shutil

    from mexkit.datasets.build_corpus import build

    shutil.copytree(CORPUS_DIR / "media", tmp_path / "media")
    build(tmp_path)
    for name in ("manifest.csv", "faces.csv"):
        a, b = pd.read_csv(CORPUS_DIR / name), pd.read_csv(tmp_path / name)
        pd.testing.assert_frame_equal(a, b)
    fresh = load_corpus(tmp_path)
    shipped = load_corpus()
    for f1, f2 in zip(fresh.faces, shipped.faces):
        assert np.abs(f1.crop.astype(int) - f2.crop).mean() < 1.0
