#!/bin/sh
# Early stopping of rollout.sample: requests saved against the fixed budget, and verdicts that differ from
# the full-budget verdict, per rule, on real GSM8K outcome sequences (4 graded model solutions per test
# problem) and on simulated binomial prompts (pass rates from a Beta fitted to those counts; fixed seed).
# The rule is the op's own code (plugins/rollout/early_stop.cpp). Figures: docs/rollouts.md.
#
#   bench/rollout_early_stop.sh [BUILD_DIR] [SIMULATED_PROMPTS] [SEED]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
data=../shared/data/gsm8k/example_model_solutions.jsonl
[ -f "$data" ] || { echo "no $data: skipped"; exit 0; }
cmake --build "$build" --target rollout_early_stop_bench >/dev/null
"$build/tests/plugins/rollout/rollout_early_stop_bench" "$data" "${2:-100000}" "${3:-1}"
