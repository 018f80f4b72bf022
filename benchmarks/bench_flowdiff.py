"""Benchmark: flow-diffusion sampling — quality / speed over 5, 10, 25 and 50 steps (DDIM and DPM-Solver).

    python benchmarks/bench_flowdiff.py [--threads 2] [--faces 6] [--steps 5 10 25 50] [--samplers ddim dpm]
    MEXKIT_BENCH_QUICK=1 python benchmarks/bench_flowdiff.py     # 2 faces, DDIM only
    python benchmarks/bench_flowdiff.py --figure fig.jpg         # the demo figure (faces × classes) only
    python benchmarks/bench_flowdiff.py --heldout-only            # the held-out flicker comparison only

The shipped demo (synth/pretrained/flowdiff-demo) animates corpus faces (half seen in training, half
held out) for every MEGC class at intensity 1 (16 frames, 40 fps, the pipeline's guidance scale,
seed = face index). Measured in one run:
  - speed: seconds per 16×64×64 clip at batch 1 (whole call: encode, denoise with CFG, warp), every
    setting once per round, `--repeat` interleaved rounds (best and median kept), and clips/s; the
    in-run reference is one forward of the reference-shaped diffusers
    UNet3DConditionModel of docs/targets.md ((32, 64) channels, one layer per block, batch 2×4×8×16×16), so
    `ratio` = our seconds per clip / (steps × that forward);
  - quality on the same flows rendered at 128² (dlib needs ~128 px faces; flows are resolution free),
    with the evaluation suite (mexkit.eval): identity = dlib ResNet cosine of every frame to the neutral
    input (mean, min); temporal = warping error, flicker and jitter (DIS flow); class shown = the MEGC
    class whose MediaPipe blendshapes rose most from onset to apex (bs_correct) and the fer mini-Xception
    (fer_correct); plus flow_class_acc: the sampled apex flow's best-matching warp-baseline class template
    (cosine, 8 template seeds per class) equals the requested class.
The warp baseline's clips for the same faces and conditions are scored alike as the quality reference.
Target (docs/targets.md): ≤ 25 steps with identity and temporal scores held (vs 50 steps), ≤ 5 s per clip.

Held-out comparison (issue 18, run after the quality table, or alone with --heldout-only): real faces
the demo never saw in training — the corpus faces outside `train_subjects` (corpus_f13, corpus_m7,
corpus_astronaut) and Grace Hopper's portrait shipped with matplotlib (`sample_data/grace_hopper.jpg`,
aligned with `prepare_faces`) — × 3 classes × `--heldout-seeds` seeds, intensity 1, 16 frames at 40 fps,
rendered at 128², at the pipeline's sampling defaults. Generators: the warp baseline (the in-run
reference), the demo as shipped before issue 18 (`temporal_projection="none"`, `shading_highpass=0`:
raw sample resampled in time, darkening-only shading) and as shipped now; `--ablations` adds each of the
two settings alone. Scored: flicker, warp error (eval.temporal, DIS), identity cosine mean / min (dlib),
bs_correct and flow_class_acc. Target (docs/targets.md): flicker ≤ 1.5× the warp baseline's, identity
cosine ≥ 0.995, class accuracy held (vs before).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit  # noqa: E402

CLASSES = ("negative", "positive", "surprise")


def reference_unet_forward(rounds: int = 5) -> float:
    """Seconds per forward of the docs/targets.md reference UNet3DConditionModel on 2×4×8×16×16 (best of rounds)."""
    from diffusers import UNet3DConditionModel

    torch.manual_seed(0)
    ref = UNet3DConditionModel(block_out_channels=(32, 64), layers_per_block=1, down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                               up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=64, attention_head_dim=8,
                               norm_num_groups=16).eval()
    x, e, t = torch.randn(2, 4, 8, 16, 16), torch.randn(2, 4, 64), torch.tensor([500, 500])
    best = float("inf")
    with torch.no_grad():
        ref(x, t, e)
        for _ in range(rounds):
            s = time.perf_counter()
            ref(x, t, e)
            best = min(best, time.perf_counter() - s)
    return best


def class_templates(faces, seeds: int = 8, size: int = 16) -> dict[int, dict[str, np.ndarray]]:
    """Per face and class: apex flows of the warp baseline (seeds × (size·size·2)), unit-normalised, at the flow resolution."""
    import cv2

    from mexkit.synth import Condition, load_generator

    warp = load_generator("warp", resolution=64)
    out = {}
    for i, face in enumerate(faces):
        out[i] = {}
        for label in CLASSES:
            vecs = []
            for s in range(seeds):
                o = warp.generate(face, Condition(label=label, intensity=1.0), generator=1000 + s)
                v = cv2.resize(o.flow[o.clip.apex], (size, size), interpolation=cv2.INTER_AREA).ravel()
                vecs.append(v / (np.linalg.norm(v) + 1e-9))
            out[i][label] = np.stack(vecs)
    return out


def flow_class(flow_apex: np.ndarray, templates: dict[str, np.ndarray], size: int = 16) -> str:
    import cv2

    v = cv2.resize(flow_apex, (size, size), interpolation=cv2.INTER_AREA).ravel()
    v = v / (np.linalg.norm(v) + 1e-9)
    return max(templates, key=lambda c: float((templates[c] @ v).max()))


def main() -> None:
    quick = os.environ.get("MEXKIT_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--faces", type=int, default=2 if quick else 6, help="corpus faces (half seen in training, half held out)")
    ap.add_argument("--steps", type=int, nargs="+", default=[5, 10, 25, 50])
    ap.add_argument("--samplers", nargs="+", default=["ddim"] if quick else ["ddim", "dpm"])
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds over all settings (best kept)")
    ap.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the pipeline's)")
    ap.add_argument("--csv", default=None, help="write the per-clip rows here")
    ap.add_argument("--pipeline", default="flowdiff-demo", help="registered name or pretrained pipeline folder")
    ap.add_argument("--speed-only", action="store_true", help="time the settings, skip the quality scoring")
    ap.add_argument("--figure", default=None, help="only draw the demo figure (faces × classes: apex frame, flow) to this PNG")
    ap.add_argument("--heldout-only", action="store_true", help="only the held-out flicker comparison (module docstring)")
    ap.add_argument("--heldout-seeds", type=int, default=1 if quick else 2, help="seeds per held-out face and class")
    ap.add_argument("--ablations", action="store_true", help="held-out comparison: also each issue-18 setting alone")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    import pandas as pd
    from tqdm import tqdm

    from mexkit.datasets import load_corpus
    from mexkit.eval.expression import ExpressionScorer
    from mexkit.eval.identity import IdentityScorer
    from mexkit.eval.temporal import temporal_scores
    from mexkit.synth import Condition, load_generator
    from mexkit.synth.flowdiff.pipeline import make_scheduler

    pipe = load_generator(args.pipeline)
    pipe.set_progress_bar_config(disable=True)
    if args.figure:
        figure(pipe, args.figure, args.faces)
        return
    if args.heldout_only:
        heldout_comparison(pipe, args.heldout_seeds, args.ablations, args.csv)
        return
    base_scheduler = pipe.scheduler
    corpus = load_corpus()
    trained = set(pipe.train_subjects)
    seen = [f for f in corpus.faces if f.subject in trained]
    held = [f for f in corpus.faces if f.subject not in trained]
    k = max(1, args.faces // 2)
    faces = seen[:args.faces - min(k, len(held))] + held[:k]
    warp = load_generator("warp", resolution=128)
    t_ref = reference_unet_forward()

    def score(clip, flow_apex_64, i, key):
        row = ident(clip, neutral=clip.frames[0], neutral_key=key)
        row.update(temporal_scores(clip.frames, "dis"))
        e = expr(clip)
        row.update({c: e.get(c) for c in ("bs_pred", "bs_correct", "bs_target_delta", "fer_pred", "fer_correct", "fer_target_delta")})
        if flow_apex_64 is not None:
            row["flow_class"] = flow_class(flow_apex_64, templates[i])
            row["flow_class_acc"] = float(row["flow_class"] == clip.label)
        return row

    # speed: one 16×64² clip at batch 1 (the whole call), every setting timed once per round, rounds
    # interleaved so a busy machine hurts every setting alike; best and median over rounds
    settings = [(sampler, steps) for sampler in args.samplers for steps in args.steps]
    schedulers = {sampler: make_scheduler(sampler, base_scheduler.config) for sampler in args.samplers}
    face0, cond0 = faces[0], Condition(label="surprise", intensity=1.0)
    times: dict = {st: [] for st in settings}
    for r in range(args.repeat + 1):
        for sampler, steps in settings:
            pipe.scheduler = schedulers[sampler]
            s = time.perf_counter()
            pipe(face0, cond0, generator=0, num_inference_steps=steps, guidance_scale=args.guidance)
            if r:  # round 0 warms up
                times[(sampler, steps)].append(time.perf_counter() - s)
    speed = []
    for (sampler, steps), ts in times.items():
        best = min(ts)
        speed.append({"sampler": sampler, "steps": steps, "s_per_clip": best, "s_per_clip_median": float(np.median(ts)),
                      "clips_per_s": 1.0 / best, "per_step_vs_ref": best / (steps * t_ref)})

    if args.speed_only:
        pipe.scheduler = base_scheduler
        sp = pd.DataFrame(speed).set_index(["sampler", "steps"])
        print(f"\nthreads={torch.get_num_threads()}; guidance {args.guidance or pipe.config.guidance_scale}; one 16×64² clip, batch 1; "
              f"reference UNet3D forward (2×4×8×16×16): {t_ref * 1000:.0f} ms")
        print(sp.to_string(float_format=lambda x: f"{x:.4g}"))
        emit([{"name": f"flowdiff {s['sampler']} {s['steps']} steps s/clip 16×64²", "value": s["s_per_clip"], "unit": "s",
               "target": 5.0 if s["steps"] <= 25 else None, "reference": s["steps"] * t_ref,
               "note": "reference = steps × ASSETS UNet3D forward, same run"} for s in speed])
        return

    ident, expr = IdentityScorer(), ExpressionScorer()
    templates = class_templates(faces)
    rows = []
    jobs = [(i, f, c) for i, f in enumerate(faces) for c in CLASSES]
    for i, face, label in tqdm(jobs, desc="warp baseline"):
        cond = Condition(label=label, intensity=1.0, duration_ms=400, fps=40)
        out = warp.generate(face, cond, generator=i)
        rows.append({"sampler": "warp-baseline", "steps": 0, "face": i, "subject": face.subject, "held_out": face.subject not in trained,
                     "label": label, **score(out.clip, None, i, f"w{i}")})
    for sampler in args.samplers:
        pipe.scheduler = schedulers[sampler]
        for steps in args.steps:
            for i, face, label in tqdm(jobs, desc=f"{sampler} {steps} steps"):
                cond = Condition(label=label, intensity=1.0, duration_ms=400, fps=40)
                out = pipe(face, cond, generator=i, num_inference_steps=steps, guidance_scale=args.guidance, resolution=128)
                flow64 = out.flow[out.clip.apex] / 2.0  # 128 px → 64 px units (direction is what the template match uses)
                rows.append({"sampler": sampler, "steps": steps, "face": i, "subject": face.subject,
                             "held_out": face.subject not in trained, "label": label,
                             "apex_flow_px128": float(np.linalg.norm(out.flow[out.clip.apex], axis=-1).max()),
                             **score(out.clip, flow64, i, f"f{i}")})
    pipe.scheduler = base_scheduler
    df = pd.DataFrame(rows)
    if args.csv:
        df.to_csv(args.csv, index=False)
    sp = pd.DataFrame(speed)
    cols = ["id_cos_mean", "id_cos_min", "warp_error", "flicker", "jitter", "bs_correct", "fer_correct", "flow_class_acc"]
    q = df.groupby(["sampler", "steps"], sort=False)[cols].mean()
    table = sp.set_index(["sampler", "steps"]).join(q, how="outer").reindex(q.index)
    pd.set_option("display.width", 220)
    print(f"\nthreads={torch.get_num_threads()}; guidance {args.guidance or pipe.config.guidance_scale}; {len(faces)} corpus faces ({sum(f.subject not in trained for f in faces)} held out) "
          f"× {len(CLASSES)} classes, intensity 1, 16 frames; speed at 64², quality at 128²; "
          f"reference UNet3D forward (2×4×8×16×16): {t_ref * 1000:.0f} ms")
    print(table.to_string(float_format=lambda x: f"{x:.4g}"))
    held_df = df[df.held_out]
    if len(held_df):
        print("\nheld-out faces only:")
        print(held_df.groupby(["sampler", "steps"], sort=False)[cols].mean().to_string(float_format=lambda x: f"{x:.4g}"))
    print("\nclass shown by requested class (flow template / blendshapes):")
    print(df.pivot_table(index=["sampler", "steps"], columns="label", values=["flow_class_acc", "bs_correct"], aggfunc="mean", sort=False).round(3).to_string())

    out_rows = []
    for s in speed:
        ref50 = q.loc[(s["sampler"], max(args.steps))]
        mine = q.loc[(s["sampler"], s["steps"])]
        name = f"flowdiff {s['sampler']} {s['steps']} steps"
        out_rows.append({"name": f"{name} s/clip 16×64²", "value": s["s_per_clip"], "unit": "s", "target": 5.0 if s["steps"] <= 25 else None,
                         "reference": s["steps"] * t_ref, "note": "reference = steps × ASSETS UNet3D forward, same run"})
        out_rows.append({"name": f"{name} identity cos", "value": float(mine["id_cos_mean"]), "unit": "cos",
                         "reference": float(ref50["id_cos_mean"]), "note": f"reference = {max(args.steps)} steps"})
        out_rows.append({"name": f"{name} warp error", "value": float(mine["warp_error"]), "unit": "mse",
                         "reference": float(ref50["warp_error"]), "note": f"reference = {max(args.steps)} steps"})
    emit(out_rows)
    heldout_comparison(pipe, args.heldout_seeds, args.ablations, None)


# settings of the flow-diffusion demo before issue 18 (the sampled sequence resampled in time,
# darkening-only shading); the shipped pipeline config holds the current ones
BEFORE_ISSUE18 = {"temporal_projection": "none", "shading_highpass": 0.0}


def heldout_faces(pipe) -> list:
    """Real faces the pipeline never saw in training: corpus faces outside `train_subjects`, then
    matplotlib's Grace Hopper portrait (a person never in the corpus)."""
    import cv2
    import matplotlib

    from mexkit.datasets import load_corpus
    from mexkit.neutral_face import prepare_faces

    trained = set(pipe.train_subjects or ())
    faces = [f for f in load_corpus().faces if f.subject not in trained]
    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if path.exists():
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        faces += [f for f in prepare_faces(image, resolution=256, source=str(path), subject="grace_hopper")
                  if not isinstance(f, Exception)]
    return faces


def heldout_comparison(pipe, seeds: int = 2, ablations: bool = False, csv: str | None = None) -> None:
    """Warp baseline vs the demo before / after issue 18 on held-out faces (module docstring)."""
    import pandas as pd
    from tqdm import tqdm

    from mexkit.eval.expression import ExpressionScorer
    from mexkit.eval.identity import IdentityScorer
    from mexkit.eval.temporal import temporal_scores
    from mexkit.synth import Condition, load_generator

    faces = heldout_faces(pipe)
    shipped = {k: pipe.config[k] for k in BEFORE_ISSUE18}
    variants = [("flowdiff before", BEFORE_ISSUE18)]
    if ablations:
        variants += [("flowdiff projection only", {**BEFORE_ISSUE18, "temporal_projection": shipped["temporal_projection"]}),
                     ("flowdiff high-pass shading only", {**BEFORE_ISSUE18, "shading_highpass": shipped["shading_highpass"]})]
    variants.append(("flowdiff after", shipped))
    warp = load_generator("warp", resolution=128)
    ident, expr = IdentityScorer(), ExpressionScorer(fer=False)
    templates = class_templates(faces)
    jobs = [(i, f, c, s) for i, f in enumerate(faces) for c in CLASSES for s in range(seeds)]
    rows = []

    def score(name, i, face, label, seed, out, flow64):
        row = {"generator": name, "face": i, "subject": face.subject, "label": label, "seed": seed}
        row.update(ident(out.clip, neutral=out.clip.frames[0], neutral_key=f"h{i}"))
        row.update(temporal_scores(out.clip.frames, "dis"))
        bs = expr(out.clip).get("bs_correct")
        row["bs_correct"] = np.nan if bs is None else float(bs)
        if flow64 is not None:
            row["flow_class_acc"] = float(flow_class(flow64, templates[i]) == label)
        rows.append(row)

    for i, face, label, seed in tqdm(jobs, desc="held-out warp baseline"):
        cond = Condition(label=label, intensity=1.0, duration_ms=400, fps=40)
        out = warp.generate(face, cond, generator=100 * seed + i)
        score("warp baseline", i, face, label, seed, out, None)
    try:
        for name, settings in variants:
            pipe.register_to_config(**settings)
            for i, face, label, seed in tqdm(jobs, desc=f"held-out {name}"):
                cond = Condition(label=label, intensity=1.0, duration_ms=400, fps=40)
                out = pipe(face, cond, generator=100 * seed + i, resolution=128)
                score(name, i, face, label, seed, out, out.flow[out.clip.apex] / 2.0)
    finally:
        pipe.register_to_config(**shipped)
    df = pd.DataFrame(rows)
    if csv:
        df.to_csv(Path(csv).with_suffix(".heldout.csv"), index=False)
    cols = ["flicker", "warp_error", "id_cos_mean", "id_cos_min", "bs_correct", "flow_class_acc"]
    agg = {c: "mean" for c in cols}
    agg["id_cos_min"] = "min"
    q = df.groupby("generator", sort=False).agg(agg)
    print(f"\nheld-out faces ({len(faces)}: {', '.join(f.subject for f in faces)}) × {len(CLASSES)} classes × {seeds} seeds, "
          f"intensity 1, 16 frames at 128², threads={torch.get_num_threads()}; id_cos_min = min over clips and frames; "
          f"shipped settings {shipped}")
    print(q.to_string(float_format=lambda x: f"{x:.4g}"))
    w, before = q.loc["warp baseline"], q.loc["flowdiff before"]
    out_rows = []
    for name in q.index[1:]:
        m = q.loc[name]
        out_rows += [
            {"name": f"{name} held-out flicker", "value": float(m["flicker"]), "unit": "grey", "target": 1.5 * float(w["flicker"]),
             "reference": float(w["flicker"]), "note": f"reference = warp baseline, same {len(faces)} held-out faces; target 1.5× it"},
            {"name": f"{name} held-out identity cos mean", "value": float(m["id_cos_mean"]), "unit": "cos", "target": 0.995,
             "reference": float(w["id_cos_mean"]), "note": f"min over clips/frames {m['id_cos_min']:.4f}; reference = warp baseline"},
            {"name": f"{name} held-out bs_correct", "value": float(m["bs_correct"]), "unit": "share",
             "reference": float(before["bs_correct"]) or None, "note": "reference = flowdiff before"},
            {"name": f"{name} held-out flow_class_acc", "value": float(m["flow_class_acc"]), "unit": "share",
             "reference": float(before["flow_class_acc"]) or None, "note": "reference = flowdiff before"},
        ]
    emit(out_rows)


def figure(pipe, path: str, n_faces: int = 6, steps: int | None = None) -> None:
    """Rows: corpus faces (seen in training, then held out); per class: apex frame (128²), apex − onset
    difference (×4, grey = 0) and flow magnitude at the apex; identity cosine (dlib) of the apex frame."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mexkit.datasets import load_corpus
    from mexkit.face.identity import DlibIdentity, cosine_similarity
    from mexkit.synth import Condition

    corpus = load_corpus()
    trained = set(pipe.train_subjects)
    seen = [f for f in corpus.faces if f.subject in trained]
    held = [f for f in corpus.faces if f.subject not in trained]
    faces = seen[: n_faces - n_faces // 2] + held[: n_faces // 2]
    ident = DlibIdentity()
    fig, axes = plt.subplots(len(faces), 1 + 3 * len(CLASSES), figsize=(1.6 * (1 + 3 * len(CLASSES)), 1.7 * len(faces)))
    for r, face in enumerate(faces):
        for c, label in enumerate(CLASSES):
            out = pipe(face, Condition(label=label, intensity=1.0), generator=r, num_inference_steps=steps, resolution=128)
            f = out.clip.frames
            a = out.clip.apex
            cos = float(cosine_similarity(ident.embed_aligned(f[[a]]), ident.embed_aligned(f[[0]])[0])[0])
            diff = np.clip(128 + 4 * (f[a].astype(np.float32) - f[0].astype(np.float32)), 0, 255).astype(np.uint8)
            mag = np.linalg.norm(out.flow[a], axis=-1)
            if c == 0:
                axes[r, 0].imshow(f[0])
                axes[r, 0].set_ylabel(f"{face.subject}\n{'held out' if face.subject not in trained else 'seen'}", fontsize=7)
            axes[r, 1 + 3 * c].imshow(f[a])
            axes[r, 1 + 3 * c].set_title(f"{label} apex\nid cos {cos:.3f}", fontsize=7)
            axes[r, 2 + 3 * c].imshow(diff)
            axes[r, 2 + 3 * c].set_title("apex − onset ×4", fontsize=7)
            axes[r, 3 + 3 * c].imshow(mag, cmap="magma", vmin=0, vmax=4)
            axes[r, 3 + 3 * c].set_title(f"|flow| max {mag.max():.1f} px", fontsize=7)
    axes[0, 0].set_title("neutral input", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    steps_used = steps or pipe.config.num_inference_steps
    fig.suptitle(f"flowdiff-demo: intensity 1, {steps_used} {type(pipe.scheduler).__name__} steps, guidance "
                 f"{pipe.config.guidance_scale}, seed = row; flow magnitude scale 0–4 px at 128²", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=72, **({"pil_kwargs": {"quality": 85}} if str(path).lower().endswith((".jpg", ".jpeg")) else {}))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
