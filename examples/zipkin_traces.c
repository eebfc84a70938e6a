/* examples/zipkin_traces.c - send traces to Zipkin, as the OpenTelemetry Python guide does
   with ZipkinExporter(endpoint="http://localhost:9411/api/v2/spans"), a Resource with
   SERVICE_NAME and a BatchSpanProcessor.

   Start Zipkin first (UI on http://localhost:9411):
       docker run --rm -d -p 9411:9411 --name zipkin openzipkin/zipkin
   Then, from the repository root:
       cc -pthread examples/zipkin_traces.c -o zipkin_traces && ./zipkin_traces
       ./zipkin_traces http://zipkin:9411/api/v2/spans        another Zipkin (URL used as is)
   Without an argument the URL is $OTEL_EXPORTER_ZIPKIN_ENDPOINT, else the one above.
   OTEL_TRACES_EXPORTER picks other destinations for the same binary (e.g. console, or
   console,zipkin). With no Zipkin running the export gives up after its 2 s timeout, an
   error is logged and the counters at the end say so; the program itself never waits on
   Zipkin while it records. For https://, build with -DOTEL_USE_CURL ... -lcurl.          */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION /* the Zipkin exporter lives in otel_otlp.h */
#include "../otel_otlp.h"

#include <stdio.h>

int main(int argc, char **argv) {
    /* ZipkinExporter(endpoint=...) */
    otel_exporter zipkin;
    otel_result r = otel_zipkin_exporter_create(&(otel_zipkin_desc){
        .endpoint = argc > 1 ? argv[1] : NULL,
        .timeout_ms = 2000, /* the whole export, retries included */
    }, &zipkin);
    if (r != OTEL_OK) {
        fprintf(stderr, "zipkin exporter: %s\n", otel_result_str(r));
        return 1;
    }
    /* TracerProvider(resource=Resource({SERVICE_NAME: ...})) + BatchSpanProcessor */
    r = otel_init(&(otel_desc){
        .service_name = "your-service-name", /* Zipkin's localEndpoint.serviceName */
        .destinations[0] = { .exporter = zipkin, .processor = OTEL_PROCESSOR_BATCH },
    });
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) {
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }
    otel_tracer *tracer = otel_tracer_get("zipkin_traces", "1.0.0"); /* otel.scope.* tags */
    otel_span *request = otel_span_start("GET /checkout", &(otel_span_desc){
        .kind = OTEL_SPAN_KIND_SERVER, .tracer = tracer });
    otel_span_set_str(request, "http.request.method", "GET");
    otel_span_set_int(request, "http.response.status_code", 200);

    /* a client span: peer.service becomes Zipkin's remoteEndpoint (a dependency link) */
    otel_span *call = otel_span_start("charge-card", &(otel_span_desc){
        .kind = OTEL_SPAN_KIND_CLIENT, .tracer = tracer });
    otel_span_set_str(call, "peer.service", "payments");
    otel_span_set_str(call, "server.address", "payments.internal");
    otel_span_add_event(call, "retry", (otel_attr[]){ otel_attr_int("attempt", 2) }, 1);
    otel_span_set_status(call, OTEL_STATUS_ERROR, "card declined"); /* the error tag */
    otel_span_end(call);

    otel_span *render = otel_span_start("render-page", &(otel_span_desc){ .tracer = tracer });
    otel_span_end(render);
    otel_span_end(request);

    otel_force_flush(0); /* deliver now, then look at the counters */
    otel_stats st;
    if (otel_stats_get(&st) == OTEL_OK)
        for (uint32_t i = 0; i < st.destination_count; i++)
            fprintf(stderr, "destination %s: %llu exported, %llu failed\n", st.destinations[i].name,
                    (unsigned long long)st.destinations[i].exported, (unsigned long long)st.destinations[i].failed);
    otel_shutdown(0);
    return 0;
}
