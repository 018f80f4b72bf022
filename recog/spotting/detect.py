"""Spot then recognize: find expression intervals in a video and name each one (`mexkit detect`, docs/design.md §8).

    rec = load_recognizer("mexkit-demo")
    found = detect_video("talk.mp4", rec)         # one video → DetectResult
    found.intervals     # DETECT columns: the MEGC submission columns, then apex, type, scores, predicted class…
    detect_videos(["a.mp4", "b.mp4"], "out/", rec, truth="truth.csv")   # the run: intervals.csv, report.html

Per video: one streaming pass spots (recog/spotting `spot_stream`, the chosen spotter plus the face-box
recorder of detect_clips.py), a second streaming pass cuts each interval into a clip aligned once on its
onset frame (`cut_clips`), and the kept recognizer names the clips (`KeptRecognizer.predict_clips`: class,
a score per class, AUs when the model has an AU head). Nothing holds the whole video.

A run folder holds `videos/<name>/` per video (detections.csv, signals.parquet, gaps.csv, info.json and
cards/ with the report's onset / apex snapshots and magnified GIFs), written as one atomic folder so a
killed run leaves each video whole or absent and a rerun skips the finished ones; then intervals.csv (every
video), scores.csv and scores_per_class.csv with --truth, and report.html.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_path, atomic_write_text
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .detect_clips import FaceBoxRecorder, iter_cut_clips
from .magnify import ALPHA, SLOWDOWN, gif_bytes, magnify, magnify_alpha, slow_motion
from .spot_output import source_key, stored_meta
from .spot_video import SpotResult, spot_stream, video_name

# MEGC submission columns first (subject, video, onset, offset, emotion = the predicted class), then the rest.
SUBMISSION_COLUMNS = ["subject", "video", "onset", "offset", "emotion"]
DETECT_BASE_COLUMNS = [*SUBMISSION_COLUMNS, "apex", "type", "score", "face_id", "onset_s", "offset_s", "duration_ms",
                       "predicted", "sample_id", "alignment", "magnification", "note"]
TEXT_COLUMNS = {"subject", "video", "emotion", "type", "predicted", "sample_id", "alignment", "note", "aus_predicted"}
# The spotter's signal drawn on the timeline (its activity / contrast); others: its last column.
TIMELINE_SIGNAL = {"blendshapes": "bs_activity", "mdmd": "mdmd_C_me", "roi-flow": "roi_a_me", "roi_flow": "roi_a_me"}


def timeline_signal(columns: Sequence[str], spotter: str) -> str | None:
    """The signal column the timeline draws for a spotter."""
    col = TIMELINE_SIGNAL.get(spotter)
    if col in columns:
        return col
    skip = {"frame", "time_s", "face_id", "segment", "video"}
    rest = [c for c in columns if c not in skip and not c.startswith(("head_", "box_", "eye_"))]
    return rest[-1] if rest else None


@dataclass
class Card:
    """What the report shows of one interval, encoded as soon as the clip is cut (its frames are not kept):
    the aligned onset and apex crops as PNG bytes and the magnified, slowed clip as GIF bytes."""

    onset: bytes
    apex: bytes
    gif: bytes


def png_bytes(image: np.ndarray) -> bytes:
    """An RGB uint8 (H, W, 3) image as PNG bytes."""
    import cv2

    return cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))[1].tobytes()


@dataclass
class DetectResult:
    """One video's detections: intervals (DETECT columns + the recognizer's score/AU columns), the spotting
    result (signals, gaps, info), the cards, the clips that could not be named (a RejectLog) and info."""

    intervals: pd.DataFrame
    spot: SpotResult
    cards: list[Card]
    rejects: RejectLog = field(default_factory=RejectLog)
    info: dict[str, Any] = field(default_factory=dict)


def _recognizer_columns(rec) -> list[str]:
    return [c for c in rec.columns if c not in ("sample_id", "input", "label", "predicted")]


def detect_video(source: str | Path, recognizer, spotter: str = "default", fps: float | None = None, all_faces: bool = False,
                 video: str | None = None, subject: str = "", progress: bool = True, pipeline=None,
                 alpha: float = ALPHA, slowdown: float = SLOWDOWN, **spotter_overrides) -> DetectResult:
    """Spot one video file or frame folder, cut and align each interval, name it (see the module docstring).

    recognizer: a KeptRecognizer (`load_recognizer`); spotter: a name of spotter_names(); pipeline: the
    FacePipeline that aligns the onset frames (default: mediapipe at the recognizer's resolution).
    """
    from mexkit.video_stream import VideoStream

    from .spotter import make_spotter

    stream = VideoStream(source, fps)
    sp = make_spotter(spotter, stream.fps, **spotter_overrides)
    spot, boxes = spot_stream(stream, [sp, FaceBoxRecorder(stream.fps)], all_faces=all_faces, progress=progress,
                              video=video, subject=subject)
    resolution = int(recognizer.input.get("resolution") or 128)
    if pipeline is None:
        from mexkit.face.pipeline import FacePipeline

        pipeline = FacePipeline("mediapipe", resolution=resolution if resolution in (64, 128, 256) else 128)
    iv = spot.intervals.reset_index(drop=True)
    ids = [f"{spot.info['video']}#{int(r.face_id)}:{int(r.onset)}-{int(r.offset)}" for r in iv.itertuples()]
    rejects = RejectLog()
    feats, cuts, cards = {}, {}, {}
    for cut in iter_cut_clips(VideoStream(source, fps), iv, boxes.signals, resolution=resolution, pipeline=pipeline, sample_ids=ids,
                              fps=stream.fps, all_faces=all_faces):  # as each interval ends: feature, card; its frames dropped
        try:
            feats[cut.row] = recognizer.clip_feature(cut.clip)
        except (MexkitInputError, ValueError) as err:
            rejects.add_error(cut.clip.source, err, stage="features")
        frames = cut.clip.frames
        a = magnify_alpha(frames, alpha)
        gif, gif_fps = slow_motion(magnify(frames, a), stream.fps, slowdown)
        cards[cut.row] = Card(png_bytes(frames[0]), png_bytes(frames[cut.clip.apex]), gif_bytes(gif, gif_fps))
        cuts[cut.row] = (cut.alignment, cut.missing_frames, cut.clip.source, round(1.0 + a, 2), cut.clip.apex, cut.clip.apex_estimated)
    named_rows = sorted(feats)
    table = recognizer.predict_features(np.stack([feats[i] for i in named_rows]), [ids[i] for i in named_rows]) if named_rows \
        else pd.DataFrame(columns=recognizer.columns)
    by_id = table.set_index("sample_id")
    times = spot.signals.drop_duplicates("frame").set_index("frame")["time_s"] if len(spot.signals) else pd.Series(dtype=float)
    rec_cols = _recognizer_columns(recognizer)
    reasons = {r["file"]: r["reason"] for r in rejects.rows}
    rows = []
    for i in sorted(cuts):
        r, sid = iv.loc[i], ids[i]
        alignment, missing, source, magnification, apex, apex_estimated = cuts[i]
        t0 = float(times.get(int(r["onset"]), int(r["onset"]) / stream.fps))
        t1 = float(times.get(int(r["offset"]), int(r["offset"]) / stream.fps))
        named = sid in by_id.index
        note = "" if named else f"not named: {reasons.get(source, 'the recognizer could not use the clip')}"
        if missing:
            note = "; ".join(x for x in (note, f"{len(missing)} frame(s) did not decode") if x)
        if apex_estimated:  # the spotter's apex was the onset frame (detect_clips.estimated_apex)
            note = "; ".join(x for x in (note, f"apex estimated (the spotter's was the onset frame {int(r['apex'])})") if x)
        row = {"subject": r["subject"], "video": r["video"], "onset": int(r["onset"]), "offset": int(r["offset"]),
               "emotion": by_id.loc[sid, "predicted"] if named else "", "apex": int(r["onset"]) + int(apex), "type": r["type"],
               "score": float(r["score"]), "face_id": int(r["face_id"]), "onset_s": round(t0, 4), "offset_s": round(t1, 4),
               "duration_ms": round((t1 - t0 + 1.0 / stream.fps) * 1000.0, 1), "predicted": by_id.loc[sid, "predicted"] if named else "",
               "sample_id": sid, "alignment": alignment, "magnification": magnification, "note": note}
        for c in rec_cols:
            row[c] = by_id.loc[sid, c] if named else ("" if c == "aus_predicted" else np.nan)
        rows.append(row)
    cards = [cards[i] for i in sorted(cuts)]
    intervals = pd.DataFrame(rows, columns=DETECT_BASE_COLUMNS + rec_cols)
    info = {**spot.info, "recognizer": str(recognizer.path or ""), "classes": list(recognizer.classes), "score_kind": recognizer.score_kind,
            "aus": list(recognizer.au_names), "resolution": resolution, "magnification": {"alpha": alpha, "sigma_px": 2.0, "slowdown": slowdown},
            "not_named": len(rejects), "duration_s": float(times.max() + 1.0 / stream.fps) if len(times) else 0.0,
            "timeline_signal": timeline_signal(list(spot.signals.columns), sp.name)}
    return DetectResult(intervals, spot, cards, rejects, info)


# --- the run folder -----------------------------------------------------------------------------------
def _request(path: Path, spotter: str, all_faces: bool, fps: float | None, recognizer) -> dict:
    return {**source_key(path), "spotter": spotter, "all_faces": all_faces, "fps": fps,
            "recognizer": str(recognizer.path or ""), "classes": list(recognizer.classes)}


def save_detection(folder: Path, res: DetectResult, request: dict) -> None:
    """One video's detections as an atomic folder (see the module docstring)."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        (tmp / "cards").mkdir()
        res.intervals.to_csv(tmp / "detections.csv", index=False)
        res.spot.signals.to_parquet(tmp / "signals.parquet", index=False)
        res.spot.gaps.to_csv(tmp / "gaps.csv", index=False)
        for k, card in enumerate(res.cards):
            (tmp / "cards" / f"{k:04d}_onset.png").write_bytes(card.onset)
            (tmp / "cards" / f"{k:04d}_apex.png").write_bytes(card.apex)
            (tmp / "cards" / f"{k:04d}_magnified.gif").write_bytes(card.gif)
        (tmp / "rejects.csv").write_text(pd.DataFrame(res.rejects.rows, columns=["file", "stage", "reason"]).to_csv(index=False))
        (tmp / "info.json").write_text(json.dumps({"request": request, "info": res.info}, indent=1, default=str))


@dataclass
class StoredDetection:
    """A video's detections read back from its folder (cards as encoded PNG / GIF bytes)."""

    intervals: pd.DataFrame
    signals: pd.DataFrame
    gaps: pd.DataFrame
    info: dict
    cards: list[tuple[bytes, bytes, bytes]]
    folder: Path


def load_detection(folder: Path, request: dict | None = None) -> StoredDetection | None:
    """A stored video result, or None when absent, incomplete or made for another request."""
    meta = stored_meta(folder, ("detections.csv", "signals.parquet", "gaps.csv", "info.json"), request)
    if meta is None:
        return None
    iv = pd.read_csv(folder / "detections.csv", dtype=str, keep_default_na=False)
    for c in iv.columns:  # numbers back to numbers ("" → NaN: a clip the recognizer could not name has no scores)
        if c not in TEXT_COLUMNS:
            iv[c] = pd.to_numeric(iv[c], errors="coerce")
    cards = []
    for k in range(len(iv)):
        paths = [folder / "cards" / f"{k:04d}_{n}" for n in ("onset.png", "apex.png", "magnified.gif")]
        if not all(p.is_file() for p in paths):
            return None
        cards.append(tuple(p.read_bytes() for p in paths))
    return StoredDetection(iv, pd.read_parquet(folder / "signals.parquet"), pd.read_csv(folder / "gaps.csv", dtype={"video": str}),
                           meta["info"], cards, folder)


def detect_videos(inputs: Sequence[str | Path], out: str | Path, recognizer, truth: pd.DataFrame | None = None, spotter: str = "default",
                  fps: float | None = None, all_faces: bool = False, root: str | Path | None = None, subject: str = "",
                  progress: bool = True, truth_file: str | Path | None = None, rejects: RejectLog | None = None) -> dict:
    """Detect in every input and write the run folder `out` (see the module docstring). A video that fails
    (no face, not a video) goes to `rejects` with its reason and the others go on; with one input it raises.
    truth: ground-truth rows (truth.csv) of these videos, scored and drawn when given.
    Returns {"detections": [StoredDetection], "intervals": DataFrame, "scores": SpotScores | None, "report": Path}."""
    from .spot_output import safe_name

    out = Path(out)
    log = rejects if rejects is not None else RejectLog()
    names = [video_name(p, root) for p in inputs]
    stored: list[StoredDetection] = []
    for path, name in zip(map(Path, inputs), names):
        folder = out / "videos" / safe_name(name)
        request = _request(path, spotter, all_faces, fps, recognizer)
        det = load_detection(folder, request)
        if det is None:
            subj = subject or (name.split("/")[0] if "/" in name else "")
            try:
                res = detect_video(path, recognizer, spotter, fps=fps, all_faces=all_faces, video=name, subject=subj, progress=progress)
            except MexkitInputError as err:
                if len(inputs) == 1:
                    raise
                log.add_error(path, err)
                continue
            folder.parent.mkdir(parents=True, exist_ok=True)  # only now: a run refused before any result leaves nothing
            save_detection(folder, res, request)
            det = load_detection(folder)
        for r in pd.read_csv(folder / "rejects.csv", keep_default_na=False).to_dict("records") if (folder / "rejects.csv").is_file() else []:
            log.add(r["file"], r["stage"], r["reason"])
        stored.append(det)
    if not stored:
        out.mkdir(parents=True, exist_ok=True)
        log.save(out / "rejects.csv")
        raise MexkitInputError(out / "rejects.csv", "no input could be read", "see the reasons listed in rejects.csv", stage="detect")
    intervals = pd.concat([d.intervals for d in stored], ignore_index=True)
    atomic_write_text(out / "intervals.csv", intervals.to_csv(index=False))
    scores = None
    if truth is not None:
        from mexkit.recog.spotting_metrics import score_spotting, video_mapping

        done = [d.info["video"] for d in stored]
        vmap = video_mapping(done, truth["video"].astype(str).tolist(), truth_file, truth_file, what="inputs")
        sub = truth[truth["video"].astype(str).isin(set(vmap.values()))]
        scores = score_spotting(intervals, sub, pred_file=out / "intervals.csv", truth_file=truth_file)
        atomic_write_text(out / "scores.csv", scores.scores.to_csv(index=False))
        if len(scores.per_class):
            atomic_write_text(out / "scores_per_class.csv", scores.per_class.to_csv(index=False))
    from .detect_report import detect_report

    report = detect_report(stored, scores, truth).save(out / "report.html")
    if len(log):
        log.save(out / "rejects.csv")
    return {"detections": stored, "intervals": intervals, "scores": scores, "report": report}
