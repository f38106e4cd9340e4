#!/usr/bin/env bash
# Requests per second of the rollout client (libcurl multi, keep-alive) against the loopback test server
# answering at once, without and with the SQLite cache storing every response (docs/rollouts.md).
# Usage: bench/rollout_client.sh [BUILD_DIR] [REQUESTS] [MAX_IN_FLIGHT]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
requests=${2:-50000}
in_flight=${3:-64}
cmake --build "$build" -j2 --target rollout_client_bench >/dev/null
bin="$build/tests/plugins/rollout/rollout_client_bench"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores; $(uptime | sed 's/.*load average/load average/')"
"$bin" "$requests" "$in_flight"
"$bin" "$requests" "$in_flight" --cache "$tmp/cache.sqlite"
