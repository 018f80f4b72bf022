"""Kept-recognizer prediction speed (docs/targets.md): `predict` throughput on 128² 16-frame clips, features
included, beside the feature computation alone measured in the same run on the same clips.

    python benchmarks/bench_predict.py [--clips 300] [--threads 2] [--model mexkit-demo]
    MEXKIT_BENCH_QUICK=1 python benchmarks/bench_predict.py          # 60 clips

Clips: warp-baseline micro-expressions of the 12 embedded corpus faces (16 frames at 128², 400 ms at
40 fps), made in memory before timing. Rows (best of 5 rounds over the clips, the three timed passes
interleaved in every round):
  - reference: the model's feature alone (`features.FEATURES[kind]` with the model's exact settings; for
    mexkit-demo, onset→apex DIS flow + strain at 28²), clips/s;
  - predict: `KeptRecognizer.predict_clips` on the same clips — feature, both heads (class and, for
    mexkit-demo, the 12 one-vs-rest AU SVMs), calibration and the predictions table — clips/s (target ≥ 50: two sliding windows per frame of a 25 fps video), and its
    ratio to the reference (target ≥ 0.8: the model adds at most a fifth to the features' cost);
  - the same through a small network (STSTNet on the same feature, fitted here for 5 epochs on the
    clips' labels: the speed does not depend on how well it is trained);
  - model loading (`load_recognizer`, with every safety check: pickle scan, sha256, trusted types), ms,
    imports excluded (a second load).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit  # noqa: E402


def best_rates(fns: list, n: int, rounds: int = 5) -> list[float]:
    """Items per second of each fn() over n items: best of `rounds` rounds, the functions interleaved in
    every round (on a shared machine a slow spell then hits all of them alike), after one warm-up each."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return [n / b for b in best]


def warp_clips(count: int):
    from mexkit.datasets import load_corpus
    from mexkit.synth import Condition, load_generator

    faces = load_corpus().faces
    gen = load_generator("warp")
    classes = ("negative", "positive", "surprise")
    clips = []
    for i in range(count):
        out = gen.generate(faces[i % len(faces)], Condition(label=classes[i % 3], intensity=0.4, duration_ms=400.0, fps=40.0), generator=i)
        out.clip.sample_id = f"warp_{i:04d}"
        clips.append(out.clip)
    return clips


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="mexkit-demo")
    args = ap.parse_args()
    if os.environ.get("MEXKIT_BENCH_QUICK") == "1":
        args.clips = min(args.clips, 60)
    torch.set_num_threads(args.threads)
    from mexkit.recog.features import FEATURES
    from mexkit.recog.kept import fit_kept, load_recognizer
    from mexkit.recog.samples import SampleSet
    from mexkit.recog.ststnet import STSTNet

    clips = warp_clips(args.clips)
    assert all(c.frames.shape == (16, 128, 128, 3) for c in clips)
    n = len(clips)
    rec = load_recognizer(args.model)  # the first call also imports scikit-learn, skops, OpenCV …
    t0 = time.perf_counter()
    rec = load_recognizer(args.model)
    load_ms = 1000 * (time.perf_counter() - t0)
    kind = rec.feature["kind"]
    params = {k: v for k, v in rec.feature.items() if k != "kind"}
    net = fit_kept(SampleSet.from_clips(clips, rec.classes, synthetic=True,
                                        provenance=[{"source_subject": c.subject, "train_subjects": "none", "generator": "warp"} for c in clips]),
                   STSTNet(epochs=5, input_size=int(rec.feature.get("size", 28))), dict(rec.feature))
    feature_rate, predict_rate, net_rate = best_rates([lambda: [FEATURES[kind](c, **params) for c in clips],
                                                      lambda: rec.predict_clips(clips), lambda: net.predict_clips(clips)], n)
    note = f"{n} warp clips 16×128², {args.threads} threads, load {os.getloadavg()[0]:.1f}"
    emit([
        {"name": f"predict: {kind} feature alone (reference)", "value": feature_rate, "unit": "clips/s", "note": note},
        {"name": f"predict: {args.model} ({rec.score_kind} scores)", "value": predict_rate, "unit": "clips/s", "target": 50,
         "reference": feature_rate, "note": "ratio target ≥ 0.8 of the feature alone"},
        {"name": "predict: STSTNet on the same feature (softmax)", "value": net_rate, "unit": "clips/s", "reference": feature_rate},
        {"name": f"predict: load {args.model} (all safety checks)", "value": load_ms, "unit": "ms", "note": "imports excluded"},
    ])


if __name__ == "__main__":
    main()
