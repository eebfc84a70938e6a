#!/usr/bin/env bash
# tests/examples.sh - runs the built examples (build/examples/*, from `make all`) and checks
# what they print and write: the console output parses as JSON, the file destination holds
# OTLP JSON lines with the same spans, and the OTEL_* variables redirect the same binary.
# tests/run.sh calls it as the pseudo-test "examples"; it prints "N passed, N failed".
# Without python3 the JSON checks are skipped ("SKIPPED: ...") and the rest still runs.
# An example whose source contains  /* examples.sh: skip */  is left out (e.g. one that needs
# a live receiver); any other example must at least exit 0 with OTEL_TRACES_EXPORTER=console.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD
BIN=${EXAMPLES_BIN:-$ROOT/build/examples} # run.sh points it at sanitizer builds
SCRATCH=${TEST_TMPDIR:-$(mktemp -d)}
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
    echo "SKIPPED: examples JSON output checks (python3 not installed)"
fi

# run NAME DIR [VAR=VALUE...]: runs build/examples/NAME in DIR (created empty) with the
# variables set; stdout to DIR/out, stderr to DIR/err. Returns the exit status.
run() {
    local name=$1 dir=$2
    shift 2
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dir" && env "$@" timeout -k 5 60 "$BIN/$name") >"$dir/out" 2>"$dir/err" </dev/null
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "--- $name exited $rc; stderr:" >&2
        head -n 40 "$dir/err" >&2
    fi
    return "$rc"
}

# py SCRIPT ARGS...: a python check; prints why on failure.
py() {
    local script=$1
    shift
    python3 -c "$script" "$@"
}

# Console spans (pretty JSON stream) as one compact object per line.
CONSOLE_SPANS='
import json, re, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
names = sys.argv[2].split(",")
assert sorted(s["name"] for s in spans) == sorted(names), [s["name"] for s in spans]
by = {s["name"]: s for s in spans}
hexre = re.compile(r"^0x[0-9a-f]{32}$")
tids = {s["context"]["trace_id"] for s in spans}
assert len(tids) == 1 and hexre.match(tids.pop()), "one trace id, 0x + 32 hex"
for s in spans:
    assert re.match(r"^0x[0-9a-f]{16}$", s["context"]["span_id"]), s["context"]
    assert s["start_time"].endswith("Z") and s["end_time"].endswith("Z"), s["start_time"]
    assert s["start_time"] <= s["end_time"]
for pair in sys.argv[3].split(",") if len(sys.argv) > 3 else []:
    child, parent = pair.split(">")
    want = None if parent == "-" else by[parent]["context"]["span_id"]
    assert by[child]["parent_id"] == want, (child, by[child]["parent_id"], want)
'

# OTLP JSON lines: every span name, and (optionally) the span ids match a console capture.
FILE_SPANS='
import json, sys
names = []
ids = set()
for line in open(sys.argv[1]):
    req = json.loads(line)
    for rs in req["resourceSpans"]:
        keys = [a["key"] for a in rs["resource"]["attributes"]]
        assert "service.name" in keys, keys
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                names.append(s["name"])
                ids.add(s["spanId"])
                assert len(s["traceId"]) == 32 and len(s["spanId"]) == 16, s
assert sorted(names) == sorted(sys.argv[2].split(",")), names
if len(sys.argv) > 3:
    console = {json.loads(l)["context"]["span_id"][2:] for l in open(sys.argv[3])}
    assert console == ids, (console, ids)
'

json_stream() { # FILE OUT: pretty JSON stream -> compact lines
    python3 tests/json_check.py --stream "$1" >"$2"
}
json_lines() {
    python3 tests/json_check.py --lines "$1" >"$2"
}

# ---- getting_started -------------------------------------------------------------------------

check_getting_started() {
    local d=$SCRATCH/getting_started
    if run getting_started "$d"; then ok; else bad "getting_started: exit status"; return; fi
    if [ "$have_python" = 1 ]; then
        if json_stream "$d/out" "$d/spans" &&
            py "$CONSOLE_SPANS" "$d/spans" foo,bar,baz "foo>-,bar>foo,baz>bar"; then
            ok
        else
            bad "getting_started: console output (see $d/out)"
        fi
        if grep -q '"getting-started"' "$d/out"; then ok; else bad "getting_started: service.name"; fi
    fi
    # The environment picks the destinations of the same binary.
    d=$SCRATCH/getting_started_file
    if run getting_started "$d" OTEL_TRACES_EXPORTER=file OTEL_EXPORTER_FILE_TRACES_PATH=spans.jsonl &&
        [ ! -s "$d/out" ] && [ -s "$d/spans.jsonl" ]; then
        ok
    else
        bad "getting_started: OTEL_TRACES_EXPORTER=file writes spans.jsonl and nothing on stdout"
    fi
    if [ "$have_python" = 1 ] && [ -s "$d/spans.jsonl" ]; then
        if json_lines "$d/spans.jsonl" "$d/lines" && py "$FILE_SPANS" "$d/lines" foo,bar,baz; then
            ok
        else
            bad "getting_started: OTLP JSON lines in $d/spans.jsonl"
        fi
    fi
    d=$SCRATCH/getting_started_none
    if run getting_started "$d" OTEL_TRACES_EXPORTER=none && [ ! -s "$d/out" ]; then
        ok
    else
        bad "getting_started: OTEL_TRACES_EXPORTER=none prints nothing"
    fi
    d=$SCRATCH/getting_started_disabled
    if run getting_started "$d" OTEL_SDK_DISABLED=true && [ ! -s "$d/out" ]; then
        ok
    else
        bad "getting_started: OTEL_SDK_DISABLED=true prints nothing"
    fi
    d=$SCRATCH/getting_started_compact
    if run getting_started "$d" OTEL_EXPORTER_CONSOLE_FORMAT=compact &&
        [ "$(grep -c . "$d/out")" -eq 3 ]; then
        ok
    else
        bad "getting_started: OTEL_EXPORTER_CONSOLE_FORMAT=compact prints 3 lines"
    fi
}

# ---- multi_destination_traces ----------------------------------------------------------------

check_multi_destination() {
    local name=multi_destination_traces spans=handle-request,fetch-data,process-data
    local d=$SCRATCH/$name
    if run "$name" "$d"; then ok; else bad "$name: exit status"; return; fi
    if [ -s "$d/traces.jsonl" ]; then ok; else bad "$name: no traces.jsonl in the working directory"; fi
    if [ "$have_python" = 1 ]; then
        if json_stream "$d/out" "$d/spans" &&
            py "$CONSOLE_SPANS" "$d/spans" "$spans" \
                "handle-request>-,fetch-data>handle-request,process-data>handle-request" &&
            json_lines "$d/traces.jsonl" "$d/lines" &&
            py "$FILE_SPANS" "$d/lines" "$spans" "$d/spans"; then
            ok
        else
            bad "$name: console and file hold the same spans (see $d)"
        fi
    fi
    if grep -q 'destination' "$d/err"; then ok; else bad "$name: per-destination counters on stderr"; fi
    d=$SCRATCH/${name}_path
    if run "$name" "$d" OTEL_EXPORTER_FILE_PATH=other.jsonl OTEL_TRACES_EXPORTER=file &&
        [ -s "$d/other.jsonl" ] && [ ! -e "$d/traces.jsonl" ] && [ ! -s "$d/out" ]; then
        ok
    else
        bad "$name: OTEL_EXPORTER_FILE_PATH and OTEL_TRACES_EXPORTER=file"
    fi
}

# ---- custom_exporter -------------------------------------------------------------------------

check_custom_exporter() {
    local d=$SCRATCH/custom_exporter
    if run custom_exporter "$d"; then ok; else bad "custom_exporter: exit status"; return; fi
    if [ "$(grep -c 'us [0-9]* attrs' "$d/out")" -eq 4 ] &&
        grep -q '^checkout .* order.items=\["book","pen"\]' "$d/out" &&
        grep -q '^charge-card .* step=2 ' "$d/out" &&
        grep -q '^total: 4 spans in ' "$d/out"; then
        ok
    else
        bad "custom_exporter: one line per span and a total (see $d/out)"
    fi
}

# ---- every example ---------------------------------------------------------------------------

for src in examples/*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    if grep -qF '/* examples.sh: skip */' "$src"; then
        echo "examples.sh: $name left out (marked skip)"
        continue
    fi
    if [ ! -x "$BIN/$name" ]; then
        bad "$name: $BIN/$name not built (run make)"
        continue
    fi
    case $name in
        getting_started) check_getting_started ;;
        multi_destination_traces) check_multi_destination ;;
        custom_exporter) check_custom_exporter ;;
        *)
            if run "$name" "$SCRATCH/$name" OTEL_TRACES_EXPORTER=console; then
                ok
            else
                bad "$name: exit status with OTEL_TRACES_EXPORTER=console"
            fi
            ;;
    esac
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
