/* bench_otlp.c - OTLP encoding cost (make bench).

   The batch: 512 spans of the pipeline benchmark's shape (issue 3): "child-operation" under
   a root span, 4 attributes (http.request.method="GET", url.path="/api/v1/users/12345",
   http.response.status_code=200, app.ratio=0.75), resource with service.name, recorded
   through otel.h into a memory exporter. Then, 5 runs after a warm-up, median:
       otlp_encode_512   the ExportTraceServiceRequest into one reused buffer
       otlp_gzip_512     the same, then gzip (the built-in deflate)
   Prints: name ns_per_span spans_per_s MB_per_s bytes_per_span [ratio]
   Target: otlp_encode_512 <= 100 ns per span.                                          */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 512
#define RUNS 5

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
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
    printf("%-16s %10.1f %12.0f %8.0f %10.1f\n", "otlp_encode_512", ns[0][RUNS / 2], 1e9 / ns[0][RUNS / 2],
           (double)len / BATCH / ns[0][RUNS / 2] * 1e3, (double)len / BATCH);
    printf("%-16s %10.1f %12.0f %8.0f %10.1f %.2f\n", "otlp_gzip_512", ns[1][RUNS / 2], 1e9 / ns[1][RUNS / 2],
           (double)len / BATCH / ns[1][RUNS / 2] * 1e3, (double)zlen / BATCH, (double)len / (double)zlen);
    otel_otlp_encoder_destroy(enc);
    otel_memory_exporter_destroy(&mem);
    return 0;
}
