/* test_ring.c - per-thread blocks that grow instead of dropping (otel_desc.ring_max_bytes).
   The pipeline thread is held still by locking the test mutex it takes at each drain
   (OTEL_TEST_PIPE_STALL), so that a thread's region fills for certain; the handover
   queues' counters start 16 blocks below 2^32, so that they wrap. Every case checks
   that each span and log record arrives exactly once, in order per thread, or is counted
   as dropped.
   Also built with ThreadSanitizer by tests/run.sh (the marker on the next line). */
/* tsan */
#define _GNU_SOURCE
#define OTEL_TEST_PIPE_STALL
#define OTEL_TEST_POKES
#define OTEL_TEST_HQ_START 0xFFFFFFF0u /* the handover queues' counters wrap after 16 blocks */
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

static otel_exporter mem, lmem;

static bool init_rings(uint32_t ring, uint32_t ring_max) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    CHECK(otel_memory_exporter_create(0, &lmem) == OTEL_OK);
    d.destinations[0].exporter = mem;
    d.destinations[0].schedule_delay_ms = 10;
    d.destinations[0].max_queue_size = 1u << 17;
    d.log_destinations[0].exporter = lmem;
    d.log_destinations[0].schedule_delay_ms = 10;
    d.log_destinations[0].max_queue_size = 1u << 17;
    d.ring_bytes = ring;
    d.ring_max_bytes = ring_max;
    d.diag.func = diag_fn;
    diag_reset();
    return otel_init(&d) == OTEL_OK;
}

static void done_one(void) {
    CHECK(otel_shutdown(5000) == OTEL_OK);
    otel_memory_exporter_destroy(&mem);
}

static void done(void) {
    CHECK(otel_shutdown(5000) == OTEL_OK);
    otel_memory_exporter_destroy(&mem);
    otel_memory_exporter_destroy(&lmem);
}

/* Holds the pipeline thread still: it blocks at its next drain. */
static void stall(bool on) {
    if (on) pthread_mutex_lock(&otel__test_stall_mu);
    else pthread_mutex_unlock(&otel__test_stall_mu);
}

static otel_stats stats(void) {
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    return st;
}

static int64_t attr_int(otel_iter it, const char *key) {
    otel_attr a;
    while (otel_iter_attr(&it, &a))
        if (a.key.len == strlen(key) && memcmp(a.key.ptr, key, a.key.len) == 0) return a.value.u.i;
    return -1;
}

/* One span and one log record carrying (thread, seq); the padding makes records bigger. */
static void record(int th, int64_t seq, otel_logger *lg) {
    otel_span *s = otel_span_start("ring-span", NULL);
    otel_span_set_int(s, "th", th);
    otel_span_set_int(s, "seq", seq);
    otel_span_set_str(s, "pad", "0123456789abcdef0123456789abcdef0123456789abcdef");
    otel_span_end(s);
    if (lg) {
        otel_attr at[2] = {otel_attr_int("th", th), otel_attr_int("seq", seq)};
        otel_logger_info(lg, at, 2, "record %lld of thread %d", (long long)seq, th);
    }
}

/* Every (th, seq) for th < nth, seq < n[th], arrived exactly once and in order; with
   `prefix`, the ones that arrived are exactly seq 0..k-1 (drops take the newest). Returns
   how many arrived. */
static size_t check_arrivals(bool logs, int nth, const int64_t *n, bool prefix) {
    size_t count = logs ? otel_memory_exporter_log_count(&lmem) : otel_memory_exporter_count(&mem);
    int64_t next[8] = {0};
    size_t bad = 0;
    for (size_t i = 0; i < count; i++) {
        otel_iter it = logs ? otel_log_attrs(otel_memory_exporter_log(&lmem, i))
                            : otel_span_attrs(otel_memory_exporter_span(&mem, i));
        int64_t th = attr_int(it, "th"), seq = attr_int(it, "seq");
        if (th < 0 || th >= nth || seq < 0 || seq >= n[th]) {
            bad++;
            continue;
        }
        if (prefix ? seq != next[th] : seq < next[th]) bad++; /* in order, never twice */
        next[th] = seq + 1;
    }
    CHECK(bad == 0);
    if (bad) fprintf(stderr, "  %zu %s out of order, repeated or unknown\n", bad, logs ? "log records" : "spans");
    return count;
}

/* A stalled pipeline: the ring grows from 16 KiB instead of dropping; nothing is lost,
   and the grown ring carries on normally afterwards. */
static void test_grow_no_loss(void) {
    CHECK(init_rings(16u << 10, 4u << 20));
    otel_logger *lg = otel_logger_get("ring", NULL);
    otel_stats st = stats();
    CHECK(st.ring_grows == 0);
    const int64_t n = 3000;
    stall(true);
    for (int64_t i = 0; i < n; i++) record(0, i, lg);
    st = stats();
    CHECK(st.spans_dropped == 0 && st.logs_dropped == 0);
    CHECK(st.ring_grows >= 4);
    CHECK(st.ring_bytes >= (256u << 10) && st.ring_bytes <= (4u << 20));
    printf("  stalled pipeline: %lld spans + %lld records, ring grew %llu times to %llu bytes, 0 dropped\n",
           (long long)n, (long long)n, (unsigned long long)st.ring_grows, (unsigned long long)st.ring_bytes);
    stall(false);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(check_arrivals(false, 1, &n, true) == (size_t)n);
    CHECK(check_arrivals(true, 1, &n, true) == (size_t)n);
    /* the grown ring keeps working, through many laps */
    otel_memory_exporter_reset(&mem);
    otel_memory_exporter_reset(&lmem);
    const int64_t m = 20000;
    for (int64_t i = 0; i < m; i++) record(0, i, lg);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    st = stats();
    CHECK(check_arrivals(false, 1, &m, false) + st.spans_dropped == (size_t)m);
    CHECK(check_arrivals(true, 1, &m, false) + st.logs_dropped == (size_t)m);
    done();
}

/* Sets up rings of `ring` and `ring_max` bytes, holds the pipeline still and records n
   spans and n log records on this thread (the caller lets the pipeline go). */
static void stalled_burst(uint32_t ring, uint32_t ring_max, int64_t n) {
    CHECK(init_rings(ring, ring_max));
    otel_logger *lg = otel_logger_get("ring", NULL);
    stall(true);
    for (int64_t i = 0; i < n; i++) record(0, i, lg);
}

/* At ring_max_bytes the ring stops growing: the newest records are dropped and counted. */
static void test_grow_limit(void) {
    const int64_t n = 2000;
    stalled_burst(16u << 10, 64u << 10, n);
    otel_stats st = stats();
    CHECK(st.ring_grows == 2);
    CHECK(st.ring_bytes == (64u << 10));
    CHECK(st.spans_dropped > 0 && st.logs_dropped > 0);
    CHECK(diag_count("a thread's ring is full") == 1);
    stall(false);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    st = stats();
    size_t spans = check_arrivals(false, 1, &n, true), logs = check_arrivals(true, 1, &n, true);
    CHECK(spans + st.spans_dropped == (size_t)n);
    CHECK(logs + st.logs_dropped == (size_t)n);
    printf("  ring_max_bytes=64 KiB: %zu spans and %zu records kept, %llu and %llu dropped and counted\n", spans, logs,
           (unsigned long long)st.spans_dropped, (unsigned long long)st.logs_dropped);
    done();
}

/* No growth (ring_max_bytes = ring_bytes): as before, full is full. */
static void test_no_growth(void) {
    CHECK(init_rings(16u << 10, 16u << 10));
    const int64_t n = 500;
    stall(true);
    for (int64_t i = 0; i < n; i++) record(0, i, NULL);
    otel_stats st = stats();
    CHECK(st.ring_grows == 0 && st.ring_bytes == (16u << 10));
    CHECK(st.spans_dropped > 0);
    stall(false);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(check_arrivals(false, 1, &n, true) + stats().spans_dropped == (size_t)n);
    done();
}

/* The bytes of records in the blocks cut from thread t's region so far, and the data
   bytes those blocks have. */
static uint32_t region_used(const otel__thread *t, uint32_t *cap) {
    uint32_t used = 0, carved = otel__load_rlx(&t->carved), blk = otel__g->blk_bytes;
    *cap = 0;
    for (uint32_t off = 0; off < carved; off += blk) {
        const otel__block *b = (const otel__block *)(const void *)(t->region + off);
        used += b->used;
        *cap += b->cap;
    }
    return used;
}

/* A block that is nearly full still takes a record that fits: the room a log record asks
   for is what it may need, not log_record_bytes (a quarter of this 16 KiB region). */
static void test_log_fill(void) {
    CHECK(init_rings(16u << 10, 16u << 10));
    otel_logger *lg = otel_logger_get("ring", NULL);
    otel_attr at[2] = {otel_attr_int("th", 0), otel_attr_int("seq", 0)};
    stall(true);
    otel_logger_info(lg, at, 2, "first"); /* registers the thread */
    otel__thread *t = otel__self(otel__g);
    int64_t n = 1;
    uint32_t used = 0, cap = 0;
    while (stats().logs_dropped == 0 && n < 1000) {
        used = region_used(t, &cap);
        at[1] = otel_attr_int("seq", n++);
        otel_logger_info(lg, at, 2, "record %lld", (long long)n);
    }
    otel_stats st = stats();
    CHECK(st.logs_dropped == 1 && st.ring_grows == 0);
    CHECK(otel__load_rlx(&t->carved) == (16u << 10));
    printf("  16 KiB region, log_record_bytes %u: the first record refused with %u of %u bytes in use\n",
           (unsigned)otel_config()->log_record_bytes, (unsigned)used, (unsigned)cap);
    CHECK(used + 1536 >= cap); /* a record here takes about 200 bytes; a block with an eighth (1 KiB) free takes what fits */
    stall(false);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(otel_memory_exporter_log_count(&lmem) + stats().logs_dropped == (size_t)n);
    done();
}

/* A region of only two blocks (ring_bytes = ring_max_bytes = 64 KiB), one per signal at
   first: a burst that overflows it drops, but a full block is sealed even when no other
   block is free, so it comes back once exported and every later burst records again. (A
   full block left open was never freed: after the first burst nothing was exported.) */
static void test_two_blocks(void) {
    CHECK(init_rings(64u << 10, 64u << 10));
    CHECK(otel__g->blk_bytes == (32u << 10));
    otel_logger *lg = otel_logger_get("ring", NULL);
    size_t spans = 0, logs = 0;
    int64_t seq = 0;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 1000; i++) record(0, seq++, lg);
        usleep(150 * 1000); /* the destinations export (delay 10 ms) and give the blocks back */
        for (int w = 0; w < 500; w++) { /* or, on a host that stopped a worker, a little later */
            otel_stats now = stats();
            if (otel_memory_exporter_count(&mem) + now.spans_dropped >= (size_t)seq &&
                otel_memory_exporter_log_count(&lmem) + now.logs_dropped >= (size_t)seq)
                break;
            usleep(10 * 1000);
        }
        size_t s2 = otel_memory_exporter_count(&mem), l2 = otel_memory_exporter_log_count(&lmem);
        CHECK(s2 > spans && l2 > logs);
        if (s2 <= spans || l2 <= logs)
            fprintf(stderr, "  burst %d: spans %zu -> %zu, records %zu -> %zu exported\n", round, spans, s2, logs, l2);
        spans = s2;
        logs = l2;
    }
    CHECK(otel_force_flush(5000) == OTEL_OK);
    otel_stats st = stats();
    CHECK(check_arrivals(false, 1, &seq, false) + st.spans_dropped == (size_t)seq);
    CHECK(check_arrivals(true, 1, &seq, false) + st.logs_dropped == (size_t)seq);
    printf("  two-block region, 4 bursts of 1000: %zu spans and %zu records exported, %llu + %llu dropped and counted\n",
           otel_memory_exporter_count(&mem), otel_memory_exporter_log_count(&lmem), (unsigned long long)st.spans_dropped,
           (unsigned long long)st.logs_dropped);
    done();
}

typedef struct {
    int th;
    int64_t n;
} prod_arg;

static void *producer(void *p) {
    prod_arg *a = (prod_arg *)p;
    otel_logger *lg = otel_logger_get("ring", NULL);
    for (int64_t i = 0; i < a->n; i++) record(a->th, i, (i & 3) == 0 ? lg : NULL);
    return NULL;
}

static _Atomic int producers_left;

static void *producer_counted(void *p) {
    producer(p);
    atomic_fetch_sub(&producers_left, 1);
    return NULL;
}

/* Two threads record while the pipeline stops and starts at random: rings grow (each at
   least once during the first stop, and often again with earlier GROW markers not yet
   read), and every record arrives once and in order, or is counted as dropped (rings of at
   most 1 MiB do overflow here). */
static void test_grow_threads(void) {
#ifdef TEST_SANITIZED
    const int64_t per = 6000;
#else
    const int64_t per = 60000;
#endif
    CHECK(init_rings(16u << 10, 1u << 20));
    prod_arg args[2] = {{0, per}, {1, per}};
    pthread_t th[2];
    atomic_store(&producers_left, 2);
    stall(true); /* a first stop that lasts until both rings have grown */
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, producer_counted, &args[i]) == 0);
    for (int w = 0; w < 5000 && stats().ring_grows < 2 && atomic_load(&producers_left) > 0; w++) usleep(1000);
    CHECK(stats().ring_grows >= 2);
    stall(false);
    unsigned seed = 12345;
    while (atomic_load(&producers_left) > 0) {
        seed = seed * 1103515245u + 12345u;
        stall(true);
        usleep(200 + (seed >> 16) % 1500);
        stall(false);
        usleep(200 + (seed >> 8) % 800);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(otel_force_flush(10000) == OTEL_OK);
    otel_stats st = stats();
    int64_t ns[2] = {per, per}, nl[2] = {(per + 3) / 4, (per + 3) / 4};
    size_t spans = check_arrivals(false, 2, ns, false), logs = check_arrivals(true, 2, ns, false); /* seq 0, 4, 8, ... */
    CHECK(spans + st.spans_dropped == (size_t)(2 * per));
    CHECK(logs + st.logs_dropped == (size_t)(nl[0] + nl[1]));
    CHECK(st.ring_grows >= 2);
    CHECK(spans > 0 && logs > 0);
    printf("  2 threads, pipeline stopping at random: %zu spans, %zu records, %llu + %llu dropped, %llu grows, rings %llu bytes\n",
           spans, logs, (unsigned long long)st.spans_dropped, (unsigned long long)st.logs_dropped,
           (unsigned long long)st.ring_grows, (unsigned long long)st.ring_bytes);
    done();
}

/* ---- queue room: the pipeline holds records in the rings for a destination that is
   briefly behind, and stops waiting for one that is stuck ---- */

typedef struct {
    _Atomic size_t spans;
    _Atomic int pause_ms;   /* every 20th export sleeps this long */
    _Atomic int hang;       /* exports wait until this is 0 */
    _Atomic int calls;
} slow_exp;

static void slow_init(slow_exp *e, int pause_ms, int hang) {
    atomic_init(&e->spans, 0);
    atomic_init(&e->pause_ms, pause_ms);
    atomic_init(&e->hang, hang);
    atomic_init(&e->calls, 0);
}

static otel_export_result slow_export(const otel_span_batch *b, void *user) {
    slow_exp *e = (slow_exp *)user;
    int ms = atomic_load(&e->pause_ms);
    if (ms && atomic_fetch_add(&e->calls, 1) % 20 == 5) usleep((useconds_t)ms * 1000);
    while (atomic_load(&e->hang)) usleep(1000);
    atomic_fetch_add(&e->spans, b->count);
    return OTEL_EXPORT_SUCCESS;
}

static bool init_two(slow_exp *a, uint32_t queue, uint32_t batch) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    d.destinations[0].exporter = mem;
    d.destinations[0].schedule_delay_ms = 10;
    d.destinations[0].max_queue_size = 1u << 17;
    otel_exporter e;
    memset(&e, 0, sizeof e);
    e.export_spans = slow_export;
    e.user = a;
    e.name = "slow";
    d.destinations[1].exporter = e;
    d.destinations[1].schedule_delay_ms = 10;
    d.destinations[1].max_queue_size = queue;
    d.destinations[1].max_export_batch = batch;
    d.destinations[1].export_timeout_ms = 60000;
    d.diag.func = diag_fn;
    diag_reset();
    return otel_init(&d) == OTEL_OK;
}

static otel_destination_stats dest_stats(const char *name) {
    otel_stats st = stats();
    for (uint32_t i = 0; i < st.destination_count; i++)
        if (strcmp(st.destinations[i].name, name) == 0) return st.destinations[i];
    otel_destination_stats none;
    memset(&none, 0, sizeof none);
    return none;
}

/* A destination with a queue of 64 whose every 20th export stops for 3 ms (as a worker
   the host keeps off the CPU): a burst of 3000 spans fills its queue many times over, yet
   nothing is dropped (the records wait in the ring), and the memory destination gets
   everything too. */
static void test_hold_behind(void) {
    /* The hold is a heuristic with time limits (OTEL__HOLD_MS, OTEL__HOLD_MAX_MS): a host
       that stops the slow worker for longer than them may make a burst drop, correctly
       counted. So the burst may run three times; the accounting must be exact every time,
       and one burst must lose nothing (a pipeline that never holds loses in all three). */
    bool clean = false;
    for (int attempt = 0; attempt < 3 && !clean; attempt++) {
        slow_exp a;
        slow_init(&a, 3, 0);
        CHECK(init_two(&a, 64, 32));
        const int64_t n = 3000;
        for (int64_t i = 0; i < n; i++) record(0, i, NULL);
        CHECK(otel_force_flush(20000) == OTEL_OK);
        otel_destination_stats ds = dest_stats("slow");
        CHECK(atomic_load(&a.spans) + ds.dropped == (size_t)n && ds.exported == atomic_load(&a.spans));
        CHECK(check_arrivals(false, 1, &n, true) == (size_t)n); /* the memory destination: all */
        clean = ds.dropped == 0 && stats().spans_dropped == 0;
        printf("  destination stopping 3 ms every 20 batches of 32, queue 64: %zu of %lld spans, %llu dropped\n",
               atomic_load(&a.spans), (long long)n, (unsigned long long)ds.dropped);
        done_one();
    }
    CHECK(clean);
}

/* A hung destination is waited for once (OTEL__HOLD_MS), then its overflow is dropped
   and counted at once: the memory destination gets every span, promptly. */
static void test_hold_hung(void) {
    slow_exp a;
    slow_init(&a, 0, 1);
    CHECK(init_two(&a, 64, 32));
    const int64_t n = 4000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int64_t i = 0; i < n; i++) {
        record(0, i, NULL);
        if (i % 500 == 499) usleep(20 * 1000);
    }
    /* the memory destination has everything well before the hung one is released */
    for (int w = 0; w < 500 && otel_memory_exporter_count(&mem) < (size_t)n; w++) usleep(2000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(otel_memory_exporter_count(&mem) == (size_t)n);
    CHECK(ms < 1160.0); /* producing takes >= 160 ms; the hung destination adds 20 ms at most */
    otel_destination_stats ds = dest_stats("slow");
    CHECK(ds.dropped > 0);
    printf("  hung destination: memory destination had all %lld spans after %.0f ms (producing took >= 160 ms); "
           "%llu dropped for the hung one\n", (long long)n, ms, (unsigned long long)ds.dropped);
    atomic_store(&a.hang, 0);
    CHECK(otel_force_flush(10000) == OTEL_OK);
    ds = dest_stats("slow");
    CHECK(ds.exported + ds.dropped == (uint64_t)n);
    CHECK(check_arrivals(false, 1, &n, true) == (size_t)n);
    done_one();
}

#ifndef TSAN_BUILD /* ThreadSanitizer cannot start threads in a child of a threaded process */
/* A child forked after its parent's ring grew records through the grown ring. */
static void test_grow_fork(void) {
    CHECK(init_rings(16u << 10, 4u << 20));
    const int64_t n = 1500;
    stall(true);
    for (int64_t i = 0; i < n; i++) record(0, i, NULL);
    stall(false);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(stats().ring_grows >= 1);
    CHECK(check_arrivals(false, 1, &n, true) == (size_t)n);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        otel_memory_exporter_reset(&mem);
        const int64_t m = 2500;
        stall(true);
        for (int64_t i = 0; i < m; i++) record(0, i, NULL);
        stall(false);
        int rc = otel_force_flush(5000) != OTEL_OK ? 1 : otel_memory_exporter_count(&mem) != (size_t)m ? 2
               : stats().spans_dropped != 0 ? 3 : 0;
        if (rc) fprintf(stderr, "  child: %zu of %lld spans, %llu dropped\n", otel_memory_exporter_count(&mem), (long long)m,
                        (unsigned long long)stats().spans_dropped);
        _exit(rc);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFEXITED(status) && WEXITSTATUS(status)) fprintf(stderr, "  child exit %d\n", WEXITSTATUS(status));
    otel_memory_exporter_reset(&mem);
    for (int64_t i = 0; i < n; i++) record(0, i, NULL);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(check_arrivals(false, 1, &n, true) == (size_t)n);
    done();
}
#endif

/* The producer alone, with the pipeline stopped: the blocks each signal's handover queue
   holds are distinct blocks of the thread's region, each one's records lie one after the
   other inside its data, every published pointer is its record's, and all but the last
   block of each queue are sealed; together they hold every record, in order. */
static void test_block_model(void) {
    const int64_t n = 3000;
    stalled_burst(16u << 10, 4u << 20, n);
    otel__thread *t = otel__self(otel__g);
    uint32_t blk = otel__g->blk_bytes, carved = otel__load_rlx(&t->carved);
    CHECK(stats().spans_dropped == 0 && stats().logs_dropped == 0);
    unsigned char *seen = (unsigned char *)calloc(carved / blk + 1, 1);
    size_t bad = 0, blocks = 0;
    for (int k = 0; k < 2; k++) {
        uint32_t h = otel__load_rlx(&t->hq_head[k]), tl = otel__load_rlx(&t->hq_tail[k]);
        int64_t next = 0;
        for (uint32_t q = h; q != tl; q++) {
            const otel__block *b = t->hq[k][q & (t->hq_cap - 1)];
            size_t off = (size_t)((const unsigned char *)b - t->region);
            if (off % blk || off >= carved || seen[off / blk]++) bad++;
            if (otel__load_rlx(&b->sealed) != (q + 1 != tl) || otel__load_rlx(&b->npub) != b->count) bad++;
            uint32_t at = 0;
            for (uint32_t i = 0; i < b->count; i++) {
                const otel__rec *sr = (const otel__rec *)(const void *)(b->data + at);
                const otel__lrec *lr = (const otel__lrec *)(const void *)(b->data + at);
                uint32_t size = k ? lr->size : sr->size;
                if (k ? (const void *)&lr->d != (const void *)b->logs[i] : (const void *)&sr->d != (const void *)b->spans[i])
                    bad++;
                at += size;
                if (at > b->cap || size % 8) bad++;
                if (attr_int(k ? otel_log_attrs(b->logs[i]) : otel_span_attrs(b->spans[i]), "seq") != next++) bad++;
            }
            if (at != b->used) bad++;
            blocks++;
        }
        if (next != n) bad++;
    }
    free(seen);
    CHECK(bad == 0);
    printf("  pipeline stopped: %lld spans + %lld records in %zu blocks of %u bytes (%u bytes cut), %zu faults\n",
           (long long)n, (long long)n, blocks, (unsigned)blk, (unsigned)carved, bad);
    stall(false);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(check_arrivals(false, 1, &n, true) == (size_t)n);
    CHECK(check_arrivals(true, 1, &n, true) == (size_t)n);
    done();
}

#ifndef TSAN_BUILD
/* A child forked while the parent's blocks wait for the (stopped) pipeline: the child's
   blocks start over, and both processes export all of their own spans, in order. */
static void test_fork_waiting(void) {
    CHECK(init_rings(16u << 10, 4u << 20)); /* room for what the child's destination has not exported yet */
    const int64_t n = 300;
    stall(true);
    for (int64_t i = 0; i < n; i++) record(0, i, NULL);
    CHECK(stats().ring_grows >= 1);
    CHECK(otel__blocks_queued(otel__tls) >= 2);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        otel_memory_exporter_reset(&mem);
        const int64_t m = 3000;
        for (int64_t i = 0; i < m; i++) record(0, i, NULL);
        int rc = otel_force_flush(5000) != OTEL_OK ? 1 : check_arrivals(false, 1, &m, true) != (size_t)m ? 2 : 0;
        if (rc) fprintf(stderr, "  child: %zu of %lld spans, %llu dropped\n", otel_memory_exporter_count(&mem), (long long)m,
                        (unsigned long long)stats().spans_dropped);
        _exit(rc);
    }
    stall(false);
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFEXITED(status) && WEXITSTATUS(status)) fprintf(stderr, "  child exit %d\n", WEXITSTATUS(status));
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(check_arrivals(false, 1, &n, true) == (size_t)n);
    done();
}
#endif

/* How often a recording thread wakes the pipeline (otel__poke_step): every quarter of
   ring_bytes where the region cannot grow to 16 times that, else every 16th of the region,
   at most every ring_bytes. With the pipeline held still every block is a new one, so
   the pokes are exactly the region cut so far over the step. */
static void test_poke_step(void) {
    static const struct {
        uint32_t ring, max, step;
    } c[] = {
        {1u << 20, 16u << 20, 1u << 20},   /* the defaults */
        {1u << 20, 1u << 20, 256u << 10},  /* no growth */
        {1u << 20, 2u << 20, 256u << 10},  /* a 16th (128 KiB) is less than a quarter */
        {1u << 20, 8u << 20, 512u << 10},  /* a 16th */
        {64u << 10, 16u << 20, 64u << 10}, /* at most ring_bytes */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        CHECK(init_rings(c[i].ring, c[i].max));
        unsigned long p0 = atomic_load(&otel__test_pokes);
        uint32_t want = c[i].max < (4u << 20) ? c[i].max : 4u << 20;
        stall(true);
        otel_stats st = stats();
        for (int64_t n = 0; n < 100000 && st.ring_bytes < want; n++) {
            record(0, n, NULL);
            if (n % 64 == 0) st = stats();
        }
        st = stats();
        unsigned long pokes = atomic_load(&otel__test_pokes) - p0;
        CHECK(st.ring_bytes >= want);
        CHECK(otel__g->threads[0]->poke_step == c[i].step);
        CHECK(pokes == st.ring_bytes / c[i].step);
        printf("  ring_bytes %u KiB, ring_max_bytes %u KiB: %lu pokes for %llu KiB of blocks (one per %u KiB)\n",
               (unsigned)(c[i].ring >> 10), (unsigned)(c[i].max >> 10), pokes, (unsigned long long)(st.ring_bytes >> 10),
               (unsigned)(c[i].step >> 10));
        stall(false);
        done();
    }
}

/* Records spans on this thread until it started `n` more span blocks. */
static void start_blocks(uint32_t n) {
    record(0, 0, NULL);
    const otel__thread *t = otel__g->threads[0];
    uint32_t from = otel__load_rlx(&t->hq_tail[0]);
    for (int64_t i = 1; otel__load_rlx(&t->hq_tail[0]) - from < n && i < 1000000; i++) record(0, i, NULL);
}

/* A pass of the pipeline over a thread's blocks restarts its count: what it queued
   before was taken. So a pass that another thread's poke or the timer started spares
   this thread its own poke (with the defaults a poke step is 16 blocks of 64 KiB). */
static void test_poke_restart(void) {
    CHECK(init_rings(1u << 20, 16u << 20));
    unsigned long p0 = atomic_load(&otel__test_pokes);
    stall(true);
    start_blocks(8);
    stall(false);
    CHECK(otel_force_flush(5000) == OTEL_OK); /* takes all but the open block */
    stall(true);
    start_blocks(12); /* 21 since the start (1 + 8 + 12), 13 waiting: no poke */
    unsigned long mid = atomic_load(&otel__test_pokes) - p0;
    start_blocks(3); /* 16 waiting: a poke */
    unsigned long end = atomic_load(&otel__test_pokes) - p0;
    CHECK(mid == 0);
    CHECK(end == 1);
    printf("  a pass restarts the count: %lu pokes after 8 + 12 blocks with a pass between, %lu after 3 more\n", mid,
           end);
    stall(false);
    done();
}

/* A desc with one span destination, a new memory exporter `mem`, with this queue size and
   schedule delay (0: the defaults) and the diag counter; the caller may add to it. */
static otel_desc one_dest(uint32_t queue, uint32_t delay) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    d.destinations[0].exporter = mem;
    d.destinations[0].max_queue_size = queue;
    d.destinations[0].max_export_batch = queue;
    d.destinations[0].schedule_delay_ms = delay;
    d.diag.func = diag_fn;
    return d;
}

/* A small queue makes a thread poke sooner: once about half the smallest batch queue of
   records waits (blocks of records as many as the one just sealed), so that a pass can hand
   on what a poke brings without holding it back. Queue 64: a 64 KiB block of these records
   holds more than 32, so each of the 8 blocks started after the first pokes; by bytes
   alone (1 MiB steps) none would. */
static void test_poke_queue(void) {
    otel_desc d = one_dest(64, 0);
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel__g->poke_recs == 32);
    unsigned long p0 = atomic_load(&otel__test_pokes);
    stall(true);
    start_blocks(8);
    unsigned long pokes = atomic_load(&otel__test_pokes) - p0;
    CHECK(pokes == 8);
    printf("  max_queue_size 64: %lu pokes for the 8 blocks after the first\n", pokes);
    stall(false);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    done_one();
}

/* While records trickle in, the pipeline sleeps half the shortest schedule delay between
   passes, at most 20 ms (otel__pace), instead of 1 ms after every pass that moved one:
   200 spans one every 2 ms take about 20 passes, not hundreds; all of them arrive. */
static void test_pass_rate(void) {
    otel_desc d = one_dest(0, 0); /* the default schedule delay, 5 s */
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel__g->pass_ms == 20);
    CHECK(otel__g->poke_recs == 1024); /* half the default queue, 2,048 */
    struct timespec t0, t1, nap = {0, 2 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long p0 = atomic_load(&otel__test_passes);
    const int64_t n = 200;
    for (int64_t i = 0; i < n; i++) {
        record(0, i, NULL);
        nanosleep(&nap, NULL);
    }
    unsigned long passes = atomic_load(&otel__test_passes) - p0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(passes <= (unsigned long)(ms / 20) + 10);
    printf("  %lld spans over %.0f ms: %lu passes of the pipeline (one per 20 ms: %.0f)\n", (long long)n, ms, passes,
           ms / 20);
    CHECK(otel_force_flush(5000) == OTEL_OK);
    CHECK(check_arrivals(false, 1, &n, true) == (size_t)n);
    done_one();
    /* with a 10 ms schedule delay (passes every 5 ms) a span reaches the exporter with no
       flush, well within 2 s even on a loaded machine */
    d = one_dest(0, 10);
    CHECK(otel_init(&d) == OTEL_OK);
    CHECK(otel__g->pass_ms == 5);
    record(0, 0, NULL);
    struct timespec tick = {0, 1000 * 1000};
    int waited = 0;
    while (otel_memory_exporter_count(&mem) == 0 && waited < 2000) {
        nanosleep(&tick, NULL);
        waited++;
    }
    CHECK(otel_memory_exporter_count(&mem) == 1);
    printf("  schedule delay 10 ms: the span arrived after about %d ms, no flush\n", waited);
    done_one();
    /* half the shortest schedule delay of the batch destinations, at least 1 ms */
    static const uint32_t delay[][2] = {{10, 5}, {5000, 20}, {1, 1}, {3, 1}};
    for (size_t i = 0; i < sizeof delay / sizeof delay[0]; i++) {
        d = one_dest(0, 30000);
        d.destinations[1].exporter = mem;
        d.destinations[1].schedule_delay_ms = delay[i][0];
        d.destinations[2].exporter = mem;
        d.destinations[2].processor = OTEL_PROCESSOR_SIMPLE; /* not counted: no pipeline */
        d.destinations[2].schedule_delay_ms = 1;
        CHECK(otel_init(&d) == OTEL_OK);
        CHECK(otel__g->pass_ms == delay[i][1]);
        done_one();
    }
}

int main(void) {
    test_poke_step();
    test_poke_restart();
    test_poke_queue();
    test_pass_rate();
    test_grow_no_loss();
    test_grow_limit();
    test_no_growth();
    test_log_fill();
    test_two_blocks();
    test_grow_threads();
    test_block_model();
    test_hold_behind();
    test_hold_hung();
#ifndef TSAN_BUILD
    test_grow_fork();
    test_fork_waiting();
#endif
    return TEST_DONE();
}
