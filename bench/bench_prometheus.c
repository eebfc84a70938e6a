/* bench_prometheus.c - Prometheus text format and scrape cost (make bench).

   The batch: 10 metrics x 100 attribute sets = 1000 series, two attributes each
   (http.request.method of 4 values, http.route "/api/v1/items/<n>"), one scope with name and
   version, a 3-attribute resource (target_info): 3 int counters, 2 double counters, 2
   up-down counters, 2 double gauges and one histogram with the 15 default bounds (so 100
   of the series are histograms of 19 lines each: about 2,800 lines, 470 KB of text).

       prometheus_render_1000_series   otel_prometheus_format of the batch into a caller's
                                       buffer (the otel_prometheus_render path without the
                                       collection); 200 renders per run, 5 runs after a
                                       warm-up, median
       prometheus_per_series           the same number divided by 1000
       prometheus_scrape_1000_series   a whole scrape over loopback: connect, GET /metrics,
                                       read the response, through otel.h's HTTP server
                                       (render into its otel__buf included); 100 per run
   Prints: name ns_per_op ops_per_s allocs_per_op dropped   (allocations counted through
   OTEL_MALLOC; for a scrape they include the server's response buffer)                   */
#include <stdatomic.h>
#include <stdlib.h>
static _Atomic unsigned long bench_allocs;
#define OTEL_MALLOC(size, user) (atomic_fetch_add_explicit(&bench_allocs, 1, memory_order_relaxed), malloc(size))
#define OTEL_FREE(ptr, user) free(ptr)
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SETS 100
#define NMETRICS 10
#define RUNS 5
#define RENDERS 200
#define SCRAPES 100

static otel_attr attrs[SETS][2];
static char routes[SETS][32];
static otel_metric_point points[NMETRICS][SETS];
static uint64_t buckets[SETS][16];
static otel_metric_data metrics[NMETRICS];
static otel_metric_batch batch;
static otel_attr res_attrs[3];
static otel_resource resource;
static const otel_scope scope = {{"bench.scope", 11}, {"1.0.0", 5}};
static const double bounds[] = {0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000};
static char *out;
static size_t out_cap;

static void build(void) {
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    static const char *const names[NMETRICS] = {
        "http.server.requests", "db.client.operations", "cache.hits", "bytes.received", "cpu.time",
        "http.server.active_requests", "queue.depth", "system.memory.utilization", "temperature",
        "http.server.request.duration"};
    static const char *const units[NMETRICS] = {"{request}", "{operation}", "{hit}", "By", "s",
                                                "{request}", "{item}", "1", "Cel", "ms"};
    for (int s = 0; s < SETS; s++) {
        snprintf(routes[s], sizeof routes[s], "/api/v1/items/%d", s);
        attrs[s][0] = otel_attr_str("http.request.method", methods[s % 4]);
        attrs[s][1] = otel_attr_str("http.route", routes[s]);
        for (int b = 0; b < 16; b++) buckets[s][b] = (uint64_t)(s * 7 + b * 3) % 50;
    }
    for (int m = 0; m < NMETRICS; m++) {
        otel_metric_data *d = &metrics[m];
        memset(d, 0, sizeof *d);
        d->name.ptr = names[m];
        d->name.len = strlen(names[m]);
        d->unit.ptr = units[m];
        d->unit.len = strlen(units[m]);
        d->description.ptr = "A metric for the benchmark.";
        d->description.len = strlen(d->description.ptr);
        d->scope = &scope;
        d->type = m < 5 ? OTEL_METRIC_SUM : m < 7 ? OTEL_METRIC_SUM : m < 9 ? OTEL_METRIC_GAUGE : OTEL_METRIC_HISTOGRAM;
        d->monotonic = m < 5;
        d->number_type = (m < 3 || m == 5 || m == 6) ? OTEL_NUMBER_INT64 : OTEL_NUMBER_DOUBLE;
        d->temporality = OTEL_TEMPORALITY_CUMULATIVE;
        d->points = points[m];
        d->point_count = SETS;
        if (d->type == OTEL_METRIC_HISTOGRAM) {
            d->boundaries = bounds;
            d->boundary_count = 15;
        }
        for (int s = 0; s < SETS; s++) {
            otel_metric_point *p = &points[m][s];
            memset(p, 0, sizeof *p);
            p->attrs = attrs[s];
            p->attr_count = 2;
            p->start_time_ns = 1700000000000000000ull;
            p->time_ns = p->start_time_ns + 60000000000ull;
            if (d->number_type == OTEL_NUMBER_INT64) p->value.i = (int64_t)(s * 1000 + m);
            else p->value.d = s * 12.375 + m / 7.0;
            if (d->type == OTEL_METRIC_HISTOGRAM) {
                p->bucket_counts = buckets[s];
                p->bucket_count = 16;
                for (int b = 0; b < 16; b++) p->count += buckets[s][b];
                p->sum = s * 1234.5 + 0.25;
            }
        }
    }
    res_attrs[0] = otel_attr_str("service.name", "bench");
    res_attrs[1] = otel_attr_str("service.version", "1.0");
    res_attrs[2] = otel_attr_str("host.name", "bench-host");
    resource.attrs = res_attrs;
    resource.count = 3;
    batch.metrics = metrics;
    batch.count = NMETRICS;
    batch.resource = &resource;
}

static void report(const char *name, double *ns, double allocs_per_op, long long dropped) {
    qsort(ns, RUNS, sizeof ns[0], cmp_double);
    printf("%-30s %10.1f %12.0f %6.3f %lld\n", name, ns[RUNS / 2], 1e9 / ns[RUNS / 2], allocs_per_op, dropped);
    fflush(stdout);
}

static void bench_render(void) {
    double ns[RUNS], per[RUNS];
    unsigned long allocs = 0;
    long long bad = 0;
    size_t len = otel_prometheus_format(&batch, NULL, 0);
    out_cap = len + 1;
    out = (char *)malloc(out_cap);
    for (int r = -1; r < RUNS; r++) {
        unsigned long a0 = atomic_load(&bench_allocs);
        double t0 = now_s();
        for (int i = 0; i < RENDERS; i++)
            if (otel_prometheus_format(&batch, out, out_cap) != len) bad++;
        double t1 = now_s();
        if (r < 0) continue;
        allocs += atomic_load(&bench_allocs) - a0;
        ns[r] = (t1 - t0) * 1e9 / RENDERS;
        per[r] = ns[r] / (NMETRICS * SETS);
    }
    report("prometheus_render_1000_series", ns, (double)allocs / ((double)RENDERS * RUNS), bad);
    report("prometheus_per_series", per, (double)allocs / ((double)RENDERS * RUNS * NMETRICS * SETS), bad);
}

static bool produce(otel__buf *b, void *user) {
    (void)user;
    return otel__prom_format_buf(b, &batch);
}

/* One scrape: connect, GET, read to the end. Returns the bytes received. */
static size_t scrape(uint16_t port, char *buf, size_t cap) {
    struct sockaddr_in a;
    const char *req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    size_t n = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return 0;
    }
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) n = 0;
    for (;;) {
        ssize_t k = recv(fd, buf + n, cap - n, 0);
        if (k <= 0) break;
        n += (size_t)k;
        if (n == cap) break;
    }
    close(fd);
    return n;
}

static void bench_scrape(void) {
    double ns[RUNS];
    unsigned long allocs = 0;
    long long bad = 0;
    otel_result err;
    otel__prom_server *s = otel__prom_server_start("127.0.0.1", 0, "/metrics", produce, NULL, &err);
    size_t cap = out_cap + 4096, want = 0;
    char *buf = (char *)malloc(cap);
    if (!s) {
        fprintf(stderr, "cannot start the server\n");
        return;
    }
    uint16_t port = otel__prom_server_port(s);
    want = scrape(port, buf, cap);
    for (int r = -1; r < RUNS; r++) {
        unsigned long a0 = atomic_load(&bench_allocs);
        double t0 = now_s();
        for (int i = 0; i < SCRAPES; i++)
            if (scrape(port, buf, cap) != want) bad++;
        double t1 = now_s();
        if (r < 0) continue;
        allocs += atomic_load(&bench_allocs) - a0;
        ns[r] = (t1 - t0) * 1e9 / SCRAPES;
    }
    otel__prom_server_stop(s);
    free(buf);
    report("prometheus_scrape_1000_series", ns, (double)allocs / ((double)SCRAPES * RUNS), bad);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    build();
    printf("%-30s %10s %12s %6s %s\n", "name", "ns/op", "ops/s", "allocs", "dropped");
    bench_render(); /* also sizes the buffers the scrape uses */
    if (!only || strstr("prometheus_scrape_1000_series", only)) bench_scrape();
    free(out);
    return 0;
}
