"""The preprocessing cache: aligned crops, onset/apex frames, onset→apex optical flow and strain.

Each clip is aligned once on its onset frame through the face pipeline (docs/design.md §3), every frame
is cropped with that transform, and flow from the onset to the apex crop plus its optical strain are
computed. Items are keyed by the clip's content hash, its onset/apex/offset and the config, stored
as plain .npy files (opened memory-mapped by `CacheReader`) and written atomically, so a rerun skips
every finished item — and every item already known to fail — and an interrupted run resumes.

Layout of a cache folder:
    items/<key>/frames.npy        uint8 (T, S, S, 3) aligned crops (config frames="all")
    items/<key>/key_frames.npy    uint8 (2, S, S, 3) onset and apex crops
    items/<key>/flow.npy          float32 (S, S, 2) onset→apex flow (u, v) in pixels
    items/<key>/strain.npy        float32 (S, S) optical strain magnitude
    items/<key>/landmarks.npy     float32 (K, 2) onset landmarks in crop coordinates
    items/<key>/meta.json         annotation, affine, flow method used, config
    failed/<key>.json             why an item was rejected (rerun logs it again without redoing it)
    configs/<config>.json         the config and the flow method that really ran (TV-L1, or DIS where
                                  OpenCV lacks cv2.optflow — see mexkit.optical_flow.resolve_method)
    index.csv                     one row per sample and config: key, status, manifest columns
    hashes.json                   file signature → content hash of file-backed clips (reruns read no frames)
    rejects.csv                   the last run's rejected items (file, stage, reason)
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import pandas as pd

from mexkit.atomic import atomic_path, atomic_write_text
from mexkit.errors import MexkitInputError
from mexkit.optical_flow import FLOW_METHODS, compute_flow, optical_strain, resolve_method
from mexkit.rejects import RejectLog

CACHE_VERSION = 1
HASH_MEMO = "hashes.json"  # file signature (paths, sizes, mtimes) → content hash, so reruns need not read frames
# Seconds until spawned workers have imported mexkit and built their face pipelines (they start side by side):
# measured 6.5 s for one and 8.4 s for two on the 2-core machine at load 3.8. Underestimating it would let
# two workers lose to one on small jobs, so the figure is the loaded one.
WORKER_STARTUP_S = 6.0
FLOW_FALLBACK_NOTE = "TV-L1 needs opencv-contrib (cv2.optflow); without it DIS (medium preset) runs instead"


@dataclass(frozen=True)
class PrepareConfig:
    """What the cache computes. resolution: 64/128/256; backend: face backend name; flow: requested
    method ("tvl1", "dis", "farneback"); frames: "all" stores every aligned frame, "key" only onset
    and apex."""

    resolution: int = 128
    backend: str = "mediapipe"
    flow: str = "tvl1"
    frames: str = "all"

    def __post_init__(self) -> None:
        if self.flow not in FLOW_METHODS:
            raise ValueError(f"unknown flow method {self.flow!r}; choose one of {FLOW_METHODS}")
        if self.frames not in ("all", "key"):
            raise ValueError("frames must be 'all' or 'key'")

    def resolved(self) -> dict[str, Any]:
        """The config as it really runs here (flow method after fallback) — what keys the items."""
        return {**asdict(self), "flow_used": resolve_method(self.flow), "version": CACHE_VERSION}

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.resolved(), sort_keys=True).encode()).hexdigest()[:12]


def item_key(content_hash: str, timing: tuple[int, int, int], config: PrepareConfig) -> str:
    """Cache key of one clip: its content, its onset/apex/offset, and the config."""
    text = f"{content_hash}|{timing[0]},{timing[1]},{timing[2]}|{config.hash()}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass
class PrepareReport:
    """What a `prepare` run did: one index row per sample, and counts."""

    index: pd.DataFrame
    computed: int
    cached: int
    rejected: int
    seconds: float
    rejects: RejectLog
    config: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        rate = self.computed / self.seconds if self.seconds > 0 and self.computed else 0.0
        return (f"{len(self.index)} samples: {self.computed} computed, {self.cached} already cached, {self.rejected} rejected "
                f"in {self.seconds:.1f} s ({rate:.1f} clips/s computed); flow {self.config.get('flow_used')}")


# --- the work for one clip (runs in the main process or a worker) ------------------------------
_PIPELINE = None


def _pipeline(config: PrepareConfig):
    global _PIPELINE
    if _PIPELINE is None or getattr(_PIPELINE, "_mexkit_config", None) != (config.backend, config.resolution):
        from mexkit.face import FacePipeline

        _PIPELINE = FacePipeline(config.backend, resolution=config.resolution)
        _PIPELINE._mexkit_config = (config.backend, config.resolution)
    return _PIPELINE


def _worker_init(config: PrepareConfig) -> None:
    cv2.setNumThreads(1)
    _pipeline(config)


def compute_item(clip, config: PrepareConfig, pipeline=None) -> dict[str, Any]:
    """Align, crop, flow and strain for one clip → arrays and metadata (nothing written).

    Returns {"frames": uint8 (T, S, S, 3), "key_frames": uint8 (2, S, S, 3), "flow": float32 (S, S, 2),
    "strain": float32 (S, S), "landmarks": float32 (K, 2), "meta": dict}.
    """
    pipeline = pipeline or _pipeline(config)
    aligned = pipeline.align_clip(clip, resolution=config.resolution)
    f = aligned.frames
    onset, apex = aligned.onset, int(aligned.apex)
    method = resolve_method(config.flow)
    flow = compute_flow(f[onset], f[apex], method)
    strain = optical_strain(flow)
    lm = np.asarray(aligned.landmarks, np.float32)
    meta = {
        "sample_id": clip.sample_id, "subject": clip.subject, "dataset": clip.dataset, "label": clip.label,
        "onset": onset, "apex": apex, "offset": int(aligned.offset), "apex_estimated": bool(clip.apex_estimated),
        "fps": float(clip.fps), "num_frames": int(len(f)), "source": clip.source,
        "affine": np.asarray(aligned.affine).tolist(), "num_faces": aligned.meta.get("num_faces"),
        "face_backend": aligned.meta.get("face_backend"), "landmark_scheme": aligned.meta.get("landmark_scheme"),
        "flow_requested": config.flow, "flow_method": method, "flow_pair": [onset, apex],
        "frames_stored": config.frames, "config": config.resolved(),
    }
    return {"frames": f, "key_frames": np.stack([f[onset], f[apex]]), "flow": flow, "strain": strain, "landmarks": lm, "meta": meta}


def write_item(item_dir: Path, result: dict[str, Any]) -> None:
    """Write one item folder atomically (all files or none)."""
    with atomic_path(item_dir) as tmp:
        tmp.mkdir()
        if result["meta"]["frames_stored"] == "all":
            np.save(tmp / "frames.npy", result["frames"])
        for name in ("key_frames", "flow", "strain", "landmarks"):
            np.save(tmp / f"{name}.npy", result[name])
        (tmp / "meta.json").write_text(json.dumps(result["meta"], indent=1, default=_json_default))


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _run_one(source, key: str, cache_dir: str, config: PrepareConfig) -> tuple[str, str, str, str, str]:
    """(key, status, file, stage, reason): load, compute and write one item; errors become a rejection
    naming the file at fault (a frame file, or the clip)."""
    item_dir = Path(cache_dir) / "items" / key
    try:
        clip = source.load()
        write_item(item_dir, compute_item(clip, config))
        return key, "computed", "", "", ""
    except MexkitInputError as err:
        return key, "rejected", err.path or source.describe(), err.stage, err.reason
    except Exception as err:  # a broken item must not stop the batch
        return key, "rejected", source.describe(), "process", f"{type(err).__name__}: {err}"


def _run_chunk(items: list[tuple[Any, str]], cache_dir: str, config: PrepareConfig) -> list[tuple[str, str, str, str, str]]:
    """A worker's share: several items per task, so the hand-over costs little per item."""
    return [_run_one(src, key, cache_dir, config) for src, key in items]


def _workers_pay_off(items: int, seconds_per_item: float, workers: int) -> bool:
    """Whether `workers` processes finish `items` sooner than this one, start-up included.

    Serial: items · t. Parallel: WORKER_STARTUP_S (spawn, imports, face pipeline; the workers start
    side by side) + items · t / workers. Start them only when that saves at least one start-up more.
    """
    saved = items * seconds_per_item * (1.0 - 1.0 / workers)
    return saved > 2.0 * WORKER_STARTUP_S


# --- the cache --------------------------------------------------------------------------------
class PreprocessCache:
    """A cache folder. `prepare(sources)` fills it; `reader()` opens it for reading."""

    def __init__(self, cache_dir: str | Path, config: PrepareConfig | None = None):
        self.dir = Path(cache_dir)
        self.config = config or PrepareConfig()

    def item_dir(self, key: str) -> Path:
        return self.dir / "items" / key

    def is_done(self, key: str) -> bool:
        return (self.item_dir(key) / "meta.json").is_file()

    def _failed(self, key: str) -> dict | None:
        p = self.dir / "failed" / f"{key}.json"
        return json.loads(p.read_text()) if p.is_file() else None

    def _write_config(self) -> None:
        import platform

        info = {
            **self.config.resolved(), "config_hash": self.config.hash(), "opencv": cv2.__version__,
            "tvl1_available": resolve_method("tvl1") == "tvl1", "flow_fallback": FLOW_FALLBACK_NOTE,
            "python": platform.python_version(),
        }
        atomic_write_text(self.dir / "configs" / f"{self.config.hash()}.json", json.dumps(info, indent=1))

    def _keyed(self, src) -> tuple[str | None, Exception | None]:
        try:
            return item_key(src.content_hash(), src.timing(), self.config), None
        except (MexkitInputError, OSError) as err:
            return None, err

    def _read_hash_memo(self) -> dict[str, str]:
        p = self.dir / HASH_MEMO
        try:
            return json.loads(p.read_text()) if p.is_file() else {}
        except (OSError, ValueError):
            return {}  # a damaged memo only costs hashing again

    def prepare(self, sources: Sequence, workers: int = 1, progress: bool = True, retry_rejected: bool = False,
                rehash: bool = False) -> PrepareReport:
        """Build the items of `sources` (ManifestClipSource / MemoryClipSource) that are not cached yet.

        Items are keyed by content hash; for file sources the cache remembers each clip's file
        signature (paths, sizes, mtimes) → content hash in hashes.json, so a rerun over unchanged
        files reads no frame bytes (rehash=True hashes every file again). workers > 1 runs items in
        that many processes, started once and handed chunks — but only when the work left is large
        enough to repay their start-up (see `_workers_pay_off`), so more workers are never slower
        than one. Rejected items are listed in rejects.csv and remembered under failed/ so a rerun
        does not redo them (retry_rejected=True tries them again).
        """
        from tqdm.auto import tqdm

        t0 = time.perf_counter()
        sources = list(sources)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        rejects_path = self.dir / "rejects.csv"
        if rejects_path.exists():
            rejects_path.unlink()
        log = RejectLog(rejects_path)
        cfg_hash = self.config.hash()
        memo = {} if rehash else self._read_hash_memo()
        memo_seen: dict[str, str] = {}
        rows: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        pending: dict[str, list[int]] = {}  # key → rows waiting for it (same frames under several ids)
        todo: list[tuple[Any, str]] = []
        bar = tqdm(total=len(sources), desc="prepare", disable=not progress)

        def keyed(src) -> tuple[str | None, Exception | None]:
            try:
                sig = src.file_signature()
                content = memo.get(sig) if sig else None
                if content is None:
                    content = src.content_hash()
                if sig:
                    memo_seen[sig] = content
                return item_key(content, src.timing(), self.config), None
            except (MexkitInputError, OSError) as err:
                return None, err

        for i, src in enumerate(sources):
            key, err = keyed(src)
            rec = {**src.record(), "sample_id": src.sample_id, "key": key or "", "config": cfg_hash, "status": "cached"}
            rows.append(rec)
            if err is not None:
                log.add(getattr(err, "path", "") or src.describe(), getattr(err, "stage", "read"), getattr(err, "reason", f"{type(err).__name__}: {err}"))
            elif src.sample_id in seen:
                log.add(src.describe(), "manifest", f"duplicate sample id {src.sample_id!r} (first at item {seen[src.sample_id]})")
            else:
                seen[src.sample_id] = i
                if self.is_done(key):
                    bar.update(1)
                    continue
                failed = None if retry_rejected else self._failed(key)
                if failed is not None:
                    log.add(failed.get("file") or src.describe(), failed["stage"], failed["reason"] + " (cached rejection; rerun with retry_rejected to try again)")
                elif key in pending:
                    pending[key].append(len(rows) - 1)
                    continue
                else:
                    rec["status"] = "pending"
                    pending[key] = [len(rows) - 1]
                    todo.append((src, key))
                    continue
            rec["status"] = "rejected"
            bar.update(1)

        by_key = {key: src for src, key in todo}

        def finish(result: tuple[str, str, str, str, str]) -> None:
            key, status, file, stage, reason = result
            for pos in pending[key]:
                rows[pos]["status"] = status
            if status == "rejected":
                atomic_write_text(self.dir / "failed" / f"{key}.json", json.dumps({"sample_id": by_key[key].sample_id, "file": file, "stage": stage, "reason": reason}))
                log.add(file, stage, reason)
            bar.update(len(pending[key]))

        try:
            used = self._compute(todo, workers, finish)
        finally:
            bar.close()
        if memo_seen:
            atomic_write_text(self.dir / HASH_MEMO, json.dumps({**memo, **memo_seen}, sort_keys=True))
        index = pd.DataFrame(rows)
        self._write_index(index, cfg_hash)
        count = index["status"].value_counts() if len(index) else {}
        return PrepareReport(
            index=index, computed=int(count.get("computed", 0)), cached=int(count.get("cached", 0)),
            rejected=int(count.get("rejected", 0)), seconds=time.perf_counter() - t0,
            rejects=log, config={**self.config.resolved(), "config_hash": cfg_hash, "workers_used": used},
        )

    def _compute(self, todo: list[tuple[Any, str]], workers: int, finish) -> int:
        """Run the items; returns how many processes did the work (1 = this one)."""
        if not todo:
            return 0
        cache_dir = str(self.dir)
        t = time.perf_counter()
        finish(_run_one(todo[0][0], todo[0][1], cache_dir, self.config))  # also measures one item's cost
        per_item, rest = time.perf_counter() - t, todo[1:]
        if workers <= 1 or not _workers_pay_off(len(rest), per_item, workers):
            for src, key in rest:
                finish(_run_one(src, key, cache_dir, self.config))
            return 1
        chunk = max(1, -(-len(rest) // (workers * 4)))
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(self.config,)) as pool:
            futures = [pool.submit(_run_chunk, rest[i:i + chunk], cache_dir, self.config) for i in range(0, len(rest), chunk)]
            try:
                for fut in as_completed(futures):
                    for result in fut.result():
                        finish(result)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
        return workers

    def _write_index(self, index: pd.DataFrame, cfg_hash: str) -> None:
        path = self.dir / "index.csv"
        if path.is_file():
            old = pd.read_csv(path, dtype={"config": str, "key": str})
            old = old[old["config"].astype(str) != cfg_hash]
            index = pd.concat([old, index], ignore_index=True)
        with atomic_path(path) as tmp:
            index.to_csv(tmp, index=False)

    def reader(self):
        from .cache_reader import CacheReader

        return CacheReader(self.dir, self.config)

    def clear(self) -> None:
        """Remove the whole cache folder."""
        shutil.rmtree(self.dir, ignore_errors=True)
