/* test_e2e_logs.c - logs end to end through the real pipeline (issue 6): records emitted
   with otel_logger_emit and the printf-style calls, outside and inside spans (a nested span
   with another logger, an explicit context), every body type, attributes of every type,
   event names, given and default timestamps and severity texts -> the log destinations'
   queues and workers -> otel_otlp.h's exporter -> HTTP to the in-process receiver on
   127.0.0.1 (tests/otlp_test_server.h) -> each /v1/logs body decoded by `protoc --decode`
   with the official protos and every field checked: severity number and text, body,
   attributes, trace id / span id / flags against the spans (read back from a memory
   trace destination), time and observed time, scope name and version, resource with
   service.name; event_name by its field number 12 (the 0.38 protos predate it).
   - The same records sent at once as OTLP/JSON (http/json) and written by the file
     exporter: both parsed by python3 and compared field by field with the protobuf decode
     (tests/e2e_compare.py).
   - Env config: OTEL_LOGS_EXPORTER=otlp, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
     OTEL_BLRP_SCHEDULE_DELAY and _MAX_EXPORT_BATCH_SIZE (sent without a flush, in several
     requests), then OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=
     http/json with the same records, compared with the protobuf run (times aside).     */
/* tsan */
#define _GNU_SOURCE 1
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"
#define OTLP_SINK_NO_MAIN
#include "../tools/otlp_sink.c"
#include "otlp_test_server.h"
#include "test.h"
#include "otlp_check.h"
#include "e2e_check.h"

#define LREQ "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest"
#define LPROTO "opentelemetry/proto/collector/logs/v1/logs_service.proto"
#define T_FIXED 1700000000123456789ull

static test_server g_srv;
static bool g_skip_protoc;

static const char *const SEV[] = {"UNSPECIFIED", "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3",
                                  "DEBUG4", "INFO", "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4",
                                  "ERROR", "ERROR2", "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4"};

/* ---- the records ---------------------------------------------------------------------------- */

enum { CTX_NONE, CTX_SPAN, CTX_CHILD, CTX_EXPLICIT };

typedef struct want_rec {
    int logger;            /* 0: e2e.logger 2.0, 1: e2e.other */
    otel_severity sev;
    const char *text;      /* severity text expected */
    otel_value body;       /* what the body must be (NONE: absent) */
    const otel_attr *attrs;
    size_t attr_count;
    const char *event;     /* NULL: none */
    int ctx;
    uint64_t time_ns;      /* 1: the call time (printf-style: time = observed); 0: unset */
    uint64_t observed_ns;  /* 0: the call time */
    uint64_t t0, t1;       /* wall clock around the call */
} want_rec;

static want_rec g_want[20];
static size_t g_nwant;

static const char *const g_tags[] = {"a", "b \"c\""};
static const bool g_bools[] = {true, false};
static const int64_t g_ints[] = {1, -2, 3000000000ll};
static const double g_dbls[] = {0.5, -1.25};
static otel_attr g_every[9], g_kv[1], g_only[1], g_user[1], g_order[1], g_amount[1], g_special[3];
static otel_span_context g_explicit;
static uint8_t g_span_tid[16], g_span_sid[8], g_child_sid[8];

static otel_value V_str(const char *s) { otel_value v; memset(&v, 0, sizeof v); v.type = OTEL_VALUE_STRING; v.u.s = s; v.len = strlen(s); return v; }
static otel_value V_none(void) { otel_value v; memset(&v, 0, sizeof v); return v; }

static void init_data(void) {
    size_t i;
    g_every[0] = otel_attr_str("http.request.method", "GET");
    g_every[1] = otel_attr_bool("ok", true);
    g_every[2] = otel_attr_int("neg", -5);
    g_every[3] = otel_attr_double("ratio", 0.75);
    g_every[4] = otel_attr_str_array("tags", g_tags, 2);
    g_every[5] = otel_attr_bool_array("bools", g_bools, 2);
    g_every[6] = otel_attr_int_array("ints", g_ints, 3);
    g_every[7] = otel_attr_double_array("dbls", g_dbls, 2);
    g_every[8] = otel_attr_str("quote", "say \"hi\"\n\\ \xc3\xa9");
    g_kv[0] = otel_attr_str("k", "v");
    g_only[0] = otel_attr_bool("only", true);
    g_user[0] = otel_attr_int("user.id", 42);
    g_order[0] = otel_attr_int("order.id", 1001);
    g_amount[0] = otel_attr_double("amount", 9.99);
    g_special[0] = otel_attr_double("nan", NAN);
    g_special[1] = otel_attr_double("inf", INFINITY);
    g_special[2] = otel_attr_str("empty", "");
    memset(&g_explicit, 0, sizeof g_explicit);
    for (i = 0; i < 16; i++) g_explicit.trace_id[i] = (uint8_t)(i + 1);
    for (i = 0; i < 8; i++) g_explicit.span_id[i] = (uint8_t)(0xa1 + i);
    g_explicit.trace_flags = 0;
}

static want_rec *want(int logger, otel_severity sev, const char *text, otel_value body, const otel_attr *attrs,
                      size_t n, const char *event, int ctx, uint64_t time_ns, uint64_t observed_ns) {
    want_rec *w = &g_want[g_nwant++];
    memset(w, 0, sizeof *w);
    w->logger = logger; w->sev = sev; w->text = text; w->body = body; w->attrs = attrs; w->attr_count = n;
    w->event = event; w->ctx = ctx; w->time_ns = time_ns; w->observed_ns = observed_ns;
    return w;
}

/* Emits a structured record as w says (time_ns/observed_ns as given; text NULL when the
   expected text is the default). */
static void emit(otel_logger *lg, want_rec *w, const char *text_in) {
    otel_log_record r;
    memset(&r, 0, sizeof r);
    r.time_ns = w->time_ns;
    r.observed_time_ns = w->observed_ns;
    r.severity = w->sev;
    r.severity_text = text_in;
    r.body = w->body;
    r.attrs = w->attrs;
    r.attr_count = w->attr_count;
    r.event_name = w->event;
    r.context = w->ctx == CTX_EXPLICIT ? &g_explicit : NULL;
    w->t0 = wall_ns();
    otel_logger_emit(lg, &r);
    w->t1 = wall_ns();
}

/* Every record the test emits, in order. with_spans false: none inside a span (their ids
   would differ between two runs). */
static void emit_all(otel_logger *a, otel_logger *b, bool with_spans) {
    want_rec *w;
    otel_value v;
    g_nwant = 0;
    /* outside any span: every body type, the default and a custom severity text */
    w = want(0, OTEL_SEVERITY_INFO, "INFO", V_str("hello \"world\"\n \xc3\xbc" "n\xc3\xaf" "code \xe2\x9c\x93"), g_every, 9,
             "e2e.start", CTX_NONE, T_FIXED, 0);
    emit(a, w, NULL);
    memset(&v, 0, sizeof v); v.type = OTEL_VALUE_BOOL; v.u.b = true;
    w = want(0, OTEL_SEVERITY_WARN, "warning", v, g_kv, 1, NULL, CTX_NONE, 0, T_FIXED + 5);
    emit(a, w, "warning");
    memset(&v, 0, sizeof v); v.type = OTEL_VALUE_INT; v.u.i = -42;
    w = want(0, OTEL_SEVERITY_ERROR2, "ERROR2", v, NULL, 0, NULL, CTX_NONE, T_FIXED + 7, 0);
    emit(a, w, NULL);
    memset(&v, 0, sizeof v); v.type = OTEL_VALUE_DOUBLE; v.u.d = 3.25;
    w = want(0, OTEL_SEVERITY_DEBUG3, "DEBUG3", v, NULL, 0, NULL, CTX_NONE, 0, 0);
    emit(a, w, NULL);
    memset(&v, 0, sizeof v); v.type = OTEL_VALUE_STRING_ARRAY; v.u.sa = g_tags; v.len = 2;
    w = want(0, OTEL_SEVERITY_TRACE, "TRACE", v, NULL, 0, NULL, CTX_NONE, 0, 0);
    emit(a, w, NULL);
    memset(&v, 0, sizeof v); v.type = OTEL_VALUE_INT_ARRAY; v.u.ia = g_ints; v.len = 3;
    w = want(0, OTEL_SEVERITY_FATAL4, "FATAL4", v, NULL, 0, NULL, CTX_NONE, 0, 0);
    emit(a, w, NULL);
    memset(&v, 0, sizeof v); v.type = OTEL_VALUE_DOUBLE_ARRAY; v.u.da = g_dbls; v.len = 2;
    w = want(0, OTEL_SEVERITY_INFO2, "notice", v, NULL, 0, NULL, CTX_NONE, 0, 0);
    emit(a, w, "notice");
    memset(&v, 0, sizeof v); v.type = OTEL_VALUE_BOOL_ARRAY; v.u.ba = g_bools; v.len = 2;
    w = want(0, OTEL_SEVERITY_INFO3, "INFO3", v, NULL, 0, NULL, CTX_NONE, 0, 0);
    emit(a, w, NULL);
    w = want(0, OTEL_SEVERITY_INFO4, "INFO4", V_none(), g_only, 1, "e2e.no_body", CTX_NONE, 0, 0);
    emit(a, w, NULL);
    /* doubles JSON spells as strings, empty strings (a oneof member: still present) */
    memset(&v, 0, sizeof v); v.type = OTEL_VALUE_DOUBLE; v.u.d = -INFINITY;
    w = want(0, OTEL_SEVERITY_DEBUG2, "DEBUG2", v, g_special, 3, NULL, CTX_NONE, 0, 0);
    emit(a, w, NULL);
    w = want(0, OTEL_SEVERITY_DEBUG4, "DEBUG4", V_str(""), NULL, 0, NULL, CTX_NONE, 0, 0);
    emit(a, w, NULL);
    /* printf-style, outside a span */
    w = want(0, OTEL_SEVERITY_INFO, "INFO", V_str("user 42 logged in from 10.0.0.1"), g_user, 1, NULL, CTX_NONE, 1, 0);
    w->t0 = wall_ns();
    otel_logger_info(a, g_user, 1, "user %d logged in from %s", 42, "10.0.0.1");
    w->t1 = wall_ns();
    if (with_spans) {
        otel_span *checkout = otel_span_start("checkout", NULL), *charge;
        w = want(0, OTEL_SEVERITY_ERROR, "ERROR", V_str("payment failed: card declined"), g_order, 1, NULL, CTX_SPAN, 1, 0);
        w->t0 = wall_ns();
        otel_logger_error(a, g_order, 1, "payment failed: %s", "card declined");
        w->t1 = wall_ns();
        w = want(0, OTEL_SEVERITY_WARN3, "WARN3", V_str("retrying"), NULL, 0, "e2e.retry", CTX_SPAN, 0, 0);
        emit(a, w, NULL);
        charge = otel_span_start("charge", NULL);
        w = want(1, OTEL_SEVERITY_INFO, "INFO", V_str("charging"), g_amount, 1, NULL, CTX_CHILD, 0, 0);
        emit(b, w, NULL);
        otel_span_end(charge);
        /* an explicit context wins over the active span */
        w = want(0, OTEL_SEVERITY_DEBUG, "DEBUG", V_str("explicit"), NULL, 0, NULL, CTX_EXPLICIT, 0, 0);
        emit(a, w, NULL);
        otel_span_end(checkout);
    } else {
        w = want(1, OTEL_SEVERITY_INFO, "INFO", V_str("charging"), g_amount, 1, NULL, CTX_NONE, 0, 0);
        emit(b, w, NULL);
        w = want(0, OTEL_SEVERITY_DEBUG, "DEBUG", V_str("explicit"), NULL, 0, NULL, CTX_EXPLICIT, 0, 0);
        emit(a, w, NULL);
    }
    /* after the spans: no context again */
    w = want(0, OTEL_SEVERITY_WARN, "WARN", V_str("done"), NULL, 0, NULL, CTX_NONE, 1, 0);
    w->t0 = wall_ns();
    otel_logger_warn(a, NULL, 0, "done");
    w->t1 = wall_ns();
}

/* ---- checking the decoded records ----------------------------------------------------------- */

typedef struct flat_rec {
    const pnode *res, *scope, *rec;
} flat_rec;

static size_t flatten(pnode **roots, size_t nroots, flat_rec *out, size_t cap) {
    size_t n = 0, r, i, j, k;
    for (r = 0; r < nroots; r++) {
        const pnode *rl, *sl, *lr;
        for (i = 0; (rl = pn_kid(roots[r], "resource_logs", i)) != NULL; i++)
            for (j = 0; (sl = pn_kid(rl, "scope_logs", j)) != NULL; j++)
                for (k = 0; (lr = pn_kid(sl, "log_records", k)) != NULL; k++)
                    if (n < cap) {
                        out[n].res = pn_kid(rl, "resource", 0);
                        out[n].scope = pn_kid(sl, "scope", 0);
                        out[n].rec = lr;
                        n++;
                    }
    }
    return n;
}

static void hex(const uint8_t *p, size_t n, char *out) {
    size_t i;
    for (i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

static void check_resource(const pnode *res) {
    CHECK(pn_attr(res, "service.name") && pn_is(pn_attr(res, "service.name"), "string_value", "e2e-logs"));
    CHECK(pn_attr(res, "deployment.environment") && pn_is(pn_attr(res, "deployment.environment"), "string_value", "test"));
    CHECK(pn_attr(res, "telemetry.sdk.language") && pn_is(pn_attr(res, "telemetry.sdk.language"), "string_value", "c"));
    CHECK(!pn_has(res, "dropped_attributes_count"));
}

/* Every field of one record against what was emitted. */
static void check_record(const flat_rec *f, const want_rec *w, size_t idx) {
    const pnode *r = f->rec;
    sink_buf want_t = {NULL, 0, 0, false}, got_t = {NULL, 0, 0, false};
    char name[40], got_hex[80], want_hex[80];
    const char *ev;
    size_t i;
    uint64_t obs, tm;
    static const char *const fields[] = {"time_unix_nano", "observed_time_unix_nano", "severity_number",
                                         "severity_text", "body", "attributes", "flags", "trace_id", "span_id", "12",
                                         "event_name"};
    check_resource(f->res);
    /* scope */
    if (w->logger == 0) CHECK(pn_is(f->scope, "name", "e2e.logger") && pn_is(f->scope, "version", "2.0"));
    else CHECK(pn_is(f->scope, "name", "e2e.other") && !pn_has(f->scope, "version"));
    /* severity */
    snprintf(name, sizeof name, "SEVERITY_NUMBER_%s", SEV[w->sev]);
    CHECK(pn_is(r, "severity_number", name));
    CHECK(pn_is(r, "severity_text", w->text));
    /* times */
    obs = pn_u64(r, "observed_time_unix_nano");
    tm = pn_u64(r, "time_unix_nano");
    if (w->observed_ns) CHECK(obs == w->observed_ns);
    else CHECK(obs >= w->t0 && obs <= w->t1);
    if (w->time_ns == 1) CHECK(tm == obs); /* printf-style: both the time of the call */
    else if (w->time_ns) CHECK(tm == w->time_ns);
    else CHECK(!pn_has(r, "time_unix_nano"));
    /* body: exactly the value emitted */
    if (w->body.type == OTEL_VALUE_NONE) {
        CHECK(!pn_has(r, "body"));
    } else {
        proto_value(&want_t, &w->body);
        pn_dump(&got_t, pn_kid(r, "body", 0));
        CHECK(want_t.p && got_t.p && same_lines(want_t.p, got_t.p));
    }
    /* attributes: all of them, in order, every type */
    want_t.len = got_t.len = 0;
    for (i = 0; i < w->attr_count; i++) proto_attr(&want_t, "attributes", &w->attrs[i]);
    pn_dump_all(&got_t, r, "attributes");
    CHECK(same_lines(want_t.p ? want_t.p : "", got_t.p ? got_t.p : ""));
    CHECK(!pn_has(r, "dropped_attributes_count"));
    /* trace correlation */
    switch (w->ctx) {
    case CTX_NONE:
        CHECK(!pn_has(r, "trace_id") && !pn_has(r, "span_id") && !pn_has(r, "flags"));
        break;
    case CTX_SPAN:
    case CTX_CHILD:
        hex(g_span_tid, 16, want_hex);
        CHECK(!strcmp(pn_hex(r, "trace_id", got_hex), want_hex));
        hex(w->ctx == CTX_SPAN ? g_span_sid : g_child_sid, 8, want_hex);
        CHECK(!strcmp(pn_hex(r, "span_id", got_hex), want_hex));
        CHECK(pn_int(r, "flags") == 1); /* sampled */
        break;
    case CTX_EXPLICIT:
        hex(g_explicit.trace_id, 16, want_hex);
        CHECK(!strcmp(pn_hex(r, "trace_id", got_hex), want_hex));
        hex(g_explicit.span_id, 8, want_hex);
        CHECK(!strcmp(pn_hex(r, "span_id", got_hex), want_hex));
        CHECK(!pn_has(r, "flags"));
        break;
    }
    /* event_name: field 12, which the 0.38 protos print by number */
    ev = pn_str(r, "event_name") ? pn_str(r, "event_name") : pn_str(r, "12");
    if (w->event) CHECK(ev && !strcmp(ev, w->event));
    else CHECK(ev == NULL && !pn_has(r, "12"));
    /* nothing else */
    for (i = 0; i < r->nkids; i++) {
        size_t k;
        bool known = false;
        for (k = 0; k < sizeof fields / sizeof fields[0]; k++) known |= !strcmp(r->kids[i]->key, fields[k]);
        if (!known) fprintf(stderr, "  record %zu: unexpected field %s\n", idx, r->kids[i]->key);
        CHECK(known);
    }
    sink_buf_free(&want_t);
    sink_buf_free(&got_t);
}

/* The records of all decoded requests against g_want: per scope in emission order. */
static void check_all(pnode **roots, size_t nroots) {
    flat_rec f[64];
    size_t n = flatten(roots, nroots, f, 64), i, k, seen[2] = {0, 0};
    CHECK(n == g_nwant);
    for (i = 0; i < g_nwant; i++) {
        const want_rec *w = &g_want[i];
        const char *scope = w->logger == 0 ? "e2e.logger" : "e2e.other";
        size_t nth = seen[w->logger]++, m = 0;
        const flat_rec *hit = NULL;
        for (k = 0; k < n && !hit; k++) {
            const char *sn = pn_str(f[k].scope, "name");
            if (sn && !strcmp(sn, scope) && m++ == nth) hit = &f[k];
        }
        if (!hit) {
            fprintf(stderr, "  record %zu (scope %s) missing\n", i, scope);
            CHECK(hit != NULL);
            continue;
        }
        check_record(hit, w, i);
    }
}

/* ---- requests --------------------------------------------------------------------------- */

static void tmp_path(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", g_tmp, name);
    unlink(out);
}

/* Decodes every protobuf request with `path` among requests [from, to); the texts are
   appended to `save`. Returns the number of roots. */
static size_t decode_all(const char *path, int from, int to, const char *save, pnode **roots, size_t cap) {
    size_t n = 0;
    int i;
    for (i = from; i < to && i < TS_MAX_REQ; i++) {
        const ts_request *r = ts_req(&g_srv, i);
        bool skip = false;
        char *text;
        if (strcmp(r->path, path)) continue;
        CHECK(strcasestr(r->head, "\r\ncontent-type: application/x-protobuf\r\n") != NULL);
        text = protoc_decode_as(r->body, r->body_len, LREQ, LPROTO, &skip);
        if (skip) { g_skip_protoc = true; return n; }
        CHECK(text != NULL);
        if (!text) continue;
        CHECK(append_file(save, text, strlen(text)));
        if (n < cap) {
            roots[n] = pn_parse(text);
            CHECK(roots[n] != NULL);
            if (roots[n]) n++;
        }
        free(text);
    }
    return n;
}
static int save_json_all(const char *path, int from, int to, const char *save) {
    int i, n = 0;
    for (i = from; i < to && i < TS_MAX_REQ; i++) {
        const ts_request *r = ts_req(&g_srv, i);
        if (strcmp(r->path, path)) continue;
        CHECK(strcasestr(r->head, "\r\ncontent-type: application/json\r\n") != NULL);
        CHECK(append_file(save, r->body, r->body_len) && append_file(save, "\n", 1));
        n++;
    }
    return n;
}
static void compare(const char *what, const char *proto, const char *json, const char *extra) {
    int rc;
    if (g_skip_protoc) return;
    rc = e2e_compare("logs", proto, json, extra);
    if (rc == -2) {
        printf("SKIPPED: %s compared with protobuf (python3 not installed)\n", what);
        return;
    }
    if (rc != 0) fprintf(stderr, "  %s: differs from the protobuf records (files %s, %s)\n", what, proto, json);
    CHECK(rc == 0);
}
static bool otlp_logs(const char *path, otel_otlp_protocol proto, otel_exporter *out) {
    char url[200];
    otel_otlp_desc d;
    memset(&d, 0, sizeof d);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_srv.port, path);
    d.signal = OTEL_SIGNAL_LOGS;
    d.logs_endpoint = url;
    d.protocol = proto;
    d.timeout_ms = 5000;
    return otel_otlp_exporter_create(&d, out) == OTEL_OK;
}

static otel_attr g_res[1];
static void base_desc(otel_desc *d) {
    memset(d, 0, sizeof *d);
    g_res[0] = otel_attr_str("deployment.environment", "test");
    d->service_name = "e2e-logs";
    d->resource_attrs = g_res;
    d->resource_attr_count = 1;
    d->default_exporters = "none";
    d->default_metrics_exporters = "none";
}

/* ---- 1. code config: protobuf, http/json and the file exporter get the same records ------- */

static void test_code_config(void) {
    otel_desc desc;
    otel_exporter mem, pb, js, file;
    otel_file_desc fd;
    char file_path[300], pt[300], jt[300];
    pnode *roots[16];
    size_t nroots, i;
    int n0 = ts_requests(&g_srv), n;
    base_desc(&desc);
    tmp_path(file_path, sizeof file_path, "logs.jsonl");
    tmp_path(pt, sizeof pt, "logs.txt");
    tmp_path(jt, sizeof jt, "logs-http.jsonl");
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    CHECK(otlp_logs("/logs/v1/logs", OTEL_OTLP_PROTOCOL_HTTP_PROTOBUF, &pb));
    CHECK(otlp_logs("/logsjson/v1/logs", OTEL_OTLP_PROTOCOL_HTTP_JSON, &js));
    memset(&fd, 0, sizeof fd);
    fd.path = file_path;
    CHECK(otel_file_exporter_create(&fd, &file) == OTEL_OK);
    CHECK(file.export_logs != NULL);
    desc.destinations[0].exporter = mem;
    desc.log_destinations[0].exporter = pb;
    desc.log_destinations[1].exporter = js;
    desc.log_destinations[2].exporter = file;
    CHECK(otel_init(&desc) == OTEL_OK);
    {
        otel_logger *a = otel_logger_get("e2e.logger", "2.0"), *b = otel_logger_get("e2e.other", NULL);
        CHECK(a && b && a != b);
        emit_all(a, b, true);
    }
    CHECK(otel_force_flush(10000) == OTEL_OK);
    {
        otel_stats st;
        CHECK(otel_stats_get(&st) == OTEL_OK);
        CHECK(st.logs_emitted == g_nwant && st.logs_dropped == 0 && st.logs_truncated == 0 && st.log_attrs_dropped == 0);
        CHECK(st.log_destination_count == 3);
        for (i = 0; i < 3; i++) CHECK(st.log_destinations[i].exported == g_nwant && st.log_destinations[i].failed == 0);
    }
    CHECK(otel_shutdown(10000) == OTEL_OK);
    /* the spans, for the ids the records must carry */
    CHECK(otel_memory_exporter_count(&mem) == 2);
    for (i = 0; i < otel_memory_exporter_count(&mem); i++) {
        const otel_span_data *s = otel_memory_exporter_span(&mem, i);
        if (s->name.len == 8 && !memcmp(s->name.ptr, "checkout", 8)) {
            memcpy(g_span_tid, s->trace_id, 16);
            memcpy(g_span_sid, s->span_id, 8);
        } else {
            memcpy(g_child_sid, s->span_id, 8);
            CHECK(s->has_parent);
        }
    }
    otel_memory_exporter_destroy(&mem);

    n = ts_requests(&g_srv);
    CHECK(n > n0);
    nroots = decode_all("/logs/v1/logs", n0, n, pt, roots, 16);
    if (g_skip_protoc) {
        printf("SKIPPED: test_e2e_logs protoc decode (protoc or the protos not available)\n");
        for (i = 0; i < nroots; i++) pn_free(roots[i]);
        return;
    }
    CHECK(nroots >= 1);
    check_all(roots, nroots);
    for (i = 0; i < nroots; i++) pn_free(roots[i]);
    /* OTLP/JSON over HTTP and the file's lines: the same records, field by field */
    CHECK(save_json_all("/logsjson/v1/logs", n0, n, jt) >= 1);
    compare("OTLP/JSON over HTTP", pt, jt, "--sort --min-items 17");
    compare("the file exporter's lines", pt, file_path, "--sort --min-items 17");
}

/* ---- 2. env config ---------------------------------------------------------------------- */

/* OTEL_LOGS_EXPORTER=otlp; the records go out by the schedule (100 ms), no flush, in
   batches of at most 5 (OTEL_BLRP_MAX_EXPORT_BATCH_SIZE). */
static void env_run(const char *protocol, const char *path, const char *save) {
    otel_desc desc;
    char url[200];
    int n0 = ts_requests(&g_srv), n;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_srv.port, path);
    setenv("OTEL_LOGS_EXPORTER", "otlp", 1);
    setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", protocol, 1);
    setenv("OTEL_BLRP_SCHEDULE_DELAY", "100", 1);
    setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "5", 1); /* several requests */
    base_desc(&desc);
    desc.default_logs_exporters = "console"; /* the variable wins */
    CHECK(otel_init(&desc) == OTEL_OK);
    emit_all(otel_logger_get("e2e.logger", "2.0"), otel_logger_get("e2e.other", NULL), false);
    CHECK(ts_wait(&g_srv, n0 + 1, 10000)); /* by the schedule */
    {   /* every record arrives without a flush */
        otel_stats st;
        int64_t end = ts_ms() + 10000;
        while (otel_stats_get(&st) == OTEL_OK && st.log_destination_count == 1 &&
               st.log_destinations[0].exported < g_nwant && ts_ms() < end) {
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
        }
        CHECK(st.log_destination_count == 1 && st.log_destinations[0].exported == g_nwant);
    }
    CHECK(otel_shutdown(10000) == OTEL_OK);
    unsetenv("OTEL_LOGS_EXPORTER");
    unsetenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL");
    unsetenv("OTEL_BLRP_SCHEDULE_DELAY");
    unsetenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE");
    n = ts_requests(&g_srv);
    CHECK(n - n0 >= (int)(g_nwant + 4) / 5);
    if (!strcmp(protocol, "http/json")) {
        CHECK(save_json_all(path, n0, n, save) >= 1);
    } else {
        pnode *roots[16];
        size_t nroots = decode_all(path, n0, n, save, roots, 16), i;
        if (g_skip_protoc) return;
        check_all(roots, nroots);
        for (i = 0; i < nroots; i++) pn_free(roots[i]);
    }
}

static void test_env(void) {
    char pt[300], jt[300];
    tmp_path(pt, sizeof pt, "env.txt");
    tmp_path(jt, sizeof jt, "env.jsonl");
    env_run("http/protobuf", "/env/v1/logs", pt);
    env_run("http/json", "/envjson/v1/logs", jt);
    compare("env http/json", pt, jt, "--ignore-times --sort --min-items 15");
}

int main(void) {
    char cmd[300];
    const char *tmp = getenv("TEST_TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/otel-e2e-logs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_tmp)) { perror("mkdtemp"); return 1; }
    if (!ts_start(&g_srv, true, 120000)) { perror("test server"); return 1; }
    init_data();
    test_code_config();
    test_env();
    ts_stop(&g_srv);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (!getenv("E2E_KEEP")) (void)run(cmd); /* E2E_KEEP=1: keep the requests for a look */
    return TEST_DONE();
}
