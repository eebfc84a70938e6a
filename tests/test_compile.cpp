// tests/test_compile.cpp - the API halves of otel.h and otel_otlp.h compile as C++11 with
// -Wall -Wextra -Werror and link: types, enums, constants and the inline attribute
// constructors are used, function signatures (traces, metrics, logs, OTLP, Zipkin) checked
// with decltype. tests/run.sh builds it with g++ and clang++ and links the implementation of
// otel.h compiled as C11 in another unit: at the end a span's literal-key attributes take the
// inline path (otel__kv_inline) compiled here as C++, against the C unit's span storage.
#define OTEL_TEST_FAST_HITS 1 // counts this unit's inline attribute writes
#include "../otel.h"
#include "../otel.h" // the include guard holds
#include "../otel_otlp.h"
#include "../otel_otlp.h"
#include "test.h"

#include <type_traits>

static_assert(std::is_trivially_copyable<otel_span_context>::value, "plain C struct");
static_assert(std::is_standard_layout<otel_desc>::value, "plain C struct");
static_assert(sizeof(otel_span_context) >= 16 + 8 + 1, "ids fit");
static_assert(OTEL_TRACEPARENT_SIZE == 56, "55 characters and a NUL");
static_assert(OTEL_OK == 0, "zero is success");

// Declarations are extern "C": a pointer to one has C language linkage types.
static otel_result (*const init_fn)(const otel_desc *) = nullptr;

// otel_otlp.h: the declarations, by type only (decltype does not odr-use, nothing to link).
static_assert(std::is_standard_layout<otel_otlp_desc>::value, "plain C struct");
static_assert(std::is_trivially_copyable<otel_otlp_stats>::value, "plain C struct");
static_assert(std::is_same<decltype(&otel_otlp_exporter_create),
                           otel_result (*)(const otel_otlp_desc *, otel_exporter *)>::value, "create");
static_assert(std::is_same<decltype(&otel_otlp_exporter_stats),
                           otel_result (*)(const otel_exporter *, otel_otlp_stats *)>::value, "stats");
static_assert(std::is_same<decltype(&otel_otlp_exporter_cancel), void (*)(const otel_exporter *)>::value,
              "cancel");
static_assert(std::is_same<decltype(&otel_otlp_exporter_url), const char *(*)(const otel_exporter *)>::value,
              "url");
static_assert(std::is_same<decltype(&otel_otlp_register), otel_result (*)()>::value, "register");
static_assert(std::is_same<decltype(&otel_otlp_encoder_create), otel_otlp_encoder *(*)()>::value, "encoder");
static_assert(std::is_same<decltype(&otel_otlp_encoder_destroy), void (*)(otel_otlp_encoder *)>::value,
              "encoder destroy");
static_assert(std::is_same<decltype(&otel_otlp_encode_spans),
                           otel_result (*)(otel_otlp_encoder *, const otel_span_batch *, const uint8_t **,
                                           size_t *)>::value, "encode");
static_assert(std::is_same<decltype(&otel_otlp_gzip),
                           otel_result (*)(otel_otlp_encoder *, const void *, size_t, const uint8_t **,
                                           size_t *)>::value, "gzip");
static_assert(OTEL_OTLP_COMPRESSION_DEFAULT == 0 && OTEL_OTLP_PROTOCOL_DEFAULT == 0, "zero is default");
static_assert(std::is_standard_layout<otel_zipkin_desc>::value, "plain C struct");
static_assert(std::is_same<decltype(&otel_zipkin_exporter_create),
                           otel_result (*)(const otel_zipkin_desc *, otel_exporter *)>::value, "zipkin create");
static_assert(std::is_same<decltype(&otel_zipkin_exporter_stats),
                           otel_result (*)(const otel_exporter *, otel_otlp_stats *)>::value, "zipkin stats");
static_assert(std::is_same<decltype(&otel_zipkin_exporter_cancel), void (*)(const otel_exporter *)>::value,
              "zipkin cancel");
static_assert(std::is_same<decltype(&otel_zipkin_exporter_url), const char *(*)(const otel_exporter *)>::value,
              "zipkin url");
static_assert(std::is_same<decltype(&otel_zipkin_register), otel_result (*)()>::value, "zipkin register");

// Metrics and logs (otel.h): every function by its type, the inline helpers included.
static_assert(std::is_same<decltype(&otel_meter_get), otel_meter *(*)(const char *, const char *)>::value, "meter");
static_assert(std::is_same<decltype(&otel_instrument_create),
                           otel_instrument *(*)(otel_meter *, otel_instrument_kind, otel_number_type,
                                                const otel_instrument_desc *)>::value, "instrument");
static_assert(std::is_same<decltype(&otel_counter_create),
                           otel_instrument *(*)(otel_meter *, const char *, const char *, const char *)>::value,
              "counter");
static_assert(std::is_same<decltype(&otel_histogram_create), decltype(&otel_counter_create)>::value, "histogram");
static_assert(std::is_same<decltype(&otel_record_int),
                           void (*)(otel_instrument *, int64_t, const otel_attr *, size_t)>::value, "record int");
static_assert(std::is_same<decltype(&otel_record_double),
                           void (*)(otel_instrument *, double, const otel_attr *, size_t)>::value, "record double");
static_assert(std::is_same<decltype(&otel_instrument_bind),
                           otel_bound *(*)(otel_instrument *, const otel_attr *, size_t)>::value, "bind");
static_assert(std::is_same<decltype(&otel_bound_record_int), void (*)(otel_bound *, int64_t)>::value, "bound int");
static_assert(std::is_same<decltype(&otel_bound_record_double), void (*)(otel_bound *, double)>::value,
              "bound double");
static_assert(std::is_same<decltype(&otel_observe_int),
                           void (*)(otel_observer *, int64_t, const otel_attr *, size_t)>::value, "observe int");
static_assert(std::is_same<decltype(&otel_observe_double),
                           void (*)(otel_observer *, double, const otel_attr *, size_t)>::value, "observe double");
static_assert(std::is_same<otel_observe_fn, void (*)(otel_observer *, void *)>::value, "observe fn");
static_assert(std::is_same<otel_metrics_collect_fn, void (*)(const otel_metric_batch *, void *)>::value, "collect fn");
static_assert(std::is_same<decltype(&otel_metrics_collect),
                           otel_result (*)(size_t, otel_metrics_collect_fn, void *)>::value, "collect");
static_assert(std::is_same<decltype(&otel_prometheus_format),
                           size_t (*)(const otel_metric_batch *, char *, size_t)>::value, "prometheus format");
static_assert(std::is_same<decltype(&otel_prometheus_render),
                           otel_result (*)(size_t, char *, size_t, size_t *)>::value, "prometheus render");
static_assert(std::is_same<decltype(&otel_logger_get), otel_logger *(*)(const char *, const char *)>::value, "logger");
static_assert(std::is_same<decltype(&otel_logger_emit), void (*)(otel_logger *, const otel_log_record *)>::value,
              "emit");
// The printf-style ones carry a format attribute, which g++ will not put in a template
// argument: their types are checked by an unevaluated static_cast (no conversion between
// different function pointer types exists).
typedef void (*logf_type)(otel_logger *, otel_severity, const otel_attr *, size_t, const char *, ...);
typedef void (*level_type)(otel_logger *, const otel_attr *, size_t, const char *, ...);
#define CHECK_FN_TYPE(type, fn) static_assert(sizeof(static_cast<type>(&fn)) > 0, #fn)
CHECK_FN_TYPE(logf_type, otel_logger_logf);
CHECK_FN_TYPE(level_type, otel_logger_trace);
CHECK_FN_TYPE(level_type, otel_logger_debug);
CHECK_FN_TYPE(level_type, otel_logger_info);
CHECK_FN_TYPE(level_type, otel_logger_warn);
CHECK_FN_TYPE(level_type, otel_logger_error);
CHECK_FN_TYPE(level_type, otel_logger_fatal);
static_assert(std::is_same<decltype(&otel_log_attrs), otel_iter (*)(const otel_log_data *)>::value, "log attrs");
static_assert(std::is_same<decltype(&otel_memory_exporter_log_count), size_t (*)(const otel_exporter *)>::value,
              "memory log count");
static_assert(std::is_same<decltype(&otel_memory_exporter_log),
                           const otel_log_data *(*)(const otel_exporter *, size_t)>::value, "memory log");
static_assert(std::is_same<decltype(&otel_exporter_create_for),
                           otel_result (*)(otel_signal, const char *, otel_exporter *)>::value, "create for");
static_assert(std::is_same<decltype(&otel_exporter_register),
                           otel_result (*)(const char *, otel_exporter_factory_fn, void *)>::value, "register");
static_assert(std::is_same<decltype(&otel_otlp_encode_metrics),
                           otel_result (*)(otel_otlp_encoder *, const otel_metric_batch *, const uint8_t **,
                                           size_t *)>::value, "encode metrics");
static_assert(std::is_same<decltype(&otel_otlp_encode_logs),
                           otel_result (*)(otel_otlp_encoder *, const otel_log_batch *, const uint8_t **,
                                           size_t *)>::value, "encode logs");
static_assert(std::is_trivially_copyable<otel_metric_point>::value && std::is_standard_layout<otel_metric_data>::value &&
                  std::is_standard_layout<otel_metric_batch>::value && std::is_standard_layout<otel_reader_desc>::value,
              "plain C structs");
static_assert(std::is_trivially_copyable<otel_log_record>::value && std::is_standard_layout<otel_log_data>::value &&
                  std::is_standard_layout<otel_log_batch>::value && std::is_trivially_copyable<otel_log_limits>::value,
              "plain C structs");
static_assert(OTEL_SIGNAL_TRACES == 0 && OTEL_SIGNAL_METRICS == 1 && OTEL_SIGNAL_LOGS == 2, "signals");
static_assert(OTEL_SEVERITY_INFO == 9 && OTEL_SEVERITY_FATAL4 == 24, "severity numbers");
static_assert(OTEL_TEMPORALITY_DELTA == 1 && OTEL_TEMPORALITY_CUMULATIVE == 2, "OTLP values");
static_assert(OTEL_MAX_READERS >= 1, "readers");

int main() {
    otel_desc desc = {};
    desc.service_name = "cpp";
    desc.default_exporters = "console";
    desc.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    desc.sampler = OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO;
    CHECK(desc.destinations[OTEL_MAX_DESTINATIONS - 1].exporter.export_spans == nullptr);
    CHECK(desc.limits.attr_count == 0);

    otel_span_desc sd = {};
    sd.kind = OTEL_SPAN_KIND_SERVER;
    CHECK(sd.parent == nullptr && !sd.root);

    otel_attr a = otel_attr_str("http.request.method", "GET");
    CHECK(a.value.type == OTEL_VALUE_STRING && a.key.len == 19 && a.value.len == 3);
    otel_attr b = otel_attr_int("http.response.status_code", 200);
    CHECK(b.value.type == OTEL_VALUE_INT && b.value.u.i == 200);
    otel_attr c = otel_attr_double("app.ratio", 0.75);
    CHECK(c.value.type == OTEL_VALUE_DOUBLE && c.value.u.d == 0.75);
    otel_attr d = otel_attr_bool("ok", true);
    CHECK(d.value.type == OTEL_VALUE_BOOL && d.value.u.b);
    const char *names[] = {"a", "b"};
    otel_attr e = otel_attr_str_array("names", names, 2);
    CHECK(e.value.type == OTEL_VALUE_STRING_ARRAY && e.value.len == 2);
    const int64_t ints[] = {1, 2, 3};
    CHECK(otel_attr_int_array("i", ints, 3).value.len == 3);
    const double dbls[] = {1.5};
    CHECK(otel_attr_double_array("d", dbls, 1).value.type == OTEL_VALUE_DOUBLE_ARRAY);
    const bool bools[] = {true, false};
    CHECK(otel_attr_bool_array("b", bools, 2).value.type == OTEL_VALUE_BOOL_ARRAY);
    CHECK(otel_attr_strn("k", nullptr, 5).value.len == 0);

    otel_span_context ctx = {};
    ctx.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    otel_link link = {&ctx, &a, 1};
    CHECK(link.attr_count == 1);

    otel_exporter exp = {};
    exp.name = "cpp";
    CHECK(exp.export_spans == nullptr);
    otel_stats stats = {};
    CHECK(stats.destination_count == 0);
    otel_span_data sdata = {};
    otel_iter it = {sdata.otel__items, sdata.otel__items};
    CHECK(it.p == it.end);
    CHECK(init_fn == nullptr);
    CHECK(OTEL_STATUS_ERROR == 2 && OTEL_SPAN_KIND_CONSUMER == 5);
    otel_span *span = nullptr;
    otel_tracer *tracer = nullptr;
    CHECK(span == nullptr && tracer == nullptr);

    // metrics and logs: the data views and descs as plain aggregates
    double bounds[] = {1, 10};
    otel_instrument_desc id = {};
    id.name = "http.server.duration";
    id.unit = "ms";
    id.boundaries = bounds;
    id.boundary_count = 2;
    CHECK(id.callback == nullptr && id.cardinality_limit == 0);
    desc.readers[0].kind = OTEL_READER_PERIODIC;
    desc.readers[0].temporality = OTEL_TEMPORALITY_PREF_DELTA;
    desc.readers[1].kind = OTEL_READER_PROMETHEUS;
    desc.readers[1].port = 9464;
    desc.default_metrics_exporters = "console";
    desc.default_logs_exporters = "console";
    desc.log_destinations[0].processor = OTEL_PROCESSOR_BATCH;
    desc.log_limits.attr_count = 16;
    CHECK(desc.readers[OTEL_MAX_READERS - 1].kind == OTEL_READER_NONE);
    otel_metric_point pt = {};
    pt.value.i = 3;
    otel_metric_data md = {};
    md.type = OTEL_METRIC_SUM;
    md.number_type = OTEL_NUMBER_INT64;
    md.temporality = OTEL_TEMPORALITY_CUMULATIVE;
    md.points = &pt;
    md.point_count = 1;
    otel_metric_batch mb = {&md, 1, nullptr, 0};
    CHECK(mb.metrics[0].points[0].value.i == 3);
    otel_log_record rec = {};
    rec.severity = OTEL_SEVERITY_WARN;
    rec.body = otel_attr_str("", "text").value;
    rec.attrs = &a;
    rec.attr_count = 1;
    CHECK(rec.body.type == OTEL_VALUE_STRING && rec.context == nullptr);
    otel_log_data ld = {};
    const otel_log_data *recs[] = {&ld};
    otel_log_batch lb = {recs, 1, nullptr, 0};
    CHECK(lb.records[0]->severity == OTEL_SEVERITY_UNSPECIFIED);
    CHECK(stats.reader_count == 0 && stats.log_destination_count == 0 && stats.logs_emitted == 0);
    otel_logger *logger = nullptr;
    otel_meter *meter = nullptr;
    otel_instrument *inst = nullptr;
    otel_bound *bound = nullptr;
    CHECK(logger == nullptr && meter == nullptr && inst == nullptr && bound == nullptr);
    exp.export_metrics = nullptr;
    exp.export_logs = nullptr;

    otel_otlp_header hdr = {"x-api-key", "secret"};
    otel_otlp_desc od = {};
    od.endpoint = "http://collector:4318";
    od.headers = &hdr;
    od.header_count = 1;
    od.timeout_ms = 5000;
    od.compression = OTEL_OTLP_COMPRESSION_GZIP;
    od.protocol = OTEL_OTLP_PROTOCOL_HTTP_PROTOBUF;
    od.insecure = false;
    CHECK(od.traces_endpoint == nullptr && od.headers_str == nullptr && od.max_request_bytes == 0);
    CHECK(od.retry_initial_ms == 0 && od.retry_max_ms == 0 && od.certificate == nullptr);
    CHECK(od.client_key == nullptr && od.client_certificate == nullptr);
    CHECK(OTEL_OTLP_COMPRESSION_NONE != OTEL_OTLP_COMPRESSION_GZIP);
    CHECK(OTEL_OTLP_PROTOCOL_HTTP_JSON != OTEL_OTLP_PROTOCOL_GRPC);
    otel_otlp_stats os = {};
    CHECK(os.batches == 0 && os.spans_exported == 0 && os.spans_rejected == 0 && os.spans_failed == 0);
    CHECK(os.spans_dropped == 0 && os.requests == 0 && os.retries == 0 && os.connect_failures == 0);
    CHECK(os.connections == 0 && os.bytes_sent == 0 && os.bytes_raw == 0 && os.last_status == 0);
    otel_otlp_encoder *enc = nullptr;
    CHECK(enc == nullptr);
    otel_zipkin_desc zd = {};
    zd.endpoint = "http://zipkin:9411/api/v2/spans";
    zd.headers = &hdr;
    zd.header_count = 1;
    zd.compression = OTEL_OTLP_COMPRESSION_GZIP;
    CHECK(zd.timeout_ms == 0 && zd.max_request_bytes == 0 && zd.certificate == nullptr && !zd.insecure);
    // A span through the SDK (the implementation is the C unit): literal keys are written
    // inline here, the rest by the library's calls.
    {
        otel_exporter mem = {};
        CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
        otel_desc sdk = {};
        sdk.service_name = "cpp";
        sdk.default_exporters = "none";
        sdk.destinations[0].exporter = mem;
        sdk.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
        sdk.lock_destinations = true;
        CHECK(otel_init(&sdk) == OTEL_OK);
        otel_span *root = otel_span_start("cpp.root", nullptr);
        otel_span *s = otel_span_start("cpp.child", nullptr);
        otel_span_set_str(s, "http.request.method", "GET");
        otel_span_set_int(s, "http.response.status_code", 200);
        otel_span_set_double(s, "app.ratio", 0.75);
        CHECK(otel__test_inline_hits == 3);
        otel_span_set_str(s, "http.request.method", "POST"); // set again: the library's call
        CHECK(otel__test_inline_hits == 3);
        otel_span_end(s);
        otel_span_set_int(s, "after.end", 1); // stale: nothing written
        otel_span_end(root);
        CHECK(otel__test_inline_hits == 3);
        CHECK(otel_memory_exporter_count(&mem) == 2);
        const otel_span_data *sd = otel_memory_exporter_span(&mem, 0);
        CHECK(sd != nullptr && sd->attr_count == 3);
        if (sd) {
            otel_iter ai = otel_span_attrs(sd);
            CHECK(test_attr_str(ai, "http.request.method", "POST"));
            CHECK(test_attr_int(ai, "http.response.status_code", 200));
            CHECK(test_attr_double(ai, "app.ratio", 0.75));
        }
        CHECK(otel_shutdown(1000) == OTEL_OK);
        otel_memory_exporter_destroy(&mem);
    }
    return TEST_DONE();
}
