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
  clang libclang-rt-14-dev               # the fuzzers: clang with libFuzzer and its ASan/UBSan runtimes (scripts/check.sh)
  llvm                                   # llvm-symbolizer: file and line in sanitizer reports
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
