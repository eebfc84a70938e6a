/* test_otlp_curl.c - tests/test_otlp_http.c again, with the libcurl transport
   (OTEL_USE_CURL): the same receiver faults, retries, timeouts, endpoints and headers. */
/* link: -lcurl */
#define OTEL_USE_CURL 1
#include "test_otlp_http.c"
