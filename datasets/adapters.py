"""Dataset adapters by name: `make_adapter("casme2", root)`."""
from __future__ import annotations

from pathlib import Path

from .adapter_base import DatasetAdapter
from .casme import CASMEAdapter
from .casme2 import CASME2Adapter
from .casme2_long import CASME2LongAdapter
from .casme3 import CASME3Adapter
from .casme3_long import CASME3LongAdapter
from .fourdme import FourDMEAdapter
from .generic import GenericAdapter
from .mmew import MMEWAdapter
from .samm import SAMMAdapter
from .samm_lv import SAMMLongAdapter
from .smic import SMICAdapter

ADAPTERS: dict[str, type[DatasetAdapter]] = {
    "casme": CASMEAdapter,
    "casme2": CASME2Adapter,
    "samm": SAMMAdapter,
    "smic": SMICAdapter,
    "casme3": CASME3Adapter,
    "mmew": MMEWAdapter,
    "fourdme": FourDMEAdapter,
    "generic": GenericAdapter,
    # long videos with expression intervals (spotting): `datasets manifest` writes truth.csv rows
    "casme2-long": CASME2LongAdapter,
    "samm-lv": SAMMLongAdapter,
    "casme3-long": CASME3LongAdapter,
}
ALIASES = {"casme1": "casme", "casme-i": "casme", "casme-ii": "casme2", "casmeii": "casme2", "smic-hs": "smic", "4dme": "fourdme", "casme3a": "casme3", "cas(me)3": "casme3",
           "cas(me)2": "casme2-long", "casme2lv": "casme2-long", "samm-long": "samm-lv", "sammlv": "samm-lv", "casme3-lv": "casme3-long"}


def adapter_names() -> list[str]:
    return list(ADAPTERS)


def make_adapter(name: str, root: str | Path, annotations: str | Path | None = None, frames_dir: str | Path | None = None, **kwargs) -> DatasetAdapter:
    """The adapter for a dataset name (see ADAPTERS; aliases such as "4dme" work).

    annotations: the annotation spreadsheet (generic: the manifest CSV) if not found under root;
    frames_dir: the frames folder relative to root if not one of the released names.
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key not in ADAPTERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {adapter_names()}")
    cls = ADAPTERS[key]
    if key == "generic":
        return cls(root, csv=annotations, **kwargs)
    if key == "smic":
        if annotations is not None:
            raise ValueError("SMIC-HS has no annotation sheet (labels come from folder names); drop --annotations")
        return cls(root, frames_dir=frames_dir, **kwargs)
    return cls(root, annotations=annotations, frames_dir=frames_dir, **kwargs)
