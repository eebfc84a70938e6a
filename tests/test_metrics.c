/* test_metrics.c - the metrics core: instruments, aggregation per attribute set, readers and
   temporality, the console and OTLP/JSON output, flush/shutdown deadlines, fork, env vars.
   Exactness: 2 threads x 1,000,000 adds (fewer under sanitizers) across several attribute
   sets; several readers with different temporalities on one provider over several
   collections; allocations counted on the recording path.
   TEST_ONLY=<part of a test name> runs only the matching tests (development). */
/* tsan */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdlib.h>
static _Atomic unsigned long test_allocs;
#define OTEL_MALLOC(size, user) (atomic_fetch_add(&test_allocs, 1), malloc(size))
#define OTEL_FREE(ptr, user) free(ptr)
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "test.h"
#include "test_diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef TSAN_BUILD
/* the fork test starts the reader thread again in the child */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }
#endif

#define ADDS_PER_THREAD (SANITIZED ? 50000L : 1000000L)

/* ---- helpers ------------------------------------------------------------------------------ */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#define WAIT_FOR(cond, ms) \
    do { uint64_t wf__end = now_ms() + (ms); while (!(cond) && now_ms() < wf__end) sleep_ms(1); } while (0)

static const char *tmpdir(void) {
    const char *t = getenv("TEST_TMPDIR");
    return t && *t ? t : "/tmp";
}

static void unset_env(void) {
    static const char *vars[] = {"OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                                 "OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE", "OTEL_METRIC_EXPORT_INTERVAL",
                                 "OTEL_METRIC_EXPORT_TIMEOUT", "OTEL_SDK_DISABLED", "OTEL_EXPORTER_PROMETHEUS_HOST",
                                 "OTEL_EXPORTER_PROMETHEUS_PORT", "OTEL_EXPORTER_CONSOLE_FORMAT"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

/* A desc with no trace destinations and `n` MANUAL readers of the given preferences. */
static otel_desc manual_desc(int n, const otel_temporality_preference *prefs) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.service_name = "test-metrics";
    d.default_exporters = "none";
    d.diag.func = diag_fn;
    for (int i = 0; i < n; i++) {
        d.readers[i].kind = OTEL_READER_MANUAL;
        d.readers[i].temporality = prefs ? prefs[i] : OTEL_TEMPORALITY_PREF_DEFAULT;
    }
    return d;
}

/* A flat copy of one collection, for checks. */
typedef struct pt {
    char metric[64];
    char attrs[256]; /* "k=v,k2=v2" in the exported order */
    otel_metric_type type;
    otel_temporality temporality;
    otel_number_type number;
    bool monotonic;
    int64_t i;
    double d;
    uint64_t count, start, time;
    double sum, min, max;
    uint64_t buckets[32];
    size_t nbuckets;
} pt;

typedef struct snap {
    pt p[4096];
    size_t n;
    size_t metrics;
    bool scopes_adjacent;
} snap;

static void attr_text(char *out, size_t cap, const otel_attr *a, size_t n) {
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        const otel_value *v = &a[i].value;
        int w = 0;
        switch (v->type) {
        case OTEL_VALUE_STRING: w = snprintf(out + o, cap - o, "%s%.*s=%.*s", i ? "," : "", (int)a[i].key.len, a[i].key.ptr, (int)v->len, v->u.s); break;
        case OTEL_VALUE_INT: w = snprintf(out + o, cap - o, "%s%.*s=%lld", i ? "," : "", (int)a[i].key.len, a[i].key.ptr, (long long)v->u.i); break;
        case OTEL_VALUE_BOOL: w = snprintf(out + o, cap - o, "%s%.*s=%s", i ? "," : "", (int)a[i].key.len, a[i].key.ptr, v->u.b ? "true" : "false"); break;
        case OTEL_VALUE_DOUBLE: w = snprintf(out + o, cap - o, "%s%.*s=%g", i ? "," : "", (int)a[i].key.len, a[i].key.ptr, v->u.d); break;
        default: w = snprintf(out + o, cap - o, "%s%.*s=[%zu]", i ? "," : "", (int)a[i].key.len, a[i].key.ptr, v->len); break;
        }
        if (w > 0) o += (size_t)w;
    }
}

static void snap_fn(const otel_metric_batch *b, void *user) {
    snap *s = (snap *)user;
    s->n = 0;
    s->metrics = b->count;
    s->scopes_adjacent = true;
    for (size_t i = 0; i < b->count; i++) {
        const otel_metric_data *md = &b->metrics[i];
        for (size_t j = 0; j + 1 < i; j++)
            if (b->metrics[j].scope == md->scope && b->metrics[j + 1].scope != md->scope) s->scopes_adjacent = false;
        for (size_t k = 0; k < md->point_count && s->n < 4096; k++) {
            const otel_metric_point *p = &md->points[k];
            pt *q = &s->p[s->n++];
            memset(q, 0, sizeof *q);
            snprintf(q->metric, sizeof q->metric, "%.*s", (int)md->name.len, md->name.ptr);
            attr_text(q->attrs, sizeof q->attrs, p->attrs, p->attr_count);
            q->type = md->type;
            q->temporality = md->temporality;
            q->number = md->number_type;
            q->monotonic = md->monotonic;
            q->i = p->value.i;
            q->d = p->value.d;
            q->count = p->count;
            q->sum = p->sum;
            q->min = p->min;
            q->max = p->max;
            q->start = p->start_time_ns;
            q->time = p->time_ns;
            q->nbuckets = p->bucket_count;
            for (size_t x = 0; x < p->bucket_count && x < 32; x++) q->buckets[x] = p->bucket_counts[x];
        }
    }
}

static snap S; /* big: static */

static otel_result collect(size_t reader) { return otel_metrics_collect(reader, snap_fn, &S); }

static const pt *find(const char *metric, const char *attrs) {
    for (size_t i = 0; i < S.n; i++)
        if (strcmp(S.p[i].metric, metric) == 0 && (!attrs || strcmp(S.p[i].attrs, attrs) == 0)) return &S.p[i];
    return NULL;
}

static size_t count_points(const char *metric) {
    size_t n = 0;
    for (size_t i = 0; i < S.n; i++) n += strcmp(S.p[i].metric, metric) == 0;
    return n;
}

static otel_attr A2[2];
static const otel_attr *attrs2(const char *k1, const char *v1, const char *k2, const char *v2) {
    A2[0] = otel_attr_str(k1, v1);
    A2[1] = otel_attr_str(k2, v2);
    return A2;
}

/* ---- aggregation ---------------------------------------------------------------------------- */

static otel_instrument *g_cnt, *g_dcnt, *g_hist;
static const char *const routes[4] = {"/a", "/b", "/c", "/d"};

static void *adder(void *arg) {
    int t = (int)(intptr_t)arg;
    for (long i = 0; i < ADDS_PER_THREAD; i++) {
        int k = (int)(i & 3);
        otel_attr a[2];
        /* thread 0 and 1 give the attributes in opposite orders */
        a[t] = otel_attr_str("method", k & 1 ? "POST" : "GET");
        a[1 - t] = otel_attr_str("route", routes[k]);
        otel_record_int(g_cnt, 1, a, 2);
        otel_record_double(g_dcnt, 0.5, a, 2);
        if ((i & 12) == 0) otel_record_double(g_hist, (double)(i % 1000), a, 2);
    }
    return NULL;
}

static void test_exact_two_threads(void) {
    otel_temporality_preference prefs[2] = {OTEL_TEMPORALITY_PREF_CUMULATIVE, OTEL_TEMPORALITY_PREF_DELTA};
    otel_desc d = manual_desc(2, prefs);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_meter *m = otel_meter_get("test", "1");
    g_cnt = otel_counter_create(m, "requests", "1", "requests");
    g_dcnt = otel_instrument_create(m, OTEL_INSTRUMENT_COUNTER, OTEL_NUMBER_DOUBLE,
                                    &(otel_instrument_desc){.name = "work", .unit = "s"});
    g_hist = otel_histogram_create(m, "latency", "ms", NULL);
    CHECK(g_cnt && g_dcnt && g_hist);
    pthread_t th[2];
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, adder, (void *)(intptr_t)t);
    CHECK(collect(1) == OTEL_OK); /* a delta collection in the middle: totals must still add up */
    uint64_t mid = 0;
    for (size_t i = 0; i < S.n; i++)
        if (strcmp(S.p[i].metric, "requests") == 0) mid += (uint64_t)S.p[i].i;
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    CHECK(collect(0) == OTEL_OK);
    CHECK(count_points("requests") == 4 && count_points("work") == 4 && count_points("latency") == 4);
    long per = ADDS_PER_THREAD / 4 * 2; /* each set: a quarter of each thread's adds */
    for (int k = 0; k < 4; k++) {
        char want[64];
        snprintf(want, sizeof want, "method=%s,route=%s", k & 1 ? "POST" : "GET", routes[k]);
        const pt *p = find("requests", want), *w = find("work", want), *h = find("latency", want);
        CHECK(p && p->i == per);
        CHECK(w && w->d == 0.5 * (double)per);
        CHECK(h && h->count == (uint64_t)(per / 4));
        if (!p) fprintf(stderr, "missing %s\n", want);
    }
    uint64_t rest = 0;
    CHECK(collect(1) == OTEL_OK);
    for (size_t i = 0; i < S.n; i++)
        if (strcmp(S.p[i].metric, "requests") == 0) rest += (uint64_t)S.p[i].i;
    CHECK(mid + rest == (uint64_t)ADDS_PER_THREAD * 2); /* delta: the two collections split the total exactly */
    CHECK(diag_count(NULL) == 0);
    otel_shutdown(1000);
}

/* New series (table growth) while another thread collects: nothing lost, nothing twice. */
static _Atomic int grow_done;
static void *grower(void *arg) {
    int t = (int)(intptr_t)arg;
    int rounds = SANITIZED ? 3 : 20;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < 600; i++) {
            otel_attr a[2] = {otel_attr_int("id", i), otel_attr_int("thread", t)};
            otel_record_int(g_cnt, 1, a, 2);
            otel_record_double(g_hist, i, a, 2);
        }
    atomic_fetch_add(&grow_done, 1);
    return NULL;
}

static void test_growth_while_collecting(void) {
    diag_reset();
    otel_temporality_preference prefs[2] = {OTEL_TEMPORALITY_PREF_CUMULATIVE, OTEL_TEMPORALITY_PREF_DELTA};
    otel_desc d = manual_desc(2, prefs);
    CHECK(otel_init(&d) == OTEL_OK);
    g_cnt = otel_counter_create(NULL, "grow", NULL, NULL);
    g_hist = otel_histogram_create(NULL, "grow_h", NULL, NULL);
    atomic_store(&grow_done, 0);
    pthread_t th[2];
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, grower, (void *)(intptr_t)t);
    long long delta_sum = 0, delta_count = 0;
    int collections = 0;
    bool all_ok = true;
    for (;;) {
        bool last = atomic_load(&grow_done) == 2;
        all_ok &= collect(1) == OTEL_OK;
        collections++;
        for (size_t i = 0; i < S.n; i++) {
            if (strcmp(S.p[i].metric, "grow") == 0) delta_sum += S.p[i].i;
            if (strcmp(S.p[i].metric, "grow_h") == 0) delta_count += (long long)S.p[i].count;
        }
        if (last) break;
    }
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    long long want = 2LL * 600 * (SANITIZED ? 3 : 20);
    CHECK(delta_sum == want && delta_count == want);
    CHECK(collect(0) == OTEL_OK && count_points("grow") == 1200 && count_points("grow_h") == 1200);
    long long cum = 0;
    for (size_t i = 0; i < S.n; i++)
        if (strcmp(S.p[i].metric, "grow") == 0) cum += S.p[i].i;
    CHECK(cum == want);
    CHECK(collections >= 1 && all_ok);
    otel_shutdown(1000);
}

static void test_attribute_order_and_canon(void) {
    diag_reset();
    otel_desc d = manual_desc(1, NULL);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_instrument *c = otel_counter_create(NULL, "c", NULL, NULL);
    otel_attr ab[3] = {otel_attr_str("a", "1"), otel_attr_int("b", 2), otel_attr_bool("c", true)};
    otel_attr ba[3] = {otel_attr_bool("c", true), otel_attr_int("b", 2), otel_attr_str("a", "1")};
    otel_attr dup[4] = {otel_attr_str("a", "0"), otel_attr_bool("c", true), otel_attr_int("b", 2), otel_attr_str("a", "1")};
    otel_record_int(c, 1, ab, 3);
    otel_record_int(c, 1, ba, 3);
    otel_record_int(c, 1, dup, 4); /* "a" given twice: the last value wins */
    otel_attr bad[2] = {otel_attr_str("x", "\xff"), otel_attr_str(NULL, "ignored")};
    otel_record_int(c, 5, bad, 2);
    otel_record_int(c, 5, (otel_attr[]){otel_attr_str("x", "\xef\xbf\xbd")}, 1); /* the repaired form */
    otel_record_int(c, 7, NULL, 0);
    otel_record_int(c, 7, NULL, 3); /* NULL attrs with a count: the empty set */
    CHECK(collect(0) == OTEL_OK);
    CHECK(count_points("c") == 3);
    const pt *p = find("c", "a=1,b=2,c=true");
    CHECK(p && p->i == 3);
    p = find("c", "x=\xef\xbf\xbd");
    CHECK(p && p->i == 10);
    p = find("c", "");
    CHECK(p && p->i == 14);
    CHECK(diag_count("left out") == 1); /* the NULL key, reported once */
    /* same name (any case), kind and type: the same instrument */
    CHECK(otel_counter_create(NULL, "C", NULL, NULL) == c);
    otel_instrument *h = otel_instrument_create(NULL, OTEL_INSTRUMENT_UP_DOWN_COUNTER, OTEL_NUMBER_INT64,
                                                &(otel_instrument_desc){.name = "c"});
    CHECK(h && h != c && diag_count("another kind") == 1);
    CHECK(otel_meter_get("x", "1") == otel_meter_get("x", "1") && otel_meter_get("x", "1") != otel_meter_get("x", "2"));
    otel_shutdown(1000);
}

static void test_overflow(void) {
    diag_reset();
    otel_desc d = manual_desc(1, NULL);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_instrument *c = otel_instrument_create(NULL, OTEL_INSTRUMENT_COUNTER, OTEL_NUMBER_INT64,
                                                &(otel_instrument_desc){.name = "limited", .cardinality_limit = 10});
    otel_instrument *big = otel_counter_create(NULL, "default_limit", NULL, NULL);
    for (int i = 0; i < 25; i++) {
        otel_attr a = otel_attr_int("id", i);
        otel_record_int(c, 1, &a, 1);
        otel_record_int(c, 1, &a, 1);
    }
    for (int i = 0; i < 2100; i++) {
        otel_attr a = otel_attr_int("id", i);
        otel_record_int(big, 1, &a, 1);
    }
    CHECK(collect(0) == OTEL_OK);
    CHECK(count_points("limited") == 10); /* 9 series + the overflow series */
    const pt *o = find("limited", "otel.metric.overflow=true");
    CHECK(o && o->i == 2 * 16);
    for (int i = 0; i < 9; i++) {
        char want[32];
        snprintf(want, sizeof want, "id=%d", i);
        const pt *p = find("limited", want);
        CHECK(p && p->i == 2);
    }
    CHECK(count_points("default_limit") == 2000);
    o = find("default_limit", "otel.metric.overflow=true");
    CHECK(o && o->i == 101);
    otel_stats st;
    otel_stats_get(&st);
    CHECK(st.metric_overflowed == 32 + 101);
    CHECK(diag_count("cardinality limit") == 2); /* once per instrument */
    otel_shutdown(1000);
}

static void test_invalid(void) {
    diag_reset();
    otel_desc d = manual_desc(1, NULL);
    CHECK(otel_init(&d) == OTEL_OK);
    char long_ok[256], long_bad[257];
    memset(long_ok, 'a', 255); long_ok[255] = 0;
    memset(long_bad, 'a', 256); long_bad[256] = 0;
    const char *bad[] = {"", "1abc", "a b", "_x", "a*b", "é", long_bad};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(otel_counter_create(NULL, bad[i], NULL, NULL) == NULL);
    }
    CHECK(diag_count("invalid name") == (int)(sizeof bad / sizeof bad[0]));
    CHECK(otel_counter_create(NULL, long_ok, NULL, NULL) != NULL);
    CHECK(otel_counter_create(NULL, "Aa0_.-/z", NULL, NULL) != NULL);
    CHECK(otel_instrument_create(NULL, OTEL_INSTRUMENT_COUNTER, OTEL_NUMBER_INT64, NULL) == NULL);
    CHECK(otel_counter_create(NULL, "unit_bad", "\xc2\xb5s", NULL) == NULL && diag_count("invalid unit") == 1);
    double inc[] = {1, 2, 2}, nan_b[] = {1, NAN}, inf_b[] = {1, INFINITY}, dec[] = {5, 1};
    const double *bb[] = {inc, nan_b, inf_b, dec};
    size_t bn[] = {3, 2, 2, 2};
    for (int i = 0; i < 4; i++)
        CHECK(otel_instrument_create(NULL, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_DOUBLE,
                                     &(otel_instrument_desc){.name = "h", .boundaries = bb[i], .boundary_count = bn[i]}) == NULL);
    CHECK(diag_count("boundaries") == 4);
    CHECK(otel_instrument_create(NULL, OTEL_INSTRUMENT_OBSERVABLE_GAUGE, OTEL_NUMBER_INT64,
                                 &(otel_instrument_desc){.name = "og"}) == NULL && diag_count("callback") == 1);
    CHECK(otel_instrument_create(NULL, (otel_instrument_kind)99, OTEL_NUMBER_INT64, &(otel_instrument_desc){.name = "k"}) == NULL);
    /* NULL instruments and handles accept everything */
    otel_record_int(NULL, 1, NULL, 0);
    otel_record_double(NULL, 1, NULL, 0);
    otel_bound_record_int(NULL, 1);
    otel_bound_record_double(NULL, 1);
    CHECK(otel_instrument_bind(NULL, NULL, 0) == NULL);
    otel_observe_int(NULL, 1, NULL, 0);
    /* negative values on a Counter: ignored, one warning; an UpDownCounter takes them */
    otel_instrument *c = otel_counter_create(NULL, "neg", NULL, NULL);
    otel_instrument *dc = otel_instrument_create(NULL, OTEL_INSTRUMENT_COUNTER, OTEL_NUMBER_DOUBLE, &(otel_instrument_desc){.name = "dneg"});
    otel_instrument *ud = otel_instrument_create(NULL, OTEL_INSTRUMENT_UP_DOWN_COUNTER, OTEL_NUMBER_INT64,
                                                 &(otel_instrument_desc){.name = "ud"});
    otel_record_int(c, 5, NULL, 0);
    otel_record_int(c, -3, NULL, 0);
    otel_record_int(c, -1, NULL, 0);
    otel_record_double(dc, -1.5, NULL, 0);
    otel_record_double(dc, NAN, NULL, 0);
    otel_record_double(dc, 2.5, NULL, 0);
    otel_bound *b = otel_instrument_bind(c, NULL, 0);
    otel_bound_record_int(b, -7);
    otel_record_int(ud, -4, NULL, 0);
    otel_record_int(ud, 1, NULL, 0);
    CHECK(collect(0) == OTEL_OK);
    const pt *p = find("neg", "");
    CHECK(p && p->i == 5);
    p = find("dneg", "");
    CHECK(p && p->d == 2.5);
    p = find("ud", "");
    CHECK(p && p->i == -3 && !p->monotonic);
    CHECK(diag_count("negative value") == 2); /* once per counter */
    CHECK(diag_count("NaN") == 1);
    otel_stats st;
    otel_stats_get(&st);
    CHECK(st.metric_dropped == 5);
    otel_shutdown(1000);
    /* after shutdown: no-ops */
    otel_record_int(c, 1, NULL, 0);
    CHECK(otel_meter_get(NULL, NULL) == NULL && otel_counter_create(NULL, "x", NULL, NULL) == NULL);
    CHECK(otel_metrics_collect(0, snap_fn, &S) == OTEL_ERR_STATE);
}

/* ---- readers and temporality ---------------------------------------------------------- */

static int64_t obs_counter_value = 10, obs_updown_value = 5;
static int obs_calls;
static bool obs_second_set;

static void observe_counter(otel_observer *o, void *user) {
    (void)user;
    obs_calls++;
    otel_observe_int(o, obs_counter_value, (otel_attr[]){otel_attr_str("cpu", "0")}, 1);
    if (obs_second_set) otel_observe_int(o, 1, (otel_attr[]){otel_attr_str("cpu", "1")}, 1);
}
static void observe_updown(otel_observer *o, void *user) {
    (void)user;
    otel_observe_int(o, obs_updown_value, NULL, 0);
}
static void observe_gauge(otel_observer *o, void *user) {
    otel_observe_double(o, *(double *)user, NULL, 0);
}

static const otel_temporality_preference PREFS3[3] = {OTEL_TEMPORALITY_PREF_CUMULATIVE, OTEL_TEMPORALITY_PREF_DELTA,
                                                      OTEL_TEMPORALITY_PREF_LOWMEMORY};

/* Every kind, three readers (cumulative, delta, lowmemory), several collections. */
static void test_delta_and_cumulative(void) {
    diag_reset();
    otel_desc d = manual_desc(3, PREFS3);
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_config()->readers[1].temporality == OTEL_TEMPORALITY_PREF_DELTA);
    double gauge_v = 1.5;
    obs_counter_value = 10;
    obs_updown_value = 5;
    obs_second_set = false;
    otel_meter *m = otel_meter_get("kinds", NULL);
    otel_instrument *c = otel_counter_create(m, "counter", NULL, NULL);
    otel_instrument *ud = otel_instrument_create(m, OTEL_INSTRUMENT_UP_DOWN_COUNTER, OTEL_NUMBER_INT64, &(otel_instrument_desc){.name = "updown"});
    otel_instrument *h = otel_instrument_create(m, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_INT64,
                                                &(otel_instrument_desc){.name = "hist", .boundaries = (double[]){10, 20}, .boundary_count = 2});
    otel_instrument *g = otel_instrument_create(m, OTEL_INSTRUMENT_GAUGE, OTEL_NUMBER_INT64, &(otel_instrument_desc){.name = "gauge"});
    otel_instrument *oc = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_COUNTER, OTEL_NUMBER_INT64,
                                                 &(otel_instrument_desc){.name = "ocounter", .callback = observe_counter});
    otel_instrument *oud = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_UP_DOWN_COUNTER, OTEL_NUMBER_INT64,
                                                  &(otel_instrument_desc){.name = "oupdown", .callback = observe_updown});
    otel_instrument *og = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_GAUGE, OTEL_NUMBER_DOUBLE,
                                                 &(otel_instrument_desc){.name = "ogauge", .callback = observe_gauge, .callback_user = &gauge_v});
    CHECK(c && ud && h && g && oc && oud && og);
    /* kind -> temporality under each preference (the spec's and seed 001's table) */
    static const struct { const char *name; otel_temporality t[3]; } map[] = {
        {"counter", {OTEL_TEMPORALITY_CUMULATIVE, OTEL_TEMPORALITY_DELTA, OTEL_TEMPORALITY_DELTA}},
        {"updown", {OTEL_TEMPORALITY_CUMULATIVE, OTEL_TEMPORALITY_CUMULATIVE, OTEL_TEMPORALITY_CUMULATIVE}},
        {"hist", {OTEL_TEMPORALITY_CUMULATIVE, OTEL_TEMPORALITY_DELTA, OTEL_TEMPORALITY_DELTA}},
        {"gauge", {OTEL_TEMPORALITY_UNSPECIFIED, OTEL_TEMPORALITY_UNSPECIFIED, OTEL_TEMPORALITY_UNSPECIFIED}},
        {"ocounter", {OTEL_TEMPORALITY_CUMULATIVE, OTEL_TEMPORALITY_DELTA, OTEL_TEMPORALITY_CUMULATIVE}},
        {"oupdown", {OTEL_TEMPORALITY_CUMULATIVE, OTEL_TEMPORALITY_CUMULATIVE, OTEL_TEMPORALITY_CUMULATIVE}},
        {"ogauge", {OTEL_TEMPORALITY_UNSPECIFIED, OTEL_TEMPORALITY_UNSPECIFIED, OTEL_TEMPORALITY_UNSPECIFIED}},
    };
    /* round 1 */
    otel_record_int(c, 3, NULL, 0);
    otel_record_int(ud, 4, NULL, 0);
    otel_record_int(h, 5, NULL, 0);
    otel_record_int(h, 15, NULL, 0);
    otel_record_int(g, 7, NULL, 0);
    uint64_t t_before = otel_now_ns(), first_collect = 0;
    for (int r = 0; r < 3; r++) {
        CHECK(collect((size_t)r) == OTEL_OK);
        if (r == 1 && find("ogauge", "")) first_collect = find("ogauge", "")->time; /* the delta reader's collection */
        for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
            const pt *p = find(map[k].name, NULL);
            CHECK(p && p->temporality == map[k].t[r]);
            if (!p) fprintf(stderr, "reader %d: no point for %s\n", r, map[k].name);
        }
        const pt *p = find("counter", "");
        CHECK(p && p->i == 3 && p->monotonic && p->type == OTEL_METRIC_SUM);
        p = find("hist", "");
        CHECK(p && p->count == 2 && p->sum == 20 && p->min == 5 && p->max == 15 && p->nbuckets == 3 &&
              p->buckets[0] == 1 && p->buckets[1] == 1 && p->buckets[2] == 0);
        p = find("gauge", "");
        CHECK(p && p->i == 7 && p->type == OTEL_METRIC_GAUGE && p->start == 0 && p->time <= t_before);
        p = find("ocounter", "cpu=0");
        CHECK(p && p->i == 10 && p->monotonic);
        p = find("oupdown", "");
        CHECK(p && p->i == 5);
        p = find("ogauge", "");
        CHECK(p && p->d == 1.5 && p->time >= t_before);
    }
    CHECK(obs_calls == 3); /* the callbacks ran once per collection */
    /* round 2: more of everything */
    otel_record_int(c, 2, NULL, 0);
    otel_record_int(ud, -1, NULL, 0);
    otel_record_int(h, 25, NULL, 0);
    otel_record_int(g, 9, NULL, 0);
    obs_counter_value = 17;
    obs_updown_value = 2;
    obs_second_set = true;
    gauge_v = -2;
    CHECK(collect(0) == OTEL_OK); /* cumulative */
    CHECK(find("counter", "")->i == 5 && find("updown", "")->i == 3 && find("hist", "")->count == 3 &&
          find("hist", "")->sum == 45 && find("hist", "")->max == 25 && find("hist", "")->min == 5);
    CHECK(find("counter", "")->start < first_collect); /* cumulative: from the series' start */
    CHECK(find("ocounter", "cpu=0")->i == 17 && find("ocounter", "cpu=1")->i == 1 && find("ogauge", "")->d == -2);
    CHECK(collect(1) == OTEL_OK); /* delta */
    const pt *p = find("counter", "");
    CHECK(p && p->i == 2 && p->start == first_collect); /* delta start = this reader's previous collection */
    p = find("hist", "");
    CHECK(p && p->count == 1 && p->sum == 25 && p->min == 25 && p->max == 25 && p->buckets[2] == 1 && p->buckets[0] == 0);
    CHECK(find("updown", "")->i == 3);                  /* cumulative under DELTA */
    CHECK(find("ocounter", "cpu=0")->i == 7);           /* 17 - 10 */
    CHECK(find("ocounter", "cpu=1")->i == 1);
    CHECK(find("oupdown", "")->i == 2 && find("gauge", "")->i == 9);
    CHECK(collect(2) == OTEL_OK); /* lowmemory */
    CHECK(find("counter", "")->i == 2 && find("hist", "")->count == 1 && find("ocounter", "cpu=0")->i == 17);
    /* round 3: nothing recorded -> delta readers skip the synchronous counter and histogram */
    obs_second_set = false;
    CHECK(collect(1) == OTEL_OK);
    CHECK(!find("counter", "") && !find("hist", ""));
    CHECK(find("updown", "")->i == 3 && find("gauge", "")->i == 9);
    CHECK(find("ocounter", "cpu=0")->i == 0 && !find("ocounter", "cpu=1")); /* not observed this time */
    CHECK(collect(0) == OTEL_OK);
    CHECK(find("counter", "")->i == 5 && find("hist", "")->count == 3 && !find("ocounter", "cpu=1"));
    /* round 4: recording again shows up in the delta readers only with the new amounts */
    otel_record_int(c, 10, NULL, 0);
    otel_record_int(h, 1, NULL, 0);
    CHECK(collect(2) == OTEL_OK);
    CHECK(find("counter", "")->i == 12 - 0 - 2 && find("hist", "")->count == 1 && find("hist", "")->min == 1);
    CHECK(collect(1) == OTEL_OK);
    CHECK(find("counter", "")->i == 10 && find("hist", "")->sum == 1);
    CHECK(collect(0) == OTEL_OK);
    CHECK(find("counter", "")->i == 15 && find("hist", "")->count == 4 && find("hist", "")->min == 1 && find("hist", "")->max == 25);
    CHECK(S.scopes_adjacent);
    CHECK(otel_metrics_collect(3, snap_fn, &S) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_metrics_collect(0, NULL, NULL) == OTEL_ERR_INVALID_ARG);
    CHECK(diag_count(NULL) == 0);
    otel_shutdown(1000);
}

static void test_histogram_buckets(void) {
    diag_reset();
    otel_desc d = manual_desc(1, NULL);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_instrument *def = otel_histogram_create(NULL, "default_bounds", "ms", NULL);
    otel_instrument *one = otel_instrument_create(NULL, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_DOUBLE,
                                                  &(otel_instrument_desc){.name = "single", .boundaries = (double[]){0}, .boundary_count = 0});
    otel_instrument *cus = otel_instrument_create(NULL, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_DOUBLE,
                                                  &(otel_instrument_desc){.name = "custom", .boundaries = (double[]){-1, 0, 2.5}, .boundary_count = 3});
    double vals[] = {0, 5, 5.0001, 10000, 10001, -3, 7.5};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        otel_record_double(def, vals[i], NULL, 0);
        otel_record_double(one, vals[i], NULL, 0);
        otel_record_double(cus, vals[i], NULL, 0);
    }
    otel_record_double(def, INFINITY, NULL, 0); /* ignored */
    CHECK(collect(0) == OTEL_OK);
    const pt *p = find("default_bounds", "");
    /* upper bounds inclusive: 0 and -3 in (-inf,0], 5 in (0,5], 5.0001 and 7.5 in (5,10], 10000 in (7500,10000], 10001 above */
    CHECK(p && p->nbuckets == 16 && p->count == 7 && p->buckets[0] == 2 && p->buckets[1] == 1 && p->buckets[2] == 2 &&
          p->buckets[14] == 1 && p->buckets[15] == 1);
    CHECK(p && p->min == -3 && p->max == 10001 && fabs(p->sum - (0 + 5 + 5.0001 + 10000 + 10001 - 3 + 7.5)) < 1e-9);
    p = find("single", "");
    CHECK(p && p->nbuckets == 1 && p->buckets[0] == 7 && p->count == 7);
    p = find("custom", "");
    CHECK(p && p->nbuckets == 4 && p->buckets[0] == 1 && p->buckets[1] == 1 && p->buckets[2] == 0 && p->buckets[3] == 5);
    CHECK(diag_count("NaN or infinite") == 1);
    otel_shutdown(1000);
}

static void test_gauge_and_bound(void) {
    diag_reset();
    otel_desc d = manual_desc(1, NULL);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_instrument *g = otel_instrument_create(NULL, OTEL_INSTRUMENT_GAUGE, OTEL_NUMBER_DOUBLE, &(otel_instrument_desc){.name = "temp"});
    otel_instrument *c = otel_counter_create(NULL, "bound_counter", NULL, NULL);
    otel_record_double(g, 20.5, attrs2("room", "a", "floor", "1"), 2);
    otel_record_double(g, 21.5, attrs2("floor", "1", "room", "a"), 2);
    otel_record_int(g, 3, attrs2("room", "b", "floor", "1"), 2); /* an int on a double gauge */
    otel_bound *b1 = otel_instrument_bind(c, attrs2("k", "v", "j", "w"), 2);
    otel_bound *b2 = otel_instrument_bind(c, attrs2("j", "w", "k", "v"), 2);
    CHECK(b1 && b1 == b2);
    for (int i = 0; i < 1000; i++) otel_bound_record_int(b1, 2);
    otel_bound_record_double(b2, 1.9); /* truncated toward zero for an int64 counter */
    otel_record_int(c, 1, attrs2("k", "v", "j", "w"), 2);
    otel_instrument *og = otel_instrument_create(NULL, OTEL_INSTRUMENT_OBSERVABLE_GAUGE, OTEL_NUMBER_DOUBLE,
                                                 &(otel_instrument_desc){.name = "og", .callback = observe_updown});
    CHECK(otel_instrument_bind(og, NULL, 0) == NULL && diag_count("cannot be bound") == 1);
    otel_record_int(og, 1, NULL, 0);
    CHECK(diag_count("otel_observe_") == 1);
    CHECK(collect(0) == OTEL_OK);
    const pt *p = find("temp", "floor=1,room=a");
    CHECK(p && p->d == 21.5 && count_points("temp") == 2);
    p = find("temp", "floor=1,room=b");
    CHECK(p && p->d == 3.0);
    p = find("bound_counter", "j=w,k=v");
    CHECK(p && p->i == 2002);
    otel_shutdown(1000);
}

/* ---- allocation-free recording ------------------------------------------------------------ */

static void test_no_allocations(void) {
    diag_reset();
    otel_temporality_preference prefs[2] = {OTEL_TEMPORALITY_PREF_CUMULATIVE, OTEL_TEMPORALITY_PREF_DELTA};
    otel_desc d = manual_desc(2, prefs);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_instrument *c = otel_counter_create(NULL, "c", NULL, NULL);
    otel_instrument *h = otel_histogram_create(NULL, "h", NULL, NULL);
    otel_instrument *g = otel_instrument_create(NULL, OTEL_INSTRUMENT_GAUGE, OTEL_NUMBER_INT64, &(otel_instrument_desc){.name = "g"});
    otel_bound *b = otel_instrument_bind(c, attrs2("x", "1", "y", "2"), 2);
    otel_record_int(c, 1, attrs2("method", "GET", "route", "/x"), 2);
    otel_record_double(h, 1, attrs2("method", "GET", "route", "/x"), 2);
    otel_record_int(g, 1, attrs2("method", "GET", "route", "/x"), 2);
    unsigned long a0 = atomic_load(&test_allocs);
    for (int i = 0; i < 10000; i++) {
        otel_record_int(c, 1, attrs2("route", "/x", "method", "GET"), 2);
        otel_record_double(h, i, attrs2("method", "GET", "route", "/x"), 2);
        otel_record_int(g, i, attrs2("method", "GET", "route", "/x"), 2);
        otel_bound_record_int(b, 1);
    }
    CHECK(atomic_load(&test_allocs) == a0);
    /* collections reuse their scratch once it is big enough */
    CHECK(collect(0) == OTEL_OK && collect(1) == OTEL_OK);
    a0 = atomic_load(&test_allocs);
    otel_record_int(c, 1, attrs2("route", "/x", "method", "GET"), 2);
    CHECK(collect(0) == OTEL_OK && collect(1) == OTEL_OK);
    CHECK(atomic_load(&test_allocs) == a0);
    CHECK(find("c", "method=GET,route=/x")->i == 1); /* reader 1 (delta) */
    otel_shutdown(1000);
}

/* ---- environment ---------------------------------------------------------------------------- */

static void test_env(void) {
    static const struct { const char *var, *val; otel_temporality_preference want; int warn; } cases[] = {
        {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta", OTEL_TEMPORALITY_PREF_DELTA, 0},
        {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", " LowMemory ", OTEL_TEMPORALITY_PREF_LOWMEMORY, 0},
        {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "CUMULATIVE", OTEL_TEMPORALITY_PREF_CUMULATIVE, 0},
        {"OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE", "DELTA", OTEL_TEMPORALITY_PREF_DELTA, 0},
        {"OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE", "lowmemory", OTEL_TEMPORALITY_PREF_LOWMEMORY, 0},
        {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "deltas", OTEL_TEMPORALITY_PREF_CUMULATIVE, 1},
        {"OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE", "1", OTEL_TEMPORALITY_PREF_CUMULATIVE, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unset_env();
        diag_reset();
        setenv(cases[i].var, cases[i].val, 1);
        otel_desc d = manual_desc(2, NULL);
        d.readers[1].temporality = OTEL_TEMPORALITY_PREF_CUMULATIVE; /* code wins over the env */
        CHECK(otel_init(&d) == OTEL_OK);
        CHECK(otel_config()->readers[0].temporality == cases[i].want);
        CHECK(otel_config()->readers[1].temporality == OTEL_TEMPORALITY_PREF_CUMULATIVE);
        CHECK(diag_count("is not CUMULATIVE, DELTA or LOWMEMORY") == cases[i].warn);
        otel_shutdown(1000);
    }
    /* both names: the spec's wins */
    unset_env();
    setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "lowmemory", 1);
    setenv("OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE", "delta", 1);
    otel_desc d = manual_desc(1, NULL);
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_config()->readers[0].temporality == OTEL_TEMPORALITY_PREF_LOWMEMORY);
    otel_shutdown(1000);
    /* interval and timeout */
    unset_env();
    diag_reset();
    setenv("OTEL_METRIC_EXPORT_INTERVAL", "1234", 1);
    setenv("OTEL_METRIC_EXPORT_TIMEOUT", "junk", 1);
    setenv("OTEL_METRICS_EXPORTER", "console, none ,prometheus", 1);
    d = manual_desc(1, NULL);
    CHECK(otel_init(&d) == OTEL_OK);
    const otel_desc *c = otel_config();
    CHECK(c->readers[0].kind == OTEL_READER_PERIODIC && c->readers[0].export_interval_ms == 1234 &&
          c->readers[0].export_timeout_ms == 30000);
    CHECK(c->readers[1].kind == OTEL_READER_PROMETHEUS && c->readers[1].port == 9464 &&
          strcmp(c->readers[1].host, "localhost") == 0 && strcmp(c->readers[1].path, "/metrics") == 0);
    CHECK(c->readers[2].kind == OTEL_READER_NONE);
    CHECK(diag_count("OTEL_METRIC_EXPORT_TIMEOUT") == 1);
    otel_stats st;
    otel_stats_get(&st);
    CHECK(st.reader_count == 2 && strcmp(st.readers[0].name, "console") == 0 && strcmp(st.readers[1].name, "prometheus") == 0);
    otel_shutdown(1000);
    /* precedence: env > readers > default_metrics_exporters > otlp */
    unset_env();
    diag_reset();
    d = manual_desc(0, NULL);
    d.default_metrics_exporters = "none";
    CHECK(otel_init(&d) == OTEL_OK && otel_config()->readers[0].kind == OTEL_READER_NONE);
    otel_shutdown(1000);
    d.default_metrics_exporters = "console,bogus";
    CHECK(otel_init(&d) == OTEL_OK && otel_config()->readers[0].kind == OTEL_READER_PERIODIC &&
          otel_config()->readers[1].kind == OTEL_READER_NONE && diag_count("bogus") >= 1);
    otel_shutdown(1000);
    d = manual_desc(1, NULL);
    d.default_metrics_exporters = "console";
    setenv("OTEL_METRICS_EXPORTER", "none", 1);
    setenv("OTEL_EXPORTER_PROMETHEUS_PORT", "9999", 1);
    setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1", 1);
    CHECK(otel_init(&d) == OTEL_OK && otel_config()->readers[0].kind == OTEL_READER_NONE);
    otel_shutdown(1000);
    d.lock_destinations = true; /* the env var is ignored */
    d.readers[0].kind = OTEL_READER_PROMETHEUS;
    CHECK(otel_init(&d) == OTEL_OK);
    c = otel_config();
    CHECK(c->readers[0].kind == OTEL_READER_PROMETHEUS && c->readers[0].port == 9999 && strcmp(c->readers[0].host, "127.0.0.1") == 0);
    otel_shutdown(1000);
    d = manual_desc(0, NULL); /* nothing configured and no otlp factory: no reader, no warning */
    diag_reset();
    unset_env();
    CHECK(otel_init(&d) == OTEL_OK && otel_config()->readers[0].kind == OTEL_READER_NONE && diag_count(NULL) == 0);
    otel_shutdown(1000);
    /* a periodic reader without export_metrics is an error, the others stay */
    d = manual_desc(2, NULL);
    d.readers[0].kind = OTEL_READER_PERIODIC;
    CHECK(otel_init(&d) == OTEL_OK && otel_config()->readers[0].kind == OTEL_READER_MANUAL && diag_count("export_metrics") == 1);
    otel_shutdown(1000);
    /* by name */
    otel_exporter e;
    CHECK(otel_exporter_create_for(OTEL_SIGNAL_METRICS, "none", &e) == OTEL_OK && e.export_metrics);
    CHECK(otel_exporter_create_for(OTEL_SIGNAL_METRICS, "otlp", &e) == OTEL_ERR_NOT_BUILT);
    CHECK(otel_exporter_create_for(OTEL_SIGNAL_METRICS, "prometheus", &e) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_exporter_create_for(OTEL_SIGNAL_METRICS, "nope", &e) == OTEL_ERR_UNKNOWN);
    CHECK(otel_exporter_create_for(OTEL_SIGNAL_METRICS, "console", &e) == OTEL_OK && e.export_metrics && e.export_spans);
    e.shutdown(0, e.user);
    unset_env();
}

static void test_disabled(void) {
    unset_env();
    diag_reset();
    setenv("OTEL_SDK_DISABLED", "true", 1);
    otel_desc d = manual_desc(1, NULL);
    otel_exporter con;
    otel_console_exporter_create(NULL, &con);
    d.readers[1].kind = OTEL_READER_PERIODIC;
    d.readers[1].exporter = con; /* handed over: released */
    CHECK(otel_init(&d) == OTEL_ERR_DISABLED);
    CHECK(otel_meter_get("x", NULL) == NULL);
    otel_instrument *c = otel_counter_create(NULL, "c", NULL, NULL);
    CHECK(c == NULL);
    otel_record_int(c, 1, NULL, 0);
    CHECK(otel_metrics_collect(0, snap_fn, &S) == OTEL_ERR_STATE);
    CHECK(otel_force_flush(10) == OTEL_ERR_STATE);
    otel_shutdown(10);
    unset_env();
}

/* ---- periodic readers, flush and shutdown deadlines ------------------------------------------- */

typedef struct mexp {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int exports, flushes, shutdowns, cancels;
    bool hang, ignore_cancel, cancelled, released;
    uint64_t last_value;
    size_t last_metrics;
} mexp;

static void mexp_init(mexp *x, bool hang, bool ignore_cancel) {
    memset(x, 0, sizeof *x);
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    x->hang = hang;
    x->ignore_cancel = ignore_cancel;
}

static otel_export_result mexp_export(const otel_metric_batch *b, void *user) {
    mexp *x = (mexp *)user;
    pthread_mutex_lock(&x->mu);
    x->exports++;
    x->last_metrics = b->count;
    if (b->count && b->metrics[0].point_count) x->last_value = (uint64_t)b->metrics[0].points[0].value.i;
    pthread_cond_broadcast(&x->cv);
    while (x->hang && !x->released && !(x->cancelled && !x->ignore_cancel)) pthread_cond_wait(&x->cv, &x->mu);
    pthread_mutex_unlock(&x->mu);
    return OTEL_EXPORT_SUCCESS;
}
static otel_result mexp_flush(uint32_t t, void *user) {
    mexp *x = (mexp *)user;
    (void)t;
    pthread_mutex_lock(&x->mu);
    x->flushes++;
    pthread_mutex_unlock(&x->mu);
    return OTEL_OK;
}
static void mexp_shutdown(uint32_t t, void *user) {
    mexp *x = (mexp *)user;
    (void)t;
    pthread_mutex_lock(&x->mu);
    x->shutdowns++;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}
static void mexp_cancel(void *user) {
    mexp *x = (mexp *)user;
    pthread_mutex_lock(&x->mu);
    x->cancels++;
    x->cancelled = true;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}
static void mexp_release(mexp *x) {
    pthread_mutex_lock(&x->mu);
    x->released = true;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}
static int mexp_get(mexp *x, const int *field) {
    pthread_mutex_lock(&x->mu);
    int v = *field;
    pthread_mutex_unlock(&x->mu);
    return v;
}
#define MX(x, f) mexp_get((x), &(x)->f)

static otel_reader_desc periodic_of(mexp *x, const char *name, uint32_t interval) {
    otel_reader_desc r;
    memset(&r, 0, sizeof r);
    r.kind = OTEL_READER_PERIODIC;
    r.exporter.export_metrics = mexp_export;
    r.exporter.force_flush = mexp_flush;
    r.exporter.shutdown = mexp_shutdown;
    r.exporter.cancel = mexp_cancel;
    r.exporter.user = x;
    r.exporter.name = name;
    r.export_interval_ms = interval;
    return r;
}

static void test_periodic(void) {
    static mexp a;
    diag_reset();
    mexp_init(&a, false, false);
    otel_desc d = manual_desc(0, NULL);
    d.readers[0] = periodic_of(&a, "a", 50);
    CHECK(otel_init(&d) == OTEL_OK);
    sleep_ms(120);
    CHECK(MX(&a, exports) == 0); /* nothing recorded: empty collections are not exported */
    otel_instrument *c = otel_counter_create(NULL, "ticks", NULL, NULL);
    otel_record_int(c, 4, NULL, 0);
    WAIT_FOR(MX(&a, exports) >= 2, 5000);
    CHECK(MX(&a, exports) >= 2);
    otel_record_int(c, 1, NULL, 0);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(MX(&a, flushes) >= 1);
    pthread_mutex_lock(&a.mu);
    CHECK(a.last_value == 5);
    pthread_mutex_unlock(&a.mu);
    otel_stats st;
    otel_stats_get(&st);
    CHECK(st.reader_count == 1 && st.readers[0].kind == OTEL_READER_PERIODIC && st.readers[0].exported_points >= 3 &&
          st.readers[0].collections >= 3 && !st.readers[0].unfinished);
    CHECK(otel_shutdown(5000) == OTEL_OK);
    CHECK(MX(&a, shutdowns) == 1);
}

static mexp hung; /* released at the end of main */

static void test_deadlines(void) {
    static mexp cancellable, healthy;
    diag_reset();
    mexp_init(&cancellable, true, false);
    mexp_init(&hung, true, true);
    mexp_init(&healthy, false, false);
    otel_desc d = manual_desc(0, NULL);
    d.readers[0] = periodic_of(&cancellable, "cancellable", 60000);
    d.readers[1] = periodic_of(&hung, "hung", 60000);
    d.readers[2] = periodic_of(&healthy, "healthy", 60000);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_instrument *c = otel_counter_create(NULL, "x", NULL, NULL);
    otel_record_int(c, 1, NULL, 0);
    uint64_t t0 = now_ms();
    CHECK(otel_force_flush(300) == OTEL_ERR_TIMEOUT);
    uint64_t took = now_ms() - t0;
    CHECK(took >= 250 && took < 1500);
    CHECK(MX(&healthy, flushes) == 1 && MX(&healthy, exports) == 1);
    CHECK(diag_count("did not finish flushing") == 2);
    otel_stats st;
    otel_stats_get(&st);
    CHECK(st.readers[0].unfinished && st.readers[1].unfinished && !st.readers[2].unfinished);
    t0 = now_ms();
    CHECK(otel_shutdown(400) == OTEL_ERR_TIMEOUT);
    took = now_ms() - t0;
    CHECK(took >= 350 && took < 1500);
    CHECK(MX(&cancellable, cancels) == 1 && MX(&cancellable, shutdowns) == 1); /* cancel made it return */
    CHECK(MX(&hung, cancels) == 1 && MX(&hung, shutdowns) == 0);               /* abandoned */
    CHECK(MX(&healthy, shutdowns) == 1 && MX(&healthy, exports) == 2);         /* its final export */
    CHECK(diag_count("abandoning") == 1);
    /* a new SDK works while the abandoned thread still hangs */
    d = manual_desc(1, NULL);
    CHECK(otel_init(&d) == OTEL_OK);
    otel_record_int(otel_counter_create(NULL, "y", NULL, NULL), 2, NULL, 0);
    CHECK(collect(0) == OTEL_OK && find("y", "")->i == 2);
    otel_shutdown(1000);
}

/* ---- fork ---------------------------------------------------------------------------------- */

static void test_fork(void) {
    static mexp a;
    mexp_init(&a, false, false);
    diag_reset();
    otel_desc d = manual_desc(0, NULL);
    d.readers[0] = periodic_of(&a, "a", 60000);
    d.readers[1].kind = OTEL_READER_MANUAL;
    CHECK(otel_init(&d) == OTEL_OK);
    otel_instrument *c = otel_counter_create(NULL, "forked", NULL, NULL);
    otel_record_int(c, 1, NULL, 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* child: recording, collecting and a flush through a fresh reader thread work */
        otel_record_int(c, 10, attrs2("who", "child", "k", "v"), 2);
        int ok = otel_force_flush(5000) == OTEL_OK && a.exports >= 1;
        ok = ok && otel_metrics_collect(1, snap_fn, &S) == OTEL_OK && find("forked", "k=v,who=child") &&
             find("forked", "k=v,who=child")->i == 10;
        ok = ok && otel_shutdown(5000) == OTEL_OK && a.shutdowns == 1;
        _exit(ok ? 0 : 3);
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    otel_record_int(c, 1, NULL, 0);
    CHECK(collect(1) == OTEL_OK && find("forked", "")->i == 2 && !find("forked", "k=v,who=child"));
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(otel_shutdown(5000) == OTEL_OK && MX(&a, shutdowns) == 1);
}

/* ---- Prometheus reader: a server that cannot start leaves the other readers working ------------- */

static void test_prometheus_reader(void) {
    diag_reset();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 1) == 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    otel_desc d = manual_desc(2, NULL);
    d.readers[0].kind = OTEL_READER_PROMETHEUS; /* the port is taken */
    d.readers[0].host = "127.0.0.1";
    d.readers[0].port = ntohs(sa.sin_port);
    d.readers[0].temporality = OTEL_TEMPORALITY_PREF_DELTA; /* ignored: Prometheus is cumulative */
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(diag_count("prometheus") >= 1);
    CHECK(otel_config()->readers[0].temporality == OTEL_TEMPORALITY_PREF_CUMULATIVE);
    otel_instrument *c = otel_counter_create(NULL, "c", NULL, NULL);
    otel_record_int(c, 1, NULL, 0);
    CHECK(collect(1) == OTEL_OK && find("c", "")->i == 1);
    CHECK(collect(0) == OTEL_OK && find("c", "")->temporality == OTEL_TEMPORALITY_CUMULATIVE);
    char buf[4096];
    size_t len = 1;
    CHECK(otel_prometheus_render(1, buf, sizeof buf, &len) == OTEL_OK && len < sizeof buf);
    CHECK(otel_shutdown(2000) == OTEL_OK);
    close(fd);
}

/* ---- JSON: the console exporter and the OTLP/JSON request, read back by python3 ---------------- */

static bool have_python(void) { return system("python3 -c 'import json' >/dev/null 2>&1") == 0; }

static int run_python(const char *script, const char *file) {
    char path[512], cmd[1200];
    snprintf(path, sizeof path, "%s/check_%d.py", tmpdir(), (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", path, file);
    return system(cmd);
}

static const char *CONSOLE_CHECK =
    "import json, sys\n"
    "text = open(sys.argv[1]).read()\n"
    "dec = json.JSONDecoder(); objs = []; i = 0\n"
    "while i < len(text):\n"
    "    while i < len(text) and text[i].isspace(): i += 1\n"
    "    if i >= len(text): break\n"
    "    o, i = dec.raw_decode(text, i); objs.append(o)\n"
    "assert len(objs) == 4, len(objs)  # the flush, then the final export at shutdown, of both readers\n"
    "for o in objs:\n"
    "    rm = o['resource_metrics'][0]\n"
    "    assert rm['resource']['attributes']['service.name'] == 'test-metrics'\n"
    "    sm = {s['scope']['name']: s for s in rm['scope_metrics']}\n"
    "    ms = {m['name']: m for m in sm['json']['metrics']}\n"
    "    c = ms['requests']['data']\n"
    "    assert c['is_monotonic'] is True and c['aggregation_temporality'] == 2\n"
    "    dp = c['data_points'][0]\n"
    "    assert dp['attributes'] == {'method': 'GET', 'q': 'a\"b\\\\c\\n'} and dp['value'] == 3, dp\n"
    "    h = ms['latency']['data']['data_points'][0]\n"
    "    assert h['count'] == 2 and h['sum'] == 30.5 and h['min'] == 0.5 and h['max'] == 30.0\n"
    "    assert h['bucket_counts'] == [0, 1, 0, 1] and h['explicit_bounds'] == [0.0, 10.0, 20.0]\n"
    "    g = ms['temp']['data']\n"
    "    assert 'aggregation_temporality' not in g and g['data_points'][0]['value'] == -1.25\n"
    "    assert ms['temp']['unit'] == 'Cel' and ms['requests']['description'] == 'all requests'\n"
    "    assert sm['other']['metrics'][0]['name'] == 'other.count'\n"
    "print('console JSON ok')\n";

static const char *OTLP_CHECK =
    "import json, sys\n"
    "lines = open(sys.argv[1]).read().splitlines()\n"
    "assert len(lines) == 1\n"
    "req = json.loads(lines[0])\n"
    "rm = req['resourceMetrics'][0]\n"
    "keys = [a['key'] for a in rm['resource']['attributes']]\n"
    "assert 'service.name' in keys\n"
    "sm = {s['scope']['name']: s for s in rm['scopeMetrics']}\n"
    "assert sm['json']['scope']['version'] == '2.0'\n"
    "ms = {m['name']: m for m in sm['json']['metrics']}\n"
    "s = ms['requests']['sum']\n"
    "assert s['isMonotonic'] is True and s['aggregationTemporality'] == 2\n"
    "dp = s['dataPoints'][0]\n"
    "assert dp['asInt'] == '3' and int(dp['startTimeUnixNano']) > 0 and int(dp['timeUnixNano']) >= int(dp['startTimeUnixNano'])\n"
    "assert {a['key']: a['value'] for a in dp['attributes']} == {'method': {'stringValue': 'GET'}, 'q': {'stringValue': 'a\"b\\\\c\\n'}}\n"
    "h = ms['latency']['histogram']\n"
    "assert h['aggregationTemporality'] == 2\n"
    "hp = h['dataPoints'][0]\n"
    "assert hp['count'] == '2' and hp['sum'] == 30.5 and hp['bucketCounts'] == ['0', '1', '0', '1']\n"
    "assert hp['explicitBounds'] == [0.0, 10.0, 20.0] and hp['min'] == 0.5 and hp['max'] == 30.0\n"
    "g = ms['temp']['gauge']['dataPoints'][0]\n"
    "assert g['asDouble'] == -1.25 and 'startTimeUnixNano' not in g\n"
    "u = ms['updown']['sum']\n"
    "assert u['isMonotonic'] is False and u['dataPoints'][0]['asInt'] == '-7'\n"
    "a = ms['updown']['sum']['dataPoints'][0]['attributes']\n"
    "assert {x['key']: x['value'] for x in a} == {'b': {'boolValue': True}, 'd': {'doubleValue': 0.5}, 'i': {'intValue': '-3'}}\n"
    "assert sm['other']['metrics'][0]['name'] == 'other.count'\n"
    "print('OTLP JSON ok')\n";

static void otlp_json_fn(const otel_metric_batch *b, void *user) {
    otel__buf *buf = (otel__buf *)user;
    otel__json_metrics_request(buf, b);
    otel__buf_putc(buf, '\n');
}

static void record_json_workload(void) {
    otel_meter *m = otel_meter_get("json", "2.0");
    otel_attr at[2] = {otel_attr_str("q", "a\"b\\c\n"), otel_attr_str("method", "GET")};
    otel_record_int(otel_counter_create(m, "requests", "1", "all requests"), 3, at, 2);
    otel_instrument *h = otel_instrument_create(m, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_DOUBLE,
                                                &(otel_instrument_desc){.name = "latency", .unit = "ms",
                                                                        .boundaries = (double[]){0, 10, 20}, .boundary_count = 3});
    otel_record_double(h, 0.5, at, 2);
    otel_record_double(h, 30, at, 2);
    otel_record_double(otel_instrument_create(m, OTEL_INSTRUMENT_GAUGE, OTEL_NUMBER_DOUBLE,
                                              &(otel_instrument_desc){.name = "temp", .unit = "Cel"}), -1.25, NULL, 0);
    otel_attr ua[3] = {otel_attr_int("i", -3), otel_attr_bool("b", true), otel_attr_double("d", 0.5)};
    otel_record_int(otel_instrument_create(m, OTEL_INSTRUMENT_UP_DOWN_COUNTER, OTEL_NUMBER_INT64,
                                           &(otel_instrument_desc){.name = "updown"}), -7, ua, 3);
    otel_record_int(otel_counter_create(otel_meter_get("other", NULL), "other.count", NULL, NULL), 1, NULL, 0);
}

static void test_json(void) {
    if (!have_python()) {
        printf("SKIPPED: metrics JSON checks (python3 not installed)\n");
        return;
    }
    char cpath[512], opath[512];
    snprintf(cpath, sizeof cpath, "%s/console_metrics.json", tmpdir());
    snprintf(opath, sizeof opath, "%s/otlp_metrics.json", tmpdir());
    FILE *out = fopen(cpath, "w");
    CHECK(out != NULL);
    if (!out) return;
    otel_exporter pretty, compact;
    otel_console_exporter_create(&(otel_console_desc){.format = OTEL_CONSOLE_PRETTY, .stream = out}, &pretty);
    otel_console_exporter_create(&(otel_console_desc){.format = OTEL_CONSOLE_COMPACT, .stream = out}, &compact);
    static mexp unused;
    (void)unused;
    otel_desc d = manual_desc(0, NULL);
    d.readers[0].kind = OTEL_READER_PERIODIC;
    d.readers[0].exporter = pretty;
    d.readers[0].export_interval_ms = 600000;
    d.readers[1].kind = OTEL_READER_PERIODIC;
    d.readers[1].exporter = compact;
    d.readers[1].export_interval_ms = 600000;
    d.readers[2].kind = OTEL_READER_MANUAL;
    CHECK(otel_init(&d) == OTEL_OK);
    record_json_workload();
    CHECK(otel_force_flush(5000) == OTEL_OK);
    otel__buf b;
    memset(&b, 0, sizeof b);
    CHECK(otel_metrics_collect(2, otlp_json_fn, &b) == OTEL_OK && !b.failed);
    otel_shutdown(5000);
    fclose(out);
    FILE *o = fopen(opath, "w");
    CHECK(o && fwrite(b.p, 1, b.len, o) == b.len);
    if (o) fclose(o);
    otel__buf_free(&b);
    CHECK(run_python(CONSOLE_CHECK, cpath) == 0);
    CHECK(run_python(OTLP_CHECK, opath) == 0);
    /* the compact object is one line */
    FILE *f = fopen(cpath, "r");
    char line[8192];
    int one_line = 0;
    while (f && fgets(line, sizeof line, f))
        if (line[0] == '{' && strstr(line, "\"resource_metrics\"") && strstr(line, "\"data_points\"")) one_line++;
    if (f) fclose(f);
    CHECK(one_line == 2);
}

/* ---- main ------------------------------------------------------------------------------------ */

static const char *only;
#define RUN(t) do { if (!only || strstr(#t, only)) { uint64_t t0__ = now_ms(); t; printf("%-40s %5.2f s\n", #t, (double)(now_ms() - t0__) / 1e3); fflush(stdout); } } while (0)

int main(void) {
    only = getenv("TEST_ONLY");
    unset_env();
    RUN(test_exact_two_threads());
    RUN(test_growth_while_collecting());
    RUN(test_attribute_order_and_canon());
    RUN(test_overflow());
    RUN(test_invalid());
    RUN(test_delta_and_cumulative());
    RUN(test_histogram_buckets());
    RUN(test_gauge_and_bound());
    RUN(test_no_allocations());
    RUN(test_env());
    RUN(test_disabled());
    RUN(test_periodic());
    RUN(test_json());
    RUN(test_fork());
    RUN(test_prometheus_reader());
    RUN(test_deadlines());
    mexp_release(&hung);
    if (!only || strstr("test_deadlines", only)) {
        WAIT_FOR(MX(&hung, shutdowns) == 1, 10000);
        CHECK(MX(&hung, shutdowns) == 1);
    }
    return TEST_DONE();
}
