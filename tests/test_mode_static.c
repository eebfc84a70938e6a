/* test_mode_static.c - otel.h with OTEL_STATIC: the implementation and the inline attribute
   path's thread state private to this unit (tests/build_mode.h). */
#define OTEL_STATIC
#pragma GCC diagnostic ignored "-Wunused-function" /* OTEL_STATIC: what this test does not call */
#define OTEL_TEST_FAST_HITS 1
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "test.h"
#define MODE_INLINE 1
#include "build_mode.h"

int main(void) { return mode_main(); }
