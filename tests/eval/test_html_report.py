"""The self-contained HTML report builder: everything inline, and the images really show in a browser."""
from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mexkit.eval.report import HtmlReport


def _strip_images(html: str) -> str:
    return re.sub(r'src="data:image/[a-z]+;base64,[^"]*"', 'src=""', html)


def _gif_frames(data: bytes) -> list[np.ndarray]:
    im = Image.open(io.BytesIO(data))
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(np.asarray(im.convert("RGB")))
    return out


def _best_match(screen: np.ndarray, templates: list[np.ndarray]) -> tuple[float, tuple[int, int]]:
    """Lowest normalised squared difference of any template anywhere in the screenshot, and where."""
    import cv2

    best = (np.inf, (0, 0))
    for t in templates:
        res = cv2.matchTemplate(screen, np.ascontiguousarray(t), cv2.TM_SQDIFF_NORMED)
        lo, _, loc, _ = cv2.minMaxLoc(res)
        best = min(best, (lo, loc))
    return best


@pytest.fixture(scope="module")
def report(tmp_path_factory, short_clips, corpus):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = short_clips[0], short_clips[4]
    rep = HtmlReport("Test report", subtitle="real faces")
    rep.section("Samples", "A still and two real clips.")
    rep.gif_grid([[("still", corpus.faces[3].crop[::2, ::2], 30.0), ("clip A", a.frames, a.fps)],
                  [("clip B", b.frames, b.fps)]], row_labels=["first", "second"])
    rep.section("Numbers").table(pd.DataFrame({"metric": ["ssim", "psnr"], "value": [0.91234567, 31.5], "n": [3, 3]}))
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1, 2], [0, 1, 0])
    rep.figure(fig, alt="line")
    rep.confusion_matrix(np.array([[3, 1], [0, 4]]), ["negative", "positive"], title="cm")
    path = rep.save(tmp_path_factory.mktemp("report") / "report.html")
    return path, rep, a, b


def test_report_is_one_self_contained_file(report):
    path, rep, a, _ = report
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    srcs = re.findall(r'<img[^>]*src="([^"]*)"', html)
    assert len(srcs) == 5 and all(s.startswith("data:image/") for s in srcs)
    assert not re.search(r'(href|src)="(https?:|file:|/)', html) and "<script" not in html
    gif = base64.b64decode(srcs[1].split(",", 1)[1])
    frames = _gif_frames(gif)
    assert len(frames) == a.num_frames and np.abs(frames[0].astype(int) - a.frames[0]).mean() < 8  # GIF palette
    assert "0.9123" in html and "31.5" in html and "Samples" in html


def test_report_images_show_in_headless_chromium(report, chromium_screenshot, tmp_path):
    """Screenshot the report and a copy without its image data: the faces, plots and matrix are the difference,
    and the GIF cells show frames of the clips pixel for pixel."""
    path, rep, a, b = report
    shot = chromium_screenshot(path, 1000, 1400)
    bare_path = tmp_path / "bare.html"
    bare_path.write_text(_strip_images(path.read_text()))
    bare = chromium_screenshot(bare_path, 1000, 1400)
    assert shot.shape == bare.shape
    changed = np.abs(shot.astype(int) - bare).sum(-1) > 30
    assert changed.sum() > 3 * 128 * 128  # at least three images' worth of pixels come from image data
    html = path.read_text()
    gifs = [_gif_frames(base64.b64decode(s)) for s in re.findall(r'src="data:image/gif;base64,([^"]*)"', html)]
    top = np.ascontiguousarray(shot[:700])  # the sample grid is the first section
    for frames in gifs:  # each GIF cell is on screen, showing one of its frames
        err, (x, y) = _best_match(top, frames)
        assert err < 0.01, err
        assert changed[y:y + 128, x:x + 128].mean() > 0.5
    err, _ = _best_match(np.ascontiguousarray(bare[:700]), gifs[0])
    assert err > 0.05  # …and not in the render without images
