"""mexkit: synthetic facial micro-expression video — generate, write datasets, recognise, evaluate."""
from . import console as _console

_console.apply_environment()  # a worker process of a `mexkit` command keeps the command's console (mexkit/console.py)

from .stray_signals import ignore_profiling_timer  # noqa: E402

ignore_profiling_timer()  # MediaPipe's stray SIGPROF must not kill a library user's process either (mexkit/stray_signals.py)

from .clip import Clip, parse_aus  # noqa: E402
from .errors import MexkitInputError, MissingWeightsError, NoFaceError

__version__ = "0.1.0"
__all__ = ["Clip", "MexkitInputError", "MissingWeightsError", "NoFaceError", "parse_aus", "__version__"]
