#include <stdio.h>
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
