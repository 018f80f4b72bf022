"""Worker processes give the numbers of one process: the same tables, row for row, on real corpus clips."""
from __future__ import annotations

import pandas as pd
import pytest

from mexkit.eval.suite import EvalSuite


def test_parallel_run_matches_one_process(short_clips, tmp_path):
    families = ["identity", "temporal", "motion", "expression", "distribution"]
    fake = [c.with_frames(c.frames, landmarks=None) for c in short_clips[3:6]]  # synthetic clips carry no landmarks: MediaPipe runs
    real = short_clips[:3]
    one = EvalSuite(families, identity_stride=4, progress=False, examples=1).run(fake, real, out_dir=tmp_path / "one")
    two = EvalSuite(families, identity_stride=4, progress=False, examples=1, workers=2).run(fake, real, out_dir=tmp_path / "two")
    assert set(two.timings["workers"]) == {2} and set(one.timings["workers"]) == {1}
    for family in families[:-1]:
        assert len(one.tables[family]) == 6, family
        pd.testing.assert_frame_equal(one.tables[family], two.tables[family], check_exact=True)
    pd.testing.assert_frame_equal(one.summary, two.summary, check_exact=True)
    pd.testing.assert_frame_equal(one.distribution, two.distribution, check_exact=True)
    assert one.curves.keys() == two.curves.keys()
    for s in one.curves:
        assert one.curves[s].keys() == two.curves[s].keys()
        for sid, curve in one.curves[s].items():
            assert (curve == two.curves[s][sid]).all()
    for name in ("identity", "temporal", "motion", "expression", "summary", "distribution"):
        assert (tmp_path / "one" / f"{name}.csv").read_bytes() == (tmp_path / "two" / f"{name}.csv").read_bytes(), name


def test_unpicklable_settings_fall_back_to_one_process(short_clips, dlib_identity):
    suite = EvalSuite(["identity"], identity_model=dlib_identity.embedder, identity_stride=6, progress=False, examples=0, workers=2)
    with pytest.warns(UserWarning, match="one process"):
        res = suite.run(short_clips[:2])
    assert len(res.tables["identity"]) == 2 and set(res.timings["workers"]) == {1}


def test_auto_starts_workers_only_where_the_clips_repay_them(short_clips):
    from mexkit.eval.workers import CLIPS_PER_WORKER, auto_workers

    assert auto_workers(CLIPS_PER_WORKER - 1, cores=2) == 1  # a worker's start-up costs more than it saves
    assert auto_workers(2 * CLIPS_PER_WORKER, cores=2) == 2 and auto_workers(10_000, cores=2) == 2
    res = EvalSuite(["temporal"], progress=False, examples=0, workers="auto").run(short_clips[:2])
    assert set(res.timings["workers"]) == {1} and len(res.tables["temporal"]) == 2
