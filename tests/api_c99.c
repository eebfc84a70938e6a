/* tests/api_c99.c - the API half of otel.h compiles as C99 with -Wpedantic -Wall -Wextra
   -Werror, and a program whose code is C99 links with the implementation compiled as C11 in
   another translation unit. tests/run.sh builds it with gcc and clang; it defines
   HAVE_OTEL_OTLP_H when otel_otlp.h exists. */
#include "otel.h"
#include "otel.h" /* the include guard holds */
#ifdef HAVE_OTEL_OTLP_H
#include "otel_otlp.h"
#endif
#include "test.h"

int main(void) {
    otel_desc desc;
    otel_span_context ctx;
    char tp[OTEL_TRACEPARENT_SIZE];
    otel_attr attrs[2];
    memset(&desc, 0, sizeof desc);
    memset(&ctx, 0, sizeof ctx);
    desc.service_name = "c99";
    attrs[0] = otel_attr_str("k", "v");
    attrs[1] = otel_attr_int("n", 1);
    CHECK(attrs[0].value.type == OTEL_VALUE_STRING && attrs[1].value.u.i == 1);

    /* Calls that need no otel_init. */
    CHECK(otel_result_str(OTEL_OK) != NULL);
    CHECK(otel_result_str(OTEL_ERR_TIMEOUT) != NULL);
    CHECK(otel_now_ns() > 1600000000ull * 1000000000ull);
    CHECK(!otel_span_context_is_valid(&ctx));
    CHECK(otel_context_extract("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                               NULL, &ctx) == OTEL_OK);
    CHECK(otel_span_context_is_valid(&ctx));
    CHECK(otel_traceparent_format(&ctx, tp, sizeof tp) == OTEL_OK);
    CHECK(strcmp(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == 0);
    return TEST_DONE();
}
