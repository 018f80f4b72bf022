"""Adapters by name."""
from __future__ import annotations

import pytest

from mexkit.datasets import ADAPTERS, make_adapter
from mexkit.datasets.casme3 import CASME3Adapter
from mexkit.datasets.fourdme import FourDMEAdapter
from mexkit.datasets.smic import SMICAdapter


def test_names_and_aliases(pristine):
    assert set(ADAPTERS) >= {"casme2", "samm", "smic", "casme3", "mmew", "fourdme", "generic", "casme2-long", "samm-lv", "casme3-long"}
    assert isinstance(make_adapter("4DME", pristine("fourdme").root), FourDMEAdapter)
    assert isinstance(make_adapter("smic-hs", pristine("smic").root), SMICAdapter)
    assert isinstance(make_adapter("casme3a", pristine("casme3").root), CASME3Adapter)
    g = make_adapter("generic", pristine("generic").root, annotations=pristine("generic").sheet)
    assert len(g.manifest()) == 3
    with pytest.raises(ValueError, match="unknown dataset 'casme9'"):
        make_adapter("casme9", pristine("casme2").root)
    with pytest.raises(ValueError, match="no annotation sheet"):
        make_adapter("smic", pristine("smic").root, annotations="labels.xlsx")


def test_explicit_annotation_path(pristine, tmp_path):
    tree = pristine("casme2")
    ad = make_adapter("casme2", tree.root, annotations=tree.sheet)
    assert ad.annotation_file == tree.sheet and len(ad.manifest()) == 4
    from mexkit.errors import MexkitInputError

    with pytest.raises(MexkitInputError, match="check the --annotations path"):
        make_adapter("casme2", tree.root, annotations=tmp_path / "nope.xlsx").manifest()
