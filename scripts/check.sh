#!/usr/bin/env bash
# The one command that builds and runs every test (CI runs it: .ci/run; README.md gives it):
#   1. the Debian packages (scripts/install-deps.sh)
#   2. the normal build, warnings as errors, and every test                     build/
#   3. the same with AddressSanitizer and UndefinedBehaviorSanitizer (gcc)       build-asan/
#   4. each libFuzzer target for a few seconds on its seed corpus (clang)        build-fuzz/
# and prints how long each part took. Stops at the first failure.
#
# Environment: JOBS (parallel builds, default 2); FUZZ_SECONDS (per fuzzer, default 10); SKIP, a
# list of parts to leave out ("deps", "build", "asan", "fuzz"), for a quick local run. ccache is used
# when present. The ASan/UBSan runtimes are gcc's (libasan8, libubsan1: build-essential); the
# fuzzers need clang and libclang-rt-14-dev (scripts/install-deps.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-10}
skip=" ${SKIP:-} "
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

timings=()
part_start=0
begin() { part_start=$SECONDS; echo "check: == $1"; }
end() { timings+=("$(printf '%-34s %5d s' "$1" $((SECONDS - part_start)))"); }
summary() {
  echo "check: times"
  for t in "${timings[@]}"; do echo "check:   $t"; done
}
trap summary EXIT

if [[ $skip != *" deps "* ]]; then
  begin "dependencies"
  bash scripts/install-deps.sh
  end "dependencies"
fi

if [[ $skip != *" build "* ]]; then
  begin "build (warnings are errors)"
  cmake -S . -B build -DTAMIS_WERROR=ON "${launcher[@]}"
  cmake --build build -j"$jobs"
  end "build (warnings are errors)"
  begin "tests"
  ctest --test-dir build --output-on-failure
  end "tests"
fi

# Sanitizer runs: any leak (also at the exit of a failed run), any undefined behaviour and any
# memory error fails the test that met it. Only leaks inside third-party libraries are suppressed
# (fuzz/lsan.supp says which and why).
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/fuzz/lsan.supp:print_suppressions=0  # tests check that stderr is empty

if [[ $skip != *" asan "* ]]; then
  # Warnings are checked by the normal build: under -fsanitize GCC's flow analysis warns about code
  # the sanitizers instrumented (e.g. maybe-uninitialized inside std::regex), so they are not errors here.
  begin "build with ASan+UBSan"
  cmake -S . -B build-asan -DTAMIS_WERROR=OFF -DTAMIS_SANITIZE=address,undefined -DTAMIS_BUILD_BENCH=OFF "${launcher[@]}"
  cmake --build build-asan -j"$jobs"
  end "build with ASan+UBSan"
  begin "tests with ASan+UBSan"
  # LeakSanitizer is off for the test suite: at the exit of about 2% of the tamis processes the tests
  # start, its tracer (GCC 12's libsanitizer on glibc 2.36, which loads our plugins' TLS with dlopen)
  # crashes with "Tracer caught signal 11" and fails a test that did nothing wrong. Leaks, failed runs
  # included, are checked by the fuzzers below (clang's runtime, run_fuzz runs failing pipelines).
  ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0} ctest --test-dir build-asan --output-on-failure
  end "tests with ASan+UBSan"
fi

if [[ $skip != *" fuzz "* ]]; then
  begin "build the fuzzers (clang)"
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTAMIS_FUZZ=ON \
    -DTAMIS_BUILD_TESTS=OFF -DTAMIS_BUILD_BENCH=OFF "${launcher[@]}"
  cmake --build build-fuzz -j"$jobs" --target fuzzers
  end "build the fuzzers (clang)"
  begin "fuzz (${fuzz_seconds} s per target)"
  for target in reader run loader grade strip; do
    # New inputs go to a scratch corpus; the seeds in fuzz/corpus stay as they are.
    work=build-fuzz/corpus/$target
    mkdir -p "$work" build-fuzz/findings
    log=build-fuzz/findings/$target.log
    if ! build-fuzz/fuzz/${target}_fuzz -max_total_time="$fuzz_seconds" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/findings/$target-" "$work" "fuzz/corpus/$target" >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "check: ${target}_fuzz found a failing input (in build-fuzz/findings/; full log $log)"
      exit 1
    fi
    echo "check: ${target}_fuzz: $(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}') inputs in ${fuzz_seconds} s, no failure"
  done
  end "fuzz (${fuzz_seconds} s per target)"
fi
echo "check: all passed"
