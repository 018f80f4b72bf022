"""`mexkit generate` with a bad --generator or --resolution: exit status 2, a message naming the file and the
fix, no traceback and nothing written — for every case a hostile user tried."""
from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

from mexkit.cli import main

DEMO = Path(__file__).resolve().parents[2] / "synth" / "pretrained" / "mocogan-demo"


def _no_weights(folder: Path) -> None:
    for p in folder.glob("*.safetensors"):
        p.unlink()


def _truncated(folder: Path) -> None:
    p = next(folder.glob("*.safetensors"))
    p.write_bytes(p.read_bytes()[:1000])


def _broken_config(folder: Path) -> None:
    (folder / "config.json").write_text("{broken")


def _pickled(folder: Path) -> None:
    _no_weights(folder)
    with open(folder / "diffusion_pytorch_model.bin", "wb") as f:
        pickle.dump({"a": 1}, f)


def _unknown_class(folder: Path) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    cfg["_class_name"] = "SomethingElse"
    (folder / "config.json").write_text(json.dumps(cfg))


@pytest.mark.parametrize("damage,needle", [
    (_no_weights, "no weights file"),
    (_truncated, "could not be loaded"),
    (_broken_config, "broken generator config"),
    (_pickled, "only pickled weights"),
    (_unknown_class, "unknown generator class"),
])
def test_a_damaged_generator_folder_is_refused_clearly(tmp_path, capsys, damage, needle):
    folder = tmp_path / "gen"
    shutil.copytree(DEMO, folder)
    damage(folder)
    out = tmp_path / "out"
    assert main(["generate", "--generator", str(folder), "--faces", "corpus", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert needle in err and str(folder) in err and "Fix:" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("spec,needle", [
    ("nosuch", "unknown generator"),
    ("{tmp}", "not a pretrained generator folder"),
    ("{tmp}/afile.txt", "not a generator: a file"),
])
def test_a_generator_that_is_not_one_is_refused_clearly(tmp_path, capsys, spec, needle):
    (tmp_path / "afile.txt").write_text("x")
    spec = spec.format(tmp=tmp_path)
    assert main(["generate", "--generator", spec, "--faces", "corpus", "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert needle in err and spec in err and "Fix:" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["0", "-5", "big"])
def test_a_bad_resolution_is_a_usage_error_before_anything_is_written(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exit_:
        main(["generate", "--faces", "corpus", "--out", str(tmp_path / "out"), "--resolution", value])
    assert exit_.value.code == 2
    assert "--resolution" in capsys.readouterr().err and not (tmp_path / "out").exists()
