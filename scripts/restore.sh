#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh (database and datasets) into the target database and
# DATA_DIR/datasets, then check it.
#
#   bash scripts/restore.sh FILE [--force]        (or `make restore FILE=...`)
#
# The target is the database backup.sh would dump (DATABASE_URL, else the app's settings /
# the embedded PostgreSQL under DATA_DIR). The database must exist. A database holding rows in
# any table (other than alembic_version) is refused unless --force is given; then its public
# schema is dropped and replaced by the backup's. Stop the backend first: a running app would
# write into the database while it is being replaced.
#
# Objects are restored owned by the connecting role (--no-owner --no-acl), in one transaction:
# a failed restore leaves an empty schema, never half of one. Afterwards the Alembic revision and
# the row count of every table are printed as one JSON line. Exits non-zero on any failure
# (3 = refused: the target holds data).
set -Eeuo pipefail

# shellcheck source=SCRIPTDIR/../deploy/ops-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../deploy/ops-common.sh"

usage() { echo "usage: $0 BACKUP_FILE [--force]" >&2; }

file=""
force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage; exit 2 ;;
    *)
      if [ -n "$file" ]; then usage; exit 2; fi
      file=$arg
      ;;
  esac
done
if [ -z "$file" ]; then usage; exit 2; fi
# The file is named relative to where the caller stands; everything else to the repo root.
case "$file" in
  /*) ;;
  *) file="$PWD/$file" ;;
esac
cd "$OPS_ROOT"
dotenv_defaults PG_BIN DATA_DIR
DATA_DIR=${DATA_DIR:-./data}

started=$(now_s)
errlog=$(mktemp)
finished=0

log_line() {
  local status=$1
  shift
  printf '{"time":%s,"event":"restore","status":%s,"file":%s,"target":%s,"database":%s,"duration_seconds":%s%s}\n' \
    "$(json_str "$(now_utc)")" "$(json_str "$status")" "$(json_str "$file")" \
    "$(json_str "${OPS_DB_TARGET:-unknown}")" "$(json_str "$(redact_url "${OPS_DB_URL:-}")")" \
    "$(elapsed "$started")" "$*"
}

cleanup() {
  rm -f -- "$errlog"
  release_database
}

fail() { # message [exit code]
  local message=$1 code=${2:-1} detail=""
  trap - ERR INT TERM
  if [ -s "$errlog" ]; then detail=$(tail -n 5 "$errlog"); fi
  cleanup
  if [ "$finished" = 0 ]; then
    finished=1
    echo "restore: $message" >&2
    log_line error ",\"error\":$(json_str "$message"),\"detail\":$(json_str "$detail")"
  fi
  exit "$code"
}

trap 'fail "unexpected error at line $LINENO (exit $?)"' ERR
trap 'fail "interrupted (SIGINT)" 130' INT
trap 'fail "interrupted (SIGTERM)" 143' TERM

if [ ! -f "$file" ] || [ ! -r "$file" ]; then fail "no readable backup file at $file" 2; fi

resolve_database --create 2>"$errlog" || fail "cannot resolve the database to restore into"
"$OPS_PG_BIN/pg_restore" --list "$file" >/dev/null 2>>"$errlog" || fail "$file is not a readable pg_dump archive"

# One query over every ordinary table outside the system schemas, names quoted by the server:
# table_query "SELECT count(*) FROM %I.%I" "AND ..." -> "SELECT 'tasks' AS t, (SELECT count(*)
# FROM public.tasks) AS n UNION ALL ..." (empty when there is no table).
table_query() {
  psql_value "SELECT string_agg(format('SELECT %L AS t, ($1) AS n', tablename, schemaname, tablename),
      ' UNION ALL ' ORDER BY tablename)
    FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') $2"
}

# "Empty" means no table other than alembic_version holds a row (a freshly migrated database is
# empty; its schema is replaced by the backup's).
query=$(table_query "SELECT count(*) FROM (SELECT 1 FROM %I.%I LIMIT 1) s" \
  "AND tablename <> 'alembic_version'" 2>>"$errlog") ||
  fail "cannot connect to the target database"
nonempty_tables=0
if [ -n "$query" ]; then
  nonempty_tables=$(psql_value "SELECT count(*) FROM (${query}) c WHERE n > 0" 2>>"$errlog") ||
    fail "cannot inspect the target database"
fi
if [ "$nonempty_tables" != 0 ] && [ "$force" != 1 ]; then
  fail "the target database is not empty ($nonempty_tables tables hold rows); pass --force to replace it" 3
fi

# Replace the public schema (empty, or --force) and restore in one transaction.
"$OPS_PG_BIN/psql" --no-psqlrc -X -q -v ON_ERROR_STOP=1 -d "$OPS_DB_URL" >/dev/null 2>>"$errlog" <<'SQL' ||
BEGIN;
DROP SCHEMA IF EXISTS public CASCADE;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
COMMENT ON SCHEMA public IS 'standard public schema';
GRANT USAGE ON SCHEMA public TO PUBLIC;
COMMIT;
SQL
  fail "cannot reset the public schema of the target database"

"$OPS_PG_BIN/pg_restore" --no-owner --no-acl --single-transaction --exit-on-error --no-password \
  --dbname="$OPS_DB_URL" "$file" 2>>"$errlog" || fail "pg_restore failed"
"$OPS_PG_BIN/psql" --no-psqlrc -X -q -d "$OPS_DB_URL" -c "ANALYZE" >/dev/null 2>>"$errlog" || true

# Checks: an Alembic revision is recorded, and every table the archive holds data for exists.
revision=$(psql_value "SELECT string_agg(version_num, ',') FROM alembic_version" 2>>"$errlog") ||
  fail "the restored database has no alembic_version table"
[ -n "$revision" ] || fail "the restored database has an empty alembic_version table"
while read -r schema table; do
  [ -n "$table" ] || continue
  exists=$(psql_value "SELECT to_regclass('\"$schema\".\"$table\"') IS NOT NULL" 2>>"$errlog")
  [ "$exists" = t ] || fail "table $schema.$table of the archive is missing after the restore"
done < <("$OPS_PG_BIN/pg_restore" --list "$file" | awk '$4 == "TABLE" && $5 == "DATA" { print $6, $7 }')

query=$(table_query "SELECT count(*) FROM %I.%I" "AND schemaname = 'public'" 2>>"$errlog") || fail "cannot list the restored tables"
counts=$(psql_value "SELECT coalesce(json_object_agg(t, n ORDER BY t), '{}') FROM (${query}) c" 2>>"$errlog") ||
  fail "cannot count the restored rows"

# The datasets the archive carries (none in a backup from before they were included), into
# DATA_DIR/datasets; a file already there under the same (unique) name is kept.
datasets=$(tar --list --file="$file" 2>/dev/null | grep -c '^datasets/.' || true)
if [ "$datasets" -gt 0 ]; then
  mkdir -p -- "$DATA_DIR/datasets" 2>>"$errlog" || fail "cannot create $DATA_DIR/datasets"
  tar --extract --file="$file" -C "$DATA_DIR" --skip-old-files --no-same-owner \
    --wildcards 'datasets/?*' 2>>"$errlog" || fail "cannot restore the datasets into $DATA_DIR/datasets"
fi

finished=1
trap - ERR INT TERM
cleanup
log_line ok ",\"datasets\":$datasets,\"alembic_revision\":$(json_str "$revision"),\"forced\":$([ "$force" = 1 ] && echo true || echo false),\"row_counts\":$counts"
