#!/bin/sh
# tests/fuzz_seeds.sh DIR - writes a seed corpus for tests/fuzz_sink.c into DIR: OTLP trace
# requests with every field (encoded by protoc from text, when protoc and the protos are
# available), their gzip, HTTP request heads and chunked bodies. The first byte of each seed
# selects the parser (0 decode, 1 gunzip+decode, 2 HTTP head, 3 chunked, 4 metrics, 5 logs,
# 6 OTLP/JSON, 7 gunzip+metrics/logs).
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
    cat >"$dir/req.txt" <<'TXT'
resource_metrics {
  resource { attributes { key: "service.name" value { string_value: "svc" } } }
  scope_metrics {
    scope { name: "lib" version: "1.0" }
    metrics { name: "c" description: "d" unit: "1"
      sum { data_points { attributes { key: "k" value { string_value: "v" } } start_time_unix_nano: 1 time_unix_nano: 2 as_int: -3 }
            aggregation_temporality: AGGREGATION_TEMPORALITY_CUMULATIVE is_monotonic: true } }
    metrics { name: "g" gauge { data_points { time_unix_nano: 2 as_double: 0.5 flags: 1 } } }
    metrics { name: "h" histogram { data_points { start_time_unix_nano: 1 time_unix_nano: 2 count: 3 sum: 7.5
      bucket_counts: 1 bucket_counts: 2 bucket_counts: 0 explicit_bounds: 1 explicit_bounds: 5 min: 0.5 max: 4 }
      aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA } }
    metrics { name: "e" exponential_histogram { data_points { count: 1 sum: 2 scale: 3 zero_count: 1 positive { offset: -1 bucket_counts: 1 } } } }
    metrics { name: "s" summary { data_points { count: 2 sum: 3 quantile_values { quantile: 0.5 value: 1 } } } }
  }
}
TXT
    if protoc -I"$protos" --encode=opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest \
        opentelemetry/proto/collector/metrics/v1/metrics_service.proto <"$dir/req.txt" >"$dir/req.bin" 2>/dev/null; then
        { printf '\004'; cat "$dir/req.bin"; } >"$dir/metrics_full"
        { printf '\007'; gzip -c "$dir/req.bin"; } >"$dir/metrics_gz"
    fi
    cat >"$dir/req.txt" <<'TXT'
resource_logs {
  resource { attributes { key: "service.name" value { string_value: "svc" } } }
  scope_logs {
    scope { name: "lib" version: "1.0" }
    log_records { time_unix_nano: 1 observed_time_unix_nano: 2 severity_number: SEVERITY_NUMBER_ERROR severity_text: "ERROR"
      body { kvlist_value { values { key: "a" value { array_value { values { int_value: 1 } values { bytes_value: "\001" } } } } } }
      attributes { key: "k" value { double_value: 1.5 } } dropped_attributes_count: 1 flags: 1
      trace_id: "0123456789abcdef" span_id: "01234567" }
    log_records { body { string_value: "plain" } }
  }
}
TXT
    if protoc -I"$protos" --encode=opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest \
        opentelemetry/proto/collector/logs/v1/logs_service.proto <"$dir/req.txt" >"$dir/req.bin" 2>/dev/null; then
        { printf '\005'; cat "$dir/req.bin"; printf '\142\002hi'; } >"$dir/logs_full" # + an unknown field 12
        { printf '\007'; gzip -c "$dir/req.bin"; } >"$dir/logs_gz"
    fi
    rm -f "$dir/req.txt" "$dir/req.bin"
fi
seed '\006{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"ab","name":"x\\u00e9","kind":1,"a":[1.5e3,-0,true,null]}]}]}]}' json1
