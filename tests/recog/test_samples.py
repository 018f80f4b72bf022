"""SampleSet: corpus, in-memory clips, manifests (real and the synthetic writer's), rejects, select/concat."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog
from mexkit.recog.samples import SampleSet, split_subjects
from mexkit.video_io import write_frames


def test_from_corpus_keeps_labelled_clips_and_logs_the_rest(corpus):
    log = RejectLog()
    s = SampleSet.from_corpus(corpus, rejects=log)
    labelled = [c for c in corpus.clips if c.label in ("negative", "positive", "surprise")]
    assert len(s) == len(labelled) and len(log) == len(corpus.clips) - len(labelled)
    assert set(s.subjects) == {"corpus_man", "corpus_woman"}
    assert not s.table["synthetic"].any()
    assert s.y.tolist() == [("negative", "positive", "surprise").index(c.label) for c in labelled]


def test_features_cached_and_carried_through_select_and_concat(param_set):
    x = param_set.features("flow_strain", method="dis")
    assert param_set.features("flow_strain", method="dis") is x  # cached
    part = param_set.select(np.arange(5))
    np.testing.assert_array_equal(part.features("flow_strain", method="dis"), x[:5])
    both = SampleSet.concat([part, param_set.select(np.arange(5, 9))])
    np.testing.assert_array_equal(both.features("flow_strain", method="dis"), x[:9])
    with pytest.raises(MexkitInputError, match="duplicate sample ids"):
        SampleSet.concat([part, part])


def _write_manifest(tmp_path, clips, rows_extra=None):
    rows = []
    for i, c in enumerate(clips):
        write_frames(tmp_path / "clips" / c.sample_id, c.frames)
        rows.append({**c.record(), "path": f"clips/{c.sample_id}", **(rows_extra[i] if rows_extra else {})})
    pd.DataFrame(rows).to_csv(tmp_path / "manifest.csv", index=False)
    return tmp_path / "manifest.csv"


def test_from_manifest_real_and_label_rejects(tmp_path, param_clips):
    clips = param_clips[:4]
    extra = [{}, {}, {}, {"label": "others"}]
    path = _write_manifest(tmp_path, clips, extra)
    log = RejectLog(tmp_path / "rejects.csv")
    s = SampleSet.from_manifest(path, rejects=log)
    assert len(s) == 3 and len(log) == 1 and "others" in log.rows[0]["reason"]
    assert not s.table["synthetic"].any()
    np.testing.assert_array_equal(s.clip(0).frames, clips[0].frames)  # loaded back from the PNG frames
    # a missing frame folder is skipped and logged by prepare, the other rows are kept
    import shutil

    shutil.rmtree(tmp_path / "clips" / clips[1].sample_id)
    log2 = RejectLog()
    kept = s.prepare("flow_strain", {"method": "dis"}, rejects=log2, progress=False)
    assert len(kept) == 2 and len(log2) == 1 and clips[1].sample_id in log2.rows[0]["file"]


def test_from_manifest_synthetic_provenance(tmp_path, warp_clips):
    clips, prov = warp_clips
    path = _write_manifest(tmp_path, clips[:3], [{**p, "generator": "warp", "dataset": "synthetic"} for p in prov[:3]])
    s = SampleSet.from_manifest(tmp_path)  # the writer's output folder
    assert s.table["synthetic"].all()
    assert s.table["source_subject"].tolist() == [p["source_subject"] for p in prov[:3]]
    # synthetic rows that do not say which face they came from are refused
    df = pd.read_csv(path)
    df["source_subject"] = ""
    df.to_csv(path, index=False)
    with pytest.raises(MexkitInputError, match="without source_subject"):
        SampleSet.from_manifest(path)
    df.drop(columns=["source_subject", "train_subjects"]).to_csv(path, index=False)
    with pytest.raises(MexkitInputError, match="source_subject / train_subjects"):
        SampleSet.from_manifest(path)


def test_split_subjects():
    assert split_subjects("a; b;;c") == ["a", "b", "c"]
    assert split_subjects(float("nan")) == [] and split_subjects("") == [] and split_subjects(["x"]) == ["x"]


def test_raw_dataset_frames_are_not_used_silently(tmp_path, param_clips):
    import warnings

    from mexkit.recog.samples import RawFramesWarning

    path = _write_manifest(tmp_path, param_clips[:2], [{"dataset": "casme2"}, {"dataset": "casme2"}])
    with pytest.warns(RawFramesWarning, match="casme2 clips are read as raw, unaligned camera frames"):
        SampleSet.from_manifest(path)
    clean = _write_manifest(tmp_path / "stand_in", param_clips[:2])  # already face crops: nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error", RawFramesWarning)
        SampleSet.from_manifest(clean)


def test_rows_missing_from_the_cache_are_rejected_by_manifest_line_and_the_rest_kept(tmp_path, param_clips):
    """A cache that `mexkit prepare` built without one row (its clip was missing then): reading the manifest through
    the cache logs that row — manifest, line, sample id, stage "cache" — and keeps the others; with nothing usable,
    or no log to list it in, it is refused naming the cache."""
    from mexkit.cli import main

    clips = param_clips[:4]
    path = _write_manifest(tmp_path, clips, [{}] * 4)
    gone = tmp_path / "clips" / clips[2].sample_id
    kept = gone.with_name("kept")
    gone.rename(kept)
    assert main(["prepare", "--manifest", str(path), "--root", str(tmp_path), "--out", str(tmp_path / "cache"), "--flow", "dis",
                 "--resolution", "64", "--no-progress"]) == 0
    kept.rename(gone)
    log = RejectLog()
    s = SampleSet.from_manifest(path, cache=tmp_path / "cache", rejects=log)
    assert s.table["sample_id"].tolist() == [c.sample_id for k, c in enumerate(clips) if k != 2]
    assert log.rows == [{"file": f"{path}: line 4 [{clips[2].sample_id}]", "stage": "cache",
                         "reason": f"{gone}: not in the cache {tmp_path / 'cache'} (see the rejects.csv of `mexkit prepare`, or rerun it)"}]
    assert s.clip(0).frames.shape[1:] == (64, 64, 3)  # read from the cache
    with pytest.raises(MexkitInputError, match="1 samples are not in the cache"):
        SampleSet.from_manifest(path, cache=tmp_path / "cache")
    pd.read_csv(path).iloc[[2]].to_csv(tmp_path / "only_missing.csv", index=False)
    with pytest.raises(MexkitInputError, match="1 samples are not in the cache"):
        SampleSet.from_manifest(tmp_path / "only_missing.csv", cache=tmp_path / "cache", rejects=RejectLog())
