/* test_mode_noinline.c - otel.h with OTEL_NO_INLINE_ATTRS: every attribute through the
   library's calls, as before the inline path (tests/build_mode.h). */
#define OTEL_NO_INLINE_ATTRS
#define OTEL_IMPLEMENTATION
#include "../otel.h"
#include "test.h"
#define MODE_INLINE 0
#include "build_mode.h"

int main(void) { return mode_main(); }
