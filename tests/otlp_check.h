/* otlp_check.h - helpers shared by the metrics and logs OTLP tests: what `protoc --decode`
   prints for values and attributes (CEscape'd strings, shortest round-trip doubles), a
   line-by-line text comparison, protoc run on a body with the official protos
   (tests/otlp_protos.sh), and the JSON the sink prints for values and attributes.
   Include after otel_otlp.h and tools/otlp_sink.c (OTLP_SINK_NO_MAIN). */
#ifndef OTLP_CHECK_H
#define OTLP_CHECK_H

#include <sys/wait.h>

static char g_tmp[256]; /* a private temporary directory, made by the test's main */

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
static int run(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
static bool have(const char *tool) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return run(cmd) == 0;
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
static void line_double(sink_buf *b, const char *field, double d) {
    char t[40];
    dtoa_short(t, sizeof t, d);
    sink_buf_fmt(b, "%s: %s\n", field, t);
}

/* An AnyValue's members as protoc prints them. */
static void proto_value(sink_buf *b, const otel_value *v) {
    size_t i;
    switch (v->type) {
    case OTEL_VALUE_STRING: line_str(b, "string_value", v->u.s, v->len); break;
    case OTEL_VALUE_BOOL: line(b, v->u.b ? "bool_value: true" : "bool_value: false"); break;
    case OTEL_VALUE_INT: sink_buf_fmt(b, "int_value: %lld\n", (long long)v->u.i); break;
    case OTEL_VALUE_DOUBLE: line_double(b, "double_value", v->u.d); break;
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
                line_double(b, "double_value", otel__otlp_arr_double(v, i));
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
static void proto_resource(sink_buf *b, const otel_resource *res) {
    size_t i;
    if (!res || !(res->count || res->dropped)) return;
    line(b, "resource {");
    for (i = 0; i < res->count; i++) proto_attr(b, "attributes", &res->attrs[i]);
    if (res->dropped) sink_buf_fmt(b, "dropped_attributes_count: %u\n", res->dropped);
    line(b, "}");
}
static void proto_scope(sink_buf *b, const otel_scope *sc) {
    if (!sc) return;
    line(b, "scope {");
    if (sc->name.len) line_str(b, "name", sc->name.ptr, sc->name.len);
    if (sc->version.len) line_str(b, "version", sc->version.ptr, sc->version.len);
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

/* protoc --decode=<type> of `body` with <file> from the official protos; NULL and *skip when
   protoc or the protos are missing. */
static char *protoc_decode_as(const uint8_t *body, size_t len, const char *type, const char *file, bool *skip) {
    static char protos[512];
    static int state; /* 0 unknown, 1 ok, 2 skipped */
    char cmd[2048], path[300], outp[300];
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
    snprintf(cmd, sizeof cmd, "protoc -I'%s' --decode=%s %s < '%s' > '%s'", protos, type, file, path, outp);
    if (run(cmd) != 0) return NULL;
    return read_file(outp, NULL);
}

/* ---- the sink's view: JSON ------------------------------------------------------------ */

static void json_str(sink_buf *b, const char *s, size_t n) { sink_json_str(b, (const uint8_t *)(s ? s : ""), n); }
static void json_double(sink_buf *b, double d) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    sink_json_double(b, bits);
}
static void json_value(sink_buf *b, const otel_value *v) {
    size_t i;
    switch (v->type) {
    case OTEL_VALUE_STRING: json_str(b, v->u.s, v->len); break;
    case OTEL_VALUE_BOOL: sink_buf_str(b, v->u.b ? "true" : "false"); break;
    case OTEL_VALUE_INT: sink_buf_fmt(b, "%lld", (long long)v->u.i); break;
    case OTEL_VALUE_DOUBLE: json_double(b, v->u.d); break;
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
                json_double(b, otel__otlp_arr_double(v, i));
            }
        }
        sink_buf_str(b, "]");
    }
}
static void json_attr_array(sink_buf *b, const otel_attr *a, size_t n) {
    size_t i;
    sink_buf_str(b, "{");
    for (i = 0; i < n; i++) {
        if (i) sink_buf_str(b, ",");
        json_str(b, a[i].key.ptr, a[i].key.len);
        sink_buf_str(b, ":");
        json_value(b, &a[i].value);
    }
    sink_buf_str(b, "}");
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
/* "resource":{..},"scope":{..}, as the sink starts every line */
static void json_prefix(sink_buf *b, const otel_resource *res, const otel_scope *sc) {
    sink_buf_str(b, "\"resource\":");
    json_attr_array(b, res ? res->attrs : NULL, res ? res->count : 0);
    sink_buf_str(b, ",\"scope\":{\"name\":");
    json_str(b, sc ? sc->name.ptr : "", sc ? sc->name.len : 0);
    sink_buf_str(b, ",\"version\":");
    json_str(b, sc ? sc->version.ptr : "", sc ? sc->version.len : 0);
    sink_buf_str(b, ",\"attributes\":{}},");
}

#endif
