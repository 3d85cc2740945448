#!/usr/bin/env bash
# `npm run demo [-- --once]`: the first Quick start command on a fresh machine. Brings up
# the services, installs dependencies when they are missing or stale, then plays the demo
# (src/demo/run.ts) on a database of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

services=$(bash scripts/services.sh)
eval "export $(echo "$services" | grep -E '^(DATABASE_URL|REDIS_URL)=' | tr '\n' ' ')"
echo "$services"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

export LOG_LEVEL=${LOG_LEVEL:-warn}
exec node --import tsx src/demo/run.ts "$@"
