/* examples/getting_started.c - three nested spans, foo -> bar -> baz, printed to the console.

   The C form of the OpenTelemetry Python "getting started" trace. Each span started while
   another is active becomes its child, so the three spans share one trace_id and each
   parent_id names the span around it. The console exporter prints one JSON object per
   span (baz, bar, foo: in the order they end) when the batch goes out at shutdown.

   Build, from the repository root:   cc -pthread examples/getting_started.c -o getting_started
   Run:                               ./getting_started
   The same binary, pointed elsewhere by the standard variables:
       OTEL_EXPORTER_CONSOLE_FORMAT=compact ./getting_started     one line per span
       OTEL_TRACES_EXPORTER=file ./getting_started                OTLP JSON lines in traces.jsonl
       OTEL_TRACES_EXPORTER=console,file ./getting_started        both at once
       OTEL_SDK_DISABLED=true ./getting_started                   nothing at all            */
#define OTEL_IMPLEMENTATION
#include "../otel.h"

#include <stdio.h>

int main(void) {
    /* Zero means default: what the code leaves out, OTEL_* variables fill in. When
       OTEL_TRACES_EXPORTER is set it names the destinations; otherwise: the console. */
    otel_result r = otel_init(&(otel_desc){
        .service_name = "getting-started",
        .default_exporters = "console",
    });
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) { /* disabled: every call is a no-op */
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }

    otel_span *foo = otel_span_start("foo", NULL); /* a new trace: nothing is active */
    otel_span *bar = otel_span_start("bar", NULL); /* child of foo, the active span */
    otel_span *baz = otel_span_start("baz", NULL); /* child of bar */
    /* ... the work being traced ... */
    otel_span_end(baz); /* ending a span makes its parent active again */
    otel_span_end(bar);
    otel_span_end(foo);

    otel_shutdown(0); /* exports what is left, waits at most the default 30 s */
    return 0;
}
