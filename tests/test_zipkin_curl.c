/* test_zipkin_curl.c - tests/test_zipkin.c again, with the libcurl transport (OTEL_USE_CURL):
   the same mapping, retries, timeouts, endpoints and factory checks. */
/* link: -lcurl */
#define OTEL_USE_CURL 1
#include "test_zipkin.c"
