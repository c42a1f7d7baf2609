#!/usr/bin/env bash
# Throughput benchmark against the local stack (`make bench` runs `make build up`
# first). Placeholder: the lead fills it in.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "bench: not written yet (scripts/bench.sh is a placeholder)" >&2
exit 1
