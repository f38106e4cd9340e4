#!/usr/bin/env bash
# Installs tamis into a scratch prefix, builds sdk/example out of tree against the installed SDK
# (find_package(Tamis) + tamis_add_plugin), and runs its op in a pipeline with the installed tamis.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$source_dir/sdk/example" -B "$work/example" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/example" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
test -f "$work/example/libexample_keywords.so" || { echo "the example plugin was not built"; exit 1; }

cat > "$work/in.jsonl" <<'JSONL'
{"id": "a", "problem": "Prove that the square root of 2 is irrational."}
{"id": "b", "problem": "Compute the integral of x^2 from 0 to 3."}
{"id": "c", "problem": "What is 2 + 2?"}
JSONL
cat > "$work/pipeline.yaml" <<'YAML'
version: 1
sources:
  in: { path: in.jsonl, id: id }
stages:
  words:
    uses: example.keywords
    with: { field: problem, banned: ["prove that"], watch: [integral] }
  long_enough:
    uses: filter.length
    with: { field: problem, min: 15 }
sinks:
  kept: { path: out/kept.jsonl }
  rejected: { path: out/rejected.jsonl, rejected: true }
YAML

tamis="$work/prefix/bin/tamis"
"$tamis" plugins info example.keywords --plugin-path "$work/example" | grep -q "banned" \
  || { echo "plugins info does not show the example op's parameters"; exit 1; }
"$tamis" run "$work/pipeline.yaml" --plugin-path "$work/example" --quiet

expected_kept='{"id": "b", "problem": "Compute the integral of x^2 from 0 to 3.","tamis":{"watch_hits":1}}'
actual_kept=$(cat "$work/out/kept.jsonl")
if [ "$actual_kept" != "$expected_kept" ]; then
  echo "kept differs:"; echo "expected: $expected_kept"; echo "actual:   $actual_kept"; exit 1
fi
grep -q '"id": "a".*"rejected_by":"words","reason":"banned_phrase"' "$work/out/rejected.jsonl" \
  || { echo "record a was not rejected by the example op"; cat "$work/out/rejected.jsonl"; exit 1; }
grep -q '"id": "c".*"rejected_by":"long_enough","reason":"too_short"' "$work/out/rejected.jsonl" \
  || { echo "record c was not rejected by the installed filter.length"; cat "$work/out/rejected.jsonl"; exit 1; }
# Installed into ${TAMIS_PLUGIN_DIR} (inside the scratch prefix), the installed tamis finds it by itself.
cmake --install "$work/example" > "$work/install-example.log"
test -f "$work/prefix/lib/tamis/plugins/libexample_keywords.so" || test -n "$(find "$work/prefix" -name libexample_keywords.so)" \
  || { echo "the example plugin was not installed into the prefix"; exit 1; }
rm -rf "$work/out"
"$tamis" run "$work/pipeline.yaml" --quiet
[ "$(cat "$work/out/kept.jsonl")" = "$expected_kept" ] || { echo "the installed example plugin was not found by default"; exit 1; }
echo "out-of-tree plugin: built against the installed SDK, ran with --plugin-path, then installed and found by default"
