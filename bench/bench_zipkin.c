/* bench_zipkin.c - Zipkin v2 JSON encoding cost (make bench).

   The span of bench_otlp.c's otlp_encode_512: "child-operation" under a root span, 4
   attributes (http.request.method="GET", url.path="/api/v1/users/12345",
   http.response.status_code=200, app.ratio=0.75), service.name in the resource, a named
   tracer scope. A 512-span batch, recorded through otel.h into a memory exporter, is
   encoded as the JSON array the Zipkin exporter POSTs, into its one reused buffer; 5 runs
   after a warm-up, median.
       zipkin_encode_512   prints: name ns_per_span spans_per_s MB_per_s bytes_per_span
                           allocs_per_batch (after the warm-up: the buffers are reused)     */
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
#include <stdio.h>
#include <time.h>

#define BATCH 512
#define RUNS 5

int main(void) {
    otel_exporter mem, zx;
    otel_desc d;
    const otel_span_data *spans[BATCH];
    otel_span_batch batch;
    otel_zipkin_desc zd;
    otel__zipkin *z;
    double ns[RUNS];
    unsigned long allocs = 0;
    size_t i, n;
    int run;
    if (otel_memory_exporter_create(0, &mem) != OTEL_OK) return 1;
    memset(&d, 0, sizeof d);
    d.service_name = "bench-service";
    d.destinations[0].exporter = mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.lock_destinations = true;
    if (otel_init(&d) != OTEL_OK) return 1;
    otel_tracer *tr = otel_tracer_get("bench", "1.0.0");
    otel_span_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.tracer = tr;
    otel_span *root = otel_span_start("root", &sd);
    for (i = 0; i < BATCH; i++) {
        otel_span *s = otel_span_start("child-operation", &sd);
        otel_span_set_str(s, "http.request.method", "GET");
        otel_span_set_str(s, "url.path", "/api/v1/users/12345");
        otel_span_set_int(s, "http.response.status_code", 200);
        otel_span_set_double(s, "app.ratio", 0.75);
        otel_span_end(s);
    }
    otel_span_end(root);
    n = otel_memory_exporter_count(&mem);
    if (n < BATCH) { fprintf(stderr, "bench_zipkin: only %zu spans recorded\n", n); return 1; }
    for (i = 0; i < BATCH; i++) spans[i] = otel_memory_exporter_span(&mem, i);
    memset(&batch, 0, sizeof batch);
    batch.spans = spans;
    batch.count = BATCH;
    batch.resource = otel_memory_exporter_resource(&mem);
    memset(&zd, 0, sizeof zd);
    zd.endpoint = "http://127.0.0.1:9/api/v2/spans"; /* never contacted: encoding only */
    if (otel_zipkin_exporter_create(&zd, &zx) != OTEL_OK) return 1;
    z = (otel__zipkin *)zx.user;
    for (run = -1; run < RUNS; run++) { /* run -1 warms up (and sizes the buffers) */
        int iters = 500, k;
        unsigned long a0 = atomic_load(&bench_allocs);
        double t0 = now_s();
        for (k = 0; k < iters; k++)
            if (!otel__zk_encode(z, &batch)) return 1;
        if (run >= 0) {
            ns[run] = (now_s() - t0) * 1e9 / ((double)iters * BATCH);
            allocs += atomic_load(&bench_allocs) - a0;
        }
    }
    qsort(ns, RUNS, sizeof ns[0], cmp_double);
    printf("%-18s %10s %12s %8s %10s %s\n", "name", "ns/span", "spans/s", "MB/s", "bytes/span", "allocs/batch");
    printf("%-18s %10.1f %12.0f %8.0f %10.1f %.0f\n", "zipkin_encode_512", ns[RUNS / 2], 1e9 / ns[RUNS / 2],
           (double)z->out.len / BATCH / ns[RUNS / 2] * 1e3, (double)z->out.len / BATCH,
           (double)allocs / (RUNS * 500.0));
    zx.shutdown(0, zx.user);
    otel_shutdown(0);
    otel_memory_exporter_destroy(&mem);
    return 0;
}
