"""`mexkit recog fit` / `mexkit recog predict` end to end: the shipped recipe refitted from a clean state
gives the shipped mexkit-demo model; predict reads every kind of --clips, sends unusable clips to
rejects.csv and predicts the rest; the shipped model loads and predicts with no training."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mexkit.cli import main
from mexkit.datasets.au_targets import MEB_AUS
from mexkit.recog.kept import PRETRAINED_DIR, load_recognizer

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "datasets" / "corpus"
CLASSES = ["negative", "positive", "surprise"]


@pytest.fixture(scope="module")
def refit(tmp_path_factory):
    """The shipped recipe fitted again from nothing (its synthetic clips written anew under tmp)."""
    tmp = tmp_path_factory.mktemp("fit")
    argv = ["recog", "fit", "--config", "recog_mexkit_demo", "--out", str(tmp / "models" / "demo"), "--calibration", "sigmoid", "--au-head",
            "--set", f"synthetic.generate.out={tmp / 'synthetic'}", "--set", f"out={tmp / 'run'}", "--quiet"]
    assert main(argv) == 0
    return tmp


def test_the_recipe_refitted_from_a_clean_state_is_the_shipped_model(refit, tmp_path):
    folder = refit / "models" / "demo"
    assert {"config.json", "README.md", "class.skops", "aus.skops", "training_rows.csv"} <= {p.name for p in folder.iterdir()}
    assert main(["recog", "predict", "--model", str(folder), "--clips", "corpus", "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    assert main(["recog", "predict", "--clips", "corpus", "--out", str(tmp_path / "shipped.csv"), "--quiet"]) == 0  # default mexkit-demo
    ours, shipped = pd.read_csv(tmp_path / "p.csv", keep_default_na=False), pd.read_csv(tmp_path / "shipped.csv", keep_default_na=False)
    assert list(ours.columns) == ["sample_id", "input", "label", "predicted", *[f"prob_{c}" for c in CLASSES], "aus_predicted",
                                  *[f"au_prob_{a}" for a in MEB_AUS]]
    np.testing.assert_allclose(ours.filter(like="au_prob_").to_numpy(), shipped.filter(like="au_prob_").to_numpy(), rtol=1e-9, atol=1e-12)
    assert ours["aus_predicted"].tolist() == shipped["aus_predicted"].tolist()
    assert len(ours) == 7 and ours["sample_id"].tolist() == pd.read_csv(CORPUS / "manifest.csv")["sample_id"].tolist()
    assert ours["predicted"].tolist() == shipped["predicted"].tolist()
    cls = [f"prob_{c}" for c in CLASSES]
    np.testing.assert_allclose(ours[cls].to_numpy(), shipped[cls].to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours[cls].sum(axis=1), 1.0, atol=1e-9)
    cfg = json.loads((folder / "config.json").read_text())
    ref = json.loads((PRETRAINED_DIR / "mexkit-demo" / "config.json").read_text())
    assert cfg["input"] == ref["input"] and cfg["heads"]["class"]["calibration"] == ref["heads"]["class"]["calibration"]
    assert cfg["heads"]["aus"]["calibration"] == ref["heads"]["aus"]["calibration"]
    assert cfg["training"]["rows_per_class"] == ref["training"]["rows_per_class"]
    assert not (tmp_path / "rejects.csv").exists() or len(pd.read_csv(tmp_path / "rejects.csv")) == 0


def test_the_shipped_model_is_small_safe_honest_and_predicts(corpus):
    folder = PRETRAINED_DIR / "mexkit-demo"
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 5_000_000
    assert not [p for p in folder.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".bin")]
    rec = load_recognizer("mexkit-demo")
    table = rec.predict_clips(corpus.clips)
    assert len(table) == len(corpus.clips) and set(table["predicted"]) <= set(CLASSES) and rec.score_kind == "prob"
    assert rec.au_names == MEB_AUS and table[[f"au_prob_{a}" for a in MEB_AUS]].to_numpy().max() <= 1.0
    card = (folder / "README.md").read_text()
    assert "never saw a real micro-expression dataset" in card
    # the card's held-out figures are the ones the fit computed and wrote (heldout/pooled.csv), not typed in
    pooled = pd.read_csv(folder / "heldout" / "pooled.csv")
    held = rec.training["heldout"]
    assert held["folds"] == len(rec.training["subjects"]) == 11 and held["folds_skipped"] == 0
    for row, kept in zip(pooled.to_dict("records"), held["pooled"]):
        assert row["rows"] == kept["rows"] and row["uf1"] == pytest.approx(kept["uf1"])
        assert f"| {row['rows']} | {row['n']} | {row['uf1']:.3f} | {row['uar']:.3f} |" in card
    aus = pd.read_csv(folder / "heldout" / "pooled_aus.csv").set_index("rows").loc["all"]
    assert held["pooled_aus"][-1]["au_f1"] == pytest.approx(aus["au_f1"])
    assert f"| all | {int(aus['n'])} | {aus['au_f1']:.3f} | {aus['au_macro_f1']:.3f} | {aus['all_on_au_f1']:.3f} |" in card
    preds = pd.read_csv(folder / "heldout" / "predictions.csv")
    assert len(preds) == rec.training["rows"]  # every training row was predicted once, by a model that never saw its person
    for person, part in preds.groupby("person"):
        assert (part["person"] == person).all()
    folds = pd.read_csv(folder / "heldout" / "per_fold.csv")
    rows = pd.read_csv(folder / "training_rows.csv", keep_default_na=False)
    people = np.where(rows["synthetic"], rows["source_subject"], rows["subject"])
    for f in folds.itertuples():
        assert f.n_train == int((people != f.fold).sum()) and f.n_test == int((people == f.fold).sum())


def test_predict_reads_every_kind_of_input_and_rejects_what_it_cannot_use(refit, media, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    for sid in ("single_face_0015", "WolfgangLanger_Pexels_0130"):
        shutil.copytree(CORPUS / "clips" / sid, clips / sid)
    (clips / "one_frame").mkdir()
    shutil.copy(CORPUS / "clips" / "single_face_0015" / "00000.jpg", clips / "one_frame" / "00000.jpg")
    shutil.copy(media / "no_face.mp4", clips / "no_face.mp4")
    out = tmp_path / "pred" / "p.csv"
    assert main(["recog", "predict", "--clips", str(clips), "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert table["sample_id"].tolist() == ["single_face_0015", "WolfgangLanger_Pexels_0130"]
    assert table["input"].tolist() == [str(clips / "single_face_0015"), str(clips / "WolfgangLanger_Pexels_0130")]
    rejects = pd.read_csv(out.parent / "rejects.csv")
    assert sorted(Path(f).name for f in rejects["file"]) == ["no_face.mp4", "one_frame"]
    assert rejects.set_index(rejects["file"].map(lambda f: Path(f).name)).loc["one_frame", "reason"].startswith("clip has 1 frame")
    assert "no face" in rejects.set_index(rejects["file"].map(lambda f: Path(f).name)).loc["no_face.mp4", "reason"]
    # the same clip folder alone, read as one clip, scores as it did inside the folder of clips
    assert main(["recog", "predict", "--clips", str(clips / "single_face_0015"), "--out", str(tmp_path / "one.csv"), "--quiet"]) == 0
    one = pd.read_csv(tmp_path / "one.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(one.drop(columns="input"), table.iloc[:1].drop(columns="input"))
    # a writer's manifest with a garbage line: that line goes to rejects.csv, the rows are predicted
    manifest = pd.read_csv(refit / "synthetic" / "manifest.csv", keep_default_na=False).head(5)
    for rel in manifest["path"]:
        shutil.copytree(refit / "synthetic" / rel, tmp_path / "m" / rel)
    text = manifest.to_csv(index=False).splitlines()
    (tmp_path / "m" / "manifest.csv").write_text("\n".join([*text[:3], "garbage,line", *text[3:]]) + "\n")
    assert main(["recog", "predict", "--clips", str(tmp_path / "m"), "--out", str(tmp_path / "m.csv"), "--quiet"]) == 0
    got = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    assert got["sample_id"].astype(str).tolist() == manifest["sample_id"].astype(str).tolist()
    assert (got["label"] == manifest["label"]).all()
    assert "line 4" in pd.read_csv(tmp_path / "rejects.csv")["reason"].iloc[0]


def test_a_short_video_is_aligned_once_and_predicted(media, tmp_path):
    out = tmp_path / "v.csv"
    assert main(["recog", "predict", "--clips", str(media / "single_face.mp4"), "--out", str(out), "--quiet"]) == 0
    row = pd.read_csv(out).iloc[0]
    assert row["sample_id"] == "single_face" and row["input"] == str(media / "single_face.mp4")
    assert row[[f"prob_{c}" for c in CLASSES]].sum() == pytest.approx(1.0)


def test_clips_cut_from_a_long_video_predict_through_the_library(mediapipe_pipeline):
    """What the detector does: windows of a long video (any length, any fps), aligned once on their
    first frame at 128 px — or at 256 px, resized to the model's 128 — predicted in one call."""
    import cv2

    from mexkit.clip import Clip
    from mexkit.datasets.corpus import webcam_videos
    from mexkit.errors import MexkitInputError
    from mexkit.video_io import iter_video

    frames = list(iter_video(webcam_videos()[0], stop=40))  # the first 40 frames only (the video is read as a stream)
    rec = load_recognizer("mexkit-demo")
    windows = [Clip(np.stack(frames[0:16]), fps=25.0, sample_id="w0"), Clip(np.stack(frames[10:17]), fps=25.0, sample_id="w1"),
               Clip(np.stack(frames[20:40]), fps=12.5, sample_id="w2", onset=0, apex=5, offset=19)]
    aligned = [mediapipe_pipeline.align_clip(w) for w in windows[:2]] + [mediapipe_pipeline.align_clip(windows[2], resolution=256)]
    table = rec.predict_clips(aligned)
    assert table["sample_id"].tolist() == ["w0", "w1", "w2"] and list(table.columns) == rec.columns
    big = rec.predict_clips([aligned[2]])
    resized = np.stack([cv2.resize(f, (128, 128), interpolation=cv2.INTER_AREA) for f in aligned[2].frames])
    small = rec.predict_clips([aligned[2].with_frames(resized)])
    pd.testing.assert_frame_equal(big, small)  # a 256-px crop is resized to the model's 128 px, as said
    with pytest.raises(MexkitInputError, match="1 frame"):
        rec.predict_clips([Clip(frames[0][None], fps=25.0, sample_id="single")])


def test_the_meb_au_recipe_fits_an_au_only_model_on_the_six_releases(corpus, tmp_path):
    """configs/recog_meb_aus_ststnet.yaml, its roots pointed at fixture trees shaped like the six releases
    (real corpus frames; a short schedule, a small flow grid, no alignment): the folder holds only an AU head,
    its card names the datasets, and predict gives AU probabilities and no class column."""
    import sys

    import cv2

    sys.path.insert(0, str(ROOT / "tests" / "datasets"))
    import fixture_trees as ft

    by_subject = {}
    for c in corpus.clips:
        by_subject.setdefault(c.subject, c)
    seqs = [np.stack([cv2.resize(f, (96, 96), interpolation=cv2.INTER_AREA) for f in c.frames]) for _, c in sorted(by_subject.items())]
    names = ("casme", "casme2", "samm", "mmew", "fourdme", "casme3")
    roots = {n: getattr(ft, f"build_{n}")(tmp_path / "releases" / n, seqs).root for n in names}
    argv = ["recog", "fit", "--config", "recog_meb_aus_ststnet", "--out", str(tmp_path / "meb"), "--calibration", "sigmoid",
            "--calibration-folds", "3", "--quiet", "--set", "data.align=null", "--set", "model.init_args.epochs=5",
            "--set", "model.init_args.input_size=14", "--set", "feature.size=14", "--set", "feature.method=dis",
            "--set", f"out={tmp_path / 'run'}", *[x for n, r in roots.items() for x in ("--set", f"data.datasets.{n}={r}")]]
    assert main(argv) == 0  # (whole fixture frames, align: null: the fit says so — the raw-frames warning of recog loso)
    rec = load_recognizer(tmp_path / "meb")
    assert set(rec.heads) == {"aus"} and rec.classes == () and rec.au_names == MEB_AUS and rec.score_kind == "prob"
    assert (tmp_path / "meb" / "aus.safetensors").is_file() and not (tmp_path / "meb" / "class.safetensors").exists()
    assert set(rec.training["datasets"]) == set(names) and "never saw a real micro-expression" not in (tmp_path / "meb" / "README.md").read_text()
    assert main(["recog", "predict", "--model", str(tmp_path / "meb"), "--clips", "corpus", "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    table = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert list(table.columns) == ["sample_id", "input", "label", "aus_predicted", *[f"au_prob_{a}" for a in MEB_AUS]]
    assert len(table) == 7 and table[[f"au_prob_{a}" for a in MEB_AUS]].to_numpy().max() <= 1.0
