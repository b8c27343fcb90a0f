#!/usr/bin/env bash
# Time `make run`'s steps on a fresh clone: install (venv + dependencies), translations, migrate, demo seed.
# Prints wall and CPU (user) seconds per step; on a shared machine the CPU figure is the steadier one.
# Usage: bash bench/setup.sh    (the whole clone-to-serving time is checked by .ci/setup-contract)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$work-uv"' EXIT
git clone --quiet "$src" "$work"
cd "$work"
unset DJANGO_SETTINGS_MODULE DATABASE_URL ATENDE_VAR_DIR SECRET_KEY DEBUG
export DJANGO_SETTINGS_MODULE=atende.config.settings.dev
TIMEFORMAT='%R s wall, %U s user'
echo "install:";  time bash scripts/venv-install.sh .venv "${PYTHON:-python3}"
echo "i18n:";     time .venv/bin/python -m atende.core.i18n >/dev/null
echo "migrate:";  time .venv/bin/atende migrate --noinput -v 0
echo "seed:";     time .venv/bin/atende seed >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) on $(nproc) cores"
