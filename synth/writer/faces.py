"""Face discovery: `--faces` (a folder of images, one image, or the embedded corpus) → FaceSource list."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from mexkit.errors import MexkitInputError
from mexkit.file_hash import file_sha256
from mexkit.video_io import IMAGE_EXTS, natural_key

from ..neutral_face import NeutralFace


class FaceRejected(MexkitInputError):
    """The source face of a job is unusable (no face, tiny image, unreadable file): skip all its jobs."""


@dataclass(frozen=True)
class FaceSource:
    """One source face: a stable key (path relative to the faces folder, or "corpus/<face_id>"), the
    sha256 of its content, its subject, and either the image file or an aligned NeutralFace."""

    key: str
    sha: str
    subject: str
    path: Path | None = None
    face: NeutralFace | None = field(default=None, compare=False, repr=False)


def folder_subject(name: str, subject_prefix: str = "", outside: bool = False) -> str:
    """The subject id of a face folder's name in the real set's namespace: `subject_prefix` + name
    (e.g. "casme2_" + "sub01", the adapters' ids), or "outside:<name>" for faces of people outside every
    real set (`outside`). The leakage gate refuses synthetic rows whose subject is neither a subject of
    the real set nor outside, so a folder named "sub01" never passes silently beside "casme2_sub01"."""
    from mexkit.datasets.provenance import outside_subject

    if outside and subject_prefix:
        raise MexkitInputError(None, "both a subject prefix and outside faces given", "use --subject-prefix for faces of the real "
                               "set's subjects, --outside-faces for other people", stage="faces")
    return outside_subject(name) if outside else f"{subject_prefix}{name}"


def faces_from_folder(folder: str | Path, subject_prefix: str = "", outside: bool = False) -> list[FaceSource]:
    """Every image under `folder` (recursively, natural order). Subject: the first sub-folder's name
    for images in sub-folders (DIR/<subject>/img.jpg), else the file's stem — mapped into the real
    set's namespace by `folder_subject` (subject_prefix, outside)."""
    folder = Path(folder)
    if folder.is_file():
        if folder.suffix.lower() not in IMAGE_EXTS:
            raise MexkitInputError(folder, "not an image file", f"pass a folder of face images or one image ({', '.join(sorted(IMAGE_EXTS))})", stage="faces")
        return [FaceSource(key=folder.name, sha=file_sha256(folder), subject=folder_subject(folder.stem, subject_prefix, outside), path=folder)]
    if not folder.is_dir():
        raise MexkitInputError(folder, "faces folder not found", "pass --faces DIR (a folder of face images) or --faces corpus", stage="faces")
    files = sorted((p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".")
                    and readable_name(p)), key=lambda p: natural_key(p.relative_to(folder).as_posix()))
    if not files:
        unnamed = [key for key, reason in broken_links(folder) if "UTF-8" in reason]
        if unnamed:
            raise MexkitInputError(folder, f"faces folder holds no image with a UTF-8 file name ({len(unnamed)} without, e.g. {unnamed[0]})",
                                   "rename the images (e.g. with `convmv -f latin1 -t utf8`)", stage="faces")
        raise MexkitInputError(folder, "faces folder holds no images", f"put face images ({', '.join(sorted(IMAGE_EXTS))}) in it", stage="faces")
    out = []
    for p in files:
        rel = p.relative_to(folder)
        subject = rel.parts[0] if len(rel.parts) > 1 else p.stem
        out.append(FaceSource(key=rel.as_posix(), sha=file_sha256(p), subject=folder_subject(subject, subject_prefix, outside), path=p))
    return out


def readable_name(path: Path) -> bool:
    """Whether a file's name is text (UTF-8): a name with undecodable bytes cannot be written into manifest.csv."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(path: Path) -> str:
    """A path as text, its undecodable bytes written as \\xNN."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def broken_links(folder: str | Path) -> list[tuple[str, str]]:
    """(key, reason) of every face under a faces folder that cannot be read — a broken symbolic link, an image
    whose name is not UTF-8 — so the writer lists it in rejects.csv instead of leaving it out without a word
    (or stopping the run)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.rglob("*"), key=lambda q: natural_key(shown_name(q.relative_to(folder)))):
        if p.name.startswith("."):
            continue
        if not readable_name(p) and (p.is_dir() or p.suffix.lower() in IMAGE_EXTS):
            out.append((shown_name(p.relative_to(folder)), "file name is not valid UTF-8 (it cannot be written into manifest.csv)"))
        elif p.is_symlink() and not p.exists():
            out.append((p.relative_to(folder).as_posix(), f"broken symbolic link (points to {os.readlink(p)}, which does not exist)"))
    return out


def faces_from_corpus() -> list[FaceSource]:
    """The embedded corpus's aligned neutral-or-not faces (mexkit.datasets.load_corpus().faces)."""
    from mexkit.datasets import load_corpus

    out = []
    for face in load_corpus().faces:
        h = hashlib.sha256(np.ascontiguousarray(face.crop).tobytes())
        h.update(np.ascontiguousarray(face.landmarks, np.float32).tobytes())
        key = f"corpus/{face.meta.get('face_id') or face.subject}"
        out.append(FaceSource(key=key, sha=h.hexdigest(), subject=face.subject, face=face))
    return out


def group_faces(images: Sequence[FaceSource], resolution: int, pipeline=None, subject_prefix: str = "",
                outside: bool = False) -> tuple[list[FaceSource], list[tuple[str, str]]]:
    """Every face of every image (`mexkit generate --all-faces`, for group photos): one FaceSource per
    face, key "<image key>#face<k>" (left to right), subject "<image stem>_face<k>" mapped by
    `folder_subject` — each person in a photo is a subject of their own. Returns the sources and
    (key, reason) for images without a face and faces too small to animate (the writer's rejects)."""
    from mexkit.neutral_face import prepare_faces
    from mexkit.video_io import read_image

    sources, skipped = [], []
    for img in images:
        try:
            faces = prepare_faces(read_image(img.path), resolution=resolution, pipeline=pipeline, source=img.key,
                                  subject=Path(img.key).stem)
        except MexkitInputError as err:
            skipped.append((img.key, err.reason))
            continue
        for k, face in enumerate(faces):
            if isinstance(face, MexkitInputError):
                skipped.append((f"{img.key}#face{k}", face.reason))
                continue
            face.subject = folder_subject(face.subject, subject_prefix, outside)
            sha = hashlib.sha256(f"{img.sha}#face{k}".encode()).hexdigest()
            sources.append(FaceSource(key=f"{img.key}#face{k}", sha=sha, subject=face.subject, face=face))
    return sources, skipped


def face_sources(faces: str | Path | Sequence[FaceSource], subject_prefix: str = "", outside: bool = False) -> list[FaceSource]:
    """`--faces` → face sources: "corpus", a folder of images, one image, or a ready list
    (subject_prefix / outside: see `folder_subject`; the corpus keeps its own subject ids)."""
    if isinstance(faces, (list, tuple)):
        return list(faces)
    return faces_from_corpus() if str(faces) == "corpus" else faces_from_folder(faces, subject_prefix, outside)


def unique_faces(sources: Sequence[FaceSource]) -> list[FaceSource]:
    """The faces in job order (natural order of their keys), each content kept once (ids would collide)."""
    seen, out = set(), []
    for src in sorted(sources, key=lambda s: natural_key(s.key)):
        if src.sha not in seen:
            seen.add(src.sha)
            out.append(src)
    return out


def duplicate_faces(sources: Sequence[FaceSource]) -> list[tuple[FaceSource, FaceSource]]:
    """(duplicate, kept) pairs of faces with identical content, in the order the job plan sees them."""
    first: dict[str, FaceSource] = {}
    out = []
    for src in sorted(sources, key=lambda s: natural_key(s.key)):
        if src.sha in first:
            out.append((src, first[src.sha]))
        else:
            first[src.sha] = src
    return out
