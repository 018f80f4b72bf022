"""CASME (the first release) adapter on a fixture tree that mirrors the release: two camera sections with
different frame naming, the released .xls sheet with spacer columns and "\\" ApexF2 cells; MEB's layouts;
the errata published against MEB's casme.xlsx; an unreadable AU cell as a reject naming sheet and row."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import fixture_trees as ft
from mexkit.datasets import CASMEAdapter, make_adapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import read_image


def _manifest(adapter, decode=False):
    log = RejectLog()
    return adapter.manifest(log, decode=decode), log.rows


def test_reads_release_layout_and_sheet(pristine):
    tree = pristine("casme")
    ad = CASMEAdapter(tree.root)
    df, rejects = _manifest(ad, decode=True)
    assert rejects == []
    assert ad.annotation_file == tree.sheet and ad.annotation_file.suffix == ".xls"
    assert set(df["sample_id"]) == set(tree.samples)
    for sid, exp in tree.samples.items():
        row = df[df["sample_id"] == sid].iloc[0]
        for k, v in exp.items():
            assert row[k] == v, (sid, k)
    row = df.set_index("sample_id").loc["casme_sub01_EP01_5"]
    assert row["fps"] == 60.0 and row["dataset"] == "casme" and row["aus"] == "12" and row["apex_last"] == 116
    assert row["annotation"] == "CASME-coded-20190721.xls row 2"
    assert np.isnan(float(df.set_index("sample_id").loc["casme_sub01_EP03_1", "apex_last"]))  # "\\": a one-frame apex
    odd = df.set_index("sample_id").loc["casme_sub02_EP08_2"]  # "R14A+38": AU14 counted, AU38 listed
    assert (odd["au_target"], odd["au_other"]) == ("AU14", "AU38") and "AU38" in odd["au_notes"]


def test_clip_frames_are_the_annotated_files_in_both_sections(pristine):
    tree = pristine("casme")
    ad = CASMEAdapter(tree.root)
    df = ad.manifest().set_index("sample_id", drop=False)
    a = ad.load_clip(df.loc["casme_sub01_EP01_5"])  # Section A: EP01_5-112.jpg … unpadded
    folder = tree.root / "RAW/CASME_A/Section A/sub01/EP01_5"
    np.testing.assert_array_equal(a.frames[0], read_image(folder / "EP01_5-112.jpg"))
    np.testing.assert_array_equal(a.frames[a.apex], read_image(folder / "EP01_5-115.jpg"))
    b = ad.load_clip(df.loc["casme_sub08_EP03_2"])  # Section B: three-digit numbers
    folder = tree.root / "RAW/CASME_B/Section B/sub08/EP03_2"
    np.testing.assert_array_equal(b.frames[b.apex], read_image(folder / "EP03_2-061.jpg"))
    assert b.frames.shape == (7, 96, 96, 3) and b.label == "tense" and b.subject == "casme_sub08" and b.frames.std() > 20


def test_meb_layouts_read_the_same(fresh):
    tree = fresh("casme")
    want = CASMEAdapter(tree.root).manifest()[["sample_id", "num_frames", "apex", "au_target"]]
    # MEB's CASME_raw_selected: the subject folders of both sections gathered in one folder
    flat = tree.root / "CASME_raw_selected"
    for section in ft.CASME_SECTIONS.values():
        for sub in (tree.root / section).iterdir():
            shutil.move(str(sub), flat / sub.name)
    shutil.rmtree(tree.root / "RAW")
    got = CASMEAdapter(tree.root).manifest()
    assert got[want.columns].equals(want) and got["path"].str.startswith("CASME_raw_selected/").all()
    # MEB's face crops: Cropped/subNN/EP…/reg_EP…-N.jpg
    flat.rename(tree.root / "Cropped")
    for f in (tree.root / "Cropped").glob("*/*/*.jpg"):
        f.rename(f.with_name("reg_" + f.name))
    got = CASMEAdapter(tree.root).manifest()
    assert got[want.columns].equals(want) and got["path"].str.startswith("Cropped/").all()


def test_check_reports_counts_aus_and_errata(pristine):
    chk = CASMEAdapter(pristine("casme").root).check()
    text = chk.format()
    assert "5 usable samples, 4 subjects, 0 rejected" in text
    assert "AU targets (12 MEB AUs) for 5 of 5 samples: AU1 1, AU2 1, AU4 2," in text and "AU38 ×1" in text
    assert chk.au_summary()["positives"]["AU14"] == 1 and chk.au_summary()["other"] == {"AU38": 1}
    # MEB's errata are against its own conversion (casme.xlsx), not the released coded sheet
    assert "errata applied: 0" in text and "published against casme.xlsx" in text


def test_unreadable_au_cell_is_a_reject_naming_sheet_and_row(fresh):
    tree = fresh("casme")
    ft.write_casme_sheet(tree.sheet, {(2, "AU"): "R14A+smile"})
    df, rejects = _manifest(CASMEAdapter(tree.root))
    assert len(df) == 4 and "casme_sub02_EP08_2" not in set(df["sample_id"])
    assert len(rejects) == 1 and rejects[0]["file"] == str(tree.sheet)
    assert "CASME-coded-20190721.xls row 4: AU cell 'R14A+smile' cannot be read ('smile' is not an action unit code)" in rejects[0]["reason"]
    with pytest.raises(MexkitInputError, match="row 4: AU cell") as e:
        CASMEAdapter(tree.root).manifest(strict=True)
    assert "FACS codes joined by '+'" in e.value.fix


def test_missing_subject_folder_and_bad_onset(fresh):
    tree = fresh("casme")
    shutil.rmtree(tree.root / "RAW/CASME_B/Section B/sub09")
    ft.write_casme_sheet(tree.sheet, {(0, "OnsetF"): 120})
    chk = CASMEAdapter(tree.root).check(decode=False)
    assert len(chk.manifest) == 3
    assert "frame folder not found" in chk.rows_without_frames[0]["reason"] and "row 6" in chk.rows_without_frames[0]["reason"]
    assert any("row 2 (sub01/EP01_5): onset 120 is after offset 118" in r["reason"] for r in chk.rejects.rows)


def _meb_sheet_tree(root, seqs):
    """casme.xlsx with 141 rows (MEB's conversion): rows 40, 42, 43, 54 and 140 as released have onsets or
    offsets without frame files; the errata's corrected frames have files."""
    fixes = {40: (100, 120, 149), 42: (101, 110, 119), 43: (57, 65, 74), 54: (30, 35, 40), 140: (130, 136, 142)}
    seqs = ft._small(seqs)
    rows = []
    for k in range(141):
        sub, fn = k % 3 + 1, f"EP{k:03d}"
        on, ap, off = fixes.get(k, (10, 11, 12))
        for i, img in enumerate(ft._frames(seqs[k % len(seqs)], off - on + 1, k)):
            ft._write(root / "CASME_raw_selected" / f"sub{sub:02d}" / fn / f"{fn}-{on + i}.jpg", img)
        released_on, released_off = (on - 5, off) if k in (40, 42, 43) else (on, off + 3) if k in fixes else (on, off)
        rows.append([sub, fn, None, released_on, ap, None, released_off, None, 100.0, 200.0, "4", "tense"])
    ft._workbook(root / "casme.xlsx", "Sheet1", ft.CASME_HEADER, rows)


def test_errata_apply_to_mebs_casme_xlsx(tmp_path, face_seqs):
    _meb_sheet_tree(tmp_path / "casme", face_seqs)
    fixed = CASMEAdapter(tmp_path / "casme")
    df, rejects = _manifest(fixed)
    assert rejects == [] and len(df) == 141 and "casme.xlsx" in fixed.sheet_note
    assert len(fixed.errata_report.applied) == 11
    row = df.set_index("sample_id").loc["casme_sub02_EP040"]
    assert (row["frame_start"], row["frame_stop"], row["num_frames"], row["apex"]) == (100, 149, 50, 20)
    assert row["errata"] == "casme v1 #1 onset;casme v1 #4 offset;casme v1 #9 apex"
    raw, rejects = _manifest(CASMEAdapter(tmp_path / "casme", errata=False))
    assert len(raw) == 136 and len(rejects) == 5 and all("has no file" in r["reason"] for r in rejects)


def test_by_name(pristine):
    root = pristine("casme").root
    assert isinstance(make_adapter("casme", root), CASMEAdapter) and isinstance(make_adapter("CASME1", root), CASMEAdapter)
