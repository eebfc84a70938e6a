/* examples/multi_destination_traces.c - one trace, sent to two destinations at once.

   As in the OpenTelemetry Python multi-destination example (one BatchSpanProcessor per
   exporter): each destination gets its own queue, worker thread and counters, so a slow
   or failing one never holds up the other, and recording a span costs the same whatever
   their number. Here: the console (pretty JSON on stdout) and a JSON Lines file (one OTLP
   JSON ExportTraceServiceRequest per line, readable by a Collector's otlpjsonfile
   receiver). The file is $OTEL_EXPORTER_FILE_TRACES_PATH, else $OTEL_EXPORTER_FILE_PATH,
   else traces.jsonl in the current directory. OTLP/HTTP joins with
   OTEL_TRACES_EXPORTER=console,file,otlp (endpoint: OTEL_EXPORTER_OTLP_ENDPOINT, default
   http://localhost:4318; `make demo` runs exactly that against tools/otlp_sink).

   Build, from the repository root:   cc -pthread examples/multi_destination_traces.c -o multi
   Run:                               ./multi                       console + traces.jsonl
                                      OTEL_TRACES_EXPORTER=file ./multi     the file only
   Per-destination counters go to stderr at the end.                                        */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION /* registers the "otlp" exporter name */
#include "../otel_otlp.h"

#include <stdio.h>

static void fetch_data(otel_tracer *tracer, const char *source, int64_t rows) {
    otel_span *span = otel_span_start("fetch-data", &(otel_span_desc){
        .kind = OTEL_SPAN_KIND_CLIENT,
        .tracer = tracer, /* the instrumentation scope */
    });
    otel_span_set_str(span, "db.system", source);
    otel_span_set_str(span, "db.query.text", "SELECT * FROM orders WHERE day = ?");
    otel_span_set_int(span, "db.response.returned_rows", rows);
    otel_span_add_event(span, "cache.miss", (otel_attr[]){
        otel_attr_str("cache.key", "orders:today"),
        otel_attr_bool("cache.cold", true),
    }, 2);
    otel_span_end(span);
}

int main(void) {
    otel_result r = otel_init(&(otel_desc){
        .service_name = "multi-destination-example",
        .resource_attrs = (otel_attr[]){ otel_attr_str("deployment.environment.name", "dev") },
        .resource_attr_count = 1,
        .default_exporters = "console,file", /* one destination per name */
    });
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) {
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }
    otel_tracer *tracer = otel_tracer_get("multi_destination_traces", "1.0.0");

    otel_span *request = otel_span_start("handle-request", &(otel_span_desc){
        .kind = OTEL_SPAN_KIND_SERVER,
        .tracer = tracer,
    });
    otel_span_set_str(request, "http.request.method", "GET");
    otel_span_set_str(request, "url.path", "/orders/today");

    fetch_data(tracer, "postgresql", 42); /* children of handle-request, the active span */
    otel_span *process = otel_span_start("process-data", &(otel_span_desc){ .tracer = tracer });
    otel_span_set_double(process, "app.ratio", 0.75);
    otel_span_set_status(process, OTEL_STATUS_OK, NULL);
    otel_span_end(process);

    otel_span_set_int(request, "http.response.status_code", 200);
    otel_span_end(request);

    /* Deliver everything, then read each destination's own counters. */
    otel_force_flush(0);
    otel_stats stats;
    if (otel_stats_get(&stats) == OTEL_OK) {
        for (uint32_t i = 0; i < stats.destination_count; i++) {
            const otel_destination_stats *d = &stats.destinations[i];
            fprintf(stderr, "destination %s: %llu exported, %llu dropped, %llu failed\n",
                    d->name ? d->name : "?", (unsigned long long)d->exported,
                    (unsigned long long)d->dropped, (unsigned long long)d->failed);
        }
    }
    otel_shutdown(0);
    return 0;
}
