/* test_pipeline.c - the batch pipeline: per-thread rings, the pipeline thread, one worker per
   destination. Exactly-once delivery, exact drop accounting, isolation of a slow destination
   (with span-end latency percentiles), deadlines of force_flush and shutdown with a hung
   exporter, threads that exit with spans in their ring, SIMPLE beside BATCH, fork, exit()
   without shutdown, batch triggers, stats and the shutdown drop summary.
   Producers at full speed may overflow their rings (more busy threads than cores starve
   the pipeline thread): those runs check the accounting and at-most-once; the exactly-once
   runs keep the rings' backlog bounded (rings_backlog) so that nothing may be lost.
   TEST_ONLY=<part of a test name> runs only the matching tests (development). */
/* tsan */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- sanitizer builds: fewer iterations (SANITIZED, TSAN_BUILD: test.h) ---------------- */

#ifdef TSAN_BUILD
/* The fork tests start the library's threads again in the child (pthread_atfork), which
   TSan refuses by default after a multi-threaded fork. This only allows it; reports still
   halt the run. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }
#endif

#define SPANS_PER_THREAD (SANITIZED ? 50000u : 1000000u)

/* ---- small helpers ------------------------------------------------------------------------ */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t now_ms(void) { return now_ns() / 1000000u; }

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Polls `cond` every millisecond for at most `ms`. */
#define WAIT_FOR(cond, ms) \
    do { uint64_t wf__end = now_ms() + (ms); while (!(cond) && now_ms() < wf__end) sleep_us(1000); } while (0)

static struct timespec abs_in_ms(long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    return ts;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- diagnostics capture -------------------------------------------------------------------- */

#define DIAG_MAX 256
static pthread_mutex_t diag_mu = PTHREAD_MUTEX_INITIALIZER;
static char diag_msgs[DIAG_MAX][1024];
static int diag_n;

static void diag_fn(otel_log_level level, const char *msg, void *user) {
    (void)user;
    pthread_mutex_lock(&diag_mu);
    if (diag_n < DIAG_MAX) snprintf(diag_msgs[diag_n++], sizeof diag_msgs[0], "%s", msg);
    pthread_mutex_unlock(&diag_mu);
    fprintf(stderr, "  diag(%d): %s\n", (int)level, msg);
}

static void diag_reset(void) {
    pthread_mutex_lock(&diag_mu);
    diag_n = 0;
    pthread_mutex_unlock(&diag_mu);
}

/* Messages containing every one of the (up to two) substrings. */
static int diag_count(const char *a, const char *b) {
    int n = 0;
    pthread_mutex_lock(&diag_mu);
    for (int i = 0; i < diag_n; i++)
        if (strstr(diag_msgs[i], a) && (!b || strstr(diag_msgs[i], b))) n++;
    pthread_mutex_unlock(&diag_mu);
    return n;
}

static otel_diag the_diag = {diag_fn, NULL};

/* ---- a counting exporter ----------------------------------------------------------------------
   Records every span's start time (the tests put a unique key there) and span id into
   preallocated arrays; can sleep per batch, block until released, or fail. */

#define MAX_TS 4096
typedef struct cnt {
    const char *name;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t *keys, *ids;
    size_t cap, n;          /* spans recorded in keys/ids (at most cap) */
    uint64_t spans, batches; /* every span and batch seen */
    uint64_t flagged;       /* spans whose key has FLAG_BIT */
    uint64_t named_parent, named_child;
    uint64_t ts[MAX_TS];    /* monotonic ns at each batch */
    size_t nts;
    size_t max_batch;
    int sleep_ms;           /* per batch, cut short by cnt_release */
    int gate;               /* block in export until cnt_release */
    int fail;               /* return OTEL_EXPORT_FAILURE */
    int released;
    int in_export;          /* inside a blocking export */
    uint64_t enter_ns, leave_ns; /* of the first sleeping/blocking export */
    int flushes, shutdowns, bad_calls;
    pthread_t last_thread;
} cnt;

#define FLAG_BIT (1ull << 62)

static void cnt_init(cnt *c, const char *name, size_t cap) {
    memset(c, 0, sizeof *c);
    c->name = name;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->cap = cap;
    if (cap) {
        c->keys = (uint64_t *)malloc(cap * sizeof(uint64_t));
        c->ids = (uint64_t *)malloc(cap * sizeof(uint64_t));
    }
}

/* Only for a cnt no library thread can call any more. */
static void cnt_free(cnt *c) {
    free(c->keys);
    free(c->ids);
    c->keys = c->ids = NULL;
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static otel_export_result cnt_export(const otel_span_batch *b, void *user) {
    cnt *c = (cnt *)user;
    pthread_mutex_lock(&c->mu);
    if (c->shutdowns) c->bad_calls++;
    c->last_thread = pthread_self();
    for (size_t i = 0; i < b->count; i++) {
        const otel_span_data *s = b->spans[i];
        uint64_t id;
        memcpy(&id, s->span_id, 8);
        if (c->n < c->cap) {
            c->keys[c->n] = s->start_time_ns;
            c->ids[c->n] = id;
            c->n++;
        }
        if (s->start_time_ns & FLAG_BIT) c->flagged++;
        if (s->name.len && s->name.ptr[0] == 'p') c->named_parent++;
        if (s->name.len && s->name.ptr[0] == 'c') c->named_child++;
    }
    c->spans += b->count;
    c->batches++;
    if (b->count > c->max_batch) c->max_batch = b->count;
    if (c->nts < MAX_TS) c->ts[c->nts++] = now_ns();
    if ((c->sleep_ms || c->gate) && !c->released) {
        c->in_export = 1;
        if (!c->enter_ns) c->enter_ns = now_ns();
        if (c->gate) {
            while (!c->released) pthread_cond_wait(&c->cv, &c->mu);
        } else {
            struct timespec ts = abs_in_ms(c->sleep_ms);
            while (!c->released && pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT) {}
        }
        if (!c->leave_ns) c->leave_ns = now_ns();
        c->in_export = 0;
    }
    int fail = c->fail;
    pthread_mutex_unlock(&c->mu);
    return fail ? OTEL_EXPORT_FAILURE : OTEL_EXPORT_SUCCESS;
}

static otel_result cnt_flush(uint32_t timeout_ms, void *user) {
    cnt *c = (cnt *)user;
    (void)timeout_ms;
    pthread_mutex_lock(&c->mu);
    c->flushes++;
    pthread_mutex_unlock(&c->mu);
    return OTEL_OK;
}

static void cnt_shutdown(uint32_t timeout_ms, void *user) {
    cnt *c = (cnt *)user;
    (void)timeout_ms;
    pthread_mutex_lock(&c->mu);
    c->shutdowns++;
    pthread_mutex_unlock(&c->mu);
}

static otel_exporter cnt_exporter(cnt *c) {
    otel_exporter e;
    memset(&e, 0, sizeof e);
    e.export_spans = cnt_export;
    e.force_flush = cnt_flush;
    e.shutdown = cnt_shutdown;
    e.user = c;
    e.name = c->name;
    return e;
}

static void cnt_release(cnt *c) {
    pthread_mutex_lock(&c->mu);
    c->released = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Reads one field under the lock. */
#define CNT_GET(c, field) cnt_get_u64((c), offsetof(cnt, field), sizeof(((cnt *)0)->field))
static uint64_t cnt_get_u64(cnt *c, size_t off, size_t size) {
    uint64_t v = 0;
    pthread_mutex_lock(&c->mu);
    if (size == sizeof(uint64_t)) memcpy(&v, (char *)c + off, 8);
    else if (size == sizeof(int)) { int i; memcpy(&i, (char *)c + off, sizeof i); v = (uint64_t)i; }
    else if (size == sizeof(size_t)) { size_t z; memcpy(&z, (char *)c + off, sizeof z); v = z; }
    pthread_mutex_unlock(&c->mu);
    return v;
}

/* Every key of `nthreads` x `per` (key = (t+1) << 32 | i+1, plus `flag`) arrived exactly
   once (at most once with `lossy`), nothing else arrived, and the span ids are all distinct. */
static int cnt_check_keys(cnt *c, unsigned nthreads, size_t per, uint64_t flag, bool lossy) {
    size_t total = (size_t)nthreads * per, bad = 0;
    pthread_mutex_lock(&c->mu);
    unsigned char *seen = (unsigned char *)calloc(total ? total : 1, 1);
    if (c->spans != c->n || (!lossy && c->n != total)) bad++;
    for (size_t i = 0; i < c->n && seen; i++) {
        uint64_t k = c->keys[i] & ~flag;
        uint64_t t = (k >> 32) - 1, j = (k & 0xffffffffu) - 1;
        if ((c->keys[i] & flag) != flag || t >= nthreads || j >= per) { bad++; continue; }
        if (seen[t * per + j]++) bad++;
    }
    for (size_t i = 0; i < total && seen; i++) if (seen[i] > 1 || (!lossy && seen[i] != 1)) bad++;
    free(seen);
    uint64_t *ids = (uint64_t *)malloc((c->n ? c->n : 1) * sizeof(uint64_t));
    if (ids) {
        memcpy(ids, c->ids, c->n * sizeof(uint64_t));
        qsort(ids, c->n, sizeof(uint64_t), cmp_u64);
        for (size_t i = 1; i < c->n; i++) if (ids[i] == ids[i - 1]) bad++;
        free(ids);
    }
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    if (bad) fprintf(stderr, "  %s: %zu problems (received %zu, expected %zu)\n", c->name, bad, n, total);
    return bad == 0;
}

static int cnt_exactly_once(cnt *c, unsigned nthreads, size_t per, uint64_t flag) {
    return cnt_check_keys(c, nthreads, per, flag, false);
}

/* ---- producers ------------------------------------------------------------------------------ */

typedef struct prod {
    unsigned t;       /* key stream */
    size_t n;         /* spans */
    uint64_t flag;    /* or-ed into every key */
    const char *name;
    pthread_t th;
    int paced;        /* keep the spans still in the rings below PACE_BACKLOG */
} prod;

static void end_spans(unsigned t, size_t from, size_t n, uint64_t flag, const char *name) {
    for (size_t i = from; i < from + n; i++) {
        otel_span_desc d;
        memset(&d, 0, sizeof d);
        d.start_time_ns = ((uint64_t)(t + 1) << 32 | (uint64_t)(i + 1)) | flag;
        otel_span *s = otel_span_start(name ? name : "op", &d);
        otel_span_end(s);
    }
}

/* Spans ended but not yet taken by the pipeline (all threads): ended - ring drops - what
   destination 0 has exported, dropped, failed or queued. Counts a batch being exported as
   still in the rings, so it never underestimates. */
#define PACE_BACKLOG 2000u
/* Spans that still hold ring memory (test_backlog). */
static uint64_t rings_backlog(void) {
    otel_stats st;
    if (otel_stats_get(&st) != OTEL_OK) return 0;
    return test_backlog(st.spans_ended, st.spans_dropped, st.destinations, st.destination_count);
}

static void *prod_main(void *arg) {
    prod *p = (prod *)arg;
    size_t step = p->paced ? 500 : p->n;
    for (size_t i = 0; i < p->n; i += step) {
        end_spans(p->t, i, p->n - i < step ? p->n - i : step, p->flag, p->name);
        while (p->paced && rings_backlog() > PACE_BACKLOG) sleep_us(50);
    }
    return NULL;
}

static otel_destination_desc dest_of(cnt *c, uint32_t queue, uint32_t batch, uint32_t delay) {
    otel_destination_desc d;
    memset(&d, 0, sizeof d);
    d.exporter = cnt_exporter(c);
    d.max_queue_size = queue;
    d.max_export_batch = batch;
    d.schedule_delay_ms = delay;
    return d;
}

static otel_desc base_desc(void) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    d.service_name = "test_pipeline";
    d.diag = the_diag;
    d.lock_destinations = true;
    d.sampler = OTEL_SAMPLER_ALWAYS_ON;
    return d;
}

static const otel_destination_stats *dest_stats(const otel_stats *st, const char *name) {
    for (uint32_t i = 0; i < st->destination_count; i++)
        if (strcmp(st->destinations[i].name, name) == 0) return &st->destinations[i];
    static otel_destination_stats none;
    return &none;
}

/* ---- exactly once ---------------------------------------------------------------------------- */

/* Full speed (paced = 0): whatever the rings drop is counted, the rest arrives exactly once.
   Paced: the producers pause briefly now and then, so nothing may be lost. Returns
   spans_dropped of the run. */
static uint64_t run_exactly_once(unsigned nthreads, size_t per, int paced) {
    static cnt a, b;
    size_t total = (size_t)nthreads * per;
    cnt_init(&a, "mem-a", total);
    cnt_init(&b, "mem-b", total);
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&a, 1u << 20, 0, 100);
    d.destinations[1] = dest_of(&b, 1u << 20, 0, 100);
    CHECK(otel_init(&d) == OTEL_OK);
    prod p[8];
    memset(p, 0, sizeof p);
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < nthreads; i++) {
        p[i].t = i;
        p[i].n = per;
        p[i].name = "op";
        p[i].paced = paced;
        CHECK(pthread_create(&p[i].th, NULL, prod_main, &p[i]) == 0);
    }
    for (unsigned i = 0; i < nthreads; i++) pthread_join(p[i].th, NULL);
    uint64_t t1 = now_ns();
    CHECK(otel_force_flush(60000) == OTEL_OK);
    uint64_t t2 = now_ns();
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    const otel_destination_stats *sa = dest_stats(&st, "mem-a"), *sb = dest_stats(&st, "mem-b");
    printf("exactly-once: %u threads x %zu spans%s, ring_bytes %u: %.1f s, flush %.1f ms, "
           "ring drops %llu (%.1f%%), queue drops %llu/%llu\n",
           nthreads, per, paced ? " (paced)" : " (full speed)", (unsigned)otel_config()->ring_bytes,
           (double)(t1 - t0) / 1e9, (double)(t2 - t1) / 1e6, (unsigned long long)st.spans_dropped,
           100.0 * (double)st.spans_dropped / (double)total, (unsigned long long)sa->dropped,
           (unsigned long long)sb->dropped);
    CHECK(st.spans_ended == total);
    CHECK(sa->failed == 0 && sb->failed == 0);
    CHECK(sa->dropped == 0 && sb->dropped == 0);
    /* whatever happened, the counts add up and nothing arrived twice */
    CHECK(sa->exported + sa->dropped == total - st.spans_dropped);
    CHECK(sb->exported + sb->dropped == total - st.spans_dropped);
    CHECK(CNT_GET(&a, spans) == sa->exported && CNT_GET(&b, spans) == sb->exported);
    if (paced) CHECK(st.spans_dropped == 0);
    CHECK(cnt_check_keys(&a, nthreads, per, 0, !paced));
    CHECK(cnt_check_keys(&b, nthreads, per, 0, !paced));
    CHECK(otel_shutdown(10000) == OTEL_OK);
    CHECK(CNT_GET(&a, shutdowns) == 1 && CNT_GET(&b, shutdowns) == 1);
    uint64_t dropped = st.spans_dropped;
    cnt_free(&a);
    cnt_free(&b);
    return dropped;
}

static void test_exactly_once(void) {
    uint64_t d2 = run_exactly_once(2, SPANS_PER_THREAD, 0);
    uint64_t d4 = run_exactly_once(4, SPANS_PER_THREAD, 0);
    if (d2 || d4)
        printf("NOTE: at full speed on %ld cores the default rings dropped %llu (2 threads) / %llu (4 threads) spans\n",
               sysconf(_SC_NPROCESSORS_ONLN), (unsigned long long)d2, (unsigned long long)d4);
    run_exactly_once(2, SPANS_PER_THREAD, 1);
    run_exactly_once(4, SPANS_PER_THREAD, 1);
}

/* ---- drops counted exactly --------------------------------------------------------------------- */

static void test_drops_exact(void) {
    static cnt slow, fast, bad;
    cnt_init(&slow, "slowish", 0);
    cnt_init(&fast, "fast", 0);
    cnt_init(&bad, "failing", 0);
    slow.sleep_ms = 1;
    bad.fail = 1;
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&slow, 16, 8, 0);
    d.destinations[1] = dest_of(&fast, 16, 8, 0);
    d.destinations[2] = dest_of(&bad, 16, 8, 0);
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    size_t per = SANITIZED ? 5000 : 20000;
    prod p[2];
    for (unsigned i = 0; i < 2; i++) {
        p[i].t = i;
        p[i].n = per;
        p[i].flag = 0;
        p[i].name = "op";
        CHECK(pthread_create(&p[i].th, NULL, prod_main, &p[i]) == 0);
    }
    for (unsigned i = 0; i < 2; i++) pthread_join(p[i].th, NULL);
    CHECK(otel_force_flush(30000) == OTEL_OK);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    CHECK(st.spans_ended == 2 * per && st.spans_started == 2 * per);
    uint64_t reached = st.spans_ended - st.spans_dropped;
    const char *names[3] = {"slowish", "fast", "failing"};
    cnt *cs[3] = {&slow, &fast, &bad};
    for (int i = 0; i < 3; i++) {
        const otel_destination_stats *s = dest_stats(&st, names[i]);
        printf("drops: %-8s exported %llu dropped %llu failed %llu (ring drops %llu, produced %zu)\n", names[i],
               (unsigned long long)s->exported, (unsigned long long)s->dropped, (unsigned long long)s->failed,
               (unsigned long long)st.spans_dropped, 2 * per);
        CHECK(s->exported + s->dropped + s->failed == reached);
        CHECK(s->queue_length == 0);
        CHECK(CNT_GET(cs[i], spans) == s->exported + s->failed);
        if (i == 2) CHECK(s->exported == 0 && s->failed > 0);
        else CHECK(s->failed == 0);
    }
    CHECK(dest_stats(&st, "slowish")->dropped > 0);
    CHECK(diag_count("queue full", "'slowish'") == 1); /* warned once */
    CHECK(otel_shutdown(10000) == OTEL_OK);
    CHECK(diag_count("shutdown:", "'slowish': ") == 1); /* the summary line */
    cnt_free(&slow);
    cnt_free(&fast);
    cnt_free(&bad);
}

/* ---- isolation: a slow destination holds up nobody ----------------------------------------------- */

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static cnt iso_slow; /* released at the very end of main */

static void test_isolation(void) {
    static cnt fast;
    cnt_init(&iso_slow, "slow", 0);
    cnt_init(&fast, "fast", 1u << 20);
    iso_slow.sleep_ms = 2000;
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&iso_slow, 0, 0, 50);
    d.destinations[1] = dest_of(&fast, 1u << 16, 0, 50); /* a queue for seconds: a worker stopped for 100 ms must not drop */
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    const uint64_t run_ns = 2500000000ull;
    size_t cap = 400000, n = 0;
    double *lat = (double *)malloc(cap * sizeof(double));
    uint64_t t0 = now_ns(), t_end = t0 + run_ns;
    while (now_ns() < t_end && n + 20 <= cap) {
        for (int k = 0; k < 20; k++) {
            otel_span_desc sd;
            memset(&sd, 0, sizeof sd);
            sd.start_time_ns = ((uint64_t)1 << 32) | (uint64_t)(n + 1);
            uint64_t a = now_ns();
            otel_span *s = otel_span_start("op", &sd);
            otel_span_set_int(s, "i", (int64_t)n);
            otel_span_end(s);
            lat[n++] = (double)(now_ns() - a);
        }
        sleep_us(1000);
    }
    uint64_t t1 = now_ns();
    qsort(lat, n, sizeof(double), cmp_dbl);
    double p50 = lat[n / 2], p99 = lat[(size_t)((double)n * 0.99)], p999 = lat[(size_t)((double)n * 0.999)];
    printf("isolation: %zu spans in %.2f s; span start+end latency p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.1f us\n",
           n, (double)(t1 - t0) / 1e9, p50 / 1e3, p99 / 1e3, p999 / 1e3, lat[n - 1] / 1e3);
    CHECK(p999 < 1e6);
    free(lat);
    /* the fast destination kept its schedule while the slow one slept */
    WAIT_FOR(CNT_GET(&fast, spans) == n, 5000);
    pthread_mutex_lock(&fast.mu);
    pthread_mutex_lock(&iso_slow.mu);
    uint64_t slow_in = iso_slow.enter_ns, slow_batches = iso_slow.batches;
    size_t during = 0;
    double max_gap = 0;
    for (size_t i = 0; i < fast.nts; i++) {
        if (fast.ts[i] > t1) break;
        if (slow_in && fast.ts[i] > slow_in) during++;
        if (i && fast.ts[i] > t0 + 200000000ull) {
            double gap = (double)(fast.ts[i] - fast.ts[i - 1]) / 1e6;
            if (gap > max_gap) max_gap = gap;
        }
    }
    size_t fast_batches = fast.nts;
    pthread_mutex_unlock(&iso_slow.mu);
    pthread_mutex_unlock(&fast.mu);
    printf("isolation: fast destination: %zu batches (%zu while the slow exporter slept), largest gap %.0f ms; "
           "slow destination: %llu batches\n",
           fast_batches, during, max_gap, (unsigned long long)slow_batches);
    CHECK(slow_in != 0 && slow_in < t1);
    CHECK(during >= (size_t)((t1 - slow_in) / 1000000 / 250)); /* every 50 ms; allow 5x */
    CHECK(max_gap < 1000);
    CHECK(CNT_GET(&fast, spans) == n);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    CHECK(dest_stats(&st, "fast")->dropped == 0 && dest_stats(&st, "fast")->exported == n);
    CHECK(dest_stats(&st, "slow")->exported + dest_stats(&st, "slow")->dropped +
          dest_stats(&st, "slow")->queue_length <= n);
    CHECK(st.spans_dropped == 0);
    /* shutdown with a deadline while the slow exporter still sleeps */
    uint64_t s0 = now_ms();
    otel_result r = otel_shutdown(300);
    uint64_t took = now_ms() - s0;
    printf("isolation: shutdown(300) -> %s after %llu ms\n", otel_result_str(r), (unsigned long long)took);
    CHECK(r == OTEL_ERR_TIMEOUT);
    CHECK(took < 2000);
    CHECK(CNT_GET(&fast, spans) == n);
    CHECK(CNT_GET(&fast, shutdowns) == 1); /* the healthy destination was shut down, not abandoned */
    CHECK(diag_count("abandoning", "'slow'") == 1);
    CHECK(diag_count("abandoning", "'fast'") == 0);
    cnt_free(&fast);
}

/* ---- deadlines: an exporter that never returns ------------------------------------------------------ */

static cnt hang; /* released at the very end of main */

static void test_deadlines(void) {
    static cnt ok;
    cnt_init(&hang, "hang", 0);
    cnt_init(&ok, "healthy", 1u << 16);
    hang.gate = 1;
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&hang, 0, 0, 20);
    d.destinations[1] = dest_of(&ok, 0, 0, 20);
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    end_spans(0, 0, 1000, 0, "op");
    WAIT_FOR(CNT_GET(&hang, in_export), 5000);
    CHECK(CNT_GET(&hang, in_export) == 1);
    end_spans(0, 1000, 1000, 0, "op");
    uint64_t t0 = now_ms();
    otel_result r = otel_force_flush(300);
    uint64_t took = now_ms() - t0;
    printf("deadlines: force_flush(300) -> %s after %llu ms\n", otel_result_str(r), (unsigned long long)took);
    CHECK(r == OTEL_ERR_TIMEOUT);
    CHECK(took >= 290 && took < 1500);
    CHECK(CNT_GET(&ok, spans) == 2000);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    CHECK(dest_stats(&st, "hang")->unfinished);
    CHECK(!dest_stats(&st, "healthy")->unfinished);
    CHECK(diag_count("did not finish flushing", "'hang'") >= 1);
    CHECK(diag_count("did not finish flushing", "'healthy'") == 0);
    end_spans(0, 2000, 1000, 0, "op");
    t0 = now_ms();
    r = otel_shutdown(500);
    took = now_ms() - t0;
    printf("deadlines: shutdown(500) -> %s after %llu ms\n", otel_result_str(r), (unsigned long long)took);
    CHECK(r == OTEL_ERR_TIMEOUT);
    CHECK(took < 2000);
    CHECK(CNT_GET(&ok, spans) == 3000);
    CHECK(cnt_exactly_once(&ok, 1, 3000, 0));
    CHECK(CNT_GET(&ok, shutdowns) == 1);
    CHECK(diag_count("abandoning", "'hang'") == 1);
    CHECK(diag_count("abandoning", "'healthy'") == 0);
    /* after shutdown: harmless no-ops */
    CHECK(otel_shutdown(100) == OTEL_OK);
    CHECK(otel_force_flush(100) == OTEL_ERR_STATE);
    otel_span_end(otel_span_start("after", NULL));
    cnt_free(&ok);
}

/* ---- threads that exit with spans in their ring ------------------------------------------------------ */

static void *short_thread(void *arg) {
    prod *p = (prod *)arg;
    end_spans(p->t, 0, p->n, p->flag, "op");
    return NULL; /* exits right away: its ring still holds most of these spans */
}

/* Waves of threads that end `per` spans each and exit. Before a wave starts, the test waits
   until the rings hold at most PACE_BACKLOG spans (only so that no ring can overflow when
   the pipeline gets little CPU: it does not wait for them to be empty). */
static void run_short_threads(unsigned waves, unsigned per_wave, size_t per) {
    prod *p = (prod *)calloc((size_t)waves * per_wave, sizeof(prod));
    for (unsigned w = 0; w < waves; w++) {
        while (rings_backlog() > PACE_BACKLOG) sleep_us(50);
        for (unsigned i = 0; i < per_wave; i++) {
            prod *q = &p[w * per_wave + i];
            q->t = w * per_wave + i;
            q->n = per;
            CHECK(pthread_create(&q->th, NULL, short_thread, q) == 0);
        }
        for (unsigned i = 0; i < per_wave; i++) pthread_join(p[w * per_wave + i].th, NULL);
    }
    free(p);
}

static void test_thread_exit(void) {
    static cnt a, c2;
    unsigned waves = SANITIZED ? 10 : 40, per_wave = 6;
    size_t per = 200, total = (size_t)waves * per_wave * per;
    cnt_init(&a, "a", total);
    otel_exporter mem;
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    otel_desc d = base_desc();
    d.max_threads = 8; /* exited threads must be adopted */
    d.destinations[0] = dest_of(&a, 1u << 16, 0, 10000);
    d.destinations[1].exporter = mem;
    d.destinations[1].max_queue_size = 1u << 16;
    d.destinations[1].schedule_delay_ms = 10000;
    CHECK(otel_init(&d) == OTEL_OK);
    run_short_threads(waves, per_wave, per);
    CHECK(otel_force_flush(10000) == OTEL_OK);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    if (st.spans_ended != total || st.spans_dropped != 0 || st.spans_started != total)
        fprintf(stderr, "  thread exit: started %llu ended %llu dropped %llu of %zu\n",
                (unsigned long long)st.spans_started, (unsigned long long)st.spans_ended,
                (unsigned long long)st.spans_dropped, total);
    CHECK(st.spans_ended == total && st.spans_dropped == 0);
    CHECK(cnt_exactly_once(&a, waves * per_wave, per, 0));
    CHECK(otel_memory_exporter_count(&mem) == total);
    {
        size_t m = otel_memory_exporter_count(&mem), bad = 0;
        unsigned char *seen = (unsigned char *)calloc(total, 1);
        for (size_t i = 0; i < m; i++) {
            uint64_t k = otel_memory_exporter_span(&mem, i)->start_time_ns;
            uint64_t t = (k >> 32) - 1, j = (k & 0xffffffffu) - 1;
            if (t >= waves * per_wave || j >= per || seen[t * per + j]++) bad++;
        }
        free(seen);
        CHECK(bad == 0);
    }
    CHECK(otel_shutdown(10000) == OTEL_OK);
    otel_memory_exporter_destroy(&mem);

    /* init again: new threads and this (already known) thread record into the new instance */
    cnt_init(&c2, "again", 1u << 16);
    otel_desc d2 = base_desc();
    d2.max_threads = 8;
    d2.destinations[0] = dest_of(&c2, 1u << 16, 0, 10000);
    CHECK(otel_init(&d2) == OTEL_OK);
    run_short_threads(3, 4, 100);
    end_spans(12, 0, 100, 0, "op");
    CHECK(otel_force_flush(10000) == OTEL_OK);
    CHECK(cnt_exactly_once(&c2, 13, 100, 0));
    CHECK(otel_shutdown(10000) == OTEL_OK);
    cnt_free(&a);
    cnt_free(&c2);
}

/* ---- force_flush ------------------------------------------------------------------------------------------ */

static atomic_int noise_stop;

static void *noise_main(void *arg) {
    (void)arg;
    size_t i = 0;
    while (!atomic_load(&noise_stop)) {
        end_spans(7, i, 50, 0, "noise");
        i += 50;
        sleep_us(200);
    }
    return NULL;
}

/* Reads the counters and flushes too, while the main thread flushes. */
static atomic_int side_flush_fail;
static void *side_main(void *arg) {
    (void)arg;
    int k = 0;
    while (!atomic_load(&noise_stop)) {
        otel_stats st;
        if (otel_stats_get(&st) != OTEL_OK || st.destination_count != 2) atomic_fetch_add(&side_flush_fail, 1);
        if (++k % 10 == 0 && otel_force_flush(10000) != OTEL_OK) atomic_fetch_add(&side_flush_fail, 1);
        sleep_us(500);
    }
    return NULL;
}

static void test_force_flush(void) {
    static cnt a, b;
    cnt_init(&a, "a", 0);
    cnt_init(&b, "b", 0);
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&a, 1u << 16, 0, 10000);
    d.destinations[1] = dest_of(&b, 1u << 16, 64, 10000);
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel_force_flush(1000) == OTEL_OK); /* nothing to do */
    atomic_store(&noise_stop, 0);
    pthread_t noise, side;
    atomic_store(&side_flush_fail, 0);
    CHECK(pthread_create(&noise, NULL, noise_main, NULL) == 0);
    CHECK(pthread_create(&side, NULL, side_main, NULL) == 0);
    size_t ended = 0;
    int rounds = SANITIZED ? 30 : 100, good = 0;
    unsigned seed = 12345;
    for (int r = 0; r < rounds; r++) {
        seed = seed * 1103515245u + 12345u;
        size_t k = (seed >> 16) % 300;
        end_spans(0, ended, k, FLAG_BIT, "flushed");
        ended += k;
        otel_result fr = otel_force_flush(10000);
        if (fr == OTEL_OK && CNT_GET(&a, flagged) == ended && CNT_GET(&b, flagged) == ended) good++;
        else fprintf(stderr, "  round %d: %s, a %llu b %llu of %zu\n", r, otel_result_str(fr),
                     (unsigned long long)CNT_GET(&a, flagged), (unsigned long long)CNT_GET(&b, flagged), ended);
    }
    CHECK(good == rounds);
    atomic_store(&noise_stop, 1);
    pthread_join(noise, NULL);
    pthread_join(side, NULL);
    CHECK(atomic_load(&side_flush_fail) == 0);
    CHECK(CNT_GET(&a, flushes) >= 1); /* the exporter's own force_flush is called */
    CHECK(otel_shutdown(10000) == OTEL_OK);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_ERR_STATE);
    CHECK(CNT_GET(&a, bad_calls) == 0 && CNT_GET(&b, bad_calls) == 0);
    cnt_free(&a);
    cnt_free(&b);
}

/* ---- SIMPLE beside BATCH ---------------------------------------------------------------------------------- */

static void *simple_other(void *arg) {
    cnt *s = (cnt *)arg;
    otel_span_end(otel_span_start("other", NULL));
    pthread_mutex_lock(&s->mu);
    int same = pthread_equal(s->last_thread, pthread_self());
    pthread_mutex_unlock(&s->mu);
    return same ? arg : NULL;
}

static void test_simple_and_batch(void) {
    static cnt s, b;
    cnt_init(&s, "simple", 0);
    cnt_init(&b, "batch", 0);
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&s, 0, 0, 0);
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.destinations[1] = dest_of(&b, 0, 0, 10000);
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    int sync = 0;
    for (int i = 0; i < 10; i++) {
        otel_span_end(otel_span_start("op", NULL));
        sync += CNT_GET(&s, spans) == (uint64_t)i + 1;
    }
    CHECK(sync == 10);
    pthread_mutex_lock(&s.mu);
    CHECK(pthread_equal(s.last_thread, pthread_self()));
    pthread_mutex_unlock(&s.mu);
    CHECK(CNT_GET(&b, spans) == 0); /* batch: not before its schedule or a flush */
    pthread_t th;
    void *ret = NULL;
    CHECK(pthread_create(&th, NULL, simple_other, &s) == 0);
    pthread_join(th, &ret);
    CHECK(ret == &s); /* exported on the ending thread */
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(CNT_GET(&b, spans) == 11 && CNT_GET(&s, spans) == 11);
    CHECK(CNT_GET(&s, flushes) >= 1);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    CHECK(st.destination_count == 2);
    CHECK(dest_stats(&st, "simple")->exported == 11 && dest_stats(&st, "batch")->exported == 11);
    CHECK(otel_shutdown(5000) == OTEL_OK);
    CHECK(CNT_GET(&s, shutdowns) == 1 && CNT_GET(&b, shutdowns) == 1);
    CHECK(diag_count("shutdown:", NULL) == 0); /* nothing dropped: no summary */
    cnt_free(&s);
    cnt_free(&b);
}

/* ---- fork ------------------------------------------------------------------------------------------------- */

static void test_fork(void) {
    static cnt p;
    cnt_init(&p, "fork", 0);
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&p, 0, 0, 10000);
    CHECK(otel_init(&d) == OTEL_OK);
    end_spans(0, 0, 100, 0, "parent");
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(CNT_GET(&p, named_parent) == 100);
    end_spans(0, 100, 50, 0, "parent"); /* still in the ring / queue at fork time */
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        pthread_mutex_lock(&p.mu); /* the copy of what the parent had exported */
        p.named_parent = p.named_child = p.spans = 0;
        pthread_mutex_unlock(&p.mu);
        /* from a new thread, too */
        prod q;
        memset(&q, 0, sizeof q);
        q.t = 1;
        q.n = 30;
        q.name = "child";
        int ok = pthread_create(&q.th, NULL, prod_main, &q) == 0;
        if (ok) pthread_join(q.th, NULL);
        end_spans(0, 1000, 20, 0, "child");
        otel_result fr = otel_force_flush(5000);
        otel_stats st;
        otel_stats_get(&st);
        otel_result sr = otel_shutdown(5000);
        char msg[200];
        int len = snprintf(msg, sizeof msg, "%d %d %llu %llu %llu %d", (int)fr, (int)sr,
                           (unsigned long long)CNT_GET(&p, named_child), (unsigned long long)CNT_GET(&p, named_parent),
                           (unsigned long long)st.spans_ended, ok);
        if (write(fds[1], msg, (size_t)len) != len) _exit(3);
        _exit(0);
    }
    CHECK(pid > 0);
    close(fds[1]);
    end_spans(0, 150, 40, 0, "parent"); /* the parent keeps working */
    char buf[200] = {0};
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)r;
    close(fds[0]);
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int fr = -1, sr = -1, ok = 0;
    unsigned long long child = 0, parent = 99, ended = 0;
    CHECK(sscanf(buf, "%d %d %llu %llu %llu %d", &fr, &sr, &child, &parent, &ended, &ok) == 6);
    printf("fork: child flush %d shutdown %d, exported %llu child / %llu parent spans, ended %llu\n", fr, sr, child,
           parent, ended);
    CHECK(fr == OTEL_OK && sr == OTEL_OK && ok == 1);
    CHECK(child == 50 && parent == 0);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(CNT_GET(&p, named_parent) == 190 && CNT_GET(&p, named_child) == 0);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK && st.spans_ended == 190);
    CHECK(otel_shutdown(5000) == OTEL_OK);
    cnt_free(&p);
}

/* Fork while an export is in progress: that destination is disabled in the child, the
   others work in both processes. */
static void test_fork_during_export(void) {
    static cnt g, p;
    cnt_init(&g, "gated", 0);
    cnt_init(&p, "plain", 0);
    g.gate = 1;
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&g, 0, 8, 10000);
    d.destinations[1] = dest_of(&p, 0, 0, 10000);
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    end_spans(0, 0, 8, 0, "parent");
    WAIT_FOR(CNT_GET(&g, in_export), 5000);
    CHECK(CNT_GET(&g, in_export) == 1);
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        pthread_mutex_lock(&p.mu);
        p.named_parent = p.named_child = p.spans = 0;
        pthread_mutex_unlock(&p.mu);
        end_spans(0, 1000, 20, 0, "child");
        otel_result fr = otel_force_flush(3000);
        otel_stats st;
        otel_stats_get(&st);
        unsigned long long gexp = dest_stats(&st, "gated")->exported, gfail = dest_stats(&st, "gated")->failed;
        otel_result sr = otel_shutdown(3000);
        char msg[200];
        int len = snprintf(msg, sizeof msg, "%d %d %llu %llu %llu", (int)fr, (int)sr,
                           (unsigned long long)CNT_GET(&p, named_child), gexp, gfail);
        if (write(fds[1], msg, (size_t)len) != len) _exit(3);
        _exit(0);
    }
    CHECK(pid > 0);
    close(fds[1]);
    char buf[200] = {0};
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)r;
    close(fds[0]);
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int fr = -1, sr = -1;
    unsigned long long child = 0, gexp = 99, gfail = 0;
    CHECK(sscanf(buf, "%d %d %llu %llu %llu", &fr, &sr, &child, &gexp, &gfail) == 5);
    printf("fork during export: child flush %d shutdown %d, plain got %llu child spans, gated exported %llu failed %llu\n",
           fr, sr, child, gexp, gfail);
    CHECK(fr == OTEL_OK && sr == OTEL_OK);
    CHECK(child == 20 && gexp == 0 && gfail == 20);
    /* the parent: release the gate, everything flows */
    cnt_release(&g);
    end_spans(0, 8, 12, 0, "parent");
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(CNT_GET(&g, named_parent) == 20 && CNT_GET(&p, named_parent) == 20);
    CHECK(otel_shutdown(5000) == OTEL_OK);
    cnt_free(&g);
    cnt_free(&p);
}

/* ---- exit() without shutdown ------------------------------------------------------------------------------- */

static size_t count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

static void test_exit_without_shutdown(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/exit_child.jsonl", dir);
    unlink(path);
    fflush(NULL);
    uint64_t t0 = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        otel_exporter fe;
        otel_file_desc fd = {path, OTEL_FILE_FLAT};
        if (otel_file_exporter_create(&fd, &fe) != OTEL_OK) _exit(2);
        otel_desc d = base_desc();
        d.destinations[0].exporter = fe;
        d.destinations[0].schedule_delay_ms = 10000;
        if (otel_init(&d) != OTEL_OK) _exit(3);
        for (int i = 0; i < 100; i++) otel_span_end(otel_span_start("child-op", NULL));
        exit(0); /* no shutdown: the atexit handler flushes */
    }
    CHECK(pid > 0);
    int status = -1;
    pid_t w = 0;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() - t0 < 20000) sleep_us(2000);
    uint64_t took = now_ms() - t0;
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    printf("exit without shutdown: child exited after %llu ms with status %d, %zu spans in the file\n",
           (unsigned long long)took, WIFEXITED(status) ? WEXITSTATUS(status) : -1, count_lines(path));
    CHECK(w == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(took < 5000);
    CHECK(count_lines(path) == 100);
}

/* ---- batch triggers ----------------------------------------------------------------------------------------- */

static void test_triggers(void) {
    static cnt a, b;
    cnt_init(&a, "by-size", 0);
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&a, 0, 64, 10000);
    CHECK(otel_init(&d) == OTEL_OK);
    uint64_t t0 = now_ms();
    end_spans(0, 0, 63, 0, "op");
    sleep_us(100000);
    CHECK(CNT_GET(&a, spans) == 0); /* below the batch size: waits for the delay */
    end_spans(0, 63, 1, 0, "op");
    t0 = now_ms();
    otel_stats st;
    uint64_t exported = 0;
    while (now_ms() - t0 < 2000) {
        otel_stats_get(&st);
        if ((exported = st.destinations[0].exported) == 64) break;
        sleep_us(1000);
    }
    uint64_t took = now_ms() - t0;
    printf("triggers: a full batch of 64 went out %llu ms after the 64th span (delay 10000 ms)\n",
           (unsigned long long)took);
    CHECK(exported == 64 && took < 2000);
    CHECK(CNT_GET(&a, batches) == 1 && CNT_GET(&a, max_batch) == 64);
    CHECK(otel_shutdown(5000) == OTEL_OK);

    cnt_init(&b, "by-delay", 0);
    otel_desc d2 = base_desc();
    d2.destinations[0] = dest_of(&b, 0, 0, 100);
    CHECK(otel_init(&d2) == OTEL_OK);
    t0 = now_ms();
    end_spans(0, 0, 10, 0, "op");
    WAIT_FOR(CNT_GET(&b, spans) == 10, 5000);
    took = now_ms() - t0;
    printf("triggers: 10 spans arrived %llu ms after they ended (schedule delay 100 ms)\n", (unsigned long long)took);
    CHECK(CNT_GET(&b, spans) == 10);
    CHECK(took < 3000); /* not the default 5 s */
    CHECK(otel_shutdown(5000) == OTEL_OK);
    cnt_free(&a);
    cnt_free(&b);
}

/* ---- stats and the drop summary ------------------------------------------------------------------------------ */

static void test_stats(void) {
    static cnt g, f, anon;
    cnt_init(&g, "gated-exporter-with-a-rather-long-name", 0);
    cnt_init(&f, "failing", 0);
    cnt_init(&anon, NULL, 0);
    g.gate = 1;
    f.fail = 1;
    otel_desc d = base_desc();
    d.destinations[0] = dest_of(&g, 100, 10, 10000);
    d.destinations[1] = dest_of(&f, 1000, 10, 10000);
    d.destinations[2] = dest_of(&anon, 1000, 0, 10000);
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    CHECK(st.destination_count == 3);
    const char *gname = st.destinations[0].name;
    CHECK(strlen(gname) == 31 && strncmp(gname, "gated-exporter-with-a-rather-long-name", 31) == 0);
    CHECK(strcmp(st.destinations[1].name, "failing") == 0);
    CHECK(strcmp(st.destinations[2].name, "custom") == 0);
    end_spans(0, 0, 10, 0, "op");
    WAIT_FOR(CNT_GET(&g, in_export), 5000);
    CHECK(CNT_GET(&g, in_export) == 1);
    end_spans(0, 10, 150, 0, "op");
    uint64_t t0 = now_ms();
    do {
        otel_stats_get(&st);
        if (st.destinations[0].queue_length == 100 && st.destinations[0].dropped == 50 &&
            st.destinations[1].failed == 160)
            break;
        sleep_us(1000);
    } while (now_ms() - t0 < 5000);
    CHECK(st.spans_started == 160 && st.spans_ended == 160 && st.spans_dropped == 0);
    CHECK(st.destinations[0].queue_length == 100);
    CHECK(st.destinations[0].dropped == 50);
    CHECK(st.destinations[0].exported == 0);
    CHECK(st.destinations[1].failed == 160 && st.destinations[1].exported == 0);
    CHECK(st.destinations[1].queue_length == 0);
    CHECK(st.destinations[2].queue_length == 160 && st.destinations[2].exported == 0); /* waits for its delay */
    CHECK(diag_count("queue full", "gated-exporter") == 1);
    CHECK(diag_count("exporter failed", "'failing'") == 1);
    cnt_release(&g);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(otel_stats_get(&st) == OTEL_OK);
    CHECK(st.destinations[0].exported == 110 && st.destinations[0].dropped == 50 && st.destinations[0].failed == 0);
    CHECK(st.destinations[0].queue_length == 0);
    CHECK(st.destinations[2].exported == 160 && st.destinations[2].queue_length == 0);
    CHECK(!st.destinations[0].unfinished && !st.destinations[1].unfinished);
    CHECK(otel_shutdown(5000) == OTEL_OK);
    CHECK(diag_count("shutdown:", "'gated-exporter-with-a-rather-lo': 110 exported, 50 dropped") == 1);
    CHECK(diag_count("shutdown:", "160 failed") == 1);
    cnt_free(&g);
    cnt_free(&f);
    cnt_free(&anon);
}

/* Ring-full drops: a tiny ring and a burst; whatever was dropped is counted and reported. */
static void test_ring_drops(void) {
    static cnt a;
    cnt_init(&a, "ring", 0);
    otel_desc d = base_desc();
    d.ring_bytes = 1; /* -> the minimum */
    d.destinations[0] = dest_of(&a, 1u << 16, 0, 10000);
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    size_t n = SANITIZED ? 20000 : 200000;
    end_spans(0, 0, n, 0, "op");
    CHECK(otel_force_flush(10000) == OTEL_OK);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    printf("ring drops: ring_bytes %u, %zu spans in a burst: %llu dropped in the ring\n",
           (unsigned)otel_config()->ring_bytes, n, (unsigned long long)st.spans_dropped);
    CHECK(st.spans_ended == n);
    CHECK(st.destinations[0].exported + st.destinations[0].dropped + st.spans_dropped == n);
    CHECK(CNT_GET(&a, spans) == st.destinations[0].exported);
    uint64_t dropped = st.spans_dropped;
    CHECK(otel_shutdown(5000) == OTEL_OK);
    if (dropped) {
        CHECK(diag_count("ring is full", NULL) == 1);
        char want[64];
        snprintf(want, sizeof want, "%llu", (unsigned long long)dropped);
        CHECK(diag_count("shutdown:", want) == 1);
    }
    cnt_free(&a);
}

int main(void) {
    const char *dir = getenv("TEST_TMPDIR");
    char tmpl[] = "/tmp/test_pipeline.XXXXXX";
    if (!dir || !*dir) dir = mkdtemp(tmpl);
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint64_t t0 = now_ms(), t;
    const char *only = getenv("TEST_ONLY"); /* development: run the tests whose name contains this */
#define RUN(f) ((!only || strstr(#f, only)) ? (t = now_ms(), f, printf("-- %s: %.1f s\n", #f, (double)(now_ms() - t) / 1e3)) : 0)
    RUN(test_triggers());
    RUN(test_simple_and_batch());
    RUN(test_stats());
    RUN(test_drops_exact());
    RUN(test_force_flush());
    RUN(test_thread_exit());
    RUN(test_exit_without_shutdown(dir));
    RUN(test_fork());
    RUN(test_fork_during_export());
    RUN(test_ring_drops());
    RUN(test_exactly_once());
    /* these two leave a hung destination behind */
    RUN(test_isolation());
    RUN(test_deadlines());
    /* let the abandoned exporters return and finish */
    cnt_release(&iso_slow);
    cnt_release(&hang);
    if (!only) {
        WAIT_FOR(CNT_GET(&iso_slow, shutdowns) == 1 && CNT_GET(&hang, shutdowns) == 1, 20000);
        CHECK(CNT_GET(&iso_slow, shutdowns) == 1 && CNT_GET(&hang, shutdowns) == 1);
    }
    printf("total %.1f s\n", (double)(now_ms() - t0) / 1e3);
    return TEST_DONE();
}
