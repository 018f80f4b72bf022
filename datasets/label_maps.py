"""Label maps: dataset-native labels, the MEGC2019 composite 3 classes, CASME II 5 classes.

MEGC2019 composite (See et al., FG 2019; docs/design.md §2): SMIC-HS + CASME II + SAMM → negative /
positive / surprise; 442 samples, 68 subjects. Per dataset (MEGC2019 paper, Table 1):
SMIC 164 (70 / 51 / 43), CASME II 145 (88 / 32 / 25), SAMM 133 (92 / 26 / 15).
CASME II enters with disgust + repression as negative (its fear and sadness samples are left out);
SAMM with anger, contempt, disgust, fear, sadness; "others" are excluded everywhere.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from mexkit.errors import MexkitInputError

# The MEGC composite classes, in the order every model, table and plot uses. Defined here only.
MEGC_CLASSES = ("negative", "positive", "surprise")

# dataset → {native label (case-insensitive) → composite class}; labels not listed are excluded.
MEGC2019_MAP: dict[str, dict[str, str]] = {
    "casme2": {"disgust": "negative", "repression": "negative", "happiness": "positive", "surprise": "surprise"},
    "samm": {
        "anger": "negative", "contempt": "negative", "disgust": "negative", "fear": "negative",
        "sadness": "negative", "happiness": "positive", "surprise": "surprise",
    },
    "smic": {"negative": "negative", "positive": "positive", "surprise": "surprise"},
}

# Any dataset-native emotion word (or an MEGC class) → MEGC class, for clips whose dataset is not one of
# the composite's three (corpus clips, synthetic sets, generic folders). The union of the composite's
# per-dataset maps plus common synonyms; "others" and unknown words have no class.
NATIVE_TO_MEGC: dict[str, str] = {
    **{k: "negative" for k in ("negative", "repression", "anger", "angry", "contempt", "disgust", "disgusted",
                               "fear", "fearful", "sadness", "sad")},
    **{k: "positive" for k in ("positive", "happiness", "happy", "smile")},
    **{k: "surprise" for k in ("surprise", "surprised")},
}


def megc_class(label, dataset: str | None = None) -> str | None:
    """The MEGC composite class of a label (native word or already MEGC), or None ("others", unknown, NaN).

    For a clip of one of the composite's datasets (`dataset` "casme2", "samm", "smic") the dataset's own
    map decides, so CASME II's fear and sadness — excluded from the composite — have no class there;
    other clips (corpus, synthetic, generic folders) use the union map NATIVE_TO_MEGC.
    """
    if label is None or (isinstance(label, float) and label != label):
        return None
    word = str(label).strip().lower()
    own = MEGC2019_MAP.get(str(dataset or "").strip().lower())
    if own is not None and word not in MEGC_CLASSES:
        return own.get(word)
    return NATIVE_TO_MEGC.get(word)


# CASME II samples left out of the composite although their label maps: the ones the official MEGC2019
# sample list (datasets/megc2019_samples.csv, from STSTNet's video442Names.txt) does not hold. MEB's MEGC
# reader drops a third, sub05_EP12_03f, which the official list holds (as surprise): mexkit follows the
# official list and keeps it. `mexkit datasets composite` compares the result with the list by id.
MEGC2019_EXCLUDED_SAMPLES = frozenset({"casme2_sub04_EP12_01f", "casme2_sub24_EP02_07"})

MEGC2019_EXPECTED = {
    "samples": 442,
    "subjects": 68,
    "classes": {"negative": 250, "positive": 109, "surprise": 83},
    "datasets": {
        "smic": {"samples": 164, "subjects": 16, "negative": 70, "positive": 51, "surprise": 43},
        "casme2": {"samples": 145, "subjects": 24, "negative": 88, "positive": 32, "surprise": 25},
        "samm": {"samples": 133, "subjects": 28, "negative": 92, "positive": 26, "surprise": 15},
    },
}

# CASME II 5-class protocol: happiness, disgust, repression, surprise, others (fear and sadness, 9
# samples, are left out as in the common 246-sample setting).
CASME2_5CLASS = ("happiness", "disgust", "repression", "surprise", "others")
CASME2_5CLASS_MAP = {c: c for c in CASME2_5CLASS}

LABEL_MAPS = ("native", "megc2019", "casme2-5class")


def _lookup(name: str, dataset: str) -> dict[str, str] | None:
    if name == "megc2019":
        return MEGC2019_MAP.get(dataset, {})
    if name == "casme2-5class":
        return CASME2_5CLASS_MAP if dataset == "casme2" else {}
    return None


def map_labels(manifest: pd.DataFrame, name: str = "megc2019", keep_excluded: bool = False) -> pd.DataFrame:
    """A copy of the manifest with `label` mapped by the named map and the original in `label_native`.

    name: "native" (unchanged), "megc2019" (negative/positive/surprise over SMIC, CASME II, SAMM) or
    "casme2-5class". Rows the map excludes are dropped (keep_excluded=True keeps them with label None).
    """
    if name not in LABEL_MAPS:
        raise ValueError(f"unknown label map {name!r}; choose one of {LABEL_MAPS}")
    for col in ("dataset", "label", "sample_id"):
        if col not in manifest.columns:
            raise MexkitInputError(None, f"manifest lacks the {col!r} column needed for label maps", "build it with a mexkit dataset adapter", stage="labels")
    out = manifest.copy()
    out["label_native"] = out["label"]
    if name == "native":
        return out
    mapped = []
    for ds, lab, sid in zip(out["dataset"], out["label"], out["sample_id"]):
        table = _lookup(name, str(ds)) or {}
        m = table.get(str(lab).strip().lower()) if lab is not None and not pd.isna(lab) else None
        if name == "megc2019" and sid in MEGC2019_EXCLUDED_SAMPLES:
            m = None
        mapped.append(m)
    out["label"] = mapped
    if not keep_excluded:
        out = out[out["label"].notna()].reset_index(drop=True)
    return out


def megc2019_composite(manifests: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The MEGC2019 composite manifest from the SMIC-HS, CASME II and SAMM manifests (any order).

    Subjects stay dataset-prefixed, so LOSO over the composite has one fold per (dataset, subject).
    """
    frames = [map_labels(m, "megc2019") for m in manifests]
    if not frames:
        raise ValueError("no manifests given")
    return pd.concat(frames, ignore_index=True)


def composite_counts(composite: pd.DataFrame) -> pd.DataFrame:
    """Found vs expected MEGC2019 counts (samples, subjects, classes; overall and per dataset).

    One row per quantity with columns scope, quantity, found, expected, diff. Only the datasets
    present in `composite` get per-dataset rows; overall rows compare against the full composite.
    """
    rows = []

    def add(scope, quantity, found, expected):
        rows.append({"scope": scope, "quantity": quantity, "found": int(found), "expected": expected, "diff": int(found) - expected})

    for ds in sorted(set(composite["dataset"])):
        exp = MEGC2019_EXPECTED["datasets"].get(ds)
        if exp is None:
            continue
        part = composite[composite["dataset"] == ds]
        add(ds, "samples", len(part), exp["samples"])
        add(ds, "subjects", part["subject"].nunique(), exp["subjects"])
        for c in MEGC_CLASSES:
            add(ds, c, (part["label"] == c).sum(), exp[c])
    add("composite", "samples", len(composite), MEGC2019_EXPECTED["samples"])
    add("composite", "subjects", composite["subject"].nunique(), MEGC2019_EXPECTED["subjects"])
    for c in MEGC_CLASSES:
        add("composite", c, (composite["label"] == c).sum(), MEGC2019_EXPECTED["classes"][c])
    return pd.DataFrame(rows)
