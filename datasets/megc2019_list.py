"""The official MEGC2019 composite sample list, and a composite compared with it sample by sample.

datasets/megc2019_samples.csv holds the 442 samples of the MEGC2019 composite (See et al., FG 2019)
with their subjects, in the ids mexkit's adapters write ("casme2_sub01_EP02_01f", "smic_s1_ne_01",
"samm_006_1_2"). Source: STSTNet's video442Names.txt / video442subName.txt (christy1206/STSTNet),
the list the MEGC2019 organisers distributed; the class of each sample from the organisers'
combined_3_class2_for_optical_flow.csv (0 negative, 1 positive, 2 surprise). The list publishes the
composite class only, not each dataset's native emotion word, so `megc_label` is the composite class.

Equal totals can hide different samples: `compare_with_list` names every sample that is missing from
a composite (and why: rejected row / no frames, label excluded by the map, not in the sheet read —
a sheet version), every extra one (not in the list) and every one whose class differs.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pandas as pd

from .label_maps import MEGC2019_EXCLUDED_SAMPLES, MEGC2019_MAP

SAMPLES_FILE = Path(__file__).parent / "megc2019_samples.csv"
DIFF_COLUMNS = ["dataset", "sample_id", "status", "reason"]


@lru_cache(maxsize=1)
def _samples() -> pd.DataFrame:
    return pd.read_csv(SAMPLES_FILE, dtype=str, keep_default_na=False)


def megc2019_samples() -> pd.DataFrame:
    """The official 442 samples: dataset, subject, sample_id, megc_label, official_name, source."""
    return _samples().copy()


def release_folder(row) -> str:
    """The sample's folder as released, relative to its subject's parent ("sub01/EP02_01f", "006/006_1_2", "s1_ne_01")."""
    ds, sid, subject = row["dataset"], row["sample_id"], row["subject"]
    name = sid[len(ds) + 1:]
    code = subject[len(ds) + 1:]
    if ds == "casme2":
        return f"{code}/{name[len(code) + 1:]}"
    if ds == "samm":
        return f"{code}/{name}"
    return name


def _reject_for(folder: str, rejects: Iterable[dict]) -> dict | None:
    for r in rejects:
        f = str(r.get("file", "")).replace("\\", "/")
        if f.endswith("/" + folder) or f == folder or f"({folder})" in str(r.get("reason", "")):
            return r
    return None


def compare_with_list(composite: pd.DataFrame, native: dict[str, pd.DataFrame], rejects: Iterable[dict] = (),
                      sheets: dict[str, str] | None = None) -> pd.DataFrame:
    """Samples where a composite and the official list differ, with the reason for each.

    composite: the composite manifest (label = MEGC class); native: dataset -> that dataset's manifest
    before label mapping (only these datasets are compared); rejects: the adapters' reject rows;
    sheets: dataset -> annotation sheet read (named in reasons). Columns: dataset, sample_id, status
    ("missing", "extra", "class differs"), reason. Empty when the composite is the official one.
    """
    rejects = list(rejects)
    sheets = sheets or {}
    official = _samples()
    official = official[official["dataset"].isin(list(native))]
    listed = dict(zip(official["sample_id"], official["megc_label"]))
    got = dict(zip(composite["sample_id"], composite["label"])) if len(composite) else {}
    rows = []
    for _, o in official.iterrows():
        sid, ds = o["sample_id"], o["dataset"]
        if sid in got:
            if got[sid] != o["megc_label"]:
                rows.append((ds, sid, "class differs", f"the list says {o['megc_label']}, the sheet's label maps to {got[sid]}"))
            continue
        man = native[ds]
        hit = man[man["sample_id"] == sid] if len(man) else man
        folder = release_folder(o)
        if len(hit):
            lab = hit["label"].iloc[0]
            cls = MEGC2019_MAP.get(ds, {}).get(str(lab).strip().lower())
            if sid in MEGC2019_EXCLUDED_SAMPLES:
                why = "left out by MEGC2019_EXCLUDED_SAMPLES"
            elif cls is None:
                why = f"excluded label {lab!r} (not a MEGC2019 class for {ds})"
            else:
                why = f"its label {lab!r} maps to {cls}, but the composite leaves it out"
            rows.append((ds, sid, "missing", why))
            continue
        r = _reject_for(folder, rejects)
        if r is not None:
            kind = "no frames" if r.get("stage") == "frames-folder" else f"rejected [{r.get('stage')}]"
            rows.append((ds, sid, "missing", f"{kind}: {r.get('reason')}"))
        elif ds == "smic":
            rows.append((ds, sid, "missing", f"no sample folder {folder} in the tree"))
        else:
            sheet = sheets.get(ds) or "the annotation sheet"
            rows.append((ds, sid, "missing", f"not in {sheet} (sheet version?) — no row names {folder}"))
    for sid, lab in got.items():
        ds = sid.split("_", 1)[0]
        if ds in native and sid not in listed:
            man = native[ds]
            nat = man.loc[man["sample_id"] == sid, "label"]
            word = nat.iloc[0] if len(nat) else lab
            rows.append((ds, sid, "extra", f"not in the MEGC2019 sample list (label {word!r} maps to {lab})"))
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def format_difference(diff: pd.DataFrame, compared: Iterable[str], limit: int | None = None) -> str:
    """The text `mexkit datasets composite` / `check` print for an id difference (at most `limit` samples listed)."""
    compared = sorted(compared)
    head = f"id difference vs the official MEGC2019 list ({SAMPLES_FILE.name}; compared: {', '.join(compared)}): "
    if diff.empty:
        return head + "none"
    counts = diff["status"].value_counts()
    lines = [head + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("missing", "extra", "class differs"))]
    shown = diff if limit is None else diff.head(limit)
    lines += [f"  {r.status}: {r.sample_id} — {r.reason}" for r in shown.itertuples(index=False)]
    if len(shown) < len(diff):
        lines.append(f"  … {len(diff) - len(shown)} more")
    return "\n".join(lines)


def megc_datasets() -> tuple[str, ...]:
    return tuple(MEGC2019_MAP)
