"""Shared adapter machinery: loading a manifest row, frames that changed since the manifest."""
from __future__ import annotations

import pytest

from mexkit.datasets import CASME2Adapter, load_manifest_clip
from mexkit.errors import MexkitInputError


def test_load_manifest_clip_checks_frame_count(fresh):
    tree = fresh("casme2")
    m = CASME2Adapter(tree.root).manifest()
    row = m[m["sample_id"] == "casme2_sub01_EP02_01f"].iloc[0].to_dict()
    assert load_manifest_clip(tree.root, row).num_frames == 8
    (tree.root / "CASME2_RAW_selected/sub01/EP02_01f/img53.jpg").unlink()
    with pytest.raises(MexkitInputError, match="7 frames on disk but the manifest says 8"):
        load_manifest_clip(tree.root, row)
    row["path"] = "../elsewhere"
    with pytest.raises(MexkitInputError, match="escapes the dataset root"):
        load_manifest_clip(tree.root, row)


def test_clips_skips_and_logs_broken_rows(fresh):
    from mexkit.rejects import RejectLog

    tree = fresh("casme2")
    ad = CASME2Adapter(tree.root)
    m = ad.manifest()
    (tree.root / "CASME2_RAW_selected/sub02/EP01_11f/img104.jpg").write_bytes(b"broken")
    log = RejectLog()
    clips = list(ad.clips(m, log))
    assert len(clips) == 3 and len(log) == 1 and log.rows[0]["file"].endswith("img104.jpg")
