/* test_span.c - spans, the active stack, threads, samplers, limits, UTF-8 repair, misuse,
   resource and env configuration (issue 2), through the public API. Each case runs its own
   otel_init with a memory exporter (SIMPLE processing) and reads the spans back.
   Also built with ThreadSanitizer by tests/run.sh (the marker on the next line). */
/* tsan */
#define OTEL_IMPLEMENTATION
#define OTEL_TEST_FAST_HITS 1
#define OTEL__DISCARD_LOG_MS 300 /* test_limits waits for it */
#include "../otel.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------- */

#include "test_diag.h"

static const char *const env_vars[] = {
    "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG", "OTEL_TRACES_EXPORTER", "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_EVENT_COUNT_LIMIT", "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_LOG_LEVEL",
};

static void env_clear(void) {
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++) unsetenv(env_vars[i]);
}

static otel_exporter mem;

/* A desc with a fresh memory exporter as the only destination, exported at span end. */
static otel_desc desc_mem(void) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    d.destinations[0].exporter = mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.diag.func = diag_fn;
    return d;
}

static bool init(const otel_desc *d) {
    diag_reset();
    otel_result r = otel_init(d);
    if (r != OTEL_OK) fprintf(stderr, "otel_init: %s\n", otel_result_str(r));
    return r == OTEL_OK;
}

static void done(void) {
    CHECK(otel_force_flush(0) == OTEL_OK);
    CHECK(otel_shutdown(0) == OTEL_OK);
    otel_memory_exporter_destroy(&mem);
    env_clear();
}

static size_t nspans(void) { return otel_memory_exporter_count(&mem); }

static bool str_is(otel_str s, const char *lit) { return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0; }

static const otel_span_data *span_named(const char *name) {
    for (size_t i = 0; i < nspans(); i++) {
        const otel_span_data *s = otel_memory_exporter_span(&mem, i);
        if (str_is(s->name, name)) return s;
    }
    return NULL;
}

static bool iter_find(otel_iter it, const char *key, otel_attr *out) {
    otel_attr a;
    while (otel_iter_attr(&it, &a))
        if (str_is(a.key, key)) {
            if (out) *out = a;
            return true;
        }
    return false;
}


static bool attr_str(const otel_span_data *s, const char *key, const char *want) {
    otel_attr a;
    return s && iter_find(otel_span_attrs(s), key, &a) && a.value.type == OTEL_VALUE_STRING &&
           a.value.len == strlen(want) && memcmp(a.value.u.s, want, a.value.len) == 0;
}

static bool attr_int(const otel_span_data *s, const char *key, int64_t want) {
    otel_attr a;
    return s && iter_find(otel_span_attrs(s), key, &a) && a.value.type == OTEL_VALUE_INT && a.value.u.i == want;
}

static bool is_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

static bool same_trace(const otel_span_data *a, const otel_span_data *b) {
    return a && b && memcmp(a->trace_id, b->trace_id, 16) == 0;
}

static bool is_child(const otel_span_data *child, const otel_span_data *parent) {
    return child && parent && child->has_parent && same_trace(child, parent) &&
           memcmp(child->parent_span_id, parent->span_id, 8) == 0;
}

static const otel_attr *res_find(const otel_resource *r, const char *key) {
    for (size_t i = 0; r && i < r->count; i++)
        if (str_is(r->attrs[i].key, key)) return &r->attrs[i];
    return NULL;
}

static bool res_str(const otel_resource *r, const char *key, const char *want) {
    const otel_attr *a = res_find(r, key);
    return a && a->value.type == OTEL_VALUE_STRING && a->value.len == strlen(want) &&
           memcmp(a->value.u.s, want, a->value.len) == 0;
}

static otel_stats stats(void) {
    otel_stats st;
    otel_stats_get(&st);
    return st;
}

/* ---- ids ------------------------------------------------------------------------------- */

static int cmp_tid(const void *a, const void *b) { return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, 16); }
static int cmp_sid(const void *a, const void *b) { return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, 8); }

static void test_ids(void) {
    enum { N = 2000 };
    otel_desc d = desc_mem();
    CHECK(init(&d));
    for (int i = 0; i < N; i++) {
        otel_span *s = otel_span_start("id", &(otel_span_desc){.root = true});
        otel_span_context c;
        CHECK(otel_span_get_context(s, &c));
        CHECK(otel_span_context_is_valid(&c) && !is_zero(c.trace_id, 16) && !is_zero(c.span_id, 8));
        otel_span_end(s);
    }
    CHECK(nspans() == N);
    static const uint8_t *tids[N], *sids[N];
    unsigned bits[16 * 8] = {0};
    for (size_t i = 0; i < N; i++) {
        const otel_span_data *s = otel_memory_exporter_span(&mem, i);
        tids[i] = s->trace_id;
        sids[i] = s->span_id;
        CHECK(!s->has_parent && is_zero(s->parent_span_id, 8));
        for (int b = 0; b < 128; b++) bits[b] += (s->trace_id[b / 8] >> (b % 8)) & 1;
    }
    qsort(tids, N, sizeof tids[0], cmp_tid);
    qsort(sids, N, sizeof sids[0], cmp_sid);
    int dup_t = 0, dup_s = 0;
    for (size_t i = 1; i < N; i++) {
        dup_t += memcmp(tids[i - 1], tids[i], 16) == 0;
        dup_s += memcmp(sids[i - 1], sids[i], 8) == 0;
    }
    CHECK(dup_t == 0 && dup_s == 0);
    /* every bit of the trace id varies: each set in 1000 +- 5 sigma (22) of 2000 */
    int skewed = 0;
    for (int b = 0; b < 128; b++) skewed += bits[b] < 1000 - 115 || bits[b] > 1000 + 115;
    CHECK(skewed == 0);
    done();
}

/* ---- parent / child --------------------------------------------------------------------- */

static void test_active_stack(void) {
    otel_desc d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_span_current() == NULL);
    otel_span *foo = otel_span_start("foo", NULL);
    CHECK(otel_span_current() == foo);
    otel_span *bar = otel_span_start("bar", NULL);
    CHECK(otel_span_current() == bar);
    otel_span *baz = otel_span_start("baz", NULL);
    CHECK(otel_span_current() == baz);
    otel_span_end(baz);
    CHECK(otel_span_current() == bar);
    otel_span_end(bar);
    CHECK(otel_span_current() == foo);
    otel_span_end(foo);
    CHECK(otel_span_current() == NULL);
    otel_span *other = otel_span_start("other", NULL);
    otel_span_end(other);
    CHECK(nspans() == 4);
    const otel_span_data *f = span_named("foo"), *b = span_named("bar"), *z = span_named("baz"), *o = span_named("other");
    CHECK(f && b && z && o);
    CHECK(f && !f->has_parent && is_zero(f->parent_span_id, 8) && !f->parent_is_remote);
    CHECK(is_child(b, f) && is_child(z, b) && !b->parent_is_remote);
    CHECK(o && !o->has_parent && !same_trace(o, f));
    CHECK(f && memcmp(f->span_id, b->span_id, 8) != 0 && memcmp(b->span_id, z->span_id, 8) != 0);
    CHECK(f && f->start_time_ns <= b->start_time_ns && z->end_time_ns <= b->end_time_ns && b->end_time_ns <= f->end_time_ns);
    CHECK(z && z->start_time_ns > 1500000000ull * 1000000000ull && z->start_time_ns <= z->end_time_ns);
    CHECK(f && f->trace_flags == OTEL_TRACE_FLAG_SAMPLED && f->trace_state.len == 0);

    /* ending out of order: the stack drops the ended entry wherever it is */
    otel_span *a = otel_span_start("a", NULL), *a2 = otel_span_start("a2", NULL);
    otel_span_end(a);
    CHECK(otel_span_current() == a2);
    otel_span *a3 = otel_span_start("a3", NULL);
    otel_span_end(a3);
    otel_span_end(a2);
    CHECK(otel_span_current() == NULL);
    CHECK(is_child(span_named("a3"), span_named("a2")) && is_child(span_named("a2"), span_named("a")));
    done();
}

static void test_explicit_parent(void) {
    otel_desc d = desc_mem();
    CHECK(init(&d));
    otel_span *p = otel_span_start("p", &(otel_span_desc){.detached = true});
    CHECK(otel_span_current() == NULL); /* detached: not made active */
    otel_span *active = otel_span_start("active", NULL);
    otel_span *c = otel_span_start("c", &(otel_span_desc){.parent = p});
    CHECK(otel_span_current() == c);
    otel_span_end(c);
    otel_span *r = otel_span_start("r", &(otel_span_desc){.root = true});
    otel_span_end(r);
    otel_span *r2 = otel_span_start("r2", &(otel_span_desc){.root = true, .parent = p}); /* root wins over parent */
    otel_span_end(r2);
    otel_span_end(active);
    otel_span_end(p);
    CHECK(is_child(span_named("c"), span_named("p")));
    CHECK(!same_trace(span_named("c"), span_named("active")));
    CHECK(span_named("r") && !span_named("r")->has_parent && !same_trace(span_named("r"), span_named("active")));
    CHECK(span_named("r2") && !span_named("r2")->has_parent);

    /* remote parent from extract: same trace, parent id, tracestate, parent_is_remote */
    otel_span_context rc;
    CHECK(otel_context_extract("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", " a=1 , b=2", &rc) == OTEL_OK);
    CHECK(rc.is_remote);
    otel_span *outer = otel_span_start("outer", NULL);
    otel_span *srv = otel_span_start("srv", &(otel_span_desc){.remote_parent = &rc, .parent = outer,
                                                                .kind = OTEL_SPAN_KIND_SERVER});
    otel_span *inner = otel_span_start("inner", NULL);
    char tp[OTEL_TRACEPARENT_SIZE], ts[64];
    CHECK(otel_context_inject(NULL, tp, ts, sizeof ts) == OTEL_OK);
    CHECK(strncmp(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36) == 0 && strcmp(tp + 52, "-01") == 0);
    CHECK(strcmp(ts, "a=1,b=2") == 0);
    otel_span_end(inner);
    otel_span_end(srv);
    otel_span_end(outer);
    const otel_span_data *sd = span_named("srv"), *in = span_named("inner");
    static const uint8_t rsid[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
    CHECK(sd && sd->has_parent && sd->parent_is_remote && memcmp(sd->parent_span_id, rsid, 8) == 0);
    CHECK(sd && memcmp(sd->trace_id, rc.trace_id, 16) == 0 && str_is(sd->trace_state, "a=1,b=2"));
    CHECK(sd && sd->kind == OTEL_SPAN_KIND_SERVER && sd->trace_flags == 1);
    CHECK(is_child(in, sd) && in && !in->parent_is_remote && str_is(in->trace_state, "a=1,b=2"));
    CHECK(!same_trace(sd, span_named("outer")));

    /* an invalid (all zero) remote parent is ignored: the active span is the parent */
    otel_span_context zero;
    memset(&zero, 0, sizeof zero);
    otel_span *o2 = otel_span_start("o2", NULL);
    otel_span *z = otel_span_start("z", &(otel_span_desc){.remote_parent = &zero});
    otel_span_end(z);
    otel_span_end(o2);
    CHECK(is_child(span_named("z"), span_named("o2")));
    /* a remote parent that is not marked remote (built by hand) */
    otel_span_context local = rc;
    local.is_remote = false;
    otel_span *h = otel_span_start("h", &(otel_span_desc){.remote_parent = &local});
    otel_span_end(h);
    CHECK(span_named("h") && span_named("h")->has_parent && !span_named("h")->parent_is_remote);
    done();
}

typedef struct thr_arg {
    otel_span *span;
    otel_span *out;
    otel_span_context ctx;
    bool current_ok;
} thr_arg;

static void *thr_attach(void *p) {
    thr_arg *a = (thr_arg *)p;
    a->current_ok = otel_span_current() == NULL;
    otel_context_attach(a->span);
    a->current_ok = a->current_ok && otel_span_current() == a->span;
    otel_span *c = otel_span_start("worker-child", NULL);
    otel_span_end(c);
    otel_context_detach(a->span);
    a->current_ok = a->current_ok && otel_span_current() == NULL;
    return NULL;
}

static void *thr_end(void *p) {
    thr_arg *a = (thr_arg *)p;
    otel_span_end(a->span);
    return NULL;
}

static void *thr_root(void *p) {
    thr_arg *a = (thr_arg *)p;
    a->current_ok = otel_span_current() == NULL; /* the main thread's active span is not ours */
    otel_span *s = otel_span_start("thread-root", NULL);
    otel_span_get_context(s, &a->ctx);
    otel_span *c = otel_span_start("thread-parented", &(otel_span_desc){.parent = a->span});
    otel_span_end(c);
    otel_span_end(s);
    return NULL;
}

static void run_thread(void *(*fn)(void *), thr_arg *a) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fn, a) == 0);
    pthread_join(t, NULL);
}

static void test_threads(void) {
    otel_desc d = desc_mem();
    CHECK(init(&d));
    /* detached span attached on another thread */
    thr_arg a;
    memset(&a, 0, sizeof a);
    a.span = otel_span_start("detached", &(otel_span_desc){.detached = true});
    CHECK(otel_span_current() == NULL);
    run_thread(thr_attach, &a);
    CHECK(a.current_ok);
    otel_span_end(a.span);
    CHECK(is_child(span_named("worker-child"), span_named("detached")));

    /* a span started here, ended on another thread: not a parent here afterwards */
    otel_span *foo = otel_span_start("foo", NULL);
    memset(&a, 0, sizeof a);
    a.span = otel_span_start("moved", NULL);
    CHECK(otel_span_current() == a.span);
    run_thread(thr_end, &a);
    CHECK(!otel_span_is_recording(a.span));
    CHECK(otel_span_current() == foo);
    otel_span *next = otel_span_start("next", NULL);
    otel_span_end(next);
    otel_span_end(foo);
    CHECK(span_named("moved") && is_child(span_named("moved"), span_named("foo")));
    CHECK(is_child(span_named("next"), span_named("foo")));
    memset(&a, 0, sizeof a);
    a.span = otel_span_start("moved2", NULL); /* alone on the stack this time */
    run_thread(thr_end, &a);
    CHECK(otel_span_current() == NULL);
    otel_span *fresh = otel_span_start("fresh", NULL);
    otel_span_end(fresh);
    CHECK(span_named("fresh") && !span_named("fresh")->has_parent && !same_trace(span_named("fresh"), span_named("moved2")));
    /* many spans ended remotely: their slots come back to the starting thread */
    for (int i = 0; i < 600; i++) {
        memset(&a, 0, sizeof a);
        a.span = otel_span_start("remote-end", &(otel_span_desc){.detached = true});
        run_thread(thr_end, &a);
    }
    CHECK(stats().spans_dropped == 0);

    /* separate traces across threads unless parented */
    otel_span *mainspan = otel_span_start("main", NULL);
    memset(&a, 0, sizeof a);
    a.span = mainspan;
    run_thread(thr_root, &a);
    otel_span_end(mainspan);
    CHECK(a.current_ok);
    const otel_span_data *tr = span_named("thread-root"), *m = span_named("main");
    CHECK(tr && !tr->has_parent && !same_trace(tr, m));
    CHECK(is_child(span_named("thread-parented"), m));
    CHECK(tr && memcmp(tr->trace_id, a.ctx.trace_id, 16) == 0 && memcmp(tr->span_id, a.ctx.span_id, 8) == 0);
    done();
}

/* ---- kind, timestamps, status ------------------------------------------------------------- */

static void test_kind_time_status(void) {
    otel_desc d = desc_mem();
    CHECK(init(&d));
    static const otel_span_kind kinds[] = {OTEL_SPAN_KIND_DEFAULT, OTEL_SPAN_KIND_INTERNAL, OTEL_SPAN_KIND_SERVER,
                                           OTEL_SPAN_KIND_CLIENT, OTEL_SPAN_KIND_PRODUCER, OTEL_SPAN_KIND_CONSUMER,
                                           (otel_span_kind)99};
    static const uint8_t want[] = {1, 1, 2, 3, 4, 5, 1};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        otel_span *s = otel_span_start("k", &(otel_span_desc){.kind = kinds[i]});
        otel_span_end(s);
        CHECK(nspans() == i + 1 && otel_memory_exporter_span(&mem, i)->kind == want[i]);
    }
    otel_memory_exporter_reset(&mem);
    CHECK(nspans() == 0);

    const uint64_t t0 = 1588862392906272123ull;
    otel_span *s = otel_span_start("timed", &(otel_span_desc){.start_time_ns = t0});
    otel_span_add_event_at(s, "ev", t0 + 10, NULL, 0);
    otel_span_end_at(s, t0 + 1500000000ull);
    const otel_span_data *sd = span_named("timed");
    CHECK(sd && sd->start_time_ns == t0 && sd->end_time_ns == t0 + 1500000000ull);
    otel_iter it = otel_span_events(sd);
    otel_event_data ev;
    CHECK(otel_iter_event(&it, &ev) && ev.time_ns == t0 + 10 && str_is(ev.name, "ev"));

    /* status: UNSET ignored, description only with ERROR, OK final */
    otel_span *s1 = otel_span_start("st-unset", NULL);
    otel_span_set_status(s1, OTEL_STATUS_UNSET, "ignored");
    otel_span_end(s1);
    otel_span *s2 = otel_span_start("st-error", NULL);
    otel_span_set_status(s2, OTEL_STATUS_ERROR, "boom");
    otel_span_set_status(s2, OTEL_STATUS_UNSET, NULL); /* ignored: stays ERROR */
    otel_span_end(s2);
    otel_span *s3 = otel_span_start("st-ok", NULL);
    otel_span_set_status(s3, OTEL_STATUS_OK, "dropped description");
    otel_span_set_status(s3, OTEL_STATUS_ERROR, "too late"); /* OK is final */
    otel_span_end(s3);
    otel_span *s4 = otel_span_start("st-error-ok", NULL);
    otel_span_set_status(s4, OTEL_STATUS_ERROR, "first");
    otel_span_set_status(s4, OTEL_STATUS_ERROR, "second");
    otel_span_end(s4);
    otel_span *s5 = otel_span_start("st-error-then-ok", NULL);
    otel_span_set_status(s5, OTEL_STATUS_ERROR, "x");
    otel_span_set_status(s5, OTEL_STATUS_OK, NULL);
    otel_span_end(s5);
    otel_span *s6 = otel_span_start("st-error-nodesc", NULL);
    otel_span_set_status(s6, OTEL_STATUS_ERROR, NULL);
    otel_span_set_status(s6, (otel_status_code)7, "bad code");
    otel_span_end(s6);
    const otel_span_data *x;
    CHECK((x = span_named("st-unset")) && x->status_code == OTEL_STATUS_UNSET && x->status_message.len == 0);
    CHECK((x = span_named("st-error")) && x->status_code == OTEL_STATUS_ERROR && str_is(x->status_message, "boom"));
    CHECK((x = span_named("st-ok")) && x->status_code == OTEL_STATUS_OK && x->status_message.len == 0);
    CHECK((x = span_named("st-error-ok")) && x->status_code == OTEL_STATUS_ERROR && str_is(x->status_message, "second"));
    CHECK((x = span_named("st-error-then-ok")) && x->status_code == OTEL_STATUS_OK && x->status_message.len == 0);
    CHECK((x = span_named("st-error-nodesc")) && x->status_code == OTEL_STATUS_ERROR && x->status_message.len == 0);

    /* rename */
    otel_span *rn = otel_span_start("before", NULL);
    otel_span_set_name(rn, "after");
    otel_span_set_name(rn, "after-2");
    otel_span_end(rn);
    CHECK(span_named("after-2") && !span_named("before"));
    done();
}

/* ---- attributes, events, links ---------------------------------------------------------- */

/* otel_span_set_attrs tries the fast path of otel_span_set_* for each scalar or string
   attribute; the result must be what the general path gives. Random sets (repeated keys,
   long keys, non-ASCII bytes, missing keys and values, empty keys, arrays, both limits)
   go to one span by otel_span_set_attrs and to its twin one otel_span_set_attr call at a
   time (the general path only); the two spans' attributes must be the same bytes. */
static uint64_t sa_rng = 0x853c49e6748fea9bull;
static unsigned sa_next(unsigned n) { return test_rand(&sa_rng, n); }

static void test_set_attrs_same(void) {
    otel_desc d = desc_mem();
    d.limits.attr_count = 6;
    d.limits.attr_value_length = 20;
    CHECK(init(&d));
    static const int64_t ia[2] = {3, 4};
    char keys[10][48], vals[10][48];
    const int N = 1500;
    for (int n = 0; n < N; n++) {
        otel_attr a[10];
        size_t na = sa_next(10);
        test_rand_attrs(&sa_rng, a, na, keys, vals, 30, ia);
        otel_span *x = otel_span_start("batch", NULL);
        otel_span_set_attrs(x, a, na);
        otel_span_end(x);
        otel_span *y = otel_span_start("one-by-one", NULL);
        for (size_t i = 0; i < na; i++) otel_span_set_attr(y, &a[i]);
        otel_span_end(y);
    }
    CHECK(nspans() == 2 * (size_t)N);
    int bad = 0, dropped = 0, dups = 0;
    for (size_t i = 0; i + 1 < nspans(); i += 2) {
        const otel_span_data *x = otel_memory_exporter_span(&mem, i), *y = otel_memory_exporter_span(&mem, i + 1);
        bool ok = x && y && str_is(x->name, "batch") && str_is(y->name, "one-by-one") && x->attr_count == y->attr_count &&
                  x->dropped_attrs == y->dropped_attrs && x->otel__items_len == y->otel__items_len &&
                  memcmp(x->otel__items, y->otel__items, x->otel__items_len) == 0;
        if (!ok && bad++ < 5) fprintf(stderr, "  set_attrs: span %zu differs from one call at a time\n", i / 2);
        if (x) dropped += x->dropped_attrs > 0, dups += x->attr_count == 6;
    }
    CHECK(bad == 0);
    CHECK(dropped > 100 && dups > 20); /* the limits were reached */
    CHECK(otel__test_fast_hits[1] > 1000); /* and the fast path wrote most attributes */
    done();
}

/* A batch destination that sees the records in the threads' blocks, as the exporters do:
   every string NUL-terminated and zero-padded to 8 bytes. */
static _Atomic int raw_bad, raw_seen;
static otel_export_result raw_export_spans(const otel_span_batch *b, void *user) {
    (void)user;
    for (size_t i = 0; i < b->count; i++) {
        const otel_span_data *r = b->spans[i];
        bool ok = test_padded(r->name.ptr, r->name.len) && r->trace_state.ptr[r->trace_state.len] == 0 &&
                  r->status_message.ptr[r->status_message.len] == 0;
        if (!ok) atomic_fetch_add(&raw_bad, 1);
        atomic_fetch_add(&raw_seen, 1);
    }
    return OTEL_EXPORT_SUCCESS;
}

/* A recording child of the active span with no desc takes otel__start_rec; with its parent
   named in a desc it takes the general otel__start. Both must write the same span: random
   names (ASCII, UTF-8 to repair, empty, NULL, and lengths around what the storage holds)
   and attributes, under parents with and without a tracestate. */
static void test_start_fast_same(void) {
    otel_desc d = desc_mem();
    d.span_bytes = 256;
    d.destinations[1].exporter.name = "raw";
    d.destinations[1].exporter.export_spans = raw_export_spans;
    d.destinations[1].max_queue_size = 8192;
    CHECK(init(&d));
    static const int64_t ia[2] = {3, 4};
    char keys[4][48], vals[4][48], name[400];
    const int N = 1200;
    unsigned long long hits0 = otel__test_fast_hits[2];
    otel_span_context remote = {{1, 2, 3}, {4, 5}, OTEL_TRACE_FLAG_SAMPLED, true, "k=v,k2=v2"};
    for (int n = 0; n < N; n++) {
        otel_attr a[4];
        size_t na = sa_next(4), nl;
        const char *nm = name;
        switch (sa_next(5)) {
        case 0: nl = 240 + sa_next(30); break; /* around 256 - 8 - the tracestate's 8 */
        case 1: nl = 0; break;
        default: nl = 1 + sa_next(40); break;
        }
        test_rand_str(&sa_rng, name, nl, 8);
        name[nl] = 0;
        if (sa_next(50) == 0) nm = NULL;
        test_rand_attrs(&sa_rng, a, na, keys, vals, 30, ia);
        /* a parent: a local root, or a child of a remote parent (its tracestate goes to the
           general path), or the remote context itself via desc */
        bool with_ts = sa_next(4) == 0;
        otel_span *root = otel_span_start("root", with_ts ? &(otel_span_desc){.remote_parent = &remote} : NULL);
        otel_span *x = otel_span_start(nm, NULL);
        otel_span_set_attrs(x, a, na);
        otel_span_end(x);
        otel_span *y = otel_span_start(nm, &(otel_span_desc){.parent = root});
        otel_span_set_attrs(y, a, na);
        otel_span_end(y);
        otel_span_end(root);
    }
    CHECK(otel_force_flush(0) == OTEL_OK);
    CHECK(nspans() == 3 * (size_t)N);
    CHECK(atomic_load(&raw_seen) == 3 * N && atomic_load(&raw_bad) == 0);
    int bad = 0, cut = 0;
    for (size_t i = 0; i + 2 < nspans(); i += 3) {
        const otel_span_data *x = otel_memory_exporter_span(&mem, i), *y = otel_memory_exporter_span(&mem, i + 1),
                             *r = otel_memory_exporter_span(&mem, i + 2);
        bool ok = x && y && r && x->name.len == y->name.len && memcmp(x->name.ptr, y->name.ptr, x->name.len) == 0 &&
                  x->name.ptr[x->name.len] == 0 && memcmp(x->trace_id, y->trace_id, 16) == 0 &&
                  memcmp(x->trace_id, r->trace_id, 16) == 0 && memcmp(x->parent_span_id, r->span_id, 8) == 0 &&
                  memcmp(y->parent_span_id, r->span_id, 8) == 0 && memcmp(x->span_id, y->span_id, 8) != 0 &&
                  x->has_parent && y->has_parent && !x->parent_is_remote && !y->parent_is_remote &&
                  x->trace_flags == y->trace_flags && x->kind == y->kind && x->status_code == y->status_code &&
                  x->scope->name.len == y->scope->name.len && x->scope->version.len == y->scope->version.len &&
                  memcmp(x->scope->name.ptr, y->scope->name.ptr, x->scope->name.len) == 0 &&
                  x->trace_state.len == y->trace_state.len &&
                  memcmp(x->trace_state.ptr, y->trace_state.ptr, x->trace_state.len + 1) == 0 &&
                  x->attr_count == y->attr_count && x->dropped_attrs == y->dropped_attrs &&
                  x->otel__items_len == y->otel__items_len &&
                  memcmp(x->otel__items, y->otel__items, x->otel__items_len) == 0 &&
                  x->start_time_ns >= r->start_time_ns && x->end_time_ns >= x->start_time_ns;
        if (!ok && bad++ < 5) fprintf(stderr, "  start: span %zu differs between the fast and the general path\n", i / 3);
        if (x && x->name.len >= 240) cut++;
        if (x && x->name.len > 256 - 8 - 1) bad++; /* the name leaves room for the tracestate's NUL */
    }
    CHECK(bad == 0);
    CHECK(cut > 20); /* names up to what the storage holds were kept, longer ones cut */
    /* the fast path wrote most children: not those under a tracestate, a non-ASCII name or
       a name that does not fit */
    CHECK(otel__test_fast_hits[2] - hits0 > (unsigned long long)N / 3);
    CHECK(otel__test_fast_hits[2] - hits0 < (unsigned long long)N);
    done();
}

static void test_attributes(void) {
    otel_desc d = desc_mem();
    CHECK(init(&d));
    char buf[32];
    strcpy(buf, "copied");
    const char *sa[] = {"x", "", "yz"};
    const bool ba[] = {true, false, true};
    const int64_t ia[] = {INT64_MIN, 0, INT64_MAX};
    const double da[] = {1.5, -0.25, 1e300};
    otel_attr in[] = {otel_attr_str("d.s", "desc"), otel_attr_int("d.i", 7)};
    otel_span *s = otel_span_start("attrs", &(otel_span_desc){.attrs = in, .attr_count = 2});
    otel_span_set_str(s, "s", buf);
    strcpy(buf, "CHANGED"); /* the library copied it */
    otel_span_set_strn(s, "sn", "abcdef", 3);
    otel_span_set_int(s, "i", -42);
    otel_span_set_double(s, "f", 3.25);
    otel_span_set_bool(s, "b", true);
    otel_attr arr[] = {otel_attr_str_array("sa", sa, 3), otel_attr_bool_array("ba", ba, 3),
                       otel_attr_int_array("ia", ia, 3), otel_attr_double_array("da", da, 3),
                       otel_attr_int_array("empty", NULL, 0)};
    otel_span_set_attrs(s, arr, 5);
    otel_attr one = otel_attr_double("one", -1.0);
    otel_span_set_attr(s, &one);
    otel_span_set_int(s, "dup", 1);
    otel_span_set_str(s, "dup", "last"); /* same key: last value, counted once, type may change */
    otel_span_set_int(s, "i", -43);
    otel_span_set_str(s, NULL, "no key");  /* dropped */
    otel_span_set_str(s, "", "empty key"); /* dropped */
    otel_span_set_str(s, "nullval", NULL); /* "" */
    otel_span_end(s);
    const otel_span_data *sd = span_named("attrs");
    CHECK(sd != NULL);
    if (!sd) { done(); return; }
    CHECK(sd->attr_count == 15 && test_iter_len(otel_span_attrs(sd)) == 15);
    CHECK(sd->dropped_attrs == 2);
    CHECK(attr_str(sd, "d.s", "desc") && attr_int(sd, "d.i", 7));
    CHECK(attr_str(sd, "s", "copied") && attr_str(sd, "sn", "abc") && attr_int(sd, "i", -43));
    CHECK(attr_str(sd, "dup", "last") && attr_str(sd, "nullval", ""));
    otel_attr a;
    CHECK(iter_find(otel_span_attrs(sd), "f", &a) && a.value.type == OTEL_VALUE_DOUBLE && a.value.u.d == 3.25);
    CHECK(iter_find(otel_span_attrs(sd), "b", &a) && a.value.type == OTEL_VALUE_BOOL && a.value.u.b);
    CHECK(iter_find(otel_span_attrs(sd), "one", &a) && a.value.type == OTEL_VALUE_DOUBLE && a.value.u.d == -1.0);
    CHECK(iter_find(otel_span_attrs(sd), "sa", &a) && a.value.type == OTEL_VALUE_STRING_ARRAY && a.value.len == 3);
    CHECK(str_is(otel_value_str_at(&a.value, 0), "x") && str_is(otel_value_str_at(&a.value, 1), "") &&
          str_is(otel_value_str_at(&a.value, 2), "yz") && str_is(otel_value_str_at(&a.value, 3), ""));
    CHECK(otel_value_str_at(&a.value, 2).ptr[2] == '\0'); /* NUL-terminated */
    CHECK(iter_find(otel_span_attrs(sd), "ba", &a) && a.value.type == OTEL_VALUE_BOOL_ARRAY && a.value.len == 3 &&
          a.value.u.ba[0] && !a.value.u.ba[1] && a.value.u.ba[2]);
    CHECK(iter_find(otel_span_attrs(sd), "ia", &a) && a.value.type == OTEL_VALUE_INT_ARRAY && a.value.len == 3 &&
          a.value.u.ia[0] == INT64_MIN && a.value.u.ia[1] == 0 && a.value.u.ia[2] == INT64_MAX);
    CHECK(iter_find(otel_span_attrs(sd), "da", &a) && a.value.type == OTEL_VALUE_DOUBLE_ARRAY && a.value.len == 3 &&
          a.value.u.da[0] == 1.5 && a.value.u.da[1] == -0.25 && a.value.u.da[2] == 1e300);
    CHECK(iter_find(otel_span_attrs(sd), "empty", &a) && a.value.type == OTEL_VALUE_INT_ARRAY && a.value.len == 0);
    /* "dup" appears once in the iteration */
    otel_iter it = otel_span_attrs(sd);
    int dups = 0;
    while (otel_iter_attr(&it, &a)) dups += str_is(a.key, "dup");
    CHECK(dups == 1);
    /* attributes of the span are not mixed with events' */
    otel_span *e = otel_span_start("ev", NULL);
    otel_attr ea[] = {otel_attr_str("ek", "ev"), otel_attr_int("n", 1), otel_attr_int("n", 2)};
    otel_span_add_event(e, "first", ea, 3);
    otel_span_set_str(e, "ek", "span"); /* same key as the event's: a different attribute */
    otel_span_record_exception(e, "IOError", "disk full", "at main.c:1");
    otel_span_record_exception(e, "OnlyType", NULL, NULL);
    otel_span_add_event(e, NULL, NULL, 5); /* NULL name: "", NULL attrs: none */
    otel_span_end(e);
    sd = span_named("ev");
    CHECK(sd && sd->attr_count == 1 && sd->event_count == 4 && sd->dropped_events == 0 && attr_str(sd, "ek", "span"));
    otel_event_data ev;
    it = otel_span_events(sd);
    CHECK(otel_iter_event(&it, &ev) && str_is(ev.name, "first") && ev.attr_count == 2 && ev.dropped_attrs == 0);
    CHECK(test_iter_len(ev.attrs) == 2 && iter_find(ev.attrs, "n", &a) && a.value.u.i == 2);
    CHECK(ev.time_ns >= sd->start_time_ns && ev.time_ns <= sd->end_time_ns);
    CHECK(otel_iter_event(&it, &ev) && str_is(ev.name, "exception") && ev.attr_count == 3);
    CHECK(iter_find(ev.attrs, "exception.type", &a) && str_is((otel_str){a.value.u.s, a.value.len}, "IOError"));
    CHECK(iter_find(ev.attrs, "exception.message", &a) && str_is((otel_str){a.value.u.s, a.value.len}, "disk full"));
    CHECK(iter_find(ev.attrs, "exception.stacktrace", &a) && str_is((otel_str){a.value.u.s, a.value.len}, "at main.c:1"));
    CHECK(otel_iter_event(&it, &ev) && str_is(ev.name, "exception") && ev.attr_count == 1 && test_iter_len(ev.attrs) == 1);
    CHECK(!iter_find(ev.attrs, "exception.message", NULL));
    CHECK(otel_iter_event(&it, &ev) && str_is(ev.name, "") && ev.attr_count == 0);
    CHECK(!otel_iter_event(&it, &ev));
    CHECK(sd && sd->status_code == OTEL_STATUS_UNSET); /* record_exception leaves the status */

    /* links: from the desc and added later, with attributes and trace_state */
    otel_span_context lc;
    CHECK(otel_context_extract("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "k=v,x@y=1", &lc) == OTEL_OK);
    otel_span *other = otel_span_start("other", &(otel_span_desc){.root = true});
    otel_span_context oc;
    CHECK(otel_span_get_context(other, &oc));
    otel_attr la[] = {otel_attr_str("why", "batch"), otel_attr_int("n", 3)};
    otel_link dl[] = {{&lc, la, 2}, {NULL, NULL, 0}};
    otel_span *l = otel_span_start("linked", &(otel_span_desc){.links = dl, .link_count = 2});
    otel_link extra = {&oc, NULL, 0};
    otel_span_add_link(l, &extra);
    otel_span_context zero;
    memset(&zero, 0, sizeof zero);
    otel_link bad = {&zero, la, 2};
    otel_span_add_link(l, &bad); /* invalid: dropped */
    otel_span_add_link(l, NULL);
    otel_span_end(l);
    otel_span_end(other);
    sd = span_named("linked");
    CHECK(sd && sd->link_count == 2 && sd->dropped_links == 3);
    otel_link_data ld;
    it = otel_span_links(sd);
    CHECK(otel_iter_link(&it, &ld) && memcmp(ld.trace_id, lc.trace_id, 16) == 0 && memcmp(ld.span_id, lc.span_id, 8) == 0);
    CHECK(ld.trace_flags == 1 && ld.is_remote && str_is(ld.trace_state, "k=v,x@y=1") && ld.attr_count == 2);
    CHECK(iter_find(ld.attrs, "why", &a) && a.value.type == OTEL_VALUE_STRING && iter_find(ld.attrs, "n", &a) && a.value.u.i == 3);
    CHECK(otel_iter_link(&it, &ld) && memcmp(ld.span_id, oc.span_id, 8) == 0 && !ld.is_remote && ld.trace_state.len == 0 &&
          ld.attr_count == 0 && test_iter_len(ld.attrs) == 0);
    CHECK(!otel_iter_link(&it, &ld));
    CHECK(test_iter_len(otel_span_attrs(sd)) == 0); /* link attributes are not span attributes */
    done();
}

/* ---- limits ------------------------------------------------------------------------------ */

static void fill_attrs(otel_span *s, int n) {
    char k[16];
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "k%d", i);
        otel_span_set_int(s, k, i);
    }
}

static void test_limits(void) {
    otel_desc d;
    const otel_span_data *sd;
    otel_attr a;

    /* the span attribute count limit, the discard logged once per span */
    env_clear();
    setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3", 1);
    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "10", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->limits.attr_count == 3);
    CHECK(otel_config()->limits.attr_value_length == OTEL_LIMIT_NONE);
    CHECK(otel_config()->limits.event_count == 128 && otel_config()->limits.link_count == 128);
    CHECK(otel_config()->limits.event_attr_count == 128 && otel_config()->limits.link_attr_count == 128);
    uint64_t lim_t0 = otel_now_ns();
    otel_span *s = otel_span_start("lim", NULL);
    fill_attrs(s, 6);
    otel_span_set_int(s, "k0", 100); /* replacing at the limit is no drop */
    otel_span_set_int(s, "k9", 9);
    otel_span_end(s);
    s = otel_span_start("lim2", NULL);
    fill_attrs(s, 5);
    otel_span_end(s);
    bool lim_quick = otel_now_ns() - lim_t0 < 200 * 1000000ull; /* (not so on a host stopped 200 ms) */
    sd = span_named("lim");
    CHECK(sd && sd->attr_count == 3 && sd->dropped_attrs == 4 && attr_int(sd, "k0", 100) && attr_int(sd, "k2", 2));
    CHECK(!iter_find(otel_span_attrs(sd), "k3", NULL) && test_iter_len(otel_span_attrs(sd)) == 3);
    sd = span_named("lim2");
    CHECK(sd && sd->attr_count == 3 && sd->dropped_attrs == 2);
    /* lim2 came within OTEL__DISCARD_LOG_MS of lim: counted, not logged; the next report
       after it says so */
    CHECK(diag_count("'lim'") == 1);
    if (lim_quick) CHECK(diag_count("'lim2'") == 0);
    {
        struct timespec nap = {0, 350 * 1000000L};
        nanosleep(&nap, NULL);
    }
    s = otel_span_start("lim3", NULL);
    fill_attrs(s, 4);
    otel_span_end(s);
    CHECK(diag_count("'lim3': attribute count limit") == 1);
    if (lim_quick) CHECK(diag_count("1 more spans had discards") == 1);
    /* a name over 100 bytes is shown cut, at a character boundary (99 'a', then "é") */
    char longname[128], want[128];
    memset(longname, 'a', 99);
    strcpy(longname + 99, "\xc3\xa9" "bbb");
    memset(want, 'a', 99);
    strcpy(want + 99, "...': attribute count limit");
    lim_t0 = otel_now_ns();
    s = otel_span_start(longname, NULL);
    fill_attrs(s, 4);
    otel_span_end(s);
    lim_quick = otel_now_ns() - lim_t0 < 200 * 1000000ull; /* within 300 ms of lim3 */
    if (lim_quick) CHECK(diag_count(want) == 0);
    CHECK(stats().attrs_dropped == 8);
    done();
    /* ... and the span left unlogged is reported at shutdown */
    if (lim_quick) CHECK(diag_count("shutdown: 1 more spans dropped attributes") == 1);
    /* a first warning shows it */
    d = desc_mem();
    d.limits.attr_count = 3;
    CHECK(init(&d));
    s = otel_span_start(longname, NULL);
    fill_attrs(s, 4);
    otel_span_end(s);
    CHECK(diag_count(want) == 1 && diag_count("\xc3") == 0);
    CHECK(stats().attrs_dropped == 1);
    done();
    CHECK(diag_count("shutdown: ") == 0);

    /* OTEL_ATTRIBUTE_COUNT_LIMIT is the fallback */
    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "2", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->limits.attr_count == 2);
    s = otel_span_start("fallback", NULL);
    fill_attrs(s, 4);
    otel_span_end(s);
    CHECK((sd = span_named("fallback")) && sd->attr_count == 2 && sd->dropped_attrs == 2);
    done();

    /* code beats env; a limit of 0 from the env is valid */
    setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2", 1);
    setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "0", 1);
    d = desc_mem();
    d.limits.attr_count = 4;
    CHECK(init(&d));
    CHECK(otel_config()->limits.attr_count == 4 && otel_config()->limits.event_count == 0);
    s = otel_span_start("code", NULL);
    fill_attrs(s, 5);
    otel_span_add_event(s, "e", NULL, 0);
    otel_span_end(s);
    CHECK((sd = span_named("code")) && sd->attr_count == 4 && sd->dropped_attrs == 1 && sd->event_count == 0 &&
          sd->dropped_events == 1);
    done();

    /* value length: characters, not bytes; string arrays too; other types untouched */
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->limits.attr_value_length == 4);
    s = otel_span_start("len", NULL);
    otel_span_set_str(s, "s", "h\xc3\xa9llo w\xc3\xb6rld"); /* héllo wörld */
    otel_span_set_str(s, "short", "abc");
    otel_span_set_str(s, "exact", "abcd");
    otel_span_set_str(s, "emoji", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
    const char *sa[] = {"abcdef", ("\xc3\xa9\xe2\x82\xac" "x\xe2\x9c\x93y"), "ab"};
    otel_attr arr = otel_attr_str_array("sa", sa, 3);
    otel_span_set_attr(s, &arr);
    otel_span_set_int(s, "i", 123456789);
    otel_span_end(s);
    sd = span_named("len");
    CHECK(attr_str(sd, "s", "h\xc3\xa9ll") && attr_str(sd, "short", "abc") && attr_str(sd, "exact", "abcd"));
    CHECK(attr_str(sd, "emoji", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"));
    CHECK(sd && iter_find(otel_span_attrs(sd), "sa", &a) && a.value.len == 3 &&
          str_is(otel_value_str_at(&a.value, 0), "abcd") &&
          str_is(otel_value_str_at(&a.value, 1), "\xc3\xa9\xe2\x82\xac" "x\xe2\x9c\x93") &&
          str_is(otel_value_str_at(&a.value, 2), "ab"));
    CHECK(attr_int(sd, "i", 123456789) && sd && sd->dropped_attrs == 0);
    done();
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4", 1);
    setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "2", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->limits.attr_value_length == 2);
    s = otel_span_start("len2", NULL);
    otel_span_set_str(s, "s", "abcdef");
    otel_span_end(s);
    CHECK(attr_str(span_named("len2"), "s", "ab"));
    done();

    /* events, links and their attributes */
    setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "2", 1);
    setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "1", 1);
    setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "1", 1);
    setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "2", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->limits.event_count == 2 && otel_config()->limits.link_count == 1);
    CHECK(otel_config()->limits.event_attr_count == 1 && otel_config()->limits.link_attr_count == 2);
    CHECK(otel_config()->limits.attr_count == 128);
    otel_attr ea[] = {otel_attr_int("a", 1), otel_attr_int("b", 2), otel_attr_int("c", 3)};
    s = otel_span_start("evl", NULL);
    otel_span_context c1, c2;
    otel_span *t1 = otel_span_start("t1", &(otel_span_desc){.root = true, .detached = true});
    otel_span *t2 = otel_span_start("t2", &(otel_span_desc){.root = true, .detached = true});
    otel_span_get_context(t1, &c1);
    otel_span_get_context(t2, &c2);
    for (int i = 0; i < 3; i++) otel_span_add_event(s, "e", ea, 3);
    otel_span_record_exception(s, "T", "m", "st");
    otel_link l1 = {&c1, ea, 3}, l2 = {&c2, ea, 3};
    otel_span_add_link(s, &l1);
    otel_span_add_link(s, &l2);
    otel_span_end(s);
    otel_span_end(t1);
    otel_span_end(t2);
    sd = span_named("evl");
    CHECK(sd && sd->event_count == 2 && sd->dropped_events == 2 && sd->link_count == 1 && sd->dropped_links == 1);
    otel_iter it = otel_span_events(sd);
    otel_event_data ev;
    int nev = 0;
    while (otel_iter_event(&it, &ev)) {
        nev++;
        CHECK(ev.attr_count == 1 && ev.dropped_attrs == 2 && test_iter_len(ev.attrs) == 1 && iter_find(ev.attrs, "a", NULL));
    }
    CHECK(nev == 2);
    it = otel_span_links(sd);
    otel_link_data ld;
    CHECK(otel_iter_link(&it, &ld) && ld.attr_count == 2 && ld.dropped_attrs == 1 && test_iter_len(ld.attrs) == 2);
    CHECK(!otel_iter_link(&it, &ld));
    CHECK(diag_count("'evl'") == 1);
    done();

    /* invalid values: a warning each, and the default */
    setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "abc", 1);
    setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "-1", 1);
    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "12x", 1);
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "99999999999", 1);
    setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", " 7 ", 1); /* blanks around are fine */
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->limits.event_count == 128 && otel_config()->limits.link_count == 128);
    CHECK(otel_config()->limits.attr_count == 128 && otel_config()->limits.attr_value_length == OTEL_LIMIT_NONE);
    CHECK(otel_config()->limits.event_attr_count == 7);
    CHECK(diag_count("OTEL_SPAN_EVENT_COUNT_LIMIT") == 1 && diag_count("OTEL_SPAN_LINK_COUNT_LIMIT") == 1);
    CHECK(diag_count("OTEL_ATTRIBUTE_COUNT_LIMIT") == 1 && diag_count("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT") == 1);
    CHECK(diag_count("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT") == 0);
    done();
}

/* ---- inline storage exhaustion -------------------------------------------------------- */

/* A name that fills a span's inline storage: it is cut so that the storage keeps room for
   what follows it (the tracestate's NUL), and nothing is written past the storage. The
   span takes a slot whose neighbour (in the same allocation) is open, or the last slot of
   a chunk (ASan sees a write past it). Before the fix, names of span_bytes - 7 to
   span_bytes - 1 bytes wrote one byte past the storage. */
static void test_long_names(void) {
    char name[400];
    for (size_t n = 200; n <= 300; n++) {
        otel_desc d = desc_mem();
        d.span_bytes = 256;
        CHECK(init(&d));
        memset(name, 'n', n);
        name[n] = 0;
        otel_span *a = otel_span_start("victim-a", NULL); /* slot 0 */
        otel_span *b = otel_span_start("victim-b", NULL); /* slot 1 */
        otel_span_end(a);                                 /* slot 0 free again, first out */
        otel_span *l = otel_span_start(name, NULL);       /* slot 0, next to b */
        otel_span_set_int(l, "k", 1);
        otel_span_end(l);
        otel_span *open[14];
        for (int i = 0; i < 14; i++) open[i] = otel_span_start("p", NULL); /* slots 0, 2..14 */
        l = otel_span_start(name, NULL);                                   /* slot 15: the last */
        otel_span_end(l);
        for (int i = 13; i >= 0; i--) otel_span_end(open[i]);
        otel_span_end(b);
        CHECK(nspans() == 18);
        const otel_span_data *sb = span_named("victim-b");
        CHECK(sb != NULL);
        int longs = 0;
        for (size_t i = 0; i < nspans(); i++) {
            const otel_span_data *sd = otel_memory_exporter_span(&mem, i);
            if (sd->name.len < 16) continue;
            longs++;
            CHECK(sd->name.len <= n && sd->name.len + 8 < 256 && sd->name.ptr[sd->name.len] == 0);
            CHECK(sd->name.len == n || sd->name.len + 16 >= 256); /* cut only when it must be */
            bool all_n = true;
            for (size_t k = 0; k < sd->name.len; k++) all_n = all_n && sd->name.ptr[k] == 'n';
            CHECK(all_n);
            CHECK(sd->trace_state.len == 0 && sd->trace_state.ptr[0] == 0);
        }
        CHECK(longs == 2);
        if (n == 300) CHECK(diag_count("nnnnnnnnnn...': inline storage full") == 1); /* the attribute; the name cut to 100 */
        done();
    }
}

/* A parent's tracestate that does not fit a span's inline storage after its name is left
   out whole, never cut (a cut one, "a=...,b=yy" of "b=yyyy", went on to the export and to
   every child and injected header). Exactly at the edge: a name of 100 bytes takes 104,
   so a tracestate of up to 151 bytes fits 256 (its NUL and padding included), 152 does not.
   A non-recording span keeps the whole tracestate for its children and inject, or none. */
static void test_long_tracestate(void) {
    otel_desc d = desc_mem();
    d.span_bytes = 256;
    CHECK(init(&d));
    char name[101], ts[400], hdr[600], tp[OTEL_TRACEPARENT_SIZE];
    memset(name, 'n', 100);
    name[100] = 0;
    for (size_t n = 140; n <= 300; n++) {
        for (size_t o = 0, m = 0; o < n; m++) { /* n bytes: members "a=yyy", "b=yyy", ... */
            if (o) ts[o++] = ',';
            ts[o++] = (char)('a' + m), ts[o++] = '=';
            size_t v = n - o > 60 ? 48 : n - o; /* the last one takes the rest (13 or more) */
            memset(ts + o, 'y', v);
            o += v;
        }
        ts[n] = 0;
        for (int sampled = 0; sampled < 2; sampled++) {
            otel_span_context rc, c;
            const char *tpr = sampled ? "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                                      : "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
            CHECK(otel_context_extract(tpr, ts, &rc) == OTEL_OK && strlen(rc.trace_state) == n);
            otel_span *s = otel_span_start(sampled ? name : "u", &(otel_span_desc){.remote_parent = &rc});
            otel_span *child = otel_span_start("child", &(otel_span_desc){.parent = s, .detached = true});
            bool fits = sampled ? n <= 151 : n <= 255; /* unsampled: no name, the whole storage */
            CHECK(otel_span_get_context(s, &c) && strlen(c.trace_state) == (fits ? n : 0));
            CHECK(otel_context_inject(s, tp, hdr, sizeof hdr) == OTEL_OK && strcmp(hdr, fits ? ts : "") == 0);
            CHECK(otel_span_get_context(child, &c) && strcmp(c.trace_state, fits ? ts : "") == 0);
            otel_span_end(child);
            otel_span_end(s);
        }
    }
    CHECK(nspans() == 2 * 161); /* for each length, the sampled child and parent */
    for (size_t i = 0; i < nspans(); i++) {
        const otel_span_data *sd = otel_memory_exporter_span(&mem, i);
        size_t n = 140 + i / 2;
        CHECK(sd->trace_state.len == (n <= 151 ? n : 0) && sd->trace_state.ptr[sd->trace_state.len] == 0);
    }
    done();
}

static void test_storage(void) {
    otel_desc d = desc_mem();
    d.span_bytes = 256;
    d.limits.attr_count = 1000;
    CHECK(init(&d));
    CHECK(otel_config()->span_bytes == 256);
    char k[16], v[64], big[3000];
    memset(big, 'n', sizeof big - 1);
    big[sizeof big - 1] = 0;
    otel_span *s = otel_span_start("small", NULL);
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "key%03d", i);
        snprintf(v, sizeof v, "value-%03d-padding-padding", i);
        otel_span_set_str(s, k, v);
    }
    otel_span_add_event(s, "ev", NULL, 0);
    otel_span_record_exception(s, "T", big, big);
    const int64_t ia[64] = {0};
    otel_attr arr = otel_attr_int_array("ia", ia, 64);
    otel_span_set_attr(s, &arr);
    otel_span_set_name(s, "small-renamed");
    otel_span_set_status(s, OTEL_STATUS_ERROR, big);
    otel_span_end(s);
    CHECK(nspans() == 1);
    const otel_span_data *sd = otel_memory_exporter_span(&mem, 0);
    CHECK(sd && sd->attr_count + sd->dropped_attrs == 201 && sd->dropped_attrs > 0 && sd->attr_count > 0);
    CHECK(sd && test_iter_len(otel_span_attrs(sd)) == sd->attr_count);
    CHECK(sd && sd->event_count + sd->dropped_events == 2);
    if (sd) { /* what was kept is intact */
        otel_iter it = otel_span_attrs(sd);
        otel_attr a;
        int i = 0;
        while (otel_iter_attr(&it, &a)) {
            snprintf(k, sizeof k, "key%03d", i);
            snprintf(v, sizeof v, "value-%03d-padding-padding", i);
            CHECK(str_is(a.key, k) && a.value.type == OTEL_VALUE_STRING && str_is((otel_str){a.value.u.s, a.value.len}, v));
            i++;
        }
    }
    CHECK(sd && stats().attrs_dropped >= sd->dropped_attrs);
    CHECK(diag_count("inline storage") >= 1 && diag_count("'small'") == 1); /* once for the span */
    /* a long name at start: cut to fit, the span still records */
    s = otel_span_start(big, NULL);
    otel_span_set_int(s, "after", 1);
    otel_span_end(s);
    CHECK(nspans() == 2);
    sd = otel_memory_exporter_span(&mem, 1);
    CHECK(sd && sd->name.len < 256 && sd->name.len > 0 && sd->name.ptr[0] == 'n');
    /* the slot is reused with its full space */
    s = otel_span_start("again", NULL);
    otel_span_set_str(s, "k", "v");
    otel_span_end(s);
    CHECK(attr_str(span_named("again"), "k", "v") && span_named("again")->dropped_attrs == 0);
    /* a key set over and over (a counter in a loop) keeps its last value, whatever the space */
    s = otel_span_start("counter", NULL);
    otel_span_set_str(s, "label", "x");
    for (int i = 0; i < 1000; i++) {
        otel_span_set_int(s, "n", i);
        otel_span_set_double(s, "f", i * 0.5);
        otel_span_set_bool(s, "b", i & 1);
    }
    otel_span_end(s);
    sd = span_named("counter");
    otel_attr a;
    CHECK(sd && sd->attr_count == 4 && sd->dropped_attrs == 0 && attr_int(sd, "n", 999) && attr_str(sd, "label", "x"));
    CHECK(sd && iter_find(otel_span_attrs(sd), "f", &a) && a.value.type == OTEL_VALUE_DOUBLE && a.value.u.d == 499.5);
    CHECK(sd && iter_find(otel_span_attrs(sd), "b", &a) && a.value.type == OTEL_VALUE_BOOL && a.value.u.b);
    done();

    /* out of span slots: non-recording handles, counted, no misuse */
    d = desc_mem();
    d.spans_per_thread = 16;
    CHECK(init(&d));
    otel_span *open[40];
    for (int i = 0; i < 40; i++) open[i] = otel_span_start("open", &(otel_span_desc){.detached = true});
    CHECK(open[39] != NULL && !otel_span_is_recording(open[39]) && otel_span_is_recording(open[0]));
    otel_span_set_str(open[39], "k", "v");
    for (int i = 0; i < 40; i++) otel_span_end(open[i]);
    otel_stats st = stats();
    CHECK(st.spans_dropped == 24 && st.misuse == 0 && st.spans_started == 16);
    CHECK(nspans() == 16);
    done();
}

/* ---- UTF-8 repair ------------------------------------------------------------------------ */

#define FFFD "\xef\xbf\xbd"

static void test_utf8(void) {
    otel_desc d = desc_mem();
    otel_attr ra = otel_attr_str("r\xff", "v\xc0\xaf");
    d.resource_attrs = &ra;
    d.resource_attr_count = 1;
    CHECK(init(&d));
    CHECK(res_str(otel_resource_get(), "r" FFFD, "v" FFFD FFFD));
    otel_span *s = otel_span_start("a\xff" "b", NULL);
    otel_span_set_str(s, "k\xc3", "v\xe2\x82");
    otel_span_set_str(s, "ok", "\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80");
    otel_span_set_str(s, "over", "\xc0\xaf");
    otel_span_set_str(s, "surr", "\xed\xa0\x80");
    otel_span_set_str(s, "big", "\xf4\x90\x80\x80!");
    const char *sa[] = {"\xff\xfe", "ok"};
    otel_attr arr = otel_attr_str_array("sa", sa, 2);
    otel_span_set_attr(s, &arr);
    otel_attr ea = otel_attr_str("ek\x80", "ev\xf8");
    otel_span_add_event(s, "ev\xe0\x80", &ea, 1);
    otel_span_set_status(s, OTEL_STATUS_ERROR, "bad\xff");
    otel_span_end(s);
    const otel_span_data *sd = span_named("a" FFFD "b");
    CHECK(sd != NULL);
    CHECK(attr_str(sd, "k" FFFD, "v" FFFD));
    CHECK(attr_str(sd, "ok", "\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80"));
    CHECK(attr_str(sd, "over", FFFD FFFD) && attr_str(sd, "surr", FFFD FFFD FFFD) && attr_str(sd, "big", FFFD FFFD FFFD FFFD "!"));
    otel_attr a;
    CHECK(sd && iter_find(otel_span_attrs(sd), "sa", &a) && str_is(otel_value_str_at(&a.value, 0), FFFD FFFD) &&
          str_is(otel_value_str_at(&a.value, 1), "ok"));
    otel_event_data ev;
    otel_iter it = otel_span_events(sd);
    CHECK(otel_iter_event(&it, &ev) && str_is(ev.name, "ev" FFFD FFFD));
    CHECK(iter_find(ev.attrs, "ek" FFFD, &a) && str_is((otel_str){a.value.u.s, a.value.len}, "ev" FFFD));
    CHECK(sd && str_is(sd->status_message, "bad" FFFD));
    /* a repaired rename is not a discard */
    s = otel_span_start("r", NULL);
    otel_span_set_name(s, "renamed\xff");
    otel_span_end(s);
    CHECK(span_named("renamed" FFFD) != NULL);
    CHECK(stats().attrs_dropped == 0 && diag_count(NULL) == 0);
    if (diag_count(NULL)) diag_dump();
    done();
}

/* ---- misuse ------------------------------------------------------------------------------ */

static void test_misuse(void) {
    otel_desc d = desc_mem();
    CHECK(init(&d));
    otel_link l = {NULL, NULL, 0};
    /* NULL handles, before this thread ever started a span */
    otel_span_end(NULL);
    otel_span_end_at(NULL, 5);
    otel_span_set_str(NULL, "k", "v");
    otel_span_set_int(NULL, "k", 1);
    otel_span_set_double(NULL, "k", 1);
    otel_span_set_bool(NULL, "k", 1);
    otel_span_set_name(NULL, "n");
    otel_span_set_status(NULL, OTEL_STATUS_ERROR, "x");
    otel_span_add_event(NULL, "e", NULL, 0);
    otel_span_record_exception(NULL, "t", "m", NULL);
    otel_span_add_link(NULL, &l);
    otel_context_attach(NULL);
    otel_context_detach(NULL);
    CHECK(!otel_span_is_recording(NULL));
    otel_span_context c;
    CHECK(!otel_span_get_context(NULL, &c) && !otel_span_context_is_valid(&c));
    CHECK(stats().misuse == 12);
    CHECK(diag_count("NULL span") == 1);
    /* ended handles */
    otel_span *s = otel_span_start("s", NULL);
    otel_span_end(s);
    otel_span_end(s);
    otel_span_set_str(s, "k", "v");
    otel_span_add_event(s, "e", NULL, 0);
    otel_span_set_status(s, OTEL_STATUS_OK, NULL);
    otel_span_set_name(s, "renamed");
    otel_context_attach(s);
    CHECK(otel_span_current() == NULL);
    CHECK(!otel_span_is_recording(s) && !otel_span_get_context(s, &c));
    char tp[OTEL_TRACEPARENT_SIZE];
    CHECK(otel_context_inject(s, tp, NULL, 0) == OTEL_ERR_INVALID_ARG && tp[0] == 0);
    otel_span *child = otel_span_start("child", &(otel_span_desc){.parent = s}); /* stale parent: a new trace */
    otel_span_end(child);
    CHECK(stats().misuse == 19);
    /* garbage handles */
    otel_span_end((otel_span *)(uintptr_t)0x12345);
    otel_span_end((otel_span *)(uintptr_t)0x7fffffff);
    CHECK(stats().misuse == 21);
    CHECK(diag_count("already ended or is stale") == 1 && diag_count("NULL span") == 1);
    CHECK(nspans() == 2 && span_named("s") && span_named("s")->attr_count == 0 && span_named("s")->event_count == 0);
    CHECK(span_named("child") && !span_named("child")->has_parent);
    /* unsampled spans accept everything silently */
    otel_span_context rc;
    CHECK(otel_context_extract("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", NULL, &rc) == OTEL_OK);
    otel_span *u = otel_span_start("u", &(otel_span_desc){.remote_parent = &rc});
    CHECK(!otel_span_is_recording(u));
    otel_span_set_str(u, "k", "v");
    otel_span_add_event(u, "e", NULL, 0);
    otel_span_end(u);
    CHECK(stats().misuse == 21 && nspans() == 2);
    done();
    /* a handle from an earlier otel_init stays stale (both are the first span of their SDK) */
    d = desc_mem();
    CHECK(init(&d));
    otel_span *old = otel_span_start("old", &(otel_span_desc){.detached = true});
    done();
    d = desc_mem();
    CHECK(init(&d));
    otel_span *fresh = otel_span_start("fresh", &(otel_span_desc){.detached = true});
    otel_span_end(old);
    otel_span_set_str(old, "from", "old");
    CHECK(otel_span_is_recording(fresh));
    otel_span_end(fresh);
    CHECK(nspans() == 1 && span_named("fresh") && span_named("fresh")->attr_count == 0);
    done();
}

/* ---- disabled ------------------------------------------------------------------------------ */

static void test_disabled(void) {
    setenv("OTEL_SDK_DISABLED", "true", 1);
    otel_desc d = desc_mem();
    diag_reset();
    CHECK(otel_init(&d) == OTEL_ERR_DISABLED);
    CHECK(otel_config() == NULL && otel_resource_get() == NULL && otel_tracer_get("x", NULL) == NULL);
    otel_span *s = otel_span_start("x", NULL);
    CHECK(s != NULL && !otel_span_is_recording(s));
    otel_span_set_str(s, "k", "v");
    otel_span_set_int(s, "k", 1);
    otel_span_add_event(s, "e", NULL, 0);
    otel_span_set_status(s, OTEL_STATUS_ERROR, "e");
    otel_span_record_exception(s, "t", NULL, NULL);
    otel_context_attach(s);
    CHECK(otel_span_current() == NULL);
    otel_span_end(s);
    otel_span_end(s);
    otel_span_end(NULL);
    char tp[OTEL_TRACEPARENT_SIZE];
    CHECK(otel_context_inject(NULL, tp, NULL, 0) == OTEL_ERR_INVALID_ARG);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_ERR_STATE);
    CHECK(otel_force_flush(0) == OTEL_ERR_STATE);
    CHECK(otel_init(&d) == OTEL_ERR_DISABLED); /* not "already initialized" */
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(nspans() == 0 && diag_count(NULL) == 0);
    otel_memory_exporter_destroy(&mem);
    setenv("OTEL_SDK_DISABLED", " TRUE ", 1);
    CHECK(otel_init(NULL) == OTEL_ERR_DISABLED);
    unsetenv("OTEL_SDK_DISABLED");
    CHECK(otel_init(&(otel_desc){.disabled = true, .diag = {diag_fn, NULL}}) == OTEL_ERR_DISABLED);
    setenv("OTEL_SDK_DISABLED", "false", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config() && !otel_config()->disabled);
    done();
    setenv("OTEL_SDK_DISABLED", "yes", 1); /* not true/false: a warning, not disabled */
    d = desc_mem();
    CHECK(init(&d));
    CHECK(diag_count("OTEL_SDK_DISABLED") == 1);
    otel_span_end(otel_span_start("on", NULL));
    CHECK(nspans() == 1);
    done();
}

/* ---- samplers -------------------------------------------------------------------------------- */

static bool sampled(otel_span *s) {
    otel_span_context c;
    return otel_span_get_context(s, &c) && (c.trace_flags & OTEL_TRACE_FLAG_SAMPLED) && otel_span_is_recording(s);
}

static bool unsampled(otel_span *s) {
    otel_span_context c;
    return otel_span_get_context(s, &c) && !(c.trace_flags & OTEL_TRACE_FLAG_SAMPLED) && !otel_span_is_recording(s);
}

static const char *TP_ON = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
static const char *TP_OFF = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

/* Root, sampled/unsampled remote parents and local children of each. want: root, remote-on,
   remote-off, child of the remote-on child, child of the remote-off child. */
static void check_sampler(otel_sampler smp, double ratio, bool root, bool r_on, bool r_off) {
    otel_desc d = desc_mem();
    d.sampler = smp;
    d.sampler_ratio = ratio;
    CHECK(init(&d));
    otel_span_context on, off;
    CHECK(otel_context_extract(TP_ON, NULL, &on) == OTEL_OK && otel_context_extract(TP_OFF, NULL, &off) == OTEL_OK);
    otel_span *s = otel_span_start("root", NULL);
    CHECK(root ? sampled(s) : unsampled(s));
    otel_span *c = otel_span_start("root-child", NULL); /* local parent */
    CHECK(root ? sampled(c) : unsampled(c));
    otel_span_end(c);
    otel_span_end(s);
    s = otel_span_start("r-on", &(otel_span_desc){.remote_parent = &on});
    CHECK(r_on ? sampled(s) : unsampled(s));
    c = otel_span_start("r-on-child", NULL);
    CHECK(r_on ? sampled(c) : unsampled(c));
    otel_span_end(c);
    otel_span_end(s);
    s = otel_span_start("r-off", &(otel_span_desc){.remote_parent = &off});
    CHECK(r_off ? sampled(s) : unsampled(s));
    c = otel_span_start("r-off-child", NULL);
    CHECK(r_off ? sampled(c) : unsampled(c));
    otel_span_end(c);
    otel_span_end(s);
    CHECK(nspans() == (size_t)(2 * root + 2 * r_on + 2 * r_off));
    CHECK(!r_on || (span_named("r-on") && span_named("r-on")->trace_flags == 1 && span_named("r-on")->parent_is_remote));
    otel_stats st = stats();
    CHECK(st.spans_started == (uint64_t)nspans() && st.spans_unsampled == 6 - (uint64_t)nspans());
    done();
}

static void test_samplers(void) {
    check_sampler(OTEL_SAMPLER_DEFAULT, 0, true, true, false);
    check_sampler(OTEL_SAMPLER_ALWAYS_ON, 0, true, true, true);
    check_sampler(OTEL_SAMPLER_ALWAYS_OFF, 0, false, false, false);
    check_sampler(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 0, true, true, false);
    check_sampler(OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF, 0, false, true, false);
    check_sampler(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 1e-12, false, true, false);
    check_sampler(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 1.0, true, true, false);
    check_sampler(OTEL_SAMPLER_TRACEIDRATIO, 1.0, true, true, true);
    /* the remote trace id 4bf9...4736 has low 8 bytes a3ce929d0e0e4736: >> 1 = 0x51e7..., i.e.
       ratio 0.64 of 2^63; its spans are sampled at ratio 0.7 and not at 0.6, parent or not */
    check_sampler(OTEL_SAMPLER_TRACEIDRATIO, 1e-12, false, false, false);
    {
        otel_desc d = desc_mem();
        otel_span_context on, off;
        otel_context_extract(TP_ON, NULL, &on);
        otel_context_extract(TP_OFF, NULL, &off);
        d.sampler = OTEL_SAMPLER_TRACEIDRATIO;
        d.sampler_ratio = 0.7;
        CHECK(init(&d));
        otel_span *a = otel_span_start("a", &(otel_span_desc){.remote_parent = &off, .detached = true});
        CHECK(sampled(a));
        otel_span_end(a);
        done();
        d = desc_mem();
        d.sampler = OTEL_SAMPLER_TRACEIDRATIO;
        d.sampler_ratio = 0.6;
        CHECK(init(&d));
        a = otel_span_start("a", &(otel_span_desc){.remote_parent = &on, .detached = true});
        CHECK(unsampled(a));
        otel_span_end(a);
        done();
    }

    /* ratio statistics: 0.25 of 20000 root spans, within 5 sigma (sigma = 61) */
    {
        enum { N = 20000 };
        otel_desc d;
        memset(&d, 0, sizeof d);
        d.diag.func = diag_fn;
        d.default_exporters = "none";
        d.sampler = OTEL_SAMPLER_TRACEIDRATIO;
        d.sampler_ratio = 0.25;
        CHECK(init(&d));
        CHECK(otel_config()->sampler_ratio == 0.25);
        int n = 0;
        for (int i = 0; i < N; i++) {
            otel_span *s = otel_span_start("r", NULL);
            n += otel_span_is_recording(s);
            otel_span_end(s);
        }
        otel_stats st = stats();
        CHECK(st.spans_started == (uint64_t)n && st.spans_unsampled == (uint64_t)(N - n));
        CHECK(n > 5000 - 305 && n < 5000 + 305);
        if (!(n > 5000 - 305 && n < 5000 + 305)) fprintf(stderr, "ratio 0.25: %d of %d sampled\n", n, N);
        CHECK(otel_shutdown(0) == OTEL_OK);
    }

    /* unsampled spans propagate: flags 00, same trace id, children's parent is the span */
    {
        otel_desc d = desc_mem();
        d.sampler = OTEL_SAMPLER_ALWAYS_OFF;
        CHECK(init(&d));
        otel_span *root = otel_span_start("root", NULL);
        otel_span_context rc, cc;
        CHECK(otel_span_get_context(root, &rc) && otel_span_context_is_valid(&rc) && rc.trace_flags == 0);
        char tp[OTEL_TRACEPARENT_SIZE], want[OTEL_TRACEPARENT_SIZE];
        CHECK(otel_context_inject(NULL, tp, NULL, 0) == OTEL_OK);
        CHECK(otel_traceparent_format(&rc, want, sizeof want) == OTEL_OK && strcmp(tp, want) == 0);
        CHECK(strlen(tp) == 55 && strcmp(tp + 52, "-00") == 0);
        otel_span *child = otel_span_start("child", NULL);
        CHECK(otel_span_get_context(child, &cc) && memcmp(cc.trace_id, rc.trace_id, 16) == 0 &&
              memcmp(cc.span_id, rc.span_id, 8) != 0 && cc.trace_flags == 0);
        CHECK(otel_span_current() == child);
        /* a remote service continuing it sees the unsampled flag and the ids */
        otel_span_context ext;
        CHECK(otel_context_inject(child, tp, NULL, 0) == OTEL_OK && otel_context_extract(tp, NULL, &ext) == OTEL_OK);
        CHECK(memcmp(ext.trace_id, rc.trace_id, 16) == 0 && memcmp(ext.span_id, cc.span_id, 8) == 0 && ext.trace_flags == 0);
        otel_span_end(child);
        otel_span_end(root);
        CHECK(nspans() == 0 && stats().spans_unsampled == 2 && stats().spans_started == 0);
        done();
    }
}

/* ---- non-recording spans: otel_span_start(name, NULL) and otel_span_end's short paths ------ */

/* "00-<trace id>-<span id>-<flags>" written here from the context's bytes */
static void tp_of(const otel_span_context *c, char out[OTEL_TRACEPARENT_SIZE]) {
    static const char hx[] = "0123456789abcdef";
    char *o = out;
    *o++ = '0', *o++ = '0', *o++ = '-';
    for (int i = 0; i < 16; i++) *o++ = hx[c->trace_id[i] >> 4], *o++ = hx[c->trace_id[i] & 15];
    *o++ = '-';
    for (int i = 0; i < 8; i++) *o++ = hx[c->span_id[i] >> 4], *o++ = hx[c->span_id[i] & 15];
    *o++ = '-', *o++ = '0', *o++ = hx[c->trace_flags & 15], *o = 0;
}

/* Every call an application may make on a non-recording span; none records or complains. */
static void poke_all(otel_span *s) {
    otel_span_set_str(s, "k", "v");
    otel_span_set_strn(s, "k", "value", 3);
    otel_span_set_int(s, "i", 1);
    otel_span_set_double(s, "d", 0.5);
    otel_span_set_bool(s, "b", true);
    otel_attr a = otel_attr_str("a", "b");
    otel_span_set_attr(s, &a);
    otel_span_set_attrs(s, &a, 1);
    otel_span_set_name(s, "renamed");
    otel_span_set_status(s, OTEL_STATUS_ERROR, "bad");
    otel_span_add_event(s, "e", &a, 1);
    otel_span_add_event_at(s, "e", 1, NULL, 0);
    otel_span_record_exception(s, "t", "m", "st");
    otel_span_context lc;
    memset(&lc, 0, sizeof lc);
    lc.trace_id[0] = lc.span_id[0] = 1;
    otel_span_add_link(s, &(otel_link){.context = &lc});
}

/* Thread B: its own span, then ends thread A's span (attached here), then starts another. */
static void *thr_end_attached(void *p) {
    thr_arg *a = (thr_arg *)p;
    otel_span *own = otel_span_start("b-own", NULL);
    otel_span_context before, after;
    bool ok = otel_span_get_context(own, &before);
    otel_context_attach(a->span);
    ok = ok && otel_span_current() == a->span;
    otel_span_end(a->span); /* another thread's slot: released to its owner */
    ok = ok && otel_span_current() == own;
    otel_span *next = otel_span_start("b-next", NULL);
    ok = ok && next != own && otel_span_get_context(own, &after) && memcmp(&before, &after, sizeof before) == 0;
    ok = ok && otel_span_get_context(next, &after) && memcmp(after.trace_id, before.trace_id, 16) == 0 &&
         memcmp(after.span_id, before.span_id, 8) != 0;
    otel_span_end(next);
    otel_span_end(own);
    ok = ok && otel_span_current() == NULL;
    a->current_ok = ok;
    return NULL;
}

static void test_unsampled_paths(void) {
    otel_span_context rc, cc, xc;
    char tp[OTEL_TRACEPARENT_SIZE], want[OTEL_TRACEPARENT_SIZE];
    otel_desc d = desc_mem();
    d.sampler = OTEL_SAMPLER_ALWAYS_OFF;
    CHECK(init(&d));
    /* a root and a child: valid ids, the parent's trace id, flags 0, current, propagated */
    otel_span *root = otel_span_start("root", NULL);
    CHECK(root != NULL && !otel_span_is_recording(root) && otel_span_current() == root);
    CHECK(otel_span_get_context(root, &rc) && !is_zero(rc.trace_id, 16) && !is_zero(rc.span_id, 8));
    CHECK(rc.trace_flags == 0 && !rc.is_remote && rc.trace_state[0] == 0);
    otel_span *child = otel_span_start("child", NULL);
    CHECK(child != root && !otel_span_is_recording(child) && otel_span_current() == child);
    CHECK(otel_span_get_context(child, &cc) && memcmp(cc.trace_id, rc.trace_id, 16) == 0);
    CHECK(!is_zero(cc.span_id, 8) && memcmp(cc.span_id, rc.span_id, 8) != 0 && cc.trace_flags == 0);
    tp_of(&cc, want);
    CHECK(otel_context_inject(child, tp, NULL, 0) == OTEL_OK && strcmp(tp, want) == 0 && strcmp(tp + 52, "-00") == 0);
    CHECK(otel_context_inject(NULL, tp, NULL, 0) == OTEL_OK && strcmp(tp, want) == 0); /* the active span */
    poke_all(child);
    CHECK(otel_span_get_context(child, &xc) && memcmp(&xc, &cc, sizeof xc) == 0);
    otel_span_end(child);
    CHECK(otel_span_current() == root);
    /* ended: stale everywhere, and a second end is misuse reported once */
    CHECK(!otel_span_get_context(child, &xc) && !otel_span_is_recording(child));
    CHECK(otel_context_inject(child, tp, NULL, 0) == OTEL_ERR_INVALID_ARG && tp[0] == 0);
    poke_all(child);
    CHECK(stats().misuse == 0);
    otel_span_end(child);
    CHECK(stats().misuse == 1 && diag_count("already ended or is stale") == 1 && otel_span_current() == root);
    /* its slot is reused: the old handle stays stale and touches nothing of the new span */
    otel_span *again = otel_span_start("again", NULL);
    CHECK(again != child && otel_span_get_context(again, &xc) && memcmp(xc.span_id, cc.span_id, 8) != 0);
    otel_span_end(child);
    otel_context_detach(child);
    CHECK(stats().misuse == 2 && otel_span_current() == again && otel_span_get_context(again, &cc));
    CHECK(memcmp(&xc, &cc, sizeof xc) == 0);
    otel_span_end(again);
    /* ended out of order: the stack stays right */
    otel_span *a = otel_span_start("a", NULL), *b = otel_span_start("b", NULL);
    otel_span_end(a);
    CHECK(otel_span_current() == b);
    otel_span_end(b);
    CHECK(otel_span_current() == root);
    /* deeper than the active stack holds (64): the ones left off end too */
    enum { DEEP = 70 };
    otel_span *deep[DEEP];
    for (int i = 0; i < DEEP; i++) deep[i] = otel_span_start("deep", NULL);
    CHECK(otel_span_current() == deep[62]);
    for (int i = 0; i < DEEP; i++) CHECK(otel_span_get_context(deep[i], &xc) && memcmp(xc.trace_id, rc.trace_id, 16) == 0);
    for (int i = DEEP - 1; i >= 0; i--) otel_span_end(deep[i]);
    CHECK(otel_span_current() == root && stats().misuse == 2);
    for (int i = 0; i < DEEP; i++) CHECK(!otel_span_get_context(deep[i], &xc));
    /* a span of this thread ended on another one, which has a span of its own there */
    thr_arg ta;
    memset(&ta, 0, sizeof ta);
    ta.span = otel_span_start("moved", NULL);
    run_thread(thr_end_attached, &ta);
    CHECK(ta.current_ok && !otel_span_get_context(ta.span, &xc));
    otel_span *after = otel_span_start("after", NULL); /* the moved span's stale entry is passed over */
    CHECK(otel_span_get_context(after, &xc) && memcmp(xc.trace_id, rc.trace_id, 16) == 0);
    otel_span_end(after);
    CHECK(otel_span_current() == root);
    /* the active span ended on another thread: the next span starts a new trace */
    memset(&ta, 0, sizeof ta);
    ta.span = root;
    run_thread(thr_end, &ta);
    otel_span *fresh = otel_span_start("fresh", NULL);
    CHECK(otel_span_get_context(fresh, &xc) && memcmp(xc.trace_id, rc.trace_id, 16) != 0 && !is_zero(xc.trace_id, 16));
    CHECK(otel_span_current() == fresh);
    otel_span_end(fresh);
    CHECK(otel_span_current() == NULL);
    /* more open spans than this thread has slots: the extra ones are no-ops */
    otel_span *many[300];
    for (int i = 0; i < 300; i++) many[i] = otel_span_start("many", NULL);
    for (int i = 299; i >= 0; i--) otel_span_end(many[i]);
    otel_stats st = stats();
    /* root, child, again, a, b, deep, moved, b-own, b-next, after, fresh, many */
    CHECK(st.spans_started == 0 && st.spans_unsampled + st.spans_dropped == 2 + 1 + 2 + DEEP + 1 + 2 + 1 + 1 + 300);
    CHECK(st.spans_dropped > 0 && st.spans_dropped < 300);
    CHECK(st.misuse == 2 && nspans() == 0);
    done();

    /* 16 slots: a slot freed by another thread comes back to its owner (not to the other
       thread), and a stale handle left on top of the stack cannot end its slot's new span */
    d = desc_mem();
    d.sampler = OTEL_SAMPLER_ALWAYS_OFF;
    d.spans_per_thread = 16;
    CHECK(init(&d));
    memset(&ta, 0, sizeof ta);
    ta.span = otel_span_start("moved", NULL);
    run_thread(thr_end_attached, &ta);
    CHECK(ta.current_ok);
    otel_span *sixteen[16];
    for (int i = 0; i < 16; i++) sixteen[i] = otel_span_start("n", NULL);
    for (int i = 0; i < 16; i++) CHECK(otel_span_get_context(sixteen[i], &xc));
    for (int i = 15; i >= 0; i--) otel_span_end(sixteen[i]);
    CHECK(stats().spans_dropped == 0 && otel_span_current() == NULL);
    memset(&ta, 0, sizeof ta);
    ta.span = otel_span_start("x", NULL);
    run_thread(thr_end, &ta); /* x stays on top of this thread's stack, stale */
    for (int i = 0; i < 16; i++) sixteen[i] = otel_span_start("y", &(otel_span_desc){.root = true, .detached = true});
    for (int i = 0; i < 16; i++) CHECK(otel_span_get_context(sixteen[i], &xc));
    otel_span_end(ta.span); /* x again: misuse; the span now in its slot stays open */
    CHECK(stats().misuse == 1);
    for (int i = 0; i < 16; i++) CHECK(otel_span_get_context(sixteen[i], &xc));
    for (int i = 0; i < 16; i++) otel_span_end(sixteen[i]);
    CHECK(stats().misuse == 1 && stats().spans_dropped == 0 && otel_span_current() == NULL);
    done();

    /* parent-based: slots that held sampled spans (with a tracestate) serve unsampled ones */
    d = desc_mem();
    CHECK(init(&d));
    otel_span_context on, off;
    CHECK(otel_context_extract(TP_ON, "a=1", &on) == OTEL_OK && strcmp(on.trace_state, "a=1") == 0);
    CHECK(otel_context_extract(TP_OFF, NULL, &off) == OTEL_OK);
    otel_span *s = otel_span_start("s", &(otel_span_desc){.remote_parent = &on});
    otel_span *sc = otel_span_start("s-child", NULL);
    CHECK(otel_span_is_recording(sc) && otel_span_get_context(sc, &xc) && strcmp(xc.trace_state, "a=1") == 0);
    otel_span_end(sc);
    otel_span_end(s);
    otel_span *u = otel_span_start("u", &(otel_span_desc){.remote_parent = &off});
    otel_span *uc = otel_span_start("u-child", NULL);
    CHECK(unsampled(u) && unsampled(uc) && otel_span_current() == uc);
    CHECK(otel_span_get_context(uc, &cc) && memcmp(cc.trace_id, off.trace_id, 16) == 0 && cc.trace_flags == 0);
    CHECK(cc.trace_state[0] == 0 && !cc.is_remote && memcmp(cc.span_id, off.span_id, 8) != 0);
    tp_of(&cc, want);
    char ts[64] = "x";
    CHECK(otel_context_inject(uc, tp, ts, sizeof ts) == OTEL_OK && strcmp(tp, want) == 0 && ts[0] == 0);
    poke_all(uc);
    otel_span_end(uc);
    otel_span_end(u);
    /* an unsampled parent with a tracestate: the child keeps it */
    CHECK(otel_context_extract(TP_OFF, "b=2", &off) == OTEL_OK);
    u = otel_span_start("u2", &(otel_span_desc){.remote_parent = &off});
    uc = otel_span_start("u2-child", NULL);
    CHECK(unsampled(uc) && otel_span_get_context(uc, &cc) && strcmp(cc.trace_state, "b=2") == 0);
    CHECK(otel_context_inject(uc, tp, ts, sizeof ts) == OTEL_OK && strcmp(ts, "b=2") == 0);
    otel_span_end(uc);
    otel_span_end(u);
    /* a sampled root after all that */
    otel_span *r = otel_span_start("r", NULL);
    CHECK(sampled(r) && otel_span_current() == r);
    otel_span_end(r);
    CHECK(nspans() == 3 && span_named("s-child") && span_named("r") && !span_named("u-child"));
    st = stats();
    CHECK(st.spans_unsampled == 4 && st.spans_started == 3 && st.misuse == 0);
    done();

    /* PARENTBASED_ALWAYS_OFF: the root is not sampled either, and children follow */
    d = desc_mem();
    d.sampler = OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF;
    CHECK(init(&d));
    root = otel_span_start("root", NULL);
    child = otel_span_start("child", NULL);
    CHECK(unsampled(root) && unsampled(child) && otel_span_get_context(root, &rc) && otel_span_get_context(child, &cc));
    CHECK(memcmp(rc.trace_id, cc.trace_id, 16) == 0 && !is_zero(rc.trace_id, 16));
    otel_span_end(child);
    otel_span_end(root);
    CHECK(otel_span_current() == NULL && nspans() == 0 && stats().spans_unsampled == 2);
    done();
}

/* A slot's generation wraps around past 0 (a handle with generation 0 is invalid), on the
   unsampled short path (otel__start_auto / otel__end_unsampled) and on the general one; the
   wrapped handle is stale and cannot end the slot's next span. (Reaches into the slot: 2^32
   ends are too many to run.) */
static void test_generation_wrap(void) {
    otel_span_context xc;
    for (int k = 0; k < 2; k++) {
        otel_desc d = desc_mem();
        d.sampler = k ? OTEL_SAMPLER_ALWAYS_ON : OTEL_SAMPLER_ALWAYS_OFF;
        CHECK(init(&d));
        otel_span *root = otel_span_start("root", NULL);
        otel__slot *s = otel__tls->free_slots; /* the next span's slot */
        CHECK(s != NULL);
        s->gen |= OTEL__GEN_MASK;              /* the last generation before the wrap */
        otel_span *a = otel_span_start("a", NULL);
        CHECK((((uintptr_t)a >> OTEL__GEN_SHIFT) & OTEL__GEN_MASK) == OTEL__GEN_MASK);
        CHECK(otel_span_get_context(a, &xc) && otel_span_current() == a && otel_span_is_recording(a) == (k == 1));
        otel_span_end(a);
        CHECK((s->gen & OTEL__GEN_MASK) == 1 && !otel_span_get_context(a, &xc) && otel_span_current() == root);
        otel_span *b = otel_span_start("b", NULL); /* the same slot, generation 1 */
        CHECK(otel__tls->stack_s[otel__tls->depth - 1] == s && (((uintptr_t)b >> OTEL__GEN_SHIFT) & OTEL__GEN_MASK) == 1);
        CHECK(otel_span_get_context(b, &xc) && otel_span_current() == b);
        otel_span_end(a); /* stale: misuse, b stays open */
        CHECK(stats().misuse == 1 && otel_span_current() == b && otel_span_get_context(b, &xc));
        otel_span_end(b);
        otel_span_end(root);
        CHECK(otel_span_current() == NULL && stats().misuse == 1 && nspans() == (k ? 3u : 0u));
        done();
    }
    /* a stale entry under an open one whose slot's generation has come round to the
       entry's while the slot is free: not open (the slot's state tells). Else the stale
       span would be current again, and its second end would put the free slot on the free
       list twice, so that two spans would share it. */
    for (int k = 0; k < 4; k++) { /* k & 1: sampled; k & 2: the second end follows at once */
        otel_desc d = desc_mem();
        d.sampler = (k & 1) ? OTEL_SAMPLER_ALWAYS_ON : OTEL_SAMPLER_ALWAYS_OFF;
        CHECK(init(&d));
        otel_span *s = otel_span_start("s", NULL), *c = otel_span_start("c", NULL);
        otel_context_attach(s); /* stack [s, c, s] */
        otel_span_end(s);       /* [s (stale), c] */
        otel__slot *x = otel__tls->stack_s[0];
        CHECK(otel__tls->depth == 2 && otel__load_rlx(&x->state) != OTEL__OPEN);
        x->gen = (uint32_t)((uintptr_t)s >> OTEL__GEN_SHIFT); /* 2^32 - 1 reuses later */
        otel_span_end(c);
        if (!(k & 2)) CHECK(otel_span_current() == NULL);
        otel_span_end(s); /* ended already: misuse */
        CHECK(stats().misuse == 1);
        otel_span *p = otel_span_start("p", NULL), *q = otel_span_start("q", NULL), *r = otel_span_start("r", NULL);
        uintptr_t im = ((uintptr_t)1 << (OTEL__GEN_SHIFT - 1)) - 1; /* the slot index bits */
        CHECK(((uintptr_t)p & im) != ((uintptr_t)q & im) && ((uintptr_t)q & im) != ((uintptr_t)r & im) &&
              ((uintptr_t)p & im) != ((uintptr_t)r & im));
        otel_span_end(r);
        otel_span_end(q);
        otel_span_end(p);
        CHECK(stats().misuse == 1 && otel_span_current() == NULL);
        done();
    }
}

/* A thread that outlives an instance: its unsampled handles of that instance end harmlessly
   after the shutdown (no instance) and after a new otel_init (the end's short path must not
   touch the earlier instance's freed thread state), and it then records in the new one. */
static _Atomic int outlive_phase;
static void *thr_outlive(void *p) {
    thr_arg *a = (thr_arg *)p;
    otel_span *old1 = otel_span_start("old1", NULL), *old2 = otel_span_start("old2", NULL);
    bool ok = unsampled(old1) && unsampled(old2) && otel_span_current() == old2;
    atomic_store(&outlive_phase, 1);
    while (atomic_load(&outlive_phase) != 2) sched_yield(); /* shut down */
    otel_span_end(old2);
    atomic_store(&outlive_phase, 3);
    while (atomic_load(&outlive_phase) != 4) sched_yield(); /* initialized again */
    otel_span_end(old1);
    otel_span *n = otel_span_start("new", NULL);
    otel_span_context c;
    ok = ok && unsampled(n) && otel_span_current() == n && otel_span_get_context(n, &c) && !is_zero(c.span_id, 8);
    otel_span_end(n);
    a->current_ok = ok && otel_span_current() == NULL;
    return NULL;
}

static void test_outlive_instance(void) {
    otel_desc d = desc_mem();
    d.sampler = OTEL_SAMPLER_ALWAYS_OFF;
    CHECK(init(&d));
    thr_arg ta;
    memset(&ta, 0, sizeof ta);
    atomic_store(&outlive_phase, 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, thr_outlive, &ta) == 0);
    while (atomic_load(&outlive_phase) != 1) sched_yield();
    done();
    atomic_store(&outlive_phase, 2);
    while (atomic_load(&outlive_phase) != 3) sched_yield();
    d = desc_mem();
    d.sampler = OTEL_SAMPLER_ALWAYS_OFF;
    CHECK(init(&d));
    atomic_store(&outlive_phase, 4);
    pthread_join(th, NULL);
    CHECK(ta.current_ok && stats().spans_unsampled == 1);
    done();
}

static void test_sampler_env(void) {
    otel_desc d;
    static const struct {
        const char *name;
        otel_sampler want;
    } names[] = {{"always_on", OTEL_SAMPLER_ALWAYS_ON}, {"always_off", OTEL_SAMPLER_ALWAYS_OFF},
                 {"traceidratio", OTEL_SAMPLER_TRACEIDRATIO}, {"parentbased_always_on", OTEL_SAMPLER_PARENTBASED_ALWAYS_ON},
                 {"parentbased_always_off", OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF},
                 {"parentbased_traceidratio", OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO}, {" Always_Off ", OTEL_SAMPLER_ALWAYS_OFF}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        setenv("OTEL_TRACES_SAMPLER", names[i].name, 1);
        d = desc_mem();
        CHECK(init(&d));
        CHECK(otel_config()->sampler == names[i].want && otel_config()->sampler_ratio == 1.0);
        CHECK(diag_count(NULL) == 0);
        done();
    }
    /* default */
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->sampler == OTEL_SAMPLER_PARENTBASED_ALWAYS_ON && otel_config()->sampler_ratio == 1.0);
    done();
    /* invalid name: warning, default */
    setenv("OTEL_TRACES_SAMPLER", "jaeger_remote", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->sampler == OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
    CHECK(diag_count("OTEL_TRACES_SAMPLER") == 1);
    done();
    /* the argument */
    static const struct {
        const char *arg;
        double want;
        int warns;
    } args[] = {{"0.5", 0.5, 0}, {"0", 0.0, 0}, {"1", 1.0, 0}, {" 0.125 ", 0.125, 0}, {"1e-1", 0.1, 0},
                {"abc", 1.0, 1}, {"1.5", 1.0, 1}, {"-0.5", 1.0, 1}, {"0.5x", 1.0, 1}, {"nan", 1.0, 1}};
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", 1);
        setenv("OTEL_TRACES_SAMPLER_ARG", args[i].arg, 1);
        d = desc_mem();
        CHECK(init(&d));
        CHECK(otel_config()->sampler == OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
        CHECK(otel_config()->sampler_ratio == args[i].want);
        CHECK(diag_count("OTEL_TRACES_SAMPLER_ARG") == args[i].warns);
        done();
    }
    /* ratio 0 from the env samples nothing */
    setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "0", 1);
    d = desc_mem();
    CHECK(init(&d));
    for (int i = 0; i < 100; i++) otel_span_end(otel_span_start("z", NULL));
    CHECK(nspans() == 0);
    done();
    /* code wins over env */
    setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "0.5", 1);
    d = desc_mem();
    d.sampler = OTEL_SAMPLER_TRACEIDRATIO;
    d.sampler_ratio = 0.75;
    CHECK(init(&d));
    CHECK(otel_config()->sampler == OTEL_SAMPLER_TRACEIDRATIO && otel_config()->sampler_ratio == 0.75);
    done();
    /* code sampler, ratio from env */
    setenv("OTEL_TRACES_SAMPLER_ARG", "0.5", 1);
    d = desc_mem();
    d.sampler = OTEL_SAMPLER_TRACEIDRATIO;
    CHECK(init(&d));
    CHECK(otel_config()->sampler_ratio == 0.5);
    done();
    /* a bad code ratio: warning, 1.0 */
    d = desc_mem();
    d.sampler = OTEL_SAMPLER_TRACEIDRATIO;
    d.sampler_ratio = 2.0;
    CHECK(init(&d));
    CHECK(otel_config()->sampler_ratio == 1.0 && diag_count("sampler_ratio") == 1);
    done();
}

/* ---- resource --------------------------------------------------------------------------------- */

static void test_resource(void) {
    otel_desc d;
    const otel_resource *r;
    /* desc > OTEL_SERVICE_NAME > OTEL_RESOURCE_ATTRIBUTES > unknown_service:<exe> */
    setenv("OTEL_SERVICE_NAME", "from-env", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,x=1", 1);
    d = desc_mem();
    d.service_name = "from-desc";
    CHECK(init(&d));
    r = otel_resource_get();
    CHECK(res_str(r, "service.name", "from-desc") && res_str(r, "x", "1"));
    CHECK(r && r->count > 0 && str_is(r->attrs[0].key, "service.name")); /* first */
    int n = 0;
    for (size_t i = 0; r && i < r->count; i++) n += str_is(r->attrs[i].key, "service.name");
    CHECK(n == 1);
    otel_span_end(otel_span_start("s", NULL));
    CHECK(res_str(otel_memory_exporter_resource(&mem), "service.name", "from-desc"));
    done();
    setenv("OTEL_SERVICE_NAME", "from-env", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(res_str(otel_resource_get(), "service.name", "from-env"));
    done();
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(res_str(otel_resource_get(), "service.name", "from-attrs"));
    done();
    /* service.name in the code's resource_attrs is code too: it wins over the env */
    setenv("OTEL_SERVICE_NAME", "from-env", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs", 1);
    d = desc_mem();
    otel_attr svc_attr = otel_attr_str("service.name", "from-code-attrs");
    d.resource_attrs = &svc_attr;
    d.resource_attr_count = 1;
    CHECK(init(&d));
    CHECK(res_str(otel_resource_get(), "service.name", "from-code-attrs"));
    done();
    d = desc_mem();
    CHECK(init(&d));
    {
        char exe[512] = "", want[600];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[len > 0 ? len : 0] = 0;
        const char *base = strrchr(exe, '/');
        snprintf(want, sizeof want, "unknown_service:%s", base ? base + 1 : exe);
        CHECK(len > 0 && res_str(otel_resource_get(), "service.name", want));
        CHECK(strncmp(want, "unknown_service:", 16) == 0 && want[16] != 0);
    }
    r = otel_resource_get();
    CHECK(res_str(r, "telemetry.sdk.name", "otel.h") && res_str(r, "telemetry.sdk.language", "c") &&
          res_str(r, "telemetry.sdk.version", OTEL_VERSION));
    done();

    /* percent-decoding; bad members skipped with a warning, the others stay */
    setenv("OTEL_RESOURCE_ATTRIBUTES",
           "a=1, b = hello%20world ,c=%E2%9C%93,bad,d=%zz,e=x%2Cy,=novalue,f=%3d%3D,g=a+b,h=%c3,,k%2Ey=1,i=", 1);
    d = desc_mem();
    otel_attr code[] = {otel_attr_str("a", "from-code"), otel_attr_int("n", 5), otel_attr_bool("t", true),
                        otel_attr_double("pi", 3.5)};
    d.resource_attrs = code;
    d.resource_attr_count = 4;
    d.service_name = "svc";
    CHECK(init(&d));
    r = otel_resource_get();
    CHECK(res_str(r, "a", "from-code") && res_str(r, "b", "hello world") && res_str(r, "c", "\xe2\x9c\x93"));
    CHECK(res_str(r, "e", "x,y") && res_str(r, "f", "==") && res_str(r, "g", "a+b") && res_str(r, "h", FFFD));
    CHECK(res_str(r, "k.y", "1") && res_str(r, "i", ""));
    CHECK(!res_find(r, "bad") && !res_find(r, "d") && !res_find(r, ""));
    CHECK(diag_count("OTEL_RESOURCE_ATTRIBUTES") == 3 && diag_count("bad") >= 1);
    const otel_attr *ra;
    CHECK((ra = res_find(r, "n")) && ra->value.type == OTEL_VALUE_INT && ra->value.u.i == 5);
    CHECK((ra = res_find(r, "t")) && ra->value.type == OTEL_VALUE_BOOL && ra->value.u.b);
    CHECK((ra = res_find(r, "pi")) && ra->value.type == OTEL_VALUE_DOUBLE && ra->value.u.d == 3.5);
    CHECK(res_str(r, "service.name", "svc") && res_str(r, "telemetry.sdk.language", "c"));
    otel_span_end(otel_span_start("s", NULL));
    const otel_resource *mr = otel_memory_exporter_resource(&mem);
    CHECK(mr && r && mr->count == r->count && res_str(mr, "b", "hello world"));
    done();
}

/* ---- configuration: code over env, BSP values, init/shutdown states -------------------------- */

typedef struct capture {
    int exports, spans, flushes, shutdowns;
    uint32_t timeout_ms, max_batch;
    bool resource_ok;
} capture;

static otel_export_result cap_export(const otel_span_batch *b, void *user) {
    capture *c = (capture *)user;
    c->exports++;
    c->spans += (int)b->count;
    c->timeout_ms = b->timeout_ms;
    if (b->count > c->max_batch) c->max_batch = (uint32_t)b->count;
    c->resource_ok = b->resource && res_find(b->resource, "service.name");
    return OTEL_EXPORT_SUCCESS;
}
static otel_result cap_flush(uint32_t t, void *user) {
    (void)t;
    ((capture *)user)->flushes++;
    return OTEL_OK;
}
static void cap_shutdown(uint32_t t, void *user) {
    (void)t;
    ((capture *)user)->shutdowns++;
}

static void test_config(void) {
    otel_desc d;
    capture cap;
    /* code beats env */
    setenv("OTEL_SERVICE_NAME", "env-svc", 1);
    setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
    setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "3", 1);
    setenv("OTEL_LOG_LEVEL", "error", 1);
    d = desc_mem();
    d.service_name = "code-svc";
    d.sampler = OTEL_SAMPLER_ALWAYS_ON;
    d.limits.link_count = 9;
    d.log_level = OTEL_LOG_DEBUG;
    CHECK(init(&d));
    const otel_desc *c = otel_config();
    CHECK(c && c->sampler == OTEL_SAMPLER_ALWAYS_ON && c->limits.link_count == 9 && c->log_level == OTEL_LOG_DEBUG);
    CHECK(c && strcmp(c->service_name, "code-svc") == 0 && res_str(otel_resource_get(), "service.name", "code-svc"));
    CHECK(c && c->span_bytes > 0 && c->spans_per_thread > 0 && c->ring_bytes > 0 && c->max_threads > 0);
    CHECK(c && strcmp(c->scope_name, "otel.h") == 0 && c->processor == OTEL_PROCESSOR_BATCH);
    done();
    /* the env applies when code leaves a setting at 0 */
    setenv("OTEL_LOG_LEVEL", "error", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->log_level == OTEL_LOG_ERROR);
    done();
    setenv("OTEL_LOG_LEVEL", "loud", 1);
    d = desc_mem();
    CHECK(init(&d));
    CHECK(otel_config()->log_level == OTEL_LOG_INFO && diag_count("OTEL_LOG_LEVEL") == 1);
    done();

    /* OTEL_BSP_*: invalid -> warning + default (the timeout reaches the exporter) */
    setenv("OTEL_BSP_SCHEDULE_DELAY", "soon", 1);
    setenv("OTEL_BSP_EXPORT_TIMEOUT", "-5", 1);
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "0", 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1x", 1);
    memset(&cap, 0, sizeof cap);
    memset(&d, 0, sizeof d);
    d.diag.func = diag_fn;
    d.destinations[0].exporter = (otel_exporter){cap_export, cap_flush, cap_shutdown, &cap, "cap", NULL, NULL, NULL};
    CHECK(init(&d));
    CHECK(diag_count("OTEL_BSP_SCHEDULE_DELAY") == 1 && diag_count("OTEL_BSP_EXPORT_TIMEOUT") == 1);
    CHECK(diag_count("OTEL_BSP_MAX_QUEUE_SIZE") == 1 && diag_count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") == 1);
    for (int i = 0; i < 5; i++) otel_span_end(otel_span_start("b", NULL));
    CHECK(otel_force_flush(0) == OTEL_OK);
    CHECK(cap.spans == 5 && cap.timeout_ms == 30000 && cap.resource_ok && cap.flushes >= 1);
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(cap.shutdowns == 1);
    env_clear();
    /* valid BSP values apply; code beats env */
    setenv("OTEL_BSP_EXPORT_TIMEOUT", "1234", 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2", 1);
    memset(&cap, 0, sizeof cap);
    CHECK(init(&d));
    CHECK(diag_count(NULL) == 0);
    for (int i = 0; i < 7; i++) otel_span_end(otel_span_start("b", NULL));
    CHECK(otel_force_flush(0) == OTEL_OK);
    CHECK(cap.spans == 7 && cap.timeout_ms == 1234 && cap.max_batch == 2 && cap.exports >= 4);
    CHECK(otel_shutdown(0) == OTEL_OK);
    memset(&cap, 0, sizeof cap);
    d.destinations[0].export_timeout_ms = 777;
    d.destinations[0].max_export_batch = 3;
    CHECK(init(&d));
    for (int i = 0; i < 7; i++) otel_span_end(otel_span_start("b", NULL));
    CHECK(otel_force_flush(0) == OTEL_OK);
    CHECK(cap.spans == 7 && cap.timeout_ms == 777 && cap.max_batch == 3);
    CHECK(otel_shutdown(0) == OTEL_OK && cap.shutdowns == 1);
    env_clear();

    /* init twice; shutdown idempotent; calls after shutdown harmless; init again works */
    d = desc_mem();
    CHECK(init(&d));
    otel_desc d2;
    memset(&d2, 0, sizeof d2);
    d2.default_exporters = "none";
    CHECK(otel_init(&d2) == OTEL_ERR_STATE);
    CHECK(diag_count("already initialized") == 1);
    CHECK(otel_config() != NULL && otel_config()->destinations[0].exporter.export_spans != NULL);
    otel_span *live = otel_span_start("live", NULL);
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(otel_shutdown(0) == OTEL_OK);
    CHECK(otel_config() == NULL && otel_resource_get() == NULL);
    otel_span_end(live);
    otel_span *after = otel_span_start("after", NULL);
    CHECK(!otel_span_is_recording(after));
    otel_span_set_str(after, "k", "v");
    otel_span_end(after);
    CHECK(otel_span_current() == NULL && otel_tracer_get("x", "1") == NULL);
    CHECK(otel_force_flush(0) == OTEL_ERR_STATE);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_ERR_STATE);
    CHECK(nspans() == 0);
    otel_memory_exporter_destroy(&mem);
    d = desc_mem();
    CHECK(init(&d));
    otel_span_end(otel_span_start("again", NULL));
    CHECK(nspans() == 1 && span_named("again"));
    done();
}

/* ---- tracers ------------------------------------------------------------------------------------ */

static void test_tracers(void) {
    otel_desc d = desc_mem();
    d.scope_name = "my.lib";
    d.scope_version = "2.0";
    CHECK(init(&d));
    otel_tracer *t0 = otel_tracer_get(NULL, NULL);
    otel_tracer *ta = otel_tracer_get("a", "1"), *ta2 = otel_tracer_get("a", "1"), *tb = otel_tracer_get("a", NULL);
    CHECK(t0 && ta && ta == ta2 && tb && tb != ta && t0 != ta);
    otel_span_end(otel_span_start("default", NULL));
    otel_span_end(otel_span_start("in-a", &(otel_span_desc){.tracer = ta}));
    otel_span_end(otel_span_start("in-b", &(otel_span_desc){.tracer = tb}));
    const otel_span_data *s;
    CHECK((s = span_named("default")) && s->scope && str_is(s->scope->name, "my.lib") && str_is(s->scope->version, "2.0"));
    CHECK((s = span_named("in-a")) && s->scope && str_is(s->scope->name, "a") && str_is(s->scope->version, "1"));
    CHECK((s = span_named("in-b")) && s->scope && str_is(s->scope->name, "a") && str_is(s->scope->version, ""));
    done();
}

int main(void) {
    env_clear();
    test_ids();
    test_active_stack();
    test_explicit_parent();
    test_threads();
    test_kind_time_status();
    test_attributes();
    test_set_attrs_same();
    test_start_fast_same();
    test_limits();
    test_storage();
    test_long_names();
    test_long_tracestate();
    test_utf8();
    test_misuse();
    test_disabled();
    test_samplers();
    test_unsampled_paths();
    test_generation_wrap();
    test_outlive_instance();
    test_sampler_env();
    test_resource();
    test_config();
    test_tracers();
    return TEST_DONE();
}
