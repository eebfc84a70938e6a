/* bench_logs.c - log record cost through the batch pipeline (make bench).

   Workloads: `log_emit_2attr`: otel_logger_emit of an INFO record with a constant string
   body and 2 attributes (a string and an int); `log_printf_2args`: otel_logger_info with a
   format taking 2 arguments (a string and an int) and the same 2 attributes. Both outside
   any span. Batch log destinations with queue 8192, batch 512, schedule delay 100 ms, each
   with an exporter that counts the records and discards them; 1,000,000 records per run,
   5 runs after a warm-up, median. The same method and output as bench_span.c:
   Prints: name ns_per_op ops_per_s allocs_per_op dropped
   `dropped` = records produced - records the exporters received after a final flush (per
   destination, summed). Allocations are counted by a counting OTEL_MALLOC.
   Targets (issue 6): at most 100 ns and 250 ns, 0 allocations, 0 dropped.              */
#include <stdatomic.h>
#include <stdlib.h>
static _Atomic unsigned long bench_allocs;
#define OTEL_MALLOC(size, user) (atomic_fetch_add(&bench_allocs, 1), malloc(size))
#define OTEL_FREE(ptr, user) free(ptr)
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "bench.h"
#include <pthread.h>

#define RECORDS 1000000
#define RUNS 5

static _Atomic unsigned long long received;

static otel_export_result count_export(const otel_log_batch *b, void *user) {
    (void)user;
    atomic_fetch_add(&received, b->count);
    return OTEL_EXPORT_SUCCESS;
}

static uint32_t ring_max; /* 0: blocks grow to the default ring_max_bytes (16 MiB) */

static otel_result setup(int ndest) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.ring_max_bytes = ring_max;
    d.service_name = "bench";
    d.lock_destinations = true;
    d.default_exporters = "none";
    for (int i = 0; i < ndest; i++) {
        d.log_destinations[i].exporter.export_logs = count_export;
        d.log_destinations[i].exporter.name = "count";
        d.log_destinations[i].max_queue_size = 8192;
        d.log_destinations[i].max_export_batch = 512;
        d.log_destinations[i].schedule_delay_ms = 100;
    }
    return otel_init(&d);
}

typedef enum { EMIT, PRINTF } kind;

static void workload(kind k, long n) {
    otel_logger *lg = otel_logger_get("bench", "1.0");
    otel_attr attrs[2] = {otel_attr_str("http.request.method", "GET"), otel_attr_int("http.response.status_code", 200)};
    if (k == EMIT) {
        otel_log_record r;
        memset(&r, 0, sizeof r);
        r.severity = OTEL_SEVERITY_INFO;
        r.body = otel_attr_str("", "request handled").value;
        r.attrs = attrs;
        r.attr_count = 2;
        for (long i = 0; i < n; i++) otel_logger_emit(lg, &r);
    } else {
        for (long i = 0; i < n; i++) otel_logger_info(lg, attrs, 2, "user %s placed order %ld", "alice", i);
    }
}

typedef struct job {
    kind k;
    long n;
    double cpu_ns; /* the producer's CPU time */
} job;

static void *thread_main(void *arg) {
    job *j = (job *)arg;
    double c0 = thread_cpu_ns();
    workload(j->k, j->n);
    j->cpu_ns = thread_cpu_ns() - c0;
    return NULL;
}

/* One case: RUNS timed runs after a warm-up; prints the median. */
static void run_case(const char *name, kind k, int ndest, int threads, uint32_t ring) {
    ring_max = ring;
    double ns[RUNS], bg[RUNS];
    unsigned long allocs = 0;
    long long dropped = 0;
    for (int r = -1; r < RUNS; r++) {
        setup(ndest);
        atomic_store(&received, 0);
        workload(k, 1000); /* registers the thread, allocates its format buffer */
        otel_force_flush(10000);
        atomic_store(&received, 0);
        unsigned long a0 = atomic_load(&bench_allocs);
        bench_cpu cpu = bench_cpu_start();
        double producers = 0;
        double t0 = now_s();
        if (threads == 1) {
            workload(k, RECORDS);
        } else {
            pthread_t th[8];
            job j[8];
            for (int i = 0; i < threads; i++) {
                j[i].k = k;
                j[i].n = RECORDS / threads;
                pthread_create(&th[i], NULL, thread_main, &j[i]);
            }
            for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
            for (int i = 0; i < threads; i++) producers += j[i].cpu_ns;
        }
        double t1 = now_s();
        unsigned long a1 = atomic_load(&bench_allocs);
        otel_force_flush(30000);
        double background = bench_cpu_background(cpu, producers, RECORDS); /* up to the end of the final flush */
        long long produced = (long long)RECORDS * ndest;
        long long got = (long long)atomic_load(&received);
        bench_ring_seen();
        otel_shutdown(10000);
        if (r < 0) continue;
        ns[r] = (t1 - t0) * 1e9 / RECORDS;
        bg[r] = background;
        if (threads == 1) allocs += a1 - a0; /* thread creation allocates; count single-thread runs only */
        dropped += produced - got;
    }
    bench_report(name, ns, bg, RUNS, (double)allocs / ((double)RECORDS * RUNS), dropped / RUNS, "log_emit_2attr",
                 "log_emit_2attr_3dest", "log_emit_2threads", "record");
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    printf("%-20s %8s %12s %6s %s\n", "name", "ns/op", "ops/s", "allocs", "dropped");
#define CASE(n, ...) if (!only || strstr(n, only)) run_case(n, __VA_ARGS__)
    CASE("log_emit_2attr", EMIT, 1, 1, 0);
    CASE("log_printf_2args", PRINTF, 1, 1, 0);
    CASE("log_emit_2attr_3dest", EMIT, 3, 1, 0);
    if (!only || strstr("log_emit_2threads", only)) bench_cpu_scaling("cpu_2threads");
    CASE("log_emit_2threads", EMIT, 1, 2, 0);
    /* with fixed 1 MiB rings: see bench_span.c */
    CASE("log_emit_2attr_fixedring", EMIT, 1, 1, 1u << 20);
    CASE("log_printf_2args_fixedring", PRINTF, 1, 1, 1u << 20);
    return 0;
}
