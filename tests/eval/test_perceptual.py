"""Perceptual metrics validated on real faces: LPIPS, SSIM and PSNR move the right way with blur and noise."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mexkit.errors import MexkitInputError, MissingWeightsError
from mexkit.eval.degrade import add_noise, blur
from mexkit.eval.perceptual import LPIPS, PerceptualScorer, psnr_frames, ssim_frames

BLUR = [0.5, 1.0, 2.0, 4.0]
NOISE = [2.0, 5.0, 10.0, 20.0]


def _strictly(values, up: bool) -> bool:
    d = np.diff(np.asarray(values, np.float64))
    return bool(np.all(d > 0) if up else np.all(d < 0))


@pytest.fixture(scope="module")
def frames(short_clips):
    """6 real aligned frames from a man's and a woman's clip."""
    return [c.frames[:6] for c in short_clips[:2]]


@pytest.mark.parametrize("kind,levels,degrade", [("blur", BLUR, lambda f, s: blur(f, s)), ("noise", NOISE, lambda f, s: add_noise(f, s, seed=1))])
def test_scores_track_degradation_on_real_faces(frames, random_lpips, kind, levels, degrade):
    for f in frames:
        lp = [random_lpips(f, degrade(f, s)).mean() for s in levels]
        ss = [ssim_frames(f, degrade(f, s)).mean() for s in levels]
        ps = [psnr_frames(f, degrade(f, s)).mean() for s in levels]
        print(f"{kind}: LPIPS(random trunk) {np.round(lp, 4)}, SSIM {np.round(ss, 4)}, PSNR {np.round(ps, 2)}")
        assert _strictly(lp, up=True), lp
        assert _strictly(ss, up=False), ss
        assert _strictly(ps, up=False), ps
        assert random_lpips(f, f).max() == pytest.approx(0.0, abs=1e-6)
        assert ssim_frames(f, f).min() == pytest.approx(1.0) and psnr_frames(f, f).min() == 100.0


def test_ssim_matches_scikit_image(frames):
    from skimage.metrics import structural_similarity

    a = frames[0]
    for b in (add_noise(a, 8, seed=3), blur(a, 1.5), a[::-1].copy()):
        ref = [structural_similarity(x, y, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
               for x, y in zip(a, b)]
        np.testing.assert_allclose(ssim_frames(a, b), ref, atol=1e-9)


def test_psnr_matches_definition(frames):
    a, b = frames[0], add_noise(frames[0], 6, seed=0)
    mse = ((a.astype(np.float64) - b) ** 2).reshape(len(a), -1).mean(1)
    np.testing.assert_allclose(psnr_frames(a, b), 10 * np.log10(255.0**2 / mse), rtol=1e-6)


def test_lpips_needs_a_backbone_and_never_downloads(monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    with pytest.raises(MissingWeightsError, match="--lpips-backbone"):
        LPIPS("alex")
    a, b = LPIPS("alex", random_backbone=True, seed=0), LPIPS("alex", random_backbone=True, seed=0)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)  # seeded: the random trunk is reproducible
    with pytest.raises(ValueError, match="unknown LPIPS net"):
        LPIPS("resnet", random_backbone=True)


@pytest.mark.parametrize("fmt", ["pth", "safetensors"])
def test_lpips_loads_a_torchvision_backbone_file(tmp_path, frames, random_lpips, fmt):
    """A torchvision AlexNet state dict (keys features.N.*) lands in lpips' trunk slices."""
    import torchvision

    torch.manual_seed(123)
    features = torchvision.models.alexnet(weights=None).features
    state = {f"features.{k}": v.clone() for k, v in features.state_dict().items()}
    path = tmp_path / f"alexnet.{fmt}"
    if fmt == "pth":
        torch.save(state, path)
    else:
        from safetensors.torch import save_file

        save_file(state, str(path))
    model = LPIPS("alex", backbone=path)
    trunk = model.model.net
    assert torch.equal(trunk.slice1[0].weight, state["features.0.weight"])
    assert torch.equal(getattr(trunk.slice5, "10").bias, state["features.10.bias"])
    f = frames[0]
    d_user, d_rand = model(f, blur(f, 2.0)), random_lpips(f, blur(f, 2.0))
    assert np.all(d_user > 0) and not np.allclose(d_user, d_rand)
    assert model.backbone_name == path.name


def test_lpips_rejects_the_wrong_backbone(tmp_path):
    import torchvision

    vgg_like = {f"features.{k}": v for k, v in torchvision.models.squeezenet1_1(weights=None).features.state_dict().items()}
    path = tmp_path / "squeeze.pth"
    torch.save(vgg_like, path)
    with pytest.raises(MexkitInputError, match="backbone"):
        LPIPS("alex", backbone=path)
    with pytest.raises(MissingWeightsError):
        LPIPS("alex", backbone=tmp_path / "missing.pth")


def test_perceptual_scorer_against_ground_truth(short_clips, random_lpips):
    clip = short_clips[0]
    scorer = PerceptualScorer(random_lpips)
    same = scorer(clip, clip)
    worse = scorer(clip.with_frames(blur(clip.frames, 2.0)), clip)
    assert same["ssim"] == pytest.approx(1.0) and same["lpips"] == pytest.approx(0.0, abs=1e-6)
    assert worse["ssim"] < same["ssim"] and worse["psnr"] < same["psnr"] and worse["lpips"] > same["lpips"]
    with pytest.raises(MexkitInputError, match="same length"):
        scorer(clip.with_frames(clip.frames[:5], apex=2, offset=4), clip)


def test_cvvdp_option_on_real_frames(frames, short_clips):
    pytest.importorskip("pycvvdp", reason="cvvdp is optional (pip install cvvdp)")
    from mexkit.eval.perceptual import CvvdpScorer

    scorer = CvvdpScorer()
    f = frames[0]
    jod = [scorer(f, f, 30.0)] + [scorer(add_noise(f, s, seed=2), f, 30.0) for s in (4.0, 16.0)]
    print(f"cvvdp JOD: identical {jod[0]:.3f}, noise 4 {jod[1]:.3f}, noise 16 {jod[2]:.3f}")
    assert jod[0] == pytest.approx(10.0, abs=1e-3)
    assert _strictly(jod, up=False)
    clip = short_clips[0].with_frames(short_clips[0].frames[:6], apex=3, offset=5, landmarks=None)
    row = PerceptualScorer(cvvdp=scorer)(clip.with_frames(add_noise(clip.frames, 16.0, seed=2)), clip)
    assert row["cvvdp_jod"] < 9.5 and "lpips" not in row
