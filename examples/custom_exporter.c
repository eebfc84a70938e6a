/* examples/custom_exporter.c - a user-written exporter: one text line per span.

   An exporter is a small vtable (otel_exporter): export_spans receives a read-only batch
   of finished spans; force_flush and shutdown are optional; `user` is yours. It runs on
   its destination's worker thread, never twice at once. Here export_spans prints each
   span's name, duration in microseconds and attributes (walked with otel_span_attrs and
   otel_iter_attr), and shutdown prints the totals.

   Build, from the repository root:   cc -pthread examples/custom_exporter.c -o custom_exporter
   Run:                               ./custom_exporter
   Setting OTEL_TRACES_EXPORTER replaces this destination with the named ones; set
   .lock_destinations = true in otel_desc to keep it whatever the environment says.       */
#define OTEL_IMPLEMENTATION
#include "../otel.h"

#include <stdio.h>

typedef struct line_exporter { unsigned long long spans, batches; } line_exporter; /* `user` */

static void print_value(const otel_value *v) {
    FILE *out = stdout;
    switch (v->type) {
    case OTEL_VALUE_STRING: fprintf(out, "\"%.*s\"", (int)v->len, v->u.s); break;
    case OTEL_VALUE_BOOL: fputs(v->u.b ? "true" : "false", out); break;
    case OTEL_VALUE_INT: fprintf(out, "%lld", (long long)v->u.i); break;
    case OTEL_VALUE_DOUBLE: fprintf(out, "%g", v->u.d); break;
    case OTEL_VALUE_STRING_ARRAY: /* otel_value_str_at reads packed and plain arrays */
        for (size_t i = 0; i < v->len; i++) {
            otel_str s = otel_value_str_at(v, i);
            fprintf(out, "%s\"%.*s\"", i ? "," : "[", (int)s.len, s.ptr);
        }
        fputs(v->len ? "]" : "[]", out);
        break;
    default: fprintf(out, "[%zu items]", v->len); break;
    }
}

static otel_export_result line_export(const otel_span_batch *batch, void *user) {
    line_exporter *le = user;
    for (size_t i = 0; i < batch->count; i++) {
        const otel_span_data *s = batch->spans[i];
        printf("%.*s %.1fus %u attrs", (int)s->name.len, s->name.ptr,
                (double)(s->end_time_ns - s->start_time_ns) / 1e3, (unsigned)s->attr_count);
        otel_iter it = otel_span_attrs(s);
        otel_attr a;
        while (otel_iter_attr(&it, &a)) {
            printf(" %.*s=", (int)a.key.len, a.key.ptr);
            print_value(&a.value);
        }
        putchar('\n');
    }
    le->spans += batch->count;
    le->batches++;
    return OTEL_EXPORT_SUCCESS;
}

static void line_shutdown(uint32_t timeout_ms, void *user) {
    line_exporter *le = user;
    (void)timeout_ms;
    printf("total: %llu spans in %llu batches\n", le->spans, le->batches);
}

int main(void) {
    static line_exporter state; /* must outlive otel_shutdown */
    otel_result r = otel_init(&(otel_desc){
        .service_name = "custom-exporter-example",
        .destinations[0].exporter = { .export_spans = line_export, .shutdown = line_shutdown,
                                      .user = &state, .name = "lines" },
    });
    if (r != OTEL_OK && r != OTEL_ERR_DISABLED) {
        fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
        return 1;
    }
    otel_span *order = otel_span_start("checkout", &(otel_span_desc){
        .kind = OTEL_SPAN_KIND_SERVER });
    const char *items[] = { "book", "pen" };
    otel_attr items_attr = otel_attr_str_array("order.items", items, 2);
    otel_span_set_attr(order, &items_attr);
    otel_span_set_str(order, "order.id", "A-1001");
    for (int i = 0; i < 3; i++) {
        otel_span *step = otel_span_start(i == 2 ? "charge-card" : "reserve-item", NULL);
        otel_span_set_int(step, "step", i);
        otel_span_set_bool(step, "retry", false);
        if (i == 2) {
            otel_span_record_exception(step, "CardDeclined", "insufficient funds", NULL);
            otel_span_set_status(step, OTEL_STATUS_ERROR, "card declined");
        }
        otel_span_end(step);
    }
    otel_span_end(order);
    otel_shutdown(0);
    return 0;
}
