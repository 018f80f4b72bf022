"""MEGC spotting scores and STRS (docs/design.md §8): predicted intervals against ground-truth intervals.

Spotting (MEGC 2020-2025):
- intervals are inclusive frame ranges [onset, offset] within one video; IoU = inter / union with
  inter = max(0, min(e1, e2) − max(s1, s2) + 1) and union = (e1 − s1 + 1) + (e2 − s2 + 1) − inter, so
  disjoint intervals have IoU 0 (the MEGC2020 baseline's result_helper.py adds 1 outside the max and gives
  them 1 / union, and scores any one-frame interval 0);
- a prediction hits a ground-truth interval of the same type (ME with ME, MaE with MaE) when IoU ≥ 0.5;
- TP = ground-truth intervals hit, FP = predictions − TP (a second prediction hitting the same interval is
  a false positive), FN = ground truth − TP. Each prediction is credited to at most one interval (a
  maximum one-to-one matching; it differs from "intervals hit" only when one prediction hits two
  overlapping intervals of one type, where the reference would count both and FP could go below 0);
- P = TP / (TP + FP), R = TP / (TP + FN), F1 = 2PR / (P + R) (0 when undefined), per dataset, for ME,
  MaE and "overall" (ME and MaE counts pooled before P, R, F1); with several datasets also "all".
Spot-then-recognize (MEGC2024/2025, STRS-Metric):
- the analysis looks at the spotting true positives whose ground-truth emotion maps to a class of the class
  set (default the MEGC classes negative / positive / surprise); for each class c: TP_c = pairs with
  predicted and true class c, FP_c = predicted c and true another class, FN_c = true c and predicted another;
- P̄, R̄ = macro means of the per-class precision and recall over the classes of the set that occur in
  the truth or the predictions; F1_analysis = 2·P̄·R̄ / (P̄ + R̄); STRS = F1_spot × F1_analysis. (The
  reference code's "UAR" is the mean precision; mexkit reports R̄, the mean recall, as UAR.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence

import numpy as np
import pandas as pd

from mexkit.datasets.label_maps import MEGC_CLASSES, megc_class
from mexkit.datasets.manifest_columns import SPOT_TYPES
from mexkit.errors import MexkitInputError

IOU_THRESHOLD = 0.5
SCORE_COLUMNS = ["dataset", "type", "n_truth", "n_pred", "tp", "fp", "fn", "precision", "recall", "f1"]
STRS_COLUMNS = ["analysis_tp", "analysis_fp", "analysis_fn", "precision_analysis", "recall_analysis", "uf1_analysis", "f1_analysis", "strs"]
CLASS_COLUMNS = ["dataset", "type", "class", "tp", "fp", "fn", "precision", "recall", "f1"]


def interval_iou(s1: int, e1: int, s2: int, e2: int) -> float:
    """IoU of two inclusive frame intervals [s1, e1], [s2, e2] (0 for disjoint ones)."""
    inter = max(0, min(e1, e2) - max(s1, s2) + 1)
    union = (e1 - s1 + 1) + (e2 - s2 + 1) - inter
    return inter / union if union > 0 else 0.0


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts (0 where a denominator is 0)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def match_intervals(pred: Sequence[tuple[int, int]], truth: Sequence[tuple[int, int]], threshold: float = IOU_THRESHOLD,
                    scores: Sequence[float] | None = None) -> list[tuple[int, int, float]]:
    """A maximum one-to-one matching of predictions to truth intervals (one video, one type) among the
    pairs with IoU ≥ threshold → [(pred index, truth index, IoU)]. Ties: each truth interval prefers the
    prediction with the higher IoU, then the higher score, then the earlier one."""
    order = sorted(range(len(pred)), key=lambda j: -(scores[j] if scores is not None else 0.0))
    rank = {j: k for k, j in enumerate(order)}
    edges: list[list[tuple[float, int]]] = []
    for ts, te in truth:
        cands = [(interval_iou(ps, pe, ts, te), j) for j, (ps, pe) in enumerate(pred)]
        cands = [(iou, j) for iou, j in cands if iou >= threshold]
        edges.append(sorted(cands, key=lambda c: (-c[0], rank[c[1]])))
    owner: dict[int, int] = {}  # pred → truth

    def augment(t: int, seen: set[int]) -> bool:
        for _, j in edges[t]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = t
                return True
        return False

    for t in range(len(truth)):
        augment(t, set())
    return sorted(((j, t, interval_iou(*pred[j], *truth[t])) for j, t in owner.items()), key=lambda m: m[1])


def _key_parts(video: str) -> tuple[str, ...]:
    return tuple(p for p in PurePosixPath(str(video).replace("\\", "/")).parts if p not in ("", "."))


def video_mapping(pred_videos: Sequence[str], truth_videos: Sequence[str], pred_file: str | Path | None = None,
                  truth_file: str | Path | None = None, what: str = "predictions") -> dict[str, str]:
    """Prediction video id → truth video id. Equal ids match; otherwise a prediction id matches the truth id
    that is a trailing path of it, or of which it is a trailing path ("/data/rawpic/s15/15_0101x" ↔
    "s15/15_0101x"; "15_0101x" alone is ambiguous only if two truth videos end with it). A prediction video
    with no (or no unique) truth video → MexkitInputError listing both sets of videos (`what` names the first set)."""
    truth_set = sorted(set(map(str, truth_videos)))
    parts = {t: _key_parts(t) for t in truth_set}
    out, unmatched = {}, []
    for v in sorted(set(map(str, pred_videos))):
        if v in parts:
            out[v] = v
            continue
        pv = _key_parts(v)
        hits = [t for t, tp in parts.items() if tp and pv and (pv[-len(tp):] == tp or tp[-len(pv):] == pv)]
        if len(hits) == 1:
            out[v] = hits[0]
        else:
            unmatched.append(v + (f" (matches {len(hits)} truth videos)" if hits else ""))
    if unmatched:
        def show(xs):
            return ", ".join(xs[:20]) + (f" … ({len(xs)} in all)" if len(xs) > 20 else "")
        raise MexkitInputError(pred_file, f"{what} name video(s) the truth does not hold: {show(unmatched)}; "
                               f"videos in the {what}: {show(sorted(set(map(str, pred_videos))))}; videos in the truth{f' ({Path(truth_file).name})' if truth_file else ''}: {show(truth_set)}",
                               "score predictions against the truth of the same videos (spot with --root at the dataset's frames root so "
                               "the video ids match truth.csv)", stage="score")
    return out


@dataclass
class SpotScores:
    """What `score_spotting` returns.

    scores: one row per dataset × type (overall / ME / MaE; "all" datasets when several) with
    SCORE_COLUMNS (+ STRS_COLUMNS when emotions are scored). per_class: the analysis counts per class.
    truth / pred: the inputs with their matches (truth: hit, pred_row, iou; pred: tp, truth_row, iou,
    truth_video). notes: things the user should know (truth videos without any prediction, …).
    """

    scores: pd.DataFrame
    per_class: pd.DataFrame
    truth: pd.DataFrame
    pred: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def row(self, dataset: str | None = None, type: str = "overall") -> pd.Series:
        """The scores row of one dataset (the only one, or "all", by default) and type."""
        s = self.scores
        ds = dataset if dataset is not None else ("all" if "all" in set(s["dataset"]) else s["dataset"].iloc[0])
        return s[(s["dataset"] == ds) & (s["type"] == type)].iloc[0]


def _check_columns(df: pd.DataFrame, need: Sequence[str], file, what: str) -> None:
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise MexkitInputError(file, f"{what} lacks column(s) {missing}; columns present: {list(df.columns)}",
                               f"give a {what} CSV with {', '.join(need)}", stage="score")


def _check_rows(df: pd.DataFrame, file, what: str) -> None:
    for pos, (on, off, typ) in enumerate(zip(df["onset"], df["offset"], df["type"])):
        where = f"{what} row {pos + 1} ({df['video'].iloc[pos]})"
        if pd.isna(on) or pd.isna(off):
            raise MexkitInputError(file, f"{where}: onset or offset is empty", "fill in both frames", stage="score")
        if int(on) > int(off) or int(on) < 0:
            raise MexkitInputError(file, f"{where}: onset {int(on)} / offset {int(off)} is not an interval of frames (0 ≤ onset ≤ offset)",
                                   "fix the row", stage="score")
        if str(typ) not in SPOT_TYPES:
            raise MexkitInputError(file, f"{where}: type {typ!r} is not one of {list(SPOT_TYPES)}", "write ME or MaE", stage="score")


def _analysis(pairs: list[tuple[str, str]], classes: Sequence[str], present: set[str]) -> tuple[dict, list[dict]]:
    """pairs: (true class, predicted class) of the spotting TPs whose true class is in `classes`."""
    per = []
    for c in classes:
        if c not in present:
            continue
        tp = sum(1 for t, p in pairs if t == c and p == c)
        fp = sum(1 for t, p in pairs if p == c and t != c)
        fn = sum(1 for t, p in pairs if t == c and p != c)
        p_, r_, f_ = prf(tp, fp, fn)
        per.append({"class": c, "tp": tp, "fp": fp, "fn": fn, "precision": p_, "recall": r_, "f1": f_})
    pm = float(np.mean([x["precision"] for x in per])) if per else 0.0
    rm = float(np.mean([x["recall"] for x in per])) if per else 0.0
    summary = {
        "analysis_tp": sum(x["tp"] for x in per), "analysis_fp": sum(x["fp"] for x in per), "analysis_fn": sum(x["fn"] for x in per),
        "precision_analysis": pm, "recall_analysis": rm, "uf1_analysis": float(np.mean([x["f1"] for x in per])) if per else 0.0,
        "f1_analysis": 2 * pm * rm / (pm + rm) if pm + rm else 0.0,
    }
    return summary, per


def score_spotting(pred: pd.DataFrame, truth: pd.DataFrame, iou_threshold: float = IOU_THRESHOLD,
                   classes: Sequence[str] | None = MEGC_CLASSES, restrict_to_predicted: bool = False,
                   pred_file: str | Path | None = None, truth_file: str | Path | None = None) -> SpotScores:
    """MEGC spotting scores (and STRS when both sides carry emotions) of `pred` against `truth`.

    pred: rows with video, onset, offset, type (+ score, + emotion for STRS); truth: SPOT_TRUTH_COLUMNS rows
    (at least dataset, video, onset, offset, type; emotion for STRS). Frames are 0-based inclusive positions.
    classes: the analysis class set (emotion words are mapped with label_maps.megc_class); None: no STRS.
    restrict_to_predicted: score only the truth videos that have a prediction row (default: every truth
    video; those without predictions count their intervals as missed and are listed in `notes`).
    """
    _check_columns(pred, ["video", "onset", "offset", "type"], pred_file, "predictions")
    _check_columns(truth, ["video", "onset", "offset", "type"], truth_file, "truth")
    truth = truth.copy().reset_index(drop=True)
    pred = pred.copy().reset_index(drop=True)
    if "dataset" not in truth.columns:
        truth["dataset"] = "truth"
    truth["dataset"] = truth["dataset"].fillna("").astype(str)
    for df, f, w in ((pred, pred_file, "predictions"), (truth, truth_file, "truth")):
        df["video"] = df["video"].astype(str)
        _check_rows(df, f, w)
        df["onset"] = df["onset"].astype(int)
        df["offset"] = df["offset"].astype(int)
    vmap = video_mapping(pred["video"].tolist(), truth["video"].tolist(), pred_file, truth_file)
    pred["truth_video"] = pred["video"].map(vmap)
    notes = []
    missing = sorted(set(truth["video"]) - set(pred["truth_video"]))
    if restrict_to_predicted:
        truth = truth[truth["video"].isin(set(pred["truth_video"]))].reset_index(drop=True)
    elif missing and len(pred):
        notes.append(f"{len(missing)} truth video(s) without any prediction row (their intervals count as missed): "
                     + ", ".join(missing[:10]) + (" …" if len(missing) > 10 else ""))
    ds_of_video = dict(zip(truth["video"], truth["dataset"]))
    pred["dataset"] = pred["truth_video"].map(ds_of_video).fillna("")
    truth["hit"], truth["pred_row"], truth["iou"] = False, -1, 0.0
    pred["tp"], pred["truth_row"], pred["iou"] = False, -1, 0.0
    scores_ref = pred["score"].astype(float).tolist() if "score" in pred.columns else [0.0] * len(pred)
    for (video, typ), tg in truth.groupby(["video", "type"], sort=False):
        pg = pred[(pred["truth_video"] == video) & (pred["type"] == typ)]
        m = match_intervals(list(zip(pg["onset"], pg["offset"])), list(zip(tg["onset"], tg["offset"])), iou_threshold,
                            [scores_ref[i] for i in pg.index])
        for j, t, iou in m:
            pi, ti = pg.index[j], tg.index[t]
            truth.loc[ti, ["hit", "pred_row", "iou"]] = [True, int(pi), iou]
            pred.loc[pi, ["tp", "truth_row", "iou"]] = [True, int(ti), iou]
    pred["truth_row"] = pred["truth_row"].astype(int)
    truth["pred_row"] = truth["pred_row"].astype(int)

    with_strs = classes is not None and "emotion" in pred.columns and "emotion" in truth.columns \
        and truth["emotion"].map(lambda e: megc_class(e) in classes).any()
    true_cls = truth["emotion"].map(megc_class) if with_strs else None
    pred_cls = pred["emotion"].map(megc_class) if with_strs else None
    rows, per_class = [], []
    datasets = sorted(set(truth["dataset"]))
    for ds in datasets + (["all"] if len(datasets) > 1 else []):
        tmask = truth["dataset"] == ds if ds != "all" else pd.Series(True, index=truth.index)
        pmask = pred["dataset"] == ds if ds != "all" else pd.Series(True, index=pred.index)
        for typ in ("overall", *SPOT_TYPES):
            tm = tmask & (truth["type"] == typ) if typ != "overall" else tmask
            pm = pmask & (pred["type"] == typ) if typ != "overall" else pmask
            n_t, n_p, tp = int(tm.sum()), int(pm.sum()), int((truth["hit"] & tm).sum())
            p_, r_, f_ = prf(tp, n_p - tp, n_t - tp)
            row = {"dataset": ds, "type": typ, "n_truth": n_t, "n_pred": n_p, "tp": tp, "fp": n_p - tp, "fn": n_t - tp,
                   "precision": p_, "recall": r_, "f1": f_}
            if with_strs:
                hits = truth.index[truth["hit"] & tm]
                pairs = [(true_cls[i], pred_cls[truth.loc[i, "pred_row"]]) for i in hits if true_cls[i] in classes]
                present = {c for c in true_cls[tm] if c in classes} | {c for c in pred_cls[pm] if c in classes}
                summary, per = _analysis(pairs, classes, present)
                row.update(summary, strs=f_ * summary["f1_analysis"])
                per_class += [{"dataset": ds, "type": typ, **x} for x in per]
            rows.append(row)
    cols = SCORE_COLUMNS + (STRS_COLUMNS if with_strs else [])
    return SpotScores(pd.DataFrame(rows, columns=cols), pd.DataFrame(per_class, columns=CLASS_COLUMNS), truth, pred, notes)


def read_intervals_csv(path: str | Path, what: str) -> pd.DataFrame:
    """An intervals CSV (predictions or truth.csv), every malformed line refused by file and line."""
    from mexkit.datasets.manifest_csv import read_manifest_csv

    read = read_manifest_csv(path, dtype={"video": str, "subject": str, "emotion": str, "dataset": str, "type": str}, keep_default_na=False,
                             na_values={"onset": [""], "offset": [""], "apex": [""], "score": [""]})
    if read.bad:
        first = read.bad[0]
        more = f" (and {len(read.bad) - 1} more malformed line(s))" if len(read.bad) > 1 else ""
        raise MexkitInputError(first.path, first.reason + more, first.fix, stage="score")
    return read.table


def score_files(pred_path: str | Path, truth_path: str | Path, **kwargs) -> SpotScores:
    """score_spotting over two CSV files (intervals.csv from `mexkit spot` / `detect`, truth.csv)."""
    pred = read_intervals_csv(pred_path, "predictions")
    truth = read_intervals_csv(truth_path, "truth")
    return score_spotting(pred, truth, pred_file=pred_path, truth_file=truth_path, **kwargs)
