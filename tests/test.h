#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
static int test__pass, test__fail;
#define CHECK(c) do { if (c) test__pass++; else { test__fail++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)
#define TEST_DONE() (printf("%d passed, %d failed\n", test__pass, test__fail), test__fail ? 1 : 0)

/* Sanitizer builds. SANITIZED (0/1): ASan or TSan, or TEST_SANITIZED from tests/run.sh (tests
   may do fewer iterations). TSAN_BUILD: ThreadSanitizer (gcc defines __SANITIZE_THREAD__,
   clang has the feature test). */
#if defined(TEST_SANITIZED) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#endif
#if defined(__SANITIZE_THREAD__)
#define TSAN_BUILD 1
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#undef SANITIZED
#define SANITIZED 1
#endif
#if __has_feature(thread_sanitizer) && !defined(TSAN_BUILD)
#define TSAN_BUILD 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* A seeded xorshift generator for random-shape tests: the same run every time. */
static inline unsigned test_rand(uint64_t *state, unsigned n) {
    *state ^= *state << 13, *state ^= *state >> 7, *state ^= *state << 17;
    return (unsigned)(*state % n);
}

/* n random lower-case letters and a NUL; one time in `bad_one_in`, one byte 0xC3 (not
   ASCII, and not valid UTF-8 before a letter). */
static inline void test_rand_str(uint64_t *state, char *buf, size_t n, unsigned bad_one_in) {
    for (size_t i = 0; i < n; i++) buf[i] = (char)('a' + test_rand(state, 26));
    if (n && test_rand(state, bad_one_in) == 0) buf[test_rand(state, (unsigned)n)] = (char)0xC3;
    buf[n] = 0;
}

/* A random attribute named `key` (klen 1..40 random letters; `val` holds a string value):
   an int, a double, a bool or (half the time) a string of 0..39 letters; and one time in
   `odd_one_in` each: no key, an empty key, an int array (`ia`, 2 values), a NULL string.
   Needs otel.h. */
#ifdef OTEL_H_INCLUDED
static inline otel_attr test_rand_attr(uint64_t *state, char *key, char *val, unsigned odd_one_in, const int64_t *ia) {
    otel_attr a;
    test_rand_str(state, key, 1 + test_rand(state, 40), 10);
    switch (test_rand(state, 6)) {
    case 0: a = otel_attr_int(key, (int64_t)test_rand(state, 1000) - 500); break;
    case 1: a = otel_attr_double(key, test_rand(state, 1000) / 7.0); break;
    case 2: a = otel_attr_bool(key, test_rand(state, 2) != 0); break;
    default: test_rand_str(state, val, test_rand(state, 40), 10); a = otel_attr_str(key, val); break;
    }
    unsigned odd = test_rand(state, odd_one_in);
    if (odd == 0) a.key.ptr = NULL, a.key.len = 0;
    if (odd == 1) a.key.len = 0;
    if (odd == 2) a.value.type = OTEL_VALUE_INT_ARRAY, a.value.u.ia = ia, a.value.len = 2;
    if (odd == 3 && a.value.type == OTEL_VALUE_STRING) a.value.u.s = NULL;
    return a;
}

/* n random attributes (test_rand_attr) into a[], keys[i] and vals[i] holding their texts;
   one time in 8 an attribute takes an earlier one's key (a repeat). */
static inline void test_rand_attrs(uint64_t *state, otel_attr *a, size_t n, char (*keys)[48], char (*vals)[48],
                                   unsigned odd_one_in, const int64_t *ia) {
    for (size_t i = 0; i < n; i++) {
        a[i] = test_rand_attr(state, keys[i], vals[i], odd_one_in, ia);
        if (i && test_rand(state, 8) == 0) {
            size_t j = test_rand(state, (unsigned)i);
            if (a[j].key.ptr && a[i].key.ptr) a[i].key = a[j].key;
        }
    }
}

/* The attributes an iterator yields (otel_span_attrs, otel_log_attrs, ...). */
static inline size_t test_iter_len(otel_iter it) {
    otel_attr a;
    size_t n = 0;
    while (otel_iter_attr(&it, &a)) n++;
    return n;
}

/* The last attribute of `it` with `key` into *out; false: none. */
static inline bool test_attr_find(otel_iter it, const char *key, otel_attr *out) {
    otel_attr a;
    bool found = false;
    size_t n = strlen(key);
    while (otel_iter_attr(&it, &a))
        if (a.key.len == n && memcmp(a.key.ptr, key, n) == 0) {
            *out = a;
            found = true;
        }
    return found;
}

/* Whether `it` has `key` last set to this value (of this type). */
static inline bool test_attr_int(otel_iter it, const char *key, int64_t v) {
    otel_attr a;
    return test_attr_find(it, key, &a) && a.value.type == OTEL_VALUE_INT && a.value.u.i == v;
}
static inline bool test_attr_double(otel_iter it, const char *key, double v) {
    otel_attr a;
    return test_attr_find(it, key, &a) && a.value.type == OTEL_VALUE_DOUBLE && a.value.u.d == v;
}
static inline bool test_attr_bool(otel_iter it, const char *key, bool v) {
    otel_attr a;
    return test_attr_find(it, key, &a) && a.value.type == OTEL_VALUE_BOOL && a.value.u.b == v;
}
static inline bool test_attr_str(otel_iter it, const char *key, const char *v) {
    otel_attr a;
    return test_attr_find(it, key, &a) && a.value.type == OTEL_VALUE_STRING && a.value.len == strlen(v) &&
           memcmp(a.value.u.s, v, a.value.len) == 0;
}

/* A string of a record in a block: its NUL and the zero padding up to the next 8 bytes. */
static inline bool test_padded(const char *p, size_t len) {
    for (size_t i = len; i < ((len + 8) & ~(size_t)7); i++)
        if (p[i]) return false;
    return true;
}

/* Items ended (spans, or log records: `ended`) that still hold ring (block) memory: not yet
   exported, dropped or failed by the slowest of the `n` destinations `ds` (a block is given
   back only when every destination is done with it), less those the rings dropped. For
   pacing producers: counting queued items as done lets a stopped worker's queue fill the
   rings. */
static inline uint64_t test_backlog(uint64_t ended, uint64_t ring_dropped, const otel_destination_stats *ds, uint32_t n) {
    if (!n) return 0;
    uint64_t out = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t o = ds[i].exported + ds[i].dropped + ds[i].failed;
        if (o < out) out = o;
    }
    out += ring_dropped;
    return ended > out ? ended - out : 0;
}
#endif
