#!/usr/bin/env bash
# Time `make run`'s steps on a fresh clone: install (venv + dependencies), translations, migrate, demo seed, and
# `atende serve` until /healthz answers. Prints wall and CPU (user) seconds per step; on a shared machine the CPU
# figure is the steadier one. The steps run as the Makefile runs them (bytecode caches shared, checks in serve).
# Usage: bash bench/setup.sh    (the whole clone-to-serving time is checked by .ci/setup-contract)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$work-uv"' EXIT
git clone --quiet "$src" "$work"
cd "$work"
unset DJANGO_SETTINGS_MODULE DATABASE_URL ATENDE_VAR_DIR SECRET_KEY DEBUG
export DJANGO_SETTINGS_MODULE=atende.config.settings.dev PYTHONDONTWRITEBYTECODE=
TIMEFORMAT='%R s wall, %U s user'
echo "install:";  time bash scripts/venv-install.sh .venv "${PYTHON:-python3}"
echo "i18n:";     time .venv/bin/python -m atende.core.i18n >/dev/null
echo "migrate:";  time .venv/bin/atende migrate --noinput -v 0 --skip-checks
echo "seed:";     time .venv/bin/atende seed >/dev/null
port="${SETUP_PORT:-18799}"
setsid .venv/bin/atende serve --port "$port" >/dev/null 2>&1 &
serve=$!
started=$(date +%s.%N)
until curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"database": *"ok"'; do sleep 0.2; done
cpu=$(awk -v g="$serve" -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); if ($3 == g) t += $12 + $13}
  END {printf "%.1f", t / hz}' /proc/[0-9]*/stat 2>/dev/null || true)
echo "serve: $(echo "$(date +%s.%N) - $started" | bc | xargs printf '%.1f') s wall to /healthz, $cpu s CPU"
kill -TERM -- "-$serve"; wait "$serve" || true
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) on $(nproc) cores"
