"""The dlib identity embedding separates the same person from different people on real faces."""
import numpy as np

from mexkit.face.identity import DlibIdentity, cosine_similarity


def test_same_person_closer_than_different_people():
    from mexkit.datasets import load_corpus

    corpus = load_corpus()
    emb = DlibIdentity()
    # same person: frames of one real clip; different people: the corpus's faces of other subjects
    same, diff = [], []
    for clip in corpus.clips[:3]:
        e = emb.embed_aligned(clip.frames[[0, clip.apex]])
        same.append(cosine_similarity(e[0], e[1]))
        others = [f for f in corpus.faces if f.subject != clip.subject][:4]
        eo = emb.embed_aligned(np.stack([f.crop[::2, ::2] for f in others]))
        diff.extend(cosine_similarity(eo, e[0]).tolist())
    print(f"\nsame person cos {np.mean(same):.3f} (min {np.min(same):.3f}); different people {np.mean(diff):.3f} (max {np.max(diff):.3f})")
    assert np.min(same) > np.max(diff)
