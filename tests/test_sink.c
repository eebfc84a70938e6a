/* test_sink.c - tools/otlp_sink as a server (its main loop runs in a thread here):
   valid, gzip and chunked requests are decoded to JSON lines (--out), keep-alive and
   pipelined requests, Expect: 100-continue, and the errors: malformed protobuf 400 with a
   google.rpc.Status, unknown path 404, wrong method 405, OTLP/JSON printed as received
   (malformed JSON 400), oversized 413,
   malformed HTTP 400. Then otel_otlp.h's exporter posts to it. The sink stops by itself
   after --max-requests, and --max-seconds bounds it in any case. Last, --count-only: the
   spans counted, one total line at exit, no JSON.                                       */
/* tsan */
#define _GNU_SOURCE 1
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#define OTEL_OTLP_IMPLEMENTATION
#include "../otel_otlp.h"
#define OTLP_SINK_NO_MAIN
#include "../tools/otlp_sink.c"
#include "test.h"

#include <arpa/inet.h>
#include <pthread.h>

static char g_dir[256], g_port_file[300], g_out_file[300];
static int g_port;

static void *sink_thread(void *arg) {
    sink_opts *o = (sink_opts *)arg;
    (void)sink_run(o);
    return NULL;
}

static int connect_sink(void) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {5, 0};
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}
static bool send_all(int fd, const void *p, size_t n) {
    const char *c = (const char *)p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}
/* Reads one response: status, body (up to cap); -1 on error. */
static int read_response(int fd, char *body, size_t cap, size_t *blen) {
    char buf[8192];
    size_t n = 0, cl = 0, head;
    char *end, *p;
    int status;
    for (;;) {
        ssize_t r;
        buf[n] = 0;
        end = strstr(buf, "\r\n\r\n");
        if (end) break;
        r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0) return -1;
        n += (size_t)r;
    }
    head = (size_t)(end - buf) + 4;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) return -1;
    p = strcasestr(buf, "\r\ncontent-length:");
    if (p && p < end) cl = strtoul(p + 17, NULL, 10);
    while (n < head + cl) {
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0) return -1;
        n += (size_t)r;
    }
    if (body) {
        size_t k = cl < cap ? cl : cap;
        memcpy(body, buf + head, k);
        if (blen) *blen = k;
    }
    if (!strstr(buf, "Content-Type: application/x-protobuf") && !strstr(buf, "Content-Type: application/json")) return -2;
    /* anything after this response stays unread: tests send one request at a time, or
       read pipelined answers with read_response again only when the buffer is empty */
    if (n > head + cl) return 1000 + status; /* signals "more bytes buffered" */
    return status;
}
static int post(int fd, const char *path, const char *extra, const void *body, size_t n, char *resp, size_t cap) {
    char head[512];
    size_t blen = 0;
    int k = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: %zu\r\n%s\r\n",
                     path, n, extra ? extra : "");
    if (!send_all(fd, head, (size_t)k) || !send_all(fd, body, n)) return -1;
    return read_response(fd, resp, cap, &blen);
}

static size_t count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;
    if (!f) return 0;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

int main(void) {
    static sink_opts o;
    pthread_t th;
    otel_otlp_encoder *e = otel_otlp_encoder_create();
    otel_span_data s;
    const otel_span_data *sp[1] = {&s};
    otel_span_batch b;
    const uint8_t *body, *gz;
    size_t len, gzlen, i;
    char resp[512], url[64];
    int fd, st, requests = 0;
    const char *tmp = getenv("TEST_TMPDIR");
    FILE *f;

    snprintf(g_dir, sizeof g_dir, "%s/sink.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    snprintf(g_port_file, sizeof g_port_file, "%s/port", g_dir);
    snprintf(g_out_file, sizeof g_out_file, "%s/spans.jsonl", g_dir);
    o.host = "127.0.0.1";
    o.port = "0";
    o.port_file = g_port_file;
    o.out = g_out_file;
    o.max_seconds = 60;
    o.max_requests = 12; /* the sink stops after the last one below */
    o.quiet = true;
    CHECK(pthread_create(&th, NULL, sink_thread, &o) == 0);
    for (i = 0; i < 5000 && !(f = fopen(g_port_file, "r")); i++) { /* the sink writes it once listening */
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    CHECK(f != NULL);
    if (!f) return TEST_DONE();
    CHECK(fscanf(f, "%d", &g_port) == 1);
    fclose(f);

    memset(&s, 0, sizeof s);
    memset(s.trace_id, 0xab, 16);
    memset(s.span_id, 0xcd, 8);
    s.name.ptr = "sink-test";
    s.name.len = 9;
    s.kind = OTEL_SPAN_KIND_SERVER;
    s.start_time_ns = 1;
    s.end_time_ns = 2;
    memset(&b, 0, sizeof b);
    b.spans = sp;
    b.count = 1;
    CHECK(otel_otlp_encode_spans(e, &b, &body, &len) == OTEL_OK);
    {
        uint8_t *copy = (uint8_t *)malloc(len);
        memcpy(copy, body, len);
        body = copy;
    }
    CHECK(otel_otlp_gzip(e, body, len, &gz, &gzlen) == OTEL_OK);

    /* 1-2: plain and gzip on one keep-alive connection */
    fd = connect_sink();
    CHECK(fd >= 0);
    st = post(fd, "/v1/traces", NULL, body, len, resp, sizeof resp);
    CHECK(st == 200);
    st = post(fd, "/v1/traces", "Content-Encoding: gzip\r\n", gz, gzlen, resp, sizeof resp);
    CHECK(st == 200);
    requests += 2;
    /* 3: malformed protobuf: 400 with a google.rpc.Status saying why */
    {
        static const uint8_t bad[] = {0x0a, 0x05, 0x12, 0x03, 0x12, 0x01}; /* truncated */
        size_t blen = 0;
        char head[256];
        int k = snprintf(head, sizeof head, "POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n", sizeof bad);
        CHECK(send_all(fd, head, (size_t)k) && send_all(fd, bad, sizeof bad));
        st = read_response(fd, resp, sizeof resp, &blen);
        CHECK(st == 400 && blen > 4 && resp[0] == 0x08 && resp[2] == 0x12);
        requests++;
    }
    /* 4: bad gzip */
    st = post(fd, "/v1/traces", "Content-Encoding: gzip\r\n", body, len, resp, sizeof resp);
    CHECK(st == 400);
    requests++;
    /* 5: chunked request body, 6: Expect: 100-continue */
    {
        char head[256];
        int k = snprintf(head, sizeof head, "POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-protobuf\r\n"
                                            "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", len / 2);
        CHECK(send_all(fd, head, (size_t)k) && send_all(fd, body, len / 2));
        k = snprintf(head, sizeof head, "\r\n%zx;ext=1\r\n", len - len / 2);
        CHECK(send_all(fd, head, (size_t)k) && send_all(fd, body + len / 2, len - len / 2) &&
              send_all(fd, "\r\n0\r\n\r\n", 7));
        CHECK(read_response(fd, NULL, 0, NULL) == 200);
        requests++;
    }
    {
        char head[256], buf[64];
        ssize_t r;
        int k = snprintf(head, sizeof head, "POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-protobuf\r\n"
                                            "Content-Length: %zu\r\nExpect: 100-continue\r\n\r\n", len);
        CHECK(send_all(fd, head, (size_t)k));
        r = recv(fd, buf, 25, MSG_WAITALL);
        CHECK(r == 25 && !memcmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25));
        CHECK(send_all(fd, body, len) && read_response(fd, NULL, 0, NULL) == 200);
        requests++;
    }
    /* 7-8: two pipelined requests in one write */
    {
        char two[2048];
        int k = snprintf(two, sizeof two, "POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n", len);
        memcpy(two + k, body, len);
        memcpy(two + k + len, two, (size_t)k + len);
        CHECK(send_all(fd, two, 2 * ((size_t)k + len)));
        st = read_response(fd, NULL, 0, NULL);
        CHECK(st == 200 || st == 1200);
        if (st == 200) CHECK(read_response(fd, NULL, 0, NULL) == 200);
        requests += 2;
        close(fd); /* both answers may sit in read_response's buffer: start afresh */
        fd = connect_sink();
    }
    /* unknown path 404 (not counted), 9: GET 405, 10: OTLP/JSON 200 (printed as one line), 11: bad JSON 400 */
    CHECK(post(fd, "/v1/nothing", NULL, body, len, resp, sizeof resp) == 404);
    {
        const char *get = "GET /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n";
        CHECK(send_all(fd, get, strlen(get)) && read_response(fd, NULL, 0, NULL) == 405);
        requests++;
    }
    {
        const char *js = "POST /v1/logs HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n"
                         "{\"resourceLogs\":\n[ ]}\r\n";
        const char *bad = "POST /v1/metrics HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"a\":";
        CHECK(send_all(fd, js, strlen(js)) && read_response(fd, resp, sizeof resp, NULL) == 200 && !memcmp(resp, "{}", 2));
        CHECK(send_all(fd, bad, strlen(bad)) && read_response(fd, NULL, 0, NULL) == 400);
        requests += 2;
    }
    close(fd);
    /* oversized and malformed: answered and closed (not counted) */
    fd = connect_sink();
    {
        const char *big = "POST /v1/traces HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n";
        CHECK(send_all(fd, big, strlen(big)) && read_response(fd, NULL, 0, NULL) == 413);
    }
    close(fd);
    fd = connect_sink();
    CHECK(send_all(fd, "NONSENSE\r\n\r\n", 12) && read_response(fd, NULL, 0, NULL) == 400);
    close(fd);
    /* 12: the exporter itself, gzip on */
    {
        otel_otlp_desc d;
        otel_exporter x;
        memset(&d, 0, sizeof d);
        snprintf(url, sizeof url, "http://127.0.0.1:%d", g_port);
        d.endpoint = url;
        d.compression = OTEL_OTLP_COMPRESSION_GZIP;
        d.timeout_ms = 5000;
        CHECK(otel_otlp_exporter_create(&d, &x) == OTEL_OK);
        CHECK(x.export_spans(&b, x.user) == OTEL_EXPORT_SUCCESS);
        x.shutdown(100, x.user);
        requests++;
    }
    CHECK(requests == 12);
    pthread_join(th, NULL); /* the sink stops after its 12th request */
    /* spans: plain, gzip, chunked, 100-continue, two pipelined, exporter = 7 lines; 1 JSON */
    CHECK(count_lines(g_out_file) == 8);
    {
        FILE *in = fopen(g_out_file, "r");
        char line[4096];
        bool ok = in != NULL;
        int json = 0;
        while (in && fgets(line, sizeof line, in))
            if (!strcmp(line, "{\"resourceLogs\":[ ]}\n")) json++;
            else ok &= strstr(line, "\"traceId\":\"abababababababababababababababab\"") != NULL &&
                  strstr(line, "\"name\":\"sink-test\"") != NULL && strstr(line, "\"kind\":2") != NULL;
        if (in) fclose(in);
        CHECK(ok && json == 1);
    }
    /* --count-only: the same requests are checked and counted, nothing printed but the total */
    {
        static sink_opts c;
        const otel_span_data *three[3] = {&s, &s, &s};
        otel_span_batch b3 = b;
        const uint8_t *body3;
        size_t len3;
        char line[256] = "";
        static const uint8_t bad[] = {0x0a, 0x05, 0x12, 0x03, 0x12, 0x01};
        b3.spans = three;
        b3.count = 3;
        remove(g_port_file);
        remove(g_out_file);
        c = o;
        c.count_only = true;
        c.max_requests = 3;
        CHECK(pthread_create(&th, NULL, sink_thread, &c) == 0);
        for (i = 0; i < 5000 && !(f = fopen(g_port_file, "r")); i++) {
            struct timespec t = {0, 1000000};
            nanosleep(&t, NULL);
        }
        CHECK(f != NULL);
        if (f) {
            CHECK(fscanf(f, "%d", &g_port) == 1);
            fclose(f);
        }
        CHECK(otel_otlp_encode_spans(e, &b3, &body3, &len3) == OTEL_OK);
        fd = connect_sink();
        CHECK(fd >= 0);
        CHECK(post(fd, "/v1/traces", NULL, body3, len3, resp, sizeof resp) == 200);
        CHECK(otel_otlp_gzip(e, body3, len3, &gz, &gzlen) == OTEL_OK);
        CHECK(post(fd, "/v1/traces", "Content-Encoding: gzip\r\n", gz, gzlen, resp, sizeof resp) == 200);
        CHECK(post(fd, "/v1/traces", NULL, bad, sizeof bad, resp, sizeof resp) == 400);
        close(fd);
        pthread_join(th, NULL);
        f = fopen(g_out_file, "r");
        CHECK(f && fgets(line, sizeof line, f) && !strcmp(line, "3 requests, 6 spans\n"));
        CHECK(f && !fgets(line, sizeof line, f)); /* one line, no JSON */
        if (f) fclose(f);
    }
    free((void *)body);
    otel_otlp_encoder_destroy(e);
    {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) {}
    }
    return TEST_DONE();
}
