/* test_context.c - W3C Trace Context: traceparent parse/format, tracestate validation,
   otel_context_extract, otel_span_context_is_valid, otel_value_str_at. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>

#ifdef TEST_SHIM
#include "shim.h" /* temporary: otel.h declarations + parts/util_context.inc */
#else
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#endif
#include "test.h"

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define SID "00f067aa0ba902b7"
#define TP00 "00-" TID "-" SID "-01"

static bool tp(const char *s) {
    otel_span_context c;
    memset(&c, 0x5a, sizeof c);
    return otel__traceparent_parse(s, strlen(s), &c);
}

/* Extract must reject it and leave `out` all zero. */
static bool rejected(const char *s) {
    otel_span_context c;
    static const otel_span_context zero;
    memset(&c, 0x5a, sizeof c);
    return otel_context_extract(s, "a=1", &c) == OTEL_ERR_INVALID_ARG &&
           memcmp(&c, &zero, sizeof c) == 0;
}

/* TP00 with character i replaced by ch. */
static const char *tp_with(size_t i, char ch) {
    static char buf[64];
    strcpy(buf, TP00);
    buf[i] = ch;
    return buf;
}

static void test_traceparent(void) {
    static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                    0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
    static const uint8_t sid[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
    otel_span_context c;
    size_t i;
    int bad;

    memset(&c, 0x5a, sizeof c);
    CHECK(otel__traceparent_parse(TP00, 55, &c));
    CHECK(memcmp(c.trace_id, tid, 16) == 0 && memcmp(c.span_id, sid, 8) == 0);
    CHECK(c.trace_flags == 1 && c.is_remote && c.trace_state[0] == '\0');
    CHECK(otel__traceparent_parse("00-" TID "-" SID "-00", 55, &c) && c.trace_flags == 0);
    CHECK(otel__traceparent_parse("00-" TID "-" SID "-03", 55, &c) && c.trace_flags == 3);
    CHECK(otel__traceparent_parse("00-" TID "-" SID "-ff", 55, &c) && c.trace_flags == 0xff);
    CHECK(tp("00-00000000000000000000000000000001-0000000000000001-01"));

    /* version */
    CHECK(!tp("ff-" TID "-" SID "-01"));
    CHECK(!tp("0g-" TID "-" SID "-01"));
    CHECK(!tp("0A-" TID "-" SID "-01"));
    CHECK(!tp("Ab-" TID "-" SID "-01"));
    CHECK(!tp("-0-" TID "-" SID "-01"));
    /* length for version 00 */
    CHECK(!tp(""));
    CHECK(!tp("00"));
    CHECK(!tp("00-" TID "-" SID "-0"));   /* 54 */
    CHECK(!tp(TP00 "0"));                 /* 56 */
    CHECK(!tp(TP00 "-"));
    CHECK(!tp(TP00 "-abc"));              /* no extra fields in 00 */
    CHECK(otel__traceparent_parse(TP00 "-abc", 55, &c)); /* n is what counts, not the NUL */
    /* higher versions: lenient */
    CHECK(tp("01-" TID "-" SID "-01"));
    CHECK(tp("cc-" TID "-" SID "-01-what-the-future-holds"));
    CHECK(tp("fe-" TID "-" SID "-01-"));
    CHECK(!tp("cc-" TID "-" SID "-01what"));
    CHECK(!tp("cc-" TID "-" SID "-01.x"));
    CHECK(!tp("cc-" TID "-" SID "-0"));
    CHECK(!tp("cc-" TID "-" SID "-0x-future"));
    CHECK(!tp("ff-" TID "-" SID "-01-future"));
    {
        otel_span_context d;
        CHECK(otel__traceparent_parse("cc-" TID "-" SID "-09-zz", 61, &d) && d.trace_flags == 9 &&
              memcmp(d.trace_id, tid, 16) == 0);
    }
    /* all-zero ids */
    CHECK(!tp("00-00000000000000000000000000000000-" SID "-01"));
    CHECK(!tp("00-" TID "-0000000000000000-01"));
    CHECK(!tp("cc-00000000000000000000000000000000-" SID "-01-x"));
    /* every position: upper case, non-hex, wrong separators */
    bad = 0;
    for (i = 0; i < 55; i++) {
        bool sep = i == 2 || i == 35 || i == 52;
        if (sep) {
            bad += tp(tp_with(i, '_')) || tp(tp_with(i, ' ')) || tp(tp_with(i, '0'));
        } else {
            bad += tp(tp_with(i, 'g')) || tp(tp_with(i, 'G')) || tp(tp_with(i, '-')) ||
                   tp(tp_with(i, ' ')) || tp(tp_with(i, 'A')) || tp(tp_with(i, 'F'));
            bad += !tp(tp_with(i, 'a')); /* still valid ("a0"/"0a": a higher version) */
        }
    }
    CHECK(bad == 0);
    CHECK(!tp("00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01"));
    CHECK(!tp("00-" TID "-00F067AA0BA902B7-01"));
    CHECK(!tp("00-" TID "-" SID "-0A"));
    CHECK(!tp("00_" TID "_" SID "_01"));
    {
        char withnul[56];
        memcpy(withnul, TP00, 56);
        withnul[40] = '\0';
        CHECK(!otel__traceparent_parse(withnul, 55, &c));
    }
    CHECK(!otel__traceparent_parse(NULL, 0, &c));
    /* on failure the output is untouched */
    memset(&c, 0x5a, sizeof c);
    CHECK(!otel__traceparent_parse("ff-" TID "-" SID "-01", 55, &c) && c.trace_flags == 0x5a);
}

static bool ts(const char *in, const char *want) {
    char out[OTEL_TRACE_STATE_MAX];
    bool ok;
    memset(out, 'x', sizeof out);
    ok = otel__tracestate_normalize(in, strlen(in), out, sizeof out);
    if (!want) return !ok && out[0] == '\0';
    return ok && strcmp(out, want) == 0;
}

/* "m0=v,m1=v,..." with `count` members */
static const char *members(int count, const char *sep) {
    static char buf[1024];
    int i;
    buf[0] = '\0';
    for (i = 0; i < count; i++)
        sprintf(buf + strlen(buf), "%sm%d=v", i ? sep : "", i);
    return buf;
}

static void test_tracestate(void) {
    char key[300], val[300], in[700], want[700], out[16];
    CHECK(ts("", ""));
    CHECK(ts(" \t ", ""));
    CHECK(ts(",, ,\t,", ""));
    CHECK(ts("a=1", "a=1"));
    CHECK(ts(" a=1 , b=2\t,\t,c=3 ", "a=1,b=2,c=3"));
    CHECK(ts(",a=1,,b=2,", "a=1,b=2"));
    CHECK(ts("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"));
    CHECK(ts("a=b c", "a=b c"));
    CHECK(ts("a= b", "a= b"));              /* a value may start with a space */
    CHECK(ts("a=b ", "a=b"));               /* trailing blanks are OWS */
    CHECK(ts("a=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~", "a=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~"));
    CHECK(ts("k_-*/9=1", "k_-*/9=1"));
    /* member count */
    CHECK(ts(members(32, ","), members(32, ",")));
    strcpy(in, members(32, " ,, "));
    CHECK(ts(in, members(32, ",")));        /* empty members do not count */
    CHECK(ts(members(33, ","), NULL));
    /* bad keys */
    CHECK(ts("A=1", NULL));
    CHECK(ts("aB=1", NULL));
    CHECK(ts("1a=1", NULL));                /* simple key starts with lcalpha */
    CHECK(ts("_a=1", NULL));
    CHECK(ts("a b=1", NULL));
    CHECK(ts("a!=1", NULL));
    CHECK(ts("a.b=1", NULL));
    CHECK(ts("=1", NULL));
    CHECK(ts("a", NULL));
    CHECK(ts("a=1,b", NULL));
    CHECK(ts("a =1", NULL));
    /* multi-tenant keys */
    CHECK(ts("t@s=1", "t@s=1"));
    CHECK(ts("1t@s=1", "1t@s=1"));
    CHECK(ts("t-_*/0@s-_*/0=1", "t-_*/0@s-_*/0=1"));
    CHECK(ts("t@1s=1", NULL));
    CHECK(ts("t@=1", NULL));
    CHECK(ts("@s=1", NULL));
    CHECK(ts("a@b@c=1", NULL));
    CHECK(ts("T@s=1", NULL));
    CHECK(ts("t@S=1", NULL));
    /* key lengths: simple 256, tenant 241, system 14 */
    memset(key, 'k', 256); key[256] = '\0';
    sprintf(in, "%s=1", key);
    CHECK(ts(in, in));
    memset(key, 'k', 257); key[257] = '\0';
    sprintf(in, "%s=1", key);
    CHECK(ts(in, NULL));
    memset(key, 't', 241); memcpy(key + 241, "@ssssssssssssss", 16);
    sprintf(in, "%s=1", key);
    CHECK(ts(in, in));                      /* 241 + 1 + 14 = 256 */
    memset(key, 't', 242); memcpy(key + 242, "@s", 3);
    sprintf(in, "%s=1", key);
    CHECK(ts(in, NULL));
    CHECK(ts("t@sssssssssssssss=1", NULL)); /* system 15 */
    CHECK(ts("t@ssssssssssssss=1", "t@ssssssssssssss=1"));
    /* values */
    CHECK(ts("a=", NULL));
    CHECK(ts("a= ", NULL));
    CHECK(ts("a=b=c", NULL));
    CHECK(ts("a=b\tc", NULL));
    CHECK(ts("a=b\x7f", NULL));
    CHECK(ts("a=\xc3\xa9", NULL));
    memset(val, 'v', 256); val[256] = '\0';
    sprintf(in, "a=%s", val);
    CHECK(ts(in, in));
    memset(val, 'v', 257); val[257] = '\0';
    sprintf(in, "a=%s", val);
    CHECK(ts(in, NULL));
    /* duplicates */
    CHECK(ts("a=1,b=2,a=3", NULL));
    CHECK(ts("a=1,a=1", NULL));
    CHECK(ts("a@b=1,a=2,b=3,ab=4", "a@b=1,a=2,b=3,ab=4"));
    CHECK(ts("abc=1,ab=2,abcd=3", "abc=1,ab=2,abcd=3"));
    /* output capacity (includes the NUL) */
    memset(out, 'x', sizeof out);
    CHECK(!otel__tracestate_normalize("a=1,b=2", 7, out, 7) && out[0] == '\0');
    CHECK(otel__tracestate_normalize("a=1 , b=2", 9, out, 8) && strcmp(out, "a=1,b=2") == 0);
    CHECK(!otel__tracestate_normalize("a=1", 3, out, 0) && out[0] == 'a'); /* cap 0: not written */
    CHECK(!otel__tracestate_normalize("a=1", 3, out, 3) && out[0] == '\0');
    CHECK(otel__tracestate_normalize("a=1", 3, out, 4) && strcmp(out, "a=1") == 0);
    CHECK(otel__tracestate_normalize("", 0, out, 1) && out[0] == '\0');
    CHECK(otel__tracestate_normalize("a=1,b=2", 3, out, sizeof out) && strcmp(out, "a=1") == 0);
    /* valid, but longer than OTEL_TRACE_STATE_MAX */
    in[0] = want[0] = '\0';
    {
        int i;
        for (i = 0; i < 9; i++) sprintf(in + strlen(in), "%sk%d=%.60s", i ? "," : "", i, val);
    }
    CHECK((int)strlen(in) > OTEL_TRACE_STATE_MAX);
    CHECK(ts(in, NULL));
}

static void test_extract_format(void) {
    otel_span_context c, d;
    char buf[64], small[55];
    memset(&c, 0x5a, sizeof c);
    CHECK(otel_context_extract(TP00, NULL, &c) == OTEL_OK);
    CHECK(c.is_remote && c.trace_flags == 1 && c.trace_state[0] == '\0' && otel_span_context_is_valid(&c));
    CHECK(otel_traceparent_format(&c, buf, sizeof buf) == OTEL_OK && strcmp(buf, TP00) == 0);
    CHECK(otel_context_extract(" \t" TP00 "\t ", " a=1 ,b=2 ", &c) == OTEL_OK);
    CHECK(strcmp(c.trace_state, "a=1,b=2") == 0);
    CHECK(otel_context_extract(TP00, "A=1", &c) == OTEL_OK && c.trace_state[0] == '\0' && c.is_remote);
    CHECK(otel_context_extract(TP00, "", &c) == OTEL_OK && c.trace_state[0] == '\0');
    /* flags: only the sampled bit is written */
    CHECK(otel_context_extract("00-" TID "-" SID "-03", NULL, &c) == OTEL_OK && c.trace_flags == 3);
    CHECK(otel_traceparent_format(&c, buf, sizeof buf) == OTEL_OK && strcmp(buf, "00-" TID "-" SID "-01") == 0);
    CHECK(otel_context_extract("00-" TID "-" SID "-02", NULL, &c) == OTEL_OK);
    CHECK(otel_traceparent_format(&c, buf, sizeof buf) == OTEL_OK && strcmp(buf, "00-" TID "-" SID "-00") == 0);
    CHECK(otel_context_extract("cc-" TID "-" SID "-01-future", NULL, &c) == OTEL_OK);
    CHECK(otel_traceparent_format(&c, buf, OTEL_TRACEPARENT_SIZE) == OTEL_OK && strcmp(buf, TP00) == 0);
    /* round trip of the formatted value */
    CHECK(otel_context_extract(buf, NULL, &d) == OTEL_OK && memcmp(c.trace_id, d.trace_id, 16) == 0 &&
          memcmp(c.span_id, d.span_id, 8) == 0);
    /* rejected: out zeroed, tracestate not parsed */
    CHECK(rejected(NULL));
    CHECK(rejected(""));
    CHECK(rejected("   "));
    CHECK(rejected("ff-" TID "-" SID "-01"));
    CHECK(rejected(TP00 "0"));
    CHECK(rejected("00-" TID "-" SID "-0"));
    CHECK(rejected("00-00000000000000000000000000000000-" SID "-01"));
    CHECK(rejected("00-" TID "-0000000000000000-01"));
    CHECK(rejected("00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01"));
    CHECK(rejected(" 00-" TID "-" SID "-01x"));
    CHECK(rejected("\n" TP00)); /* only spaces and tabs are OWS */
    CHECK(otel_context_extract(TP00, NULL, NULL) == OTEL_ERR_INVALID_ARG);
    /* format errors */
    CHECK(otel_context_extract(TP00, NULL, &c) == OTEL_OK);
    memset(small, 'x', sizeof small);
    CHECK(otel_traceparent_format(&c, small, sizeof small) == OTEL_ERR_INVALID_ARG && small[0] == '\0');
    CHECK(otel_traceparent_format(&c, NULL, 64) == OTEL_ERR_INVALID_ARG);
    CHECK(otel_traceparent_format(&c, buf, 0) == OTEL_ERR_INVALID_ARG);
    buf[0] = 'x';
    CHECK(otel_traceparent_format(NULL, buf, sizeof buf) == OTEL_ERR_INVALID_ARG && buf[0] == '\0');
    memset(&d, 0, sizeof d);
    buf[0] = 'x';
    CHECK(otel_traceparent_format(&d, buf, sizeof buf) == OTEL_ERR_INVALID_ARG && buf[0] == '\0');
    /* validity */
    CHECK(!otel_span_context_is_valid(NULL));
    CHECK(!otel_span_context_is_valid(&d));
    d.trace_id[15] = 1;
    CHECK(!otel_span_context_is_valid(&d));
    d.span_id[0] = 0x80;
    CHECK(otel_span_context_is_valid(&d));
    d.trace_id[15] = 0;
    CHECK(!otel_span_context_is_valid(&d));
    d.trace_id[0] = 1;
    d.trace_flags = 1;
    CHECK(otel_traceparent_format(&d, buf, sizeof buf) == OTEL_OK &&
          strcmp(buf, "00-01000000000000000000000000000000-8000000000000000-01") == 0);
    /* an over-long tracestate is dropped, the traceparent still counts */
    {
        char big[OTEL_TRACE_STATE_MAX + 64], v[251];
        memset(v, 'v', 250);
        v[250] = '\0';
        snprintf(big, sizeof big, "a=%s,b=%s,c=%.*s", v, v, (int)(OTEL_TRACE_STATE_MAX - 500), v);
        CHECK(strlen(big) == OTEL_TRACE_STATE_MAX + 8);
        CHECK(ts(big, NULL));
        big[OTEL_TRACE_STATE_MAX - 1] = '\0'; /* the longest that fits with its NUL */
        CHECK(otel_context_extract(TP00, big, &c) == OTEL_OK && strcmp(c.trace_state, big) == 0);
        CHECK(ts(big, big));
        big[OTEL_TRACE_STATE_MAX - 1] = 'v';
        big[OTEL_TRACE_STATE_MAX] = '\0'; /* one byte too long */
        CHECK(ts(big, NULL));
        CHECK(otel_context_extract(TP00, big, &c) == OTEL_OK && c.trace_state[0] == '\0');
        big[OTEL_TRACE_STATE_MAX] = 'v';
        CHECK(otel_context_extract(TP00, big, &c) == OTEL_OK && c.trace_state[0] == '\0' &&
              otel_span_context_is_valid(&c));
    }
}

static void test_value_at(void) {
    const char *arr[] = {"one", NULL};
    bool ba[] = {true, false};
    int64_t ia[] = {7, -8};
    double da[] = {0.5};
    otel_value v, e;
    memset(&v, 0, sizeof v);
    v.type = OTEL_VALUE_STRING_ARRAY, v.u.sa = arr, v.len = 2;
    e = otel_value_at(&v, 0);
    CHECK(e.type == OTEL_VALUE_STRING && e.len == 3 && memcmp(e.u.s, "one", 3) == 0);
    e = otel_value_at(&v, 1);
    CHECK(e.type == OTEL_VALUE_STRING && e.len == 0 && e.u.s && e.u.s[0] == 0);
    CHECK(otel_value_at(&v, 2).type == OTEL_VALUE_NONE);
    v.type = OTEL_VALUE_BOOL_ARRAY, v.u.ba = ba;
    e = otel_value_at(&v, 0);
    CHECK(e.type == OTEL_VALUE_BOOL && e.u.b);
    e = otel_value_at(&v, 1);
    CHECK(e.type == OTEL_VALUE_BOOL && !e.u.b);
    v.type = OTEL_VALUE_INT_ARRAY, v.u.ia = ia;
    e = otel_value_at(&v, 1);
    CHECK(e.type == OTEL_VALUE_INT && e.u.i == -8);
    v.type = OTEL_VALUE_DOUBLE_ARRAY, v.u.da = da, v.len = 1;
    e = otel_value_at(&v, 0);
    CHECK(e.type == OTEL_VALUE_DOUBLE && e.u.d == 0.5);
    CHECK(otel_value_at(&v, 1).type == OTEL_VALUE_NONE);
    v.u.da = NULL; /* no storage: nothing to read */
    CHECK(otel_value_at(&v, 0).type == OTEL_VALUE_NONE);
    v.type = OTEL_VALUE_INT, v.u.i = 5; /* not an array */
    CHECK(otel_value_at(&v, 0).type == OTEL_VALUE_NONE);
    CHECK(otel_value_at(NULL, 0).type == OTEL_VALUE_NONE);
}

static void test_value_str_at(void) {
    const char *arr[] = {"one", NULL, "three"};
    otel_value v;
    otel_str s;
    uint32_t block[8]; /* off[2], slen[2], then bytes */
    memset(&v, 0, sizeof v);
    v.type = OTEL_VALUE_STRING_ARRAY;
    v.u.sa = arr;
    v.len = 3;
    s = otel_value_str_at(&v, 0);
    CHECK(s.len == 3 && strcmp(s.ptr, "one") == 0);
    s = otel_value_str_at(&v, 1);
    CHECK(s.len == 0 && s.ptr && s.ptr[0] == '\0');
    s = otel_value_str_at(&v, 2);
    CHECK(s.len == 5 && strcmp(s.ptr, "three") == 0);
    s = otel_value_str_at(&v, 3);
    CHECK(s.len == 0 && s.ptr && s.ptr[0] == '\0');
    v.u.sa = NULL;
    s = otel_value_str_at(&v, 0);
    CHECK(s.len == 0 && s.ptr && s.ptr[0] == '\0');

    memset(block, 0, sizeof block);
    block[0] = 16;                 /* "ab" */
    block[1] = 18;                 /* "cde" */
    block[2] = 2;
    block[3] = 3;
    memcpy((char *)block + 16, "abcde", 5);
    v.flags = OTEL_VALUE_PACKED;
    v.u.packed = block;
    v.len = 2;
    s = otel_value_str_at(&v, 0);
    CHECK(s.len == 2 && memcmp(s.ptr, "ab", 2) == 0 && s.ptr == (const char *)block + 16);
    s = otel_value_str_at(&v, 1);
    CHECK(s.len == 3 && memcmp(s.ptr, "cde", 3) == 0);
    s = otel_value_str_at(&v, 2);
    CHECK(s.len == 0 && s.ptr && s.ptr[0] == '\0');

    v.type = OTEL_VALUE_STRING;
    v.flags = 0;
    v.u.s = "str";
    v.len = 3;
    s = otel_value_str_at(&v, 0);
    CHECK(s.len == 0 && s.ptr && s.ptr[0] == '\0');
    s = otel_value_str_at(NULL, 0);
    CHECK(s.len == 0 && s.ptr && s.ptr[0] == '\0');
}

int main(void) {
    test_traceparent();
    test_tracestate();
    test_extract_format();
    test_value_str_at();
    test_value_at();
    return TEST_DONE();
}
