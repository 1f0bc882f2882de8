#!/usr/bin/env bash
# Back up everything a restore needs, the database and the uploaded datasets, into one file in
# BACKUP_DIR.
#
#   bash scripts/backup.sh            (or `make backup`; in compose the backup service runs it)
#
# Environment:
#   DATABASE_URL           database to dump; unset -> the embedded PostgreSQL under DATA_DIR
#                          (started if needed), which must exist: nothing is created here
#   DATA_DIR               where the datasets are (DATA_DIR/datasets; default ./data)
#   BACKUP_DIR             where backups go (default ./backups, relative to the repo root)
#   BACKUP_RETENTION_DAYS  backups older than this many days are deleted (default 7; 0 keeps all)
#   BACKUP_PREFIX          file name prefix (default iterative_prediction)
#   PG_BIN                 directory of pg_dump/pg_restore (default: PATH, else the embedded ones)
#
# The file is a pg_dump archive in tar format (`pg_restore` reads it as it is) with the dataset
# files appended as datasets/NAME members (`tar -tf` lists them). It is written to a hidden
# temporary name, checked (`pg_restore --list`, and every dataset member present), and renamed to
# PREFIX_YYYYmmddTHHMMSSZ.dump (..Z_N.dump for another one within the same second) only when
# complete: a failed or interrupted run leaves nothing that looks like a backup. The database is
# dumped first: a dataset is stored before its row is committed, so every dataset the dump names
# is in the file. Prints one JSON line; exits non-zero on any failure.
set -Eeuo pipefail

# shellcheck source=SCRIPTDIR/../deploy/ops-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../deploy/ops-common.sh"
cd "$OPS_ROOT"
dotenv_defaults DATA_DIR BACKUP_DIR BACKUP_RETENTION_DAYS BACKUP_PREFIX PG_BIN

BACKUP_DIR=${BACKUP_DIR:-./backups}
BACKUP_RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-7}
BACKUP_PREFIX=${BACKUP_PREFIX:-iterative_prediction}
DATA_DIR=${DATA_DIR:-./data}

started=$(now_s)
tmp_file=""
child=""
errlog=$(mktemp)
finished=0

log_line() { # status, then extra JSON members (already encoded, each starting with a comma)
  local status=$1
  shift
  printf '{"time":%s,"event":"backup","status":%s,"target":%s,"database":%s,"duration_seconds":%s%s}\n' \
    "$(json_str "$(now_utc)")" "$(json_str "$status")" "$(json_str "${OPS_DB_TARGET:-unknown}")" \
    "$(json_str "$(redact_url "${OPS_DB_URL:-}")")" "$(elapsed "$started")" "$*"
}

cleanup() {
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ -n "$tmp_file" ]; then rm -f -- "$tmp_file"; fi
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
    log_line error ",\"error\":$(json_str "$message"),\"detail\":$(json_str "$detail")"
  fi
  exit "$code"
}

trap 'fail "unexpected error at line $LINENO (exit $?)"' ERR
trap 'fail "interrupted (SIGINT)" 130' INT
trap 'fail "interrupted (SIGTERM)" 143' TERM

case "$BACKUP_RETENTION_DAYS" in
  '' | *[!0-9]*) fail "BACKUP_RETENTION_DAYS must be a whole number of days, got '$BACKUP_RETENTION_DAYS'" 2 ;;
esac

resolve_database --existing 2>"$errlog" || fail "cannot resolve the database to back up"

mkdir -p -- "$BACKUP_DIR" 2>>"$errlog" || fail "cannot create BACKUP_DIR $BACKUP_DIR"
[ -w "$BACKUP_DIR" ] || fail "BACKUP_DIR $BACKUP_DIR is not writable"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
final_file="$BACKUP_DIR/${BACKUP_PREFIX}_${stamp}.dump"
n=1
while [ -e "$final_file" ]; do # a second backup within the same second
  final_file="$BACKUP_DIR/${BACKUP_PREFIX}_${stamp}_${n}.dump"
  n=$((n + 1))
done
tmp_file="$BACKUP_DIR/.${BACKUP_PREFIX}_${stamp}.dump.partial.$$"

# pg_dump runs in the background so that a SIGTERM reaches the trap at once.
"$OPS_PG_BIN/pg_dump" --format=tar --no-password \
  --file="$tmp_file" --dbname="$OPS_DB_URL" 2>>"$errlog" &
child=$!
rc=0
wait "$child" || rc=$?
child=""
[ "$rc" = 0 ] || fail "pg_dump failed (exit $rc)"

# The datasets, after the dump (see above); half-written uploads (*.partial) are not datasets.
datasets=()
if [ -d "$DATA_DIR/datasets" ]; then
  mapfile -t datasets < <(cd "$DATA_DIR" && find datasets -maxdepth 1 -type f ! -name '*.partial' | sort)
fi
if [ "${#datasets[@]}" -gt 0 ]; then
  tar --append --file="$tmp_file" -C "$DATA_DIR" -- "${datasets[@]}" 2>>"$errlog" ||
    fail "cannot add the datasets of $DATA_DIR/datasets"
fi

# A truncated or corrupt archive fails here, before it gets a backup's name.
"$OPS_PG_BIN/pg_restore" --list "$tmp_file" >/dev/null 2>>"$errlog" || fail "the dump does not read back (pg_restore --list)"
stored=$(tar --list --file="$tmp_file" 2>>"$errlog" | grep -c '^datasets/.' || true)
[ "$stored" = "${#datasets[@]}" ] || fail "the archive holds $stored of ${#datasets[@]} datasets"
sync -- "$tmp_file" 2>/dev/null || true
# -n: never replace an existing backup (a concurrent run that took the name makes this one fail).
mv -n -- "$tmp_file" "$final_file" || fail "cannot rename the dump to $final_file"
[ ! -e "$tmp_file" ] || fail "$final_file appeared meanwhile; not replaced"
tmp_file=""
size=$(stat -c %s "$final_file")

# Retention: only files this script names; stale partial files of killed runs after a day.
pruned=()
if [ "$BACKUP_RETENTION_DAYS" -gt 0 ]; then
  while IFS= read -r -d '' old; do
    rm -f -- "$old" && pruned+=("$(basename -- "$old")")
  done < <(find "$BACKUP_DIR" -maxdepth 1 -type f -name "${BACKUP_PREFIX}_*.dump" \
    -mmin "+$((BACKUP_RETENTION_DAYS * 1440))" -print0)
fi
find "$BACKUP_DIR" -maxdepth 1 -type f -name ".${BACKUP_PREFIX}_*.dump.partial.*" -mmin +1440 \
  -delete 2>/dev/null || true

pruned_json="["
for name in "${pruned[@]}"; do
  [ "$pruned_json" = "[" ] || pruned_json+=","
  pruned_json+=$(json_str "$name")
done
pruned_json+="]"

finished=1
trap - ERR INT TERM
cleanup
log_line ok ",\"file\":$(json_str "$final_file"),\"bytes\":$size,\"datasets\":${#datasets[@]},\"retention_days\":$BACKUP_RETENTION_DAYS,\"pruned\":$pruned_json"
