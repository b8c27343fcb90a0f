#!/usr/bin/env bash
# Create the virtualenv (when missing) and install Atende into it, pinned by requirements.lock.
# Usage: scripts/venv-install.sh VENV PYTHON [EXTRA]   (EXTRA: "test" for the test tools)
# uv does it in seconds: the one on PATH (or in ~/.local/bin, where its installer puts it), else one fetched from
# PyPI with pip. When uv is unavailable or fails, plain venv + pip do the same install, only slower.
set -euo pipefail
venv="$1"; python="$2"; extra="${3:-}"
target="."; [ -n "$extra" ] && target=".[$extra]"
bootstrap="$venv-uv"  # a uv fetched from PyPI lives beside the venv, so the venv can be recreated with it

find_uv() {
  local candidate
  for candidate in "$(command -v uv 2>/dev/null || true)" "$HOME/.local/bin/uv" "$HOME/.cargo/bin/uv" \
                   "$bootstrap/bin/uv" "$venv/bin/uv"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

uv="$(find_uv || true)"
if [ -z "$uv" ] && "$python" -m pip install --quiet --disable-pip-version-check --target "$bootstrap" uv \
    >/dev/null 2>&1; then
  uv="$(find_uv || true)"
fi

if [ ! -x "$venv/bin/python" ]; then
  if [ -n "$uv" ] && "$uv" venv --quiet --seed --python "$python" "$venv"; then :
  else rm -rf "$venv"; "$python" -m venv "$venv"; fi
fi
if [ -n "$uv" ] && "$uv" pip install --quiet --python "$venv/bin/python" -c requirements.lock -e "$target"; then
  exit 0
fi
echo "uv unavailable or failed; installing with pip" >&2
if [ ! -x "$venv/bin/pip" ]; then "$venv/bin/python" -m ensurepip --upgrade >/dev/null; fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c requirements.lock -e "$target"
