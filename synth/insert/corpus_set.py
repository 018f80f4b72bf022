"""The real videos mexkit ships, with their people's subject ids: the source of the synthetic long-video set
(`mexkit insert corpus …`, docs/recipes.md)."""
from __future__ import annotations

from pathlib import Path

CORPUS_VIDEO_NAMES = ("single_face.mp4", "WolfgangLanger_Pexels.mp4")  # no_face.mp4 has no face to insert into


def corpus_videos() -> list[tuple[Path, str]]:
    """(path, subject) of the corpus's face videos (subjects from the corpus manifest) and the webcam clips."""
    from mexkit.datasets.corpus import CORPUS_DIR, WEBCAM_SUBJECT, load_corpus, webcam_videos

    manifest = load_corpus().manifest
    subjects = dict(zip(manifest["source"].astype(str), manifest["subject"].astype(str)))
    out = [(CORPUS_DIR / "media" / n, subjects.get(f"media/{n}", Path(n).stem)) for n in CORPUS_VIDEO_NAMES]
    return out + [(p, WEBCAM_SUBJECT) for p in webcam_videos()]


def corpus_subject(path: str | Path) -> str | None:
    """The subject of a shipped corpus or webcam video, None for any other file."""
    p = Path(path).resolve()
    return next((s for v, s in corpus_videos() if v.resolve() == p), None)


def source_label(path: str | Path) -> str:
    """How a source video is named in the tables: "corpus/<path inside the corpus>" for a shipped video (the same on
    every machine), else the path as given."""
    from mexkit.datasets.corpus import CORPUS_DIR

    try:
        return "corpus/" + Path(path).resolve().relative_to(CORPUS_DIR.resolve()).as_posix()
    except ValueError:
        return str(path)
