// tests/test_compile.cpp - the API half of otel.h (and otel_otlp.h, when present) compiles
// as C++11 with -Wall -Wextra -Werror and links: types, enums, constants and the inline
// attribute constructors are used; no library function is called, so no implementation is
// linked. tests/run.sh builds it with g++ and clang++.
#include "../otel.h"
#include "../otel.h" // the include guard holds
#if defined(__has_include)
#if __has_include("../otel_otlp.h")
#include "../otel_otlp.h"
#endif
#endif
#include "test.h"

#include <type_traits>

static_assert(std::is_trivially_copyable<otel_span_context>::value, "plain C struct");
static_assert(std::is_standard_layout<otel_desc>::value, "plain C struct");
static_assert(sizeof(otel_span_context) >= 16 + 8 + 1, "ids fit");
static_assert(OTEL_TRACEPARENT_SIZE == 56, "55 characters and a NUL");
static_assert(OTEL_OK == 0, "zero is success");

// Declarations are extern "C": a pointer to one has C language linkage types.
static otel_result (*const init_fn)(const otel_desc *) = nullptr;

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
    return TEST_DONE();
}
