#!/usr/bin/env bash
# The compose `backup` service: run scripts/backup.sh every day at BACKUP_TIME (HH:MM, UTC).
#
#   backup-loop.sh            run forever (BACKUP_ON_START=1 also backs up once at start)
#   backup-loop.sh --check    health check: exit 0 when the last run succeeded and is recent
#
# BACKUP_TIME            daily time of the backup, UTC (default 02:30)
# BACKUP_ON_START        1 to take a backup as soon as the service starts (default 0)
# BACKUP_MAX_AGE_HOURS   --check fails when the last successful backup is older (default 26)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BACKUP_DIR=${BACKUP_DIR:-/backups}
BACKUP_TIME=${BACKUP_TIME:-02:30}
state_ok="$BACKUP_DIR/.last_success"
state_failed="$BACKUP_DIR/.last_failure"

if [ "${1:-}" = --check ]; then
  # Healthy: no failure since the last success, and a success within BACKUP_MAX_AGE_HOURS
  # (or no run due yet: the service started less than that long ago).
  max_min=$(( ${BACKUP_MAX_AGE_HOURS:-26} * 60 ))
  if [ -f "$state_failed" ] && { [ ! -f "$state_ok" ] || [ "$state_failed" -nt "$state_ok" ]; }; then
    exit 1
  fi
  if [ -f "$state_ok" ]; then
    [ -z "$(find "$state_ok" -mmin "+$max_min")" ]
    exit
  fi
  [ -f /tmp/backup-loop.started ] && [ -z "$(find /tmp/backup-loop.started -mmin "+$max_min")" ]
  exit
fi

if ! [[ "$BACKUP_TIME" =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]]; then
  echo "BACKUP_TIME must be HH:MM (UTC), got '$BACKUP_TIME'" >&2
  exit 2
fi

run_backup() {
  if bash "$here/../scripts/backup.sh"; then
    touch "$state_ok"
  else
    touch "$state_failed"
  fi
}

touch /tmp/backup-loop.started
trap 'exit 0' TERM INT
if [ "${BACKUP_ON_START:-0}" = 1 ]; then run_backup; fi
while true; do
  now=$(date -u +%s)
  next=$(date -u -d "today $BACKUP_TIME" +%s)
  if [ "$next" -le "$now" ]; then next=$(date -u -d "tomorrow $BACKUP_TIME" +%s); fi
  printf '{"time":"%s","event":"backup-schedule","next_run":"%s"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(date -u -d "@$next" +%Y-%m-%dT%H:%M:%SZ)"
  # sleep in the background so that SIGTERM (docker stop) ends the wait at once.
  sleep $((next - now)) &
  wait $!
  run_backup
done
