/* otlp_sink - a small OTLP/HTTP receiver for development: run it instead of a collector
   and see what your program exports. No dependencies (its own inflate and protobuf
   decoder), never crashes on any input (fuzzed: make fuzz).

       build/tools/otlp_sink                       listen on 127.0.0.1:4318
       OTEL_TRACES_EXPORTER=otlp ./your_program    (default endpoint http://localhost:4318)

   Each span, metric data point and log record received is printed as one JSON line, its
   resource and scope attached (attributes as a JSON object, AnyValue arrays as arrays,
   bytes as base64, 64-bit times as decimal strings, ids as hex, NaN/Infinity as strings):
     span:    {"resource":{..},"scope":{"name":"s","version":"","attributes":{}},"traceId":"..",
               "spanId":"..","parentSpanId":"","traceState":"","name":"..","kind":2,
               "startTimeUnixNano":"..","endTimeUnixNano":"..","flags":257,"attributes":{..},
               "droppedAttributesCount":0,"events":[..],"droppedEventsCount":0,"links":[..],
               "droppedLinksCount":0,"status":{"code":0,"message":""}}
     point:   {"resource":{..},"scope":{..},"metric":{"name":"..","description":"..","unit":"..",
               "type":"sum","aggregationTemporality":2,"isMonotonic":true},"attributes":{..},
               "startTimeUnixNano":"..","timeUnixNano":"..","asInt":5,"flags":0}
              type gauge|sum|histogram|exponential_histogram|summary; aggregationTemporality
              for sum and the histograms, isMonotonic for sum; the value: gauge and sum
              "asInt":N or "asDouble":X; histogram "count":N,"sum":X|null,"bucketCounts":[..],
              "explicitBounds":[..],"min":X|null,"max":X|null; exponential_histogram count,
              sum, min, max; summary count, sum (their buckets and quantiles are not shown)
     log:     {"resource":{..},"scope":{..},"timeUnixNano":"..","observedTimeUnixNano":"..",
               "severityNumber":9,"severityText":"INFO","body":<value>|null,"attributes":{..},
               "droppedAttributesCount":0,"flags":1,"traceId":"<hex>|","spanId":"<hex>|",
               "eventName":""}
   OTLP/JSON requests (Content-Type application/json) are checked for JSON syntax and
   printed as received, one line per request.

   Options:
       --host ADDR        address to bind [127.0.0.1]; 0.0.0.0 or :: to accept others
       --port N           port [4318]; 0 picks a free one (see --port-file)
       --port-file FILE   write the bound port to FILE once listening
       --out FILE         append the JSON lines to FILE instead of stdout
       --max-seconds N    exit by itself after N seconds
       --max-requests N   exit after N requests to a known path
       --quiet            no per-request line on stderr
       --count-only       check the message structure and count the spans, print no JSON;
                          at exit write one line "N requests, N spans" (to --out or stdout;
                          ", N data points" / ", N log records" added when some came).
                          For load tests: far cheaper per span than the JSON lines

   Accepts POST /v1/traces, /v1/metrics and /v1/logs with Content-Type
   application/x-protobuf or application/json, gzip or not; answers 200 with an empty
   Export*ServiceResponse ("{}" for JSON). Malformed bodies: 400 with a google.rpc.Status
   message; unknown paths 404; other content types 415. --count-only counts data points
   and log records too (by a full decode: only spans have the cheap counter).            */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#ifdef OTLP_SINK_NO_MAIN /* included by a test or the fuzz target for its decoder */
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SINK_MAX_BODY (64u << 20)     /* OTLP: requests up to 64 MiB (before compression) */
#define SINK_MAX_HEAD (64u << 10)
#define SINK_MAX_CLIENTS 128
#define SINK_IDLE_MS 60000
#define SINK_MAX_DEPTH 32             /* nested AnyValue arrays / kvlists */

/* ==== [buf] ======================================================================= */

typedef struct sink_buf {
    char *p;
    size_t len, cap;
    bool oom;
} sink_buf;

static void sink_buf_add(sink_buf *b, const void *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *p;
        while (cap < b->len + n + 1) cap *= 2;
        p = (char *)realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void sink_buf_str(sink_buf *b, const char *s) { sink_buf_add(b, s, strlen(s)); }
static void sink_buf_fmt(sink_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sink_buf_fmt(sink_buf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) sink_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
static void sink_buf_free(sink_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ==== [inflate] =================================================================== */

/* RFC 1951 decoder after Mark Adler's puff.c: canonical Huffman tables as counts per
   length plus symbols, decoded bit by bit. Slow but small and strict; every read is
   bounds-checked and the output is capped. */

typedef struct sink_inf {
    const uint8_t *in;
    size_t n, pos;
    uint32_t bitbuf;
    int bitcnt;
    bool eof;
    sink_buf *out;
    size_t max;
} sink_inf;

typedef struct sink_huff {
    short count[16];
    short symbol[288];
} sink_huff;

static int sink_bits(sink_inf *s, int need) {
    uint32_t v = s->bitbuf;
    while (s->bitcnt < need) {
        if (s->pos >= s->n) { s->eof = true; return 0; }
        v |= (uint32_t)s->in[s->pos++] << s->bitcnt;
        s->bitcnt += 8;
    }
    s->bitbuf = v >> need;
    s->bitcnt -= need;
    return (int)(v & ((1u << need) - 1));
}

/* 0 complete, > 0 incomplete, < 0 over-subscribed. */
static int sink_construct(sink_huff *h, const short *length, int n) {
    short offs[16];
    int symbol, len, left;
    for (len = 0; len < 16; len++) h->count[len] = 0;
    for (symbol = 0; symbol < n; symbol++) h->count[length[symbol]]++;
    if (h->count[0] == n) return 0;
    left = 1;
    for (len = 1; len < 16; len++) {
        left <<= 1;
        left -= h->count[len];
        if (left < 0) return left;
    }
    offs[1] = 0;
    for (len = 1; len < 15; len++) offs[len + 1] = (short)(offs[len] + h->count[len]);
    for (symbol = 0; symbol < n; symbol++)
        if (length[symbol] != 0) h->symbol[offs[length[symbol]]++] = (short)symbol;
    return left;
}

static int sink_decode_sym(sink_inf *s, const sink_huff *h) {
    int code = 0, first = 0, index = 0, len;
    for (len = 1; len < 16; len++) {
        int count;
        code |= sink_bits(s, 1);
        if (s->eof) return -1;
        count = h->count[len];
        if (code - count < first) return h->symbol[index + (code - first)];
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
    }
    return -1;
}

static const short sink_lbase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                     35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const short sink_lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const short sink_dbase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385,
                                     513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const short sink_dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static const char *sink_codes(sink_inf *s, const sink_huff *lc, const sink_huff *dc) {
    for (;;) {
        int sym = sink_decode_sym(s, lc);
        if (sym < 0) return "bad literal/length code";
        if (sym < 256) {
            uint8_t c = (uint8_t)sym;
            if (s->out->len >= s->max) return "too large";
            sink_buf_add(s->out, &c, 1);
        } else if (sym == 256) {
            return NULL;
        } else {
            int len, dist, d;
            size_t i, from;
            sym -= 257;
            if (sym >= 29) return "bad length code";
            len = sink_lbase[sym] + sink_bits(s, sink_lext[sym]);
            d = sink_decode_sym(s, dc);
            if (d < 0 || d >= 30) return "bad distance code";
            dist = sink_dbase[d] + sink_bits(s, sink_dext[d]);
            if (s->eof) return "truncated";
            if ((size_t)dist > s->out->len) return "distance too far back";
            if (s->out->len + (size_t)len > s->max) return "too large";
            from = s->out->len - (size_t)dist;
            for (i = 0; i < (size_t)len; i++) { /* may overlap: byte by byte */
                char c = s->out->p[from + i];
                sink_buf_add(s->out, &c, 1);
            }
        }
        if (s->out->oom) return "out of memory";
    }
}

static const char *sink_inflate(const uint8_t *in, size_t n, size_t *used, sink_buf *out, size_t max) {
    static const short order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    sink_inf s;
    sink_huff lc, dc;
    int last;
    memset(&s, 0, sizeof s);
    s.in = in; s.n = n; s.out = out; s.max = max;
    do {
        int type;
        const char *err = NULL;
        last = sink_bits(&s, 1);
        type = sink_bits(&s, 2);
        if (s.eof) return "truncated";
        if (type == 0) { /* stored */
            unsigned len, nlen;
            s.bitbuf = 0;
            s.bitcnt = 0;
            if (s.pos + 4 > s.n) return "truncated";
            len = s.in[s.pos] | (unsigned)s.in[s.pos + 1] << 8;
            nlen = s.in[s.pos + 2] | (unsigned)s.in[s.pos + 3] << 8;
            s.pos += 4;
            if (len != (~nlen & 0xffff)) return "bad stored block length";
            if (s.pos + len > s.n) return "truncated";
            if (out->len + len > max) return "too large";
            sink_buf_add(out, s.in + s.pos, len);
            s.pos += len;
        } else if (type == 1) { /* fixed */
            short lengths[288];
            int i;
            for (i = 0; i < 144; i++) lengths[i] = 8;
            for (; i < 256; i++) lengths[i] = 9;
            for (; i < 280; i++) lengths[i] = 7;
            for (; i < 288; i++) lengths[i] = 8;
            sink_construct(&lc, lengths, 288);
            for (i = 0; i < 30; i++) lengths[i] = 5;
            sink_construct(&dc, lengths, 30);
            err = sink_codes(&s, &lc, &dc);
        } else if (type == 2) { /* dynamic */
            short lengths[320];
            int nlen, ndist, ncode, i, r;
            nlen = sink_bits(&s, 5) + 257;
            ndist = sink_bits(&s, 5) + 1;
            ncode = sink_bits(&s, 4) + 4;
            if (s.eof) return "truncated";
            if (nlen > 286 || ndist > 30) return "bad counts";
            for (i = 0; i < 19; i++) lengths[order[i]] = (short)(i < ncode ? sink_bits(&s, 3) : 0);
            if (s.eof) return "truncated";
            if (sink_construct(&lc, lengths, 19) != 0) return "bad code-length code";
            for (i = 0; i < nlen + ndist;) {
                int sym = sink_decode_sym(&s, &lc), len = 0, rep;
                if (sym < 0) return "bad code length";
                if (sym < 16) { lengths[i++] = (short)sym; continue; }
                if (sym == 16) {
                    if (i == 0) return "repeat with no first length";
                    len = lengths[i - 1];
                    rep = 3 + sink_bits(&s, 2);
                } else if (sym == 17) {
                    rep = 3 + sink_bits(&s, 3);
                } else {
                    rep = 11 + sink_bits(&s, 7);
                }
                if (s.eof) return "truncated";
                if (i + rep > nlen + ndist) return "too many lengths";
                while (rep--) lengths[i++] = (short)len;
            }
            if (lengths[256] == 0) return "no end-of-block code";
            r = sink_construct(&lc, lengths, nlen);
            if (r < 0 || (r > 0 && nlen - lc.count[0] != 1)) return "bad literal/length lengths";
            r = sink_construct(&dc, lengths + nlen, ndist);
            if (r < 0 || (r > 0 && ndist - dc.count[0] != 1)) return "bad distance lengths";
            err = sink_codes(&s, &lc, &dc);
        } else {
            return "bad block type";
        }
        if (err) return err;
        if (out->oom) return "out of memory";
    } while (!last);
    *used = s.pos;
    return NULL;
}

static uint32_t sink_crc32(const uint8_t *p, size_t n) {
    static uint32_t table[256];
    static bool ready;
    uint32_t c = 0xffffffffu;
    if (!ready) {
        uint32_t i, k, v;
        for (i = 0; i < 256; i++) {
            v = i;
            for (k = 0; k < 8; k++) v = (v & 1) ? 0xEDB88320u ^ (v >> 1) : v >> 1;
            table[i] = v;
        }
        ready = true;
    }
    while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

/* gzip (RFC 1952), one or more members. NULL on success, else why not. */
static const char *sink_gunzip(const uint8_t *in, size_t n, sink_buf *out, size_t max) {
    size_t pos = 0;
    do {
        size_t used = 0, start = out->len;
        uint8_t flg;
        const char *err;
        uint32_t crc, isize;
        if (n - pos < 18) return "gzip: truncated";
        if (in[pos] != 0x1f || in[pos + 1] != 0x8b || in[pos + 2] != 8) return "gzip: bad header";
        flg = in[pos + 3];
        if (flg & 0xe0) return "gzip: reserved flags";
        pos += 10;
        if (flg & 4) { /* FEXTRA */
            size_t xl;
            if (n - pos < 2) return "gzip: truncated";
            xl = in[pos] | (size_t)in[pos + 1] << 8;
            if (n - pos - 2 < xl) return "gzip: truncated";
            pos += 2 + xl;
        }
        if (flg & 8) { while (pos < n && in[pos]) pos++; pos++; } /* FNAME */
        if (flg & 16) { while (pos < n && in[pos]) pos++; pos++; } /* FCOMMENT */
        if (flg & 2) pos += 2;                                      /* FHCRC */
        if (pos > n) return "gzip: truncated";
        err = sink_inflate(in + pos, n - pos, &used, out, max);
        if (err) return err;
        pos += used;
        if (n - pos < 8) return "gzip: truncated trailer";
        crc = in[pos] | (uint32_t)in[pos + 1] << 8 | (uint32_t)in[pos + 2] << 16 | (uint32_t)in[pos + 3] << 24;
        isize = in[pos + 4] | (uint32_t)in[pos + 5] << 8 | (uint32_t)in[pos + 6] << 16 | (uint32_t)in[pos + 7] << 24;
        pos += 8;
        if (crc != (out->p ? sink_crc32((const uint8_t *)out->p + start, out->len - start) : sink_crc32(NULL, 0)))
            return "gzip: CRC mismatch";
        if (isize != (uint32_t)(out->len - start)) return "gzip: length mismatch";
    } while (pos < n);
    return NULL;
}

/* ==== [pb] ======================================================================== */

/* A strict protobuf reader: known fields must have their declared wire type, groups and
   field 0 are errors, unknown fields are skipped. */

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

typedef struct sink_pb {
    const uint8_t *p, *end;
} sink_pb;

typedef struct sink_field {
    uint32_t num, wire;
    uint64_t v;           /* varint / fixed value */
    const uint8_t *data;  /* LEN payload */
    size_t len;
} sink_field;

typedef struct sink_ctx {
    char err[160];
    int depth;
} sink_ctx;

static bool sink_fail(sink_ctx *c, const char *what) {
    if (!c->err[0]) snprintf(c->err, sizeof c->err, "%s", what);
    return false;
}

static bool sink_varint(sink_pb *r, uint64_t *v) {
    int shift;
    *v = 0;
    for (shift = 0; shift < 70 && r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1) return false;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

/* Next field into f: 1, 0 at the end, -1 malformed (reason in c). */
static int sink_next(sink_pb *r, sink_field *f, sink_ctx *c) {
    uint64_t tag, n;
    int i;
    if (r->p >= r->end) return 0;
    if (!sink_varint(r, &tag)) return sink_fail(c, "truncated or overlong varint tag"), -1;
    f->num = (uint32_t)(tag >> 3);
    f->wire = (uint32_t)(tag & 7);
    f->v = 0;
    f->data = NULL;
    f->len = 0;
    if (f->num == 0 || tag >> 3 > 536870911u) return sink_fail(c, "field number 0 or too large"), -1;
    switch (f->wire) {
    case PB_VARINT:
        if (!sink_varint(r, &f->v)) return sink_fail(c, "truncated varint"), -1;
        return 1;
    case PB_I64:
    case PB_I32:
        n = f->wire == PB_I64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n) return sink_fail(c, "truncated fixed field"), -1;
        for (i = (int)n - 1; i >= 0; i--) f->v = (f->v << 8) | r->p[i];
        r->p += n;
        return 1;
    case PB_LEN:
        if (!sink_varint(r, &n)) return sink_fail(c, "truncated length"), -1;
        if (n > (uint64_t)(r->end - r->p)) return sink_fail(c, "length past the end of the message"), -1;
        f->data = r->p;
        f->len = (size_t)n;
        r->p += n;
        return 1;
    default: return sink_fail(c, "unsupported wire type (groups are not used by OTLP)"), -1;
    }
}

static bool sink_want(const sink_field *f, uint32_t wire, const char *msg, sink_ctx *c) {
    if (f->wire == wire) return true;
    snprintf(c->err, sizeof c->err, "%s field %u has wire type %u, expected %u", msg, f->num, f->wire, wire);
    return false;
}

static bool sink_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        uint32_t cp;
        int k, need;
        if (b < 0x80) { i++; continue; }
        if (b >= 0xc2 && b <= 0xdf) { need = 1; cp = b & 0x1f; }
        else if (b >= 0xe0 && b <= 0xef) { need = 2; cp = b & 0x0f; }
        else if (b >= 0xf0 && b <= 0xf4) { need = 3; cp = b & 0x07; }
        else return false;
        if (n - i <= (size_t)need) return false;
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += (size_t)need + 1;
    }
    return true;
}

/* ==== [json] ====================================================================== */

static void sink_json_str(sink_buf *b, const uint8_t *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    sink_buf_add(b, "\"", 1);
    for (i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f) { run++; continue; }
        sink_buf_add(b, s + i - run, run);
        run = 0;
        if (ch == '"') sink_buf_add(b, "\\\"", 2);
        else if (ch == '\\') sink_buf_add(b, "\\\\", 2);
        else if (ch == '\n') sink_buf_add(b, "\\n", 2);
        else if (ch == '\r') sink_buf_add(b, "\\r", 2);
        else if (ch == '\t') sink_buf_add(b, "\\t", 2);
        else {
            char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            sink_buf_add(b, e, 6);
        }
    }
    sink_buf_add(b, s + n - run, run);
    sink_buf_add(b, "\"", 1);
}
static void sink_json_hex(sink_buf *b, const uint8_t *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t i;
    sink_buf_add(b, "\"", 1);
    for (i = 0; i < n; i++) {
        char t[2] = {hex[s[i] >> 4], hex[s[i] & 15]};
        sink_buf_add(b, t, 2);
    }
    sink_buf_add(b, "\"", 1);
}
static void sink_json_base64(sink_buf *b, const uint8_t *s, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    sink_buf_add(b, "\"", 1);
    for (i = 0; i + 2 < n; i += 3) {
        char t[4] = {tab[s[i] >> 2], tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)], tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)],
                     tab[s[i + 2] & 63]};
        sink_buf_add(b, t, 4);
    }
    if (n - i == 1) {
        char t[4] = {tab[s[i] >> 2], tab[(s[i] & 3) << 4], '=', '='};
        sink_buf_add(b, t, 4);
    } else if (n - i == 2) {
        char t[4] = {tab[s[i] >> 2], tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)], tab[(s[i + 1] & 15) << 2], '='};
        sink_buf_add(b, t, 4);
    }
    sink_buf_add(b, "\"", 1);
}
static void sink_json_double(sink_buf *b, uint64_t bits) {
    double d;
    memcpy(&d, &bits, 8);
    if (d != d) sink_buf_str(b, "\"NaN\"");
    else if (d > 1.7976931348623157e308) sink_buf_str(b, "\"Infinity\"");
    else if (d < -1.7976931348623157e308) sink_buf_str(b, "\"-Infinity\"");
    else sink_buf_fmt(b, "%.17g", d);
}

/* ==== [otlp] ====================================================================== */

/* Decoders append JSON to `out`; false (reason in c->err) when the message is invalid. */

static bool sink_string(const sink_field *f, const char *what, sink_ctx *c) {
    if (!sink_want(f, PB_LEN, what, c)) return false;
    if (!sink_utf8(f->data, f->len)) {
        snprintf(c->err, sizeof c->err, "invalid UTF-8 in %s field %u", what, f->num);
        return false;
    }
    return true;
}

static bool sink_kvlist(const uint8_t *p, size_t n, sink_buf *out, sink_ctx *c, uint32_t field, const char *what);

/* common.proto AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7. */
static bool sink_anyvalue(const uint8_t *p, size_t n, sink_buf *out, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f;
    sink_buf v = {NULL, 0, 0, false};
    int k;
    bool ok = true, any = false;
    if (++c->depth > SINK_MAX_DEPTH) { c->depth--; return sink_fail(c, "AnyValue nested too deeply"); }
    while (ok && (k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) { ok = false; break; }
        if (f.num < 1 || f.num > 7) continue; /* e.g. string_value_strindex: not ours to show */
        v.len = 0; /* oneof: the last one wins */
        any = true;
        switch (f.num) {
        case 1: ok = sink_string(&f, "AnyValue", c); if (ok) sink_json_str(&v, f.data, f.len); break;
        case 2: ok = sink_want(&f, PB_VARINT, "AnyValue", c); sink_buf_str(&v, f.v ? "true" : "false"); break;
        case 3: ok = sink_want(&f, PB_VARINT, "AnyValue", c); sink_buf_fmt(&v, "%lld", (long long)(int64_t)f.v); break;
        case 4: ok = sink_want(&f, PB_I64, "AnyValue", c); sink_json_double(&v, f.v); break;
        case 5: { /* ArrayValue.values = 1 */
            sink_pb a;
            sink_field e;
            int j, count = 0;
            ok = sink_want(&f, PB_LEN, "AnyValue", c);
            if (!ok) break;
            a.p = f.data; a.end = f.data + f.len;
            sink_buf_str(&v, "[");
            while (ok && (j = sink_next(&a, &e, c)) != 0) {
                if (j < 0) { ok = false; break; }
                if (e.num != 1) continue;
                if (!(ok = sink_want(&e, PB_LEN, "ArrayValue", c))) break;
                if (count++) sink_buf_str(&v, ",");
                ok = sink_anyvalue(e.data, e.len, &v, c);
            }
            sink_buf_str(&v, "]");
            break;
        }
        case 6: /* KeyValueList.values = 1 */
            ok = sink_want(&f, PB_LEN, "AnyValue", c) && sink_kvlist(f.data, f.len, &v, c, 1, "KeyValueList");
            break;
        case 7: ok = sink_want(&f, PB_LEN, "AnyValue", c); if (ok) sink_json_base64(&v, f.data, f.len); break;
        }
    }
    c->depth--;
    if (ok) {
        if (any && v.len) sink_buf_add(out, v.p, v.len);
        else sink_buf_str(out, "null");
    }
    sink_buf_free(&v);
    return ok;
}

/* KeyValue: key 1, value 2. Appends "key":value. */
static bool sink_keyvalue(const uint8_t *p, size_t n, sink_buf *out, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, key = {0, 0, 0, (const uint8_t *)"", 0}, val = {0, 0, 0, NULL, 0};
    int k;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_string(&f, "KeyValue", c)) return false; key = f; }
        else if (f.num == 2) { if (!sink_want(&f, PB_LEN, "KeyValue", c)) return false; val = f; }
    }
    sink_json_str(out, key.data, key.len);
    sink_buf_str(out, ":");
    if (val.data) return sink_anyvalue(val.data, val.len, out, c);
    sink_buf_str(out, "null");
    return true;
}

/* Every `field` (a KeyValue) of the message as one JSON object. */
static bool sink_kvlist(const uint8_t *p, size_t n, sink_buf *out, sink_ctx *c, uint32_t field, const char *what) {
    sink_pb r = {p, p + n};
    sink_field f;
    int k, count = 0;
    sink_buf_str(out, "{");
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num != field) continue;
        if (!sink_want(&f, PB_LEN, what, c)) return false;
        if (count++) sink_buf_str(out, ",");
        if (!sink_keyvalue(f.data, f.len, out, c)) return false;
    }
    sink_buf_str(out, "}");
    return true;
}

static bool sink_id(const sink_field *f, size_t want, const char *what, sink_ctx *c) {
    if (!sink_want(f, PB_LEN, what, c)) return false;
    if (f->len != want) {
        snprintf(c->err, sizeof c->err, "%s field %u: id of %zu bytes, expected %zu", what, f->num, f->len, want);
        return false;
    }
    return true;
}

/* A uint32 count (dropped_*): varint. */
static bool sink_u32(const sink_field *f, uint64_t *dst, const char *what, sink_ctx *c) {
    if (!sink_want(f, PB_VARINT, what, c)) return false;
    *dst = (uint32_t)f->v;
    return true;
}

/* Span.Event: time 1 (fixed64), name 2, attributes 3, dropped 4. */
static bool sink_event(const uint8_t *p, size_t n, sink_buf *out, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, name = {0, 0, 0, (const uint8_t *)"", 0};
    uint64_t t = 0, dropped = 0;
    int k;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_want(&f, PB_I64, "Event", c)) return false; t = f.v; }
        else if (f.num == 2) { if (!sink_string(&f, "Event", c)) return false; name = f; }
        else if (f.num == 3) { if (!sink_want(&f, PB_LEN, "Event", c)) return false; }
        else if (f.num == 4) { if (!sink_u32(&f, &dropped, "Event", c)) return false; }
    }
    sink_buf_fmt(out, "{\"timeUnixNano\":\"%llu\",\"name\":", (unsigned long long)t);
    sink_json_str(out, name.data, name.len);
    sink_buf_str(out, ",\"attributes\":");
    if (!sink_kvlist(p, n, out, c, 3, "Event")) return false;
    sink_buf_fmt(out, ",\"droppedAttributesCount\":%llu}", (unsigned long long)dropped);
    return true;
}

/* Span.Link: trace_id 1, span_id 2, trace_state 3, attributes 4, dropped 5, flags 6. */
static bool sink_link(const uint8_t *p, size_t n, sink_buf *out, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, tid = {0, 0, 0, (const uint8_t *)"", 0}, sid = tid, ts = tid;
    uint64_t dropped = 0, flags = 0;
    int k;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        switch (f.num) {
        case 1: if (!sink_id(&f, 16, "Link", c)) return false; tid = f; break;
        case 2: if (!sink_id(&f, 8, "Link", c)) return false; sid = f; break;
        case 3: if (!sink_string(&f, "Link", c)) return false; ts = f; break;
        case 4: if (!sink_want(&f, PB_LEN, "Link", c)) return false; break;
        case 5: if (!sink_u32(&f, &dropped, "Link", c)) return false; break;
        case 6: if (!sink_want(&f, PB_I32, "Link", c)) return false; flags = f.v; break;
        }
    }
    sink_buf_str(out, "{\"traceId\":");
    sink_json_hex(out, tid.data, tid.len);
    sink_buf_str(out, ",\"spanId\":");
    sink_json_hex(out, sid.data, sid.len);
    sink_buf_str(out, ",\"traceState\":");
    sink_json_str(out, ts.data, ts.len);
    sink_buf_str(out, ",\"attributes\":");
    if (!sink_kvlist(p, n, out, c, 4, "Link")) return false;
    sink_buf_fmt(out, ",\"droppedAttributesCount\":%llu,\"flags\":%llu}", (unsigned long long)dropped,
                 (unsigned long long)flags);
    return true;
}

/* Status: message 2, code 3. */
static bool sink_status(const uint8_t *p, size_t n, uint64_t *code, sink_field *msg, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f;
    int k;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num == 2) { if (!sink_string(&f, "Status", c)) return false; *msg = f; }
        else if (f.num == 3) { if (!sink_want(&f, PB_VARINT, "Status", c)) return false; *code = (uint32_t)f.v; }
    }
    return true;
}

/* Every `field` of the message (a LEN submessage), each through fn, as a JSON array. */
static bool sink_list(const uint8_t *p, size_t n, uint32_t field, bool (*fn)(const uint8_t *, size_t, sink_buf *, sink_ctx *),
                      sink_buf *out, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f;
    int k, count = 0;
    sink_buf_str(out, "[");
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num != field) continue;
        if (count++) sink_buf_str(out, ",");
        if (!fn(f.data, f.len, out, c)) return false;
    }
    sink_buf_str(out, "]");
    return true;
}

/* trace.proto Span. `prefix` holds the resource and scope members of the line. */
static bool sink_span(const uint8_t *p, size_t n, const sink_buf *prefix, sink_buf *out, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, empty = {0, 0, 0, (const uint8_t *)"", 0};
    sink_field tid = empty, sid = empty, ts = empty, pid = empty, name = empty, smsg = empty;
    uint64_t kind = 0, start = 0, end = 0, da = 0, de = 0, dl = 0, flags = 0, scode = 0;
    bool has_tid = false, has_sid = false;
    int k;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        switch (f.num) {
        case 1: if (!sink_id(&f, 16, "Span", c)) return false; tid = f; has_tid = true; break;
        case 2: if (!sink_id(&f, 8, "Span", c)) return false; sid = f; has_sid = true; break;
        case 3: if (!sink_string(&f, "Span", c)) return false; ts = f; break;
        case 4:
            if (!sink_want(&f, PB_LEN, "Span", c)) return false;
            if (f.len && !sink_id(&f, 8, "Span", c)) return false;
            pid = f;
            break;
        case 5: if (!sink_string(&f, "Span", c)) return false; name = f; break;
        case 6: if (!sink_want(&f, PB_VARINT, "Span", c)) return false; kind = (uint32_t)f.v; break;
        case 7: if (!sink_want(&f, PB_I64, "Span", c)) return false; start = f.v; break;
        case 8: if (!sink_want(&f, PB_I64, "Span", c)) return false; end = f.v; break;
        case 9: case 11: case 13: if (!sink_want(&f, PB_LEN, "Span", c)) return false; break;
        case 10: if (!sink_u32(&f, &da, "Span", c)) return false; break;
        case 12: if (!sink_u32(&f, &de, "Span", c)) return false; break;
        case 14: if (!sink_u32(&f, &dl, "Span", c)) return false; break;
        case 15:
            if (!sink_want(&f, PB_LEN, "Span", c) || !sink_status(f.data, f.len, &scode, &smsg, c)) return false;
            break;
        case 16: if (!sink_want(&f, PB_I32, "Span", c)) return false; flags = f.v; break;
        }
    }
    if (!has_tid || !has_sid) return sink_fail(c, "span without trace_id or span_id");
    sink_buf_str(out, "{");
    sink_buf_add(out, prefix->p, prefix->len);
    sink_buf_str(out, "\"traceId\":");
    sink_json_hex(out, tid.data, tid.len);
    sink_buf_str(out, ",\"spanId\":");
    sink_json_hex(out, sid.data, sid.len);
    sink_buf_str(out, ",\"parentSpanId\":");
    sink_json_hex(out, pid.data, pid.len);
    sink_buf_str(out, ",\"traceState\":");
    sink_json_str(out, ts.data, ts.len);
    sink_buf_str(out, ",\"name\":");
    sink_json_str(out, name.data, name.len);
    sink_buf_fmt(out, ",\"kind\":%llu,\"startTimeUnixNano\":\"%llu\",\"endTimeUnixNano\":\"%llu\",\"flags\":%llu",
                 (unsigned long long)kind, (unsigned long long)start, (unsigned long long)end, (unsigned long long)flags);
    sink_buf_str(out, ",\"attributes\":");
    if (!sink_kvlist(p, n, out, c, 9, "Span")) return false;
    sink_buf_fmt(out, ",\"droppedAttributesCount\":%llu,\"events\":", (unsigned long long)da);
    if (!sink_list(p, n, 11, sink_event, out, c)) return false;
    sink_buf_fmt(out, ",\"droppedEventsCount\":%llu,\"links\":", (unsigned long long)de);
    if (!sink_list(p, n, 13, sink_link, out, c)) return false;
    sink_buf_fmt(out, ",\"droppedLinksCount\":%llu,\"status\":{\"code\":%llu,\"message\":", (unsigned long long)dl,
                 (unsigned long long)scode);
    sink_json_str(out, smsg.data, smsg.len);
    sink_buf_str(out, "}}\n");
    return true;
}

/* InstrumentationScope: name 1, version 2 (attributes 3, dropped 4 shown when present). */
static bool sink_scope(const uint8_t *p, size_t n, sink_buf *out, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, name = {0, 0, 0, (const uint8_t *)"", 0}, version = name;
    int k;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_string(&f, "InstrumentationScope", c)) return false; name = f; }
        else if (f.num == 2) { if (!sink_string(&f, "InstrumentationScope", c)) return false; version = f; }
        else if (f.num == 3 && !sink_want(&f, PB_LEN, "InstrumentationScope", c)) return false;
    }
    sink_buf_str(out, "\"scope\":{\"name\":");
    sink_json_str(out, name.data, name.len);
    sink_buf_str(out, ",\"version\":");
    sink_json_str(out, version.data, version.len);
    sink_buf_str(out, ",\"attributes\":");
    if (!sink_kvlist(p, n, out, c, 3, "InstrumentationScope")) return false;
    sink_buf_str(out, "},");
    return true;
}

/* ScopeSpans: scope 1, spans 2, schema_url 3. */
static bool sink_scope_spans(const uint8_t *p, size_t n, const sink_buf *res, sink_buf *out, size_t *count, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, scope = {0, 0, 0, NULL, 0};
    sink_buf prefix = {NULL, 0, 0, false};
    int k;
    bool ok = true;
    while ((k = sink_next(&r, &f, c)) != 0) { /* the scope may come after the spans */
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_want(&f, PB_LEN, "ScopeSpans", c)) return false; scope = f; }
        else if (f.num == 2) { if (!sink_want(&f, PB_LEN, "ScopeSpans", c)) return false; }
        else if (f.num == 3 && !sink_string(&f, "ScopeSpans", c)) return false;
    }
    sink_buf_add(&prefix, res->p, res->len);
    ok = sink_scope(scope.data ? scope.data : (const uint8_t *)"", scope.len, &prefix, c);
    r.p = p;
    while (ok && (k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) { ok = false; break; }
        if (f.num != 2) continue;
        ok = sink_span(f.data, f.len, &prefix, out, c);
        (*count)++;
    }
    if (prefix.oom) ok = sink_fail(c, "out of memory");
    sink_buf_free(&prefix);
    return ok;
}

/* ResourceSpans: resource 1 {attributes 1, dropped 2}, scope_spans 2, schema_url 3. */
static bool sink_resource_spans(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, resource = {0, 0, 0, NULL, 0};
    sink_buf res = {NULL, 0, 0, false};
    int k;
    bool ok = true;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_want(&f, PB_LEN, "ResourceSpans", c)) return false; resource = f; }
        else if (f.num == 2) { if (!sink_want(&f, PB_LEN, "ResourceSpans", c)) return false; }
        else if (f.num == 3 && !sink_string(&f, "ResourceSpans", c)) return false;
    }
    sink_buf_str(&res, "\"resource\":");
    if (resource.data) {
        sink_pb rr = {resource.data, resource.data + resource.len};
        while (ok && (k = sink_next(&rr, &f, c)) != 0) { /* check field types */
            if (k < 0) ok = false;
            else if (f.num == 1) ok = sink_want(&f, PB_LEN, "Resource", c);
            else if (f.num == 2) ok = sink_want(&f, PB_VARINT, "Resource", c);
        }
        ok = ok && sink_kvlist(resource.data, resource.len, &res, c, 1, "Resource");
    } else {
        sink_buf_str(&res, "{}");
    }
    sink_buf_str(&res, ",");
    r.p = p;
    while (ok && (k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) { ok = false; break; }
        if (f.num != 2) continue;
        ok = sink_scope_spans(f.data, f.len, &res, out, count, c);
    }
    if (res.oom) ok = sink_fail(c, "out of memory");
    sink_buf_free(&res);
    return ok;
}

/* ExportTraceServiceRequest: resource_spans 1. One JSON line per span into out. */
static bool sink_decode_traces(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f;
    int k;
    *count = 0;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num != 1) continue;
        if (!sink_want(&f, PB_LEN, "ExportTraceServiceRequest", c)) return false;
        if (!sink_resource_spans(f.data, f.len, out, count, c)) return false;
    }
    if (out->oom) return sink_fail(c, "out of memory");
    return true;
}

/* --count-only: walks ExportTraceServiceRequest > ResourceSpans > ScopeSpans and counts the
   Span fields (wire format and field types checked, the spans themselves not decoded). */
static bool sink_count_level(const uint8_t *p, size_t n, int level, size_t *count, sink_ctx *c) {
    static const char *const msg[3] = {"ExportTraceServiceRequest", "ResourceSpans", "ScopeSpans"};
    static const uint32_t want[3] = {1, 2, 2};
    sink_pb r = {p, p + n};
    sink_field f;
    int k;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num != want[level]) continue;
        if (!sink_want(&f, PB_LEN, msg[level], c)) return false;
        if (level == 2) (*count)++;
        else if (!sink_count_level(f.data, f.len, level + 1, count, c)) return false;
    }
    return true;
}
static bool sink_count_traces(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c) {
    (void)out;
    *count = 0;
    return sink_count_level(p, n, 0, count, c);
}

/* ---- metrics and logs -------------------------------------------------------------- */

/* An item of a ScopeMetrics / ScopeLogs: appends its JSON line(s) to out, adds to *count. */
typedef bool (*sink_item_fn)(const uint8_t *p, size_t n, const sink_buf *prefix, sink_buf *out, size_t *count,
                             sink_ctx *c);

/* The message names and the item decoder of one signal's request. */
typedef struct sink_shape {
    const char *request, *resource, *scoped;
    sink_item_fn item;
} sink_shape;

/* Scope{Metrics,Logs}: scope 1, items 2, schema_url 3. As sink_scope_spans. */
static bool sink_scope_items(const uint8_t *p, size_t n, const sink_buf *res, sink_buf *out, size_t *count,
                             const sink_shape *sh, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, scope = {0, 0, 0, NULL, 0};
    sink_buf prefix = {NULL, 0, 0, false};
    int k;
    bool ok = true;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_want(&f, PB_LEN, sh->scoped, c)) return false; scope = f; }
        else if (f.num == 2) { if (!sink_want(&f, PB_LEN, sh->scoped, c)) return false; }
        else if (f.num == 3 && !sink_string(&f, sh->scoped, c)) return false;
    }
    sink_buf_add(&prefix, res->p, res->len);
    ok = sink_scope(scope.data ? scope.data : (const uint8_t *)"", scope.len, &prefix, c);
    r.p = p;
    while (ok && (k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) { ok = false; break; }
        if (f.num == 2) ok = sh->item(f.data, f.len, &prefix, out, count, c);
    }
    if (prefix.oom) ok = sink_fail(c, "out of memory");
    sink_buf_free(&prefix);
    return ok;
}

/* Resource{Metrics,Logs}: resource 1, scope_* 2, schema_url 3. As sink_resource_spans. */
static bool sink_resource_items(const uint8_t *p, size_t n, sink_buf *out, size_t *count, const sink_shape *sh,
                                sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, resource = {0, 0, 0, NULL, 0};
    sink_buf res = {NULL, 0, 0, false};
    int k;
    bool ok = true;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_want(&f, PB_LEN, sh->resource, c)) return false; resource = f; }
        else if (f.num == 2) { if (!sink_want(&f, PB_LEN, sh->resource, c)) return false; }
        else if (f.num == 3 && !sink_string(&f, sh->resource, c)) return false;
    }
    sink_buf_str(&res, "\"resource\":");
    if (resource.data) {
        sink_pb rr = {resource.data, resource.data + resource.len};
        while (ok && (k = sink_next(&rr, &f, c)) != 0) {
            if (k < 0) ok = false;
            else if (f.num == 1) ok = sink_want(&f, PB_LEN, "Resource", c);
            else if (f.num == 2) ok = sink_want(&f, PB_VARINT, "Resource", c);
        }
        ok = ok && sink_kvlist(resource.data, resource.len, &res, c, 1, "Resource");
    } else {
        sink_buf_str(&res, "{}");
    }
    sink_buf_str(&res, ",");
    r.p = p;
    while (ok && (k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) { ok = false; break; }
        if (f.num == 2) ok = sink_scope_items(f.data, f.len, &res, out, count, sh, c);
    }
    if (res.oom) ok = sink_fail(c, "out of memory");
    sink_buf_free(&res);
    return ok;
}

static bool sink_decode_items(const uint8_t *p, size_t n, sink_buf *out, size_t *count, const sink_shape *sh,
                              sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f;
    int k;
    *count = 0;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num != 1) continue;
        if (!sink_want(&f, PB_LEN, sh->request, c)) return false;
        if (!sink_resource_items(f.data, f.len, out, count, sh, c)) return false;
    }
    if (out->oom) return sink_fail(c, "out of memory");
    return true;
}

/* A double (fixed64 bits) or null when absent. */
static void sink_opt_double(sink_buf *b, const char *key, bool has, uint64_t bits) {
    sink_buf_fmt(b, ",\"%s\":", key);
    if (has) sink_json_double(b, bits);
    else sink_buf_str(b, "null");
}

/* A repeated fixed64/double: packed (LEN, a multiple of 8 bytes) or one I64 element.
   Appends the elements (comma-separated, no brackets) to out. */
static bool sink_fixed64s(const sink_field *f, bool dbl, sink_buf *out, int *count, const char *what, sink_ctx *c) {
    size_t i;
    if (f->wire == PB_I64) {
        if ((*count)++) sink_buf_str(out, ",");
        if (dbl) sink_json_double(out, f->v);
        else sink_buf_fmt(out, "%llu", (unsigned long long)f->v);
        return true;
    }
    if (!sink_want(f, PB_LEN, what, c)) return false;
    if (f->len % 8) {
        snprintf(c->err, sizeof c->err, "%s field %u: packed fixed64 of %zu bytes", what, f->num, f->len);
        return false;
    }
    for (i = 0; i < f->len; i += 8) {
        uint64_t v = 0;
        int k;
        for (k = 7; k >= 0; k--) v = (v << 8) | f->data[i + (size_t)k];
        if ((*count)++) sink_buf_str(out, ",");
        if (dbl) sink_json_double(out, v);
        else sink_buf_fmt(out, "%llu", (unsigned long long)v);
    }
    return true;
}

/* The kinds of Metric.data and the field numbers of their points' members (0: none). */
enum { SINK_GAUGE, SINK_SUM, SINK_HISTOGRAM, SINK_EXP_HISTOGRAM, SINK_SUMMARY };
typedef struct sink_point_shape {
    const char *type, *msg;
    uint32_t data;                          /* Metric field */
    uint32_t attrs, count, sum, min, max, flags;
} sink_point_shape;
static const sink_point_shape sink_point_shapes[5] = {
    {"gauge", "NumberDataPoint", 5, 7, 0, 0, 0, 0, 8},
    {"sum", "NumberDataPoint", 7, 7, 0, 0, 0, 0, 8},
    {"histogram", "HistogramDataPoint", 9, 9, 4, 5, 11, 12, 10},
    {"exponential_histogram", "ExponentialHistogramDataPoint", 10, 1, 4, 5, 12, 13, 10},
    {"summary", "SummaryDataPoint", 11, 7, 4, 5, 0, 0, 8},
};

/* One data point: {prefix, attributes, times, the value(s), flags}. Every point has
   start_time 2 and time 3 (fixed64); NumberDataPoint as_double 4 | as_int 6; the others
   count and sum; HistogramDataPoint bucket_counts 6 and explicit_bounds 7. */
static bool sink_point(const uint8_t *p, size_t n, const sink_buf *prefix, int kind, sink_buf *out, sink_ctx *c) {
    const sink_point_shape *sh = &sink_point_shapes[kind];
    sink_pb r = {p, p + n};
    sink_field f;
    uint64_t start = 0, t = 0, count = 0, sum = 0, mn = 0, mx = 0, flags = 0, num = 0;
    bool has_sum = false, has_min = false, has_max = false, has_num = false, num_int = false;
    sink_buf buckets = {NULL, 0, 0, false}, bounds = {NULL, 0, 0, false};
    int nb = 0, nbo = 0, k;
    bool ok = true, number = kind <= SINK_SUM;
    while (ok && (k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) { ok = false; break; }
        if (f.num == sh->attrs) ok = sink_want(&f, PB_LEN, sh->msg, c);
        else if (f.num == 2) { ok = sink_want(&f, PB_I64, sh->msg, c); start = f.v; }
        else if (f.num == 3) { ok = sink_want(&f, PB_I64, sh->msg, c); t = f.v; }
        else if (f.num == sh->flags) { ok = sink_want(&f, PB_VARINT, sh->msg, c); flags = (uint32_t)f.v; }
        else if (number && (f.num == 4 || f.num == 6)) {
            ok = sink_want(&f, PB_I64, sh->msg, c);
            num = f.v; has_num = true; num_int = f.num == 6;
        } else if (!number && f.num == sh->count) { ok = sink_want(&f, PB_I64, sh->msg, c); count = f.v; }
        else if (!number && f.num == sh->sum) { ok = sink_want(&f, PB_I64, sh->msg, c); sum = f.v; has_sum = true; }
        else if (sh->min && f.num == sh->min) { ok = sink_want(&f, PB_I64, sh->msg, c); mn = f.v; has_min = true; }
        else if (sh->max && f.num == sh->max) { ok = sink_want(&f, PB_I64, sh->msg, c); mx = f.v; has_max = true; }
        else if (kind == SINK_HISTOGRAM && f.num == 6) ok = sink_fixed64s(&f, false, &buckets, &nb, sh->msg, c);
        else if (kind == SINK_HISTOGRAM && f.num == 7) ok = sink_fixed64s(&f, true, &bounds, &nbo, sh->msg, c);
    }
    if (ok) {
        sink_buf_str(out, "{");
        sink_buf_add(out, prefix->p, prefix->len);
        sink_buf_str(out, "\"attributes\":");
        ok = sink_kvlist(p, n, out, c, sh->attrs, sh->msg);
    }
    if (ok) {
        sink_buf_fmt(out, ",\"startTimeUnixNano\":\"%llu\",\"timeUnixNano\":\"%llu\"", (unsigned long long)start,
                     (unsigned long long)t);
        if (number && has_num && num_int) sink_buf_fmt(out, ",\"asInt\":%lld", (long long)(int64_t)num);
        else if (number && has_num) sink_opt_double(out, "asDouble", true, num);
        if (!number) {
            sink_buf_fmt(out, ",\"count\":%llu", (unsigned long long)count);
            sink_opt_double(out, "sum", has_sum, sum);
        }
        if (kind == SINK_HISTOGRAM) {
            sink_buf_str(out, ",\"bucketCounts\":[");
            if (buckets.len) sink_buf_add(out, buckets.p, buckets.len);
            sink_buf_str(out, "],\"explicitBounds\":[");
            if (bounds.len) sink_buf_add(out, bounds.p, bounds.len);
            sink_buf_str(out, "]");
        }
        if (sh->min) {
            sink_opt_double(out, "min", has_min, mn);
            sink_opt_double(out, "max", has_max, mx);
        }
        sink_buf_fmt(out, ",\"flags\":%llu}\n", (unsigned long long)flags);
    }
    sink_buf_free(&buckets);
    sink_buf_free(&bounds);
    return ok;
}

/* Metric: name 1, description 2, unit 3, data: gauge 5 | sum 7 | histogram 9 |
   exponential_histogram 10 | summary 11 (the last one wins), metadata 12. Each data point
   is one line. Sum: data_points 1, aggregation_temporality 2, is_monotonic 3; Histogram
   and ExponentialHistogram: data_points 1, aggregation_temporality 2; Gauge and Summary:
   data_points 1. */
static bool sink_metric(const uint8_t *p, size_t n, const sink_buf *prefix, sink_buf *out, size_t *count, sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, empty = {0, 0, 0, (const uint8_t *)"", 0}, name = empty, desc = empty, unit = empty, data = empty;
    sink_buf pre = {NULL, 0, 0, false};
    uint64_t temporality = 0, monotonic = 0;
    int k, kind = -1, i;
    bool ok = true;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_string(&f, "Metric", c)) return false; name = f; }
        else if (f.num == 2) { if (!sink_string(&f, "Metric", c)) return false; desc = f; }
        else if (f.num == 3) { if (!sink_string(&f, "Metric", c)) return false; unit = f; }
        else if (f.num == 12) { if (!sink_want(&f, PB_LEN, "Metric", c)) return false; }
        else
            for (i = 0; i < 5; i++)
                if (f.num == sink_point_shapes[i].data) {
                    if (!sink_want(&f, PB_LEN, "Metric", c)) return false;
                    data = f;
                    kind = i;
                }
    }
    if (kind < 0) return true; /* no data: no line */
    r.p = data.data;
    r.end = data.data + data.len;
    while ((k = sink_next(&r, &f, c)) != 0) { /* the data message's own fields first */
        if (k < 0) return false;
        if (f.num == 1) { if (!sink_want(&f, PB_LEN, sink_point_shapes[kind].type, c)) return false; }
        else if (f.num == 2 && (kind == SINK_SUM || kind == SINK_HISTOGRAM || kind == SINK_EXP_HISTOGRAM)) {
            if (!sink_want(&f, PB_VARINT, sink_point_shapes[kind].type, c)) return false;
            temporality = (uint32_t)f.v;
        } else if (f.num == 3 && kind == SINK_SUM) {
            if (!sink_want(&f, PB_VARINT, "Sum", c)) return false;
            monotonic = f.v;
        }
    }
    sink_buf_add(&pre, prefix->p, prefix->len);
    sink_buf_str(&pre, "\"metric\":{\"name\":");
    sink_json_str(&pre, name.data, name.len);
    sink_buf_str(&pre, ",\"description\":");
    sink_json_str(&pre, desc.data, desc.len);
    sink_buf_str(&pre, ",\"unit\":");
    sink_json_str(&pre, unit.data, unit.len);
    sink_buf_fmt(&pre, ",\"type\":\"%s\"", sink_point_shapes[kind].type);
    if (kind == SINK_SUM || kind == SINK_HISTOGRAM || kind == SINK_EXP_HISTOGRAM)
        sink_buf_fmt(&pre, ",\"aggregationTemporality\":%llu", (unsigned long long)temporality);
    if (kind == SINK_SUM) sink_buf_fmt(&pre, ",\"isMonotonic\":%s", monotonic ? "true" : "false");
    sink_buf_str(&pre, "},");
    r.p = data.data;
    while (ok && (k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) { ok = false; break; }
        if (f.num != 1) continue;
        ok = sink_point(f.data, f.len, &pre, kind, out, c);
        (*count)++;
    }
    if (pre.oom) ok = sink_fail(c, "out of memory");
    sink_buf_free(&pre);
    return ok;
}

/* logs.proto LogRecord: time 1, observed_time 11 (fixed64), severity_number 2,
   severity_text 3, body 5, attributes 6, dropped 7, flags 8 (fixed32), trace_id 9,
   span_id 10 (absent or 16 / 8 bytes), event_name 12. One line. */
static bool sink_log_record(const uint8_t *p, size_t n, const sink_buf *prefix, sink_buf *out, size_t *count,
                            sink_ctx *c) {
    sink_pb r = {p, p + n};
    sink_field f, empty = {0, 0, 0, (const uint8_t *)"", 0}, stext = empty, body = {0, 0, 0, NULL, 0}, tid = empty,
                  sid = empty, ev = empty;
    uint64_t t = 0, observed = 0, sev = 0, dropped = 0, flags = 0;
    int k;
    while ((k = sink_next(&r, &f, c)) != 0) {
        if (k < 0) return false;
        switch (f.num) {
        case 1: if (!sink_want(&f, PB_I64, "LogRecord", c)) return false; t = f.v; break;
        case 2: if (!sink_want(&f, PB_VARINT, "LogRecord", c)) return false; sev = f.v; break;
        case 3: if (!sink_string(&f, "LogRecord", c)) return false; stext = f; break;
        case 5: if (!sink_want(&f, PB_LEN, "LogRecord", c)) return false; body = f; break;
        case 6: if (!sink_want(&f, PB_LEN, "LogRecord", c)) return false; break;
        case 7: if (!sink_u32(&f, &dropped, "LogRecord", c)) return false; break;
        case 8: if (!sink_want(&f, PB_I32, "LogRecord", c)) return false; flags = f.v; break;
        case 9: if (!sink_want(&f, PB_LEN, "LogRecord", c) || (f.len && !sink_id(&f, 16, "LogRecord", c))) return false; tid = f; break;
        case 10: if (!sink_want(&f, PB_LEN, "LogRecord", c) || (f.len && !sink_id(&f, 8, "LogRecord", c))) return false; sid = f; break;
        case 11: if (!sink_want(&f, PB_I64, "LogRecord", c)) return false; observed = f.v; break;
        case 12: if (!sink_string(&f, "LogRecord", c)) return false; ev = f; break;
        }
    }
    sink_buf_str(out, "{");
    sink_buf_add(out, prefix->p, prefix->len);
    sink_buf_fmt(out, "\"timeUnixNano\":\"%llu\",\"observedTimeUnixNano\":\"%llu\",\"severityNumber\":%d,\"severityText\":",
                 (unsigned long long)t, (unsigned long long)observed, (int)(int32_t)sev);
    sink_json_str(out, stext.data, stext.len);
    sink_buf_str(out, ",\"body\":");
    if (body.data) {
        if (!sink_anyvalue(body.data, body.len, out, c)) return false;
    } else {
        sink_buf_str(out, "null");
    }
    sink_buf_str(out, ",\"attributes\":");
    if (!sink_kvlist(p, n, out, c, 6, "LogRecord")) return false;
    sink_buf_fmt(out, ",\"droppedAttributesCount\":%llu,\"flags\":%llu,\"traceId\":", (unsigned long long)dropped,
                 (unsigned long long)flags);
    sink_json_hex(out, tid.data, tid.len);
    sink_buf_str(out, ",\"spanId\":");
    sink_json_hex(out, sid.data, sid.len);
    sink_buf_str(out, ",\"eventName\":");
    sink_json_str(out, ev.data, ev.len);
    sink_buf_str(out, "}\n");
    (*count)++;
    return true;
}

static const sink_shape sink_metrics_shape = {"ExportMetricsServiceRequest", "ResourceMetrics", "ScopeMetrics", sink_metric};
static const sink_shape sink_logs_shape = {"ExportLogsServiceRequest", "ResourceLogs", "ScopeLogs", sink_log_record};

/* ExportMetricsServiceRequest: one JSON line per data point. */
static bool sink_decode_metrics(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c) {
    return sink_decode_items(p, n, out, count, &sink_metrics_shape, c);
}
/* ExportLogsServiceRequest: one JSON line per log record. */
static bool sink_decode_logs(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c) {
    return sink_decode_items(p, n, out, count, &sink_logs_shape, c);
}
/* --count-only for metrics and logs: the full decode, the lines thrown away (these signals
   are not the load-test case). */
static bool sink_count_metrics(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c) {
    sink_buf scratch = {NULL, 0, 0, false};
    bool ok = sink_decode_metrics(p, n, &scratch, count, c);
    (void)out;
    sink_buf_free(&scratch);
    return ok;
}
static bool sink_count_logs(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c) {
    sink_buf scratch = {NULL, 0, 0, false};
    bool ok = sink_decode_logs(p, n, &scratch, count, c);
    (void)out;
    sink_buf_free(&scratch);
    return ok;
}

/* ---- OTLP/JSON bodies: checked for JSON syntax, printed as received ----------------- */

/* Skips one JSON value at p[*i]; false if it is not valid JSON (RFC 8259). */
static bool sink_json_value(const uint8_t *p, size_t n, size_t *i, int depth);
static void sink_json_ws(const uint8_t *p, size_t n, size_t *i) {
    while (*i < n && (p[*i] == ' ' || p[*i] == '\t' || p[*i] == '\n' || p[*i] == '\r')) (*i)++;
}
static bool sink_json_string(const uint8_t *p, size_t n, size_t *i) {
    size_t j = *i;
    if (j >= n || p[j] != '"') return false;
    for (j++; j < n; j++) {
        if (p[j] == '"') { *i = j + 1; return true; }
        if (p[j] < 0x20) return false;
        if (p[j] == '\\') {
            if (++j >= n) return false;
            if (p[j] == 'u') {
                int k;
                for (k = 1; k <= 4; k++)
                    if (j + (size_t)k >= n || !isxdigit(p[j + (size_t)k])) return false;
                j += 4;
            } else if (!strchr("\"\\/bfnrt", p[j]) || !p[j]) {
                return false;
            }
        }
    }
    return false;
}
static bool sink_json_value(const uint8_t *p, size_t n, size_t *i, int depth) {
    size_t j;
    if (depth > 64) return false;
    sink_json_ws(p, n, i);
    if (*i >= n) return false;
    switch (p[*i]) {
    case '{':
    case '[': {
        uint8_t close = p[*i] == '{' ? '}' : ']';
        bool obj = close == '}';
        (*i)++;
        sink_json_ws(p, n, i);
        if (*i < n && p[*i] == close) { (*i)++; return true; }
        for (;;) {
            if (obj) {
                sink_json_ws(p, n, i);
                if (!sink_json_string(p, n, i)) return false;
                sink_json_ws(p, n, i);
                if (*i >= n || p[*i] != ':') return false;
                (*i)++;
            }
            if (!sink_json_value(p, n, i, depth + 1)) return false;
            sink_json_ws(p, n, i);
            if (*i >= n) return false;
            if (p[*i] == close) { (*i)++; return true; }
            if (p[*i] != ',') return false;
            (*i)++;
        }
    }
    case '"': return sink_json_string(p, n, i);
    case 't': if (n - *i >= 4 && !memcmp(p + *i, "true", 4)) { *i += 4; return true; } return false;
    case 'f': if (n - *i >= 5 && !memcmp(p + *i, "false", 5)) { *i += 5; return true; } return false;
    case 'n': if (n - *i >= 4 && !memcmp(p + *i, "null", 4)) { *i += 4; return true; } return false;
    default:
        j = *i;
        if (j < n && p[j] == '-') j++;
        if (j >= n || !isdigit(p[j])) return false;
        if (p[j] == '0') j++;
        else while (j < n && isdigit(p[j])) j++;
        if (j < n && p[j] == '.') {
            if (++j >= n || !isdigit(p[j])) return false;
            while (j < n && isdigit(p[j])) j++;
        }
        if (j < n && (p[j] == 'e' || p[j] == 'E')) {
            j++;
            if (j < n && (p[j] == '+' || p[j] == '-')) j++;
            if (j >= n || !isdigit(p[j])) return false;
            while (j < n && isdigit(p[j])) j++;
        }
        *i = j;
        return true;
    }
}
/* An OTLP/JSON request: must be one JSON object in UTF-8; printed as one line (the raw
   CR/LF between tokens dropped: inside strings they are escaped). Its items are not
   counted (*count = 0). */
static bool sink_decode_json(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c) {
    size_t i = 0, run = 0, k;
    *count = 0;
    sink_json_ws(p, n, &i);
    if (i >= n || p[i] != '{') return sink_fail(c, "OTLP/JSON body is not a JSON object");
    if (!sink_json_value(p, n, &i, 0)) return sink_fail(c, "malformed JSON body");
    sink_json_ws(p, n, &i);
    if (i != n) return sink_fail(c, "data after the JSON body");
    if (!sink_utf8(p, n)) return sink_fail(c, "JSON body is not UTF-8");
    for (k = 0; k < n; k++) {
        if (p[k] != '\n' && p[k] != '\r') { run++; continue; }
        sink_buf_add(out, p + k - run, run);
        run = 0;
    }
    sink_buf_add(out, p + n - run, run);
    sink_buf_str(out, "\n");
    if (out->oom) return sink_fail(c, "out of memory");
    return true;
}

/* Known signal paths. */
typedef struct sink_signal {
    const char *path;
    const char *unit; /* what the counter counts */
    bool (*decode)(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c);
    bool (*count)(const uint8_t *p, size_t n, sink_buf *out, size_t *count, sink_ctx *c); /* --count-only */
} sink_signal;

static const sink_signal sink_signals[] = {
    {"/v1/traces", "spans", sink_decode_traces, sink_count_traces},
    {"/v1/metrics", "data points", sink_decode_metrics, sink_count_metrics},
    {"/v1/logs", "log records", sink_decode_logs, sink_count_logs},
};

/* Decodes a request body (gunzipping first when asked; OTLP/JSON when `json`). 200 and JSON
   lines in out (only the count with count_only), or an HTTP status and a reason in c->err. */
static int sink_handle_body(const sink_signal *sig, const uint8_t *body, size_t n, bool gzip, bool json, bool count_only,
                            sink_buf *out, size_t *count, sink_ctx *c) {
    sink_buf plain = {NULL, 0, 0, false};
    int status = 200;
    if (gzip) {
        const char *err = sink_gunzip(body, n, &plain, SINK_MAX_BODY);
        if (err) {
            bool big = !strcmp(err, "too large");
            snprintf(c->err, sizeof c->err, "%s%s", big ? "request over 64 MiB after gunzip" : "bad gzip body: ", big ? "" : err);
            sink_buf_free(&plain);
            return big ? 413 : 400;
        }
        body = (const uint8_t *)plain.p;
        n = plain.len;
        if (!body) body = (const uint8_t *)"";
    }
    if (!(json ? sink_decode_json : count_only ? sig->count : sig->decode)(body, n, out, count, c)) {
        status = plain.oom || out->oom ? 500 : 400;
        out->len = 0;
    }
    sink_buf_free(&plain);
    return status;
}

/* ==== [http] ====================================================================== */

typedef struct sink_req {
    char method[16];
    char path[256];
    int minor;             /* HTTP/1.minor */
    size_t head_len;       /* bytes up to and including the blank line */
    size_t content_length;
    bool has_length, chunked, gzip, close, expect_continue;
    int content_type;      /* 0 none, 1 protobuf, 2 json, 3 other */
    bool bad_encoding;
} sink_req;

static bool sink_hdr(const char *line, size_t n, const char *name, const char **v, size_t *vl) {
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k)) return false;
    *v = line + k + 1;
    *vl = n - k - 1;
    while (*vl && (**v == ' ' || **v == '\t')) { (*v)++; (*vl)--; }
    while (*vl && ((*v)[*vl - 1] == ' ' || (*v)[*vl - 1] == '\t')) (*vl)--;
    return true;
}
static bool sink_token(const char *v, size_t n, const char *tok) {
    size_t k = strlen(tok), i;
    for (i = 0; i + k <= n; i++)
        if (!strncasecmp(v + i, tok, k)) return true;
    return false;
}

/* Parses a request head in buf[0, n): 1 done (req filled), 0 incomplete, -1 malformed. */
static int sink_parse_request(const char *buf, size_t n, sink_req *req) {
    const char *end = NULL, *p, *sp1, *sp2, *eol;
    size_t i;
    memset(req, 0, sizeof *req);
    for (i = 0; i + 3 < n; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') { end = buf + i; break; }
    if (!end) return n > SINK_MAX_HEAD ? -1 : 0;
    req->head_len = (size_t)(end - buf) + 4;
    eol = (const char *)memchr(buf, '\r', (size_t)(end - buf) + 1);
    sp1 = (const char *)memchr(buf, ' ', (size_t)(eol - buf));
    if (!sp1 || sp1 == buf || (size_t)(sp1 - buf) >= sizeof req->method) return -1;
    sp2 = (const char *)memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (!sp2 || sp2 == sp1 + 1 || (size_t)(sp2 - sp1 - 1) >= sizeof req->path) return -1;
    if (eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) || sp2[8] < '0' || sp2[8] > '9') return -1;
    memcpy(req->method, buf, (size_t)(sp1 - buf));
    memcpy(req->path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    for (i = 0; req->path[i]; i++)
        if (req->path[i] == '?') { req->path[i] = 0; break; }
    req->minor = sp2[8] - '0';
    req->close = req->minor == 0;
    p = eol + 2;
    while (p < end + 2) {
        const char *nl = (const char *)memchr(p, '\r', (size_t)(end + 2 - p)), *v;
        size_t ln, vl;
        if (!nl) break;
        ln = (size_t)(nl - p);
        if (sink_hdr(p, ln, "content-length", &v, &vl)) {
            size_t j, x = 0;
            if (!vl || vl > 12) return -1;
            for (j = 0; j < vl; j++) {
                if (v[j] < '0' || v[j] > '9') return -1;
                x = x * 10 + (size_t)(v[j] - '0');
            }
            if (req->has_length && x != req->content_length) return -1;
            req->content_length = x;
            req->has_length = true;
        } else if (sink_hdr(p, ln, "transfer-encoding", &v, &vl)) {
            if (sink_token(v, vl, "chunked")) req->chunked = true;
            else if (vl) return -1;
        } else if (sink_hdr(p, ln, "content-encoding", &v, &vl)) {
            if (vl == 4 && !strncasecmp(v, "gzip", 4)) req->gzip = true;
            else if (!(vl == 8 && !strncasecmp(v, "identity", 8)) && vl) req->bad_encoding = true;
        } else if (sink_hdr(p, ln, "content-type", &v, &vl)) {
            if (sink_token(v, vl, "application/x-protobuf")) req->content_type = 1;
            else if (sink_token(v, vl, "application/json")) req->content_type = 2;
            else req->content_type = 3;
        } else if (sink_hdr(p, ln, "connection", &v, &vl)) {
            if (sink_token(v, vl, "close")) req->close = true;
            else if (sink_token(v, vl, "keep-alive")) req->close = false;
        } else if (sink_hdr(p, ln, "expect", &v, &vl)) {
            if (sink_token(v, vl, "100-continue")) req->expect_continue = true;
        }
        p = nl + 2;
    }
    if (req->chunked && req->has_length) return -1; /* request smuggling shape: refuse */
    return 1;
}

/* A chunked body in p[0, n): 1 complete (decoded into out, *used raw bytes), 0 more
   needed, -1 malformed, -2 too large. */
static int sink_dechunk(const uint8_t *p, size_t n, sink_buf *out, size_t *used, size_t max) {
    size_t i = 0;
    out->len = 0;
    for (;;) {
        size_t size = 0;
        int digits = 0;
        while (i < n && ((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f'))) {
            int c = p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10;
            if (size > (max >> 4)) return -2;
            size = size * 16 + (size_t)c;
            i++;
            digits++;
        }
        if (i >= n) return 0;
        if (!digits) return -1;
        while (i < n && p[i] != '\n') i++;
        if (i >= n) return 0;
        i++;
        if (size == 0) {
            for (;;) {
                size_t s = i;
                while (i < n && p[i] != '\n') i++;
                if (i >= n) return 0;
                i++;
                if (i - s <= 2) { *used = i; return 1; }
            }
        }
        if (out->len + size > max) return -2;
        if (n - i < size) return 0;
        sink_buf_add(out, p + i, size);
        if (out->oom) return -2;
        i += size;
        if (i < n && p[i] == '\r') i++;
        if (i >= n) return 0;
        if (p[i] != '\n') return -1;
        i++;
    }
}

/* google.rpc.Status{code 1, message 2} for error bodies (OTLP/HTTP failures). */
static void sink_rpc_status(sink_buf *b, int code, const char *msg) {
    size_t n = strlen(msg);
    uint8_t t[16];
    int k = 0;
    if (n > 1000) n = 1000;
    t[k++] = 0x08;
    t[k++] = (uint8_t)code;
    t[k++] = 0x12;
    if (n >= 128) { t[k++] = (uint8_t)(n | 0x80); t[k++] = (uint8_t)(n >> 7); }
    else t[k++] = (uint8_t)n;
    sink_buf_add(b, t, (size_t)k);
    sink_buf_add(b, msg, n);
}

typedef struct sink_conn {
    int fd;
    sink_buf in, out;      /* request bytes; response bytes not yet sent */
    size_t out_pos;
    bool closing;          /* close once out is sent */
    bool continued;        /* 100 Continue already sent for this request */
    int64_t last_ms;
} sink_conn;

typedef struct sink_opts {
    const char *host, *port, *port_file, *out;
    long max_seconds, max_requests;
    bool quiet;
    bool count_only; /* count the spans, print no JSON; a total at exit */
} sink_opts;

static volatile sig_atomic_t sink_stop;
static void sink_on_signal(int sig) { (void)sig; sink_stop = 1; }

static int64_t sink_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sink_respond(sink_conn *cn, int status, const char *ctype, const void *body, size_t n, bool close) {
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found" :
                         status == 405 ? "Method Not Allowed" : status == 413 ? "Payload Too Large" :
                         status == 415 ? "Unsupported Media Type" : status == 500 ? "Internal Server Error" : "Error";
    char head[256];
    int k = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
                     reason, ctype, n, close ? "Connection: close\r\n" : "");
    sink_buf_add(&cn->out, head, (size_t)k);
    sink_buf_add(&cn->out, body, n);
    if (close) cn->closing = true;
}
static void sink_respond_error(sink_conn *cn, int status, int rpc_code, const char *msg, bool close) {
    sink_buf b = {NULL, 0, 0, false};
    sink_rpc_status(&b, rpc_code, msg);
    sink_respond(cn, status, "application/x-protobuf", b.p ? b.p : "", b.len, close);
    sink_buf_free(&b);
}

/* Handles every complete request in cn->in. Returns the number of signal requests; adds
   the items accepted to items[i] (i: the signal's index in sink_signals). */
static int sink_serve(sink_conn *cn, FILE *out, const sink_opts *o, uint64_t *items) {
    int handled = 0;
    while (!cn->closing && cn->in.len) {
        sink_req req;
        sink_buf body = {NULL, 0, 0, false}, json = {NULL, 0, 0, false};
        const uint8_t *raw = (const uint8_t *)cn->in.p;
        size_t consumed = 0, count = 0, i;
        const sink_signal *sig = NULL;
        sink_ctx ctx;
        int r = sink_parse_request(cn->in.p, cn->in.len, &req), status;
        if (r == 0) return handled;
        if (r < 0) { sink_respond_error(cn, 400, 3, "malformed HTTP request", true); return handled; }
        if (req.expect_continue && !cn->continued && !req.chunked && req.has_length &&
            cn->in.len - req.head_len < req.content_length && req.content_length <= SINK_MAX_BODY) {
            sink_buf_str(&cn->out, "HTTP/1.1 100 Continue\r\n\r\n");
            cn->continued = true;
        }
        if (req.chunked) {
            size_t used = 0;
            int c = sink_dechunk(raw + req.head_len, cn->in.len - req.head_len, &body, &used, SINK_MAX_BODY);
            if (c == 0) { sink_buf_free(&body); return handled; }
            if (c < 0) {
                sink_buf_free(&body);
                if (c == -2) sink_respond_error(cn, 413, 8, "request over 64 MiB", true);
                else sink_respond_error(cn, 400, 3, "malformed chunked body", true);
                return handled;
            }
            consumed = req.head_len + used;
        } else {
            if (req.content_length > SINK_MAX_BODY) { sink_respond_error(cn, 413, 8, "request over 64 MiB", true); return handled; }
            if (cn->in.len - req.head_len < req.content_length) return handled;
            sink_buf_add(&body, raw + req.head_len, req.content_length);
            consumed = req.head_len + req.content_length;
        }
        cn->continued = false;
        for (i = 0; i < sizeof sink_signals / sizeof sink_signals[0]; i++)
            if (!strcmp(req.path, sink_signals[i].path)) sig = &sink_signals[i];
        memset(&ctx, 0, sizeof ctx);
        if (!sig) {
            status = 404;
            snprintf(ctx.err, sizeof ctx.err, "no such path: %.100s (known: /v1/traces, /v1/metrics, /v1/logs)", req.path);
        } else if (strcmp(req.method, "POST")) {
            status = 405;
            snprintf(ctx.err, sizeof ctx.err, "use POST");
        } else if (req.content_type == 3 || req.bad_encoding) {
            status = 415;
            snprintf(ctx.err, sizeof ctx.err, "expected Content-Type application/x-protobuf or application/json, "
                                              "gzip or identity encoding");
        } else {
            status = sink_handle_body(sig, (const uint8_t *)(body.p ? body.p : ""), body.len, req.gzip,
                                      req.content_type == 2, o->count_only, &json, &count, &ctx);
            if (req.content_type == 2 && o->count_only) json.len = 0;
        }
        if (status == 200) {
            items[sig - sink_signals] += count;
            if (json.len) {
                fwrite(json.p, 1, json.len, out);
                fflush(out);
            }
            if (req.content_type == 2) sink_respond(cn, 200, "application/json", "{}", 2, req.close);
            else sink_respond(cn, 200, "application/x-protobuf", "", 0, req.close); /* empty Export*ServiceResponse */
        } else {
            sink_respond_error(cn, status, status == 404 ? 5 : status == 413 ? 8 : status == 500 ? 13 : 3, ctx.err, req.close);
        }
        if (!o->quiet)
            fprintf(stderr, "otlp_sink: %s %s -> %d, %zu %s, %zu bytes%s%s%s\n", req.method, req.path, status, count,
                    req.content_type == 2 ? "JSON request" : sig ? sig->unit : "items", body.len, req.gzip ? " (gzip)" : "",
                    status != 200 ? ": " : "", status != 200 ? ctx.err : "");
        if (sig) handled++;
        sink_buf_free(&body);
        sink_buf_free(&json);
        memmove(cn->in.p, cn->in.p + consumed, cn->in.len - consumed);
        cn->in.len -= consumed;
    }
    return handled;
}

static int sink_listen(const sink_opts *o) {
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, one = 1, rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc) { fprintf(stderr, "otlp_sink: %s: %s\n", o->host, gai_strerror(rc)); return -1; }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) { fprintf(stderr, "otlp_sink: cannot listen on %s:%s: %s\n", o->host, o->port, strerror(errno)); return -1; }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

static int sink_bound_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t l = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

static void sink_usage(void) {
    fprintf(stderr, "usage: otlp_sink [--host ADDR] [--port N] [--port-file FILE] [--out FILE]\n"
                    "                 [--max-seconds N] [--max-requests N] [--quiet] [--count-only]\n");
}

static int sink_run(const sink_opts *o) {
    static sink_conn conns[SINK_MAX_CLIENTS];
    struct pollfd pfd[SINK_MAX_CLIENTS + 1];
    int lfd, nconn = 0, port, i;
    long requests = 0;
    uint64_t items[sizeof sink_signals / sizeof sink_signals[0]] = {0};
    int64_t start = sink_ms();
    FILE *out = stdout;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sink_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (o->out && !(out = fopen(o->out, "a"))) { fprintf(stderr, "otlp_sink: cannot open %s: %s\n", o->out, strerror(errno)); return 1; }
    lfd = sink_listen(o);
    if (lfd < 0) return 1;
    port = sink_bound_port(lfd);
    if (o->port_file) {
        char tmp[4096];
        FILE *f;
        snprintf(tmp, sizeof tmp, "%s.tmp", o->port_file);
        f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, o->port_file) != 0) {
            fprintf(stderr, "otlp_sink: cannot write %s\n", o->port_file);
            return 1;
        }
    }
    if (!o->quiet) fprintf(stderr, "otlp_sink: listening on http://%s:%d (/v1/traces, /v1/metrics, /v1/logs)\n", o->host, port);
    while (!sink_stop) {
        int64_t now = sink_ms(), wait = 1000;
        int n;
        if (o->max_seconds > 0) {
            int64_t left = start + o->max_seconds * 1000 - now;
            if (left <= 0) break;
            if (left < wait) wait = left;
        }
        pfd[0].fd = nconn < SINK_MAX_CLIENTS ? lfd : -1;
        pfd[0].events = POLLIN;
        for (i = 0; i < nconn; i++) {
            pfd[i + 1].fd = conns[i].fd;
            pfd[i + 1].events = (short)(conns[i].out_pos < conns[i].out.len ? POLLOUT : POLLIN);
            pfd[i + 1].revents = 0;
        }
        pfd[0].revents = 0;
        n = poll(pfd, (nfds_t)nconn + 1, (int)wait);
        if (n < 0 && errno != EINTR) break;
        now = sink_ms();
        for (i = 0; i < nconn; i++) {
            sink_conn *cn = &conns[i];
            bool drop = false;
            if (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buf[65536];
                ssize_t r = recv(cn->fd, buf, sizeof buf, 0);
                if (r > 0) {
                    cn->last_ms = now;
                    if (cn->in.len + (size_t)r > SINK_MAX_BODY + SINK_MAX_HEAD + (1u << 20) && !cn->closing) {
                        sink_respond_error(cn, 413, 8, "request over 64 MiB", true);
                    } else if (!cn->closing) {
                        sink_buf_add(&cn->in, buf, (size_t)r);
                        requests += sink_serve(cn, out, o, items);
                    }
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    drop = true;
                }
            }
            if (!drop && cn->out_pos < cn->out.len) {
                ssize_t w = send(cn->fd, cn->out.p + cn->out_pos, cn->out.len - cn->out_pos, MSG_NOSIGNAL);
                if (w > 0) cn->out_pos += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR) drop = true;
                if (cn->out_pos == cn->out.len) { cn->out.len = cn->out_pos = 0; if (cn->closing) drop = true; }
            }
            if (now - cn->last_ms > SINK_IDLE_MS) drop = true;
            if (drop) {
                close(cn->fd);
                sink_buf_free(&cn->in);
                sink_buf_free(&cn->out);
                conns[i] = conns[--nconn];
                pfd[i + 1] = pfd[nconn + 1];
                i--;
            }
        }
        if (pfd[0].revents & POLLIN) {
            int c = accept(lfd, NULL, NULL);
            if (c >= 0) {
                fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
                fcntl(c, F_SETFD, FD_CLOEXEC);
                memset(&conns[nconn], 0, sizeof conns[nconn]);
                conns[nconn].fd = c;
                conns[nconn].last_ms = now;
                nconn++;
            }
        }
        if (o->max_requests > 0 && requests >= o->max_requests) {
            bool pending = false;
            for (i = 0; i < nconn; i++) pending |= conns[i].out_pos < conns[i].out.len;
            if (!pending) break;
        }
    }
    for (i = 0; i < nconn; i++) {
        close(conns[i].fd);
        sink_buf_free(&conns[i].in);
        sink_buf_free(&conns[i].out);
    }
    close(lfd);
    if (o->count_only) { /* "N requests, N spans" and the other signals when they came */
        fprintf(out, "%ld requests, %llu spans", requests, (unsigned long long)items[0]);
        for (i = 1; i < (int)(sizeof sink_signals / sizeof sink_signals[0]); i++)
            if (items[i]) fprintf(out, ", %llu %s", (unsigned long long)items[i], sink_signals[i].unit);
        fprintf(out, "\n");
    }
    if (out != stdout) fclose(out);
    else fflush(out);
    if (!o->quiet)
        fprintf(stderr, "otlp_sink: stopped after %ld request(s), %llu span(s), %llu data point(s), %llu log record(s)\n",
                requests, (unsigned long long)items[0], (unsigned long long)items[1], (unsigned long long)items[2]);
    return 0;
}

#ifndef OTLP_SINK_NO_MAIN
int main(int argc, char **argv) {
    sink_opts o;
    int i;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.port = "4318";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quiet")) { o.quiet = true; continue; }
        if (!strcmp(a, "--count-only")) { o.count_only = true; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { sink_usage(); return 0; }
        if (!v) { sink_usage(); return 2; }
        if (!strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "--port")) o.port = v;
        else if (!strcmp(a, "--port-file")) o.port_file = v;
        else if (!strcmp(a, "--out")) o.out = v;
        else if (!strcmp(a, "--max-seconds")) o.max_seconds = strtol(v, NULL, 10);
        else if (!strcmp(a, "--max-requests")) o.max_requests = strtol(v, NULL, 10);
        else { sink_usage(); return 2; }
        i++;
    }
    return sink_run(&o);
}
#endif
