"""`mexkit prepare` at scale: workers only when they pay off, chunked work, reruns that read no frames."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from mexkit.datasets import PrepareConfig, PreprocessCache, sources_from_manifest
from mexkit.datasets import clip_source as cs
from mexkit.datasets import preprocess_cache as pc
from mexkit.datasets.corpus import CORPUS_DIR

DIS64 = PrepareConfig(resolution=64, flow="dis", frames="key")


@pytest.fixture
def corpus_copy(tmp_path):
    """Three real corpus clips as frame folders + manifest in a folder the test may edit."""
    manifest = pd.read_csv(CORPUS_DIR / "manifest.csv").iloc[:3]
    root = tmp_path / "data"
    for path in manifest["path"]:
        shutil.copytree(CORPUS_DIR / path, root / path)
    return root, manifest


def _arrays(cache: PreprocessCache) -> dict[str, dict[str, np.ndarray]]:
    reader = cache.reader()
    return {sid: {"key_frames": np.asarray(reader[sid].key_frames), "flow": np.asarray(reader[sid].flow)} for sid in reader.index["sample_id"]}


def test_small_jobs_stay_in_process_and_large_ones_use_workers():
    # 7 corpus clips at ~50 ms each never repay a worker start-up; thousands of clips do.
    assert not pc._workers_pay_off(7, 0.05, 2)
    assert pc._workers_pay_off(2000, 0.05, 2)
    assert not pc._workers_pay_off(2000, 0.05, 1)


def test_two_workers_write_the_same_cache_as_one(tmp_path, corpus_copy, monkeypatch):
    root, manifest = corpus_copy
    one = PreprocessCache(tmp_path / "one", DIS64)
    rep1 = one.prepare(sources_from_manifest(manifest, root), workers=1, progress=False)
    monkeypatch.setattr(pc, "_workers_pay_off", lambda *a: True)  # force the pool on a small job
    two = PreprocessCache(tmp_path / "two", DIS64)
    rep2 = two.prepare(sources_from_manifest(manifest, root), workers=2, progress=False)
    assert rep1.config["workers_used"] == 1 and rep2.config["workers_used"] == 2
    assert rep1.computed == rep2.computed == 3
    a, b = _arrays(one), _arrays(two)
    assert a.keys() == b.keys() == set(manifest["sample_id"])
    for sid in a:
        for name in a[sid]:
            np.testing.assert_array_equal(a[sid][name], b[sid][name])


def test_rerun_reads_no_frame_bytes_and_an_edited_file_is_rebuilt(tmp_path, corpus_copy, monkeypatch):
    root, manifest = corpus_copy
    cache = PreprocessCache(tmp_path / "c", DIS64)
    assert cache.prepare(sources_from_manifest(manifest, root), progress=False).computed == 3
    assert (cache.dir / pc.HASH_MEMO).is_file()

    hashed = []
    real_hash = cs.ManifestClipSource.content_hash
    monkeypatch.setattr(cs.ManifestClipSource, "content_hash", lambda self: hashed.append(self.sample_id) or real_hash(self))
    rerun = cache.prepare(sources_from_manifest(manifest, root), progress=False)
    assert (rerun.computed, rerun.cached) == (0, 3) and hashed == []

    # edit one frame of the second clip: its signature changes, it is hashed and computed again
    frame = sorted((root / manifest["path"].iloc[1]).glob("*.jpg"))[manifest["onset"].iloc[1]]
    frame.write_bytes(frame.read_bytes() + b"\0")
    edited = cache.prepare(sources_from_manifest(manifest, root), progress=False)
    assert (edited.computed, edited.cached) == (1, 2)
    assert hashed == [manifest["sample_id"].iloc[1]]

    # --rehash hashes every clip's files again, and finds everything cached
    hashed.clear()
    forced = cache.prepare(sources_from_manifest(manifest, root), progress=False, rehash=True)
    assert (forced.computed, forced.cached) == (0, 3) and sorted(hashed) == sorted(manifest["sample_id"])
