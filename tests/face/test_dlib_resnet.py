"""dlib's face-recognition ResNet read into torch gives dlib's own descriptors (issue 17: identity speed).

The reference is dlib's `compute_face_descriptor` on the same real corpus frames and faces (every clip,
frames onset to offset, and every aligned face at two resolutions); the torch network must agree to
float rounding, so every identity metric keeps its value.
"""
import numpy as np
import pytest

from mexkit.face.dlib_resnet import MODEL_FILE, read_dlib_weights
from mexkit.face.identity import DlibIdentity, cosine_similarity
from mexkit.face.model_files import dlib_model


@pytest.fixture(scope="module")
def crops():
    from mexkit.datasets import load_corpus

    corpus = load_corpus()
    frames = [clip.frames[t] for clip in corpus.clips for t in range(0, clip.num_frames, 5)]
    faces = [f.crop for f in corpus.faces] + [f.crop[::2, ::2] for f in corpus.faces]
    return frames, faces


def test_torch_descriptors_equal_dlibs_on_real_faces(crops):
    torch_net, dlib_net = DlibIdentity(), DlibIdentity(backend="dlib")
    for batch in crops:
        by_size = {}
        for c in batch:
            by_size.setdefault(c.shape, []).append(c)
        for same_size in by_size.values():
            ours, ref = torch_net.embed_aligned(np.stack(same_size)), dlib_net.embed_aligned(np.stack(same_size))
            assert ours.shape == ref.shape == (len(same_size), 128)
            assert np.abs(ours - ref).max() < 1e-5, np.abs(ours - ref).max()
            assert cosine_similarity(ours, ref).min() > 1 - 1e-9


def test_a_file_that_is_not_the_model_is_refused(tmp_path):
    real = dlib_model(MODEL_FILE).read_bytes()
    cut = tmp_path / "truncated.dat"
    cut.write_bytes(real[: len(real) // 2])
    with pytest.raises(ValueError, match="truncated.dat: not dlib's face-recognition ResNet"):
        read_dlib_weights(cut)
    assert sum(w.size for w in read_dlib_weights(dlib_model(MODEL_FILE))) == 5_614_592
