"""`mexkit demo`: its study step goes through the library (`mexkit.recog.run_study`) and its report
through HtmlReport's public API, on real corpus clips and warp clips of the real corpus faces."""
from __future__ import annotations

import inspect
import re

import pandas as pd
import pytest

from mexkit import demo


@pytest.fixture(scope="module")
def warp_clips(tmp_path_factory):
    """The demo's warp set: the faces the demo animates (its neutral corpus faces and webcam frame, the latter
    declared outside the real set) once per class, as `generate_all` writes it."""
    from mexkit.eval import HtmlReport
    from mexkit.synth import generate_dataset, load_generator

    out = tmp_path_factory.mktemp("demo") / "synthetic" / "warp"
    faces = demo.neutral_corpus_faces(HtmlReport("faces"))
    generate_dataset(load_generator("warp"), faces, out, classes=demo.CLASSES, per_face=demo.PER_FACE,
                     intensity=demo.INTENSITY, seed=0, progress=False)
    return out


def test_demo_calls_the_library_not_the_cli_nor_report_internals():
    source = inspect.getsource(demo)
    assert "mexkit.cli" not in source and "cli_main" not in source
    assert not re.search(r"\.(_?parts|_headings)\b", source)  # the report is built through its methods only


def test_study_step_matches_a_direct_run_study(warp_clips, tmp_path, monkeypatch):
    """The demo's study (one fast model here) writes the same summary as run_study called directly, and its
    report section shows the pooled and per-fold tables."""
    from mexkit.eval import HtmlReport
    from mexkit.recog import LBPTOPSVM, SampleSet, run_study

    feature = demo.study_models()["lbptop_svm"][1]
    monkeypatch.setattr(demo, "study_models", lambda: {"lbptop_svm": (LBPTOPSVM(C=1.0, kernel="linear"), dict(feature))})
    report = HtmlReport("demo test")
    summary = demo.augmentation_study(warp_clips, tmp_path, report, n_boot=200)
    assert summary is not None and report.sections == ["4. Augmentation study"]
    written = pd.read_csv(tmp_path / "study" / "study_summary.csv")
    folds = pd.read_csv(tmp_path / "study" / "study_folds.csv")
    assert (tmp_path / "study" / "lbptop_svm" / "folds_uf1.png").exists()

    real = SampleSet.from_corpus()
    direct = run_study(real, SampleSet.from_manifest(warp_clips, classes=real.classes), LBPTOPSVM(C=1.0, kernel="linear"),
                       dict(feature), seed=0, n_boot=200, name="lbptop_svm", progress=False)
    assert written["metric"].tolist() == direct.summary["metric"].tolist() == ["uf1", "uar"]
    for col in ("real", "augmented", "diff", "ci_low", "ci_high"):
        assert written[col].to_numpy() == pytest.approx(direct.summary[col].to_numpy(), abs=1e-12), col
    assert folds["fold"].tolist() == direct.folds["fold"].tolist() and len(folds) == len(real.subjects)
    assert (folds["n_train_synthetic"] > 0).all()
    html = report.render()
    assert "pooled UF1 / UAR, real vs real + synthetic" in html and "per fold" in html and 'alt="lbptop_svm folds"' in html
    # the reader's table: real, real + synthetic, effect with its interval, verdict; the rest linked in the CSVs
    assert "<th>real + synthetic</th>" in html and "<th>effect [95 % interval]</th>" in html and "<th>verdict</th>" in html
    assert "min_attainable_p" not in html and 'href="study/study_summary.csv"' in html and 'href="study/study_folds.csv"' in html


def test_demo_runs_with_no_arguments_parser():
    """`mexkit demo` takes no required argument: the parser fills every default."""
    from mexkit.cli import build_parser

    args = build_parser().parse_args(["demo"])
    assert args.func is demo.run_demo and args.out is None and not args.no_study
    assert args.generators.split(",") == list(demo.GENERATORS)


def test_does_augmentation_help_section_runs_both_arms_on_the_labelled_stand_in_set(tmp_path, monkeypatch):
    """The demo's cross-fitted section (shrunk here: 8 pseudo-subjects, 8 training steps): both arms on the
    same groups and folds, the report says it is the stand-in set, and the summary equals the saved files."""
    from mexkit.eval import HtmlReport

    monkeypatch.setitem(demo.STANDIN, "num_subjects", 8)
    monkeypatch.setitem(demo.STANDIN, "mocogan_steps", 8)
    report = HtmlReport("demo test")
    summary = demo.does_augmentation_help(tmp_path, report, n_boot=100)
    assert report.sections == ["5. Does augmentation help? (stand-in set)"]
    assert summary["generator"].tolist() == ["warp", "warp", "mocogan", "mocogan"]
    assert (summary.groupby("metric")["real"].nunique() == 1).all()  # one real-only arm: identical folds and seeds
    root = tmp_path / "augmentation"
    assert (root / "warp" / "cross_fit" / "groups.json").read_text() == (root / "mocogan" / "cross_fit" / "groups.json").read_text()
    assert (root / "mocogan" / "cross_fit" / "group1" / "generator" / "config.json").is_file()
    saved = pd.read_csv(root / "summary.csv")
    assert saved["diff"].to_numpy() == pytest.approx(summary["diff"].to_numpy())
    html = report.render()
    assert "STAND-IN" in html and "not on micro-expression data" in html and 'alt="mocogan folds"' in html
    assert "<th>real + synthetic</th>" in html and "n_folds_nonzero" not in html and 'href="augmentation/summary.csv"' in html
