"""Fixtures for the dataset tests: real face sequences from the embedded corpus, and the per-dataset
fixture trees (built once per session, copied per test that corrupts them)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import fixture_trees as ft


@pytest.fixture(scope="session")
def corpus():
    from mexkit.datasets import load_corpus

    return load_corpus()


@pytest.fixture(scope="session")
def face_seqs(corpus) -> list[np.ndarray]:
    """Two real moving faces (the corpus's man and woman clips), 96 px, uint8 (T, 96, 96, 3)."""
    by_subject = {}
    for c in corpus.clips:
        by_subject.setdefault(c.subject, c)
    seqs = [np.stack([cv2.resize(f, (96, 96), interpolation=cv2.INTER_AREA) for f in c.frames]) for _, c in sorted(by_subject.items())]
    assert len(seqs) >= 2
    return seqs


def _session_tree(tmp_path_factory, face_seqs, name: str) -> ft.Tree:
    root = tmp_path_factory.mktemp(f"{name}_pristine") / name
    return getattr(ft, f"build_{name}")(root, face_seqs)


@pytest.fixture(scope="session")
def pristine(tmp_path_factory, face_seqs):
    """name → a pristine fixture tree (read-only use; copy before corrupting)."""
    cache: dict[str, ft.Tree] = {}

    def get(name: str) -> ft.Tree:
        if name not in cache:
            cache[name] = _session_tree(tmp_path_factory, face_seqs, name)
        return cache[name]

    return get


@pytest.fixture
def fresh(pristine, tmp_path):
    """name → a private copy of the fixture tree, free to corrupt."""

    def get(name: str) -> ft.Tree:
        return ft.copy_tree(pristine(name), tmp_path / name)

    return get


@pytest.fixture(scope="session")
def megc_tree(tmp_path_factory, face_seqs):
    """SMIC-HS, CASME II and SAMM trees holding exactly the official MEGC2019 samples (read-only; copy to change)."""
    return ft.build_megc2019(tmp_path_factory.mktemp("megc2019") / "megc", face_seqs)
