"""4DME adapter: gray_micro/<sub_ID>/<fold_name>/ frames + "4DME_Labelling_Micro_release v1.xlsx"."""
from __future__ import annotations

import numpy as np
import pytest

import fixture_trees as ft
from mexkit.datasets import FourDMEAdapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog


def test_reads_release(pristine):
    tree = pristine("fourdme")
    ad = FourDMEAdapter(tree.root)
    log = RejectLog()
    df = ad.manifest(log, decode=True)
    assert log.rows == []
    assert set(df["sample_id"]) == set(tree.samples)
    for sid, exp in tree.samples.items():
        row = df[df["sample_id"] == sid].iloc[0]
        for k, v in exp.items():
            assert row[k] == v, (sid, k)
    row = df[df["sample_id"] == "fourdme_S02_2nd_003_02_1"].iloc[0]
    assert row["label"] == "Surprise+Positive" and row["positive"] == 1 and row["surprise"] == 1 and row["negative"] == 0
    clip = ad.load_clip(row)
    assert clip.frames.shape == (9, 96, 96, 3) and clip.meta["gray_source"] and clip.fps == 60.0
    assert np.array_equal(clip.frames[..., 0], clip.frames[..., 1])


def test_onset_after_offset_and_apex_outside(fresh):
    tree = fresh("fourdme")
    r0 = ft.edit_cell(tree, 0, "Onset", 2489)
    r1 = ft.edit_cell(tree, 1, "Apex", 699)
    log = RejectLog()
    df = FourDMEAdapter(tree.root).manifest(log)
    assert df.empty
    reasons = [r["reason"] for r in log.rows]
    assert f"row {r0} (S01/S01_1st_001_01_1): onset 2489 is after offset 2488" in reasons[0]
    assert f"row {r1} (S02/S02_2nd_003_02_1): apex 699 is outside the clip" in reasons[1]


def test_missing_frames_folder_and_sheet(fresh):
    tree = fresh("fourdme")
    (tree.root / "gray_micro").rename(tree.root / "frames")
    with pytest.raises(MexkitInputError, match="no fourdme frames folder"):
        FourDMEAdapter(tree.root).manifest()
    assert len(FourDMEAdapter(tree.root, frames_dir="frames").manifest()) == 2
    tree.sheet.unlink()
    with pytest.raises(MexkitInputError, match="spreadsheet not found"):
        FourDMEAdapter(tree.root, frames_dir="frames").manifest()
