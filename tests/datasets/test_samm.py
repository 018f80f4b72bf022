"""SAMM adapter: header on row 13 under notes, absolute frame numbers, gray frames, apex -1."""
from __future__ import annotations

import numpy as np
import openpyxl
import pytest

import fixture_trees as ft
from mexkit.datasets import SAMMAdapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import read_image


def test_reads_header_on_row_13_and_absolute_frames(pristine):
    tree = pristine("samm")
    ws = openpyxl.load_workbook(tree.sheet).active
    assert ws.cell(row=13, column=1).value == "Subject" and ws.cell(row=1, column=1).value  # notes above the header
    log = RejectLog()
    df = SAMMAdapter(tree.root).manifest(log, decode=True)
    assert log.rows == []
    assert set(df["sample_id"]) == set(tree.samples)
    for sid, exp in tree.samples.items():
        row = df[df["sample_id"] == sid].iloc[0]
        for k, v in exp.items():
            assert row[k] == v, (sid, k)
    row = df[df["sample_id"] == "samm_006_1_2"].iloc[0]
    assert row["annotation"] == "SAMM_Micro_FACS_Codes_v2.xlsx row 14"
    assert row["path"] == "SAMM/006/006_1_2" and row["objective_class"] == 1
    # the folder holds 5562..5573; the clip is 5564..5571 (absolute numbers, not positions)
    assert (row["frame_start"], row["frame_stop"], row["num_frames"]) == (5564, 5571, 8)


def test_clip_is_gray_expanded_and_starts_at_onset_file(pristine):
    tree = pristine("samm")
    ad = SAMMAdapter(tree.root)
    df = ad.manifest()
    clip = ad.load_clip(df[df["sample_id"] == "samm_006_1_2"].iloc[0])
    assert clip.frames.shape == (8, 96, 96, 3)
    assert np.array_equal(clip.frames[..., 0], clip.frames[..., 2]) and clip.meta["gray_source"]
    np.testing.assert_array_equal(clip.frames[0], read_image(tree.root / "SAMM/006/006_1_2/006_05564.jpg"))
    np.testing.assert_array_equal(clip.frames[clip.apex], read_image(tree.root / "SAMM/006/006_1_2/006_05568.jpg"))


def test_apex_minus_one_is_unknown(pristine):
    df = SAMMAdapter(pristine("samm").root).manifest()
    row = df[df["sample_id"] == "samm_007_3_1"].iloc[0]
    assert bool(row["apex_estimated"]) and row["subject"] == "samm_007"


def test_shifted_header_still_found(fresh):
    tree = fresh("samm")
    wb = openpyxl.load_workbook(tree.sheet)
    wb.active.insert_rows(2, amount=2)
    wb.save(tree.sheet)
    df = SAMMAdapter(tree.root).manifest()
    assert len(df) == 3 and df["annotation"].str.contains("row 16").any()


def test_missing_header_names_file(fresh):
    tree = fresh("samm")
    ft.rename_column(tree, "Onset Frame", "OnsetFrame")
    with pytest.raises(MexkitInputError, match=r"'Onset Frame' \(found 'OnsetFrame': renamed\?\) in the header on row 13") as e:
        SAMMAdapter(tree.root).manifest()
    assert "SAMM_Micro_FACS_Codes_v2.xlsx" in str(e.value)


def test_missing_spreadsheet(fresh):
    tree = fresh("samm")
    tree.sheet.unlink()
    with pytest.raises(MexkitInputError, match="samm annotation spreadsheet not found"):
        SAMMAdapter(tree.root).manifest()


def test_in_clip_frame_numbers_are_rejected_as_missing_files(fresh):
    # A sheet edited to 1-based in-clip numbers (a common mistake) no longer matches the files.
    tree = fresh("samm")
    r = ft.edit_cell(tree, 0, "Onset Frame", 3)
    ft.edit_cell(tree, 0, "Apex Frame", 7)
    ft.edit_cell(tree, 0, "Offset Frame", 10)
    log = RejectLog()
    df = SAMMAdapter(tree.root).manifest(log)
    assert len(df) == 2
    assert f"SAMM_Micro_FACS_Codes_v2.xlsx row {r}: onset frame 3 has no file in the folder (frames there: 5562..5573)" in log.rows[0]["reason"]


def test_colour_frame_in_gray_clip(fresh, face_seqs):
    tree = fresh("samm")
    ft._write(tree.root / "SAMM/007/007_3_1/007_01223.jpg", face_seqs[1][5])
    log = RejectLog()
    df = SAMMAdapter(tree.root).manifest(log, decode=True)
    assert len(df) == 2 and "mixes gray and colour" in log.rows[0]["reason"] and log.rows[0]["file"].endswith("007_01223.jpg")


def test_non_numeric_frame_cell(fresh):
    tree = fresh("samm")
    r = ft.edit_cell(tree, 2, "Offset Frame", "end")
    log = RejectLog()
    SAMMAdapter(tree.root).manifest(log)
    assert f"row {r} (006/006_5_4): Offset Frame is not a frame number ('end')" in log.rows[0]["reason"]
