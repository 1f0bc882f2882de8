# shellcheck shell=bash
# Shared by scripts/backup.sh and scripts/restore.sh (sourced, not run).
#
# Resolves the database to act on and the PostgreSQL client tools to use:
#   DATABASE_URL set (environment)  -> that database; pg_dump/pg_restore/psql from $PG_BIN,
#                                      else from PATH, else the embedded package's binaries.
#   DATABASE_URL unset              -> the app's settings decide (they also read .env): its
#                                      DATABASE_URL, or else the embedded PostgreSQL under
#                                      DATA_DIR, started if needed (and stopped again afterwards
#                                      if this run started it).
# Relative paths (BACKUP_DIR, DATA_DIR) are relative to the repository root.

OPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export OPS_ROOT

# Python that can import `backend`: $PYTHON, else the repo's venv, else python3.
ops_python() {
  if [ -n "${PYTHON:-}" ]; then
    printf '%s\n' "$PYTHON"
  elif [ -x "$OPS_ROOT/.venv/bin/python" ]; then
    printf '%s\n' "$OPS_ROOT/.venv/bin/python"
  else
    command -v python3 || return 1
  fi
}

# Fill KEY... from $OPS_ROOT/.env when the environment does not set them (KEY=value lines; the
# value may be quoted; no expansion, no inline comments). The app reads .env itself; this lets
# `make backup` honour BACKUP_* settings kept there too.
dotenv_defaults() {
  local key line value
  [ -f "$OPS_ROOT/.env" ] || return 0
  for key in "$@"; do
    [ -z "${!key+x}" ] || continue
    line=$(grep -E "^[[:space:]]*(export[[:space:]]+)?${key}=" "$OPS_ROOT/.env" | tail -n 1) || true
    [ -n "$line" ] || continue
    value=${line#*=}
    value=${value%$'\r'}
    case "$value" in
      \"*\" | \'*\') value=${value:1:${#value}-2} ;;
    esac
    printf -v "$key" '%s' "$value"
    export "${key?}"
  done
}

# JSON string literal of $1 (quotes included); escapes \ " and control characters.
json_str() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      '"') out+='\"' ;;
      "\\") out+="\\\\" ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      [[:cntrl:]]) printf -v c '\\u%04x' "'$c"; out+=$c ;;
      *) out+=$c ;;
    esac
  done
  printf '"%s"' "$out"
}

now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# Seconds since the epoch with milliseconds (GNU date).
now_s() { date +%s.%3N; }

elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'; }

# A URL fit for a log: the password replaced by ***.
redact_url() {
  # shellcheck disable=SC2001
  printf '%s' "$1" | sed -E 's#^([a-z+]+://[^:/@?]*):[^@/?]+@#\1:***@#'
}

# libpq accepts postgresql:// and postgres://, not SQLAlchemy's postgresql+driver://.
libpq_url() {
  printf '%s' "$1" | sed -E 's#^postgres(ql)?\+[A-Za-z0-9_]+://#postgresql://#'
}

# Sets OPS_DB_URL (libpq form), OPS_DB_TARGET (embedded|database_url), OPS_PG_BIN and, when this
# run started the embedded server, OPS_STARTED_EMBEDDED=1.
#   resolve_database --create     the embedded database is created when it does not exist yet
#   resolve_database --existing   never creates a database: with DATABASE_URL unset, the embedded
#                                 one under DATA_DIR must exist already (a backup on a host
#                                 whose database lives elsewhere, e.g. in compose, must fail
#                                 rather than dump a new, empty one).
OPS_STARTED_EMBEDDED=0
resolve_database() {
  local py out existing=0
  if [ "${1:-}" = --existing ]; then existing=1; fi
  if [ -n "${DATABASE_URL:-}" ]; then
    OPS_DB_URL=$(libpq_url "$DATABASE_URL")
    OPS_DB_TARGET=database_url
  else
    py=$(ops_python) || { echo "no python found to read the app settings" >&2; return 1; }
    # Prints: target, URL, and whether the server was already running before this call.
    out=$(cd "$OPS_ROOT" && OPS_EXISTING=$existing "$py" - <<'PY'
import os
import sys

from backend.core.config import get_settings

settings = get_settings()
if settings.DATABASE_URL:
    print("database_url")
    print(settings.DATABASE_URL)
    print("external")
else:
    from backend.db.embedded import ensure_server, pgdata_dir

    if os.environ["OPS_EXISTING"] == "1" and not (pgdata_dir(settings.DATA_DIR) / "PG_VERSION").exists():
        sys.exit(
            f"no database here: DATABASE_URL is unset and {pgdata_dir(settings.DATA_DIR)} holds no "
            "embedded PostgreSQL. On a docker compose host the backup service takes the backups "
            "(docker compose exec backup bash scripts/backup.sh)."
        )
    was_running = (pgdata_dir(settings.DATA_DIR) / "postmaster.pid").exists()
    url = ensure_server(settings.DATA_DIR)
    print("embedded")
    print(url)
    print("running" if was_running else "started")
PY
    ) || return 1
    OPS_DB_TARGET=$(sed -n 1p <<<"$out")
    OPS_DB_URL=$(libpq_url "$(sed -n 2p <<<"$out")")
    if [ "$(sed -n 3p <<<"$out")" = started ]; then OPS_STARTED_EMBEDDED=1; fi
  fi
  [ -n "$OPS_DB_URL" ] || { echo "could not resolve the database URL" >&2; return 1; }
  resolve_pg_bin
}

# Major version of the pg_dump in directory $1 (empty if none).
pg_major() {
  [ -x "$1/pg_dump" ] || return 0
  "$1/pg_dump" --version 2>/dev/null | awk '{ split($3, v, "."); print v[1]; exit }'
}

# PG_BIN if set; for the embedded server its own binaries; otherwise the newer of the pg_dump on
# PATH and the embedded package's (a pg_dump older than the server refuses to dump it).
resolve_pg_bin() {
  local py path_dir="" emb_dir=""
  if [ -n "${PG_BIN:-}" ]; then
    OPS_PG_BIN=$PG_BIN
  else
    if [ "$OPS_DB_TARGET" != embedded ] && command -v pg_dump >/dev/null; then
      path_dir=$(dirname "$(command -v pg_dump)")
    fi
    if py=$(ops_python); then
      emb_dir=$(cd "$OPS_ROOT" && "$py" -m backend.db.embedded bin 2>/dev/null) || emb_dir=""
    fi
    if [ -n "$path_dir" ] && [ -n "$emb_dir" ]; then
      if [ "$(pg_major "$path_dir")" -ge "$(pg_major "$emb_dir")" ] 2>/dev/null; then
        OPS_PG_BIN=$path_dir
      else
        OPS_PG_BIN=$emb_dir
      fi
    else
      OPS_PG_BIN=${path_dir:-$emb_dir}
    fi
  fi
  if [ -z "$OPS_PG_BIN" ] || [ ! -x "$OPS_PG_BIN/pg_dump" ]; then
    echo "pg_dump not found (set PG_BIN, or install the PostgreSQL client tools)" >&2
    return 1
  fi
}

# Stops the embedded server again if this run started it (a cron backup must not leave one behind).
release_database() {
  local py
  if [ "$OPS_STARTED_EMBEDDED" = 1 ]; then
    OPS_STARTED_EMBEDDED=0
    if py=$(ops_python); then
      (cd "$OPS_ROOT" && "$py" -m backend.db.embedded stop) >/dev/null 2>&1 || true
    fi
  fi
}

# psql returning bare values: psql_value "SQL"
psql_value() {
  "$OPS_PG_BIN/psql" --no-psqlrc -X -q -t -A -v ON_ERROR_STOP=1 -d "$OPS_DB_URL" -c "$1"
}
