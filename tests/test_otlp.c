/* test_otlp.c - otel_otlp.h's encoder and gzip.
   - protobuf writer vectors: every 7-bit varint boundary, zigzag, fixed32/64, the 2-byte
     tag of Span.flags (16), sizes == bytes written;
   - exact bytes of two small requests, worked out by hand below, and of lengths whose
     varint is wider or narrower than the one-pass span encoder guessed;
   - a batch with every span field and every attribute type, recorded through otel.h:
     protoc --decode with the official protos (tests/otlp_protos.sh fetches them into a
     cache) must print exactly what the span data says, and tools/otlp_sink's decoder must
     print the same values as JSON;
   - gzip: python3's zlib/gzip and gunzip restore exactly the input; the ratio on a typical
     512-span batch is printed.                                                           */
#define _GNU_SOURCE 1
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"
#define OTLP_SINK_NO_MAIN
#include "../tools/otlp_sink.c"
#include "test.h"

#include <sys/stat.h>
#include <sys/wait.h>

static char g_tmp[256]; /* a private temporary directory */

/* ---- helpers ------------------------------------------------------------------------ */

static size_t unhex(const char *hex, uint8_t *out) {
    size_t n = 0;
    while (hex[0] && hex[1]) {
        if (hex[0] == ' ') { hex++; continue; }
        out[n++] = (uint8_t)(otel__hexval(hex[0]) * 16 + otel__hexval(hex[1]));
        hex += 2;
    }
    return n;
}
static bool bytes_eq_hex(const uint8_t *p, size_t n, const char *hex) {
    uint8_t want[512];
    size_t wn = unhex(hex, want);
    if (wn != n || memcmp(p, want, n) != 0) {
        size_t i;
        fprintf(stderr, "  want %s\n  got  ", hex);
        for (i = 0; i < n; i++) fprintf(stderr, "%02x", p[i]);
        fprintf(stderr, "\n");
        return false;
    }
    return true;
}
static bool write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(p, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = false;
    return ok;
}
static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long len;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (char *)malloc((size_t)len + 1);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) { free(p); p = NULL; }
    if (p) p[len] = 0;
    if (n) *n = (size_t)len;
    fclose(f);
    return p;
}
/* Runs a shell command; its exit status. */
static int run(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
static bool have(const char *tool) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return run(cmd) == 0;
}

/* ---- [wire] ----------------------------------------------------------------------------- */

static void test_wire(void) {
    static const struct { uint64_t v; const char *hex; } vec[] = {
        {0, "00"}, {1, "01"}, {127, "7f"}, {128, "8001"}, {300, "ac02"},
        {16383, "ff7f"}, {16384, "808001"},
        {2097151, "ffff7f"}, {2097152, "80808001"},
        {268435455, "ffffff7f"}, {268435456, "8080808001"},
        {34359738367ull, "ffffffff7f"}, {34359738368ull, "808080808001"},
        {4398046511103ull, "ffffffffff7f"}, {4398046511104ull, "80808080808001"},
        {562949953421311ull, "ffffffffffff7f"}, {562949953421312ull, "8080808080808001"},
        {72057594037927935ull, "ffffffffffffff7f"}, {72057594037927936ull, "808080808080808001"},
        {9223372036854775807ull, "ffffffffffffffff7f"}, {9223372036854775808ull, "80808080808080808001"},
        {UINT64_MAX, "ffffffffffffffffff01"},
        {(uint64_t)(int64_t)-5, "fbffffffffffffffff01"}, /* a negative int64 takes 10 bytes */
    };
    static const struct { int64_t v; uint64_t z; } zz[] = {
        {0, 0}, {-1, 1}, {1, 2}, {-2, 3}, {2147483647, 4294967294u}, {-2147483647 - 1, 4294967295u},
        {INT64_MAX, UINT64_MAX - 1}, {INT64_MIN, UINT64_MAX},
    };
    uint8_t buf[64];
    otel__pb b;
    size_t i;
    for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        b.p = buf; b.end = buf + sizeof buf; b.overflow = false;
        otel__pb_varint(&b, vec[i].v);
        CHECK(bytes_eq_hex(buf, (size_t)(b.p - buf), vec[i].hex));
        CHECK(otel__pb_varint_size(vec[i].v) == (size_t)(b.p - buf));
    }
    for (i = 0; i < sizeof zz / sizeof zz[0]; i++) CHECK(otel__pb_zigzag64(zz[i].v) == zz[i].z);
    b.p = buf; b.end = buf + sizeof buf; b.overflow = false;
    otel__pb_fixed64(&b, 0x0102030405060708ull);
    otel__pb_fixed32(&b, 0x301);
    CHECK(bytes_eq_hex(buf, (size_t)(b.p - buf), "0807060504030201 01030000"));
    b.p = buf; b.overflow = false;
    otel__pb_field_fixed32(&b, OTEL__PB_SPAN_FLAGS, 0x101); /* field 16: tag 0x85 0x01 */
    CHECK(bytes_eq_hex(buf, (size_t)(b.p - buf), "8501 01010000"));
    CHECK(otel__pb_tag_size(OTEL__PB_SPAN_FLAGS) == 2 && otel__pb_tag_size(OTEL__PB_SPAN_STATUS) == 1);
    b.p = buf; b.overflow = false;
    otel__pb_field_double(&b, OTEL__PB_ANY_DOUBLE, 0.75);
    otel__pb_field_varint(&b, OTEL__PB_ANY_INT, (uint64_t)(int64_t)-1);
    otel__pb_field_bytes(&b, OTEL__PB_SPAN_STATUS, "ab", 2);
    CHECK(bytes_eq_hex(buf, (size_t)(b.p - buf), "21000000000000e83f 18ffffffffffffffffff01 7a026162"));
    CHECK(otel__pb_len_field_size(OTEL__PB_SPAN_STATUS, 2) == 4);
    CHECK(otel__pb_len_field_size(1, 128) == 1 + 2 + 128);
    /* the sticky overflow flag */
    b.p = buf; b.end = buf + 3; b.overflow = false;
    otel__pb_varint(&b, 300);
    CHECK(!b.overflow);
    otel__pb_varint(&b, 300);
    CHECK(b.overflow);
}

/* ---- exact bytes of small requests --------------------------------------------------- */

static otel_span_data make_plain_span(void) {
    otel_span_data s;
    int i;
    memset(&s, 0, sizeof s);
    for (i = 0; i < 16; i++) s.trace_id[i] = (uint8_t)(i + 1);
    for (i = 0; i < 8; i++) s.span_id[i] = (uint8_t)(0x11 + i);
    s.trace_flags = 1;
    s.kind = OTEL_SPAN_KIND_SERVER;
    s.start_time_ns = 1000;
    s.end_time_ns = 2000;
    s.name.ptr = "s";
    s.name.len = 1;
    return s;
}

static const char least_span_hex[] =
    "0a3d"                                   /* resource_spans, 61 bytes */
    "123b"                                   /*  scope_spans, 59 */
    "1239"                                   /*   spans, 57 */
    "0a10 0102030405060708090a0b0c0d0e0f10"  /*    trace_id */
    "1208 1112131415161718"                  /*    span_id */
    "2a01 73"                                /*    name "s" */
    "3002"                                   /*    kind SERVER */
    "39 e803000000000000"                    /*    start 1000 (fixed64) */
    "41 d007000000000000"                    /*    end 2000 */
    "8501 01010000";                         /*    flags 0x101: sampled, parent not remote */

static void test_small_requests(void) {
    otel_otlp_encoder *e = otel_otlp_encoder_create();
    otel_span_data s = make_plain_span(), t;
    const otel_span_data *sp[2];
    otel_span_batch batch;
    otel_scope scope;
    otel_resource res;
    const uint8_t *out;
    size_t len;
    int i;
    static char big[20000];
    memset(&batch, 0, sizeof batch);
    sp[0] = &s;
    batch.spans = sp;
    batch.count = 1;
    /* 1. the least span: ids, name, kind, times, flags; no scope, no resource */
    CHECK(otel_otlp_encode_spans(e, &batch, &out, &len) == OTEL_OK);
    CHECK(bytes_eq_hex(out, len, least_span_hex));
    /* 2. + trace_state, parent, dropped counts, status, remote parent, scope, resource.dropped */
    t = s;
    t.trace_state.ptr = "a=b"; t.trace_state.len = 3;
    t.has_parent = true;
    t.parent_is_remote = true;
    for (i = 0; i < 8; i++) t.parent_span_id[i] = (uint8_t)(0x21 + i);
    t.kind = OTEL_SPAN_KIND_CLIENT;
    t.dropped_attrs = 1; t.dropped_events = 2; t.dropped_links = 3;
    t.status_code = OTEL_STATUS_ERROR;
    t.status_message.ptr = "x"; t.status_message.len = 1;
    scope.name.ptr = "s"; scope.name.len = 1; scope.version.ptr = "1"; scope.version.len = 1;
    t.scope = &scope;
    memset(&res, 0, sizeof res);
    res.dropped = 7;
    sp[0] = &t;
    batch.resource = &res;
    CHECK(otel_otlp_encode_spans(e, &batch, &out, &len) == OTEL_OK);
    CHECK(len == 103);
    CHECK(bytes_eq_hex(out, len,
                       "0a65"                                   /* resource_spans, 101 */
                       "0a02 1007"                              /*  resource{dropped_attributes_count 7} */
                       "125f"                                   /*  scope_spans, 95 */
                       "0a06 0a0173 120131"                     /*   scope{name "s", version "1"} */
                       "1255"                                   /*   spans, 85 */
                       "0a10 0102030405060708090a0b0c0d0e0f10"
                       "1208 1112131415161718"
                       "1a03 613d62"                            /*    trace_state "a=b" */
                       "2208 2122232425262728"                  /*    parent_span_id */
                       "2a01 73"
                       "3003"                                   /*    kind CLIENT */
                       "39 e803000000000000"
                       "41 d007000000000000"
                       "5001 6002 7003"                         /*    dropped attrs/events/links (10, 12, 14) */
                       "7a05 120178 1802"                       /*    status{message "x", code ERROR} */
                       "8501 01030000"));                       /*    flags 0x301: sampled, parent remote */
    /* 3. status UNSET without message is left out; OK alone is written */
    t.status_code = OTEL_STATUS_UNSET; t.status_message.len = 0;
    CHECK(otel_otlp_encode_spans(e, &batch, &out, &len) == OTEL_OK && len == 103 - 7);
    t.status_code = OTEL_STATUS_OK;
    CHECK(otel_otlp_encode_spans(e, &batch, &out, &len) == OTEL_OK && len == 103 - 7 + 4);
    /* 4. empty batch: an empty ResourceSpans (the exporter never sends one) */
    batch.count = 0;
    batch.resource = NULL;
    CHECK(otel_otlp_encode_spans(e, &batch, &out, &len) == OTEL_OK && bytes_eq_hex(out, len, "0a00"));
    CHECK(otel_otlp_encode_spans(e, NULL, &out, &len) == OTEL_ERR_INVALID_ARG);
    /* 5. spans are written in one pass with each length's varint width guessed from the
          last batch (otel__pb_open): wider and narrower than guessed must give the same
          bytes. A span over 16 KiB (3-byte lengths where 2 were guessed), then the least
          span again (1-byte lengths where 3 are now guessed), then the big one twice. */
    memset(big, 'n', sizeof big);
    t = make_plain_span();
    t.name.ptr = big;
    t.name.len = sizeof big;
    sp[0] = &t;
    batch.count = 1;
    CHECK(otel_otlp_encode_spans(e, &batch, &out, &len) == OTEL_OK);
    /* span: 18 + 10 + (1 + 3 + 20000) + 2 + 9 + 9 + 6 = 20058, then 3 more bytes a level */
    CHECK(len == 20070 && bytes_eq_hex(out, 14, "0a e29c01 12 de9c01 12 da9c01 0a10"));
    CHECK(len == 20070 && out[len - 6] == 0x85 && out[len - 1] == 0);
    sp[0] = &s;
    CHECK(otel_otlp_encode_spans(e, &batch, &out, &len) == OTEL_OK && bytes_eq_hex(out, len, least_span_hex));
    sp[0] = &t;
    sp[1] = &t;
    batch.count = 2;
    CHECK(otel_otlp_encode_spans(e, &batch, &out, &len) == OTEL_OK && len == 2 * 20062 + 8);
    CHECK(bytes_eq_hex(out, 14, "0a c0b902 12 bcb902 12 da9c01 0a10"));
    otel_otlp_encoder_destroy(e);
}

/* ---- a full batch through otel.h --------------------------------------------------------- */

#define T0 1700000000000000000ull

typedef struct recorded {
    otel_exporter mem;
    const otel_span_data *spans[1024];
    size_t count;
    otel_span_batch batch;
} recorded;

static void record_full_batch(recorded *r) {
    otel_desc d;
    otel_span_context remote, lctx;
    otel_span_desc sd;
    otel_tracer *ta;
    otel_span *root, *child, *third;
    otel_link links[2];
    otel_attr res_attrs[1], ev_attrs[2], link_attrs[1];
    static const char *const tags[] = {"a", "b c"};
    static const bool bools[] = {true, false};
    static const int64_t ints[] = {1, -2, 3000000000ll};
    static const double dbls[] = {0.5, -1.25};
    otel_attr a;
    size_t i;
    memset(r, 0, sizeof *r);
    CHECK(otel_memory_exporter_create(0, &r->mem) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.service_name = "otlp-test";
    res_attrs[0] = otel_attr_int("deployment.n", 7);
    d.resource_attrs = res_attrs;
    d.resource_attr_count = 1;
    d.destinations[0].exporter = r->mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.lock_destinations = true;
    d.limits.attr_count = 12;
    d.limits.event_count = 2;
    d.limits.link_count = 1;
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_context_extract("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "k1=v1,k2=v2", &remote) == OTEL_OK);
    CHECK(otel_context_extract("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "lk=lv", &lctx) == OTEL_OK);
    ta = otel_tracer_get("lib.a", "1.2.3");
    memset(&sd, 0, sizeof sd);
    sd.remote_parent = &remote;
    sd.kind = OTEL_SPAN_KIND_SERVER;
    sd.start_time_ns = T0;
    sd.tracer = ta;
    root = otel_span_start("root-op", &sd);
    memset(&sd, 0, sizeof sd);
    sd.kind = OTEL_SPAN_KIND_CLIENT;
    sd.start_time_ns = T0 + 10;
    child = otel_span_start("child-operation", &sd);
    otel_span_set_str(child, "http.request.method", "GET");
    otel_span_set_int(child, "http.response.status_code", 200);
    otel_span_set_double(child, "app.ratio", 0.75);
    otel_span_set_bool(child, "ok", true);
    otel_span_set_int(child, "neg", -5);
    a = otel_attr_str_array("tags", tags, 2); otel_span_set_attr(child, &a);
    a = otel_attr_bool_array("bools", bools, 2); otel_span_set_attr(child, &a);
    a = otel_attr_int_array("ints", ints, 3); otel_span_set_attr(child, &a);
    a = otel_attr_double_array("dbls", dbls, 2); otel_span_set_attr(child, &a);
    otel_span_set_str(child, "empty", "");
    otel_span_set_str(child, "quote", "say \"hi\"\n\\");
    otel_span_set_int(child, "x12", 12);
    otel_span_set_int(child, "x13", 13); /* over the limit of 12: dropped */
    otel_span_set_int(child, "x14", 14);
    ev_attrs[0] = otel_attr_str("k", "v");
    ev_attrs[1] = otel_attr_double("d", 1e300);
    otel_span_add_event_at(child, "ev1", T0 + 20, ev_attrs, 2);
    otel_span_add_event_at(child, "ev2", T0 + 21, NULL, 0);
    otel_span_add_event_at(child, "ev3", T0 + 22, NULL, 0); /* over the event limit */
    link_attrs[0] = otel_attr_int("link.n", 1);
    links[0].context = &lctx; links[0].attrs = link_attrs; links[0].attr_count = 1;
    links[1] = links[0];
    otel_span_add_link(child, &links[0]);
    otel_span_add_link(child, &links[1]); /* over the link limit */
    otel_span_set_status(child, OTEL_STATUS_ERROR, "boom");
    otel_span_end_at(child, T0 + 30);
    otel_span_set_status(root, OTEL_STATUS_OK, NULL);
    otel_span_end_at(root, T0 + 40);
    memset(&sd, 0, sizeof sd);
    sd.kind = OTEL_SPAN_KIND_PRODUCER;
    sd.root = true;
    sd.start_time_ns = T0 + 50;
    sd.tracer = ta;
    third = otel_span_start("third", &sd);
    otel_span_end_at(third, T0 + 60);
    CHECK(otel_shutdown(2000) == OTEL_OK);
    r->count = otel_memory_exporter_count(&r->mem);
    CHECK(r->count == 3);
    for (i = 0; i < r->count && i < 1024; i++) r->spans[i] = otel_memory_exporter_span(&r->mem, i);
    r->batch.spans = r->spans;
    r->batch.count = r->count;
    r->batch.resource = otel_memory_exporter_resource(&r->mem);
    /* the data must hold what we recorded, or the comparisons below prove little */
    if (r->count == 3) {
        const otel_span_data *c = r->spans[0];
        CHECK(c->name.len == 15 && !memcmp(c->name.ptr, "child-operation", 15));
        CHECK(c->attr_count == 12 && c->dropped_attrs == 2);
        CHECK(c->event_count == 2 && c->dropped_events == 1);
        CHECK(c->link_count == 1 && c->dropped_links == 1);
        CHECK(r->spans[1]->parent_is_remote && r->spans[1]->trace_state.len == 11);
        CHECK(!otel__otlp_scope_same(c->scope, r->spans[1]->scope) && otel__otlp_scope_same(r->spans[1]->scope, r->spans[2]->scope));
    }
}

/* protobuf's CEscape, as protoc prints bytes and strings */
static void cesc(sink_buf *b, const void *p, size_t n) {
    const uint8_t *s = (const uint8_t *)p;
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '\n') sink_buf_str(b, "\\n");
        else if (c == '\r') sink_buf_str(b, "\\r");
        else if (c == '\t') sink_buf_str(b, "\\t");
        else if (c == '"') sink_buf_str(b, "\\\"");
        else if (c == '\'') sink_buf_str(b, "\\'");
        else if (c == '\\') sink_buf_str(b, "\\\\");
        else if (c >= 0x20 && c < 0x7f) sink_buf_add(b, &c, 1);
        else sink_buf_fmt(b, "\\%03o", c);
    }
}
static void line(sink_buf *b, const char *s) { sink_buf_str(b, s); sink_buf_str(b, "\n"); }
static void line_str(sink_buf *b, const char *field, const void *p, size_t n) {
    sink_buf_fmt(b, "%s: \"", field);
    cesc(b, p, n);
    sink_buf_str(b, "\"\n");
}
/* protoc prints doubles with the shortest text that reads back (SimpleDtoa) */
static void dtoa_short(char *out, size_t cap, double d) {
    int prec;
    for (prec = 6; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d) return;
    }
}

static void proto_value(sink_buf *b, const otel_value *v) {
    size_t i;
    char d[40];
    switch (v->type) {
    case OTEL_VALUE_STRING: line_str(b, "string_value", v->u.s, v->len); break;
    case OTEL_VALUE_BOOL: line(b, v->u.b ? "bool_value: true" : "bool_value: false"); break;
    case OTEL_VALUE_INT: sink_buf_fmt(b, "int_value: %lld\n", (long long)v->u.i); break;
    case OTEL_VALUE_DOUBLE: dtoa_short(d, sizeof d, v->u.d); sink_buf_fmt(b, "double_value: %s\n", d); break;
    case OTEL_VALUE_NONE: break;
    default:
        line(b, "array_value {");
        for (i = 0; i < v->len; i++) {
            line(b, "values {");
            if (v->type == OTEL_VALUE_STRING_ARRAY) {
                otel_str s = otel_value_str_at(v, i);
                line_str(b, "string_value", s.ptr, s.len);
            } else if (v->type == OTEL_VALUE_BOOL_ARRAY) {
                line(b, otel__otlp_arr_bool(v, i) ? "bool_value: true" : "bool_value: false");
            } else if (v->type == OTEL_VALUE_INT_ARRAY) {
                sink_buf_fmt(b, "int_value: %lld\n", (long long)otel__otlp_arr_int(v, i));
            } else {
                dtoa_short(d, sizeof d, otel__otlp_arr_double(v, i));
                sink_buf_fmt(b, "double_value: %s\n", d);
            }
            line(b, "}");
        }
        line(b, "}");
    }
}
static void proto_attr(sink_buf *b, const char *field, const otel_attr *a) {
    sink_buf_fmt(b, "%s {\n", field);
    line_str(b, "key", a->key.ptr, a->key.len);
    line(b, "value {");
    proto_value(b, &a->value);
    line(b, "}");
    line(b, "}");
}
static void proto_attrs(sink_buf *b, otel_iter it) {
    otel_attr a;
    while (otel_iter_attr(&it, &a)) proto_attr(b, "attributes", &a);
}
static const char *const kind_names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                                         "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};
static const char *const code_names[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};

/* What protoc must print for one span, from the span data alone. */
static void proto_span(sink_buf *b, const otel_span_data *s) {
    otel_iter it;
    otel_event_data ev;
    otel_link_data l;
    line(b, "spans {");
    line_str(b, "trace_id", s->trace_id, 16);
    line_str(b, "span_id", s->span_id, 8);
    if (s->trace_state.len) line_str(b, "trace_state", s->trace_state.ptr, s->trace_state.len);
    if (s->has_parent) line_str(b, "parent_span_id", s->parent_span_id, 8);
    line_str(b, "name", s->name.ptr, s->name.len);
    sink_buf_fmt(b, "kind: %s\n", kind_names[s->kind]);
    sink_buf_fmt(b, "start_time_unix_nano: %llu\n", (unsigned long long)s->start_time_ns);
    sink_buf_fmt(b, "end_time_unix_nano: %llu\n", (unsigned long long)s->end_time_ns);
    proto_attrs(b, otel_span_attrs(s));
    if (s->dropped_attrs) sink_buf_fmt(b, "dropped_attributes_count: %u\n", s->dropped_attrs);
    it = otel_span_events(s);
    while (otel_iter_event(&it, &ev)) {
        line(b, "events {");
        sink_buf_fmt(b, "time_unix_nano: %llu\n", (unsigned long long)ev.time_ns);
        line_str(b, "name", ev.name.ptr, ev.name.len);
        proto_attrs(b, ev.attrs);
        if (ev.dropped_attrs) sink_buf_fmt(b, "dropped_attributes_count: %u\n", ev.dropped_attrs);
        line(b, "}");
    }
    if (s->dropped_events) sink_buf_fmt(b, "dropped_events_count: %u\n", s->dropped_events);
    it = otel_span_links(s);
    while (otel_iter_link(&it, &l)) {
        line(b, "links {");
        line_str(b, "trace_id", l.trace_id, 16);
        line_str(b, "span_id", l.span_id, 8);
        if (l.trace_state.len) line_str(b, "trace_state", l.trace_state.ptr, l.trace_state.len);
        proto_attrs(b, l.attrs);
        if (l.dropped_attrs) sink_buf_fmt(b, "dropped_attributes_count: %u\n", l.dropped_attrs);
        /* Link.flags (6) is newer than these protos: protoc shows it by number */
        sink_buf_fmt(b, "6: 0x%08x\n", l.trace_flags | 0x100u | (l.is_remote ? 0x200u : 0));
        line(b, "}");
    }
    if (s->dropped_links) sink_buf_fmt(b, "dropped_links_count: %u\n", s->dropped_links);
    if (s->status_code || s->status_message.len) {
        line(b, "status {");
        if (s->status_message.len) line_str(b, "message", s->status_message.ptr, s->status_message.len);
        if (s->status_code) sink_buf_fmt(b, "code: %s\n", code_names[s->status_code]);
        line(b, "}");
    }
    sink_buf_fmt(b, "16: 0x%08x\n", s->trace_flags | 0x100u | (s->parent_is_remote ? 0x200u : 0)); /* Span.flags */
    line(b, "}");
}
/* The whole request; spans grouped by scope in order of first appearance. */
static void proto_request(sink_buf *b, const otel_span_batch *batch) {
    const otel_scope *seen[64];
    size_t nseen = 0, i, j, k;
    line(b, "resource_spans {");
    if (batch->resource && (batch->resource->count || batch->resource->dropped)) {
        line(b, "resource {");
        for (i = 0; i < batch->resource->count; i++) proto_attr(b, "attributes", &batch->resource->attrs[i]);
        if (batch->resource->dropped) sink_buf_fmt(b, "dropped_attributes_count: %u\n", batch->resource->dropped);
        line(b, "}");
    }
    for (i = 0; i < batch->count; i++) {
        const otel_scope *sc = batch->spans[i]->scope;
        for (j = 0; j < nseen && !otel__otlp_scope_same(seen[j], sc); j++) {}
        if (j < nseen) continue;
        seen[nseen++] = sc;
        line(b, "scope_spans {");
        if (sc) {
            line(b, "scope {");
            if (sc->name.len) line_str(b, "name", sc->name.ptr, sc->name.len);
            if (sc->version.len) line_str(b, "version", sc->version.ptr, sc->version.len);
            line(b, "}");
        }
        for (k = i; k < batch->count; k++)
            if (otel__otlp_scope_same(batch->spans[k]->scope, sc)) proto_span(b, batch->spans[k]);
        line(b, "}");
    }
    line(b, "}");
}

/* Compares texts line by line, leading spaces ignored; reports the first difference. */
static bool same_lines(const char *want, const char *got) {
    int ln = 1;
    for (;;) {
        const char *we, *ge;
        while (*want == ' ') want++;
        while (*got == ' ') got++;
        if (!*want && !*got) return true;
        we = strchr(want, '\n');
        ge = strchr(got, '\n');
        if (!we) we = want + strlen(want);
        if (!ge) ge = got + strlen(got);
        if (we - want != ge - got || memcmp(want, got, (size_t)(we - want))) {
            fprintf(stderr, "  line %d differs:\n  want: %.*s\n  got:  %.*s\n", ln, (int)(we - want), want,
                    (int)(ge - got), got);
            return false;
        }
        want = *we ? we + 1 : we;
        got = *ge ? ge + 1 : ge;
        ln++;
    }
}

/* protoc --decode of `body` into a string; NULL and *skip when protoc/protos are missing. */
static char *protoc_decode(const uint8_t *body, size_t len, bool *skip) {
    static char protos[512];
    static int state; /* 0 unknown, 1 ok, 2 skipped */
    char cmd[2048], path[300], outp[300];
    char *text;
    *skip = false;
    if (state == 0) {
        char here[256], *slash;
        FILE *p;
        snprintf(here, sizeof here, "%s", __FILE__);
        slash = strrchr(here, '/');
        if (slash) *slash = 0; else strcpy(here, ".");
        snprintf(cmd, sizeof cmd, "sh '%s/otlp_protos.sh'", here);
        p = popen(cmd, "r");
        state = 2;
        if (p) {
            if (fgets(protos, sizeof protos, p)) {
                protos[strcspn(protos, "\n")] = 0;
                if (strncmp(protos, "SKIPPED", 7)) state = 1;
                else printf("%s\n", protos);
            }
            if (pclose(p) != 0) state = 2;
        }
    }
    if (state != 1) { *skip = true; return NULL; }
    snprintf(path, sizeof path, "%s/body.bin", g_tmp);
    snprintf(outp, sizeof outp, "%s/body.txt", g_tmp);
    if (!write_file(path, body, len)) return NULL;
    snprintf(cmd, sizeof cmd,
             "protoc -I'%s' --decode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest "
             "opentelemetry/proto/collector/trace/v1/trace_service.proto < '%s' > '%s'", protos, path, outp);
    if (run(cmd) != 0) return NULL;
    text = read_file(outp, NULL);
    return text;
}

/* ---- the sink's view: JSON lines ---------------------------------------------------------- */

static void json_str(sink_buf *b, const char *s, size_t n) { sink_json_str(b, (const uint8_t *)s, n); }
static void json_value(sink_buf *b, const otel_value *v) {
    size_t i;
    switch (v->type) {
    case OTEL_VALUE_STRING: json_str(b, v->u.s, v->len); break;
    case OTEL_VALUE_BOOL: sink_buf_str(b, v->u.b ? "true" : "false"); break;
    case OTEL_VALUE_INT: sink_buf_fmt(b, "%lld", (long long)v->u.i); break;
    case OTEL_VALUE_DOUBLE: sink_buf_fmt(b, "%.17g", v->u.d); break;
    case OTEL_VALUE_NONE: sink_buf_str(b, "null"); break;
    default:
        sink_buf_str(b, "[");
        for (i = 0; i < v->len; i++) {
            if (i) sink_buf_str(b, ",");
            if (v->type == OTEL_VALUE_STRING_ARRAY) {
                otel_str s = otel_value_str_at(v, i);
                json_str(b, s.ptr, s.len);
            } else if (v->type == OTEL_VALUE_BOOL_ARRAY) {
                sink_buf_str(b, otel__otlp_arr_bool(v, i) ? "true" : "false");
            } else if (v->type == OTEL_VALUE_INT_ARRAY) {
                sink_buf_fmt(b, "%lld", (long long)otel__otlp_arr_int(v, i));
            } else {
                sink_buf_fmt(b, "%.17g", otel__otlp_arr_double(v, i));
            }
        }
        sink_buf_str(b, "]");
    }
}
static void json_attrs(sink_buf *b, otel_iter it) {
    otel_attr a;
    int n = 0;
    sink_buf_str(b, "{");
    while (otel_iter_attr(&it, &a)) {
        if (n++) sink_buf_str(b, ",");
        json_str(b, a.key.ptr, a.key.len);
        sink_buf_str(b, ":");
        json_value(b, &a.value);
    }
    sink_buf_str(b, "}");
}
static void json_hex(sink_buf *b, const uint8_t *p, size_t n) { sink_json_hex(b, p, n); }

static void json_span(sink_buf *b, const otel_resource *res, const otel_span_data *s) {
    otel_iter it;
    otel_event_data ev;
    otel_link_data l;
    size_t i;
    int n = 0;
    sink_buf_str(b, "{\"resource\":{");
    for (i = 0; res && i < res->count; i++) {
        if (i) sink_buf_str(b, ",");
        json_str(b, res->attrs[i].key.ptr, res->attrs[i].key.len);
        sink_buf_str(b, ":");
        json_value(b, &res->attrs[i].value);
    }
    sink_buf_str(b, "},\"scope\":{\"name\":");
    json_str(b, s->scope ? s->scope->name.ptr : "", s->scope ? s->scope->name.len : 0);
    sink_buf_str(b, ",\"version\":");
    json_str(b, s->scope ? s->scope->version.ptr : "", s->scope ? s->scope->version.len : 0);
    sink_buf_str(b, ",\"attributes\":{}},\"traceId\":");
    json_hex(b, s->trace_id, 16);
    sink_buf_str(b, ",\"spanId\":");
    json_hex(b, s->span_id, 8);
    sink_buf_str(b, ",\"parentSpanId\":");
    json_hex(b, s->parent_span_id, s->has_parent ? 8 : 0);
    sink_buf_str(b, ",\"traceState\":");
    json_str(b, s->trace_state.ptr, s->trace_state.len);
    sink_buf_str(b, ",\"name\":");
    json_str(b, s->name.ptr, s->name.len);
    sink_buf_fmt(b, ",\"kind\":%u,\"startTimeUnixNano\":\"%llu\",\"endTimeUnixNano\":\"%llu\",\"flags\":%u,\"attributes\":",
                 s->kind, (unsigned long long)s->start_time_ns, (unsigned long long)s->end_time_ns,
                 s->trace_flags | 0x100u | (s->parent_is_remote ? 0x200u : 0));
    json_attrs(b, otel_span_attrs(s));
    sink_buf_fmt(b, ",\"droppedAttributesCount\":%u,\"events\":[", s->dropped_attrs);
    it = otel_span_events(s);
    while (otel_iter_event(&it, &ev)) {
        if (n++) sink_buf_str(b, ",");
        sink_buf_fmt(b, "{\"timeUnixNano\":\"%llu\",\"name\":", (unsigned long long)ev.time_ns);
        json_str(b, ev.name.ptr, ev.name.len);
        sink_buf_str(b, ",\"attributes\":");
        json_attrs(b, ev.attrs);
        sink_buf_fmt(b, ",\"droppedAttributesCount\":%u}", ev.dropped_attrs);
    }
    sink_buf_fmt(b, "],\"droppedEventsCount\":%u,\"links\":[", s->dropped_events);
    n = 0;
    it = otel_span_links(s);
    while (otel_iter_link(&it, &l)) {
        if (n++) sink_buf_str(b, ",");
        sink_buf_str(b, "{\"traceId\":");
        json_hex(b, l.trace_id, 16);
        sink_buf_str(b, ",\"spanId\":");
        json_hex(b, l.span_id, 8);
        sink_buf_str(b, ",\"traceState\":");
        json_str(b, l.trace_state.ptr, l.trace_state.len);
        sink_buf_str(b, ",\"attributes\":");
        json_attrs(b, l.attrs);
        sink_buf_fmt(b, ",\"droppedAttributesCount\":%u,\"flags\":%u}", l.dropped_attrs,
                     l.trace_flags | 0x100u | (l.is_remote ? 0x200u : 0));
    }
    sink_buf_fmt(b, "],\"droppedLinksCount\":%u,\"status\":{\"code\":%u,\"message\":", s->dropped_links, s->status_code);
    json_str(b, s->status_message.ptr, s->status_message.len);
    sink_buf_str(b, "}}\n");
}

static void test_full_batch(recorded *r) {
    otel_otlp_encoder *e = otel_otlp_encoder_create();
    const uint8_t *out;
    size_t len, count = 0, i, j;
    sink_buf want = {NULL, 0, 0, false}, json = {NULL, 0, 0, false};
    sink_ctx ctx;
    bool skip;
    char *text;
    CHECK(otel_otlp_encode_spans(e, &r->batch, &out, &len) == OTEL_OK);
    /* protoc, with the official protos */
    text = protoc_decode(out, len, &skip);
    if (!skip) {
        proto_request(&want, &r->batch);
        CHECK(text != NULL);
        if (text) CHECK(same_lines(want.p, text));
        /* a few values spelled out, so an empty expectation cannot pass */
        CHECK(text && strstr(text, "string_value: \"GET\""));
        CHECK(text && strstr(text, "int_value: 3000000000"));
        CHECK(text && strstr(text, "double_value: -1.25"));
        CHECK(text && strstr(text, "string_value: \"say \\\"hi\\\"\\n\\\\\""));
        CHECK(text && strstr(text, "trace_state: \"k1=v1,k2=v2\""));
        CHECK(text && strstr(text, "16: 0x00000301")); /* sampled, parent remote */
        CHECK(text && strstr(text, "6: 0x00000301"));  /* link: sampled, remote */
        CHECK(text && strstr(text, "dropped_links_count: 1"));
        CHECK(text && strstr(text, "name: \"lib.a\""));
        free(text);
    } else {
        printf("SKIPPED: protoc check of the full batch\n");
    }
    /* the sink's decoder: one JSON line per span, same values */
    memset(&ctx, 0, sizeof ctx);
    CHECK(sink_decode_traces(out, len, &json, &count, &ctx));
    CHECK(count == r->count);
    want.len = 0;
    /* the sink prints scope groups in order: build the same order */
    for (i = 0; i < r->count; i++) {
        const otel_scope *sc = r->spans[i]->scope;
        bool first = true;
        for (j = 0; j < i; j++)
            if (otel__otlp_scope_same(r->spans[j]->scope, sc)) first = false;
        if (!first) continue;
        for (j = i; j < r->count; j++)
            if (otel__otlp_scope_same(r->spans[j]->scope, sc)) json_span(&want, r->batch.resource, r->spans[j]);
    }
    CHECK(json.p && want.p && same_lines(want.p, json.p));
    if (ctx.err[0]) fprintf(stderr, "  sink: %s\n", ctx.err);
    /* a second encode of the same batch (its length guesses now from this one) gives the
       same bytes */
    {
        uint8_t *copy = (uint8_t *)malloc(len);
        const uint8_t *out2;
        size_t len2;
        memcpy(copy, out, len);
        CHECK(otel_otlp_encode_spans(e, &r->batch, &out2, &len2) == OTEL_OK && len2 == len && !memcmp(copy, out2, len));
        free(copy);
    }
    sink_buf_free(&want);
    sink_buf_free(&json);
    otel_otlp_encoder_destroy(e);
}

/* ---- gzip --------------------------------------------------------------------------------- */

static bool gzip_roundtrip(otel_otlp_encoder *e, const uint8_t *in, size_t n, const char *label, size_t *zlen) {
    const uint8_t *z;
    size_t zl;
    sink_buf back = {NULL, 0, 0, false};
    char raw[300], gz[300], cmd[1200];
    bool ok = true;
    if (otel_otlp_gzip(e, in, n, &z, &zl) != OTEL_OK) { fprintf(stderr, "  %s: gzip failed\n", label); return false; }
    if (zlen) *zlen = zl;
    /* our own inflate (the sink's) */
    if (sink_gunzip(z, zl, &back, SINK_MAX_BODY) || back.len != n || (n && memcmp(back.p, in, n))) {
        fprintf(stderr, "  %s: the sink's gunzip disagrees\n", label);
        ok = false;
    }
    sink_buf_free(&back);
    snprintf(raw, sizeof raw, "%s/%s.raw", g_tmp, label);
    snprintf(gz, sizeof gz, "%s/%s.gz", g_tmp, label);
    if (!write_file(raw, in, n) || !write_file(gz, z, zl)) return false;
    if (have("python3")) {
        snprintf(cmd, sizeof cmd,
                 "python3 -c \"import gzip,zlib,sys; z=open(sys.argv[1],'rb').read(); r=open(sys.argv[2],'rb').read(); "
                 "sys.exit(0 if gzip.decompress(z)==r and zlib.decompress(z, 31)==r else 1)\" '%s' '%s'", gz, raw);
        if (run(cmd) != 0) { fprintf(stderr, "  %s: python3 zlib/gzip disagrees\n", label); ok = false; }
    }
    if (have("gunzip")) {
        snprintf(cmd, sizeof cmd, "gunzip -c '%s' | cmp -s - '%s'", gz, raw);
        if (run(cmd) != 0) { fprintf(stderr, "  %s: gunzip disagrees\n", label); ok = false; }
    }
    return ok;
}

static void test_gzip(recorded *r) {
    otel_otlp_encoder *e = otel_otlp_encoder_create(), *e2 = otel_otlp_encoder_create();
    size_t n = 3 << 20, i, zl = 0;
    uint8_t *buf = (uint8_t *)malloc(n);
    uint64_t x = 88172645463325252ull;
    const uint8_t *body;
    size_t blen;
    const otel_span_data *many[512];
    otel_span_batch b;
    if (!have("python3")) printf("SKIPPED: python3 check of gzip output (not found)\n");
    if (!have("gunzip")) printf("SKIPPED: gunzip check of gzip output (not found)\n");
    CHECK(gzip_roundtrip(e, (const uint8_t *)"", 0, "empty", NULL));
    CHECK(gzip_roundtrip(e, (const uint8_t *)"a", 1, "one", NULL));
    memset(buf, 'a', 100000);
    CHECK(gzip_roundtrip(e, buf, 100000, "run", &zl) && zl < 1000);
    for (i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; buf[i] = (uint8_t)x; }
    CHECK(gzip_roundtrip(e, buf, 200000, "random", &zl) && zl <= 200000 + 200000 / 1000 + 64); /* stored blocks */
    for (i = 0; i < n; i++) buf[i] = (uint8_t)("lorem ipsum dolor sit amet "[x % 27] + (i % 7 == 0)), x = x * 6364136223846793005ull + 1;
    CHECK(gzip_roundtrip(e, buf, n, "text", NULL)); /* many blocks */
    for (i = 32768; i < 70000; i++) buf[i] = buf[i - 32768]; /* matches at the largest distance */
    CHECK(gzip_roundtrip(e, buf, 70000, "far", NULL));
    /* a typical batch: 512 spans of the benchmark's shape (issue 3), each with its own ids */
    (void)r;
    {
        otel_exporter mem;
        otel_desc d;
        size_t k, got;
        CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
        memset(&d, 0, sizeof d);
        d.service_name = "bench-service";
        d.destinations[0].exporter = mem;
        d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
        d.lock_destinations = true;
        CHECK(otel_init(&d) == OTEL_OK);
        {
            otel_span *root = otel_span_start("root", NULL);
            for (k = 0; k < 512; k++) {
                otel_span *s = otel_span_start("child-operation", NULL);
                otel_span_set_str(s, "http.request.method", "GET");
                otel_span_set_str(s, "url.path", "/api/v1/users/12345");
                otel_span_set_int(s, "http.response.status_code", 200);
                otel_span_set_double(s, "app.ratio", 0.75);
                otel_span_end(s);
            }
            otel_span_end(root);
        }
        CHECK(otel_shutdown(2000) == OTEL_OK);
        got = otel_memory_exporter_count(&mem);
        CHECK(got >= 512);
        for (k = 0; k < 512 && k < got; k++) many[k] = otel_memory_exporter_span(&mem, k);
        memset(&b, 0, sizeof b);
        b.spans = many;
        b.count = got < 512 ? got : 512;
        b.resource = otel_memory_exporter_resource(&mem);
        CHECK(otel_otlp_encode_spans(e2, &b, &body, &blen) == OTEL_OK);
        CHECK(gzip_roundtrip(e, body, blen, "batch", &zl));
        printf("gzip: 512-span batch %zu -> %zu bytes (ratio %.2f, %.0f bytes/span raw)\n", blen, zl,
               zl ? (double)blen / (double)zl : 0.0, (double)blen / 512);
        CHECK(zl * 2 < blen);
        otel_memory_exporter_destroy(&mem);
    }
    free(buf);
    otel_otlp_encoder_destroy(e);
    otel_otlp_encoder_destroy(e2);
}

int main(void) {
    static recorded r;
    char cmd[300];
    snprintf(g_tmp, sizeof g_tmp, "/tmp/otel-test-otlp.XXXXXX");
    if (!mkdtemp(g_tmp)) { perror("mkdtemp"); return 1; }
    test_wire();
    test_small_requests();
    record_full_batch(&r);
    if (r.count) test_full_batch(&r);
    test_gzip(&r);
    otel_memory_exporter_destroy(&r.mem);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    (void)run(cmd);
    return TEST_DONE();
}
