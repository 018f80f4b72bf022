"""A self-contained HTML report: sections of text, GIF grids, tables, matplotlib figures and confusion
matrices, every image inlined as base64 — one file that opens anywhere, offline.

    rep = HtmlReport("Evaluation")
    rep.section("Samples").gif_grid([[("input", frames0, 30.0), ("generated", frames1, 30.0)]])
    rep.table(df, caption="Identity").figure(fig).confusion_matrix(cm, labels)
    rep.save("out.html")
"""
from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_write_text
from mexkit.video_io import gif_bytes

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222;background:#fff}
h1{font-size:26px;margin-bottom:4px} h2{font-size:20px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
p.meta{color:#666;font-size:13px;margin-top:0} p.note{color:#444;font-size:14px;max-width:900px}
table.metrics{border-collapse:collapse;font-size:13px;margin:8px 0 16px} table.metrics th,table.metrics td{border:1px solid #ddd;padding:3px 8px;text-align:right}
table.metrics th{background:#f3f3f3} table.metrics td:first-child,table.metrics th:first-child{text-align:left}
div.grid{display:grid;gap:6px;margin:8px 0 16px;align-items:start} figure{margin:0;text-align:center}
figure img{image-rendering:pixelated;display:block;margin:0 auto} figcaption{font-size:11px;color:#555;max-width:160px;overflow-wrap:anywhere;margin:2px auto 0}
div.rowlabel{font-size:12px;color:#333;align-self:center;text-align:right;padding-right:6px}
img.plot{max-width:100%;margin:8px 0 16px}
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


class HtmlReport:
    """Builder of one self-contained HTML page; each add-method returns self (chainable)."""

    def __init__(self, title: str, subtitle: str = ""):
        self.title = title
        self.subtitle = subtitle
        self.parts: list[str] = []

    def section(self, title: str, note: str = "") -> "HtmlReport":
        self.parts.append(f"<h2>{html.escape(title)}</h2>")
        return self.text(note) if note else self

    def text(self, text: str) -> "HtmlReport":
        self.parts.append(f'<p class="note">{html.escape(text)}</p>')
        return self

    def image(self, data: bytes, mime: str = "image/png", alt: str = "", css_class: str = "plot", width: int | None = None) -> "HtmlReport":
        w = f' width="{width}"' if width else ""
        self.parts.append(f'<img class="{css_class}" alt="{html.escape(alt)}"{w} src="data:{mime};base64,{_b64(data)}">')
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
        self.parts.append(f'<div class="grid gifgrid" style="grid-template-columns:{label_col}repeat({ncols},{width + 8}px)">{"".join(cells)}</div>')
        return self

    def table(self, df: pd.DataFrame, caption: str = "", index: bool = False, max_rows: int = 200) -> "HtmlReport":
        """A DataFrame as an HTML table (numbers to 4 significant digits; at most max_rows rows)."""
        shown = df.head(max_rows)
        cols = ([shown.index.name or ""] if index else []) + [str(c) for c in shown.columns]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = []
        for idx, row in shown.iterrows():
            vals = ([idx] if index else []) + list(row.values)
            body.append("<tr>" + "".join(f"<td>{_format(v)}</td>" for v in vals) + "</tr>")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        more = f'<p class="meta">{len(df) - max_rows} more rows in the CSV.</p>' if len(df) > max_rows else ""
        self.parts.append(f'<table class="metrics">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{more}')
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
                f'<p class="meta">{sub}generated {stamp} by mexkit</p>{"".join(self.parts)}</body></html>\n')

    def save(self, path: str | Path) -> Path:
        """Write the page atomically; returns the path."""
        path = Path(path)
        atomic_write_text(path, self.render())
        return path
