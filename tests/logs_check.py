#!/usr/bin/env python3
"""tests/logs_check.py - checks log records written by otel.h, field by field, with python3's
json parser (standard library only). Used by tests/test_logs.c and tests/test_logs.sh.

    logs_check.py fixture-otlp FILE      OTLP/JSON lines (ExportLogsServiceRequest) of the
                                         fixture test_logs.c emits
    logs_check.py fixture-console FILE   the same records as console JSON objects (pretty or
                                         compact, concatenated; also the file exporter's flat form)
    logs_check.py example-otlp FILE      the records of examples/multi_destination_logs.c
    logs_check.py example-console FILE
    logs_check.py example-same CONSOLE OTLP   both hold the same records (ids and times)

Strict parsing: duplicate keys, NaN/Infinity and trailing garbage are errors. Exit 0 when
every check passed; otherwise the first failed check is printed and the exit status is 1.
"""
import json
import re
import sys

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
CONSOLE_KEYS = ["body", "severity_number", "severity_text", "attributes", "dropped_attributes", "timestamp",
                "observed_timestamp", "trace_id", "span_id", "trace_flags", "resource", "event_name"]


def pairs(items):
    obj = {}
    for k, v in items:
        if k in obj:
            raise ValueError("duplicate key %r" % k)
        obj[k] = v
    return obj


def bad_constant(name):
    raise ValueError("non-standard constant %s" % name)


def loads(text):
    return json.loads(text, object_pairs_hook=pairs, parse_constant=bad_constant)


def read_lines(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.endswith("\n"):
                raise ValueError("line %d: no final newline" % n)
            out.append(loads(line))
    return out


def read_stream(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    dec = json.JSONDecoder(object_pairs_hook=pairs, parse_constant=bad_constant)
    out, i = [], 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i == len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def any_value(v):
    """An OTLP/JSON AnyValue -> a Python value (int64 as strings, per the spec)."""
    check(isinstance(v, dict) and len(v) == 1, "AnyValue with one field: %r" % (v,))
    (k, x), = v.items()
    if k == "stringValue":
        check(isinstance(x, str), k)
        return x
    if k == "boolValue":
        check(isinstance(x, bool), k)
        return x
    if k == "intValue":
        check(isinstance(x, str) and re.match(r"^-?\d+$", x), "intValue is a decimal string: %r" % (x,))
        return int(x)
    if k == "doubleValue":
        check(isinstance(x, (int, float)) and not isinstance(x, bool), k)
        return float(x)
    if k == "arrayValue":
        check(list(x.keys()) == ["values"], "arrayValue.values")
        return [any_value(e) for e in x["values"]]
    raise AssertionError("unknown AnyValue field %s" % k)


def kv_list(lst):
    out = {}
    for kv in lst:
        check(set(kv.keys()) == {"key", "value"}, "KeyValue fields: %r" % (kv,))
        check(kv["key"] not in out, "attribute key once: %s" % kv["key"])
        out[kv["key"]] = any_value(kv["value"])
    return out


def otlp_records(path):
    """[(scope name, scope version, record, attributes)] and the resource attributes."""
    recs, resource = [], None
    for req in read_lines(path):
        check(list(req.keys()) == ["resourceLogs"], "ExportLogsServiceRequest has resourceLogs only")
        for rl in req["resourceLogs"]:
            check(set(rl.keys()) == {"resource", "scopeLogs"}, "ResourceLogs fields")
            resource = kv_list(rl["resource"]["attributes"])
            seen = set()
            for sl in rl["scopeLogs"]:
                check(set(sl.keys()) == {"scope", "logRecords"}, "ScopeLogs fields")
                scope = (sl["scope"]["name"], sl["scope"]["version"])
                check(scope not in seen, "one ScopeLogs per scope in a request")
                seen.add(scope)
                check(len(sl["logRecords"]) > 0, "no empty ScopeLogs")
                for r in sl["logRecords"]:
                    recs.append((scope[0], scope[1], r, kv_list(r["attributes"])))
    return recs, resource


OTLP_KEYS = {"timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText", "body", "attributes",
             "droppedAttributesCount", "flags", "traceId", "spanId", "eventName"}


def otlp_common(r):
    check(set(r.keys()) <= OTLP_KEYS, "known LogRecord fields only: %r" % sorted(r.keys()))
    check(isinstance(r["observedTimeUnixNano"], str) and r["observedTimeUnixNano"].isdigit(),
          "observedTimeUnixNano is a decimal string")
    if "timeUnixNano" in r:
        check(isinstance(r["timeUnixNano"], str) and r["timeUnixNano"].isdigit(), "timeUnixNano string")
    if "severityNumber" in r:
        check(isinstance(r["severityNumber"], int) and 1 <= r["severityNumber"] <= 24, "severityNumber 1..24 as a number")
    if "traceId" in r:
        check(HEX32.match(r["traceId"]) and r["traceId"] != "0" * 32, "traceId: 32 lower-hex")
        check(HEX16.match(r["spanId"]) and r["spanId"] != "0" * 16, "spanId: 16 lower-hex")
    else:
        check("spanId" not in r and "flags" not in r, "no span id or flags without a trace id")


def console_common(o):
    check(list(o.keys()) == CONSOLE_KEYS, "console keys in the Python SDK's order: %r" % list(o.keys()))
    check(o["timestamp"] is None or ISO.match(o["timestamp"]), "timestamp ISO or null")
    check(ISO.match(o["observed_timestamp"]), "observed_timestamp ISO 8601")
    check(re.match(r"^0x[0-9a-f]{32}$", o["trace_id"]) and re.match(r"^0x[0-9a-f]{16}$", o["span_id"]), "0x hex ids")
    check(set(o["resource"].keys()) == {"attributes", "schema_url"}, "resource fields")
    check(o["resource"]["attributes"]["service.name"] == o["resource"]["attributes"].get("service.name"), "service")


# ---- the fixture of test_logs.c ------------------------------------------------------------

FIX_TRACE = "0af7651916cd43dd8448eb211c80319c"
FIX_SPAN = "b7ad6b7169203331"


def fixture_otlp(path):
    recs, resource = otlp_records(path)
    check(resource.get("service.name") == "test_logs", "resource service.name")
    check(resource.get("telemetry.sdk.name") == "otel.h", "resource telemetry.sdk.name")
    by = {r.get("eventName", ""): (sn, sv, r, a) for sn, sv, r, a in recs}
    check(sorted(by) == ["", "arr", "kv", "none", "s1", "sarr"], "records by event name: %r" % sorted(by))
    for sn, sv, r, a in recs:
        otlp_common(r)
    sn, sv, r, a = by["s1"]
    check((sn, sv) == ("fix.lib", "1.0"), "s1 scope")
    check(r["timeUnixNano"] == "1700000000000000001" and r["observedTimeUnixNano"] == "1700000000000000002", "s1 times")
    check(r["severityNumber"] == 9 and r["severityText"] == "INFO", "s1 severity")
    check(any_value(r["body"]) == 'hello "w"\n\u00e9', "s1 body")
    check(a == {"k": "v", "n": -5, "d": 0.25, "b": True, "big": 9007199254740993}, "s1 attributes: %r" % a)
    check("traceId" not in r and "droppedAttributesCount" not in r, "s1: no trace context")
    sn, sv, r, a = by["arr"]
    check(r["severityNumber"] == 14 and r["severityText"] == "WARN2", "arr severity")
    check(any_value(r["body"]) == [1, -2], "arr body int array")
    check(a == {"sa": ["a", "b"], "ba": [True, False], "da": [1.5], "ia": [9], "s": "t"}, "arr attributes: %r" % a)
    check(r["traceId"] == FIX_TRACE and r["spanId"] == FIX_SPAN and r["flags"] == 1, "arr: explicit context")
    check(r["droppedAttributesCount"] == 1, "arr: one attribute over the limit of 5")
    sn, sv, r, a = by["kv"]
    check((sn, sv) == ("otel.h", ""), "kv: the default logger's scope")
    check("timeUnixNano" not in r, "kv: time unset")
    check(r["severityNumber"] == 17 and r["severityText"] == "Oops", "kv severity text")
    check(any_value(r["body"]) is False, "kv body bool")
    check(r["flags"] == 1 and r["traceId"] != FIX_TRACE, "kv: the active span's context")
    sn, sv, r, a = by["none"]
    check("body" not in r and "severityNumber" not in r and "severityText" not in r, "none: no body, no severity")
    check(any_value(by["sarr"][2]["body"]) == ["x", "", "y"], "sarr body")
    sn, sv, r, a = by[""]
    check(any_value(r["body"]) == 2.5 and r["severityNumber"] == 5 and r["severityText"] == "DEBUG", "double body")


def fixture_console(path):
    objs = read_stream(path)
    check(len(objs) == 6, "6 console records, got %d" % len(objs))
    by = {o["event_name"]: o for o in objs}
    for o in objs:
        console_common(o)
        check(o["resource"]["attributes"]["service.name"] == "test_logs", "service.name")
    o = by["s1"]
    check(o["body"] == 'hello "w"\n\u00e9' and o["severity_number"] == 9 and o["severity_text"] == "INFO", "s1")
    check(o["attributes"] == {"k": "v", "n": -5, "d": 0.25, "b": True, "big": 9007199254740993}, "s1 attributes")
    check(o["timestamp"] == "2023-11-14T22:13:20.000000Z", "s1 timestamp: %r" % o["timestamp"])
    check(o["trace_id"] == "0x" + "0" * 32 and o["span_id"] == "0x" + "0" * 16 and o["trace_flags"] == 0, "s1 ids")
    check(o["dropped_attributes"] == 0, "s1 dropped")
    o = by["arr"]
    check(o["body"] == [1, -2] and
          o["attributes"] == {"sa": ["a", "b"], "ba": [True, False], "da": [1.5], "ia": [9], "s": "t"},
          "arr body and attributes")
    check(o["trace_id"] == "0x" + FIX_TRACE and o["span_id"] == "0x" + FIX_SPAN and o["trace_flags"] == 1, "arr ids")
    check(o["dropped_attributes"] == 1 and o["severity_text"] == "WARN2", "arr dropped, text")
    o = by["kv"]
    check(o["body"] is False and o["timestamp"] is None and o["severity_text"] == "Oops", "kv")
    check(o["attributes"] is None, "kv: no attributes is null")
    o = by["none"]
    check(o["body"] is None and o["severity_number"] == 0 and o["severity_text"] == "", "none")
    check(by["sarr"]["body"] == ["x", "", "y"] and by[""]["body"] == 2.5, "sarr and double bodies")


# ---- examples/multi_destination_logs.c -------------------------------------------------------

def example_otlp(path):
    recs, resource = otlp_records(path)
    check(resource.get("service.name") == "multi-destination-logs", "resource service.name: %r" % resource)
    check(len(recs) == 2, "two records, got %d" % len(recs))
    for sn, sv, r, a in recs:
        otlp_common(r)
        check(sn == "multi_destination_logs" and sv == "1.0.0", "scope: %r" % ((sn, sv),))
        check("timeUnixNano" in r, "the example sets the event time")
    hello = [x for x in recs if any_value(x[2]["body"]) == "hello from otel.h"]
    fail = [x for x in recs if any_value(x[2]["body"]) == "payment failed"]
    check(len(hello) == 1 and len(fail) == 1, "the two bodies")
    r, a = hello[0][2], hello[0][3]
    check(r["severityNumber"] == 9 and r["severityText"] == "INFO", "hello: INFO")
    check(a == {"user.id": 42}, "hello attributes: %r" % a)
    check("traceId" not in r and "spanId" not in r, "hello: outside any span")
    r, a = fail[0][2], fail[0][3]
    check(r["severityNumber"] == 17 and r["severityText"] == "ERROR", "payment failed: ERROR")
    check(a == {"order.id": 1001}, "payment failed attributes: %r" % a)
    check(HEX32.match(r.get("traceId", "")) and HEX16.match(r.get("spanId", "")), "payment failed: in a span")
    check(r["flags"] == 1, "payment failed: sampled")


def example_console(path):
    objs = read_stream(path)
    check(len(objs) == 2, "two console records, got %d" % len(objs))
    for o in objs:
        console_common(o)
        check(o["resource"]["attributes"]["service.name"] == "multi-destination-logs", "service.name")
    by = {o["body"]: o for o in objs}
    o = by["hello from otel.h"]
    check(o["severity_number"] == 9 and o["severity_text"] == "INFO" and o["attributes"] == {"user.id": 42}, "hello")
    check(o["trace_id"] == "0x" + "0" * 32 and o["trace_flags"] == 0, "hello: no span")
    o = by["payment failed"]
    check(o["severity_number"] == 17 and o["severity_text"] == "ERROR" and o["attributes"] == {"order.id": 1001},
          "payment failed")
    check(o["trace_id"] != "0x" + "0" * 32 and o["span_id"] != "0x" + "0" * 16 and o["trace_flags"] == 1,
          "payment failed: the span's context")


def example_same(console_path, otlp_path):
    objs = read_stream(console_path)
    recs, _ = otlp_records(otlp_path)
    c = sorted((o["body"], o["trace_id"][2:], o["span_id"][2:]) for o in objs)
    z = "0" * 32
    f = sorted((any_value(r["body"]), r.get("traceId", z), r.get("spanId", z[:16])) for _, _, r, _ in recs)
    check(c == f, "console and file hold the same records: %r vs %r" % (c, f))


def main(argv):
    modes = {"fixture-otlp": fixture_otlp, "fixture-console": fixture_console, "example-otlp": example_otlp,
             "example-console": example_console, "example-same": example_same}
    if len(argv) < 3 or argv[1] not in modes:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        modes[argv[1]](*argv[2:])
    except (AssertionError, ValueError, KeyError, TypeError, OSError) as e:
        print("logs_check %s: %s: %s" % (argv[1], type(e).__name__, e), file=sys.stderr)
        return 1
    print("logs_check %s: ok" % argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
