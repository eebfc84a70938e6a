/* examples/dual_export_metrics.c - the same metrics served to Prometheus and pushed over
   OTLP at once, from one instrumentation.

   The C form of the Go dual-export example (MetricsExporter "prometheus,otlp"): a simulated
   HTTP server records http_requests_total (a counter by method and route),
   http_request_duration_milliseconds (a histogram), http_connections_active (an up-down
   counter) and system_memory_usage_bytes (an observable gauge). Two readers read the same
   instruments, each on its own: a Prometheus pull reader serving the text format at
   http://localhost:9464/metrics (OTEL_EXPORTER_PROMETHEUS_HOST/_PORT), and a periodic
   reader pushing OTLP/HTTP every 5 s. As in the Go example, OTLP is on only when an
   endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
   without one it says so once and keeps serving Prometheus.

   Build, from the repository root:   cc -pthread examples/dual_export_metrics.c -o dual
   Run:                               ./dual --seconds 60     then: curl localhost:9464/metrics
       OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 ./dual --seconds 60     both at once
       OTEL_METRICS_EXPORTER=prometheus,otlp ./dual      the variable names the readers
   Without --seconds it stops after 2 s (so that `make test` can run it).               */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION /* registers the "otlp" exporter name */
#include "../otel_otlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void memory_usage(otel_observer *obs, void *user) { /* resident set size, Linux */
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    (void)user;
    if (f && fscanf(f, "%ld %ld", &pages, &resident) == 2)
        otel_observe_int(obs, (int64_t)resident * sysconf(_SC_PAGESIZE), (otel_attr[]){otel_attr_str("state", "used")}, 1);
    if (f) fclose(f);
}

static double elapsed_s(const struct timespec *t0) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) * 1e-9;
}

int main(int argc, char **argv) {
    double seconds = 2;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[++i]);

    otel_desc desc = {
        .service_name = "dual-export-example",
        .resource_attrs = (otel_attr[]){otel_attr_str("service.version", "1.0.0")},
        .resource_attr_count = 1,
        .default_exporters = "none", /* metrics only */
        .readers[0] = {.kind = OTEL_READER_PROMETHEUS, .path = "/metrics"}, /* host, port: env or localhost:9464 */
    };
    if (getenv("OTEL_EXPORTER_OTLP_ENDPOINT") || getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")) {
        otel_exporter otlp;
        if (otel_exporter_create_for(OTEL_SIGNAL_METRICS, "otlp", &otlp) == OTEL_OK)
            desc.readers[1] = (otel_reader_desc){.kind = OTEL_READER_PERIODIC, .exporter = otlp, .export_interval_ms = 5000};
        else
            fprintf(stderr, "dual_export_metrics: OTLP metrics are not available; serving Prometheus only\n");
    } else if (!getenv("OTEL_METRICS_EXPORTER")) {
        fprintf(stderr, "dual_export_metrics: OTEL_EXPORTER_OTLP_ENDPOINT is not set: OTLP export disabled, "
                        "serving Prometheus only\n");
    }
    otel_result r = otel_init(&desc);
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) {
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }

    otel_meter *meter = otel_meter_get("dual-export-example", "1.0.0");
    otel_instrument *requests = otel_counter_create(meter, "http_requests_total", "1", "Total number of HTTP requests");
    otel_instrument *duration = otel_histogram_create(meter, "http_request_duration_milliseconds", "ms",
                                                      "HTTP request duration in milliseconds");
    otel_instrument *active = otel_instrument_create(meter, OTEL_INSTRUMENT_UP_DOWN_COUNTER, OTEL_NUMBER_INT64,
                                                     &(otel_instrument_desc){.name = "http_connections_active",
                                                                             .description = "Active HTTP connections"});
    otel_instrument_create(meter, OTEL_INSTRUMENT_OBSERVABLE_GAUGE, OTEL_NUMBER_INT64,
                           &(otel_instrument_desc){.name = "system_memory_usage_bytes", .unit = "By",
                                                   .description = "Memory in use", .callback = memory_usage});

    static const char *const methods[] = {"GET", "GET", "GET", "POST", "DELETE"};
    static const char *const routes[] = {"/api/users", "/api/orders", "/api/products", "/health"};
    struct timespec t0, pause = {0, 20 * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned seed = 7;
    long served = 0;
    while (elapsed_s(&t0) < seconds) { /* one simulated request per tick */
        seed = seed * 1103515245u + 12345u;
        otel_attr attrs[2] = {otel_attr_str("http_method", methods[(seed >> 8) % 5]),
                              otel_attr_str("http_route", routes[(seed >> 16) % 4])};
        otel_record_int(active, 1, NULL, 0);
        otel_record_int(requests, 1, attrs, 2);
        otel_record_double(duration, 5.0 + (double)((seed >> 4) % 2000) / 10.0, attrs, 2);
        otel_record_int(active, -1, NULL, 0);
        served++;
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "dual_export_metrics: %ld simulated requests\n", served);
    otel_stats st;
    if (otel_stats_get(&st) == OTEL_OK)
        for (uint32_t i = 0; i < st.reader_count; i++)
            fprintf(stderr, "reader %s: %llu collections, %llu points exported, %llu failed\n", st.readers[i].name,
                    (unsigned long long)st.readers[i].collections, (unsigned long long)st.readers[i].exported_points,
                    (unsigned long long)st.readers[i].failed_points);
    otel_shutdown(5000);
    return 0;
}
