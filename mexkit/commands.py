"""Core sub-commands: `mexkit align`."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .atomic import FULL_DISK, atomic_path, atomic_write_text
from .errors import MexkitInputError, MissingWeightsError, NoFaceError
from .path_checks import check_output_folder
from .rejects import RejectLog
from .video_io import (IMAGE_EXTS, VIDEO_EXTS, clip_fps, iter_clip_frames, read_frame, read_image, write_frame_files,
                       write_image)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("align", help="detect, landmark and align faces in a video, a frame folder or an image",
                       description="Align faces once per clip (on the onset frame) and write crops + landmarks. "
                                   "A folder of frames is one clip; with --batch, every video, image and frame "
                                   "sub-folder inside PATH is aligned and bad items go to rejects.csv.")
    p.add_argument("path", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--backend", default="mediapipe", choices=["mediapipe", "dlib", "face-alignment"])
    p.add_argument("--resolution", type=int, default=128, choices=[64, 128, 256], help="aligned crop size in px (default 128)")
    p.add_argument("--weights-dir", type=Path, default=None, help="face-alignment only: folder with its FAN weights")
    p.add_argument("--batch", action="store_true", help="PATH is a folder of items (videos, images, frame folders)")
    p.add_argument("--track", action="store_true", help="landmarks on every aligned frame (default: onset frame only)")
    p.add_argument("--onset", type=int, default=0, help="frame to align on (default 0)")
    p.add_argument("--all-faces", action="store_true",
                   help="images: write every face (group photos), each as <stem>_face<k> with its box, detector and id "
                        "in <stem>_faces.json and in faces.csv (default: the largest face only)")
    p.set_defaults(func=run_align)


def _items(path: Path, batch: bool) -> list[Path]:
    if not path.exists():
        raise MexkitInputError(path, "not found", "check the path")
    if batch and not path.is_dir():
        raise MexkitInputError(path, "--batch: not a folder", "drop --batch to align this one file, or give --batch a folder of items")
    if path.is_file() and path.suffix.lower() not in IMAGE_EXTS | VIDEO_EXTS:
        raise MexkitInputError(path, f"not a video or an image ({path.suffix or 'no extension'})",
                               f"give a video, an image or a frame folder ({', '.join(sorted(IMAGE_EXTS | VIDEO_EXTS))})")
    if not path.is_dir() or not batch:
        return [path]
    # broken symbolic links are items too: they are listed in rejects.csv, not skipped without a word
    return sorted(p for p in path.iterdir() if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS
                                                                              or p.is_file() or p.is_symlink()))


def align_all_faces(item: Path, out: Path, pipe) -> list[dict]:
    """Every face of one image (both detectors), left to right: crop, landmarks and a row each (id, box, detector)."""
    from .face.landmark_schemes import to68

    image = read_image(item)
    faces = sorted(pipe.detect(image, all_faces=True), key=lambda f: f.bbox[0])
    if not faces:
        raise NoFaceError(item, f"{pipe.backend.name} backend and dlib HOG")
    rows = []
    for k, face in enumerate(faces):
        face_id = f"{item.stem}_face{k}"
        aligned = pipe.align_face(image, face, num_faces=len(faces))
        write_image(out / f"{face_id}.png", aligned.crop)
        np.save(out / f"{face_id}_landmarks.npy", to68(aligned.landmarks, pipe.scheme))
        rows.append({"face_id": face_id, "source": str(item), "face_index": k, "num_faces": len(faces), "detector": face.detector,
                     "x0": face.bbox[0], "y0": face.bbox[1], "x1": face.bbox[2], "y1": face.bbox[3],
                     "crop": f"{face_id}.png", "landmarks": f"{face_id}_landmarks.npy"})
    atomic_write_text(out / f"{item.stem}_faces.json", json.dumps(rows, indent=1))
    return rows


def read_onset_frame(item: Path, onset: int) -> np.ndarray:
    """Frame `onset` of a video or frame folder; one outside the clip is a MexkitInputError naming --onset and the range."""
    try:
        return read_frame(item, onset)
    except MexkitInputError as err:
        if "outside the clip" not in err.reason:
            raise
        raise MexkitInputError(item, f"--onset {onset}: {err.reason.replace(f'frame {onset} is ', '')}",
                               err.fix.replace("give a frame number", "give --onset"), stage="input") from None


def align_item(item: Path, out: Path, pipe, track: bool, onset: int) -> dict:
    """Align one video / frame folder / image and write it under `out`; returns a summary row.

    A video or frame folder is streamed: its onset frame is read and aligned, then every frame is decoded,
    warped and written as it comes (memory flat in the video's length); the folder appears whole or not at all.
    """
    from .face.landmark_schemes import to68

    if item.is_file() and item.suffix.lower() in IMAGE_EXTS:
        aligned = pipe.align_image(read_image(item), source=item)
        write_image(out / f"{item.stem}.png", aligned.crop)
        np.save(out / f"{item.stem}_landmarks.npy", to68(aligned.landmarks, pipe.scheme))
        return {"item": str(item), "frames": 1, "num_faces": aligned.num_faces, "detector": aligned.face.detector}
    reference = pipe.align_reference(read_onset_frame(item, onset), source=item, onset=onset)
    fps = clip_fps(item)
    tracked: list[np.ndarray] = []

    def crops():
        for crop, landmarks in pipe.iter_aligned(iter_clip_frames(item), reference, track):
            if track:
                tracked.append(to68(landmarks, pipe.scheme).astype(np.float32))
            yield crop

    folder = out / (item.stem if item.is_file() else item.name)
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        n = write_frame_files(tmp, crops(), name=item)
        np.save(tmp / "landmarks.npy", np.stack(tracked) if track else to68(reference.landmarks, pipe.scheme))
        meta = pipe.alignment_meta(reference)
        (tmp / "alignment.json").write_text(json.dumps({
            "source": str(item), "affine": np.asarray(reference.affine).tolist(), "onset": onset, "fps": fps or 30.0,
            "num_faces": meta["num_faces"], "backend": pipe.backend.name, "size": int(reference.crop.shape[0]),
            "detector": meta["face_detector"],
        }, indent=1))
    return {"item": str(item), "frames": n, "num_faces": reference.num_faces}


def run_align(args: argparse.Namespace) -> int:
    from .face import FacePipeline

    items = _items(args.path, args.batch)
    if args.onset < 0:
        raise MexkitInputError(args.path, f"--onset {args.onset}: frame numbers start at 0", "give --onset 0 or a later frame",
                               stage="input")
    check_output_folder(args.out, "--out")  # before the face models load and before anything is written
    if not args.batch and not (args.path.is_file() and args.path.suffix.lower() in IMAGE_EXTS):
        read_onset_frame(args.path, args.onset)  # an --onset outside the clip: said before anything is written
    kwargs = {"weights_dir": args.weights_dir} if args.backend == "face-alignment" else {}
    try:
        pipe = FacePipeline(args.backend, resolution=args.resolution, **kwargs)
    except MissingWeightsError as err:
        raise MexkitInputError(args.weights_dir or "--weights-dir", str(err).split(". ")[0],
                               "pass --weights-dir FOLDER holding the FAN weights, or use --backend mediapipe or dlib",
                               stage="weights") from None
    args.out.mkdir(parents=True, exist_ok=True)
    rejects = RejectLog(args.out / "rejects.csv" if args.batch else None)  # one item: its error is the command's
    done, face_rows = 0, []
    for item in tqdm(items, desc="align", unit="item", disable=len(items) == 1):
        try:
            if item.is_symlink() and not item.exists():
                raise MexkitInputError(item, f"broken symbolic link (points to {os.readlink(item)}, which does not exist)",
                                       "fix or remove the link", stage="input")
            if args.all_faces and item.is_file() and item.suffix.lower() in IMAGE_EXTS:
                face_rows += align_all_faces(item, args.out, pipe)
                done += 1
                continue
            row = align_item(item, args.out, pipe, args.track, args.onset)
            done += 1
            if row["num_faces"] and row["num_faces"] > 1:
                print(f"{item}: {row['num_faces']} faces seen, the largest was aligned (--all-faces writes every face)")
        except OSError as err:
            if err.errno in FULL_DISK:
                raise MexkitInputError(args.out, f"no space left on the disk while writing {item.name} ({err.strerror})",
                                       "free space and rerun (it resumes)", stage="output") from None
            if not args.batch:
                raise
            rejects.add_error(item, err)
        except Exception as err:  # with --batch one bad item is listed and the rest go on
            if not args.batch:
                raise
            rejects.add_error(item, err)
    if face_rows:
        import pandas as pd

        atomic_write_text(args.out / "faces.csv", pd.DataFrame(face_rows).to_csv(index=False))
        print(f"{len(face_rows)} face(s) written, listed in {args.out / 'faces.csv'}")
    print(f"aligned {done} of {len(items)} item(s) → {args.out}")
    print(rejects.summary())
    return 0 if done else 1
