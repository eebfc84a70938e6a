/* test_inline_attrs.c - the inline attribute path (otel__kv_inline): otel_span_set_str/_strn/
   _int/_double/_bool with a string-literal key write the attribute in the caller's code when
   the span is this thread's cached handle, open with the handle's generation, recording,
   and otel__attr_fast_lim's common case holds; else they call otel__span_kv_str/_num, which
   was the only path before. The inline path must give exactly what that call gives, and
   never write where the call would not.

   1. Differential: seeded random scenarios (span_bytes 256/264/512/4096, default or tight
      limits, SIMPLE processing into a memory exporter; up to 20 spans open at once, ended out
      of order; attributes set mostly on the newest span, sometimes on an older open one, on
      an ended handle, on one whose slot a newer span took, on NULL; renames and statuses
      between them, whose strings take the top of the storage), each run twice: through the
      wrappers with literal keys (a function per key of a fixed key table), and through a
      reference that calls otel__span_kv_str/_num directly with the arguments the wrappers
      pass. Every exported span must be the same (name, status, counts, every attribute's
      key, type and value bytes, and the raw items), and so must the warnings and
      otel_stats' attrs_dropped and misuse. The inline run must have written many attributes
      inline, the reference run none. Its spans must also hold no key twice, attr_count
      attributes, valid UTF-8, and names and status messages as set: checks that do not
      rest on otel__attr_fast_lim, which both runs share.
   2. Directed cases, each with its expected values written out and run both ways: after
      otel_shutdown and a new otel_init, a handle ended by another thread, a span set from
      another thread (and its slot reused while that thread still caches the handle), an
      unsampled span, NULL, a handle with the non-recording bit cleared, keys not known at
      compile time, and one case per fallback reason (duplicate key, filter-bit collision,
      non-ASCII value or key, value over the length limit, count limit, storage full, less
      storage for strings at the top). The counter otel__test_inline_hits tells which
      attributes the inline path wrote.
   Also built with ThreadSanitizer by tests/run.sh (the marker on the next line). */
/* tsan */
#define OTEL_IMPLEMENTATION
#define OTEL_TEST_FAST_HITS 1
#define OTEL__DISCARD_LOG_MS 3600000 /* a span's drop warning: once per run, never by the clock */
#include "../otel.h"
#include "test.h"
#include "test_diag.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if !OTEL__INLINE_KV
#error "this test needs the inline attribute path (gcc or clang, without OTEL_NO_INLINE_ATTRS)"
#endif

static unsigned long long hits(void) { return __atomic_load_n(&otel__test_inline_hits, __ATOMIC_RELAXED); }

/* ---- the reference: the wrappers before the inline path -------------------------------- */

static OTEL__NOINLINE void ref_str(otel_span *span, const char *key, const char *value) {
    if (!OTEL__SPAN_INERT(span))
        otel__span_kv_str(span, key, key ? strlen(key) : 0, value ? value : "", value ? strlen(value) : 0);
}

static OTEL__NOINLINE void ref_strn(otel_span *span, const char *key, const char *value, size_t len) {
    if (!OTEL__SPAN_INERT(span))
        otel__span_kv_str(span, key, key ? strlen(key) : 0, value ? value : "", value ? len : 0);
}

static OTEL__NOINLINE void ref_num(otel_span *span, const char *key, otel_value_type type, uint64_t bits) {
    if (!OTEL__SPAN_INERT(span)) otel__span_kv_num(span, key, key ? strlen(key) : 0, (int)type, bits);
}

static double dbl(uint64_t bits) {
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

/* The same call either way: `inl` the wrapper (a literal key: the inline path), else the
   reference. */
#define SET_STR(inl, s, k, v) ((inl) ? otel_span_set_str((s), k, (v)) : ref_str((s), k, (v)))
#define SET_STRN(inl, s, k, v, n) ((inl) ? otel_span_set_strn((s), k, (v), (n)) : ref_strn((s), k, (v), (n)))
#define SET_INT(inl, s, k, v) \
    ((inl) ? otel_span_set_int((s), k, (v)) : ref_num((s), k, OTEL_VALUE_INT, (uint64_t)(int64_t)(v)))
#define SET_BOOL(inl, s, k, v) ((inl) ? otel_span_set_bool((s), k, (v)) : ref_num((s), k, OTEL_VALUE_BOOL, (v) ? 1 : 0))

/* ---- the key table ----------------------------------------------------------------------
   Filter bit (OTEL__KEYBIT): (length ^ last byte << 1) & 63. Keys sharing one: "ab"/"cb"/
   "zzza" (2 ^ 0xC4 == 4 ^ 0xC2), "aa.x"/"bb.x"/"cc.x", "key.7ab"/"key.7zb", the two 16-byte keys.
   Real duplicates: "dup" twice, "http.request.method" twice. Lengths 0-64 around the copy's
   branches (1-3, 4-7, 8, 9-16, 17-32, over 32). */
#define KEYS(X)                                                             \
    X(0, "a") X(1, "b") X(2, "ab") X(3, "cb") X(4, "zzza") X(5, "xyz")      \
    X(6, "aa.x") X(7, "bb.x") X(8, "cc.x") X(9, "key.5") X(10, "key.6b")    \
    X(11, "key.7ab") X(12, "key.7zb") X(13, "key.8abc") X(14, "key.9.abc")  \
    X(15, "key.15.abcdefgh") X(16, "key.16.abcdefghi")                      \
    X(17, "key.16.zzzzzzzzi") X(18, "key.17.abcdefghij")                    \
    X(19, "key.24.abcdefghijklmnopq")                                       \
    X(20, "key.31.abcdefghijklmnopqrstuvwx")                                \
    X(21, "key.32.abcdefghijklmnopqrstuvwxy")                               \
    X(22, "key.33.abcdefghijklmnopqrstuvwxyz")                              \
    X(23, "key.40.abcdefghijklmnopqrstuvwxyz0123456")                       \
    X(24, "key.41.abcdefghijklmnopqrstuvwxyz01234567")                      \
    X(25, "key.64.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU") \
    X(26, "http.request.method") X(27, "url.path")                          \
    X(28, "http.response.status_code") X(29, "app.ratio")                   \
    X(30, "") X(31, NULL)                                                   \
    X(32, "caf\xc3\xa9") X(33, "\xe2\x82\xac.price")                        \
    X(34, "bad\xff") X(35, "cut.\xc3")                                      \
    X(36, "dup") X(37, "dup") X(38, "http.request.method") X(39, "x")

#define KEY_ENTRY(i, k) k,
static const char *const keys[] = {KEYS(KEY_ENTRY)};
#define NKEYS (sizeof keys / sizeof keys[0])

enum { T_STR, T_STRN, T_INT, T_DOUBLE, T_BOOL };
enum { OP_START, OP_END, OP_SET, OP_NAME, OP_STATUS };

typedef struct op {
    uint8_t kind, type, key;
    int16_t span;    /* the span's number in the scenario; -1: a NULL handle */
    const char *str; /* T_STR, T_STRN: the value (may be NULL); OP_NAME, OP_STATUS: the text */
    size_t n;        /* T_STRN: the length passed */
    uint64_t bits;   /* T_INT, T_DOUBLE (its bit pattern), T_BOOL (0/1); OP_STATUS: the code */
} op;

/* The call of `o` through the public wrappers, with key i as a literal: one function per key
   (one function with all the cases took twice as long to build under ASan). */
#define SET_FN(i, k)                                                                   \
    static void set_key##i(otel_span *s, const op *o) {                                \
        switch (o->type) {                                                             \
        case T_STR: otel_span_set_str(s, k, o->str); break;                            \
        case T_STRN: otel_span_set_strn(s, k, o->str, o->n); break;                    \
        case T_INT: otel_span_set_int(s, k, (int64_t)o->bits); break;                  \
        case T_DOUBLE: otel_span_set_double(s, k, dbl(o->bits)); break;                \
        default: otel_span_set_bool(s, k, o->bits != 0); break;                        \
        }                                                                              \
    }
KEYS(SET_FN)
#define SET_FN_ENTRY(i, k) set_key##i,
static void (*const set_fns[])(otel_span *s, const op *o) = {KEYS(SET_FN_ENTRY)};

static void set_inline(otel_span *s, const op *o) {
    if (o->key < NKEYS) set_fns[o->key](s, o);
    else CHECK(!"key index out of range");
}

static void set_ref(otel_span *s, const op *o) {
    const char *k = keys[o->key];
    switch (o->type) {
    case T_STR: ref_str(s, k, o->str); break;
    case T_STRN: ref_strn(s, k, o->str, o->n); break;
    case T_INT: ref_num(s, k, OTEL_VALUE_INT, o->bits); break;
    case T_DOUBLE: ref_num(s, k, OTEL_VALUE_DOUBLE, o->bits); break;
    default: ref_num(s, k, OTEL_VALUE_BOOL, o->bits ? 1 : 0); break;
    }
}

/* ---- SDK setup and what a run leaves ----------------------------------------------------- */

typedef struct outcome {
    otel_exporter mem;
    bool init_ok;
    int warnings;            /* diag_count(NULL) after shutdown */
    uint64_t diag_hash;      /* of every message's level and text, in order */
    uint64_t attrs_dropped;  /* otel_stats before shutdown */
    uint64_t misuse;
    unsigned long long hits; /* otel__test_inline_hits during the run */
} outcome;

static bool sdk_init(outcome *o, uint32_t span_bytes, uint32_t count_limit, uint32_t length_limit,
                     otel_sampler sampler) {
    otel_desc d;
    memset(&d, 0, sizeof d);
    memset(o, 0, sizeof *o);
    CHECK(otel_memory_exporter_create(0, &o->mem) == OTEL_OK);
    d.destinations[0].exporter = o->mem;
    d.destinations[0].processor = OTEL_PROCESSOR_SIMPLE;
    d.default_metrics_exporters = "none";
    d.default_logs_exporters = "none";
    d.span_bytes = span_bytes;
    d.limits.attr_count = count_limit;
    d.limits.attr_value_length = length_limit;
    d.sampler = sampler;
    d.diag.func = diag_fn;
    diag_reset();
    o->hits = hits();
    o->init_ok = otel_init(&d) == OTEL_OK;
    return o->init_ok;
}

static uint64_t diag_digest(void) {
    uint64_t h = 1469598103934665603ull;
    pthread_mutex_lock(&diag_mu);
    for (int i = 0; i < diag_n && i < DIAG_MAX; i++) {
        h = (h ^ (uint64_t)diag_levels[i]) * 1099511628211ull;
        for (const char *p = diag_msgs[i]; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    }
    pthread_mutex_unlock(&diag_mu);
    return h;
}

/* Reads the statistics, shuts down, counts the warnings. The exporter stays for reading. */
static void sdk_done(outcome *o) {
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    o->attrs_dropped = st.attrs_dropped;
    o->misuse = st.misuse;
    CHECK(otel_shutdown(5000) == OTEL_OK);
    o->warnings = diag_count(NULL);
    o->diag_hash = diag_digest();
    o->hits = hits() - o->hits;
}

#define IDX(h) ((uintptr_t)(h) & (OTEL__NREC_BIT - 1)) /* a handle's slot index bits */

static bool str_is(otel_str s, const char *lit) { return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0; }

static const otel_span_data *span_named(const outcome *o, const char *name) {
    for (size_t i = 0; i < otel_memory_exporter_count(&o->mem); i++) {
        const otel_span_data *s = otel_memory_exporter_span(&o->mem, i);
        if (str_is(s->name, name)) return s;
    }
    return NULL;
}

/* The attribute `key` when the span has it exactly once. */
static bool attr_of(const otel_span_data *d, const char *key, otel_attr *out) {
    otel_iter it = otel_span_attrs(d);
    otel_attr a;
    int n = 0;
    while (otel_iter_attr(&it, &a))
        if (str_is(a.key, key)) n++, *out = a;
    return n == 1;
}

static bool has_int(const otel_span_data *d, const char *key, int64_t v) {
    otel_attr a;
    return d && attr_of(d, key, &a) && a.value.type == OTEL_VALUE_INT && a.value.u.i == v;
}

static bool has_bool(const otel_span_data *d, const char *key, bool v) {
    otel_attr a;
    return d && attr_of(d, key, &a) && a.value.type == OTEL_VALUE_BOOL && a.value.u.b == v;
}

static bool has_str(const otel_span_data *d, const char *key, const char *v) {
    otel_attr a;
    return d && attr_of(d, key, &a) && a.value.type == OTEL_VALUE_STRING && a.value.len == strlen(v) &&
           memcmp(a.value.u.s, v, a.value.len) == 0;
}

static bool lacks(const otel_span_data *d, const char *key) {
    otel_attr a;
    otel_iter it = otel_span_attrs(d);
    while (otel_iter_attr(&it, &a))
        if (str_is(a.key, key)) return false;
    return true;
}

/* ---- comparing two runs ----------------------------------------------------------------- */

static bool same_bytes(const char *a, size_t an, const char *b, size_t bn) {
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool same_attr(const otel_attr *x, const otel_attr *y) {
    if (!same_bytes(x->key.ptr, x->key.len, y->key.ptr, y->key.len) || x->value.type != y->value.type) return false;
    switch (x->value.type) {
    case OTEL_VALUE_STRING: return same_bytes(x->value.u.s, x->value.len, y->value.u.s, y->value.len);
    case OTEL_VALUE_BOOL: return x->value.u.b == y->value.u.b;
    case OTEL_VALUE_INT: return x->value.u.i == y->value.u.i;
    case OTEL_VALUE_DOUBLE: return memcmp(&x->value.u.d, &y->value.u.d, 8) == 0;
    default: return false; /* this test sets no other type */
    }
}

static void print_attr(const char *who, const otel_attr *a) {
    fprintf(stderr, "    %s: key '%.*s' (%zu bytes) type %d", who, (int)a->key.len, a->key.ptr, a->key.len,
            (int)a->value.type);
    if (a->value.type == OTEL_VALUE_STRING)
        fprintf(stderr, " '%.*s' (%zu bytes)\n", (int)a->value.len, a->value.u.s, a->value.len);
    else if (a->value.type == OTEL_VALUE_DOUBLE) fprintf(stderr, " %g\n", a->value.u.d);
    else fprintf(stderr, " %lld\n", (long long)a->value.u.i);
}

/* Span i of both runs the same? Prints the first difference. */
static bool same_span(const otel_span_data *a, const otel_span_data *b, size_t i) {
    if (!same_bytes(a->name.ptr, a->name.len, b->name.ptr, b->name.len) || a->attr_count != b->attr_count ||
        a->dropped_attrs != b->dropped_attrs || a->status_code != b->status_code ||
        !same_bytes(a->status_message.ptr, a->status_message.len, b->status_message.ptr, b->status_message.len)) {
        fprintf(stderr, "  span %zu: inline '%.*s' %u attrs %u dropped status %d '%.*s', reference '%.*s' %u attrs "
                "%u dropped status %d '%.*s'\n", i, (int)a->name.len, a->name.ptr, a->attr_count, a->dropped_attrs,
                a->status_code, (int)a->status_message.len, a->status_message.ptr, (int)b->name.len, b->name.ptr,
                b->attr_count, b->dropped_attrs, b->status_code, (int)b->status_message.len, b->status_message.ptr);
        return false;
    }
    otel_iter ia = otel_span_attrs(a), ib = otel_span_attrs(b);
    otel_attr x, y;
    for (size_t k = 0;; k++) {
        bool hx = otel_iter_attr(&ia, &x), hy = otel_iter_attr(&ib, &y);
        if (!hx && !hy) break;
        if (hx != hy || !same_attr(&x, &y)) {
            fprintf(stderr, "  span %zu '%.*s', attribute %zu differs:\n", i, (int)a->name.len, a->name.ptr, k);
            if (hx) print_attr("inline   ", &x);
            else fprintf(stderr, "    inline   : (none)\n");
            if (hy) print_attr("reference", &y);
            else fprintf(stderr, "    reference: (none)\n");
            return false;
        }
    }
    /* the items as stored (headers, padding, replaced items): written the same way */
    if (!same_bytes((const char *)a->otel__items, a->otel__items_len, (const char *)b->otel__items,
                    b->otel__items_len)) {
        fprintf(stderr, "  span %zu '%.*s': items differ (%zu and %zu bytes)\n", i, (int)a->name.len, a->name.ptr,
                a->otel__items_len, b->otel__items_len);
        return false;
    }
    return true;
}

static bool same_outcome(const outcome *a, const outcome *b) {
    bool ok = true;
    size_t na = otel_memory_exporter_count(&a->mem), nb = otel_memory_exporter_count(&b->mem);
    if (na != nb) {
        fprintf(stderr, "  %zu spans exported inline, %zu by the reference\n", na, nb);
        ok = false;
    }
    for (size_t i = 0; i < na && i < nb && ok; i++)
        ok = same_span(otel_memory_exporter_span(&a->mem, i), otel_memory_exporter_span(&b->mem, i), i);
    if (a->warnings != b->warnings || a->diag_hash != b->diag_hash) {
        fprintf(stderr, "  warnings: inline %d, reference %d%s\n", a->warnings, b->warnings,
                a->warnings == b->warnings ? " (texts differ)" : "");
        ok = false;
    }
    if (a->attrs_dropped != b->attrs_dropped || a->misuse != b->misuse) {
        fprintf(stderr, "  stats: inline attrs_dropped %llu misuse %llu, reference %llu %llu\n",
                (unsigned long long)a->attrs_dropped, (unsigned long long)a->misuse,
                (unsigned long long)b->attrs_dropped, (unsigned long long)b->misuse);
        ok = false;
    }
    return ok;
}

/* ---- what must hold whatever the path (not just the same both ways) --------------------- */

static bool u8_valid(const char *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF;
        size_t need;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) need = 2;
        else if (c >= 0xE0 && c <= 0xEF) need = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4) need = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else return false;
        for (size_t k = 1; k < need; k++, lo = 0x80, hi = 0xBF)
            if (i + k >= n || s[i + k] < lo || s[i + k] > hi) return false;
        i += need;
    }
    return true;
}

/* A prefix (the storage may cut it) of what the differential sets as names and status
   messages: "s.<span>", or lead ("r" renames, "m" messages) "." <span> "." <k> "." fill*. An
   attribute written over it (into the strings at the top of the storage) breaks it. */
static bool text_ok(const char *p, size_t n, char lead, char fill) {
    size_t i = 0;
    if (n == 0) return true;
    if (p[0] != lead && !(lead == 'r' && p[0] == 's')) return false;
    bool plain = p[0] == 's';
    if (++i == n) return true;
    if (p[i++] != '.') return false;
    for (int part = 0; part < 2; part++) {
        size_t d = i;
        while (i < n && p[i] >= '0' && p[i] <= '9') i++;
        if (i == n) return true;
        if (i == d || plain || p[i++] != '.') return false;
    }
    while (i < n && p[i] == fill) i++;
    return i == n;
}

/* Every exported span: attr_count attributes, no key twice, keys non-empty, keys and
   strings valid UTF-8 and NUL-terminated; the name and status message as set (or cut). */
static bool sane_spans(const outcome *o) {
    for (size_t i = 0; i < otel_memory_exporter_count(&o->mem); i++) {
        const otel_span_data *d = otel_memory_exporter_span(&o->mem, i);
        otel_attr at[160];
        size_t n = 0;
        otel_iter it = otel_span_attrs(d);
        while (n < 160 && otel_iter_attr(&it, &at[n])) n++;
        bool ok = n == d->attr_count && text_ok(d->name.ptr, d->name.len, 'r', 'n') &&
                  text_ok(d->status_message.ptr, d->status_message.len, 'm', 'm');
        for (size_t k = 0; k < n && ok; k++) {
            ok = at[k].key.len > 0 && u8_valid(at[k].key.ptr, at[k].key.len) && at[k].key.ptr[at[k].key.len] == 0;
            if (ok && at[k].value.type == OTEL_VALUE_STRING)
                ok = u8_valid(at[k].value.u.s, at[k].value.len) && at[k].value.u.s[at[k].value.len] == 0;
            for (size_t j = 0; j < k && ok; j++)
                ok = !same_bytes(at[j].key.ptr, at[j].key.len, at[k].key.ptr, at[k].key.len);
        }
        if (!ok) {
            fprintf(stderr, "  span %zu '%.*s' (status '%.*s'): attr_count %u, %zu attributes, a key twice, or "
                    "bad bytes\n", i, (int)d->name.len, d->name.ptr, (int)d->status_message.len,
                    d->status_message.ptr, d->attr_count, n);
            for (size_t k = 0; k < n; k++) print_attr("attr", &at[k]);
            return false;
        }
    }
    return true;
}

/* ---- 1. the differential random test ----------------------------------------------------- */

#define MAXOPS 112
#define MAXSPANS 40
#define MAXOPEN 20 /* more than a chunk of 16 slots */

typedef struct scen {
    uint64_t seed;
    uint32_t span_bytes, count_limit, length_limit; /* limits 0: the default */
    int nops, nspans;
    op ops[MAXOPS];
    char *bufs[MAXOPS]; /* the strings passed, each a heap block of exactly its bytes */
    int nbufs;
    char names[MAXSPANS][8];
} scen;

static const char *const utf8_ok[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbd"};
static const char *const utf8_bad[] = {"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\x80",
                                       "\xf4\x90\x80\x80"};

static unsigned rnd(uint64_t *r, unsigned n) { return n ? test_rand(r, n) : 0; }

/* A value length: 0, short, on and around the copy's word boundaries, long, or around
   the length limit. */
static size_t gen_len(uint64_t *r, const scen *sc) {
    static const size_t edges[] = {7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 40, 47, 48, 63, 64, 65};
    unsigned c = rnd(r, 100);
    if (c < 8) return 0;
    if (c < 40) return 1 + rnd(r, 7);
    if (c < 70) return edges[rnd(r, sizeof edges / sizeof edges[0])];
    if (c < 85 && sc->length_limit) return sc->length_limit - 1 + rnd(r, 3);
    return 1 + rnd(r, 150);
}

/* n bytes of printable ASCII, sometimes with valid or invalid UTF-8 in it, into a fresh heap
   block of exactly n (+1 with `nul`) bytes: ASan sees any read past it. */
static char *gen_text(uint64_t *r, scen *sc, size_t n, bool nul) {
    char *b = (char *)malloc(n + nul > 0 ? n + nul : 1);
    if (!b) abort();
    sc->bufs[sc->nbufs++] = b;
    for (size_t i = 0; i < n; i++) b[i] = (char)(' ' + rnd(r, 95));
    unsigned c = rnd(r, 100);
    if (n && c < 25) { /* some characters of 2-4 bytes (cut at the end: invalid) */
        for (unsigned k = 1 + rnd(r, 3); k > 0; k--) {
            const char *t = c < 15 ? utf8_ok[rnd(r, 4)] : utf8_bad[rnd(r, 7)];
            size_t at = rnd(r, (unsigned)n);
            for (size_t j = 0; t[j] && at + j < n; j++) b[at + j] = t[j];
        }
    }
    if (nul) b[n] = 0;
    return b;
}

static void gen_set(uint64_t *r, scen *sc, op *o, const uint8_t *hot) { /* (o->span is set) */
    o->kind = OP_SET;
    o->key = (uint8_t)(rnd(r, 100) < 55 ? hot[rnd(r, 6)] : rnd(r, (unsigned)NKEYS));
    o->type = (uint8_t)rnd(r, 5);
    o->str = NULL, o->n = 0, o->bits = 0;
    switch (o->type) {
    case T_STR:
        if (rnd(r, 100) >= 4) o->str = gen_text(r, sc, gen_len(r, sc), true);
        break;
    case T_STRN: {
        unsigned c = rnd(r, 100);
        size_t n = gen_len(r, sc);
        if (c < 4) { /* NULL with a length: "" */
            o->n = n;
            break;
        }
        char *b = gen_text(r, sc, n, c >= 50); /* half without a NUL after it */
        if (n && c >= 90) b[rnd(r, (unsigned)n)] = 0; /* a NUL inside */
        o->str = b;
        o->n = c < 30 ? rnd(r, (unsigned)n + 1) : n; /* shorter than the string */
        break;
    }
    case T_INT: {
        static const uint64_t special[] = {0, 1, (uint64_t)-1, (uint64_t)INT64_MIN, (uint64_t)INT64_MAX, 200};
        o->bits = rnd(r, 3) ? special[rnd(r, 6)] : ((uint64_t)rnd(r, 1u << 31) << 33) ^ rnd(r, 1u << 30);
        break;
    }
    case T_DOUBLE: {
        static const uint64_t special[] = {
            0x7ff8000000000000ull /* NaN */, 0xfff8000000000001ull /* -NaN, payload */,
            0x7ff0000000000001ull /* signalling NaN */, 0x8000000000000000ull /* -0.0 */, 0 /* 0.0 */,
            0x7ff0000000000000ull /* inf */, 0xfff0000000000000ull /* -inf */, 1 /* denormal */,
            0x3fe8000000000000ull /* 0.75 */};
        o->bits = rnd(r, 2) ? special[rnd(r, 9)] : ((uint64_t)rnd(r, 1u << 31) << 32) ^ rnd(r, 1u << 31);
        break;
    }
    default: o->bits = rnd(r, 2); break;
    }
}

/* A rename or a status: texts from the top of the span's storage, which attributes must
   not overwrite (text_ok). */
static void gen_text_op(uint64_t *r, scen *sc, op *o, int k) {
    char head[32];
    o->kind = rnd(r, 2) ? OP_NAME : OP_STATUS;
    int hl = snprintf(head, sizeof head, "%c.%d.%d.", o->kind == OP_NAME ? 'r' : 'm', o->span < 0 ? 99 : o->span, k);
    size_t fill = rnd(r, 4) ? rnd(r, 40) : rnd(r, 200);
    char *b = (char *)malloc((size_t)hl + fill + 1);
    if (!b) abort();
    sc->bufs[sc->nbufs++] = b;
    memcpy(b, head, (size_t)hl);
    memset(b + hl, o->kind == OP_NAME ? 'n' : 'm', fill);
    b[(size_t)hl + fill] = 0;
    o->str = b;
    o->bits = rnd(r, 10) ? OTEL_STATUS_ERROR : OTEL_STATUS_OK;
}

static void scen_free(scen *sc) {
    for (int i = 0; i < sc->nbufs; i++) free(sc->bufs[i]);
    sc->nbufs = 0;
}

static void scen_make(scen *sc, uint64_t seed) {
    static const uint32_t sizes[] = {256, 264, 512, 4096};
    uint64_t r = seed * 0x9E3779B97F4A7C15ull + 0x5eed;
    memset(sc, 0, sizeof *sc);
    sc->seed = seed;
    sc->span_bytes = sizes[rnd(&r, 4)];
    unsigned lim = rnd(&r, 6); /* 0-2: default limits; 3: count; 4: length; 5: both */
    if (lim == 3 || lim == 5) sc->count_limit = 3 + rnd(&r, 6);
    if (lim == 4 || lim == 5) sc->length_limit = 4 + rnd(&r, 17);
    uint8_t hot[6]; /* keys this scenario sets often: duplicates */
    for (int i = 0; i < 6; i++) hot[i] = (uint8_t)rnd(&r, (unsigned)NKEYS);
    int open[MAXOPEN], nopen = 0, target = 10 + (int)rnd(&r, 80);
    bool ended_any = false;
    while (sc->nops < target && sc->nops < MAXOPS - MAXOPEN) {
        op *o = &sc->ops[sc->nops++];
        unsigned c = rnd(&r, 100);
        if (nopen == 0 || (c < 14 && nopen < MAXOPEN && sc->nspans < MAXSPANS)) {
            if (sc->nspans == MAXSPANS) { /* no more spans: end instead */
                sc->nops--;
                break;
            }
            o->kind = OP_START;
            o->span = (int16_t)sc->nspans;
            snprintf(sc->names[sc->nspans], sizeof sc->names[0], "s.%d", sc->nspans);
            open[nopen++] = sc->nspans++;
        } else if (c < 24) { /* any open span: out of order */
            int k = (int)rnd(&r, (unsigned)nopen);
            o->kind = OP_END;
            o->span = (int16_t)open[k];
            memmove(&open[k], &open[k + 1], sizeof open[0] * (size_t)(nopen - k - 1));
            nopen--;
            ended_any = true;
        } else { /* an attribute (sometimes a rename or a status) on: */
            unsigned w = rnd(&r, 100);
            if (w < 70) o->span = (int16_t)open[nopen - 1]; /* the newest */
            else if (w < 85) o->span = (int16_t)open[rnd(&r, (unsigned)nopen)]; /* maybe an older one */
            else if (w < 97 && ended_any) { /* a span that ended (its slot maybe reused), if it is one */
                int s = (int)rnd(&r, (unsigned)sc->nspans);
                bool is_open = false;
                for (int k = 0; k < nopen; k++) is_open |= open[k] == s;
                o->span = (int16_t)(is_open ? open[nopen - 1] : s);
            } else {
                o->span = -1; /* NULL */
            }
            if (rnd(&r, 100) < 10) gen_text_op(&r, sc, o, sc->nops);
            else gen_set(&r, sc, o, hot);
        }
    }
    while (nopen > 0) { /* the rest, in random order */
        int k = (int)rnd(&r, (unsigned)nopen);
        op *o = &sc->ops[sc->nops++];
        o->kind = OP_END;
        o->span = (int16_t)open[k];
        memmove(&open[k], &open[k + 1], sizeof open[0] * (size_t)(nopen - k - 1));
        nopen--;
    }
}

static void scen_print(const scen *sc) {
    static const char *const tn[] = {"str", "strn", "int", "double", "bool"};
    fprintf(stderr, "  scenario seed %llu: span_bytes %u, count limit %u, length limit %u (0: default)\n",
            (unsigned long long)sc->seed, sc->span_bytes, sc->count_limit, sc->length_limit);
    for (int i = 0; i < sc->nops; i++) {
        const op *o = &sc->ops[i];
        if (o->kind == OP_START) fprintf(stderr, "    %3d start s.%d\n", i, o->span);
        else if (o->kind == OP_END) fprintf(stderr, "    %3d end s.%d\n", i, o->span);
        else if (o->kind == OP_NAME) fprintf(stderr, "    %3d set_name(s.%d, %zu bytes)\n", i, o->span, strlen(o->str));
        else if (o->kind == OP_STATUS)
            fprintf(stderr, "    %3d set_status(s.%d, %d, %zu bytes)\n", i, o->span, (int)o->bits, strlen(o->str));
        else if (o->type == T_STR || o->type == T_STRN)
            fprintf(stderr, "    %3d set_%s(s.%d, key %d '%s', %s%zu bytes)\n", i, tn[o->type], o->span, o->key,
                    keys[o->key] ? keys[o->key] : "(NULL)", o->str ? "" : "NULL, ",
                    o->type == T_STRN ? o->n : o->str ? strlen(o->str) : 0);
        else
            fprintf(stderr, "    %3d set_%s(s.%d, key %d '%s', 0x%llx)\n", i, tn[o->type], o->span, o->key,
                    keys[o->key] ? keys[o->key] : "(NULL)", (unsigned long long)o->bits);
    }
}

/* What the inline runs did: attribute calls, and those on an older open span, on an ended
   one, and on an ended one whose slot an open span holds now. */
static int set_count, set_older, set_ended, set_reused;

static void scen_run(const scen *sc, bool inl, outcome *out) {
    if (!sdk_init(out, sc->span_bytes, sc->count_limit, sc->length_limit, OTEL_SAMPLER_DEFAULT)) return;
    otel_span *h[MAXSPANS] = {0};
    bool open[MAXSPANS] = {0};
    int newest = -1;
    for (int i = 0; i < sc->nops; i++) {
        const op *o = &sc->ops[i];
        if (inl && o->kind == OP_SET && o->span >= 0) {
            set_older += open[o->span] && o->span != newest;
            set_ended += !open[o->span];
            for (int k = 0; k < sc->nspans && !open[o->span]; k++)
                if (open[k] && IDX(h[k]) == IDX(h[o->span])) set_reused++;
        }
        switch (o->kind) {
        case OP_START:
            h[o->span] = otel_span_start(sc->names[o->span], NULL);
            open[o->span] = true, newest = o->span;
            break;
        case OP_END:
            otel_span_end(h[o->span]);
            open[o->span] = false;
            while (newest >= 0 && !open[newest]) newest--;
            break;
        case OP_NAME: otel_span_set_name(o->span < 0 ? NULL : h[o->span], o->str); break;
        case OP_STATUS: otel_span_set_status(o->span < 0 ? NULL : h[o->span], (otel_status_code)o->bits, o->str); break;
        default: {
            otel_span *s = o->span < 0 ? NULL : h[o->span];
            if (inl) set_inline(s, o), set_count++;
            else set_ref(s, o);
        }
        }
    }
    sdk_done(out);
}

static void test_differential(void) {
    int n = SANITIZED ? 2000 : 6000, bad = 0, printed = 0;
    unsigned long long inl_hits = 0, ref_hits = 0;
    size_t spans = 0;
    int drops = 0, misuses = 0;
    static scen sc;
    for (int i = 0; i < n; i++) {
        scen_make(&sc, 1000 + (uint64_t)i);
        outcome a, b;
        scen_run(&sc, true, &a);
        scen_run(&sc, false, &b);
        CHECK(a.init_ok && b.init_ok);
        bool same = a.init_ok && b.init_ok && same_outcome(&a, &b);
        bool sane = sane_spans(&a);
        CHECK(same);
        CHECK(sane);
        CHECK(b.hits == 0); /* the reference never takes the inline path */
        if (!same || !sane || b.hits) {
            bad++;
            if (printed++ < 3) scen_print(&sc);
        }
        inl_hits += a.hits, ref_hits += b.hits;
        spans += otel_memory_exporter_count(&a.mem);
        drops += a.attrs_dropped > 0, misuses += a.misuse > 0;
        otel_memory_exporter_destroy(&a.mem);
        otel_memory_exporter_destroy(&b.mem);
        scen_free(&sc);
    }
    printf("differential: %d scenarios, %zu spans, %d attribute calls (%d on an older open span, %d on an ended "
           "one, %d of them with its slot taken by an open span), %llu written inline (%.0f%%), %llu by the "
           "reference; %d scenarios dropped attributes, %d had misuse; %d differ\n",
           n, spans, set_count, set_older, set_ended, set_reused, inl_hits,
           set_count ? 100.0 * (double)inl_hits / set_count : 0.0, ref_hits, drops, misuses, bad);
    CHECK(inl_hits > (unsigned long long)set_count / 4); /* a large share: the rest are the fallback cases */
    CHECK(ref_hits == 0);
    /* the scenarios reach the limits, the misuse, the older spans and the reused slots */
    CHECK(drops > n / 10 && misuses > n / 10);
    CHECK(set_older > n && set_ended > n / 2 && set_reused > n / 10);
}

/* The key table is what its comments say. */
static void test_key_table(void) {
    static const size_t lens[] = {1, 1, 2, 2, 4, 3, 4, 4, 4, 5, 6, 7, 7, 8, 9, 15, 16, 16, 17, 24,
                                  31, 32, 33, 40, 41, 64, 19, 8, 25, 9, 0, 0, 5, 9, 4, 5, 3, 3, 19, 1};
    CHECK(NKEYS == sizeof lens / sizeof lens[0]);
    for (size_t i = 0; i < NKEYS && i < sizeof lens / sizeof lens[0]; i++) {
        bool ok = (keys[i] ? strlen(keys[i]) : 0) == lens[i];
        CHECK(ok);
        if (!ok) fprintf(stderr, "  key %zu\n", i);
    }
    CHECK(keys[31] == NULL);
    CHECK(OTEL__KEYBIT("ab", 2) == OTEL__KEYBIT("cb", 2) && OTEL__KEYBIT("ab", 2) == OTEL__KEYBIT("zzza", 4));
    CHECK(OTEL__KEYBIT("aa.x", 4) == OTEL__KEYBIT("cc.x", 4));
    CHECK(OTEL__KEYBIT(keys[16], 16) == OTEL__KEYBIT(keys[17], 16));
    CHECK(OTEL__KEYBIT(keys[11], 7) == OTEL__KEYBIT(keys[12], 7));
}

/* ---- 2. directed cases ------------------------------------------------------------------- */

/* Runs `fn` both ways (inline, then the reference) and compares what they left. */
static void both_ways(const char *what, void (*fn)(bool inl, outcome *o)) {
    outcome a, b;
    fn(true, &a);
    fn(false, &b);
    bool same = same_outcome(&a, &b);
    CHECK(same);
    CHECK(b.hits == 0);
    if (!same) fprintf(stderr, "  (%s)\n", what);
    otel_memory_exporter_destroy(&a.mem);
    otel_memory_exporter_destroy(&b.mem);
}

/* A key set twice keeps its last value: a scalar over a scalar is updated in place, a
   string over it replaces it. The second set of a key goes to the call. */
static void dir_duplicate(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *s = otel_span_start("dup", NULL);
    SET_INT(inl, s, "dup", 1);
    SET_INT(inl, s, "dup", 2);
    SET_STR(inl, s, "dup", "last");
    SET_INT(inl, s, "n", 5);
    SET_INT(inl, s, "n", 6);
    SET_BOOL(inl, s, "flag", false);
    SET_BOOL(inl, s, "flag", true);
    unsigned long long h = hits() - o->hits;
    otel_span_end(s);
    sdk_done(o);
    CHECK(h == (inl ? 3u : 0u)); /* the first "dup", "n" and "flag" */
    const otel_span_data *d = span_named(o, "dup");
    CHECK(d && d->attr_count == 3 && d->dropped_attrs == 0 && test_iter_len(otel_span_attrs(d)) == 3);
    CHECK(has_str(d, "dup", "last"));
    CHECK(has_int(d, "n", 6));
    CHECK(has_bool(d, "flag", true));
    CHECK(o->warnings == 0 && o->attrs_dropped == 0);
}

/* Keys with the same filter bit: both kept; the second goes to the call (which scans). */
static void dir_filter_bit(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *s = otel_span_start("bits", NULL);
    SET_INT(inl, s, "ab", 1);
    SET_INT(inl, s, "cb", 2);   /* same length, same last byte */
    SET_INT(inl, s, "zzza", 3); /* another length, the same bit */
    SET_INT(inl, s, "ab", 4);
    SET_STR(inl, s, "aa.x", "first");
    SET_STR(inl, s, "bb.x", "second");
    unsigned long long h = hits() - o->hits;
    otel_span_end(s);
    sdk_done(o);
    CHECK(h == (inl ? 2u : 0u)); /* "ab" and "aa.x" */
    const otel_span_data *d = span_named(o, "bits");
    CHECK(d && d->attr_count == 5 && d->dropped_attrs == 0 && test_iter_len(otel_span_attrs(d)) == 5);
    CHECK(has_int(d, "ab", 4));
    CHECK(has_int(d, "cb", 2));
    CHECK(has_int(d, "zzza", 3));
    CHECK(has_str(d, "aa.x", "first"));
    CHECK(has_str(d, "bb.x", "second"));
}

/* Values and keys that are not ASCII: valid UTF-8 kept as is, invalid repaired (U+FFFD),
   by the call. Also the empty and the NULL key, and a NULL value. */
static void dir_non_ascii(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *s = otel_span_start("utf8", NULL);
    SET_STR(inl, s, "v.ascii", "plain");
    SET_STR(inl, s, "v.utf8", "caf\xc3\xa9");
    SET_STR(inl, s, "v.bad", "ab\xc3");
    SET_STRN(inl, s, "v.cut", "\xe2\x82\xac\xe2\x82\xac", 4); /* the second euro sign cut after a byte */
    SET_INT(inl, s, "caf\xc3\xa9", 1);
    SET_INT(inl, s, "bad\xff", 2);
    SET_INT(inl, s, "", 3);
    SET_INT(inl, s, NULL, 4);
    SET_STR(inl, s, "v.null", NULL);
    SET_STRN(inl, s, "v.nulln", NULL, 5);
    unsigned long long h = hits() - o->hits;
    otel_span_end(s);
    sdk_done(o);
    CHECK(h == (inl ? 3u : 0u)); /* "v.ascii", "v.null", "v.nulln" */
    const otel_span_data *d = span_named(o, "utf8");
    CHECK(d && d->attr_count == 8 && d->dropped_attrs == 2 && test_iter_len(otel_span_attrs(d)) == 8);
    CHECK(has_str(d, "v.ascii", "plain"));
    CHECK(has_str(d, "v.utf8", "caf\xc3\xa9"));
    CHECK(has_str(d, "v.bad", "ab\xef\xbf\xbd"));
    CHECK(has_str(d, "v.cut", "\xe2\x82\xac\xef\xbf\xbd"));
    CHECK(has_int(d, "caf\xc3\xa9", 1));
    CHECK(has_int(d, "bad\xef\xbf\xbd", 2));
    CHECK(has_str(d, "v.null", ""));
    CHECK(has_str(d, "v.nulln", ""));
    CHECK(o->attrs_dropped == 2);
}

/* attr_value_length 8: up to 8 bytes inline; longer ASCII cut to 8 by the call; the limit
   counts characters, so 5 two-byte characters stay whole. */
static void dir_length_limit(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 0, 8, OTEL_SAMPLER_DEFAULT));
    otel_span *s = otel_span_start("length", NULL);
    SET_STR(inl, s, "v.eq", "abcdefgh");
    SET_STR(inl, s, "v.over", "abcdefghij");
    SET_STRN(inl, s, "v.overn", "0123456789", 9);
    SET_STR(inl, s, "v.utf8", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    SET_INT(inl, s, "v.int", 123456789);
    unsigned long long h = hits() - o->hits;
    otel_span_end(s);
    sdk_done(o);
    CHECK(h == (inl ? 2u : 0u)); /* "v.eq", "v.int" */
    const otel_span_data *d = span_named(o, "length");
    CHECK(d && d->attr_count == 5 && d->dropped_attrs == 0);
    CHECK(has_str(d, "v.eq", "abcdefgh"));
    CHECK(has_str(d, "v.over", "abcdefgh"));
    CHECK(has_str(d, "v.overn", "01234567"));
    CHECK(has_str(d, "v.utf8", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
    CHECK(has_int(d, "v.int", 123456789));
}

/* attr_count 3: three new keys inline, the fourth dropped and counted by the call; keys
   already set may still change at the limit. */
static void dir_count_limit(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 3, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *s = otel_span_start("count", NULL);
    SET_INT(inl, s, "a", 1);
    SET_INT(inl, s, "b", 2);
    SET_INT(inl, s, "c", 3);
    SET_INT(inl, s, "d", 4);
    SET_STR(inl, s, "e", "e");
    SET_INT(inl, s, "a", 10);
    SET_STR(inl, s, "b", "x");
    unsigned long long h = hits() - o->hits;
    otel_span_end(s);
    sdk_done(o);
    CHECK(h == (inl ? 3u : 0u));
    const otel_span_data *d = span_named(o, "count");
    CHECK(d && d->attr_count == 3 && d->dropped_attrs == 2 && test_iter_len(otel_span_attrs(d)) == 3);
    CHECK(has_int(d, "a", 10));
    CHECK(has_str(d, "b", "x"));
    CHECK(has_int(d, "c", 3));
    CHECK(d && lacks(d, "d") && lacks(d, "e"));
    CHECK(o->attrs_dropped == 2);
    CHECK(o->warnings == 1); /* the span's drop, logged once */
}

/* span_bytes 256: the name "full" takes 8 bytes and the empty tracestate 8, so 240 are left.
   An attribute with a 3-byte key and a 32-byte string takes 24 (header) + 8 + 40 = 72: three
   fit (216), then 24 bytes are left, less than any item (an int takes 24 + 8 = 32). A scalar
   over a key already set needs no room. */
static void dir_storage_full(bool inl, outcome *o) {
    static const char v32[] = "0123456789abcdef0123456789ABCDEF";
    CHECK(sdk_init(o, 256, 0, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *s = otel_span_start("full", NULL);
    SET_STR(inl, s, "f.0", v32);
    SET_STR(inl, s, "f.1", v32);
    SET_STR(inl, s, "f.2", v32);
    SET_STR(inl, s, "f.3", v32);
    SET_INT(inl, s, "i.a", 1); /* (keys with filter bits of their own: only the room is short) */
    SET_BOOL(inl, s, "b.b", true);
    SET_INT(inl, s, "f.1", 7);
    unsigned long long h = hits() - o->hits;
    otel_span_end(s);
    sdk_done(o);
    CHECK(sizeof(otel__item) == 24);
    CHECK(h == (inl ? 3u : 0u));
    const otel_span_data *d = span_named(o, "full");
    CHECK(d && d->attr_count == 3 && d->dropped_attrs == 3 && test_iter_len(otel_span_attrs(d)) == 3);
    CHECK(has_str(d, "f.0", v32));
    CHECK(has_int(d, "f.1", 7));
    CHECK(has_str(d, "f.2", v32));
    CHECK(d && lacks(d, "f.3") && lacks(d, "i.a") && lacks(d, "b.b"));
    CHECK(o->attrs_dropped == 3);
    CHECK(o->warnings == 2); /* storage full (once per run), the span's drop */
}

/* Strings kept at the top of the storage (a status message, a new name) leave less room
   for attributes, and are not written over. span_bytes 256, name "top": items from byte
   16; a 39-byte message takes the top 40 bytes, so 200 are left: two 72-byte attributes
   (144), then not a third (216), then an int (176), then not another (208). A rename then
   takes 24 of the 40 bytes left (23 + NUL), and the next int does not fit. */
static void dir_top_strings(bool inl, outcome *o) {
    static const char v32[] = "0123456789abcdef0123456789ABCDEF";
    static const char msg[] = "m.0.0.mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm";
    static const char name[] = "r.0.0.nnnnnnnnnnnnnnnnn";
    CHECK(sdk_init(o, 256, 0, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *s = otel_span_start("top", NULL);
    otel_span_set_status(s, OTEL_STATUS_ERROR, msg);
    SET_STR(inl, s, "f.0", v32);
    SET_STR(inl, s, "f.1", v32);
    SET_STR(inl, s, "f.2", v32);
    SET_INT(inl, s, "i.a", 1); /* (not "i.0": the filter bit of "f.0") */
    SET_INT(inl, s, "i.b", 2);
    otel_span_set_name(s, name);
    SET_INT(inl, s, "i.c", 3);
    unsigned long long h = hits() - o->hits;
    otel_span_end(s);
    sdk_done(o);
    CHECK(sizeof msg == 40 && sizeof name == 24);
    CHECK(h == (inl ? 3u : 0u));
    const otel_span_data *d = span_named(o, name);
    CHECK(d && d->attr_count == 3 && d->dropped_attrs == 3);
    CHECK(has_str(d, "f.0", v32) && has_str(d, "f.1", v32) && has_int(d, "i.a", 1));
    CHECK(d && d->status_code == OTEL_STATUS_ERROR && str_is(d->status_message, msg));
}

/* The cache follows the handle last resolved: setting an older open span goes to the call
   (which resolves it); the newer span is then set by the call once and inline again. */
static void dir_older_span(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *p = otel_span_start("older", NULL);
    otel_span *c = otel_span_start("newer", NULL);
    SET_INT(inl, c, "c.1", 1); /* inline */
    SET_INT(inl, p, "p.1", 2); /* the call: resolves p */
    SET_INT(inl, p, "p.2", 3); /* inline */
    SET_INT(inl, c, "c.2", 4); /* the call */
    SET_INT(inl, c, "c.3", 5); /* inline */
    unsigned long long h = hits() - o->hits;
    otel_span_end(p); /* out of order */
    SET_INT(inl, p, "p.late", 6); /* ended: misuse */
    SET_INT(inl, c, "c.4", 7);
    otel_span_end(c);
    sdk_done(o);
    CHECK(h == (inl ? 3u : 0u));
    const otel_span_data *dp = span_named(o, "older"), *dc = span_named(o, "newer");
    CHECK(dp && dp->attr_count == 2 && has_int(dp, "p.1", 2) && has_int(dp, "p.2", 3) && lacks(dp, "p.late"));
    CHECK(dc && dc->attr_count == 4 && has_int(dc, "c.1", 1) && has_int(dc, "c.2", 4) && has_int(dc, "c.3", 5) &&
          has_int(dc, "c.4", 7));
    CHECK(o->misuse == 1 && o->warnings == 1);
}

/* After otel_shutdown a handle of the old instance is a no-op: its slot memory is freed
   (ASan sees any read of it). After a new otel_init the old handle writes nothing and is
   reported as stale, before and after this thread registers with the new instance; the
   new instance's spans get their attributes inline. */
static void dir_after_shutdown(bool inl, outcome *o) {
    outcome old;
    CHECK(sdk_init(&old, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *a = otel_span_start("old", NULL);
    SET_INT(inl, a, "old.1", 1);
    otel_span *done = otel_span_start("old.ended", NULL);
    otel_span_end(done);
    sdk_done(&old); /* `a` never ended: not exported */
    CHECK(old.hits == (inl ? 1u : 0u));
    CHECK(otel_memory_exporter_count(&old.mem) == 1);
    otel_memory_exporter_destroy(&old.mem);

    unsigned long long h0 = hits();
    SET_INT(inl, a, "after.shutdown", 2); /* no SDK at all */
    SET_STR(inl, a, "after.shutdown.s", "x");
    SET_INT(inl, done, "after.shutdown.e", 3);
    CHECK(hits() == h0);

    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    SET_INT(inl, a, "after.init", 4); /* this thread not registered with the new instance yet */
    otel_span *b = otel_span_start("new", NULL);
    SET_INT(inl, b, "new.1", 5);
    CHECK(IDX(b) == IDX(a) && b != a);  /* the old handle's slot index is the new span's now */
    SET_INT(inl, a, "after.init.2", 6); /* (and this thread is registered with the new instance) */
    SET_STR(inl, a, "after.init.s", "y");
    SET_INT(inl, b, "new.2", 7);
    unsigned long long h = hits() - o->hits;
    otel_span_end(b);
    sdk_done(o);
    CHECK(h == (inl ? 2u : 0u));
    const otel_span_data *d = span_named(o, "new");
    CHECK(otel_memory_exporter_count(&o->mem) == 1);
    CHECK(d && d->attr_count == 2 && has_int(d, "new.1", 5) && has_int(d, "new.2", 7));
    CHECK(o->misuse == 3 && o->warnings == 1);
}

/* A step protocol with one helper thread that keeps its thread-local state (its handle
   cache) across steps: each step runs on it while this thread waits. */
typedef struct worker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*fn)(void *);
    void *arg;
    bool busy, quit;
} worker;

static void *worker_main(void *p) {
    worker *w = (worker *)p;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->busy && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->busy) break;
        pthread_mutex_unlock(&w->mu);
        w->fn(w->arg);
        pthread_mutex_lock(&w->mu);
        w->busy = false;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void worker_start(worker *w) {
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    CHECK(pthread_create(&w->th, NULL, worker_main, w) == 0);
}

static void worker_run(worker *w, void (*fn)(void *), void *arg) {
    pthread_mutex_lock(&w->mu);
    w->fn = fn, w->arg = arg, w->busy = true;
    pthread_cond_broadcast(&w->cv);
    while (w->busy) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void worker_stop(worker *w) {
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

typedef struct xarg {
    bool inl;
    otel_span *span;
    int step;
} xarg;

/* The other thread's steps. */
static void x_step(void *p) {
    xarg *x = (xarg *)p;
    bool inl = x->inl;
    otel_span *s = x->span;
    switch (x->step) {
    case 0: otel_span_end(otel_span_start("w.own", NULL)); break; /* registers this thread */
    case 1: otel_span_end(s); break;
    case 2: SET_INT(inl, s, "from.w.1", 1); break; /* not in this thread's cache: the call */
    case 3: SET_INT(inl, s, "from.w.2", 2); break; /* cached now: inline */
    case 4: SET_INT(inl, s, "from.w.stale", 4); break;
    case 5: SET_INT(inl, s, "from.w.b", 5); break;
    default: break;
    }
}

static void on_worker(worker *w, bool inl, otel_span *s, int step) {
    xarg x = {inl, s, step};
    worker_run(w, x_step, &x);
}


/* A span ended by another thread, then set by this (its starting) thread, which still
   caches its handle: nothing written, misuse reported. Its slot, once 15 more spans have
   taken this thread's other free slots, goes to a new span that the old handle must not
   reach. */
static void dir_ended_elsewhere(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    worker w;
    worker_start(&w);
    otel_span *a = otel_span_start("a", NULL); /* the first slot of this thread */
    SET_INT(inl, a, "a.before", 1);            /* inline */
    on_worker(&w, inl, a, 1);                  /* ended there */
    SET_INT(inl, a, "a.after", 2);             /* the cached handle, its slot freed by another thread */
    SET_STR(inl, a, "a.after.s", "x");
    otel_span *f[15];
    for (int i = 0; i < 15; i++) f[i] = otel_span_start("filler", NULL);
    otel_span *b = otel_span_start("b", NULL); /* takes a's slot back */
    CHECK(IDX(b) == IDX(a) && b != a);
    SET_INT(inl, a, "a.stale", 3);
    SET_INT(inl, b, "b.1", 4); /* inline */
    SET_INT(inl, a, "a.stale.2", 5);
    unsigned long long h = hits() - o->hits;
    otel_span_end(b);
    for (int i = 15; i > 0; i--) otel_span_end(f[i - 1]);
    worker_stop(&w);
    sdk_done(o);
    CHECK(h == (inl ? 2u : 0u));
    const otel_span_data *da = span_named(o, "a"), *db = span_named(o, "b");
    CHECK(da && da->attr_count == 1 && has_int(da, "a.before", 1));
    CHECK(db && db->attr_count == 1 && has_int(db, "b.1", 4));
    CHECK(otel_memory_exporter_count(&o->mem) == 17);
    CHECK(o->misuse == 4 && o->warnings == 1);
}

/* A span started here and set from another thread: the first set there goes to the call
   (that thread's cache holds its own span) and arrives; then that thread caches the handle
   and sets inline. This thread ends the span and starts another in the same slot: the other
   thread, its cache still holding the old handle, must not write into the new span (the
   slot is open, only the generation differs). */
static void dir_set_elsewhere(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    worker w;
    worker_start(&w);
    on_worker(&w, inl, NULL, 0);
    otel_span *a = otel_span_start("a", NULL);
    on_worker(&w, inl, a, 2);
    on_worker(&w, inl, a, 3);
    SET_INT(inl, a, "from.main", 3); /* this thread's cache still holds `a`: inline */
    otel_span_end(a);
    otel_span *b = otel_span_start("b", NULL);
    CHECK(IDX(b) == IDX(a) && b != a);
    on_worker(&w, inl, a, 4); /* stale, in the other thread's cache, its slot open again */
    on_worker(&w, inl, b, 5); /* the call: arrives */
    SET_INT(inl, b, "from.main.b", 6);
    unsigned long long h = hits() - o->hits;
    otel_span_end(b);
    worker_stop(&w);
    sdk_done(o);
    CHECK(h == (inl ? 3u : 0u)); /* "from.w.2", "from.main", "from.main.b" */
    const otel_span_data *da = span_named(o, "a"), *db = span_named(o, "b");
    CHECK(da && da->attr_count == 3 && has_int(da, "from.w.1", 1) && has_int(da, "from.w.2", 2) &&
          has_int(da, "from.main", 3));
    CHECK(db && db->attr_count == 2 && has_int(db, "from.w.b", 5) && has_int(db, "from.main.b", 6) &&
          lacks(db, "from.w.stale"));
    CHECK(o->misuse == 1 && o->warnings == 1);
}

/* Spans that record nothing: unsampled (always_off), the no-op handle of an SDK not set up,
   NULL; and a handle with the non-recording bit cleared (never handed out: a corrupted
   handle, the only way to reach the inline path's recording check): once the call has
   resolved it, it is this thread's cached handle, its slot open with its generation. */
static void dir_not_recording(bool inl, outcome *o) {
    unsigned long long h0 = hits();
    otel_span *noop = otel_span_start("before.init", NULL);
    SET_INT(inl, noop, "k", 1);
    CHECK(hits() == h0);
    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_ALWAYS_OFF));
    otel_span *u = otel_span_start("unsampled", NULL);
    CHECK(!otel_span_is_recording(u));
    SET_INT(inl, u, "u.1", 1);
    SET_STR(inl, u, "u.2", "v");
    otel_span *c = otel_span_start("unsampled.child", NULL);
    SET_INT(inl, c, "c.1", 1);
    SET_INT(inl, NULL, "null.1", 1);
    SET_STR(inl, NULL, "null.2", "v");
    otel_span *forged = (otel_span *)((uintptr_t)u & ~OTEL__NREC_BIT);
    SET_INT(inl, forged, "forged.1", 1); /* the call: resolves it, records nothing */
    SET_INT(inl, forged, "forged.2", 2); /* cached now */
    SET_STR(inl, forged, "forged.3", "v");
    SET_BOOL(inl, forged, "forged.4", true);
    CHECK(!otel_span_is_recording(forged));
    unsigned long long h = hits() - o->hits;
    otel_span_end(c);
    otel_span_end(u);
    sdk_done(o);
    CHECK(h == 0);
    CHECK(otel_memory_exporter_count(&o->mem) == 0);
    CHECK(o->misuse == 2 && o->warnings == 1); /* the NULL ones */
}

/* Keys whose length the compiler cannot know: the call, never the inline path. */
static const char *volatile vkey = "dyn.volatile";
static volatile char vchar = 'x';

OTEL__NOINLINE void set_with_key(otel_span *s, const char *key, int64_t v); /* external: no constant propagation */
OTEL__NOINLINE void set_with_key(otel_span *s, const char *key, int64_t v) { otel_span_set_int(s, key, v); }

static void dir_runtime_key(bool inl, outcome *o) {
    CHECK(sdk_init(o, 0, 0, 0, OTEL_SAMPLER_DEFAULT));
    otel_span *s = otel_span_start("runtime", NULL);
    char arr[16] = "dyn.array.?";
    arr[10] = vchar; /* may be a NUL for all the compiler knows */
    unsigned long long h0 = hits();
    if (inl) {
        otel_span_set_int(s, vkey, 1);
        otel_span_set_str(s, arr, "two");
        otel_span_set_strn(s, arr, "three", 5); /* same key: replaces */
        set_with_key(s, "dyn.param", 4);
        set_with_key(s, "dyn.param.2", 5);
        otel_span_set_double(s, vkey, 0.5); /* same key: updated in place */
    } else {
        ref_num(s, vkey, OTEL_VALUE_INT, 1);
        ref_str(s, arr, "two");
        ref_strn(s, arr, "three", 5);
        ref_num(s, "dyn.param", OTEL_VALUE_INT, 4);
        ref_num(s, "dyn.param.2", OTEL_VALUE_INT, 5);
        ref_num(s, vkey, OTEL_VALUE_DOUBLE, 0x3fe0000000000000ull);
    }
    CHECK(hits() == h0);
    SET_INT(inl, s, "literal", 6);
    CHECK(hits() == h0 + (inl ? 1 : 0));
    otel_span_end(s);
    sdk_done(o);
    const otel_span_data *d = span_named(o, "runtime");
    otel_attr a;
    CHECK(d && d->attr_count == 5);
    CHECK(d && attr_of(d, "dyn.volatile", &a) && a.value.type == OTEL_VALUE_DOUBLE && a.value.u.d == 0.5);
    CHECK(has_str(d, "dyn.array.x", "three"));
    CHECK(has_int(d, "dyn.param", 4));
    CHECK(has_int(d, "dyn.param.2", 5));
    CHECK(has_int(d, "literal", 6));
}

int main(void) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    test_key_table();
    both_ways("duplicate key", dir_duplicate);
    both_ways("filter-bit collision", dir_filter_bit);
    both_ways("non-ASCII", dir_non_ascii);
    both_ways("length limit", dir_length_limit);
    both_ways("count limit", dir_count_limit);
    both_ways("storage full", dir_storage_full);
    both_ways("strings at the top", dir_top_strings);
    both_ways("older span", dir_older_span);
    both_ways("after shutdown", dir_after_shutdown);
    both_ways("ended by another thread", dir_ended_elsewhere);
    both_ways("set from another thread", dir_set_elsewhere);
    both_ways("not recording", dir_not_recording);
    both_ways("runtime key", dir_runtime_key);
    test_differential();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.2f s\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return TEST_DONE();
}
