#!/usr/bin/env bash
# tests/test_logs.sh - builds examples/multi_destination_logs.c with plain `cc -pthread` (and
# once more with -Wall -Wextra -Werror), runs it with and without OTEL_LOGS_EXPORTER, and
# checks its console output and its JSON Lines file with python3's json parser, field by
# field (tests/logs_check.py: OTLP/JSON field names, severities, bodies, attributes, trace
# correlation, the same records in both). Prints "N passed, N failed".
# Without python3 the JSON checks print "SKIPPED: ..." and the rest still runs.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD
SCRATCH=${TEST_TMPDIR:-$(mktemp -d)}
CC=${CC:-cc}
pass=0 fail=0

while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^OTEL_' || true)

ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*" >&2
}

have_python=0
if command -v python3 >/dev/null 2>&1; then
    have_python=1
else
    echo "SKIPPED: test_logs.sh JSON checks (python3 not installed)"
fi

BIN=$SCRATCH/multi_destination_logs
if "$CC" -pthread examples/multi_destination_logs.c -o "$BIN" 2>"$SCRATCH/build.err"; then
    ok
else
    bad "cc -pthread examples/multi_destination_logs.c"
    cat "$SCRATCH/build.err" >&2
    echo "$pass passed, $fail failed"
    exit 1
fi
if "$CC" -std=c11 -Wall -Wextra -Werror -pthread examples/multi_destination_logs.c -o "$BIN.strict" 2>"$SCRATCH/build2.err"; then
    ok
else
    bad "the example builds with -std=c11 -Wall -Wextra -Werror"
    cat "$SCRATCH/build2.err" >&2
fi

# run DIR [VAR=VALUE...]: runs the example in DIR (created empty); stdout to DIR/out, stderr
# to DIR/err. Returns its exit status; slower than 10 s counts as a failure.
run() {
    local dir=$1
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    local t0 t1 rc
    t0=$(date +%s%N)
    (cd "$dir" && env "$@" timeout -k 5 60 "$BIN") >"$dir/out" 2>"$dir/err" </dev/null
    rc=$?
    t1=$(date +%s%N)
    if [ "$rc" -ne 0 ]; then
        echo "--- exited $rc; stderr:" >&2
        head -n 40 "$dir/err" >&2
    elif [ $(((t1 - t0) / 1000000)) -gt 10000 ]; then
        echo "--- took $(((t1 - t0) / 1000000)) ms" >&2
        return 1
    fi
    return "$rc"
}

check() { # MODE FILE...: the python field checks
    [ "$have_python" = 1 ] || return 0
    python3 "$ROOT/tests/logs_check.py" "$@"
}

# Default: console (pretty JSON) and logs.jsonl, the same two records in both.
d=$SCRATCH/default
if run "$d"; then ok; else bad "default run: exit status"; fi
if [ -s "$d/logs.jsonl" ] && [ "$(wc -l <"$d/logs.jsonl")" -ge 1 ]; then ok; else bad "default run: no logs.jsonl"; fi
if [ ! -e "$d/traces.jsonl" ]; then ok; else bad "default run: spans are not written anywhere"; fi
if check example-console "$d/out"; then ok; else bad "default run: console records (see $d/out)"; fi
if check example-otlp "$d/logs.jsonl"; then ok; else bad "default run: OTLP JSON lines (see $d/logs.jsonl)"; fi
if check example-same "$d/out" "$d/logs.jsonl"; then ok; else bad "default run: console and file differ"; fi
if grep -q '^log destination console: 2 exported, 0 dropped, 0 failed$' "$d/err" &&
    grep -q '^log destination file: 2 exported, 0 dropped, 0 failed$' "$d/err"; then
    ok
else
    bad "default run: per-destination counters on stderr (see $d/err)"
fi
if ! grep -q 'otel: \(warn\|error\)' "$d/err"; then ok; else bad "default run: warnings on stderr (see $d/err)"; fi

# OTEL_LOGS_EXPORTER decides: exactly the named destinations.
d=$SCRATCH/file_only
if run "$d" OTEL_LOGS_EXPORTER=file && [ ! -s "$d/out" ] && [ -s "$d/logs.jsonl" ]; then
    ok
else
    bad "OTEL_LOGS_EXPORTER=file: the file and nothing on stdout"
fi
if check example-otlp "$d/logs.jsonl"; then ok; else bad "OTEL_LOGS_EXPORTER=file: OTLP JSON lines"; fi
d=$SCRATCH/console_only
if run "$d" OTEL_LOGS_EXPORTER=console && [ ! -e "$d/logs.jsonl" ] && check example-console "$d/out"; then
    ok
else
    bad "OTEL_LOGS_EXPORTER=console: stdout only"
fi
d=$SCRATCH/none
if run "$d" OTEL_LOGS_EXPORTER=none && [ ! -s "$d/out" ] && [ ! -e "$d/logs.jsonl" ]; then
    ok
else
    bad "OTEL_LOGS_EXPORTER=none: no output"
fi
d=$SCRATCH/paths
if run "$d" OTEL_LOGS_EXPORTER=file OTEL_EXPORTER_FILE_PATH=all.jsonl && [ -s "$d/all.jsonl" ] &&
    [ ! -e "$d/logs.jsonl" ] && check example-otlp "$d/all.jsonl"; then
    ok
else
    bad "OTEL_EXPORTER_FILE_PATH names the file"
fi
if run "$d" OTEL_LOGS_EXPORTER=file OTEL_EXPORTER_FILE_PATH=all.jsonl OTEL_EXPORTER_FILE_LOGS_PATH=logs-only.jsonl &&
    [ -s "$d/logs-only.jsonl" ] && [ ! -e "$d/all.jsonl" ]; then
    ok
else
    bad "OTEL_EXPORTER_FILE_LOGS_PATH wins over OTEL_EXPORTER_FILE_PATH"
fi
d=$SCRATCH/compact
if run "$d" OTEL_LOGS_EXPORTER=console OTEL_EXPORTER_CONSOLE_FORMAT=compact && [ "$(grep -c . "$d/out")" -eq 2 ] &&
    check example-console "$d/out"; then
    ok
else
    bad "OTEL_EXPORTER_CONSOLE_FORMAT=compact: one line per record"
fi
# Traces to the console as well: the span "checkout" carries the records' trace id.
d=$SCRATCH/with_spans
if run "$d" OTEL_LOGS_EXPORTER=file OTEL_TRACES_EXPORTER=console && grep -q '"name": "checkout"' "$d/out"; then
    ok
    if [ "$have_python" = 1 ]; then
        if python3 - "$d/out" "$d/logs.jsonl" <<'EOF'; then ok; else bad "the error record's trace id is the span's"; fi
import json, sys
span = json.load(open(sys.argv[1]))
recs = [r for line in open(sys.argv[2]) for rl in json.loads(line)["resourceLogs"]
        for sl in rl["scopeLogs"] for r in sl["logRecords"]]
err = [r for r in recs if r["severityNumber"] == 17]
assert len(err) == 1
assert "0x" + err[0]["traceId"] == span["context"]["trace_id"], (err[0], span["context"])
assert "0x" + err[0]["spanId"] == span["context"]["span_id"]
EOF
    fi
else
    bad "OTEL_TRACES_EXPORTER=console prints the span"
fi
d=$SCRATCH/disabled
if run "$d" OTEL_SDK_DISABLED=true && [ ! -s "$d/out" ] && [ ! -e "$d/logs.jsonl" ]; then
    ok
else
    bad "OTEL_SDK_DISABLED=true: nothing"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
