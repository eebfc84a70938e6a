/* otlp_test_server.h - an in-process HTTP/1.1 receiver on 127.0.0.1 with scripted faults,
   for the OTLP exporter tests. One thread, poll(), several connections, keep-alive.
   Request i gets script[i] (then `dflt`): a status with headers and body, no answer at all,
   a reset in the middle of the response, or a close without one. Every request is kept
   (path, head, body, arrival time) and announced on a condition variable, so tests wait
   for events instead of sleeping. The thread stops on ts_stop() or after max_ms.       */
#ifndef OTLP_TEST_SERVER_H
#define OTLP_TEST_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { TS_RESPOND = 0, TS_HANG, TS_RESET, TS_CLOSE };

typedef struct ts_action {
    int kind;             /* TS_RESPOND (default), TS_HANG, TS_RESET, TS_CLOSE */
    int status;           /* 0 -> 200 */
    const char *headers;  /* extra header lines, each ending in \r\n */
    const void *body;
    size_t body_len;
    bool chunked;         /* send the body chunked */
    bool close_after;     /* close the connection after answering, without saying so */
    size_t content_length; /* announce this length instead of body_len (0: body_len) */
} ts_action;

#define TS_MAX_REQ 64
#define TS_MAX_CONN 16

typedef struct ts_request {
    char path[256];
    char head[4096];
    uint8_t *body;
    size_t body_len;
    int64_t at_ms;
} ts_request;

typedef struct test_server {
    int lfd, port, wake[2];
    bool listening;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ts_action script[16];
    int nscript;
    ts_action dflt;
    int requests, connections;
    ts_request req[TS_MAX_REQ];
    int64_t max_ms;
    bool stop;
} test_server;

static int64_t ts_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

typedef struct ts_conn {
    int fd;
    char *in;
    size_t len, cap;
    bool hung;
} ts_conn;

static void ts_send_all(int fd, const void *p, size_t n) {
    const char *c = (const char *)p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd pf = {fd, POLLOUT, 0};
                poll(&pf, 1, 100);
                continue;
            }
            return;
        }
        c += w;
        n -= (size_t)w;
    }
}

/* Handles complete requests in c; false when the connection is to be closed. */
static bool ts_handle(test_server *s, ts_conn *c) {
    for (;;) {
        char *end, *cl;
        size_t head, blen = 0, total;
        int idx;
        ts_action a;
        if (c->hung || c->len < 4) return true;
        c->in[c->len] = 0;
        end = strstr(c->in, "\r\n\r\n");
        if (!end) return true;
        head = (size_t)(end - c->in) + 4;
        cl = strcasestr(c->in, "\r\ncontent-length:");
        if (cl && cl < end) blen = (size_t)strtoul(cl + 17, NULL, 10);
        total = head + blen;
        if (c->len < total) return true;
        pthread_mutex_lock(&s->mu);
        idx = s->requests;
        a = idx < s->nscript ? s->script[idx] : s->dflt;
        if (idx < TS_MAX_REQ) {
            ts_request *r = &s->req[idx];
            const char *sp = strchr(c->in, ' ');
            size_t n = 0;
            if (sp) {
                sp++;
                while (sp[n] && sp[n] != ' ' && n + 1 < sizeof r->path) n++;
                memcpy(r->path, sp, n);
            }
            r->path[n] = 0;
            n = head < sizeof r->head - 1 ? head : sizeof r->head - 1;
            memcpy(r->head, c->in, n);
            r->head[n] = 0;
            r->body = (uint8_t *)malloc(blen ? blen : 1);
            if (blen) memcpy(r->body, c->in + head, blen);
            r->body_len = blen;
            r->at_ms = ts_ms();
        }
        s->requests++;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        memmove(c->in, c->in + total, c->len - total);
        c->len -= total;
        if (a.kind == TS_HANG) { c->hung = true; return true; }
        if (a.kind == TS_CLOSE) return false;
        if (a.kind == TS_RESET) {
            struct linger lg = {1, 0};
            const char *partial = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
            ts_send_all(c->fd, partial, strlen(partial));
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            return false;
        }
        {
            char h[1024];
            int n;
            size_t bl = a.body_len, cl2 = a.content_length ? a.content_length : bl;
            if (a.chunked)
                n = snprintf(h, sizeof h, "HTTP/1.1 %d X\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n%s\r\n",
                             a.status ? a.status : 200, a.headers ? a.headers : "");
            else
                n = snprintf(h, sizeof h, "HTTP/1.1 %d X\r\nContent-Type: application/x-protobuf\r\nContent-Length: %zu\r\n%s\r\n",
                             a.status ? a.status : 200, cl2, a.headers ? a.headers : "");
            ts_send_all(c->fd, h, (size_t)n);
            if (a.chunked) {
                /* the body in two chunks, with an extension and a trailer */
                size_t half = bl / 2;
                n = snprintf(h, sizeof h, "%zx;ext=1\r\n", half);
                ts_send_all(c->fd, h, (size_t)n);
                ts_send_all(c->fd, a.body, half);
                n = snprintf(h, sizeof h, "\r\n%zX\r\n", bl - half);
                ts_send_all(c->fd, h, (size_t)n);
                ts_send_all(c->fd, (const char *)a.body + half, bl - half);
                ts_send_all(c->fd, "\r\n0\r\nX-Trailer: 1\r\n\r\n", 22);
            } else if (bl) {
                ts_send_all(c->fd, a.body, bl);
            } else if (cl2) { /* announced but not provided: stream zeros */
                static const char zeros[65536];
                size_t left = cl2;
                while (left) {
                    size_t k = left < sizeof zeros ? left : sizeof zeros;
                    ts_send_all(c->fd, zeros, k);
                    left -= k;
                }
            }
        }
        if (a.close_after) return false;
    }
}

static void *ts_thread(void *arg) {
    test_server *s = (test_server *)arg;
    ts_conn conns[TS_MAX_CONN];
    int n = 0, i;
    int64_t end = ts_ms() + s->max_ms;
    memset(conns, 0, sizeof conns);
    for (;;) {
        struct pollfd p[TS_MAX_CONN + 2];
        int64_t left = end - ts_ms();
        bool listening, stop;
        pthread_mutex_lock(&s->mu);
        listening = s->listening;
        stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop || left <= 0) break;
        p[0].fd = s->wake[0]; p[0].events = POLLIN; p[0].revents = 0;
        p[1].fd = listening && n < TS_MAX_CONN ? s->lfd : -1; p[1].events = POLLIN; p[1].revents = 0;
        for (i = 0; i < n; i++) { p[i + 2].fd = conns[i].fd; p[i + 2].events = POLLIN; p[i + 2].revents = 0; }
        if (poll(p, (nfds_t)n + 2, left > 200 ? 200 : (int)left) < 0 && errno != EINTR) break;
        if (p[0].revents) {
            char b[16];
            if (read(s->wake[0], b, sizeof b) < 0) {}
        }
        for (i = 0; i < n; i++) {
            bool keep = true;
            if (p[i + 2].revents) {
                if (conns[i].cap - conns[i].len < 65537) {
                    conns[i].cap = conns[i].cap * 2 + 131072;
                    conns[i].in = (char *)realloc(conns[i].in, conns[i].cap);
                }
                {
                    ssize_t r = recv(conns[i].fd, conns[i].in + conns[i].len, 65536, 0);
                    if (r > 0) { conns[i].len += (size_t)r; keep = ts_handle(s, &conns[i]); }
                    else if (r == 0 || errno != EAGAIN) keep = false;
                }
            }
            if (!keep) {
                close(conns[i].fd);
                free(conns[i].in);
                conns[i] = conns[--n];
                p[i + 2] = p[n + 2];
                i--;
            }
        }
        if (p[1].fd >= 0 && (p[1].revents & POLLIN)) {
            int fd = accept(s->lfd, NULL, NULL);
            if (fd >= 0) {
                memset(&conns[n], 0, sizeof conns[n]);
                conns[n++].fd = fd;
                pthread_mutex_lock(&s->mu);
                s->connections++;
                pthread_mutex_unlock(&s->mu);
            }
        }
    }
    for (i = 0; i < n; i++) { close(conns[i].fd); free(conns[i].in); }
    return NULL;
}

/* Changes the script while the server runs: TS_SET(&s, dflt.status = 503). */
#define TS_SET(s, assignment) do { pthread_mutex_lock(&(s)->mu); (s)->assignment; pthread_mutex_unlock(&(s)->mu); } while (0)

/* Starts a server on 127.0.0.1 (a free port), listening unless `listen_now` is false (then
   connections are refused until ts_listen). Stops by itself after max_ms. */
static bool ts_start(test_server *s, bool listen_now, int64_t max_ms) {
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    int one = 1;
    memset(s, 0, sizeof *s);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->lfd < 0) return false;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0) return false;
    getsockname(s->lfd, (struct sockaddr *)&a, &l);
    s->port = ntohs(a.sin_port);
    if (listen_now && listen(s->lfd, 16) != 0) return false;
    s->listening = listen_now;
    if (pipe(s->wake) != 0) return false;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->max_ms = max_ms;
    return pthread_create(&s->th, NULL, ts_thread, s) == 0;
}
static void ts_listen(test_server *s) {
    listen(s->lfd, 16);
    pthread_mutex_lock(&s->mu);
    s->listening = true;
    pthread_mutex_unlock(&s->mu);
    if (write(s->wake[1], "l", 1) < 0) {}
}
/* Waits until at least n requests arrived; false after timeout_ms. */
static bool ts_wait(test_server *s, int n, int64_t timeout_ms) {
    int64_t end = ts_ms() + timeout_ms;
    bool ok;
    pthread_mutex_lock(&s->mu);
    while (s->requests < n) {
        struct timespec t;
        int64_t left = end - ts_ms();
        if (left <= 0) break;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += (time_t)(left / 1000);
        t.tv_nsec += (long)(left % 1000) * 1000000;
        if (t.tv_nsec >= 1000000000) { t.tv_sec++; t.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&s->cv, &s->mu, &t);
    }
    ok = s->requests >= n;
    pthread_mutex_unlock(&s->mu);
    return ok;
}
/* Request i, once it has arrived (waits up to 3 s; the lock orders the reads). */
static const ts_request *ts_req(test_server *s, int i) {
    static const ts_request none;
    if (i >= TS_MAX_REQ || !ts_wait(s, i + 1, 3000)) return &none;
    return &s->req[i];
}
static int ts_requests(test_server *s) {
    int n;
    pthread_mutex_lock(&s->mu);
    n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}
static int ts_connections(test_server *s) {
    int n;
    pthread_mutex_lock(&s->mu);
    n = s->connections;
    pthread_mutex_unlock(&s->mu);
    return n;
}
static void ts_stop(test_server *s) {
    int i;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    if (write(s->wake[1], "s", 1) < 0) {}
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
    for (i = 0; i < TS_MAX_REQ; i++) free(s->req[i].body);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

#endif
