/* build_mode.h - the body of test_mode_static.c and test_mode_noinline.c: otel.h built with
   OTEL_STATIC (everything private to this unit, the inline attribute path's thread state
   too) or OTEL_NO_INLINE_ATTRS (every attribute through the library's calls). Spans with
   literal-key attributes must arrive whole either way; MODE_INLINE says which path the
   literal keys must have taken. Include after otel.h and test.h. */
static int mode_main(void) {
    otel_exporter mem;
    otel_desc d;
    memset(&d, 0, sizeof d);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    d.service_name = "mode";
    d.default_exporters = "none";
    d.destinations[0].exporter = mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.lock_destinations = true;
    for (int round = 0; round < 2; round++) { /* the second: a new SDK instance */
        CHECK(otel_init(&d) == OTEL_OK);
        otel_span *root = otel_span_start("root", NULL);
        otel_span *s = otel_span_start("child", NULL);
        otel_span_set_str(s, "http.request.method", "GET");
        otel_span_set_int(s, "http.response.status_code", 200);
        otel_span_set_double(s, "app.ratio", 2);
        otel_span_set_bool(s, "app.ok", true);
        otel_span_set_strn(s, "url.path", "/api/v1/users/12345?x", 19);
        otel_span_set_int(s, "http.response.status_code", 201); /* again: replaced */
        otel_span_end(s);
        otel_span_set_int(s, "stale", 1);
        otel_span_end(root);
        CHECK(otel_force_flush(1000) == OTEL_OK);
        CHECK(otel_memory_exporter_count(&mem) == 2);
        const otel_span_data *sd = otel_memory_exporter_span(&mem, 0);
        CHECK(sd != NULL && sd->attr_count == 5);
        if (sd) {
            otel_iter it = otel_span_attrs(sd);
            otel_attr a;
            CHECK(test_attr_str(it, "http.request.method", "GET"));
            CHECK(test_attr_int(it, "http.response.status_code", 201));
            CHECK(test_attr_double(it, "app.ratio", 2));
            CHECK(test_attr_bool(it, "app.ok", true));
            CHECK(test_attr_str(it, "url.path", "/api/v1/users/12345"));
            CHECK(!test_attr_find(it, "stale", &a));
        }
        CHECK(otel_shutdown(1000) == OTEL_OK);
        otel_span_set_int(s, "after.shutdown", 1); /* the instance is gone: nothing, no crash */
        otel_memory_exporter_reset(&mem);
    }
#if MODE_INLINE
    CHECK(OTEL__INLINE_KV == 1);
    CHECK(otel__test_inline_hits == 2 * 5); /* 5 per round; the repeated key takes the call */
#else
    CHECK(OTEL__INLINE_KV == 0);
#endif
    otel_memory_exporter_destroy(&mem);
    return TEST_DONE();
}
