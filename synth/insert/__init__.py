"""Micro-expressions inserted into real videos, with ground truth (`mexkit insert`; docs/design.md §4).

    scan.py          pass 1: the face tracker over the whole video (face found, size, expression activity)
    timing.py        when: the window rule (tracked, large enough, calm, separated; or --at times)
    compose.py       how: the generated flow carried into each frame's own face coordinates
    insert_video.py  the three streamed passes, one video or many (insert_video / insert_videos)
    records.py       the output folder: videos, truth.csv, events.csv, videos.csv, rejects.csv, run.json
    corpus_set.py    the corpus and webcam videos with their subjects (the synthetic long-video set)
"""
from .compose import FrameFace, compose_frame, motion_at
from .corpus_set import corpus_videos
from .insert_video import InsertRequest, insert_video, insert_videos
from .records import EVENT_COLUMNS, VIDEO_COLUMNS
from .scan import VideoScan, scan_video
from .timing import CALM_ACTIVITY, GUARD_S, SEPARATION_S, Window, choose_windows, window_frames, windows_at

__all__ = [
    "CALM_ACTIVITY", "EVENT_COLUMNS", "FrameFace", "GUARD_S", "InsertRequest", "SEPARATION_S", "VIDEO_COLUMNS", "VideoScan",
    "Window", "choose_windows", "compose_frame", "corpus_videos", "insert_video", "insert_videos", "motion_at", "scan_video",
    "window_frames", "windows_at",
]
