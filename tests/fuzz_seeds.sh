#!/bin/sh
# tests/fuzz_seeds.sh DIR - writes a seed corpus for tests/fuzz_sink.c into DIR: OTLP trace
# requests with every field (encoded by protoc from text, when protoc and the protos are
# available), their gzip, HTTP request heads and chunked bodies. The first byte of each seed
# selects the parser (0 decode, 1 gunzip+decode, 2 HTTP head, 3 chunked).
set -e
dir=$1
mkdir -p "$dir"
here=$(cd "$(dirname "$0")" && pwd)
seed() { printf "$1" >"$dir/$2"; }
seed '\002POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 3\r\nContent-Encoding: gzip\r\n\r\n' http1
seed '\002POST /v1/traces HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n' http2
seed '\0035;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n' chunk1
seed '\000\012\000' empty_rs
if protos=$(sh "$here/otlp_protos.sh" 2>/dev/null); then
    cat >"$dir/req.txt" <<'TXT'
resource_spans {
  resource { attributes { key: "service.name" value { string_value: "svc" } } dropped_attributes_count: 1 }
  scope_spans {
    scope { name: "lib" version: "1.0" }
    spans {
      trace_id: "0123456789abcdef" span_id: "01234567" trace_state: "a=b" parent_span_id: "76543210"
      name: "op" kind: SPAN_KIND_SERVER start_time_unix_nano: 1 end_time_unix_nano: 2
      attributes { key: "s" value { string_value: "v" } }
      attributes { key: "b" value { bool_value: true } }
      attributes { key: "i" value { int_value: -5 } }
      attributes { key: "d" value { double_value: 0.5 } }
      attributes { key: "a" value { array_value { values { string_value: "x" } values { int_value: 1 } } } }
      attributes { key: "k" value { kvlist_value { values { key: "n" value { bytes_value: "\001\002" } } } } }
      dropped_attributes_count: 2
      events { time_unix_nano: 3 name: "ev" attributes { key: "e" value { int_value: 1 } } dropped_attributes_count: 1 }
      dropped_events_count: 3
      links { trace_id: "fedcba9876543210" span_id: "76543210" trace_state: "c=d" attributes { key: "l" value { bool_value: false } } }
      dropped_links_count: 4
      status { message: "boom" code: STATUS_CODE_ERROR }
    }
  }
}
TXT
    if protoc -I"$protos" --encode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest \
        opentelemetry/proto/collector/trace/v1/trace_service.proto <"$dir/req.txt" >"$dir/req.bin" 2>/dev/null; then
        { printf '\000'; cat "$dir/req.bin"; } >"$dir/decode_full"
        { printf '\001'; gzip -c "$dir/req.bin"; } >"$dir/gunzip_full"
    fi
    rm -f "$dir/req.txt" "$dir/req.bin"
fi
