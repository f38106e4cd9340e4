#!/usr/bin/env bash
# Recomputes every figure of docs/accuracy.md: runs each script of bench/accuracy/ in turn (each prints
# its own Markdown tables and says how its labels were obtained). Needs ../shared/data; each script
# skips with a message when it is absent.
#
#   bench/accuracy.sh                 all of them, with build/ (BUILD=dir to use another build)
#   bench/accuracy.sh dedup grader    only these (names of bench/accuracy/*.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export BUILD=${BUILD:-build}
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  names=(normalize dedup code_dedup decontaminate format suspect grader grader_heldout langid fidelity)
fi
for n in "${names[@]}"; do
  script=bench/accuracy/$n.sh
  [[ -f $script ]] || { echo "accuracy.sh: no $script" >&2; exit 2; }
  echo
  echo "## $n ($script)"
  echo
  bash "$script"
done
