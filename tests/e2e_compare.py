#!/usr/bin/env python3
"""tests/e2e_compare.py - OTLP/JSON requests checked field by field against the protobuf
requests of the same data, as `protoc --decode` printed them (issue 6). Standard library only.
Used by tests/test_e2e_metrics.c and tests/test_e2e_logs.c.

    e2e_compare.py SIGNAL PROTO_TEXT JSON_LINES [--ignore-times] [--sort] [--min-items N]

SIGNAL is metrics, logs or traces. PROTO_TEXT holds one or more protoc text dumps of
Export{Metrics,Logs,Trace}ServiceRequest (concatenated); JSON_LINES one OTLP/JSON request
per line (http/json bodies, or the file exporter's lines). Both sides are reduced to the
same canonical form: snake_case field names, every field a list, int64 strings and enum
names as numbers, bytes ids as lowercase hex, doubles as floats (NaN/Infinity spelled as
OTLP/JSON does), proto3 default values left out (except the oneof/optional members, which
have presence: as_int, as_double, *_value, sum, min, max). Then each request is flattened
into items (one per data point / log record / span, with its resource, scope and metric
header), so that how the items are grouped into requests does not matter, and the two item
lists are compared in order, every field. --ignore-times leaves out *_time_unix_nano (for
two collections of the same recordings); --sort compares the items in a canonical order
(for destinations that may have cut their batches differently). Exit 0 when equal; otherwise the first
difference is printed and the exit status is 1.
"""
import json
import math
import re
import sys

SEVERITY = ["UNSPECIFIED"] + ["%s%s" % (k, n) for k in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
                              for n in ("", "2", "3", "4")]
TEMPORALITY = ["AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA",
               "AGGREGATION_TEMPORALITY_CUMULATIVE"]
SPAN_KIND = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
             "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"]
STATUS = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]

INT_FIELDS = {"time_unix_nano", "start_time_unix_nano", "observed_time_unix_nano", "end_time_unix_nano",
              "as_int", "int_value", "count", "bucket_counts", "dropped_attributes_count",
              "dropped_events_count", "dropped_links_count", "flags", "aggregation_temporality",
              "severity_number", "kind", "code"}
FLOAT_FIELDS = {"as_double", "double_value", "sum", "min", "max", "explicit_bounds"}
BOOL_FIELDS = {"is_monotonic", "bool_value"}
HEX_FIELDS = {"trace_id", "span_id", "parent_span_id"}
PRESENCE = {"as_int", "as_double", "int_value", "double_value", "bool_value", "string_value", "sum", "min", "max"}
ENUMS = {"severity_number": SEVERITY, "aggregation_temporality": TEMPORALITY, "kind": SPAN_KIND, "code": STATUS}
# fields newer than the 0.38 protos the test decodes with: protoc prints them by number
UNKNOWN = {"12": "event_name"}


class Bad(Exception):
    pass


# ---- protoc's text format --------------------------------------------------------------------

def unescape(s):
    """protoc's CEscape'd string body -> bytes"""
    out = bytearray()
    i = 0
    simple = {"n": 10, "r": 13, "t": 9, '"': 34, "'": 39, "\\": 92, "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        i += 1
        c = s[i]
        if c in simple:
            out.append(simple[c])
            i += 1
        elif c in "01234567":
            j = i
            while j < len(s) and j < i + 3 and s[j] in "01234567":
                j += 1
            out.append(int(s[i:j], 8) & 255)
            i = j
        elif c == "x":
            j = i + 1
            while j < len(s) and j < i + 3 and s[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(s[i + 1:j], 16))
            i = j
        else:
            raise Bad("unknown escape \\%s" % c)
    return bytes(out)


def parse_text(text):
    """protoc text -> nested dicts {name: [value, ...]}; strings as ('s', bytes)"""
    root = {}
    stack = [root]
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
            if not stack:
                raise Bad("protoc text line %d: unbalanced }" % n)
            continue
        if line.endswith("{"):
            key = line[:-1].strip()
            child = {}
            stack[-1].setdefault(key, []).append(child)
            stack.append(child)
            continue
        key, sep, val = line.partition(": ")
        if not sep:
            raise Bad("protoc text line %d: %r" % (n, raw))
        if val.startswith('"'):
            if not val.endswith('"') or len(val) < 2:
                raise Bad("protoc text line %d: unterminated string" % n)
            v = ("s", unescape(val[1:-1]))
        else:
            v = val
        stack[-1].setdefault(key, []).append(v)
    if len(stack) != 1:
        raise Bad("protoc text: unbalanced {")
    return root


def proto_scalar(key, v):
    if isinstance(v, tuple):  # a string or bytes
        if key in HEX_FIELDS:
            return v[1].hex()
        return v[1].decode("utf-8", errors="replace")
    if key in ENUMS:
        return ENUMS[key].index(v) if v in ENUMS[key] else (SEVERITY.index(v[16:]) if v.startswith("SEVERITY_NUMBER_")
                                                            else int(v))
    if key in BOOL_FIELDS:
        if v not in ("true", "false"):
            raise Bad("%s: not a bool: %r" % (key, v))
        return v == "true"
    if key in FLOAT_FIELDS:
        return float(v)  # nan, inf, -inf, 1e+300 all read back
    if key in INT_FIELDS:
        return int(v)
    raise Bad("unexpected unquoted value for %s: %r" % (key, v))


def canon_proto(node):
    out = {}
    for key, vals in node.items():
        key = UNKNOWN.get(key, key)
        out[key] = [canon_proto(v) if isinstance(v, dict) else proto_scalar(key, v) for v in vals]
    return strip_defaults(out)


# ---- OTLP/JSON -----------------------------------------------------------------------------

def snake(name):
    return re.sub(r"([A-Z])", r"_\1", name).lower()


def pairs(items):
    obj = {}
    for k, v in items:
        if k in obj:
            raise Bad("duplicate JSON key %r" % k)
        obj[k] = v
    return obj


def bad_constant(name):
    raise Bad("non-standard JSON constant %s" % name)


def json_scalar(key, v):
    if isinstance(v, (dict, list)):
        raise Bad("%s: unexpected %s" % (key, type(v).__name__))
    if key in HEX_FIELDS:
        if not isinstance(v, str) or not re.fullmatch(r"[0-9a-f]*", v):
            raise Bad("%s: not lowercase hex: %r" % (key, v))
        return v
    if key in ENUMS:
        if not isinstance(v, int) or isinstance(v, bool):
            raise Bad("%s: an enum is a number in OTLP/JSON, got %r" % (key, v))
        return v
    if key in BOOL_FIELDS:
        if not isinstance(v, bool):
            raise Bad("%s: not a bool: %r" % (key, v))
        return v
    if key in FLOAT_FIELDS:
        if isinstance(v, str):
            if v not in ("NaN", "Infinity", "-Infinity"):
                raise Bad("%s: bad double string %r" % (key, v))
            return float(v.replace("Infinity", "inf"))
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Bad("%s: not a number: %r" % (key, v))
        return float(v)
    if key in INT_FIELDS:
        if isinstance(v, bool):
            raise Bad("%s: a bool where an integer belongs" % key)
        if isinstance(v, str):
            if not re.fullmatch(r"-?[0-9]+", v):
                raise Bad("%s: bad integer string %r" % (key, v))
            return int(v)
        if not isinstance(v, int):
            raise Bad("%s: not an integer: %r" % (key, v))
        return v
    if not isinstance(v, str):
        raise Bad("%s: expected a string, got %r" % (key, v))
    return v


def canon_json(obj):
    out = {}
    for k, v in obj.items():
        key = snake(k)
        vals = v if isinstance(v, list) else [v]
        out[key] = [canon_json(x) if isinstance(x, dict) else json_scalar(key, x) for x in vals]
    return strip_defaults(out)


def is_default(v):
    return v in (0, "", False) and not isinstance(v, dict) and not (isinstance(v, float) and math.isnan(v))


def strip_defaults(d):
    return {k: v for k, v in d.items() if v and not (k not in PRESENCE and len(v) == 1 and is_default(v[0]))}


# ---- flattening and comparison -------------------------------------------------------------

CONTAINERS = {"metrics": ("resource_metrics", "scope_metrics", "metrics"),
              "logs": ("resource_logs", "scope_logs", "log_records"),
              "traces": ("resource_spans", "scope_spans", "spans")}
METRIC_KINDS = ("gauge", "sum", "histogram", "exponential_histogram", "summary")


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def flatten(signal, request):
    top, mid, leaf = CONTAINERS[signal]
    items = []
    for r in request.get(top, []):
        res = without(r, mid)
        for s in r.get(mid, []):
            scope = without(s, leaf)
            for x in s.get(leaf, []):
                if signal != "metrics":
                    items.append({"resource": res, "scope": scope, "item": x})
                    continue
                kinds = [k for k in METRIC_KINDS if k in x]
                if len(kinds) != 1:
                    raise Bad("metric %r has %d data kinds" % (x.get("name"), len(kinds)))
                body = x[kinds[0]][0]
                head = dict(without(x, kinds[0]), kind=kinds[0], agg=without(body, "data_points"))
                for p in body.get("data_points", [None]):
                    items.append({"resource": res, "scope": scope, "metric": head, "point": p})
    return items


def drop_times(v):
    if isinstance(v, dict):
        return {k: drop_times(x) for k, x in v.items() if not k.endswith("time_unix_nano")}
    if isinstance(v, list):
        return [drop_times(x) for x in v]
    return v


def same(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: only in %s: %r" % (path, k, "protobuf" if k in a else "json", a.get(k, b.get(k)))
            d = same(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return "%s: %d values in protobuf, %d in json: %r / %r" % (path, len(a), len(b), a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return None
    if type(a) is not type(b) or a != b:
        return "%s: protobuf %r, json %r" % (path, a, b)
    return None


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    ignore_times = "--ignore-times" in argv
    min_items = 1
    if "--min-items" in argv:
        min_items = int(argv[argv.index("--min-items") + 1])
        args.remove(str(min_items))
    if len(args) != 3 or args[0] not in CONTAINERS:
        print(__doc__)
        return 2
    signal, ptext, jlines = args
    try:
        with open(ptext, encoding="utf-8") as f:
            proto_items = flatten(signal, canon_proto(parse_text(f.read())))
        json_items = []
        with open(jlines, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                obj = json.loads(line, object_pairs_hook=pairs, parse_constant=bad_constant)
                if not isinstance(obj, dict):
                    raise Bad("line %d: not a JSON object" % n)
                json_items += flatten(signal, canon_json(obj))
        if ignore_times:
            proto_items, json_items = drop_times(proto_items), drop_times(json_items)
        if "--sort" in argv:
            key = lambda item: json.dumps(item, sort_keys=True, default=repr)
            proto_items, json_items = sorted(proto_items, key=key), sorted(json_items, key=key)
        if len(proto_items) < min_items:
            raise Bad("only %d items in the protobuf requests (want at least %d)" % (len(proto_items), min_items))
        d = same(proto_items, json_items, "items")
        if d:
            raise Bad(d)
    except (Bad, ValueError, OSError, IndexError) as e:
        print("e2e_compare: %s" % e)
        return 1
    print("e2e_compare: %d %s items equal" % (len(proto_items), signal))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
