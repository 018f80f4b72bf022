"""`EvalSuite`: runs the metric families over a real and a synthetic clip set, one clip at a time.

Per-clip families (one DataFrame row per clip and set): identity, perceptual (synthetic clips with a
ground truth only), temporal, motion, expression. Set-level family: distribution (Fréchet distance in a
recognizer's feature space, CAS). Real clips are scored too, so every synthetic number sits next to the
real data's. Clips are loaded lazily and only small per-clip results are kept (memory stays flat).
"""
from __future__ import annotations

import io
import json
import pickle
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_write_bytes, atomic_write_text
from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .clip_sets import ClipSet, neutral_image, reference_id
from .distribution import (FeatureFn, classification_accuracy_score, flow_statistics_features, frechet_distance,
                           labelled)
from .expression import ExpressionScorer
from .journal import RunJournal, roundtrip, run_key
from .workers import auto_workers

FAMILIES = ("identity", "perceptual", "temporal", "motion", "expression", "distribution")
PER_CLIP = ("identity", "perceptual", "temporal", "motion", "expression")
RANGE_METRICS = ("apex_disp_iod", "duration_half_ms", "onset_apex_ms")  # micro-ness, compared to the real range
VIDEO_FAMILIES = ("fvd", "fid")  # set-level, need user-supplied networks (--fvd-model / --fid-model)
OUTPUT_NAMES = (*FAMILIES, "summary", "timings", "cas_confusion", "fvd_fid", "rejects")  # CSVs a run writes
NOT_METRICS = {"set", "sample_id", "subject", "label", "fps", "num_frames", "id_frames", "apex_frame_est"}


@dataclass
class EvalResult:
    """Everything a run produced: per-family tables, summaries, the report's raw material, rejects."""

    tables: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    distribution: pd.DataFrame
    confusion: pd.DataFrame | None
    curves: dict[str, dict[str, np.ndarray]]
    examples: list[dict]
    timings: pd.DataFrame
    rejects: RejectLog
    notes: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    video_distances: pd.DataFrame = field(default_factory=pd.DataFrame)  # FVD / FID rows (fvd_fid.csv)

    def write_csv(self, folder: str | Path) -> list[Path]:
        """One CSV per metric family plus summary, distribution, CAS confusion and timings (atomic writes)."""
        folder = Path(folder)
        out = []
        frames = {**{f: t for f, t in self.tables.items()}, "summary": self.summary, "distribution": self.distribution,
                  "timings": self.timings}
        if self.confusion is not None:
            frames["cas_confusion"] = self.confusion
        if not self.video_distances.empty:
            frames["fvd_fid"] = self.video_distances
        for name, df in frames.items():
            path = folder / f"{name}.csv"
            atomic_write_text(path, df.to_csv(index=name == "cas_confusion"))
            out.append(path)
        return out


def _as_set(clips, name: str) -> ClipSet | None:
    if clips is None or isinstance(clips, ClipSet):
        return clips
    return ClipSet.from_clips(name, list(clips))


def summarize(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """family, metric, set, n, mean, std, median, min, max over every numeric column of every table."""
    rows = []
    for family, df in tables.items():
        if df.empty:
            continue
        num = [c for c in df.columns if c not in NOT_METRICS and pd.api.types.is_numeric_dtype(df[c])
               and not pd.api.types.is_bool_dtype(df[c])]
        for (set_name,), g in df.groupby(["set"], sort=False):
            for c in num:
                v = g[c].dropna().astype(float)
                if v.empty:
                    continue
                rows.append({"family": family, "metric": c, "set": set_name, "n": len(v), "mean": v.mean(),
                             "std": v.std(ddof=1) if len(v) > 1 else 0.0, "median": v.median(), "min": v.min(), "max": v.max()})
    return pd.DataFrame(rows, columns=["family", "metric", "set", "n", "mean", "std", "median", "min", "max"])


class _Missing:
    """A fake clip's task whose manifest names a ground truth that the real set lacks."""

    def __init__(self, args: tuple, missing: str):
        self.args, self.missing = args, missing


def _reject_row(file, err: Exception, stage: str) -> list[str]:
    """[file, stage, reason] as RejectLog.add_error records it."""
    if isinstance(err, MexkitInputError):
        return [str(file), stage or err.stage, err.reason]
    return [str(file), stage or "process", f"{type(err).__name__}: {err}"]


def _load(clip_set: ClipSet, i: int) -> Clip | dict:
    """Clip i, or {"load_error": [file, stage, reason], ...} when it cannot be read (as ClipSet iteration logs it)."""
    row = clip_set.records.iloc[i].to_dict()
    try:
        return clip_set.load(i)
    except (MexkitInputError, ValueError, OSError) as err:
        file = clip_set.where(i)
        return {"sample_id": str(row.get("sample_id", i)), "base": None, "rows": {}, "errors": [], "time": {}, "feature": None,
                "curve": None, "load_error": _reject_row(file, err, f"load {clip_set.name}")}


def _write_status(folder: Path, **status) -> None:
    """run.json: whether the run is complete, clips done / total, how many came from an earlier run."""
    atomic_write_text(folder / "run.json", json.dumps(status, indent=1) + "\n")


def eval_folder(out: Path) -> bool:
    """Whether `out` holds an earlier `mexkit eval` run (its journal, clips.jsonl, starts with the eval header)."""
    from .journal import JOURNAL_NAME

    try:
        with open(out / JOURNAL_NAME, encoding="utf-8") as f:
            return json.loads(f.readline() or "{}").get("journal") == "mexkit eval"
    except (OSError, ValueError, AttributeError):
        return False


def check_output_names(out: str | Path, option: str = "out_dir") -> None:
    """A folder that holds files of the names a run writes (identity.csv, run.json, …) but no earlier eval run's
    journal: refused (a MexkitInputError), so files the command did not write are never deleted or overwritten."""
    from .journal import JOURNAL_NAME

    out = Path(out)
    if not out.is_dir() or eval_folder(out):
        return
    names = [f"{n}.csv" for n in OUTPUT_NAMES] + ["run.json", JOURNAL_NAME, "fid_features"]
    found = [n for n in names if (out / n).exists()]
    if found:
        raise MexkitInputError(out, f"{option}: holds {', '.join(found)} that no earlier `mexkit eval` run wrote (no {JOURNAL_NAME} of one)",
                               f"give {option} a new or empty folder, or move those files away", stage="output")


def check_families(families: Sequence[str], option: str = "families") -> tuple[str, ...]:
    """The families as a tuple; a name that is no metric family is a MexkitInputError (a ValueError)."""
    unknown = [f for f in families if f not in FAMILIES + VIDEO_FAMILIES]
    if unknown:
        raise MexkitInputError(None, f"{option}: unknown metric families {unknown}", f"choose from {','.join(FAMILIES + VIDEO_FAMILIES)}",
                               stage="input")
    return tuple(families)


class EvalSuite:
    """Configure once, then `run(fake, real)`.

    families: any of FAMILIES (default all). identity_model: "dlib" (default), a TorchScript/ONNX path or
    an embedder; csim_model: an ArcFace ONNX file whose cosine is reported as CSIM beside dlib's.
    lpips: a perceptual model (`STLPIPS`, `LPIPS`; False: none), or lpips_backbone= a local ImageNet backbone
    for standard LPIPS; without either, ST-LPIPS (`lpips_net` alex or vgg, shipped weights) gives the
    perceptual distance and its temporal form (tST-LPIPS). cvvdp: add ColorVideoVDP to the perceptual
    family. occlusion: the forward–backward occlusion check of the temporal family (False: half the
    flow work). features: the recognizer feature function for the distribution family (default
    flow statistics); estimator: the scikit-learn classifier for CAS. workers: processes that score
    clips in parallel (1: this process; the numbers are the same; "auto": `auto_workers`, as many as the
    clips repay, up to the cores); threads: torch threads per worker.
    """

    def __init__(self, families: Sequence[str] | None = None, identity_model=None, identity_stride: int = 1, lpips=None,
                 lpips_backbone: str | Path | None = None, lpips_net: str = "alex", cvvdp: bool = False,
                 flow_method: str = "dis", occlusion: bool = True, features: FeatureFn | None = None, estimator=None, pipeline=None,
                 fer: bool = True, progress: bool = True, examples: int = 4, workers: int | str = 1, threads: int = 1,
                 fvd_model: str | Path | None = None, fid_model: str | Path | None = None, fid_stride: int = 1,
                 csim_model: str | Path | None = None):
        self._spec = {"families": families, "identity_model": identity_model, "identity_stride": identity_stride, "lpips": lpips,
                      "lpips_backbone": lpips_backbone, "lpips_net": lpips_net, "cvvdp": cvvdp, "flow_method": flow_method,
                      "occlusion": occlusion, "features": features, "estimator": estimator, "pipeline": pipeline, "fer": fer,
                      "progress": False, "examples": 0, "fvd_model": fvd_model, "fid_model": fid_model,
                      "fid_stride": fid_stride, "csim_model": csim_model}
        self.workers, self.threads = workers if workers == "auto" else max(1, int(workers)), max(1, int(threads))
        families = check_families(families or FAMILIES)
        for fam, model, flag in (("fvd", fvd_model, "--fvd-model"), ("fid", fid_model, "--fid-model")):
            if fam in families and model is None:
                raise MexkitInputError(None, f"the {fam} family needs a network file and none was given",
                                       f"pass {flag} PATH ({'StyleGAN-V i3d_torchscript.pt' if fam == 'fvd' else 'Inception-v3 state dict'}), "
                                       f"or drop {fam} from --families", stage=fam)
            if model is not None and fam not in families:
                families = (*families, fam)
        self.i3d = self.inception = None
        self.fid_stride = max(1, int(fid_stride))
        if fvd_model is not None:
            from .fvd import I3DFeatures

            self.i3d = I3DFeatures(fvd_model)
        if fid_model is not None:
            from .fid import InceptionFeatures

            self.inception = InceptionFeatures(fid_model)
        self.families = families
        self.notes: list[str] = []
        if lpips is None and (lpips_backbone is not None or ({"perceptual", "temporal"} & set(families))):
            from .perceptual import perceptual_model

            lpips = perceptual_model(lpips_net, lpips_backbone)  # ST-LPIPS unless an LPIPS backbone is given
        lpips = lpips or None  # False: no perceptual model
        if lpips is not None and lpips.backbone_name == "random":
            self.notes.append("LPIPS uses a RANDOM backbone (test mode): its numbers are not LPIPS.")
        self.lpips = lpips
        self.scorers: dict[str, Callable] = {}
        if "identity" in families:
            from .identity import IdentityScorer

            self.scorers["identity"] = IdentityScorer(identity_model, frame_stride=identity_stride, csim=csim_model)
        if "perceptual" in families:
            from .perceptual import CvvdpScorer, PerceptualScorer

            self.scorers["perceptual"] = PerceptualScorer(lpips, CvvdpScorer() if cvvdp else None)
        if "temporal" in families:
            from .temporal import TemporalScorer

            self.scorers["temporal"] = TemporalScorer(flow_method, lpips, occlusion)
        if "motion" in families:
            from .motion_profile import MotionProfileScorer

            self.scorers["motion"] = MotionProfileScorer(pipeline)
        if "expression" in families:
            self.scorers["expression"] = ExpressionScorer(pipeline=pipeline, fer=fer)
        self.features = features or (lambda clip: flow_statistics_features(clip, flow_method=flow_method))
        self.estimator = estimator
        self.progress = progress
        self.n_examples = examples
        self.config = {"families": list(families), "identity_model": str(identity_model or "dlib"), "identity_stride": identity_stride,
                       "lpips": None if lpips is None else lpips.description, "cvvdp": cvvdp,
                       "flow_method": flow_method, "occlusion_check": occlusion, "features": getattr(features, "__name__", "flow_statistics_features") if features else "flow_statistics_features"}
        if csim_model is not None and "identity" in self.scorers:
            self.config["csim_model"] = self.scorers["identity"].csim.name
        if self.i3d is not None:
            self.config["fvd_model"] = self.i3d.name
        if self.inception is not None:
            self.config["fid_model"] = self.inception.name
            self.config["fid_stride"] = self.fid_stride

    @property
    def _perceptual_label(self) -> str:
        return getattr(self.lpips, "label", "LPIPS")

    # ------------------------------------------------------------------ one clip
    def score_clip(self, set_name: str, index: int, clip: Clip, neutral: np.ndarray | None, neutral_key: str | None,
                   ref_clip: Clip | None, neutral_error: list | None = None) -> dict:
        """Every per-clip family (and the distribution features) of one clip → a JSON-able record.

        record: set, i, sample_id, base (set/sample_id/subject/label), rows {family: row}, errors
        [[file, stage, reason]], time {family: seconds}, feature (list or None), curve (motion, or None).
        The clip's face detections are shared by the families that need them (motion, expression).
        """
        from .face_tracks import shared_detections

        base = {"set": set_name, "sample_id": clip.sample_id, "subject": clip.subject, "label": clip.label}
        rec = {"set": set_name, "i": index, "sample_id": clip.sample_id, "base": base, "rows": {}, "errors": [], "time": {},
               "feature": None, "curve": None}
        file = clip.source or clip.sample_id
        with shared_detections(clip):
            for family, scorer in self.scorers.items():
                t0 = time.perf_counter()
                try:
                    if family == "identity":
                        if neutral_error:  # the neutral input named by the manifest could not be read
                            rec["errors"].append(list(neutral_error))
                            continue
                        row = scorer(clip, neutral if set_name == "fake" else None, neutral_key if set_name == "fake" else None)
                        row["neutral"] = (neutral_key if set_name == "fake" else None) or "onset frame"
                    elif family == "perceptual":
                        if ref_clip is None:
                            continue
                        row = scorer(clip, ref_clip)
                        row["reference"] = ref_clip.sample_id
                    elif family == "temporal":
                        row = scorer(clip, ref_clip)
                    else:
                        row = scorer(clip)
                        if family == "motion":
                            rec["curve"] = scorer.curves.pop(clip.sample_id, None)
                except Exception as err:  # one bad clip must not stop the run: record it and go on
                    rec["errors"].append(_reject_row(file, err, family))
                    continue
                finally:
                    rec["time"][family] = rec["time"].get(family, 0.0) + time.perf_counter() - t0
                rec["rows"][family] = row
        if "distribution" in self.families:
            t0 = time.perf_counter()
            try:
                rec["feature"] = np.asarray(self.features(clip), np.float64).ravel()
            except Exception as err:
                rec["errors"].append(_reject_row(file, err, "distribution"))
            rec["time"]["distribution"] = time.perf_counter() - t0
        if self.i3d is not None:
            t0 = time.perf_counter()
            if not self.i3d.usable(clip):
                rec["fvd_short"] = True  # the protocol leaves out clips shorter than its 16 frames
            else:
                try:
                    rec["fvd_feature"] = self.i3d(clip)
                except Exception as err:
                    rec["errors"].append(_reject_row(file, err, "fvd"))
            rec["time"]["fvd"] = time.perf_counter() - t0
        fid_frames = None
        if self.inception is not None:
            t0 = time.perf_counter()
            try:
                fid_frames = self.inception(clip.frames[::self.fid_stride]).astype(np.float32)
            except Exception as err:
                rec["errors"].append(_reject_row(file, err, "fid"))
            rec["time"]["fid"] = time.perf_counter() - t0
        rec = roundtrip(rec)
        if fid_frames is not None:
            rec["fid_frames"] = fid_frames  # (T, 2048): kept out of the journal (a side .npy file per clip)
        return rec

    def _items(self, sets: list[tuple[str, ClipSet, ClipSet | None]], done: set) -> Iterator[tuple | dict]:
        """Per unfinished clip: score_clip's arguments, or the record of a clip that failed to load."""
        for set_name, clip_set, reference in sets:
            for i in range(len(clip_set)):
                if (set_name, i) in done:
                    continue
                loaded = _load(clip_set, i)
                if isinstance(loaded, dict):
                    yield {"set": set_name, "i": i, **loaded}
                    continue
                clip = loaded
                neutral, key, neutral_error = None, None, None
                if set_name == "fake" and "identity" in self.scorers:
                    try:
                        neutral, key = neutral_image(clip, clip_set)
                    except Exception as err:  # an unreadable neutral image: the identity family rejects this clip
                        neutral_error = _reject_row(clip.source or clip.sample_id, err, "identity")
                ref_clip, missing = None, None
                if set_name == "fake" and reference is not None and ({"perceptual", "temporal"} & set(self.scorers)):
                    rid = reference_id(clip)
                    ref_clip = reference.find(rid or clip.sample_id)
                    if rid and ref_clip is None:
                        missing = rid
                task = (set_name, i, clip, neutral, key, ref_clip, neutral_error)
                yield task if missing is None else _Missing(task, missing)

    def _examples(self, sets: list[tuple[str, ClipSet, ClipSet | None]], records: dict) -> list[dict]:
        """The first `examples` loadable clips of each set, with their neutral input and ground truth."""
        out = []
        for set_name, clip_set, reference in sets:
            n = 0
            for i in range(len(clip_set)):
                if n >= self.n_examples:
                    break
                rec = records.get((set_name, i))
                if rec is not None and rec.get("load_error"):
                    continue
                clip = _load(clip_set, i)
                if isinstance(clip, dict):
                    continue
                n += 1
                try:
                    neutral, _ = neutral_image(clip, clip_set) if set_name == "fake" else (None, None)
                except Exception:  # the example still shows, with the onset frame as its input
                    neutral = None
                ref_clip = None
                if set_name == "fake" and reference is not None and ({"perceptual", "temporal"} & set(self.scorers)):
                    ref_clip = reference.find(reference_id(clip) or clip.sample_id)
                out.append({"set": set_name, "sample_id": clip.sample_id, "label": clip.label, "fps": clip.fps,
                            "frames": clip.frames[:64].copy(), "neutral": clip.frames[clip.onset].copy() if neutral is None else neutral,
                            "reference": None if ref_clip is None else ref_clip.frames[:64].copy()})
        return out

    def _spec_for_workers(self) -> dict | None:
        """The settings a worker rebuilds this suite from, or None if they cannot be sent to another process."""
        try:
            pickle.dumps(self._spec)
        except Exception as err:  # e.g. an embedder object holding a native model
            warnings.warn(f"evaluating in one process: the suite's settings cannot be sent to worker processes ({err})", stacklevel=3)
            return None
        return self._spec

    # ------------------------------------------------------------------ the run
    def run(self, fake: ClipSet | Sequence[Clip], real: ClipSet | Sequence[Clip] | None = None,
            out_dir: str | Path | None = None) -> EvalResult:
        """Score both sets; with out_dir, write one CSV per family (+ rejects.csv, run.json) there.

        With out_dir the run is resumable: each finished clip is appended to out_dir/clips.jsonl, and a
        run started again with the same settings and sets skips the clips already there. The summary
        CSVs are written only when every clip is done (run.json says whether the run is complete);
        outputs of an earlier, different run in the folder are removed when a new run starts.
        """
        fake_set, real_set = _as_set(fake, "fake"), _as_set(real, "real")
        sets = ([("real", real_set, None)] if real_set is not None else []) + [("fake", fake_set, real_set)]
        out = Path(out_dir) if out_dir is not None else None
        records: dict[tuple[str, int], dict] = {}
        journal, resumed = None, False
        if out is not None:
            check_output_names(out)
            key = run_key(self.config, {s: [str(x) for x in cs.records["sample_id"]] if len(cs) else [] for s, cs, _ in sets})
            journal = RunJournal(out)
            prior, resumed = journal.open(key)
            records = {(r["set"], r["i"]): r for r in prior}
            if not resumed:
                for name in OUTPUT_NAMES:
                    (out / f"{name}.csv").unlink(missing_ok=True)
            _write_status(out, complete=False, done=len(records), total=sum(len(cs) for _, cs, _ in sets), resumed=len(records))
        total = sum(len(cs) for _, cs, _ in sets)
        todo = total - len(records)
        self._pending_missing: dict = {}
        items = self._items(sets, set(records))
        workers = auto_workers(todo) if self.workers == "auto" else self.workers
        spec = self._spec_for_workers() if workers > 1 and todo > 1 else None
        t_wall = time.perf_counter()
        if spec is not None:
            from .workers import score_in_workers

            stream = score_in_workers(spec, (self._resolve(it) for it in items), min(workers, todo), self.threads)
        else:
            stream = (it if isinstance(it, dict) else self.score_clip(*it) for it in (self._resolve(x) for x in items))
        from tqdm.auto import tqdm

        self._fid_memory: dict = {}
        for rec in tqdm(stream, total=todo, desc="eval", unit="clip", disable=not self.progress):
            rec = self._finish(rec)
            if "fid_frames" in rec:
                feats = rec.pop("fid_frames")
                if out is not None:
                    rec["fid_file"] = f"fid_features/{rec['set']}_{rec['i']:06d}.npy"
                    buf = io.BytesIO()
                    np.save(buf, feats)
                    atomic_write_bytes(out / rec["fid_file"], buf.getvalue())
                else:
                    self._fid_memory[(rec["set"], rec["i"])] = feats
            records[(rec["set"], rec["i"])] = rec
            if journal is not None:
                journal.append(rec)
        wall = time.perf_counter() - t_wall
        ordered = [records[(s, i)] for s, cs, _ in sets for i in range(len(cs)) if (s, i) in records]
        return self._assemble(ordered, sets, records, out, wall, todo, workers if spec is not None else 1, resumed)

    def _resolve(self, item):
        """A _Missing task → the plain task, remembering the missing ground truth for the record."""
        if isinstance(item, _Missing):
            self._pending_missing[(item.args[0], item.args[1])] = item.missing
            return item.args
        return item

    def _finish(self, rec: dict) -> dict:
        missing = self._pending_missing.pop((rec["set"], rec["i"]), None)
        if missing is not None:
            rec["missing_ref"] = missing
        return rec

    def _assemble(self, ordered: list[dict], sets, records: dict, out: Path | None, wall: float, todo: int, workers: int,
                  resumed: bool) -> EvalResult:
        rejects = RejectLog()
        for rec in ordered:
            for file, stage, reason in ([rec["load_error"]] if rec.get("load_error") else []) + rec.get("errors", []):
                rejects.add(file, stage, reason)
        fake_recs = [r for r in ordered if r["set"] == "fake"]
        scored = [r for r in fake_recs if not r.get("load_error") and (r["rows"] or r["feature"] is not None or not r["errors"])]
        if not scored:
            if out is not None:
                rejects.save(out / "rejects.csv")
                _write_status(out, complete=False, done=len(records), total=len(records), resumed=0,
                              failed="no synthetic clip could be scored")
            fake_set = sets[-1][1]
            where = fake_set.spec or fake_set.root or fake_set.name
            first = next((r for r in rejects.rows if r["stage"] != "load real"), None)
            why = f"; first: {first['file']}: {first['reason']}" if first is not None else ""
            raise MexkitInputError(where, f"none of the {len(fake_set)} synthetic clips could be scored ({len(rejects)} rejected"
                                   + (f", see {out / 'rejects.csv'}" if out is not None else "") + f"){why}",
                                   "point --fake at the clips' folder (manifest.csv + clips/) and check that the paths in its manifest exist",
                                   stage="eval")
        notes = list(self.notes)
        tables = {f: pd.DataFrame([{**r["base"], **r["rows"][f]} for r in ordered if f in r["rows"]]) for f in self.scorers}
        missing = [r["missing_ref"] for r in fake_recs if r.get("missing_ref")]
        if missing:
            notes.append(f"{len(missing)} synthetic clips name a ground truth that is not in the real set "
                         f"(e.g. {missing[0]!r}); their perceptual metrics and t{self._perceptual_label} are left out.")
        if "perceptual" in tables and tables["perceptual"].empty:
            notes.append(f"Perceptual metrics ({self._perceptual_label}/SSIM/PSNR) need ground truth: no synthetic clip named a real clip "
                         "(manifest column reference_id, or the same sample_id) — left out.")
        if "motion" in tables and not tables["motion"].empty and sets[0][0] == "real":
            self._mark_real_range(tables["motion"])
        summary = summarize(tables)
        accs = {s: {"features": [r["feature"] for r in ordered if r["set"] == s and r["feature"] is not None],
                    "labels": [r["base"]["label"] for r in ordered if r["set"] == s and r["feature"] is not None]} for s, _, _ in sets}
        distribution, confusion = self._distribution(accs, notes) if "distribution" in self.families else (pd.DataFrame(), None)
        video = self._video_distances(ordered, out, notes)
        timing_rows = []
        for s, _, _ in sets:
            fams = [f for f in (*self.scorers, "distribution", *VIDEO_FAMILIES) if f in self.families]
            for f in fams:
                recs = [r for r in ordered if r["set"] == s and f in r.get("time", {})]
                secs = sum(r["time"][f] for r in recs)
                n = sum(1 for r in recs if (f in r["rows"]) or (f == "distribution" and r["feature"] is not None)
                        or (f == "fvd" and r.get("fvd_feature") is not None) or (f == "fid" and (r.get("fid_file") or (s, r["i"]) in self._fid_memory)))
                timing_rows.append({"family": f, "set": s, "clips": n, "seconds": secs, "clips_per_s": n / secs if secs else float("nan")})
        timing_rows.append({"family": "all (wall clock)", "set": "both", "clips": todo, "seconds": wall,
                            "clips_per_s": todo / wall if wall and todo else float("nan")})
        timings = pd.DataFrame(timing_rows)
        timings["workers"] = min(workers, max(todo, 1))
        curves = {s: {r["sample_id"]: np.asarray(r["curve"], np.float32) for r in ordered if r["set"] == s and r.get("curve") is not None}
                  for s, _, _ in sets if "motion" in self.scorers}
        n_fake, n_real = len(fake_recs), sum(1 for r in ordered if r["set"] == "real")
        notes.append(f"Complete run: every clip was scored or rejected (synthetic {n_fake}, real {n_real}); "
                     "the summary and this report are written only once the last clip is done.")
        result = EvalResult(tables, summary, distribution, confusion, curves, self._examples(sets, records), timings, rejects, notes,
                            dict(self.config), video)
        if out is not None:
            result.write_csv(out)
            rejects.save(out / "rejects.csv")
            _write_status(out, complete=True, done=len(records), total=len(records), resumed=len(records) - todo)
        return result

    def _video_distances(self, ordered: list[dict], out: Path | None, notes: list[str]) -> pd.DataFrame:
        """FVD (I3D clip features) and FID (Inception frame features), real vs synthetic, with a real-halves baseline."""
        rows = []
        if self.i3d is not None:
            from .fvd import NUM_FRAMES

            feats = {s: np.asarray([r["fvd_feature"] for r in ordered if r["set"] == s and r.get("fvd_feature") is not None]) for s in ("real", "fake")}
            short = {s: sum(1 for r in ordered if r["set"] == s and r.get("fvd_short")) for s in ("real", "fake")}
            r, f = feats["real"], feats["fake"]
            base = {"frames_per_clip": NUM_FRAMES, "network": self.i3d.name}
            if len(r) >= 2 and len(f) >= 2:
                rows.append({"metric": "fvd", "value": frechet_distance(r, f), "n_real": len(r), "n_fake": len(f),
                             "frames_real": len(r) * NUM_FRAMES, "frames_fake": len(f) * NUM_FRAMES, **base, "note": "real vs synthetic clips"})
                if len(r) >= 4:
                    rows.append({"metric": "fvd_real_halves", "value": frechet_distance(r[0::2], r[1::2]), "n_real": len(r), "n_fake": 0,
                                 "frames_real": len(r) * NUM_FRAMES, "frames_fake": 0, **base, "note": "baseline: even vs odd real clips"})
            else:
                notes.append(f"FVD needs ≥ 2 clips of ≥ {NUM_FRAMES} frames per set (real {len(r)}, synthetic {len(f)}).")
            if short["real"] or short["fake"]:
                notes.append(f"FVD leaves out clips shorter than {NUM_FRAMES} frames (StyleGAN-V protocol): real {short['real']}, synthetic {short['fake']}.")
        if self.inception is not None:
            from .fid import Moments, frechet_from_moments

            moments = {s: Moments() for s in ("real", "fake")}
            halves = (Moments(), Moments())
            clips = {"real": 0, "fake": 0}
            for rec in ordered:
                if rec.get("fid_file"):
                    feats = np.load(out / rec["fid_file"])
                elif (rec["set"], rec["i"]) in self._fid_memory:
                    feats = self._fid_memory[(rec["set"], rec["i"])]
                else:
                    continue
                moments[rec["set"]].add(feats)
                clips[rec["set"]] += 1
                if rec["set"] == "real":
                    halves[clips["real"] % 2].add(feats)
            m_r, m_f = moments["real"], moments["fake"]
            base = {"frames_per_clip": float("nan"), "network": self.inception.name}
            if m_r.n >= 2 and m_f.n >= 2:
                rows.append({"metric": "fid_frames", "value": frechet_from_moments(m_r, m_f), "n_real": clips["real"], "n_fake": clips["fake"],
                             "frames_real": m_r.n, "frames_fake": m_f.n, **base, "note": "real vs synthetic frames"})
                if halves[0].n >= 2 and halves[1].n >= 2:
                    rows.append({"metric": "fid_real_halves", "value": frechet_from_moments(halves[1], halves[0]), "n_real": clips["real"],
                                 "n_fake": 0, "frames_real": m_r.n, "frames_fake": 0, **base, "note": "baseline: odd vs even real clips' frames"})
            else:
                notes.append(f"FID needs ≥ 2 frames per set (real {m_r.n}, synthetic {m_f.n}).")
        if rows:
            from .fvd import BIAS_NOTE

            for row in rows:
                notes.append(f"{row['metric']} = {row['value']:.4g} over {row['n_real']} real / {row['n_fake']} synthetic clips "
                             f"({row['frames_real']} / {row['frames_fake']} frames), network {row['network']}.")
            notes.append(BIAS_NOTE)
        return pd.DataFrame(rows)

    @staticmethod
    def _mark_real_range(motion: pd.DataFrame) -> None:
        """in_real_range_<metric> on every row: inside the real clips' [5th, 95th] percentile (min–max under 20 clips)."""
        real = motion[motion["set"] == "real"]
        if real.empty:
            return
        for m in RANGE_METRICS:
            if m not in motion:
                continue
            v = real[m].dropna()
            lo, hi = (v.quantile(0.05), v.quantile(0.95)) if len(v) >= 20 else (v.min(), v.max())
            motion[f"in_real_range_{m}"] = motion[m].between(lo, hi).astype(float)

    def _distribution(self, accs: dict, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        rows, confusion = [], None
        feats = {s: np.asarray(a["features"]) for s, a in accs.items()}
        fname = self.config["features"]
        if "real" not in feats:
            notes.append("Distribution metrics need a real set (--real).")
            return pd.DataFrame(rows), None
        r, f = feats["real"], feats["fake"]
        if len(r) >= 2 and len(f) >= 2:
            rows.append({"metric": "frechet_distance", "value": frechet_distance(r, f), "n_real": len(r), "n_fake": len(f), "features": fname,
                         "note": "real vs synthetic"})
            if len(r) >= 4:
                rows.append({"metric": "frechet_distance_real_halves", "value": frechet_distance(r[0::2], r[1::2]), "n_real": len(r),
                             "n_fake": 0, "features": fname, "note": "baseline: even vs odd real clips"})
        else:
            notes.append(f"Fréchet distance needs ≥ 2 clips per set (real {len(r)}, synthetic {len(f)}).")
        fx, fy = labelled(f, accs["fake"]["labels"]) if len(f) else (f, [])
        rx, ry = labelled(r, accs["real"]["labels"]) if len(r) else (r, [])
        if len(set(fy)) >= 2 and len(ry) >= 1:
            cas = classification_accuracy_score(fx, fy, rx, ry, self.estimator)
            confusion = cas.pop("confusion")
            for k in ("accuracy", "uf1", "uar"):
                rows.append({"metric": f"cas_{k}", "value": cas[k], "n_real": cas["n_test"], "n_fake": cas["n_train"], "features": fname,
                             "note": "train on synthetic, test on real"})
        else:
            notes.append(f"CAS needs labelled synthetic clips of ≥ 2 classes and labelled real clips "
                         f"(synthetic classes {sorted(set(fy))}, real labelled {len(ry)}) — left out.")
        return pd.DataFrame(rows), confusion

