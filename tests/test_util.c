/* test_util.c - [util] and [env] helpers: output buffer, JSON strings and numbers,
   ISO 8601, hex, UTF-8 repair, percent decoding, env parsing, k=v lists.
   The JSON checks pipe the output through python3's json module (skipped without it). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, popen */
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

/* Counting allocator that can be told to fail (both build modes honour it). */
static int test__alloc_fail, test__allocs;
static void *test__malloc(size_t n) {
    if (test__alloc_fail) return NULL;
    test__allocs++;
    return malloc(n);
}
#define OTEL_MALLOC(size, user) test__malloc(size)
#define OTEL_FREE(ptr, user) free(ptr)

#ifdef TEST_SHIM
#include "shim.h" /* temporary: otel.h declarations + parts/util_context.inc */
#else
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#endif
#include "test.h"

#ifdef TEST_SHIM /* warnings are only observable through the shim's otel__logf */
#define WARN_RESET() (test__warnings = 0)
#define CHECK_WARNS(n) do { CHECK(test__warnings == (n)); test__warnings = 0; } while (0)
#else
#define WARN_RESET() ((void)0)
#define CHECK_WARNS(n) ((void)0)
#endif

#define BUF_IS(b, lit) ((b).len == sizeof(lit) - 1 && memcmp((b).p, lit, sizeof(lit) - 1) == 0)

static void test_buf(void) {
    otel__buf b = {0};
    int i;
    otel__buf_puts(&b, "ab");
    otel__buf_putc(&b, 'c');
    otel__buf_put(&b, "defgh", 2);
    otel__buf_put(&b, NULL, 0);
    CHECK(!b.failed && BUF_IS(b, "abcde") && b.p[b.len] == '\0');
    for (i = 0; i < 300; i++) otel__buf_printf(&b, "%d,", i % 10);
    CHECK(!b.failed && b.len == 5 + 600 && b.p[b.len] == '\0' && memcmp(b.p + 5, "0,1,2,", 6) == 0);
    otel__buf_printf(&b, "%s", "");
    CHECK(b.len == 605);
    {
        char big[3000];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        otel__buf_printf(&b, "[%s]", big); /* larger than the free space: redone */
        CHECK(!b.failed && b.len == 605 + 3001 && b.p[605] == '[' && b.p[b.len - 1] == ']');
        CHECK(b.p[606 + 2998] == 'x' && strlen(b.p) == b.len);
    }
    otel__buf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0 && !b.failed);

    { /* hex */
        const uint8_t bytes[] = {0x00, 0x01, 0xab, 0xff, 0x7f};
        char hex[11];
        otel__hex_encode(hex, bytes, 5);
        CHECK(strcmp(hex, "0001abff7f") == 0);
        otel__hex_encode(hex, bytes, 0);
        CHECK(hex[0] == '\0');
        otel__buf_puts(&b, "id=");
        otel__buf_hex(&b, bytes, 5);
        CHECK(BUF_IS(b, "id=0001abff7f"));
        otel__buf_free(&b);
    }
    { /* allocation failure is sticky; the buffer stays usable after free */
        otel__buf_puts(&b, "keep");
        test__alloc_fail = 1;
        for (i = 0; i < 100; i++) otel__buf_puts(&b, "0123456789");
        CHECK(b.failed);
        test__alloc_fail = 0;
        otel__buf_puts(&b, "more");
        otel__buf_printf(&b, "%d", 5);
        otel__buf_hex(&b, (const uint8_t *)"a", 1);
        CHECK(b.failed && b.len <= b.cap && b.p[b.len] == '\0');
        otel__buf_free(&b);
        otel__buf_puts(&b, "ok");
        CHECK(!b.failed && BUF_IS(b, "ok"));
        otel__buf_free(&b);
        test__alloc_fail = 1;
        otel__buf_printf(&b, "x");
        CHECK(b.failed && b.p == NULL);
        test__alloc_fail = 0;
        otel__buf_free(&b);
    }
}

static void test_json_exact(void) {
    otel__buf b = {0};
    otel__buf_json_str(&b, "a\"b\\c\n\r\t\b\f\x01\x1f\x7f/\xc3\xa9", 16);
    CHECK(BUF_IS(b, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f/\xc3\xa9\""));
    otel__buf_free(&b);
    otel__buf_json_str(&b, "x\0y", 3);
    CHECK(BUF_IS(b, "\"x\\u0000y\""));
    otel__buf_free(&b);
    otel__buf_json_str(&b, "", 0);
    CHECK(BUF_IS(b, "\"\""));
    otel__buf_free(&b);

#define DBL(d, lit) do { otel__buf_json_double(&b, d); CHECK(BUF_IS(b, lit)); otel__buf_free(&b); } while (0)
    DBL(0.75, "0.75");
    DBL(1.0, "1.0");
    DBL(-2.0, "-2.0");
    DBL(0.0, "0.0");
    DBL(-0.0, "-0.0");
    DBL(0.1, "0.1");
    DBL(1.0 / 3.0, "0.3333333333333333");
    DBL(123456789.125, "123456789.125");
    DBL(1e300, "1e+300");
    DBL(1.5e-7, "1.5e-07");
    DBL(1e16, "1e+16");
    DBL(9007199254740993.0, "9007199254740992.0");
    DBL(0.1 + 0.2, "0.30000000000000004");
    DBL(1.0 / 0.0, "\"Infinity\"");
    DBL(-1.0 / 0.0, "\"-Infinity\"");
    DBL(0.0 / 0.0, "\"NaN\"");
#undef DBL
}

/* Feeds [[json, hex-of-original], ...] and [[json-number, "%a"], ...] to python3. */
static void test_json_python(void) {
    static const char *const strs[] = {
        "", "plain", "quote \" backslash \\ slash /", "\n\r\t\b\f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e",
        "\x7f", "\xef\xbf\xbd", "\xe2\x80\xa8\xe2\x80\xa9", "{\"k\": [1, 2]}", "<script>&amp;'",
    };
    otel__buf b = {0};
    unsigned i, j;
    char all[32];
    FILE *py;
    int st;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    otel__buf_puts(&b, "[[");
    for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        otel__buf_putc(&b, '[');
        otel__buf_json_str(&b, strs[i], strlen(strs[i]));
        otel__buf_puts(&b, ",\"");
        otel__buf_hex(&b, (const uint8_t *)strs[i], strlen(strs[i]));
        otel__buf_puts(&b, "\"],");
    }
    for (i = 0; i < 32; i++) all[i] = (char)i; /* every control byte, NUL included */
    otel__buf_putc(&b, '[');
    otel__buf_json_str(&b, all, 32);
    otel__buf_puts(&b, ",\"");
    otel__buf_hex(&b, (const uint8_t *)all, 32);
    otel__buf_puts(&b, "\"]],[");
    for (i = 0; i < 600; i++) { /* special values, then random bit patterns */
        double d;
        const double fixed[] = {0.0, -0.0, 1.0, 0.75, 1e-300, 5e-324, 1.7976931348623157e308,
                                2.2250738585072014e-308, 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0};
        if (i < sizeof fixed / sizeof fixed[0]) d = fixed[i];
        else {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            memcpy(&d, &x, sizeof d);
            if (d != d || d - d != 0.0) d = (double)(int64_t)x / 1e9; /* keep finite */
            if (i % 3 == 0) d = (double)(int32_t)x / 1000.0;
        }
        otel__buf_puts(&b, i ? ",[" : "[");
        otel__buf_json_double(&b, d);
        otel__buf_printf(&b, ",\"%a\"]", d);
    }
    otel__buf_puts(&b, "]]\n");
    CHECK(!b.failed);
    py = popen("python3 -c '"
               "import json,sys,math\n"
               "s,n=json.load(sys.stdin)\n"
               "bad=[i for i,(j,h) in enumerate(s) if j.encode(\"utf-8\")!=bytes.fromhex(h)]\n"
               "for i,(v,h) in enumerate(n):\n"
               "  f=float.fromhex(h) if h not in (\"nan\",\"-nan\",\"inf\",\"-inf\") else float(h)\n"
               "  if isinstance(v,str): ok=(v==\"NaN\" and math.isnan(f)) or (v==\"Infinity\" and f==math.inf) or (v==\"-Infinity\" and f==-math.inf)\n"
               "  else: ok=isinstance(v,float) and v==f and math.copysign(1,v)==math.copysign(1,f)\n"
               "  if not ok: bad.append((v,h))\n"
               "if bad: print(\"json mismatches:\",bad[:10],file=sys.stderr)\n"
               "sys.exit(1 if bad else 0)' 2>&1",
               "w");
    CHECK(py != NULL);
    if (!py) return;
    j = (unsigned)fwrite(b.p, 1, b.len, py);
    CHECK(j == b.len);
    st = pclose(py);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        printf("python3 not found: JSON parser checks skipped\n");
    } else {
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    otel__buf_free(&b);
}

static void test_iso8601(void) {
    char out[40];
    uint64_t x = 12345;
    int i, bad = 0;
    CHECK(otel__iso8601(out, 1588862392906272000ull) == 27);
    CHECK(strcmp(out, "2020-05-07T14:39:52.906272Z") == 0);
    CHECK(otel__iso8601(out, 1588862392906272999ull) == 27 &&
          strcmp(out, "2020-05-07T14:39:52.906272Z") == 0); /* truncated, not rounded */
    otel__iso8601(out, 0);
    CHECK(strcmp(out, "1970-01-01T00:00:00.000000Z") == 0);
    otel__iso8601(out, 951782400ull * 1000000000u + 999999000u);
    CHECK(strcmp(out, "2000-02-29T00:00:00.999999Z") == 0);
    otel__iso8601(out, 4107542399ull * 1000000000u);
    CHECK(strcmp(out, "2100-02-28T23:59:59.000000Z") == 0);
    otel__iso8601(out, 4107542400ull * 1000000000u);
    CHECK(strcmp(out, "2100-03-01T00:00:00.000000Z") == 0);
    otel__iso8601(out, UINT64_MAX);
    CHECK(strcmp(out, "2554-07-21T23:34:33.709551Z") == 0);
    for (i = 0; i < 20000; i++) { /* against gmtime (single-threaded test) */
        time_t t;
        struct tm *tm;
        char want[80];
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        t = (time_t)(x % 16000000000ull);
        tm = gmtime(&t);
        if (!tm) continue;
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000123Z", tm->tm_year + 1900,
                 tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec);
        otel__iso8601(out, (uint64_t)t * 1000000000u + 123456u);
        bad += strcmp(out, want) != 0;
    }
    CHECK(bad == 0);
}

/* utf8_copy into a 64-byte buffer; compares with `want` (wn bytes) and *changed. */
static int u8(const char *src, size_t n, size_t cap, size_t max_chars, const char *want, size_t wn,
              bool want_changed) {
    char dst[64];
    bool changed = !want_changed;
    size_t r;
    memset(dst, '#', sizeof dst);
    r = otel__utf8_copy(dst, cap, src, n, max_chars, &changed);
    return r == wn && memcmp(dst, want, wn) == 0 && changed == want_changed && r <= cap &&
           (r == sizeof dst || dst[r] == '#');
}
#define U8(src, cap, maxc, want, ch) u8(src, sizeof(src) - 1, cap, maxc, want, sizeof(want) - 1, ch)
#define R "\xEF\xBF\xBD" /* U+FFFD */

static void test_utf8(void) {
    const size_t NL = SIZE_MAX;
    /* valid, copied as is */
    CHECK(U8("", 64, NL, "", false));
    CHECK(U8("hello", 64, NL, "hello", false));
    CHECK(U8("a\0b", 64, NL, "a\0b", false));
    CHECK(U8("\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF", 64, NL,
             "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF", false));
    CHECK(U8("\xF0\x90\x80\x80\xF0\x9D\x84\x9E\xF4\x8F\xBF\xBF", 64, NL,
             "\xF0\x90\x80\x80\xF0\x9D\x84\x9E\xF4\x8F\xBF\xBF", false));
    CHECK(U8("caf\xC3\xA9 \xE2\x82\xAC", 64, NL, "caf\xC3\xA9 \xE2\x82\xAC", false));
    /* invalid lead bytes and lone continuation bytes: one U+FFFD each */
    CHECK(U8("\x80", 64, NL, R, true));
    CHECK(U8("a\xBF" "b", 64, NL, "a" R "b", true));
    CHECK(U8("\xF5\xFE\xFF", 64, NL, R R R, true));
    /* overlong */
    CHECK(U8("\xC0\x80", 64, NL, R R, true));
    CHECK(U8("\xC1\xBF", 64, NL, R R, true));
    CHECK(U8("\xE0\x80\x80", 64, NL, R R R, true));
    CHECK(U8("\xE0\x9F\xBF", 64, NL, R R R, true));
    CHECK(U8("\xF0\x80\x80\x80", 64, NL, R R R R, true));
    CHECK(U8("\xF0\x8F\xBF\xBF", 64, NL, R R R R, true));
    /* surrogates */
    CHECK(U8("\xED\xA0\x80", 64, NL, R R R, true));
    CHECK(U8("\xED\xBF\xBF" "x", 64, NL, R R R "x", true));
    /* above U+10FFFF */
    CHECK(U8("\xF4\x90\x80\x80", 64, NL, R R R R, true));
    CHECK(U8("\xF7\xBF\xBF\xBF", 64, NL, R R R R, true));
    /* truncated sequences: the maximal subpart becomes one U+FFFD */
    CHECK(U8("\xC3", 64, NL, R, true));
    CHECK(U8("\xE2\x82", 64, NL, R, true));
    CHECK(U8("\xE2\x82" "A", 64, NL, R "A", true));
    CHECK(U8("\xF0\x9D\x84", 64, NL, R, true));
    CHECK(U8("\xF0\x9D\x84\xF0\x9D\x84\x9E", 64, NL, R "\xF0\x9D\x84\x9E", true));
    CHECK(U8("\xE2\xC3\xA9", 64, NL, R "\xC3\xA9", true));
    /* byte limit: never splits a character or a replacement */
    CHECK(U8("hello", 3, NL, "hel", true));
    CHECK(U8("hello", 5, NL, "hello", false));
    CHECK(U8("hello", 0, NL, "", true));
    CHECK(U8("", 0, NL, "", false));
    CHECK(U8("a\xC3\xA9", 2, NL, "a", true));
    CHECK(U8("\xE2\x82\xAC\xE2\x82\xAC", 5, NL, "\xE2\x82\xAC", true));
    CHECK(U8("\xE2\x82\xAC\xE2\x82\xAC", 6, NL, "\xE2\x82\xAC\xE2\x82\xAC", false));
    CHECK(U8("a\xF0\x9D\x84\x9E", 4, NL, "a", true));
    CHECK(U8("a\xFF", 3, NL, "a", true));
    CHECK(U8("a\xFF", 4, NL, "a" R, true));
    /* character limit (code points; U+FFFD counts as one) */
    CHECK(U8("\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9Ex", 64, 3, "\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E", true));
    CHECK(U8("\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9Ex", 64, 4, "\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9Ex", false));
    CHECK(U8("abcdefghijklmnop", 64, 10, "abcdefghij", true));
    CHECK(U8("ab\xFF" "cd", 64, 3, "ab" R, true));
    CHECK(U8("abc", 64, 0, "", true));
    CHECK(U8("", 64, 0, "", false));
    { /* changed may be NULL; long ASCII runs at every alignment with one bad byte */
        char src[200], dst[220];
        size_t pos, r;
        int bad = 0;
        CHECK(otel__utf8_copy(dst, sizeof dst, "ok", 2, SIZE_MAX, NULL) == 2);
        for (pos = 0; pos < 40; pos++) {
            bool ch;
            memset(src, 'a' + (int)(pos % 26), sizeof src);
            src[pos] = (char)0x80;
            r = otel__utf8_copy(dst, sizeof dst, src, sizeof src, SIZE_MAX, &ch);
            bad += !(r == sizeof src + 2 && ch && memcmp(dst + pos, R, 3) == 0 &&
                     memcmp(dst, src, pos) == 0 && memcmp(dst + pos + 3, src + pos + 1, sizeof src - pos - 1) == 0);
            r = otel__utf8_copy(dst, pos + 2, src, sizeof src, SIZE_MAX, &ch); /* R does not fit */
            bad += !(r == pos && ch);
            r = otel__utf8_copy(dst, sizeof dst, src, sizeof src, pos + 1, &ch);
            bad += !(r == pos + 3 && ch);
        }
        CHECK(bad == 0);
    }
}
#undef R

static bool pd(const char *s, const char *want, size_t wn) {
    char out[64];
    size_t n = 99;
    if (!otel__percent_decode(s, strlen(s), out, &n)) return false;
    return n == wn && memcmp(out, want, wn) == 0;
}
#define PD(s, want) pd(s, want, sizeof(want) - 1)
static bool pd_fails(const char *s) {
    char out[64];
    size_t n = 99;
    return !otel__percent_decode(s, strlen(s), out, &n) && n == 0;
}

/* The word copy behind attribute keys and values, names and log bodies: every length
   to 150 bytes, a non-ASCII byte at every place: the bytes, the NUL and zero padding to
   the 8-byte boundary, nothing written beyond, and the non-ASCII flag. */
static void test_copy_pad(void) {
    unsigned char src[160], d[176];
    int bad = 0;
    for (int n = 0; n <= 150; n++) {
        for (int hi = -1; hi < n; hi++) {
            for (int i = 0; i < n; i++) src[i] = (unsigned char)('a' + (i * 7) % 26);
            if (hi >= 0) src[hi] = 0xC3;
            memset(d, 0xEE, sizeof d);
            uint64_t acc = otel__copy_pad(d, (const char *)src, (size_t)n);
            size_t al = OTEL__ALIGN8((size_t)n + 1), i;
            bool ok = memcmp(d, src, (size_t)n) == 0 && ((acc & 0x8080808080808080ull) != 0) == (hi >= 0);
            for (i = (size_t)n; i < al; i++) ok = ok && d[i] == 0;
            for (i = al; i < sizeof d; i++) ok = ok && d[i] == 0xEE;
            if (!ok && bad++ < 5) fprintf(stderr, "  copy_pad: length %d, non-ASCII byte at %d: wrong\n", n, hi);
        }
    }
    CHECK(bad == 0);
}

static void test_percent(void) {
    CHECK(PD("", ""));
    CHECK(PD("plain", "plain"));
    CHECK(PD("a%20b", "a b"));
    CHECK(PD("%2C%3d%3D", ",=="));
    CHECK(PD("a+b", "a+b"));
    CHECK(PD("%2B", "+"));
    CHECK(PD("%e2%82%AC%E2%82%ac", "\xE2\x82\xAC\xE2\x82\xAC"));
    CHECK(PD("%00x", "\0x"));
    CHECK(PD("%ff", "\xFF")); /* decoding only; the caller repairs UTF-8 */
    CHECK(PD("%25%32%30", "%20"));
    CHECK(pd_fails("%"));
    CHECK(pd_fails("%2"));
    CHECK(pd_fails("100%"));
    CHECK(pd_fails("%zz"));
    CHECK(pd_fails("%g0"));
    CHECK(pd_fails("%0g"));
    CHECK(pd_fails("%%41"));
    CHECK(pd_fails("ok%2"));
}

/* ---- k=v lists ---- */
typedef struct kvs {
    int n;
    char k[8][64], v[8][3100];
    size_t kl[8], vl[8];
} kvs;
static void kv_collect(const char *k, size_t kn, const char *v, size_t vn, void *user) {
    kvs *c = (kvs *)user;
    if (c->n >= 8 || kn >= 64 || vn >= 3100) return;
    memcpy(c->k[c->n], k, kn);
    c->k[c->n][kn] = '\0';
    memcpy(c->v[c->n], v, vn);
    c->v[c->n][vn] = '\0';
    c->kl[c->n] = kn;
    c->vl[c->n] = vn;
    c->n++;
}
static kvs kv_res;
static int kv(const char *s) {
    memset(&kv_res, 0, sizeof kv_res);
    return otel__parse_kv_list(s, "OTEL_TEST_LIST", kv_collect, &kv_res);
}
#define KV_IS(i, key, val) (strcmp(kv_res.k[i], key) == 0 && strcmp(kv_res.v[i], val) == 0)

static void test_kv(void) {
    static char big[3000];
    WARN_RESET();
    CHECK(kv("k1=v1,k2=v2") == 0 && kv_res.n == 2 && KV_IS(0, "k1", "v1") && KV_IS(1, "k2", "v2"));
    CHECK(kv(" k = v , x=y=z \t") == 0 && kv_res.n == 2 && KV_IS(0, "k", "v") && KV_IS(1, "x", "y=z"));
    CHECK(kv("a=") == 0 && kv_res.n == 1 && KV_IS(0, "a", "") && kv_res.vl[0] == 0);
    CHECK(kv("") == 0 && kv_res.n == 0);
    CHECK(kv(" , ,,") == 0 && kv_res.n == 0);
    CHECK(kv(NULL) == 0 && kv_res.n == 0);
    CHECK(kv("a%3Db=c%2Cd,e%20f=%E2%82%AC") == 0 && kv_res.n == 2 && KV_IS(0, "a=b", "c,d") &&
          KV_IS(1, "e f", "\xE2\x82\xAC"));
    CHECK(kv("a+b=c+d") == 0 && KV_IS(0, "a+b", "c+d"));
    CHECK(kv("k=%20v%20") == 0 && KV_IS(0, "k", " v ")); /* encoded blanks are kept */
    CHECK_WARNS(0);
    /* skipped members warn once each; the others still count */
    CHECK(kv("a=1,bad,b=2") == 1 && kv_res.n == 2 && KV_IS(0, "a", "1") && KV_IS(1, "b", "2"));
    CHECK_WARNS(1);
#ifdef TEST_SHIM
    CHECK(strstr(test__last_warning, "OTEL_TEST_LIST") && strstr(test__last_warning, "\"bad\""));
#endif
    CHECK(kv("=v,a=1, =x") == 2 && kv_res.n == 1 && KV_IS(0, "a", "1"));
    CHECK_WARNS(2);
    CHECK(kv("a=%zz,b=2,token=secret%") == 2 && kv_res.n == 1 && KV_IS(0, "b", "2"));
    CHECK_WARNS(2);
#ifdef TEST_SHIM
    CHECK(strstr(test__last_warning, "token=...") && !strstr(test__last_warning, "secret"));
#endif
    CHECK(kv("%zz=1") == 1 && kv_res.n == 0);
    CHECK_WARNS(1);
    /* members longer than the 1024-byte stack buffer */
    memset(big, 'x', sizeof big);
    memcpy(big, "long=%41", 8);
    memcpy(big + sizeof big - 5, ",z=1", 5);
    test__allocs = 0;
    CHECK(kv(big) == 0 && kv_res.n == 2 && kv_res.kl[0] == 4 && kv_res.vl[0] == 2995 - 8 + 1 &&
          kv_res.v[0][0] == 'A' && kv_res.v[0][1] == 'x' && KV_IS(1, "z", "1"));
    CHECK(test__allocs == 1);
    test__alloc_fail = 1;
    CHECK(kv(big) == 1 && kv_res.n == 1 && KV_IS(0, "z", "1"));
    test__alloc_fail = 0;
    CHECK_WARNS(1);
    /* fn may be NULL: validation only */
    CHECK(otel__parse_kv_list("a=1,b,c=%", "X", NULL, NULL) == 2);
    CHECK_WARNS(2);
}

/* ---- environment ---- */
#define ENV "OTEL_TEST_UTIL_VAR"
static void env_set(const char *v) {
    if (v) setenv(ENV, v, 1);
    else unsetenv(ENV);
}

static void test_env(void) {
    static const char *const names[] = {"always_on", "always_off", "traceidratio"};
    const char *it, *cur;
    size_t n;
    WARN_RESET();
    env_set(NULL);
    CHECK(otel__env(ENV) == NULL);
    env_set("");
    CHECK(otel__env(ENV) == NULL);
    env_set(" \t ");
    CHECK(otel__env(ENV) == NULL);
    env_set(" x ");
    CHECK(otel__env(ENV) && strcmp(otel__env(ENV), " x ") == 0);

    /* bool */
    env_set(NULL);
    CHECK(otel__env_bool(ENV, true) == true && otel__env_bool(ENV, false) == false);
    env_set("");
    CHECK(otel__env_bool(ENV, true) == true);
    env_set("true");
    CHECK(otel__env_bool(ENV, false) == true);
    env_set("TRUE");
    CHECK(otel__env_bool(ENV, false) == true);
    env_set(" tRuE ");
    CHECK(otel__env_bool(ENV, false) == true);
    env_set("false");
    CHECK(otel__env_bool(ENV, true) == false);
    env_set("FALSE");
    CHECK(otel__env_bool(ENV, true) == false);
    CHECK_WARNS(0);
    env_set("yes");
    CHECK(otel__env_bool(ENV, true) == false);
    env_set("1");
    CHECK(otel__env_bool(ENV, true) == false);
    env_set("truex");
    CHECK(otel__env_bool(ENV, true) == false);
    CHECK_WARNS(3);
#ifdef TEST_SHIM
    CHECK(strstr(test__last_warning, ENV) && strstr(test__last_warning, "truex"));
#endif

    /* u32 */
    env_set(NULL);
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("42");
    CHECK(otel__env_u32(ENV, 7) == 42);
    env_set(" 42\t");
    CHECK(otel__env_u32(ENV, 7) == 42);
    env_set("0");
    CHECK(otel__env_u32(ENV, 7) == 0);
    env_set("4294967295");
    CHECK(otel__env_u32(ENV, 7) == 4294967295u);
    env_set("000000000000000000012");
    CHECK(otel__env_u32(ENV, 7) == 12);
    CHECK_WARNS(0);
    env_set("4294967296");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("99999999999999999999999");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("-1");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("+5");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("abc");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("12abc");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("1 2");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("0x10");
    CHECK(otel__env_u32(ENV, 7) == 7);
    env_set("1.5");
    CHECK(otel__env_u32(ENV, 7) == 7);
    CHECK_WARNS(9);

    /* double */
    env_set(NULL);
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.5);
    env_set("0.25");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.25);
    env_set("0.1");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.1);
    env_set(" 1 ");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 1.0);
    env_set("0");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.0);
    env_set(".5");
    CHECK(otel__env_double(ENV, 0.25, 0, 1) == 0.5);
    env_set("5.");
    CHECK(otel__env_double(ENV, 0.25, 0, 10) == 5.0);
    env_set("1e-1");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.1);
    env_set("2.5E+1");
    CHECK(otel__env_double(ENV, 0.5, 0, 100) == 25.0);
    env_set("-0.125");
    CHECK(otel__env_double(ENV, 0.5, -1, 1) == -0.125);
    env_set("+0.75");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.75);
    env_set("0.000000000000000000000000000001");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) > 0.99e-30 && otel__env_double(ENV, 0.5, 0, 1) < 1.01e-30);
    env_set("0e999");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.0);
    env_set("12.5e-3");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.0125);
    env_set("100000000000000000000000e-24");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.1);
    env_set("0.33333333333333333333333333");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 1.0 / 3.0);
    CHECK_WARNS(0);
    env_set("-0.1");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.5);
    env_set("1.5");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.5);
    env_set("1e999");
    CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.5);
    const char *bad[] = {"abc", "nan", "inf", "0x1p-2", "1e", "1e+", ".", "-", "0,5", "1 1", "0.5x"};
    for (n = 0; n < sizeof bad / sizeof bad[0]; n++) {
        env_set(bad[n]);
        CHECK(otel__env_double(ENV, 0.5, 0, 1) == 0.5);
    }
    CHECK_WARNS(3 + (int)(sizeof bad / sizeof bad[0]));

    /* enum */
    env_set(NULL);
    CHECK(otel__env_enum(ENV, names, 3, -1) == -1);
    env_set("always_on");
    CHECK(otel__env_enum(ENV, names, 3, -1) == 0);
    env_set("ALWAYS_OFF");
    CHECK(otel__env_enum(ENV, names, 3, -1) == 1);
    env_set(" TraceIdRatio\t");
    CHECK(otel__env_enum(ENV, names, 3, -1) == 2);
    CHECK_WARNS(0);
    env_set("always");
    CHECK(otel__env_enum(ENV, names, 3, -1) == -1);
    env_set("always_onx");
    CHECK(otel__env_enum(ENV, names, 3, 2) == 2);
    CHECK_WARNS(2);
    env_set(NULL);

    /* comma lists */
    {
        char got[128] = "";
        cur = " a , ,b,, c\t,\t,";
        while (otel__list_next(&cur, &it, &n)) {
            strncat(got, "[", sizeof got - strlen(got) - 1);
            strncat(got, it, n < sizeof got - strlen(got) - 1 ? n : sizeof got - strlen(got) - 1);
            strncat(got, "]", sizeof got - strlen(got) - 1);
        }
        CHECK(strcmp(got, "[a][b][c]") == 0);
        CHECK(*cur == '\0' && !otel__list_next(&cur, &it, &n));
    }
    cur = "";
    CHECK(!otel__list_next(&cur, &it, &n));
    cur = NULL;
    CHECK(!otel__list_next(&cur, &it, &n));
    cur = " \t ";
    CHECK(!otel__list_next(&cur, &it, &n));
    cur = "console";
    CHECK(otel__list_next(&cur, &it, &n) && n == 7 && memcmp(it, "console", 7) == 0);
    CHECK(!otel__list_next(&cur, &it, &n));
    cur = "otlp , console";
    CHECK(otel__list_next(&cur, &it, &n) && n == 4 && memcmp(it, "otlp", 4) == 0);
    CHECK(otel__list_next(&cur, &it, &n) && n == 7 && memcmp(it, "console", 7) == 0);
    CHECK(!otel__list_next(&cur, &it, &n));
}

int main(void) {
    test_buf();
    test_json_exact();
    test_json_python();
    test_iso8601();
    test_utf8();
    test_copy_pad();
    test_percent();
    test_kv();
    test_env();
    return TEST_DONE();
}
