/* test_signals_shared.c - one exporter object serving several signals: a console or file
   exporter in otel_desc.destinations, .log_destinations and .readers (and twice in one
   signal) is shut down exactly once, by the last holder, after every export; with the env
   vars taking some of the holders away, with the SDK disabled, and with exporters that are
   not shared (one shutdown each). The console/file cases write from the trace and log
   workers and the metric reader at once (data races show under tsan, a double free under
   asan). */
/* tsan */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_diag.h"

#if defined(TEST_SANITIZED) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ROUNDS 300
#else
#define ROUNDS 3000
#endif

static char tmpdir[512];

static void tmp_init(void) {
    const char *t = getenv("TEST_TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s", t && *t ? t : "/tmp");
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = (char *)malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (p) p[n] = 0;
    fclose(f);
    return p;
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* ---- a counting exporter for all three signals ------------------------------------------ */

typedef struct counting {
    atomic_int spans, logs, metric_batches, shutdowns, late, flushes;
    atomic_int shut; /* set by shutdown: any call after it is "late" */
} counting;

static otel_export_result c_spans(const otel_span_batch *b, void *user) {
    counting *c = (counting *)user;
    if (atomic_load(&c->shut)) atomic_fetch_add(&c->late, 1);
    atomic_fetch_add(&c->spans, (int)b->count);
    return OTEL_EXPORT_SUCCESS;
}
static otel_export_result c_logs(const otel_log_batch *b, void *user) {
    counting *c = (counting *)user;
    if (atomic_load(&c->shut)) atomic_fetch_add(&c->late, 1);
    atomic_fetch_add(&c->logs, (int)b->count);
    return OTEL_EXPORT_SUCCESS;
}
static otel_export_result c_metrics(const otel_metric_batch *b, void *user) {
    counting *c = (counting *)user;
    (void)b;
    if (atomic_load(&c->shut)) atomic_fetch_add(&c->late, 1);
    atomic_fetch_add(&c->metric_batches, 1);
    return OTEL_EXPORT_SUCCESS;
}
static otel_result c_flush(uint32_t timeout_ms, void *user) {
    counting *c = (counting *)user;
    (void)timeout_ms;
    if (atomic_load(&c->shut)) atomic_fetch_add(&c->late, 1);
    atomic_fetch_add(&c->flushes, 1);
    return OTEL_OK;
}
static void c_shutdown(uint32_t timeout_ms, void *user) {
    counting *c = (counting *)user;
    (void)timeout_ms;
    atomic_store(&c->shut, 1);
    atomic_fetch_add(&c->shutdowns, 1);
}

static otel_exporter counting_exporter(counting *c) {
    otel_exporter e;
    memset(c, 0, sizeof *c);
    memset(&e, 0, sizeof e);
    e.export_spans = c_spans;
    e.export_logs = c_logs;
    e.export_metrics = c_metrics;
    e.force_flush = c_flush;
    e.shutdown = c_shutdown;
    e.user = c;
    e.name = "counting";
    return e;
}

/* Errors from the library (drop warnings under load are fine here). */
static int diag_errors(void) {
    int n = 0;
    pthread_mutex_lock(&diag_mu);
    for (int i = 0; i < diag_n && i < DIAG_MAX; i++) n += diag_levels[i] == OTEL_LOG_ERROR;
    pthread_mutex_unlock(&diag_mu);
    return n;
}

/* What a destination should have exported: all made minus what was dropped on the way
   (thread ring or queue full; counted). Call after otel_force_flush. */
static uint64_t expect_spans(uint64_t made, int dest) {
    otel_stats st;
    if (otel_stats_get(&st) != OTEL_OK) return 0;
    return made - st.spans_dropped - st.destinations[dest].dropped;
}
static uint64_t expect_logs(uint64_t made, int dest) {
    otel_stats st;
    if (otel_stats_get(&st) != OTEL_OK) return 0;
    return made - st.logs_dropped - st.log_destinations[dest].dropped;
}

static otel_desc base_desc(void) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.service_name = "shared";
    d.diag.func = diag_fn;
    return d;
}

/* ---- work from several threads ----------------------------------------------------------- */

typedef struct work {
    int id;
    otel_instrument *counter;
} work;

static void *work_main(void *arg) {
    work *w = (work *)arg;
    otel_logger *lg = otel_logger_get("shared.test", "1.0");
    for (int i = 0; i < ROUNDS; i++) {
        otel_span *s = otel_span_start("shared-span", NULL);
        otel_logger_info(lg, NULL, 0, "shared-log %d/%d", w->id, i);
        otel_attr a = otel_attr_int("thread", w->id);
        otel_record_int(w->counter, 1, &a, 1);
        otel_span_end(s);
        if (i % 64 == 0) { /* let the workers and the reader run meanwhile */
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void run_workers(int n) {
    pthread_t th[4];
    work w[4];
    otel_instrument *ctr = otel_counter_create(otel_meter_get("shared.test", "1.0"), "shared.counter", "1", "");
    CHECK(ctr != NULL);
    for (int i = 0; i < n; i++) {
        w[i].id = i;
        w[i].counter = ctr;
        CHECK(pthread_create(&th[i], NULL, work_main, &w[i]) == 0);
    }
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
}

/* ---- tests ------------------------------------------------------------------------------- */

/* A console exporter (compact, into a file) serving traces, logs and a periodic metric
   reader: written from three threads at once, shut down once (asan: no double free). */
static void test_console_shared(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/shared_console.txt", tmpdir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    otel_console_desc cd;
    memset(&cd, 0, sizeof cd);
    cd.stream = f;
    cd.format = OTEL_CONSOLE_COMPACT;
    otel_exporter con;
    CHECK(otel_console_exporter_create(&cd, &con) == OTEL_OK);
    otel_desc d = base_desc();
    d.destinations[0].exporter = con;
    d.destinations[0].schedule_delay_ms = 20;
    d.log_destinations[0].exporter = con;
    d.log_destinations[0].schedule_delay_ms = 20;
    d.readers[0].kind = OTEL_READER_PERIODIC;
    d.readers[0].exporter = con;
    d.readers[0].export_interval_ms = 20;
    d.destinations[0].max_queue_size = d.log_destinations[0].max_queue_size = 8 * ROUNDS;
    d.lock_destinations = true;
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    run_workers(2);
    CHECK(otel_force_flush(10000) == OTEL_OK);
    uint64_t nspans = expect_spans(2 * ROUNDS, 0), nlogs = expect_logs(2 * ROUNDS, 0);
    CHECK(otel_shutdown(10000) == OTEL_OK);
    CHECK(diag_errors() == 0);
    if (diag_errors()) diag_dump();
    fclose(f); /* still ours: the console exporter never closes its stream */
    char *out = slurp(path);
    CHECK(out != NULL);
    if (!out) return;
    /* all three signals wrote: every span and log record, and metric batches */
    CHECK(nspans > 0 && count_of(out, "\"name\":\"shared-span\"") == (int)nspans);
    CHECK(nlogs > 0 && count_of(out, "\"body\":\"shared-log ") == (int)nlogs);
    CHECK(count_of(out, "\"resource_metrics\"") >= 1);
    CHECK(count_of(out, "\"name\":\"shared.counter\"") >= 1);
    /* whole lines only: no batch was written into the middle of another */
    int bad = 0;
    for (char *line = out, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl) { bad++; break; }
        if (line[0] != '{' || nl[-1] != '}') bad++;
    }
    CHECK(bad == 0);
    free(out);
}

/* A file exporter serving traces (SIMPLE: shut down by otel_shutdown itself) and logs
   (BATCH: by its worker). */
static void test_file_shared(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/shared_file.jsonl", tmpdir);
    unlink(path);
    otel_file_desc fd;
    memset(&fd, 0, sizeof fd);
    fd.path = path;
    otel_exporter fx;
    CHECK(otel_file_exporter_create(&fd, &fx) == OTEL_OK);
    otel_desc d = base_desc();
    d.destinations[0].exporter = fx;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.log_destinations[0].exporter = fx;
    d.log_destinations[0].schedule_delay_ms = 20;
    d.lock_destinations = true;
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    otel_logger *lg = otel_logger_get(NULL, NULL);
    for (int i = 0; i < 50; i++) {
        otel_span_end(otel_span_start("file-span", NULL));
        otel_logger_warn(lg, NULL, 0, "file-log %d", i);
    }
    CHECK(otel_shutdown(10000) == OTEL_OK);
    CHECK(diag_errors() == 0);
    char *out = slurp(path);
    CHECK(out != NULL);
    if (!out) return;
    CHECK(count_of(out, "\"resourceSpans\"") == 50); /* SIMPLE: one line per span */
    CHECK(count_of(out, "\"name\":\"file-span\"") == 50);
    CHECK(count_of(out, "\"resourceLogs\"") >= 1);
    CHECK(count_of(out, "\"stringValue\":\"file-log ") == 50);
    free(out);
}

/* One object in two trace destinations, a log destination and two periodic readers:
   one shutdown, after the last export; everything arrived. */
static void test_counting_shared(void) {
    counting c;
    otel_exporter e = counting_exporter(&c);
    otel_desc d = base_desc();
    d.destinations[0].exporter = e;
    d.destinations[0].schedule_delay_ms = 10;
    d.destinations[1].exporter = e;
    d.destinations[1].processor = OTEL_PROCESSOR_SIMPLE;
    d.log_destinations[0].exporter = e;
    d.log_destinations[0].schedule_delay_ms = 10;
    d.readers[0].kind = OTEL_READER_PERIODIC;
    d.readers[0].exporter = e;
    d.readers[0].export_interval_ms = 10;
    d.readers[1].kind = OTEL_READER_PERIODIC;
    d.readers[1].exporter = e;
    d.readers[1].export_interval_ms = 15;
    d.readers[1].temporality = OTEL_TEMPORALITY_PREF_DELTA;
    d.destinations[0].max_queue_size = d.log_destinations[0].max_queue_size = 8 * ROUNDS;
    d.lock_destinations = true;
    CHECK(otel_init(&d) == OTEL_OK);
    run_workers(3);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    uint64_t nspans = expect_spans(3 * ROUNDS, 0) + expect_spans(3 * ROUNDS, 1), nlogs = expect_logs(3 * ROUNDS, 0);
    CHECK(atomic_load(&c.shutdowns) == 0);
    CHECK(otel_shutdown(10000) == OTEL_OK);
    CHECK(atomic_load(&c.shutdowns) == 1);
    CHECK(atomic_load(&c.late) == 0);
    CHECK(nspans > 0 && atomic_load(&c.spans) == (int)nspans); /* two trace destinations */
    CHECK(nlogs > 0 && atomic_load(&c.logs) == (int)nlogs);
    CHECK(atomic_load(&c.metric_batches) >= 2);
}

/* OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER take the code's destinations away: they let
   the object go at otel_init, but the metric reader still holds it, so it is not shut down
   until the reader is done. */
static void test_env_takes_some(void) {
    counting c;
    otel_exporter e = counting_exporter(&c);
    otel_desc d = base_desc();
    d.destinations[0].exporter = e;
    d.log_destinations[0].exporter = e;
    d.readers[0].kind = OTEL_READER_PERIODIC;
    d.readers[0].exporter = e;
    d.readers[0].export_interval_ms = 60000;
    setenv("OTEL_TRACES_EXPORTER", "none", 1);
    setenv("OTEL_LOGS_EXPORTER", "none", 1);
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(atomic_load(&c.shutdowns) == 0); /* two of three let go: still in use */
    otel_instrument *ctr = otel_counter_create(NULL, "env.counter", NULL, NULL);
    otel_record_int(ctr, 5, NULL, 0);
    otel_span_end(otel_span_start("not-exported", NULL));
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(atomic_load(&c.metric_batches) == 1 && atomic_load(&c.spans) == 0);
    CHECK(otel_shutdown(5000) == OTEL_OK);
    CHECK(atomic_load(&c.shutdowns) == 1 && atomic_load(&c.late) == 0);
    /* all three taken away: released at otel_init, once */
    setenv("OTEL_METRICS_EXPORTER", "none", 1);
    e = counting_exporter(&c);
    d.destinations[0].exporter = e;
    d.log_destinations[0].exporter = e;
    d.readers[0].exporter = e;
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(atomic_load(&c.shutdowns) == 1);
    CHECK(otel_shutdown(5000) == OTEL_OK);
    CHECK(atomic_load(&c.shutdowns) == 1);
    unsetenv("OTEL_TRACES_EXPORTER");
    unsetenv("OTEL_LOGS_EXPORTER");
    unsetenv("OTEL_METRICS_EXPORTER");
}

/* The SDK disabled: the handed-over object is released once. */
static void test_disabled(void) {
    counting c;
    otel_exporter e = counting_exporter(&c);
    otel_desc d = base_desc();
    d.destinations[0].exporter = e;
    d.destinations[1].exporter = e;
    d.log_destinations[0].exporter = e;
    d.readers[0].kind = OTEL_READER_PERIODIC;
    d.readers[0].exporter = e;
    d.disabled = true;
    CHECK(otel_init(&d) == OTEL_ERR_DISABLED);
    CHECK(atomic_load(&c.shutdowns) == 1);
    /* a console exporter, the same way (asan: no double free) */
    otel_exporter con;
    CHECK(otel_console_exporter_create(NULL, &con) == OTEL_OK);
    d.destinations[0].exporter = con;
    d.destinations[1].exporter = con;
    d.log_destinations[0].exporter = con;
    d.readers[0].exporter = con;
    CHECK(otel_init(&d) == OTEL_ERR_DISABLED);
}

/* Different objects are not merged: each gets its own shutdown; so does an exporter with
   no user pointer each time it is used. */
static _Atomic int nouser_shutdowns; /* two workers call it at once */
static otel_export_result nouser_spans(const otel_span_batch *b, void *user) {
    (void)b;
    (void)user;
    return OTEL_EXPORT_SUCCESS;
}
static void nouser_shutdown(uint32_t timeout_ms, void *user) {
    (void)timeout_ms;
    (void)user;
    atomic_fetch_add(&nouser_shutdowns, 1);
}

static void test_not_shared(void) {
    counting a, b;
    otel_exporter ea = counting_exporter(&a), eb = counting_exporter(&b), en;
    memset(&en, 0, sizeof en);
    en.export_spans = nouser_spans;
    en.shutdown = nouser_shutdown;
    otel_desc d = base_desc();
    d.destinations[0].exporter = ea;
    d.destinations[1].exporter = en;
    d.destinations[2].exporter = en;
    d.log_destinations[0].exporter = eb;
    d.readers[0].kind = OTEL_READER_PERIODIC;
    d.readers[0].exporter = eb;
    d.readers[0].export_interval_ms = 60000;
    d.lock_destinations = true;
    atomic_store(&nouser_shutdowns, 0);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_span_end(otel_span_start("x", NULL));
    otel_logger_info(NULL, NULL, 0, "y");
    CHECK(otel_shutdown(5000) == OTEL_OK);
    CHECK(atomic_load(&a.shutdowns) == 1 && atomic_load(&b.shutdowns) == 1 && atomic_load(&nouser_shutdowns) == 2);
    CHECK(atomic_load(&a.late) == 0 && atomic_load(&b.late) == 0);
    CHECK(atomic_load(&a.spans) == 1 && atomic_load(&b.logs) == 1);
}

int main(void) {
    tmp_init();
    test_console_shared();
    test_file_shared();
    test_counting_shared();
    test_env_takes_some();
    test_disabled();
    test_not_shared();
    return TEST_DONE();
}
