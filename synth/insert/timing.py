"""When to insert: the windows of `mexkit insert`, chosen by a documented rule (docs/design.md §4).

A window is the frames from an onset frame to the last frame within the event's duration
(`window_frames`, by timestamps: a variable-frame-rate video keeps its own times). With --count, a
window is eligible when, over the window widened by GUARD_S on each side:
  1. the tracker found the face in every frame;
  2. the face is large enough for the generator (eye centres ≥ MIN_IOD_PX apart) in every frame;
  3. (unless expressions are allowed) the person shows no expression of their own: expression activity
     below CALM_ACTIVITY (the spotter's own onset level) in every frame;
  4. it lies GUARD_S inside the video's ends.
Eligible onsets are visited in a seeded random order and taken greedily when SEPARATION_S from every
window already taken, so events never overlap and the spotter sees each apart. The list is longer than
the count (spares): the caller keeps the first `count` whose faces it can align in every frame.
With --at, the given times are the onsets (checked: inside the video, windows not overlapping); they
skip rule 3 (the user chose them) and fail, without replacement, where rule 1 or 2 fails.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mexkit.errors import MexkitInputError
from mexkit.face.expression_activity import CALM_ACTIVITY
from mexkit.neutral_face import MIN_IOD_PX

from .scan import VideoScan

GUARD_S = 0.2       # calm, tracked margin around each window
SEPARATION_S = 1.0  # least time between one event's offset and the next one's onset
SPARES = 2          # candidates per asked event (the rest replace windows whose faces cannot be aligned)


@dataclass(frozen=True)
class Window:
    """An insertion window: frames onset … offset (inclusive positions) and the time of its onset frame."""

    onset: int
    offset: int
    onset_s: float

    def frames(self) -> range:
        return range(self.onset, self.offset + 1)


def window_frames(scan: VideoScan, onset: int, num_frames: int, fps: float) -> Window:
    """The window of a `num_frames`-frame event (generated at `fps`) starting at frame `onset`: every frame
    whose time is within (num_frames − 1 + ½) / fps of the onset frame's."""
    t0 = float(scan.times[onset])
    last = int(np.searchsorted(scan.times, t0 + (num_frames - 0.5) / fps, side="right")) - 1
    return Window(onset, max(onset, min(last, scan.num_frames - 1)), t0)


def _span(scan: VideoScan, w: Window) -> slice:
    lo = int(np.searchsorted(scan.times, scan.times[w.onset] - GUARD_S, side="left"))
    hi = int(np.searchsorted(scan.times, scan.times[w.offset] + GUARD_S, side="right"))
    return slice(lo, hi)


def why_not(scan: VideoScan, w: Window, calm: bool = True, guard: bool = True) -> str | None:
    """The rule a window breaks, as text, or None when it is eligible. guard=False (times the user gave):
    rules 1 and 2 over the window's own frames only."""
    s = _span(scan, w) if guard else slice(w.onset, w.offset + 1)
    if not scan.tracked[w.onset:w.offset + 1].all():
        k = w.onset + int(np.argmin(scan.tracked[w.onset:w.offset + 1]))
        return f"no face at frame {k}"
    if not scan.tracked[s].all():
        return f"the face is lost within {GUARD_S} s of the window"
    small = np.nanmin(scan.iod[s])
    if small < MIN_IOD_PX:
        return f"face too small (eye centres {small:.0f} px apart; the generator needs at least {MIN_IOD_PX} px)"
    if calm and np.nanmax(scan.activity[s]) >= CALM_ACTIVITY:
        return f"the person's own expression (activity {np.nanmax(scan.activity[s]):.2f} ≥ {CALM_ACTIVITY})"
    if guard and (scan.times[w.onset] < scan.times[0] + GUARD_S or scan.times[w.offset] > scan.times[-1] - GUARD_S):
        return "too close to the start or end of the video"
    return None


def choose_windows(scan: VideoScan, num_frames: int, fps: float, count: int, seed: int, calm: bool = True) -> list[Window]:
    """Up to count × SPARES eligible, well-separated windows in seeded priority order (see the module docstring)."""
    if scan.num_frames == 0:
        return []
    eligible = [i for i in range(scan.num_frames) if why_not(scan, window_frames(scan, i, num_frames, fps), calm) is None]
    order = np.random.default_rng(seed).permutation(len(eligible))
    taken: list[Window] = []
    for j in order:
        w = window_frames(scan, eligible[j], num_frames, fps)
        start, end = scan.times[w.onset], scan.times[w.offset]
        if all(start > scan.times[o.offset] + SEPARATION_S or end < scan.times[o.onset] - SEPARATION_S for o in taken):
            taken.append(w)
            if len(taken) >= count * SPARES:
                break
    return taken


def windows_at(scan: VideoScan, times_s: list[float], num_frames: int, fps: float, source=None) -> list[Window]:
    """The windows of the given onset times (seconds), in order; a time past the end or overlapping windows is
    a MexkitInputError naming the video."""
    out = []
    end = float(scan.times[-1]) if scan.num_frames else 0.0
    for t in sorted(times_s):
        if t < 0 or t > end:
            raise MexkitInputError(source, f"--at time {t:g} s is outside the video (0 – {end:.2f} s)", "give times within the video", stage="insert")
        out.append(window_frames(scan, scan.frame_at(t), num_frames, fps))
    for a, b in zip(out, out[1:]):
        if b.onset <= a.offset:
            raise MexkitInputError(source, f"--at times {a.onset_s:.3f} s and {b.onset_s:.3f} s give overlapping windows "
                                   f"(frames {a.onset}–{a.offset} and {b.onset}–{b.offset})", "space the times at least one event "
                                   "duration apart", stage="insert")
    return out
