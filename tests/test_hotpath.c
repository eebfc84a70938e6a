/* test_hotpath.c - the fast paths of recording (issue 3's speed work): attribute keys
   checked against a per-span key filter, one-pass copy-and-check of names and strings,
   and the calibrated TSC clock behind otel_now_ns. Every fast path must give exactly what
   the general path gives: these cases set keys that share a filter bit, mix the two paths
   on one key, and use names and values that the fast path must hand to the general one.
   Also built with ThreadSanitizer by tests/run.sh (the marker on the next line). */
/* tsan */
#define _GNU_SOURCE
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_diag.h"

static otel_exporter mem;

static bool init_mem(otel_processor proc) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    d.destinations[0].exporter = mem;
    d.destinations[0].processor = proc;
    d.destinations[0].schedule_delay_ms = 10;
    d.destinations[0].max_queue_size = 32768;
    d.span_bytes = 16384; /* room for test_copy_lengths' 41 long attributes */
    d.diag.func = diag_fn;
    diag_reset();
    return otel_init(&d) == OTEL_OK;
}

static void done(void) {
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(otel_shutdown(5000) == OTEL_OK);
    otel_memory_exporter_destroy(&mem);
}

static bool str_is(otel_str s, const char *lit) { return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0; }

static const otel_span_data *span_named(const char *name) {
    for (size_t i = 0; i < otel_memory_exporter_count(&mem); i++) {
        const otel_span_data *s = otel_memory_exporter_span(&mem, i);
        if (str_is(s->name, name)) return s;
    }
    return NULL;
}

/* How many attributes have `key`, and the last one's value. */
static int key_count(const otel_span_data *s, const char *key, otel_attr *last) {
    otel_iter it = otel_span_attrs(s);
    otel_attr a;
    int n = 0;
    while (otel_iter_attr(&it, &a))
        if (str_is(a.key, key)) {
            n++;
            if (last) *last = a;
        }
    return n;
}

static size_t attr_total(const otel_span_data *s) {
    otel_iter it = otel_span_attrs(s);
    otel_attr a;
    size_t n = 0;
    while (otel_iter_attr(&it, &a)) n++;
    return n;
}

static bool has_int(const otel_span_data *s, const char *key, int64_t v) {
    otel_attr a;
    return key_count(s, key, &a) == 1 && a.value.type == OTEL_VALUE_INT && a.value.u.i == v;
}

static bool has_str(const otel_span_data *s, const char *key, const char *v) {
    otel_attr a;
    return key_count(s, key, &a) == 1 && a.value.type == OTEL_VALUE_STRING && a.value.len == strlen(v) &&
           memcmp(a.value.u.s, v, a.value.len) == 0;
}

/* ---- attribute keys ------------------------------------------------------------------ */

/* Keys of one length ending in one byte share a filter bit: the scan must still find the
   right one, and keys that only collide must all be kept. */
static void test_filter_collisions(void) {
    CHECK(init_mem(OTEL_PROCESSOR_SIMPLE));
    otel_span *s = otel_span_start("collide", NULL);
    otel_span_set_int(s, "aa.x", 1);
    otel_span_set_int(s, "bb.x", 2); /* same length and last byte: same bit */
    otel_span_set_int(s, "cc.x", 3);
    otel_span_set_int(s, "bb.x", 20); /* a real duplicate behind a shared bit */
    otel_span_set_str(s, "aa.x", "one"); /* a string over a scalar: the general path */
    otel_span_set_int(s, "dd.x", 4);
    otel_span_end(s);
    const otel_span_data *d = span_named("collide");
    CHECK(d != NULL);
    if (d) {
        CHECK(d->attr_count == 4);
        CHECK(attr_total(d) == 4);
        CHECK(has_str(d, "aa.x", "one"));
        CHECK(has_int(d, "bb.x", 20));
        CHECK(has_int(d, "cc.x", 3));
        CHECK(has_int(d, "dd.x", 4));
        CHECK(d->dropped_attrs == 0);
    }
    done();
}

/* Keys set through the general path (the desc's attributes, otel_span_set_attr, a
   repaired key) must be seen by the fast path's duplicate check, and the other way round. */
static void test_paths_share_keys(void) {
    CHECK(init_mem(OTEL_PROCESSOR_SIMPLE));
    otel_attr at[2] = {otel_attr_int("desc.key", 1), otel_attr_str("shared", "from-desc")};
    otel_span_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.attrs = at;
    sd.attr_count = 2;
    otel_span *s = otel_span_start("mixed", &sd);
    otel_span_set_int(s, "desc.key", 2);      /* fast path over a desc attribute */
    otel_span_set_str(s, "shared", "fast");   /* fast path over a desc attribute */
    otel_attr one = otel_attr_int("via.attr", 5);
    otel_span_set_attr(s, &one);              /* general path */
    otel_span_set_int(s, "via.attr", 6);      /* fast path must find it */
    otel_span_set_int(s, "bad\xff", 7);       /* repaired key: the general path */
    otel_span_set_int(s, "bad\xff", 8);       /* the same key again: replaced, not doubled */
    otel_span_set_int(s, "plain", 9);
    otel_attr again = otel_attr_int("plain", 10);
    otel_span_set_attr(s, &again);            /* general path over a fast-path key */
    otel_span_end(s);
    const otel_span_data *d = span_named("mixed");
    CHECK(d != NULL);
    if (d) {
        CHECK(has_int(d, "desc.key", 2));
        CHECK(has_str(d, "shared", "fast"));
        CHECK(has_int(d, "via.attr", 6));
        CHECK(has_int(d, "bad\xef\xbf\xbd", 8));
        CHECK(has_int(d, "plain", 10));
        CHECK(d->attr_count == 5);
        CHECK(attr_total(d) == 5);
    }
    done();
}

/* Every value type and length class of the one-pass copy: lengths 0-40 around the word
   boundaries, non-ASCII values (repaired, not mangled), and an empty key (dropped). */
static void test_copy_lengths(void) {
    CHECK(init_mem(OTEL_PROCESSOR_SIMPLE));
    char key[64], val[64];
    otel_span *s = otel_span_start("lengths", NULL);
    for (int n = 0; n <= 40; n++) {
        snprintf(key, sizeof key, "k%0*d", n < 2 ? 1 : n - 1, n); /* a key of max(2, n) bytes */
        for (int i = 0; i < n; i++) val[i] = (char)('a' + i % 26);
        val[n] = 0;
        otel_span_set_str(s, key, val);
    }
    otel_span_set_str(s, "utf8.ok", "caf\xc3\xa9");   /* valid UTF-8: kept as is */
    otel_span_set_str(s, "utf8.bad", "ab\xc3");       /* cut sequence: repaired */
    otel_span_set_bool(s, "flag", true);
    otel_span_set_double(s, "ratio", 0.75);
    otel_span_set_int(s, "", 1);                      /* empty key: dropped and counted */
    otel_span_set_str(s, NULL, "x");                  /* NULL key: dropped and counted */
    otel_span_set_str(s, "null.value", NULL);         /* NULL value: "" */
    otel_span_end(s);
    const otel_span_data *d = span_named("lengths");
    CHECK(d != NULL);
    if (!d) {
        done();
        return;
    }
    for (int n = 0; n <= 40; n++) {
        snprintf(key, sizeof key, "k%0*d", n < 2 ? 1 : n - 1, n);
        for (int i = 0; i < n; i++) val[i] = (char)('a' + i % 26);
        val[n] = 0;
        otel_attr a;
        bool ok = key_count(d, key, &a) == 1 && a.value.type == OTEL_VALUE_STRING && a.value.len == (size_t)n &&
                  memcmp(a.value.u.s, val, (size_t)n) == 0 && a.value.u.s[n] == 0 && a.key.ptr[a.key.len] == 0;
        CHECK(ok);
        if (!ok) fprintf(stderr, "  length %d\n", n);
    }
    CHECK(has_str(d, "utf8.ok", "caf\xc3\xa9"));
    CHECK(has_str(d, "utf8.bad", "ab\xef\xbf\xbd"));
    otel_attr a;
    CHECK(key_count(d, "flag", &a) == 1 && a.value.type == OTEL_VALUE_BOOL && a.value.u.b);
    CHECK(key_count(d, "ratio", &a) == 1 && a.value.type == OTEL_VALUE_DOUBLE && a.value.u.d == 0.75);
    CHECK(has_str(d, "null.value", ""));
    CHECK(d->dropped_attrs == 2);
    CHECK(d->attr_count == 41 + 5);
    done();
}

/* Span names: ASCII of every length class, UTF-8 kept, invalid UTF-8 repaired, NULL. */
static void test_names(void) {
    CHECK(init_mem(OTEL_PROCESSOR_SIMPLE));
    static const char *const names[] = {"", "a", "abcdefg", "abcdefgh", "abcdefghijklmnop", "child-operation",
                                        "caf\xc3\xa9 au lait"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) otel_span_end(otel_span_start(names[i], NULL));
    otel_span_end(otel_span_start("bad\xff name", NULL));
    otel_span_end(otel_span_start(NULL, NULL));
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    otel_span_end(otel_span_start(longname, NULL));
    CHECK(otel_memory_exporter_count(&mem) == sizeof names / sizeof names[0] + 3);
    for (size_t i = 1; i < sizeof names / sizeof names[0]; i++) CHECK(span_named(names[i]) != NULL);
    CHECK(span_named("bad\xef\xbf\xbd name") != NULL);
    CHECK(span_named(longname) != NULL);
    size_t empty = 0;
    for (size_t i = 0; i < otel_memory_exporter_count(&mem); i++)
        if (otel_memory_exporter_span(&mem, i)->name.len == 0) empty++;
    CHECK(empty == 2); /* "" and NULL */
    done();
}

/* The same through the batch pipeline (records copied into the ring and a block), with
   log records whose attributes share filter bits. */
static void test_batch_and_logs(void) {
    CHECK(init_mem(OTEL_PROCESSOR_BATCH));
    for (int i = 0; i < 1000; i++) {
        otel_span *s = otel_span_start("batched", NULL);
        otel_span_set_str(s, "http.request.method", "GET");
        otel_span_set_str(s, "url.path", "/api/v1/users/12345");
        otel_span_set_int(s, "http.response.status_code", 200);
        otel_span_set_double(s, "app.ratio", 0.75);
        otel_span_set_int(s, "http.response.status_code", i);
        otel_span_end(s);
    }
    CHECK(otel_force_flush(5000) == OTEL_OK);
    size_t n = otel_memory_exporter_count(&mem), good = 0;
    for (size_t i = 0; i < n; i++) {
        const otel_span_data *d = otel_memory_exporter_span(&mem, i);
        if (d->attr_count == 4 && attr_total(d) == 4 && has_int(d, "http.response.status_code", (int64_t)i) &&
            has_str(d, "url.path", "/api/v1/users/12345") && d->end_time_ns >= d->start_time_ns)
            good++;
    }
    CHECK(n == 1000);
    CHECK(good == 1000);
    done();
}

/* ---- the clock ------------------------------------------------------------------------ */

static uint64_t realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool kernel_uses_tsc(void) {
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    char buf[32] = {0};
    if (!f) return false;
    bool tsc = fgets(buf, sizeof buf, f) && strncmp(buf, "tsc", 3) == 0 && (buf[3] == '\n' || buf[3] == 0);
    fclose(f);
    return tsc;
}

typedef struct {
    uint64_t backwards; /* largest step back between two reads in a row */
    int ok;
} mono_arg;

static void *mono_thread(void *p) {
    mono_arg *m = (mono_arg *)p;
    uint64_t prev = otel_now_ns();
    for (int i = 0; i < 2000000; i++) {
        uint64_t t = otel_now_ns();
        if (t < prev && prev - t > m->backwards) m->backwards = prev - t;
        prev = t;
    }
    m->ok = 1;
    return NULL;
}

/* otel_now_ns agrees with CLOCK_REALTIME, whichever way it reads time; with the kernel on
   the TSC it switches to the TSC once the pipeline has calibrated it. */
static void test_clock(void) {
    CHECK(init_mem(OTEL_PROCESSOR_BATCH)); /* a batch destination: the pipeline thread calibrates */
    usleep(300 * 1000);
    otel_stats st;
    bool tsc = false;
    for (int i = 0; i < 40 && !tsc; i++) { /* the first rate needs a 50 ms window: allow for a busy machine */
        CHECK(otel_stats_get(&st) == OTEL_OK);
        tsc = st.clock_tsc;
        if (!tsc) usleep(50 * 1000);
    }
#if defined(__x86_64__) && !defined(OTEL_NO_TSC)
    if (kernel_uses_tsc()) CHECK(tsc);
    else CHECK(!tsc);
#else
    CHECK(!tsc);
#endif
    printf("clock: %s\n", tsc ? "TSC, calibrated against CLOCK_REALTIME" : "clock_gettime(CLOCK_REALTIME)");
    /* agreement: only samples with a tight bracket count (a preempted sample says nothing) */
    int tight = 0, close = 0;
    uint64_t worst = 0;
    for (int i = 0; i < 200000 && tight < 20000; i++) {
        uint64_t a = realtime_ns(), t = otel_now_ns(), b = realtime_ns();
        if (b < a || b - a > 20000) continue;
        tight++;
        uint64_t lo = a > 200000 ? a - 200000 : 0, hi = b + 200000; /* 200 us either side */
        if (t >= lo && t <= hi) close++;
        uint64_t mid = a + (b - a) / 2, err = t > mid ? t - mid : mid - t;
        if (err > worst) worst = err;
    }
    printf("clock: %d tight samples, %d within 200 us of CLOCK_REALTIME, worst %llu ns\n", tight, close,
           (unsigned long long)worst);
    CHECK(tight >= 1000);
    CHECK(close == tight);
    /* steps back between consecutive reads on two threads stay tiny (a re-anchor moves the
       mapping by less than the 100 us at which the TSC would be recalibrated) */
    mono_arg m[2];
    memset(m, 0, sizeof m);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, mono_thread, &m[i]) == 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    printf("clock: largest step back %llu ns, %llu ns\n", (unsigned long long)m[0].backwards,
           (unsigned long long)m[1].backwards);
    CHECK(m[0].ok && m[1].ok);
    CHECK(m[0].backwards < 100000 && m[1].backwards < 100000);
    /* spans never end before they start */
    for (int k = 0; k < 10; k++) { /* in chunks: this checks times, not throughput */
        for (int i = 0; i < 2000; i++) otel_span_end(otel_span_start("tick", NULL));
        CHECK(otel_force_flush(5000) == OTEL_OK);
    }
    size_t n = otel_memory_exporter_count(&mem), bad = 0;
    for (size_t i = 0; i < n; i++) {
        const otel_span_data *d = otel_memory_exporter_span(&mem, i);
        if (d->end_time_ns < d->start_time_ns) bad++;
    }
    if (n != 20000) fprintf(stderr, "  %zu spans of 20000\n", n);
    CHECK(n == 20000);
    CHECK(bad == 0);
    done();
    /* without an SDK, and after shutdown: clock_gettime, still right */
    uint64_t a = realtime_ns(), t = otel_now_ns(), b = realtime_ns();
    CHECK(t + 1000000 >= a && t <= b + 1000000);
}

/* After fork the child's clock is right too (its own pipeline recalibrates). */
#ifndef TSAN_BUILD /* ThreadSanitizer cannot start threads in a child of a threaded process */
static void test_clock_fork(void) {
    CHECK(init_mem(OTEL_PROCESSOR_BATCH));
    usleep(200 * 1000);
    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        for (int i = 0; i < 10; i++) {
            otel_span_end(otel_span_start("child", NULL)); /* registers: the child's pipeline starts */
            usleep(50 * 1000);
            uint64_t a = realtime_ns(), t = otel_now_ns(), b = realtime_ns();
            if (b - a < 20000 && (t + 1000000 < a || t > b + 1000000)) bad++;
        }
        _exit(bad ? 1 : 0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    done();
}
#endif

int main(void) {
    test_filter_collisions();
    test_paths_share_keys();
    test_copy_lengths();
    test_names();
    test_batch_and_logs();
    test_clock();
#ifndef TSAN_BUILD
    test_clock_fork();
#endif
    return TEST_DONE();
}
