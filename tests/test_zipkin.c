/* test_zipkin.c - the Zipkin exporter (otel_otlp.h [zipkin]) against an in-process receiver
   on 127.0.0.1 (tests/otlp_test_server.h). Request bodies are parsed by python3's json
   module (strict: UTF-8, no duplicate keys, no NaN) and flattened to "path<TAB>json" lines,
   then checked field by field against the spec's mapping: ids, parentId on children only,
   kinds, microsecond rounding of timestamp/duration/annotations, localEndpoint from
   service.name, remoteEndpoint ranking on client/producer spans, tags of every attribute
   type, status and error tags, scope and dropped-count tags, events as annotations, odd and
   invalid strings. Also: the request line and headers, gzip, endpoint and timeout from the
   environment, retry on 503 then success, no retry on 400, cancel, the factory name and
   OTEL_TRACES_EXPORTER=zipkin / console,zipkin. Without python3 the JSON checks print
   SKIPPED. tests/test_zipkin_curl.c builds this file again with OTEL_USE_CURL.          */
/* tsan */
#define _GNU_SOURCE 1
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"
#include "otlp_test_server.h"
#include "test.h"
#include "test_diag.h"

#include <math.h>
#include <pthread.h>
#include <sys/stat.h>

#ifdef OTEL_USE_CURL
#define TRANSPORT "curl"
#else
#define TRANSPORT "builtin"
#endif

/* ---- helpers ----------------------------------------------------------------------- */

static char g_tmp[512];
static bool g_python;

static const char FLAT_PY[] =
    "import gzip, json, sys\n"
    "def pairs(ps):\n"
    "    d = {}\n"
    "    for k, v in ps:\n"
    "        if k in d: raise ValueError('duplicate key %r' % k)\n"
    "        d[k] = v\n"
    "    return d\n"
    "def const(c): raise ValueError('non-standard constant ' + c)\n"
    "def loads(t): return json.loads(t, object_pairs_hook=pairs, parse_constant=const)\n"
    "def dumps(v): return json.dumps(v, ensure_ascii=False, separators=(',', ':'), sort_keys=True)\n"
    "raw = open(sys.argv[1], 'rb').read()\n"
    "if len(sys.argv) > 2 and sys.argv[2] == 'gzip': raw = gzip.decompress(raw)\n"
    "doc = loads(raw.decode('utf-8'))\n"
    "assert isinstance(doc, list), 'not an array'\n"
    "out = ['len\\t%d' % len(doc)]\n"
    "def esc(s): return json.dumps(s, ensure_ascii=False)[1:-1]\n"
    "def walk(p, v):\n"
    "    if isinstance(v, dict):\n"
    "        out.append(p + '/{}\\t' + dumps(sorted(v)))\n"
    "        for k in v: walk(p + '/' + esc(k), v[k])\n"
    "    elif isinstance(v, list):\n"
    "        out.append(p + '/#\\t%d' % len(v))\n"
    "        for i, x in enumerate(v): walk(p + '/' + str(i), x)\n"
    "    else:\n"
    "        out.append(p + '\\t' + dumps(v))\n"
    "        if isinstance(v, str) and v[:1] == '[': out.append(p + '/json\\t' + dumps(loads(v)))\n"
    "        if isinstance(v, str) and v[:1] == '\"' and p.endswith('/value'):\n"
    "            out.append(p + '/json\\t' + dumps(loads('{' + v + '}')))\n"
    "seen = set()\n"
    "for s in doc:\n"
    "    n = esc(s.get('name', ''))\n"
    "    assert n not in seen, 'two spans named ' + n\n"
    "    seen.add(n)\n"
    "    walk(n, s)\n"
    "print('\\n'.join(out))\n";

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (char *)malloc((size_t)n + 3);
    p[0] = '\n';
    if (fread(p + 1, 1, (size_t)n, f) != (size_t)n) n = 0;
    p[n + 1] = '\n';
    p[n + 2] = 0;
    fclose(f);
    return p;
}

/* Parses a request body with python3; returns "\n" + "path\tjson" lines + "\n", or NULL. */
static char *flatten(const void *body, size_t len, bool gz) {
    static int seq;
    char path[700], py[700], flat[700], cmd[2400];
    FILE *f;
    snprintf(path, sizeof path, "%s/body-%d.json", g_tmp, seq++); /* kept for a look after a failure */
    snprintf(py, sizeof py, "%s/flat.py", g_tmp);
    snprintf(flat, sizeof flat, "%s/flat.txt", g_tmp);
    f = fopen(path, "wb");
    if (!f) return NULL;
    fwrite(body, 1, len, f);
    fclose(f);
    f = fopen(py, "w");
    if (!f) return NULL;
    fputs(FLAT_PY, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' %s > '%s'", py, path, gz ? "gzip" : "", flat);
    if (system(cmd) != 0) {
        fprintf(stderr, "python3 rejected the body (%s)\n", path);
        return NULL;
    }
    return read_all(flat);
}

/* The JSON at `path` in a flattened body ("" when absent). */
static const char *jget(const char *flat, const char *path) {
    static char val[2048];
    char needle[600];
    const char *p, *e;
    size_t n;
    val[0] = 0;
    if (!flat) return val;
    snprintf(needle, sizeof needle, "\n%s\t", path);
    p = strstr(flat, needle);
    if (!p) return val;
    p += strlen(needle);
    e = strchr(p, '\n');
    n = e ? (size_t)(e - p) : strlen(p);
    if (n >= sizeof val) n = sizeof val - 1;
    memcpy(val, p, n);
    val[n] = 0;
    return val;
}
static bool jis(const char *flat, const char *path, const char *want, int line) {
    const char *got = jget(flat, path);
    if (!strcmp(got, want)) return true;
    fprintf(stderr, "test_zipkin.c:%d: %s: got '%s', want '%s'\n", line, path, got, want);
    return false;
}
#define CHECKJ(flat, path, want) CHECK(jis((flat), (path), (want), __LINE__))

static void hex(char *out, const uint8_t *b, size_t n) {
    size_t i;
    out[0] = '"';
    for (i = 0; i < n; i++) sprintf(out + 1 + 2 * i, "%02x", b[i]);
    out[1 + 2 * n] = '"';
    out[2 + 2 * n] = 0;
}

static void unset_env(void) {
    unsetenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT");
    unsetenv("OTEL_EXPORTER_ZIPKIN_TIMEOUT");
    unsetenv("OTEL_TRACES_EXPORTER");
}

static void zdesc(otel_zipkin_desc *d, const test_server *s, char *url, size_t cap) {
    memset(d, 0, sizeof *d);
    snprintf(url, cap, "http://127.0.0.1:%d/api/v2/spans", s->port);
    d->endpoint = url;
    d->timeout_ms = 5000;
    d->retry_initial_ms = 50;
    d->retry_max_ms = 200;
}

static otel_otlp_stats zstats(const otel_exporter *x) {
    otel_otlp_stats st;
    otel_zipkin_exporter_stats(x, &st);
    return st;
}

/* Hand-made spans (no attributes) for the cases the SDK would not produce. */
static otel_span_data g_spans[8];
static const otel_span_data *g_ptrs[8];
static otel_span_batch handmade(size_t n) {
    otel_span_batch b;
    size_t i;
    for (i = 0; i < n && i < 8; i++) {
        otel_span_data *s = &g_spans[i];
        memset(s, 0, sizeof *s);
        memset(s->trace_id, 0xab, 16);
        memset(s->span_id, (int)(i + 1), 8);
        s->trace_flags = 1;
        s->kind = OTEL_SPAN_KIND_INTERNAL;
        s->start_time_ns = 1700000000000000000ull + i * 1000;
        s->end_time_ns = s->start_time_ns + 5000;
        static const char *const names[8] = {"op0", "op1", "op2", "op3", "op4", "op5", "op6", "op7"};
        s->name.ptr = names[i];
        s->name.len = 3;
        g_ptrs[i] = s;
    }
    memset(&b, 0, sizeof b);
    b.spans = g_ptrs;
    b.count = n;
    return b;
}

/* ---- doubles: the printf-free path prints what %.15g..%.17g would -------------------- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static void test_doubles(void) {
    static const struct { double d; const char *s; } fixed[] = {
        {0.0, "0.0"}, {-0.0, "-0.0"}, {1.0, "1.0"}, {-2.5, "-2.5"}, {0.1, "0.1"}, {0.0001, "0.0001"},
        {0.00012, "0.00012"}, {1e-5, "1e-05"}, {123456.789, "123456.789"}, {1e15, "1e+15"},
        {999999999999999.0, "999999999999999.0"}, {0.1 + 0.2, "0.30000000000000004"}, {1e300, "1e+300"},
        {5e-324, "4.94065645841247e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
        {9007199254740993.0, "9007199254740992.0"}, {0.000123456, "0.000123456"}, {1234.5678901, "1234.5678901"}};
    int i, bad = 0, fast = 0;
    for (i = 0; i < (int)(sizeof fixed / sizeof fixed[0]); i++) {
        char out[48];
        otel__zk_double(out, fixed[i].d);
        if (strcmp(out, fixed[i].s)) fprintf(stderr, "double %.17g: got %s, want %s\n", fixed[i].d, out, fixed[i].s);
        CHECK(!strcmp(out, fixed[i].s));
    }
    /* random short decimals and random bit patterns: fast path == slow path, and exact */
    for (i = 0; i < 200000; i++) {
        char a[48], b[48];
        double d;
        if (i & 1) {
            uint64_t bits = rnd();
            memcpy(&d, &bits, sizeof d);
            if (d != d || d > DBL_MAX || d < -DBL_MAX) continue;
        } else {
            static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
            int64_t m = (int64_t)(rnd() % 2000000000000ull) - 1000000000000ll;
            d = (double)(m >> (rnd() % 40)) / p10[rnd() % 9];
        }
        if (otel__zk_double_fast(a, d)) {
            fast++;
            otel__zk_double_slow(b, d);
            if (strcmp(a, b) || strtod(a, NULL) != d) {
                if (bad++ < 5) fprintf(stderr, "double %.17g: fast %s, slow %s\n", d, a, b);
            }
        }
    }
    CHECK(bad == 0);
    CHECK(fast > 50000);
}

/* ---- the mapping, with spans from the SDK ------------------------------------------ */

#define T0 1700000000000000000ull

static void test_mapping(void) {
    test_server srv;
    otel_exporter mem, zx;
    otel_zipkin_desc zd;
    otel_desc d;
    otel_attr res[3];
    otel_span_desc sd;
    otel_span *root, *s;
    otel_tracer *tr;
    otel_span_context rc;
    const otel_span_data *spans[32];
    otel_span_batch b;
    char url[96], want[128], rid[40];
    size_t n, i;
    char *flat;
    unset_env();
    CHECK(ts_start(&srv, true, 20000));
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.service_name = "zipkin-test";
    res[0] = otel_attr_str("service.namespace", "shop");
    res[1] = otel_attr_str("host.name", "h1"); /* resource attributes are not tags */
    res[2] = otel_attr_int("res.int", 5);
    d.resource_attrs = res;
    d.resource_attr_count = 3;
    d.destinations[0].exporter = mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.lock_destinations = true;
    d.diag.func = diag_fn;
    CHECK(otel_init(&d) == OTEL_OK);
    tr = otel_tracer_get("zipkin-test-lib", "1.2.3");

    /* root SERVER: every attribute type; starts 400 ns past a microsecond, lasts 1500 ns */
    memset(&sd, 0, sizeof sd);
    sd.kind = OTEL_SPAN_KIND_SERVER;
    sd.start_time_ns = T0 + 400;
    sd.tracer = tr;
    sd.root = true;
    root = otel_span_start("root", &sd);
    otel_span_set_str(root, "http.method", "GET");
    otel_span_set_bool(root, "flag.t", true);
    otel_span_set_bool(root, "flag.f", false);
    otel_span_set_int(root, "int.neg", -42);
    otel_span_set_int(root, "int.min", INT64_MIN);
    otel_span_set_double(root, "dbl", 1.5);
    otel_span_set_double(root, "dbl.tenth", 0.1);
    otel_span_set_double(root, "dbl.int", 3.0);
    otel_span_set_double(root, "dbl.nan", NAN);
    otel_span_set_double(root, "dbl.ninf", -INFINITY);
    {
        static const char *const sa[] = {"a", "b\"c", "\xc3\xa9"};
        static const bool ba[] = {true, false};
        static const int64_t ia[] = {1, -2, 9007199254740993};
        static const double da[] = {1.5, 2.0, -0.25};
        otel_attr arr[5];
        arr[0] = otel_attr_str_array("arr.str", sa, 3);
        arr[1] = otel_attr_bool_array("arr.bool", ba, 2);
        arr[2] = otel_attr_int_array("arr.int", ia, 3);
        arr[3] = otel_attr_double_array("arr.dbl", da, 3);
        arr[4] = otel_attr_int_array("arr.empty", NULL, 0);
        otel_span_set_attrs(root, arr, 5);
    }
    otel_span_set_status(root, OTEL_STATUS_OK, NULL);
    CHECK(otel_span_get_context(root, &rc));

    /* CLIENT child: peer.service beats server.address; a boolean "error" attribute is removed */
    memset(&sd, 0, sizeof sd);
    sd.kind = OTEL_SPAN_KIND_CLIENT;
    sd.parent = root;
    sd.tracer = tr;
    sd.start_time_ns = T0 + 1500; /* rounds up */
    s = otel_span_start("client-call", &sd);
    otel_span_set_str(s, "server.address", "srv.example");
    otel_span_set_str(s, "peer.service", "billing");
    otel_span_set_bool(s, "error", false);
    otel_span_set_status(s, OTEL_STATUS_ERROR, "boom \"x\"");
    otel_span_end_at(s, T0 + 1500 + 999); /* 999 ns -> 1 us */

    /* PRODUCER: network.peer.address (rank 4) beats net.sock.peer.name (rank 7) */
    sd.kind = OTEL_SPAN_KIND_PRODUCER;
    sd.start_time_ns = T0 + 10000;
    s = otel_span_start("producer", &sd);
    otel_span_set_str(s, "net.sock.peer.name", "sock-name");
    otel_span_set_str(s, "network.peer.address", "10.1.2.3");
    otel_span_set_int(s, "network.peer.port", 5672);
    otel_span_end_at(s, T0 + 10000); /* zero length -> 1 us */

    /* CLIENT, IPv6 (canonicalised) with its port; ERROR without a description */
    sd.kind = OTEL_SPAN_KIND_CLIENT;
    sd.start_time_ns = T0 + 20000;
    s = otel_span_start("client-v6", &sd);
    otel_span_set_str(s, "net.sock.peer.addr", "2001:DB8:0:0::1");
    otel_span_set_int(s, "net.sock.peer.port", 443);
    otel_span_set_status(s, OTEL_STATUS_ERROR, NULL);
    otel_span_end_at(s, T0 + 20000 + 2500); /* 2500 ns -> 3 us (half up) */

    /* CLIENT: an address that is no IP is passed over; db.name (rank 11) is left */
    sd.start_time_ns = T0 + 30000;
    s = otel_span_start("client-badip", &sd);
    otel_span_set_str(s, "network.peer.address", "not-an-ip");
    otel_span_set_str(s, "db.name", "orders");
    otel_span_end_at(s, T0 + 30000 + 2499); /* 2499 -> 2 */

    /* CLIENT: an IPv4-mapped IPv6 socket address, port given as a string */
    sd.start_time_ns = T0 + 40000;
    s = otel_span_start("client-mapped", &sd);
    otel_span_set_str(s, "db.name", "orders");
    otel_span_set_str(s, "server.socket.address", "::ffff:192.0.2.7");
    otel_span_set_str(s, "server.socket.port", "8080");
    otel_span_end_at(s, T0 + 41000);

    /* SERVER: peer attributes do not make a remoteEndpoint */
    sd.kind = OTEL_SPAN_KIND_SERVER;
    sd.start_time_ns = T0 + 50000;
    s = otel_span_start("server-peer", &sd);
    otel_span_set_str(s, "peer.service", "x");
    otel_span_end_at(s, T0 + 51000);

    /* CONSUMER on the default tracer (scope "otel.h", no version); status unset */
    sd.kind = OTEL_SPAN_KIND_CONSUMER;
    sd.tracer = NULL;
    sd.start_time_ns = T0 + 60000;
    s = otel_span_start("consumer", &sd);
    otel_span_end_at(s, T0 + 61000);

    /* INTERNAL with events; attributes named like generated tags */
    sd.kind = OTEL_SPAN_KIND_INTERNAL;
    sd.tracer = tr;
    sd.start_time_ns = T0 + 70000;
    s = otel_span_start("internal", &sd);
    otel_span_set_str(s, "otel.status_code", "user-value"); /* status unset: kept */
    otel_span_set_str(s, "otel.scope.name", "bogus");       /* the scope's tag wins */
    otel_span_set_str(s, "service.namespace", "override");  /* wins over the resource's */
    otel_span_add_event_at(s, "ev-plain", T0 + 70499, NULL, 0);
    {
        static const int64_t ia[] = {1, 2};
        otel_attr ea[5];
        ea[0] = otel_attr_str("k", "v\"q");
        ea[1] = otel_attr_int("n", 7);
        ea[2] = otel_attr_bool("b", true);
        ea[3] = otel_attr_double("d", 0.5);
        ea[4] = otel_attr_int_array("ia", ia, 2);
        otel_span_add_event_at(s, "ev-attrs", T0 + 70500, ea, 5);
    }
    otel_span_end_at(s, T0 + 80000);

    /* odd strings: quotes, backslash, control characters, multi-byte UTF-8 */
    sd.start_time_ns = T0 + 90000;
    s = otel_span_start("odd \"q\" \\ \n\t\x01 \xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80", &sd);
    otel_span_set_str(s, "k\"ey\n", "v\x1f\x7f/\xc3\xa9");
    otel_span_end_at(s, T0 + 91000);

    otel_span_end_at(root, T0 + 400 + 1500); /* 1500 ns -> 2 us (half up) */
    CHECK(otel_force_flush(5000) == OTEL_OK);

    n = otel_memory_exporter_count(&mem);
    CHECK(n == 10);
    for (i = 0; i < n && i < 32; i++) spans[i] = otel_memory_exporter_span(&mem, i);
    memset(&b, 0, sizeof b);
    b.spans = spans;
    b.count = n;
    b.resource = otel_memory_exporter_resource(&mem);
    zdesc(&zd, &srv, url, sizeof url);
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&srv) == 1);
    if (!g_python) {
        printf("SKIPPED: test_zipkin JSON mapping checks (python3 not installed)\n");
        goto done;
    }
    flat = flatten(ts_req(&srv, 0)->body, ts_req(&srv, 0)->body_len, false);
    CHECK(flat != NULL);
    if (!flat) goto done;
    CHECKJ(flat, "len", "10");
    hex(rid, rc.span_id, 8);
    /* ids: every span's own, lower-hex; one trace */
    for (i = 0; i < n; i++) {
        char path[300], nm[200], id[40];
        const otel_span_data *sp = spans[i];
        if (sp->name.ptr[0] == 'o') continue; /* the odd one: checked below */
        snprintf(nm, sizeof nm, "%.*s", (int)sp->name.len, sp->name.ptr);
        snprintf(path, sizeof path, "%s/traceId", nm);
        hex(id, rc.trace_id, 16);
        CHECKJ(flat, path, id);
        snprintf(path, sizeof path, "%s/id", nm);
        hex(id, sp->span_id, 8);
        CHECKJ(flat, path, id);
        snprintf(path, sizeof path, "%s/parentId", nm);
        CHECKJ(flat, path, strcmp(nm, "root") ? rid : "");
        snprintf(path, sizeof path, "%s/localEndpoint/serviceName", nm);
        CHECKJ(flat, path, "\"zipkin-test\"");
    }
    CHECKJ(flat, "root/{}", "[\"duration\",\"id\",\"kind\",\"localEndpoint\",\"name\",\"tags\",\"timestamp\",\"traceId\"]");
    CHECKJ(flat, "root/localEndpoint/{}", "[\"serviceName\"]");
    /* kinds */
    CHECKJ(flat, "root/kind", "\"SERVER\"");
    CHECKJ(flat, "client-call/kind", "\"CLIENT\"");
    CHECKJ(flat, "producer/kind", "\"PRODUCER\"");
    CHECKJ(flat, "consumer/kind", "\"CONSUMER\"");
    CHECKJ(flat, "internal/kind", "");
    CHECK(strstr(jget(flat, "internal/{}"), "kind") == NULL);
    /* microseconds: timestamp rounded half up, duration rounded, at least 1 */
    CHECKJ(flat, "root/timestamp", "1700000000000000");
    CHECKJ(flat, "root/duration", "2");
    CHECKJ(flat, "client-call/timestamp", "1700000000000002");
    CHECKJ(flat, "client-call/duration", "1");
    CHECKJ(flat, "producer/timestamp", "1700000000000010");
    CHECKJ(flat, "producer/duration", "1");
    CHECKJ(flat, "client-v6/duration", "3");
    CHECKJ(flat, "client-badip/duration", "2");
    CHECKJ(flat, "internal/duration", "10");
    /* tags of every type, all strings */
    CHECKJ(flat, "root/tags/http.method", "\"GET\"");
    CHECKJ(flat, "root/tags/flag.t", "\"true\"");
    CHECKJ(flat, "root/tags/flag.f", "\"false\"");
    CHECKJ(flat, "root/tags/int.neg", "\"-42\"");
    CHECKJ(flat, "root/tags/int.min", "\"-9223372036854775808\"");
    CHECKJ(flat, "root/tags/dbl", "\"1.5\"");
    CHECKJ(flat, "root/tags/dbl.tenth", "\"0.1\"");
    CHECKJ(flat, "root/tags/dbl.int", "\"3.0\"");
    CHECKJ(flat, "root/tags/dbl.nan", "\"NaN\"");
    CHECKJ(flat, "root/tags/dbl.ninf", "\"-Infinity\"");
    CHECKJ(flat, "root/tags/arr.str", "\"[\\\"a\\\",\\\"b\\\\\\\"c\\\",\\\"é\\\"]\"");
    CHECKJ(flat, "root/tags/arr.str/json", "[\"a\",\"b\\\"c\",\"é\"]");
    CHECKJ(flat, "root/tags/arr.bool", "\"[true,false]\"");
    CHECKJ(flat, "root/tags/arr.int", "\"[1,-2,9007199254740993]\"");
    CHECKJ(flat, "root/tags/arr.dbl", "\"[1.5,2.0,-0.25]\"");
    CHECKJ(flat, "root/tags/arr.dbl/json", "[1.5,2.0,-0.25]");
    CHECKJ(flat, "root/tags/arr.empty", "\"[]\"");
    CHECKJ(flat, "root/tags/otel.status_code", "\"OK\"");
    CHECKJ(flat, "root/tags/error", "");
    CHECKJ(flat, "root/tags/otel.scope.name", "\"zipkin-test-lib\"");
    CHECKJ(flat, "root/tags/otel.scope.version", "\"1.2.3\"");
    CHECKJ(flat, "root/tags/otel.library.name", "\"zipkin-test-lib\"");
    CHECKJ(flat, "root/tags/otel.library.version", "\"1.2.3\"");
    CHECKJ(flat, "root/tags/service.namespace", "\"shop\"");
    CHECKJ(flat, "root/tags/host.name", "");
    CHECKJ(flat, "root/tags/res.int", "");
    CHECKJ(flat, "root/tags/service.name", "");
    CHECKJ(flat, "root/tags/{}",
           "[\"arr.bool\",\"arr.dbl\",\"arr.empty\",\"arr.int\",\"arr.str\",\"dbl\",\"dbl.int\",\"dbl.nan\","
           "\"dbl.ninf\",\"dbl.tenth\",\"flag.f\",\"flag.t\",\"http.method\",\"int.min\",\"int.neg\","
           "\"otel.library.name\",\"otel.library.version\",\"otel.scope.name\",\"otel.scope.version\","
           "\"otel.status_code\",\"service.namespace\"]");
    /* status ERROR: otel.status_code and error = description; the boolean error is gone */
    CHECKJ(flat, "client-call/tags/otel.status_code", "\"ERROR\"");
    CHECKJ(flat, "client-call/tags/error", "\"boom \\\"x\\\"\"");
    CHECKJ(flat, "client-v6/tags/error", "\"\"");
    CHECKJ(flat, "consumer/tags/otel.status_code", "");
    CHECKJ(flat, "consumer/tags/{}", "[\"otel.library.name\",\"otel.scope.name\",\"service.namespace\"]");
    CHECKJ(flat, "consumer/tags/otel.scope.name", "\"otel.h\"");
    /* remote endpoints */
    CHECKJ(flat, "client-call/remoteEndpoint/{}", "[\"serviceName\"]");
    CHECKJ(flat, "client-call/remoteEndpoint/serviceName", "\"billing\"");
    CHECKJ(flat, "client-call/tags/server.address", "\"srv.example\""); /* still a tag */
    CHECKJ(flat, "producer/remoteEndpoint/{}", "[\"ipv4\",\"port\"]");
    CHECKJ(flat, "producer/remoteEndpoint/ipv4", "\"10.1.2.3\"");
    CHECKJ(flat, "producer/remoteEndpoint/port", "5672");
    CHECKJ(flat, "client-v6/remoteEndpoint/{}", "[\"ipv6\",\"port\"]");
    CHECKJ(flat, "client-v6/remoteEndpoint/ipv6", "\"2001:db8::1\"");
    CHECKJ(flat, "client-v6/remoteEndpoint/port", "443");
    CHECKJ(flat, "client-badip/remoteEndpoint/{}", "[\"serviceName\"]");
    CHECKJ(flat, "client-badip/remoteEndpoint/serviceName", "\"orders\"");
    CHECKJ(flat, "client-mapped/remoteEndpoint/ipv4", "\"192.0.2.7\"");
    CHECKJ(flat, "client-mapped/remoteEndpoint/port", "8080");
    CHECKJ(flat, "server-peer/remoteEndpoint/{}", "");
    CHECKJ(flat, "root/remoteEndpoint/{}", "");
    /* generated tags win; user tags of other names stay */
    CHECKJ(flat, "internal/tags/otel.status_code", "\"user-value\"");
    CHECKJ(flat, "internal/tags/otel.scope.name", "\"zipkin-test-lib\"");
    CHECKJ(flat, "internal/tags/service.namespace", "\"override\"");
    /* events as annotations */
    CHECKJ(flat, "internal/annotations/#", "2");
    CHECKJ(flat, "internal/annotations/0/{}", "[\"timestamp\",\"value\"]");
    CHECKJ(flat, "internal/annotations/0/timestamp", "1700000000000070");
    CHECKJ(flat, "internal/annotations/0/value", "\"ev-plain\"");
    CHECKJ(flat, "internal/annotations/1/timestamp", "1700000000000071");
    CHECKJ(flat, "internal/annotations/1/value/json", "{\"ev-attrs\":{\"b\":true,\"d\":0.5,\"ia\":[1,2],\"k\":\"v\\\"q\",\"n\":7}}");
    CHECKJ(flat, "root/annotations/#", "");
    /* odd strings survive escaping */
    snprintf(want, sizeof want, "%s", "odd \\\"q\\\" \\\\ \\n\\t\\u0001 ü € 😀");
    {
        char path[300];
        snprintf(path, sizeof path, "%s/name", want);
        CHECKJ(flat, path, "\"odd \\\"q\\\" \\\\ \\n\\t\\u0001 ü € 😀\"");
        snprintf(path, sizeof path, "%s/tags/k\\\"ey\\n", want);
        CHECKJ(flat, path, "\"v\\u001f\x7f/é\"");
        snprintf(path, sizeof path, "%s/parentId", want);
        CHECKJ(flat, path, rid);
    }
    free(flat);
done:
    zx.shutdown(1000, zx.user);
    otel_shutdown(2000);
    otel_memory_exporter_destroy(&mem);
    ts_stop(&srv);
}

/* ---- hand-made spans: rounding edges, dropped counts, invalid UTF-8 -------------------- */

static void test_handmade(void) {
    test_server srv;
    otel_zipkin_desc zd;
    otel_exporter zx;
    otel_span_batch b = handmade(6);
    otel_scope sc;
    char url[96];
    char *flat;
    CHECK(ts_start(&srv, true, 20000));
    /* 0: a root without a resource; 999 ns starting on a boundary */
    g_spans[0].name.ptr = "r0"; g_spans[0].name.len = 2;
    g_spans[0].start_time_ns = T0;
    g_spans[0].end_time_ns = T0 + 999;
    /* 1: has_parent with a parent id; end before start -> duration 1; dropped counts */
    g_spans[1].name.ptr = "c1"; g_spans[1].name.len = 2;
    g_spans[1].has_parent = true;
    memset(g_spans[1].parent_span_id, 0x11, 8);
    g_spans[1].start_time_ns = T0 + 2000;
    g_spans[1].end_time_ns = T0 + 1000;
    g_spans[1].dropped_attrs = 3;
    g_spans[1].dropped_events = 4;
    g_spans[1].dropped_links = 5;
    /* 2: invalid UTF-8 in the name and the status description */
    g_spans[2].name.ptr = "bad\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80.";
    g_spans[2].name.len = strlen(g_spans[2].name.ptr);
    g_spans[2].status_code = OTEL_STATUS_ERROR;
    g_spans[2].status_message.ptr = "m\xc0\xaf";
    g_spans[2].status_message.len = 3;
    /* 3: a scope with a name but no version; 1499 ns -> 1, starting at ...999 ns */
    memset(&sc, 0, sizeof sc);
    sc.name.ptr = "only-name";
    sc.name.len = 9;
    g_spans[3].name.ptr = "s3"; g_spans[3].name.len = 2;
    g_spans[3].scope = &sc;
    g_spans[3].start_time_ns = T0 + 3999;
    g_spans[3].end_time_ns = T0 + 3999 + 1499;
    /* 4: has_parent but an all-zero parent id: no parentId; empty name */
    g_spans[4].name.ptr = "";
    g_spans[4].name.len = 0;
    g_spans[4].has_parent = true;
    /* 5: a kind out of range: no kind */
    g_spans[5].name.ptr = "k5"; g_spans[5].name.len = 2;
    g_spans[5].kind = 9;
    zdesc(&zd, &srv, url, sizeof url);
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    if (!g_python) {
        printf("SKIPPED: test_zipkin hand-made span checks (python3 not installed)\n");
    } else if ((flat = flatten(ts_req(&srv, 0)->body, ts_req(&srv, 0)->body_len, false)) != NULL) {
        CHECKJ(flat, "len", "6");
        CHECKJ(flat, "r0/traceId", "\"abababababababababababababababab\"");
        CHECKJ(flat, "r0/id", "\"0101010101010101\"");
        CHECKJ(flat, "r0/parentId", "");
        CHECKJ(flat, "r0/localEndpoint/serviceName", "\"unknown_service\"");
        CHECKJ(flat, "r0/timestamp", "1700000000000000");
        CHECKJ(flat, "r0/duration", "1");
        CHECKJ(flat, "r0/tags/{}", "");
        CHECKJ(flat, "c1/parentId", "\"1111111111111111\"");
        CHECKJ(flat, "c1/duration", "1");
        CHECKJ(flat, "c1/tags/{}", "[\"otel.dropped_attributes_count\",\"otel.dropped_events_count\",\"otel.dropped_links_count\"]");
        CHECKJ(flat, "c1/tags/otel.dropped_attributes_count", "\"3\"");
        CHECKJ(flat, "c1/tags/otel.dropped_events_count", "\"4\"");
        CHECKJ(flat, "c1/tags/otel.dropped_links_count", "\"5\"");
        /* each invalid byte -> U+FFFD */
        CHECKJ(flat, "bad\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd./tags/error",
               "\"m\xef\xbf\xbd\xef\xbf\xbd\"");
        CHECKJ(flat, "s3/timestamp", "1700000000000004");
        CHECKJ(flat, "s3/duration", "1");
        CHECKJ(flat, "s3/tags/{}", "[\"otel.library.name\",\"otel.scope.name\"]");
        CHECKJ(flat, "/parentId", "");
        CHECKJ(flat, "/{}", "[\"duration\",\"id\",\"localEndpoint\",\"timestamp\",\"traceId\"]"); /* no name */
        CHECKJ(flat, "k5/kind", "");
        free(flat);
    } else {
        CHECK(!"python3 parsed the hand-made body");
    }
    zx.shutdown(1000, zx.user);
    ts_stop(&srv);
}

/* ---- transport: request line, headers, gzip, retries ------------------------------------ */

static void test_request_and_gzip(void) {
    test_server srv;
    otel_zipkin_desc zd;
    otel_otlp_header h[1];
    otel_exporter zx;
    otel_span_batch b = handmade(3);
    char url[96], host[64];
    CHECK(ts_start(&srv, true, 20000));
    TS_SET(&srv, dflt.status = 202); /* what Zipkin answers */
    zdesc(&zd, &srv, url, sizeof url);
    h[0].name = "x-api-key";
    h[0].value = "k1";
    zd.headers = h;
    zd.header_count = 1;
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    CHECK(zx.name && !strcmp(zx.name, "zipkin"));
    CHECK(otel_zipkin_exporter_url(&zx) && !strcmp(otel_zipkin_exporter_url(&zx), url));
    CHECK(otel_otlp_exporter_url(&zx) == NULL); /* not an OTLP exporter */
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&srv) == 2 && ts_connections(&srv) == 1); /* keep-alive */
    CHECK(!strncmp(ts_req(&srv, 0)->head, "POST /api/v2/spans HTTP/1.1\r\n", 29));
    CHECK(strcasestr(ts_req(&srv, 0)->head, "\r\nContent-Type: application/json\r\n") != NULL);
    CHECK(strcasestr(ts_req(&srv, 0)->head, "x-protobuf") == NULL);
    CHECK(strcasestr(ts_req(&srv, 0)->head, "\r\nx-api-key: k1\r\n") != NULL);
    CHECK(strcasestr(ts_req(&srv, 0)->head, "Content-Encoding") == NULL);
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", srv.port);
    CHECK(strcasestr(ts_req(&srv, 0)->head, host) != NULL);
    CHECK(ts_req(&srv, 0)->body_len > 2 && ts_req(&srv, 0)->body[0] == '[');
    {
        otel_otlp_stats st = zstats(&zx);
        CHECK(st.batches == 2 && st.spans_exported == 6 && st.requests == 2 && st.retries == 0);
        CHECK(st.last_status == 202 && st.bytes_sent == st.bytes_raw && st.bytes_raw == 2 * ts_req(&srv, 0)->body_len);
    }
    b.count = 0; /* empty batches are not sent */
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&srv) == 2);
    zx.shutdown(1000, zx.user);
    /* gzip */
    zd.compression = OTEL_OTLP_COMPRESSION_GZIP;
    zd.header_count = 0;
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    b.count = 3;
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    CHECK(strcasestr(ts_req(&srv, 2)->head, "\r\nContent-Encoding: gzip\r\n") != NULL);
    CHECK(ts_req(&srv, 2)->body_len > 2 && ts_req(&srv, 2)->body[0] == 0x1f && ts_req(&srv, 2)->body[1] == 0x8b);
    if (g_python) {
        char *flat = flatten(ts_req(&srv, 2)->body, ts_req(&srv, 2)->body_len, true);
        CHECK(flat != NULL);
        if (flat) CHECKJ(flat, "len", "3");
        free(flat);
    }
    zx.shutdown(1000, zx.user);
    /* a request over max_request_bytes is not sent */
    zd.compression = OTEL_OTLP_COMPRESSION_DEFAULT;
    zd.max_request_bytes = 100;
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_FAILURE);
    CHECK(ts_requests(&srv) == 3 && zstats(&zx).spans_dropped == 3);
    zx.shutdown(1000, zx.user);
    ts_stop(&srv);
}

static void test_retry(void) {
    test_server srv;
    otel_zipkin_desc zd;
    otel_exporter zx;
    otel_span_batch b = handmade(2);
    otel_otlp_stats st;
    char url[96];
    CHECK(ts_start(&srv, true, 20000));
    TS_SET(&srv, script[0].status = 503);
    TS_SET(&srv, nscript = 1);
    TS_SET(&srv, dflt.status = 202);
    zdesc(&zd, &srv, url, sizeof url);
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    /* 503, then accepted: delivered once */
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&srv) == 2);
    CHECK(ts_req(&srv, 1)->body_len == ts_req(&srv, 0)->body_len &&
          !memcmp(ts_req(&srv, 1)->body, ts_req(&srv, 0)->body, ts_req(&srv, 0)->body_len));
    CHECK(ts_req(&srv, 1)->at_ms - ts_req(&srv, 0)->at_ms >= 35); /* backed off 50 ms +-20% */
    st = zstats(&zx);
    CHECK(st.retries == 1 && st.requests == 2 && st.spans_exported == 2 && st.spans_failed == 0);
    /* 400: not retried */
    TS_SET(&srv, dflt.status = 400);
    TS_SET(&srv, dflt.body = "bad span");
    TS_SET(&srv, dflt.body_len = 8);
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_FAILURE);
    CHECK(ts_requests(&srv) == 3);
    st = zstats(&zx);
    CHECK(st.retries == 1 && st.spans_failed == 2 && st.last_status == 400);
    zx.shutdown(1000, zx.user);
    ts_stop(&srv);
}

typedef struct canceller {
    otel_exporter *x;
    test_server *s;
} canceller;
static void *cancel_thread(void *arg) {
    canceller *c = (canceller *)arg;
    ts_wait(c->s, 1, 3000);
    otel_zipkin_exporter_cancel(c->x);
    return NULL;
}

static void test_refused_and_cancel(void) {
    test_server srv;
    otel_zipkin_desc zd;
    otel_exporter zx;
    otel_span_batch b = handmade(1);
    char url[96];
    int64_t t0, took;
    pthread_t th;
    canceller c;
    /* nobody listening: retried with backoff, ended by the timeout */
    CHECK(ts_start(&srv, false, 20000));
    zdesc(&zd, &srv, url, sizeof url);
    zd.timeout_ms = 400;
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    t0 = ts_ms();
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_FAILURE);
    took = ts_ms() - t0;
    CHECK(took < 3000); /* not the default 10 s */
    CHECK(zstats(&zx).connect_failures >= 2 && zstats(&zx).retries >= 1);
    zx.shutdown(1000, zx.user);
    /* a long Retry-After wait ends at once on cancel */
    ts_listen(&srv);
    TS_SET(&srv, dflt.status = 503);
    TS_SET(&srv, dflt.headers = "Retry-After: 30\r\n");
    zd.timeout_ms = 60000;
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    c.x = &zx;
    c.s = &srv;
    CHECK(pthread_create(&th, NULL, cancel_thread, &c) == 0);
    t0 = ts_ms();
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_FAILURE);
    took = ts_ms() - t0;
    pthread_join(th, NULL);
    CHECK(took < 3000);
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_FAILURE); /* cancel stays in effect */
    CHECK(ts_requests(&srv) == 1);
    zx.shutdown(1000, zx.user);
    ts_stop(&srv);
}

/* ---- configuration: endpoint and timeout from env, bad URLs ------------------------------- */

static void test_env(void) {
    test_server srv;
    otel_zipkin_desc zd;
    otel_exporter zx;
    otel_span_batch b = handmade(1);
    char url[128];
    int64_t t0, took;
    unset_env();
    CHECK(ts_start(&srv, true, 20000));
    /* default endpoint */
    CHECK(otel_zipkin_exporter_create(NULL, &zx) == OTEL_OK);
    CHECK(!strcmp(otel_zipkin_exporter_url(&zx), "http://localhost:9411/api/v2/spans"));
    zx.shutdown(0, zx.user);
    /* OTEL_EXPORTER_ZIPKIN_ENDPOINT used exactly: path and query, nothing appended */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/custom/spans?x=1", srv.port);
    setenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT", url, 1);
    CHECK(otel_zipkin_exporter_create(NULL, &zx) == OTEL_OK);
    CHECK(!strcmp(otel_zipkin_exporter_url(&zx), url));
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    CHECK(!strcmp(ts_req(&srv, 0)->path, "/custom/spans?x=1"));
    zx.shutdown(0, zx.user);
    /* a URL without a path: "/" */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.port);
    setenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT", url, 1);
    CHECK(otel_zipkin_exporter_create(NULL, &zx) == OTEL_OK);
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
    CHECK(!strcmp(ts_req(&srv, 1)->path, "/"));
    zx.shutdown(0, zx.user);
    /* the desc wins over the environment */
    memset(&zd, 0, sizeof zd);
    zd.endpoint = "http://desc.example:9411/api/v2/spans";
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    CHECK(!strcmp(otel_zipkin_exporter_url(&zx), zd.endpoint));
    zx.shutdown(0, zx.user);
    /* OTEL_EXPORTER_ZIPKIN_TIMEOUT bounds an export to a receiver that never answers */
    TS_SET(&srv, dflt.kind = TS_HANG);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v2/spans", srv.port);
    setenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "300", 1);
    CHECK(otel_zipkin_exporter_create(NULL, &zx) == OTEL_OK);
    t0 = ts_ms();
    CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_FAILURE);
    took = ts_ms() - t0;
    CHECK(took >= 250 && took < 2000);
    zx.shutdown(0, zx.user);
    /* a timeout that is not a number: warned about and ignored (the default, 10 s) */
    setenv("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "3s", 1);
    CHECK(otel_zipkin_exporter_create(NULL, &zx) == OTEL_OK);
    zx.shutdown(0, zx.user);
    /* bad URLs are rejected at setup */
    unset_env();
    memset(&zd, 0, sizeof zd);
    zd.endpoint = "localhost:9411/api/v2/spans";
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_ERR_INVALID_ARG && zx.export_spans == NULL);
    zd.endpoint = "http://host:99999/";
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_ERR_INVALID_ARG);
    zd.endpoint = "https://zipkin.example/api/v2/spans";
#ifdef OTEL_USE_CURL
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    zx.shutdown(0, zx.user);
#else
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_ERR_NOT_BUILT);
#endif
    CHECK(otel_zipkin_exporter_create(&zd, NULL) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_zipkin_exporter_stats(NULL, NULL) == OTEL_ERR_INVALID_ARG);
    ts_stop(&srv);
}

/* ---- the factory and OTEL_TRACES_EXPORTER ------------------------------------------------ */

static void test_factory(void) {
    test_server srv;
    otel_exporter zx, mem;
    otel_desc d;
    otel_stats st;
    char url[96], cap[600];
    int i, saved, fd, env_first;
    unset_env();
    CHECK(ts_start(&srv, true, 30000));
    TS_SET(&srv, dflt.status = 202);
    /* by name, and not for other signals */
    CHECK(otel_exporter_create("zipkin", &zx) == OTEL_OK);
    CHECK(otel_zipkin_exporter_url(&zx) && !strcmp(otel_zipkin_exporter_url(&zx), "http://localhost:9411/api/v2/spans"));
    zx.shutdown(0, zx.user);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.destinations[0].exporter = mem;
    d.lock_destinations = true;
    d.diag.func = diag_fn;
    CHECK(otel_init(&d) == OTEL_OK); /* for the diagnostics callback */
    diag_reset();
    CHECK(otel_exporter_create_for(OTEL_SIGNAL_METRICS, "zipkin", &zx) == OTEL_ERR_NOT_BUILT);
    CHECK(otel_exporter_create_for(OTEL_SIGNAL_LOGS, "zipkin", &zx) == OTEL_ERR_NOT_BUILT);
    CHECK(diag_count("zipkin") == 2 && diag_count("traces only") == 2);
    CHECK(otel_exporter_create_for(OTEL_SIGNAL_TRACES, "zipkin", &zx) == OTEL_OK);
    zx.shutdown(0, zx.user);
    /* a failed export is reported, rate-limited, through the diagnostics */
    {
        otel_zipkin_desc zd;
        otel_span_batch b = handmade(1);
        zdesc(&zd, &srv, url, sizeof url);
        TS_SET(&srv, dflt.status = 400);
        CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
        diag_reset();
        for (i = 0; i < 3; i++) CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_FAILURE);
        CHECK(diag_count("zipkin http://127.0.0.1") == 1 && diag_count("HTTP 400") == 1);
        zx.shutdown(0, zx.user);
        /* the error answer is plain text (trailing newline cut), not a google.rpc.Status */
        TS_SET(&srv, dflt.body = "bad span\n");
        TS_SET(&srv, dflt.body_len = 9);
        CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
        diag_reset();
        CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_FAILURE);
        CHECK(diag_count("(not retried): bad span") == 1 && diag_count("otlp") == 0);
        zx.shutdown(0, zx.user);
        /* a 2xx body is not read as an OTLP partial success (these bytes would be
           "5 rejected" in protobuf) */
        TS_SET(&srv, dflt.status = 202);
        TS_SET(&srv, dflt.body = "\x0a\x02\x08\x05");
        TS_SET(&srv, dflt.body_len = 4);
        CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
        diag_reset();
        CHECK(zx.export_spans(&b, zx.user) == OTEL_EXPORT_SUCCESS);
        CHECK(diag_count("rejected") == 0 && zstats(&zx).spans_rejected == 0 && zstats(&zx).spans_exported == 1);
        zx.shutdown(0, zx.user);
        TS_SET(&srv, dflt.body = NULL);
        TS_SET(&srv, dflt.body_len = 0);
    }
    otel_shutdown(1000);
    otel_memory_exporter_destroy(&mem);
    /* OTEL_TRACES_EXPORTER=zipkin */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v2/spans", srv.port);
    setenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT", url, 1);
    setenv("OTEL_TRACES_EXPORTER", "zipkin", 1);
    memset(&d, 0, sizeof d);
    d.service_name = "env-zipkin";
    d.diag.func = diag_fn;
    env_first = ts_requests(&srv); /* the requests before this one are the checks above */
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 1 && !strcmp(st.destinations[0].name, "zipkin"));
    for (i = 0; i < 5; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "via-env-%d", i);
        otel_span_end(otel_span_start(nm, NULL));
    }
    CHECK(otel_shutdown(3000) == OTEL_OK);
    CHECK(ts_requests(&srv) >= env_first + 1);
    if (g_python && ts_requests(&srv) >= env_first + 1) {
        int r, total = 0, found = 0;
        for (r = env_first; r < ts_requests(&srv) && r < TS_MAX_REQ; r++) {
            char *flat = flatten(ts_req(&srv, r)->body, ts_req(&srv, r)->body_len, false);
            CHECK(flat != NULL);
            if (!flat) continue;
            total += atoi(jget(flat, "len"));
            for (i = 0; i < 5; i++) {
                char path[64];
                snprintf(path, sizeof path, "via-env-%d/localEndpoint/serviceName", i);
                if (!strcmp(jget(flat, path), "\"env-zipkin\"")) found++;
            }
            free(flat);
        }
        CHECK(total == 5 && found == 5);
    }
    /* console,zipkin: both destinations (the console output captured) */
    setenv("OTEL_TRACES_EXPORTER", "console,zipkin", 1);
    snprintf(cap, sizeof cap, "%s/console.txt", g_tmp);
    fflush(stdout);
    saved = dup(1);
    fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && saved >= 0);
    dup2(fd, 1);
    close(fd);
    memset(&d, 0, sizeof d);
    d.service_name = "env-both";
    d.processor = OTEL_PROCESSOR_SIMPLE;
    d.diag.func = diag_fn;
    {
        int before = ts_requests(&srv);
        CHECK(otel_init(&d) == OTEL_OK);
        CHECK(otel_stats_get(&st) == OTEL_OK && st.destination_count == 2);
        if (st.destination_count == 2)
            CHECK(!strcmp(st.destinations[0].name, "console") && !strcmp(st.destinations[1].name, "zipkin"));
        otel_span_end(otel_span_start("both-1", NULL));
        otel_span_end(otel_span_start("both-2", NULL));
        CHECK(otel_shutdown(3000) == OTEL_OK);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        CHECK(ts_requests(&srv) - before == 2); /* SIMPLE: one request per span */
        {
            char *out = read_all(cap);
            CHECK(out && strstr(out, "\"both-1\"") && strstr(out, "\"both-2\""));
            free(out);
        }
        CHECK(before < TS_MAX_REQ && memmem(ts_req(&srv, before)->body, ts_req(&srv, before)->body_len, "\"both-1\"", 8) != NULL);
    }
    unset_env();
    ts_stop(&srv);
}

/* A hung Zipkin destination does not hold up otel_shutdown past its deadline. */
static void test_pipeline_hang(void) {
    test_server srv;
    otel_zipkin_desc zd;
    otel_exporter zx;
    otel_desc d;
    char url[96];
    int64_t t0, took;
    unset_env();
    CHECK(ts_start(&srv, true, 20000));
    TS_SET(&srv, dflt.kind = TS_HANG);
    zdesc(&zd, &srv, url, sizeof url);
    zd.timeout_ms = 60000;
    CHECK(otel_zipkin_exporter_create(&zd, &zx) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.destinations[0].exporter = zx;
    d.destinations[0].schedule_delay_ms = 10;
    d.lock_destinations = true;
    d.diag.func = diag_fn;
    CHECK(otel_init(&d) == OTEL_OK);
    otel_span_end(otel_span_start("stuck", NULL));
    CHECK(ts_wait(&srv, 1, 5000));
    t0 = ts_ms();
    otel_shutdown(300);
    took = ts_ms() - t0;
    CHECK(took < 2000);
    ts_stop(&srv);
}

int main(void) {
    const char *t = getenv("TEST_TMPDIR");
    printf("transport: %s\n", TRANSPORT);
    if (t && *t) {
        snprintf(g_tmp, sizeof g_tmp, "%s", t);
    } else {
        snprintf(g_tmp, sizeof g_tmp, "/tmp/otel_test_zipkin_XXXXXX");
        if (!mkdtemp(g_tmp)) { perror("mkdtemp"); return 1; }
    }
    g_python = system("python3 -c 'import json, gzip' >/dev/null 2>&1") == 0;
    if (!g_python) printf("SKIPPED: test_zipkin JSON parsing (python3 not installed)\n");
    test_doubles();
    test_mapping();
    test_handmade();
    test_request_and_gzip();
    test_retry();
    test_refused_and_cancel();
    test_env();
    test_factory();
    test_pipeline_hang();
    return TEST_DONE();
}
