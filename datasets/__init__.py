"""Dataset adapters, label maps, LOSO splits, the preprocessing cache and the embedded real-face corpus."""


def load_corpus(*args, **kwargs):
    """The embedded corpus of real faces and clips (see mexkit.datasets.corpus)."""
    from .corpus import load_corpus as _load

    return _load(*args, **kwargs)
