/* tests/api_c99.c - the API halves of otel.h and otel_otlp.h compile as C99 with -Wpedantic
   -Wall -Wextra -Werror, and a program whose code is C99 links with both implementations
   compiled as C11 in another translation unit. tests/run.sh builds it with gcc and clang. */
#include "otel.h"
#include "otel.h" /* the include guard holds */
#include "otel_otlp.h"
#include "otel_otlp.h"
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

    /* otel_otlp.h: an exporter is made without connecting, and freed by its shutdown. */
    {
        otel_otlp_desc od;
        otel_otlp_header hdr;
        otel_exporter exp;
        otel_otlp_stats st;
        otel_otlp_encoder *enc;
        const char *url;
        memset(&od, 0, sizeof od);
        hdr.name = "x-api-key";
        hdr.value = "secret";
        od.endpoint = "http://127.0.0.1:9/base";
        od.headers = &hdr;
        od.header_count = 1;
        od.timeout_ms = 100;
        od.compression = OTEL_OTLP_COMPRESSION_GZIP;
        CHECK(otel_otlp_exporter_create(&od, &exp) == OTEL_OK);
        url = otel_otlp_exporter_url(&exp);
        CHECK(url != NULL && strcmp(url, "http://127.0.0.1:9/base/v1/traces") == 0);
        CHECK(otel_otlp_exporter_stats(&exp, &st) == OTEL_OK && st.requests == 0);
        otel_otlp_exporter_cancel(&exp);
        if (exp.shutdown) exp.shutdown(0, exp.user);
        enc = otel_otlp_encoder_create();
        CHECK(enc != NULL);
        otel_otlp_encoder_destroy(enc);
    }
    /* the Zipkin exporter, likewise */
    {
        otel_zipkin_desc zd;
        otel_exporter exp;
        otel_otlp_stats st;
        memset(&zd, 0, sizeof zd);
        zd.endpoint = "http://127.0.0.1:9/api/v2/spans";
        zd.timeout_ms = 100;
        CHECK(otel_zipkin_exporter_create(&zd, &exp) == OTEL_OK);
        CHECK(otel_zipkin_exporter_url(&exp) != NULL && strcmp(otel_zipkin_exporter_url(&exp), zd.endpoint) == 0);
        CHECK(otel_zipkin_exporter_stats(&exp, &st) == OTEL_OK && st.requests == 0);
        otel_zipkin_exporter_cancel(&exp);
        if (exp.shutdown) exp.shutdown(0, exp.user);
        CHECK(otel_zipkin_register() == OTEL_OK);
    }
    return TEST_DONE();
}
