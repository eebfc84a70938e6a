/* test_e2e_metrics.c - metrics end to end through the real pipeline (issues 5 and 6):
   real instruments (int and double counters with attributes, an up-down counter, double
   and int histograms with custom and default bounds, a gauge, observable gauge, counter
   and up-down counter, NaN/-Inf/1e300/subnormal values, a bound handle, two meters) ->
   PERIODIC readers -> otel_otlp.h's exporter -> HTTP to the in-process receiver on 127.0.0.1 (tests/otlp_test_server.h) ->
   each /v1/metrics body decoded by `protoc --decode` with the official protos, and every
   value checked: names, units, descriptions, temporality under the CUMULATIVE and the
   DELTA preference, the monotonic flag, values, attributes, bucket counts, bounds,
   min/max/sum/count, start and time stamps (ordering, delta start = previous collection,
   cumulative start kept).
   - code config: a cumulative and a delta reader on one provider, two rounds of
     recording, each collection sent as protobuf AND as OTLP/JSON (one collection, two
     exporters under a multi exporter), the JSON parsed by python3 and compared field by field with the protobuf
     decode (tests/e2e_compare.py);
   - env config: OTEL_METRICS_EXPORTER=otlp, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
     OTEL_METRIC_EXPORT_INTERVAL (exports without any flush), then the same recordings
     with OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json, compared with the protobuf run
     field by field (times aside: two collections);
   - env config with the DELTA preference (the seed's variable name).               */
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

#define MREQ "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"
#define MPROTO "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"

static test_server g_srv;
static bool g_skip_protoc;

/* ---- one collection to two exporters: protobuf and OTLP/JSON (the multi exporter) ---------- */

static bool otlp_metrics(const char *path, otel_otlp_protocol proto, otel_exporter *out) {
    char url[200];
    otel_otlp_desc d;
    memset(&d, 0, sizeof d);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_srv.port, path);
    d.signal = OTEL_SIGNAL_METRICS;
    d.metrics_endpoint = url;
    d.protocol = proto;
    d.timeout_ms = 5000;
    return otel_otlp_exporter_create(&d, out) == OTEL_OK;
}
static bool tee_create(const char *pb_path, const char *json_path, otel_exporter *out) {
    otel_exporter kids[2];
    memset(out, 0, sizeof *out);
    if (!otlp_metrics(pb_path, OTEL_OTLP_PROTOCOL_HTTP_PROTOBUF, &kids[0])) return false;
    if (!otlp_metrics(json_path, OTEL_OTLP_PROTOCOL_HTTP_JSON, &kids[1])) {
        kids[0].shutdown(0, kids[0].user);
        return false;
    }
    if (otel_multi_exporter_create(kids, 2, out) != OTEL_OK) return false;
    CHECK(out->export_metrics && !out->export_spans && !out->export_logs);
    return true;
}

/* ---- the instruments and what the test records -------------------------------------------- */

static otel_instrument *g_requests, *g_bytes, *g_queue, *g_latency, *g_sizes, *g_temp, *g_cpu, *g_faults,
    *g_threads, *g_events, *g_special;
static otel_bound *g_get_a;
static _Atomic double g_cpu0, g_cpu1;
static _Atomic int64_t g_faults_v, g_threads_v;

static void observe_cpu(otel_observer *obs, void *user) {
    (void)user;
    otel_observe_double(obs, g_cpu0, (otel_attr[]){otel_attr_int("cpu", 0)}, 1);
    otel_observe_double(obs, g_cpu1, (otel_attr[]){otel_attr_int("cpu", 1)}, 1);
}
static void observe_faults(otel_observer *obs, void *user) {
    (void)user;
    otel_observe_int(obs, g_faults_v, NULL, 0);
}
static void observe_threads(otel_observer *obs, void *user) {
    (void)user;
    otel_observe_int(obs, g_threads_v, NULL, 0);
}

/* values JSON spells as strings, and the extremes of a double */
static void observe_special(otel_observer *obs, void *user) {
    (void)user;
    otel_observe_double(obs, NAN, (otel_attr[]){otel_attr_str("k", "nan")}, 1);
    otel_observe_double(obs, -INFINITY, (otel_attr[]){otel_attr_str("k", "-inf")}, 1);
    otel_observe_double(obs, 1e300, (otel_attr[]){otel_attr_str("k", "big")}, 1);
    otel_observe_double(obs, 5e-324, (otel_attr[]){otel_attr_str("k", "tiny")}, 1);
}

static const double g_lat_bounds[3] = {1, 5, 10};

static bool make_instruments(void) {
    otel_meter *m = otel_meter_get("e2e.meter", "1.2.3"), *other = otel_meter_get("e2e.other", NULL);
    otel_instrument_desc d;
    g_requests = otel_counter_create(m, "e2e.requests", "{request}", "Requests served");
    memset(&d, 0, sizeof d);
    d.name = "e2e.bytes"; d.unit = "By"; d.description = "Bytes sent";
    g_bytes = otel_instrument_create(m, OTEL_INSTRUMENT_COUNTER, OTEL_NUMBER_DOUBLE, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.queue"; d.unit = "{item}"; d.description = "Queue length";
    g_queue = otel_instrument_create(m, OTEL_INSTRUMENT_UP_DOWN_COUNTER, OTEL_NUMBER_INT64, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.latency"; d.unit = "ms"; d.description = "Request latency";
    d.boundaries = g_lat_bounds; d.boundary_count = 3;
    g_latency = otel_instrument_create(m, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_DOUBLE, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.sizes"; d.unit = "By"; /* the default bounds, no description */
    g_sizes = otel_instrument_create(m, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_INT64, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.temperature"; d.unit = "Cel"; d.description = "Room temperature";
    g_temp = otel_instrument_create(m, OTEL_INSTRUMENT_GAUGE, OTEL_NUMBER_DOUBLE, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.cpu.utilization"; d.unit = "1"; d.description = "CPU utilization"; d.callback = observe_cpu;
    g_cpu = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_GAUGE, OTEL_NUMBER_DOUBLE, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.page_faults"; d.unit = "{fault}"; d.description = "Page faults"; d.callback = observe_faults;
    g_faults = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_COUNTER, OTEL_NUMBER_INT64, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.threads"; d.unit = "{thread}"; d.description = "Live threads"; d.callback = observe_threads;
    g_threads = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_UP_DOWN_COUNTER, OTEL_NUMBER_INT64, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.special"; d.description = "Special doubles"; d.callback = observe_special;
    g_special = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_GAUGE, OTEL_NUMBER_DOUBLE, &d);
    g_events = otel_counter_create(other, "e2e.other.events", NULL, "Events");
    g_get_a = otel_instrument_bind(g_requests, (otel_attr[]){otel_attr_str("http.method", "GET"),
                                                             otel_attr_str("http.route", "/a")}, 2);
    return g_requests && g_bytes && g_queue && g_latency && g_sizes && g_temp && g_cpu && g_faults && g_threads &&
           g_events && g_special && g_get_a;
}

static void record_round1(void) {
    otel_attr get_a[2] = {otel_attr_str("http.method", "GET"), otel_attr_str("http.route", "/a")};
    otel_attr a_get[2] = {otel_attr_str("http.route", "/a"), otel_attr_str("http.method", "GET")}; /* same set */
    otel_attr post[1] = {otel_attr_str("http.method", "POST")};
    otel_attr ok[2] = {otel_attr_bool("ok", true), otel_attr_int("code", 200)};
    otel_attr route[1] = {otel_attr_str("http.route", "/a")};
    otel_attr lab[1] = {otel_attr_str("room", "lab")};
    otel_record_int(g_requests, 5, get_a, 2);
    otel_record_int(g_requests, 3, a_get, 2);
    otel_record_int(g_requests, 2, post, 1);
    otel_record_int(g_requests, -1, post, 1); /* negative on a counter: ignored */
    otel_record_double(g_bytes, 1.5, ok, 2);
    otel_record_double(g_bytes, 2.25, ok, 2);
    otel_record_int(g_queue, 10, NULL, 0);
    otel_record_int(g_queue, -3, NULL, 0);
    otel_record_double(g_latency, 0.5, route, 1);
    otel_record_double(g_latency, 1, route, 1); /* on a bound: the bucket below it */
    otel_record_double(g_latency, 3, route, 1);
    otel_record_double(g_latency, 7, route, 1);
    otel_record_double(g_latency, 20, route, 1);
    otel_record_double(g_latency, 20, route, 1);
    otel_record_int(g_sizes, 100, NULL, 0);
    otel_record_int(g_sizes, 3000, NULL, 0);
    otel_record_int(g_sizes, 0, NULL, 0);
    otel_record_double(g_temp, 20.5, lab, 1);
    otel_record_double(g_temp, 21.25, lab, 1);
    otel_record_int(g_events, 1, NULL, 0);
    g_cpu0 = 0.5;
    g_cpu1 = 0.75;
    g_faults_v = 100;
    g_threads_v = 4;
}

static void record_round2(void) {
    otel_attr get_a[2] = {otel_attr_str("http.method", "GET"), otel_attr_str("http.route", "/a")};
    otel_attr put[1] = {otel_attr_str("http.method", "PUT")};
    otel_attr ok[2] = {otel_attr_int("code", 200), otel_attr_bool("ok", true)};
    otel_attr route[1] = {otel_attr_str("http.route", "/a")};
    otel_attr lab[1] = {otel_attr_str("room", "lab")};
    otel_record_int(g_requests, 1, get_a, 2);
    otel_bound_record_int(g_get_a, 1);
    otel_record_int(g_requests, 4, put, 1);
    otel_record_double(g_bytes, 0.25, ok, 2);
    otel_record_int(g_queue, -9, NULL, 0);
    otel_record_double(g_latency, 2, route, 1);
    otel_record_double(g_temp, 19, lab, 1);
    g_cpu0 = 0.25;
    g_cpu1 = 1.0;
    g_faults_v = 150;
    g_threads_v = 3;
}

/* ---- checking one decoded collection -------------------------------------------------------- */

typedef struct times {
    uint64_t init;       /* before otel_init */
    uint64_t rec;        /* before this round's recording */
    uint64_t flush0;     /* before the flush that collected it */
    uint64_t flush1;     /* after it */
    uint64_t prev_time;  /* the previous collection's time of this reader (0: first) */
} times;

typedef struct round_seen {
    uint64_t time;            /* the collection time */
    uint64_t start_get_a;     /* cumulative start of requests{GET,/a} */
    uint64_t start_latency;
} round_seen;

static const char *const TEMP_NAMES[] = {"", "AGGREGATION_TEMPORALITY_DELTA", "AGGREGATION_TEMPORALITY_CUMULATIVE"};

/* The metric's data message after checking its header; kind "sum", "gauge" or "histogram";
   temporality 0 for gauges. */
static const pnode *metric(const pnode *root, const char *scope, const char *name, const char *unit, const char *desc,
                           const char *kind, int temporality, bool monotonic) {
    const pnode *m = pn_metric(root, scope, name, NULL), *data;
    int kinds;
    if (!m) {
        fprintf(stderr, "  metric %s (scope %s) missing\n", name, scope);
        CHECK(m != NULL);
        return NULL;
    }
    if (unit && *unit) CHECK(pn_is(m, "unit", unit));
    else CHECK(!pn_has(m, "unit"));
    if (desc && *desc) CHECK(pn_is(m, "description", desc));
    else CHECK(!pn_has(m, "description"));
    kinds = (int)(pn_count(m, "sum") + pn_count(m, "gauge") + pn_count(m, "histogram") +
                  pn_count(m, "exponential_histogram") + pn_count(m, "summary"));
    CHECK(kinds == 1);
    data = pn_kid(m, kind, 0);
    if (!data) {
        fprintf(stderr, "  metric %s: no %s\n", name, kind);
        CHECK(data != NULL);
        return NULL;
    }
    if (temporality) CHECK(pn_is(data, "aggregation_temporality", TEMP_NAMES[temporality]));
    else CHECK(!pn_has(data, "aggregation_temporality"));
    if (!strcmp(kind, "sum")) {
        if (monotonic) CHECK(pn_is(data, "is_monotonic", "true"));
        else CHECK(!pn_has(data, "is_monotonic"));
    }
    return data;
}

/* A sum/gauge point: value, attributes (via the lookup), times. `start`: 1 = must equal
   `start_want`, 2 = in [lo, time], 0 = absent (gauges). */
static const pnode *point(const pnode *data, const char *attrs, bool is_int, double value) {
    const pnode *p = data ? pn_point(data, attrs) : NULL;
    if (!p) {
        fprintf(stderr, "  no point with attributes {%s}\n", attrs);
        CHECK(p != NULL);
        return NULL;
    }
    CHECK(pn_attrs_are(p, attrs));
    if (is_int) {
        CHECK(pn_has(p, "as_int") && !pn_has(p, "as_double"));
        if (pn_int(p, "as_int") != (long long)value)
            fprintf(stderr, "  {%s}: as_int %lld, want %.0f\n", attrs, pn_int(p, "as_int"), value);
        CHECK(pn_int(p, "as_int") == (long long)value);
    } else {
        CHECK(pn_has(p, "as_double") && !pn_has(p, "as_int"));
        if (pn_dbl(p, "as_double") != value) fprintf(stderr, "  {%s}: as_double %g, want %g\n", attrs, pn_dbl(p, "as_double"), value);
        CHECK(pn_dbl(p, "as_double") == value);
    }
    return p;
}

static void hist(const pnode *p, uint64_t count, double sum, double mn, double mx, const uint64_t *buckets, size_t nb,
                 const double *bounds, size_t nbounds) {
    double got[32];
    size_t n, i;
    if (!p) return;
    CHECK(pn_u64(p, "count") == count);
    CHECK(pn_dbl(p, "sum") == sum);
    CHECK(pn_dbl(p, "min") == mn);
    CHECK(pn_dbl(p, "max") == mx);
    n = pn_list(p, "bucket_counts", got, 32);
    CHECK(n == nb);
    for (i = 0; i < n && i < nb; i++)
        if (got[i] != (double)buckets[i]) {
            fprintf(stderr, "  bucket %zu: %g, want %llu\n", i, got[i], (unsigned long long)buckets[i]);
            CHECK(got[i] == (double)buckets[i]);
        }
    n = pn_list(p, "explicit_bounds", got, 32);
    CHECK(n == nbounds);
    for (i = 0; i < n && i < nbounds; i++) CHECK(got[i] == bounds[i]);
}

/* Times of a point collected at the collection (sums, histograms, observables). */
static void coll_times(const pnode *p, const times *t, bool delta, round_seen *seen, uint64_t *start_keep) {
    uint64_t tm, st;
    if (!p) return;
    tm = pn_u64(p, "time_unix_nano");
    st = pn_u64(p, "start_time_unix_nano");
    CHECK(tm >= t->flush0 && tm <= t->flush1);
    if (!seen->time) seen->time = tm;
    CHECK(tm == seen->time); /* one time per collection */
    /* (an observable's series is born in the collection's callback: start = time at first) */
    if (!(st > 0 && st <= tm))
        fprintf(stderr, "  start %llu after time %llu\n", (unsigned long long)st, (unsigned long long)tm);
    CHECK(st > 0 && st <= tm);
    if (delta) {
        /* delta: from the previous collection of this reader (the first: from the reader's start) */
        if (t->prev_time) CHECK(st == t->prev_time);
        else CHECK(st >= t->init && st <= t->rec);
    } else {
        /* cumulative: from the series' creation, the same every time */
        CHECK(st >= t->init && st <= t->flush1);
        if (start_keep) {
            if (*start_keep) CHECK(st == *start_keep);
            else *start_keep = st;
        }
    }
}

static const double g_default_bounds[15] = {0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000};

/* One collection of the code-config readers. round 1 or 2; delta: the DELTA preference. */
static void check_collection(const pnode *root, int round, bool delta, const times *t, round_seen *seen,
                             round_seen *keep) {
    const pnode *d, *p, *rm, *sm;
    int sum_t = delta ? 1 : 2;
    bool d2 = delta && round == 2; /* a delta collection after round 2: only what changed */
    if (!root) { CHECK(root != NULL); return; }
    /* resource: once, with service.name, the code's attribute and the SDK's */
    CHECK(pn_count(root, "resource_metrics") == 1);
    rm = pn_kid(root, "resource_metrics", 0);
    d = pn_kid(rm, "resource", 0);
    CHECK(pn_attr(d, "service.name") && pn_is(pn_attr(d, "service.name"), "string_value", "e2e-metrics"));
    CHECK(pn_attr(d, "deployment.environment") && pn_is(pn_attr(d, "deployment.environment"), "string_value", "test"));
    CHECK(pn_attr(d, "telemetry.sdk.language") && pn_is(pn_attr(d, "telemetry.sdk.language"), "string_value", "c"));
    CHECK(pn_attr(d, "telemetry.sdk.name") && pn_is(pn_attr(d, "telemetry.sdk.name"), "string_value", "otel.h"));
    /* scopes: e2e.meter 1.2.3, e2e.other (no version), in that order */
    CHECK(pn_count(rm, "scope_metrics") == (d2 ? 1u : 2u));
    sm = pn_kid(rm, "scope_metrics", 0);
    CHECK(pn_is(pn_kid(sm, "scope", 0), "name", "e2e.meter") && pn_is(pn_kid(sm, "scope", 0), "version", "1.2.3"));
    CHECK(pn_count(sm, "metrics") == (d2 ? 9u : 10u));
    if (!d2) {
        sm = pn_kid(rm, "scope_metrics", 1);
        CHECK(pn_is(pn_kid(sm, "scope", 0), "name", "e2e.other") && !pn_has(pn_kid(sm, "scope", 0), "version"));
        CHECK(pn_count(sm, "metrics") == 1);
    }

    /* counter, int, attributes in any order are one series; a bound handle adds to it */
    d = metric(root, "e2e.meter", "e2e.requests", "{request}", "Requests served", "sum", sum_t, true);
    CHECK(pn_count(d, "data_points") == (round == 1 ? 2u : d2 ? 2u : 3u));
    p = point(d, "http.method=s:GET;http.route=s:/a", true, round == 1 ? 8 : d2 ? 2 : 10);
    coll_times(p, t, delta, seen, &keep->start_get_a);
    if (!d2) coll_times(point(d, "http.method=s:POST", true, 2), t, delta, seen, NULL);
    if (round == 2) coll_times(point(d, "http.method=s:PUT", true, 4), t, delta, seen, NULL);
    /* counter, double, bool and int attributes */
    d = metric(root, "e2e.meter", "e2e.bytes", "By", "Bytes sent", "sum", sum_t, true);
    CHECK(pn_count(d, "data_points") == 1);
    coll_times(point(d, "ok=b:true;code=i:200", false, round == 1 ? 3.75 : d2 ? 0.25 : 4.0), t, delta, seen, NULL);
    /* up-down counter: cumulative under both preferences, not monotonic */
    d = metric(root, "e2e.meter", "e2e.queue", "{item}", "Queue length", "sum", 2, false);
    CHECK(pn_count(d, "data_points") == 1);
    coll_times(point(d, "", true, round == 1 ? 7 : -2), t, false, seen, NULL);
    /* histogram, custom bounds */
    d = metric(root, "e2e.meter", "e2e.latency", "ms", "Request latency", "histogram", sum_t, false);
    CHECK(pn_count(d, "data_points") == 1);
    p = d ? pn_point(d, "http.route=s:/a") : NULL;
    CHECK(p != NULL);
    if (p) {
        static const uint64_t r1[4] = {2, 1, 1, 2}, c2[4] = {2, 2, 1, 2}, dl2[4] = {0, 1, 0, 0};
        CHECK(pn_attrs_are(p, "http.route=s:/a"));
        if (round == 1) hist(p, 6, 51.5, 0.5, 20, r1, 4, g_lat_bounds, 3);
        else if (d2) hist(p, 1, 2, 2, 2, dl2, 4, g_lat_bounds, 3);
        else hist(p, 7, 53.5, 0.5, 20, c2, 4, g_lat_bounds, 3);
        coll_times(p, t, delta, seen, &keep->start_latency);
    }
    /* histogram, int, default bounds; nothing new in round 2 (a delta reader leaves it out) */
    if (!d2) {
        static const uint64_t b[16] = {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0};
        d = metric(root, "e2e.meter", "e2e.sizes", "By", NULL, "histogram", sum_t, false);
        CHECK(pn_count(d, "data_points") == 1);
        p = d ? pn_point(d, "") : NULL;
        CHECK(p != NULL);
        hist(p, 3, 3100, 0, 3000, b, 16, g_default_bounds, 15);
        coll_times(p, t, delta, seen, NULL);
    } else {
        CHECK(pn_metric(root, NULL, "e2e.sizes", NULL) == NULL);
    }
    /* gauge: the last value, stamped when it was set, no start time */
    d = metric(root, "e2e.meter", "e2e.temperature", "Cel", "Room temperature", "gauge", 0, false);
    CHECK(pn_count(d, "data_points") == 1);
    p = point(d, "room=s:lab", false, round == 1 ? 21.25 : 19);
    if (p) {
        uint64_t tm = pn_u64(p, "time_unix_nano");
        CHECK(tm >= t->rec && tm <= t->flush0);
        CHECK(!pn_has(p, "start_time_unix_nano"));
    }
    /* observable gauge: two series, stamped at the collection, no start time */
    d = metric(root, "e2e.meter", "e2e.cpu.utilization", "1", "CPU utilization", "gauge", 0, false);
    CHECK(pn_count(d, "data_points") == 2);
    p = point(d, "cpu=i:0", false, round == 1 ? 0.5 : 0.25);
    if (p) CHECK(pn_u64(p, "time_unix_nano") == seen->time && !pn_has(p, "start_time_unix_nano"));
    p = point(d, "cpu=i:1", false, round == 1 ? 0.75 : 1.0);
    if (p) CHECK(pn_u64(p, "time_unix_nano") == seen->time && !pn_has(p, "start_time_unix_nano"));
    /* observable counter: monotonic; a delta reader reports the difference of observations */
    d = metric(root, "e2e.meter", "e2e.page_faults", "{fault}", "Page faults", "sum", sum_t, true);
    CHECK(pn_count(d, "data_points") == 1);
    coll_times(point(d, "", true, round == 1 ? 100 : d2 ? 50 : 150), t, delta, seen, NULL);
    /* observable up-down counter: cumulative, not monotonic */
    d = metric(root, "e2e.meter", "e2e.threads", "{thread}", "Live threads", "sum", 2, false);
    CHECK(pn_count(d, "data_points") == 1);
    coll_times(point(d, "", true, round == 1 ? 4 : 3), t, false, seen, NULL);
    /* NaN, -Inf, 1e300 and the smallest subnormal, as protoc reads them */
    d = metric(root, "e2e.meter", "e2e.special", NULL, "Special doubles", "gauge", 0, false);
    CHECK(pn_count(d, "data_points") == 4);
    p = d ? pn_point(d, "k=s:nan") : NULL;
    CHECK(p && pn_is(p, "as_double", "nan"));
    p = d ? pn_point(d, "k=s:-inf") : NULL;
    CHECK(p && pn_is(p, "as_double", "-inf"));
    p = d ? pn_point(d, "k=s:big") : NULL;
    CHECK(p && pn_dbl(p, "as_double") == 1e300);
    p = d ? pn_point(d, "k=s:tiny") : NULL;
    CHECK(p && pn_dbl(p, "as_double") == 5e-324);
    /* the other meter's counter, no unit */
    if (!d2) {
        d = metric(root, "e2e.other", "e2e.other.events", NULL, "Events", "sum", sum_t, true);
        CHECK(pn_count(d, "data_points") == 1);
        coll_times(point(d, "", true, 1), t, delta, seen, NULL);
    } else {
        CHECK(pn_metric(root, NULL, "e2e.other.events", NULL) == NULL);
    }
}

/* ---- requests by path ----------------------------------------------------------------------- */

/* The n-th request (0-based) whose path is `path`, among the first `upto`; NULL: none. */
static const ts_request *req_at(const char *path, int n, int upto) {
    int i;
    for (i = 0; i < upto && i < TS_MAX_REQ; i++) {
        const ts_request *r = ts_req(&g_srv, i);
        if (!strcmp(r->path, path) && n-- == 0) return r;
    }
    return NULL;
}
static int req_count(const char *path, int upto) {
    int i, n = 0;
    for (i = 0; i < upto && i < TS_MAX_REQ; i++) n += !strcmp(ts_req(&g_srv, i)->path, path);
    return n;
}
/* protoc's text of a protobuf request, also appended to `save` (for the JSON comparison) */
static pnode *decode(const ts_request *r, const char *save, char **text_out) {
    bool skip = false;
    char *text;
    pnode *root;
    if (text_out) *text_out = NULL;
    if (!r) { CHECK(r != NULL); return NULL; }
    CHECK(strcasestr(r->head, "\r\ncontent-type: application/x-protobuf\r\n") != NULL);
    text = protoc_decode_as(r->body, r->body_len, MREQ, MPROTO, &skip);
    if (skip) { g_skip_protoc = true; return NULL; }
    CHECK(text != NULL);
    if (!text) return NULL;
    if (save) CHECK(append_file(save, text, strlen(text)));
    root = pn_parse(text);
    CHECK(root != NULL);
    if (text_out) *text_out = text;
    else free(text);
    return root;
}
static void save_json(const ts_request *r, const char *path) {
    if (!r) { CHECK(r != NULL); return; }
    CHECK(strcasestr(r->head, "\r\ncontent-type: application/json\r\n") != NULL);
    CHECK(append_file(path, r->body, r->body_len) && append_file(path, "\n", 1));
}
static void tmp_path(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", g_tmp, name);
    unlink(out);
}
static void compare(const char *what, const char *proto, const char *json, const char *extra) {
    int rc;
    if (g_skip_protoc) return;
    rc = e2e_compare("metrics", proto, json, extra);
    if (rc == -2) {
        printf("SKIPPED: %s: OTLP/JSON compared with protobuf (python3 not installed)\n", what);
        return;
    }
    if (rc != 0) fprintf(stderr, "  %s: the JSON and protobuf requests differ (files %s, %s)\n", what, proto, json);
    CHECK(rc == 0);
}

/* ---- 1. code config: a cumulative and a delta reader, protobuf and JSON of each collection --- */

static void test_code_config(void) {
    otel_desc desc;
    otel_exporter cum, del;
    times t1, t2;
    round_seen sc1, sd1, sc2, sd2, keep_c, keep_d;
    int n0, n, k;
    char cp[300], cj[300], dp[300], dj[300];
    memset(&desc, 0, sizeof desc);
    memset(&sc1, 0, sizeof sc1);
    sd1 = sc2 = sd2 = keep_c = keep_d = sc1;
    n0 = ts_requests(&g_srv);
    CHECK(tee_create("/cum/v1/metrics", "/cumjson/v1/metrics", &cum));
    CHECK(tee_create("/delta/v1/metrics", "/deltajson/v1/metrics", &del));
    desc.service_name = "e2e-metrics";
    desc.resource_attrs = (otel_attr[]){otel_attr_str("deployment.environment", "test")};
    desc.resource_attr_count = 1;
    desc.default_exporters = "none";
    desc.default_logs_exporters = "none";
    desc.readers[0].kind = OTEL_READER_PERIODIC;
    desc.readers[0].exporter = cum;
    desc.readers[0].temporality = OTEL_TEMPORALITY_PREF_CUMULATIVE;
    desc.readers[0].export_interval_ms = 600000; /* collections: the flushes below, and shutdown */
    desc.readers[1] = desc.readers[0];
    desc.readers[1].exporter = del;
    desc.readers[1].temporality = OTEL_TEMPORALITY_PREF_DELTA;
    t1.init = wall_ns();
    CHECK(otel_init(&desc) == OTEL_OK);
    CHECK(make_instruments());

    t1.rec = wall_ns();
    record_round1();
    t1.flush0 = wall_ns();
    CHECK(otel_force_flush(10000) == OTEL_OK);
    t1.flush1 = wall_ns();
    t1.prev_time = 0;
    CHECK(ts_wait(&g_srv, n0 + 4, 5000));

    t2.init = t1.init;
    t2.rec = wall_ns();
    record_round2();
    t2.flush0 = wall_ns();
    CHECK(otel_force_flush(10000) == OTEL_OK);
    t2.flush1 = wall_ns();
    CHECK(ts_wait(&g_srv, n0 + 8, 5000));
    {
        otel_stats st;
        CHECK(otel_stats_get(&st) == OTEL_OK && st.reader_count == 2);
        CHECK(st.readers[0].collections == 2 && st.readers[1].collections == 2);
        CHECK(st.readers[0].exported_points == 16 + 17 && st.readers[0].failed_points == 0);
        CHECK(st.readers[1].exported_points == 16 + 14 && st.readers[1].failed_points == 0);
        CHECK(st.metric_dropped == 1); /* the negative add on a counter */
    }
    CHECK(otel_shutdown(10000) == OTEL_OK);
    n = ts_requests(&g_srv);
    /* shutdown: one last collection each (the delta one: the gauges and the observables) */
    CHECK(n == n0 + 12);
    CHECK(req_count("/cum/v1/metrics", n) == 3 && req_count("/cumjson/v1/metrics", n) == 3);
    CHECK(req_count("/delta/v1/metrics", n) == 3 && req_count("/deltajson/v1/metrics", n) == 3);

    for (k = 0; k < 3; k++) {
        const times *t = k == 0 ? &t1 : &t2;
        char name[4][40];
        pnode *root;
        snprintf(name[0], 40, "cum%d.txt", k);
        snprintf(name[1], 40, "cum%d.jsonl", k);
        snprintf(name[2], 40, "delta%d.txt", k);
        snprintf(name[3], 40, "delta%d.jsonl", k);
        tmp_path(cp, sizeof cp, name[0]);
        tmp_path(cj, sizeof cj, name[1]);
        tmp_path(dp, sizeof dp, name[2]);
        tmp_path(dj, sizeof dj, name[3]);
        /* cumulative reader */
        root = decode(req_at("/cum/v1/metrics", k, n), cp, NULL);
        if (g_skip_protoc) break;
        if (k < 2) check_collection(root, k + 1, false, t, k == 0 ? &sc1 : &sc2, &keep_c);
        else CHECK(root && pn_total(root, "resource_metrics", "scope_metrics", "metrics") == 11);
        pn_free(root);
        save_json(req_at("/cumjson/v1/metrics", k, n), cj);
        compare(k == 0 ? "cumulative, round 1" : k == 1 ? "cumulative, round 2" : "cumulative, shutdown", cp, cj,
                "--min-items 12");
        /* delta reader */
        root = decode(req_at("/delta/v1/metrics", k, n), dp, NULL);
        if (k < 2) {
            times td = *t;
            td.prev_time = k == 0 ? 0 : sd1.time;
            check_collection(root, k + 1, true, &td, k == 0 ? &sd1 : &sd2, &keep_d);
        } else {
            /* nothing recorded since: the gauges, the observables and the (cumulative) up-down
               counter only */
            CHECK(root && pn_total(root, "resource_metrics", "scope_metrics", "metrics") == 6);
            CHECK(pn_metric(root, NULL, "e2e.queue", NULL) != NULL);
            CHECK(pn_metric(root, NULL, "e2e.temperature", NULL) && pn_metric(root, NULL, "e2e.cpu.utilization", NULL));
            CHECK(pn_metric(root, NULL, "e2e.page_faults", NULL) && pn_metric(root, NULL, "e2e.threads", NULL));
            {
                const pnode *d = pn_kid(pn_metric(root, NULL, "e2e.page_faults", NULL), "sum", 0);
                const pnode *p = pn_kid(d, "data_points", 0);
                CHECK(p && pn_has(p, "as_int") && pn_int(p, "as_int") == 0); /* observed 150 again */
                CHECK(p && pn_u64(p, "start_time_unix_nano") == sd2.time);
            }
        }
        pn_free(root);
        save_json(req_at("/deltajson/v1/metrics", k, n), dj);
        compare(k == 0 ? "delta, round 1" : k == 1 ? "delta, round 2" : "delta, shutdown", dp, dj,
                k < 2 ? "--min-items 10" : "--min-items 5");
    }
    if (g_skip_protoc) {
        printf("SKIPPED: test_e2e_metrics protoc decode (protoc or the protos not available)\n");
        return;
    }
    /* the collections follow each other */
    CHECK(sc1.time && sc2.time > sc1.time && sd1.time && sd2.time > sd1.time);
    CHECK(keep_c.start_get_a && keep_c.start_latency);
}

/* ---- 2. env config: OTEL_METRICS_EXPORTER=otlp, periodic exports without a flush ------------ */

static void env_clear(void) {
    unsetenv("OTEL_METRICS_EXPORTER");
    unsetenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL");
    unsetenv("OTEL_METRIC_EXPORT_INTERVAL");
    unsetenv("OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE");
}
static otel_attr g_env_res[1];
static void env_desc(otel_desc *desc) {
    memset(desc, 0, sizeof *desc);
    g_env_res[0] = otel_attr_str("deployment.environment", "test");
    desc->service_name = "e2e-metrics";
    desc->resource_attrs = g_env_res;
    desc->resource_attr_count = 1;
    desc->default_exporters = "none";
    desc->default_logs_exporters = "none";
    /* a reader in code, which the variable replaces */
    desc->readers[0].kind = OTEL_READER_MANUAL;
}

/* Records round 1, lets the reader export by itself (interval 200 ms) at least 3 times,
   then shuts down (one last export). Checks every request; the last one's protoc text goes
   to `proto_out` (protobuf) or its body to `json_out` (http/json). */
static void env_periodic(const char *protocol, const char *path, const char *proto_out, const char *json_out) {
    otel_desc desc;
    times t;
    round_seen seen, keep;
    int n0 = ts_requests(&g_srv), n, k, cnt;
    int64_t t_init_ms;
    char url[200];
    bool json = !strcmp(protocol, "http/json");
    uint64_t prev_time = 0, start_get_a = 0;
    memset(&seen, 0, sizeof seen);
    keep = seen;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_srv.port, path);
    setenv("OTEL_METRICS_EXPORTER", "otlp", 1);
    setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", protocol, 1);
    setenv("OTEL_METRIC_EXPORT_INTERVAL", "200", 1);
    env_desc(&desc);
    t.init = wall_ns();
    t_init_ms = ts_ms();
    CHECK(otel_init(&desc) == OTEL_OK);
    {
        const otel_desc *c = otel_config();
        CHECK(c && c->readers[0].kind == OTEL_READER_PERIODIC && c->readers[0].export_interval_ms == 200);
        CHECK(c && c->readers[1].kind == OTEL_READER_NONE);
    }
    CHECK(make_instruments());
    t.rec = wall_ns();
    record_round1();
    CHECK(ts_wait(&g_srv, n0 + 3, 10000)); /* no flush: the reader's own schedule */
    t.flush0 = wall_ns();
    CHECK(otel_shutdown(10000) == OTEL_OK);
    t.flush1 = wall_ns();
    t.prev_time = 0;
    env_clear();
    n = ts_requests(&g_srv);
    cnt = n - n0;
    CHECK(cnt >= 4);
    for (k = n0; k < n && k < TS_MAX_REQ; k++) {
        const ts_request *r = ts_req(&g_srv, k);
        CHECK(!strcmp(r->path, path));
        /* the schedule: an interval after init, then an interval after each export */
        if (k < n - 1) CHECK(r->at_ms - (k == n0 ? t_init_ms : ts_req(&g_srv, k - 1)->at_ms) >= 190);
    }
    if (json) {
        for (k = n0; k < n && k < TS_MAX_REQ; k++) {
            const ts_request *r = ts_req(&g_srv, k);
            CHECK(strcasestr(r->head, "\r\ncontent-type: application/json\r\n") != NULL);
            CHECK(r->body_len > 2 && r->body[0] == '{');
        }
        save_json(ts_req(&g_srv, n - 1), json_out);
        return;
    }
    for (k = n0; k < n && k < TS_MAX_REQ; k++) {
        pnode *root = decode(ts_req(&g_srv, k), k == n - 1 ? proto_out : NULL, NULL);
        const pnode *p;
        uint64_t tm;
        if (g_skip_protoc) return;
        if (k == n - 1) { /* the shutdown's export: everything checked */
            check_collection(root, 1, false, &t, &seen, &keep);
            CHECK(start_get_a == 0 || keep.start_get_a == start_get_a);
        }
        /* each: the series' start kept, the time moving on */
        p = pn_point(pn_kid(pn_metric(root, "e2e.meter", "e2e.requests", NULL), "sum", 0),
                     "http.method=s:GET;http.route=s:/a");
        CHECK(p != NULL);
        tm = pn_u64(p, "time_unix_nano");
        CHECK(tm > prev_time);
        prev_time = tm;
        if (p && !start_get_a) start_get_a = pn_u64(p, "start_time_unix_nano");
        CHECK(p && pn_u64(p, "start_time_unix_nano") == start_get_a);
        pn_free(root);
    }
}

static void test_env(void) {
    char pb[300], js[300];
    tmp_path(pb, sizeof pb, "env.txt");
    tmp_path(js, sizeof js, "env.jsonl");
    env_periodic("http/protobuf", "/env/v1/metrics", pb, NULL);
    env_periodic("http/json", "/envjson/v1/metrics", NULL, js);
    /* two collections of the same recordings: equal but for the times */
    compare("env http/json vs http/protobuf", pb, js, "--ignore-times --min-items 12");
}

/* The DELTA preference from the seed's variable name, the endpoint from the generic base
   URL; collections by force_flush (the default interval, 60 s, never comes). */
static void test_env_delta(void) {
    otel_desc desc;
    times t1, t2;
    round_seen s1, s2, keep;
    int n0 = ts_requests(&g_srv), n;
    char url[200];
    pnode *root;
    memset(&s1, 0, sizeof s1);
    s2 = keep = s1;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/base/", g_srv.port);
    setenv("OTEL_METRICS_EXPORTER", "none,otlp", 1);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE", "Delta", 1);
    env_desc(&desc);
    t1.init = wall_ns();
    CHECK(otel_init(&desc) == OTEL_OK);
    CHECK(otel_config() && otel_config()->readers[0].export_interval_ms == 60000);
    CHECK(make_instruments());
    t1.rec = wall_ns();
    record_round1();
    t1.flush0 = wall_ns();
    CHECK(otel_force_flush(10000) == OTEL_OK);
    t1.flush1 = wall_ns();
    t1.prev_time = 0;
    t2 = t1;
    t2.rec = wall_ns();
    record_round2();
    t2.flush0 = wall_ns();
    CHECK(otel_force_flush(10000) == OTEL_OK);
    t2.flush1 = wall_ns();
    CHECK(otel_shutdown(10000) == OTEL_OK);
    env_clear();
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    n = ts_requests(&g_srv);
    CHECK(n == n0 + 3);
    CHECK(req_count("/base/v1/metrics", n) >= 3);
    root = decode(req_at("/base/v1/metrics", 0, n), NULL, NULL);
    if (g_skip_protoc) { pn_free(root); return; }
    check_collection(root, 1, true, &t1, &s1, &keep);
    pn_free(root);
    root = decode(req_at("/base/v1/metrics", 1, n), NULL, NULL);
    t2.prev_time = s1.time;
    check_collection(root, 2, true, &t2, &s2, &keep);
    pn_free(root);
}

int main(void) {
    char cmd[300];
    const char *tmp = getenv("TEST_TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/otel-e2e-metrics.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_tmp)) { perror("mkdtemp"); return 1; }
    if (!ts_start(&g_srv, true, 120000)) { perror("test server"); return 1; }
    test_code_config();
    test_env();
    test_env_delta();
    ts_stop(&g_srv);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (!getenv("E2E_KEEP")) (void)run(cmd); /* E2E_KEEP=1: keep the requests for a look */
    return TEST_DONE();
}
