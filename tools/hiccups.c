/* hiccups.c - how long does this machine stop a running thread?

   Runs N busy threads (default: one per CPU) for S seconds (default 3), each reading
   CLOCK_MONOTONIC in a tight loop, and reports every gap between two reads longer than
   the threshold (default 300 us): time the thread was not running although it wanted to.
   On a quiet machine with a free CPU per thread the gaps are a few microseconds; on a
   virtual machine whose host is busy they reach milliseconds.

   Why it matters to otel.h: a recording thread writes spans into its ring (1 MiB by
   default) and the pipeline thread empties it. If the pipeline thread is stopped for
   longer than the ring lasts at the application's rate, records are dropped (and
   counted). Ring time = otel_desc.ring_bytes / (bytes per record x records per second);
   pick ring_bytes so that it covers the longest gap this tool shows.

   Usage: hiccups [--threads N] [--seconds S] [--threshold-us T]
   Prints one line per thread and a summary; exit status 0.                           */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    uint64_t seconds_ns, threshold_ns;
    uint64_t gaps, gaps_1ms, max_gap, reads;
} hiccup_thread;

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg) {
    hiccup_thread *h = (hiccup_thread *)arg;
    uint64_t t0 = mono_ns(), last = t0;
    for (;;) {
        uint64_t t = mono_ns(), gap = t - last;
        last = t;
        h->reads++;
        if (gap > h->threshold_ns) h->gaps++;
        if (gap > 1000000u) h->gaps_1ms++;
        if (gap > h->max_gap) h->max_gap = gap;
        if (t - t0 >= h->seconds_ns) break;
    }
    return NULL;
}

static long arg_num(int argc, char **argv, int *i, const char *name) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "hiccups: %s needs a number\n", name);
        exit(2);
    }
    char *end;
    long v = strtol(argv[++*i], &end, 10);
    if (*end || v <= 0) {
        fprintf(stderr, "hiccups: %s: not a positive number: %s\n", name, argv[*i]);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    long threads = sysconf(_SC_NPROCESSORS_ONLN), seconds = 3, threshold_us = 300;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads")) threads = arg_num(argc, argv, &i, "--threads");
        else if (!strcmp(argv[i], "--seconds")) seconds = arg_num(argc, argv, &i, "--seconds");
        else if (!strcmp(argv[i], "--threshold-us")) threshold_us = arg_num(argc, argv, &i, "--threshold-us");
        else {
            fprintf(stderr, "usage: hiccups [--threads N] [--seconds S] [--threshold-us T]\n");
            return 2;
        }
    }
    if (threads < 1) threads = 1;
    if (threads > 256) threads = 256;
    if (seconds > 3600) seconds = 3600;
    hiccup_thread *h = (hiccup_thread *)calloc((size_t)threads, sizeof *h);
    pthread_t *th = (pthread_t *)calloc((size_t)threads, sizeof *th);
    if (!h || !th) {
        fprintf(stderr, "hiccups: out of memory\n");
        return 1;
    }
    long started = 0;
    for (long i = 0; i < threads; i++) {
        h[i].seconds_ns = (uint64_t)seconds * 1000000000u;
        h[i].threshold_ns = (uint64_t)threshold_us * 1000u;
        if (pthread_create(&th[i], NULL, run, &h[i]) != 0) break;
        started++;
    }
    uint64_t worst = 0, total = 0;
    for (long i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        printf("thread %ld: %llu gaps over %ld us (%llu over 1 ms), longest %.3f ms, %.1f ns per clock read\n", i,
               (unsigned long long)h[i].gaps, threshold_us, (unsigned long long)h[i].gaps_1ms, h[i].max_gap / 1e6,
               h[i].reads ? (double)h[i].seconds_ns / (double)h[i].reads : 0.0);
        if (h[i].max_gap > worst) worst = h[i].max_gap;
        total += h[i].gaps;
    }
    printf("%ld busy threads, %ld s: %llu gaps over %ld us, longest %.3f ms\n", started, seconds,
           (unsigned long long)total, threshold_us, worst / 1e6);
    free(h);
    free(th);
    return 0;
}
