#!/usr/bin/env bash
# tests/test_prometheus.sh - the Prometheus exposition checked by the real tools (issue 5):
#   1. `promtool check metrics` on the text of tests/prom_batch.h (a rich hand-built batch):
#      no parse error, and no lint but the deliberate ones listed in EXPECTED_LINT; then on 40
#      random batches (random bytes everywhere): no parse error.
#   2. A real Prometheus server (Debian's `prometheus`), started here on 127.0.0.1 with a
#      temporary config and storage, a 1 s scrape interval and a time limit, stopped by PID,
#      scrapes every target below; the expected values are read back through its HTTP query
#      API (/api/v1/query): counters, gauges, histogram buckets, target_info labels, escaped
#      label values.
# Prints "N passed, N failed"; without promtool/prometheus/curl/python3 prints SKIPPED lines.
#
# Targets: add_target NAME EXPECT_FILE COMMAND... ("@PORT@" in an argument becomes the port;
# the same port is in the environment, see below). COMMAND must serve the Prometheus text at
# http://127.0.0.1:$PROM_PORT/metrics until it gets SIGTERM. It is started with PROM_PORT (a
# free port), OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1, OTEL_EXPORTER_PROMETHEUS_PORT=$PROM_PORT
# and OTEL_METRICS_EXPORTER=prometheus in its environment, so a program using the public API
# with a PROMETHEUS reader plugs in unchanged. EXPECT_FILE: one check per line,
# "<expected value><TAB><PromQL>", the value as the API prints it ("42", "0.25", "+Inf", "NaN");
# put job="NAME" in each selector. Lines starting with # are comments.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
TMP=${TEST_TMPDIR:-$(mktemp -d)}
mkdir -p "$TMP"
CC=${CC:-cc}

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

if ! $CC -std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I. tests/prom_helper.c -o "$TMP/prom_helper" -lm \
    >"$TMP/build.log" 2>&1; then
    cat "$TMP/build.log"
    bad "building tests/prom_helper.c"
    finish
fi

# ---- 1. promtool check metrics ---------------------------------------------------------------

# The rich batch has, on purpose, metrics without a description and a unit in milliseconds
# (the OTel name http.server.request.duration in ms): promtool's linter says so, and nothing else.
EXPECTED_LINT='http_server_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"
speed_meters_per_second no help text
temperature_celsius no help text'

"$TMP/prom_helper" text >"$TMP/metrics.txt" 2>"$TMP/text.err"
[ -s "$TMP/metrics.txt" ] && ok || bad "prom_helper text wrote nothing"
if have promtool; then
    promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1
    rc=$?
    # exit 0: clean; 3: lint problems only; anything else: the text did not parse
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; then ok; else bad "promtool exit status $rc"; fi
    unexpected=$(grep -vxF -f <(printf '%s\n' "$EXPECTED_LINT") "$TMP/promtool.out")
    if [ -z "$unexpected" ]; then
        ok
    else
        bad "promtool reported:"
        printf '%s\n' "$unexpected" | sed 's/^/    /'
    fi
    # and a text without the deliberate cases is clean: no output at all
    grep -v -e '^# TYPE http_server_request_duration_milliseconds' -e '^http_server_request_duration_milliseconds' \
        -e 'speed_meters_per_second' -e 'temperature_celsius' "$TMP/metrics.txt" >"$TMP/clean.txt"
    if promtool check metrics <"$TMP/clean.txt" >"$TMP/promtool-clean.out" 2>&1 && [ ! -s "$TMP/promtool-clean.out" ]; then
        ok
    else
        bad "promtool on the clean text:"
        sed 's/^/    /' "$TMP/promtool-clean.out"
    fi
    # random batches (random bytes in names, units, label names and values): promtool parses
    # every one; lint about the random names (':' in names, camelCase...) is expected here
    bad_seeds=""
    for seed in $(seq 1 40); do
        "$TMP/prom_helper" random "$seed" >"$TMP/random.txt" 2>/dev/null
        promtool check metrics <"$TMP/random.txt" >"$TMP/promtool-random.out" 2>&1
        rc=$?
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
            bad_seeds="$bad_seeds $seed"
            cp "$TMP/random.txt" "$TMP/random-$seed.txt"
            head -n 5 "$TMP/promtool-random.out" | sed "s/^/    seed $seed: /"
        fi
    done
    [ -z "$bad_seeds" ] && ok || bad "promtool rejected random batches:$bad_seeds (texts in $TMP)"
else
    echo "SKIPPED: test_prometheus.sh promtool check metrics (promtool not installed)"
fi

# ---- 2. a real Prometheus scrapes the targets ---------------------------------------------

missing=""
for tool in prometheus curl python3; do have "$tool" || missing="$missing $tool"; done
if [ -n "$missing" ]; then
    echo "SKIPPED: test_prometheus.sh Prometheus scrape (${missing# } not installed)"
    finish
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# query EXPR: the value of the single result, "none" when there is none, "many" for several
query() {
    curl -s --max-time 5 -G "http://127.0.0.1:$PROM_SERVER_PORT/api/v1/query" --data-urlencode "query=$1" |
        python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
except Exception:
    print("error"); sys.exit()
print("none" if not r else "many" if len(r) > 1 else r[0]["value"][1])'
}

target_names=() target_ports=() target_expects=()
add_target() { # NAME EXPECT_FILE COMMAND... ("@PORT@" in an argument becomes the port)
    local name=$1 expect=$2 port arg
    local -a cmd=()
    shift 2
    port=$(free_port)
    for arg in "$@"; do cmd+=("${arg//@PORT@/$port}"); done
    PROM_PORT=$port OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1 OTEL_EXPORTER_PROMETHEUS_PORT=$port \
        OTEL_METRICS_EXPORTER=prometheus "${cmd[@]}" >"$TMP/target-$name.log" 2>&1 &
    pids+=($!)
    target_names+=("$name")
    target_ports+=("$port")
    target_expects+=("$expect")
}

# The hand-built batch through otel.h's server. Values: tests/prom_batch.h.
samples=$(grep -vc '^#' "$TMP/metrics.txt")
cat >"$TMP/handbuilt.expect" <<EOF
1	up{job="handbuilt"}
$samples	scrape_samples_scraped{job="handbuilt"}
42	http_server_requests_total{job="handbuilt",http_request_method="GET",otel_scope_name="app.http",otel_scope_version="1.0"}
7	http_server_requests_total{job="handbuilt",http_request_method="POST"}
1536.5	bytes_sent_total{job="handbuilt"}
-2	http_connections_active{job="handbuilt",http_request_method="POST"}
0.25	system_memory_utilization_ratio{job="handbuilt",otel_scope_name="lib.db"}
-3.5	temperature_celsius{job="handbuilt"}
1	http_server_request_duration_milliseconds_bucket{job="handbuilt",http_request_method="GET",le="0.5"}
3	http_server_request_duration_milliseconds_bucket{job="handbuilt",http_request_method="GET",le="2.5"}
6	http_server_request_duration_milliseconds_bucket{job="handbuilt",http_request_method="GET",le="100"}
7	http_server_request_duration_milliseconds_bucket{job="handbuilt",http_request_method="GET",le="+Inf"}
123.25	http_server_request_duration_milliseconds_sum{job="handbuilt",http_request_method="GET"}
7	http_server_request_duration_milliseconds_count{job="handbuilt",http_request_method="GET"}
3.75	histogram_quantile(0.5, http_server_request_duration_milliseconds_bucket{job="handbuilt",http_request_method="GET"})
1	target_info{job="handbuilt",service_name="prom-test",service_version="1.2.3",host_name="box \"one\"",process_pid="42",debug="false"}
10	jobs_processed_total{job="handbuilt",otel_scope_name="app.http"}
20	jobs_processed_total{job="handbuilt",otel_scope_name="lib.db"}
5	_3d_render_time_avg_seconds{job="handbuilt",weird_key_="quote \" backslash \\\\ newline \n and ü",key_9lives="true",tags="[\"a\",\"b\\\\\"c\"]"}
NaN	special{job="handbuilt",http_request_method="GET"}
+Inf	special{job="handbuilt",http_request_method="POST"}
-Inf	special{job="handbuilt",http_route="/api"}
1e+300	special{job="handbuilt",ratio="0.5"}
1	clash{job="handbuilt",a_b="1;2"}
5	requests_total{job="handbuilt"}
2048	network_io_bytes_per_second{job="handbuilt"}
1.5	speed_meters_per_second{job="handbuilt"}
1	absent(delta_sum_total{job="handbuilt"})
EOF
add_target handbuilt "$TMP/handbuilt.expect" "$TMP/prom_helper" serve "@PORT@" 120

# (After the metrics core lands: a program recording through the public instrument API with
#  a PROMETHEUS reader is added here the same way, e.g.
#  add_target e2e "$TMP/e2e.expect" "$TMP/prom_e2e" --seconds 120 )
$CC -std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I. tests/prom_e2e.c -o "$TMP/prom_e2e" -lm >"$TMP/build-e2e.log" 2>&1 && "$TMP/prom_e2e" --expect >"$TMP/e2e.expect" && add_target e2e "$TMP/e2e.expect" "$TMP/prom_e2e" --seconds 120 || bad "building tests/prom_e2e.c: $(cat "$TMP/build-e2e.log")"

PROM_SERVER_PORT=$(free_port)
{
    printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n'
    for i in "${!target_names[@]}"; do
        printf '  - job_name: %s\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
            "${target_names[$i]}" "${target_ports[$i]}"
    done
} >"$TMP/prometheus.yml"
mkdir -p "$TMP/tsdb"
timeout 150 prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_SERVER_PORT" --log.level=warn >"$TMP/prometheus.log" 2>&1 &
pids+=($!)

# Wait until every target was scraped successfully (up == 1), at most 60 s.
deadline=$((SECONDS + 60))
for i in "${!target_names[@]}"; do
    name=${target_names[$i]}
    while [ "$(query "up{job=\"$name\"}")" != 1 ] && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
    if [ "$(query "up{job=\"$name\"}")" = 1 ]; then
        ok
    else
        bad "target $name never came up; prometheus log and target output:"
        tail -n 20 "$TMP/prometheus.log" | sed 's/^/    /'
        tail -n 20 "$TMP/target-$name.log" | sed 's/^/    /'
        curl -s --max-time 5 "http://127.0.0.1:$PROM_SERVER_PORT/api/v1/targets" | head -c 2000
        echo
    fi
done

# Each expected value, retried for a few seconds (the first scrapes may still be in flight).
for i in "${!target_names[@]}"; do
    while IFS=$'\t' read -r want expr; do
        [ -z "$want" ] || [ "${want:0:1}" = "#" ] && continue
        got=$(query "$expr")
        tries=0
        while [ "$got" != "$want" ] && [ $tries -lt 10 ]; do
            sleep 0.5
            got=$(query "$expr")
            tries=$((tries + 1))
        done
        if [ "$got" = "$want" ]; then ok; else bad "${target_names[$i]}: $expr = $got, want $want"; fi
    done <"${target_expects[$i]}"
done

finish
