"""The evaluation report's layout: real beside synthetic, motion plots, confusion matrices, notes."""
from __future__ import annotations

import re

import pytest

from mexkit.eval.eval_report import build_eval_report, side_by_side
from mexkit.eval.suite import EvalSuite


@pytest.fixture(scope="module")
def result(corpus):
    real = [c for c in corpus.clips if c.label][:3]
    fake = [c.with_frames(c.frames[::2], onset=c.onset // 2, apex=c.apex // 2, offset=(c.num_frames - 1) // 2,
                          landmarks=c.landmarks[::2], sample_id=f"fast_{c.sample_id}") for c in real]  # same clips at 2× speed
    return EvalSuite(["motion", "expression", "distribution"], progress=False, examples=1).run(fake, real)


def test_side_by_side_summary(result):
    wide = side_by_side(result.summary)
    assert list(wide.columns) == ["family", "metric", "real", "synthetic"]
    row = wide[(wide["family"] == "motion") & (wide["metric"] == "duration_half_ms")].iloc[0]
    real_ms, fake_ms = (float(v.split(" ± ")[0]) for v in (row["real"], row["synthetic"]))
    assert fake_ms == pytest.approx(real_ms / 2, rel=0.25)  # 2× speed halves the duration
    assert row["real"].endswith("(3)")


def test_report_sections_plots_and_matrices(result, tmp_path):
    path = build_eval_report(result, title="Eval test", real_name="corpus", fake_name="fast").save(tmp_path / "r.html")
    html = path.read_text()
    for heading in ("Overview", "Synthetic clips: samples", "Real clips: samples", "Summary", "Motion metrics",
                    "Expression metrics", "Distribution", "Timings"):
        assert f"<h2>{heading}</h2>" in html, heading
    assert 'alt="motion profiles"' in html and 'alt="micro-ness"' in html
    matrices = re.findall(r'alt="(blendshapes|fer mini-Xception): target vs predicted \((real|synthetic)\)"', html)
    assert len(matrices) == 4
    assert "cas_uf1" in html and 'alt="CAS: real clips, classifier trained on synthetic"' in html  # two classes: CAS runs
    assert "Fréchet" in html and "frechet_distance" in html
    summary = html.split("<h2>Summary</h2>", 1)[1].split("</table>", 1)[0]
    assert "<th>real</th><th>synthetic</th>" in summary


def test_report_says_why_a_family_is_missing(corpus, tmp_path):
    one_class = [c for c in corpus.clips if c.label == "positive"][:2]
    res = EvalSuite(["perceptual", "distribution"], progress=False, examples=0).run(one_class, one_class)
    html = build_eval_report(res).save(tmp_path / "r.html").read_text()
    assert "CAS needs labelled synthetic clips of ≥ 2 classes" in html
    assert "st_lpips" in html and "ST-LPIPS" in html  # the default perceptual distance, named as such


@pytest.mark.parametrize("width", [1280, 1400])
def test_eval_report_fits_a_laptop_window(result, width, tmp_path, chromium_layout, assert_fits_the_window):
    """The evaluation report of real corpus clips at laptop width (chromium_layout: skips where Chromium is
    absent): its per-clip expression table (a column per blendshape group and fer class) is wider than the
    window and scrolls inside its own box, and nothing makes the page itself wider than the window."""
    path = build_eval_report(result, title="Eval test", real_name="corpus", fake_name="fast").save(tmp_path / "r.html")
    m = chromium_layout(path, width)
    assert_fits_the_window(m, width)
    assert max(t["width"] for t in m["tables"]) > width
    assert all(b["clientWidth"] <= m["bodyWidth"] for b in m["boxes"])
    assert all(i["width"] <= m["bodyWidth"] for i in m["images"])
