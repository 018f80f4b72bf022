"""Spotting: speed, memory and the measured figures (docs/targets.md, docs/design.md §8).

    python benchmarks/bench_spot.py                # speed + memory (MEXKIT_BENCH_QUICK=1: short videos)
    python benchmarks/bench_spot.py --accuracy     # the figures: inserted events, speech, corpus labels

Speed: a 640×360, 30 fps video made by playing single_face.mp4 forwards and backwards (60 s; quick 10 s),
encoded with PyAV. The floor is decode + landmarks (+ registration) alone — FaceTracker over the stream —
measured in the same run; end to end is `spot_video` with each spotter. Value: frames per second; the
real-time factor is fps / 30 (target ≥ 1, aim 2). Memory: RSS growth while the default spotter streams a
10-minute video (quick: 1 minute) over the RSS after a warm-up run in the same process (target < 300 MB).

Accuracy (slow: minutes): every spotter over one pass of each video (`spot_stream`):
- inserted events: micro-expressions (0.4 s) rendered into the webcam clips (a man talking) at seeded
  times, classes and intensities by a stand-in for `mexkit insert` (the warp generator's motion carried
  onto the real frames through synth/full_frame's apply_motion, the face region from the onset frame);
  split: cap12_edit (tune) / cap13_edit2 (report);
- speech false alarms: the webcam clips as they are (no posed expression): spotted ME and MaE per minute;
- corpus labels: the expression segments of single_face.mp4 and WolfgangLanger_Pexels.mp4 (manifest.csv
  clip start + onset / apex / offset). Caveat printed with the rows: these labels were found with
  MediaPipe blendshapes (datasets/build_corpus.py) and the offsets are clip ends, so they favour the
  blendshape spotter and cut long expressions short.
Scores: recog/spotting_metrics.score_spotting (MEGC rules). Per-event rows go to runs/bench_spot/.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import emit  # noqa: E402

from mexkit.datasets.corpus import MEDIA_DIR  # noqa: E402
from mexkit.recog.spotting.spot_video import spot_stream, spot_video  # noqa: E402
from mexkit.recog.spotting.spotter import DEFAULT_SPOTTER, make_spotter  # noqa: E402
from mexkit.video_faces import FaceTracker  # noqa: E402
from mexkit.video_stream import VideoStream  # noqa: E402

QUICK = os.environ.get("MEXKIT_BENCH_QUICK") == "1"
ROOT = Path(__file__).resolve().parents[1]
WEBCAM = ROOT / "datasets" / "corpus" / "webcam"
SPOTTERS = ("blendshapes", "mdmd", "roi-flow")


def encode(path: Path, frames, fps: float, preset: str = "veryfast", crf: int = 18) -> Path:
    """Frames (an iterable of RGB uint8) → H.264 file, streamed."""
    import av

    with av.open(str(path), "w") as out:
        st = None
        for f in frames:
            if st is None:
                st = out.add_stream("libx264", rate=int(round(fps)), options={"preset": preset, "crf": str(crf)})
                st.height, st.width = f.shape[:2]
                st.pix_fmt = "yuv420p"
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


def looped(seconds: float):
    """single_face.mp4 forwards then backwards (no jump), 640×360 at 30 fps, for `seconds`."""
    frames = [f.image for f in VideoStream(MEDIA_DIR / "single_face.mp4")]
    cycle = frames + frames[-2:0:-1]
    for i in range(int(seconds * 30)):
        yield cycle[i % len(cycle)]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def speed_and_memory() -> list[dict]:
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="bench_spot_"))
    seconds = 10 if QUICK else 60
    video = encode(tmp / "loop.mp4", looped(seconds), 30)
    n = seconds * 30
    spot_video(MEDIA_DIR / "single_face.mp4", DEFAULT_SPOTTER, progress=False)  # warm-up: models, caches
    t = time.perf_counter()
    for _ in FaceTracker().track(VideoStream(video)):
        pass
    floor = n / (time.perf_counter() - t)
    rows.append({"name": "spot floor: decode + landmarks + registration (640×360)", "value": floor, "unit": "fps",
                 "note": f"{seconds} s video; real-time factor {floor / 30:.2f}"})
    for name in (DEFAULT_SPOTTER, *[s for s in SPOTTERS if s != DEFAULT_SPOTTER]):
        t = time.perf_counter()
        spot_video(video, name, progress=False)
        fps = n / (time.perf_counter() - t)
        rows.append({"name": f"spot end to end, {name}{' (default)' if name == DEFAULT_SPOTTER else ''}", "value": fps / 30,
                     "unit": "x realtime", "target": 1.0, "reference": floor / 30,
                     "note": f"{fps:.1f} fps; ratio = share of the floor's speed kept"})
    # memory: a long video streamed by the default spotter
    minutes = 1 if QUICK else 10
    long_video = encode(tmp / "long.mp4", looped(minutes * 60), 30, preset="ultrafast", crf=23)
    base = rss_mb()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.25)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t = time.perf_counter()
    res = spot_video(long_video, DEFAULT_SPOTTER, progress=False)
    wall = time.perf_counter() - t
    stop.set()
    th.join()
    rows.append({"name": f"spot RSS growth over a {minutes}-minute video ({DEFAULT_SPOTTER})", "value": peak[0] - base, "unit": "MB",
                 "target": 300.0, "note": f"RSS {base:.0f} → peak {peak[0]:.0f} MB; {len(res.signals)} signal rows; "
                                          f"{minutes * 1800 / wall / 30:.2f}x realtime"})
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()
    return rows


# --- accuracy ------------------------------------------------------------------------------------------
CLASSES = ("positive", "negative", "surprise")
INTENSITIES = (0.15, 0.3, 0.5, 0.75, 1.0)


def insert_events(video: Path, out: Path, seed: int, gap_s: float = 3.0, duration_ms: float = 400.0) -> pd.DataFrame:
    """Stand-in for `mexkit insert`: seeded micro-expressions (warp generator) rendered into a real video
    at seeded times, classes and intensities; → truth rows (SPOT_TRUTH_COLUMNS subset + peak_iod)."""
    import torch

    from mexkit.face.align import template_iod
    from mexkit.neutral_face import prepare_face
    from mexkit.synth.condition import Condition
    from mexkit.synth.full_frame import apply_motion, motion_in_image, region_of
    from mexkit.synth.warp.generator import WarpGenerator

    stream = VideoStream(video)
    fps, n = stream.fps, stream.num_frames
    rng = np.random.default_rng(seed)
    length = max(2, int(round(duration_ms * fps / 1000)))
    starts, t = [], int(rng.integers(int(1.0 * fps), int(gap_s * fps)))
    while t + length < n - fps:
        starts.append(t)
        t += length + int(rng.integers(int(gap_s * fps), int(2 * gap_s * fps)))
    plan = {s: (CLASSES[int(rng.integers(3))], float(rng.choice(INTENSITIES)), int(rng.integers(1 << 30))) for s in starts}
    gen = WarpGenerator(resolution=128)
    truth, active = [], None

    def frames():
        nonlocal active
        for fr in stream:
            img = fr.image
            if fr.index in plan:
                label, intensity, s = plan[fr.index]
                face = prepare_face(img, 128)
                output = gen.generate(face, Condition(label=label, intensity=intensity, duration_ms=duration_ms, fps=fps),
                                      generator=torch.Generator().manual_seed(s))
                region = region_of(face, img.shape)
                disp, res = motion_in_image(region, output.flow, output.residual)
                mags = np.linalg.norm(np.asarray(output.flow), axis=-1)  # (T, S, S) crop pixels
                apex = int(mags.reshape(len(mags), -1).max(1).argmax())
                peak_iod = float(np.percentile(mags[apex], 99) / template_iod(128))
                active = (fr.index, region, disp, res)
                truth.append({"dataset": "inserted", "video": out.stem, "subject": "corpus_webcam_man", "onset": fr.index,
                              "apex": fr.index + apex, "offset": fr.index + len(disp) - 1, "type": "ME", "emotion": label,
                              "intensity": intensity, "seed": s, "fps": fps, "peak_iod": peak_iod})
            if active is not None:
                k = fr.index - active[0]
                if k < len(active[2]):
                    img = apply_motion(img, active[1], active[2][k], None if active[3] is None else active[3][k])
                else:
                    active = None
            yield img

    encode(out, frames(), fps, crf=12)
    return pd.DataFrame(truth)


def _scores(pred: pd.DataFrame, truth: pd.DataFrame) -> dict:
    from mexkit.recog.spotting_metrics import score_spotting

    s = score_spotting(pred, truth, classes=None)
    out = {}
    for typ in ("overall", "ME", "MaE"):
        r = s.row(type=typ)
        out[typ] = {k: float(r[k]) for k in ("tp", "fp", "fn", "precision", "recall", "f1") if k in r}
    return out, s


def _run_all(video: Path, **kw) -> dict:
    stream = VideoStream(video, kw.pop("fps", None))
    res = spot_stream(stream, [make_spotter(n, stream.fps) for n in SPOTTERS], progress=False, **kw)
    return dict(zip(SPOTTERS, res))


def accuracy(out_dir: Path) -> list[dict]:
    rows = []
    out_dir.mkdir(parents=True, exist_ok=True)
    # 1. speech: the webcam clips as they are
    for clip in ("cap12_edit", "cap13_edit2"):
        res = _run_all(WEBCAM / f"{clip}.mp4")
        minutes = res[SPOTTERS[0]].info["frames"] / res[SPOTTERS[0]].info["fps"] / 60
        split = "tune" if clip == "cap12_edit" else "report"
        for name, r in res.items():
            counts = r.intervals["type"].value_counts()
            for typ in ("ME", "MaE"):
                rows.append({"name": f"speech false alarms {typ}/min, {name}, {clip} ({split})", "value": counts.get(typ, 0) / minutes,
                             "unit": "per min", "note": f"{counts.get(typ, 0)} in {minutes:.2f} min"})
    # 2. inserted micro-expressions
    tmp = Path(tempfile.mkdtemp(prefix="bench_spot_ins_"))
    events = []
    counts: dict[tuple[str, str], np.ndarray] = {}  # (spotter, split) → pooled ME tp, fp, fn
    seeds = (0,) if QUICK else (0, 1, 2)
    for clip in ("cap12_edit", "cap13_edit2"):
        split = "tune" if clip == "cap12_edit" else "report"
        for seed in seeds:
            vid = tmp / f"{clip}_ins{seed}.mp4"
            truth = insert_events(WEBCAM / f"{clip}.mp4", vid, seed)
            res = _run_all(vid)
            for name, r in res.items():
                sc, s = _scores(r.intervals, truth)
                me = sc["ME"]
                counts[(name, split)] = counts.get((name, split), np.zeros(3)) + [me["tp"], me["fp"], me["fn"]]
                t = s.truth.assign(spotter=name, split=split, clip=clip, seed=seed)
                # a looser reading beside MEGC's: any predicted interval overlapping the event
                t["overlap"] = [bool(((r.intervals["onset"] <= row.offset) & (r.intervals["offset"] >= row.onset)).any())
                                for row in t.itertuples()]
                events.append(t)
    ev = pd.concat(events, ignore_index=True) if events else pd.DataFrame()
    if len(ev):
        ev.to_csv(out_dir / "inserted_events.csv", index=False)
        for name in SPOTTERS:
            for split in ("tune", "report"):
                e = ev[(ev["spotter"] == name) & (ev["split"] == split)]
                tp, fp, fn = counts[(name, split)]
                p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
                rows.append({"name": f"inserted ME F1 (MEGC), {name}, {split}", "value": 2 * p * r / (p + r) if p + r else 0.0,
                             "unit": "F1", "note": f"P {p:.2f} R {r:.2f} (TP {tp:.0f} FP {fp:.0f} FN {fn:.0f}; FP include speech)"})
                rows.append({"name": f"inserted ME recall (MEGC IoU≥0.5), {name}, {split}", "value": float(e["hit"].mean()),
                             "unit": "fraction", "note": f"{int(e['hit'].sum())}/{len(e)} events"})
                by = e.groupby("intensity").agg(hit=("hit", "mean"), overlap=("overlap", "mean"), iod=("peak_iod", "mean"), n=("hit", "size"))
                for inten, r in by.iterrows():
                    rows.append({"name": f"  detection at intensity {inten:.2f} (≈{r['iod']:.3f} IOD), {name}, {split}", "value": float(r["hit"]),
                                 "unit": "fraction", "note": f"overlap {r['overlap']:.2f}, n={int(r['n'])}"})
                ok = [i for i, r in by.iterrows() if r["hit"] >= 0.9 and all(by.loc[j, "hit"] >= 0.9 for j in by.index if j >= i)]
                rows.append({"name": f"smallest intensity found ≥90%, {name}, {split}", "value": float(min(ok)) if ok else float("nan"),
                             "unit": "intensity", "note": f"≈{by.loc[min(ok), 'iod']:.3f} IOD" if ok else "never 90 %"})
    # 3. corpus labels
    man = pd.read_csv(ROOT / "datasets" / "corpus" / "manifest.csv")
    for media in ("single_face.mp4", "WolfgangLanger_Pexels.mp4"):
        m = man[man["source"] == f"media/{media}"]
        from mexkit.recog.spotting.seconds import type_of

        truth = pd.DataFrame({"dataset": "corpus", "video": Path(media).stem, "onset": m["start_frame"] + m["onset"],
                              "apex": m["start_frame"] + m["apex"], "offset": m["start_frame"] + m["offset"]})
        truth["type"] = [type_of(a, b, float(m["fps"].iloc[0])) for a, b in zip(truth["onset"], truth["offset"])]
        res = _run_all(MEDIA_DIR / media)
        for name, r in res.items():
            sc, _ = _scores(r.intervals, truth)
            o = sc["overall"]
            rows.append({"name": f"corpus labels F1 overall, {name}, {Path(media).stem}", "value": o["f1"], "unit": "F1",
                         "note": f"TP {o['tp']:.0f} FP {o['fp']:.0f} FN {o['fn']:.0f}; labels from blendshapes, offsets = clip ends"})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accuracy", action="store_true", help="the figures (inserted events, speech, corpus labels)")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_spot")
    args = ap.parse_args()
    emit(accuracy(args.out) if args.accuracy else speed_and_memory())


if __name__ == "__main__":
    main()
