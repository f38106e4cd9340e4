#!/usr/bin/env bash
# Installs tamis's build and test dependencies from Debian 12 packages. Idempotent: packages already
# present are left alone, and apt is only called when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libboost-dev libboost-filesystem-dev   # Boost.DLL is header-only inside libboost-dev
  libsimdjson-dev libxxhash-dev libtbb-dev libyaml-cpp-dev
  libgtest-dev zlib1g-dev libzstd-dev
  gzip zstd                              # the tests make .gz/.zst inputs with the command-line tools
  libcld2-dev                            # language identification (plugin family lang)
  libginac-dev                           # optional: symbolic answer equivalence (plugin family grade, TAMIS_GINAC)
  libcurl4-openssl-dev libsqlite3-dev    # rollouts: the HTTP client and the response cache (plugin family rollout)
  bubblewrap libseccomp-dev python3      # code problems: the sandbox and the Python the tests run in (plugin family code)
  python3-sortedcontainers               # code problems: LeetCode solutions use SortedList (docs/code.md)
  clang libclang-rt-14-dev               # the fuzzers: clang with libFuzzer and its ASan/UBSan runtimes (scripts/check.sh)
  llvm                                   # llvm-symbolizer: file and line in sanitizer reports
  chromium fonts-dejavu-core              # the browser test of the HTML review page (tests/core/review_test.cpp, docs/review.md)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Optional: Parquet sources and sinks (docs/parquet.md). DuckDB's C library and its header, from the npm
# registry (Debian 12 has no Parquet library), into $TAMIS_DEPS_PREFIX/duckdb-VERSION/{include,lib},
# where CMake looks for them (TAMIS_PARQUET); and the independent Parquet reader and writer the tests
# check our files with (hyparquet with hyparquet-compressors for zstd, hyparquet-writer) into $TAMIS_DEPS_PREFIX/npm/node_modules. Skipped
# when already there, or with TAMIS_NO_PARQUET=1, or without npm (tamis then builds without Parquet).
duckdb_version=1.4.4
duckdb_bindings=@duckdb/node-bindings-linux-x64@1.4.4-r.4   # its libduckdb.so is v1.4.4
duckdb_header_pkg=duckdb@1.4.4                               # its source tree carries duckdb.h
duckdb_so_sha256=1ef33048e12235115ac0d277a0aaccbb560e33248144f488b5ac005cd9ba81b5
duckdb_h_sha256=cbe6a827284375c5a646b8f27dbd3a00808ce8738b5bbb49c190cb1e08540281
npm_tools=(hyparquet@1.33.0 hyparquet-compressors@1.1.2 hyparquet-writer@0.17.0)
deps_prefix=${TAMIS_DEPS_PREFIX:-/opt/tamis-deps}

install_duckdb() {
  local dest=$deps_prefix/duckdb-$duckdb_version
  if [ -f "$dest/lib/libduckdb.so" ] && [ -f "$dest/include/duckdb.h" ] &&
     echo "$duckdb_so_sha256  $dest/lib/libduckdb.so" | sha256sum -c --status &&
     echo "$duckdb_h_sha256  $dest/include/duckdb.h" | sha256sum -c --status; then
    echo "install-deps: DuckDB $duckdb_version present in $dest"
  else
    echo "install-deps: fetching DuckDB $duckdb_version from npm into $dest"
    local work
    work=$(mktemp -d)
    (cd "$work" && npm pack --silent "$duckdb_bindings" "$duckdb_header_pkg" >/dev/null)
    tar -xzf "$work"/duckdb-node-bindings-linux-x64-*.tgz -C "$work" package/libduckdb.so
    tar -xzf "$work"/duckdb-$duckdb_version.tgz -C "$work" package/src/duckdb/src/include/duckdb.h
    echo "$duckdb_so_sha256  $work/package/libduckdb.so" | sha256sum -c --status ||
      { echo "install-deps: libduckdb.so from $duckdb_bindings is not the expected file" >&2; exit 1; }
    echo "$duckdb_h_sha256  $work/package/src/duckdb/src/include/duckdb.h" | sha256sum -c --status ||
      { echo "install-deps: duckdb.h from $duckdb_header_pkg is not the expected file" >&2; exit 1; }
    "${sudo_cmd[@]}" mkdir -p "$dest/lib" "$dest/include"
    "${sudo_cmd[@]}" install -m 0755 "$work/package/libduckdb.so" "$dest/lib/libduckdb.so"
    "${sudo_cmd[@]}" install -m 0644 "$work/package/src/duckdb/src/include/duckdb.h" "$dest/include/duckdb.h"
    rm -rf "$work"
  fi
  local missing_tools=()
  for t in "${npm_tools[@]}"; do
    local name=${t%@*} want=${t##*@} have=""
    have=$(node -p "require('$deps_prefix/npm/node_modules/$name/package.json').version" 2>/dev/null || true)
    [ "$have" = "$want" ] || missing_tools+=("$t")
  done
  if [ ${#missing_tools[@]} -eq 0 ]; then
    echo "install-deps: ${npm_tools[*]} present in $deps_prefix/npm"
  else
    echo "install-deps: installing ${missing_tools[*]} into $deps_prefix/npm"
    "${sudo_cmd[@]}" mkdir -p "$deps_prefix/npm"
    "${sudo_cmd[@]}" npm install --silent --no-audit --no-fund --prefix "$deps_prefix/npm" "${npm_tools[@]}"
  fi
}

if [ "${TAMIS_NO_PARQUET:-0}" = 1 ]; then
  echo "install-deps: TAMIS_NO_PARQUET=1: DuckDB (Parquet) left out"
elif ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: no npm: DuckDB (Parquet) left out; tamis builds without Parquet support"
else
  install_duckdb
fi
