/* examples/multi_destination_metrics.c - one set of instruments, read by two readers at once.

   As in the OpenTelemetry Python multi-destination example (a MeterProvider with one
   PeriodicExportingMetricReader per exporter): each reader collects on its own thread, on
   its own schedule, with its own temporality, so a slow or failing destination never
   holds up the other, and recording costs the same whatever their number. Here: the
   console (pretty JSON on stdout, every second, cumulative) and OTLP/HTTP (every 5 s,
   delta) when an endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or _METRICS_ENDPOINT,
   e.g. tools/otlp_sink or a Collector); without one it says so and keeps the console.

   Build, from the repository root:   cc -pthread examples/multi_destination_metrics.c -o multi_metrics
   Run:                               ./multi_metrics               (2 s; --seconds N for longer)
       OTEL_METRICS_EXPORTER=console,otlp ./multi_metrics    the variable names the readers
   Per-reader counters go to stderr at the end.                                           */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION /* registers the "otlp" exporter name */
#include "../otel_otlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    double seconds = 2;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[++i]);

    otel_exporter console;
    otel_console_exporter_create(NULL, &console);
    otel_desc desc = {
        .service_name = "multi-destination-example",
        .default_exporters = "none", /* metrics only */
        .readers[0] = {.kind = OTEL_READER_PERIODIC, .exporter = console, .export_interval_ms = 1000},
    };
    otel_exporter otlp;
    if (!getenv("OTEL_EXPORTER_OTLP_ENDPOINT") && !getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"))
        fprintf(stderr, "multi_destination_metrics: no OTLP endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT): console only\n");
    else if (otel_exporter_create_for(OTEL_SIGNAL_METRICS, "otlp", &otlp) != OTEL_OK)
        fprintf(stderr, "multi_destination_metrics: OTLP metrics are not available: console only\n");
    else
        desc.readers[1] = (otel_reader_desc){.kind = OTEL_READER_PERIODIC, .exporter = otlp,
                                             .export_interval_ms = 5000, .temporality = OTEL_TEMPORALITY_PREF_DELTA};
    otel_result r = otel_init(&desc);
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) {
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }

    otel_meter *meter = otel_meter_get("multi_destination_metrics", "1.0.0");
    otel_instrument *requests = otel_counter_create(meter, "app.requests", "{request}", "Requests handled");
    otel_instrument *size = otel_instrument_create(meter, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_INT64,
                                                   &(otel_instrument_desc){.name = "app.response.size", .unit = "By",
                                                                           .boundaries = (double[]){100, 1000, 10000},
                                                                           .boundary_count = 3});
    static const char *const endpoints[] = {"/api/users", "/api/orders"};
    struct timespec t0, now, pause = {0, 100 * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0;; i++) {
        otel_attr attrs[1] = {otel_attr_str("endpoint", endpoints[i % 2])};
        otel_record_int(requests, 1, attrs, 1);
        otel_record_int(size, 50 + (i * 997) % 5000, attrs, 1);
        nanosleep(&pause, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) * 1e-9 >= seconds) break;
    }

    otel_force_flush(0); /* both readers export what they have, then read their counters */
    otel_stats stats;
    if (otel_stats_get(&stats) == OTEL_OK)
        for (uint32_t i = 0; i < stats.reader_count; i++)
            fprintf(stderr, "reader %s: %llu points exported, %llu failed\n", stats.readers[i].name,
                    (unsigned long long)stats.readers[i].exported_points,
                    (unsigned long long)stats.readers[i].failed_points);
    otel_shutdown(5000);
    return 0;
}
