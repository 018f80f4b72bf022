"""The `Clip`: frames plus the annotations every part of mexkit passes around (docs/design.md §1)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

# One action-unit token as the datasets write them: an optional "AU", a laterality prefix (L left, R right,
# B bilateral, T top, U unilateral), the number, an intensity letter A–E, a laterality suffix (L/R), a
# "(k)" mark (4DME) and a doubt mark ("?" or "(?)"). mexkit.datasets.au_targets reads the marks.
AU_TOKEN = re.compile(
    r"^(?:AU)?(?P<side>[LRBTU])?(?P<number>\d{1,3})(?P<intensity>[A-E])?(?P<side2>[LR])?(?P<k>\(k\))?(?P<doubt>\?|\(\?\))?$",
    re.IGNORECASE,
)


def split_au_cell(aus: str) -> list[list[str]]:
    """A FACS cell's tokens, grouped: groups are joined by "+", ",", ";", "&", "and" or spaces; a group's
    alternatives by "or" or "/" ("4+7" → [["4"], ["7"]]; "R12 or R15" → [["R12", "R15"]]). Empty parts dropped."""
    text = re.sub(r"\bAU\s+(?=\d)", "AU", str(aus).strip(), flags=re.IGNORECASE)
    text = re.sub(r"\s+or\s+|\s*/\s*", "/", text, flags=re.IGNORECASE)
    groups = []
    for part in re.split(r"[+,;&]|\band\b|\s+", text, flags=re.IGNORECASE):
        alternatives = [a.strip() for a in part.split("/") if a.strip()]
        if alternatives:
            groups.append(alternatives)
    return groups


def parse_aus(aus: str | None) -> list[str]:
    """Every action unit a FACS string mentions ("4+7", "AU1+AU2", "R12A+L14", "4,7") as ["AU4", "AU7"].

    Laterality and intensity are dropped; the raw string stays on the clip. Tokens that are not AUs ("/",
    "?", "none") are ignored. Lenient: alternatives ("R12 or R15") and marked codes ("4(k)", "12?") are
    listed too — the 12-AU recognition target and its rules are mexkit.datasets.au_targets.
    """
    if aus is None or (isinstance(aus, float) and np.isnan(aus)):
        return []
    out: list[str] = []
    for group in split_au_cell(str(aus)):
        for tok in group:
            m = AU_TOKEN.match(tok)
            if m:
                code = f"AU{int(m.group('number'))}"
                if code not in out:
                    out.append(code)
    return out


def as_rgb_frames(frames: np.ndarray) -> np.ndarray:
    """Return frames as uint8 (T, H, W, 3); gray (T, H, W) or (T, H, W, 1) is expanded, alpha dropped."""
    a = np.asarray(frames)
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and a.size and a.max() <= 1.0 + 1e-6:
            a = a * 255.0
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4:
        raise ValueError(f"frames must be (T, H, W[, C]); got shape {a.shape}")
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    elif a.shape[-1] == 4:
        a = a[..., :3]
    elif a.shape[-1] != 3:
        raise ValueError(f"frames need 1, 3 or 4 channels; got {a.shape[-1]}")
    return np.ascontiguousarray(a)


@dataclass
class Clip:
    """A short face video with its micro-expression annotation.

    frames: uint8 (T, H, W, 3). onset/apex/offset are frame indices into `frames`; an unknown apex is
    set to the middle of onset..offset and `apex_estimated` says so. `affine` (2×3) maps source-frame
    coordinates to these (aligned) frames; `landmarks` is (T, K, 2) or (K, 2) in frame coordinates.
    """

    frames: np.ndarray
    fps: float
    subject: str = ""
    sample_id: str = ""
    onset: int = 0
    apex: int | None = None
    offset: int | None = None
    label: str | None = None
    aus: str = ""
    dataset: str = ""
    source: str = ""
    apex_estimated: bool = False
    affine: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.frames = as_rgb_frames(self.frames)
        n = len(self.frames)
        if n == 0:
            raise ValueError(f"clip {self.sample_id or self.source!r} has no frames")
        if not self.fps or self.fps <= 0:
            raise ValueError(f"clip {self.sample_id or self.source!r}: fps must be > 0, got {self.fps}")
        self.onset = int(self.onset)
        self.offset = n - 1 if self.offset is None else int(self.offset)
        if self.apex is None:
            self.apex = (self.onset + self.offset) // 2
            self.apex_estimated = True
        self.apex = int(self.apex)
        if not 0 <= self.onset <= self.apex <= self.offset < n:
            raise ValueError(
                f"clip {self.sample_id or self.source!r}: need 0 <= onset <= apex <= offset < {n} frames, "
                f"got onset={self.onset}, apex={self.apex}, offset={self.offset}"
            )

    @property
    def au_list(self) -> list[str]:
        """The parsed action units, e.g. ["AU4", "AU7"]."""
        return parse_aus(self.aus)

    @property
    def num_frames(self) -> int:
        return len(self.frames)

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the frames."""
        return self.frames.shape[1], self.frames.shape[2]

    @property
    def duration_ms(self) -> float:
        return 1000.0 * self.num_frames / self.fps

    def with_frames(self, frames: np.ndarray, **changes: Any) -> "Clip":
        """A copy with new frames (same annotations unless overridden)."""
        changes.setdefault("meta", dict(self.meta))
        return replace(self, frames=frames, **changes)

    def record(self) -> dict[str, Any]:
        """The manifest row of this clip (no frames)."""
        return {
            "sample_id": self.sample_id,
            "subject": self.subject,
            "dataset": self.dataset,
            "label": self.label,
            "aus": self.aus,
            "onset": self.onset,
            "apex": self.apex,
            "offset": self.offset,
            "apex_estimated": self.apex_estimated,
            "fps": self.fps,
            "num_frames": self.num_frames,
            "source": self.source,
        }
