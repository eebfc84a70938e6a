#!/usr/bin/env bash
# tests/run.sh - builds every test in every configuration, runs them, and ends with one plain
# line "N passed, N failed" (", N skipped" when something was skipped). Exits non-zero when
# anything failed. `make test` calls it; it can also run alone from any directory.
#
#   tests/run.sh                          everything
#   TESTS="test_span ring" tests/run.sh   only these (names or globs, "test_" optional;
#                                         pseudo-tests: build, test_compile, api_c99, examples)
#   QUICK=1 tests/run.sh                  the gcc configuration only
#   CONFIGS="gcc asan" tests/run.sh       pick configurations: gcc clang asan tsan
#   JOBS=4 TEST_TIMEOUT=600 ...           parallel builds (default: nproc), seconds per binary
#   BUILD=build/mine tests/run.sh         another build directory (default build; `make test
#                                         BUILD=...` passes it): examples, tools, tests, fuzz
#
# What runs, in order:
#   build          `make all`: every example and tool builds with -Werror (a TESTS filter
#                  that leaves out build and examples runs `make tools` only)
#   tests/test_*.c as C11, into build/tests/<config>/<name>, in each configuration:
#                    gcc    gcc   -std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I.
#                    clang  clang, the same flags
#                    asan   clang + -fsanitize=address,undefined -fno-sanitize-recover=all
#                    tsan   clang + -fsanitize=thread, only files containing  /* tsan */
#                  asan and tsan builds define TEST_SANITIZED=1 (tests may do fewer iterations);
#                  a line starting  /* link: -lz */  in a test adds link flags (-lm is always there).
#   test_compile   tests/test_compile.cpp: the API (otel.h, otel_otlp.h) as C++11, linked with
#                  the implementation of otel.h compiled as C11 in another unit (g++ under
#                  gcc, clang++ under clang)
#   api_c99        tests/api_c99.c: the API (otel.h, otel_otlp.h) as C99 -Wpedantic, linked
#                  with the implementations compiled as C11 in another translation unit
#   tests/test_*.sh  scripts, run once (not per configuration) with bash, after the binaries;
#                  e.g. test_sink_fuzz.sh: a 20 s libFuzzer run of otlp_sink's decoders
#   examples       tests/examples.sh: runs each example (from `make all`) and checks what it
#                  prints; under asan and tsan also the examples built with those flags
#
# Each binary and script runs from the repository root, stdin from /dev/null, under
# `timeout 300`, with every OTEL_* variable of the caller's environment unset and TEST_ROOT,
# TEST_CONFIG, TEST_BUILD (the absolute build directory) and TEST_TMPDIR (a fresh, empty
# scratch directory) set. Builds run JOBS at a time; binaries run one at a time (sanitized and
# timing-sensitive tests must not compete for the 2 cores).
# Counting: a binary's last "N passed, N failed" line; each output line starting "SKIPPED:"
# (print "SKIPPED: <test> (<tool> not installed)") is one skipped. A build failure, crash,
# sanitizer report, timeout or non-zero exit without a failed count is one failure, and its
# output is shown.
# Concurrent runs: a run holds a lock on BUILD/tests (flock) for its whole length, so a second
# run in the same build directory waits for the first instead of deleting its files and
# competing for the cores; give it another BUILD to run both at once.

set -u
set -o pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in
    /*) BUILD_ABS=$BUILD ;;
    *) BUILD_ABS=$ROOT/$BUILD ;;
esac
OUT=$BUILD_ABS/tests
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MAKE=${MAKE:-make}

# The tests set their own OTEL_* variables: nothing from the caller's shell may leak in.
while IFS= read -r var; do
    unset "$var"
done < <(compgen -e | grep '^OTEL_' || true)

# ---- configuration -------------------------------------------------------------------------

if [ -n "${CONFIGS:-}" ]; then
    read -r -a configs <<<"${CONFIGS//,/ }"
elif [ -n "${QUICK:-}" ] && [ "${QUICK}" != 0 ]; then
    configs=(gcc)
else
    configs=(gcc clang asan tsan)
fi

BASE_CFLAGS=(-std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I.)
# shellcheck disable=SC2054  # the commas belong to -fsanitize=
ASAN_FLAGS=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
            -DTEST_SANITIZED=1)
TSAN_FLAGS=(-fsanitize=thread -fno-omit-frame-pointer -DTEST_SANITIZED=1)

config_cc() {
    case $1 in
        gcc) echo gcc ;;
        clang | asan | tsan) echo clang ;;
        *) return 1 ;;
    esac
}
config_cxx() {
    case $1 in
        gcc) echo g++ ;;
        clang) echo clang++ ;;
        *) return 1 ;;
    esac
}
config_flags() { # prints one flag per line
    printf '%s\n' "${BASE_CFLAGS[@]}"
    case $1 in
        asan) printf '%s\n' "${ASAN_FLAGS[@]}" ;;
        tsan) printf '%s\n' "${TSAN_FLAGS[@]}" ;;
    esac
}
have() { command -v "$1" >/dev/null 2>&1; }

# TESTS filter: space or comma separated names or globs, "test_" prefix optional.
selected() {
    local name=$1 item
    [ -z "${TESTS:-}" ] && return 0
    for item in ${TESTS//,/ }; do
        # shellcheck disable=SC2053  # globs in TESTS are meant to match
        if [[ $name == $item || $name == test_$item ]]; then return 0; fi
    done
    return 1
}

# ---- counting and reporting ----------------------------------------------------------------

total_pass=0 total_fail=0 total_skip=0
failed_names=()

show_output() { # file
    local lines
    lines=$(wc -l <"$1")
    if [ "$lines" -gt 200 ]; then
        echo "    ... ($((lines - 200)) earlier lines in $1)"
    fi
    tail -n 200 "$1" | sed 's/^/    | /'
}

# record LABEL PASS FAIL SKIP SECONDS [REASON]
record() {
    local label=$1 p=$2 f=$3 s=$4 secs=$5 reason=${6:-}
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
    local status=ok
    if [ "$f" -gt 0 ]; then
        status=FAIL
        failed_names+=("$label")
    elif [ "$p" -eq 0 ] && [ "$s" -gt 0 ]; then
        status=skip
    fi
    printf '%-4s %-28s pass=%-5s fail=%-3s skip=%-2s %6ss%s\n' \
        "$status" "$label" "$p" "$f" "$s" "$secs" "${reason:+  ($reason)}"
}

# run_binary LABEL CONFIG CMD... : runs one test program and records its counts.
# shellcheck disable=SC2030,SC2031  # the exports are meant for the subshell only
run_binary() {
    local label=$1 config=$2
    shift 2
    local safe=${label//\//_}
    local log=$OUT/logs/$safe.out tmp=$OUT/tmp/$safe
    rm -rf "$tmp"
    mkdir -p "$tmp" "$OUT/logs"
    local t0 t1 rc
    t0=$(date +%s%N)
    (
        export TEST_ROOT=$ROOT TEST_CONFIG=$config TEST_TMPDIR=$tmp TEST_BUILD=$BUILD_ABS
        export ASAN_OPTIONS=detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
        export UBSAN_OPTIONS=print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
        export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
        exec 9>&- # the run's lock stays with the run, not with what a test leaves behind
        timeout -k 10 "$TEST_TIMEOUT" "$@"
    ) </dev/null >"$log" 2>&1
    rc=$?
    # TSan of clang 14 cannot start under a high-entropy address layout: retry without ASLR.
    if [ "$rc" -ne 0 ] && [ "$config" = tsan ] && grep -q 'unexpected memory mapping' "$log" &&
        have setarch; then
        (
            export TEST_ROOT=$ROOT TEST_CONFIG=$config TEST_TMPDIR=$tmp TEST_BUILD=$BUILD_ABS
            export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
            exec 9>&-
            timeout -k 10 "$TEST_TIMEOUT" setarch "$(uname -m)" -R "$@"
        ) </dev/null >"$log" 2>&1
        rc=$?
    fi
    t1=$(date +%s%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

    local summary p=0 f=0 s reason=""
    summary=$(grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -n "$summary" ]; then
        p=$(sed -E 's/^([A-Za-z_-]+: )?([0-9]+) passed.*/\2/' <<<"$summary")
        f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$summary")
    fi
    s=$(grep -c '^SKIPPED:' "$log")
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        reason="timed out after ${TEST_TIMEOUT}s"
        [ "$f" -eq 0 ] && f=1
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        reason="exit status $rc"
        f=1
    elif [ -z "$summary" ] && [ "$s" -eq 0 ]; then
        reason="no 'N passed, N failed' line"
        f=1
    fi
    record "$label" "$p" "$f" "$s" "$secs" "$reason"
    if [ "$f" -gt 0 ]; then
        show_output "$log"
    elif [ "$s" -gt 0 ]; then
        grep '^SKIPPED:' "$log" | sed 's/^/    /'
    fi
}

# ---- build jobs ----------------------------------------------------------------------------

IMPL_PRESENT=0
grep -q 'OTEL_IMPLEMENTATION_INCLUDED' otel.h && IMPL_PRESENT=1

# build_job KIND CONFIG NAME SRC: writes $OUT/CONFIG/NAME (the binary) and NAME.log.
build_job() {
    local kind=$1 config=$2 name=$3 src=$4
    local dir=$OUT/$config
    local bin=$dir/$name log=$dir/$name.log
    local -a flags cmd link
    mapfile -t flags < <(config_flags "$config")
    rm -f "$bin" "$log"
    case $kind in
    c)
        read -r -a link <<<"$(sed -n 's|^/\* link: \(.*\) \*/.*|\1|p' "$src" | tr '\n' ' ')"
        cmd=("$(config_cc "$config")" "${flags[@]}" "$src" -o "$bin" "${link[@]}" -lm)
        { echo "+ ${cmd[*]}"; "${cmd[@]}"; } >"$log" 2>&1
        ;;
    ex) # an example under a sanitizer: into $OUT/CONFIG/examples/
        bin=$dir/examples/$name log=$dir/examples/$name.log
        mkdir -p "$dir/examples"
        rm -f "$bin" "$log"
        read -r -a link <<<"$(sed -n 's|^/\* link: \(.*\) \*/.*|\1|p' "$src" | tr '\n' ' ')"
        cmd=("$(config_cc "$config")" "${flags[@]}" "$src" -o "$bin" "${link[@]}")
        { echo "+ ${cmd[*]}"; "${cmd[@]}"; } >"$log" 2>&1
        ;;
    cpp) # C++11, linked with the implementation compiled as C11 (as a C++ program uses it)
        local cxx impl=$dir/$name.impl.c
        cxx=$(config_cxx "$config")
        {
            cmd=("$cxx" -std=c++11 -O1 -g -Wall -Wextra -Werror -pthread -I. -c "$src" -o "$bin.o")
            echo "+ ${cmd[*]}"
            "${cmd[@]}" || exit 1
            if [ "$IMPL_PRESENT" = 1 ]; then
                printf '#define OTEL_IMPLEMENTATION\n#include "otel.h"\n' >"$impl"
                cmd=("$(config_cc "$config")" "${flags[@]}" -c "$impl" -o "$bin.impl.o")
                echo "+ ${cmd[*]}"
                "${cmd[@]}" || exit 1
                cmd=("$cxx" -pthread "$bin.o" "$bin.impl.o" -o "$bin" -lm)
            else
                cmd=("$cxx" -pthread "$bin.o" -o "$bin")
            fi
            echo "+ ${cmd[*]}"
            "${cmd[@]}" || exit 1
        } >"$log" 2>&1
        ;;
    c99)
        local cc impl=$dir/$name.impl.c
        cc=$(config_cc "$config")
        {
            cmd=("$cc" -std=c99 -Wpedantic -Wall -Wextra -Werror -O1 -g -pthread -I.
                 -c "$src" -o "$bin.o")
            echo "+ ${cmd[*]}"
            "${cmd[@]}" || exit 1
            if [ "$IMPL_PRESENT" = 1 ]; then
                printf '#define OTEL_IMPLEMENTATION\n#include "otel.h"\n' >"$impl"
                [ -f otel_otlp.h ] &&
                    printf '#define OTEL_OTLP_IMPLEMENTATION\n#include "otel_otlp.h"\n' >>"$impl"
                cmd=("$cc" "${flags[@]}" -c "$impl" -o "$bin.impl.o")
                echo "+ ${cmd[*]}"
                "${cmd[@]}" || exit 1
                cmd=("$cc" -pthread "$bin.o" "$bin.impl.o" -o "$bin" -lm)
                echo "+ ${cmd[*]}"
                "${cmd[@]}" || exit 1
            else
                echo "otel.h has no implementation yet: compile-only check"
                touch "$bin.compile-only"
            fi
        } >"$log" 2>&1
        ;;
    esac
}

# ---- plan ------------------------------------------------------------------------------------

mkdir -p "$OUT" || exit 2
# One run at a time per build directory (see the top): the lock is released when we exit.
if have flock; then
    exec 9>"$OUT/.lock"
    if ! flock -n 9; then
        echo "tests/run.sh: another run is using $OUT; waiting for it (or set BUILD=...)"
        flock 9
    fi
fi
RUN_T0=$(date +%s) # after the wait
rm -rf "$OUT/logs" "$OUT/tmp"

c_tests=()
for src in tests/test_*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    selected "$name" && c_tests+=("$name")
done

scripts=()
for src in tests/test_*.sh; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .sh)
    selected "$name" && scripts+=("$name")
done

jobs=()     # "kind config name src"
plan=()     # "kind config name" in run order
skipped_configs=()
for config in "${configs[@]}"; do
    if ! cc=$(config_cc "$config"); then
        echo "tests/run.sh: unknown configuration '$config' (gcc clang asan tsan)" >&2
        exit 2
    fi
    if ! have "$cc"; then
        skipped_configs+=("$config:$cc")
        continue
    fi
    mkdir -p "$OUT/$config"
    for name in "${c_tests[@]}"; do
        src=tests/$name.c
        if [ "$config" = tsan ] && ! grep -qF '/* tsan */' "$src"; then continue; fi
        jobs+=("c $config $name $src")
        plan+=("c $config $name")
    done
    if [ -f tests/test_compile.cpp ] && selected test_compile && cxx=$(config_cxx "$config"); then
        if have "$cxx"; then
            jobs+=("cpp $config test_compile tests/test_compile.cpp")
            plan+=("cpp $config test_compile")
        else
            skipped_configs+=("$config/test_compile:$cxx")
        fi
    fi
    if { [ "$config" = asan ] || [ "$config" = tsan ]; } && selected examples; then
        for src in examples/*.c; do
            [ -e "$src" ] || continue
            jobs+=("ex $config $(basename "$src" .c) $src")
        done
        plan+=("exrun $config examples")
    fi
    if [ -f tests/api_c99.c ] && selected api_c99 && { [ "$config" = gcc ] || [ "$config" = clang ]; }; then
        jobs+=("c99 $config api_c99 tests/api_c99.c")
        plan+=("c99 $config api_c99")
    fi
done

run_make=0 run_examples=0
selected build && run_make=1
selected examples && run_examples=1

if [ "${#plan[@]}" -eq 0 ] && [ "${#scripts[@]}" -eq 0 ] && [ "$run_make" = 0 ] &&
    [ "$run_examples" = 0 ]; then
    echo "tests/run.sh: nothing matches TESTS='${TESTS:-}'" >&2
    exit 2
fi

echo "tests/run.sh: configurations: ${configs[*]}; ${#jobs[@]} builds, $JOBS at a time;" \
    "${#scripts[@]} script(s); build directory $BUILD"

# ---- make all (examples and tools; tests may use the tools) --------------------------------

target=all label=build
if [ "$run_make" = 0 ] && [ "$run_examples" = 0 ]; then
    target=tools label=build/tools # a filtered run still needs the tools
fi
mkdir -p "$OUT/logs"
t0=$(date +%s)
if "$MAKE" --no-print-directory -s BUILD="$BUILD" "$target" >"$OUT/logs/build.out" 2>&1 9>&-; then
    [ "$run_make" = 1 ] && record "$label" 1 0 0 "$(($(date +%s) - t0))"
else
    record "$label" 0 1 0 "$(($(date +%s) - t0))" "make $target failed"
    show_output "$OUT/logs/build.out"
fi

# ---- build the tests, JOBS at a time ---------------------------------------------------------

running=0
for job in "${jobs[@]}"; do
    # shellcheck disable=SC2086  # the job string is four words
    build_job $job &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

for sc in "${skipped_configs[@]}"; do
    echo "SKIPPED: ${sc%%:*} (${sc##*:} not installed)"
    total_skip=$((total_skip + 1))
done

# ---- run, one at a time ------------------------------------------------------------------------

for entry in "${plan[@]}"; do
    read -r kind config name <<<"$entry"
    bin=$OUT/$config/$name
    label=$config/$name
    if [ "$kind" = exrun ]; then
        broken=0
        for src in examples/*.c; do
            [ -e "$src" ] || continue
            ex=$OUT/$config/examples/$(basename "$src" .c)
            if [ ! -x "$ex" ]; then
                record "$config/$(basename "$src" .c)" 0 1 0 0 "build failed"
                show_output "$ex.log"
                broken=1
            fi
        done
        [ "$broken" = 0 ] &&
            run_binary "$label" "$config" env EXAMPLES_BIN="$OUT/$config/examples" bash tests/examples.sh
        continue
    fi
    if [ "$kind" = c99 ] && [ -e "$bin.compile-only" ]; then
        record "$label" 1 0 0 0 "compile only: no implementation yet"
        rm -f "$bin.compile-only"
        continue
    fi
    if [ ! -x "$bin" ]; then
        record "$label" 0 1 0 0 "build failed"
        show_output "$bin.log"
        continue
    fi
    run_binary "$label" "$config" "$bin"
done

for name in "${scripts[@]}"; do
    run_binary "$name" script bash "tests/$name.sh"
done

if [ "$run_examples" = 1 ]; then
    run_binary examples examples env EXAMPLES_BIN="$BUILD_ABS/examples" bash tests/examples.sh
fi

# ---- summary -----------------------------------------------------------------------------------

if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
secs=$(($(date +%s) - RUN_T0))
echo "tests/run.sh: $((secs / 60))m$((secs % 60))s"
line="$total_pass passed, $total_fail failed"
[ "$total_skip" -gt 0 ] && line="$line, $total_skip skipped"
echo "$line"
[ "$total_fail" -eq 0 ]
