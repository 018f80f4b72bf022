"""The self-contained HTML report builder: everything inline, and the images really show in a browser."""
from __future__ import annotations

import base64
import io
import re
from pathlib import Path

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


def test_public_api_notes_code_and_included_reports():
    """Sections, notes, code and a nested report go in through methods; the nested report's headings move down a level."""
    inner = HtmlReport("inner")
    inner.section("Overview", "two families").subsection("Identity")
    inner.table(pd.DataFrame({"metric": ["id_cos_mean"], "mean": [0.98765]}))
    rep = HtmlReport("outer")
    rep.section("Evaluation details: warp").note("incomplete: 1 of 2 families", kind="warning").code("mexkit eval --real <a> --fake b")
    rep.include(inner)
    assert rep.sections == ["Evaluation details: warp", "Overview", "Identity"]
    html = rep.render()
    assert '<p class="callout warning">incomplete: 1 of 2 families</p>' in html
    assert '<pre class="code">mexkit eval --real &lt;a&gt; --fake b</pre>' in html
    assert "<h2>Evaluation details: warp</h2>" in html and "<h3>Overview</h3>" in html and "<h4>Identity</h4>" in html
    assert "<h1>inner</h1>" not in html and "0.9877" in html
    with pytest.raises(ValueError, match="note kind"):
        rep.note("x", kind="loud")


# --- the report at laptop width -------------------------------------------------------------------

@pytest.fixture(scope="module")
def wide_report(tmp_path_factory, short_clips):
    """A report whose first table is much wider than a laptop window: one row per real corpus clip with a long
    descriptive id, its temporal scores and the mean luminance step into every frame, a column each."""
    from mexkit.eval.temporal import temporal_scores

    rows = []
    for clip in short_clips:
        luma = clip.frames.astype(np.float32).mean(axis=(1, 2, 3))
        row = {"sample_id": f"{clip.dataset}/{clip.subject}/{clip.sample_id}/onset{clip.onset}-apex{clip.apex}-offset{clip.offset}/{clip.label}"}
        row.update({f"temporal:{k}": v for k, v in temporal_scores(clip.frames).items()})
        row.update({f"luminance_step_into_frame_{t:02d}": float(luma[t] - luma[t - 1]) for t in range(1, len(luma))})
        rows.append(row)
    table = pd.DataFrame(rows)
    rep = HtmlReport("Wide report", subtitle="real corpus clips")
    rep.section("Per-clip metrics", "Every column is a metric of the real clip named in the first column.")
    rep.table(table, caption="temporal scores and luminance steps of the real corpus clips")
    rep.code("mexkit eval --real " + " ".join(f"datasets/corpus/clips/{c.sample_id}" for c in short_clips) + " --report runs/eval.html")
    return rep.save(tmp_path_factory.mktemp("wide") / "wide.html"), table


@pytest.mark.parametrize("width", [1280, 1400])
def test_wide_table_scrolls_inside_its_box_at_laptop_width(wide_report, width, chromium_layout):
    """The page's scroll width never exceeds the window (chromium_layout: skips where Chromium is absent)."""
    path, table = wide_report
    assert table.shape[1] > 15
    m = chromium_layout(path, width)
    assert m["innerWidth"] == width
    assert m["tables"][0]["width"] > width  # the table really is wider than the window…
    assert m["scrollWidth"] <= m["innerWidth"], m  # …yet the page is not
    assert m["boxes"][0]["clientWidth"] < width


def test_wide_table_stays_inside_the_page_in_a_screenshot(wide_report, chromium_screenshot):
    """At 1280 px the table is drawn up to the page's right margin and not into it: the strip right of the body
    (1200 px wide, centred) stays blank where the table's rows are, while the table itself is drawn."""
    path, _ = wide_report
    shot = chromium_screenshot(path, 1280, 900).astype(int)
    assert shot.shape[1] == 1280
    ink = (255 - shot).sum(-1) > 40
    rows = np.flatnonzero(ink[:, 60:1200].sum(1) > 100)  # rows of the screen where the table (or text) is drawn
    assert len(rows) > 100
    margin = ink[rows][:, 1240:]  # body: 40 px margins at 1280 px
    assert margin.sum() == 0, f"{margin.sum()} drawn pixels in the right margin"


@pytest.fixture(scope="module")
def laptop_report(tmp_path_factory, short_clips, corpus) -> Path:
    """A report through every public method, on the real corpus clips and faces, where each block is wider
    than a laptop window: a sample grid of every clip in one row, a per-clip metric table of about 30 columns,
    a 1600 px matplotlib figure, the twelve corpus faces side by side as one 3072 px image (its own CSS
    class), a command line of every clip path, a heading and a call-out that are one long word, a confusion
    matrix and an included report with its own wide table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mexkit.eval.report import png_bytes
    from mexkit.eval.temporal import temporal_scores

    rows, luma = [], {}
    for clip in short_clips:
        luma[clip.sample_id] = clip.frames.astype(np.float32).mean(axis=(1, 2, 3))
        row = {"sample_id": f"{clip.dataset}/{clip.subject}/{clip.sample_id}/onset{clip.onset}-apex{clip.apex}/{clip.label}"}
        row.update({f"temporal:{k}": v for k, v in temporal_scores(clip.frames).items()})
        row.update({f"mean_luminance_of_frame_{t:02d}": float(v) for t, v in enumerate(luma[clip.sample_id])})
        row.update({f"luminance_step_into_frame_{t:02d}": float(np.diff(luma[clip.sample_id])[t - 1]) for t in range(1, len(luma[clip.sample_id]))})
        rows.append(row)
    table = pd.DataFrame(rows)
    ids = [c.sample_id for c in short_clips]

    rep = HtmlReport("Laptop-width report", subtitle="real corpus clips: " + "/".join(ids))
    rep.section("Samples", "Every real clip of the corpus in one row, after the first face as a still.")
    rep.gif_grid([[("still", corpus.faces[0].crop[::2, ::2], 30.0)] + [(c.sample_id, c.frames, c.fps) for c in short_clips]],
                 row_labels=["the whole corpus, one clip per cell"], width=160)
    rep.section("Per-clip metrics").table(table, caption="temporal scores and luminance of the real corpus clips")
    fig, ax = plt.subplots(figsize=(20, 2.5))
    for sid, v in luma.items():
        ax.plot(v, label=sid)
    ax.legend(ncol=len(luma), fontsize=7)
    rep.figure(fig, alt="luminance")
    rep.image(png_bytes(np.concatenate([f.crop for f in corpus.faces], axis=1)), alt="corpus faces", css_class="faces")
    rep.section("Evaluation details: " + "/".join(ids * 3))
    rep.note("clip folder not found: datasets/corpus/" + "/".join(ids * 2) + "/manifest.csv", kind="warning")
    rep.code("mexkit eval --real " + " ".join(f"datasets/corpus/clips/{sid}" for sid in ids * 2) + " --report runs/eval.html")
    rep.confusion_matrix(np.array([[3, 1, 0], [0, 4, 1], [1, 0, 5]]), ["negative", "positive", "surprise"], title="cm")
    inner = HtmlReport("inner").section("Included: per-clip metrics again").table(table.iloc[:, ::-1])
    rep.include(inner)
    return rep.save(tmp_path_factory.mktemp("laptop") / "laptop.html")


@pytest.mark.parametrize("width", [1280, 1400])
def test_whole_report_fits_a_laptop_window(laptop_report, width, chromium_layout, assert_fits_the_window):
    """Rendered at 1280 and 1400 px, the report on real corpus clips is no wider than the window: the table, the
    sample grid and the code block scroll sideways inside their own box (each is wider than the window, its box
    is not), the images shrink to the page (aspect ratio kept), the long heading and call-out wrap. In the
    screenshot the sample faces are drawn and nothing is drawn right of the body's content (1200 px wide,
    centred, 16 px padding)."""
    from mexkit.video_io import read_image

    m = chromium_layout(laptop_report, width)
    assert_fits_the_window(m, width)
    assert len(m["tables"]) == 2 and min(t["width"] for t in m["tables"]) > width  # the tables really are wider…
    boxes = {b["element"]: b for b in m["boxes"]}
    assert len(m["boxes"]) == 4  # grid, two tables, code
    for b in m["boxes"]:  # …and so are the grid and the command line, each inside a box narrower than the page
        assert b["clientWidth"] <= m["bodyWidth"] < width and b["scrollWidth"] > width, b
    assert "pre.code" in boxes
    big = [i for i in m["images"] if i["naturalWidth"] > width]
    assert {i["element"] for i in big} == {"img.plot", "img.faces"}
    for i in big:
        assert i["width"] <= m["bodyWidth"]
        assert i["height"] == pytest.approx(i["width"] * i["naturalHeight"] / i["naturalWidth"], abs=1.5)
    cells = [i for i in m["images"] if i["element"] == "img.cell"]
    assert len(cells) == 8 and all(i["width"] == i["height"] == 160 for i in cells)  # grid cells keep their size
    shot = read_image(m["screenshot"]).astype(int)
    assert shot.shape[:2] == (900, width)
    ink = (255 - shot).sum(-1) > 40
    right = (width + 1200) // 2 - 16  # the right edge of the body's content
    assert ink[:, right - 1168:right].sum() > 4 * 160 * 160  # the sample row's faces are on screen (it scrolls: some show)
    assert ink[:, right + 2:].sum() == 0, f"{ink[:, right + 2:].sum()} drawn pixels right of the page's content"
