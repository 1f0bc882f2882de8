#!/usr/bin/env bash
# Container entrypoint of the backend image: wait for the database, migrate, then run the command.
#
#   prestart.sh gunicorn -c gunicorn.conf.py backend.main:app
#
# DB_WAIT_TIMEOUT  seconds to wait for the database to accept connections (default 60)
# SKIP_MIGRATIONS  1 to skip `alembic upgrade head` (the app also migrates at start-up)
set -Eeuo pipefail

# shellcheck source=SCRIPTDIR/ops-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/ops-common.sh"
cd "$OPS_ROOT"

log() { printf '{"time":%s,"level":%s,"name":"prestart","message":%s}\n' \
  "$(json_str "$(now_utc)")" "$(json_str "$1")" "$(json_str "$2")" >&2; }

if [ "$#" -eq 0 ]; then set -- gunicorn -c gunicorn.conf.py backend.main:app; fi

if [ -n "${DATABASE_URL:-}" ]; then
  url=$(libpq_url "$DATABASE_URL")
  deadline=$((SECONDS + ${DB_WAIT_TIMEOUT:-60}))
  until pg_isready -q -t 2 -d "$url"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log ERROR "database $(redact_url "$url") not ready after ${DB_WAIT_TIMEOUT:-60}s"
      exit 1
    fi
    sleep 1
  done
  log INFO "database $(redact_url "$url") is ready"
fi

if [ "${SKIP_MIGRATIONS:-0}" != 1 ]; then
  log INFO "alembic upgrade head"
  alembic upgrade head
fi

exec "$@"
