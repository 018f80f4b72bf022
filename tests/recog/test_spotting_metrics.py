"""MEGC spotting scores and STRS on hand-computed cases (recog/spotting_metrics.py)."""
from __future__ import annotations

import pandas as pd
import pytest

from mexkit.errors import MexkitInputError
from mexkit.recog.spotting_metrics import interval_iou, match_intervals, prf, score_files, score_spotting


def _truth(rows, dataset="d1"):
    return pd.DataFrame([{"dataset": dataset, "video": v, "onset": s, "offset": e, "type": t, "emotion": emo}
                         for v, s, e, t, *emo_ in rows for emo in [emo_[0] if emo_ else ""]])


def _pred(rows):
    return pd.DataFrame([{"video": v, "onset": s, "offset": e, "type": t, "score": sc, "emotion": emo}
                         for v, s, e, t, sc, *emo_ in rows for emo in [emo_[0] if emo_ else ""]])


def test_iou_inclusive_frames():
    assert interval_iou(10, 19, 15, 24) == pytest.approx(5 / 15)  # 15..19 shared; 10 + 10 − 5 frames in the union
    assert interval_iou(3, 3, 3, 3) == 1.0  # one frame each (the MEGC2020 baseline scores any one-frame interval 0)
    assert interval_iou(0, 9, 0, 4) == 0.5
    # disjoint intervals share nothing: IoU 0 (the MEGC2020 baseline's "+ 1" outside the max gives 1 / 9 and 1 / 19)
    assert interval_iou(0, 4, 5, 9) == 0.0
    assert interval_iou(0, 4, 10, 24) == 0.0


def test_prf():
    assert prf(2, 2, 0) == pytest.approx((0.5, 1.0, 2 / 3))
    assert prf(0, 0, 3) == (0.0, 0.0, 0.0)


def test_duplicate_hit_is_a_false_positive_and_types_must_agree():
    truth = _truth([("v1", 10, 19, "ME"), ("v1", 40, 79, "MaE")])
    pred = _pred([
        ("v1", 11, 20, "ME", 0.9),   # IoU 9/11 with the ME: TP
        ("v1", 12, 19, "ME", 0.8),   # IoU 8/10 with the same ME: a duplicate → FP
        ("v1", 10, 19, "MaE", 0.7),  # the ME's frames exactly, but typed MaE → FP
        ("v1", 50, 89, "MaE", 0.6),  # IoU 30/50 with the MaE: TP
    ])
    s = score_spotting(pred, truth)
    me, mae, overall = s.row(type="ME"), s.row(type="MaE"), s.row(type="overall")
    assert (me["tp"], me["fp"], me["fn"]) == (1, 1, 0) and me["f1"] == pytest.approx(2 / 3)
    assert (mae["tp"], mae["fp"], mae["fn"]) == (1, 1, 0)
    assert (overall["tp"], overall["fp"], overall["fn"]) == (2, 2, 0)
    assert overall["precision"] == 0.5 and overall["recall"] == 1.0 and overall["f1"] == pytest.approx(2 / 3)
    assert s.pred["tp"].tolist() == [True, False, False, True] and s.pred["iou"].iloc[0] == pytest.approx(9 / 11)
    assert "strs" not in s.scores.columns  # no emotions in the truth: spotting only


def test_iou_threshold_edge_and_disjoint_neighbours():
    truth = _truth([("v", 0, 9, "ME"), ("v", 30, 39, "ME")])
    pred = _pred([("v", 0, 4, "ME", 1.0),    # IoU exactly 0.5: a hit
                  ("v", 26, 29, "ME", 1.0),  # right before the second: disjoint, IoU 0
                  ("v", 36, 45, "ME", 1.0)])  # 36..39 shared, union 30..45 = 16: 0.25
    s = score_spotting(pred, truth)
    o = s.row()
    assert (o["tp"], o["fp"], o["fn"]) == (1, 2, 1)
    assert s.truth["hit"].tolist() == [True, False]


def test_matching_is_one_to_one_and_maximal():
    # prediction 0 hits both overlapping truths; prediction 1 only the first: both truths can be credited
    m = match_intervals([(0, 9), (0, 7)], [(0, 9), (1, 10)], 0.5)
    assert sorted((j, t) for j, t, _ in m) == [(0, 1), (1, 0)]
    # one prediction over two truths of one type is credited once
    assert len(match_intervals([(0, 10)], [(0, 9), (1, 10)], 0.5)) == 1
    # two predictions of one interval: the higher score takes it when the IoUs tie
    m = match_intervals([(0, 9), (0, 9)], [(0, 9)], 0.5, scores=[0.1, 0.9])
    assert m == [(1, 0, 1.0)]


def test_per_dataset_and_all():
    truth = pd.concat([_truth([("a/v1", 0, 9, "ME"), ("a/v1", 20, 59, "MaE")], "d1"), _truth([("b/v2", 0, 9, "ME")], "d2")])
    pred = _pred([("a/v1", 0, 9, "ME", 1.0), ("b/v2", 30, 39, "ME", 1.0)])
    s = score_spotting(pred, truth)
    assert s.row("d1")["tp"] == 1 and s.row("d1")["fn"] == 1 and s.row("d1", "MaE")["n_pred"] == 0
    assert (s.row("d2")["tp"], s.row("d2")["fp"]) == (0, 1)
    assert (s.row("all")["tp"], s.row("all")["fp"], s.row("all")["fn"]) == (1, 1, 2)


def test_video_ids_match_by_trailing_path_and_mismatch_is_refused():
    truth = _truth([("s15/15_0101x", 0, 9, "ME"), ("s16/16_0101x", 0, 9, "ME")])
    pred = _pred([("/data/casme2/rawpic/s15/15_0101x", 0, 9, "ME", 1.0)])
    s = score_spotting(pred, truth)
    assert s.row()["tp"] == 1 and "1 truth video(s) without any prediction row" in s.notes[0]
    assert score_spotting(pred, truth, restrict_to_predicted=True).row()["fn"] == 0
    assert score_spotting(_pred([("16_0101x", 0, 9, "ME", 1.0)]), truth).truth["hit"].tolist() == [False, True]  # the folder name alone
    two = _truth([("spNO.1/a/color", 0, 9, "ME"), ("spNO.2/a/color", 0, 9, "ME")])
    with pytest.raises(MexkitInputError, match=r"(?s)the truth does not hold: a/color \(matches 2 truth videos\).*spNO.1/a/color, spNO.2/a/color"):
        score_spotting(_pred([("a/color", 0, 9, "ME", 1.0)]), two)
    with pytest.raises(MexkitInputError, match="the truth does not hold: other.mp4.*videos in the truth: s15/15_0101x, s16/16_0101x"):
        score_spotting(_pred([("other.mp4", 0, 9, "ME", 1.0)]), truth)


def test_strs_by_hand():
    # four truths (one 'others', outside the class set), all spotted; one extra FP prediction
    truth = _truth([("v", 0, 9, "ME", "happiness"), ("v", 20, 29, "ME", "disgust"), ("v", 40, 49, "ME", "surprise"),
                    ("v", 60, 69, "ME", "others")])
    pred = _pred([("v", 0, 9, "ME", 1.0, "positive"), ("v", 20, 29, "ME", 1.0, "positive"), ("v", 40, 49, "ME", 1.0, "surprise"),
                  ("v", 60, 69, "ME", 1.0, "negative"), ("v", 80, 89, "ME", 1.0, "negative")])
    s = score_spotting(pred, truth)
    o = s.row()
    # spotting: TP 4, FP 1, FN 0 → P 0.8, R 1, F1 8/9
    assert (o["tp"], o["fp"], o["fn"]) == (4, 1, 0) and o["f1"] == pytest.approx(8 / 9)
    # analysis over the 3 TPs whose truth is a class: (positive, positive), (negative, positive), (surprise, surprise)
    per = s.per_class[s.per_class["type"] == "overall"].set_index("class")
    assert per.loc["positive", ["tp", "fp", "fn"]].tolist() == [1, 1, 0]
    assert per.loc["negative", ["tp", "fp", "fn"]].tolist() == [0, 0, 1]
    assert per.loc["surprise", ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
    p_mean, r_mean = (0.5 + 0 + 1) / 3, (1 + 0 + 1) / 3
    f1a = 2 * p_mean * r_mean / (p_mean + r_mean)
    assert o["precision_analysis"] == pytest.approx(p_mean) and o["recall_analysis"] == pytest.approx(r_mean)
    assert o["f1_analysis"] == pytest.approx(f1a) and o["strs"] == pytest.approx(8 / 9 * f1a)
    assert o["uf1_analysis"] == pytest.approx((2 / 3 + 0 + 1) / 3)


def test_strs_separates_right_from_wrong_names():
    truth = _truth([("v", 0, 9, "ME", "happiness"), ("v", 20, 29, "ME", "disgust")])
    right = score_spotting(_pred([("v", 0, 9, "ME", 1.0, "positive"), ("v", 20, 29, "ME", 1.0, "negative")]), truth).row()
    wrong = score_spotting(_pred([("v", 0, 9, "ME", 1.0, "negative"), ("v", 20, 29, "ME", 1.0, "positive")]), truth).row()
    assert right["strs"] == 1.0 and wrong["strs"] == 0.0 and right["f1"] == wrong["f1"] == 1.0


def test_files_and_bad_rows(tmp_path):
    truth = tmp_path / "truth.csv"
    _truth([("v", 0, 9, "ME")]).to_csv(truth, index=False)
    pred = tmp_path / "intervals.csv"
    _pred([("v", 1, 9, "ME", 1.0)]).to_csv(pred, index=False)
    assert score_files(pred, truth).row()["tp"] == 1
    pred.write_text("video,onset,offset,type,score\nv,5,2,ME,1\n")
    with pytest.raises(MexkitInputError, match="predictions row 1 \\(v\\): onset 5 / offset 2"):
        score_files(pred, truth)
    pred.write_text("video,onset,offset,type,score\nv,1,9,micro,1\n")
    with pytest.raises(MexkitInputError, match="type 'micro' is not one of"):
        score_files(pred, truth)
    pred.write_text("video,onset,offset,type,score\nv,1,9,ME,1\nv,1,9\n")
    with pytest.raises(MexkitInputError, match="line 3: 3 field"):
        score_files(pred, truth)
    pred.write_text("video,start,end\nv,1,9\n")
    with pytest.raises(MexkitInputError, match="predictions lacks column"):
        score_files(pred, truth)


def _score_cli(argv):
    import argparse

    from mexkit.recog.spotting.score_cli import add_score_arguments, run_score

    p = argparse.ArgumentParser()
    add_score_arguments(p)
    return run_score(p.parse_args(argv))


def test_score_command(tmp_path, capsys):
    truth, pred, out = tmp_path / "truth.csv", tmp_path / "intervals.csv", tmp_path / "s" / "scores.csv"
    _truth([("v", 0, 9, "ME", "happiness"), ("v", 20, 59, "MaE", "disgust")]).to_csv(truth, index=False)
    _pred([("v", 1, 9, "ME", 1.0, "positive"), ("v", 70, 79, "ME", 0.5, "negative")]).to_csv(pred, index=False)
    assert _score_cli(["--pred", str(pred), "--truth", str(truth), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "STRS" in text and "per class →" in text
    s = pd.read_csv(out, keep_default_na=False).set_index("type")
    assert s.loc["overall", ["tp", "fp", "fn"]].tolist() == [1, 1, 1] and s.loc["ME", "f1"] == pytest.approx(2 / 3)
    assert set(pd.read_csv(out.with_name("scores_per_class.csv"))["class"]) == {"positive", "negative"}
    assert _score_cli(["--pred", str(pred), "--truth", str(truth), "--no-strs"]) == 0
    assert "STRS" not in capsys.readouterr().out
    with pytest.raises(MexkitInputError, match="--iou must be in"):
        _score_cli(["--pred", str(pred), "--truth", str(truth), "--iou", "0"])
    with pytest.raises(MexkitInputError, match="--truth: a folder"):
        _score_cli(["--pred", str(pred), "--truth", str(tmp_path)])
