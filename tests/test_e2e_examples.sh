#!/usr/bin/env bash
# tests/test_e2e_examples.sh - the examples against real peers (issues 5 and 6):
#   1. examples/dual_export_metrics.c with OTEL_EXPORTER_OTLP_ENDPOINT pointing at
#      tools/otlp_sink on 127.0.0.1 and the Prometheus reader on a free 127.0.0.1 port: a
#      curl scrape of its /metrics shows http_requests_total (and promtool accepts the text),
#      and the sink receives the same instruments over OTLP, whose counter total equals the
#      number of requests the example says it simulated.
#   2. examples/multi_destination_logs.c with OTEL_LOGS_EXPORTER=otlp to the sink: the sink
#      prints exactly its two records (body, severity, attributes, scope, resource; the
#      second one inside the span: trace and span ids, sampled flag).
#   3. tests/prom_e2e.c (real instruments, OTEL_METRICS_EXPORTER=prometheus): `promtool check
#      metrics` on what its reader serves: no complaint at all.
# Servers bind 127.0.0.1, run under time limits and are stopped by PID. Prints
# "N passed, N failed"; SKIPPED lines when curl, python3 or promtool is missing.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
TMP=${TEST_TMPDIR:-$(mktemp -d)}
mkdir -p "$TMP"
CC=${CC:-cc}
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^OTEL_' || true)

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}
have() { command -v "$1" >/dev/null 2>&1; }
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
}
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

# ---- build ---------------------------------------------------------------------------------

# (in parallel: the machine has 2 cores; each build writes its status to NAME.rc)
build() { # NAME SRC
    $CC -std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I. "$2" -o "$TMP/$1" -lm >"$TMP/$1.build" 2>&1
    echo $? >"$TMP/$1.rc"
}
built() { # NAME SRC
    if [ "$(cat "$TMP/$1.rc" 2>/dev/null)" = 0 ]; then ok; else
        bad "building $2"
        cat "$TMP/$1.build"
    fi
}
build dual examples/dual_export_metrics.c &
build multi_logs examples/multi_destination_logs.c &
build prom_e2e tests/prom_e2e.c
wait
built dual examples/dual_export_metrics.c
built multi_logs examples/multi_destination_logs.c
built prom_e2e tests/prom_e2e.c
SINK=${TEST_BUILD:-build}/tools/otlp_sink
if [ ! -x "$SINK" ]; then
    build otlp_sink tools/otlp_sink.c
    built otlp_sink tools/otlp_sink.c
    SINK=$TMP/otlp_sink
fi
[ "$fail" -eq 0 ] || finish

missing=""
for tool in curl python3; do have "$tool" || missing="$missing $tool"; done
if [ -n "$missing" ]; then
    echo "SKIPPED: test_e2e_examples.sh (${missing# } not installed)"
    finish
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for URL SECONDS: until curl gets an answer
wait_for() {
    local end=$((SECONDS + $2))
    while [ $SECONDS -lt $end ]; do
        curl -s --max-time 2 -o /dev/null "$1" && return 0
        sleep 0.2
    done
    return 1
}
# start_sink NAME: an otlp_sink on a free port, lines into $TMP/NAME.out; sets SINK_PORT, SINK_PID
start_sink() {
    rm -f "$TMP/$1.port" "$TMP/$1.out"
    "$SINK" --host 127.0.0.1 --port 0 --port-file "$TMP/$1.port" --out "$TMP/$1.out" --max-seconds 90 \
        >"$TMP/$1.log" 2>&1 &
    SINK_PID=$!
    pids+=("$SINK_PID")
    local end=$((SECONDS + 10))
    while [ ! -s "$TMP/$1.port" ] && [ $SECONDS -lt $end ]; do sleep 0.1; done
    SINK_PORT=$(cat "$TMP/$1.port" 2>/dev/null)
    [ -n "$SINK_PORT" ]
}
stop_pid() { # PID: SIGTERM, then wait for it
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# ---- 1. dual_export_metrics: Prometheus and OTLP at once ---------------------------------------

if start_sink dual-sink; then ok; else bad "otlp_sink did not start"; cat "$TMP/dual-sink.log"; finish; fi
PROM_PORT=$(free_port)
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1 \
    OTEL_EXPORTER_PROMETHEUS_PORT=$PROM_PORT timeout -k 5 60 "$TMP/dual" --seconds 4 \
    >"$TMP/dual.out" 2>"$TMP/dual.err" </dev/null &
DUAL_PID=$!
pids+=("$DUAL_PID")
if wait_for "http://127.0.0.1:$PROM_PORT/metrics" 10; then ok; else bad "dual_export_metrics never served /metrics"; fi
sleep 1 # a few simulated requests
curl -s --max-time 5 -D "$TMP/dual.headers" "http://127.0.0.1:$PROM_PORT/metrics" >"$TMP/dual.metrics"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$TMP/dual.headers" && ok ||
    bad "scrape Content-Type: $(grep -i content-type "$TMP/dual.headers")"
grep -q '^# TYPE http_requests_total counter$' "$TMP/dual.metrics" && ok || bad "no http_requests_total counter in the scrape"
grep -qE '^http_requests_total\{http_method="(GET|POST|DELETE)",http_route="[^"]+",otel_scope_name="dual-export-example",otel_scope_version="1.0.0"\} [1-9][0-9]*$' \
    "$TMP/dual.metrics" && ok || bad "no http_requests_total sample"
grep -q '^http_request_duration_milliseconds_bucket{.*le="+Inf"} [1-9]' "$TMP/dual.metrics" && ok || bad "no histogram bucket"
grep -q '^http_connections_active{' "$TMP/dual.metrics" && ok || bad "no http_connections_active"
grep -qE '^system_memory_usage_bytes\{otel_scope_name="dual-export-example",otel_scope_version="1.0.0",state="used"\} [1-9]' \
    "$TMP/dual.metrics" && ok || bad "no system_memory_usage_bytes"
grep -q '^target_info{service_name="dual-export-example",service_version="1.0.0",' "$TMP/dual.metrics" && ok || bad "no target_info"
if have promtool; then
    # the example's histogram is in milliseconds (seed 003's name): the one lint expected
    promtool check metrics <"$TMP/dual.metrics" >"$TMP/dual.promtool" 2>&1
    rc=$?
    unexpected=$(grep -vxF 'http_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"' "$TMP/dual.promtool")
    if { [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; } && [ -z "$unexpected" ]; then ok; else
        bad "promtool on dual_export_metrics' scrape (exit $rc):"
        sed 's/^/    /' "$TMP/dual.promtool"
    fi
else
    echo "SKIPPED: promtool check of dual_export_metrics' scrape (promtool not installed)"
fi
wait "$DUAL_PID"
rc=$?
[ "$rc" -eq 0 ] && ok || { bad "dual_export_metrics exited $rc"; cat "$TMP/dual.err"; }
sleep 0.3
stop_pid "$SINK_PID"
# The OTLP side: the last collection (at shutdown) is cumulative and holds every request.
served=$(sed -n 's/^dual_export_metrics: \([0-9]*\) simulated requests$/\1/p' "$TMP/dual.err")
[ -n "$served" ] && [ "$served" -gt 0 ] && ok || bad "dual_export_metrics did not say how many requests it simulated"
grep -q 'OTEL_EXPORTER_OTLP_ENDPOINT is not set' "$TMP/dual.err" && bad "dual_export_metrics ignored the endpoint" || ok
if python3 - "$TMP/dual-sink.out" "${served:-0}" "$TMP/dual.metrics" <<'EOF'; then ok; else bad "the sink's metrics from dual_export_metrics (above)"; fi
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
served = int(sys.argv[2])
assert lines, "the sink received no metrics"
for l in lines:
    assert l["resource"]["service.name"] == "dual-export-example", l["resource"]
    assert l["resource"]["service.version"] == "1.0.0"
    assert l["scope"] == {"name": "dual-export-example", "version": "1.0.0", "attributes": {}}, l["scope"]
last = max(int(l["timeUnixNano"]) for l in lines)
final = [l for l in lines if int(l["timeUnixNano"]) == last]  # one time per collection
by = {}
for l in final:
    by.setdefault(l["metric"]["name"], []).append(l)
assert set(by) == {"http_requests_total", "http_request_duration_milliseconds", "http_connections_active",
                   "system_memory_usage_bytes"}, sorted(by)
req = by["http_requests_total"]
m = req[0]["metric"]
assert m["type"] == "sum" and m["isMonotonic"] is True and m["aggregationTemporality"] == 2 and m["unit"] == "1", m
assert m["description"] == "Total number of HTTP requests"
total = sum(p["asInt"] for p in req)
assert total == served, "counter total %d, simulated %d" % (total, served)
for p in req:
    assert set(p["attributes"]) == {"http_method", "http_route"}, p["attributes"]
    assert p["attributes"]["http_method"] in ("GET", "POST", "DELETE")
    assert 0 < int(p["startTimeUnixNano"]) <= int(p["timeUnixNano"])
hist = by["http_request_duration_milliseconds"]
assert hist[0]["metric"]["type"] == "histogram" and hist[0]["metric"]["unit"] == "ms"
assert sum(p["count"] for p in hist) == served
for p in hist:
    assert p["explicitBounds"] == [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]
    assert sum(p["bucketCounts"]) == p["count"] and 5 <= p["min"] <= p["max"] < 205, p
act = by["http_connections_active"]
assert len(act) == 1 and act[0]["asInt"] == 0 and act[0]["metric"]["isMonotonic"] is False
mem = by["system_memory_usage_bytes"]
assert len(mem) == 1 and mem[0]["metric"]["type"] == "gauge" and mem[0]["asInt"] > 0
assert mem[0]["attributes"] == {"state": "used"}
# the scrape earlier saw a part of the same counters: never more than the final totals
final_by_attrs = {(p["attributes"]["http_method"], p["attributes"]["http_route"]): p["asInt"] for p in req}
for line in open(sys.argv[3], encoding="utf-8"):
    g = re.match(r'http_requests_total\{http_method="(\w+)",http_route="([^"]+)",.*\} (\d+)$', line)
    if g:
        assert int(g.group(3)) <= final_by_attrs[(g.group(1), g.group(2))], line
print("dual_export_metrics over OTLP: %d requests, %d series" % (total, len(req)))
EOF

# ---- 2. multi_destination_logs to the sink -------------------------------------------------------

if start_sink logs-sink; then ok; else bad "otlp_sink did not start"; cat "$TMP/logs-sink.log"; finish; fi
OTEL_LOGS_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" timeout -k 5 60 "$TMP/multi_logs" \
    >"$TMP/logs.out" 2>"$TMP/logs.err" </dev/null
rc=$?
[ "$rc" -eq 0 ] && ok || { bad "multi_destination_logs exited $rc"; cat "$TMP/logs.err"; }
grep -qx 'log destination otlp: 2 exported, 0 dropped, 0 failed' "$TMP/logs.err" && ok ||
    { bad "multi_destination_logs' counters:"; cat "$TMP/logs.err"; }
[ ! -s "$TMP/logs.out" ] && ok || bad "multi_destination_logs printed to stdout with OTEL_LOGS_EXPORTER=otlp"
sleep 0.3
stop_pid "$SINK_PID"
if python3 - "$TMP/logs-sink.out" <<'EOF'; then ok; else bad "the sink's log records from multi_destination_logs (above)"; fi
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
assert len(recs) == 2, "%d records: %r" % (len(recs), recs)
hello, failed = recs
for r in recs:
    assert r["resource"]["service.name"] == "multi-destination-logs", r["resource"]
    assert r["resource"]["telemetry.sdk.language"] == "c"
    assert r["scope"] == {"name": "multi_destination_logs", "version": "1.0.0", "attributes": {}}, r["scope"]
    assert r["droppedAttributesCount"] == 0 and r["eventName"] == ""
    assert r["timeUnixNano"] == r["observedTimeUnixNano"] and int(r["timeUnixNano"]) > 0  # printf-style
assert hello["body"] == "hello from otel.h" and hello["severityNumber"] == 9 and hello["severityText"] == "INFO"
assert hello["attributes"] == {"user.id": 42}
assert hello["traceId"] == "" and hello["spanId"] == "" and hello["flags"] == 0  # outside any span
assert failed["body"] == "payment failed" and failed["severityNumber"] == 17 and failed["severityText"] == "ERROR"
assert failed["attributes"] == {"order.id": 1001}
assert re.fullmatch(r"[0-9a-f]{32}", failed["traceId"]) and failed["traceId"] != "0" * 32, failed["traceId"]
assert re.fullmatch(r"[0-9a-f]{16}", failed["spanId"]) and failed["spanId"] != "0" * 16, failed["spanId"]
assert failed["flags"] == 1  # sampled: inside the span "checkout"
assert int(hello["timeUnixNano"]) <= int(failed["timeUnixNano"])
print("multi_destination_logs over OTLP: 2 records")
EOF

# ---- 3. promtool on what the real Prometheus reader serves ---------------------------------------

if have promtool; then
    PORT=$(free_port)
    OTEL_METRICS_EXPORTER=prometheus OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1 OTEL_EXPORTER_PROMETHEUS_PORT=$PORT \
        timeout -k 5 60 "$TMP/prom_e2e" --seconds 30 >"$TMP/prom_e2e.out" 2>&1 </dev/null &
    E2E_PID=$!
    pids+=("$E2E_PID")
    if wait_for "http://127.0.0.1:$PORT/metrics" 10; then ok; else bad "prom_e2e never served /metrics"; fi
    curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$TMP/prom_e2e.metrics"
    if promtool check metrics <"$TMP/prom_e2e.metrics" >"$TMP/prom_e2e.promtool" 2>&1 && [ ! -s "$TMP/prom_e2e.promtool" ]; then
        ok
    else
        bad "promtool on prom_e2e's scrape:"
        sed 's/^/    /' "$TMP/prom_e2e.promtool"
    fi
    # every family the instruments make, once
    for fam in 'target_info gauge' 'e2e_requests_total counter' 'e2e_bytes_total counter' \
        'e2e_latency_seconds histogram' 'e2e_temperature_celsius gauge' 'e2e_queue gauge' \
        'e2e_cpu_utilization_ratio gauge' 'e2e_page_faults_total counter'; do
        [ "$(grep -cx "# TYPE $fam" "$TMP/prom_e2e.metrics")" = 1 ] && ok || bad "prom_e2e: no single '# TYPE $fam'"
    done
    stop_pid "$E2E_PID"
else
    echo "SKIPPED: promtool check of the Prometheus reader's text (promtool not installed)"
fi

finish
