"""A stray profiling-timer signal must not kill a run.

Observed here: once MediaPipe has run in a process, a SIGPROF arrives later ("Profiling timer
expired", exit 155) — after a Lightning fit, or at the end of a `generate --devices` predict run.
mexkit never uses the profiling timer, so SIGPROF is ignored (only when no handler is installed).
It has to be ignored *before* a Lightning Trainer starts: the Trainer saves every signal's handler
when it starts and puts them back when it ends, which would undo an ignore set in between — so
`import mexkit` ignores it (main thread), as `mexkit`'s main does: a script or test that drives
LightningCLI itself, with MediaPipe running inside the fit (a datamodule aligning faces), is covered too.
libmediapipe.so is the one installed library that calls setitimer.
"""
from __future__ import annotations

import signal
import threading


def ignore_profiling_timer() -> None:
    """Ignore SIGPROF unless someone installed a handler (main thread only; elsewhere a no-op)."""
    if not hasattr(signal, "SIGPROF") or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGPROF) == signal.SIG_DFL:
        signal.signal(signal.SIGPROF, signal.SIG_IGN)
