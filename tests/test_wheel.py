"""The wheel is complete: every module of the source tree is in it and imports from it."""
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def source_modules() -> dict[str, Path]:
    """module name → source file, from pyproject's package-dir mapping of the folders."""
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    mods = {}
    for pkg, folder in cfg.items():
        base = ROOT / folder
        for py in base.rglob("*.py"):
            rel = py.relative_to(base).with_suffix("")
            if any(part.startswith((".", "_")) and part != "__init__" for part in rel.parts) or "__pycache__" in rel.parts:
                continue
            parts = [p for p in rel.parts if p != "__init__"]
            mods[".".join([pkg, *parts])] = py  # the mapped folders are siblings: no module is seen twice
    return mods


def test_wheel_contains_and_imports_every_module(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "-q"],
                   check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("mexkit-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    mods = source_modules()
    missing = [m for m in mods if m.replace(".", "/") + ".py" not in names and m.replace(".", "/") + "/__init__.py" not in names]
    assert not missing, f"modules missing from the wheel (add their packages to pyproject): {missing}"
    for data in ("mexkit/datasets/corpus/manifest.csv", "mexkit/datasets/corpus/media/single_face.mp4",
                 "mexkit/eval/fer_mini_xception.safetensors"):
        assert data in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = (
        "import importlib, sys\n"
        f"site = {str(site)!r}\n"
        f"mods = {sorted(mods)!r}\n"
        "for m in mods:\n"
        "    mod = importlib.import_module(m)\n"
        "    assert mod.__file__.startswith(site), (m, mod.__file__)\n"
        "from mexkit.datasets import load_corpus\n"
        "assert load_corpus().root.as_posix().startswith(site)\n"
        "print(len(mods), 'modules imported from the wheel')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "GLOG_minloglevel": "2"},
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(proc.stdout)
