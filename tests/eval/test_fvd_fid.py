"""FVD (StyleGAN-V protocol, I3D TorchScript detector) and FID over frames (Inception-v3 state dict).

The real networks' weights cannot be downloaded here: the tests use randomly initialised networks of
the same interface saved to files — a TorchScript module with the I3D detector's call signature, and
torchvision's inception_v3 with random init saved as a state dict — on real corpus clips.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mexkit.cli import main
from mexkit.eval.degrade import add_flicker, blur
from mexkit.eval.distribution import frechet_distance
from mexkit.eval.fid import InceptionFeatures, Moments, frechet_from_moments
from mexkit.eval.fvd import I3DFeatures


class RandomI3D(torch.nn.Module):
    """The I3D detector's interface: (B, 3, T, H, W) float in [0, 255] → (B, D) features; rescale to [-1, 1], resize to 224²."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv3d(3, 16, kernel_size=(3, 7, 7), stride=(1, 4, 4), padding=(1, 3, 3))
        self.conv2 = torch.nn.Conv3d(16, 32, kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False) -> torch.Tensor:
        if rescale:
            x = x / 127.5 - 1.0
        if resize:
            x = torch.nn.functional.interpolate(x, size=(x.shape[2], 224, 224), mode="trilinear", align_corners=False)
        h = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        feats = torch.cat([h.mean((2, 3, 4)), h.std((2, 3, 4))], 1)
        return feats if return_features else torch.softmax(feats, 1)


@pytest.fixture(scope="module")
def i3d_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("nets") / "i3d_random.pt"
    torch.jit.script(RandomI3D().eval()).save(str(path))
    return path


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    model = inception_v3(weights=None, aux_logits=False, init_weights=True)
    path = tmp_path_factory.mktemp("nets") / "inception_random.pth"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def long_clips(corpus):
    return [c for c in corpus.clips if c.num_frames >= 16]


def test_fvd_grows_with_blur_and_flicker(i3d_file, long_clips):
    i3d = I3DFeatures(i3d_file)
    assert len(long_clips) >= 5
    real = np.stack([i3d(c) for c in long_clips])

    def fvd(transform):
        return frechet_distance(real, np.stack([i3d(c.with_frames(transform(c.frames, i))) for i, c in enumerate(long_clips)]))

    same = fvd(lambda f, i: f)
    blurs = [fvd(lambda f, i, s=s: blur(f, s)) for s in (0.7, 1.5, 3.0)]
    flickers = [fvd(lambda f, i, a=a: add_flicker(f, a, seed=i)) for a in (6.0, 20.0, 60.0)]
    assert same < 1e-6 * max(blurs[0], flickers[0]) + 1e-9
    assert blurs[0] < blurs[1] < blurs[2], blurs
    assert flickers[0] < flickers[1] < flickers[2], flickers


def test_fid_grows_with_blur_and_moments_match_the_helper(inception_file, long_clips):
    net = InceptionFeatures(inception_file)
    assert net.variant == "torchvision"
    frames = np.concatenate([c.frames[:2] for c in long_clips[:4]])
    real = net(frames)
    assert real.shape == (8, 2048) and real.std() > 0
    fids = []
    for sigma in (1.0, 2.5):
        fake = net(blur(frames, sigma))
        a, b = Moments(), Moments()
        a.add(real[:5]); a.add(real[5:])  # noqa: E702 — moments accumulate over batches
        b.add(fake)
        fids.append(frechet_from_moments(a, b))
        assert fids[-1] == pytest.approx(frechet_distance(real, fake), rel=1e-6)
    assert 0 < fids[0] < fids[1], fids


def test_pytorch_fid_weights_layout_loads(tmp_path):
    from mexkit.eval.fid import build_inception

    torch.manual_seed(0)
    path = tmp_path / "pt_inception_random.pth"
    torch.save(build_inception(1008).state_dict(), path)
    net = InceptionFeatures(path)
    assert net.variant == "pytorch-fid"
    assert net(np.zeros((1, 64, 64, 3), np.uint8)).shape == (1, 2048)


def test_eval_with_fvd_and_fid_models(i3d_file, inception_file, long_clips, synthetic_writer, tmp_path):
    clips = [c.with_frames(c.frames[:16], apex=min(c.apex, 15), offset=15, landmarks=None) for c in long_clips[:4]]
    real = synthetic_writer(tmp_path / "real", clips, reference=False)
    fake = synthetic_writer(tmp_path / "fake", clips, transform=lambda f, i: blur(f, 2.0), reference=False)
    out, report = tmp_path / "out", tmp_path / "report.html"
    rc = main(["eval", "--fake", str(fake), "--real", str(real), "--families", "distribution", "--fvd-model", str(i3d_file),
               "--fid-model", str(inception_file), "--fid-stride", "8", "--workers", "1", "--no-progress", "--examples", "0",
               "--out", str(out), "--report", str(report)])
    assert rc == 0
    table = pd.read_csv(out / "fvd_fid.csv").set_index("metric")
    assert {"fvd", "fvd_real_halves", "fid_frames", "fid_real_halves"} <= set(table.index)
    assert table.loc["fvd", "n_real"] == 4 and table.loc["fvd", "n_fake"] == 4 and table.loc["fvd", "frames_fake"] == 64
    assert table.loc["fid_frames", "frames_real"] == 8 and table.loc["fid_frames", "frames_fake"] == 8  # every 8th of 16 frames
    assert (table["value"] > 0).all()
    html = report.read_text()
    assert "fvd = " in html and "biased upwards on small sets" in html


def test_missing_networks_are_clear_errors(tmp_path, capsys):
    base = ["eval", "--fake", "corpus", "--real", "corpus", "--max-clips", "2", "--workers", "1", "--no-progress",
            "--report", str(tmp_path / "r.html")]
    assert main(base + ["--fvd-model", str(tmp_path / "i3d_torchscript.pt")]) == 2
    err = capsys.readouterr().err
    assert "i3d_torchscript.pt" in err and "FVD detector" in err and "not found" in err and "--fvd-model" in err
    assert main(base + ["--families", "fid"]) == 2
    err = capsys.readouterr().err
    assert "fid family needs a network file" in err and "--fid-model" in err
    bad = tmp_path / "bad.pth"
    torch.save({"weight": torch.zeros(2)}, bad)
    assert main(base + ["--fid-model", str(bad)]) == 2
    assert "not an Inception-v3 state dict" in capsys.readouterr().err
