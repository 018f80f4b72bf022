"""`insert_video` / `insert_videos`: micro-expressions added to real videos, with ground truth.

Three streamed passes over each video (decoding is cheap next to face work; no pass holds more than one
window of frames):
  1. scan (scan.py): the face tracker over every frame → where the face is, its size, expression activity;
  2. check: the candidate windows (timing.py) are aligned frame by frame with the FacePipeline (landmarks
     of every window frame; the onset frame's crop becomes the generator's neutral face); a window whose
     face is not found in some frame is dropped (rejects.csv) and, with a count, the next candidate used;
  3. render: every frame is re-encoded losslessly (and to an H.264 preview); window frames get the
     generated motion composed with the person's own (compose.py), all others are written as decoded.
Outputs and resumption: records.py.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from mexkit.datasets.manifest_columns import ME_MAX_SECONDS
from mexkit.errors import MexkitInputError
from mexkit.face.align import transform_points, warp_to_crop
from mexkit.face.landmark_schemes import eye_centers68, to68
from mexkit.file_hash import file_sha256
from mexkit.neutral_face import MIN_IOD_PX, NeutralFace
from mexkit.rejects import RejectLog
from mexkit.video_stream import VideoStream
from mexkit.video_writer import VideoWriter, remove_stale_temporaries

from ..condition import Condition
from ..generator import Generator
from .compose import FrameFace, compose_frame
from .corpus_set import source_label
from .records import InsertRecords
from .scan import VideoScan, scan_video
from .timing import Window, choose_windows, why_not, windows_at

DATASET = "inserted"  # truth.csv `dataset` of inserted events


@dataclass
class InsertRequest:
    """What decides the events of a run (its run.json): generator, classes (cycled per event), intensity range,
    event duration, count or explicit onset times (seconds), seed, and whether to avoid the person's own
    expressions."""

    classes: tuple[str, ...] = ("positive", "negative", "surprise")
    intensity: tuple[float, float] = (0.3, 0.8)
    duration_ms: float = 400.0
    count: int = 3
    at: tuple[float, ...] | None = None
    seed: int = 0
    calm: bool = True

    def settings(self, generator: Generator) -> dict:
        from ..writer.jobs import generator_name

        return {"generator": generator_name(generator), "weights_hash": generator.weights_hash(), "classes": list(self.classes),
                "intensity": list(self.intensity), "duration_ms": float(self.duration_ms), "count": None if self.at else int(self.count),
                "at": None if self.at is None else [float(t) for t in self.at], "seed": int(self.seed), "calm": bool(self.calm)}


def event_seed(seed: int, video_sha: str, onset: int) -> int:
    """The seed of one event: fixed by the run seed, the video's content and the onset frame."""
    return int(hashlib.sha256(f"{int(seed)}|{video_sha}|{int(onset)}".encode()).hexdigest()[:8], 16)


def _pipeline(resolution: int):
    from mexkit.face import FacePipeline

    return FacePipeline("mediapipe", resolution=resolution if resolution in (64, 128, 256) else 256)


def check_windows(stream: VideoStream, windows: Sequence[Window], resolution: int, pipeline=None) -> dict[Window, dict]:
    """Pass 2: each window's per-frame landmarks and its onset face, or why it cannot be used.

    → {window: {"faces": [FrameFace…], "face": NeutralFace}} or {window: {"error": reason}}."""
    pipeline = pipeline or _pipeline(resolution)
    by_frame: dict[int, list[Window]] = {}
    for w in windows:
        for i in w.frames():
            by_frame.setdefault(i, []).append(w)
    out: dict[Window, dict] = {w: {"faces": []} for w in windows}
    last = max((w.offset for w in windows), default=-1)
    for frame in stream:
        if frame.index > last:
            break
        for w in by_frame.get(frame.index, ()):
            rec = out[w]
            if "error" in rec:
                continue
            found = pipeline.detect(frame.image)
            if not found:
                rec["error"] = f"no face at frame {frame.index}"
                continue
            lm = to68(found[0].landmarks, found[0].scheme).astype(np.float64)
            le, re_ = eye_centers68(lm)
            iod = float(np.linalg.norm(np.asarray(re_) - np.asarray(le)))
            if iod < MIN_IOD_PX:
                rec["error"] = f"face too small at frame {frame.index} (eye centres {iod:.0f} px apart; the generator needs at least {MIN_IOD_PX} px)"
                continue
            face = FrameFace(lm)
            rec["faces"].append(face)
            if frame.index == w.onset:
                affine = face.affine(resolution)
                rec["face"] = NeutralFace(crop=warp_to_crop(frame.image, affine, resolution), landmarks=transform_points(lm, affine),
                                          source=f"{stream.path.name}#frame{frame.index}", meta={"affine": affine.tolist()})
    return out


def insert_video(video: str | Path, out: str | Path, generator: Generator, request: InsertRequest, subject: str = "",
                 name: str | None = None, rejects: RejectLog | None = None, progress: bool = False) -> dict:
    """Insert events into one video; write DIR/<name>.mkv and .preview.mp4; return its rows
    {"video": …, "truth": […], "events": […]} (the caller records them: `insert_videos`)."""
    from ..writer.dataset_writer import writable_provenance
    from ..writer.jobs import generator_name

    video, out = Path(video), Path(out)
    name = name or video.stem
    rejects = rejects if rejects is not None else RejectLog()
    gname = generator_name(generator)
    provenance = writable_provenance(generator, gname)
    size = int(generator.resolution)
    scan = scan_video(VideoStream(video), progress=progress)
    fps = scan.fps
    num_frames = Condition(duration_ms=request.duration_ms, fps=fps).num_frames
    sha = file_sha256(video)
    if request.at is not None:
        candidates = windows_at(scan, list(request.at), num_frames, fps, source=video)
        wanted = len(candidates)
    else:
        candidates = choose_windows(scan, num_frames, fps, request.count, event_seed(request.seed, sha, -1), calm=request.calm)
        wanted = request.count
    pre = {w: why_not(scan, w, calm=False, guard=False) for w in candidates} if request.at is not None else {}
    checked = check_windows(VideoStream(video), [w for w in candidates if not pre.get(w)], size)
    accepted: list[tuple[Window, dict]] = []
    for w in candidates:
        if len(accepted) >= wanted:
            break
        rec = {"error": pre[w]} if pre.get(w) else checked[w]
        if "error" in rec or "face" not in rec:
            what = f"{name}@{w.onset_s:.3f}s (frames {w.onset}-{w.offset})"
            rejects.add(what, "insert", (rec.get("error") or "no face at the onset frame") + ("" if request.at is not None else "; another time chosen"))
            continue
        accepted.append((w, rec))
    if len(accepted) < wanted and request.at is None:
        rejects.add(name, "insert", f"{len(accepted)} of {request.count} events placed: no more windows where the face is tracked, "
                    f"large enough and {'calm' if request.calm else 'found'} (docs/design.md §4, insertion times)")
    accepted.sort(key=lambda wr: wr[0].onset)
    events = []
    for k, (w, rec) in enumerate(accepted):
        seed = event_seed(request.seed, sha, w.onset)
        lo, hi = request.intensity
        intensity = round(float(np.random.default_rng(seed).uniform(lo, hi)) if hi > lo else lo, 4)
        cond = Condition(label=request.classes[k % len(request.classes)], intensity=intensity, duration_ms=request.duration_ms, fps=fps)
        with torch.no_grad():
            output = generator.generate(rec["face"], cond, generator=seed)
        events.append((w, rec["faces"], output, cond, seed))
    lossless, preview = out / f"{name}.mkv", out / f"{name}.preview.mp4"
    for p in (lossless, preview):
        remove_stale_temporaries(p)
    windows = {i: (w, faces, output) for w, faces, output, _, _ in events for i in w.frames()}
    stream = VideoStream(video)
    with VideoWriter(lossless, fps) as raw, VideoWriter(preview, fps) as small:
        for frame in stream:
            image = frame.image
            hit = windows.get(frame.index)
            if hit is not None:
                w, faces, output = hit
                image = compose_frame(image, faces[frame.index - w.onset], output, frame.time_s - w.onset_s, fps)
            raw.write(image, frame.time_s)  # the input's own timestamps (variable frame rates kept)
            small.write(image, frame.time_s)
    truth, event_rows = [], []
    source = source_label(video)
    for k, (w, faces, output, cond, seed) in enumerate(events):
        clip = output.clip
        times = scan.times
        apex = w.onset + int(np.argmin(np.abs(times[w.onset:w.offset + 1] - (w.onset_s + clip.apex / fps))))
        kind = "ME" if request.duration_ms / 1000.0 <= ME_MAX_SECONDS else "MaE"
        common = {"video": name, "subject": subject, "onset": w.onset, "apex": apex, "offset": w.offset, "type": kind,
                  "emotion": cond.label, "aus": clip.aus, "intensity": cond.intensity, "generator": gname,
                  "train_subjects": provenance["train_subjects"], "seed": seed, "fps": fps}
        truth.append({**common, "dataset": DATASET, "source": source})
        span = slice(w.onset, w.offset + 1)
        event_rows.append({**common, "event": k, "onset_s": round(float(times[w.onset]), 6), "apex_s": round(float(times[apex]), 6),
                           "offset_s": round(float(times[w.offset]), 6), "duration_ms": request.duration_ms,
                           "weights_hash": generator.weights_hash(), **{c: provenance[c] for c in provenance if c.startswith("driving_")},
                           "source": source, "source_sha256": sha, "variable_frame_rate": scan.vfr,
                           "own_activity_max": round(float(np.nanmax(scan.activity[span])), 4),
                           "chosen_by": "at" if request.at is not None else "count",
                           "condition": json.dumps(cond.to_dict(), sort_keys=True, separators=(",", ":"))})
    report = stream.report()
    video_row = {"video": name, "source": source, "source_sha256": sha, "subject": subject, "frames": report.get("frames_decoded"),
                 "fps": fps, "variable_frame_rate": scan.vfr, "width": scan.width, "height": scan.height, "events": len(events),
                 "lossless": lossless.name, "preview": preview.name, "decode_errors": "; ".join(report.get("decode_errors") or [])}
    return {"video": video_row, "truth": truth, "events": event_rows}


def insert_videos(videos: Sequence[tuple[str | Path, str]], out: str | Path, generator: Generator, request: InsertRequest,
                  progress: bool = True) -> dict:
    """Insert events into each (video, subject) in turn into one output folder (records.py layout), resuming a
    folder an earlier run of the same settings left. One bad video is listed in rejects.csv and the rest go on;
    a lone video's error is raised. → counts: videos, done before, written, events, rejected."""
    from tqdm.auto import tqdm

    out = Path(out)
    names = [Path(v).stem for v, _ in videos]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MexkitInputError(None, f"several videos share the name(s) {', '.join(dupes)}", "rename them: outputs are named by file stem",
                               stage="insert")
    out.mkdir(parents=True, exist_ok=True)
    records = InsertRecords(out, request.settings(generator))
    rejects = RejectLog(out / "rejects.csv")
    counts = {"videos": len(videos), "skipped": 0, "written": 0, "events": 0, "rejected": 0}
    bar = tqdm(total=len(videos), unit="video", desc="insert", disable=not progress or len(videos) < 2, dynamic_ncols=True)
    for (video, subject), name in zip(videos, names):
        if records.done(name):
            counts["skipped"] += 1
            bar.update(1)
            continue
        try:
            rows = insert_video(video, out, generator, request, subject=subject, name=name, rejects=rejects,
                                progress=progress and len(videos) == 1)
        except MexkitInputError as err:
            if len(videos) == 1:
                raise
            rejects.add_error(video, err, "insert")
            counts["rejected"] += 1
            bar.update(1)
            continue
        records.add_video(rows["video"], rows["truth"], rows["events"])
        counts["written"] += 1
        counts["events"] += len(rows["events"])
        bar.update(1)
    bar.close()
    counts["rejects"] = rejects.summary()
    counts["out"] = str(out)
    return counts
