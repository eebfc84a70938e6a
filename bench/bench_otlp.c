/* bench_otlp.c - OTLP encoding cost and end-to-end OTLP/HTTP throughput (make bench).

   The span of the pipeline benchmark (issue 3): "child-operation" under a root span,
   4 attributes (http.request.method="GET", url.path="/api/v1/users/12345",
   http.response.status_code=200, app.ratio=0.75), resource with service.name.

       otlp_encode_512   a 512-span batch (recorded through otel.h into a memory exporter)
                         encoded as an ExportTraceServiceRequest into one reused buffer;
                         5 runs after a warm-up, median. Target: <= 100 ns per span
       otlp_gzip_512     the same, then gzip (the built-in deflate)
         prints: name ns_per_span spans_per_s MB_per_s bytes_per_span [ratio]

       otlp_e2e          spans per second from application threads (E2E_THREADS, 2) through
                         the pipeline and HTTP to build/tools/otlp_sink (a child process on
                         127.0.0.1, --count-only) with zero drops: at each target rate
                         (250k, 500k, 750k, 1M, 1.5M, 2M, 2.5M, 3M, 4M spans/s, then unpaced) the
                         threads produce E2E_SPANS (500,000) paced spans into one batch OTLP
                         destination (queue 65536, batch 8192, schedule delay 10 ms, no gzip);
                         the rate is spans / (start to the end of the final force_flush), so
                         the export of every span is inside the time. A step counts only if
                         spans ended == exported by the destination == accepted by the
                         exporter == counted by the sink, with nothing dropped or failed
                         anywhere (otel_stats, otel_otlp_exporter_stats). Reported: the
                         highest such rate; the steps go to stderr. Target: >= 500,000/s.
         prints: name ns_per_op ops_per_s allocs_per_op dropped   (allocations counted
                 while the step runs, pipeline and exporter included, per span)

   Arguments: a case-name filter (e.g. `bench_otlp e2e`). The sink is found next to this
   binary (../tools/otlp_sink) or at $OTLP_SINK.                                          */
#define _GNU_SOURCE 1
#include <stdatomic.h>
#include <stdlib.h>
static _Atomic unsigned long bench_allocs;
#define OTEL_MALLOC(size, user) (atomic_fetch_add_explicit(&bench_allocs, 1, memory_order_relaxed), malloc(size))
#define OTEL_FREE(ptr, user) free(ptr)
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"
#include "bench.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 512
#define RUNS 5

static int bench_encode(void) {
    otel_exporter mem;
    otel_desc d;
    const otel_span_data *spans[BATCH];
    otel_span_batch batch;
    otel_otlp_encoder *enc = otel_otlp_encoder_create();
    const uint8_t *out, *z;
    size_t len = 0, zlen = 0, i, n;
    double ns[2][RUNS];
    int run, which;
    if (!enc || otel_memory_exporter_create(0, &mem) != OTEL_OK) return 1;
    memset(&d, 0, sizeof d);
    d.service_name = "bench-service";
    d.destinations[0].exporter = mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.lock_destinations = true;
    if (otel_init(&d) != OTEL_OK) return 1;
    otel_span *root = otel_span_start("root", NULL);
    for (i = 0; i < BATCH; i++) {
        otel_span *s = otel_span_start("child-operation", NULL);
        otel_span_set_str(s, "http.request.method", "GET");
        otel_span_set_str(s, "url.path", "/api/v1/users/12345");
        otel_span_set_int(s, "http.response.status_code", 200);
        otel_span_set_double(s, "app.ratio", 0.75);
        otel_span_end(s);
    }
    otel_span_end(root);
    otel_shutdown(0);
    n = otel_memory_exporter_count(&mem);
    if (n < BATCH) { fprintf(stderr, "bench_otlp: only %zu spans recorded\n", n); return 1; }
    for (i = 0; i < BATCH; i++) spans[i] = otel_memory_exporter_span(&mem, i);
    memset(&batch, 0, sizeof batch);
    batch.spans = spans;
    batch.count = BATCH;
    batch.resource = otel_memory_exporter_resource(&mem);

    for (which = 0; which < 2; which++) {
        int iters = which == 0 ? 2000 : 20;
        for (run = -1; run < RUNS; run++) { /* run -1 warms up */
            double t0 = now_s();
            int k;
            for (k = 0; k < iters; k++) {
                if (otel_otlp_encode_spans(enc, &batch, &out, &len) != OTEL_OK) return 1;
                if (which == 1 && otel_otlp_gzip(enc, out, len, &z, &zlen) != OTEL_OK) return 1;
            }
            if (run >= 0) ns[which][run] = (now_s() - t0) * 1e9 / ((double)iters * BATCH);
        }
        qsort(ns[which], RUNS, sizeof ns[which][0], cmp_double);
    }
    printf("%-16s %10s %12s %8s %10s %s\n", "name", "ns/span", "spans/s", "MB/s", "bytes/span", "ratio");
    fflush(stdout);
    printf("%-16s %10.1f %12.0f %8.0f %10.1f\n", "otlp_encode_512", ns[0][RUNS / 2], 1e9 / ns[0][RUNS / 2],
           (double)len / BATCH / ns[0][RUNS / 2] * 1e3, (double)len / BATCH);
    printf("%-16s %10.1f %12.0f %8.0f %10.1f %.2f\n", "otlp_gzip_512", ns[1][RUNS / 2], 1e9 / ns[1][RUNS / 2],
           (double)len / BATCH / ns[1][RUNS / 2] * 1e3, (double)zlen / BATCH, (double)len / (double)zlen);
    fflush(stdout);
    otel_otlp_encoder_destroy(enc);
    otel_memory_exporter_destroy(&mem);
    return 0;
}

/* ---- otlp_e2e -------------------------------------------------------------------------- */

typedef struct e2e_sink {
    pid_t pid;
    int port;
    char dir[512], port_file[600], count_file[600];
} e2e_sink;

/* Starts otlp_sink on 127.0.0.1, a free port, --count-only into dir/count. */
static int e2e_sink_start(e2e_sink *k, const char *exe, const char *dir) {
    char *argv[16];
    int i, a = 0;
    FILE *f = NULL;
    memset(k, 0, sizeof *k);
    snprintf(k->dir, sizeof k->dir, "%s", dir);
    snprintf(k->port_file, sizeof k->port_file, "%s/port", dir);
    snprintf(k->count_file, sizeof k->count_file, "%s/count", dir);
    remove(k->port_file);
    remove(k->count_file);
    argv[a++] = (char *)exe;
    argv[a++] = (char *)"--host";
    argv[a++] = (char *)"127.0.0.1";
    argv[a++] = (char *)"--port";
    argv[a++] = (char *)"0";
    argv[a++] = (char *)"--port-file";
    argv[a++] = k->port_file;
    argv[a++] = (char *)"--max-seconds";
    argv[a++] = (char *)"120";
    argv[a++] = (char *)"--count-only";
    argv[a++] = (char *)"--quiet";
    argv[a++] = (char *)"--out";
    argv[a++] = k->count_file;
    argv[a] = NULL;
    k->pid = fork();
    if (k->pid < 0) return -1;
    if (k->pid == 0) {
        execv(exe, argv);
        _exit(127);
    }
    for (i = 0; i < 1000 && !(f = fopen(k->port_file, "r")); i++) { /* written once listening */
        struct timespec t = {0, 5000000};
        nanosleep(&t, NULL);
    }
    if (!f || fscanf(f, "%d", &k->port) != 1) {
        if (f) fclose(f);
        kill(k->pid, SIGKILL);
        waitpid(k->pid, NULL, 0);
        return -1;
    }
    fclose(f);
    return 0;
}

/* Stops the sink by its PID; returns the spans it counted, -1 if unknown. */
static long long e2e_sink_stop(e2e_sink *k) {
    long long requests = -1, spans = -1;
    FILE *f;
    kill(k->pid, SIGTERM);
    waitpid(k->pid, NULL, 0);
    f = fopen(k->count_file, "r");
    if (f) {
        if (fscanf(f, "%lld requests, %lld spans", &requests, &spans) != 2) spans = -1;
        fclose(f);
    }
    remove(k->port_file);
    remove(k->count_file);
    return spans;
}

typedef struct e2e_thread {
    pthread_t th;
    long spans;
    double rate;  /* spans/s for this thread, 0: unpaced */
    double start; /* CLOCK_MONOTONIC seconds */
} e2e_thread;

static void e2e_sleep_until(double t) {
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static void *e2e_producer(void *arg) {
    e2e_thread *t = (e2e_thread *)arg;
    long i;
    e2e_sleep_until(t->start);
    otel_span *root = otel_span_start("root", NULL);
    for (i = 0; i < t->spans; i++) {
        if (t->rate > 0 && (i & 255) == 0) { /* pace in steps of 256 spans */
            double due = t->start + (double)i / t->rate;
            if (now_s() < due) e2e_sleep_until(due);
        }
        otel_span *s = otel_span_start("child-operation", NULL);
        otel_span_set_str(s, "http.request.method", "GET");
        otel_span_set_str(s, "url.path", "/api/v1/users/12345");
        otel_span_set_int(s, "http.response.status_code", 200);
        otel_span_set_double(s, "app.ratio", 0.75);
        otel_span_end(s);
    }
    otel_span_end(root);
    return NULL;
}

typedef struct e2e_result {
    double rate, prod_rate, allocs;
    long long produced, dropped;
    bool ok;
} e2e_result;

/* One step: fresh sink, otel_init, warm-up, `spans` paced at `rate` over `threads`. */
static int e2e_step(const char *sink_exe, const char *dir, double rate, int threads, long spans, e2e_result *res) {
    e2e_sink k;
    otel_exporter x;
    otel_otlp_desc od;
    otel_desc d;
    otel_stats s0, s1;
    otel_otlp_stats o0, o1;
    e2e_thread th[16];
    char url[64];
    double t0, t1, t2;
    unsigned long a0, a1;
    long long sink_spans, expected = 0;
    int i;
    memset(res, 0, sizeof *res);
    if (e2e_sink_start(&k, sink_exe, dir) != 0) return -1;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", k.port);
    memset(&od, 0, sizeof od);
    od.endpoint = url;
    od.timeout_ms = 10000;
    od.compression = OTEL_OTLP_COMPRESSION_NONE;
    od.protocol = OTEL_OTLP_PROTOCOL_HTTP_PROTOBUF;
    if (otel_otlp_exporter_create(&od, &x) != OTEL_OK) { e2e_sink_stop(&k); return -1; }
    memset(&d, 0, sizeof d);
    d.service_name = "bench-service";
    d.lock_destinations = true;
    d.destinations[0].exporter = x;
    d.destinations[0].processor = OTEL_PROCESSOR_BATCH;
    d.destinations[0].max_queue_size = 65536;
    d.destinations[0].max_export_batch = 8192;
    d.destinations[0].schedule_delay_ms = 10;
    d.destinations[0].export_timeout_ms = 30000;
    if (otel_init(&d) != OTEL_OK) { e2e_sink_stop(&k); return -1; }
    /* warm-up (fits one thread ring): opens the connection, sizes the exporter's buffers */
    {
        otel_span *root = otel_span_start("root", NULL);
        for (i = 0; i < 2000; i++) {
            otel_span *c = otel_span_start("child-operation", NULL);
            otel_span_set_int(c, "warm", i);
            otel_span_end(c);
        }
        otel_span_end(root);
    }
    otel_force_flush(30000);
    otel_stats_get(&s0);
    otel_otlp_exporter_stats(&x, &o0);
    a0 = atomic_load(&bench_allocs);
    t0 = now_s() + 0.002;
    for (i = 0; i < threads; i++) {
        th[i].spans = spans / threads + (i < spans % threads);
        expected += th[i].spans + 1; /* and its root */
        th[i].rate = rate / threads;
        th[i].start = t0;
        pthread_create(&th[i].th, NULL, e2e_producer, &th[i]);
    }
    for (i = 0; i < threads; i++) pthread_join(th[i].th, NULL);
    t1 = now_s();
    otel_force_flush(60000);
    t2 = now_s();
    a1 = atomic_load(&bench_allocs);
    otel_stats_get(&s1);
    otel_otlp_exporter_stats(&x, &o1);
    otel_shutdown(10000);
    sink_spans = e2e_sink_stop(&k);

    res->produced = (long long)(s1.spans_ended - s0.spans_ended);
    {
        long long exported = (long long)(s1.destinations[0].exported - s0.destinations[0].exported);
        long long accepted = (long long)(o1.spans_exported - o0.spans_exported);
        long long lost = (long long)(s1.spans_dropped - s0.spans_dropped) +
                         (long long)(s1.destinations[0].dropped - s0.destinations[0].dropped) +
                         (long long)(s1.destinations[0].failed - s0.destinations[0].failed) +
                         (long long)(o1.spans_failed - o0.spans_failed) +
                         (long long)(o1.spans_dropped - o0.spans_dropped) +
                         (long long)(o1.spans_rejected - o0.spans_rejected);
        long long missing = res->produced - exported;
        if (res->produced - accepted > missing) missing = res->produced - accepted;
        /* the sink counted every span the exporter sent since it was made (warm-up too) */
        if (sink_spans < 0 || (long long)o1.spans_exported - sink_spans > missing)
            missing = sink_spans < 0 ? res->produced : (long long)o1.spans_exported - sink_spans;
        res->dropped = lost > missing ? lost : missing;
        res->ok = res->dropped == 0 && res->produced == expected;
        fprintf(stderr,
                "otlp_e2e: target %8.0f/s: produced %lld at %9.0f/s, end to end %9.0f/s; exported %lld, "
                "accepted %lld, sink %lld (of %llu sent); dropped %lld; %llu requests%s\n",
                rate, res->produced, (double)res->produced / (t1 - t0), (double)res->produced / (t2 - t0), exported,
                accepted, sink_spans, (unsigned long long)o1.spans_exported, res->dropped,
                (unsigned long long)(o1.requests - o0.requests), res->ok ? "" : "  <- not clean");
    }
    res->prod_rate = (double)res->produced / (t1 - t0);
    res->rate = (double)res->produced / (t2 - t0);
    res->allocs = res->produced ? (double)(a1 - a0) / (double)res->produced : 0;
    return 0;
}

static int bench_e2e(const char *argv0) {
    static const double rates[] = {250e3, 500e3, 750e3, 1e6, 1.5e6, 2e6, 2.5e6, 3e6, 4e6, 0 /* unpaced */};
    const char *env = getenv("OTLP_SINK");
    char exe[4096], dir[512];
    const char *tmp = getenv("TMPDIR");
    long spans = getenv("E2E_SPANS") ? atol(getenv("E2E_SPANS")) : 500000;
    int threads = getenv("E2E_THREADS") ? atoi(getenv("E2E_THREADS")) : 2;
    e2e_result best, r;
    bool have = false;
    size_t i;
    if (threads < 1 || threads > 16) threads = 2;
    if (spans < threads) spans = 500000;
    if (env && *env) {
        snprintf(exe, sizeof exe, "%s", env);
    } else {
        const char *slash = strrchr(argv0, '/');
        if (slash) snprintf(exe, sizeof exe, "%.*s/../tools/otlp_sink", (int)(slash - argv0), argv0);
        else snprintf(exe, sizeof exe, "build/tools/otlp_sink");
    }
    if (access(exe, X_OK) != 0) {
        fprintf(stderr, "otlp_e2e: skipped: no otlp_sink at %s (make tools, or set OTLP_SINK)\n", exe);
        return 0;
    }
    snprintf(dir, sizeof dir, "%s/bench_otlp.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) { perror("otlp_e2e: mkdtemp"); return 1; }
    signal(SIGPIPE, SIG_IGN);
    memset(&best, 0, sizeof best);
    for (i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        if (e2e_step(exe, dir, rates[i], threads, spans, &r) != 0) {
            fprintf(stderr, "otlp_e2e: could not start a step (sink %s)\n", exe);
            break;
        }
        if (!r.ok) {
            if (!have) best = r; /* nothing clean: report the drops of the slowest step */
            break;
        }
        if (!have || r.rate > best.rate) best = r;
        have = true;
    }
    rmdir(dir);
    printf("%-16s %10s %12s %8s %s\n", "name", "ns/op", "ops/s", "allocs", "dropped");
    if (best.produced)
        printf("%-16s %10.1f %12.0f %8.3f %lld\n", "otlp_e2e", 1e9 / best.rate, best.rate, best.allocs, best.dropped);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    int rc = 0;
    if (!only || strstr("otlp_encode_512 otlp_gzip_512", only)) rc |= bench_encode();
    if (!only || strstr("otlp_e2e", only)) rc |= bench_e2e(argv[0]);
    return rc;
}
