"""SAMM Long Videos: preamble rows, apex -1, onset 0, fractional frames, the emotion join, the .xls copy."""
from __future__ import annotations

import openpyxl
import pytest

import fixture_trees as ft
from long_truth_checks import check_truth
from mexkit.datasets import make_adapter
from mexkit.datasets.long_video_adapter import round_half_up
from mexkit.datasets.samm_lv import SAMMLongAdapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog


def test_round_half_up():
    assert [round_half_up(x) for x in (4526.5, 4526.49, 4527.5, 0.5, 3.0)] == [4527, 4526, 4528, 1, 3]


def test_reads_release(pristine):
    tree = pristine("samm_lv")
    ad = make_adapter("samm-lv", tree.root)
    log = RejectLog()
    df = ad.truth(log, decode=True)
    assert log.rows == []
    check_truth(df, tree)
    assert (df["fps"] == 200.0).all() and set(df["source"]) == {"SAMM_longvideos/006_1", "SAMM_longvideos/007_3"}
    assert df.loc[df["frame_onset"] == "5", "frame_apex"].item() == "10.5"  # the release's cell as written
    text = ad.check().format()
    assert "annotation sheet: SAMM_LongVideos_V2_Release.xlsx (the only annotation sheet found)" in text
    assert "4 intervals in 2 of 2 videos" in text


def test_xls_copy_and_newest_version(tmp_path, face_seqs):
    tree = ft.build_samm_lv(tmp_path / "samm", face_seqs, xls=True)
    assert tree.sheet.suffix == ".xls"
    df = SAMMLongAdapter(tree.root).truth()
    check_truth(df, tree)
    ft._raw_workbook(tree.root / "SAMM_LongVideos_V2_Release.xlsx", {"FACS_Movement_Only": ft.samm_lv_rows()[:-1]})
    ad = SAMMLongAdapter(tree.root)
    assert len(ad.truth()) == 3 and ad.annotation_file.name == "SAMM_LongVideos_V2_Release.xlsx"
    assert "newest release version" in ad.sheet_note and "SAMM_LongVideos_V1_Release.xls" in ad.sheet_note


def test_no_short_sheet_leaves_emotions_empty_and_says_so(fresh):
    tree = fresh("samm_lv")
    (tree.root / "SAMM_Micro_FACS_Codes_v2.xlsx").unlink()
    df = SAMMLongAdapter(tree.root).truth()
    me = df[df["type"] == "ME"]
    assert (me["emotion"] == "").all() and me["notes"].str.contains("no short-clip SAMM sheet").all()


def test_reversioned_sheet_names_the_missing_column(fresh):
    tree = fresh("samm_lv")
    wb = openpyxl.load_workbook(tree.sheet)
    wb["FACS_Movement_Only"].cell(row=10, column=8, value="Category")
    wb.save(tree.sheet)
    with pytest.raises(MexkitInputError, match="missing column\\(s\\) 'Type'"):
        SAMMLongAdapter(tree.root).truth()
    wb["FACS_Movement_Only"].title = "Movements"
    wb.save(tree.sheet)
    with pytest.raises(MexkitInputError, match="sheet 'FACS_Movement_Only' not found"):
        SAMMLongAdapter(tree.root).truth()
