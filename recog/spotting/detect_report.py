"""The HTML report of `mexkit detect` (built through eval's HtmlReport; docs/design.md §8).

Per video: a timeline (the spotter's motion signal, the spotted intervals coloured by predicted class,
the ground truth in its own lane when given, gaps shaded), counts per class and per minute, and one card
per interval (onset and apex snapshots of the aligned clip, a GIF of it magnified and slowed down, the
class, its scores, the AUs when the model has them, the duration). With ground truth, the MEGC scores.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from mexkit.eval.report import HtmlReport

MAX_CARDS = 40  # cards per video (the highest spotting scores; every interval is in intervals.csv)
NOT_NAMED = "(not named)"
DISCLAIMER = ("mexkit detect is a research tool. It marks moments where the face moved and what a small recognizer, "
              "trained on a few posed or synthetic examples, guesses the movement was. It is not a diagnosis and not a lie "
              "detector: a spotted interval can be a blink, speech or a head movement, and a person's feelings cannot be read "
              "from it. Use it to look at video, not to judge people.")


def class_colors(classes: Sequence[str]) -> dict[str, tuple]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    out = {c: cmap(i % 10) for i, c in enumerate(classes)}
    out[NOT_NAMED] = (0.6, 0.6, 0.6, 1.0)
    return out


def timeline_figure(signals: pd.DataFrame, intervals: pd.DataFrame, info: dict, truth: pd.DataFrame | None = None,
                    gaps: pd.DataFrame | None = None):
    """The matplotlib figure of one video's timeline (times in seconds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    classes = list(info.get("classes", []))
    colors = class_colors(classes)
    lanes = 2 + (truth is not None)
    fig, axes = plt.subplots(lanes, 1, figsize=(11, 2.2 + 0.6 * lanes), sharex=True,
                             gridspec_kw={"height_ratios": [3] + [0.7] * (lanes - 1)})
    ax = axes[0]
    col = info.get("timeline_signal")
    if col and col in signals.columns and len(signals):
        for fid, part in signals.groupby("face_id"):
            ax.plot(part["time_s"], part[col], lw=0.8, label=f"face {fid}" if signals["face_id"].nunique() > 1 else None)
        if signals["face_id"].nunique() > 1:
            ax.legend(loc="upper right", fontsize=7)
    ax.set_ylabel(col or "signal", fontsize=8)
    ax.set_title(f"{info.get('video', '')} — {info.get('spotter', '')} spotter", fontsize=9)
    if gaps is not None and len(gaps):
        for g in gaps.itertuples(index=False):
            ax.axvspan(g.after_s, g.before_s, color="0.85", lw=0)
    lane = axes[1]
    for r in intervals.itertuples(index=False):
        name = r.predicted if isinstance(r.predicted, str) and r.predicted else NOT_NAMED
        c = colors.get(name, colors[NOT_NAMED])
        lane.broken_barh([(r.onset_s, max(r.offset_s - r.onset_s, 1e-3))], (0.1 if r.type == "ME" else 0.55, 0.35), color=c)
        ax.axvspan(r.onset_s, r.offset_s, color=c, alpha=0.15, lw=0)
    lane.set_yticks([0.275, 0.725], ["ME", "MaE"], fontsize=7)
    lane.set_ylabel("spotted", fontsize=8)
    if truth is not None:
        tl = axes[2]
        fps = float(info.get("fps") or 30.0)
        for r in truth.itertuples(index=False):
            tl.broken_barh([(r.onset / fps, (r.offset - r.onset + 1) / fps)], (0.1 if r.type == "ME" else 0.55, 0.35),
                           color="0.2" if getattr(r, "hit", False) else "0.65")
        tl.set_yticks([0.275, 0.725], ["ME", "MaE"], fontsize=7)
        tl.set_ylabel("truth", fontsize=8)
    axes[-1].set_xlabel("time (s)")
    handles = [Patch(color=colors[c], label=c) for c in classes] + [Patch(color=colors[NOT_NAMED], label=NOT_NAMED)]
    if truth is not None:
        handles += [Patch(color="0.2", label="truth: found"), Patch(color="0.65", label="truth: missed")]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 7), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def counts_table(detections) -> pd.DataFrame:
    """Per video (and in all): minutes, intervals per class and type, and per minute."""
    rows = []
    classes: list[str] = []
    for d in detections:
        classes += [c for c in d.info.get("classes", []) if c not in classes]
    for d in detections:
        iv = d.intervals
        minutes = max(float(d.info.get("duration_s", 0.0)) / 60.0, 1e-9)
        row = {"video": d.info["video"], "minutes": round(minutes, 3), "intervals": len(iv),
               "ME": int((iv["type"] == "ME").sum()), "MaE": int((iv["type"] == "MaE").sum())}
        for c in classes:
            row[c] = int((iv["predicted"] == c).sum())
        row[NOT_NAMED] = int((iv["predicted"].fillna("") == "").sum())
        row["ME / min"] = round(row["ME"] / minutes, 2)
        row["MaE / min"] = round(row["MaE"] / minutes, 2)
        row["all / min"] = round(len(iv) / minutes, 2)
        rows.append(row)
    df = pd.DataFrame(rows)
    if len(df) > 1:
        tot = {k: df[k].sum() for k in df.columns if k not in ("video",) and not k.endswith("/ min")}
        minutes = max(tot["minutes"], 1e-9)
        tot.update({"video": "all", "ME / min": round(tot["ME"] / minutes, 2), "MaE / min": round(tot["MaE"] / minutes, 2),
                    "all / min": round(tot["intervals"] / minutes, 2)})
        df = pd.concat([df, pd.DataFrame([tot])], ignore_index=True)
    return df


def _decode_card(card: tuple[bytes, bytes, bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(onset (S, S, 3), apex, GIF frames (T, S, S, 3), GIF fps) from a card's stored PNG / PNG / GIF bytes."""
    import io

    from PIL import Image, ImageSequence

    def png(b):
        return np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))

    gif = Image.open(io.BytesIO(card[2]))
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    ms = gif.info.get("duration", 100) or 100
    return png(card[0]), png(card[1]), np.stack(frames), 1000.0 / ms


def _card(rep: HtmlReport, k: int, r: pd.Series, card: tuple[bytes, bytes, bytes], info: dict) -> None:
    name = r["predicted"] if isinstance(r["predicted"], str) and r["predicted"] else NOT_NAMED
    face = f", face {int(r['face_id'])}" if info.get("faces", 1) > 1 else ""
    rep.subsection(f"#{k + 1} {r['type']} at {r['onset_s']:.2f}–{r['offset_s']:.2f} s{face}: {name}")
    mag = info.get("magnification", {})
    onset, apex, gif, gif_fps = _decode_card(card)
    factor = r.get("magnification", 1 + mag.get("alpha", 6))
    rep.gif_grid([[("onset", onset, 1.0), ("apex", apex, 1.0),
                   (f"{mag.get('slowdown', 4):g}× slower, motion ×{float(factor):.3g}", gif, gif_fps)]], width=160)
    kind = info.get("score_kind", "score")
    facts = {"class": name, "duration (ms)": r["duration_ms"], "frames": f"{int(r['onset'])}–{int(r['offset'])} (apex {int(r['apex'])})",
             "spotting score": r["score"]}
    facts.update({f"{c}": r.get(f"{kind}_{c}") for c in info.get("classes", []) if f"{kind}_{c}" in r.index})
    if info.get("aus"):
        facts["AUs"] = r.get("aus_predicted", "") or "(none above threshold)"
    facts["alignment"] = r.get("alignment", "")
    if isinstance(r.get("note"), str) and r.get("note"):
        facts["note"] = r["note"]
    rep.table(pd.DataFrame([facts]))


def detect_report(detections, scores=None, truth: pd.DataFrame | None = None, title: str = "mexkit detect") -> HtmlReport:
    """The report of a detect run (StoredDetection list, SpotScores or None, truth rows or None)."""
    rep = HtmlReport(title, subtitle="micro- and macro-expressions spotted, then named")
    rep.note(DISCLAIMER, kind="warning")
    info0 = detections[0].info if detections else {}
    rep.text(f"Spotter: {info0.get('spotter', '')}; recognizer: {info0.get('recognizer', '')} ({', '.join(info0.get('classes', []))}; "
             f"scores are {info0.get('score_kind', '')}). Each interval's clip is aligned once on its onset frame; the GIFs "
             "magnify the change since the onset (linear Eulerian-style: the low-passed intensity difference × α, α lowered for "
             "large motions so they do not saturate) and play slowed down — micro-expressions are invisible at real speed. Frames are 0-based positions in the decoded video.")
    rep.section("Counts").table(counts_table(detections))
    if scores is not None:
        rep.section("Scores against the ground truth", "MEGC rules: inclusive frames, IoU ≥ 0.5, same type, one hit per interval "
                    "(docs/design.md §8).")
        rep.table(scores.scores)
        if len(scores.per_class):
            rep.table(scores.per_class, caption="analysis (spot-then-recognize) per class")
        for n in scores.notes:
            rep.note(n)
    for d in detections:
        info = d.info
        rep.section(f"Video {info['video']}", f"{len(d.intervals)} interval(s) in {info.get('duration_s', 0):.1f} s "
                    f"({info.get('frames', '?')} frames at {float(info.get('fps', 0)):.3g} fps)")
        t = None
        if truth is not None and scores is not None:
            t = scores.truth[scores.truth["video"].astype(str).isin(set(_truth_videos(scores, info["video"])))]
        rep.figure(timeline_figure(d.signals, d.intervals, info, t, d.gaps), alt=f"timeline of {info['video']}")
        if len(d.gaps):
            rep.note(f"{len(d.gaps)} gap(s) where the face was lost (shaded); no interval spans one.")
        if not len(d.intervals):
            rep.text("No interval was spotted in this video.")
            continue
        order = d.intervals.sort_values("score", ascending=False, kind="stable").index[:MAX_CARDS]
        if len(d.intervals) > MAX_CARDS:
            rep.note(f"Cards for the {MAX_CARDS} highest-scored of {len(d.intervals)} intervals; intervals.csv lists all.")
        for k in sorted(order, key=lambda i: d.intervals.loc[i, "onset"]):
            _card(rep, int(k), d.intervals.loc[k], d.cards[k], info)
    return rep


def _truth_videos(scores, video: str) -> list[str]:
    """The truth video(s) a detected video's id names (equal, or by trailing path)."""
    from mexkit.errors import MexkitInputError
    from mexkit.recog.spotting_metrics import video_mapping

    try:
        return [video_mapping([str(video)], scores.truth["video"].astype(str).tolist())[str(video)]]
    except MexkitInputError:
        return []
