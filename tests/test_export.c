/* test_export.c - exporters (issue 2): console pretty/compact and the file exporter (OTLP/JSON
   and flat) parsed back by python3's json (tests/json_check.py) with every field checked, file
   paths from code and env, concurrent writers, multi, the factory and OTEL_TRACES_EXPORTER, a
   custom exporter. Without python3 the JSON checks are skipped ("SKIPPED:" lines).
   Also built with ThreadSanitizer by tests/run.sh (the marker on the next line). */
/* tsan */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------- */

#include "test_diag.h"

static const char *const env_vars[] = {
    "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_FILE_TRACES_PATH", "OTEL_EXPORTER_FILE_PATH", "OTEL_EXPORTER_FILE_FORMAT",
    "OTEL_EXPORTER_CONSOLE_FORMAT", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_LOG_LEVEL",
    "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
};

static void env_clear(void) {
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++) unsetenv(env_vars[i]);
}

static char tmpdir[512];
static char root[512];
static bool have_python;

static const char *tmp_path(const char *name) {
    static char bufs[64][700]; /* callers keep a few: enough slots that none is reused early */
    static int k;
    char *b = bufs[k++ & 63];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static bool file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *p = (char *)malloc(cap + 1);
    for (;;) {
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        cap *= 2;
        p = (char *)realloc(p, cap + 1);
    }
    fclose(f);
    p[n] = 0;
    if (len) *len = n;
    return p;
}

static char *read_stream(FILE *f) {
    size_t cap = 4096, n = 0, r;
    char *p = (char *)malloc(cap + 1);
    rewind(f);
    while ((r = fread(p + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            p = (char *)realloc(p, cap + 1);
        }
    }
    p[n] = 0;
    return p;
}

static size_t count_lines(const char *text) {
    size_t n = 0;
    for (const char *p = text; p && *p; p++) n += *p == '\n';
    return n;
}

static const char *FLAT_PY =
    "import json, sys\n"
    "def walk(p, v):\n"
    "    if isinstance(v, dict):\n"
    "        print(p + '.__keys__\\t' + ','.join(sorted(v)))\n"
    "        for k in v: walk(p + '.' + k, v[k])\n"
    "    elif isinstance(v, list):\n"
    "        print(p + '.__len__\\t' + str(len(v)))\n"
    "        for i, x in enumerate(v): walk(p + '.' + str(i), x)\n"
    "    else:\n"
    "        print(p + '\\t' + json.dumps(v, ensure_ascii=False))\n"
    "for n, line in enumerate(sys.stdin):\n"
    "    walk(str(n), json.loads(line))\n";

/* Parses `path` strictly (json_check.py, mode "lines" or "stream", exactly `count` objects).
   Returns the canonical form (one sorted compact object per line) and sets *flat to the
   flattened form "PATH\tJSON" per line (PATH like 0.context.trace_id). NULL on failure. */
static char *json_parse(const char *path, const char *mode, int count, char **flat) {
    char cmd[4096], canon[700], flatp[700], py[700];
    snprintf(canon, sizeof canon, "%s/canon.jsonl", tmpdir);
    snprintf(flatp, sizeof flatp, "%s/flat.txt", tmpdir);
    snprintf(py, sizeof py, "%s/flat.py", tmpdir);
    *flat = NULL;
    FILE *f = fopen(py, "w");
    if (!f) return NULL;
    fputs(FLAT_PY, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 '%s/tests/json_check.py' --%s --count %d '%s' > '%s'", root, mode, count, path, canon);
    if (system(cmd) != 0) {
        fprintf(stderr, "json_check failed on %s (%s, %d objects expected)\n", path, mode, count);
        return NULL;
    }
    snprintf(cmd, sizeof cmd, "python3 '%s' < '%s' > '%s'", py, canon, flatp);
    if (system(cmd) != 0) return NULL;
    *flat = read_file(flatp, NULL);
    return read_file(canon, NULL);
}

static char *stream_to_file(FILE *f, const char *name) {
    char *text = read_stream(f);
    FILE *o = fopen(tmp_path(name), "wb");
    if (o) {
        fputs(text, o);
        fclose(o);
    }
    free(text);
    return (char *)tmp_path(name);
}

/* The JSON value at `path` in a flattened text, or NULL. */
static const char *jget(const char *flat, const char *path) {
    static char val[8192];
    size_t pl = strlen(path);
    for (const char *p = flat; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        if (ll > pl && memcmp(p, path, pl) == 0 && p[pl] == '\t') {
            size_t vl = ll - pl - 1 < sizeof val - 1 ? ll - pl - 1 : sizeof val - 1;
            memcpy(val, p + pl + 1, vl);
            val[vl] = 0;
            return val;
        }
        p = nl ? nl + 1 : p + ll;
    }
    return NULL;
}

static bool jis(const char *flat, const char *path, const char *want) {
    const char *v = jget(flat, path);
    if (!v || strcmp(v, want) != 0) {
        fprintf(stderr, "  %s: got %s, want %s\n", path, v ? v : "(missing)", want);
        return false;
    }
    return true;
}

static bool jisf(const char *flat, const char *want, const char *fmt, ...) OTEL__PRINTF(3, 4);
static bool jisf(const char *flat, const char *want, const char *fmt, ...) {
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return jis(flat, path, want);
}

static void hex(char *out, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

/* "\"0x<hex>\"" or "\"<hex>\"" */
static const char *qhex(const uint8_t *b, size_t n, bool prefix) {
    static char bufs[4][64];
    static int k;
    char *o = bufs[k++ & 3], h[40];
    hex(h, b, n);
    snprintf(o, 64, "\"%s%s\"", prefix ? "0x" : "", h);
    return o;
}

static bool is_lower_hex(const char *quoted, size_t digits) {
    if (!quoted || strlen(quoted) != digits + 2 || quoted[0] != '"' || quoted[digits + 1] != '"') return false;
    for (size_t i = 1; i <= digits; i++)
        if (!((quoted[i] >= '0' && quoted[i] <= '9') || (quoted[i] >= 'a' && quoted[i] <= 'f'))) return false;
    return true;
}

static const uint64_t T0 = 1588862392906272123ull; /* 2020-05-07T14:39:52.906272123Z */

static const char *TP_REMOTE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/* ---- console ------------------------------------------------------------------------------- */

typedef struct ids {
    otel_span_context root, child, remote;
} ids;

/* Three spans with every field set: "root" (SERVER, error status, attributes of every type,
   an event, a link), "child" (CLIENT, of root, status ok), "remote" (remote parent). */
static void record_spans(ids *out, otel_tracer *tr_a, otel_tracer *tr_b) {
    const char *sa[] = {"a", "b\xc3\xa9"};
    const int64_t ia[] = {1, -2};
    const double da[] = {0.5};
    const bool ba[] = {true, false};
    otel_span_context lc, rc;
    CHECK(otel_context_extract("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "k=v", &lc) == OTEL_OK);
    CHECK(otel_context_extract(TP_REMOTE, "a=b", &rc) == OTEL_OK);
    otel_attr la = otel_attr_int("la", 1);
    otel_link link = {&lc, &la, 1};
    otel_span *root = otel_span_start("root", &(otel_span_desc){.kind = OTEL_SPAN_KIND_SERVER, .start_time_ns = T0,
                                                                 .links = &link, .link_count = 1, .tracer = tr_a});
    otel_span_set_str(root, "s", "hi \"q\" \n");
    otel_span_set_strn(root, "ctl", "a\0b\x01", 4);
    otel_span_set_int(root, "i", -42);
    otel_span_set_double(root, "d", 2.5);
    otel_span_set_double(root, "nan", NAN);
    otel_span_set_bool(root, "b", true);
    otel_attr arrs[] = {otel_attr_str_array("sa", sa, 2), otel_attr_int_array("ia", ia, 2),
                        otel_attr_double_array("da", da, 1), otel_attr_bool_array("ba", ba, 2)};
    otel_span_set_attrs(root, arrs, 4);
    otel_attr ea = otel_attr_str("k", "v");
    otel_span_add_event_at(root, "ev", T0 + 10000, &ea, 1);
    otel_span_set_status(root, OTEL_STATUS_ERROR, "bad thing");
    otel_span *child = otel_span_start("child", &(otel_span_desc){.kind = OTEL_SPAN_KIND_CLIENT, .parent = root,
                                                                   .start_time_ns = T0 + 1000, .tracer = tr_b});
    otel_span_set_status(child, OTEL_STATUS_OK, NULL);
    otel_span_get_context(root, &out->root);
    otel_span_get_context(child, &out->child);
    otel_span_end_at(root, T0 + 1500000000ull);
    otel_span_end_at(child, T0 + 2000);
    otel_span *remote = otel_span_start("remote", &(otel_span_desc){.remote_parent = &rc, .kind = OTEL_SPAN_KIND_CONSUMER,
                                                                     .start_time_ns = T0, .tracer = tr_a});
    otel_span_get_context(remote, &out->remote);
    otel_span_end_at(remote, T0 + 1);
}

static void test_console(void) {
    if (!have_python) {
        printf("SKIPPED: test_export console JSON check (python3 not installed)\n");
        return;
    }
    FILE *pf = tmpfile(), *cf = tmpfile();
    CHECK(pf && cf);
    if (!pf || !cf) return;
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.service_name = "console-test";
    otel_attr res = otel_attr_str("deployment.environment", "test");
    d.resource_attrs = &res;
    d.resource_attr_count = 1;
    CHECK(otel_console_exporter_create(&(otel_console_desc){OTEL_CONSOLE_PRETTY, pf}, &d.destinations[0].exporter) == OTEL_OK);
    CHECK(otel_console_exporter_create(&(otel_console_desc){OTEL_CONSOLE_COMPACT, cf}, &d.destinations[1].exporter) == OTEL_OK);
    CHECK(d.destinations[0].exporter.name && strcmp(d.destinations[0].exporter.name, "console") == 0);
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.destinations[1].processor = OTEL_PROCESSOR_SIMPLE;
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    ids id;
    record_spans(&id, NULL, NULL);
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(diag_count(NULL) == 0);

    char *pretty_text = read_stream(pf);
    CHECK(strncmp(pretty_text, "{\n    \"name\": \"root\",\n    \"context\": {\n        \"trace_id\": \"0x", 62) == 0);
    char *compact_text = read_stream(cf);
    CHECK(count_lines(compact_text) == 3 && compact_text[0] == '{' && strstr(compact_text, "\n    ") == NULL);
    free(pretty_text);
    free(compact_text);
    char *pflat, *cflat;
    char *pcanon = json_parse(stream_to_file(pf, "pretty.json"), "stream", 3, &pflat);
    char *ccanon = json_parse(stream_to_file(cf, "compact.jsonl"), "lines", 3, &cflat);
    fclose(pf);
    fclose(cf);
    CHECK(pcanon && ccanon && pflat && cflat);
    if (!pcanon || !ccanon || !pflat || !cflat) return;
    CHECK(strcmp(pcanon, ccanon) == 0); /* the same objects in both formats */
    const char *f = pflat;
    CHECK(jis(f, "0.__keys__", "attributes,context,end_time,events,kind,links,name,parent_id,resource,start_time,status"));
    CHECK(jis(f, "0.name", "\"root\""));
    CHECK(jis(f, "0.context.__keys__", "span_id,trace_id,trace_state"));
    CHECK(jis(f, "0.context.trace_id", qhex(id.root.trace_id, 16, true)));
    CHECK(jis(f, "0.context.span_id", qhex(id.root.span_id, 8, true)));
    CHECK(jis(f, "0.context.trace_state", "\"\""));
    CHECK(jis(f, "0.kind", "\"SpanKind.SERVER\""));
    CHECK(jis(f, "0.parent_id", "null"));
    CHECK(jis(f, "0.start_time", "\"2020-05-07T14:39:52.906272Z\""));
    CHECK(jis(f, "0.end_time", "\"2020-05-07T14:39:54.406272Z\""));
    CHECK(jis(f, "0.status.__keys__", "description,status_code"));
    CHECK(jis(f, "0.status.status_code", "\"ERROR\""));
    CHECK(jis(f, "0.status.description", "\"bad thing\""));
    CHECK(jis(f, "0.attributes.__keys__", "b,ba,ctl,d,da,i,ia,nan,s,sa"));
    CHECK(jis(f, "0.attributes.s", "\"hi \\\"q\\\" \\n\""));
    CHECK(jis(f, "0.attributes.ctl", "\"a\\u0000b\\u0001\""));
    CHECK(jis(f, "0.attributes.i", "-42"));
    CHECK(jis(f, "0.attributes.d", "2.5"));
    CHECK(jis(f, "0.attributes.nan", "\"NaN\""));
    CHECK(jis(f, "0.attributes.b", "true"));
    CHECK(jis(f, "0.attributes.sa.__len__", "2") && jis(f, "0.attributes.sa.0", "\"a\"") &&
          jis(f, "0.attributes.sa.1", "\"b\xc3\xa9\""));
    CHECK(jis(f, "0.attributes.ia.__len__", "2") && jis(f, "0.attributes.ia.0", "1") && jis(f, "0.attributes.ia.1", "-2"));
    CHECK(jis(f, "0.attributes.da.__len__", "1") && jis(f, "0.attributes.da.0", "0.5"));
    CHECK(jis(f, "0.attributes.ba.0", "true") && jis(f, "0.attributes.ba.1", "false"));
    CHECK(jis(f, "0.events.__len__", "1"));
    CHECK(jis(f, "0.events.0.__keys__", "attributes,name,timestamp"));
    CHECK(jis(f, "0.events.0.name", "\"ev\""));
    CHECK(jis(f, "0.events.0.timestamp", "\"2020-05-07T14:39:52.906282Z\""));
    CHECK(jis(f, "0.events.0.attributes.k", "\"v\""));
    CHECK(jis(f, "0.links.__len__", "1"));
    CHECK(jis(f, "0.links.0.__keys__", "attributes,context"));
    CHECK(jis(f, "0.links.0.context.trace_id", "\"0x0af7651916cd43dd8448eb211c80319c\""));
    CHECK(jis(f, "0.links.0.context.span_id", "\"0xb7ad6b7169203331\""));
    CHECK(jis(f, "0.links.0.context.trace_state", "\"k=v\""));
    CHECK(jis(f, "0.links.0.attributes.la", "1"));
    CHECK(jis(f, "0.resource.__keys__", "attributes,schema_url"));
    CHECK(jis(f, "0.resource.attributes.__keys__",
              "deployment.environment,service.name,telemetry.sdk.language,telemetry.sdk.name,telemetry.sdk.version"));
    CHECK(jis(f, "0.resource.attributes.service.name", "\"console-test\""));
    CHECK(jis(f, "0.resource.attributes.deployment.environment", "\"test\""));
    CHECK(jis(f, "0.resource.attributes.telemetry.sdk.name", "\"otel.h\""));
    CHECK(jis(f, "0.resource.attributes.telemetry.sdk.language", "\"c\""));
    CHECK(jis(f, "0.resource.attributes.telemetry.sdk.version", "\"" OTEL_VERSION "\""));
    CHECK(jis(f, "0.resource.schema_url", "\"\""));
    /* child */
    CHECK(jis(f, "1.name", "\"child\""));
    CHECK(jis(f, "1.kind", "\"SpanKind.CLIENT\""));
    CHECK(jis(f, "1.context.trace_id", qhex(id.root.trace_id, 16, true)));
    CHECK(jis(f, "1.context.span_id", qhex(id.child.span_id, 8, true)));
    CHECK(jis(f, "1.parent_id", qhex(id.root.span_id, 8, true)));
    CHECK(jis(f, "1.start_time", "\"2020-05-07T14:39:52.906273Z\""));
    CHECK(jis(f, "1.end_time", "\"2020-05-07T14:39:52.906274Z\""));
    CHECK(jis(f, "1.status.__keys__", "status_code") && jis(f, "1.status.status_code", "\"OK\""));
    CHECK(jis(f, "1.attributes.__keys__", "") && jis(f, "1.events.__len__", "0") && jis(f, "1.links.__len__", "0"));
    /* remote parent */
    CHECK(jis(f, "2.name", "\"remote\""));
    CHECK(jis(f, "2.kind", "\"SpanKind.CONSUMER\""));
    CHECK(jis(f, "2.context.trace_id", "\"0x4bf92f3577b34da6a3ce929d0e0e4736\""));
    CHECK(jis(f, "2.context.span_id", qhex(id.remote.span_id, 8, true)));
    CHECK(jis(f, "2.context.trace_state", "\"a=b\""));
    CHECK(jis(f, "2.parent_id", "\"0x00f067aa0ba902b7\""));
    CHECK(jis(f, "2.status.status_code", "\"UNSET\""));
    free(pcanon);
    free(ccanon);
    free(pflat);
    free(cflat);

    /* the format from OTEL_EXPORTER_CONSOLE_FORMAT; code wins; invalid -> warning, pretty */
    static const struct {
        const char *env;
        otel_console_format code;
        bool compact;
        int warns;
    } fmts[] = {{"compact", OTEL_CONSOLE_DEFAULT, true, 0}, {"pretty", OTEL_CONSOLE_DEFAULT, false, 0},
                {" COMPACT ", OTEL_CONSOLE_DEFAULT, true, 0}, {"compact", OTEL_CONSOLE_PRETTY, false, 0},
                {"pretty", OTEL_CONSOLE_COMPACT, true, 0}, {"yaml", OTEL_CONSOLE_DEFAULT, false, 1}};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        FILE *o = tmpfile();
        setenv("OTEL_EXPORTER_CONSOLE_FORMAT", fmts[i].env, 1);
        memset(&d, 0, sizeof d);
        d.diag.func = diag_fn;
        d.default_exporters = "none";
        CHECK(otel_init(&d) == OTEL_OK); /* for the diag callback */
        diag_reset();
        CHECK(otel_console_exporter_create(&(otel_console_desc){fmts[i].code, o}, &d.destinations[0].exporter) == OTEL_OK);
        CHECK(diag_count("OTEL_EXPORTER_CONSOLE_FORMAT") == fmts[i].warns);
        CHECK(otel_shutdown(0) == OTEL_OK);
        d.default_exporters = NULL;
        d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
        CHECK(otel_init(&d) == OTEL_OK);
        otel_span_end(otel_span_start("fmt", NULL));
        CHECK(otel_shutdown(0) == OTEL_OK);
        char *text = read_stream(o);
        CHECK(count_lines(text) == (fmts[i].compact ? 1u : 27u));
        free(text);
        fclose(o);
    }
    env_clear();
}

/* ---- file exporter: OTLP/JSON ------------------------------------------------------------------- */

static void test_file_otlp(void) {
    if (!have_python) {
        printf("SKIPPED: test_export OTLP/JSON file check (python3 not installed)\n");
        return;
    }
    const char *path = tmp_path("otlp.jsonl");
    unlink(path);
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.service_name = "file-test";
    d.limits.attr_count = 11;
    d.limits.event_count = 1;
    d.limits.link_count = 1;
    d.limits.event_attr_count = 1;
    CHECK(otel_file_exporter_create(&(otel_file_desc){path, OTEL_FILE_DEFAULT}, &d.destinations[0].exporter) == OTEL_OK);
    CHECK(file_exists(path)); /* opened at creation */
    CHECK(strcmp(d.destinations[0].exporter.name, "file") == 0);
    d.destinations[0].schedule_delay_ms = 60000; /* exported by the flush: one batch */
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    otel_tracer *ta = otel_tracer_get("lib.a", "1.0"), *tb = otel_tracer_get("lib.b", NULL);
    ids id;
    record_spans(&id, ta, tb);
    /* the root has 11 attributes + 2 over the limit; child: dropped events, links, event attrs */
    otel_span *x = otel_span_start("x", &(otel_span_desc){.tracer = tb, .start_time_ns = T0});
    otel_span_context lc;
    otel_span_get_context(x, &lc);
    otel_attr ea[] = {otel_attr_int("e1", 1), otel_attr_int("e2", 2)};
    otel_span_add_event_at(x, "e", T0 + 5, ea, 2);
    otel_span_add_event(x, "e-dropped", NULL, 0);
    otel_link ll = {&lc, NULL, 0};
    otel_span_add_link(x, &ll);
    otel_span_add_link(x, &ll);
    for (int i = 0; i < 13; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        otel_span_set_int(x, k, i);
    }
    otel_span_end_at(x, T0 + 100);
    CHECK(otel_force_flush(0) == OTEL_OK);
    otel_span_end(otel_span_start("second-batch", NULL));
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(diag_count(NULL) == diag_count("dropped")); /* only the limit report */

    char *flat, *canon = json_parse(path, "lines", 2, &flat);
    CHECK(canon && flat);
    if (!canon || !flat) return;
    const char *f = flat;
    CHECK(jis(f, "0.__keys__", "resourceSpans") && jis(f, "0.resourceSpans.__len__", "1"));
    CHECK(jis(f, "0.resourceSpans.0.__keys__", "resource,scopeSpans"));
    CHECK(jis(f, "0.resourceSpans.0.resource.attributes.__len__", "4"));
    CHECK(jis(f, "0.resourceSpans.0.resource.attributes.0.__keys__", "key,value"));
    CHECK(jis(f, "0.resourceSpans.0.resource.attributes.0.key", "\"service.name\""));
    CHECK(jis(f, "0.resourceSpans.0.resource.attributes.0.value.__keys__", "stringValue"));
    CHECK(jis(f, "0.resourceSpans.0.resource.attributes.0.value.stringValue", "\"file-test\""));
    for (int i = 1; i < 4; i++) {
        const char *k = jget(f, i == 1 ? "0.resourceSpans.0.resource.attributes.1.key"
                              : i == 2 ? "0.resourceSpans.0.resource.attributes.2.key"
                                       : "0.resourceSpans.0.resource.attributes.3.key");
        CHECK(k && strncmp(k, "\"telemetry.sdk.", 15) == 0);
    }
    const char *ss = "0.resourceSpans.0.scopeSpans";
    CHECK(jisf(f, "2", "%s.__len__", ss));
    CHECK(jisf(f, "scope,spans", "%s.0.__keys__", ss));
    CHECK(jisf(f, "\"lib.a\"", "%s.0.scope.name", ss) && jisf(f, "\"1.0\"", "%s.0.scope.version", ss));
    CHECK(jisf(f, "\"lib.b\"", "%s.1.scope.name", ss) && jisf(f, "\"\"", "%s.1.scope.version", ss));
    CHECK(jisf(f, "2", "%s.0.spans.__len__", ss) && jisf(f, "2", "%s.1.spans.__len__", ss));
    /* root: lib.a span 0 */
    char p[128];
    snprintf(p, sizeof p, "%s.0.spans.0", ss);
    CHECK(jisf(f, "\"root\"", "%s.name", p));
    CHECK(jisf(f, "attributes,endTimeUnixNano,events,flags,kind,links,name,spanId,startTimeUnixNano,status,traceId",
               "%s.__keys__", p));
    CHECK(jisf(f, qhex(id.root.trace_id, 16, false), "%s.traceId", p) && jisf(f, qhex(id.root.span_id, 8, false), "%s.spanId", p));
    char q[200];
    snprintf(q, sizeof q, "%s.traceId", p);
    CHECK(is_lower_hex(jget(f, q), 32));
    snprintf(q, sizeof q, "%s.spanId", p);
    CHECK(is_lower_hex(jget(f, q), 16));
    CHECK(jisf(f, "257", "%s.flags", p)); /* 0x100 | sampled */
    CHECK(jisf(f, "2", "%s.kind", p));
    CHECK(jisf(f, "\"1588862392906272123\"", "%s.startTimeUnixNano", p));
    CHECK(jisf(f, "\"1588862394406272123\"", "%s.endTimeUnixNano", p));
    CHECK(jisf(f, "10", "%s.attributes.__len__", p));
    /* attributes in the order set: s ctl i d nan b sa ia da ba */
    CHECK(jisf(f, "\"s\"", "%s.attributes.0.key", p) && jisf(f, "\"hi \\\"q\\\" \\n\"", "%s.attributes.0.value.stringValue", p));
    CHECK(jisf(f, "\"a\\u0000b\\u0001\"", "%s.attributes.1.value.stringValue", p));
    CHECK(jisf(f, "\"i\"", "%s.attributes.2.key", p) && jisf(f, "\"-42\"", "%s.attributes.2.value.intValue", p));
    CHECK(jisf(f, "2.5", "%s.attributes.3.value.doubleValue", p));
    CHECK(jisf(f, "\"NaN\"", "%s.attributes.4.value.doubleValue", p));
    CHECK(jisf(f, "true", "%s.attributes.5.value.boolValue", p) && jisf(f, "boolValue", "%s.attributes.5.value.__keys__", p));
    CHECK(jisf(f, "\"sa\"", "%s.attributes.6.key", p) && jisf(f, "values", "%s.attributes.6.value.arrayValue.__keys__", p));
    CHECK(jisf(f, "\"a\"", "%s.attributes.6.value.arrayValue.values.0.stringValue", p));
    CHECK(jisf(f, "\"b\xc3\xa9\"", "%s.attributes.6.value.arrayValue.values.1.stringValue", p));
    CHECK(jisf(f, "\"1\"", "%s.attributes.7.value.arrayValue.values.0.intValue", p));
    CHECK(jisf(f, "\"-2\"", "%s.attributes.7.value.arrayValue.values.1.intValue", p));
    CHECK(jisf(f, "0.5", "%s.attributes.8.value.arrayValue.values.0.doubleValue", p));
    CHECK(jisf(f, "true", "%s.attributes.9.value.arrayValue.values.0.boolValue", p));
    CHECK(jisf(f, "false", "%s.attributes.9.value.arrayValue.values.1.boolValue", p));
    CHECK(jisf(f, "1", "%s.events.__len__", p));
    CHECK(jisf(f, "attributes,name,timeUnixNano", "%s.events.0.__keys__", p));
    CHECK(jisf(f, "\"1588862392906282123\"", "%s.events.0.timeUnixNano", p));
    CHECK(jisf(f, "\"ev\"", "%s.events.0.name", p) && jisf(f, "\"k\"", "%s.events.0.attributes.0.key", p));
    CHECK(jisf(f, "\"v\"", "%s.events.0.attributes.0.value.stringValue", p));
    CHECK(jisf(f, "attributes,flags,spanId,traceId,traceState", "%s.links.0.__keys__", p));
    CHECK(jisf(f, "\"0af7651916cd43dd8448eb211c80319c\"", "%s.links.0.traceId", p));
    CHECK(jisf(f, "\"b7ad6b7169203331\"", "%s.links.0.spanId", p));
    CHECK(jisf(f, "\"k=v\"", "%s.links.0.traceState", p));
    CHECK(jisf(f, "769", "%s.links.0.flags", p)); /* 0x300 | sampled: the linked context is remote */
    CHECK(jisf(f, "\"la\"", "%s.links.0.attributes.0.key", p) && jisf(f, "\"1\"", "%s.links.0.attributes.0.value.intValue", p));
    CHECK(jisf(f, "code,message", "%s.status.__keys__", p));
    CHECK(jisf(f, "2", "%s.status.code", p) && jisf(f, "\"bad thing\"", "%s.status.message", p));
    /* remote: lib.a span 1 */
    snprintf(p, sizeof p, "%s.0.spans.1", ss);
    CHECK(jisf(f, "\"remote\"", "%s.name", p));
    CHECK(jisf(f, "\"4bf92f3577b34da6a3ce929d0e0e4736\"", "%s.traceId", p));
    CHECK(jisf(f, "\"00f067aa0ba902b7\"", "%s.parentSpanId", p));
    CHECK(jisf(f, "\"a=b\"", "%s.traceState", p));
    CHECK(jisf(f, "769", "%s.flags", p)); /* 0x300 | sampled */
    CHECK(jisf(f, "5", "%s.kind", p) && jisf(f, "\"1588862392906272124\"", "%s.endTimeUnixNano", p));
    CHECK(jisf(f, "0", "%s.status.code", p) && jisf(f, "code", "%s.status.__keys__", p));
    CHECK(jisf(f, "0", "%s.attributes.__len__", p) && jisf(f, "0", "%s.events.__len__", p) && jisf(f, "0", "%s.links.__len__", p));
    /* child: lib.b span 0 */
    snprintf(p, sizeof p, "%s.1.spans.0", ss);
    CHECK(jisf(f, "\"child\"", "%s.name", p) && jisf(f, "3", "%s.kind", p));
    CHECK(jisf(f, qhex(id.root.trace_id, 16, false), "%s.traceId", p));
    CHECK(jisf(f, qhex(id.child.span_id, 8, false), "%s.spanId", p));
    CHECK(jisf(f, qhex(id.root.span_id, 8, false), "%s.parentSpanId", p));
    CHECK(jisf(f, "257", "%s.flags", p) && jisf(f, "1", "%s.status.code", p));
    /* x: lib.b span 1, dropped counts */
    snprintf(p, sizeof p, "%s.1.spans.1", ss);
    CHECK(jisf(f, "\"x\"", "%s.name", p));
    CHECK(jisf(f, "attributes,droppedAttributesCount,droppedEventsCount,droppedLinksCount,endTimeUnixNano,events,flags,"
                  "kind,links,name,spanId,startTimeUnixNano,status,traceId", "%s.__keys__", p));
    CHECK(jisf(f, "11", "%s.attributes.__len__", p) && jisf(f, "2", "%s.droppedAttributesCount", p));
    CHECK(jisf(f, "1", "%s.droppedEventsCount", p) && jisf(f, "1", "%s.droppedLinksCount", p));
    CHECK(jisf(f, "1", "%s.events.0.droppedAttributesCount", p) && jisf(f, "1", "%s.events.0.attributes.__len__", p));
    CHECK(jisf(f, "1", "%s.kind", p));
    CHECK(jisf(f, "257", "%s.links.0.flags", p) && jisf(f, "attributes,flags,spanId,traceId", "%s.links.0.__keys__", p));
    /* the second line: the span ended after the flush */
    CHECK(jis(f, "1.resourceSpans.0.scopeSpans.__len__", "1"));
    CHECK(jis(f, "1.resourceSpans.0.scopeSpans.0.scope.name", "\"otel.h\""));
    CHECK(jis(f, "1.resourceSpans.0.scopeSpans.0.spans.0.name", "\"second-batch\""));
    free(canon);
    free(flat);
}

/* ---- file exporter: flat format, format selection ---------------------------------------------- */

static void test_file_flat(void) {
    if (!have_python) {
        printf("SKIPPED: test_export flat file check (python3 not installed)\n");
        return;
    }
    const char *path = tmp_path("flat.jsonl");
    unlink(path);
    FILE *cf = tmpfile();
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.service_name = "flat";
    setenv("OTEL_EXPORTER_FILE_FORMAT", "flat", 1);
    CHECK(otel_file_exporter_create(&(otel_file_desc){path, OTEL_FILE_DEFAULT}, &d.destinations[0].exporter) == OTEL_OK);
    CHECK(otel_console_exporter_create(&(otel_console_desc){OTEL_CONSOLE_COMPACT, cf}, &d.destinations[1].exporter) == OTEL_OK);
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.destinations[1].processor = OTEL_PROCESSOR_SIMPLE;
    CHECK(otel_init(&d) == OTEL_OK);
    ids id;
    record_spans(&id, NULL, NULL);
    CHECK(otel_shutdown(0) == OTEL_OK);
    char *flat, *cflat;
    char *canon = json_parse(path, "lines", 3, &flat);
    char *ccanon = json_parse(stream_to_file(cf, "flat-console.jsonl"), "lines", 3, &cflat);
    fclose(cf);
    CHECK(canon && ccanon && strcmp(canon, ccanon) == 0); /* the console's compact shape */
    CHECK(flat && jis(flat, "0.name", "\"root\"") && jis(flat, "0.context.trace_id", qhex(id.root.trace_id, 16, true)));
    CHECK(flat && jis(flat, "1.parent_id", qhex(id.root.span_id, 8, true)));
    free(canon);
    free(ccanon);
    free(flat);
    free(cflat);
    /* code beats env; bad env -> warning and OTLP */
    static const struct {
        const char *env;
        otel_file_format code;
        bool otlp;
        int warns;
    } fmts[] = {{"flat", OTEL_FILE_OTLP_JSON, true, 0}, {"otlp", OTEL_FILE_FLAT, false, 0},
                {"otlp", OTEL_FILE_DEFAULT, true, 0}, {"xml", OTEL_FILE_DEFAULT, true, 1}};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        unlink(path);
        setenv("OTEL_EXPORTER_FILE_FORMAT", fmts[i].env, 1);
        memset(&d, 0, sizeof d);
        d.diag.func = diag_fn;
        d.default_exporters = "none";
        CHECK(otel_init(&d) == OTEL_OK); /* for the diag callback */
        diag_reset();
        CHECK(otel_file_exporter_create(&(otel_file_desc){path, fmts[i].code}, &d.destinations[0].exporter) == OTEL_OK);
        CHECK(diag_count("OTEL_EXPORTER_FILE_FORMAT") == fmts[i].warns);
        otel_shutdown(0);
        d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
        d.default_exporters = NULL;
        CHECK(otel_init(&d) == OTEL_OK);
        otel_span_end(otel_span_start("fmt", NULL));
        CHECK(otel_shutdown(0) == OTEL_OK);
        char *text = read_file(path, NULL);
        CHECK(text && count_lines(text) == 1);
        CHECK(text && (strncmp(text, "{\"resourceSpans\":[", 18) == 0) == fmts[i].otlp);
        CHECK(text && (strncmp(text, "{\"name\":\"fmt\"", 13) == 0) == !fmts[i].otlp);
        free(text);
    }
    env_clear();
}

/* ---- file paths ---------------------------------------------------------------------------------- */

static void close_exporter(otel_exporter *e) {
    if (e->shutdown) e->shutdown(0, e->user);
    memset(e, 0, sizeof *e);
}

static void test_file_paths(void) {
    otel_exporter e;
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.default_exporters = "none";
    CHECK(otel_init(&d) == OTEL_OK); /* diagnostics go to diag_fn */
    const char *pa = tmp_path("traces-path.jsonl"), *pb = tmp_path("file-path.jsonl"), *pc = tmp_path("code.jsonl");
    unlink(pa);
    unlink(pb);
    unlink(pc);
    setenv("OTEL_EXPORTER_FILE_TRACES_PATH", pa, 1);
    setenv("OTEL_EXPORTER_FILE_PATH", pb, 1);
    CHECK(otel_file_exporter_create(&(otel_file_desc){pc, OTEL_FILE_DEFAULT}, &e) == OTEL_OK);
    close_exporter(&e);
    CHECK(file_exists(pc) && !file_exists(pa) && !file_exists(pb)); /* code wins */
    CHECK(otel_file_exporter_create(NULL, &e) == OTEL_OK);
    close_exporter(&e);
    CHECK(file_exists(pa) && !file_exists(pb));
    unsetenv("OTEL_EXPORTER_FILE_TRACES_PATH");
    CHECK(otel_exporter_create("file", &e) == OTEL_OK);
    close_exporter(&e);
    CHECK(file_exists(pb));
    setenv("OTEL_EXPORTER_FILE_TRACES_PATH", "  ", 1); /* blank = unset */
    unlink(pb);
    CHECK(otel_file_exporter_create(NULL, &e) == OTEL_OK);
    close_exporter(&e);
    CHECK(file_exists(pb));
    env_clear();
    /* default: traces.jsonl in the working directory */
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    const char *dd = tmp_path("default-dir");
    mkdir(dd, 0755);
    CHECK(chdir(dd) == 0);
    unlink("traces.jsonl");
    CHECK(otel_file_exporter_create(NULL, &e) == OTEL_OK);
    close_exporter(&e);
    CHECK(file_exists("traces.jsonl"));
    unlink("traces.jsonl");
    CHECK(chdir(cwd) == 0);
    /* unopenable paths: OTEL_ERR_IO now, with the reason logged */
    diag_reset();
    memset(&e, 0x5a, sizeof e);
    CHECK(otel_file_exporter_create(&(otel_file_desc){"/nonexistent-dir-otel/x.jsonl", OTEL_FILE_DEFAULT}, &e) == OTEL_ERR_IO);
    CHECK(e.export_spans == NULL && e.user == NULL && e.shutdown == NULL);
    CHECK(diag_count("/nonexistent-dir-otel/x.jsonl") == 1);
    diag_reset();
    CHECK(otel_file_exporter_create(&(otel_file_desc){tmpdir, OTEL_FILE_DEFAULT}, &e) == OTEL_ERR_IO); /* a directory */
    CHECK(diag_count(tmpdir) == 1);
    setenv("OTEL_EXPORTER_FILE_PATH", "/nonexistent-dir-otel/y.jsonl", 1);
    CHECK(otel_exporter_create("file", &e) == OTEL_ERR_IO);
    CHECK(otel_shutdown(0) == OTEL_OK);
    /* ... and through OTEL_TRACES_EXPORTER: skipped with a warning */
    setenv("OTEL_TRACES_EXPORTER", "file", 1);
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 0);
    CHECK(diag_count("/nonexistent-dir-otel/y.jsonl") == 1 && diag_count("OTEL_TRACES_EXPORTER") == 1);
    CHECK(otel_shutdown(0) == OTEL_OK);
    env_clear();

    /* lines are appended to an existing file */
    const char *pp = tmp_path("append.jsonl");
    FILE *o = fopen(pp, "w");
    CHECK(o != NULL);
    if (o) {
        fputs("{\"existing\":1}\n", o);
        fclose(o);
    }
    for (int round = 0; round < 2; round++) {
        memset(&d, 0, sizeof d);
        d.diag.func = diag_fn;
        CHECK(otel_file_exporter_create(&(otel_file_desc){pp, OTEL_FILE_FLAT}, &d.destinations[0].exporter) == OTEL_OK);
        d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
        CHECK(otel_init(&d) == OTEL_OK);
        otel_span_end(otel_span_start("appended", NULL));
        CHECK(otel_shutdown(0) == OTEL_OK);
    }
    char *text = read_file(pp, NULL);
    CHECK(text && count_lines(text) == 3 && strncmp(text, "{\"existing\":1}\n{\"name\":\"appended\"", 32) == 0);
    free(text);

    /* a write error: the batch fails, counted and logged */
    if (file_exists("/dev/full")) {
        memset(&d, 0, sizeof d);
        d.diag.func = diag_fn;
        CHECK(otel_file_exporter_create(&(otel_file_desc){"/dev/full", OTEL_FILE_DEFAULT}, &d.destinations[0].exporter) == OTEL_OK);
        d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
        diag_reset();
        CHECK(otel_init(&d) == OTEL_OK);
        otel_span_end(otel_span_start("lost", NULL));
        otel_span_end(otel_span_start("lost", NULL));
        CHECK(otel_stats_get(&st) == OTEL_OK && st.destinations[0].failed == 2 && st.destinations[0].exported == 0);
        CHECK(diag_count("/dev/full") >= 1);
        CHECK(otel_shutdown(0) == OTEL_OK);
    }
}

/* ---- concurrent writers ---------------------------------------------------------------------------- */

typedef struct writer {
    int n, id;
} writer;

static void *writer_main(void *p) {
    writer *w = (writer *)p;
    char pad[1500];
    memset(pad, 'a' + w->id, sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    for (int i = 0; i < w->n; i++) {
        otel_span *s = otel_span_start("w", NULL);
        otel_span_set_int(s, "writer", w->id);
        otel_span_set_int(s, "i", i);
        otel_span_set_str(s, "pad", pad);
        otel_span_end(s);
    }
    return NULL;
}

static void run_writers(int threads, int per_thread) {
    pthread_t t[8];
    writer w[8];
    for (int i = 0; i < threads; i++) {
        w[i].n = per_thread;
        w[i].id = i;
        CHECK(pthread_create(&t[i], NULL, writer_main, &w[i]) == 0);
    }
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
}

/* Spans in an OTLP/JSON file: counts ".spans.N.spanId" paths. */
static size_t otlp_span_count(const char *flat) {
    size_t n = 0;
    for (const char *p = flat; p && (p = strstr(p, ".spanId\t")) != NULL; p++) {
        const char *ls = p;
        while (ls > flat && ls[-1] != '\n') ls--;
        bool in_link = false;
        for (const char *q = ls; q + 7 <= p && !in_link; q++) in_link = memcmp(q, ".links.", 7) == 0;
        n += !in_link;
    }
    return n;
}

static void test_file_threads(void) {
#ifdef TEST_SANITIZED
    const int per = 200;
#else
    const int per = 500;
#endif
    const char *path = tmp_path("threads.jsonl");
    otel_desc d;
    char *flat, *canon;
    unlink(path);
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    CHECK(otel_file_exporter_create(&(otel_file_desc){path, OTEL_FILE_DEFAULT}, &d.destinations[0].exporter) == OTEL_OK);
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    CHECK(otel_init(&d) == OTEL_OK);
    run_writers(2, per);
    CHECK(otel_shutdown(0) == OTEL_OK);
    char *text = read_file(path, NULL);
    CHECK(text && count_lines(text) == (size_t)(2 * per));
    free(text);
    if (have_python) {
        canon = json_parse(path, "lines", 2 * per, &flat);
        CHECK(canon && flat && otlp_span_count(flat) == (size_t)(2 * per));
        free(canon);
        free(flat);
    }

    /* two destinations on the same path (two descriptors, O_APPEND) */
    unlink(path);
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    CHECK(otel_file_exporter_create(&(otel_file_desc){path, OTEL_FILE_DEFAULT}, &d.destinations[0].exporter) == OTEL_OK);
    CHECK(otel_file_exporter_create(&(otel_file_desc){path, OTEL_FILE_FLAT}, &d.destinations[1].exporter) == OTEL_OK);
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.destinations[1].processor = OTEL_PROCESSOR_SIMPLE;
    CHECK(otel_init(&d) == OTEL_OK);
    run_writers(2, per);
    CHECK(otel_shutdown(0) == OTEL_OK);
    text = read_file(path, NULL);
    CHECK(text && count_lines(text) == (size_t)(4 * per));
    size_t otlp = 0, flatn = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') + 1) {
        otlp += strncmp(p, "{\"resourceSpans\":", 17) == 0;
        flatn += strncmp(p, "{\"name\":\"w\"", 11) == 0;
    }
    CHECK(otlp == (size_t)(2 * per) && flatn == (size_t)(2 * per));
    free(text);
    if (have_python) {
        canon = json_parse(path, "lines", 4 * per, &flat);
        CHECK(canon != NULL);
        free(canon);
        free(flat);
    }

    /* batch processing from 4 threads: every span once, every line valid */
    unlink(path);
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    CHECK(otel_file_exporter_create(&(otel_file_desc){path, OTEL_FILE_DEFAULT}, &d.destinations[0].exporter) == OTEL_OK);
    d.destinations[0].max_queue_size = 100000;
    d.ring_bytes = 4u << 20; /* room for all of a thread's spans: no drops whatever the timing */
    CHECK(otel_init(&d) == OTEL_OK);
    run_writers(4, per);
    CHECK(otel_force_flush(0) == OTEL_OK);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destinations[0].exported == (uint64_t)(4 * per) &&
          st.destinations[0].dropped == 0 && st.spans_dropped == 0);
    CHECK(otel_shutdown(0) == OTEL_OK);
    text = read_file(path, NULL);
    size_t lines = count_lines(text);
    CHECK(lines >= 1 && lines <= (size_t)(4 * per));
    free(text);
    if (have_python) {
        canon = json_parse(path, "lines", (int)lines, &flat);
        CHECK(canon && flat && otlp_span_count(flat) == (size_t)(4 * per));
        free(canon);
        free(flat);
    }
}

/* ---- custom exporters, multi ---------------------------------------------------------------------- */

typedef struct probe {
    otel_export_result result;
    int exports, spans, flushes, shutdowns, after_shutdown;
    uint32_t timeout_ms, max_batch;
    bool resource_ok, scope_ok, data_ok;
    char last_name[64];
} probe;

static otel_export_result probe_export(const otel_span_batch *b, void *user) {
    probe *p = (probe *)user;
    if (p->shutdowns) p->after_shutdown++;
    p->exports++;
    p->spans += (int)b->count;
    p->timeout_ms = b->timeout_ms;
    if (b->count > p->max_batch) p->max_batch = (uint32_t)b->count;
    p->resource_ok = false;
    for (size_t i = 0; b->resource && i < b->resource->count; i++) {
        const otel_attr *a = &b->resource->attrs[i];
        if (a->key.len == 12 && memcmp(a->key.ptr, "service.name", 12) == 0 && a->value.type == OTEL_VALUE_STRING &&
            a->value.len == 6 && memcmp(a->value.u.s, "custom", 6) == 0)
            p->resource_ok = true;
    }
    p->scope_ok = true;
    p->data_ok = true;
    for (size_t i = 0; i < b->count; i++) {
        const otel_span_data *s = b->spans[i];
        p->scope_ok &= s->scope != NULL && s->scope->name.ptr != NULL;
        p->data_ok &= s->name.ptr != NULL && s->name.ptr[s->name.len] == '\0' && s->kind >= 1 && s->kind <= 5 &&
                      s->end_time_ns >= s->start_time_ns;
        snprintf(p->last_name, sizeof p->last_name, "%.*s", (int)s->name.len, s->name.ptr);
    }
    return p->result;
}

static otel_result probe_flush(uint32_t t, void *user) {
    (void)t;
    probe *p = (probe *)user;
    if (p->shutdowns) p->after_shutdown++;
    p->flushes++;
    return OTEL_OK;
}

static void probe_shutdown(uint32_t t, void *user) {
    (void)t;
    ((probe *)user)->shutdowns++;
}

static otel_exporter probe_exporter(probe *p, otel_export_result r) {
    memset(p, 0, sizeof *p);
    p->result = r;
    otel_exporter e = {probe_export, probe_flush, probe_shutdown, p, "probe", NULL, NULL, NULL};
    return e;
}

static void test_custom(void) {
    probe p;
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.service_name = "custom";
    d.destinations[0].exporter = probe_exporter(&p, OTEL_EXPORT_SUCCESS);
    d.destinations[0].schedule_delay_ms = 60000;
    d.destinations[0].export_timeout_ms = 4321;
    d.destinations[0].max_export_batch = 4;
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    for (int i = 0; i < 10; i++) otel_span_end(otel_span_start("c", NULL));
    CHECK(otel_force_flush(0) == OTEL_OK);
    CHECK(p.spans == 10 && p.max_batch == 4 && p.exports >= 3 && p.timeout_ms == 4321);
    CHECK(p.resource_ok && p.scope_ok && p.data_ok && p.flushes >= 1 && p.shutdowns == 0);
    otel_span_end(otel_span_start("last", NULL));
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 1 && strcmp(st.destinations[0].name, "probe") == 0);
    CHECK(otel_shutdown(0) == OTEL_OK); /* flushes first */
    CHECK(p.spans == 11 && strcmp(p.last_name, "last") == 0 && p.shutdowns == 1 && p.after_shutdown == 0);
    CHECK(otel_shutdown(0) == OTEL_OK && p.shutdowns == 1);
    CHECK(diag_count(NULL) == 0);

    /* a failing exporter: counted, reported once */
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.destinations[0].exporter = probe_exporter(&p, OTEL_EXPORT_FAILURE);
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    for (int i = 0; i < 5; i++) otel_span_end(otel_span_start("f", NULL));
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destinations[0].failed == 5 && st.destinations[0].exported == 0);
    CHECK(diag_count("failed") == 1);
    CHECK(otel_shutdown(0) == OTEL_OK && p.shutdowns == 1);
    CHECK(diag_count("failed") == 2); /* the shutdown summary */

    /* OTEL_SDK_DISABLED: the exporters handed to otel_init are released, never called */
    setenv("OTEL_SDK_DISABLED", "true", 1);
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.destinations[0].exporter = probe_exporter(&p, OTEL_EXPORT_SUCCESS);
    CHECK(otel_file_exporter_create(&(otel_file_desc){tmp_path("disabled.jsonl"), OTEL_FILE_DEFAULT},
                                    &d.destinations[1].exporter) == OTEL_OK); /* its fd is closed (ASan/valgrind) */
    CHECK(otel_init(&d) == OTEL_ERR_DISABLED);
    otel_span_end(otel_span_start("nothing", NULL));
    CHECK(otel_force_flush(0) == OTEL_ERR_STATE && otel_shutdown(0) == OTEL_OK);
    CHECK(p.shutdowns == 1 && p.exports == 0 && p.flushes == 0);
    env_clear();

    /* a SIMPLE and a BATCH destination side by side: each gets every span */
    otel_exporter bm;
    CHECK(otel_memory_exporter_create(0, &bm) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.destinations[0].exporter = probe_exporter(&p, OTEL_EXPORT_SUCCESS);
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.destinations[1].exporter = bm;
    d.destinations[1].processor = OTEL_PROCESSOR_BATCH;
    d.destinations[1].schedule_delay_ms = 60000;
    CHECK(otel_init(&d) == OTEL_OK);
    for (int i = 0; i < 6; i++) otel_span_end(otel_span_start("both", NULL));
    CHECK(p.spans == 6 && p.exports == 6); /* at span end, one by one */
    CHECK(otel_force_flush(0) == OTEL_OK && otel_memory_exporter_count(&bm) == 6);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destinations[0].exported == 6 && st.destinations[1].exported == 6);
    CHECK(otel_shutdown(0) == OTEL_OK && p.shutdowns == 1);
    otel_memory_exporter_destroy(&bm);

    /* the memory exporter's capacity */
    otel_exporter mem;
    CHECK(otel_memory_exporter_create(3, &mem) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.destinations[0].exporter = mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    CHECK(otel_init(&d) == OTEL_OK);
    for (int i = 0; i < 5; i++) otel_span_end(otel_span_start("m", NULL));
    CHECK(otel_memory_exporter_count(&mem) == 3);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destinations[0].exported == 3 && st.destinations[0].failed == 2);
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(otel_memory_exporter_count(&mem) == 3 && otel_memory_exporter_resource(&mem) != NULL);
    otel_memory_exporter_destroy(&mem);
    CHECK(mem.export_spans == NULL && otel_memory_exporter_count(&mem) == 0);
}

static void test_multi(void) {
    probe a, b, c;
    otel_exporter kids[3] = {probe_exporter(&a, OTEL_EXPORT_FAILURE), probe_exporter(&b, OTEL_EXPORT_SUCCESS),
                             probe_exporter(&c, OTEL_EXPORT_FAILURE)};
    otel_exporter m;
    otel_resource res = {NULL, 0, 0};
    otel_span_batch batch = {NULL, 0, &res, 100};
    CHECK(otel_multi_exporter_create(kids, 3, &m) == OTEL_OK && strcmp(m.name, "multi") == 0);
    CHECK(m.export_spans(&batch, m.user) == OTEL_EXPORT_SUCCESS); /* any one succeeds */
    CHECK(a.exports == 1 && b.exports == 1 && c.exports == 1);
    CHECK(m.force_flush(100, m.user) == OTEL_OK && a.flushes == 1 && b.flushes == 1 && c.flushes == 1);
    m.shutdown(100, m.user);
    CHECK(a.shutdowns == 1 && b.shutdowns == 1 && c.shutdowns == 1);
    kids[1] = probe_exporter(&b, OTEL_EXPORT_FAILURE);
    CHECK(otel_multi_exporter_create(kids, 3, &m) == OTEL_OK);
    CHECK(m.export_spans(&batch, m.user) == OTEL_EXPORT_FAILURE); /* all fail */
    m.shutdown(100, m.user);
    kids[0] = probe_exporter(&a, OTEL_EXPORT_SUCCESS);
    CHECK(otel_multi_exporter_create(kids, 1, &m) == OTEL_OK);
    CHECK(m.export_spans(&batch, m.user) == OTEL_EXPORT_SUCCESS);
    m.shutdown(100, m.user);
    /* bad arguments */
    otel_exporter many[OTEL_MAX_DESTINATIONS + 1];
    for (int i = 0; i <= OTEL_MAX_DESTINATIONS; i++) many[i] = kids[0];
    CHECK(otel_multi_exporter_create(kids, 0, &m) == OTEL_ERR_INVALID_ARG && m.export_spans == NULL);
    CHECK(otel_multi_exporter_create(NULL, 1, &m) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_multi_exporter_create(many, OTEL_MAX_DESTINATIONS + 1, &m) == OTEL_ERR_INVALID_ARG);
    otel_exporter holes[2] = {kids[0], {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
    CHECK(otel_multi_exporter_create(holes, 2, &m) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_multi_exporter_create(kids, 1, NULL) == OTEL_ERR_INVALID_ARG);

    /* in a pipeline: a failing child and a memory child */
    otel_exporter mem;
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    otel_exporter two[2] = {probe_exporter(&a, OTEL_EXPORT_FAILURE), mem};
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    CHECK(otel_multi_exporter_create(two, 2, &d.destinations[0].exporter) == OTEL_OK);
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    for (int i = 0; i < 4; i++) otel_span_end(otel_span_start("m", NULL));
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destinations[0].exported == 4 && st.destinations[0].failed == 0);
    CHECK(strcmp(st.destinations[0].name, "multi") == 0);
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(a.spans == 4 && a.shutdowns == 1 && otel_memory_exporter_count(&mem) == 4 && diag_count(NULL) == 0);
    otel_memory_exporter_destroy(&mem);
}

/* ---- factory, OTEL_TRACES_EXPORTER ------------------------------------------------------------------ */

static int factory_calls;
static void *factory_user;
static probe factory_probe;
static otel_result my_factory(otel_signal signal, otel_exporter *out, void *user) {
    (void)signal;
    factory_calls++;
    factory_user = user;
    *out = probe_exporter(&factory_probe, OTEL_EXPORT_SUCCESS);
    return OTEL_OK;
}

static void test_factory(void) {
    otel_exporter e;
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.default_exporters = "none";
    CHECK(otel_init(&d) == OTEL_OK); /* diagnostics go to diag_fn */
    setenv("OTEL_EXPORTER_FILE_PATH", tmp_path("factory.jsonl"), 1);
    static const char *const ok[] = {"console", "file", "memory", "none"};
    for (size_t i = 0; i < 4; i++) {
        memset(&e, 0, sizeof e);
        CHECK(otel_exporter_create(ok[i], &e) == OTEL_OK && e.export_spans != NULL);
        CHECK(e.name && strcmp(e.name, ok[i]) == 0);
        if (strcmp(ok[i], "none") == 0) {
            otel_span_batch b = {NULL, 0, NULL, 0};
            CHECK(e.export_spans(&b, e.user) == OTEL_EXPORT_SUCCESS);
        }
        if (strcmp(ok[i], "memory") == 0) otel_memory_exporter_destroy(&e);
        else close_exporter(&e);
    }
    diag_reset();
    memset(&e, 0x5a, sizeof e);
    CHECK(otel_exporter_create("otlp", &e) == OTEL_ERR_NOT_BUILT && e.export_spans == NULL && e.user == NULL);
    CHECK(otel_exporter_create("zipkin", &e) == OTEL_ERR_NOT_BUILT && e.export_spans == NULL);
    CHECK(diag_count("exporter 'otlp'") == 1 && diag_count("exporter 'zipkin'") == 1 && diag_count("otel_otlp.h") == 2);
    CHECK(otel_exporter_create("jaeger", &e) == OTEL_ERR_UNKNOWN && e.export_spans == NULL);
    CHECK(otel_exporter_create("", &e) == OTEL_ERR_UNKNOWN);
    CHECK(diag_count("jaeger") == 1);
    CHECK(otel_exporter_create(NULL, &e) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_exporter_create("console", NULL) == OTEL_ERR_INVALID_ARG);
    /* registered factories */
    static int u1, u2;
    CHECK(otel_exporter_register("mine", my_factory, &u1) == OTEL_OK);
    CHECK(otel_exporter_create("mine", &e) == OTEL_OK && factory_calls == 1 && factory_user == &u1);
    CHECK(e.export_spans == probe_export && e.user == &factory_probe);
    close_exporter(&e);
    CHECK(otel_exporter_register("mine", my_factory, &u2) == OTEL_OK); /* replaces */
    CHECK(otel_exporter_create("mine", &e) == OTEL_OK && factory_calls == 2 && factory_user == &u2);
    close_exporter(&e);
    CHECK(otel_exporter_register(NULL, my_factory, NULL) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_exporter_register("", my_factory, NULL) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_exporter_register("x", NULL, NULL) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_exporter_register("a-name-that-is-far-too-long-to-keep", my_factory, NULL) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_shutdown(0) == OTEL_OK);
    env_clear();
}

static const char *dest_name(const otel_stats *st, uint32_t i) {
    return i < st->destination_count && st->destinations[i].name ? st->destinations[i].name : "";
}

static void test_traces_exporter_env(void) {
    otel_exporter mem;
    otel_desc d;
    otel_stats st;
    const char *fp = tmp_path("env.jsonl");
    setenv("OTEL_EXPORTER_FILE_PATH", fp, 1);

    /* a list: one destination per name; the desc's destinations are not used */
    setenv("OTEL_TRACES_EXPORTER", "console,file", 1);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.destinations[0].exporter = mem;
    d.default_exporters = "memory";
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 2);
    CHECK(strcmp(dest_name(&st, 0), "console") == 0 && strcmp(dest_name(&st, 1), "file") == 0);
    CHECK(diag_count(NULL) == 0);
    CHECK(otel_shutdown(0) == OTEL_OK);
    /* an invalid name is skipped with a warning, the others stay */
    setenv("OTEL_TRACES_EXPORTER", " console , bogus ,, file ", 1);
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 2);
    CHECK(strcmp(dest_name(&st, 0), "console") == 0 && strcmp(dest_name(&st, 1), "file") == 0);
    CHECK(diag_count("bogus") >= 1 && diag_count("OTEL_TRACES_EXPORTER") == 1);
    CHECK(otel_shutdown(0) == OTEL_OK);
    /* env decides: spans go to the file only; desc.processor applies to named destinations */
    unlink(fp);
    setenv("OTEL_TRACES_EXPORTER", "file", 1);
    d.processor = OTEL_PROCESSOR_SIMPLE;
    CHECK(otel_init(&d) == OTEL_OK);
    otel_span_end(otel_span_start("to-file", NULL));
    char *text = read_file(fp, NULL);
    CHECK(text && count_lines(text) == 1 && strstr(text, "\"to-file\""));
    free(text);
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(otel_memory_exporter_count(&mem) == 0);
    d.processor = OTEL_PROCESSOR_DEFAULT;
    /* "none": no destination */
    setenv("OTEL_TRACES_EXPORTER", "none", 1);
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 0);
    CHECK(otel_shutdown(0) == OTEL_OK);
    /* lock_destinations ignores the env */
    setenv("OTEL_TRACES_EXPORTER", "console", 1);
    d.lock_destinations = true;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 1 && strcmp(dest_name(&st, 0), "memory") == 0);
    otel_span_end(otel_span_start("locked", NULL));
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(otel_memory_exporter_count(&mem) == 1);
    d.lock_destinations = false;
    /* unset: desc.destinations */
    unsetenv("OTEL_TRACES_EXPORTER");
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 1 && strcmp(dest_name(&st, 0), "memory") == 0);
    otel_span_end(otel_span_start("from-desc", NULL));
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(otel_memory_exporter_count(&mem) == 2);
    otel_memory_exporter_destroy(&mem);
    /* unset and no desc destinations: default_exporters, else otlp (not built: a warning) */
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.default_exporters = "file, memory";
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 2);
    CHECK(strcmp(dest_name(&st, 0), "file") == 0 && strcmp(dest_name(&st, 1), "memory") == 0);
    CHECK(otel_shutdown(0) == OTEL_OK);
    d.default_exporters = NULL;
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 0);
    CHECK(diag_count("otlp") >= 1);
    CHECK(otel_shutdown(0) == OTEL_OK);
    /* a registered name works in the list */
    setenv("OTEL_TRACES_EXPORTER", "mine,file", 1);
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 2 && strcmp(dest_name(&st, 0), "probe") == 0);
    CHECK(otel_shutdown(0) == OTEL_OK);
    env_clear();
}

/* Last: registers "otlp", which stays registered for the rest of the program. */
static void test_register_otlp(void) {
    otel_exporter e;
    CHECK(otel_exporter_register("otlp", my_factory, NULL) == OTEL_OK);
    int calls = factory_calls;
    CHECK(otel_exporter_create("otlp", &e) == OTEL_OK && factory_calls == calls + 1);
    close_exporter(&e);
    CHECK(otel_exporter_create("zipkin", &e) == OTEL_ERR_NOT_BUILT);
}

int main(void) {
    env_clear();
    const char *t = getenv("TEST_TMPDIR");
    if (t && *t) {
        snprintf(tmpdir, sizeof tmpdir, "%s", t);
    } else {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/otel_test_export_XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            return 1;
        }
    }
    const char *r = getenv("TEST_ROOT");
    snprintf(root, sizeof root, "%s", r && *r ? r : ".");
    char probe_path[600];
    snprintf(probe_path, sizeof probe_path, "%s/tests/json_check.py", root);
    if (!file_exists(probe_path)) { /* run from elsewhere: next to this source file */
        snprintf(root, sizeof root, "%s", __FILE__);
        char *slash = strrchr(root, '/');
        if (slash) *slash = 0;
        strncat(root, "/..", sizeof root - strlen(root) - 1);
    }
    have_python = system("python3 -c 'import json' >/dev/null 2>&1") == 0;
    test_console();
    test_file_otlp();
    test_file_flat();
    test_file_paths();
    test_file_threads();
    test_custom();
    test_multi();
    test_factory();
    test_traces_exporter_env();
    test_register_otlp();
    return TEST_DONE();
}
