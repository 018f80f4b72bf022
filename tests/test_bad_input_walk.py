"""Every command's bad arguments and bad paths (issue 18, "Bad input"): exit status 2, a message naming the
file at fault and the fix, no traceback, and nothing written — checked up front, before any heavy work.
A garbage line in a manifest is rejected (or refused) by manifest file and line number."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from mexkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "datasets" / "corpus"
FACE = CORPUS / "faces" / "corpus_f13__15-f13-anc-ph.png"
CLIP = CORPUS / "clips" / "single_face_0015"
MANIFEST = CORPUS / "manifest.csv"


def _garbage_manifest(folder: Path) -> Path:
    """The corpus manifest with a line of garbage (line 4) and a non-numeric onset (line 5); clips/ links to
    the corpus clips so the paths resolve."""
    folder.mkdir()
    (folder / "clips").symlink_to(CORPUS / "clips")
    lines = MANIFEST.read_text().splitlines()
    bad_onset = lines[3].split(",")
    bad_onset[5] = "two"
    (folder / "manifest.csv").write_text("\n".join([*lines[:3], "oops,this is,not a,manifest row", ",".join(bad_onset), *lines[4:]]) + "\n")
    return folder / "manifest.csv"


@pytest.fixture
def bad(tmp_path):
    """Paths for the cases: a file, a folder, a pickle, broken YAML, a damaged manifest."""
    (tmp_path / "afile.txt").write_text("x")
    (tmp_path / "adir").mkdir()
    with open(tmp_path / "model.pkl", "wb") as f:
        pickle.dump({"net": object}, f)
    (tmp_path / "broken.yaml").write_text("data: {corpus: true\n  model: [\n")
    _garbage_manifest(tmp_path / "garbage")
    (tmp_path / "truth.csv").write_text("dataset,video,subject,onset,apex,offset,type,emotion\nd,other_video,,0,1,2,ME,\n")
    (tmp_path / "pred.csv").write_text("video,subject,onset,apex,offset,type,score\nsingle_face,,0,1,2,ME,0.5\n")
    (tmp_path / "garbage_pred.csv").write_text("video,subject,onset,apex,offset,type,score\nsingle_face,,0,1,2,ME,0.5\nsingle_face,0,1\n")
    return {"truth": tmp_path / "truth.csv", "pred": tmp_path / "pred.csv", "garbage_pred": tmp_path / "garbage_pred.csv","tmp": tmp_path, "file": tmp_path / "afile.txt", "dir": tmp_path / "adir", "pkl": tmp_path / "model.pkl",
            "yaml": tmp_path / "broken.yaml", "garbage": tmp_path / "garbage" / "manifest.csv",
            "face": FACE, "clip": CLIP, "corpus": CORPUS, "manifest": MANIFEST}


GENERIC = ["--dataset", "generic", "--root", "{corpus}", "--annotations", "{manifest}"]
EVAL = ["eval", "--fake", "corpus", "--max-clips", "1", "--workers", "1", "--no-progress"]

# (id, argv, the text naming the file at fault)
CASES = [
    ("align: missing input", ["align", "{tmp}/nosuch.mp4", "--out", "{tmp}/o"], "{tmp}/nosuch.mp4"),
    ("align: --out is a file", ["align", "{face}", "--out", "{file}"], "{file}"),
    ("align: --out under a file", ["align", "{face}", "--out", "{file}/sub/out"], "{file}"),
    ("align: not a video or an image", ["align", "{file}", "--out", "{tmp}/o"], "{file}"),
    ("align: --batch on a file", ["align", "--batch", "{face}", "--out", "{tmp}/o"], "{face}"),
    ("align: no FAN weights", ["align", "{face}", "--out", "{tmp}/o", "--backend", "face-alignment", "--weights-dir", "{tmp}/nofan"], "{tmp}/nofan"),
    ("generate: missing faces", ["generate", "--faces", "{tmp}/nofaces", "--out", "{tmp}/g", "--no-progress"], "{tmp}/nofaces"),
    ("generate: --out is a file", ["generate", "--faces", "corpus", "--out", "{file}", "--no-progress"], "{file}"),
    ("generate: --out under a file", ["generate", "--faces", "corpus", "--out", "{file}/sub", "--no-progress"], "{file}/sub"),
    ("generate: generator is a file", ["generate", "--generator", "{file}", "--faces", "corpus", "--out", "{tmp}/g", "--no-progress"], "{file}"),
    ("generate: faces is not an image", ["generate", "--faces", "{file}", "--out", "{tmp}/g", "--no-progress"], "{file}"),
    ("generate: driving clip is not a video", ["generate", "--faces", "corpus", "--out", "{tmp}/g", "--driving", "{file}", "--no-progress"], "{file}"),
    ("generate: missing driving clip", ["generate", "--faces", "corpus", "--out", "{tmp}/g", "--driving", "{tmp}/drive.mp4", "--no-progress"], "{tmp}/drive.mp4"),
    ("eval: missing --fake", ["eval", "--fake", "{tmp}/nofake", "--report", "{tmp}/e/r.html"], "{tmp}/nofake"),
    ("eval: missing --real", [*EVAL, "--real", "{tmp}/noreal", "--report", "{tmp}/e/r.html"], "{tmp}/noreal"),
    ("eval: --fake is not a clip set", ["eval", "--fake", "{yaml}", "--report", "{tmp}/e/r.html"], "{yaml}"),
    ("eval: missing --identity-model", [*EVAL, "--report", "{tmp}/e/r.html", "--identity-model", "{tmp}/id.onnx"], "{tmp}/id.onnx"),
    ("eval: --report is a folder", [*EVAL, "--report", "{dir}"], "{dir}"),
    ("eval: --report under a file", [*EVAL, "--report", "{file}/sub/r.html"], "{file}"),
    ("eval: --out is a file", [*EVAL, "--report", "{tmp}/e/r.html", "--out", "{file}"], "{file}"),
    ("eval: --out under a file", [*EVAL, "--report", "{tmp}/e/r.html", "--out", "{file}/sub"], "{file}"),
    ("eval: pickle as --lpips-backbone", [*EVAL, "--report", "{tmp}/e/r.html", "--families", "perceptual", "--lpips-backbone", "{pkl}"], "{pkl}"),
    ("eval: missing --lpips-backbone", [*EVAL, "--report", "{tmp}/e/r.html", "--lpips-backbone", "{tmp}/alex.pth"], "{tmp}/alex.pth"),
    ("eval: missing --fid-model", [*EVAL, "--report", "{tmp}/e/r.html", "--fid-model", "{tmp}/inception.pth"], "{tmp}/inception.pth"),
    ("eval: unknown family", [*EVAL, "--report", "{tmp}/e/r.html", "--families", "identity,bogus"], "bogus"),
    ("datasets check: missing --root", ["datasets", "check", "--dataset", "casme2", "--root", "{tmp}/noroot"], "{tmp}/noroot"),
    ("datasets check: missing --annotations", ["datasets", "check", "--dataset", "generic", "--root", "{corpus}", "--annotations", "{tmp}/no.csv", "--quick"], "{tmp}/no.csv"),
    ("datasets check: --rejects is a folder", ["datasets", "check", *GENERIC, "--quick", "--rejects", "{dir}"], "{dir}"),
    ("datasets check: --rejects under a file", ["datasets", "check", *GENERIC, "--quick", "--rejects", "{file}/sub/rejects.csv"], "{file}"),
    ("datasets manifest: --out is a folder", ["datasets", "manifest", *GENERIC, "--out", "{dir}"], "{dir}"),
    ("datasets manifest: --out under a file", ["datasets", "manifest", *GENERIC, "--out", "{file}/sub/out.csv"], "{file}"),
    ("datasets manifest: annotations of no known type", ["datasets", "manifest", "--dataset", "generic", "--root", "{corpus}",
                                                        "--annotations", "{yaml}", "--out", "{tmp}/m.csv"], "{yaml}"),
    ("datasets manifest: missing --root", ["datasets", "manifest", "--dataset", "samm", "--root", "{tmp}/noroot", "--out", "{tmp}/m.csv"], "{tmp}/noroot"),
    ("datasets composite: missing --casme2", ["datasets", "composite", "--casme2", "{tmp}/nocasme", "--out", "{tmp}/c.csv"], "{tmp}/nocasme"),
    ("datasets composite: --smic is a file", ["datasets", "composite", "--smic", "{file}", "--out", "{tmp}/c.csv"], "{file}"),
    ("datasets composite: --out is a folder", ["datasets", "composite", "--smic", "{corpus}", "--out", "{dir}"], "{dir}"),
    ("datasets splits: missing --manifest", ["datasets", "splits", "--manifest", "{tmp}/no.csv", "--out", "{tmp}/s.json"], "{tmp}/no.csv"),
    ("datasets splits: not a manifest", ["datasets", "splits", "--manifest", "{file}", "--out", "{tmp}/s.json"], "{file}"),
    ("datasets splits: garbage line", ["datasets", "splits", "--manifest", "{garbage}", "--out", "{tmp}/s.json"], "{garbage}: line 4"),
    ("datasets splits: bad --k", ["datasets", "splits", "--manifest", "{manifest}", "--kind", "kfold", "--k", "40", "--out", "{tmp}/s.json"], "{manifest}"),
    ("datasets splits: --out is a folder", ["datasets", "splits", "--manifest", "{manifest}", "--out", "{dir}"], "{dir}"),
    ("datasets splits: --out under a file", ["datasets", "splits", "--manifest", "{manifest}", "--out", "{file}/sub/s.json"], "{file}"),
    ("prepare: missing --manifest", ["prepare", "--manifest", "{tmp}/no.csv", "--root", "{corpus}", "--out", "{tmp}/p"], "{tmp}/no.csv"),
    ("prepare: missing --root", ["prepare", "--manifest", "{manifest}", "--root", "{tmp}/noroot", "--out", "{tmp}/p"], "{tmp}/noroot"),
    ("prepare: --out is a file", ["prepare", "--dataset", "corpus", "--out", "{file}"], "{file}"),
    ("prepare: --out under a file", ["prepare", "--dataset", "corpus", "--out", "{file}/sub"], "{file}"),
    ("recog loso: missing --config", ["recog", "loso", "--config", "{tmp}/no.yaml"], "{tmp}/no.yaml"),
    ("recog loso: broken YAML", ["recog", "loso", "--config", "{yaml}"], "{yaml}"),
    ("recog loso: --out is a file", ["recog", "loso", "--config", "recog_ststnet_corpus", "--out", "{file}", "--quiet"], "{file}"),
    ("recog loso: --out under a file", ["recog", "loso", "--config", "recog_ststnet_corpus", "--out", "{file}/sub", "--quiet"], "{file}"),
    ("recog loso: missing data.manifest", ["recog", "loso", "--config", "recog_ststnet_corpus", "--set", "data.corpus=false",
                                           "--set", "data.manifest={tmp}/no.csv", "--out", "{tmp}/l", "--quiet"], "{tmp}/no.csv"),
    ("recog loso: unknown --set key", ["recog", "loso", "--config", "recog_ststnet_corpus", "--set", "bogus.key=1", "--out", "{tmp}/l"],
     "recog_ststnet_corpus.yaml"),
    ("recog loso: missing data.datasets root", ["recog", "loso", "--config", "recog_meb_au", "--set", "data.datasets.casme={tmp}/noCASME",
                                                "--out", "{tmp}/l", "--quiet"], "{tmp}/noCASME"),
    ("recog loso: unknown dataset in data.datasets", ["recog", "loso", "--config", "recog_meb_au", "--set", "data.datasets.casme9={dir}",
                                                      "--out", "{tmp}/l", "--quiet"], "recog_meb_au.yaml: data.datasets: unknown dataset 'casme9'"),
    ("recog fit: missing --config", ["recog", "fit", "--config", "{tmp}/no.yaml", "--out", "{tmp}/m"], "{tmp}/no.yaml"),
    ("recog fit: --out is a file", ["recog", "fit", "--config", "recog_mexkit_demo", "--out", "{file}", "--quiet"], "{file}"),
    ("recog fit: --out under a file", ["recog", "fit", "--config", "recog_mexkit_demo", "--out", "{file}/sub/m", "--quiet"], "{file}"),
    ("recog fit: --out is a folder that is not a model", ["recog", "fit", "--config", "recog_mexkit_demo", "--out", "{tmp}/garbage", "--quiet"],
     "{tmp}/garbage: --out: exists and is not a model folder"),
    ("recog fit: missing --synthetic", ["recog", "fit", "--config", "recog_mexkit_demo", "--out", "{tmp}/m", "--synthetic", "{tmp}/nosyn"],
     "{tmp}/nosyn"),
    ("recog fit: missing --loso-results", ["recog", "fit", "--config", "recog_mexkit_demo", "--out", "{tmp}/m", "--loso-results",
                                           "{tmp}/noloso"], "{tmp}/noloso"),
    ("recog fit: several recognizers, none chosen", ["recog", "fit", "--config", "recog_megc2019", "--out", "{tmp}/m"],
     "recog_megc2019.yaml: the config has 3 recognizers"),
    ("recog predict: missing --clips", ["recog", "predict", "--clips", "{tmp}/noclips", "--out", "{tmp}/p.csv"], "{tmp}/noclips"),
    ("recog predict: --clips is not a manifest or a video", ["recog", "predict", "--clips", "{yaml}", "--out", "{tmp}/p.csv"], "{yaml}"),
    ("recog predict: --clips is an empty folder", ["recog", "predict", "--clips", "{dir}", "--out", "{tmp}/p.csv"], "{dir}"),
    ("recog predict: --out is a folder", ["recog", "predict", "--clips", "corpus", "--out", "{dir}"], "{dir}"),
    ("recog predict: --out is a file it did not write", ["recog", "predict", "--clips", "corpus", "--out", "{file}"], "{file}"),
    ("recog predict: --out under a file", ["recog", "predict", "--clips", "corpus", "--out", "{file}/sub/p.csv"], "{file}"),
    ("recog predict: missing --model", ["recog", "predict", "--model", "{tmp}/nomodel", "--clips", "corpus", "--out", "{tmp}/p.csv"],
     "{tmp}/nomodel"),
    ("recog predict: --model is not a model folder", ["recog", "predict", "--model", "{tmp}/garbage", "--clips", "corpus", "--out",
                                                      "{tmp}/p.csv"], "{tmp}/garbage: not a model folder (no config.json)"),
    ("study: missing --config", ["study", "--config", "{tmp}/no.yaml"], "{tmp}/no.yaml"),
    ("study: missing --synthetic", ["study", "--config", "study_corpus_warp", "--synthetic", "{tmp}/nosyn", "--out", "{tmp}/st", "--quiet"], "{tmp}/nosyn"),
    ("study: --out is a file", ["study", "--config", "study_corpus_warp", "--out", "{file}", "--quiet"], "{file}"),
    ("spot: missing input", ["spot", "{tmp}/nosuch.mp4", "--out", "{tmp}/s"], "{tmp}/nosuch.mp4"),
    ("spot: frame folder without --fps", ["spot", "{dir}", "--out", "{tmp}/s"], "{dir}: a folder of frames has no frame rate. Fix: give it with --fps"),
    ("spot: --out is a file", ["spot", "{corpus}/media/single_face.mp4", "--out", "{file}"], "{file}"),
    ("spot: not a video", ["spot", "{file}", "--out", "{tmp}/s"], "{file}"),
    ("spot: a video without any face", ["spot", "{corpus}/media/no_face.mp4", "--out", "{tmp}/s"], "no_face.mp4: no face found in any of its"),
    ("detect: missing input", ["detect", "{tmp}/nosuch.mp4", "--out", "{tmp}/d"], "{tmp}/nosuch.mp4"),
    ("detect: frame folder without --fps", ["detect", "{dir}", "--out", "{tmp}/d"], "{dir}: a folder of frames has no frame rate"),
    ("spot: --fps inf", ["spot", "{clip}", "--fps", "inf", "--out", "{tmp}/s"], "--fps must be a positive, finite frame rate, got inf"),
    ("detect: --out is a file", ["detect", "{corpus}/media/single_face.mp4", "--out", "{file}"], "{file}"),
    ("detect: missing --model", ["detect", "{corpus}/media/single_face.mp4", "--out", "{tmp}/d", "--model", "{tmp}/nomodel"], "{tmp}/nomodel"),
    ("detect: missing --truth", ["detect", "{corpus}/media/single_face.mp4", "--out", "{tmp}/d", "--truth", "{tmp}/no_truth.csv"], "{tmp}/no_truth.csv"),
    ("detect: --truth is not a truth.csv", ["detect", "{corpus}/media/single_face.mp4", "--out", "{tmp}/d", "--truth", "{manifest}"],
     "{manifest}: not a truth.csv: no video, type column"),
    ("detect: --truth names other videos", ["detect", "{corpus}/media/single_face.mp4", "--out", "{tmp}/d", "--truth", "{truth}"],
     "{truth}: inputs name video(s) the truth does not hold: single_face; videos in the inputs: single_face; videos in the truth (truth.csv): other_video"),
    ("detect: a video without any face", ["detect", "{corpus}/media/no_face.mp4", "--out", "{tmp}/d"], "no_face.mp4: no face found in any of its"),
    ("spot score: missing --pred", ["spot", "score", "--pred", "{tmp}/no.csv", "--truth", "{truth}"], "{tmp}/no.csv"),
    ("spot score: --truth is a folder", ["spot", "score", "--pred", "{pred}", "--truth", "{dir}"], "{dir}: --truth: a folder"),
    ("spot score: predictions and truth name different videos", ["spot", "score", "--pred", "{pred}", "--truth", "{truth}"],
     "videos in the predictions: single_face; videos in the truth (truth.csv): other_video"),
    ("spot score: garbage line", ["spot", "score", "--pred", "{garbage_pred}", "--truth", "{truth}"], "{garbage_pred}: line 3"),
    ("spot score: --out is a folder", ["spot", "score", "--pred", "{pred}", "--truth", "{truth}", "--out", "{dir}"], "{dir}"),
    ("insert: missing video", ["insert", "{tmp}/nosuch.mp4", "--out", "{tmp}/i"], "{tmp}/nosuch.mp4"),
    ("insert: not a video", ["insert", "{file}", "--out", "{tmp}/i"], "{file}"),
    ("insert: a folder as the video", ["insert", "{dir}", "--out", "{tmp}/i"], "{dir}"),
    ("insert: --out is a file", ["insert", "{corpus}/media/single_face.mp4", "--out", "{file}"], "{file}"),
    ("insert: --at past the end", ["insert", "{corpus}/media/single_face.mp4", "--out", "{tmp}/i", "--at", "9"],
     "single_face.mp4: --at time 9 s is past the end of the video"),
    ("insert: overlapping --at times", ["insert", "{corpus}/media/single_face.mp4", "--out", "{tmp}/i", "--at", "0.5,0.7"],
     "single_face.mp4: --at times 0.5 s and 0.7 s overlap"),
    ("insert: --at not times", ["insert", "{corpus}/media/single_face.mp4", "--out", "{tmp}/i", "--at", "soon"], "--at 'soon'"),
    ("insert: generator is a file", ["insert", "{corpus}/media/single_face.mp4", "--out", "{tmp}/i", "--generator", "{file}"], "{file}"),
    ("generate --full-frame: the corpus's crops", ["generate", "--full-frame", "--faces", "corpus", "--out", "{tmp}/g", "--no-progress"],
     "corpus: full-frame clips need the original photos"),
    ("generate --full-frame: --out is a file", ["generate", "--full-frame", "--faces", "{corpus}/media/multi_face.jpg", "--out", "{file}",
                                                "--no-progress"], "{file}"),
    ("train: missing --config", ["train", "--config", "{tmp}/no.yaml"], "{tmp}/no.yaml"),
    ("train: broken YAML", ["train", "--config", "{yaml}"], "{yaml}"),
    ("train: config is not a mapping", ["train", "--config", "{file}"], "{file}"),
]


def _issue26_inputs(tmp: Path) -> dict[str, Path]:
    """Inputs of the issue-26 cases: a one-frame video, an empty and a cut-off video, configs with a bad feature or
    data source, a manifest with a duplicated sample id, --out folders holding another program's files."""
    import numpy as np

    from mexkit.video_io import read_frame, write_video

    media = CORPUS / "media"
    write_video(tmp / "one.mp4", read_frame(media / "single_face.mp4", 0)[None], 30.0)
    (tmp / "empty.mp4").touch()
    (tmp / "corrupt.mp4").write_bytes((media / "single_face.mp4").read_bytes()[:5000])
    write_video(tmp / "long.mp4", np.zeros((2001, 16, 16, 3), np.uint8), 30.0)  # a driving clip above 2000 frames
    configs = ROOT / "configs"
    study = (configs / "study_corpus_warp.yaml").read_text()
    assert "num_frames: 10, size: 64}" in study
    (tmp / "study_neg.yaml").write_text(study.replace("num_frames: 10, size: 64}", "num_frames: 10, size: -8}"))
    (tmp / "study_big.yaml").write_text(study.replace("num_frames: 10, size: 64}", "num_frames: 10, size: big}"))
    train = (configs / "mocogan_tiny.yaml").read_text()
    assert "- corpus: true" in train and "faces: corpus" in train
    (tmp / "train_corpuss.yaml").write_text(train.replace("- corpus: true", "- corpuss: true"))
    (tmp / "train_nofaces.yaml").write_text(train.replace("faces: corpus", f"faces: {tmp / 'nofaces'}"))
    (tmp / "dup").mkdir()
    (tmp / "dup" / "clips").symlink_to(CORPUS / "clips")
    lines = MANIFEST.read_text().splitlines()
    (tmp / "dup" / "manifest.csv").write_text("\n".join([*lines, lines[1]]) + "\n")
    (tmp / "foreign_eval").mkdir()
    (tmp / "foreign_eval" / "identity.csv").write_text("person,score\nann,1\n")
    (tmp / "foreign_gen").mkdir()
    (tmp / "foreign_gen" / "manifest.csv").write_text(MANIFEST.read_text())
    names = ("one.mp4", "empty.mp4", "corrupt.mp4", "long.mp4", "study_neg.yaml", "study_big.yaml", "train_corpuss.yaml", "train_nofaces.yaml",
             "foreign_eval", "foreign_gen")
    return {**{n.split(".")[0]: tmp / n for n in names}, "dup": tmp / "dup" / "manifest.csv", "video": media / "single_face.mp4"}


LOSO = ["recog", "loso", "--config", "recog_ststnet_corpus", "--out", "{tmp}/l", "--quiet", "--set"]
GEN = ["generate", "--faces", "corpus", "--out", "{tmp}/g", "--no-progress"]
NOT_MINE = "an existing file that this command did not write"
# Issue 26 (values checked up front, output files that are not the command's own): (id, argv, text naming the fault)
CASES_26 = [
    ("align: --onset -1", ["align", "{one}", "--out", "{tmp}/o", "--onset", "-1"], "{one}: --onset -1: frame numbers start at 0"),
    ("align: --onset beyond a one-frame video", ["align", "{one}", "--out", "{tmp}/o", "--onset", "3"],
     "{one}: --onset 3: outside the clip (1 frame: 0..0)"),
    ("align: --onset 99999", ["align", "{video}", "--out", "{tmp}/o", "--onset", "99999"], "{video}: --onset 99999: outside the clip (72 frames"),
    ("generate: --fps 1e9", [*GEN, "--fps", "1e9"], "--fps 1e+09: above 1000 fps"),
    ("generate: --duration-ms × --fps too long", [*GEN, "--fps", "1000", "--duration-ms", "60000"], "60000 frames per clip, above 2000"),
    ("generate: --devices abc", [*GEN, "--devices", "abc"], "--devices 'abc': not a process count"),
    ("generate: --driving above 2000 frames", [*GEN, "--driving", "{long}"], "{long}: driving clip of 2001 frames, above 2000"),
    ("generate: --accelerator gpu without a GPU", [*GEN, "--devices", "1", "--accelerator", "gpu"], "--accelerator gpu: no GPU"),
    ("generate: --out holds another dataset's manifest", ["generate", "--faces", "corpus", "--out", "{foreign_gen}", "--no-progress"],
     "{foreign_gen}/manifest.csv: --out: a manifest with other columns"),
    ("recog loso: unknown feature key", [*LOSO, "feature.sizee=8"], "recog_ststnet_corpus.yaml: feature: unknown key 'sizee' for kind flow_strain"),
    ("recog loso: unknown feature kind", [*LOSO, "feature.kind=bogus"], "recog_ststnet_corpus.yaml: feature: unknown kind 'bogus'"),
    ("recog loso: unknown flow method", [*LOSO, "feature.method=bogus"], "recog_ststnet_corpus.yaml: feature.method: 'bogus'"),
    ("recog loso: feature size -8", [*LOSO, "feature.size=-8"], "recog_ststnet_corpus.yaml: feature.size: -8"),
    ("recog loso: feature size big", [*LOSO, "feature.size=big"], "recog_ststnet_corpus.yaml: feature.size: 'big'"),
    ("study: feature size -8", ["study", "--config", "{study_neg}", "--out", "{tmp}/st", "--quiet"], "{study_neg}: models.lbptop_svm.feature.size: -8"),
    ("study: feature size big", ["study", "--config", "{study_big}", "--out", "{tmp}/st", "--quiet"], "{study_big}: models.lbptop_svm.feature.size: 'big'"),
    ("train: unknown data source key", ["train", "--config", "{train_corpuss}"],
     "{train_corpuss}: data.init_args.sources[0]: data source {{'corpuss': True}}: unknown key 'corpuss'"),
    ("train: missing faces folder", ["train", "--config", "{train_nofaces}"], "{tmp}/nofaces: faces folder not found"),
    ("train: --trainer.accelerator gpu without a GPU", ["train", "--config", "mocogan_tiny", "--trainer.accelerator", "gpu"],
     "--trainer.accelerator gpu: no GPU"),
    ("train: --trainer.devices abc", ["train", "--config", "mocogan_tiny", "--trainer.devices=abc"], "--trainer.devices 'abc': not a process count"),
    ("eval: duplicate sample ids", ["eval", "--fake", "{dup}", "--no-progress", "--report", "{tmp}/e/r.html"], "{dup}: duplicate sample_id"),
    ("eval: --out holds files no eval wrote", [*EVAL, "--report", "{tmp}/e/r.html", "--out", "{foreign_eval}"],
     "{foreign_eval}: --out: holds identity.csv that no earlier `mexkit eval` run wrote"),
    ("eval: --report is an unrelated file", [*EVAL, "--report", "{file}"], f"{{file}}: --report: {NOT_MINE}"),
    ("eval: --fake is an empty video", ["eval", "--fake", "{empty}", "--no-progress", "--report", "{tmp}/e/r.html"], "{empty}: file is empty"),
    ("eval: --fake is a cut-off video", ["eval", "--fake", "{corrupt}", "--no-progress", "--report", "{tmp}/e/r.html"], "{corrupt}: cannot open video"),
    ("eval: pickle as --fid-model", [*EVAL, "--report", "{tmp}/e/r.html", "--fid-model", "{pkl}"], "{pkl}: not plain weights"),
    ("datasets check: --root is a file", ["datasets", "check", "--dataset", "casme2", "--root", "{file}"], "{file}: --root: a file, not a folder"),
    ("datasets check: --rejects is an unrelated file", ["datasets", "check", *GENERIC, "--quick", "--rejects", "{file}"],
     f"{{file}}: --rejects: {NOT_MINE}"),
    ("datasets manifest: --out is an unrelated file", ["datasets", "manifest", *GENERIC, "--out", "{file}"], f"{{file}}: --out: {NOT_MINE}"),
    ("datasets composite: --out is an unrelated file", ["datasets", "composite", "--smic", "{corpus}", "--out", "{file}"], f"{{file}}: --out: {NOT_MINE}"),
    ("datasets splits: --out is an unrelated file", ["datasets", "splits", "--manifest", "{manifest}", "--out", "{file}"], f"{{file}}: --out: {NOT_MINE}"),
    ("datasets splits: --kind lodo on one dataset", ["datasets", "splits", "--manifest", "{manifest}", "--kind", "lodo", "--out", "{tmp}/s.json"],
     "{manifest}: leave-one-dataset-out needs at least two datasets, found ['corpus']"),
]


@pytest.mark.parametrize("argv,needle", [c[1:] for c in CASES_26], ids=[c[0] for c in CASES_26])
def test_bad_values_and_foreign_outputs_are_exit_2(bad, capsys, argv, needle):
    """Issue 26: a bad value or an output that is not the command's own is refused up front — exit 2, the file and the
    fix, no traceback, torch's weights_only=False advice never repeated, nothing written or deleted."""
    if "gpu" in argv:
        import torch

        if torch.cuda.is_available():
            pytest.skip("a GPU is here")
    paths = {**bad, **_issue26_inputs(bad["tmp"])}
    argv = [a.format(**paths) for a in argv]
    before = {p: p.read_bytes() for p in bad["tmp"].rglob("*") if p.is_file()}
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert needle.format(**paths) in err, err
    assert "Fix:" in err and "Traceback" not in err and "weights_only=False" not in err, err
    assert {p: p.read_bytes() for p in bad["tmp"].rglob("*") if p.is_file()} == before  # nothing written, changed or deleted


def test_generate_quotes_a_newline_in_a_face_name_and_lists_an_undecodable_one(tmp_path):
    """A face file named with a newline is one quoted manifest row that reads back; one named with undecodable
    bytes goes to rejects.csv and the rest is written (issue 26: it used to corrupt manifest.csv / end the run)."""
    import shutil

    import pandas as pd

    faces = tmp_path / "faces"
    faces.mkdir()
    shutil.copy(FACE, faces / "a\nb.png")
    shutil.copy(CORPUS / "faces" / "corpus_m7__45-m7-di-ph.png", faces / os.fsdecode(b"x\xff.png"))
    shutil.copy(CORPUS / "faces" / "corpus_f15__0-f15-hao-ph.png", faces / "good.png")
    argv = ["generate", "--faces", str(faces), "--out", str(tmp_path / "g"), "--no-progress"]
    assert _run(argv) == 0
    manifest = pd.read_csv(tmp_path / "g" / "manifest.csv", keep_default_na=False)
    assert sorted(manifest["source"]) == ["a\nb.png", "good.png"] and len(manifest) == 2
    rejects = pd.read_csv(tmp_path / "g" / "rejects.csv")
    assert list(rejects["file"]) == ["x\\xff.png"] and "not valid UTF-8" in rejects["reason"][0]
    before = (tmp_path / "g" / "manifest.csv").read_bytes()
    assert _run(argv) == 0 and (tmp_path / "g" / "manifest.csv").read_bytes() == before  # the resumed run reads it back whole


@pytest.mark.parametrize("rows,needle", [
    ("duplicate", "{m}: duplicate sample ids ['single_face_0015']"),
    ("one subject", "{m}: LOSO needs at least two subjects with usable real samples, found ['corpus_man']"),
], ids=["duplicate sample ids", "one subject"])
def test_recog_loso_names_the_manifest_of_its_samples(tmp_path, capsys, rows, needle):
    """The duplicate-id and too-few-subjects refusals name the manifest they come from (issue 26)."""
    lines = MANIFEST.read_text().splitlines()
    kept = [*lines, lines[1]] if rows == "duplicate" else [lines[0], *(x for x in lines[1:] if ",corpus_man," in x)]
    (tmp_path / "clips").symlink_to(CORPUS / "clips")
    m = tmp_path / "manifest.csv"
    m.write_text("\n".join(kept) + "\n")
    argv = ["recog", "loso", "--config", "recog_ststnet_corpus", "--set", "data.corpus=false", "--set", f"data.manifest={m}",
            "--out", str(tmp_path / "l"), "--quiet"]
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert needle.format(m=m) in err and "Fix:" in err and "Traceback" not in err, err


STUDY_26 = """\
data: {{manifest: {manifest}, classes: [negative, positive, surprise]}}
synthetic: {{cross_fit: {{recipe: warp, groups: 2, per_face: 2}}}}
models:
  flow_lda:
    model: {{class_path: mexkit.recog.flow_lda.FlowLDA}}
    feature: {{kind: flow_strain, size: 8, method: dis}}
study: {{n_boot: 20}}
"""


def _with_bad_rows(manifest: Path, out: Path, first: bool = False) -> list[str]:
    """`manifest` copied to `out` with three rows whose clips cannot be read — two clip folders that do not exist,
    one empty folder — copies of its own rows under new ids (one put first when `first`: its subject's earliest
    clip); the clip folders are copied (a link out of the root is refused). Returns "<out>: line N [id]" of each bad row, as rejects.csv names them."""
    import shutil

    import pandas as pd

    df = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    bad = df.iloc[[0, 1, 2]].copy()
    bad["sample_id"] = [f"{s}_{k}" for s, k in zip(bad["sample_id"], ("gone", "lost", "empty"))]
    bad["path"] = ["clips/gone", "clips/lost", "clips/empty"]
    rows = pd.concat([bad.iloc[:1], df, bad.iloc[1:]] if first else [df, bad], ignore_index=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out, index=False)
    (out.parent / "clips").mkdir(exist_ok=True)
    for name in df["path"].map(lambda p: Path(p).name):
        shutil.copytree(manifest.parent / "clips" / name, out.parent / "clips" / name)
    (out.parent / "clips" / "empty").mkdir()
    lines = [2, len(df) + 3, len(df) + 4] if first else [len(df) + 2, len(df) + 3, len(df) + 4]
    return [f"{out}: line {n} [{sid}]" for n, sid in zip(lines, bad["sample_id"])]


def _bad_rows(out: Path) -> set[str]:
    import pandas as pd

    rejects = pd.read_csv(out / "rejects.csv", keep_default_na=False)
    return set(rejects.loc[rejects["stage"] == "features", "file"])


def test_study_and_loso_list_every_unreadable_clip_row_and_go_on(tmp_path, capsys):
    """Issue 26: `study` stopped at the first missing or empty clip. Real and synthetic manifests with two missing
    clip folders and one empty one each: every bad row is in rejects.csv (manifest, line, sample id), the rest is
    studied (exit 0) — the cross-fitting path too, whose first clip of a subject is missing; `recog loso` the same;
    a manifest whose every clip is unreadable is exit 2 naming it and rejects.csv."""
    from mexkit.recog.experiment import parametric_manifest

    source = parametric_manifest({"data": {"parametric": {"num_subjects": 8, "per_subject": 2, "resolution": 64, "num_frames": 9, "seed": 0},
                                           "classes": ["negative", "positive", "surprise"]}}, tmp_path / "param")
    real = tmp_path / "real" / "manifest.csv"
    real_bad = _with_bad_rows(source, real, first=True)
    config = tmp_path / "study.yaml"
    config.write_text(STUDY_26.format(manifest=real))
    assert _run(["study", "--config", str(config), "--out", str(tmp_path / "cf"), "--quiet"]) == 0
    assert _bad_rows(tmp_path / "cf") == set(real_bad)
    assert "3 rejected" in capsys.readouterr().out

    synthetic = tmp_path / "syn" / "manifest.csv"  # the cross-fitted generator's clips, with bad rows of their own
    syn_bad = _with_bad_rows(tmp_path / "cf" / "cross_fit" / "group0" / "synthetic" / "manifest.csv", synthetic)
    assert _run(["study", "--config", str(config), "--synthetic", str(synthetic), "--out", str(tmp_path / "st"), "--quiet"]) == 0
    assert _bad_rows(tmp_path / "st") == set(real_bad) | set(syn_bad)
    assert (tmp_path / "st" / "study_summary.csv").is_file()

    loso = ["recog", "loso", "--config", str(config), "--quiet"]  # the same data and model, LOSO alone
    assert _run([*loso, "--out", str(tmp_path / "l")]) == 0
    assert _bad_rows(tmp_path / "l") == set(real_bad) and (tmp_path / "l" / "summary.csv").is_file()

    none_left = tmp_path / "none" / "manifest.csv"
    _with_bad_rows(source, none_left)
    import pandas as pd

    df = pd.read_csv(none_left, dtype=str, keep_default_na=False)
    df.assign(path="clips/gone").to_csv(none_left, index=False)
    capsys.readouterr()
    assert _run([*loso, "--set", f"data.manifest={none_left}", "--out", str(tmp_path / "n")]) == 2
    err = capsys.readouterr().err
    assert f"{none_left}: LOSO needs at least two subjects with usable real samples, found []" in err, err
    assert f"rejected, see {tmp_path / 'n' / 'rejects.csv'}" in err and "Traceback" not in err
    assert len(_bad_rows(tmp_path / "n")) == len(df)


def _full_disk_after(n: int, write):
    """`write` that raises ENOSPC (a full disk) from its (n + 1)-th call on."""
    import errno

    calls = []

    def full(*args, **kwargs):
        if len(calls) >= n:
            raise OSError(errno.ENOSPC, "No space left on device")
        calls.append(args[0])
        return write(*args, **kwargs)

    return full


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_full_disk_in_generate_is_a_clear_error_and_the_rerun_matches_one_run(tmp_path, monkeypatch, capsys):
    from mexkit.synth.writer import dataset_writer

    write = dataset_writer.write_frames
    monkeypatch.setattr(dataset_writer, "write_frames", _full_disk_after(2, write))
    out = tmp_path / "g"
    argv = ["generate", "--faces", "corpus", "--out", str(out), "--no-progress"]
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert f"{out}: no space left on the disk while writing clips" in err and "free space and rerun (it resumes)" in err, err
    assert "Traceback" not in err
    monkeypatch.setattr(dataset_writer, "write_frames", write)
    assert _run(argv) == 0
    assert _run(["generate", "--faces", "corpus", "--out", str(tmp_path / "once"), "--no-progress"]) == 0
    assert _files(out) == _files(tmp_path / "once")  # clips, manifest, rejects and run.json byte for byte


def test_a_full_disk_while_writing_the_eval_report_is_a_clear_error(bad, monkeypatch, capsys):
    from mexkit.eval import report

    save = report.atomic_write_text
    monkeypatch.setattr(report, "atomic_write_text", _full_disk_after(0, save))
    argv = [*EVAL, "--families", "identity", "--report", str(bad["tmp"] / "e" / "r.html")]
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert f"{bad['tmp'] / 'e'}: no space left on the disk while writing the report" in err and "free space and rerun" in err, err
    monkeypatch.setattr(report, "atomic_write_text", save)
    assert _run(argv) == 0 and (bad["tmp"] / "e" / "r.html").is_file()


def test_prepare_rejects_only_the_row_with_a_bad_fps(tmp_path, capsys):
    """One row whose fps is 'fast' is rejected by line; the other rows are prepared; one count in the summary."""
    lines = MANIFEST.read_text().splitlines()
    fps = lines[0].split(",").index("fps")
    bad_row = lines[2].split(",")
    bad_row[fps] = "fast"
    (tmp_path / "m.csv").write_text("\n".join([lines[0], lines[1], ",".join(bad_row)]) + "\n")
    assert _run(["prepare", "--manifest", str(tmp_path / "m.csv"), "--root", str(CORPUS), "--out", str(tmp_path / "p"),
                 "--flow", "dis", "--frames", "key", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1 samples: 1 computed, 0 already cached, 1 rejected" in out and "\n1 rejected (see" in out, out
    assert "line 3 (WolfgangLanger_Pexels_0001): fps is not a number ('fast')" in out


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse / LightningCLI usage errors
        return exit_.code


@pytest.mark.parametrize("argv,needle", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_exit_2_with_the_file_and_the_fix(bad, capsys, argv, needle):
    argv = [a.format(**bad) for a in argv]
    before = _listing(bad["tmp"])
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert needle.format(**bad) in err, err
    assert "Fix:" in err and "Traceback" not in err, err
    assert _listing(bad["tmp"]) == before  # refused before anything was written


@pytest.mark.parametrize("argv", [
    ["align", "{face}", "--out", "{ro}/out"],
    [*EVAL, "--report", "{ro}/r.html"],
    ["datasets", "manifest", *GENERIC, "--out", "{ro}/m.csv"],
    ["insert", str(CORPUS / "media" / "single_face.mp4"), "--out", "{ro}/out"],
    ["detect", str(CORPUS / "media" / "single_face.mp4"), "--out", "{ro}/out"],
], ids=["align", "eval", "datasets manifest", "insert", "detect"])
def test_an_unwritable_output_folder_is_exit_2(bad, capsys, argv):
    ro = bad["tmp"] / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    if os.access(ro, os.W_OK):  # root (with CAP_DAC_OVERRIDE) writes there anyway
        ro.chmod(0o700)
        pytest.skip("this user can write into read-only folders")
    try:
        assert _run([a.format(ro=ro, **bad) for a in argv]) == 2
    finally:
        ro.chmod(0o700)
    err = capsys.readouterr().err
    assert str(ro) in err and "not writable" in err and "Fix:" in err and not any(ro.iterdir())


def test_the_command_line_prints_no_traceback(bad):
    """The real entry point (a fresh interpreter): a pickle given as the LPIPS backbone."""
    argv = [a.format(**bad) for a in [*EVAL, "--report", "{tmp}/e/r.html", "--families", "perceptual", "--lpips-backbone", "{pkl}"]]
    run = subprocess.run([sys.executable, "-m", "mexkit.cli", *argv], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert str(bad["pkl"]) in run.stderr and "safetensors" in run.stderr and "Fix:" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_garbage_manifest_line_is_rejected_by_file_and_line(bad):
    """Readers that skip bad rows (eval's clip sets, the recognizers' sample sets) name the manifest and the line."""
    from mexkit.eval.clip_sets import open_clip_set
    from mexkit.recog.samples import SampleSet
    from mexkit.rejects import RejectLog

    garbage = bad["garbage"]
    clips = open_clip_set(garbage, name="fake")
    loaded = [c.sample_id for c in clips]
    rows = [(r["file"], r["reason"]) for r in clips.rejects.rows]
    assert rows == [(str(garbage), "line 4: 4 field(s) where the header has 16"),
                    (str(garbage), "line 5 (WolfgangLanger_Pexels_0085): onset is not a number ('two')")]
    assert len(loaded) == len(MANIFEST.read_text().splitlines()) - 2  # every other clip is read
    log = RejectLog()
    SampleSet.from_manifest(garbage, rejects=log)
    assert [(r["file"], r["reason"].split(":")[0]) for r in log.rows if r["stage"] == "manifest"] == [
        (str(garbage), "line 4"), (str(garbage), "line 5 (WolfgangLanger_Pexels_0085)")]


def _model_folders(tmp: Path) -> dict[str, Path]:
    """Broken copies of model folders: the shipped mexkit-demo with a pickle beside it or a label map that
    disagrees with its model; an (untrained) STSTNet folder whose safetensors are cut in half."""
    import shutil

    from mexkit.recog.kept import KeptRecognizer, load_recognizer
    from mexkit.recog.ststnet import STSTNet

    demo = load_recognizer("mexkit-demo").path
    shutil.copytree(demo, tmp / "pickled")
    with open(tmp / "pickled" / "extra_weights.pkl", "wb") as f:
        pickle.dump({"w": [1.0]}, f)
    shutil.copytree(demo, tmp / "labels")
    cfg = json.loads((tmp / "labels" / "config.json").read_text())
    four = [*cfg["classes"], "others"]
    cfg.update(classes=four, label_map={c: i for i, c in enumerate(four)})
    cfg["heads"]["class"]["outputs"] = four
    (tmp / "labels" / "config.json").write_text(json.dumps(cfg))
    net = STSTNet()
    info = {"class_path": "mexkit.recog.ststnet.STSTNet", "init_args": net.get_params(), "outputs": ["negative", "positive", "surprise"],
            "score_kind": "softmax", "calibration": None}
    KeptRecognizer(("negative", "positive", "surprise"), {"kind": "flow_strain", "size": 28, "method": "dis"}, {"class": net},
                   {"class": info}, {"resolution": 128}).save(tmp / "truncated")
    w = tmp / "truncated" / "class.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    return {"pickled": tmp / "pickled", "labels": tmp / "labels", "truncated": tmp / "truncated"}


@pytest.mark.parametrize("model,needle", [
    ("pickled", "{pickled}/extra_weights.pkl: a pickle-based file in a model folder"),
    ("labels", "{labels}/config.json: label map disagrees with the model"),
    ("truncated", "{truncated}/class.safetensors: weights file does not match config.json"),
], ids=["a pickle in the model folder", "label map disagrees with the model", "truncated safetensors"])
def test_recog_predict_refuses_a_broken_model_folder(tmp_path, capsys, model, needle):
    models = _model_folders(tmp_path / "models")
    before = _listing(tmp_path)
    assert _run(["recog", "predict", "--model", str(models[model]), "--clips", "corpus", "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert needle.format(**models) in err and "Fix:" in err and "Traceback" not in err, err
    assert _listing(tmp_path) == before
