/* examples/multi_destination_logs.c - log records sent to two destinations at once.

   As in the OpenTelemetry Python multi-destination example (one BatchLogRecordProcessor per
   exporter): each log destination gets its own queue, worker thread and counters, so a slow
   or failing one never holds up the other, and emitting a record costs the same whatever
   their number. Here: the console (pretty JSON on stdout, the Python ConsoleLogExporter's
   shape) and a JSON Lines file (one OTLP JSON ExportLogsServiceRequest per line). The file
   is $OTEL_EXPORTER_FILE_LOGS_PATH, else $OTEL_EXPORTER_FILE_PATH, else logs.jsonl in the
   current directory. OTEL_LOGS_EXPORTER picks exactly the named destinations instead, e.g.
   OTEL_LOGS_EXPORTER=file, or console,file,otlp once otel_otlp.h exports logs.

   A record emitted while a span is active carries the span's trace id, span id and flags:
   "payment failed" below is correlated with the span "checkout".

   Build, from the repository root:   cc -pthread examples/multi_destination_logs.c -o multi_logs
   Run:                               ./multi_logs                          console + logs.jsonl
                                      OTEL_LOGS_EXPORTER=file ./multi_logs  the file only
   Per-destination counters go to stderr at the end.                                         */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION /* registers the "otlp" exporter name */
#include "../otel_otlp.h"

#include <stdio.h>

int main(void) {
    otel_result r = otel_init(&(otel_desc){
        .service_name = "multi-destination-logs",
        .default_logs_exporters = "console,file", /* one log destination per name */
        .default_exporters = "none",              /* spans: only for the trace context here */
    });
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) {
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }
    otel_logger *logger = otel_logger_get("multi_destination_logs", "1.0.0");

    /* Outside any span: no trace context. */
    otel_logger_info(logger, (otel_attr[]){ otel_attr_int("user.id", 42) }, 1, "hello from otel.h");

    /* Inside a span: the record carries the span's context. */
    otel_span *checkout = otel_span_start("checkout", NULL);
    otel_logger_error(logger, (otel_attr[]){ otel_attr_int("order.id", 1001) }, 1, "payment failed");
    otel_span_set_status(checkout, OTEL_STATUS_ERROR, "payment failed");
    otel_span_end(checkout);

    /* Deliver everything, then read each log destination's own counters. */
    otel_force_flush(0);
    otel_stats stats;
    if (otel_stats_get(&stats) == OTEL_OK) {
        for (uint32_t i = 0; i < stats.log_destination_count; i++) {
            const otel_destination_stats *d = &stats.log_destinations[i];
            fprintf(stderr, "log destination %s: %llu exported, %llu dropped, %llu failed\n",
                    d->name ? d->name : "?", (unsigned long long)d->exported,
                    (unsigned long long)d->dropped, (unsigned long long)d->failed);
        }
    }
    otel_shutdown(0);
    return 0;
}
