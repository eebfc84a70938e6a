/* bench_paced.c - what the background threads cost when spans come at an everyday rate
   (make bench). One thread records a span (2 attributes) at a fixed rate for 2 s, into one
   batch destination with the default settings and an exporter that counts and discards;
   then a final flush. Prints per rate: name, the background threads' CPU per span (ns),
   the same as a share of one core, allocations per span and dropped spans. The span's own
   cost is bench_span's; this is the pipeline thread's and the worker's wake-ups, which a
   busy benchmark spreads over thousands of spans and a slow trickle does not. */
#include <stdatomic.h>
#include <stdlib.h>
static _Atomic unsigned long bench_allocs;
#define OTEL_MALLOC(size, user) (atomic_fetch_add(&bench_allocs, 1), malloc(size))
#define OTEL_FREE(ptr, user) free(ptr)
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "bench.h"

static _Atomic unsigned long long received;

static otel_export_result count_export(const otel_span_batch *b, void *user) {
    (void)user;
    atomic_fetch_add(&received, b->count);
    return OTEL_EXPORT_SUCCESS;
}

static void run_rate(long rate, double secs) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.service_name = "bench";
    d.destinations[0].exporter.export_spans = count_export;
    d.destinations[0].exporter.name = "count";
    otel_init(&d);
    for (int i = 0; i < 100; i++) otel_span_end(otel_span_start("warm-up", NULL)); /* registers the thread */
    otel_force_flush(10000);
    atomic_store(&received, 0);
    long per_tick = rate >= 1000 ? rate / 1000 : 1, n = 0; /* a burst each millisecond */
    unsigned long a0 = atomic_load(&bench_allocs);
    bench_cpu cpu = bench_cpu_start();
    double t0 = now_s();
    while (now_s() - t0 < secs) {
        for (long i = 0; i < per_tick; i++, n++) {
            otel_span *s = otel_span_start("paced-operation", NULL);
            otel_span_set_str(s, "http.request.method", "GET");
            otel_span_set_int(s, "http.response.status_code", 200);
            otel_span_end(s);
        }
        double wait = t0 + (double)n / (double)rate - now_s();
        if (wait > 0) {
            struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    double wall = now_s() - t0;
    unsigned long a1 = atomic_load(&bench_allocs);
    otel_force_flush(10000);
    double bg = bench_cpu_background(cpu, 0, n);
    long long dropped = (long long)n - (long long)atomic_load(&received);
    otel_shutdown(10000);
    char name[32];
    snprintf(name, sizeof name, "span_paced_%ld/s", rate);
    printf("%-20s %8.0f %11.2f%% %6.3f %lld   (background threads' CPU per span, and as a share of one core)\n", name, bg,
           bg * (double)n / wall / 1e7, (double)(a1 - a0) / (double)n, dropped);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    printf("%-20s %8s %12s %6s %s\n", "name", "bg_ns", "core", "allocs", "dropped");
    static const long rates[] = {1000, 10000, 100000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "span_paced_%ld/s", rates[i]);
        if (!only || strstr(name, only)) run_rate(rates[i], 2.0);
    }
    return 0;
}
