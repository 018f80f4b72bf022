"""Published annotation errata (datasets/errata_tables): applied by default, listed, recorded, and switched off."""
from __future__ import annotations

import shutil

import pytest

import fixture_trees as ft
from mexkit.cli import main
from mexkit.datasets import CASME2Adapter, FourDMEAdapter
from mexkit.datasets.errata import load_errata
from mexkit.rejects import RejectLog


def test_tables_hold_the_published_entries():
    c2 = load_errata("casme2")
    assert sum(e.field == "apex" for e in c2) == 21 and [e.corrected for e in c2 if e.field == "offset"] == ["91"]
    assert all(e.released == "/" for e in c2 if e.field == "apex")
    samm = {(e.row, e.field): e.corrected for e in load_errata("samm")}
    assert samm == {(56, "offset"): "5739", (125, "apex"): "1105", (132, "apex"): "4945", (133, "apex"): "5130",
                    # MEB's resolution of the five AU cells that give alternatives ("or")
                    (15, "aus"): "R12+R15", (18, "aus"): "R12+R15", (41, "aus"): "L14", (64, "aus"): "R14", (154, "aus"): "R14A"}
    fd = load_errata("fourdme")
    assert {e.row for e in fd} == {144, 145} and {e.field for e in fd} >= {"aus", "label"}
    assert all(e.corrected == f"swap:{289 - e.row}" for e in fd)
    mm = load_errata("mmew")
    assert len({e.row for e in mm}) == 16 and {e.field for e in mm} == {"apex", "offset"}
    assert {e.field for e in load_errata("casme3")} == {"onset", "apex", "offset"}
    for ds in ("casme2", "samm", "fourdme", "mmew", "casme3"):
        es = load_errata(ds)
        assert all(e.version >= 1 and e.sheet and "tvaranka/meb" in e.source for e in es)
        assert len({e.entry for e in es}) == len(es)


@pytest.fixture(scope="module")
def fourdme(tmp_path_factory, face_seqs):
    return ft.build_fourdme_errata(tmp_path_factory.mktemp("fourdme_errata") / "fourdme", face_seqs)


def test_fourdme_rows_144_145_read_corrected_and_as_released(fourdme):
    man = FourDMEAdapter(fourdme.root).manifest().set_index("sample_id")
    for sid, exp in fourdme.samples.items():
        for k, v in exp.items():
            assert man.loc[sid, k] == v, (sid, k)
        assert "fourdme v1 #" in man.loc[sid, "errata"] and " label" in man.loc[sid, "errata"]
    assert (man.drop(index=list(fourdme.samples))["errata"] == "").all()
    raw = FourDMEAdapter(fourdme.root, errata=False).manifest().set_index("sample_id")
    assert raw.loc["fourdme_S05_1st_144_01_1", "aus"] == "AU4" and raw.loc["fourdme_S05_1st_144_01_1", "label"] == "Negative"
    assert raw.loc["fourdme_S01_1st_145_01_1", "aus"] == "AU12" and raw.loc["fourdme_S01_1st_145_01_1", "positive"] == 1
    assert (raw["errata"] == "").all()


def test_check_lists_errata_and_no_errata_turns_them_off(fourdme, capsys):
    assert main(["datasets", "check", "--dataset", "4dme", "--root", str(fourdme.root), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "errata applied: 14" in out and "row 144 (sheet row 146, S05/S05_1st_144_01_1) label: 'Negative' -> 'Positive'" in out
    assert main(["datasets", "check", "--dataset", "4dme", "--root", str(fourdme.root), "--quick", "--no-errata"]) == 0
    assert "errata: off" in capsys.readouterr().out


def test_casme2_updated_sheet_offset_corrected_and_sheet_choice(tmp_path, face_seqs, megc_tree, capsys):
    roots = ft.build_megc2019(tmp_path / "megc", face_seqs, casme2_sheet="CASME2-coding-updated.xlsx")
    root = roots["casme2"]
    ad = CASME2Adapter(root)
    man = ad.manifest().set_index("annotation")
    row60 = man.loc["CASME2-coding-updated.xlsx row 62"]  # data row 60 below the header on row 1
    assert row60["frame_stop"] == 91 and not row60["apex_estimated"] and row60["frame_start"] + row60["apex"] == 78
    assert "casme2 v1 #1 offset" in row60["errata"]
    log = RejectLog()
    raw = CASME2Adapter(root, errata=False).manifest(log)
    assert len(raw) == len(man) - 1 and any("offset frame 95 has no file" in r["reason"] for r in log.rows)

    shutil.copy(megc_tree["casme2"] / "CASME2-coding-20140508.xlsx", root)  # both released sheets side by side
    ad = CASME2Adapter(root)
    both = ad.manifest()
    assert (both["annotation_sheet"] == "CASME2-coding-updated.xlsx").all()
    assert ad.sheet_note.startswith("CASME2-coding-updated.xlsx (the updated sheet is preferred: MEB reads it")
    assert "also present: CASME2-coding-20140508.xlsx" in ad.sheet_note
    old = CASME2Adapter(root, annotations=root / "CASME2-coding-20140508.xlsx")
    assert (old.manifest()["annotation_sheet"] == "CASME2-coding-20140508.xlsx").all()
    assert not old.errata_report.applied and all("published against CASME2-coding-updated.xlsx" in s for s in old.errata_report.skipped)
    assert main(["datasets", "check", "--dataset", "casme2", "--root", str(root), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "annotation sheet: CASME2-coding-updated.xlsx (the updated sheet is preferred" in out
    assert "compared: casme2): none" in out
