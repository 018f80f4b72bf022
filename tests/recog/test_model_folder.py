"""The kept recognizer's model folder: save → load → predict is bit-identical to the fitted model for every
recognizer kind that ships, and a folder that is not a sound one is refused naming the file and the fix."""
from __future__ import annotations

import json
import pickle
import shutil

import pandas as pd
import pytest

from mexkit.errors import MexkitInputError
from mexkit.recog.kept import fit_kept, load_recognizer

CLASSES = ("negative", "positive", "surprise")


@pytest.fixture(scope="module")
def samples(corpus, warp_clips):
    """The corpus's labelled real clips plus warp clips of every corpus face (with their provenance)."""
    from mexkit.recog.samples import SampleSet

    clips, prov = warp_clips
    return SampleSet.concat([SampleSet.from_corpus(corpus, classes=CLASSES),
                             SampleSet.from_clips(clips, CLASSES, synthetic=True, provenance=prov)])


def _kinds():
    from mexkit.recog.cnn3d import CNN3D
    from mexkit.recog.flow_lda import FlowLDA
    from mexkit.recog.lbptop_svm import LBPTOPSVM
    from mexkit.recog.ststnet import STSTNet

    return {
        "lbptop_svm": (LBPTOPSVM(), {"kind": "lbptop", "grid": 3, "num_frames": 6, "size": 32}, "none"),
        "svm_calibrated": (LBPTOPSVM(), {"kind": "flow_strain", "size": 14, "method": "dis"}, "sigmoid"),
        "flow_lda": (FlowLDA(), {"kind": "flow_strain", "size": 14, "method": "dis"}, "none"),
        "ststnet": (STSTNet(epochs=3), {"kind": "flow_strain", "size": 28, "method": "dis"}, "none"),
        "ststnet_calibrated": (STSTNet(epochs=2), {"kind": "flow_strain", "size": 28, "method": "dis"}, "sigmoid"),
        "cnn3d": (CNN3D(epochs=2), {"kind": "frames", "num_frames": 4, "size": 16}, "none"),
    }


@pytest.mark.parametrize("kind", list(_kinds()))
def test_save_load_predict_is_bit_identical(kind, samples, corpus, tmp_path):
    template, feature, calibration = _kinds()[kind]
    kept = fit_kept(samples, template, feature, seed=7, calibration=calibration, calibration_folds=3)
    before = kept.predict_clips(corpus.clips)
    kept.save(tmp_path / "m")
    loaded = load_recognizer(tmp_path / "m")
    after = loaded.predict_clips(corpus.clips)
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    assert len(after) == len(corpus.clips) and loaded.classes == CLASSES and loaded.au_names == ()
    expected_kind = "prob" if calibration == "sigmoid" else ("softmax" if kind.startswith(("ststnet", "cnn3d")) else "decision")
    assert loaded.score_kind == expected_kind and f"{expected_kind}_surprise" in after.columns
    assert loaded.feature == {**loaded.feature, **feature}  # every given setting kept, defaults filled in
    files = {p.name for p in (tmp_path / "m").iterdir()}
    weights = "class.safetensors" if kind.startswith(("ststnet", "cnn3d")) else "class.skops"
    assert {"config.json", "README.md", weights} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt"))]


@pytest.fixture(scope="module")
def folders(samples, tmp_path_factory):
    """A network's folder and a scikit-learn one, fitted once; each test works on a copy."""
    from mexkit.recog.cnn3d import CNN3D
    from mexkit.recog.lbptop_svm import LBPTOPSVM
    from mexkit.recog.ststnet import STSTNet

    root = tmp_path_factory.mktemp("kept")
    fit_kept(samples, STSTNet(epochs=1), {"kind": "flow_strain", "method": "dis"}).save(root / "net")
    fit_kept(samples, LBPTOPSVM(), {"kind": "flow_strain", "size": 14, "method": "dis"}).save(root / "svm")
    fit_kept(samples, CNN3D(epochs=1), {"kind": "frames", "num_frames": 4, "size": 16}).save(root / "cnn")
    return root


def _copy(folders, name, tmp_path):
    shutil.copytree(folders / name, tmp_path / name)
    return tmp_path / name


def _edit_config(folder, fn):
    cfg = json.loads((folder / "config.json").read_text())
    fn(cfg)
    (folder / "config.json").write_text(json.dumps(cfg))


def _sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(folder, *needles):
    with pytest.raises(MexkitInputError) as err:
        load_recognizer(folder)
    msg = str(err.value)
    for needle in needles:
        assert str(needle) in msg, msg
    assert "Fix:" in msg
    return err.value


def test_a_folder_without_config_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    _refused(tmp_path / "empty", tmp_path / "empty", "not a model folder")
    _refused(tmp_path / "nosuch", tmp_path / "nosuch", "not found")


@pytest.mark.parametrize("name", ["model.pkl", "weights.joblib", "extra.pickle", "net.pt"])
def test_a_pickle_in_the_folder_is_refused_by_name(folders, tmp_path, name):
    folder = _copy(folders, "svm", tmp_path)
    (folder / name).write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    _refused(folder, folder / name, "pickle")


def test_a_pickle_under_another_name_is_found_by_its_header(folders, tmp_path):
    folder = _copy(folders, "svm", tmp_path)
    (folder / "notes.dat").write_bytes(pickle.dumps(object, protocol=4))
    _refused(folder, folder / "notes.dat", "pickle")


def test_truncated_safetensors_are_refused(folders, tmp_path):
    folder = _copy(folders, "net", tmp_path)
    weights = folder / "class.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    _refused(folder, weights, "does not match config.json", "truncated")
    # even with the checksum made to agree, the safetensors reader refuses the half file
    _edit_config(folder, lambda c: c["heads"]["class"].update(sha256=_sha(weights)))
    _refused(folder, weights, "cannot read the safetensors weights")


def test_weights_of_another_architecture_are_refused(folders, tmp_path):
    folder = _copy(folders, "net", tmp_path)
    _edit_config(folder, lambda c: c["heads"]["class"]["init_args"].update(streams=[4, 6, 8]))  # a wider first layer
    _refused(folder, folder / "class.safetensors", "another architecture", "STSTNet")
    folder = _copy(folders, "cnn", tmp_path / "b")
    shutil.copy(folders / "net" / "class.safetensors", folder / "class.safetensors")  # STSTNet weights under a CNN3D config
    _edit_config(folder, lambda c: c["heads"]["class"].update(sha256=_sha(folder / "class.safetensors")))
    _refused(folder, folder / "class.safetensors", "another architecture", "CNN3D")
    folder = _copy(folders, "svm", tmp_path / "c")
    _edit_config(folder, lambda c: c["heads"]["class"].update(class_path="mexkit.recog.flow_lda.FlowLDA"))
    _refused(folder, folder / "class.skops", "another architecture", "LBPTOPSVM")


def test_a_label_map_that_disagrees_is_refused(folders, tmp_path):
    folder = _copy(folders, "net", tmp_path)
    _edit_config(folder, lambda c: c.update(label_map={"negative": 0, "surprise": 1, "positive": 2}))
    _refused(folder, folder / "config.json", "disagrees with the class order")
    four = [*CLASSES, "others"]
    for name in ("net", "svm"):
        folder = _copy(folders, name, tmp_path / f"four_{name}")
        _edit_config(folder, lambda c: (c.update(classes=four, label_map={k: i for i, k in enumerate(four)}),
                                        c["heads"]["class"].update(outputs=four)))
        _refused(folder, folder / "config.json", "label map disagrees with the model", "has 3")


def test_a_skops_file_with_untrusted_types_is_refused(folders, tmp_path):
    import skops.io

    from mexkit.recog.lbptop_svm import LBPTOPSVM

    class Shady(LBPTOPSVM):
        pass

    folder = _copy(folders, "svm", tmp_path)
    import numpy as np

    X = np.random.default_rng(0).normal(size=(9, 4))
    skops.io.dump(Shady().fit(X, np.arange(9) % 3), str(folder / "class.skops"))
    _edit_config(folder, lambda c: c["heads"]["class"].update(sha256=_sha(folder / "class.skops")))
    _refused(folder, folder / "class.skops", "outside the trusted list", "Shady")


def test_missing_weights_and_a_config_of_another_format_are_refused(folders, tmp_path):
    folder = _copy(folders, "svm", tmp_path)
    (folder / "class.skops").unlink()
    _refused(folder, folder / "class.skops", "missing")
    folder = _copy(folders, "svm", tmp_path / "b")
    (folder / "config.json").write_text('{"_class_name": "UNet3DConditionModel"}')
    _refused(folder, folder / "config.json", "not a mexkit recognizer config")


def test_writing_never_replaces_a_folder_that_is_not_a_model(folders, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(MexkitInputError, match="not a model folder"):
        load_recognizer(folders / "svm").save(tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "x"
    load_recognizer(folders / "svm").save(tmp_path / "again")  # a model folder is replaced whole
    load_recognizer(folders / "net").save(tmp_path / "again")
    assert load_recognizer(tmp_path / "again").head_info["class"]["format"] == "safetensors"
    assert not (tmp_path / "again" / "class.skops").exists()
