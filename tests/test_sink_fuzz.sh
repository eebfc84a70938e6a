#!/bin/sh
# tests/test_sink_fuzz.sh - a short libFuzzer run (FUZZ_SECONDS, default 20) of
# tests/fuzz_sink.c (otlp_sink's decoders) with ASan+UBSan. `make fuzz` runs it longer.
# Ends with "N passed, N failed"; "SKIPPED: ..." when clang has no libFuzzer.
cd "$(dirname "$0")/.." || exit 2
secs=${FUZZ_SECONDS:-20}
out=${FUZZ_DIR:-${TEST_BUILD:-build}/fuzz} # tests/run.sh sets TEST_BUILD
mkdir -p "$out/corpus" || exit 2
if ! command -v clang >/dev/null 2>&1 ||
    ! clang -g -O1 -std=c11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        tests/fuzz_sink.c -o "$out/fuzz_sink" >"$out/build.log" 2>&1; then
    echo "SKIPPED: sink fuzz run (clang with libFuzzer not available)"
    tail -5 "$out/build.log" 2>/dev/null
    echo "0 passed, 0 failed"
    exit 0
fi
sh tests/fuzz_seeds.sh "$out/seeds" >/dev/null 2>&1 || true
if "$out/fuzz_sink" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus" "$out/seeds" >"$out/fuzz.log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$out/fuzz.log" | tail -2
    echo "1 passed, 0 failed"
else
    tail -40 "$out/fuzz.log"
    echo "crash input(s): $(ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* 2>/dev/null | tr '\n' ' ')"
    echo "0 passed, 1 failed"
    exit 1
fi
