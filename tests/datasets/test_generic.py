"""Generic adapter: frame folders and videos + a manifest CSV; paths must stay inside the root."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fixture_trees as ft
from mexkit.datasets import GenericAdapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.video_io import read_image, read_video


def _manifest(tree, **kw):
    log = RejectLog()
    return GenericAdapter(tree.root, **kw).manifest(log, decode=True), log.rows


def test_folders_and_videos(pristine):
    tree = pristine("generic")
    df, rejects = _manifest(tree)
    assert rejects == []
    for sid, exp in tree.samples.items():
        row = df[df["sample_id"] == sid].iloc[0]
        for k, v in exp.items():
            assert row[k] == v, (sid, k)
    by = df.set_index("sample_id")
    assert by.loc["user_c", "fps"] == 25.0 and by.loc["user_a", "fps"] == 30.0  # video fps from the file
    ad = GenericAdapter(tree.root)
    clip_c = ad.load_clip(df[df["sample_id"] == "user_c"].iloc[0])
    frames, _ = read_video(tree.root / "clips/user_c.mp4")
    np.testing.assert_array_equal(clip_c.frames, frames)
    clip_b = ad.load_clip(df[df["sample_id"] == "user_b"].iloc[0])
    np.testing.assert_array_equal(clip_b.frames[0], read_image(tree.root / "clips/user_b/frame_1.jpg"))
    assert clip_b.apex_estimated and clip_b.offset == 7


def test_prefix_option(pristine):
    df, _ = _manifest(pristine("generic"), prefix="mydata")
    assert set(df["subject"]) == {"mydata_alice", "mydata_bob"}


def _edit_csv(tree, i, **changes):
    df = pd.read_csv(tree.sheet)
    for k, v in changes.items():
        df.loc[i, k] = v
    df.to_csv(tree.sheet, index=False)


def test_path_escaping_root_and_absolute(fresh, tmp_path):
    tree = fresh("generic")
    outside = tmp_path / "outside"
    outside.mkdir()
    _edit_csv(tree, 0, path="../outside")
    _edit_csv(tree, 1, path=str(tree.root / "clips/user_b"))
    df, rejects = _manifest(tree)
    assert list(df["sample_id"]) == ["user_c"]
    assert rejects[0]["file"] == str(tree.sheet)
    assert "row 2 (user_a): path '../outside' escapes the dataset root" in rejects[0]["reason"]
    assert "row 3 (user_b): path" in rejects[1]["reason"] and "is absolute" in rejects[1]["reason"]


def test_missing_fps_and_offset_beyond_clip(fresh):
    tree = fresh("generic")
    _edit_csv(tree, 1, fps=None)
    _edit_csv(tree, 0, offset=10)
    df, rejects = _manifest(tree)
    assert list(df["sample_id"]) == ["user_c"]
    assert "manifest.csv row 2: offset 10 beyond the clip's 10 frames" in rejects[0]["reason"]
    assert "manifest.csv row 3: fps missing or not > 0" in rejects[1]["reason"]


def test_duplicate_sample_ids(fresh):
    tree = fresh("generic")
    m = pd.read_csv(tree.sheet)
    pd.concat([m, m.iloc[[2]]]).to_csv(tree.sheet, index=False)
    df, rejects = _manifest(tree)
    assert set(df["sample_id"]) == {"user_a", "user_b"}
    assert len(rejects) == 2 and all("duplicate sample id 'user_c'" in r["reason"] for r in rejects)


def test_missing_csv_and_columns(fresh):
    tree = fresh("generic")
    df = pd.read_csv(tree.sheet).rename(columns={"subject": "participant"})
    df.to_csv(tree.sheet, index=False)
    with pytest.raises(MexkitInputError, match=r"missing column\(s\) 'subject'"):
        GenericAdapter(tree.root).manifest()
    tree.sheet.unlink()
    with pytest.raises(MexkitInputError, match="manifest CSV not found"):
        GenericAdapter(tree.root).manifest()


def test_mixed_gray_and_colour(fresh, face_seqs):
    tree = fresh("generic")
    ft._write(tree.root / "clips/user_a/00004.png", face_seqs[0][4], gray=True)
    df, rejects = _manifest(tree)
    assert "user_a" not in set(df["sample_id"])
    assert rejects[0]["file"].endswith("00004.png") and "mixes gray and colour" in rejects[0]["reason"]


def test_synthetic_manifest_keeps_provenance(tmp_path, face_seqs):
    """A manifest shaped like `mexkit generate` output reads back with its extra columns."""
    root = tmp_path / "synth"
    from mexkit.video_io import write_frames

    write_frames(root / "clips" / "s0001", face_seqs[0][:8])
    pd.DataFrame([{
        "sample_id": "s0001", "subject": "corpus_man", "dataset": "synthetic", "label": "positive", "aus": "AU12",
        "onset": 0, "apex": 4, "offset": 7, "apex_estimated": False, "fps": 200.0, "num_frames": 8, "path": "clips/s0001",
        "source": "corpus_man__single_face", "generator": "warp", "weights_hash": "", "source_face": "corpus_man__single_face",
        "source_subject": "corpus_man", "train_subjects": "", "intensity": 0.5, "duration_ms": 40.0, "seed": 3,
    }]).to_csv(root / "manifest.csv", index=False)
    df = GenericAdapter(root).manifest(strict=True)
    row = df.iloc[0]
    assert row["dataset"] == "synthetic" and row["subject"] == "corpus_man" and row["generator"] == "warp"
    assert row["source_subject"] == "corpus_man" and row["seed"] == 3 and row["num_frames"] == 8
