"""Fixtures for the evaluation tests: the embedded corpus of real faces, shared scorers, synthetic sets."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """Small tensors gain nothing from intra-op threads, and on a shared 2-core machine spinning workers
    slow every op down; the evaluation tests run torch on one thread (restored afterwards)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def corpus():
    from mexkit.datasets import load_corpus

    return load_corpus()


@pytest.fixture(scope="session")
def short_clips(corpus):
    """Real corpus clips cut to ≤ 12 frames around onset → apex (keeps dlib and flow tests quick)."""
    out = []
    for clip in corpus.clips:
        n = min(clip.num_frames, 12)
        apex = min(clip.apex, n - 1)
        out.append(clip.with_frames(clip.frames[:n], apex=apex, offset=n - 1,
                                    landmarks=None if clip.landmarks is None else clip.landmarks[:n]))
    return out


class _MemoEmbedder:
    """The real dlib embedder, remembering each crop's descriptor: the identity tests embed the same
    real frames in several arrangements, and dlib (no BLAS in dlib-bin) needs ~0.1 s per crop."""

    def __init__(self):
        from mexkit.face.identity import DlibIdentity

        self.inner = DlibIdentity()
        self.name = self.inner.name
        self.memo: dict[bytes, np.ndarray] = {}

    def embed_aligned(self, crops):
        import hashlib

        crops = np.asarray(crops)
        keys = [hashlib.sha1(np.ascontiguousarray(c).tobytes()).digest() + bytes(str(c.shape), "ascii") for c in crops]
        todo = [i for i, k in enumerate(keys) if k not in self.memo]
        if todo:
            for i, e in zip(todo, self.inner.embed_aligned(crops[todo])):
                self.memo[keys[i]] = e
        return np.stack([self.memo[k] for k in keys])


@pytest.fixture(scope="session")
def dlib_identity():
    from mexkit.eval.identity import IdentityScorer

    return IdentityScorer(_MemoEmbedder())


@pytest.fixture(scope="session")
def random_lpips():
    from mexkit.eval.perceptual import LPIPS

    return LPIPS("alex", random_backbone=True, seed=0)


def write_synthetic_set(out: Path, clips, transform=None, reference: bool = True, fmt: str = "png") -> Path:
    """Write clips as the synth writer lays them out (manifest.csv + clips/<id>/ PNG folders or <id>.mp4)."""
    from mexkit.video_io import write_frames, write_video

    rows = []
    for i, clip in enumerate(clips):
        sid = f"syn_{clip.sample_id}"
        frames = transform(clip.frames, i) if transform else clip.frames
        if fmt == "png":
            write_frames(out / "clips" / sid, frames)
            rel = f"clips/{sid}"
        else:
            write_video(out / "clips" / f"{sid}.mp4", frames, clip.fps)
            rel = f"clips/{sid}.mp4"
        row = clip.record()
        row.update(sample_id=sid, dataset="synthetic", path=rel, generator="degraded-real", source_subject=clip.subject,
                   train_subjects="", source_face="")
        if reference:
            row["reference_id"] = clip.sample_id
        rows.append(row)
    pd.DataFrame(rows).to_csv(out / "manifest.csv", index=False)
    return out


@pytest.fixture(scope="session")
def synthetic_writer():
    return write_synthetic_set


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium_screenshot(tmp_path_factory):
    """Render an HTML file in headless Chromium → RGB screenshot (H, W, 3). Skips if Chromium is absent."""
    import subprocess

    if not CHROMIUM.exists():
        pytest.skip("headless Chromium not installed at /usr/bin/chromium (setup/CI: apt-get install -y chromium)")
    from mexkit.video_io import read_image

    root = tmp_path_factory.mktemp("chromium")

    def shoot(html: Path, width: int = 1200, height: int = 1600):
        png = root / f"{html.stem}_{width}x{height}.png"
        cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
               f"--user-data-dir={root / 'profile'}", f"--screenshot={png}", f"--window-size={width},{height}",
               html.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        assert png.exists(), f"Chromium wrote no screenshot (rc {proc.returncode}): {proc.stderr[-2000:]}"
        return read_image(png)

    return shoot


# Measures the page once it has loaded and writes the numbers into the DOM, where --dump-dom prints them.
# "spills": elements drawn past the window's right edge, or whose content overflows their own box, with no
# ancestor that scrolls sideways (html and body do not count, nor does overflow: hidden, which would only
# cut the content off): each one widens the page or is cut off.
_LAYOUT_PROBE = """<script>addEventListener("load", () => {
  const scrolls = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
  const name = e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ").join(".") : "");
  const spills = [...document.body.querySelectorAll("*")].filter(e => !scrolls(e) && (e.getBoundingClientRect().right > innerWidth + 0.5
      || (getComputedStyle(e).overflowX === "visible" && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)))
    .map(e => ({element: name(e), right: e.getBoundingClientRect().right, scrollWidth: e.scrollWidth}));
  const box = e => ({element: name(e), width: e.getBoundingClientRect().width, clientWidth: e.clientWidth, scrollWidth: e.scrollWidth});
  const img = e => ({element: name(e), width: e.getBoundingClientRect().width, height: e.getBoundingClientRect().height,
                     naturalWidth: e.naturalWidth, naturalHeight: e.naturalHeight});
  const out = document.createElement("pre"); out.id = "layout-probe";
  out.textContent = JSON.stringify({scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth,
    bodyWidth: document.body.clientWidth, spills: spills, tables: [...document.querySelectorAll("table")].map(box),
    boxes: [...document.querySelectorAll("div.scroll, pre")].map(box), images: [...document.images].map(img)});
  document.body.appendChild(out);
});</script>"""


@pytest.fixture(scope="session")
def chromium_layout(tmp_path_factory, chromium_screenshot):
    """Open an HTML file in headless Chromium at a given window width: a screenshot of the page as it is
    (file under a pytest temporary folder) and the page's layout measured by a script run on a copy of it —
    scrollWidth, innerWidth, the body's width, spills (see _LAYOUT_PROBE), widths of tables, scroll boxes and
    pre blocks, sizes of images. Skips if Chromium is absent (through chromium_screenshot)."""
    import html as html_lib
    import json
    import re
    import subprocess

    root = tmp_path_factory.mktemp("chromium_layout")

    def measure(html: Path, width: int, height: int = 900) -> dict:
        shot = root / f"{html.stem}_{width}x{height}.png"
        probe = root / f"{html.stem}_probe.html"
        probe.write_text(html.read_text().replace("</body>", _LAYOUT_PROBE + "</body>"))
        base = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
                f"--user-data-dir={root / 'profile'}", f"--window-size={width},{height}"]
        proc = subprocess.run(base + [f"--screenshot={shot}", html.resolve().as_uri()], capture_output=True, text=True, timeout=180)
        assert shot.exists(), f"Chromium wrote no screenshot (rc {proc.returncode}): {proc.stderr[-2000:]}"
        proc = subprocess.run(base + ["--dump-dom", probe.resolve().as_uri()], capture_output=True, text=True, timeout=180)
        found = re.search(r'<pre id="layout-probe">(.*?)</pre>', proc.stdout, re.S)
        assert found, f"Chromium printed no measurement (rc {proc.returncode}): {proc.stderr[-2000:]}"
        return {**json.loads(html_lib.unescape(found.group(1))), "screenshot": shot}

    return measure


@pytest.fixture(scope="session")
def assert_fits_the_window():
    """check(m, width) on a chromium_layout measurement: nothing on the page is wider than the window — the page
    does not scroll sideways, no element is drawn past the right edge (or overflows its own box) outside a box
    that scrolls — and the screenshot was written."""

    def check(m: dict, width: int):
        assert m["innerWidth"] == width
        assert m["scrollWidth"] <= m["innerWidth"], (m["scrollWidth"], m["innerWidth"], m["spills"][:10])
        assert m["spills"] == [], m["spills"][:10]
        assert m["screenshot"].exists() and m["screenshot"].stat().st_size > 0

    return check
