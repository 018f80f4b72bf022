"""The MEGC2019 composite checked by sample id against the shipped official list (datasets/megc2019_samples.csv)."""
from __future__ import annotations

import shutil

import pandas as pd

import fixture_trees as ft
from mexkit.cli import main
from mexkit.datasets import CASME2Adapter, SAMMAdapter
from mexkit.datasets.label_maps import MEGC2019_EXCLUDED_SAMPLES, MEGC2019_EXPECTED
from mexkit.datasets.megc2019_list import compare_with_list, megc2019_samples, release_folder


def _composite(roots, out, capsys):
    args = ["datasets", "composite", "--out", str(out)]
    for ds, r in roots.items():
        args += [f"--{ds}", str(r)]
    assert main(args) == 0
    return capsys.readouterr().out


def test_shipped_list_matches_the_published_totals():
    s = megc2019_samples()
    assert len(s) == s["sample_id"].nunique() == MEGC2019_EXPECTED["samples"]
    assert s["subject"].nunique() == MEGC2019_EXPECTED["subjects"]
    assert s["megc_label"].value_counts().to_dict() == MEGC2019_EXPECTED["classes"]
    for ds, exp in MEGC2019_EXPECTED["datasets"].items():
        part = s[s["dataset"] == ds]
        assert len(part) == exp["samples"] and part["subject"].nunique() == exp["subjects"]
        assert {c: int((part["megc_label"] == c).sum()) for c in ("negative", "positive", "surprise")} == {c: exp[c] for c in ("negative", "positive", "surprise")}
    assert (s["source"].str.contains("STSTNet")).all()
    ids = set(s["sample_id"])
    # the official list (not MEB's three exclusions) decides: sub05_EP12_03f is in, the excluded two are out
    assert "casme2_sub05_EP12_03f" in ids and not (MEGC2019_EXCLUDED_SAMPLES & ids)
    assert s["subject"].str.match(r"^(smic|casme2|samm)_").all() and (s["sample_id"].str.split("_").str[0] == s["dataset"]).all()


def test_composite_of_the_official_tree_has_no_id_difference(megc_tree, tmp_path, capsys):
    out = _composite(megc_tree, tmp_path / "comp.csv", capsys)
    assert "MEGC2019 composite: 442 samples, 68 subjects" in out
    assert "classes: negative 250 / positive 109 / surprise 83" in out
    assert "id difference vs the official MEGC2019 list (megc2019_samples.csv; compared: casme2, samm, smic): none" in out
    comp = pd.read_csv(tmp_path / "comp.csv", dtype=str)
    assert set(comp["sample_id"]) == set(megc2019_samples()["sample_id"])


def test_three_samples_removed_are_named_with_why(megc_tree, tmp_path, capsys):
    roots = {ds: tmp_path / ds for ds in megc_tree}
    for ds, r in megc_tree.items():
        shutil.copytree(r, roots[ds])
    s = megc2019_samples().set_index("sample_id")
    gone = ["smic_s3_po_04", "casme2_sub17_EP05_03f", "samm_011_6_13"]
    (roots["smic"] / "HS/s3/micro/positive/s3_po_04").rename(tmp_path / "away_smic")
    assert release_folder(s.loc["casme2_sub17_EP05_03f"].to_dict() | {"sample_id": "casme2_sub17_EP05_03f"}) == "sub17/EP05_03f"
    shutil.rmtree(roots["casme2"] / "CASME2_RAW_selected/sub17/EP05_03f")
    shutil.rmtree(roots["samm"] / "SAMM/011/011_6_13")
    out = _composite(roots, tmp_path / "comp.csv", capsys)
    assert "MEGC2019 composite: 439 samples" in out
    assert "3 missing, 0 extra, 0 class differs" in out
    listed = [line.split(": ", 1)[1].split(" — ")[0] for line in out.splitlines() if line.startswith("  missing: ")]
    assert sorted(listed) == sorted(gone)
    assert "casme2_sub17_EP05_03f — no frames:" in out and "samm_011_6_13 — no frames:" in out
    assert "smic_s3_po_04 — no sample folder s3_po_04 in the tree" in out


def test_extra_missing_and_class_differences_by_id(megc_tree):
    casme2 = CASME2Adapter(megc_tree["casme2"]).manifest()
    from mexkit.datasets.label_maps import map_labels

    comp = map_labels(casme2, "megc2019")
    assert len(comp) == 145
    # MEB's reader also drops sub05_EP12_03f and keeps what the list does not: both show by id
    meb_like = comp[comp["sample_id"] != "casme2_sub05_EP12_03f"].copy()
    meb_like.loc[meb_like["sample_id"] == "casme2_sub01_EP02_01f", "label"] = "negative"
    extra = map_labels(casme2[casme2["sample_id"] == "casme2_sub04_EP12_01f"], "megc2019", keep_excluded=True).assign(label="negative")
    diff = compare_with_list(pd.concat([meb_like, extra]), {"casme2": casme2}, sheets={"casme2": "CASME2-coding-20140508.xlsx"})
    got = {(r.sample_id, r.status) for r in diff.itertuples()}
    assert got == {("casme2_sub05_EP12_03f", "missing"), ("casme2_sub04_EP12_01f", "extra"), ("casme2_sub01_EP02_01f", "class differs")}
    why = dict(zip(diff["sample_id"], diff["reason"]))
    assert why["casme2_sub05_EP12_03f"] == "its label 'surprise' maps to surprise, but the composite leaves it out"
    assert why["casme2_sub04_EP12_01f"].startswith("not in the MEGC2019 sample list (label 'disgust' maps to negative)")
    assert why["casme2_sub01_EP02_01f"] == "the list says positive, the sheet's label maps to negative"
    # a listed sample whose sheet label the map excludes (a sheet that labels it fear)
    relabelled = casme2.copy()
    relabelled.loc[relabelled["sample_id"] == "casme2_sub02_EP09_01", "label"] = "fear"
    diff = compare_with_list(map_labels(relabelled, "megc2019"), {"casme2": relabelled})
    assert diff.values.tolist() == [["casme2", "casme2_sub02_EP09_01", "missing", "excluded label 'fear' (not a MEGC2019 class for casme2)"]]
    # a listed sample whose row the sheet does not hold: named with the sheet read
    diff = compare_with_list(comp.iloc[1:], {"casme2": casme2.iloc[1:]}, sheets={"casme2": "CASME2-coding-20140508.xlsx"})
    assert list(diff["status"]) == ["missing"] and "not in CASME2-coding-20140508.xlsx (sheet version?)" in diff["reason"].iloc[0]


def test_check_compares_the_dataset_share_by_id(megc_tree, capsys):
    assert main(["datasets", "check", "--dataset", "samm", "--root", str(megc_tree["samm"]), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "annotation sheet: SAMM_Micro_FACS_Codes_v2.xlsx (the only annotation sheet found)" in out
    assert "compared: samm): none" in out
    # the four frame errata and four of the five AU errata (the fixture sheet has no data row 154)
    assert "errata applied: 8" in out and "#1 row 56" in out and "#5 row 15" in out and "#9 row 154 aus: the sheet has no data row 154" in out
    man = SAMMAdapter(megc_tree["samm"]).manifest()
    assert (man["annotation_sheet"] == "SAMM_Micro_FACS_Codes_v2.xlsx").all()
