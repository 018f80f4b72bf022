"""CSIM, the ArcFace cosine, beside dlib's: wired with a randomly initialised network of ArcFace's interface
(1×3×112×112 RGB scaled (x − 127.5)/127.5 → 512), exported to ONNX here — the real ArcFace is never shipped."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mexkit.errors import MexkitInputError
from mexkit.eval.identity import ARCFACE_EYES, ArcFaceIdentity, IdentityScorer, arcface_affine
from mexkit.face.align import template_eyes


class _ArcFaceShaped(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 5, stride=4)
        self.fc = torch.nn.Linear(8 * 27 * 27, 512)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


def _export(path, dynamic: bool = True):
    torch.manual_seed(0)
    net = _ArcFaceShaped().eval()
    torch.onnx.export(net, torch.zeros(1, 3, 112, 112), str(path), input_names=["input.1"], output_names=["embedding"],
                      dynamic_axes={"input.1": {0: "N"}} if dynamic else None, dynamo=False)
    return net


@pytest.fixture(scope="module")
def arcface(tmp_path_factory):
    path = tmp_path_factory.mktemp("arcface") / "w600k_random.onnx"
    return path, _export(path)


def test_crops_land_on_arcfaces_template_and_the_network_sees_insightfaces_input(arcface, short_clips):
    path, net = arcface
    for size in (64, 128, 256):
        m = arcface_affine(size)
        for (x, y), target in zip(template_eyes(size), ARCFACE_EYES):
            assert m @ np.array([x, y, 1.0]) == pytest.approx(np.array(target), abs=1e-9)
    model = ArcFaceIdentity(path)
    crops = short_clips[0].frames[:3]
    x = model.inputs(crops)
    assert x.shape == (3, 3, 112, 112) and x.dtype == np.float32 and -1.0 <= x.min() and x.max() <= 1.0
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.embed_aligned(crops), expected, rtol=1e-4, atol=1e-4)  # onnxruntime runs the same network


def test_csim_is_reported_beside_the_dlib_cosine(arcface, short_clips, dlib_identity, tmp_path):
    path, _ = arcface
    fixed = tmp_path / "batch1.onnx"
    _export(fixed, dynamic=False)  # a model exported with a batch of 1 is run one crop at a time
    clip = short_clips[0]
    rows = [IdentityScorer(dlib_identity.embedder, frame_stride=3, csim=p)(clip) for p in (path, fixed)]
    for row in rows:
        assert {"id_cos_mean", "id_cos_min", "id_cos_apex", "acd", "csim_mean", "csim_min", "csim_apex"} <= set(row)
        assert -1.0 <= row["csim_min"] <= row["csim_mean"] <= 1.0
    assert rows[0]["csim_mean"] == pytest.approx(rows[1]["csim_mean"], abs=1e-5)
    # the neutral input itself: cosine 1 in either space
    onset = clip.frames[clip.onset]
    two = clip.with_frames(np.stack([onset, onset]), onset=0, apex=1, offset=1, landmarks=None)
    same = IdentityScorer(dlib_identity.embedder, csim=path)(two, onset)
    assert same["csim_mean"] == pytest.approx(1.0, abs=1e-5) and same["id_cos_mean"] == pytest.approx(1.0, abs=1e-5)
    assert "csim_mean" not in IdentityScorer(dlib_identity.embedder, frame_stride=3)(clip)


def test_mexkit_eval_identity_model_onnx_adds_csim(arcface, tmp_path):
    from mexkit.cli import main

    path, _ = arcface
    rc = main(["eval", "--fake", "corpus", "--families", "identity", "--max-clips", "1", "--identity-stride", "8", "--workers", "1",
               "--no-progress", "--identity-model", str(path), "--report", str(tmp_path / "r.html")])
    assert rc == 0
    table = pd.read_csv(tmp_path / "r_csv" / "identity.csv")
    assert table[["id_cos_mean", "csim_mean", "csim_min"]].notna().all().all()
    assert f"CSIM: arcface:{path.name}" in (tmp_path / "r.html").read_text()


def test_not_an_arcface_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(MexkitInputError, match="not a runnable ONNX model"):
        ArcFaceIdentity(bad)
    with pytest.raises(MexkitInputError, match="not found"):
        ArcFaceIdentity(tmp_path / "missing.onnx")
