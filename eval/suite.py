"""`EvalSuite`: runs the metric families over a real and a synthetic clip set, one clip at a time.

Per-clip families (one DataFrame row per clip and set): identity, perceptual (synthetic clips with a
ground truth only), temporal, motion, expression. Set-level family: distribution (Fréchet distance in a
recognizer's feature space, CAS). Real clips are scored too, so every synthetic number sits next to the
real data's. Clips are loaded lazily and only small per-clip results are kept (memory stays flat).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_write_text
from mexkit.clip import Clip
from mexkit.rejects import RejectLog

from .clip_sets import ClipSet, neutral_image, reference_id
from .distribution import (FeatureFn, classification_accuracy_score, flow_statistics_features, frechet_distance,
                           labelled)
from .expression import ExpressionScorer

FAMILIES = ("identity", "perceptual", "temporal", "motion", "expression", "distribution")
PER_CLIP = ("identity", "perceptual", "temporal", "motion", "expression")
RANGE_METRICS = ("apex_disp_iod", "duration_half_ms", "onset_apex_ms")  # micro-ness, compared to the real range
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

    def write_csv(self, folder: str | Path) -> list[Path]:
        """One CSV per metric family plus summary, distribution, CAS confusion and timings (atomic writes)."""
        folder = Path(folder)
        out = []
        frames = {**{f: t for f, t in self.tables.items()}, "summary": self.summary, "distribution": self.distribution,
                  "timings": self.timings}
        if self.confusion is not None:
            frames["cas_confusion"] = self.confusion
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


class EvalSuite:
    """Configure once, then `run(fake, real)`.

    families: any of FAMILIES (default all). identity_model: "dlib" (default), a TorchScript/ONNX path or
    an embedder. lpips: an `LPIPS` instance, or lpips_backbone= a local backbone path (without either,
    LPIPS and tLPIPS are left out and the report says so). cvvdp: add ColorVideoVDP to the perceptual
    family. occlusion: the forward–backward occlusion check of the temporal family (False: half the
    flow work). features: the recognizer feature function for the distribution family (default
    flow statistics); estimator: the scikit-learn classifier for CAS.
    """

    def __init__(self, families: Sequence[str] | None = None, identity_model=None, identity_stride: int = 1, lpips=None,
                 lpips_backbone: str | Path | None = None, lpips_net: str = "alex", cvvdp: bool = False,
                 flow_method: str = "dis", occlusion: bool = True, features: FeatureFn | None = None, estimator=None, pipeline=None,
                 fer: bool = True, progress: bool = True, examples: int = 4):
        families = tuple(families or FAMILIES)
        unknown = sorted(set(families) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown metric families {unknown}; choose from {FAMILIES}")
        self.families = families
        self.notes: list[str] = []
        if lpips is None and lpips_backbone is not None:
            from .perceptual import LPIPS

            lpips = LPIPS(lpips_net, backbone=lpips_backbone)
        if lpips is None and ({"perceptual", "temporal"} & set(families)):
            self.notes.append("LPIPS and tLPIPS left out: no LPIPS backbone given (--lpips-backbone PATH).")
        elif lpips is not None and lpips.backbone_name == "random":
            self.notes.append("LPIPS uses a RANDOM backbone (test mode): its numbers are not LPIPS.")
        self.lpips = lpips
        self.scorers: dict[str, Callable] = {}
        if "identity" in families:
            from .identity import IdentityScorer

            self.scorers["identity"] = IdentityScorer(identity_model, frame_stride=identity_stride)
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
                       "lpips": None if lpips is None else f"{lpips.net}:{lpips.backbone_name}", "cvvdp": cvvdp,
                       "flow_method": flow_method, "occlusion_check": occlusion, "features": getattr(features, "__name__", "flow_statistics_features") if features else "flow_statistics_features"}

    # ------------------------------------------------------------------ one clip
    def _score_clip(self, clip: Clip, set_name: str, clip_set: ClipSet, reference: ClipSet | None, acc: dict) -> None:
        base = {"set": set_name, "sample_id": clip.sample_id, "subject": clip.subject, "label": clip.label}
        ref_clip = None
        if set_name == "fake" and reference is not None and ({"perceptual", "temporal"} & set(self.scorers)):
            rid = reference_id(clip)
            ref_clip = reference.find(rid or clip.sample_id)
            if rid and ref_clip is None:
                acc["missing_ref"].append(rid)
        for family, scorer in self.scorers.items():
            t0 = time.perf_counter()
            try:
                if family == "identity":
                    neutral, key = neutral_image(clip, clip_set) if set_name == "fake" else (None, None)
                    row = scorer(clip, neutral, key)
                    row["neutral"] = key or "onset frame"
                elif family == "perceptual":
                    if ref_clip is None:
                        continue
                    row = scorer(clip, ref_clip)
                    row["reference"] = ref_clip.sample_id
                elif family == "temporal":
                    row = scorer(clip, ref_clip)
                else:
                    row = scorer(clip)
            except Exception as err:  # one bad clip must not stop the run: record it and go on
                self._rejects.add_error(clip.source or clip.sample_id, err, stage=family)
                continue
            finally:
                acc["time"][family] = acc["time"].get(family, 0.0) + time.perf_counter() - t0
            acc["rows"].setdefault(family, []).append({**base, **row})
            acc["count"][family] = acc["count"].get(family, 0) + 1
        if "distribution" in self.families:
            t0 = time.perf_counter()
            try:
                acc["features"].append(np.asarray(self.features(clip), np.float64).ravel())
                acc["labels"].append(clip.label)
                acc["count"]["distribution"] = acc["count"].get("distribution", 0) + 1
            except Exception as err:
                self._rejects.add_error(clip.source or clip.sample_id, err, stage="distribution")
            acc["time"]["distribution"] = acc["time"].get("distribution", 0.0) + time.perf_counter() - t0
        if len(acc["examples"]) < self.n_examples:
            try:
                neutral, _ = neutral_image(clip, clip_set) if set_name == "fake" else (None, None)
            except Exception:  # the example still shows, with the onset frame as its input
                neutral = None
            acc["examples"].append({"set": set_name, "sample_id": clip.sample_id, "label": clip.label, "fps": clip.fps,
                                    "frames": clip.frames[:64].copy(), "neutral": clip.frames[clip.onset].copy() if neutral is None else neutral,
                                    "reference": None if ref_clip is None else ref_clip.frames[:64].copy()})

    def _score_set(self, clip_set: ClipSet, set_name: str, reference: ClipSet | None) -> dict:
        from tqdm.auto import tqdm

        acc = {"rows": {}, "time": {}, "count": {}, "features": [], "labels": [], "examples": [], "missing_ref": []}
        for clip in tqdm(clip_set, total=len(clip_set), desc=f"eval {set_name} ({clip_set.name})", unit="clip", disable=not self.progress):
            self._score_clip(clip, set_name, clip_set, reference, acc)
        if "motion" in self.scorers:  # the scorer keeps each clip's curve; hand this set's over
            acc["curves"] = dict(self.scorers["motion"].curves)
            self.scorers["motion"].curves.clear()
        return acc

    # ------------------------------------------------------------------ the run
    def run(self, fake: ClipSet | Sequence[Clip], real: ClipSet | Sequence[Clip] | None = None,
            out_dir: str | Path | None = None) -> EvalResult:
        """Score both sets; with out_dir, write one CSV per family (+ rejects.csv) there."""
        fake_set, real_set = _as_set(fake, "fake"), _as_set(real, "real")
        self._rejects = RejectLog(Path(out_dir) / "rejects.csv" if out_dir else None)
        for s in (fake_set, real_set):
            if s is not None:
                s.rejects = self._rejects
        notes = list(self.notes)
        accs = {}
        if real_set is not None:
            accs["real"] = self._score_set(real_set, "real", None)
        accs["fake"] = self._score_set(fake_set, "fake", real_set)

        tables = {f: pd.DataFrame([r for a in accs.values() for r in a["rows"].get(f, [])]) for f in self.scorers}
        missing = accs["fake"]["missing_ref"]
        if missing:
            notes.append(f"{len(missing)} synthetic clips name a ground truth that is not in the real set "
                         f"(e.g. {missing[0]!r}); their perceptual metrics and tLPIPS are left out.")
        if "perceptual" in tables and tables["perceptual"].empty:
            notes.append("Perceptual metrics (LPIPS/SSIM/PSNR) need ground truth: no synthetic clip named a real clip "
                         "(manifest column reference_id, or the same sample_id) — left out.")
        if "motion" in tables and not tables["motion"].empty and real_set is not None:
            self._mark_real_range(tables["motion"])
        summary = summarize(tables)
        distribution, confusion = self._distribution(accs, notes) if "distribution" in self.families else (pd.DataFrame(), None)
        timings = pd.DataFrame([
            {"family": f, "set": s, "clips": a["count"].get(f, 0), "seconds": a["time"].get(f, 0.0),
             "clips_per_s": a["count"].get(f, 0) / a["time"][f] if a["time"].get(f) else float("nan")}
            for s, a in accs.items() for f in a["time"]
        ])
        curves = {s: a["curves"] for s, a in accs.items() if "curves" in a}
        result = EvalResult(tables, summary, distribution, confusion, curves,
                            [e for a in accs.values() for e in a["examples"]], timings, self._rejects, notes, dict(self.config))
        if out_dir is not None:
            result.write_csv(out_dir)
        return result

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

