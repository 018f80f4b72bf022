"""MMEW adapter: Micro_Expression/<emotion>/<Filename>/N.jpg + MMEW_Micro_Exp.xlsx."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import fixture_trees as ft
from mexkit.datasets import MMEWAdapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import read_image


def test_reads_release(pristine):
    tree = pristine("mmew")
    log = RejectLog()
    ad = MMEWAdapter(tree.root)
    df = ad.manifest(log, decode=True)
    assert log.rows == []
    assert set(df["sample_id"]) == set(tree.samples)
    for sid, exp in tree.samples.items():
        row = df[df["sample_id"] == sid].iloc[0]
        for k, v in exp.items():
            assert row[k] == v, (sid, k)
    row = df[df["sample_id"] == "mmew_S03-02-001"].iloc[0]
    assert row["path"] == "Micro_Expression/surprise/S03-02-001" and row["fps"] == 90.0
    clip = ad.load_clip(row)
    np.testing.assert_array_equal(clip.frames[0], read_image(tree.root / "Micro_Expression/surprise/S03-02-001/3.jpg"))
    assert clip.frames.shape[0] == 8


def test_folder_under_other_emotion(fresh):
    tree = fresh("mmew")
    shutil.move(tree.root / "Micro_Expression/disgust/S01-04-001", tree.root / "Micro_Expression/happiness/S01-04-001")
    chk = MMEWAdapter(tree.root).check()
    assert len(chk.manifest) == 3
    assert "sample folder is under happiness/ but the sheet's Estimated Emotion is 'disgust'" in chk.rows_without_frames[0]["reason"]
    assert chk.folders_without_rows == ["Micro_Expression/happiness/S01-04-001"]


def test_onset_after_offset(fresh):
    tree = fresh("mmew")
    r = ft.edit_cell(tree, 0, "OnsetFrame", 10)
    log = RejectLog()
    MMEWAdapter(tree.root).manifest(log)
    assert f"row {r} (S01/S01-01-001): onset 10 is after offset 9" in log.rows[0]["reason"]


def test_renamed_column_and_missing_sheet(fresh):
    tree = fresh("mmew")
    ft.rename_column(tree, "Estimated Emotion", "Emotion")
    with pytest.raises(MexkitInputError, match="missing column"):
        MMEWAdapter(tree.root).manifest()
    tree.sheet.unlink()
    with pytest.raises(MexkitInputError, match="spreadsheet not found"):
        MMEWAdapter(tree.root).manifest()
