/* prom_helper.c - built and run by tests/test_prometheus.sh (not a test by itself):
       prom_helper text                 prints the exposition text of tests/prom_batch.h
       prom_helper random SEED          prints the text of pb_random(SEED) (random bytes in
                                        names, units, keys and values)
       prom_helper serve PORT SECONDS   serves it at http://127.0.0.1:PORT/metrics through
                                        otel.h's Prometheus server, for SECONDS or until
                                        SIGTERM/SIGINT; prints "serving PORT" once ready */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "prom_batch.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static bool produce(otel__buf *b, void *user) {
    (void)user;
    return otel__prom_format_buf(b, pb_build());
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "text") == 0) {
        otel__buf b;
        memset(&b, 0, sizeof b);
        if (!otel__prom_format_buf(&b, pb_build())) return 1;
        fwrite(b.p, 1, b.len, stdout);
        otel__buf_free(&b);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "random") == 0) {
        static char text[1 << 18];
        size_t n = otel_prometheus_format(pb_random((uint64_t)atol(argv[2])), text, sizeof text);
        if (n >= sizeof text) return 1;
        fwrite(text, 1, n, stdout);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "serve") == 0) {
        otel_result err;
        struct sigaction sa;
        struct timespec tick = {0, 50000000};
        long ticks = atol(argv[3]) * 20;
        otel__prom_server *s = otel__prom_server_start("127.0.0.1", (uint16_t)atoi(argv[2]), "/metrics", produce,
                                                       NULL, &err);
        if (!s) return 1;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        printf("serving %u\n", (unsigned)otel__prom_server_port(s));
        fflush(stdout);
        while (!stop && ticks-- > 0) nanosleep(&tick, NULL);
        otel__prom_server_stop(s);
        return 0;
    }
    fprintf(stderr, "usage: prom_helper text | random SEED | serve PORT SECONDS\n");
    return 2;
}
