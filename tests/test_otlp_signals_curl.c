/* test_otlp_signals_curl.c - tests/test_otlp_signals.c again, with the libcurl transport
   (OTEL_USE_CURL): metrics and logs exporters, endpoints, headers, gzip, retries, http/json. */
/* link: -lcurl */
#define OTEL_USE_CURL 1
#include "test_otlp_signals.c"
