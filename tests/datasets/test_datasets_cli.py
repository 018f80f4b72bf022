"""`mexkit datasets check|manifest|composite|splits` and `mexkit prepare --manifest` on fixture trees."""
from __future__ import annotations

import json

import pandas as pd

from mexkit.cli import main


def test_check_prints_counts_and_problems(fresh, capsys):
    tree = fresh("casme2")
    assert main(["datasets", "check", "--dataset", "casme2", "--root", str(tree.root)]) == 0
    out = capsys.readouterr().out
    assert "casme2 at" in out and "4 usable samples, 2 subjects, 0 rejected" in out
    assert "samples per subject and label:" in out and "casme2_sub01" in out and "repression" in out
    assert "MEGC2019 composite share (found vs expected):" in out
    assert "frames missing or unreadable: 0" in out and "annotation rows without frames: 0" in out and "frame folders without rows: 0" in out

    (tree.root / "CASME2_RAW_selected/sub01/EP03_02/img13.jpg").unlink()
    (tree.root / "CASME2_RAW_selected/sub02/EP19_06f").rename(tree.root / "CASME2_RAW_selected/sub02/EP19_07f")
    rej = tree.root.parent / "rejects.csv"
    assert main(["datasets", "check", "--dataset", "casme2", "--root", str(tree.root), "--rejects", str(rej), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "2 usable samples" in out and "frames missing or unreadable: 1" in out
    assert "frame file(s) missing between onset 10 and offset 17: 13" in out
    assert "annotation rows without frames: 1" in out and "frame folders without rows: 1" in out
    assert "CASME2_RAW_selected/sub02/EP19_07f" in out
    assert len(pd.read_csv(rej)) == 2


def test_check_errors_exit_2(fresh, capsys, tmp_path):
    tree = fresh("samm")
    tree.sheet.unlink()
    assert main(["datasets", "check", "--dataset", "samm", "--root", str(tree.root)]) == 2
    assert "annotation spreadsheet not found" in capsys.readouterr().err
    assert main(["datasets", "check", "--dataset", "casme9", "--root", str(tmp_path)]) == 2
    assert "unknown dataset 'casme9'" in capsys.readouterr().err
    # a missing root or a file as root: one message with its own fix (not a second, unrelated one)
    (tmp_path / "a_file").write_text("x")
    for root, said in ((tmp_path / "missing", "root folder not found"), (tmp_path / "a_file", "--root: a file, not a folder")):
        assert main(["datasets", "check", "--dataset", "casme2", "--root", str(root)]) == 2
        err = capsys.readouterr().err
        assert str(root) in err and said in err and err.count("Fix:") == 1


def test_manifest_composite_splits_prepare(pristine, tmp_path, capsys):
    roots = {n: pristine(n).root for n in ("smic", "casme2", "samm")}
    man = tmp_path / "casme2.csv"
    assert main(["datasets", "manifest", "--dataset", "casme2", "--root", str(roots["casme2"]), "--out", str(man), "--label-map", "casme2-5class"]) == 0
    df = pd.read_csv(man)
    assert len(df) == 4 and set(df["label"]) == {"happiness", "repression", "surprise", "others"}
    assert (tmp_path / "rejects.csv").is_file()

    comp = tmp_path / "megc" / "composite.csv"
    assert main(["datasets", "composite", "--smic", str(roots["smic"]), "--casme2", str(roots["casme2"]), "--samm", str(roots["samm"]), "--out", str(comp)]) == 0
    out = capsys.readouterr().out
    assert "MEGC2019 composite: 8 samples, 6 subjects" in out and "442" in out and "250" in out
    c = pd.read_csv(comp)
    assert set(c["label"]) == {"negative", "positive", "surprise"}

    sp = tmp_path / "loso.json"
    assert main(["datasets", "splits", "--manifest", str(comp), "--kind", "loso", "--out", str(sp)]) == 0
    doc = json.loads(sp.read_text())
    assert doc["kind"] == "loso" and len(doc["folds"]) == 6

    cache = tmp_path / "cache"
    args = ["prepare", "--manifest", str(comp), "--out", str(cache), "--flow", "dis", "--resolution", "64", "--no-progress"]
    args += [x for n, r in roots.items() for x in ("--root", f"{n}={r}")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "8 samples: 8 computed" in out
    idx = pd.read_csv(cache / "index.csv")
    assert set(idx["sample_id"]) == set(c["sample_id"]) and (idx["status"] == "computed").all()


def test_prepare_from_adapter_lists_adapter_rejects(fresh, tmp_path, capsys):
    tree = fresh("smic")
    (tree.root / "HS/s1/micro/negative/s1_ne_03/image20433.bmp").unlink()  # a gap: the adapter rejects the sample
    out = tmp_path / "cache"
    args = ["prepare", "--dataset", "smic", "--root", str(tree.root), "--out", str(out), "--flow", "dis", "--resolution", "64", "--no-progress"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "2 samples: 2 computed" in text and "1 rejected" in text and "frame file(s) missing" in text
    rej = pd.read_csv(out / "rejects.csv")
    assert len(rej) == 1 and rej.loc[0, "file"].endswith("s1_ne_03")


def test_composite_relative_to_one_folder_reads_with_one_root(pristine, tmp_path):
    import os

    from mexkit.datasets import load_manifest_clip

    roots = {n: pristine(n).root for n in ("smic", "casme2", "samm")}
    common = os.path.commonpath([str(r) for r in roots.values()])
    comp = tmp_path / "composite.csv"
    assert main(["datasets", "composite", *[x for n, r in roots.items() for x in (f"--{n}", str(r))], "--out", str(comp), "--relative-to", common]) == 0
    c = pd.read_csv(comp, dtype={"subject": str, "sample_id": str})
    plain = tmp_path / "plain.csv"
    assert main(["datasets", "composite", *[x for n, r in roots.items() for x in (f"--{n}", str(r))], "--out", str(plain)]) == 0
    p = pd.read_csv(plain, dtype={"subject": str, "sample_id": str})
    for (_, a), (_, b) in zip(c.iterrows(), p.iterrows()):  # the same frames, read through the one root
        assert (load_manifest_clip(common, a).frames == load_manifest_clip(roots[b["dataset"]], b).frames).all()
    assert main(["datasets", "composite", "--casme2", str(roots["casme2"]), "--out", str(tmp_path / "x.csv"), "--relative-to", str(tmp_path)]) == 2


def test_splits_lodo_holds_out_each_dataset_of_a_composite(pristine, tmp_path, capsys):
    """`splits --kind lodo` on the MEGC2019 composite of three fixture trees: one fold per dataset, every subject of
    that dataset held out and none of it trained on; a manifest of one dataset, or --only, is exit 2 naming it."""
    from mexkit.datasets.splits import SubjectSplits

    roots = {n: pristine(n).root for n in ("smic", "casme2", "samm")}
    comp = tmp_path / "composite.csv"
    assert main(["datasets", "composite", *[x for n, r in roots.items() for x in (f"--{n}", str(r))], "--out", str(comp)]) == 0
    c = pd.read_csv(comp, dtype={"subject": str, "sample_id": str})
    sp = tmp_path / "lodo.json"
    assert main(["datasets", "splits", "--manifest", str(comp), "--kind", "lodo", "--out", str(sp)]) == 0
    assert "lodo: 3 fold(s) over 8 samples" in capsys.readouterr().out
    splits = SubjectSplits.load(sp)
    assert splits.kind == "lodo" and [f.name for f in splits.folds] == sorted(set(c["dataset"]))
    for fold, train, test in splits.indices(c):
        assert set(c["dataset"].iloc[test]) == {fold.name} and (c["dataset"] == fold.name).sum() == len(test)
        assert fold.name not in set(c["dataset"].iloc[train]) and len(train) + len(test) == len(c)

    one = tmp_path / "casme2_only.csv"
    c[c["dataset"] == "casme2"].to_csv(one, index=False)
    out = tmp_path / "one.json"
    assert main(["datasets", "splits", "--manifest", str(one), "--kind", "lodo", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{one}: leave-one-dataset-out needs at least two datasets, found ['casme2']" in err and "Fix:" in err
    assert main(["datasets", "splits", "--manifest", str(comp), "--kind", "lodo", "--only", "samm", "--out", str(out)]) == 2
    assert f"{comp}: --kind lodo holds out whole datasets" in capsys.readouterr().err and not out.exists()
