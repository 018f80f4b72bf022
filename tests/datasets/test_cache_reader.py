"""Opening a cache folder: config selection and clear errors."""
from __future__ import annotations

import pytest

from mexkit.datasets import CacheReader, MemoryClipSource, PrepareConfig, PreprocessCache
from mexkit.errors import MexkitInputError


def test_configs_are_kept_apart(tmp_path, corpus):
    src = [MemoryClipSource(corpus.clips[2])]
    a, b = PrepareConfig(resolution=64, flow="dis", frames="key"), PrepareConfig(resolution=64, flow="farneback", frames="key")
    PreprocessCache(tmp_path, a).prepare(src, progress=False)
    assert len(CacheReader(tmp_path)) == 1
    PreprocessCache(tmp_path, b).prepare(src, progress=False)
    with pytest.raises(MexkitInputError, match="several configs"):
        CacheReader(tmp_path)
    ra, rb = CacheReader(tmp_path, a), CacheReader(tmp_path, b.hash())
    sid = corpus.clips[2].sample_id
    assert ra[sid].key != rb[sid].key and ra.flow_method == "dis" and rb.flow_method == "farneback"
    assert sid in ra and "other" not in ra
    with pytest.raises(KeyError):
        ra["other"]
    with pytest.raises(MexkitInputError, match="not in this cache"):
        CacheReader(tmp_path, PrepareConfig(resolution=128, flow="dis"))


def test_not_a_cache(tmp_path):
    with pytest.raises(MexkitInputError, match="not a preprocessing cache"):
        CacheReader(tmp_path)
