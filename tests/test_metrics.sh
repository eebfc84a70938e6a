#!/usr/bin/env bash
# tests/test_metrics.sh - the metrics examples, built here and run with their own readers and
# with the OTEL_* variables that redirect them; what they print is read back with python3's
# json module (tests/json_check.py). Prints "N passed, N failed".
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
TMP=${TEST_TMPDIR:-$(mktemp -d)}
CC=${CC:-cc}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*" >&2
}
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^OTEL_' || true)

for ex in metrics dual_export_metrics multi_destination_metrics; do
    if $CC -std=c11 -O1 -Wall -Wextra -Werror -pthread -I. "examples/$ex.c" -o "$TMP/$ex" 2>"$TMP/$ex.build"; then
        ok
    else
        bad "$ex: build"
        cat "$TMP/$ex.build" >&2
    fi
done
have_python=1
command -v python3 >/dev/null 2>&1 || { have_python=0; echo "SKIPPED: metrics examples JSON checks (python3 not installed)"; }

# run NAME ARGS... (env set by the caller with `env`): stdout -> $TMP/out, stderr -> $TMP/err
run() {
    local rc
    timeout -k 5 60 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    rc=$?
    [ "$rc" -eq 0 ] || { echo "--- $* exited $rc" >&2; head -n 20 "$TMP/err" >&2; }
    return "$rc"
}

# CHECK_ROLLS temporality min_objects: the console objects of examples/metrics
CHECK_ROLLS='
import json, subprocess, sys
lines = subprocess.run([sys.executable, "tests/json_check.py", "--stream", sys.argv[1]], check=True,
                       capture_output=True, text=True).stdout.splitlines()
objs = [json.loads(l) for l in lines]
want_t, min_n = int(sys.argv[2]), int(sys.argv[3])
assert len(objs) >= min_n, len(objs)
totals = []
for o in objs:
    rm = o["resource_metrics"][0]
    assert rm["resource"]["attributes"]["service.name"] == "metrics-example"
    sm = rm["scope_metrics"][0]
    assert sm["scope"]["name"] == "examples.metrics" and sm["scope"]["version"] == "1.0.0"
    m = sm["metrics"][0]
    assert m["name"] == "dice.rolls" and m["unit"] == "{roll}", m
    d = m["data"]
    assert d["aggregation_temporality"] == want_t and d["is_monotonic"] is True
    for p in d["data_points"]:
        assert 1 <= p["attributes"]["roll.value"] <= 6 and p["value"] >= 1
        assert p["start_time_unix_nano"] <= p["time_unix_nano"]
    totals.append(sum(p["value"] for p in d["data_points"]))
if want_t == 2:
    assert totals == sorted(totals), totals  # cumulative: never goes down
'

if run "$TMP/metrics" --seconds 2.5; then ok; else bad "metrics: exit status"; fi
if [ "$have_python" = 1 ]; then
    if python3 -c "$CHECK_ROLLS" "$TMP/out" 2 2; then ok; else bad "metrics: console JSON (see $TMP/out)"; fi
fi
if run env OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE=DELTA "$TMP/metrics" --seconds 2.5; then ok; else bad "metrics delta: exit"; fi
if [ "$have_python" = 1 ]; then
    if python3 -c "$CHECK_ROLLS" "$TMP/out" 1 2; then ok; else bad "metrics: delta via the Python guide's variable name"; fi
fi
if run env OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=sideways "$TMP/metrics" --seconds 0.2 &&
    grep -q 'not CUMULATIVE, DELTA or LOWMEMORY; using CUMULATIVE' "$TMP/err"; then
    ok
else
    bad "metrics: a bad temporality is a warning"
fi
if [ "$have_python" = 1 ]; then
    if python3 -c "$CHECK_ROLLS" "$TMP/out" 2 1; then ok; else bad "metrics: bad temporality -> cumulative"; fi
fi
if run env OTEL_EXPORTER_CONSOLE_FORMAT=compact "$TMP/metrics" --seconds 0.2 && [ "$(grep -c . "$TMP/out")" -eq 1 ]; then
    ok
else
    bad "metrics: compact format is one line per collection"
fi
if [ "$have_python" = 1 ]; then
    if python3 tests/json_check.py --lines "$TMP/out" >/dev/null; then ok; else bad "metrics: compact JSON lines"; fi
fi
if run env OTEL_METRICS_EXPORTER=none "$TMP/metrics" --seconds 0.2 && [ ! -s "$TMP/out" ]; then
    ok
else
    bad "metrics: OTEL_METRICS_EXPORTER=none prints nothing"
fi
if run env OTEL_SDK_DISABLED=true "$TMP/metrics" --seconds 0.2 && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ]; then
    ok
else
    bad "metrics: OTEL_SDK_DISABLED=true prints nothing"
fi
# the variable decides: console from the name, with the env interval
if run env OTEL_METRICS_EXPORTER=console OTEL_METRIC_EXPORT_INTERVAL=300 "$TMP/metrics" --seconds 1.5 &&
    [ "$(grep -c '"resource_metrics"' "$TMP/out")" -ge 3 ]; then
    ok
else
    bad "metrics: OTEL_METRICS_EXPORTER=console with OTEL_METRIC_EXPORT_INTERVAL=300"
fi

if run "$TMP/dual_export_metrics" --seconds 0.5 && grep -q 'serving Prometheus only' "$TMP/err" &&
    grep -q 'simulated requests' "$TMP/err"; then
    ok
else
    bad "dual_export_metrics: runs without an OTLP endpoint"
fi
if run env OTEL_METRICS_EXPORTER=prometheus,otlp "$TMP/dual_export_metrics" --seconds 0.3; then
    ok
else
    bad "dual_export_metrics: OTEL_METRICS_EXPORTER=prometheus,otlp"
fi

if run "$TMP/multi_destination_metrics" --seconds 1.2 && grep -q '^reader console: [1-9]' "$TMP/err"; then
    ok
else
    bad "multi_destination_metrics: console reader exported"
fi
if [ "$have_python" = 1 ]; then
    if python3 - "$TMP/out" <<'PY'; then ok; else bad "multi_destination_metrics: console JSON"; fi
import json, subprocess, sys
lines = subprocess.run([sys.executable, "tests/json_check.py", "--stream", sys.argv[1]], check=True,
                       capture_output=True, text=True).stdout.splitlines()
last = json.loads(lines[-1])
ms = {m["name"]: m for m in last["resource_metrics"][0]["scope_metrics"][0]["metrics"]}
req = sum(p["value"] for p in ms["app.requests"]["data"]["data_points"])
h = ms["app.response.size"]["data"]["data_points"]
assert sum(p["count"] for p in h) == req and all(len(p["bucket_counts"]) == 4 for p in h), (req, h)
assert all(sum(p["bucket_counts"]) == p["count"] and p["min"] <= p["max"] for p in h)
PY
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
