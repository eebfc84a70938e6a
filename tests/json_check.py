#!/usr/bin/env python3
"""tests/json_check.py - strict JSON reader for the C tests (python3 standard library only).

Reads stdin (or FILE), parses it, and prints every object back as one compact JSON line with
sorted keys, so a C test can popen() it and check fields with plain string compares:

    python3 tests/json_check.py --lines  [FILE]   each line one JSON object (JSON Lines)
    python3 tests/json_check.py --stream [FILE]   concatenated (e.g. pretty-printed) objects
        --count N    also require exactly N objects

Strict: input must be UTF-8; NaN/Infinity, duplicate keys, non-object values, blank lines
(--lines; one final newline is fine) and unpaired surrogate escapes are errors. On any error
it prints "json_check: <what> at <where>" to stderr and exits 1. Exit 2: bad usage.
"""
import json
import sys


class CheckError(Exception):
    pass


def _reject_constant(name):
    raise CheckError("non-standard constant %s" % name)


def _pairs(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise CheckError("duplicate key %r" % key)
        obj[key] = value
    return obj


DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_reject_constant)


def _position(text, pos):
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return "line %d column %d" % (line, col)


def parse_lines(text):
    objs = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    for number, line in enumerate(lines, 1):
        if line.strip() == "":
            raise CheckError("blank line at line %d" % number)
        try:
            obj, end = DECODER.raw_decode(line)
        except json.JSONDecodeError as e:
            raise CheckError("%s at line %d column %d" % (e.msg, number, e.colno))
        if line[end:].strip():
            raise CheckError("extra data after the object at line %d column %d" % (number, end + 1))
        if not isinstance(obj, dict):
            raise CheckError("not a JSON object at line %d" % number)
        objs.append(obj)
    return objs


def parse_stream(text):
    objs = []
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            return objs
        try:
            obj, end = DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise CheckError("%s at %s" % (e.msg, _position(text, e.pos)))
        if not isinstance(obj, dict):
            raise CheckError("not a JSON object at %s" % _position(text, pos))
        objs.append(obj)
        pos = end


def main(argv):
    mode, path, count = None, None, None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("--lines", "--stream"):
            mode = a[2:]
        elif a == "--count" and args:
            try:
                count = int(args.pop(0))
            except ValueError:
                mode = None
                break
        elif not a.startswith("-") and path is None:
            path = a
        else:
            mode = None
            break
    if mode is None:
        sys.stderr.write("usage: json_check.py --lines|--stream [--count N] [FILE]\n")
        return 2
    try:
        if path is None:
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CheckError("invalid UTF-8 at byte %d" % e.start)
        objs = parse_lines(text) if mode == "lines" else parse_stream(text)
        if count is not None and len(objs) != count:
            raise CheckError("%d objects, expected %d" % (len(objs), count))
        out = []
        for obj in objs:
            s = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            try:
                s.encode("utf-8")
            except UnicodeEncodeError:
                raise CheckError("unpaired surrogate escape in object %d" % (len(out) + 1))
            out.append(s)
    except CheckError as e:
        sys.stderr.write("json_check: %s\n" % e)
        return 1
    except OSError as e:
        sys.stderr.write("json_check: %s\n" % e)
        return 1
    sys.stdout.buffer.write("".join(s + "\n" for s in out).encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
