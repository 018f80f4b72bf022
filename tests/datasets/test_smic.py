"""SMIC-HS adapter: labels from folder names, apex = middle frame (flagged)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from mexkit.datasets import SMICAdapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import read_image


def test_labels_from_folders_and_middle_apex(pristine):
    tree = pristine("smic")
    log = RejectLog()
    df = SMICAdapter(tree.root).manifest(log, decode=True)
    assert log.rows == []
    assert set(df["sample_id"]) == set(tree.samples)
    for sid, exp in tree.samples.items():
        row = df[df["sample_id"] == sid].iloc[0]
        for k, v in exp.items():
            assert row[k] == v, (sid, k)
    assert df["apex_estimated"].all() and (df["fps"] == 100.0).all()
    row = df[df["sample_id"] == "smic_s1_po_01"].iloc[0]
    assert row["path"] == "HS/s1/micro/positive/s1_po_01" and (row["frame_start"], row["frame_stop"]) == (106720, 106728)


def test_clip_frames(pristine):
    tree = pristine("smic")
    ad = SMICAdapter(tree.root)
    df = ad.manifest()
    clip = ad.load_clip(df[df["sample_id"] == "smic_s3_sur_02"].iloc[0])
    assert clip.frames.shape == (11, 96, 96, 3) and clip.apex == 5 and clip.apex_estimated
    np.testing.assert_array_equal(clip.frames[-1], read_image(tree.root / "HS/s3/micro/surprise/s3_sur_02/image5511.bmp"))


def test_folder_under_wrong_emotion_rejected(fresh):
    tree = fresh("smic")
    src = tree.root / "HS/s1/micro/negative/s1_ne_03"
    shutil.move(src, tree.root / "HS/s1/micro/positive/s1_ne_03")
    log = RejectLog()
    df = SMICAdapter(tree.root).manifest(log)
    assert len(df) == 2
    assert "folder s1_ne_03 says 'ne' but sits under positive/" in log.rows[0]["reason"]


def test_unknown_emotion_folder_and_bad_name(fresh):
    tree = fresh("smic")
    shutil.move(tree.root / "HS/s1/micro/negative", tree.root / "HS/s1/micro/sad")
    (tree.root / "HS/s3/micro/surprise/s3_sur_02").rename(tree.root / "HS/s3/micro/surprise/clip2")
    log = RejectLog()
    df = SMICAdapter(tree.root).manifest(log)
    assert list(df["sample_id"]) == ["smic_s1_po_01"]
    reasons = " | ".join(r["reason"] for r in log.rows)
    assert "emotion folder 'sad' is not one of" in reasons and "'clip2' is not of the form" in reasons


def test_gap_in_frames_rejected(fresh):
    tree = fresh("smic")
    (tree.root / "HS/s1/micro/positive/s1_po_01/image106723.bmp").unlink()
    log = RejectLog()
    df = SMICAdapter(tree.root).manifest(log)
    assert len(df) == 2 and "frame file(s) missing between onset 106720 and offset 106728: 106723" in log.rows[0]["reason"]


def test_no_hs_folder(tmp_path):
    with pytest.raises(MexkitInputError, match="SMIC-HS folder not found"):
        SMICAdapter(tmp_path).manifest()
