/* tests/api_c99.c - the API halves of otel.h and otel_otlp.h compile as C99 with -Wpedantic
   -Wall -Wextra -Werror, and a program whose code is C99 links with both implementations
   compiled as C11 in another translation unit. tests/run.sh builds it with gcc and clang.
   The spans' literal-key attributes take the inline path (otel__kv_inline) compiled here, as
   C99, against the implementation's storage and thread state in the other unit. */
#define OTEL_TEST_FAST_HITS 1 /* counts this unit's inline attribute writes */
#include "otel.h"
#include "otel.h" /* the include guard holds */
#include "otel_otlp.h"
#include "otel_otlp.h"
#include "test.h"

/* metrics and logs: an observable callback and a collect callback, as plain C99 */
static void observe(otel_observer *obs, void *user) {
    otel_attr a = otel_attr_str("cpu", "0");
    (void)user;
    otel_observe_double(obs, 0.25, &a, 1);
    otel_observe_int(obs, 7, NULL, 0);
}

typedef struct collected {
    size_t metrics, points, prom_len;
    char prom[4096];
} collected;

static void on_collect(const otel_metric_batch *batch, void *user) {
    collected *c = (collected *)user;
    size_t i;
    c->metrics = batch->count;
    for (i = 0; i < batch->count; i++) c->points += batch->metrics[i].point_count;
    c->prom_len = otel_prometheus_format(batch, c->prom, sizeof c->prom);
}

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
    /* spans: literal keys are written inline here (this unit's code, the other unit's data) */
    {
        otel_desc d;
        otel_exporter mem;
        otel_span *root, *s;
        const otel_span_data *sd;
        otel_iter it;
        char key[8] = "runtime"; /* a key whose length this unit does not know: the library call */
        CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
        memset(&d, 0, sizeof d);
        d.service_name = "c99";
        d.default_exporters = "none";
        d.destinations[0].exporter = mem;
        d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
        d.lock_destinations = true;
        CHECK(otel_init(&d) == OTEL_OK);
        root = otel_span_start("c99.root", NULL);
        s = otel_span_start("c99.child", NULL);
        otel_span_set_str(s, "http.request.method", "GET");
        otel_span_set_int(s, "http.response.status_code", 200);
        otel_span_set_double(s, "app.ratio", 0.75);
        otel_span_set_bool(s, "app.ok", true);
        otel_span_set_int(s, "http.response.status_code", 404); /* set twice: the call replaces it */
        CHECK(otel__test_inline_hits == 4);
        otel_span_set_str(s, key, "v");
        CHECK(otel__test_inline_hits == 4);
        otel_span_end(s);
        otel_span_set_int(s, "after.end", 1); /* a stale handle: nothing written */
        otel_span_end(root);
        CHECK(otel__test_inline_hits == 4);
        CHECK(otel_memory_exporter_count(&mem) == 2);
        sd = otel_memory_exporter_span(&mem, 0);
        CHECK(sd != NULL && sd->name.len == 9 && !memcmp(sd->name.ptr, "c99.child", 9) && sd->attr_count == 5);
        if (sd) {
            it = otel_span_attrs(sd);
            CHECK(test_attr_str(it, "http.request.method", "GET"));
            CHECK(test_attr_int(it, "http.response.status_code", 404));
            CHECK(test_attr_double(it, "app.ratio", 0.75));
            CHECK(test_attr_bool(it, "app.ok", true));
            CHECK(test_attr_str(it, "runtime", "v"));
        }
        CHECK(otel_shutdown(1000) == OTEL_OK);
        otel_span_set_int(s, "after.shutdown", 1); /* the instance is gone: nothing, no crash */
        CHECK(otel__test_inline_hits == 4);
        otel_memory_exporter_destroy(&mem);
    }
    /* metrics and logs through the SDK: a MANUAL reader, a memory log destination */
    {
        otel_desc d;
        otel_exporter mem;
        otel_meter *meter;
        otel_instrument *ctr, *hist, *gauge, *obs;
        otel_instrument_desc od;
        otel_bound *bound;
        otel_logger *lg;
        otel_log_record rec;
        const otel_log_data *r;
        otel_iter it;
        otel_attr got;
        collected col;
        char text[4096];
        size_t len = 0;
        int nattrs = 0;
        CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
        memset(&d, 0, sizeof d);
        d.service_name = "c99";
        d.default_exporters = "none";
        d.log_destinations[0].exporter = mem;
        d.log_destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
        d.readers[0].kind = OTEL_READER_MANUAL;
        d.lock_destinations = true;
        CHECK(otel_init(&d) == OTEL_OK);
        meter = otel_meter_get("c99.meter", "1.0");
        CHECK(meter != NULL && otel_meter_get("c99.meter", "1.0") == meter);
        ctr = otel_counter_create(meter, "c99.requests", "1", "requests");
        hist = otel_histogram_create(meter, "c99.latency", "ms", NULL);
        memset(&od, 0, sizeof od);
        od.name = "c99.temperature";
        gauge = otel_instrument_create(meter, OTEL_INSTRUMENT_GAUGE, OTEL_NUMBER_DOUBLE, &od);
        od.name = "c99.cpu";
        od.callback = observe;
        obs = otel_instrument_create(meter, OTEL_INSTRUMENT_OBSERVABLE_GAUGE, OTEL_NUMBER_DOUBLE, &od);
        CHECK(ctr && hist && gauge && obs);
        otel_record_int(ctr, 2, attrs, 2);
        otel_record_double(hist, 12.5, NULL, 0);
        otel_record_double(gauge, 21.5, NULL, 0);
        bound = otel_instrument_bind(ctr, attrs, 1);
        CHECK(bound != NULL);
        otel_bound_record_int(bound, 3);
        otel_bound_record_double(NULL, 1.0); /* NULL is accepted */
        memset(&col, 0, sizeof col);
        CHECK(otel_metrics_collect(0, on_collect, &col) == OTEL_OK);
        CHECK(col.metrics == 4 && col.points == 6 && col.prom_len > 0 && col.prom_len < sizeof col.prom);
        CHECK(strstr(col.prom, "c99_requests_total") != NULL);
        CHECK(otel_prometheus_render(0, text, sizeof text, &len) == OTEL_OK && len > 0 && strstr(text, "c99_latency") != NULL);

        lg = otel_logger_get("c99.logger", NULL);
        CHECK(lg != NULL);
        memset(&rec, 0, sizeof rec);
        rec.severity = OTEL_SEVERITY_WARN;
        rec.body = otel_attr_str("", "structured").value;
        rec.attrs = attrs;
        rec.attr_count = 2;
        rec.event_name = "c99.event";
        otel_logger_emit(lg, &rec);
        otel_logger_logf(lg, OTEL_SEVERITY_ERROR, NULL, 0, "printf %d", 42);
        otel_logger_info(NULL, NULL, 0, "info %s", "default logger");
        CHECK(otel_force_flush(1000) == OTEL_OK);
        CHECK(otel_memory_exporter_log_count(&mem) == 3);
        r = otel_memory_exporter_log(&mem, 0);
        CHECK(r != NULL && r->severity == OTEL_SEVERITY_WARN && r->attr_count == 2);
        it = otel_log_attrs(r);
        while (otel_iter_attr(&it, &got)) nattrs++;
        CHECK(nattrs == 2);
        r = otel_memory_exporter_log(&mem, 1);
        CHECK(r != NULL && r->body.type == OTEL_VALUE_STRING && r->body.len == 9 && !memcmp(r->body.u.s, "printf 42", 9));
        CHECK(otel_memory_exporter_log(&mem, 3) == NULL);
        CHECK(otel_shutdown(1000) == OTEL_OK);
        otel_memory_exporter_destroy(&mem);
    }
    return TEST_DONE();
}
