"""The evaluation report: lays an `EvalResult` out as one self-contained HTML page (see report.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mexkit.datasets.label_maps import MEGC_CLASSES

from .report import HtmlReport
from .suite import EvalResult

FAMILY_NOTES = {
    "identity": "Cosine similarity of face embeddings of every frame to the neutral input (higher = identity kept) "
                "and ACD, the mean pairwise embedding distance within a clip (MoCoGAN; lower = steadier identity); "
                "csim_*: the same cosine in ArcFace's space (CSIM, when an ArcFace model was given).",
    "perceptual": "Against ground truth: st_lpips, ST-LPIPS (shift-tolerant LPIPS; lpips when a backbone was given; lower is "
                  "better), SSIM (higher), PSNR in dB (higher), cvvdp JOD (10 = identical).",
    "temporal": "warp_error: motion-compensated frame-to-frame error (×1 on [0,1] RGB, squared); flicker: low-frequency "
                "luminance change after motion compensation (grey levels); jitter: RMS change of global motion (IODs per frame); "
                "st_lpips_consecutive: ST-LPIPS of consecutive frames, tst_lpips: tST-LPIPS against ground truth (lpips_consecutive / "
                "tlpips with an LPIPS backbone). Lower is smoother.",
    "motion": "Landmark displacement from the onset frame (head motion removed), in inter-ocular distances: peak size, "
              "duration above half the peak, onset→apex time and unimodality (R² of the best rise-then-fall fit).",
    "expression": "Change from onset to apex of MediaPipe blendshape groups (bs_*) and of the fer mini-Xception's "
                  "class probabilities (fer_*) for each MEGC class; *_pred is the class that rose most.",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def motion_figure(curves: dict[str, dict[str, np.ndarray]], fps: dict[str, float] | None = None):
    """Displacement curves of every clip, real and synthetic side by side."""
    plt = _plt()
    sets = [s for s in ("real", "fake") if curves.get(s)]
    fig, axes = plt.subplots(1, max(len(sets), 1), figsize=(5.5 * max(len(sets), 1), 3.2), squeeze=False, sharey=True)
    for ax, s in zip(axes[0], sets):
        for sid, c in curves[s].items():
            t = np.arange(len(c)) * (1000.0 / fps.get(sid, 30.0) if fps else 1.0)
            ax.plot(t, c, lw=1.2, alpha=0.8, color="tab:blue" if s == "real" else "tab:orange")
        ax.set_title({"real": "real clips", "fake": "synthetic clips"}[s])
        ax.set_xlabel("time (ms)" if fps else "frame")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("displacement (IOD)")
    return fig


def range_figure(motion: pd.DataFrame):
    """Peak displacement vs duration above half peak, real vs synthetic (micro-ness)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for s, color in (("real", "tab:blue"), ("fake", "tab:orange")):
        g = motion[motion["set"] == s]
        if len(g):
            ax.scatter(g["duration_half_ms"], g["apex_disp_iod"], s=22, alpha=0.8, color=color, label={"real": "real", "fake": "synthetic"}[s])
    ax.axvline(500, color="gray", ls="--", lw=1)
    ax.text(505, ax.get_ylim()[1] * 0.95, "500 ms", color="gray", fontsize=8, va="top")
    ax.set_xlabel("duration above half apex (ms)")
    ax.set_ylabel("apex displacement (IOD)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def side_by_side(summary: pd.DataFrame) -> pd.DataFrame:
    """family, metric, then "mean ± std (n)" for the real and the synthetic set."""
    cell = summary.assign(value=[f"{m:.4g} ± {s:.2g} ({n})" for m, s, n in zip(summary["mean"], summary["std"], summary["n"])])
    wide = cell.pivot_table(index=["family", "metric"], columns="set", values="value", aggfunc="first", sort=False)
    wide = wide.reindex(columns=[c for c in ("real", "fake") if c in wide.columns]).rename(columns={"fake": "synthetic"})
    return wide.reset_index().fillna("–")


def _confusion(table: pd.DataFrame, pred_col: str) -> pd.DataFrame | None:
    if pred_col not in table or "target" not in table:
        return None
    t = table.dropna(subset=["target", pred_col])
    if t.empty:
        return None
    m = pd.crosstab(pd.Categorical(t["target"], MEGC_CLASSES), pd.Categorical(t[pred_col], MEGC_CLASSES), dropna=False)
    return m.reindex(index=list(MEGC_CLASSES), columns=list(MEGC_CLASSES), fill_value=0)


def build_eval_report(result: EvalResult, title: str = "mexkit evaluation", real_name: str = "", fake_name: str = "") -> HtmlReport:
    rep = HtmlReport(title, subtitle=" vs ".join(x for x in (f"synthetic: {fake_name}" if fake_name else "", f"real: {real_name}" if real_name else "") if x))
    rep.section("Overview")
    n = {s: int((result.tables[next(iter(result.tables))]["set"] == s).sum()) if result.tables and not next(iter(result.tables.values())).empty else 0
         for s in ("real", "fake")}
    rep.text(f"Families: {', '.join(result.config.get('families', []))}. Clips scored — real: {n['real']}, synthetic: {n['fake']}. "
             f"Identity model: {result.config.get('identity_model')}" + (f", CSIM: {result.config['csim_model']}" if result.config.get('csim_model') else "")
             + f"; perceptual: {result.config.get('lpips') or 'none'}; "
             f"flow: {result.config.get('flow_method')}; recognizer features: {result.config.get('features')}.")
    for note in result.notes:
        rep.text("Note: " + note)
    if len(result.rejects):
        rep.text("Rejected: " + result.rejects.summary().replace("\n", "; "))

    for s, label in (("fake", "Synthetic clips"), ("real", "Real clips")):
        ex = [e for e in result.examples if e["set"] == s]
        if not ex:
            continue
        rep.section(f"{label}: samples", "Each row: the neutral input (or onset frame), the clip as a looping GIF, and its ground truth where one exists.")
        rows, labels = [], []
        for e in ex:
            row = [("neutral / onset", e["neutral"], e["fps"]), (f"{e['sample_id']}", e["frames"], e["fps"])]
            if e.get("reference") is not None:
                row.append(("ground truth", e["reference"], e["fps"]))
            rows.append(row)
            labels.append(str(e["label"]) if e["label"] else "unlabelled")
        rep.gif_grid(rows, row_labels=labels)

    if not result.summary.empty:
        rep.section("Summary", "Mean ± standard deviation of every metric, real beside synthetic; ranges are in summary.csv "
                               "and per-clip values in the family CSVs.")
        rep.table(side_by_side(result.summary))
    for family, table in result.tables.items():
        if table.empty:
            continue
        rep.section(f"{family.capitalize()} metrics", FAMILY_NOTES.get(family, ""))
        if family == "motion" and result.curves:
            fps = dict(zip(table["sample_id"], table["fps"])) if "fps" in table else None
            rep.figure(motion_figure(result.curves, fps), alt="motion profiles")
            if "duration_half_ms" in table:
                rep.figure(range_figure(table), alt="micro-ness")
        if family == "expression":
            for col, name in (("bs_pred", "blendshapes"), ("fer_pred", "fer mini-Xception")):
                for s in ("fake", "real"):
                    cm = _confusion(table[table["set"] == s], col)
                    if cm is not None and cm.to_numpy().sum():
                        rep.confusion_matrix(cm, title=f"{name}: target vs predicted ({'synthetic' if s == 'fake' else 'real'})")
        rep.table(table.drop(columns=[c for c in table.columns if c.startswith("in_real_range_")], errors="ignore"))
    if not result.distribution.empty or result.confusion is not None:
        rep.section("Distribution", "Fréchet distance between real and synthetic clips in the recognizer's feature space "
                                    "(with a real-vs-real baseline), and CAS: a classifier trained on synthetic clips, tested on real ones.")
        if not result.distribution.empty:
            rep.table(result.distribution)
        if result.confusion is not None:
            rep.confusion_matrix(result.confusion, title="CAS: real clips, classifier trained on synthetic")
    if not result.timings.empty:
        rep.section("Timings").table(result.timings)
    return rep


def write_eval_report(result: EvalResult, path: str | Path, **kwargs) -> Path:
    return build_eval_report(result, **kwargs).save(path)
