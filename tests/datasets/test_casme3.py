"""CAS(ME)^3 Part A adapter: several samples per recording, JpgIndex frame numbers, frame drops."""
from __future__ import annotations

import numpy as np
import pytest

import fixture_trees as ft
from mexkit.datasets import CASME3Adapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import read_image


def test_reads_part_a(pristine):
    tree = pristine("casme3")
    ad = CASME3Adapter(tree.root)
    assert ad.frames_root == tree.root / "part_A/data/part_A_split/part_A"
    log = RejectLog()
    df = ad.manifest(log, decode=True)
    assert log.rows == []
    assert set(df["sample_id"]) == set(tree.samples)
    for sid, exp in tree.samples.items():
        row = df[df["sample_id"] == sid].iloc[0]
        for k, v in exp.items():
            assert row[k] == v, (sid, k)
    assert set(df["path"]) == {"part_A/data/part_A_split/part_A/spNO.1/a/color", "part_A/data/part_A_split/part_A/spNO.2/c/color"}
    assert (df["fps"] == 30.0).all()


def test_dropped_frame_is_skipped_and_recorded(pristine):
    tree = pristine("casme3")
    ad = CASME3Adapter(tree.root)
    df = ad.manifest()
    row = df[df["sample_id"] == "casme3_spNO.1_a_12"].iloc[0]
    assert row["dropped_frames"] == "14" and row["num_frames"] == 8
    clip = ad.load_clip(row)
    color = tree.root / "part_A/data/part_A_split/part_A/spNO.1/a/color"
    np.testing.assert_array_equal(clip.frames[2], read_image(color / "15.jpg"))  # 12, 13, (14 dropped), 15
    np.testing.assert_array_equal(clip.frames[clip.apex], read_image(color / "16.jpg"))
    assert "samples with dropped frames (kept): 1" in ad.check().format()


def test_missing_onset_frame_rejected(fresh):
    tree = fresh("casme3")
    (tree.root / "part_A/data/part_A_split/part_A/spNO.2/c/color/2.jpg").unlink()
    log = RejectLog()
    df = CASME3Adapter(tree.root).manifest(log)
    assert len(df) == 2 and "onset frame 2 has no file in the folder" in log.rows[0]["reason"]


def test_duplicate_rows(fresh):
    tree = fresh("casme3")
    ft.duplicate_row(tree, 2)
    log = RejectLog()
    df = CASME3Adapter(tree.root).manifest(log)
    assert len(df) == 2 and all("duplicate sample id 'casme3_spNO.2_c_2'" in r["reason"] for r in log.rows)


def test_apex_outside_and_renamed_column(fresh):
    tree = fresh("casme3")
    r = ft.edit_cell(tree, 1, "Apex", 30)
    log = RejectLog()
    CASME3Adapter(tree.root).manifest(log)
    assert f"row {r} (spNO.1/a): apex 30 is outside the clip (onset 12 .. offset 20)" in log.rows[0]["reason"]
    ft.rename_column(tree, "emotion", "Emotion")
    with pytest.raises(MexkitInputError, match=r"'emotion' \(found 'Emotion': renamed\?\)"):
        CASME3Adapter(tree.root).manifest()


def test_missing_spreadsheet(fresh):
    tree = fresh("casme3")
    tree.sheet.unlink()
    with pytest.raises(MexkitInputError, match="casme3 annotation spreadsheet not found"):
        CASME3Adapter(tree.root).manifest()
