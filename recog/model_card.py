"""The model card (README.md) of a kept recognizer's folder: what trained it, what it outputs, how well it
did where that was measured — written from config.json's facts, never typed in by hand."""
from __future__ import annotations

import json
from typing import Any

SCORE_WORDS = {
    "decision": "decision values (signed distances from the classifier's boundaries; larger = more that class; NOT probabilities)",
    "softmax": "softmax outputs of the network (sum to 1 but are NOT calibrated probabilities)",
    "sigmoid": "sigmoid outputs of the network, one per AU (NOT calibrated probabilities)",
    "prob": "calibrated probabilities (Platt sigmoid per output fitted on out-of-fold scores of internal cross-validation folds "
            "of the training rows, grouped by subject; normalised over the classes of a class head)",
}


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(_fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return out


def model_card(cfg: dict[str, Any]) -> str:
    """Markdown for README.md from a model folder's config.json content."""
    tr = cfg.get("training") or {}
    heads = cfg["heads"]
    head = heads.get("class") or heads["aus"]
    feat = cfg["input"]["feature"]
    name = tr.get("name") or "mexkit recognizer"
    lines = [f"# {name}", ""]
    for note in tr.get("card_notes") or []:
        lines += [f"> {note}", ""]
    what = [f"classes {', '.join(cfg['classes'])}" if "class" in heads else "",
            f"{len(heads['aus']['outputs'])} action units" if "aus" in heads else ""]
    lines += [f"A kept mexkit recognizer (mexkit {cfg.get('mexkit_version')}): `{head['class_path']}` on `{feat['kind']}` features, "
              f"{' and '.join(w for w in what if w)}.", "",
              "## Use", "", "```bash", f"mexkit recog predict --model {tr.get('use_name') or 'THIS_FOLDER'} --clips CLIPS --out predictions.csv",
              "```", "```python", "from mexkit.recog.kept import load_recognizer",
              f"rec = load_recognizer({(tr.get('use_name') or 'THIS_FOLDER')!r})", "table = rec.predict_clips(clips)  # aligned face crops, ≥ 2 frames",
              "```", "",
              "## Outputs", ""]
    cal = head.get("calibration")
    if "class" in heads:
        lines += [f"- `predicted`: one of {cfg['classes']} (label map {json.dumps(cfg['label_map'])}).",
                  f"- `{head['score_kind']}_<class>`: {SCORE_WORDS[head['score_kind']]}."]
    if cal and "class" in heads:
        lines.append(f"  Calibration: {cal['folds']} folds grouped by {cal['groups']}, raw scores = {cal['raw_kind']}; "
                     "`predicted` is the class of highest calibrated probability. The probabilities are calibrated for data like the "
                     "training rows, not beyond.")
    if "aus" in heads:
        au = heads["aus"]
        lines.append(f"- AU head: `aus_predicted` (the AUs predicted on, '+'-joined) and `au_{au['score_kind']}_<AU>` for "
                     f"{', '.join(au['outputs'])} ({SCORE_WORDS[au['score_kind']]})"
                     + ("; an AU is predicted on at calibrated probability ≥ 0.5." if au.get("calibration") else "."))
    else:
        lines.append("- No AU head.")
    inp = cfg["input"]
    settings = ", ".join(f"{k}={v}" for k, v in feat.items() if k != "kind")
    lines += ["", "## Input", "",
              f"- Feature `{feat['kind']}` ({settings}); frames used: {inp.get('frame_sampling', '')}.",
              f"- Aligned face crops of {inp.get('resolution') or 'the training clips’'} px (eye-template alignment, once on the onset "
              f"frame, as the corpus and `FacePipeline.align_clip` make them); square crops of another size are resized."
              + (f" Raw clips were aligned with the `{inp['align']}` backend." if inp.get("align") else ""),
              "", "## Trained on", ""]
    lines += [f"- Config: `{tr['config']}`" + (f" (recognizer `{tr['recognizer']}`)" if tr.get("recognizer") else "") + "."
              if tr.get("config") else None,
              f"- Command: `{tr.get('command', '')}`." if tr.get("command") else None,
              f"- Rows: {tr.get('rows')} ({tr.get('rows_real')} real, {tr.get('rows_synthetic')} synthetic)"
              + (f"; per class {json.dumps(tr.get('rows_per_class'))}" if tr.get("rows_per_class") else "")
              + (f"; with an AU target {tr.get('rows_aus')} (positives per AU {json.dumps(tr.get('au_positives'))})"
                 if tr.get("rows_aus") is not None else "") + ".",
              f"- Datasets: {', '.join(tr.get('datasets') or []) or '(none named)'}.",
              f"- Subjects ({len(tr.get('subjects') or [])}): {', '.join(tr.get('subjects') or [])}."]
    for src in tr.get("synthetic_sources") or []:
        ts = src["train_subjects"]
        lines.append(f"- Synthetic: {src['clips']} clips of generator `{src['generator']}` on faces of {len(src['source_subjects'])} subjects "
                     f"({', '.join(src['source_subjects'])}); generator train_subjects: "
                     f"{ts if isinstance(ts, str) else ', '.join(ts)}; driving subjects: "
                     f"{src['driving_subjects'] if isinstance(src['driving_subjects'], str) else ', '.join(src['driving_subjects'])}.")
    if not tr.get("synthetic_sources"):
        lines.append("- Synthetic: none.")
    lines += [f"- Model ({name} head): `{h['class_path']}` with {json.dumps(h['init_args'])} — its fixed schedule, no validation "
              "split or early stopping." for name, h in heads.items()]
    lines += [
              f"- Seed: {tr.get('seed')}; calibration: {tr.get('calibration', 'none')}"
              + (f" ({tr.get('calibration_folds')} internal folds)" if tr.get("calibration_folds") else "") + ".",
              f"- mexkit {cfg.get('mexkit_version')}."]
    held = tr.get("heldout")
    lines += ["", "## Held-out figures", ""]
    if held:
        lines += [f"Leave-one-subject-out over the {held['folds']} people of the training rows (`mexkit recog fit --heldout`): each "
                  "fold refits this recipe without one person's clips (real clips, and synthetic clips made from their face or "
                  "by generators trained on them) and predicts that person's clips. Pooled over folds "
                  "(full tables in heldout/):", ""]
        if held.get("pooled"):
            lines += _table(held["pooled"], ["rows", "n", "uf1", "uar", "accuracy"] + (["log_loss", "brier"] if cal else []))
        if held.get("pooled_aus"):
            lines += ["", "AU head (AU-F1 and AU macro F1 over the 12 AUs, MEB's figures, of all folds' predictions together; "
                          "the all-AUs-on constant predictor on the same rows beside them):", ""]
            lines += _table(held["pooled_aus"], ["rows", "n", "au_f1", "au_macro_f1", "all_on_au_f1"])
    else:
        lines.append("Not measured by this fit (run `mexkit recog fit ... --heldout`).")
    found = [tr[k] for k in ("loso", "loso_aus") if tr.get(k)]
    lines += ["", "## LOSO figures of the same config", ""]
    for loso in found:
        lines += [f"From `{loso['source']}` (`mexkit recog loso`, unit {loso.get('unit')}, seed {loso.get('seed')}, {loso.get('folds')} "
                  "folds; model and feature checked against this fit's):", ""]
        lines += _table([loso["summary"]], [c for c in ("samples", "uf1", "uar", "accuracy", "uf1_fold_mean", "uar_fold_mean",
                                                        "au_f1", "au_macro_f1", "all_on_au_f1") if c in loso["summary"]])
        lines.append("")
    if not found:
        lines.append("None given (run `mexkit recog loso --config CFG` first, or pass `--loso-results DIR`).")
    lines += ["", "## Replace it", "",
              "Fit your own on your data — `mexkit recog fit --config YOUR.yaml --out models/NAME` — and pass `--model models/NAME` "
              "(or `load_recognizer('models/NAME')`). Files: config.json (settings, label map, weights' sha256), the weights "
              "(.safetensors for networks, .skops for scikit-learn), training_rows.csv (every training row with its provenance). "
              "No file here is a pickle; a folder holding one is refused.", ""]
    return "\n".join(line for line in lines if line is not None)
