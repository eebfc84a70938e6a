/* examples/metrics.c - a counter, printed to the console by a periodic reader.

   The C form of the Python guide's PeriodicExportingMetricReader(ConsoleMetricExporter()):
   a dice game counts its rolls by value; a periodic reader collects every second and the
   console exporter prints each collection as the Python SDK's JSON (resource_metrics ->
   scope_metrics -> metrics -> data_points). The counter is cumulative, so each print shows
   the totals so far; with OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta each
   shows only the rolls since the previous one.

   Build, from the repository root:   cc -pthread examples/metrics.c -o metrics
   Run:                               ./metrics                 (2 s, then it stops)
                                      ./metrics --seconds 10
       OTEL_EXPORTER_CONSOLE_FORMAT=compact ./metrics            one line per collection
       OTEL_METRICS_EXPORTER=none ./metrics                      the variable decides: no reader
       OTEL_SDK_DISABLED=true ./metrics                          nothing at all             */
#define OTEL_IMPLEMENTATION
#include "../otel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    double seconds = 2;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[++i]);

    otel_exporter console;
    otel_console_exporter_create(NULL, &console); /* pretty JSON on stdout */
    /* Used when OTEL_METRICS_EXPORTER is unset; when it is set, it names the readers. */
    otel_result r = otel_init(&(otel_desc){
        .service_name = "metrics-example",
        .default_exporters = "none", /* no traces here */
        .readers[0] = {.kind = OTEL_READER_PERIODIC, .exporter = console, .export_interval_ms = 1000},
    });
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) {
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }
    otel_meter *meter = otel_meter_get("examples.metrics", "1.0.0");
    otel_instrument *rolls = otel_counter_create(meter, "dice.rolls", "{roll}", "The number of rolls by roll value");

    struct timespec start, now, pause = {0, 50 * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &start);
    unsigned seed = 42;
    do {
        int value = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6 + 1;
        otel_record_int(rolls, 1, (otel_attr[]){otel_attr_int("roll.value", value)}, 1);
        nanosleep(&pause, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) * 1e-9 < seconds);

    otel_shutdown(0); /* a last collection and export */
    return 0;
}
