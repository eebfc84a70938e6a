/* test_otlp_dns_curl.c - tests/test_otlp_dns.c again, with the libcurl transport
   (OTEL_USE_CURL): libcurl's resolver thread meets the same slow and hung lookups, which
   must end at the export timeout, on cancel and at shutdown (CURLOPT_QUICK_EXIT). */
/* tsan */
/* link: -lcurl -ldl */
#define OTEL_USE_CURL 1
#include "test_otlp_dns.c"
