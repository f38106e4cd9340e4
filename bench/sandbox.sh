#!/bin/sh
# The per-run overhead of the code sandbox (plugins/code/sandbox.cpp): wall time per run of /usr/bin/true
# and of `/usr/bin/python3 -I -S -c pass` through Sandbox::run against the same program forked and
# exec'd directly, and of a one-assert check suite through Judge::run (harness.py with the prelude, in
# the sandbox) against the same harness and spec run directly; interleaved run by run. Figures: docs/code.md.
#
#   bench/sandbox.sh [BUILD_DIR] [RUNS]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target code_sandbox_bench >/dev/null
echo "machine: $(nproc) cores; $(uptime | sed 's/.*load average/load average/'); $(bwrap --version 2>/dev/null || echo 'no bwrap'); $(/usr/bin/python3 --version)"
"$build/tests/plugins/code_sandbox_bench" "${2:-100}"
