#include <stdio.h>
static int test__pass, test__fail;
#define CHECK(c) do { if (c) test__pass++; else { test__fail++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)
#define TEST_DONE() (printf("%d passed, %d failed\n", test__pass, test__fail), test__fail ? 1 : 0)
