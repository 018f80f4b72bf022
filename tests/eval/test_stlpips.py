"""ST-LPIPS (eval/stlpips.py) with the weights stlpips-pytorch ships: the package's own numbers, the eval
suite's degradations ranked in order (blur, noise; its temporal form tST-LPIPS: flicker), and the default
perceptual model of `mexkit eval`."""
from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest
import torch

from mexkit.eval.degrade import add_flicker, add_jitter, add_noise, blur, interleave
from mexkit.eval.stlpips import STLPIPS
from mexkit.eval.temporal import TemporalScorer

BLUR = [0.5, 1.0, 2.0, 4.0]
NOISE = [2.0, 5.0, 10.0, 20.0]
FLICKER = [2.0, 6.0, 12.0, 24.0]


@pytest.fixture(scope="module")
def stlpips():
    torch.manual_seed(0)
    return STLPIPS("alex")


def _rising(values) -> bool:
    return bool(np.all(np.diff(np.asarray(values, np.float64)) > 0))


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_same_numbers_as_the_package(short_clips, monkeypatch, net):
    """The package's own LPIPS class (variant shift_tolerant) on the same frames; its modules import
    torchsummary (a printing helper) and IPython (a debugging `embed`) at the top, neither a dependency of
    the package nor of mexkit: both stubbed here (a fresh install has neither)."""
    monkeypatch.setitem(sys.modules, "torchsummary", types.SimpleNamespace(summary=None))
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(embed=None))
    from stlpips_pytorch import stlpips as reference

    a = short_clips[1].frames[:2, ::2, ::2]  # 64 px: quick for vgg
    b = add_jitter(a, 2.0, seed=3)
    ref = reference.LPIPS(net=net, variant="shift_tolerant", verbose=False)
    with torch.no_grad():
        expected = ref(torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255, torch.from_numpy(b).permute(0, 3, 1, 2).float() / 255,
                       normalize=True).flatten().numpy()
    ours = STLPIPS(net)
    np.testing.assert_allclose(ours(a, b), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.consecutive(a), ours(a[:-1], a[1:]), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kind,levels,degrade", [("blur", BLUR, lambda f, s: blur(f, s)),
                                                 ("noise", NOISE, lambda f, s: add_noise(f, s, seed=1))])
def test_st_lpips_ranks_the_degradations_in_order(short_clips, stlpips, kind, levels, degrade):
    for clip in short_clips[:2]:
        f = clip.frames[:3]
        d = [stlpips(f, degrade(f, s)).mean() for s in levels]
        print(f"{clip.sample_id} {kind} {levels}: ST-LPIPS {np.round(d, 4)}")
        assert _rising(d), d
        assert stlpips(f, f).max() == pytest.approx(0.0, abs=1e-6)


def test_tst_lpips_ranks_flicker_in_order_and_is_zero_for_the_reference_itself(short_clips, stlpips):
    clip = short_clips[0]
    clip = clip.with_frames(clip.frames[:6], apex=min(clip.apex, 5), offset=5, landmarks=None)
    same = TemporalScorer("dis", lpips=stlpips)(clip, clip)  # the temporal family's columns
    assert same["tst_lpips"] == pytest.approx(0.0, abs=1e-7) and same["st_lpips_consecutive"] > 0
    for c in short_clips[:2]:
        f = c.frames[:6]
        ref = stlpips.consecutive(f)
        t = [np.abs(stlpips.consecutive(add_flicker(f, a, seed=2)) - ref).mean() for a in FLICKER]  # tST-LPIPS
        print(f"{c.sample_id} flicker {FLICKER}: tST-LPIPS {np.round(t, 4)}")
        assert _rising(t), t
    # frames of different people in turn move far more than a clip does
    mixed = interleave([c.frames[:6] for c in short_clips[:2]], 6)
    assert stlpips.consecutive(mixed).mean() > 3 * stlpips.consecutive(short_clips[0].frames[:6]).mean()


def test_mexkit_eval_reports_st_lpips_and_tst_lpips_by_default(tmp_path):
    from mexkit.cli import main

    rc = main(["eval", "--fake", "corpus", "--real", "corpus", "--families", "perceptual,temporal", "--max-clips", "1",
               "--workers", "1", "--no-progress", "--report", str(tmp_path / "r.html")])
    assert rc == 0
    csv = tmp_path / "r_csv"
    perceptual, temporal = pd.read_csv(csv / "perceptual.csv"), pd.read_csv(csv / "temporal.csv")
    assert "st_lpips" in perceptual and perceptual["st_lpips"].notna().all()
    fake = temporal[temporal["set"] == "fake"]
    assert "tst_lpips" in fake and fake["tst_lpips"].notna().all() and "st_lpips_consecutive" in temporal
    html = (tmp_path / "r.html").read_text()
    assert "ST-LPIPS alex" in html and "left out: no LPIPS backbone" not in html
