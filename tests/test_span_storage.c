/* test_span_storage.c - a seeded random sequence of span calls around the edges of a span's
   inline storage (otel_desc.span_bytes), checked against an exact model of what the storage
   keeps.

   Every open span keeps its name, tracestate, attributes, events and links (items, from the
   bottom) and its renamed names and status messages (strings, from the top) in span_bytes of
   storage; the slots of a chunk of 16 have their storages next to each other in one
   allocation. The test keeps all 16 slots of the thread's first chunk open: "canary" spans
   whose storage is full of known bytes (a name at the bottom, an attribute filling the middle,
   a status message ending at the last byte), and in 1-3 chosen slots (often slot 15, the last
   of the allocation, or slot 0, or two next to each other) "fuzz" spans that get a random
   sequence of names, attributes (every form, keys repeated, sized to land within 16 bytes of
   the room left), events, exceptions, links, renames and statuses, with valid, multi-byte and
   invalid UTF-8, remote and local parents with tracestates, at span_bytes 256, 264 and 512,
   with SIMPLE and BATCH processing, with default and tight limits. So:
     - ASan sees a write or read past the chunk (slot 15, or before slot 0), and any read
       past a string handed in (they are heap copies of exactly their length);
     - a write into a neighbour's storage changes a canary (or another fuzz span), and its
       export no longer matches the model;
     - every exported span must be exactly what the model says was kept: name (cut only at a
       character boundary and only when it must be), tracestate (whole or nothing),
       attributes in order with their values, events and links with theirs, every count and
       dropped count, the status; and the attrs_dropped statistic;
     - in the exporter itself (before any copy), every string is NUL-terminated at its
       length and valid UTF-8, the items walk exactly to their end, the counts match the
       iterators, and all the span's bytes lie within span_bytes of each other.
   The model mirrors the sizes of the storage (otel.h's item layout: a 24-byte item header,
   8-byte aligned strings with their NUL, 32 bytes of link context): it fails when the
   library keeps less than fits as well as when it keeps more. A difference prints the span's
   calls. The sequence is the same every run (one seed); under sanitizers 2/3 of it runs.
   It found a parent's tracestate cut to what was left of the storage (now left out whole). */
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "test.h"
#include "test_diag.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define A8(n) (((size_t)(n) + 7u) & ~(size_t)7u)
#define IT sizeof(otel__item)      /* an item's header */
#define LCTX OTEL__LINK_CTX_BYTES  /* a link's ids and flags */
#define NSLOT 16                   /* a chunk of slots (OTEL__SLOT_CHUNK) */
#define MAXIT 72                   /* attribute items of one span (each takes >= 32 bytes) */
#define MAXEV 40
#define MAXLN 40
#define POOL 12288                 /* the model's copies of one span's strings */
#define MAXSPANS 64

static uint64_t rng = 0x5eed5eed12345ull;
static unsigned rnd(unsigned n) { return n ? test_rand(&rng, n) : 0; }
static bool chance(unsigned pct) { return rnd(100) < pct; }

/* ---- UTF-8, independently of the library ------------------------------------------------ */

/* Length of the valid sequence at s, or 0 with *bad = the length of its maximal ill-formed
   subpart (Unicode ch. 3, "U+FFFD substitution of maximal subparts"). */
static size_t u8_seq(const unsigned char *s, size_t n, size_t *bad) {
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) need = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) need = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else return *bad = 1, 0;
    for (size_t k = 1; k < need; k++) {
        if (k >= n || s[k] < lo || s[k] > hi) return *bad = k, 0;
        lo = 0x80, hi = 0xBF;
    }
    return need;
}

static bool u8_valid(const char *p, size_t n) {
    size_t i = 0, bad, l;
    while (i < n) {
        if (!(l = u8_seq((const unsigned char *)p + i, n - i, &bad))) return false;
        i += l;
    }
    return true;
}

/* The repaired copy of s[0..n), at most maxc characters; returns its length (out: 3n bytes). */
static size_t u8_repair(const char *src, size_t n, size_t maxc, char *out) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0, chars = 0, bad, l;
    while (i < n && chars < maxc) {
        if ((l = u8_seq(s + i, n - i, &bad))) memcpy(out + o, s + i, l), i += l, o += l;
        else memcpy(out + o, "\xEF\xBF\xBD", 3), i += bad, o += 3;
        chars++;
    }
    return o;
}

/* The longest prefix of the valid string r[0..n) that ends on a character and has at most
   `room` bytes. */
static size_t u8_prefix(const char *r, size_t n, size_t room) {
    size_t i = 0, bad, l;
    while (i < n && (l = u8_seq((const unsigned char *)r + i, n - i, &bad)) && i + l <= room) i += l;
    return i;
}

/* ---- random text --------------------------------------------------------------------- */

static const char *const tokens[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xe2\x82",
                                     "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\x80", "\xef\xbf\xbd"};

#define NOHINT SIZE_MAX

/* n bytes of text into a fresh heap block of exactly n + nul bytes (so that ASan sees a
   read past it): letters; or letters with a character of 2-4 bytes across `hint` (where the
   room ends, so that a cut falls inside it) or near the end; or any mix of valid and
   invalid UTF-8. */
static char *gen_text(size_t n, bool nul, size_t hint) {
    char *b = (char *)malloc(n + nul > 0 ? n + nul : 1);
    if (!b) abort();
    for (size_t i = 0; i < n; i++) b[i] = (char)('a' + rnd(26));
    unsigned f = rnd(100);
    if (f < 40 && hint != NOHINT && hint <= n + 3 && n >= 4) { /* across the edge */
        const char *t = tokens[rnd(3)];
        size_t tl = strlen(t), at = hint > tl ? hint - rnd((unsigned)tl + 1) : 0;
        if (at + tl > n) at = n - tl;
        memcpy(b + at, t, tl);
    } else if (f >= 70 && f < 85 && n >= 2) { /* near the end */
        const char *t = tokens[rnd(3)];
        size_t tl = strlen(t), at = n - 1 - rnd(n < 6 ? (unsigned)n : 6);
        for (size_t k = 0; k < tl && at + k < n; k++) b[at + k] = t[k];
    } else if (f >= 85) {
        for (size_t i = 0; i < n;) {
            if (chance(60)) {
                i++;
                continue;
            }
            const char *t = tokens[rnd(sizeof tokens / sizeof tokens[0])];
            for (size_t k = 0; t[k] && i < n; k++) b[i++] = t[k];
        }
    }
    if (nul) b[n] = 0;
    return b;
}

/* A bound as a hint: negative -> none. */
static size_t hint_of(long target) { return target < 0 ? NOHINT : (size_t)target; }

/* A length near `target` (within 16 bytes either side), or a small one. */
static size_t near(long target, unsigned pct_near, unsigned small) {
    long n = chance(pct_near) ? target - 16 + (long)rnd(33) : (long)rnd(small);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- the model ---------------------------------------------------------------------------- */

typedef struct mattr {
    int scope; /* -1: the span; e: event e; MAXEV + l: link l */
    bool alive;
    const char *k;
    size_t kl;
    otel_value_type type;
    int64_t i;
    double d;
    bool b;
    const char *p; /* string bytes, array elements; string arrays: the elements NUL-separated */
    size_t n;      /* string bytes, array count */
} mattr;

typedef struct mevent {
    const char *name;
    size_t nl;
    uint64_t t; /* 0: any */
    uint32_t count, dropped;
} mevent;

typedef struct mlink {
    uint8_t tid[16], sid[8], flags;
    bool remote;
    const char *ts;
    size_t tl;
    uint32_t count, dropped;
} mlink;

typedef struct mspan {
    bool used, recording, canary, on_stack;
    int slot, id;
    otel_span *h;
    uint8_t tid[16], sid[8], pid[8];
    bool has_parent, parent_remote;
    int kind;
    size_t cap, items_off, items_end, str_used;
    const char *name, *ts, *msg;
    size_t nl, tl, ml;
    int status;
    bool final;
    mattr a[MAXIT];
    int na;
    uint32_t attr_count, dropped_attrs;
    mevent ev[MAXEV];
    int nev;
    uint32_t dropped_events;
    mlink ln[MAXLN];
    int nln;
    uint32_t dropped_links;
    char pool[POOL];
    size_t pool_used;
    char log[1536];
    size_t log_len;
} mspan;

static mspan spans[MAXSPANS];
static mspan *stack[64]; /* the active stack: open spans started without .detached */
static int depth;
static otel_span_limits lim;
static size_t cap, maxc;
static uint64_t discards; /* what otel_stats.attrs_dropped counts */
static unsigned long n_spans, n_ops, n_exported;
static unsigned long n_tight, n_near; /* kept with under 8 bytes to spare; dropped for want of at most 8 */

/* Counts how close a fit (`end` bytes needed of `avail`) came to the edge. */
static void edge(size_t end, size_t avail) {
    if (end <= avail && avail - end < 8) n_tight++;
    if (end > avail && end - avail <= 8) n_near++;
}

static const char *cfg_name;
static int model_fail;

static void mlog(mspan *m, const char *fmt, ...) OTEL__PRINTF(2, 3);
static void mlog(mspan *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (m->log_len < sizeof m->log - 1) {
        int r = vsnprintf(m->log + m->log_len, sizeof m->log - m->log_len, fmt, ap);
        if (r > 0) m->log_len += (size_t)r;
        if (m->log_len > sizeof m->log - 1) m->log_len = sizeof m->log - 1;
    }
    va_end(ap);
}

static const char *pool_put(mspan *m, const char *s, size_t n) {
    if (m->pool_used + n + 1 > POOL) {
        fprintf(stderr, "test_span_storage: model pool full\n");
        abort();
    }
    char *p = m->pool + m->pool_used;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    m->pool_used += n + 1;
    return p;
}

static size_t room(const mspan *m) { return m->cap - m->str_used - m->items_end; }

/* An all-or-nothing string (key, value, event name, link tracestate) of rn bytes (repaired)
   at `at`: the bytes it takes, or 0 when it does not fit. */
static size_t fit(const mspan *m, size_t at, size_t rn) {
    size_t avail = m->cap - m->str_used;
    edge(at + A8(rn + 1), avail);
    return at + A8(rn + 1) <= avail ? A8(rn + 1) : 0;
}

static mattr *find(mspan *m, int scope, const char *k, size_t kl) {
    for (int i = 0; i < m->na; i++)
        if (m->a[i].alive && m->a[i].scope == scope && m->a[i].kl == kl && memcmp(m->a[i].k, k, kl) == 0) return &m->a[i];
    return NULL;
}

/* An attribute into `scope` with `count` kept there already: 1 added, 0 replaced, -1 dropped. */
static int m_attr(mspan *m, int scope, uint32_t count, uint32_t limit, const otel_attr *a) {
    const otel_value *v = &a->value;
    if (!a->key.ptr || !a->key.len || v->type == OTEL_VALUE_NONE) return discards++, -1;
    static char kr[3 * 4096], vr[3 * 4096];
    size_t kl = u8_repair(a->key.ptr, a->key.len, SIZE_MAX, kr);
    bool kvalid = u8_valid(a->key.ptr, a->key.len);
    mattr *old = kvalid ? find(m, scope, kr, kl) : NULL;
    bool scalar = v->type == OTEL_VALUE_BOOL || v->type == OTEL_VALUE_INT || v->type == OTEL_VALUE_DOUBLE;
    if (old && scalar) { /* updated in place */
        old->type = v->type, old->p = NULL, old->n = 0;
        if (v->type == OTEL_VALUE_INT) old->i = v->u.i;
        if (v->type == OTEL_VALUE_DOUBLE) old->d = v->u.d;
        if (v->type == OTEL_VALUE_BOOL) old->b = v->u.b;
        return 0;
    }
    size_t at = m->items_end, avail = m->cap - m->str_used;
    if (at + IT + 8 > avail) return discards++, -1;
    size_t kused = fit(m, at + IT, kl);
    if (!kused) return discards++, -1;
    if (!old) old = find(m, scope, kr, kl);
    if (!old && count >= limit) return discards++, -1;
    size_t vat = at + IT + kused, vused = 0, vn = 0;
    const char *vp = NULL;
    switch (v->type) {
    case OTEL_VALUE_STRING:
        vn = u8_repair(v->u.s ? v->u.s : "", v->u.s ? v->len : 0, maxc, vr);
        if (!(vused = fit(m, vat, vn))) return discards++, -1;
        vp = vr;
        break;
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY:
        vused = A8(v->len * 8), vn = v->len, vp = (const char *)v->u.ia;
        edge(vat + vused, avail);
        if (vat + vused > avail) return discards++, -1;
        break;
    case OTEL_VALUE_BOOL_ARRAY:
        vused = A8(v->len), vn = v->len;
        edge(vat + vused, avail);
        if (vat + vused > avail) return discards++, -1;
        for (size_t i = 0; i < v->len; i++) vr[i] = v->u.ba[i] ? 1 : 0;
        vp = vr;
        break;
    case OTEL_VALUE_STRING_ARRAY: {
        size_t pos = 0, bytes = A8(v->len * 8);
        for (size_t i = 0; i < v->len; i++) {
            const char *e = v->u.sa[i] ? v->u.sa[i] : "";
            size_t r = u8_repair(e, strlen(e), maxc, vr + pos);
            vr[pos + r] = 0;
            pos += r + 1;
        }
        vused = A8(bytes + pos), vn = pos, vp = vr; /* vn: the elements' bytes with their NULs */
        edge(vat + vused, avail);
        if (vat + vused > avail) return discards++, -1;
        break;
    }
    default: break;
    }
    if (m->na == MAXIT) {
        fprintf(stderr, "test_span_storage: model: too many items\n");
        abort();
    }
    if (old) old->alive = false;
    mattr *x = &m->a[m->na++];
    memset(x, 0, sizeof *x);
    x->scope = scope, x->alive = true, x->type = v->type;
    x->k = pool_put(m, kr, kl), x->kl = kl;
    if (v->type == OTEL_VALUE_INT) x->i = v->u.i;
    if (v->type == OTEL_VALUE_DOUBLE) x->d = v->u.d;
    if (v->type == OTEL_VALUE_BOOL) x->b = v->u.b;
    if (v->type == OTEL_VALUE_STRING) x->p = pool_put(m, vp, vn), x->n = vn;
    if (v->type == OTEL_VALUE_INT_ARRAY || v->type == OTEL_VALUE_DOUBLE_ARRAY) x->p = pool_put(m, vp, vn * 8), x->n = vn;
    if (v->type == OTEL_VALUE_BOOL_ARRAY) x->p = pool_put(m, vp, vn), x->n = vn;
    if (v->type == OTEL_VALUE_STRING_ARRAY) x->p = pool_put(m, vp, vn), x->n = v->len;
    m->items_end = vat + vused;
    return old ? 0 : 1;
}

static void m_span_attr(mspan *m, const otel_attr *a) {
    int r = m_attr(m, -1, m->attr_count, lim.attr_count, a);
    if (r > 0) m->attr_count++;
    if (r < 0) m->dropped_attrs++;
}

static void m_nested(mspan *m, int scope, uint32_t *count, uint32_t *dropped, uint32_t limit, const otel_attr *a) {
    int r = m_attr(m, scope, *count, limit, a);
    if (r > 0) (*count)++;
    if (r < 0) (*dropped)++;
}

/* An event: its index, or -1 when dropped. */
static int m_event(mspan *m, const char *name, uint64_t t) {
    static char nr[3 * 4096];
    if ((uint32_t)m->nev >= lim.event_count) {
        m->dropped_events++, discards++;
        return -1;
    }
    size_t nl = u8_repair(name ? name : "", name ? strlen(name) : 0, SIZE_MAX, nr), at = m->items_end;
    size_t used = fit(m, at + IT, nl);
    if (!used) {
        m->dropped_events++, discards++;
        return -1;
    }
    if (m->nev == MAXEV) abort();
    mevent *e = &m->ev[m->nev];
    memset(e, 0, sizeof *e);
    e->name = pool_put(m, nr, nl), e->nl = nl, e->t = t;
    m->items_end = at + IT + used;
    return m->nev++;
}

static bool ctx_valid(const otel_span_context *c) {
    uint8_t o = 0, p = 0;
    for (int i = 0; i < 16; i++) o |= c->trace_id[i];
    for (int i = 0; i < 8; i++) p |= c->span_id[i];
    return o && p;
}

static int m_link(mspan *m, const otel_span_context *c) {
    if (!c || !ctx_valid(c) || m->nln >= (int)lim.link_count) {
        m->dropped_links++, discards++;
        return -1;
    }
    static char tr[3 * 512];
    size_t tn = u8_repair(c->trace_state, strnlen(c->trace_state, OTEL_TRACE_STATE_MAX), SIZE_MAX, tr);
    size_t at = m->items_end, used = fit(m, at + IT + LCTX, tn);
    if (!used || m->nln == MAXLN) {
        if (used) abort();
        m->dropped_links++, discards++;
        return -1;
    }
    mlink *l = &m->ln[m->nln];
    memset(l, 0, sizeof *l);
    memcpy(l->tid, c->trace_id, 16);
    memcpy(l->sid, c->span_id, 8);
    l->flags = c->trace_flags, l->remote = c->is_remote;
    l->ts = pool_put(m, tr, tn), l->tl = tn;
    m->items_end = at + IT + LCTX + used;
    return m->nln++;
}

/* A string from the top (rename, status message): false when cut short or no room. */
static bool m_top(mspan *m, const char *s, const char **out, size_t *outl) {
    static char r[3 * 4096];
    size_t avail = room(m);
    if (avail < 1) return false;
    size_t need = u8_repair(s, strlen(s), SIZE_MAX, r), rm = need < avail - 1 ? need : avail - 1;
    edge(need + 1, avail);
    size_t w = u8_prefix(r, need, rm);
    m->str_used += rm + 1;
    *out = pool_put(m, r, w), *outl = w;
    return w == need;
}

/* ---- checks on what the exporter receives, before any copy ---------------------------- */

static _Atomic unsigned long raw_bad, raw_spans;

static void raw_fail(const otel_span_data *s, const char *what) {
    unsigned long n = atomic_fetch_add(&raw_bad, 1);
    if (n < 20) fprintf(stderr, "%s: exported span (name %zu bytes, %zu bytes of items): %s\n", cfg_name, s->name.len,
                        s->otel__items_len, what);
}

static bool str_ok(const char *p, size_t n) { return p && p[n] == 0 && !memchr(p, 0, n) && u8_valid(p, n); }

typedef struct window {
    const char *lo, *hi;
} window;

static void win_add(window *w, const void *p, size_t n) {
    const char *c = (const char *)p;
    if (!w->lo || c < w->lo) w->lo = c;
    if (!w->hi || c + n > w->hi) w->hi = c + n;
}

/* Walks the items at p[0..len) (the layout of otel__item): sizes that add up exactly,
   known tags, NUL-terminated valid strings, arrays inside their items; counts what it
   finds. Nested: inside an event or link (attributes only). */
static bool raw_items(const otel_span_data *s, const unsigned char *p, size_t len, bool nested, uint32_t *na,
                      uint32_t *ne, uint32_t *nl) {
    size_t pos = 0;
    *na = 0;
    if (ne) *ne = 0, *nl = 0;
    while (pos < len) {
        const otel__item *it = (const otel__item *)(const void *)(p + pos);
        if (len - pos < IT || it->size < IT || it->size % 8 || it->size > len - pos) return raw_fail(s, "item size"), false;
        const char *k = (const char *)(it + 1);
        size_t after = IT + A8((size_t)it->klen + 1);
        if (it->tag == OTEL__ITEM_DEAD) {
            pos += it->size;
            continue;
        }
        if (it->tag == OTEL__ITEM_ATTR) {
            if (!it->klen || after > it->size || !str_ok(k, it->klen)) return raw_fail(s, "attribute key"), false;
            if (after + it->aux != it->size) return raw_fail(s, "attribute size"), false;
            const char *v = k + A8((size_t)it->klen + 1);
            size_t vl = it->vlen;
            switch (it->vtype) {
            case OTEL_VALUE_STRING:
                if (vl + 1 > it->aux || !str_ok(v, vl)) return raw_fail(s, "string value"), false;
                break;
            case OTEL_VALUE_BOOL:
            case OTEL_VALUE_INT:
            case OTEL_VALUE_DOUBLE: break;
            case OTEL_VALUE_INT_ARRAY:
            case OTEL_VALUE_DOUBLE_ARRAY:
                if (A8(vl * 8) != it->aux) return raw_fail(s, "array size"), false;
                break;
            case OTEL_VALUE_BOOL_ARRAY:
                if (A8(vl) != it->aux) return raw_fail(s, "bool array size"), false;
                for (size_t i = 0; i < vl; i++)
                    if ((unsigned char)v[i] > 1) return raw_fail(s, "bool array value"), false;
                break;
            case OTEL_VALUE_STRING_ARRAY:
                if (A8(vl * 8) > it->aux) return raw_fail(s, "string array header"), false;
                for (size_t i = 0; i < vl; i++) {
                    uint32_t off, el;
                    memcpy(&off, v + i * 4, 4);
                    memcpy(&el, v + (vl + i) * 4, 4);
                    if (off < vl * 8 || (size_t)off + el + 1 > it->aux || !str_ok(v + off, el))
                        return raw_fail(s, "string array element"), false;
                }
                break;
            default: return raw_fail(s, "attribute type"), false;
            }
            (*na)++;
        } else if (!nested && it->tag == OTEL__ITEM_EVENT) {
            uint32_t a;
            if (after > it->size || !str_ok(k, it->klen)) return raw_fail(s, "event name"), false;
            if (!raw_items(s, (const unsigned char *)it + after, it->size - after, true, &a, NULL, NULL)) return false;
            if (a != it->vlen) return raw_fail(s, "event attribute count"), false;
            (*ne)++;
        } else if (!nested && it->tag == OTEL__ITEM_LINK) {
            uint32_t a;
            size_t la = IT + LCTX + A8((size_t)it->klen + 1);
            const char *ts = k + LCTX;
            if (la > it->size || !str_ok(ts, it->klen)) return raw_fail(s, "link tracestate"), false;
            if (!raw_items(s, (const unsigned char *)it + la, it->size - la, true, &a, NULL, NULL)) return false;
            if (a != it->vlen) return raw_fail(s, "link attribute count"), false;
            (*nl)++;
        } else {
            return raw_fail(s, "item tag"), false;
        }
        pos += it->size;
    }
    return true;
}


static bool raw_check(const otel_span_data *s) {
    atomic_fetch_add(&raw_spans, 1);
    /* first the span's bytes: within one storage (SIMPLE) or one record's copy of it (BATCH);
       only then are they read */
    window w = {NULL, NULL};
    win_add(&w, s->name.ptr, s->name.len + 1);
    win_add(&w, s->trace_state.ptr, s->trace_state.len + 1);
    if (s->status_message.len) win_add(&w, s->status_message.ptr, s->status_message.len + 1);
    if (s->otel__items_len) win_add(&w, s->otel__items, s->otel__items_len);
    if ((size_t)(w.hi - w.lo) > cap) {
        raw_fail(s, "data spread over more than span_bytes");
        return false;
    }
    if (!str_ok(s->name.ptr, s->name.len)) raw_fail(s, "name not NUL-terminated valid UTF-8");
    if (!str_ok(s->trace_state.ptr, s->trace_state.len)) raw_fail(s, "tracestate not NUL-terminated");
    if (!str_ok(s->status_message.ptr, s->status_message.len)) raw_fail(s, "status message not NUL-terminated");
    uint32_t na, ne, nl;
    if (!raw_items(s, s->otel__items, s->otel__items_len, false, &na, &ne, &nl)) return true;
    if (na != s->attr_count || ne != s->event_count || nl != s->link_count) raw_fail(s, "item counts");
    if (test_iter_len(otel_span_attrs(s)) != s->attr_count) raw_fail(s, "otel_iter_attr count");
    otel_iter it = otel_span_events(s);
    otel_event_data ev;
    uint32_t k = 0;
    while (otel_iter_event(&it, &ev)) {
        k++;
        if (test_iter_len(ev.attrs) != ev.attr_count) raw_fail(s, "event's otel_iter_attr count");
    }
    if (k != s->event_count) raw_fail(s, "otel_iter_event count");
    it = otel_span_links(s);
    otel_link_data ld;
    k = 0;
    while (otel_iter_link(&it, &ld)) {
        k++;
        if (test_iter_len(ld.attrs) != ld.attr_count) raw_fail(s, "link's otel_iter_attr count");
    }
    if (k != s->link_count) raw_fail(s, "otel_iter_link count");
    return true;
}

static otel_exporter mem;

/* The exporter: checks each span, then hands those that can be read to the memory exporter. */
static otel_export_result check_export(const otel_span_batch *b, void *user) {
    (void)user;
    const otel_span_data **ok = (const otel_span_data **)malloc((b->count + 1) * sizeof *ok);
    otel_span_batch fwd = *b;
    size_t n = 0;
    for (size_t i = 0; i < b->count; i++)
        if (raw_check(b->spans[i])) ok[n++] = b->spans[i];
    fwd.spans = ok, fwd.count = n;
    otel_export_result r = mem.export_spans(&fwd, mem.user);
    free(ok);
    return r;
}

/* ---- comparing an exported span with its model ---------------------------------------- */

static bool same(const char *p, size_t n, const char *q, size_t m) { return n == m && (n == 0 || memcmp(p, q, n) == 0); }

static bool attr_eq(const otel_attr *x, const mattr *y) {
    if (!same(x->key.ptr, x->key.len, y->k, y->kl) || x->value.type != y->type) return false;
    const otel_value *v = &x->value;
    switch (y->type) {
    case OTEL_VALUE_STRING: return same(v->u.s, v->len, y->p, y->n);
    case OTEL_VALUE_BOOL: return v->u.b == y->b;
    case OTEL_VALUE_INT: return v->u.i == y->i;
    case OTEL_VALUE_DOUBLE: return memcmp(&v->u.d, &y->d, sizeof y->d) == 0;
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY: return v->len == y->n && (!y->n || memcmp(v->u.ia, y->p, y->n * 8) == 0);
    case OTEL_VALUE_BOOL_ARRAY:
        if (v->len != y->n) return false;
        for (size_t i = 0; i < y->n; i++)
            if (v->u.ba[i] != (y->p[i] != 0)) return false;
        return true;
    case OTEL_VALUE_STRING_ARRAY: {
        if (v->len != y->n) return false;
        const char *e = y->p;
        for (size_t i = 0; i < y->n; i++) {
            otel_str s = otel_value_str_at(v, i);
            if (!same(s.ptr, s.len, e, strlen(e))) return false;
            e += strlen(e) + 1;
        }
        return true;
    }
    default: return false;
    }
}

static bool attrs_eq(otel_iter it, const mspan *m, int scope) {
    otel_attr a;
    int i = 0;
    while (otel_iter_attr(&it, &a)) {
        while (i < m->na && !(m->a[i].alive && m->a[i].scope == scope)) i++;
        if (i == m->na || !attr_eq(&a, &m->a[i])) return false;
        i++;
    }
    while (i < m->na && !(m->a[i].alive && m->a[i].scope == scope)) i++;
    return i == m->na;
}

static const char *span_diff(const otel_span_data *s, const mspan *m) {
    if (!same(s->name.ptr, s->name.len, m->name, m->nl)) return "name";
    if (!same(s->trace_state.ptr, s->trace_state.len, m->ts, m->tl)) return "tracestate";
    if (memcmp(s->trace_id, m->tid, 16) || s->has_parent != m->has_parent || s->parent_is_remote != m->parent_remote ||
        memcmp(s->parent_span_id, m->pid, 8) || s->kind != m->kind || s->trace_flags != OTEL_TRACE_FLAG_SAMPLED)
        return "ids, parent, kind or flags";
    if (s->status_code != m->status || !same(s->status_message.ptr, s->status_message.len, m->msg, m->ml)) return "status";
    if (s->attr_count != m->attr_count || s->dropped_attrs != m->dropped_attrs) return "attribute counts";
    if (s->event_count != (uint32_t)m->nev || s->dropped_events != m->dropped_events) return "event counts";
    if (s->link_count != (uint32_t)m->nln || s->dropped_links != m->dropped_links) return "link counts";
    if (!attrs_eq(otel_span_attrs(s), m, -1)) return "attributes";
    otel_iter it = otel_span_events(s);
    otel_event_data ev;
    for (int e = 0; otel_iter_event(&it, &ev); e++) {
        const mevent *x = &m->ev[e];
        if (!same(ev.name.ptr, ev.name.len, x->name, x->nl) || (x->t && ev.time_ns != x->t) || !ev.time_ns)
            return "event name or time";
        if (ev.attr_count != x->count || ev.dropped_attrs != x->dropped || !attrs_eq(ev.attrs, m, e)) return "event attributes";
    }
    it = otel_span_links(s);
    otel_link_data ld;
    for (int l = 0; otel_iter_link(&it, &ld); l++) {
        const mlink *x = &m->ln[l];
        if (memcmp(ld.trace_id, x->tid, 16) || memcmp(ld.span_id, x->sid, 8) || ld.trace_flags != x->flags ||
            ld.is_remote != x->remote || !same(ld.trace_state.ptr, ld.trace_state.len, x->ts, x->tl))
            return "link context";
        if (ld.attr_count != x->count || ld.dropped_attrs != x->dropped || !attrs_eq(ld.attrs, m, MAXEV + l))
            return "link attributes";
    }
    return NULL;
}

static void report(const mspan *m, const char *what, const otel_span_data *s) {
    model_fail++;
    if (model_fail > 10) return;
    fprintf(stderr, "%s: %s span #%d (slot %d): %s differs from the model\n", cfg_name, m->canary ? "canary" : "fuzz",
            m->id, m->slot, what);
    if (s)
        fprintf(stderr, "  exported: name %zu '%.80s' attrs %u+%u events %u+%u links %u+%u items %zu\n", s->name.len,
                s->name.ptr, s->attr_count, s->dropped_attrs, s->event_count, s->dropped_events, s->link_count,
                s->dropped_links, s->otel__items_len);
    fprintf(stderr, "  model:    name %zu '%.80s' attrs %u+%u events %d+%u links %d+%u items %zu..%zu top %zu\n", m->nl,
            m->name, m->attr_count, m->dropped_attrs, m->nev, m->dropped_events, m->nln, m->dropped_links, m->items_off,
            m->items_end, m->str_used);
    fprintf(stderr, "  calls: %.*s\n", (int)m->log_len, m->log);
}

/* Compares what the memory exporter holds with the models of the spans that ended. */
static void check_exported(void) {
    size_t n = otel_memory_exporter_count(&mem);
    for (size_t i = 0; i < n; i++) {
        const otel_span_data *s = otel_memory_exporter_span(&mem, i);
        mspan *m = NULL;
        for (int k = 0; k < MAXSPANS && !m; k++)
            if (spans[k].used && !spans[k].h && memcmp(spans[k].sid, s->span_id, 8) == 0) m = &spans[k];
        CHECK(m != NULL && m->recording);
        if (!m) continue;
        const char *d = span_diff(s, m);
        if (d) report(m, d, s);
        n_exported++;
        m->used = false;
    }
    for (int k = 0; k < MAXSPANS; k++) /* every recording span that ended was exported */
        if (spans[k].used && !spans[k].h) {
            if (spans[k].recording) report(&spans[k], "export (missing)", NULL);
            spans[k].used = false;
        }
    otel_memory_exporter_reset(&mem);
}

/* ---- driving the API ------------------------------------------------------------------------ */

static int slot_of(otel_span *h) {
    otel__slot *s = otel__slot_of(otel__g, h);
    return s ? (int)(s->index & otel__g->slot_mask) : -1;
}

static mspan *m_new(void) {
    for (int k = 0; k < MAXSPANS; k++)
        if (!spans[k].used) {
            mspan *m = &spans[k];
            memset(m, 0, offsetof(mspan, pool));
            m->used = true, m->cap = cap, m->id = (int)n_spans++;
            m->pool_used = m->log_len = 0;
            m->log[0] = 0;
            return m;
        }
    fprintf(stderr, "test_span_storage: too many model spans\n");
    abort();
}

static void rand_ctx(otel_span_context *c, size_t tslen) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 16; i++) c->trace_id[i] = (uint8_t)rnd(256);
    for (int i = 0; i < 8; i++) c->span_id[i] = (uint8_t)rnd(256);
    c->trace_id[0] |= 1, c->span_id[0] |= 1;
    c->trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    c->is_remote = true;
    if (tslen > OTEL_TRACE_STATE_MAX - 1) tslen = OTEL_TRACE_STATE_MAX - 1;
    /* a valid tracestate of tslen bytes (>= 4): members k<i>=<letters>, one or several */
    size_t o = 0;
    bool many = chance(50);
    for (int i = 0;; i++) {
        char key[16];
        size_t kl = (size_t)snprintf(key, sizeof key, "%sk%d=", o ? "," : "", i);
        if (o + kl + 1 > tslen) break;
        memcpy(c->trace_state + o, key, kl);
        o += kl;
        size_t left = tslen - o, vl = many && left > 14 ? 1 + rnd(left - 7 < 40 ? (unsigned)(left - 7) : 40) : left;
        for (size_t k = 0; k < vl; k++) c->trace_state[o++] = (char)('a' + rnd(26));
    }
    c->trace_state[o] = 0;
}

/* A start: a canary (root, detached) or a fuzz span in whatever way; the model gets the
   start's result. */
static mspan *start(bool canary) {
    mspan *m = m_new();
    otel_span_desc d;
    memset(&d, 0, sizeof d);
    otel_span_context rc;
    mspan *parent = NULL;
    char *name;
    size_t nraw;
    bool use_null = false;
    m->canary = canary;
    if (canary) {
        char buf[32];
        snprintf(buf, sizeof buf, "canary-%d", m->id);
        nraw = strlen(buf);
        name = (char *)malloc(nraw + 1);
        memcpy(name, buf, nraw + 1);
        d.root = d.detached = true;
    } else {
        unsigned how = rnd(100);
        nraw = near((long)cap - 9, 35, chance(10) ? 600 : 40);
        name = gen_text(nraw, true, cap - 9);
        if (how < 35) { /* a remote parent with a tracestate near what is left */
            size_t nr = A8(nraw + 1) > cap - 8 ? cap - 8 : A8(nraw + 1);
            rand_ctx(&rc, near((long)(cap - nr) - 1, 60, 120));
            if (chance(10)) rc.trace_flags = 0; /* unsampled: not recording, keeps the tracestate */
            rc.is_remote = chance(80);
            d.remote_parent = &rc;
        } else if (how < 55) { /* a local parent (explicit) */
            int k = (int)rnd(MAXSPANS);
            for (int i = 0; i < MAXSPANS && !parent; i++, k = (k + 1) % MAXSPANS)
                if (spans[k].used && spans[k].h && &spans[k] != m) parent = &spans[k];
            d.parent = parent ? parent->h : NULL;
        } else if (how < 70) {
            use_null = true; /* otel_span_start(name, NULL): a child of the active span */
        } else {
            d.root = true;
        }
        d.detached = !use_null && chance(70);
        d.kind = use_null ? OTEL_SPAN_KIND_DEFAULT : (otel_span_kind)rnd(6);
    }
    /* the model: parent, sampling, name, tracestate */
    const char *pts = "";
    size_t ptl = 0;
    if (d.remote_parent) {
        memcpy(m->tid, rc.trace_id, 16), memcpy(m->pid, rc.span_id, 8);
        m->has_parent = true, m->parent_remote = rc.is_remote, m->recording = rc.trace_flags & 1;
        pts = rc.trace_state, ptl = strlen(rc.trace_state);
    } else if (!d.root) {
        if (!parent && !d.parent && depth) parent = stack[depth - 1];
        if (parent) {
            memcpy(m->tid, parent->tid, 16), memcpy(m->pid, parent->sid, 8);
            m->has_parent = true, m->recording = parent->recording;
            pts = parent->ts, ptl = parent->tl;
        } else {
            m->recording = true;
        }
    } else {
        m->recording = true;
    }
    m->kind = d.kind ? (int)d.kind : OTEL_SPAN_KIND_INTERNAL;
    size_t used = 0;
    if (m->recording) {
        static char nr[3 * 4096];
        size_t rn = u8_repair(name, nraw, SIZE_MAX, nr);
        m->nl = u8_prefix(nr, rn, cap - 9); /* room for the tracestate's NUL after it */
        m->name = pool_put(m, nr, m->nl);
        used = A8(m->nl + 1);
    }
    if (ptl && used + A8(ptl + 1) <= cap) { /* the whole tracestate, or none */
        m->ts = pool_put(m, pts, ptl), m->tl = ptl;
        used += A8(ptl + 1);
    } else {
        m->ts = pool_put(m, "", 0), m->tl = 0;
        used += 8;
    }
    m->items_off = m->items_end = used;
    m->msg = "", m->ml = 0;
    if (!m->recording) m->name = "", m->nl = 0;
    mlog(m, "start(%zu%s, ts %zu, %s) ", nraw, nraw && strlen(name) != m->nl ? " cut/repaired" : "", ptl,
         d.remote_parent ? "remote" : parent ? "child" : "root");
    /* attributes and links in the desc, now and then */
    otel_attr da[2];
    otel_span_context lc;
    otel_link dl;
    char *dk = NULL, *dv = NULL;
    if (!canary && !use_null && m->recording && chance(15)) {
        size_t kl0 = 1 + rnd(12);
        long vt = (long)room(m) - (long)IT - (long)A8(kl0 + 1) - 1;
        size_t kl = kl0, vl = near(vt, 50, 30);
        dk = gen_text(kl, true, NOHINT), dv = gen_text(vl, true, hint_of(vt));
        da[0] = otel_attr_str(dk, dv);
        da[1] = otel_attr_int(dk, 7); /* the same key: replaced in place when the first was kept */
        d.attrs = da, d.attr_count = 2;
        m_span_attr(m, &da[0]);
        m_span_attr(m, &da[1]);
        rand_ctx(&lc, near((long)room(m) - (long)IT - (long)LCTX - 1, 50, 60));
        dl.context = &lc, dl.attrs = NULL, dl.attr_count = 0;
        d.links = &dl, d.link_count = 1;
        m_link(m, &lc);
        mlog(m, "desc(attr %zu/%zu, link ts %zu) ", kl, vl, strlen(lc.trace_state));
    }
    otel_span *h = use_null ? otel_span_start(name, NULL) : otel_span_start(name, &d);
    free(name), free(dk), free(dv);
    m->h = h;
    m->slot = slot_of(h);
    otel_span_context c;
    CHECK(otel_span_get_context(h, &c));
    memcpy(m->sid, c.span_id, 8);
    if (!m->has_parent) memcpy(m->tid, c.trace_id, 16);
    CHECK(memcmp(c.trace_id, m->tid, 16) == 0 && otel_span_is_recording(h) == m->recording);
    if (!same(c.trace_state, strlen(c.trace_state), m->ts, m->tl)) report(m, "otel_span_get_context's tracestate", NULL);
    if (!d.detached) stack[depth++] = m, m->on_stack = true;
    return m;
}

static void end(mspan *m) {
    otel_span_end(m->h);
    m->h = NULL;
    if (m->on_stack) {
        int i = 0;
        while (stack[i] != m) i++;
        memmove(&stack[i], &stack[i + 1], (size_t)(depth - i - 1) * sizeof stack[0]);
        depth--;
    }
    if (!m->recording) m->used = false; /* nothing to export */
}

/* A canary fills its storage: its name at the bottom, an attribute filling the middle, a
   status message ending at the last byte. */
static void fill_canary(mspan *m) {
    static int64_t fill[1024];
    otel_span_set_int(m->h, "id", m->id);
    otel_attr a = otel_attr_int("id", m->id);
    m_span_attr(m, &a);
    size_t msg = 24 + rnd(24), n = (room(m) - (msg + 1) - IT - 8) / 8;
    char *t = (char *)malloc(msg + 1);
    for (size_t i = 0; i < n; i++) fill[i] = (int64_t)m->id << 32 | (int64_t)i;
    for (size_t i = 0; i < msg; i++) t[i] = (char)('0' + (i + (size_t)m->id) % 10);
    t[msg] = 0;
    a = otel_attr_int_array("fill", fill, n);
    otel_span_set_attr(m->h, &a);
    m_span_attr(m, &a);
    otel_span_set_status(m->h, OTEL_STATUS_ERROR, t);
    m->status = OTEL_STATUS_ERROR;
    CHECK(m_top(m, t, &m->msg, &m->ml));
    CHECK(m->attr_count == 2 && room(m) < 8);
    free(t);
}

/* A random attribute whose size lands near the room left (or a small one). */
typedef struct heap {
    char *p[16];
    int n;
} heap;

static char *keep(heap *hp, char *p) {
    if (hp->n == 16) abort();
    return hp->p[hp->n++] = p;
}

static void heap_free(heap *hp) {
    for (int i = 0; i < hp->n; i++) free(hp->p[i]);
    hp->n = 0;
}

/* A key: one already set in `scope` (the same bytes, or bytes that repair to them), or a new
   one of about klen bytes. */
static char *gen_key(heap *hp, mspan *m, int scope, size_t klen, size_t hint) {
    int idx[MAXIT], n = 0;
    for (int i = 0; i < m->na; i++)
        if (m->a[i].alive && m->a[i].scope == scope) idx[n++] = i;
    if (n && chance(30)) {
        const mattr *x = &m->a[idx[rnd((unsigned)n)]];
        char *p = keep(hp, (char *)malloc(x->kl + 1));
        memcpy(p, x->k, x->kl + 1);
        char *f = strstr(p, "\xef\xbf\xbd");
        if (f && chance(50)) memmove(f + 1, f + 3, strlen(f + 3) + 1), f[0] = (char)0xff; /* repairs to the same */
        return p;
    }
    return keep(hp, gen_text(klen ? klen : 1, true, hint));
}

static const int64_t ints[64] = {1, -2, 3, -4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
                                 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64};
static const double dbls[32] = {0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 14.5, 15.5,
                                16.5, 17.5, 18.5, 19.5, 20.5, 21.5, 22.5, 23.5, 24.5, 25.5, 26.5, 27.5, 28.5, 29.5, 30.5, 31.5};
static const bool bools[40] = {true, false, true, true, false, false, true, false, true, true, false, true, false, true,
                               false, true, true, false, true, false, true, true, true, false, false, false, true, false,
                               true, true, false, true, false, true, false, true, true, false, true, false};

/* A random attribute for `scope`, sized against the room the model has now. `sa` holds a
   string array's element pointers. */
static otel_attr gen_attr(heap *hp, mspan *m, int scope, const char **sa, int kinds) {
    long r = (long)room(m) - (long)IT;
    size_t kl = chance(15) ? near(r - 1, 100, 1) : 1 + rnd(chance(80) ? 12 : 60);
    char *k = gen_key(hp, m, scope, kl, hint_of(r - 1));
    long vr = r - (long)A8(strlen(k) + 1); /* what the value may take */
    otel_attr a;
    switch (rnd((unsigned)kinds)) {
    case 0: a = otel_attr_int(k, (int64_t)rnd(1000) - 500); break;
    case 1: a = otel_attr_double(k, rnd(1000) / 8.0); break;
    case 2: a = otel_attr_bool(k, chance(50)); break;
    case 3: a = otel_attr_int_array(k, ints, near(vr / 8, 60, 10) % 65); break;
    case 4: a = otel_attr_double_array(k, dbls, near(vr / 8, 60, 10) % 33); break;
    case 5: a = otel_attr_bool_array(k, bools, near(vr, 60, 10) % 41); break;
    case 6: {
        size_t n = 1 + rnd(4), left = vr > (long)(8 * n) ? (size_t)vr - 8 * n : 0;
        for (size_t i = 0; i < n; i++) {
            size_t el = i + 1 < n ? rnd(12) : near((long)left - 1, 60, 20);
            sa[i] = chance(5) ? NULL : keep(hp, gen_text(el, true, i + 1 < n ? NOHINT : hint_of((long)left - 1)));
            left = left > el + 1 ? left - el - 1 : 0;
        }
        a = otel_attr_str_array(k, sa, n);
        break;
    }
    default: {
        size_t vl = near(vr - 1, 50, 40);
        a = otel_attr_strn(k, keep(hp, gen_text(vl, false, hint_of(vr - 1))), vl);
        break;
    }
    }
    if (chance(2)) a.key.len = 0; /* an empty key: dropped */
    return a;
}

static void op(mspan *m) {
    heap hp = {{0}, 0};
    const char *sa[8][4];
    otel_attr a[4];
    n_ops++;
    switch (rnd(13)) {
    case 0:
    case 1:
    case 2: { /* otel_span_set_str / _strn */
        long r = (long)room(m) - (long)IT;
        size_t kl = chance(15) ? near(r - 1, 100, 1) : 1 + rnd(12);
        char *k = gen_key(&hp, m, -1, kl, hint_of(r - 1));
        long vt = r - (long)A8(strlen(k) + 1) - 1;
        size_t vl = near(vt, 60, 40);
        if (chance(50)) {
            char *v = keep(&hp, gen_text(vl, true, hint_of(vt)));
            otel_span_set_str(m->h, k, v);
            a[0] = otel_attr_str(k, v);
        } else {
            char *v = keep(&hp, gen_text(vl, false, hint_of(vt))); /* exactly vl bytes, no NUL */
            otel_span_set_strn(m->h, k, v, vl);
            a[0] = otel_attr_strn(k, v, vl);
        }
        m_span_attr(m, &a[0]);
        mlog(m, "str(%zu,%zu) ", strlen(k), vl);
        break;
    }
    case 3: { /* otel_span_set_int / _double / _bool */
        long r = (long)room(m) - (long)IT;
        char *k = gen_key(&hp, m, -1, chance(40) ? near(r - 1, 100, 1) : 1 + rnd(12), hint_of(r - 1));
        unsigned t = rnd(3);
        if (t == 0) {
            int64_t v = (int64_t)rnd(100) - 50;
            otel_span_set_int(m->h, k, v);
            a[0] = otel_attr_int(k, v);
        } else if (t == 1) {
            double v = rnd(100) / 4.0;
            otel_span_set_double(m->h, k, v);
            a[0] = otel_attr_double(k, v);
        } else {
            bool v = chance(50);
            otel_span_set_bool(m->h, k, v);
            a[0] = otel_attr_bool(k, v);
        }
        m_span_attr(m, &a[0]);
        mlog(m, "num(%zu) ", strlen(k));
        break;
    }
    case 4:
    case 5: { /* otel_span_set_attrs, otel_span_set_attr: every form */
        size_t n = 1 + rnd(4);
        for (size_t i = 0; i < n; i++) {
            a[i] = gen_attr(&hp, m, -1, sa[i], 8);
            m_span_attr(m, &a[i]);
        }
        if (n == 1 && chance(50)) otel_span_set_attr(m->h, &a[0]);
        else otel_span_set_attrs(m->h, a, n);
        mlog(m, "attrs(%zu) ", n);
        break;
    }
    case 6:
    case 7: { /* an event, with attributes */
        long nt = (long)room(m) - (long)IT - 1;
        size_t nl = near(nt, 40, 20), n = rnd(4);
        char *name = keep(&hp, gen_text(nl, true, hint_of(nt)));
        uint64_t t = chance(50) ? 1700000000000000000ull + rnd(1000000) : 0;
        int e = m_event(m, name, t);
        for (size_t i = 0; i < n; i++) {
            a[i] = e >= 0 ? gen_attr(&hp, m, e, sa[i], 8) : otel_attr_int("x", 1);
            if (e >= 0) m_nested(m, e, &m->ev[e].count, &m->ev[e].dropped, lim.event_attr_count, &a[i]);
        }
        if (t) otel_span_add_event_at(m->h, name, t, a, n);
        else otel_span_add_event(m->h, name, a, n);
        mlog(m, "event(%zu,%zu)%s ", nl, n, e < 0 ? "-" : "");
        break;
    }
    case 8: { /* otel_span_record_exception */
        /* the event "exception" and an attribute "exception.type": 2 * (24 + 16) bytes */
        long r = (long)room(m), tt = r - 2 * (long)(IT + 16) - 1;
        size_t tl = near(tt, 40, 20);
        char *type = chance(80) ? keep(&hp, gen_text(tl, true, hint_of(tt))) : NULL;
        char *msg = chance(80) ? keep(&hp, gen_text(near(r / 2, 50, 30), true, NOHINT)) : NULL;
        char *st = chance(50) ? keep(&hp, gen_text(near(r / 2, 50, 60), true, NOHINT)) : NULL;
        otel_span_record_exception(m->h, type, msg, st);
        int e = m_event(m, "exception", 0);
        size_t n = 0;
        if (type) a[n++] = otel_attr_str("exception.type", type);
        if (msg) a[n++] = otel_attr_str("exception.message", msg);
        if (st) a[n++] = otel_attr_str("exception.stacktrace", st);
        for (size_t i = 0; e >= 0 && i < n; i++) m_nested(m, e, &m->ev[e].count, &m->ev[e].dropped, lim.event_attr_count, &a[i]);
        mlog(m, "exception(%zu)%s ", n, e < 0 ? "-" : "");
        break;
    }
    case 9: { /* a link, with a tracestate and attributes */
        otel_span_context c;
        rand_ctx(&c, near((long)room(m) - (long)IT - (long)LCTX - 1, 50, 60));
        c.trace_flags = (uint8_t)rnd(2), c.is_remote = chance(50);
        if (chance(4)) memset(c.span_id, 0, 8); /* invalid: dropped */
        size_t n = rnd(3);
        otel_link l = {chance(2) ? NULL : &c, a, n};
        int li = m_link(m, l.context);
        for (size_t i = 0; i < n; i++) {
            a[i] = li >= 0 ? gen_attr(&hp, m, MAXEV + li, sa[i], 8) : otel_attr_int("x", 1);
            if (li >= 0) m_nested(m, MAXEV + li, &m->ln[li].count, &m->ln[li].dropped, lim.link_attr_count, &a[i]);
        }
        otel_span_add_link(m->h, &l);
        mlog(m, "link(%zu,%zu)%s ", strlen(c.trace_state), n, li < 0 ? "-" : "");
        break;
    }
    case 10: { /* a rename, also to a long name */
        size_t nl = near((long)room(m) - 1, 50, chance(20) ? 400 : 30);
        char *name = keep(&hp, gen_text(nl, true, hint_of((long)room(m) - 1)));
        otel_span_set_name(m->h, name);
        if (!m_top(m, name, &m->name, &m->nl)) discards++;
        mlog(m, "rename(%zu->%zu) ", nl, m->nl);
        break;
    }
    case 11: { /* a status, with a long description */
        unsigned c = rnd(10);
        otel_status_code code = c < 7 ? OTEL_STATUS_ERROR : c < 8 ? OTEL_STATUS_OK : OTEL_STATUS_UNSET;
        size_t dl = near((long)room(m) - 1, 50, chance(20) ? 400 : 30);
        char *desc = chance(90) ? keep(&hp, gen_text(dl, true, hint_of((long)room(m) - 1))) : NULL;
        otel_span_set_status(m->h, code, desc);
        if (!m->final && code == OTEL_STATUS_OK) m->status = OTEL_STATUS_OK, m->ml = 0, m->msg = "", m->final = true;
        if (!m->final && code == OTEL_STATUS_ERROR) {
            m->status = OTEL_STATUS_ERROR, m->ml = 0, m->msg = "";
            if (desc && *desc) m_top(m, desc, &m->msg, &m->ml);
        }
        mlog(m, "status(%d,%zu) ", (int)code, desc ? dl : 0);
        break;
    }
    default: { /* attributes with an empty or NULL key, or no value: dropped and counted */
        a[0] = otel_attr_int(NULL, 1);
        a[1] = otel_attr_str("", "v");
        a[2] = otel_attr_int("none", 1);
        a[2].value.type = OTEL_VALUE_NONE;
        otel_span_set_attrs(m->h, a, 3);
        for (int i = 0; i < 3; i++) m_span_attr(m, &a[i]);
        mlog(m, "bad-keys ");
        break;
    }
    }
    heap_free(&hp);
}

/* ---- a configuration ------------------------------------------------------------------------ */

typedef struct config {
    const char *name;
    uint32_t span_bytes;
    otel_processor processor;
    bool tight; /* small count and length limits */
    int episodes;
} config;

static void flush_check(const config *c) {
    if (c->processor == OTEL_PROCESSOR_BATCH) CHECK(otel_force_flush(0) == OTEL_OK);
    check_exported();
}

static void run(const config *c) {
    cfg_name = c->name;
    otel_desc d;
    memset(&d, 0, sizeof d);
    CHECK(otel_memory_exporter_create(0, &mem) == OTEL_OK);
    otel_exporter chk;
    memset(&chk, 0, sizeof chk);
    chk.export_spans = check_export;
    chk.name = "check";
    d.destinations[0].exporter = chk;
    d.destinations[0].processor = c->processor;
    d.span_bytes = c->span_bytes;
    if (c->tight)
        d.limits = (otel_span_limits){.attr_count = 3, .attr_value_length = 20, .event_count = 3, .link_count = 2,
                                      .event_attr_count = 2, .link_attr_count = 1};
    d.diag.func = diag_fn;
    diag_reset();
    CHECK(otel_init(&d) == OTEL_OK);
    cap = otel_config()->span_bytes;
    CHECK(cap == c->span_bytes);
    lim = otel_config()->limits;
    maxc = lim.attr_value_length == OTEL_LIMIT_NONE ? SIZE_MAX : lim.attr_value_length;
    discards = 0;
    depth = 0;
    memset(spans, 0, sizeof spans);
    atomic_store(&raw_bad, 0);
    model_fail = 0;

    mspan *slots[NSLOT];
    for (int i = 0; i < NSLOT; i++) { /* the first chunk, all open: slot i */
        slots[i] = start(true);
        fill_canary(slots[i]);
        CHECK(slots[i]->slot == i);
    }
    int episodes = SANITIZED ? c->episodes * 2 / 3 : c->episodes;
    for (int ep = 0; ep < episodes; ep++) {
        /* 1-3 slots for fuzz spans: often the last of the chunk, or the first, or neighbours */
        int nf = 1 + (int)rnd(3), k[3];
        for (int i = 0; i < nf; i++) {
            unsigned p = rnd(100);
            k[i] = p < 25 ? NSLOT - 1 : p < 35 ? 0 : i && p < 65 ? (k[i - 1] + 1) % NSLOT : (int)rnd(NSLOT);
            for (int j = 0; j < i; j++)
                if (k[j] == k[i]) k[i] = (k[i] + 1) % NSLOT, j = -1;
        }
        /* their canaries end (last to first: the first freed is the last reused) */
        for (int i = nf - 1; i >= 0; i--) end(slots[k[i]]);
        mspan *f[3];
        for (int i = 0; i < nf; i++) {
            f[i] = slots[k[i]] = start(false);
            if (f[i]->slot != k[i]) { /* the free list is not last-in first-out any more: the test must change */
                CHECK(f[i]->slot == k[i]);
                fprintf(stderr, "%s: a span took slot %d, not %d\n", c->name, f[i]->slot, k[i]);
                exit(TEST_DONE());
            }
        }
        int nops = (int)rnd(40);
        for (int i = 0; i < nops; i++) {
            mspan *m = f[rnd((unsigned)nf)];
            if (m->recording) op(m);
        }
        /* end in any order; a new canary takes each slot at once */
        for (int left = nf; left > 0; left--) {
            int i = (int)rnd((unsigned)left), s = f[i]->slot;
            end(f[i]);
            f[i] = f[left - 1];
            slots[s] = start(true);
            fill_canary(slots[s]);
            CHECK(slots[s]->slot == s);
        }
        flush_check(c);
    }
    for (int i = 0; i < NSLOT; i++) end(slots[i]);
    flush_check(c);
    otel_stats st;
    CHECK(otel_stats_get(&st) == OTEL_OK);
    CHECK(st.misuse == 0 && st.spans_dropped == 0);
    if (st.attrs_dropped != discards)
        fprintf(stderr, "%s: attrs_dropped %llu, the model %llu\n", c->name, (unsigned long long)st.attrs_dropped,
                (unsigned long long)discards);
    CHECK(st.attrs_dropped == discards);
    CHECK(otel_shutdown(0) == OTEL_OK);
    otel_memory_exporter_destroy(&mem);
    CHECK(atomic_load(&raw_bad) == 0);
    CHECK(model_fail == 0);
}

int main(void) {
    static const char *const vars[] = {"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_TRACES_SAMPLER",
                                       "OTEL_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                                       "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                                       "OTEL_SPAN_EVENT_COUNT_LIMIT", "OTEL_SPAN_LINK_COUNT_LIMIT",
                                       "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    static const config configs[] = {
        {"simple/256", 256, OTEL_PROCESSOR_SIMPLE, false, 3000},
        {"batch/256", 256, OTEL_PROCESSOR_BATCH, false, 3000},
        {"simple/512", 512, OTEL_PROCESSOR_SIMPLE, false, 2000},
        {"batch/512", 512, OTEL_PROCESSOR_BATCH, false, 2000},
        {"simple/256/limits", 256, OTEL_PROCESSOR_SIMPLE, true, 1500},
        {"batch/264/limits", 264, OTEL_PROCESSOR_BATCH, true, 1500},
    };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        unsigned long s0 = n_spans, o0 = n_ops;
        run(&configs[i]);
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("  %-18s %5lu spans, %6lu calls, %4.0f ms\n", configs[i].name, n_spans - s0, n_ops - o0,
               (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("span storage: %lu spans (%lu exported and compared, %lu checked in the exporter), %lu random calls, "
           "%lu fits with < 8 bytes to spare, %lu misses by <= 8 bytes, %.0f ms\n",
           n_spans, n_exported, atomic_load(&raw_spans), n_ops, n_tight, n_near,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return TEST_DONE();
}
