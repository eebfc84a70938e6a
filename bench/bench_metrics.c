/* bench_metrics.c - metric recording cost (make bench).

   Cases (10,000,000 measurements per run, 5 runs after a warm-up, median):
     counter_add_bound        int64 Counter through a bound handle (no lookup)
     counter_add_2attr        int64 Counter with 2 string attributes built per call
                              (otel_attr_str, as application code writes it): hash + lock-free probe
     histogram_record_2attr   double Histogram (default 15 bounds), the same 2 attributes
     counter_add_2threads     counter_add_2attr on 2 threads, each its own attribute set
                              (ns/op = wall time / all measurements; the x factor vs 1 thread)
   Extra lines, for context:
     counter_add_2attr_delta  counter_add_2attr with a DELTA reader as well (dirty marks)
     counter_add_2threads_same_series  both threads on one series: one contended cache line
   One MANUAL cumulative reader collects after each run; `dropped` = measurements made -
   the total it reports (must be 0). Allocations are counted by a counting OTEL_MALLOC.
   Prints: name ns_per_op ops_per_s allocs_per_op dropped                                  */
#include <stdatomic.h>
#include <stdlib.h>
static _Atomic unsigned long bench_allocs;
#define OTEL_MALLOC(size, user) (atomic_fetch_add(&bench_allocs, 1), malloc(size))
#define OTEL_FREE(ptr, user) free(ptr)
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "bench.h"
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define OPS 10000000L
#define RUNS 5

enum { BOUND, ATTR2, HIST2, ATTR2_DELTA };

static otel_instrument *counter, *hist;
static otel_bound *bound;

static void setup(bool delta_reader) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.service_name = "bench";
    d.default_exporters = "none";
    d.lock_destinations = true;
    d.log_level = OTEL_LOG_WARN;
    d.readers[0].kind = OTEL_READER_MANUAL;
    d.readers[0].temporality = OTEL_TEMPORALITY_PREF_CUMULATIVE;
    if (delta_reader) {
        d.readers[1].kind = OTEL_READER_MANUAL;
        d.readers[1].temporality = OTEL_TEMPORALITY_PREF_DELTA;
    }
    otel_init(&d);
    otel_meter *m = otel_meter_get("bench", "1.0");
    counter = otel_counter_create(m, "http.server.requests", "1", "requests");
    hist = otel_histogram_create(m, "http.server.duration", "ms", "duration");
    bound = otel_instrument_bind(counter, (otel_attr[]){otel_attr_str("http.request.method", "GET"),
                                                        otel_attr_str("http.route", "/api/v1/users")}, 2);
}

typedef struct work {
    int kind;
    long n;
    const char *route;
} work;

static void workload(const work *w) {
    const char *route = w->route;
    switch (w->kind) {
    case BOUND:
        for (long i = 0; i < w->n; i++) otel_bound_record_int(bound, 1);
        break;
    case ATTR2:
    case ATTR2_DELTA:
        for (long i = 0; i < w->n; i++)
            otel_record_int(counter, 1, (otel_attr[]){otel_attr_str("http.request.method", "GET"),
                                                      otel_attr_str("http.route", route)}, 2);
        break;
    case HIST2:
        for (long i = 0; i < w->n; i++)
            otel_record_double(hist, (double)(i & 1023) * 0.25, (otel_attr[]){otel_attr_str("http.request.method", "GET"),
                                                                             otel_attr_str("http.route", route)}, 2);
        break;
    }
}

static void *thread_main(void *arg) {
    workload((const work *)arg);
    return NULL;
}

static long long total;
static void sum_fn(const otel_metric_batch *b, void *user) {
    (void)user;
    total = 0;
    for (size_t i = 0; i < b->count; i++)
        for (size_t k = 0; k < b->metrics[i].point_count; k++)
            total += b->metrics[i].type == OTEL_METRIC_HISTOGRAM ? (long long)b->metrics[i].points[k].count
                                                                 : b->metrics[i].points[k].value.i;
}

/* One case: RUNS timed runs after a warm-up; prints the median. Returns it. */
static double run_case(const char *name, int kind, int threads, bool same_series) {
    double ns[RUNS];
    unsigned long allocs = 0;
    long long dropped = 0;
    static const char *const routes[2] = {"/api/v1/users", "/api/v1/orders"};
    for (int r = -1; r < RUNS; r++) {
        setup(kind == ATTR2_DELTA);
        work w[2];
        for (int t = 0; t < 2; t++) {
            w[t].kind = kind;
            w[t].n = 1000;
            w[t].route = routes[same_series ? 0 : t];
            workload(&w[t]); /* creates the series */
            w[t].n = OPS / threads;
        }
        unsigned long a0 = atomic_load(&bench_allocs);
        double t0 = now_s();
        if (threads == 1) {
            workload(&w[0]);
        } else {
            pthread_t th[2];
            for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, thread_main, &w[i]);
            for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
        }
        double t1 = now_s();
        unsigned long a1 = atomic_load(&bench_allocs);
        otel_metrics_collect(0, sum_fn, NULL);
        long long made = OPS + 2000; /* and the two warm-ups */
        otel_shutdown(10000);
        if (r < 0) continue;
        ns[r] = (t1 - t0) * 1e9 / OPS;
        if (threads == 1) allocs += a1 - a0; /* thread creation allocates; count single-thread runs only */
        dropped += made - total;
    }
    qsort(ns, RUNS, sizeof ns[0], cmp_double);
    printf("%-34s %8.1f %12.0f %6.3f %lld\n", name, ns[RUNS / 2], 1e9 / ns[RUNS / 2],
           (double)allocs / ((double)OPS * RUNS), dropped / RUNS);
    fflush(stdout);
    return ns[RUNS / 2];
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    double one = 0, two = 0;
    printf("%-34s %8s %12s %6s %s\n", "name", "ns/op", "ops/s", "allocs", "dropped");
#define CASE(n, ...) (!only || strstr(n, only) ? run_case(n, __VA_ARGS__) : 0)
    CASE("counter_add_bound", BOUND, 1, false);
    one = CASE("counter_add_2attr", ATTR2, 1, false);
    CASE("histogram_record_2attr", HIST2, 1, false);
    two = CASE("counter_add_2threads", ATTR2, 2, false);
    if (one > 0 && two > 0) printf("%-34s %8.2fx (2 threads' throughput / 1 thread's)\n", "  speedup", one / two);
    CASE("counter_add_2attr_delta", ATTR2_DELTA, 1, false);
    CASE("counter_add_2threads_same_series", ATTR2, 2, true);
    return 0;
}
