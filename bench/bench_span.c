/* bench_span.c - span recording cost through the batch pipeline (make bench).

   Workload (the one other OpenTelemetry SDKs are measured with): a child span
   "child-operation" under an active root span, 4 attributes, then end; batch destinations
   with queue 8192, batch 512, schedule delay 100 ms, each with an exporter that counts the
   spans and discards them; 1,000,000 spans per run, 5 runs after a warm-up, median.
   Prints: name ns_per_op ops_per_s allocs_per_op dropped
   `dropped` = spans produced - spans the exporters received after a final flush (per
   destination, summed). Allocations are counted by a counting OTEL_MALLOC.           */
#include <stdatomic.h>
#include <stdlib.h>
static _Atomic unsigned long bench_allocs;
#define OTEL_MALLOC(size, user) (atomic_fetch_add(&bench_allocs, 1), malloc(size))
#define OTEL_FREE(ptr, user) free(ptr)
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "bench.h"
#include <pthread.h>

#define SPANS 1000000
#define RUNS 5

static _Atomic unsigned long long received;

static otel_export_result count_export(const otel_span_batch *b, void *user) {
    (void)user;
    atomic_fetch_add(&received, b->count);
    return OTEL_EXPORT_SUCCESS;
}

static uint32_t ring_max; /* 0: blocks grow to the default ring_max_bytes (16 MiB) */
static volatile uint64_t sink; /* keeps the clock reads of run_clock_floor */

static otel_result setup(int ndest, otel_sampler sampler, bool disabled) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.ring_max_bytes = ring_max;
    d.service_name = "bench";
    d.sampler = sampler;
    d.disabled = disabled;
    d.lock_destinations = true;
    for (int i = 0; i < ndest; i++) {
        d.destinations[i].exporter.export_spans = count_export;
        d.destinations[i].exporter.name = "count";
        d.destinations[i].max_queue_size = 8192;
        d.destinations[i].max_export_batch = 512;
        d.destinations[i].schedule_delay_ms = 100;
    }
    return otel_init(&d);
}

static void workload(long n) {
    otel_span *root = otel_span_start("root", NULL);
    for (long i = 0; i < n; i++) {
        otel_span *s = otel_span_start("child-operation", NULL);
        otel_span_set_str(s, "http.request.method", "GET");
        otel_span_set_str(s, "url.path", "/api/v1/users/12345");
        otel_span_set_int(s, "http.response.status_code", 200);
        otel_span_set_double(s, "app.ratio", 0.75);
        otel_span_end(s);
    }
    otel_span_end(root);
}

typedef struct {
    long n;
    double cpu_ns; /* the producer's CPU time */
} producer;

static void *thread_main(void *arg) {
    producer *p = (producer *)arg;
    double c0 = thread_cpu_ns();
    workload(p->n);
    p->cpu_ns = thread_cpu_ns() - c0;
    return NULL;
}

/* One case: RUNS timed runs after a warm-up; prints the median. */
static void run_case(const char *name, int ndest, int threads, otel_sampler sampler, bool disabled, uint32_t ring) {
    ring_max = ring;
    double ns[RUNS], bg[RUNS];
    unsigned long allocs = 0;
    long long dropped = 0;
    for (int r = -1; r < RUNS; r++) {
        setup(ndest, sampler, disabled);
        atomic_store(&received, 0);
        workload(1000); /* registers the thread and warms its slots */
        otel_force_flush(10000);
        atomic_store(&received, 0);
        unsigned long a0 = atomic_load(&bench_allocs);
        bench_cpu cpu = bench_cpu_start();
        double producers = 0;
        double t0 = now_s();
        if (threads == 1) {
            workload(SPANS);
        } else {
            pthread_t th[8];
            producer pr[8];
            for (int i = 0; i < threads; i++) {
                pr[i].n = SPANS / threads;
                pthread_create(&th[i], NULL, thread_main, &pr[i]);
            }
            for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
            for (int i = 0; i < threads; i++) producers += pr[i].cpu_ns;
        }
        double t1 = now_s();
        unsigned long a1 = atomic_load(&bench_allocs);
        otel_force_flush(30000);
        double background = bench_cpu_background(cpu, producers, SPANS); /* up to the end of the final flush */
        long long produced = (long long)(SPANS + threads) * ndest; /* children + roots */
        if (sampler == OTEL_SAMPLER_ALWAYS_OFF || disabled) produced = 0;
        long long got = (long long)atomic_load(&received);
        bench_ring_seen();
        otel_shutdown(10000);
        if (r < 0) continue;
        ns[r] = (t1 - t0) * 1e9 / SPANS;
        bg[r] = background;
        if (threads == 1) allocs += a1 - a0; /* thread creation allocates; count single-thread runs only */
        dropped += produced - got;
    }
    bool recorded = sampler != OTEL_SAMPLER_ALWAYS_OFF && !disabled; /* background CPU for recorded spans only */
    bench_report(name, ns, recorded ? bg : NULL, RUNS, (double)allocs / ((double)SPANS * RUNS), dropped / RUNS,
                 "span_4attr_1dest", "span_4attr_3dest", "span_4attr_2threads", "span");
}

/* The floor of a recorded span measured in the same run: its two clock reads
   (otel_now_ns, with the pipeline running so that the TSC path is calibrated). */
static void run_clock_floor(void) {
    double ns[RUNS];
    setup(1, OTEL_SAMPLER_ALWAYS_ON, false);
    struct timespec nap = {0, 200 * 1000 * 1000}; /* the first rate needs 50 ms of pipeline */
    nanosleep(&nap, NULL);
    otel_stats st;
    otel_stats_get(&st);
    for (int r = -1; r < RUNS; r++) {
        double t0 = now_s();
        for (long i = 0; i < SPANS; i++) sink += otel_now_ns() + otel_now_ns();
        double t1 = now_s();
        if (r >= 0) ns[r] = (t1 - t0) * 1e9 / SPANS;
    }
    otel_shutdown(10000);
    qsort(ns, RUNS, sizeof ns[0], cmp_double);
    printf("%-20s %8.1f %12.0f %6.3f %d   (baseline: two otel_now_ns reads, %s)\n", "clock_2reads", ns[RUNS / 2],
           1e9 / ns[RUNS / 2], 0.0, 0, st.clock_tsc ? "TSC" : "clock_gettime");
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    printf("%-20s %8s %12s %6s %s\n", "name", "ns/op", "ops/s", "allocs", "dropped");
#define CASE(n, ...) if (!only || strstr(n, only)) run_case(n, __VA_ARGS__)
    if (!only || strstr("clock_2reads", only)) run_clock_floor();
    CASE("span_4attr_1dest", 1, 1, OTEL_SAMPLER_ALWAYS_ON, false, 0);
    CASE("span_4attr_3dest", 3, 1, OTEL_SAMPLER_ALWAYS_ON, false, 0);
    if (!only || strstr("span_4attr_2threads", only)) bench_cpu_scaling("cpu_2threads");
    CASE("span_4attr_2threads", 1, 2, OTEL_SAMPLER_ALWAYS_ON, false, 0);
    CASE("span_unsampled", 1, 1, OTEL_SAMPLER_ALWAYS_OFF, false, 0);
    CASE("span_sdk_disabled", 1, 1, OTEL_SAMPLER_ALWAYS_ON, true, 0);
    /* The same with a fixed 1 MiB region per thread (otel_desc.ring_max_bytes = ring_bytes),
       as before rings grew: this VM's host stops a running thread for 1-4 ms a few times a
       second (tools/hiccups measures it), longer than 1 MiB lasts at full speed (about 2,600
       of these spans), so a fixed region drops when the background threads are stopped.
       (Since 0.5.0 the region also holds what waits in the destinations' queues.) */
    CASE("span_4attr_1dest_fixedring", 1, 1, OTEL_SAMPLER_ALWAYS_ON, false, 1u << 20);
    CASE("span_4attr_3dest_fixedring", 3, 1, OTEL_SAMPLER_ALWAYS_ON, false, 1u << 20);
    CASE("span_4attr_2threads_fixedring", 1, 2, OTEL_SAMPLER_ALWAYS_ON, false, 1u << 20);
    return 0;
}
