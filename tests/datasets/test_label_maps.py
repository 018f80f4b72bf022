"""Label maps: MEGC2019 composite classes, CASME II 5 classes, native labels; found vs expected counts."""
from __future__ import annotations

import pandas as pd
import pytest

from mexkit.datasets import CASME2Adapter, SAMMAdapter, SMICAdapter, composite_counts, map_labels, megc2019_composite
from mexkit.datasets.label_maps import MEGC2019_EXCLUDED_SAMPLES, MEGC2019_EXPECTED


@pytest.fixture(scope="module")
def three(pristine):
    return [SMICAdapter(pristine("smic").root).manifest(), CASME2Adapter(pristine("casme2").root).manifest(), SAMMAdapter(pristine("samm").root).manifest()]


def test_composite_from_fixture_manifests(three):
    comp = megc2019_composite(three)
    got = dict(zip(comp["sample_id"], comp["label"]))
    # SMIC: folder labels; CASME II: repression → negative, others out; SAMM: Anger → negative, Other out
    assert got == {
        "smic_s1_po_01": "positive", "smic_s1_ne_03": "negative", "smic_s3_sur_02": "surprise",
        "casme2_sub01_EP02_01f": "positive", "casme2_sub01_EP03_02": "negative", "casme2_sub02_EP01_11f": "surprise",
        "samm_006_1_2": "positive", "samm_007_3_1": "negative",
    }
    assert comp.set_index("sample_id").loc["samm_007_3_1", "label_native"] == "Anger"
    # subjects stay prefixed: 2 SMIC + 2 CASME II + 2 SAMM subjects
    assert comp["subject"].nunique() == 6 and comp["subject"].str.match(r"^(smic|casme2|samm)_").all()


def test_counts_found_next_to_expected(three):
    counts = composite_counts(megc2019_composite(three)).set_index(["scope", "quantity"])
    assert counts.loc[("composite", "samples"), "found"] == 8 and counts.loc[("composite", "samples"), "expected"] == 442
    assert counts.loc[("composite", "subjects"), "expected"] == 68
    assert counts.loc[("composite", "negative"), "found"] == 3 and counts.loc[("composite", "negative"), "expected"] == 250
    assert counts.loc[("casme2", "samples"), "expected"] == 145 and counts.loc[("samm", "subjects"), "expected"] == 28
    assert counts.loc[("smic", "positive"), "diff"] == 1 - 51


def test_expected_figures_are_consistent():
    per = MEGC2019_EXPECTED["datasets"]
    assert sum(d["samples"] for d in per.values()) == MEGC2019_EXPECTED["samples"]
    assert sum(d["subjects"] for d in per.values()) == MEGC2019_EXPECTED["subjects"]
    for c, n in MEGC2019_EXPECTED["classes"].items():
        assert sum(d[c] for d in per.values()) == n
    for d in per.values():
        assert d["negative"] + d["positive"] + d["surprise"] == d["samples"]


def _casme2_like(labels, ids=None):
    ids = ids or [f"casme2_sub01_EP{i:02d}" for i in range(len(labels))]
    return pd.DataFrame({"sample_id": ids, "subject": "casme2_sub01", "dataset": "casme2", "label": labels})


def test_casme2_fear_sadness_others_and_listed_samples_leave_the_composite():
    m = _casme2_like(["fear", "sadness", "others", "disgust", "disgust"], ids=[f"casme2_sub01_EP{i:02d}" for i in range(4)] + [sorted(MEGC2019_EXCLUDED_SAMPLES)[0]])
    out = map_labels(m, "megc2019")
    assert list(out["label"]) == ["negative"]
    kept = map_labels(m, "megc2019", keep_excluded=True)
    assert kept["label"].isna().sum() == 4


def test_casme2_5class_and_native():
    m = _casme2_like(["happiness", "fear", "others", "repression", "sadness", "surprise", "disgust"])
    five = map_labels(m, "casme2-5class")
    assert list(five["label"]) == ["happiness", "others", "repression", "surprise", "disgust"]
    native = map_labels(m, "native")
    assert list(native["label"]) == list(m["label"]) and list(native["label_native"]) == list(m["label"])
    with pytest.raises(ValueError, match="unknown label map"):
        map_labels(m, "megc2018")
