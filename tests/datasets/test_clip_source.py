"""Clip sources and their content hashes (what keys the preprocessing cache)."""
from __future__ import annotations

import shutil

import numpy as np

from mexkit.clip import Clip
from mexkit.datasets import CASME2Adapter, MemoryClipSource, sources_from_manifest


def test_manifest_source_hash_follows_bytes_not_paths(pristine, tmp_path):
    tree = pristine("casme2")
    m = CASME2Adapter(tree.root).manifest()
    a = sources_from_manifest(m, tree.root)
    shutil.copytree(tree.root, tmp_path / "copy")
    b = sources_from_manifest(m, tmp_path / "copy")
    assert [s.content_hash() for s in a] == [s.content_hash() for s in b]
    assert len({s.content_hash() for s in a}) == len(a)
    f = tmp_path / "copy/CASME2_RAW_selected/sub01/EP02_01f/img47.jpg"
    f.write_bytes(f.read_bytes()[:-10] + b"0123456789")
    assert b[0].content_hash() != a[0].content_hash() and b[1].content_hash() == a[1].content_hash()
    # only the annotated range counts: img46..53 are all in range for this sample, img45 does not exist
    assert [p.name for p in a[0].files()] == [f"img{n}.jpg" for n in range(46, 54)]
    clip = a[0].load()
    assert clip.sample_id == "casme2_sub01_EP02_01f" and clip.num_frames == 8


def test_memory_source(face_seqs):
    clip = Clip(frames=face_seqs[0][:6], fps=30, sample_id="x")
    s = MemoryClipSource(clip)
    assert s.content_hash() == MemoryClipSource(Clip(frames=face_seqs[0][:6].copy(), fps=60, sample_id="y")).content_hash()
    other = face_seqs[0][:6].copy()
    other[0, 0, 0, 0] ^= 1
    assert MemoryClipSource(Clip(frames=other, fps=30)).content_hash() != s.content_hash()
    assert s.timing() == (0, 2, 5) and s.load() is clip and s.record()["num_frames"] == 6
