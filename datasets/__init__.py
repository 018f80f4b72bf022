"""Dataset adapters, label maps, LOSO splits, the preprocessing cache and the embedded real-face corpus."""
from .adapter_base import Annotation, DatasetAdapter, load_manifest_clip
from .adapters import ADAPTERS, make_adapter
from .cache_reader import CacheReader, CachedItem
from .casme import CASMEAdapter
from .casme2 import CASME2Adapter
from .casme3 import CASME3Adapter
from .clip_source import ManifestClipSource, MemoryClipSource, sources_from_manifest
from .fourdme import FourDMEAdapter
from .generic import GenericAdapter
from .errata import load_errata
from .label_maps import MEGC2019_EXPECTED, composite_counts, map_labels, megc2019_composite
from .megc2019_list import compare_with_list, megc2019_samples
from .mmew import MMEWAdapter
from .preprocess_cache import PrepareConfig, PreprocessCache
from .samm import SAMMAdapter
from .smic import SMICAdapter
from .splits import SubjectSplits, holdout_subject_split, kfold_subject_splits, lodo_splits, loso_splits


def load_corpus(*args, **kwargs):
    """The embedded corpus of real faces and clips (see mexkit.datasets.corpus)."""
    from .corpus import load_corpus as _load

    return _load(*args, **kwargs)


__all__ = [
    "ADAPTERS", "Annotation", "CASMEAdapter", "CASME2Adapter", "CASME3Adapter", "CacheReader", "CachedItem", "DatasetAdapter",
    "FourDMEAdapter", "GenericAdapter", "MEGC2019_EXPECTED", "MMEWAdapter", "ManifestClipSource", "MemoryClipSource",
    "PrepareConfig", "PreprocessCache", "SAMMAdapter", "SMICAdapter", "SubjectSplits", "composite_counts",
    "holdout_subject_split", "kfold_subject_splits", "load_corpus", "lodo_splits", "load_manifest_clip", "loso_splits",
    "make_adapter", "map_labels", "megc2019_composite", "sources_from_manifest", "compare_with_list", "megc2019_samples",
    "load_errata",
]
