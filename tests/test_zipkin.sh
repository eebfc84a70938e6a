#!/usr/bin/env bash
# tests/test_zipkin.sh - examples/zipkin_traces.c end to end. The example is built and run
# against a Zipkin stand-in (python3's http.server on 127.0.0.1: answers 202 to POST
# /api/v2/spans and keeps each body), and the spans it received are checked: one trace, the
# service name, kinds, parent ids, the client span's remoteEndpoint, error and status tags,
# the annotation. Then with nothing listening: the example still exits 0 within its 2 s
# export timeout and logs the failure. Ends with "N passed, N failed"; without python3
# "SKIPPED: ...".
cd "$(dirname "$0")/.." || exit 2
tmp=${TEST_TMPDIR:-$(mktemp -d)}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIPPED: test_zipkin.sh (python3 not installed)"
    echo "0 passed, 0 failed"
    exit 0
fi
if ! ${CC:-cc} -std=c11 -O1 -Wall -Wextra -Werror -pthread -I. examples/zipkin_traces.c \
    -o "$tmp/zipkin_traces" 2>"$tmp/build.log"; then
    cat "$tmp/build.log"
    echo "0 passed, 1 failed"
    exit 1
fi

# the stand-in: bodies to $tmp/recv/body-N.json, its port to $tmp/port; stops after 30 s
mkdir -p "$tmp/recv"
rm -f "$tmp/port"
python3 - "$tmp/recv" "$tmp/port" <<'PY' &
import http.server, os, sys, threading
out, portfile = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    n = 0
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = self.path == "/api/v2/spans" and self.headers.get("Content-Type") == "application/json"
        if ok:
            with open(os.path.join(out, "body-%d.json" % H.n), "wb") as f:
                f.write(body)
            H.n += 1
        self.send_response(202 if ok else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
threading.Timer(30, s.shutdown).start()
s.serve_forever()
PY
server=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port" 2>/dev/null)
if [ -z "$port" ]; then
    bad "the python3 stand-in did not start"
    kill "$server" 2>/dev/null
    echo "$pass passed, $fail failed"
    exit 1
fi

if timeout -k 5 60 "$tmp/zipkin_traces" "http://127.0.0.1:$port/api/v2/spans" >"$tmp/out" 2>"$tmp/err" </dev/null; then
    ok
else
    bad "zipkin_traces exited non-zero"; cat "$tmp/err" >&2
fi
if grep -q 'destination zipkin: 3 exported, 0 failed' "$tmp/err"; then ok; else bad "counters: $(cat "$tmp/err")"; fi
if python3 - "$tmp/recv" <<'PY'; then ok; else bad "the spans Zipkin received (see $tmp/recv)"; fi
import glob, json, sys
spans = []
for p in sorted(glob.glob(sys.argv[1] + "/body-*.json")):
    spans += json.load(open(p, encoding="utf-8"))
by = {s["name"]: s for s in spans}
assert sorted(by) == ["GET /checkout", "charge-card", "render-page"], sorted(by)
assert len({s["traceId"] for s in spans}) == 1
req, call, render = by["GET /checkout"], by["charge-card"], by["render-page"]
for s in spans:
    assert len(s["traceId"]) == 32 and len(s["id"]) == 16, s
    assert s["localEndpoint"] == {"serviceName": "your-service-name"}, s["localEndpoint"]
    assert isinstance(s["timestamp"], int) and isinstance(s["duration"], int) and s["duration"] >= 1, s
    assert s["tags"]["otel.scope.name"] == "zipkin_traces" and s["tags"]["otel.scope.version"] == "1.0.0", s["tags"]
assert "parentId" not in req and req["kind"] == "SERVER", req
assert call["parentId"] == req["id"] and render["parentId"] == req["id"]
assert "kind" not in render and "remoteEndpoint" not in render and "remoteEndpoint" not in req
assert call["kind"] == "CLIENT" and call["remoteEndpoint"] == {"serviceName": "payments"}, call
assert call["tags"]["error"] == "card declined" and call["tags"]["otel.status_code"] == "ERROR", call["tags"]
assert call["tags"]["peer.service"] == "payments" and call["tags"]["server.address"] == "payments.internal"
assert req["tags"]["http.response.status_code"] == "200" and "error" not in req["tags"], req["tags"]
assert [a["value"] for a in call["annotations"]] == ['"retry":{"attempt":2}'], call["annotations"]
assert req["timestamp"] <= call["timestamp"] and call["timestamp"] + call["duration"] <= req["timestamp"] + req["duration"] + 1
PY
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null

# nothing listening (the stand-in's port, now closed): exits 0, within the 2 s timeout
start=$(date +%s)
if timeout -k 5 60 "$tmp/zipkin_traces" "http://127.0.0.1:$port/api/v2/spans" >"$tmp/out2" 2>"$tmp/err2" </dev/null; then
    ok
else
    bad "zipkin_traces without a receiver exited non-zero"
fi
took=$(($(date +%s) - start))
if [ "$took" -le 6 ]; then ok; else bad "zipkin_traces without a receiver took $took s"; fi
if grep -q 'zipkin http://127.0.0.1' "$tmp/err2" && grep -q 'destination zipkin: 0 exported, 3 failed' "$tmp/err2"; then
    ok
else
    bad "the failure is logged: $(cat "$tmp/err2")"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
