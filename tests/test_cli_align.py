"""`mexkit align` as a user runs it: single items, batches with bad items, rejects.csv."""
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd

from mexkit.cli import main


def test_align_video(media, tmp_path):
    assert main(["align", str(media / "single_face.mp4"), "--out", str(tmp_path), "--resolution", "64"]) == 0
    out = tmp_path / "single_face"
    assert len(list(out.glob("*.png"))) == 72
    assert np.load(out / "landmarks.npy").shape == (68, 2)
    assert (out / "alignment.json").exists()


def test_batch_skips_bad_items_and_lists_them(media, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(media / "single_face.jpg", src / "good.jpg")
    shutil.copy(media / "multi_face.jpg", src / "group.jpg")
    shutil.copy(media / "no_face.mp4", src / "empty_room.mp4")
    (src / "zero.jpg").touch()
    shutil.copy(media / "single_face.jpg", src / "notes.xyz")
    out = tmp_path / "out"
    assert main(["align", str(src), "--batch", "--out", str(out)]) == 0
    assert (out / "good.png").exists() and (out / "group.png").exists()
    rejects = pd.read_csv(out / "rejects.csv")
    reasons = dict(zip(rejects["file"].map(lambda p: p.split("/")[-1]), rejects["reason"]))
    assert set(reasons) == {"empty_room.mp4", "zero.jpg", "notes.xyz"}
    assert "no face" in reasons["empty_room.mp4"]
    assert "0 bytes" in reasons["zero.jpg"]
    assert "unsupported extension" in reasons["notes.xyz"]


def test_single_bad_input_exits_with_clear_message(media, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mexkit.cli", "align", str(media / "no_face.mp4"), "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no_face.mp4: no face found" in proc.stderr and "Fix:" in proc.stderr


def test_help_lists_commands():
    proc = subprocess.run([sys.executable, "-m", "mexkit.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "align" in proc.stdout and "demo" in proc.stdout
