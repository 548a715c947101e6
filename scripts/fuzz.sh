#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60) and
# prints, per target, the executions done and whether it crashed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Stable Rust: the targets are built without a sanitizer (`-s none`), which
# cargo-fuzz (0.13) supports on a stable compiler. Should a cargo-fuzz
# version pass a nightly-only `-Z` flag anyway, the build is retried with
# RUSTC_BOOTSTRAP=1, which lets a stable compiler accept it. The build is an
# instrumented release build of the core and all its dependencies: minutes
# the first time, kept in fuzz/target/ after that.
#
# New inputs found go to target/fuzz-corpus/TARGET (not committed); the
# committed seeds in fuzz/corpus/TARGET are read only. A crash leaves its
# input in fuzz/artifacts/TARGET/: copy it to fuzz/regressions/TARGET/, fix
# the cause, and the test suite (tests/integration/fuzz_corpus.rs) keeps it
# fixed. FUZZ_RUNS=N stops a target after N executions (whichever of the
# two limits comes first); FUZZ_JOBS runs that many processes per target;
# FUZZ_BUILD=dev builds without optimisation (a quicker build for a short
# smoke run, as CI does; slower executions).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
all=(image_precheck webhook api_response token_request config staff mjpeg yuyv nv12)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "kyc-kiosk: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

build=(--release)
[ "${FUZZ_BUILD:-release}" = dev ] && build=(--dev)

mkdir -p target/fuzz-corpus
if ! cargo fuzz build -s none "${build[@]}" 2> >(tee target/fuzz-corpus/build.err >&2); then
  if grep -q "only accepted on the nightly compiler" target/fuzz-corpus/build.err; then
    echo "kyc-kiosk: retrying with RUSTC_BOOTSTRAP=1 (a -Z flag on stable)" >&2
    export RUSTC_BOOTSTRAP=1
    cargo fuzz build -s none "${build[@]}"
  else
    exit 1
  fi
fi

extra=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
  extra+=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi
if [ -n "${FUZZ_RUNS:-}" ]; then
  extra+=(-runs="$FUZZ_RUNS")
fi

status=0
summary=()
for t in "${targets[@]}"; do
  work="target/fuzz-corpus/$t"
  mkdir -p "$work"
  log="target/fuzz-corpus/$t.log"
  echo "fuzz: $t for ${seconds}s" >&2
  set +e
  cargo fuzz run -s none "${build[@]}" "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
    -timeout=30 "${extra[@]}" >"$log" 2>&1
  rc=$?
  set -e
  # (fuzz-*.log exist only with FUZZ_JOBS > 1: a missing file is no error.)
  runs=$({ grep -h 'stat::number_of_executed_units' "$log" fuzz-*.log 2>/dev/null || true; } |
    awk '{s += $2} END {print s + 0}')
  rm -f fuzz-*.log
  if [ "$rc" -eq 0 ]; then
    result="0 crashes"
  else
    result="CRASH (exit $rc): see $log and fuzz/artifacts/$t/"
    status=1
  fi
  summary+=("$(printf '%-15s %12s executions  %s' "$t" "$runs" "$result")")
done

echo
printf '%s\n' "${summary[@]}"
exit "$status"
