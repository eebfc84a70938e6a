// tests/test_compile.cpp - the API halves of otel.h and otel_otlp.h compile as C++11 with
// -Wall -Wextra -Werror and link: types, enums, constants and the inline attribute
// constructors are used, function signatures checked with decltype; no library function is
// called, so no implementation is linked. tests/run.sh builds it with g++ and clang++.
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
    return TEST_DONE();
}
