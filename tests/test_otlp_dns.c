/* test_otlp_dns.c - name lookups keep the export deadline and shutdown's. Lookups of the
   names below are made slow by a stand-in for getaddrinfo (OTEL_OTLP_GETADDRINFO; with
   libcurl, tests/test_otlp_dns_curl.c, the same function replaces libc's getaddrinfo), so
   nothing here needs DNS or the network: every connection goes to 127.0.0.1.
       slow.test      answers 127.0.0.1 after g_delay_ms
       hang.test      answers 127.0.0.1 only once the test releases it, at the end
       nxdomain.test  fails (EAI_NONAME) after g_delay_ms
   Checked: a hung lookup ends the export at its timeout and counts as a connection
   failure; the next export waits for the same lookup instead of starting another; cancel
   and otel_shutdown end the wait at once (shutdown returns OK, no worker abandoned); a
   forked child does not wait for its parent's lookup; a slow
   lookup inside the deadline delivers end to end and is reused for a reconnect; address
   literals and "localhost" start no lookup; a failed lookup is retried by the normal rules;
   without a thread the lookup runs synchronously, with a warning; lookups abandoned by
   exporters that are gone free everything when they end (allocation count, ASan/LSan). */
/* tsan */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* ---- allocation count (OTEL_MALLOC/OTEL_FREE): what is live at the end ------------- */

static atomic_long g_live;
static void *test_malloc(size_t n) {
    void *p = malloc(n);
    if (p) atomic_fetch_add(&g_live, 1);
    return p;
}
static void test_free(void *p) {
    if (p) atomic_fetch_sub(&g_live, 1);
    free(p);
}
#define OTEL_MALLOC(size, user) test_malloc(size)
#define OTEL_FREE(ptr, user) test_free(ptr)

/* ---- the stand-in resolver ------------------------------------------------------------ */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_calls;       /* lookups of *.test names started */
static int g_returned;    /* ... and finished */
static int g_off_thread;  /* ... run on a thread other than main's */
static int g_delay_ms;
static int g_nx_slow_ms;  /* when set: nxdomain.test fails at once the first time, after this later */
static int g_nx_calls;
static bool g_release;    /* hang.test may answer */
static pthread_t g_main;

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
static gai_fn real_gai(void);

static void sleep_ms(int ms) {
    struct timespec t;
    t.tv_sec = ms / 1000;
    t.tv_nsec = (long)(ms % 1000) * 1000000;
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

static int test_gai(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
    struct addrinfo h;
    int rc, delay;
    bool hang = !strcmp(node, "hang.test"), fail = !strcmp(node, "nxdomain.test");
    pthread_mutex_lock(&g_mu);
    g_calls++;
    if (!pthread_equal(pthread_self(), g_main)) g_off_thread++;
    delay = g_delay_ms;
    if (fail && g_nx_slow_ms && g_nx_calls++ > 0) delay = g_nx_slow_ms;
    pthread_cond_broadcast(&g_cv);
    if (hang)
        while (!g_release) pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    if (!hang) sleep_ms(delay); /* a slow DNS server */
    if (fail) {
        rc = EAI_NONAME;
    } else {
        h = *hints;
        h.ai_flags |= AI_NUMERICHOST;
        rc = real_gai()("127.0.0.1", service, &h, res);
    }
    pthread_mutex_lock(&g_mu);
    g_returned++;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static bool is_test_name(const char *node) {
    size_t n = node ? strlen(node) : 0;
    return n > 5 && !strcmp(node + n - 5, ".test");
}

#ifdef OTEL_USE_CURL
/* libcurl's resolver thread calls libc's getaddrinfo: this definition replaces it in the
   whole process (the *.test names only; the rest goes to libc's). */
static gai_fn real_gai(void) {
    static gai_fn f;
    if (!f) f = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    return f;
}
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
    if (is_test_name(node)) return test_gai(node, service, hints, res);
    return real_gai()(node, service, hints, res);
}
#else
static atomic_int g_fail_threads; /* OTEL__OTLP_PTHREAD_CREATE fails */
static gai_fn real_gai(void) { return getaddrinfo; }
static int test_gai_checked(const char *node, const char *service, const struct addrinfo *hints,
                            struct addrinfo **res) {
    return is_test_name(node) ? test_gai(node, service, hints, res) : real_gai()(node, service, hints, res);
}
static int test_thread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg) {
    if (atomic_load(&g_fail_threads)) return EAGAIN;
    return pthread_create(t, a, fn, arg);
}
#define OTEL_OTLP_GETADDRINFO test_gai_checked
#define OTEL__OTLP_PTHREAD_CREATE test_thread_create
#endif

#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"
#include "otlp_test_server.h"
#include "test.h"

#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif
#ifndef TEST_TSAN
#define TEST_TSAN 0
#endif

#ifdef OTEL_USE_CURL
#define TRANSPORT "curl"
#else
#define TRANSPORT "builtin"
#endif

/* ---- helpers ----------------------------------------------------------------------- */

static otel_span_data g_span;
static const otel_span_data *g_ptr = &g_span;

static otel_span_batch one_span(void) {
    otel_span_batch b;
    memset(&g_span, 0, sizeof g_span);
    memset(g_span.trace_id, 0xab, 16);
    memset(g_span.span_id, 1, 8);
    g_span.trace_flags = 1;
    g_span.start_time_ns = 1000;
    g_span.end_time_ns = 2000;
    g_span.name.ptr = "op";
    g_span.name.len = 2;
    memset(&b, 0, sizeof b);
    b.spans = &g_ptr;
    b.count = 1;
    return b;
}

static int calls(void) {
    int n;
    pthread_mutex_lock(&g_mu);
    n = g_calls;
    pthread_mutex_unlock(&g_mu);
    return n;
}
static int off_thread(void) {
    int n;
    pthread_mutex_lock(&g_mu);
    n = g_off_thread;
    pthread_mutex_unlock(&g_mu);
    return n;
}
/* Waits until `n` lookups have started; false after timeout_ms. */
static bool wait_calls(int n, int64_t timeout_ms) {
    int64_t end = ts_ms() + timeout_ms;
    bool ok;
    pthread_mutex_lock(&g_mu);
    while (g_calls < n && ts_ms() < end) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 20 * 1000000;
        if (t.tv_nsec >= 1000000000) { t.tv_sec++; t.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&g_cv, &g_mu, &t);
    }
    ok = g_calls >= n;
    pthread_mutex_unlock(&g_mu);
    return ok;
}

static void exporter_desc(otel_otlp_desc *d, char *url, size_t cap, const char *host, int port, uint32_t timeout_ms) {
    memset(d, 0, sizeof *d);
    snprintf(url, cap, "http://%s:%d", host, port);
    d->endpoint = url;
    d->timeout_ms = timeout_ms;
    d->retry_initial_ms = 50;
    d->retry_max_ms = 100;
}

static otel_otlp_stats stats_of(const otel_exporter *x) {
    otel_otlp_stats st;
    otel_otlp_exporter_stats(x, &st);
    return st;
}

static char g_diag[4096];
static void diag(otel_log_level level, const char *msg, void *user) {
    size_t n;
    (void)level;
    (void)user;
    pthread_mutex_lock(&g_mu);
    n = strlen(g_diag);
    snprintf(g_diag + n, sizeof g_diag - n, "%s\n", msg);
    pthread_mutex_unlock(&g_mu);
}
static bool diag_has(const char *needle) {
    bool r;
    pthread_mutex_lock(&g_mu);
    r = strstr(g_diag, needle) != NULL;
    pthread_mutex_unlock(&g_mu);
    return r;
}
static void diag_clear(void) {
    pthread_mutex_lock(&g_mu);
    g_diag[0] = 0;
    pthread_mutex_unlock(&g_mu);
}

/* A process-wide otel_init, so the exporters' messages reach diag(). */
static otel_exporter g_mem;
static void init_for_diag(void) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    CHECK(otel_memory_exporter_create(0, &g_mem) == OTEL_OK);
    d.destinations[0].exporter = g_mem;
    d.lock_destinations = true;
    d.diag.func = diag;
    d.log_level = OTEL_LOG_WARN;
    CHECK(otel_init(&d) == OTEL_OK);
}
static void deinit_for_diag(void) {
    CHECK(otel_shutdown(1000) == OTEL_OK);
    otel_memory_exporter_destroy(&g_mem);
}

/* ---- tests ------------------------------------------------------------------------------ */

#ifndef OTEL_USE_CURL
static void test_numeric_hosts(void) {
    /* address literals and "localhost" are never looked up: no thread, no hook call */
    otel__otlp_addrs a;
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = one_span();
    char url[64];
    int before = calls();
    CHECK(otel__otlp_numeric("127.0.0.1", "4318", &a) && a.n == 1 && a.a[0].family == AF_INET);
    CHECK(otel__otlp_numeric("::1", "4318", &a) && a.n == 1 && a.a[0].family == AF_INET6);
    CHECK(otel__otlp_numeric("localhost", "4318", &a) && a.n == 2 && a.a[0].family == AF_INET6 &&
          a.a[1].family == AF_INET);
    CHECK(otel__otlp_numeric("LocalHost", "4318", &a) && a.n == 2);
    CHECK(!otel__otlp_numeric("slow.test", "4318", &a));
    CHECK(!otel__otlp_numeric("127.0.0.1.test", "4318", &a));
    CHECK(calls() == before);
    CHECK(ts_start(&s, true, 20000));
    exporter_desc(&d, url, sizeof url, "127.0.0.1", s.port, 5000);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 1);
    CHECK(calls() == before); /* the common case costs no thread */
    x.shutdown(1000, x.user);
    ts_stop(&s);
}
#endif

static void test_slow_lookup_in_time(void) {
    /* a lookup that takes 300 ms of a 5 s budget: delivered, with the name in Host */
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = one_span();
    char url[64], host[64];
    int before = calls(), before_off = off_thread();
    int64_t t0, took;
    CHECK(ts_start(&s, true, 20000));
    TS_SET(&s, dflt.close_after = true); /* every export needs a new connection */
    pthread_mutex_lock(&g_mu);
    g_delay_ms = 300;
    pthread_mutex_unlock(&g_mu);
    exporter_desc(&d, url, sizeof url, "slow.test", s.port, 5000);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    t0 = ts_ms();
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    took = ts_ms() - t0;
    printf("export after a 300 ms lookup took %lld ms\n", (long long)took);
    CHECK(took >= 250);
    CHECK(ts_requests(&s) == 1);
    snprintf(host, sizeof host, "\r\nHost: slow.test:%d\r\n", s.port);
    CHECK(strcasestr(ts_req(&s, 0)->head, host) != NULL);
    CHECK(calls() == before + 1);
    CHECK(off_thread() == before_off + 1); /* on the lookup thread (curl's or ours) */
    /* the server closed the connection: the next export connects again */
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(ts_requests(&s) == 2 && ts_connections(&s) == 2);
    CHECK(calls() == before + 1); /* the address was reused, not looked up again */
    CHECK(stats_of(&x).connect_failures == 0);
    x.shutdown(1000, x.user);
    pthread_mutex_lock(&g_mu);
    g_delay_ms = 0;
    pthread_mutex_unlock(&g_mu);
    ts_stop(&s);
}

static void test_hung_lookup_keeps_deadline(void) {
    /* a lookup that never answers: the export ends at its 500 ms timeout, counted as a
       connection failure and reported; the next export waits for the same lookup */
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = one_span();
    char url[64];
    int before = calls(), i;
    int64_t t0, took;
    diag_clear();
    exporter_desc(&d, url, sizeof url, "hang.test", 9, 500); /* never connected to */
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    for (i = 0; i < 2; i++) {
        t0 = ts_ms();
        CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
        took = ts_ms() - t0;
        printf("export %d with a hung lookup, timeout 500 ms: %lld ms\n", i + 1, (long long)took);
        CHECK(took >= 400 && took < 2000);
    }
    CHECK(diag_has("hang.test"));
#ifndef OTEL_USE_CURL
    CHECK(calls() == before + 1); /* one lookup thread per exporter, not one per export */
    CHECK(stats_of(&x).connect_failures == 2);
    CHECK(diag_has("no answer in time"));
#else
    CHECK(calls() >= before + 1);
    CHECK(diag_has("timed out") || diag_has("Timeout"));
#endif
    CHECK(stats_of(&x).spans_failed == 2);
#if !defined(OTEL_USE_CURL) && !TEST_TSAN /* TSan: no new threads after a threaded fork */
    /* a forked child does not wait for the parent's lookup (its thread is not in the
       child): it starts its own, and keeps the deadline too */
    {
        pid_t pid = fork();
        int status = 0;
        if (pid == 0) {
            int64_t c0 = ts_ms();
            bool ok = x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE && ts_ms() - c0 < 2000 &&
                      calls() == before + 2 && stats_of(&x).connect_failures == 3;
            _exit(ok ? 0 : 1);
        }
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(calls() == before + 1); /* the parent's count: the child's lookup was its own */
    }
#endif
    t0 = ts_ms();
    x.shutdown(100, x.user); /* the lookup thread goes on alone (released at the end) */
    CHECK(ts_ms() - t0 < 2000); /* not the hung lookup's wait (until the end of the test) */
}

typedef struct export_job {
    otel_exporter *x;
    otel_export_result r;
    int64_t end_ms;
} export_job;
static void *export_thread(void *arg) {
    export_job *j = (export_job *)arg;
    otel_span_batch b = one_span();
    j->r = j->x->export_spans(&b, j->x->user);
    j->end_ms = ts_ms();
    return NULL;
}

static void test_cancel_during_lookup(void) {
    /* otel_otlp_exporter_cancel ends a lookup wait at once (timeout 10 s) */
    otel_otlp_desc d;
    otel_exporter x;
    export_job j;
    pthread_t th;
    char url[64];
    int before = calls();
    int64_t t0;
    exporter_desc(&d, url, sizeof url, "hang.test", 9, 10000);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    memset(&j, 0, sizeof j);
    j.x = &x;
    CHECK(pthread_create(&th, NULL, export_thread, &j) == 0);
    CHECK(wait_calls(before + 1, 5000)); /* the lookup has started */
    t0 = ts_ms();
    otel_otlp_exporter_cancel(&x);
    pthread_join(th, NULL);
    printf("export returned %lld ms after cancel, during a hung lookup\n", (long long)(j.end_ms - t0));
    CHECK(j.r == OTEL_EXPORT_FAILURE);
    CHECK(j.end_ms - t0 < 3000); /* not the hung lookup's wait, nor the 10 s timeout */
    x.shutdown(100, x.user);
}

static void test_shutdown_during_lookup(void) {
    /* otel_shutdown(500) while the destination's export waits for a hung lookup: returns
       by its deadline, and OK (the worker stopped; none abandoned) */
    otel_otlp_desc od;
    otel_exporter x;
    otel_desc d;
    char url[64];
    int before = calls(), i;
    int64_t t0, took;
    otel_result rc;
    diag_clear();
    exporter_desc(&od, url, sizeof url, "hang.test", 9, 10000);
    CHECK(otel_otlp_exporter_create(&od, &x) == OTEL_OK);
    memset(&d, 0, sizeof d);
    d.service_name = "dns-test";
    d.destinations[0].exporter = x;
    d.destinations[0].schedule_delay_ms = 20;
    d.lock_destinations = true;
    d.diag.func = diag;
    CHECK(otel_init(&d) == OTEL_OK);
    for (i = 0; i < 10; i++) otel_span_end(otel_span_start("work", NULL));
    CHECK(wait_calls(before + 1, 5000)); /* the worker is in the lookup */
    t0 = ts_ms();
    rc = otel_shutdown(500);
    took = ts_ms() - t0;
    printf("shutdown(500) during a hung lookup took %lld ms: %s\n", (long long)took, otel_result_str(rc));
    CHECK(took < 2000);
    CHECK(rc == OTEL_OK);
    CHECK(!diag_has("abandoning"));
}

#ifndef OTEL_USE_CURL
static void test_failed_lookup_retried(void) {
    /* a lookup that fails is a connection failure: retried with backoff until the timeout */
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = one_span();
    char url[64];
    int before = calls(), n;
    int64_t t0, took;
    diag_clear(); /* answers at once, so the deadline falls in a backoff wait, not a lookup */
    exporter_desc(&d, url, sizeof url, "nxdomain.test", 9, 1500);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    t0 = ts_ms();
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
    took = ts_ms() - t0;
    n = calls() - before;
    printf("failing lookups: %d in %lld ms\n", n, (long long)took);
    CHECK(n >= 2 && took < 3000);
    CHECK(stats_of(&x).connect_failures == (uint64_t)n);
    CHECK(stats_of(&x).retries >= 1);
    CHECK(diag_has("cannot resolve nxdomain.test"));
    x.shutdown(100, x.user);
}

static void test_failed_lookup_then_deadline(void) {
    /* a failed lookup, then a slow one that the deadline cuts short: the error names both,
       so the user learns the name does not resolve, not only that time ran out */
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = one_span();
    char url[64];
    int64_t t0, took;
    diag_clear();
    pthread_mutex_lock(&g_mu);
    g_nx_slow_ms = 2000; /* the first lookup fails at once; the next (after a 50-100 ms backoff)
                            answers after 2 s, past the 1500 ms deadline */
    g_nx_calls = 0;
    pthread_mutex_unlock(&g_mu);
    exporter_desc(&d, url, sizeof url, "nxdomain.test", 9, 1500);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    t0 = ts_ms();
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_FAILURE);
    took = ts_ms() - t0;
    printf("failed lookup, then the deadline in the next lookup: %lld ms\n", (long long)took);
    CHECK(took >= 1400 && took < 3000);
    CHECK(diag_has("no answer in time"));
    CHECK(diag_has("the try before: cannot resolve nxdomain.test"));
    x.shutdown(100, x.user); /* the 2 s lookup is left to end on its own (the last test waits) */
    pthread_mutex_lock(&g_mu);
    g_nx_slow_ms = 0;
    pthread_mutex_unlock(&g_mu);
}

static void test_no_thread(void) {
    /* no thread to be had: the lookup runs on the caller, with a warning */
    test_server s;
    otel_otlp_desc d;
    otel_exporter x;
    otel_span_batch b = one_span();
    char url[64];
    int before = calls(), before_off = off_thread();
    diag_clear();
    CHECK(ts_start(&s, true, 20000));
    atomic_store(&g_fail_threads, 1);
    exporter_desc(&d, url, sizeof url, "slow.test", s.port, 5000);
    CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
    CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
    CHECK(calls() == before + 1 && off_thread() == before_off);
    CHECK(diag_has("cannot start a lookup thread"));
    atomic_store(&g_fail_threads, 0);
    x.shutdown(100, x.user);
    ts_stop(&s);
}
#endif

static void test_abandoned_lookups_clean_up(long live_at_start) {
    /* the exporters are gone; their lookups finish now and free what they hold */
    int64_t end;
    bool all;
    pthread_mutex_lock(&g_mu);
    g_release = true;
    pthread_cond_broadcast(&g_cv);
    end = ts_ms() + 5000;
    while (g_returned < g_calls && ts_ms() < end) {
        pthread_mutex_unlock(&g_mu);
        sleep_ms(5);
        pthread_mutex_lock(&g_mu);
    }
    all = g_returned == g_calls;
    pthread_mutex_unlock(&g_mu);
    CHECK(all);
    end = ts_ms() + 5000; /* the threads free their requests just after the lookup returns */
    while (atomic_load(&g_live) != live_at_start && ts_ms() < end) sleep_ms(5);
    printf("allocations live: %ld at start, %ld at the end\n", live_at_start, (long)atomic_load(&g_live));
#ifndef OTEL_USE_CURL
    CHECK(atomic_load(&g_live) == live_at_start);
#else
    sleep_ms(200); /* libcurl's resolver threads free their data (ASan's leak check looks) */
#endif
}

int main(void) {
    long live_at_start = atomic_load(&g_live);
    g_main = pthread_self();
    (void)ts_listen;
    printf("transport: %s\n", TRANSPORT);
    init_for_diag();
#ifndef OTEL_USE_CURL
    test_numeric_hosts();
#endif
    test_slow_lookup_in_time();
    test_hung_lookup_keeps_deadline();
    test_cancel_during_lookup();
#ifndef OTEL_USE_CURL
    test_failed_lookup_retried();
    test_failed_lookup_then_deadline();
    test_no_thread();
#endif
    deinit_for_diag();
    test_shutdown_during_lookup();
    test_abandoned_lookups_clean_up(live_at_start);
    return TEST_DONE();
}
