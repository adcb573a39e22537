#!/usr/bin/env bash
# Instructions per record of the binary codec's round trip (encode + decode), for pool-bench
# codec's three record shapes, counted by callgrind: reproducible on a busy machine, where
# wall-clock times are not. Usage: Benchmarks/profile/codec-instructions.sh [records]
# (default 25,000 per shape). Needs valgrind; builds the package in release mode first.
set -euo pipefail
cd "$(dirname "$0")/../.."
records=${1:-25000}
out=${TMPDIR:-/tmp}/codec-profile
mkdir -p "$out"
source Benchmarks/profile/build-driver.sh
build_driver Benchmarks/profile/codec_profile.swift CodecProfile "$out/codec-profile"
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
    --toggle-collect='*measureRecords*' --toggle-collect='*measureNested*' --toggle-collect='*measurePairs*' \
    "$out/codec-profile" "$records" >/dev/null 2>"$out/valgrind.log"
callgrind_annotate --inclusive=yes "$out/callgrind.out" 2>/dev/null | awk -v n="$records" '
    /measureRecords/ { gsub(",", "", $1); r = $1 / n }
    /measureNested/  { gsub(",", "", $1); m = $1 / n }
    /measurePairs/   { gsub(",", "", $1); p = $1 / n }
    END {
        printf "records {id, name, score}: %6.0f instructions per record\n", r
        printf "nested records:            %6.0f instructions per record\n", m
        printf "pairs {word, count}:       %6.0f instructions per record\n", p
    }'
echo "profile: $out/callgrind.out (callgrind_annotate --inclusive=yes $out/callgrind.out | swift demangle)"
