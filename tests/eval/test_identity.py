"""Identity metrics validated on real faces: dlib embeddings separate people; ACD rises when a clip mixes people."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.eval.degrade import interleave
from mexkit.eval.identity import (IdentityScorer, average_content_distance, load_identity_model, verification_auc,
                                  verification_pairs)


def _resize(img, size=128):
    import cv2

    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def test_acd_definition():
    e = np.eye(4)
    assert average_content_distance(np.ones((5, 8))) == pytest.approx(0.0, abs=1e-12)
    assert average_content_distance(e) == pytest.approx(np.sqrt(2.0))  # orthonormal: every pair √2 apart
    assert average_content_distance(e[:1]) == 0.0


# Corpus subjects are distinct people (multi_face.jpg's four faces are four people since the corpus boxes
# them with dlib); nothing to merge.
SAME_PERSON: dict[str, str] = {}


def _person(subject: str) -> str:
    return SAME_PERSON.get(subject, subject)


def test_identity_auc_same_vs_different_people(corpus, short_clips, dlib_identity):
    """Same person: a person's video frames and photos; different: the corpus's other people.

    Metric level (as the suite uses it): id_cos_mean of each real clip against each corpus face.
    Frame level: every pair of single frames/faces — harder, since many frames of one video show the
    face half covered by hands.
    """
    faces = [(_person(f.subject), dlib_identity.embed(_resize(f.crop)[None])[0]) for f in corpus.faces]  # 12 faces, 11 people
    clip_emb = [(_person(c.subject), dlib_identity.embed(c.frames)) for c in short_clips]  # 7 clips × ≤ 12 frames
    from mexkit.eval.identity import normalize

    same, diff = [], []
    for subject, e in clip_emb:
        for face_subject, fe in faces:
            (same if face_subject == subject else diff).append(float((normalize(e) @ normalize(fe)).mean()))
    auc_clip = verification_auc(np.array(same), np.array(diff))

    emb = np.concatenate([np.stack([fe for _, fe in faces])] + [e[:: max(1, len(e) // 4)] for _, e in clip_emb])
    subjects = [s for s, _ in faces] + [s for s, e in clip_emb for _ in range(len(e[:: max(1, len(e) // 4)]))]
    f_same, f_diff = verification_pairs(emb, subjects)
    auc_frame = verification_auc(f_same, f_diff)
    print(f"\ndlib identity on the corpus — clip vs face (id_cos_mean): AUC {auc_clip:.4f}, same {np.mean(same):.3f} "
          f"(min {np.min(same):.3f}, n={len(same)}), different {np.mean(diff):.3f} (max {np.max(diff):.3f}, n={len(diff)}); "
          f"frame pairs: AUC {auc_frame:.4f}, same {f_same.mean():.3f} (min {f_same.min():.3f}, n={len(f_same)}), "
          f"different {f_diff.mean():.3f} (max {f_diff.max():.3f}, n={len(f_diff)})")
    assert len(set(subjects)) == 11 and len(same) >= 8 and len(diff) >= 70
    assert auc_clip >= 0.95
    assert auc_frame >= 0.9
    assert np.mean(same) - np.mean(diff) > 0.05 and f_same.mean() - f_diff.mean() > 0.05


def test_cosine_to_neutral_prefers_the_right_person(corpus, dlib_identity):
    clip = next(c for c in corpus.clips if c.subject == "corpus_man")
    clip = clip.with_frames(clip.frames[:8], apex=5, offset=7, landmarks=None)
    own = next(f for f in corpus.faces if f.subject == "corpus_man" and f.meta["expression"] == "neutral")
    other = next(f for f in corpus.faces if f.subject == "corpus_f15")
    s_onset = dlib_identity(clip)
    s_own = dlib_identity(clip, own.crop, neutral_key="own")
    s_other = dlib_identity(clip, other.crop, neutral_key="other")
    assert s_onset["id_frames"] == 8 and 0.9 < s_onset["id_cos_mean"] <= 1.0
    assert s_own["id_cos_mean"] > s_other["id_cos_mean"] + 0.05
    assert s_own["id_cos_min"] > s_other["id_cos_min"]
    assert s_own["acd"] == pytest.approx(s_other["acd"])  # ACD depends on the clip only


def test_acd_real_clips_below_clips_mixing_people(corpus, short_clips, dlib_identity):
    """MoCoGAN's ACD: real clips of one person are steadier than clips whose frames come from several people."""
    real = [c.with_frames(c.frames[:8], apex=min(c.apex, 7), offset=7, landmarks=None) for c in short_clips]
    acd_real = [dlib_identity(c)["acd"] for c in real]
    man = next(c for c in real if c.subject == "corpus_man")
    woman = next(c for c in real if c.subject == "corpus_woman")
    stills = [np.repeat(_resize(f.crop)[None], 8, 0) for f in corpus.faces if f.subject in ("corpus_f1", "corpus_m7", "corpus_astronaut")]
    mixes = [interleave([man.frames, woman.frames]), interleave([man.frames, stills[0]]), interleave([woman.frames, stills[1], stills[2]])]
    acd_mixed = [dlib_identity(Clip(frames=m, fps=30.0, sample_id=f"mix{i}"))["acd"] for i, m in enumerate(mixes)]
    print(f"ACD real clips {np.round(acd_real, 3)}; mixed-identity clips {np.round(acd_mixed, 3)}")
    assert max(acd_real) < min(acd_mixed)
    assert np.mean(acd_mixed) > 1.5 * np.mean(acd_real)


class _TinyEmbedder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 5, stride=4)
        self.fc = torch.nn.Linear(8 * 16, 32)

    def forward(self, x):
        return self.fc(torch.nn.functional.adaptive_avg_pool2d(self.conv(x), 4).flatten(1))


@pytest.mark.parametrize("kind", ["torchscript", "export"])
def test_torch_model_by_path(tmp_path, short_clips, kind):
    """A user model saved as TorchScript (.pt) or torch.export (.pt2) embeds like the module itself."""
    import warnings

    torch.manual_seed(0)
    net = _TinyEmbedder().eval()
    if kind == "torchscript":
        path = tmp_path / "embedder.pt"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.script(net).save(str(path))
    else:
        path = tmp_path / "embedder.pt2"
        torch.export.save(torch.export.export(net, (torch.zeros(2, 3, 64, 64),), dynamic_shapes=({0: torch.export.Dim("batch")},)), str(path))
    model = load_identity_model(path, size=64)
    frames = short_clips[0].frames[:3]
    emb = model.embed_aligned(frames)
    from mexkit.eval.identity import _model_inputs

    with torch.no_grad():
        direct = net(torch.from_numpy(_model_inputs(frames, 64, (0.5,) * 3, (0.5,) * 3, False))).numpy()
    assert emb.shape == (3, 32) and np.allclose(emb, direct, atol=1e-5)
    row = IdentityScorer(model)(short_clips[0])
    assert set(row) >= {"id_cos_mean", "id_cos_min", "acd"} and -1 <= row["id_cos_min"] <= row["id_cos_mean"] <= 1


def test_identity_model_errors(tmp_path):
    bad = tmp_path / "not_a_model.pt"
    bad.write_bytes(b"definitely not torchscript")
    with pytest.raises(MexkitInputError, match="TorchScript"):
        load_identity_model(bad)
    with pytest.raises(MexkitInputError, match="torch.export"):
        load_identity_model(bad.rename(tmp_path / "bad.pt2"))
    with pytest.raises(MexkitInputError, match="not found"):
        load_identity_model(tmp_path / "missing.pt")
    with pytest.raises(MexkitInputError, match="unknown identity model type"):
        load_identity_model(tmp_path / "model.h5")


def test_onnx_needs_onnxruntime(tmp_path):
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        path = tmp_path / "m.onnx"
        path.write_bytes(b"\x08\x07")
        with pytest.raises(MexkitInputError, match="onnxruntime"):
            load_identity_model(path)
    else:
        pytest.skip("onnxruntime is installed; the missing-dependency message cannot be shown")
