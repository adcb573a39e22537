#!/usr/bin/env bash
# What one applyAsync + get costs the machine, beside pool-bench overhead's wall-clock figures:
# futex calls and context switches over 1,000,000 tasks (perf stat, three runs), and instructions
# per task over every thread (callgrind: two rounds of 60,000 tasks minus one round of 60,000, so
# that the pool's start and stop cancel out, and so does the growth of its queue, which the first
# round pays and the second does not). Each part is skipped when its tool is
# missing. Usage: Benchmarks/profile/apply-costs.sh. Builds the package in release mode first.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${TMPDIR:-/tmp}/apply-profile
mkdir -p "$out"
source Benchmarks/profile/build-driver.sh
build_driver Benchmarks/profile/apply_profile.swift ApplyProfile "$out/apply-profile" -parse-as-library

if command -v perf >/dev/null && perf stat -e syscalls:sys_enter_futex true >/dev/null 2>&1; then
    for run in 1 2 3; do
        perf stat -x, -e syscalls:sys_enter_futex,context-switches "$out/apply-profile" 1000000 2>"$out/perf.txt" >/dev/null
        awk -F, -v run="$run" '/futex/ { f = $1 } /context-switches/ { c = $1 }
            END { printf "1,000,000 tasks, run %d: %d futex calls, %d context switches\n", run, f, c }' "$out/perf.txt"
    done
else
    echo "perf with syscall tracepoints not available: futex and context-switch counts skipped"
fi

if command -v valgrind >/dev/null; then
    count() {
        valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$2.out" "$out/apply-profile" "$1" "$2" >/dev/null 2>"$out/valgrind.$2.log"
        callgrind_annotate "$out/callgrind.$2.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
    }
    one=$(count 60000 1)
    two=$(count 60000 2)
    awk -v s="$one" -v l="$two" 'BEGIN { printf "instructions per task, every thread: %.0f\n", (l - s) / 60000 }'
else
    echo "valgrind not available: instruction count skipped"
fi
