/* examples/otlp_traces.c - send traces to an OTLP/HTTP receiver (protobuf), as the
   OpenTelemetry Python guide does with OTLPSpanExporter and a BatchSpanProcessor.

   Start a receiver first: the bundled one prints every span it gets as a JSON line
       make tools && build/tools/otlp_sink            (listens on 127.0.0.1:4318)
   or an OpenTelemetry Collector / Jaeger listening on port 4318. Then:
       cc -pthread examples/otlp_traces.c -o otlp_traces && ./otlp_traces
       ./otlp_traces http://collector:4318/v1/traces          a full traces URL
   Without an argument the endpoint comes from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (full
   URL), OTEL_EXPORTER_OTLP_ENDPOINT (base URL, "/v1/traces" appended), else
   http://localhost:4318; OTEL_EXPORTER_OTLP_COMPRESSION=gzip compresses (for the
   console too, see multi_destination_traces.c). With no receiver running the
   export gives up after its timeout and the counters at the end say so: the program
   itself is never blocked. For https://, build with -DOTEL_USE_CURL ... -lcurl.          */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"

#include <stdio.h>

int main(int argc, char **argv) {
    /* OTLPSpanExporter(endpoint=...): zero fields come from the OTEL_EXPORTER_OTLP_* variables */
    otel_exporter otlp;
    otel_result r = otel_otlp_exporter_create(&(otel_otlp_desc){
        .traces_endpoint = argc > 1 ? argv[1] : NULL,
        .timeout_ms = 3000,
    }, &otlp);
    if (r != OTEL_OK) {
        fprintf(stderr, "otlp exporter: %s\n", otel_result_str(r));
        return 1;
    }
    /* TracerProvider(resource=Resource({SERVICE_NAME: ...})) + BatchSpanProcessor */
    r = otel_init(&(otel_desc){
        .service_name = "your-service-name",
        .destinations[0] = { .exporter = otlp, .processor = OTEL_PROCESSOR_BATCH },
        .lock_destinations = true, /* this one, whatever OTEL_TRACES_EXPORTER says */
    });
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) {
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }
    otel_tracer *tracer = otel_tracer_get("otlp_traces", "1.0.0");
    otel_span *parent = otel_span_start("handle-order", &(otel_span_desc){
        .kind = OTEL_SPAN_KIND_SERVER, .tracer = tracer });
    otel_span_set_str(parent, "order.id", "A-1042");
    for (int i = 0; i < 3; i++) {
        otel_span *item = otel_span_start("reserve-item", &(otel_span_desc){ .tracer = tracer });
        otel_span_set_int(item, "item.index", i);
        otel_span_end(item);
    }
    otel_span_add_event(parent, "order.accepted", NULL, 0);
    otel_span_end(parent);

    otel_force_flush(0); /* deliver now, then look at the counters */
    otel_stats st;
    if (otel_stats_get(&st) == OTEL_OK)
        for (uint32_t i = 0; i < st.destination_count; i++)
            fprintf(stderr, "destination %s: %llu exported, %llu failed\n", st.destinations[i].name,
                    (unsigned long long)st.destinations[i].exported, (unsigned long long)st.destinations[i].failed);
    otel_shutdown(0);
    return 0;
}
