"""Cross-fitted synthetic pools: K learned generators, none of which saw the subjects it is used for.

The real set's subjects are split into K disjoint groups (seeded, balanced by dataset and class).
Generator k is trained — through the same Lightning training as `mexkit train`, with the recipe's own
trainer settings (devices, accelerator, strategy, precision pass through) — on every subject outside
group k, then animates the neutral (onset) faces of its own training subjects through the synthetic
dataset writer. Every LOSO fold whose held-out subject is in group k trains on generator k's clips
only, so no generator used by a fold was shaped by that fold's held-out subject (the leakage gate
checks it again from each clip's `train_subjects`).

Layout under the study's folder (every step resumes; a finished step is never redone):
    cross_fit/groups.json                    the K groups (a rerun with other groups is refused)
    cross_fit/group<k>/train_manifest.csv    the real rows generator k trains on
    cross_fit/group<k>/train/                the recipe's CSV training log
    cross_fit/group<k>/checkpoints/last.ckpt with checkpoint_every > 0: training resumes from it
    cross_fit/group<k>/generator/            exported pretrained folder (config.json + safetensors)
    cross_fit/group<k>/TRAINED               written once the export is complete
    cross_fit/group<k>/synthetic/            the writer's output (manifest.csv, clips/, rejects.csv)
    cross_fit/group<k>/GENERATED             written once every clip of the group is written
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_write_text
from mexkit.datasets.label_maps import MEGC_CLASSES
from mexkit.errors import MexkitInputError

GROUPS_FILE = "groups.json"


def subject_groups(manifest: pd.DataFrame, k: int, seed: int = 0) -> list[list[str]]:
    """K disjoint subject groups, balanced by dataset and by each subject's most frequent class.

    Subjects are shuffled (seeded) within strata of (dataset, majority class) and dealt round-robin,
    continuing across strata, so every group gets a near-equal share of each stratum and of subjects.
    """
    subjects = sorted(manifest["subject"].astype(str).unique())
    if k < 2:
        raise MexkitInputError(None, f"cross-fitting needs at least 2 subject groups, got {k}", "set groups: 2 or more (e.g. 4)", stage="study")
    if k > len(subjects):
        raise MexkitInputError(None, f"{k} subject groups but the real set has only {len(subjects)} subjects",
                               f"set groups to at most {len(subjects)}", stage="study")
    table = manifest.assign(subject=manifest["subject"].astype(str), label=manifest["label"].astype(str))
    dataset = table.groupby("subject")["dataset"].first() if "dataset" in table else pd.Series("", index=subjects)
    majority = table.groupby("subject")["label"].agg(lambda s: s.value_counts().sort_index().idxmax())
    rng = np.random.default_rng(seed)
    groups: list[list[str]] = [[] for _ in range(k)]
    turn = 0
    for _, members in sorted(pd.DataFrame({"dataset": dataset, "label": majority}).groupby(["dataset", "label"]).groups.items()):
        members = sorted(map(str, members))
        for s in rng.permutation(members):
            groups[turn % k].append(str(s))
            turn += 1
    return [sorted(g) for g in groups]


def check_groups(manifest: pd.DataFrame, groups: Sequence[Sequence[str]], classes: Sequence[str]) -> None:
    """Every generator's training subjects (those outside its group) must show every class."""
    labels = manifest.assign(subject=manifest["subject"].astype(str))
    for k, group in enumerate(groups):
        train = labels[~labels["subject"].isin(set(group))]
        missing = [c for c in classes if not (train["label"] == c).any()]
        if missing:
            raise MexkitInputError(None, f"generator {k}'s training subjects (all but group {k}: {list(group)[:5]}…) have no clip of "
                                   f"class(es) {missing}", "use fewer groups, or a real set with more subjects of those classes", stage="study")


@dataclass
class CrossFit:
    """How to build the per-group generators and their synthetic sets.

    recipe: a `mexkit train` YAML (shipped name or path) whose model exports a pretrained generator
    (`model.init_args.export_dir`) and whose data is a VideoDataModule: its `sources` are replaced by the
    group's training manifest. A registered generator name ("warp") or a pretrained folder is used as it
    is (nothing trained): the same groups, faces and counts, so arms compare on one design. trainer_args: extra LightningCLI overrides, e.g. ["--trainer.max_steps=200",
    "--trainer.accelerator=gpu", "--trainer.precision=bf16-mixed"]. per_face / classes / intensity / seed:
    what each generator writes per training face (see `mexkit.synth.generate_dataset`).
    align: a face-pipeline backend ("mediapipe") when the real frames are raw, not aligned crops.
    checkpoint_every: 0 (default) restarts an unfinished group's training from scratch after a kill —
    CPU training is deterministic, so the result is bit-identical to an uninterrupted run; N > 0 saves a
    Lightning checkpoint every N steps and resumes from it (for long GPU runs; a resumed run continues
    the same optimisation but is not guaranteed bit-identical, because data order is not restored mid-epoch).
    """

    recipe: str | Path
    groups: int = 4
    seed: int = 0
    per_face: int = 6
    classes: Sequence[str] = MEGC_CLASSES
    intensity: str | float | tuple[float, float] = "0.3:0.8"
    trainer_args: Sequence[str] = field(default_factory=tuple)
    checkpoint_every: int = 0
    align: str | None = None

    @property
    def trains(self) -> bool:
        """False when `recipe` names a generator that needs no training: a registered name ("warp") or a
        pretrained folder (config.json / model_index.json); its `train_subjects` are checked by the gate."""
        from mexkit.synth.registry import GENERATORS

        path = Path(str(self.recipe))
        return not (str(self.recipe) in GENERATORS or (path.is_dir() and any((path / f).is_file() for f in ("config.json", "model_index.json"))))

    # ------------------------------------------------------------------ groups
    def plan(self, manifest: pd.DataFrame, out: Path) -> list[list[str]]:
        """The K groups, written to groups.json once; a rerun must find the same groups."""
        groups = subject_groups(manifest, self.groups, self.seed)
        check_groups(manifest, groups, self.classes)
        path = out / GROUPS_FILE
        if path.is_file():
            old = json.loads(path.read_text())["groups"]
            if old != groups:
                raise MexkitInputError(path, "this study folder was cross-fitted with other subject groups (other data, K or seed)",
                                       "use a new --out folder, or delete the old cross_fit/ folder", stage="study")
        else:
            atomic_write_text(path, json.dumps({"groups": groups, "k": self.groups, "seed": self.seed}, indent=1))
        return groups

    # ------------------------------------------------------------------ one group
    def train(self, gdir: Path, train_manifest: Path, root: Path) -> Path:
        """Train (or resume, or skip) generator k; returns its exported pretrained folder."""
        from mexkit.synth.train_cli import build_cli_args, run_lightning_cli

        export = gdir / "generator"
        if not self.trains:  # a registered generator or a pretrained folder: used as it is, nothing trained
            return Path(str(self.recipe))
        if (gdir / "TRAINED").is_file():
            return export
        ckpt_dir = gdir / "checkpoints"
        last = ckpt_dir / "last.ckpt"
        if not (self.checkpoint_every > 0 and last.is_file()):  # start clean: no half-written log or export
            for stale in (export, gdir / "train", ckpt_dir):
                shutil.rmtree(stale, ignore_errors=True)
        source = {"manifest": str(train_manifest), "root": str(root), **({"align": self.align} if self.align else {})}
        sources = json.dumps([source])
        args = ["--config", str(self.recipe), f"--trainer.default_root_dir={gdir}", f"--trainer.logger.init_args.save_dir={gdir}",
                "--trainer.logger.init_args.name=train", f"--data.init_args.sources={sources}", f"--model.init_args.export_dir={export}"]
        if self.checkpoint_every > 0:
            callbacks = [{"class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                          "init_args": {"dirpath": str(ckpt_dir), "save_last": True, "every_n_train_steps": int(self.checkpoint_every)}}]
            args.append(f"--trainer.callbacks={json.dumps(callbacks)}")
        else:
            args.append("--trainer.enable_checkpointing=false")
        argv = build_cli_args([*args, *self.trainer_args])
        cli = run_lightning_cli(argv[1:] if argv and argv[0] == "fit" else argv, run=False)
        try:
            cli.trainer.fit(cli.model, cli.datamodule, ckpt_path=str(last) if last.is_file() else None)
        except Exception as err:
            raise MexkitInputError(gdir, f"training generator {gdir.name} failed: {type(err).__name__}: {err}",
                                   f"see the training log under {gdir / 'train'}; finished groups are kept, rerun resumes", stage="train") from err
        if not (export / "config.json").is_file():
            raise MexkitInputError(export, "the recipe's model wrote no pretrained generator",
                                   "use a recipe whose model exports one (model.init_args.export_dir)", stage="train")
        atomic_write_text(gdir / "TRAINED", time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        return export

    def generate(self, gdir: Path, generator_dir: Path, faces: Sequence[Any], progress: bool = True) -> Path:
        """Generator k animates its own training subjects' onset faces (resumes through the writer)."""
        from mexkit.synth import generate_dataset, load_generator

        out = gdir / "synthetic"
        if (gdir / "GENERATED").is_file():
            return out
        counts = generate_dataset(load_generator(str(generator_dir)), faces, out, classes=tuple(self.classes),
                                  intensity=self.intensity, per_face=self.per_face, seed=self.seed, progress=progress)
        atomic_write_text(gdir / "GENERATED", json.dumps({k: v for k, v in counts.items() if k != "rejects"}, default=str))
        return out

    # ------------------------------------------------------------------ all groups
    def run(self, manifest: pd.DataFrame, root: str | Path, out: str | Path, progress: bool = True) -> "CrossFitResult":
        """Train and generate for every group (skipping what is finished); returns the per-group sets."""
        out = Path(out) / "cross_fit"
        out.mkdir(parents=True, exist_ok=True)
        root = Path(root)
        manifest = manifest.assign(subject=manifest["subject"].astype(str))
        groups = self.plan(manifest, out)
        timings: list[dict[str, Any]] = []
        synthetic: list[Path] = []
        for k, group in enumerate(groups):
            gdir = out / f"group{k}"
            gdir.mkdir(exist_ok=True)
            train_rows = manifest[~manifest["subject"].isin(set(group))]
            train_manifest = gdir / "train_manifest.csv"
            if not train_manifest.is_file():
                atomic_write_text(train_manifest, train_rows.to_csv(index=False))
            t0 = time.perf_counter()
            gen_dir = self.train(gdir, train_manifest, root)
            t1 = time.perf_counter()
            faces = onset_faces(train_rows, root)
            synthetic.append(self.generate(gdir, gen_dir, faces, progress))
            timings.append({"group": k, "train_s": t1 - t0, "generate_s": time.perf_counter() - t1,
                            "train_subjects": int(train_rows["subject"].nunique()), "held_out_subjects": len(group)})
        return CrossFitResult(groups=groups, synthetic=synthetic, timings=pd.DataFrame(timings))


@dataclass
class CrossFitResult:
    """The K groups, each group's synthetic folder, and seconds spent per group."""

    groups: list[list[str]]
    synthetic: list[Path]
    timings: pd.DataFrame

    def fold_pools(self, real, classes: Sequence[str] = MEGC_CLASSES) -> dict[str, Any]:
        """LOSO fold (held-out subject) → the SampleSet of the generator that never saw that subject."""
        from .samples import SampleSet

        sets = [SampleSet.from_manifest(path / "manifest.csv", path, classes=classes) for path in self.synthetic]
        owner = {s: k for k, g in enumerate(self.groups) for s in g}
        pools = {}
        for subject in real.subjects:
            if subject not in owner:
                raise MexkitInputError(None, f"subject {subject!r} of the real set is in no cross-fitting group",
                                       "cross-fit on the same real set the study uses", stage="study")
            pools[subject] = sets[owner[subject]]
        return pools


def onset_faces(rows: pd.DataFrame, root: Path) -> list[Any]:
    """One aligned neutral face per subject: the onset frame of its first clip that loads (FaceSource with the
    face). A row whose clip is missing, empty or unreadable is passed over here — the study lists it in
    rejects.csv when it computes the real set's features — and a subject with no readable clip gets no face."""
    from mexkit.datasets import load_manifest_clip
    from mexkit.neutral_face import prepare_face
    from mexkit.synth.writer import FaceSource

    faces = []
    for subject, part in rows.groupby("subject", sort=True):
        for row in part.to_dict("records"):
            try:
                clip = load_manifest_clip(root, row)
                break
            except (MexkitInputError, ValueError, OSError):
                continue
        else:
            continue
        frame = clip.frames[clip.onset]
        face = prepare_face(frame, resolution=frame.shape[0] if frame.shape[0] in (64, 128, 256) else 128,
                            source=f"{row['sample_id']}#onset", subject=str(subject))
        sha = hashlib.sha256(np.ascontiguousarray(frame).tobytes()).hexdigest()
        faces.append(FaceSource(key=f"{row['sample_id']}#onset", sha=sha, subject=str(subject), face=face))
    return faces


def write_clip_folder(clips: Sequence[Any], root: str | Path) -> Path:
    """In-memory clips (the parametric stand-in set) as PNG frame folders + manifest.csv under root;
    clips already written are kept. Returns the manifest path."""
    from mexkit.video_io import write_frames

    root = Path(root)
    rows = []
    for c in clips:
        folder = root / "clips" / c.sample_id
        if not folder.is_dir():
            write_frames(folder, c.frames)
        rows.append({**c.record(), "path": f"clips/{c.sample_id}"})
    path = root / "manifest.csv"
    atomic_write_text(path, pd.DataFrame(rows).to_csv(index=False))
    return path


def run_cross_fitted_study(manifest: str | Path, cross_fit: CrossFit, model: Any, out: str | Path, root: str | Path | None = None,
                           feature: dict | None = None, seed: int = 0, n_boot: int = 2000, classes: Sequence[str] = MEGC_CLASSES,
                           progress: bool = True, name: str | None = None):
    """The augmentation study with cross-fitted generators, one call: cross-fit (resumable), then both
    arms of `run_study` on identical LOSO folds, seeds and schedules. Returns (StudyResult, timings) where
    timings has one row per stage: train / generate per group, and the LOSO of both arms."""
    from .samples import SampleSet
    from .study import run_study

    manifest = Path(manifest)
    root = Path(root) if root is not None else manifest.parent
    table = pd.read_csv(manifest, keep_default_na=False, na_values=[""], dtype={"subject": str, "sample_id": str})
    out = Path(out)
    result = cross_fit.run(table, root, out, progress=progress)
    real = SampleSet.from_manifest(manifest, root, classes=classes)
    pools = result.fold_pools(real, classes)
    t0 = time.perf_counter()
    study = run_study(real, pools, model, feature=feature, seed=seed, n_boot=n_boot, out_dir=out, progress=progress, name=name)
    stages = [{"stage": "train", "group": r.group, "seconds": r.train_s} for r in result.timings.itertuples()]
    stages += [{"stage": "generate", "group": r.group, "seconds": r.generate_s} for r in result.timings.itertuples()]
    stages.append({"stage": "loso (both arms)", "group": -1, "seconds": time.perf_counter() - t0})
    timings = pd.DataFrame(stages)
    atomic_write_text(out / "cross_fit" / "timings.csv", timings.to_csv(index=False))
    return study, timings
