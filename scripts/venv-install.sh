#!/usr/bin/env bash
# Create the virtualenv (when missing) and install Atende into it, pinned by requirements.lock.
# Usage: scripts/venv-install.sh VENV PYTHON [EXTRA]   (EXTRA: "test" for the test tools)
# uv does it in seconds: the one on PATH, else one installed from PyPI into the venv with pip.
# When uv is unavailable or fails, plain pip does the same install, only slower.
set -euo pipefail
venv="$1"; python="$2"; extra="${3:-}"
target="."; [ -n "$extra" ] && target=".[$extra]"

uv=""
if command -v uv >/dev/null 2>&1; then uv="$(command -v uv)"; elif [ -x "$venv/bin/uv" ]; then uv="$venv/bin/uv"; fi

if [ ! -x "$venv/bin/python" ]; then
  if [ -n "$uv" ] && "$uv" venv --quiet --seed --python "$python" "$venv" 2>/dev/null; then :
  else rm -rf "$venv"; "$python" -m venv "$venv"; fi
fi
if [ -z "$uv" ] && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check uv 2>/dev/null; then
  uv="$venv/bin/uv"
fi
if [ -n "$uv" ] && "$uv" pip install --quiet --python "$venv/bin/python" -c requirements.lock -e "$target"; then
  exit 0
fi
echo "uv unavailable or failed; installing with pip" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c requirements.lock -e "$target"
