/* bench.h - what the benchmarks share: clocks, the median sort, and the note a span or
   log case prints after its five columns. Each benchmark includes it after otel.h. */
#ifndef OTEL_BENCH_H
#define OTEL_BENCH_H
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Monotonic wall time, in seconds. */
static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* For qsort of doubles (medians). */
static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* CPU time of the calling thread, and of the whole process, in ns. */
static inline double thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline double process_cpu_ns(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e9 + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e3;
}

/* The background threads' CPU (the pipeline thread's and the destination workers') during
   a timed run: start with bench_cpu_start() on the main thread before the run; after the
   run and its final flush, bench_cpu_background() gives the process's CPU time less the
   main thread's and the producer threads' (`producers_ns`, 0 when the main thread produced),
   per operation. */
typedef struct bench_cpu {
    double process_ns, main_ns;
} bench_cpu;

static inline bench_cpu bench_cpu_start(void) {
    bench_cpu c = {process_cpu_ns(), thread_cpu_ns()};
    return c;
}

static inline double bench_cpu_background(bench_cpu c, double producers_ns, long ops) {
    double main_ns = thread_cpu_ns() - c.main_ns;
    return (process_cpu_ns() - c.process_ns - producers_ns - main_ns) / (double)ops;
}

static volatile unsigned long bench_spin_sink;

static void *bench_spin(void *arg) {
    unsigned long x = 0;
    for (unsigned long i = 0, n = *(const unsigned long *)arg; i < n; i++) {
        x += i;
        __asm__ volatile("" : "+r"(x)); /* one add per turn, not folded away */
    }
    bench_spin_sink = x;
    return NULL;
}

/* How much faster two busy threads (a plain loop, no library, no shared data) get through
   twice the work of one, right now: 2.0 on two idle cores. On a shared VM whose host
   runs other guests this falls (1.0-1.2 has been seen), and no two-producer case can
   scale better than it. Prints the baseline line `name` and returns the factor. */
static inline double bench_cpu_scaling(const char *name) {
    unsigned long n = 400000000UL;
    double best1 = 1e9, best2 = 1e9;
    for (int r = 0; r < 3; r++) {
        double t0 = now_s();
        bench_spin(&n);
        double t1 = now_s();
        pthread_t a, b;
        pthread_create(&a, NULL, bench_spin, &n);
        pthread_create(&b, NULL, bench_spin, &n);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        double t2 = now_s();
        if (t1 - t0 < best1) best1 = t1 - t0;
        if (t2 - t1 < best2) best2 = t2 - t1;
    }
    double f = 2 * best1 / best2;
    printf("%-20s %8.2fx   (baseline: two busy threads against one, no library: what this machine gives two "
           "threads now)\n", name, f);
    fflush(stdout);
    return f;
}

/* The most block memory the threads' rings held in any run of the case being measured
   (otel_stats.ring_bytes before shutdown), for its note; bench_ring_seen records a run's,
   bench_note prints and clears it. */
static uint64_t bench_ring_peak;

static inline void bench_ring_seen(void) {
    otel_stats st;
    if (otel_stats_get(&st) == OTEL_OK && st.ring_bytes > bench_ring_peak) bench_ring_peak = st.ring_bytes;
}

/* Ends a case's line. In parentheses: a same-run comparison with the reference case `ref`
   (ref_ns <= 0: none; `as_rate`: this case's rate as a multiple of the reference's, else
   its time against the reference's in %), when bg >= 0, the background threads' CPU per
   `unit`, and the rings' peak memory (bench_ring_seen). Nothing in parentheses when there
   is none of these. */
static inline void bench_note(double ns, const char *ref, double ref_ns, int as_rate, double bg, const char *unit) {
    const char *sep = "   (";
    if (ref_ns > 0) {
        if (as_rate) printf("%s%.2fx the rate of %s", sep, ref_ns / ns, ref);
        else printf("%s%+.0f%% against %s", sep, (ns / ref_ns - 1) * 100, ref);
        sep = "; ";
    }
    if (bg >= 0) {
        printf("%sbackground threads: %.0f ns CPU per %s", sep, bg, unit);
        sep = "; ";
    }
    if (bench_ring_peak) {
        printf("%srings %.1f MiB", sep, (double)bench_ring_peak / 1048576.0);
        sep = "; ";
        bench_ring_peak = 0;
    }
    printf("%s\n", sep[0] == ';' ? ")" : "");
    fflush(stdout);
}

/* Prints a pipeline case's line: the median of `runs` times (ns per operation), the rate,
   allocations and drops per operation and run, then bench_note. The case named `ref` is the
   reference of the same-run comparisons: `vs_pct` is compared with it in %, `vs_rate` as a
   multiple of its rate. `bg` (NULL: not shown) holds the runs' background CPU per `unit`.
   Sorts ns and bg. */
static inline void bench_report(const char *name, double *ns, double *bg, int runs, double allocs_per_op,
                                long long dropped_per_run, const char *ref, const char *vs_pct, const char *vs_rate,
                                const char *unit) {
    static double ref_ns; /* the reference case's median, in this run */
    qsort(ns, (size_t)runs, sizeof ns[0], cmp_double);
    if (bg) qsort(bg, (size_t)runs, sizeof bg[0], cmp_double);
    double med = ns[runs / 2];
    printf("%-20s %8.1f %12.0f %6.3f %lld", name, med, 1e9 / med, allocs_per_op, dropped_per_run);
    if (!strcmp(name, ref)) ref_ns = med;
    bool pct = !strcmp(name, vs_pct), rate = !strcmp(name, vs_rate);
    bench_note(med, ref, pct || rate ? ref_ns : 0, rate, bg ? bg[runs / 2] : -1, unit);
}

#endif
