#!/usr/bin/env bash
# `npm run demo`: the first Quick start command on a fresh machine. Brings up the
# services, installs dependencies when they are missing or stale, migrates, and shows
# what the database now holds.
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
echo "== migrating $DATABASE_URL"
npx tsx src/cli/migrate.ts up
echo "== the schema"
npx tsx src/cli/main.ts db:summary
