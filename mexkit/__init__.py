"""mexkit: synthetic facial micro-expression video — generate, write datasets, recognise, evaluate."""
from .clip import Clip, parse_aus
from .errors import MexkitInputError, MissingWeightsError, NoFaceError

__version__ = "0.1.0"
__all__ = ["Clip", "MexkitInputError", "MissingWeightsError", "NoFaceError", "parse_aus", "__version__"]
