/* shared_lib_app.c - the program of tests/test_shared_lib.sh: otel.h's implementation is in a
   shared library built with -fvisibility=hidden (OTEL_API exports what the API declares),
   and this program's literal-key attributes take the inline path against the library's
   thread state. Prints one line; exits 0 when the span arrived whole. */
#define OTEL_TEST_FAST_HITS 1
#include "otel.h"
#include <stdio.h>

int main(void) {
    otel_exporter mem;
    otel_desc d;
    memset(&d, 0, sizeof d);
    if (otel_memory_exporter_create(0, &mem) != OTEL_OK) return 2;
    d.service_name = "shared";
    d.default_exporters = "none";
    d.destinations[0].exporter = mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.lock_destinations = true;
    if (otel_init(&d) != OTEL_OK) return 2;
    otel_span *root = otel_span_start("root", NULL);
    otel_span *s = otel_span_start("child", NULL);
    otel_span_set_int(s, "http.response.status_code", 200);
    otel_span_set_str(s, "http.request.method", "GET");
    otel_span_set_int(s, "http.response.status_code", 404); /* set again: the library's call */
    otel_span_end(s);
    otel_span_end(root);
    const otel_span_data *sd = otel_memory_exporter_span(&mem, 0);
    int64_t code = 0;
    otel_iter it = otel_span_attrs(sd);
    otel_attr a;
    while (sd && otel_iter_attr(&it, &a))
        if (a.key.len == 25 && a.value.type == OTEL_VALUE_INT) code = a.value.u.i;
    unsigned long long hits = otel__test_inline_hits;
    printf("inline %llu attrs %u code %lld\n", hits, sd ? (unsigned)sd->attr_count : 0u, (long long)code);
    bool ok = sd && sd->attr_count == 2 && code == 404 && hits == 2;
    otel_shutdown(1000);
    otel_memory_exporter_destroy(&mem);
    return ok ? 0 : 1;
}
