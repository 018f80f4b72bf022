"""Reading the preprocessing cache: memory-mapped arrays per item and stacked feature arrays.

Arrays open with `np.load(mmap_mode="r")`: nothing is read until touched, many processes share the
page cache, and memory stays flat however many items a loop visits.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_path
from mexkit.clip import Clip
from mexkit.errors import MexkitInputError

ARRAYS = ("frames", "key_frames", "flow", "strain", "landmarks")


@dataclass
class CachedItem:
    """One cached clip. Arrays are read-only memory maps (see preprocess_cache for shapes)."""

    key: str
    dir: Path

    @cached_property
    def meta(self) -> dict:
        return json.loads((self.dir / "meta.json").read_text())

    def array(self, name: str) -> np.ndarray:
        p = self.dir / f"{name}.npy"
        if not p.is_file():
            hint = " (the cache was built with frames='key')" if name == "frames" else ""
            raise MexkitInputError(p, f"cached array {name!r} not found{hint}", "rebuild the cache with `mexkit prepare`", stage="cache")
        return np.load(p, mmap_mode="r")

    frames = property(lambda self: self.array("frames"))
    key_frames = property(lambda self: self.array("key_frames"))
    flow = property(lambda self: self.array("flow"))
    strain = property(lambda self: self.array("strain"))
    landmarks = property(lambda self: self.array("landmarks"))

    @property
    def flow_method(self) -> str:
        return self.meta["flow_method"]

    def clip(self) -> Clip:
        """The aligned clip (frames copied into memory), with its affine and onset landmarks."""
        m = self.meta
        return Clip(
            frames=np.array(self.frames), fps=m["fps"], subject=m["subject"], sample_id=m["sample_id"],
            onset=m["onset"], apex=m["apex"], offset=m["offset"], label=m["label"], dataset=m["dataset"],
            source=m["source"], apex_estimated=m["apex_estimated"], affine=np.array(m["affine"]),
            landmarks=np.array(self.landmarks), meta={"cache_key": self.key, "flow_method": m["flow_method"]},
        )


class CacheReader:
    """The items of one config in a cache folder, by sample id.

    config: a PrepareConfig, a config hash, or None (the folder must then hold exactly one config).
    """

    def __init__(self, cache_dir: str | Path, config=None):
        self.dir = Path(cache_dir)
        idx_path = self.dir / "index.csv"
        if not idx_path.is_file():
            raise MexkitInputError(self.dir, "not a preprocessing cache (no index.csv)", "build it with `mexkit prepare --out DIR`", stage="cache")
        index = pd.read_csv(idx_path, dtype={"config": str, "key": str, "sample_id": str})
        configs = sorted(set(index["config"]))
        want = config.hash() if hasattr(config, "hash") else config
        if want is None:
            if len(configs) != 1:
                raise MexkitInputError(self.dir, f"cache holds several configs {configs}", "pass the config (or its hash) to read", stage="cache")
            want = configs[0]
        if want not in configs:
            raise MexkitInputError(self.dir, f"config {want} not in this cache (has {configs})", "run `mexkit prepare` with that config first", stage="cache")
        self.config_hash = want
        self.config_info = json.loads((self.dir / "configs" / f"{want}.json").read_text())
        self.index = index[(index["config"] == want) & (index["status"] != "rejected")].reset_index(drop=True)
        self._pos = {sid: i for i, sid in enumerate(self.index["sample_id"])}

    @property
    def flow_method(self) -> str:
        """The flow method that really ran (TV-L1 or its fallback)."""
        return self.config_info["flow_used"]

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, sample_id: str) -> bool:
        return sample_id in self._pos

    def __getitem__(self, sample_id: str) -> CachedItem:
        if sample_id not in self._pos:
            raise KeyError(f"{sample_id!r} is not in the cache {self.dir}")
        key = self.index.at[self._pos[sample_id], "key"]
        return CachedItem(key, self.dir / "items" / key)

    def __iter__(self) -> Iterator[CachedItem]:
        for sid in self.index["sample_id"]:
            yield self[sid]

    def stack(self, name: str, sample_ids: list[str] | None = None) -> np.ndarray:
        """One (N, …) memory-mapped array of a fixed-shape kind ("flow", "strain", "key_frames") over
        `sample_ids` (default: all, index order). Built once under stacks/, reused afterwards."""
        if name not in ("flow", "strain", "key_frames", "landmarks"):
            raise ValueError(f"cannot stack {name!r}: frames differ in length per clip")
        ids = list(self.index["sample_id"]) if sample_ids is None else list(sample_ids)
        keys = [self[s].key for s in ids]
        tag = hashlib.sha256(("\n".join(keys) + name).encode()).hexdigest()[:16]
        path = self.dir / "stacks" / f"{name}-{tag}.npy"
        if not path.is_file():
            first = self[ids[0]].array(name)
            with atomic_path(path) as tmp:
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=first.dtype, shape=(len(ids),) + first.shape)
                for i, s in enumerate(ids):
                    out[i] = self[s].array(name)
                out.flush()
                del out
        return np.load(path, mmap_mode="r")
