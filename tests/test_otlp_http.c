/* test_otlp_http.c - the OTLP/HTTP exporter against an in-process receiver on 127.0.0.1
   with fault injection (tests/otlp_test_server.h): retries on 503/429 (Retry-After),
   no retry on 400, a receiver that never answers, a reset in mid-response, a receiver
   down at start, cancel during backoff, partial success, oversized requests and
   responses, gzip, keep-alive, endpoint and header resolution from desc and env, and the
   exporter inside otel.h's pipeline (a hung destination does not hold up the others;
   OTEL_TRACES_EXPORTER=otlp). tests/test_otlp_curl.c builds this file again with
   OTEL_USE_CURL (libcurl).                                                              */
/* tsan */
#define _GNU_SOURCE 1
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"
#define OTLP_SINK_NO_MAIN
#include "../tools/otlp_sink.c"
#include "otlp_test_server.h"
#include "test.h"

#include <pthread.h>
#include <sys/wait.h>

#ifdef OTEL_USE_CURL
#define TRANSPORT "curl"
#else
#define TRANSPORT "builtin"
#endif

/* ---- helpers ----------------------------------------------------------------------- */

static otel_span_data g_spans[8];
static const otel_span_data *g_ptrs[8];

static otel_span_batch batch_of(size_t n) {
    otel_span_batch b;
    size_t i;
    for (i = 0; i < n && i < 8; i++) {
        otel_span_data *s = &g_spans[i];
        memset(s, 0, sizeof *s);
        memset(s->trace_id, 0xab, 16);
        memset(s->span_id, (int)(i + 1), 8);
        s->trace_flags = 1;
        s->kind = OTEL_SPAN_KIND_INTERNAL;
        s->start_time_ns = 1000 + i;
        s->end_time_ns = 2000 + i;
        s->name.ptr = "op";
        s->name.len = 2;
        g_ptrs[i] = s;
    }
    memset(&b, 0, sizeof b);
    b.spans = g_ptrs;
    b.count = n;
    return b;
}

static void base_desc(otel_otlp_desc *d, const test_server *s, char *url, size_t cap) {
    memset(d, 0, sizeof *d);
    snprintf(url, cap, "http://127.0.0.1:%d", s->port);
    d->endpoint = url;
    d->timeout_ms = 5000;
    d->retry_initial_ms = 50;
    d->retry_max_ms = 200;
}

static otel_otlp_stats stats_of(const otel_exporter *x) {
    otel_otlp_stats st;
    otel_otlp_exporter_stats(x, &st);
    return st;
}

static bool head_has(test_server *s, int i, const char *needle) {
    return strcasestr(ts_req(s, i)->head, needle) != NULL;
}

static int g_diag_count;
static char g_diag_last[512];
static pthread_mutex_t g_diag_mu = PTHREAD_MUTEX_INITIALIZER;
static void diag(otel_log_level level, const char *msg, void *user) {
    (void)level;
    (void)user;
    pthread_mutex_lock(&g_diag_mu);
    g_diag_count++;
    snprintf(g_diag_last, sizeof g_diag_last, "%s", msg);
    pthread_mutex_unlock(&g_diag_mu);
}

static void unset_env(void) {
    static const char *const vars[] = {
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_EXPORTER"};
    size_t i;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

/* ---- delivery ------------------------------------------------------------------------ */

static void test_basic_and_keepalive(void) {
    test_server s;
    otel_otlp_desc d;
    otel_otlp_header hdr[1];
    otel_exporter x;
    otel_span_batch b = batch_of(3);
    char url[64];
    CHECK(ts_start(&s, true, 20000));
    base_desc(&d, &s, url, sizeof url);
    hdr[0].name = "x-api-key";
    hdr[0].value = "secret";
    d.headers = hdr;
    d.header_count = 1;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 2);
    CHECK(ts_connections(&s) == 1); /* keep-alive */
    CHECK(!strcmp(ts_req(&s, 0)->path, "/v1/traces"));
    CHECK(!strncmp(ts_req(&s, 0)->head, "POST /v1/traces HTTP/1.1\r\n", 26));
    CHECK(head_has(&s, 0, "\r\nContent-Type: application/x-protobuf\r\n"));
    CHECK(head_has(&s, 0, "\r\nUser-Agent: otel.h/" OTEL_VERSION "\r\n"));
    CHECK(head_has(&s, 0, "\r\nx-api-key: secret\r\n"));
    {
        char host[64];
        snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", s.port);
        CHECK(head_has(&s, 0, host));
    }
    {
        sink_buf out = {NULL, 0, 0, false};
        sink_ctx c;
        size_t count = 0;
        memset(&c, 0, sizeof c);
        CHECK(sink_decode_traces(ts_req(&s, 0)->body, ts_req(&s, 0)->body_len, &out, &count, &c) && count == 3);
        sink_buf_free(&out);
    }
    {
        otel_otlp_stats st = stats_of(&x);
        CHECK(st.batches == 2 && st.spans_exported == 6 && st.requests == 2 && st.retries == 0);
        CHECK(st.last_status == 200 && st.connections == 1 && st.bytes_sent == st.bytes_raw && st.bytes_sent > 0);
    }
    /* a forked child does not write into the parent's connection: it opens its own */
    {
        pid_t pid = fork();
        int status = 0;
        if (pid == 0) _exit(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS ? 0 : 1);
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS); /* the parent keeps its own */
        CHECK(ts_requests(&s) == 4 && ts_connections(&s) == 2);
        CHECK(stats_of(&x).connections == 1);
    }
    /* empty batches are not sent */
    b.count = 0;
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 4);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_server_closes_idle(void) {
    /* the receiver closes after each answer without saying so: the next export finds the
       connection dead and sends on a new one, not counted as a retry */
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(1);
    char url[64];
    int i;
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, dflt.close_after = true);
    base_desc(&d, &s, url, sizeof url);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    for (i = 0; i < 3; i++) {
        CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
        CHECK(ts_wait(&s, i + 1, 2000));
    }
    CHECK(ts_requests(&s) == 3 && ts_connections(&s) == 3);
    CHECK(stats_of(&x).retries == 0);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_503_twice(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(2);
    char url[64];
    otel_otlp_stats st;
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, script[0].status = 503);
    TS_SET(&s, script[1].status = 503);
    TS_SET(&s, nscript = 2);
    base_desc(&d, &s, url, sizeof url);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 3); /* delivered once, after two retries */
    st = stats_of(&x);
    CHECK(st.retries == 2 && st.requests == 3 && st.spans_exported == 2 && st.spans_failed == 0);
    CHECK(ts_req(&s, 2)->at_ms - ts_req(&s, 1)->at_ms >= 40); /* backed off (50 ms +-20%, doubling) */
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_429_retry_after(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(1);
    char url[64];
    int64_t gap;
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, script[0].status = 429);
    TS_SET(&s, script[0].headers = "Retry-After: 1\r\n");
    TS_SET(&s, nscript = 1);
    base_desc(&d, &s, url, sizeof url);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 2);
    gap = ts_req(&s, 1)->at_ms - ts_req(&s, 0)->at_ms;
    printf("429 Retry-After: 1 -> retried after %lld ms\n", (long long)gap);
    CHECK(gap >= 950 && gap < 3000);
    x.shutdown(1000, x.user);
    ts_stop(&s);
    /* a Retry-After longer than the time left: give up at once instead of waiting */
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, dflt.status = 503);
    TS_SET(&s, dflt.headers = "Retry-After: 30\r\n");
    base_desc(&d, &s, url, sizeof url);
    d.timeout_ms = 2000;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    {
        int64_t t0 = ts_ms();
        CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
        CHECK(ts_ms() - t0 < 1000);
        CHECK(ts_requests(&s) == 1);
    }
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_http_date(void) {
    int64_t t = 0;
    CHECK(otel__otlp_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t) && t == 784111777);
    CHECK(otel__otlp_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &t) && t == 784111777);
    CHECK(otel__otlp_http_date("Sun Nov  6 08:49:37 1994", &t) && t == 784111777);
    CHECK(otel__otlp_http_date("Thu, 01 Jan 1970 00:00:00 GMT", &t) && t == 0);
    CHECK(otel__otlp_http_date("Tue, 29 Feb 2028 23:59:59 GMT", &t) && t == 1835481599);
    CHECK(!otel__otlp_http_date("yesterday", &t));
    CHECK(!otel__otlp_http_date("Sun, 06 Foo 1994 08:49:37 GMT", &t));
    CHECK(otel__otlp_retry_after_ms("7", 1) == 7000);
    CHECK(otel__otlp_retry_after_ms(" 0 ", 3) == 0);
    CHECK(otel__otlp_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 29) == 0); /* in the past */
    CHECK(otel__otlp_retry_after_ms("-1", 2) == -1);
    CHECK(otel__otlp_retry_after_ms("", 0) == -1);
}

static void test_400_no_retry(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(4);
    char url[64];
    otel_otlp_stats st;
    static const char status_body[] = "\x08\x03\x12\x0b" "bad request"; /* google.rpc.Status */
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, dflt.status = 400);
    TS_SET(&s, dflt.body = status_body);
    TS_SET(&s, dflt.body_len = sizeof status_body - 1);
    base_desc(&d, &s, url, sizeof url);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
    CHECK(ts_requests(&s) == 1);
    st = stats_of(&x);
    CHECK(st.retries == 0 && st.spans_failed == 4 && st.spans_exported == 0 && st.last_status == 400);
    /* other statuses that are not retried */
    TS_SET(&s, dflt.status = 500);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE && ts_requests(&s) == 2);
    TS_SET(&s, dflt.status = 404);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE && ts_requests(&s) == 3);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_never_answers(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(1);
    char url[64];
    int64_t t0, took;
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, dflt.kind = TS_HANG);
    base_desc(&d, &s, url, sizeof url);
    d.timeout_ms = 300;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    t0 = ts_ms();
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
    took = ts_ms() - t0;
    printf("never answers: export gave up after %lld ms (timeout 300)\n", (long long)took);
    CHECK(took >= 290 && took < 3000); /* not the default 10 s */
    CHECK(stats_of(&x).spans_failed == 1);
    /* the destination's export timeout (batch.timeout_ms) also bounds it when shorter */
    d.timeout_ms = 10000;
    x.shutdown(1000, x.user);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    b.timeout_ms = 200;
    t0 = ts_ms();
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
    took = ts_ms() - t0;
    CHECK(took >= 190 && took < 3000);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_reset_mid_response(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(1);
    char url[64];
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, script[0].kind = TS_RESET);
    TS_SET(&s, script[1].kind = TS_CLOSE); /* closed without any answer */
    TS_SET(&s, nscript = 2);
    base_desc(&d, &s, url, sizeof url);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 3);
    CHECK(stats_of(&x).retries == 2);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

typedef struct export_job {
    otel_exporter *x;
    otel_span_batch b;
    otel_export_result r;
    int64_t took;
} export_job;
static void *export_thread(void *arg) {
    export_job *j = (export_job *)arg;
    int64_t t0 = ts_ms();
    j->r = j->x->export_spans(&j->b, j->x->user);
    j->took = ts_ms() - t0;
    return NULL;
}

static void test_down_then_up(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    export_job j;
    pthread_t th;
    char url[64];
    int64_t end;
    CHECK(ts_start(&s, false, 20000)); /* bound, not listening: connections refused */
    base_desc(&d, &s, url, sizeof url);
    d.retry_initial_ms = 100;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    j.x = &x;
    j.b = batch_of(2);
    pthread_create(&th, NULL, export_thread, &j);
    /* wait for the first refused connection, then come up */
    end = ts_ms() + 3000;
    while (stats_of(&x).connect_failures == 0 && ts_ms() < end) {
        struct timespec t = {0, 2000000};
        nanosleep(&t, NULL);
    }
    CHECK(stats_of(&x).connect_failures >= 1);
    ts_listen(&s);
    pthread_join(th, NULL);
    CHECK(j.r == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 1);
    CHECK(stats_of(&x).spans_exported == 2);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_retries_bounded_and_cancel(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(1);
    export_job j;
    pthread_t th;
    char url[64];
    int64_t t0, took;
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, dflt.status = 503);
    base_desc(&d, &s, url, sizeof url);
    d.timeout_ms = 600;
    d.retry_initial_ms = 100;
    d.retry_max_ms = 100;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    t0 = ts_ms();
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
    took = ts_ms() - t0;
    CHECK(took < 3000);
    CHECK(ts_requests(&s) >= 3);
    x.shutdown(1000, x.user);
    /* cancel from another thread ends a long backoff at once */
    d.timeout_ms = 20000;
    d.retry_initial_ms = 10000;
    d.retry_max_ms = 10000;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    j.x = &x;
    j.b = b;
    t0 = ts_ms();
    int first = ts_requests(&s); /* counted before the export starts: it may arrive at once */
    pthread_create(&th, NULL, export_thread, &j);
    CHECK(ts_wait(&s, first + 1, 3000));
    {   /* the 503 is in: the exporter is about to wait ~10 s */
        int64_t end = ts_ms() + 3000, tc;
        while (stats_of(&x).last_status != 503 && ts_ms() < end) {
            struct timespec t = {0, 1000000};
            nanosleep(&t, NULL);
        }
        tc = ts_ms();
        otel_otlp_exporter_cancel(&x);
        pthread_join(th, NULL);
        printf("cancel during a 10 s backoff: export returned %lld ms after the cancel\n", (long long)(ts_ms() - tc));
        CHECK(ts_ms() - tc < 2000); /* not the 10 s backoff */
    }
    CHECK(j.r == OTEL_EXPORT_FAILURE);
    CHECK(ts_ms() - t0 < 2000);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE); /* sticky */
    x.shutdown(1000, x.user);
    /* cancel also ends a wait for a response */
    TS_SET(&s, dflt.kind = TS_HANG);
    d.retry_initial_ms = 50;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    j.x = &x;
    t0 = ts_ms();
    int before = ts_requests(&s); /* counted before the export starts: it may arrive at once */
    pthread_create(&th, NULL, export_thread, &j);
    CHECK(ts_wait(&s, before + 1, 3000));
    otel_otlp_exporter_cancel(&x);
    pthread_join(th, NULL);
    CHECK(j.r == OTEL_EXPORT_FAILURE && ts_ms() - t0 < 2500);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_partial_success(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(5);
    char url[64];
    otel_otlp_stats st;
    /* ExportTraceServiceResponse{partial_success{rejected_spans: 2, error_message: "2 too old"}} */
    static const char resp[] = "\x0a\x0d\x08\x02\x12\x09" "2 too old";
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, dflt.body = resp);
    TS_SET(&s, dflt.body_len = sizeof resp - 1);
    base_desc(&d, &s, url, sizeof url);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    TS_SET(&s, dflt.chunked = true); /* the same, chunked */
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    st = stats_of(&x);
    CHECK(st.spans_rejected == 4 && st.spans_exported == 10 && st.retries == 0 && ts_requests(&s) == 2);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_size_limits(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(8);
    char url[64];
    otel_otlp_stats st;
    CHECK(ts_start(&s, true, 20000));
    base_desc(&d, &s, url, sizeof url);
    d.max_request_bytes = 200; /* 8 spans are ~500 bytes */
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
    st = stats_of(&x);
    CHECK(st.spans_dropped == 8 && st.requests == 0 && ts_requests(&s) == 0);
    b.count = 1;
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    x.shutdown(1000, x.user);
    /* a response over 4 MiB is an error, not retried */
    TS_SET(&s, dflt.content_length = (5u << 20));
    base_desc(&d, &s, url, sizeof url);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    {
        int before = ts_requests(&s);
        CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
        CHECK(ts_requests(&s) == before + 1);
        CHECK(stats_of(&x).retries == 0);
    }
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

static void test_gzip_request(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(8);
    char url[64];
    otel_otlp_encoder *e = otel_otlp_encoder_create();
    const uint8_t *plain;
    size_t plain_len;
    sink_buf back = {NULL, 0, 0, false};
    CHECK(ts_start(&s, true, 20000));
    base_desc(&d, &s, url, sizeof url);
    d.compression = OTEL_OTLP_COMPRESSION_GZIP;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 1 && head_has(&s, 0, "\r\nContent-Encoding: gzip\r\n"));
    CHECK(otel_otlp_encode_spans(e, &b, &plain, &plain_len) == OTEL_OK);
    CHECK(!sink_gunzip(ts_req(&s, 0)->body, ts_req(&s, 0)->body_len, &back, 1u << 20));
    CHECK(back.len == plain_len && !memcmp(back.p, plain, plain_len));
    CHECK(stats_of(&x).bytes_sent < stats_of(&x).bytes_raw);
    sink_buf_free(&back);
    otel_otlp_encoder_destroy(e);
    x.shutdown(1000, x.user);
    ts_stop(&s);
}

/* ---- configuration --------------------------------------------------------------------- */

static void check_url(const char *endpoint, const char *traces_endpoint, const char *want) {
    otel_otlp_desc d;
    otel_exporter x;
    memset(&d, 0, sizeof d);
    d.endpoint = endpoint;
    d.traces_endpoint = traces_endpoint;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    if (!otel_otlp_exporter_url(&x) || strcmp(otel_otlp_exporter_url(&x), want)) {
        fprintf(stderr, "  endpoint=%s traces_endpoint=%s: got %s, want %s\n", endpoint ? endpoint : "-",
                traces_endpoint ? traces_endpoint : "-", otel_otlp_exporter_url(&x), want);
        CHECK(0);
    }
    if (x.shutdown) x.shutdown(100, x.user);
}

static void test_endpoints(void) {
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = batch_of(1);
    char url[128], want[128];
    static const struct { const char *e, *te, *want; } cases[] = {
        {"http://c:4318", NULL, "http://c:4318/v1/traces"},
        {"http://c:4318/", NULL, "http://c:4318/v1/traces"},
        {"http://c:4318//", NULL, "http://c:4318/v1/traces"},
        {"http://c:4318/mycollector", NULL, "http://c:4318/mycollector/v1/traces"},
        {"http://c:4318/mycollector/", NULL, "http://c:4318/mycollector/v1/traces"},
        {NULL, "http://c:4318", "http://c:4318"},
        {NULL, "http://c:4318/", "http://c:4318/"},
        {NULL, "http://c:4318/v1/traces", "http://c:4318/v1/traces"},
        {NULL, "http://c:4318/custom/path/", "http://c:4318/custom/path/"},
        {"http://ignored:1", "http://c:4318/x", "http://c:4318/x"}, /* per-signal wins */
        {"http://[::1]:4318", NULL, "http://[::1]:4318/v1/traces"},
    };
    size_t i;
    unset_env();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) check_url(cases[i].e, cases[i].te, cases[i].want);
    check_url(NULL, NULL, "http://localhost:4318/v1/traces"); /* the default */
    /* environment: per-signal as is, generic as a base; code wins over both */
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318/base/", 1);
    check_url(NULL, NULL, "http://env:4318/base/v1/traces");
    setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://envt:4318", 1);
    check_url(NULL, NULL, "http://envt:4318");
    check_url("http://code:1", NULL, "http://code:1/v1/traces");
    setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", 1); /* empty = unset */
    check_url(NULL, NULL, "http://env:4318/base/v1/traces");
    unset_env();
    /* what goes on the wire: the path of a per-signal URL without one is "/" */
    CHECK(ts_start(&s, true, 20000));
    memset(&d, 0, sizeof d);
    d.timeout_ms = 3000;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    d.traces_endpoint = url;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS && !strcmp(ts_req(&s, 0)->path, "/"));
    x.shutdown(100, x.user);
    snprintf(url, sizeof url, "http://localhost:%d/otlp/", s.port); /* localhost: IPv6 first, then IPv4 */
    d.traces_endpoint = NULL;
    d.endpoint = url;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS && !strcmp(ts_req(&s, 1)->path, "/otlp/v1/traces"));
    x.shutdown(100, x.user);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/a/b?tenant=1", s.port);
    d.endpoint = NULL;
    d.traces_endpoint = url;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS && !strcmp(ts_req(&s, 2)->path, "/a/b?tenant=1"));
    x.shutdown(100, x.user);
    ts_stop(&s);
    /* malformed URLs and https without libcurl are errors at setup */
    memset(&d, 0, sizeof d);
    d.traces_endpoint = "ftp://x";
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_ERR_INVALID_ARG && !x.export_spans);
    d.traces_endpoint = "http://user:pw@host/";
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_ERR_INVALID_ARG);
    d.traces_endpoint = "http://host:99999/";
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_ERR_INVALID_ARG);
    d.traces_endpoint = "http://host/a b";
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_ERR_INVALID_ARG);
    d.traces_endpoint = "https://collector.example:4318/v1/traces";
#ifdef OTEL_USE_CURL
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    x.shutdown(100, x.user);
#else
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_ERR_NOT_BUILT);
#endif
    (void)want;
}

static void test_headers_and_options(void) {
    test_server s;
    otel_otlp_desc d;
    otel_otlp_header h[2];
    otel_exporter x;
    otel_span_batch b = batch_of(1);
    char url[64];
    unset_env();
    CHECK(ts_start(&s, true, 20000));
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret%20value, x-b = 2 ,,noequals", 1);
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(head_has(&s, 0, "\r\napi-key: secret value\r\n") && head_has(&s, 0, "\r\nx-b: 2\r\n"));
    x.shutdown(100, x.user);
    setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "only=this", 1); /* per-signal wins */
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(head_has(&s, 1, "\r\nonly: this\r\n") && !head_has(&s, 1, "api-key"));
    x.shutdown(100, x.user);
    /* header injection: rejected at setup */
    setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=b%0D%0AX-Injected: 1", 1);
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_ERR_INVALID_ARG && !x.user);
    setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "bad name=1", 1);
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_ERR_INVALID_ARG);
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    memset(&d, 0, sizeof d);
    d.endpoint = url;
    h[0].name = "x-ok";
    h[0].value = "line\r\nX-Evil: 1";
    d.headers = h;
    d.header_count = 1;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_ERR_INVALID_ARG);
    h[0].value = "fine";
    h[1].name = "Content-Type"; /* the exporter's own: ignored */
    h[1].value = "text/plain";
    d.header_count = 2;
    d.headers_str = "k=v%2C1"; /* both forms together */
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(head_has(&s, 2, "\r\nx-ok: fine\r\n") && head_has(&s, 2, "\r\nk: v,1\r\n") && !head_has(&s, 2, "text/plain"));
    x.shutdown(100, x.user);
    /* protocol */
    setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_ERR_NOT_BUILT);
    setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", 1); /* per-signal wins over grpc */
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_OK);
    x.shutdown(100, x.user);
    setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "carrier-pigeon", 1);
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_ERR_INVALID_ARG);
    setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "HTTP/Protobuf", 1); /* case-insensitive */
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_OK);
    x.shutdown(100, x.user);
    memset(&d, 0, sizeof d);
    d.protocol = OTEL_OTLP_PROTOCOL_GRPC;
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_ERR_NOT_BUILT);
    unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
    /* compression and timeout from the environment */
    setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
    setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "250", 1);
    TS_SET(&s, dflt.kind = TS_HANG);
    CHECK(otel_otlp_exporter_create(NULL, &x) == OTEL_OK);
    {
        int64_t t0 = ts_ms();
        CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
        CHECK(ts_ms() - t0 >= 240 && ts_ms() - t0 < 3000);
        CHECK(head_has(&s, 3, "Content-Encoding: gzip"));
    }
    x.shutdown(100, x.user);
    unset_env();
    ts_stop(&s);
}

/* ---- inside otel.h's pipeline ------------------------------------------------------------ */

static void test_pipeline(void) {
    test_server hang, ok;
    otel_otlp_desc od;
    otel_exporter slow, mem;
    otel_desc d;
    char url[64], url2[80];
    int i;
    int64_t t0, took;
    unset_env();
    CHECK(ts_start(&hang, true, 30000));
    CHECK(ts_start(&ok, true, 30000));
    TS_SET(&hang, dflt.kind = TS_HANG);
    /* a destination that never answers does not hold up a healthy one; shutdown keeps its deadline */
    memset(&od, 0, sizeof od);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", hang.port);
    od.endpoint = url;
    od.timeout_ms = 60000; /* the destination's export timeout (below) is shorter and wins */
    CHECK(otel_otlp_exporter_create(&od, &slow) == OTEL_OK);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.service_name = "pipeline-test";
    d.destinations[0].exporter = slow;
    d.destinations[0].schedule_delay_ms = 20;
    d.destinations[0].export_timeout_ms = 5000;
    d.destinations[1].exporter = mem;
    d.destinations[1].schedule_delay_ms = 20;
    d.lock_destinations = true;
    d.diag.func = diag;
    CHECK(otel_init(&d) == OTEL_OK);
    for (i = 0; i < 100; i++) otel_span_end(otel_span_start("work", NULL));
    CHECK(ts_wait(&hang, 1, 5000)); /* the hung destination has its request in flight */
    (void)otel_force_flush(1000); /* times out on the hung destination; the healthy one is done */
    CHECK(otel_memory_exporter_count(&mem) == 100);
    t0 = ts_ms();
    otel_shutdown(500);
    took = ts_ms() - t0;
    printf("shutdown(500) with a hung OTLP destination took %lld ms\n", (long long)took);
    CHECK(took < 2000);
    CHECK(otel_memory_exporter_count(&mem) == 100);
    otel_memory_exporter_destroy(&mem);
    /* OTEL_TRACES_EXPORTER=otlp: the factory registered itself */
    snprintf(url2, sizeof url2, "http://127.0.0.1:%d/", ok.port);
    setenv("OTEL_TRACES_EXPORTER", "otlp", 1);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url2, 1);
    memset(&d, 0, sizeof d);
    d.service_name = "factory-test";
    d.diag.func = diag;
    CHECK(otel_init(&d) == OTEL_OK);
    for (i = 0; i < 10; i++) otel_span_end(otel_span_start("via-env", NULL));
    CHECK(otel_shutdown(3000) == OTEL_OK);
    CHECK(ts_requests(&ok) >= 1);
    if (ts_requests(&ok) >= 1) {
        sink_buf out = {NULL, 0, 0, false};
        sink_ctx c;
        size_t count = 0, total = 0;
        int r;
        for (r = 0; r < ts_requests(&ok) && r < TS_MAX_REQ; r++) {
            memset(&c, 0, sizeof c);
            CHECK(sink_decode_traces(ts_req(&ok, r)->body, ts_req(&ok, r)->body_len, &out, &count, &c));
            total += count;
        }
        CHECK(total == 10);
        CHECK(out.p && strstr(out.p, "\"service.name\":\"factory-test\"") && strstr(out.p, "\"name\":\"via-env\""));
        CHECK(!strcmp(ts_req(&ok, 0)->path, "/v1/traces"));
        sink_buf_free(&out);
    }
    unset_env();
    ts_stop(&hang);
    ts_stop(&ok);
}

static void test_log_rate_limit(void) {
    /* five failures in a row: one log line, not five */
    test_server s;
    otel_otlp_desc od;
    otel_exporter x, mem;
    otel_desc d;
    otel_span_batch b = batch_of(1);
    char url[64];
    int i, before;
    unset_env();
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, dflt.status = 400);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.destinations[0].exporter = mem;
    d.lock_destinations = true;
    d.diag.func = diag;
    CHECK(otel_init(&d) == OTEL_OK);
    base_desc(&od, &s, url, sizeof url);
    CHECK(otel_otlp_exporter_create(&od, &x) == OTEL_OK);
    pthread_mutex_lock(&g_diag_mu);
    before = g_diag_count;
    pthread_mutex_unlock(&g_diag_mu);
    for (i = 0; i < 5; i++) CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
    pthread_mutex_lock(&g_diag_mu);
    CHECK(g_diag_count - before == 1);
    CHECK(strstr(g_diag_last, "HTTP 400") != NULL);
    pthread_mutex_unlock(&g_diag_mu);
    x.shutdown(100, x.user);
    otel_shutdown(1000);
    otel_memory_exporter_destroy(&mem);
    ts_stop(&s);
}

int main(void) {
    printf("transport: %s\n", TRANSPORT);
    test_http_date();
    test_basic_and_keepalive();
    test_server_closes_idle();
    test_503_twice();
    test_429_retry_after();
    test_400_no_retry();
    test_never_answers();
    test_reset_mid_response();
    test_down_then_up();
    test_retries_bounded_and_cancel();
    test_partial_success();
    test_size_limits();
    test_gzip_request();
    test_endpoints();
    test_headers_and_options();
    test_log_rate_limit();
    test_pipeline();
    return TEST_DONE();
}
