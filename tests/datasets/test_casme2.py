"""CASME II adapter on a fixture tree that mirrors the release, and on corrupted variants."""
from __future__ import annotations

import numpy as np
import pytest

import fixture_trees as ft
from mexkit.datasets import CASME2Adapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import read_image


def _rejects(adapter, decode=False):
    log = RejectLog()
    df = adapter.manifest(log, decode=decode)
    return df, log.rows


def test_reads_release_layout_and_sheet(pristine):
    tree = pristine("casme2")
    ad = CASME2Adapter(tree.root)
    df, rejects = _rejects(ad, decode=True)
    assert rejects == []
    assert set(df["sample_id"]) == set(tree.samples)
    for sid, exp in tree.samples.items():
        row = df[df["sample_id"] == sid].iloc[0]
        for k, v in exp.items():
            assert row[k] == v, (sid, k)
    row = df[df["sample_id"] == "casme2_sub01_EP02_01f"].iloc[0]
    assert row["path"] == "CASME2_RAW_selected/sub01/EP02_01f" and row["fps"] == 200.0
    assert row["annotation"] == "CASME2-coding-20140508.xlsx row 2"
    assert (row["frame_start"], row["frame_stop"]) == (46, 53)
    assert row["aus"] == "12" and row["dataset"] == "casme2"


def test_slash_apex_is_middle_frame_and_flagged(pristine):
    ad = CASME2Adapter(pristine("casme2").root)
    df = ad.manifest()
    row = df[df["sample_id"] == "casme2_sub01_EP03_02"].iloc[0]
    assert bool(row["apex_estimated"]) and row["apex"] == (row["num_frames"] - 1) // 2
    clip = ad.load_clip(row)
    assert clip.apex_estimated and clip.apex == row["apex"]


def test_clip_frames_are_the_annotated_files(pristine):
    tree = pristine("casme2")
    ad = CASME2Adapter(tree.root)
    df = ad.manifest()
    row = df[df["sample_id"] == "casme2_sub02_EP01_11f"].iloc[0]  # files img100..107, onset 101, offset 106
    clip = ad.load_clip(row)
    folder = tree.root / "CASME2_RAW_selected/sub02/EP01_11f"
    assert clip.frames.shape == (6, 96, 96, 3) and clip.frames.dtype == np.uint8
    np.testing.assert_array_equal(clip.frames[0], read_image(folder / "img101.jpg"))
    np.testing.assert_array_equal(clip.frames[clip.apex], read_image(folder / "img104.jpg"))
    assert clip.subject == "casme2_sub02" and clip.label == "surprise" and clip.fps == 200.0
    # real faces: the frames are not flat
    assert clip.frames.std() > 20


def test_check_reports_counts(pristine):
    chk = CASME2Adapter(pristine("casme2").root).check()
    text = chk.format()
    assert "4 usable samples, 2 subjects, 0 rejected" in text
    assert chk.counts().loc["casme2_sub01", "total"] == 2
    mc = chk.megc_counts()
    found = dict(zip(mc["quantity"], mc["found"]))
    assert found["samples"] == 3 and found["negative"] == 1  # "others" leaves the composite; repression → negative
    assert "expected" in text and "145" in text


def test_missing_spreadsheet(fresh):
    tree = fresh("casme2")
    tree.sheet.unlink()
    with pytest.raises(MexkitInputError, match="annotation spreadsheet not found"):
        CASME2Adapter(tree.root).manifest()


def test_renamed_column(fresh):
    tree = fresh("casme2")
    ft.rename_column(tree, "OnsetFrame", "Onset Frame")
    with pytest.raises(MexkitInputError, match=r"missing column\(s\) 'OnsetFrame' \(found 'Onset Frame': renamed\?\)") as e:
        CASME2Adapter(tree.root).manifest()
    assert str(tree.sheet) in str(e.value)


def test_onset_after_offset_rejected_with_row(fresh):
    tree = fresh("casme2")
    r = ft.edit_cell(tree, 0, "OnsetFrame", 60)
    df, rejects = _rejects(CASME2Adapter(tree.root))
    assert len(df) == 3 and "casme2_sub01_EP02_01f" not in set(df["sample_id"])
    assert len(rejects) == 1 and rejects[0]["file"] == str(tree.sheet)
    assert f"row {r} (sub01/EP02_01f): onset 60 is after offset 53" in rejects[0]["reason"]


def test_apex_outside_clip_rejected(fresh):
    tree = fresh("casme2")
    ft.edit_cell(tree, 2, "ApexFrame", 120)
    df, rejects = _rejects(CASME2Adapter(tree.root))
    assert len(df) == 3
    assert "apex 120 is outside the clip (onset 101 .. offset 106)" in rejects[0]["reason"]


def test_missing_frame_file_rejected(fresh):
    tree = fresh("casme2")
    (tree.root / "CASME2_RAW_selected/sub01/EP02_01f/img49.jpg").unlink()
    chk = CASME2Adapter(tree.root).check(decode=False)
    assert len(chk.manifest) == 3
    assert len(chk.frames_missing) == 1
    r = chk.frames_missing[0]
    assert r["file"].endswith("sub01/EP02_01f") and "frame file(s) missing between onset 46 and offset 53: 49" in r["reason"]
    assert "row 2" in r["reason"]
    assert "frames missing or unreadable: 1" in chk.format()


def test_unreadable_frame(fresh):
    tree = fresh("casme2")
    bad = tree.root / "CASME2_RAW_selected/sub02/EP19_06f/img33.jpg"
    ft.corrupt_file(bad)
    ad = CASME2Adapter(tree.root)
    df, rejects = _rejects(ad, decode=True)
    assert len(df) == 3 and rejects[0]["file"] == str(bad) and "cannot decode image" in rejects[0]["reason"]
    # without decoding at manifest time, loading the clip names the file
    df = ad.manifest()
    row = df[df["sample_id"] == "casme2_sub02_EP19_06f"].iloc[0]
    with pytest.raises(MexkitInputError, match="cannot decode image") as e:
        ad.load_clip(row)
    assert "img33.jpg" in str(e.value)


def test_empty_frame_file(fresh):
    tree = fresh("casme2")
    (tree.root / "CASME2_RAW_selected/sub01/EP03_02/img12.jpg").write_bytes(b"")
    df, rejects = _rejects(CASME2Adapter(tree.root))
    assert len(df) == 3 and "empty (0 bytes)" in rejects[0]["reason"] and rejects[0]["file"].endswith("img12.jpg")


def test_duplicate_sample_ids(fresh):
    tree = fresh("casme2")
    r = ft.duplicate_row(tree, 1)
    df, rejects = _rejects(CASME2Adapter(tree.root))
    assert "casme2_sub01_EP03_02" not in set(df["sample_id"]) and len(df) == 3
    assert len(rejects) == 2
    assert all("duplicate sample id 'casme2_sub01_EP03_02'" in x["reason"] and f"row {r}" in x["reason"] for x in rejects)


def test_mixed_gray_and_colour_frames(fresh, face_seqs):
    tree = fresh("casme2")
    ft._write(tree.root / "CASME2_RAW_selected/sub01/EP02_01f/img50.jpg", face_seqs[0][3], gray=True)
    df, rejects = _rejects(CASME2Adapter(tree.root), decode=True)
    assert len(df) == 3 and "mixes gray and colour" in rejects[0]["reason"] and rejects[0]["file"].endswith("img50.jpg")


def test_rows_without_frames_and_folders_without_rows(fresh):
    tree = fresh("casme2")
    src = tree.root / "CASME2_RAW_selected/sub02/EP19_06f"
    src.rename(src.with_name("EP19_06"))  # renamed folder: the row loses its frames, the folder its row
    chk = CASME2Adapter(tree.root).check()
    assert [r["file"] for r in chk.rows_without_frames] == [str(src)]
    assert "frame folder not found" in chk.rows_without_frames[0]["reason"]
    assert chk.folders_without_rows == ["CASME2_RAW_selected/sub02/EP19_06"]
    text = chk.format()
    assert "annotation rows without frames: 1" in text and "frame folders without rows: 1" in text


def test_bad_subject_cell_and_strict_mode(fresh):
    tree = fresh("casme2")
    r = ft.edit_cell(tree, 3, "Subject", "participant two")
    df, rejects = _rejects(CASME2Adapter(tree.root))
    assert len(df) == 3 and f"row {r}: subject 'participant two' is not a subject number" in rejects[0]["reason"]
    with pytest.raises(MexkitInputError, match=f"row {r}"):
        CASME2Adapter(tree.root).manifest(strict=True)


def test_missing_root():
    with pytest.raises(MexkitInputError, match="root folder not found"):
        CASME2Adapter("/nonexistent/casme2")
