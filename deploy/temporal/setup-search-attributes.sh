#!/bin/sh
# One-shot of the docker-compose temporal-setup service: waits for the
# namespace, then registers every custom search attribute listed in
# deploy/search-attributes.txt (NAME=Type a line) that the server lacks.
# Runs in temporalio/admin-tools (POSIX sh + the temporal CLI); works against
# any server: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SEARCH_ATTRIBUTES_FILE.
set -eu
ADDR=${TEMPORAL_ADDRESS:-temporal:7233}
NS=${TEMPORAL_NAMESPACE:-default}
FILE=${SEARCH_ATTRIBUTES_FILE:-/deploy/search-attributes.txt}
WAIT=${SETUP_WAIT:-180}

[ -f "$FILE" ] || { echo "temporal-setup: $FILE is missing" >&2; exit 1; }
n=0
until temporal operator namespace describe --namespace "$NS" --address "$ADDR" >/dev/null 2>&1; do
  n=$((n + 1))
  [ "$n" -lt "$WAIT" ] || { echo "temporal-setup: namespace $NS at $ADDR not ready after ${WAIT}s" >&2; exit 1; }
  sleep 1
done

have=$(temporal operator search-attribute list --namespace "$NS" --address "$ADDR" -o json)
sed -e 's/#.*//' -e 's/[[:space:]]//g' "$FILE" | while IFS='=' read -r name type; do
  [ -n "$name" ] || continue
  if printf '%s\n' "$have" | grep -q "\"$name\":"; then
    echo "temporal-setup: $name exists"
    continue
  fi
  temporal operator search-attribute create --namespace "$NS" --address "$ADDR" --name "$name" --type "$type"
  echo "temporal-setup: created $name ($type)"
done
echo "temporal-setup: search attributes ready in namespace $NS"
