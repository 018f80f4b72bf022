"""The preprocessing cache on the embedded corpus and on adapter output: values, keying, reruns, rejects."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import fixture_trees as ft
from mexkit.clip import Clip
from mexkit.cli import main as mexkit_main
from mexkit.datasets import CASME2Adapter, CacheReader, MemoryClipSource, PrepareConfig, PreprocessCache, sources_from_manifest
from mexkit.datasets import preprocess_cache as pc
from mexkit.face import FacePipeline
from mexkit.optical_flow import compute_flow, optical_strain
from mexkit.video_io import read_video

DIS64 = PrepareConfig(resolution=64, flow="dis")


def _forbid_compute(monkeypatch):
    calls = []

    def boom(*a, **k):
        calls.append(a)
        raise AssertionError("compute_item ran on a rerun")

    monkeypatch.setattr(pc, "compute_item", boom)
    return calls


def _mtimes(cache_dir):
    return {p: p.stat().st_mtime_ns for p in (cache_dir / "items").rglob("*") if p.is_file()}


def test_prepare_corpus_cli_then_rerun_does_no_work(tmp_path, corpus, monkeypatch, capsys):
    out = tmp_path / "cache"
    args = ["prepare", "--dataset", "corpus", "--out", str(out), "--flow", "dis", "--resolution", "64", "--no-progress"]
    assert mexkit_main(args) == 0
    first = capsys.readouterr().out
    n = len(corpus.clips)
    assert f"{n} samples: {n} computed, 0 already cached, 0 rejected" in first
    reader = CacheReader(out)
    assert len(reader) == n and reader.flow_method == "dis"
    before = _mtimes(out)
    calls = _forbid_compute(monkeypatch)
    assert mexkit_main(args) == 0
    assert f"{n} samples: 0 computed, {n} already cached, 0 rejected" in capsys.readouterr().out
    assert calls == [] and _mtimes(out) == before


def test_cached_arrays_are_the_pipeline_flow_and_strain(tmp_path, corpus):
    clips = corpus.clips[:2]
    cache = PreprocessCache(tmp_path / "c", DIS64)
    rep = cache.prepare([MemoryClipSource(c) for c in clips], progress=False)
    assert rep.computed == 2 and rep.rejected == 0
    reader = cache.reader()
    pipe = FacePipeline("mediapipe", resolution=64)
    for clip in clips:
        item = reader[clip.sample_id]
        assert isinstance(item.flow, np.memmap) and isinstance(item.frames, np.memmap)
        aligned = pipe.align_clip(clip, resolution=64)
        np.testing.assert_array_equal(item.frames, aligned.frames)
        assert item.frames.shape == (clip.num_frames, 64, 64, 3) and item.frames.dtype == np.uint8
        np.testing.assert_array_equal(item.key_frames, aligned.frames[[clip.onset, clip.apex]])
        flow = compute_flow(aligned.frames[clip.onset], aligned.frames[clip.apex], "dis")
        np.testing.assert_allclose(item.flow, flow)
        np.testing.assert_allclose(item.strain, optical_strain(flow))
        assert np.abs(item.flow).max() > 0.1  # the real faces move between onset and apex
        m = item.meta
        assert (m["onset"], m["apex"], m["offset"]) == (clip.onset, clip.apex, clip.offset)
        assert m["flow_method"] == "dis" and m["flow_requested"] == "dis" and m["face_backend"] == "mediapipe"
        np.testing.assert_allclose(np.array(m["affine"]), aligned.affine)
        back = item.clip()
        assert back.sample_id == clip.sample_id and back.label == clip.label and back.affine.shape == (2, 3)


def test_tvl1_and_its_fallback_are_recorded(tmp_path, corpus, monkeypatch):
    clip = corpus.clips[2]  # the shortest corpus clip
    clip = clip.with_frames(clip.frames[: clip.apex + 1], offset=clip.apex)
    cfg = PrepareConfig(resolution=64, flow="tvl1", frames="key")
    cache = PreprocessCache(tmp_path / "c", cfg)
    cache.prepare([MemoryClipSource(clip)], progress=False)
    assert cache.reader()[clip.sample_id].flow_method == "tvl1"
    assert json.loads((tmp_path / "c/configs" / f"{cfg.hash()}.json").read_text())["flow_used"] == "tvl1"

    import mexkit.optical_flow as of

    monkeypatch.setattr(of, "tvl1_available", lambda: False)  # an OpenCV without cv2.optflow
    assert cfg.resolved()["flow_used"] == "dis"
    rep = cache.prepare([MemoryClipSource(clip)], progress=False)
    assert rep.computed == 1  # a different method is a different config → new item
    info = json.loads((tmp_path / "c/configs" / f"{cfg.hash()}.json").read_text())
    assert info["flow"] == "tvl1" and info["flow_used"] == "dis" and not info["tvl1_available"] and "DIS" in info["flow_fallback"]
    item = CacheReader(tmp_path / "c", cfg)[clip.sample_id]
    assert item.meta["flow_requested"] == "tvl1" and item.flow_method == "dis"
    with pytest.raises(Exception, match="frames='key'"):
        item.frames


def test_keyed_by_content_and_config(fresh, tmp_path, monkeypatch):
    tree = fresh("casme2")
    ad = CASME2Adapter(tree.root)
    cache = PreprocessCache(tmp_path / "c", DIS64)
    first = cache.prepare(sources_from_manifest(ad.manifest(), tree.root), progress=False)
    assert first.computed == 4
    # edit one frame inside one sample: only that sample is recomputed
    img = np.asarray(ft.cv2.imread(str(tree.root / "CASME2_RAW_selected/sub02/EP01_11f/img103.jpg")))
    ft.cv2.imwrite(str(tree.root / "CASME2_RAW_selected/sub02/EP01_11f/img103.jpg"), np.flipud(img).copy())
    again = cache.prepare(sources_from_manifest(ad.manifest(), tree.root), progress=False)
    assert (again.computed, again.cached) == (1, 3)
    assert again.index.set_index("sample_id").loc["casme2_sub02_EP01_11f", "status"] == "computed"
    # a moved dataset (same bytes) hits the cache
    moved = ft.copy_tree(tree, tmp_path / "moved")
    _forbid_compute(monkeypatch)
    assert cache.prepare(sources_from_manifest(CASME2Adapter(moved.root).manifest(), moved.root), progress=False).cached == 4


def test_rejects_listed_and_batch_continues(fresh, tmp_path, media, monkeypatch):
    tree = fresh("casme2")
    ad = CASME2Adapter(tree.root)
    m = ad.manifest()
    ft.corrupt_file(tree.root / "CASME2_RAW_selected/sub01/EP02_01f/img48.jpg")
    no_face, fps = read_video(media / "no_face.mp4", 0, 6)
    sources = sources_from_manifest(m, tree.root) + [MemoryClipSource(Clip(frames=no_face, fps=fps, sample_id="no_face", source="no_face.mp4"))]
    cache = PreprocessCache(tmp_path / "c", DIS64)
    rep = cache.prepare(sources, progress=False)
    assert (rep.computed, rep.rejected) == (3, 2)
    rej = pd.read_csv(tmp_path / "c/rejects.csv")
    assert list(rej.columns) == ["file", "stage", "reason"]
    by_file = dict(zip(rej["file"], zip(rej["stage"], rej["reason"])))
    assert by_file["no_face.mp4"][0] == "detect" and "no face found" in by_file["no_face.mp4"][1]
    bad = str(tree.root / "CASME2_RAW_selected/sub01/EP02_01f/img48.jpg")
    assert by_file[bad][0] == "frames" and "sample casme2_sub01_EP02_01f: cannot decode image" in by_file[bad][1]
    assert len(CacheReader(tmp_path / "c")) == 3
    # rerun: nothing recomputed, the known failures listed again
    _forbid_compute(monkeypatch)
    rep2 = cache.prepare(sources, progress=False)
    assert (rep2.computed, rep2.cached, rep2.rejected) == (0, 3, 2)
    assert pd.read_csv(tmp_path / "c/rejects.csv")["reason"].str.contains("cached rejection").sum() == 2


def test_interrupted_item_is_redone(tmp_path, corpus):
    cache = PreprocessCache(tmp_path / "c", DIS64)
    src = MemoryClipSource(corpus.clips[2])
    key = pc.item_key(src.content_hash(), src.timing(), DIS64)
    half = cache.item_dir(key)
    half.mkdir(parents=True)
    np.save(half / "flow.npy", np.zeros((3, 3, 2), np.float32))  # no meta.json: never finished
    (tmp_path / "c/items/.stale.tmp").mkdir()
    rep = cache.prepare([src], progress=False)
    assert rep.computed == 1 and cache.is_done(key)
    assert cache.reader()[src.sample_id].flow.shape == (64, 64, 2)


def test_workers_give_the_same_arrays(pristine, tmp_path):
    tree = pristine("casme2")
    srcs = sources_from_manifest(CASME2Adapter(tree.root).manifest().iloc[:3], tree.root)
    a = PreprocessCache(tmp_path / "serial", DIS64)
    b = PreprocessCache(tmp_path / "parallel", DIS64)
    a.prepare(srcs, workers=1, progress=False)
    rep = b.prepare(srcs, workers=2, progress=False)
    assert rep.computed == 3
    ra, rb = a.reader(), b.reader()
    for s in srcs:
        for name in ("frames", "flow", "strain"):
            np.testing.assert_array_equal(ra[s.sample_id].array(name), rb[s.sample_id].array(name))


def test_stack_is_memory_mapped_and_reused(tmp_path, corpus):
    cache = PreprocessCache(tmp_path / "c", PrepareConfig(resolution=64, flow="dis", frames="key"))
    cache.prepare([MemoryClipSource(c) for c in corpus.clips[:3]], progress=False)
    reader = cache.reader()
    flows = reader.stack("flow")
    assert isinstance(flows, np.memmap) and flows.shape == (3, 64, 64, 2)
    for i, sid in enumerate(reader.index["sample_id"]):
        np.testing.assert_array_equal(flows[i], reader[sid].flow)
    stacks = list((tmp_path / "c/stacks").iterdir())
    assert len(stacks) == 1
    reader.stack("flow")
    assert list((tmp_path / "c/stacks").iterdir()) == stacks
    kf = reader.stack("key_frames", [reader.index["sample_id"][1]])
    assert kf.shape == (1, 2, 64, 64, 3)
    with pytest.raises(ValueError, match="differ in length"):
        reader.stack("frames")
