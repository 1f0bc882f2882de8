#!/bin/sh
# The official nginx image's template step: every /etc/nginx/templates/X.template becomes
# /etc/nginx/conf.d/X with only the variables matching NGINX_ENVSUBST_FILTER substituted.
set -eu
if [ "${1:-}" = nginx ]; then
  filter=${NGINX_ENVSUBST_FILTER:-}
  vars=$(env | cut -d= -f1 | grep -E "${filter:-.}" | sed 's/^/${/; s/$/}/' | tr '\n' ' ')
  for template in /etc/nginx/templates/*.template; do
    [ -f "$template" ] || continue
    out="/etc/nginx/conf.d/$(basename "$template" .template)"
    envsubst "$vars" <"$template" >"$out"
  done
fi
exec "$@"
