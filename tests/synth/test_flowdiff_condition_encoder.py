"""FlowConditionEncoder: shapes, the null condition for classifier-free guidance, save/load."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from mexkit.synth.flowdiff.condition_encoder import LANDMARK_GROUPS, FlowConditionEncoder, landmark_heatmaps

TINY = {"image_size": 32, "flow_size": 8, "feature_channels": 4, "hidden_channels": 16, "embed_dim": 32, "token_grid": 2}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/synth/conftest.py


@pytest.fixture(scope="module")
def corpus_faces():
    from mexkit.datasets import load_corpus

    return load_corpus().faces[:3]


@pytest.fixture(scope="module")
def faces(corpus_faces) -> torch.Tensor:
    crops = [cv2.resize(f.crop, (64, 64), interpolation=cv2.INTER_AREA) for f in corpus_faces]
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div(127.5).sub(1)


@pytest.fixture(scope="module")
def landmarks(corpus_faces) -> torch.Tensor:
    """The corpus faces' 68 landmarks in [0, 1] crop units."""
    return torch.from_numpy(np.stack([(f.landmarks + 0.5) / f.resolution for f in corpus_faces])).float()


def test_landmark_heatmaps_peak_on_the_face_parts(landmarks):
    maps = landmark_heatmaps(landmarks, 16)
    assert maps.shape == (3, len(LANDMARK_GROUPS), 16, 16) and float(maps.max()) <= 1.0
    for g, (a, b) in enumerate(LANDMARK_GROUPS):
        centre = landmarks[0, a:b].mean(0)  # e.g. the mouth group peaks where the mouth is
        yx = np.unravel_index(int(maps[0, g].argmax()), (16, 16))
        pts = (landmarks[0, a:b] * 16 - 0.5).numpy()
        # the peak sits on one of the group's points (within a heatmap pixel)
        assert np.min(np.hypot(pts[:, 0] - yx[1], pts[:, 1] - yx[0])) < 1.0, (g, yx, centre)
    # brows above eyes above mouth (image y grows downwards)
    ys = [float((maps[0, g] * torch.arange(16.0)[:, None]).sum() / maps[0, g].sum()) for g in (1, 3, 4)]
    assert ys[0] < ys[1] < ys[2]


def test_shapes_and_resizing(faces, landmarks):
    torch.manual_seed(0)
    enc = FlowConditionEncoder(**TINY).eval()
    out = enc(faces, torch.tensor([0, 1, 2]), torch.tensor([0.2, 0.5, 1.0]), landmarks=landmarks)  # 64 px in, works at 32
    assert out["spatial"].shape == (3, 4 + 5, 8, 8) and enc.spatial_channels == 9
    torch.testing.assert_close(out["spatial"][:, 4:], landmark_heatmaps(landmarks, 8))
    assert out["tokens"].shape == (3, 2 * 2 + 2, 32)
    assert out["vector"].shape == (3, 32)
    assert enc.classes == ("negative", "positive", "surprise") and enc.null_class == 3
    with pytest.raises(ValueError, match="68 landmarks"):
        enc(faces, torch.tensor([0, 1, 2]), torch.tensor([0.2, 0.5, 1.0]))
    plain = FlowConditionEncoder(**TINY, use_landmarks=False).eval()
    assert plain(faces, torch.tensor([0, 1, 2]), torch.ones(3))["spatial"].shape == (3, 4, 8, 8) and plain.spatial_channels == 4


def test_drop_swaps_only_class_and_intensity(faces, landmarks):
    torch.manual_seed(0)
    enc = FlowConditionEncoder(**TINY, use_landmarks=False).eval()
    label, inten = torch.tensor([0, 1, 2]), torch.tensor([0.2, 0.5, 1.0])
    keep = enc(faces, label, inten)
    drop = enc(faces, label, inten, drop=torch.tensor([True, False, True]))
    torch.testing.assert_close(drop["spatial"], keep["spatial"])  # the face always conditions
    torch.testing.assert_close(drop["tokens"][:, :4], keep["tokens"][:, :4])
    torch.testing.assert_close(drop["tokens"][1], keep["tokens"][1])
    assert not torch.allclose(drop["tokens"][0, 4:], keep["tokens"][0, 4:])
    # dropped rows equal the explicit null condition, whatever class and intensity were asked
    null = enc(faces, torch.tensor([3, 3, 3]), torch.tensor([0.9, 0.1, 0.3]), drop=torch.ones(3, dtype=torch.bool))
    torch.testing.assert_close(drop["vector"][[0, 2]], null["vector"][[0, 2]])
    # unlabelled (-1) means the null class
    unl = enc(faces, torch.tensor([-1, -1, -1]), inten)
    lab3 = enc(faces, torch.tensor([3, 3, 3]), inten)
    torch.testing.assert_close(unl["tokens"], lab3["tokens"])


def test_save_load_round_trip(tmp_path, faces, landmarks):
    torch.manual_seed(1)
    enc = FlowConditionEncoder(**TINY, classes=["a", "b"]).eval()
    enc.save_pretrained(tmp_path / "enc")
    assert (tmp_path / "enc" / "config.json").exists() and (tmp_path / "enc" / "diffusion_pytorch_model.safetensors").exists()
    back = FlowConditionEncoder.from_pretrained(tmp_path / "enc", low_cpu_mem_usage=False).eval()
    assert back.classes == ("a", "b")
    inten = torch.tensor([0.3, 0.6, 0.9])
    a = enc(faces, torch.tensor([0, 1, 0]), inten, landmarks=landmarks)
    b = back(faces, torch.tensor([0, 1, 0]), inten, landmarks=landmarks)
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="multiple"):
        FlowConditionEncoder(image_size=40, flow_size=16)
    with pytest.raises(ValueError, match="power of two"):
        FlowConditionEncoder(image_size=48, flow_size=16)
