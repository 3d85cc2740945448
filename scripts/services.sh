#!/usr/bin/env bash
# Makes PostgreSQL (15+) with PostGIS 3 and Redis (7+) reachable, then prints the URLs it
# settled on as `DATABASE_URL=...` and `REDIS_URL=...` lines (eval-able).
#
# Order, for each service: the URL from the environment when it answers; else the local
# default port; else containers where a Docker engine answers; else, on Debian as root,
# apt-get install and start. Idempotent: when everything is up it only probes (well
# under a second). All chatter goes to stderr so stdout stays machine-readable.
set -euo pipefail

DEFAULT_PG_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DB_NAME="slotwatch"
DEFAULT_REDIS_URL="redis://127.0.0.1:6379"
PG_IMAGE="postgis/postgis:16-3.4"
REDIS_IMAGE="redis:7-alpine"

say() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

# url_part URL FIELD -> host|port|db|user|scheme (node is always present: it runs the project)
url_part() {
  node -e '
    const u = new URL(process.argv[1]); const f = process.argv[2];
    const v = { host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port,
      db: decodeURIComponent(u.pathname.slice(1)), user: decodeURIComponent(u.username),
      scheme: u.protocol.replace(":", "") }[f];
    process.stdout.write(v ?? "");' "$1" "$2"
}
with_db() { node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; process.stdout.write(u.toString())' "$1" "$2"; }

have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && have apt-get; }
apt_updated=0
apt_install() {
  is_root && is_debian || return 1
  if [ "$apt_updated" = 0 ]; then say "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1; apt_updated=1; fi
  say "apt-get install -y $*"
  local log="${TMPDIR:-/tmp}/slotwatch-apt.log"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >"$log" 2>&1 || { tail -n 20 "$log" >&2; return 1; }
}
docker_up() { have docker && timeout 5 docker info >/dev/null 2>&1; }

# ---- PostgreSQL -----------------------------------------------------------------------
pg_answers() { have psql && PGCONNECT_TIMEOUT=3 psql "$1" -XAtqc 'select 1' >/dev/null 2>&1; }
pg_sql() { PGCONNECT_TIMEOUT=5 psql "$1" -XAtqc "$2"; }
pg_is_local() { case "$(url_part "$1" host)" in 127.0.0.1|localhost|::1) return 0 ;; *) return 1 ;; esac; }

ensure_postgis() { # $1: an admin URL on the server
  local url=$1 ok major
  ok=$(pg_sql "$url" "select count(*) from pg_available_extensions where name in ('postgis','btree_gist')") || return 1
  [ "$ok" = 2 ] && return 0
  major=$(pg_sql "$url" "select current_setting('server_version_num')::int / 10000")
  if pg_is_local "$url" && apt_install "postgresql-${major}-postgis-3"; then
    ok=$(pg_sql "$url" "select count(*) from pg_available_extensions where name in ('postgis','btree_gist')")
    [ "$ok" = 2 ] && return 0
  fi
  die "PostgreSQL at $(url_part "$url" host):$(url_part "$url" port) has no PostGIS 3. Install it on that server (Debian: apt-get install postgresql-${major}-postgis-3), or unset DATABASE_URL to use a local one."
}

ensure_database() { # $1: URL whose database must exist; creates it through the server's postgres db
  local url=$1 name admin
  name=$(url_part "$url" db); [ -n "$name" ] || return 0
  pg_answers "$url" && return 0
  admin=$(with_db "$url" postgres)
  say "creating database $name"
  pg_sql "$admin" "create database \"$name\"" >/dev/null
}

start_local_postgres() {
  if ! have pg_ctlcluster && ! apt_install postgresql postgresql-contrib; then return 1; fi
  local ver; ver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n1)
  [ -n "$ver" ] || return 1
  say "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 2>&1 || true
  for _ in $(seq 1 30); do pg_answers "$DEFAULT_PG_ADMIN_URL" && return 0; sleep 0.5; done
  return 1
}

settle_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    local admin; admin=$(with_db "$DATABASE_URL" postgres)
    # a managed database may refuse the postgres database; probe through whichever answers
    if pg_answers "$DATABASE_URL"; then
      ensure_postgis "$DATABASE_URL"; printf '%s' "$DATABASE_URL"; return
    elif pg_answers "$admin"; then
      ensure_postgis "$admin"; ensure_database "$DATABASE_URL"; printf '%s' "$DATABASE_URL"; return
    fi
    say "DATABASE_URL is set but does not answer; trying the local default"
  fi
  local url; url=$(with_db "$DEFAULT_PG_ADMIN_URL" "$DEFAULT_DB_NAME")
  if pg_answers "$DEFAULT_PG_ADMIN_URL"; then
    ensure_postgis "$DEFAULT_PG_ADMIN_URL"; ensure_database "$url"; printf '%s' "$url"; return
  fi
  if docker_up; then
    say "starting container slotwatch-postgres ($PG_IMAGE) on 127.0.0.1:5432"
    docker start slotwatch-postgres >/dev/null 2>&1 ||
      docker run -d --name slotwatch-postgres -p 127.0.0.1:5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust "$PG_IMAGE" >&2
    for _ in $(seq 1 60); do pg_answers "$DEFAULT_PG_ADMIN_URL" && break; sleep 1; done
    pg_answers "$DEFAULT_PG_ADMIN_URL" || die "the PostgreSQL container did not answer within 60s"
    ensure_database "$url"; printf '%s' "$url"; return
  fi
  if start_local_postgres; then
    ensure_postgis "$DEFAULT_PG_ADMIN_URL"; ensure_database "$url"; printf '%s' "$url"; return
  fi
  die "no PostgreSQL found. Install PostgreSQL 15+ with PostGIS 3 (Debian: apt-get install postgresql postgresql-15-postgis-3), or Docker, or set DATABASE_URL to a server that has them."
}

# ---- Redis -----------------------------------------------------------------------------
redis_answers() { # speaks RESP over bash's /dev/tcp so no client is needed
  local host port reply
  host=$(url_part "$1" host); port=$(url_part "$1" port); port=${port:-6379}
  [ "$(url_part "$1" scheme)" = rediss ] && { have redis-cli && timeout 3 redis-cli -u "$1" --tls ping 2>/dev/null | grep -q PONG; return; }
  reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 && head -c 5 <&3' "$host" "$port" 2>/dev/null) || return 1
  # a password-protected server answers -NOAUTH: it is there; the URL's credentials are the app's business
  case "$reply" in "+PONG"*|"-NOAU"*) return 0 ;; *) return 1 ;; esac
}

settle_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    if redis_answers "$REDIS_URL"; then printf '%s' "$REDIS_URL"; return; fi
    say "REDIS_URL is set but does not answer; trying the local default"
  fi
  redis_answers "$DEFAULT_REDIS_URL" && { printf '%s' "$DEFAULT_REDIS_URL"; return; }
  if docker_up; then
    say "starting container slotwatch-redis ($REDIS_IMAGE) on 127.0.0.1:6379"
    docker start slotwatch-redis >/dev/null 2>&1 ||
      docker run -d --name slotwatch-redis -p 127.0.0.1:6379:6379 "$REDIS_IMAGE" >&2
  elif have redis-server || apt_install redis-server; then
    say "starting redis-server"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
  else
    die "no Redis found. Install Redis 7+ (Debian: apt-get install redis-server), or Docker, or set REDIS_URL."
  fi
  for _ in $(seq 1 30); do redis_answers "$DEFAULT_REDIS_URL" && { printf '%s' "$DEFAULT_REDIS_URL"; return; }; sleep 0.5; done
  die "Redis did not answer on 127.0.0.1:6379 after starting it"
}

if ! have psql && ! docker_up; then apt_install postgresql-client >/dev/null 2>&1 || true; fi
db_url=$(settle_postgres)
redis_url=$(settle_redis)

# ---- PgBouncer -----------------------------------------------------------------------
# Not a service the app needs: the PgBouncer tests start one of their own in front of the
# database, and skip (saying why) where it cannot be installed.
if ! have pgbouncer && [ ! -x /usr/sbin/pgbouncer ]; then
  apt_install pgbouncer || say "pgbouncer not installed (Debian: apt-get install pgbouncer): the PgBouncer tests will skip"
fi
echo "DATABASE_URL=$db_url"
echo "REDIS_URL=$redis_url"
