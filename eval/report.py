"""A self-contained HTML report: sections of text, GIF grids, tables, matplotlib figures and confusion
matrices, every image inlined as base64 — one file that opens anywhere, offline.

    rep = HtmlReport("Evaluation")
    rep.section("Samples").gif_grid([[("input", frames0, 30.0), ("generated", frames1, 30.0)]])
    rep.table(df, caption="Identity").figure(fig).confusion_matrix(cm, labels)
    rep.note("2 of 3 families finished", kind="warning").code("mexkit eval --real ... --fake ...")
    rep.section("Details").include(other_report)   # its sections nest under this one
    rep.save("out.html")

The page fits the window: tables, GIF grids and code blocks wider than it scroll sideways inside their own box,
other images shrink to the page width (keeping their aspect ratio) and long words in headings and text wrap.
"""
from __future__ import annotations

import base64
import html
import io
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_write_text
from mexkit.video_io import gif_bytes

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;padding:0 16px;max-width:1200px;color:#222;background:#fff}
*,*::before,*::after{box-sizing:border-box}
h1{font-size:26px;margin-bottom:4px} h2{font-size:20px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px} h3{font-size:17px;margin-top:24px}
h4{font-size:15px;margin-top:18px} h1,h2,h3,h4,h5,h6,p,caption,figcaption{overflow-wrap:anywhere}
p.meta{color:#666;font-size:13px;margin-top:0} p.note{color:#444;font-size:14px;max-width:900px}
p.callout{font-size:14px;max-width:900px;padding:6px 10px;border-left:4px solid #6a9fd8;background:#f1f6fc}
p.callout.warning{border-left-color:#d99a1e;background:#fdf6e7} p.callout.ok{border-left-color:#4c9a52;background:#eff8f0}
pre{max-width:100%;overflow-x:auto} pre.code{font-size:12px;background:#f6f6f6;padding:8px 10px}
div.scroll{max-width:100%;overflow-x:auto;margin:8px 0 16px}
table.metrics{border-collapse:collapse;font-size:13px;margin:0} table.metrics th,table.metrics td{border:1px solid #ddd;padding:3px 8px;text-align:right}
table.metrics th{background:#f3f3f3} table.metrics td:first-child,table.metrics th:first-child{text-align:left}
table.metrics caption{text-align:left;font-size:13px;color:#444;padding:2px 0}
div.grid{display:grid;gap:6px;margin:0;align-items:start} figure{margin:0;text-align:center}
figure img{image-rendering:pixelated;display:block;margin:0 auto} figcaption{font-size:11px;color:#555;max-width:160px;margin:2px auto 0}
div.rowlabel{font-size:12px;color:#333;align-self:center;text-align:right;padding-right:6px}
img{max-width:100%} img:not(.cell){height:auto} img.plot{margin:8px 0 16px}
"""

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def png_bytes(image: np.ndarray) -> bytes:
    """uint8 (H, W, 3) → PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG")
    return buf.getvalue()


def figure_png(fig, dpi: int = 100) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _format(v) -> str:
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "–"
        a = abs(float(v))
        return f"{v:.4g}" if (a >= 1e-3 or a == 0) else f"{v:.2e}"
    return html.escape(str(v))


NOTE_KINDS = ("info", "warning", "ok")
_HEADING = re.compile(r"<(/?)h([2-5])\b")


class HtmlReport:
    """Builder of one self-contained HTML page; each add-method returns self (chainable).

    Public API: section / subsection (headings), text (a paragraph), note (a highlighted call-out:
    info, warning or ok), code (a preformatted block), table, figure, image, gif_grid,
    confusion_matrix, include (another report's body, its headings one level down); `sections`
    lists the headings so far; render / save write the page. Wide tables and grids scroll inside
    their own box, so the page itself never gets wider than the window."""

    def __init__(self, title: str, subtitle: str = ""):
        self.title = title
        self.subtitle = subtitle
        self._parts: list[str] = []
        self._headings: list[tuple[int, str]] = []

    @property
    def sections(self) -> list[str]:
        """The titles of the sections and subsections added so far, in order."""
        return [t for _, t in self._headings]

    def _heading(self, level: int, title: str, note: str) -> "HtmlReport":
        self._parts.append(f"<h{level}>{html.escape(title)}</h{level}>")
        self._headings.append((level, title))
        return self.text(note) if note else self

    def section(self, title: str, note: str = "") -> "HtmlReport":
        """A top-level section heading, optionally followed by a paragraph of text."""
        return self._heading(2, title, note)

    def subsection(self, title: str, note: str = "") -> "HtmlReport":
        """A heading one level below `section`."""
        return self._heading(3, title, note)

    def text(self, text: str) -> "HtmlReport":
        """A paragraph of plain text (escaped)."""
        self._parts.append(f'<p class="note">{html.escape(text)}</p>')
        return self

    def note(self, text: str, kind: str = "info") -> "HtmlReport":
        """A highlighted call-out paragraph: kind "info", "warning" (e.g. an incomplete run) or "ok"."""
        if kind not in NOTE_KINDS:
            raise ValueError(f"note kind must be one of {NOTE_KINDS}, got {kind!r}")
        self._parts.append(f'<p class="callout {kind}">{html.escape(text)}</p>')
        return self

    def links(self, intro: str, targets: Sequence[tuple[str, str]]) -> "HtmlReport":
        """A paragraph: `intro` then links (text, href), e.g. relative links to a run's CSV files."""
        items = ", ".join(f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>' for text, href in targets)
        self._parts.append(f'<p class="note">{html.escape(intro)} {items}</p>')
        return self

    def code(self, text: str) -> "HtmlReport":
        """A preformatted block (commands, config snippets); scrolls sideways when its lines are long."""
        self._parts.append(f'<pre class="code">{html.escape(text)}</pre>')
        return self

    def include(self, other: "HtmlReport", demote: bool = True) -> "HtmlReport":
        """Append another report's body (not its title); with demote, its headings go one level down
        so its sections nest under the current one."""
        shift = 1 if demote else 0
        self._parts.extend(_HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + shift}", p) if shift else p
                           for p in other._parts)
        self._headings.extend((min(level + shift, 6), title) for level, title in other._headings)
        return self

    def image(self, data: bytes, mime: str = "image/png", alt: str = "", css_class: str = "plot", width: int | None = None) -> "HtmlReport":
        w = f' width="{width}"' if width else ""
        self._parts.append(f'<img class="{css_class}" alt="{html.escape(alt)}"{w} src="data:{mime};base64,{_b64(data)}">')
        return self

    def figure(self, fig, alt: str = "plot") -> "HtmlReport":
        """A matplotlib figure, inlined as PNG."""
        return self.image(figure_png(fig), alt=alt)

    def gif_grid(self, rows: Sequence[Sequence[tuple[str, np.ndarray, float]]], row_labels: Sequence[str] | None = None,
                 width: int = 128) -> "HtmlReport":
        """Rows of (caption, frames uint8 (T, H, W, 3) or one image (H, W, 3), fps) cells as looping GIFs / PNGs."""
        ncols = max((len(r) for r in rows), default=0)
        label_col = "max-content " if row_labels else ""
        cells = []
        for i, row in enumerate(rows):
            if row_labels:
                cells.append(f'<div class="rowlabel">{html.escape(row_labels[i])}</div>')
            for caption, frames, fps in row:
                frames = np.asarray(frames)
                if frames.ndim == 3:
                    data, mime = png_bytes(frames), "image/png"
                else:
                    data, mime = gif_bytes(frames, fps), "image/gif"
                cells.append(f'<figure><img class="cell" width="{width}" height="{width}" alt="{html.escape(caption)}" '
                             f'src="data:{mime};base64,{_b64(data)}"><figcaption>{html.escape(caption)}</figcaption></figure>')
            cells.extend("<div></div>" for _ in range(ncols - len(row)))
        self._parts.append(f'<div class="scroll"><div class="grid gifgrid" style="grid-template-columns:{label_col}repeat({ncols},{width + 8}px)">'
                           f'{"".join(cells)}</div></div>')
        return self

    def table(self, df: pd.DataFrame, caption: str = "", index: bool = False, max_rows: int = 200) -> "HtmlReport":
        """A DataFrame as an HTML table (numbers to 4 significant digits; at most max_rows rows). A table
        wider than the page scrolls sideways inside its own box."""
        shown = df.head(max_rows)
        cols = ([shown.index.name or ""] if index else []) + [str(c) for c in shown.columns]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = []
        for idx, row in shown.iterrows():
            vals = ([idx] if index else []) + list(row.values)
            body.append("<tr>" + "".join(f"<td>{_format(v)}</td>" for v in vals) + "</tr>")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        more = f'<p class="meta">{len(df) - max_rows} more rows in the CSV.</p>' if len(df) > max_rows else ""
        self._parts.append(f'<div class="scroll"><table class="metrics">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
                           f'</table></div>{more}')
        return self

    def confusion_matrix(self, matrix: np.ndarray | pd.DataFrame, labels: Sequence[str] | None = None, title: str = "",
                         normalize: bool = True) -> "HtmlReport":
        """A confusion matrix (rows true, columns predicted) drawn as a heat map with counts."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if isinstance(matrix, pd.DataFrame):
            labels = labels or [str(c) for c in matrix.columns]
            matrix = matrix.to_numpy()
        m = np.asarray(matrix, np.float64)
        labels = list(labels or range(len(m)))
        shown = m / np.maximum(m.sum(1, keepdims=True), 1) if normalize else m
        fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(labels), 1.0 + 0.8 * len(labels)))
        ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(m.max(), 1))
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", color="white" if shown[i, j] > 0.5 * shown.max() else "black")
        if title:
            ax.set_title(title)
        return self.figure(fig, alt=title or "confusion matrix")

    def render(self) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        sub = f"{html.escape(self.subtitle)} · " if self.subtitle else ""
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.title)}</title>'
                f"<style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"
                f'<p class="meta">{sub}generated {stamp} by mexkit</p>{"".join(self._parts)}</body></html>\n')

    def save(self, path: str | Path) -> Path:
        """Write the page atomically; returns the path."""
        path = Path(path)
        atomic_write_text(path, self.render())
        return path
