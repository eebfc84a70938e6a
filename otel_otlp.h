/* otel_otlp.h - v0.2 - OTLP/HTTP exporter (traces, metrics, logs) for otel.h. License (MIT) at end.

   In exactly one .c file (after, or instead of, otel.h's implementation):
       #define OTEL_OTLP_IMPLEMENTATION
       #include "otel_otlp.h"          (includes otel.h)
   Build:  cc -pthread app.c                          plain http:// (no dependency)
           cc -DOTEL_USE_CURL -pthread app.c -lcurl   also https://, proxies

   QUICK START
       OTEL_TRACES_EXPORTER=otlp ./app       (the factory "otlp" registers itself; also
                                             OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER), or
       otel_exporter x; otel_otlp_exporter_create(NULL, &x);     (NULL: all from env)
       otel_desc d = {0}; d.destinations[0].exporter = x; otel_init(&d);
   Try it without a collector: build/tools/otlp_sink prints what it receives as JSON lines.

   CONFIG MACROS
       OTEL_USE_CURL (or OTEL_OTLP_USE_CURL)  libcurl transport: https, proxy env vars,
                                  certificates; without it only http:// endpoints work
       OTEL_OTLP_NO_AUTOREGISTER  do not register "otlp" from a constructor at load time
                                  (call otel_otlp_register() yourself)
       OTEL_MALLOC/OTEL_FREE      as in otel.h (used for the exporter's buffers)
       OTEL_OTLP_GETADDRINFO      the name lookup of the built-in client [getaddrinfo]: a
                                  function with getaddrinfo's signature whose results
                                  freeaddrinfo frees (tests use it to make lookups slow)

   ENVIRONMENT   (read by otel_otlp_exporter_create; desc fields win; the signal's variable
                 (TRACES_, METRICS_ or LOGS_: [SIG_] below) wins over the generic one)
       OTEL_EXPORTER_OTLP_ENDPOINT           base URL, "v1/traces" (v1/metrics, v1/logs)
                                             appended after exactly one "/" [http://localhost:4318]
       OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
       OTEL_EXPORTER_OTLP_LOGS_ENDPOINT      full URL used as is ("/" when it has no path)
       OTEL_EXPORTER_OTLP_[SIG_]HEADERS      k=v,k2=v2 (values percent-decoded; CR/LF or other
                                             control bytes: error at setup)
       OTEL_EXPORTER_OTLP_[SIG_]TIMEOUT      ms for a whole export, retries included [10000]
       OTEL_EXPORTER_OTLP_[SIG_]COMPRESSION  gzip | none [none]
       OTEL_EXPORTER_OTLP_[SIG_]PROTOCOL     http/protobuf | http/json [http/protobuf]
                                             (grpc: error at setup)
       OTEL_EXPORTER_OTLP_[SIG_]CERTIFICATE, _CLIENT_KEY, _CLIENT_CERTIFICATE (PEM files),
       OTEL_EXPORTER_OTLP_[SIG_]INSECURE     (true: skip TLS verification)   OTEL_USE_CURL only
       OTEL_EXPORTER_ZIPKIN_ENDPOINT         Zipkin: full URL used as is
                                             [http://localhost:9411/api/v2/spans]
       OTEL_EXPORTER_ZIPKIN_TIMEOUT          Zipkin: ms for a whole export [10000]

   SECTIONS      [wire] [size] [write] [request] [gzip] [http] [curl] [exporter] [zipkin]
                 -- grep "==== [" to jump

   DELIVERY      One export = one POST of an Export{Trace,Metrics,Logs}ServiceRequest
                 (protobuf, or OTLP/JSON with http/json). 429, 502, 503, 504 and
                 connection failures are retried with exponential backoff (1 s doubling to 5 s,
                 +-20% jitter) or after Retry-After (seconds or HTTP-date); the whole export,
                 retries included, ends by the timeout: a wait that would pass it is not
                 started. Other statuses fail at once (status and body logged, rate-limited).
                 A partial success is a success; its rejected count is kept in the stats.
                 Requests over 64 MiB are not sent (counted as dropped); empty batches neither.
                 otel_otlp_exporter_cancel() and the exporter's shutdown end a wait at once.
                 Name lookups too (libcurl: 7.87 or later, see [curl]): getaddrinfo runs on
                 a short-lived thread that the export stops waiting for at the deadline or
                 on cancel (a dead DNS server costs no more than the timeout); a lookup that
                 fails or times out is a connection failure. Address literals and
                 "localhost" (::1, 127.0.0.1) need no lookup; a looked-up address is reused
                 for 60 s while connecting to it works.

   ZIPKIN        OTEL_TRACES_EXPORTER=zipkin (factory "zipkin", registered like "otlp") or
                 otel_zipkin_exporter_create(): a JSON array of Zipkin v2 spans per export,
                 same transport, retries, timeout rule and cancel as above. Mapping (the
                 spec's Zipkin rules): see the [zipkin] section.

   THREADS       otel_otlp_exporter_create and otel_otlp_register: setup. The exporter's
                 callbacks: the destination worker or metric reader thread (never two at
                 once for one destination, as otel.h promises; an OTLP exporter serves one
                 signal, so give each destination or reader its own).
                 otel_otlp_exporter_stats and otel_otlp_exporter_cancel: any thread.
                 An encoder (otel_otlp_encoder_*) belongs to one thread at a time.        */
/* The implementation needs POSIX (sockets, poll, clock_gettime); under -std=c11 ask for it
   before the first system header, as otel.h does. */
#if defined(OTEL_OTLP_IMPLEMENTATION) && defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_XOPEN_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef OTEL_OTLP_H_INCLUDED
#define OTEL_OTLP_H_INCLUDED

#include "otel.h"

#if defined(OTEL_OTLP_USE_CURL) && !defined(OTEL_USE_CURL)
#define OTEL_USE_CURL 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum otel_otlp_compression {
    OTEL_OTLP_COMPRESSION_DEFAULT = 0, /* -> OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION, else NONE */
    OTEL_OTLP_COMPRESSION_NONE,
    OTEL_OTLP_COMPRESSION_GZIP
} otel_otlp_compression;

typedef enum otel_otlp_protocol {
    OTEL_OTLP_PROTOCOL_DEFAULT = 0, /* -> OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL, else HTTP_PROTOBUF */
    OTEL_OTLP_PROTOCOL_HTTP_PROTOBUF,
    OTEL_OTLP_PROTOCOL_HTTP_JSON,   /* OTLP/JSON, Content-Type application/json (metrics and logs:
                                       when otel.h has their JSON writers, else NOT_BUILT) */
    OTEL_OTLP_PROTOCOL_GRPC         /* not built yet: OTEL_ERR_NOT_BUILT at setup */
} otel_otlp_protocol;

typedef struct otel_otlp_header {
    const char *name;
    const char *value;
} otel_otlp_header;

typedef struct otel_otlp_desc {
    const char *endpoint;            /* base URL + "v1/traces"; NULL -> env, else http://localhost:4318 */
    const char *traces_endpoint;     /* full URL used as is; wins over endpoint */
    const otel_otlp_header *headers; /* extra request headers (values used verbatim) */
    size_t header_count;
    const char *headers_str;         /* "k=v,k2=v2", percent-decoded; NULL and no headers -> env */
    uint32_t timeout_ms;             /* whole export incl. retries; 0 -> env, else 10000 */
    otel_otlp_compression compression;
    otel_otlp_protocol protocol;
    uint32_t retry_initial_ms;       /* first backoff; 0 -> 1000 */
    uint32_t retry_max_ms;           /* backoff cap; 0 -> 5000 */
    size_t max_request_bytes;        /* before compression; 0 -> 64 MiB (the OTLP limit) */
    /* TLS, OTEL_USE_CURL only. NULL/false -> env */
    const char *certificate;         /* CA bundle (PEM) to verify the server */
    const char *client_key;          /* mTLS key (PEM) */
    const char *client_certificate;  /* mTLS certificate (PEM) */
    bool insecure;                   /* skip certificate verification (testing only) */
    /* The signal this exporter sends: 0 = TRACES (export_spans, /v1/traces,
       OTEL_EXPORTER_OTLP_TRACES_*); METRICS (export_metrics, /v1/metrics, _METRICS_*) or
       LOGS (export_logs, /v1/logs, _LOGS_*). */
    otel_signal signal;
    const char *metrics_endpoint;    /* full URL used as is (signal METRICS); wins over endpoint */
    const char *logs_endpoint;       /* full URL used as is (signal LOGS); wins over endpoint */
} otel_otlp_desc;

/* The span counters count the items of the exporter's signal: spans, metric data points
   or log records. */
typedef struct otel_otlp_stats {
    uint64_t batches;          /* export calls with at least one span */
    uint64_t spans_exported;   /* in requests the receiver accepted (partial ones included) */
    uint64_t spans_rejected;   /* rejected_spans of partial-success responses */
    uint64_t spans_failed;     /* in batches that failed: bad status, retries or time used up */
    uint64_t spans_dropped;    /* in requests over max_request_bytes, never sent */
    uint64_t requests;         /* HTTP requests sent, retries included */
    uint64_t retries;          /* requests repeated after 429/502/503/504 or a lost connection */
    uint64_t connect_failures; /* connection attempts that failed */
    uint64_t connections;      /* connections opened (keep-alive keeps this low) */
    uint64_t bytes_sent;       /* request bodies as sent (after gzip) */
    uint64_t bytes_raw;        /* request bodies before compression */
    int last_status;           /* last HTTP status received, 0 before any */
} otel_otlp_stats;

/* Creates an OTLP/HTTP exporter for desc->signal (traces unless set). `desc` NULL = all
   defaults (env vars). Opens no connection yet (a receiver that is down is not an error),
   but rejects at once: an https:// URL without OTEL_USE_CURL, grpc, http/json where it is
   not built, a malformed URL and header names or values with forbidden bytes
   (OTEL_ERR_INVALID_ARG / OTEL_ERR_NOT_BUILT, reason logged). Thread: setup.
   Allocates: yes (buffers reused). */
OTEL_API otel_result otel_otlp_exporter_create(const otel_otlp_desc *desc, otel_exporter *out);
/* A snapshot of an OTLP exporter's counters. Thread: any, until the exporter's shutdown. */
OTEL_API otel_result otel_otlp_exporter_stats(const otel_exporter *exp, otel_otlp_stats *out);
/* Makes the running export (and every later one) stop as soon as possible: a backoff or
   network wait ends at once, no new retry starts. For a shutdown that must keep a deadline.
   Thread: any (async-signal-safe). */
OTEL_API void otel_otlp_exporter_cancel(const otel_exporter *exp);
/* The URL requests go to, after endpoint resolution (NULL for another exporter). */
OTEL_API const char *otel_otlp_exporter_url(const otel_exporter *exp);
/* Registers the factory name "otlp" with otel_exporter_register (done automatically at
   load time with GCC/Clang unless OTEL_OTLP_NO_AUTOREGISTER). Thread: setup. */
OTEL_API otel_result otel_otlp_register(void);

/* The encoder behind the exporter, for tests, benchmarks and custom transports. */
typedef struct otel_otlp_encoder otel_otlp_encoder;
OTEL_API otel_otlp_encoder *otel_otlp_encoder_create(void);
OTEL_API void otel_otlp_encoder_destroy(otel_otlp_encoder *enc);
/* Encodes `batch` as an ExportTraceServiceRequest into the encoder's reusable buffer; *out
   stays valid until the next call on `enc`. Allocates: only when a batch outgrows the
   buffers. Spans are grouped into one ScopeSpans per distinct scope. */
OTEL_API otel_result otel_otlp_encode_spans(otel_otlp_encoder *enc, const otel_span_batch *batch,
                                            const uint8_t **out, size_t *out_len);
/* The same for metrics (ExportMetricsServiceRequest; one ScopeMetrics per run of adjacent
   metrics of one scope) and logs (ExportLogsServiceRequest; records grouped by scope). */
OTEL_API otel_result otel_otlp_encode_metrics(otel_otlp_encoder *enc, const otel_metric_batch *batch,
                                              const uint8_t **out, size_t *out_len);
OTEL_API otel_result otel_otlp_encode_logs(otel_otlp_encoder *enc, const otel_log_batch *batch,
                                           const uint8_t **out, size_t *out_len);
/* gzip (RFC 1952) of `in` into the encoder's second buffer; *out valid until the next call. */
OTEL_API otel_result otel_otlp_gzip(otel_otlp_encoder *enc, const void *in, size_t len,
                                    const uint8_t **out, size_t *out_len);

/* ---- Zipkin: a JSON array of Zipkin v2 spans, POSTed over the same transport ---------- */

typedef struct otel_zipkin_desc {
    const char *endpoint;            /* full URL used as is; NULL -> OTEL_EXPORTER_ZIPKIN_ENDPOINT,
                                        else http://localhost:9411/api/v2/spans */
    uint32_t timeout_ms;             /* whole export incl. retries; 0 -> OTEL_EXPORTER_ZIPKIN_TIMEOUT,
                                        else 10000 */
    const otel_otlp_header *headers; /* extra request headers (values used verbatim) */
    size_t header_count;
    otel_otlp_compression compression; /* 0 -> NONE (no variable for it); GZIP: Content-Encoding */
    uint32_t retry_initial_ms;       /* first backoff; 0 -> 1000 */
    uint32_t retry_max_ms;           /* backoff cap; 0 -> 5000 */
    size_t max_request_bytes;        /* JSON body before compression; 0 -> 64 MiB */
    /* TLS, OTEL_USE_CURL only */
    const char *certificate;         /* CA bundle (PEM) to verify the server */
    const char *client_key;          /* mTLS key (PEM) */
    const char *client_certificate;  /* mTLS certificate (PEM) */
    bool insecure;                   /* skip certificate verification (testing only) */
} otel_zipkin_desc;

/* Creates a Zipkin v2 JSON span exporter (traces only). `desc` NULL = all defaults (env
   vars). Opens no connection yet; rejects at once an https:// URL without OTEL_USE_CURL
   (OTEL_ERR_NOT_BUILT) and a malformed URL or header (OTEL_ERR_INVALID_ARG), reason logged.
   Delivery, retries, cancel and counters are the OTLP exporter's (see DELIVERY above).
   Thread: setup. Allocates: yes (buffers reused). */
OTEL_API otel_result otel_zipkin_exporter_create(const otel_zipkin_desc *desc, otel_exporter *out);
/* A snapshot of a Zipkin exporter's counters (spans_rejected stays 0). Thread: any, until
   the exporter's shutdown. */
OTEL_API otel_result otel_zipkin_exporter_stats(const otel_exporter *exp, otel_otlp_stats *out);
/* As otel_otlp_exporter_cancel. Thread: any (async-signal-safe). */
OTEL_API void otel_zipkin_exporter_cancel(const otel_exporter *exp);
/* The URL requests go to (NULL for another exporter). */
OTEL_API const char *otel_zipkin_exporter_url(const otel_exporter *exp);
/* Registers the factory name "zipkin" (traces only; done automatically at load time with
   GCC/Clang unless OTEL_OTLP_NO_AUTOREGISTER). Thread: setup. */
OTEL_API otel_result otel_zipkin_register(void);

#ifdef __cplusplus
}
#endif
#endif /* OTEL_OTLP_H_INCLUDED */

/* ================================================================================= */
/*                                IMPLEMENTATION                                     */
/* ================================================================================= */
#ifdef OTEL_OTLP_IMPLEMENTATION
#ifndef OTEL_OTLP_IMPLEMENTATION_INCLUDED
#define OTEL_OTLP_IMPLEMENTATION_INCLUDED

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#ifdef OTEL_USE_CURL
#include <curl/curl.h>
#endif

#if defined(OTEL_MALLOC) != defined(OTEL_FREE)
#error "define both OTEL_MALLOC and OTEL_FREE, or neither"
#elif !defined(OTEL_MALLOC)
#define OTEL_MALLOC(size, user) malloc(size)
#define OTEL_FREE(ptr, user) free(ptr)
#endif

#define OTEL__OTLP_MAX_REQUEST (64u << 20)   /* OTLP: don't send more (before compression) */
#define OTEL__OTLP_MAX_RESPONSE (4u << 20)   /* OTLP: don't parse more */
#define OTEL__OTLP_MAX_RESPONSE_HEAD (64u << 10)
#define OTEL__OTLP_TIMEOUT_MS 10000u
#define OTEL__OTLP_RETRY_INITIAL_MS 1000u
#define OTEL__OTLP_RETRY_MAX_MS 5000u
#define OTEL__OTLP_LOG_INTERVAL_MS 60000u    /* a repeated diagnostic: at most once a minute */
#define OTEL__OTLP_USER_AGENT "otel.h/" OTEL_VERSION
#define OTEL__OTLP_DNS_CACHE_MS 60000u       /* reuse a looked-up address this long (as libcurl) */
#ifndef OTEL_OTLP_GETADDRINFO
#define OTEL_OTLP_GETADDRINFO getaddrinfo
#endif
#ifndef OTEL__OTLP_PTHREAD_CREATE            /* tests make thread creation fail with it */
#define OTEL__OTLP_PTHREAD_CREATE pthread_create
#endif

/* Atomics for counters read from other threads (POSIX targets: GCC/Clang builtins, which
   also compile as C++). */
#define OTEL__OTLP_ADD(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))
#define OTEL__OTLP_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define OTEL__OTLP_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* ==== [wire] ====================================================================== */

/* Protobuf wire format: a tag is (field << 3 | wire type) as a varint; LEN fields carry
   a varint length; integers are little-endian base-128 varints (a negative int64 takes
   10 bytes), fixed64/double 8 little-endian bytes, fixed32 4. */
enum { OTEL__PB_VARINT = 0, OTEL__PB_I64 = 1, OTEL__PB_LEN = 2, OTEL__PB_I32 = 5 };
#define OTEL__PB_TAG(field, wire) ((uint32_t)(((uint32_t)(field) << 3) | (uint32_t)(wire)))

/* Field numbers, opentelemetry-proto v1.x (trace.proto, common.proto, resource.proto,
   trace_service.proto). */
enum {
    OTEL__PB_REQ_RESOURCE_SPANS = 1,          /* ExportTraceServiceRequest */
    OTEL__PB_RS_RESOURCE = 1,                 /* ResourceSpans */
    OTEL__PB_RS_SCOPE_SPANS = 2,
    OTEL__PB_RES_ATTRIBUTES = 1,              /* Resource */
    OTEL__PB_RES_DROPPED = 2,
    OTEL__PB_SS_SCOPE = 1,                    /* ScopeSpans */
    OTEL__PB_SS_SPANS = 2,
    OTEL__PB_SCOPE_NAME = 1,                  /* InstrumentationScope */
    OTEL__PB_SCOPE_VERSION = 2,
    OTEL__PB_SPAN_TRACE_ID = 1,               /* Span */
    OTEL__PB_SPAN_SPAN_ID = 2,
    OTEL__PB_SPAN_TRACE_STATE = 3,
    OTEL__PB_SPAN_PARENT_SPAN_ID = 4,
    OTEL__PB_SPAN_NAME = 5,
    OTEL__PB_SPAN_KIND = 6,
    OTEL__PB_SPAN_START_TIME = 7,             /* fixed64 */
    OTEL__PB_SPAN_END_TIME = 8,               /* fixed64 */
    OTEL__PB_SPAN_ATTRIBUTES = 9,
    OTEL__PB_SPAN_DROPPED_ATTRIBUTES = 10,
    OTEL__PB_SPAN_EVENTS = 11,
    OTEL__PB_SPAN_DROPPED_EVENTS = 12,
    OTEL__PB_SPAN_LINKS = 13,
    OTEL__PB_SPAN_DROPPED_LINKS = 14,
    OTEL__PB_SPAN_STATUS = 15,
    OTEL__PB_SPAN_FLAGS = 16,                 /* fixed32; needs a 2-byte tag */
    OTEL__PB_EVENT_TIME = 1,                  /* Span.Event, fixed64 */
    OTEL__PB_EVENT_NAME = 2,
    OTEL__PB_EVENT_ATTRIBUTES = 3,
    OTEL__PB_EVENT_DROPPED_ATTRIBUTES = 4,
    OTEL__PB_LINK_TRACE_ID = 1,               /* Span.Link */
    OTEL__PB_LINK_SPAN_ID = 2,
    OTEL__PB_LINK_TRACE_STATE = 3,
    OTEL__PB_LINK_ATTRIBUTES = 4,
    OTEL__PB_LINK_DROPPED_ATTRIBUTES = 5,
    OTEL__PB_LINK_FLAGS = 6,                  /* fixed32 */
    OTEL__PB_STATUS_MESSAGE = 2,              /* Status (field 1 reserved) */
    OTEL__PB_STATUS_CODE = 3,
    OTEL__PB_KV_KEY = 1,                      /* KeyValue */
    OTEL__PB_KV_VALUE = 2,
    OTEL__PB_ANY_STRING = 1,                  /* AnyValue oneof */
    OTEL__PB_ANY_BOOL = 2,
    OTEL__PB_ANY_INT = 3,
    OTEL__PB_ANY_DOUBLE = 4,                  /* fixed64 bits */
    OTEL__PB_ANY_ARRAY = 5,
    OTEL__PB_ARRAY_VALUES = 1,                /* ArrayValue */
    OTEL__PB_RESP_PARTIAL_SUCCESS = 1,        /* ExportTraceServiceResponse */
    OTEL__PB_PARTIAL_REJECTED_SPANS = 1,      /* ExportTracePartialSuccess */
    OTEL__PB_PARTIAL_ERROR_MESSAGE = 2,
    OTEL__PB_RPC_STATUS_MESSAGE = 2           /* google.rpc.Status, in error bodies */
};
/* Field numbers, opentelemetry-proto v1.x metrics.proto, logs.proto and their collector
   services (the partial-success responses use the numbers of the trace one above:
   rejected_data_points / rejected_log_records = 1, error_message = 2). */
enum {
    OTEL__PB_MREQ_RESOURCE_METRICS = 1,       /* ExportMetricsServiceRequest */
    OTEL__PB_RM_RESOURCE = 1,                 /* ResourceMetrics */
    OTEL__PB_RM_SCOPE_METRICS = 2,
    OTEL__PB_SM_SCOPE = 1,                    /* ScopeMetrics */
    OTEL__PB_SM_METRICS = 2,
    OTEL__PB_METRIC_NAME = 1,                 /* Metric */
    OTEL__PB_METRIC_DESCRIPTION = 2,
    OTEL__PB_METRIC_UNIT = 3,
    OTEL__PB_METRIC_GAUGE = 5,                /* oneof data */
    OTEL__PB_METRIC_SUM = 7,
    OTEL__PB_METRIC_HISTOGRAM = 9,
    OTEL__PB_DATA_POINTS = 1,                 /* Gauge, Sum, Histogram */
    OTEL__PB_DATA_TEMPORALITY = 2,            /* Sum, Histogram: AggregationTemporality */
    OTEL__PB_SUM_IS_MONOTONIC = 3,            /* Sum, bool */
    OTEL__PB_NDP_START_TIME = 2,              /* NumberDataPoint, fixed64 */
    OTEL__PB_NDP_TIME = 3,                    /* fixed64 */
    OTEL__PB_NDP_AS_DOUBLE = 4,               /* oneof value: double */
    OTEL__PB_NDP_AS_INT = 6,                  /* oneof value: sfixed64 */
    OTEL__PB_NDP_ATTRIBUTES = 7,
    OTEL__PB_HDP_START_TIME = 2,              /* HistogramDataPoint, fixed64 */
    OTEL__PB_HDP_TIME = 3,                    /* fixed64 */
    OTEL__PB_HDP_COUNT = 4,                   /* fixed64 */
    OTEL__PB_HDP_SUM = 5,                     /* optional double */
    OTEL__PB_HDP_BUCKET_COUNTS = 6,           /* packed fixed64 */
    OTEL__PB_HDP_EXPLICIT_BOUNDS = 7,         /* packed double */
    OTEL__PB_HDP_ATTRIBUTES = 9,
    OTEL__PB_HDP_MIN = 11,                    /* optional double */
    OTEL__PB_HDP_MAX = 12,                    /* optional double */
    OTEL__PB_LREQ_RESOURCE_LOGS = 1,          /* ExportLogsServiceRequest */
    OTEL__PB_RL_RESOURCE = 1,                 /* ResourceLogs */
    OTEL__PB_RL_SCOPE_LOGS = 2,
    OTEL__PB_SL_SCOPE = 1,                    /* ScopeLogs */
    OTEL__PB_SL_LOG_RECORDS = 2,
    OTEL__PB_LOG_TIME = 1,                    /* LogRecord, fixed64 */
    OTEL__PB_LOG_SEVERITY_NUMBER = 2,         /* SeverityNumber */
    OTEL__PB_LOG_SEVERITY_TEXT = 3,
    OTEL__PB_LOG_BODY = 5,                    /* AnyValue */
    OTEL__PB_LOG_ATTRIBUTES = 6,
    OTEL__PB_LOG_DROPPED_ATTRIBUTES = 7,
    OTEL__PB_LOG_FLAGS = 8,                   /* fixed32: low byte = W3C trace flags */
    OTEL__PB_LOG_TRACE_ID = 9,
    OTEL__PB_LOG_SPAN_ID = 10,
    OTEL__PB_LOG_OBSERVED_TIME = 11,          /* fixed64 */
    OTEL__PB_LOG_EVENT_NAME = 12              /* newer than v1.3: older readers skip it */
};
/* SpanFlags: low byte = W3C trace flags; then whether the parent (or the link's span) is
   remote is known, and whether it is. */
#define OTEL__PB_FLAGS_HAS_IS_REMOTE 0x100u
#define OTEL__PB_FLAGS_IS_REMOTE 0x200u

#if defined(__GNUC__) || defined(__clang__)
#define OTEL__PB_INLINE static inline __attribute__((always_inline))
#else
#define OTEL__PB_INLINE static inline
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OTEL__PB_LITTLE_ENDIAN 1
#else
#define OTEL__PB_LITTLE_ENDIAN 0
#endif

/* The writer: a buffer with a sticky failure flag, so message writers are straight-line
   code and the caller checks `overflow` once. */
typedef struct otel__pb {
    uint8_t *p, *end;
    bool overflow;
} otel__pb;

OTEL__PB_INLINE size_t otel__pb_varint_size(uint64_t v) {
    if (v < 0x80) return 1; /* most lengths and tags: a predictable branch beats the arithmetic */
#if defined(__GNUC__) || defined(__clang__)
    return (size_t)(((63 - __builtin_clzll(v | 1)) * 9 + 73) / 64);
#else
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
#endif
}
static inline uint64_t otel__pb_zigzag64(int64_t v) { /* sint64; OTLP traces use none */
    return ((uint64_t)v << 1) ^ (v < 0 ? ~(uint64_t)0 : 0);
}
OTEL__PB_INLINE size_t otel__pb_tag_size(uint32_t field) {
    return otel__pb_varint_size((uint64_t)field << 3);
}
/* Bytes of a whole LEN field: tag, length, payload. */
OTEL__PB_INLINE size_t otel__pb_len_field_size(uint32_t field, size_t n) {
    return otel__pb_tag_size(field) + otel__pb_varint_size(n) + n;
}
OTEL__PB_INLINE size_t otel__pb_varint_field_size(uint32_t field, uint64_t v) {
    return otel__pb_tag_size(field) + otel__pb_varint_size(v);
}

/* (A local copy of b->p: byte stores could alias it and force reloads.) */
OTEL__PB_INLINE void otel__pb_varint(otel__pb *b, uint64_t v) {
    uint8_t *p = b->p;
    if ((size_t)(b->end - p) < 10 && (size_t)(b->end - p) < otel__pb_varint_size(v)) {
        b->overflow = true;
        return;
    }
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    b->p = p;
}
/* Unchecked forms for a writer that has checked the room for a whole field first. */
OTEL__PB_INLINE uint8_t *otel__pb_put_varint(uint8_t *p, uint64_t v) {
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    return p;
}
/* Keys, short strings and ids (most of the bytes) are copied without a call: two
   fixed-size copies that overlap in the middle cover any length from that size to twice
   it, reading and writing exactly n bytes. */
OTEL__PB_INLINE uint8_t *otel__pb_put_bytes(uint8_t *p, const void *src, size_t n) {
    const uint8_t *s = (const uint8_t *)src;
    if (n > 32) {
        memcpy(p, s, n);
    } else if (n >= 16) {
        memcpy(p, s, 16);
        memcpy(p + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(p, s, 8);
        memcpy(p + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(p, s, 4);
        memcpy(p + n - 4, s + n - 4, 4);
    } else if (n) { /* 1 to 3 bytes: first, middle, last */
        p[0] = s[0];
        p[n / 2] = s[n / 2];
        p[n - 1] = s[n - 1];
    }
    return p + n;
}
OTEL__PB_INLINE void otel__pb_raw(otel__pb *b, const void *src, size_t n) {
    if ((size_t)(b->end - b->p) < n) { b->overflow = true; return; }
    b->p = otel__pb_put_bytes(b->p, src, n);
}
OTEL__PB_INLINE uint8_t *otel__pb_put_fixed64(uint8_t *p, uint64_t v) {
    int i;
    if (OTEL__PB_LITTLE_ENDIAN) memcpy(p, &v, 8);
    else for (i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}
OTEL__PB_INLINE void otel__pb_fixed64(otel__pb *b, uint64_t v) {
    uint8_t t[8];
    int i;
    if (OTEL__PB_LITTLE_ENDIAN) memcpy(t, &v, 8);
    else for (i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
    otel__pb_raw(b, t, 8);
}
OTEL__PB_INLINE void otel__pb_fixed32(otel__pb *b, uint32_t v) {
    uint8_t t[4];
    int i;
    if (OTEL__PB_LITTLE_ENDIAN) memcpy(t, &v, 4);
    else for (i = 0; i < 4; i++) t[i] = (uint8_t)(v >> (8 * i));
    otel__pb_raw(b, t, 4);
}
OTEL__PB_INLINE void otel__pb_tag(otel__pb *b, uint32_t field, uint32_t wire) {
    otel__pb_varint(b, OTEL__PB_TAG(field, wire));
}
OTEL__PB_INLINE void otel__pb_field_varint(otel__pb *b, uint32_t field, uint64_t v) {
    otel__pb_tag(b, field, OTEL__PB_VARINT);
    otel__pb_varint(b, v);
}
OTEL__PB_INLINE void otel__pb_field_fixed64(otel__pb *b, uint32_t field, uint64_t v) {
    otel__pb_tag(b, field, OTEL__PB_I64);
    otel__pb_fixed64(b, v);
}
OTEL__PB_INLINE void otel__pb_field_fixed32(otel__pb *b, uint32_t field, uint32_t v) {
    otel__pb_tag(b, field, OTEL__PB_I32);
    otel__pb_fixed32(b, v);
}
OTEL__PB_INLINE void otel__pb_field_double(otel__pb *b, uint32_t field, double d) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    otel__pb_field_fixed64(b, field, bits);
}
/* The head of a LEN field (tag and length); the payload follows. */
OTEL__PB_INLINE void otel__pb_field_len(otel__pb *b, uint32_t field, size_t n) {
    otel__pb_tag(b, field, OTEL__PB_LEN);
    otel__pb_varint(b, n);
}
OTEL__PB_INLINE void otel__pb_field_bytes(otel__pb *b, uint32_t field, const void *p, size_t n) {
    otel__pb_field_len(b, field, n);
    otel__pb_raw(b, p, n);
}

/* The reader (responses): `err` is sticky like the writer's `overflow`. */
typedef struct otel__pbr {
    const uint8_t *p, *end;
    bool err;
} otel__pbr;

static uint64_t otel__pbr_varint(otel__pbr *r) {
    uint64_t v = 0;
    int shift;
    for (shift = 0; shift < 64; shift += 7) {
        uint8_t c;
        if (r->p >= r->end) break;
        c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return v;
    }
    r->err = true;
    return 0;
}
/* Reads a field; false at the end or on error. A scalar's value goes to *val (fixed
   fields little-endian), a LEN field's payload to *sub. */
static bool otel__pbr_next(otel__pbr *r, uint32_t *field, uint32_t *wire, uint64_t *val, otel__pbr *sub) {
    uint64_t tag, n;
    int i;
    if (r->err || r->p >= r->end) return false;
    tag = otel__pbr_varint(r);
    *field = (uint32_t)(tag >> 3);
    *wire = (uint32_t)(tag & 7);
    *val = 0;
    sub->p = sub->end = r->p;
    sub->err = false;
    switch (*wire) {
    case OTEL__PB_VARINT: *val = otel__pbr_varint(r); break;
    case OTEL__PB_I64:
    case OTEL__PB_I32:
        n = *wire == OTEL__PB_I64 ? 8 : 4;
        if ((uint64_t)(r->end - r->p) < n) { r->err = true; break; }
        for (i = (int)n - 1; i >= 0; i--) *val = (*val << 8) | r->p[i];
        r->p += n;
        break;
    case OTEL__PB_LEN:
        n = otel__pbr_varint(r);
        if (r->err || n > (uint64_t)(r->end - r->p)) { r->err = true; break; }
        sub->p = r->p;
        sub->end = r->p + n;
        r->p += n;
        break;
    default: r->err = true;
    }
    if (tag >> 3 == 0) r->err = true;
    return !r->err;
}

/* ==== [size] ====================================================================== */

/* Submessages need their length before their bytes. Metrics and logs are encoded with a
   size pass, then a write pass (STYLE 9, option 1) rather than writing backwards: otel.h
   hands out attributes, events and links through forward-only iterators, so a backwards
   writer would first have to copy the items into a scratch array to walk them in reverse.
   The size pass stores the length of each metric, data point, log record, scope group and
   the resource group in `sizes`, in visit order, and the write pass takes them back in the
   same order. Both passes are straight-line twins, and tests check size == bytes written.
   Attributes are read once: the size pass encodes each at once, as a whole KeyValue field,
   into `kvbuf` and records each list's byte length; the write pass copies those bytes back
   (a KeyValue's bytes depend only on the attribute, not on where the field lands).

   Spans, the hot path (issue 4: at most 100 ns a span), take one forward pass instead
   (STYLE 9, option 4; see "spans: one forward pass" in [write]). */

struct otel_otlp_encoder {
    uint8_t *buf;                 /* the request, reused across batches */
    size_t cap;
    size_t len;                   /* bytes of it written so far (spans' one-pass encoder) */
    size_t span_bytes;            /* bytes per span of the last span batch (guesses widths) */
    uint32_t *sizes;              /* submessage lengths in visit order */
    size_t sizes_cap, sizes_n, sizes_pos;
    uint32_t *order;              /* span indices grouped by scope */
    uint32_t *group;              /* scope group of each span */
    size_t spans_cap;
    const otel_scope **scopes;    /* distinct scopes of the batch */
    uint32_t *scope_first, *scope_count;
    size_t scopes_cap, scopes_n;
    uint8_t *kvbuf;               /* attribute lists encoded by the size pass, in visit order */
    size_t kvbuf_cap, kvbuf_n, kvbuf_pos;
    bool bad;                     /* a size slot was missing (the batch changed under us), or
                                     a bug: bytes and size disagreed */
    bool oom;
    struct otel__gz *gz;          /* gzip state, made on first use */
    uint8_t *gzbuf;
    size_t gzcap;
};

static void otel__pb_write_anyvalue(otel__pb *b, const otel_value *v);

static size_t otel__pb_reserve(otel_otlp_encoder *e) {
    if (e->sizes_n >= e->sizes_cap) { e->bad = true; return 0; }
    return e->sizes_n++;
}
static void otel__pb_set(otel_otlp_encoder *e, size_t slot, size_t n) {
    if (!e->bad) e->sizes[slot] = (uint32_t)n;
}
static size_t otel__pb_take(otel_otlp_encoder *e) {
    if (e->sizes_pos >= e->sizes_n) { e->bad = true; return 0; }
    return e->sizes[e->sizes_pos++];
}

/* Array elements are read with memcpy: packed values need not be aligned. */
static int64_t otel__otlp_arr_int(const otel_value *v, size_t i) {
    int64_t x;
    memcpy(&x, (const char *)v->u.ia + i * sizeof x, sizeof x);
    return x;
}
static double otel__otlp_arr_double(const otel_value *v, size_t i) {
    double x;
    memcpy(&x, (const char *)v->u.da + i * sizeof x, sizeof x);
    return x;
}
static bool otel__otlp_arr_bool(const otel_value *v, size_t i) {
    return ((const unsigned char *)v->u.ba)[i] != 0;
}

/* AnyValue bodies. An element of an ArrayValue is a LEN field (values = 1) holding one. */
static size_t otel__pb_size_string_any(size_t len) {
    return otel__pb_len_field_size(OTEL__PB_ANY_STRING, len);
}
static size_t otel__pb_size_int_any(int64_t i) {
    return otel__pb_varint_field_size(OTEL__PB_ANY_INT, (uint64_t)i);
}
static size_t otel__pb_size_array(const otel_value *v) {
    size_t n = 0, i;
    switch (v->type) {
    case OTEL_VALUE_STRING_ARRAY:
        for (i = 0; i < v->len; i++)
            n += otel__pb_len_field_size(OTEL__PB_ARRAY_VALUES,
                                         otel__pb_size_string_any(otel_value_str_at(v, i).len));
        break;
    case OTEL_VALUE_BOOL_ARRAY: /* {values: {bool_value: b}} = 1+1+(1+1) */
        n = v->len * otel__pb_len_field_size(OTEL__PB_ARRAY_VALUES, 2);
        break;
    case OTEL_VALUE_INT_ARRAY:
        for (i = 0; i < v->len; i++)
            n += otel__pb_len_field_size(OTEL__PB_ARRAY_VALUES, otel__pb_size_int_any(otel__otlp_arr_int(v, i)));
        break;
    case OTEL_VALUE_DOUBLE_ARRAY: /* {values: {double_value: d}} = 1+1+(1+8) */
        n = v->len * otel__pb_len_field_size(OTEL__PB_ARRAY_VALUES, 9);
        break;
    default: break;
    }
    return n;
}
static inline size_t otel__pb_size_anyvalue(const otel_value *v) {
    switch (v->type) {
    case OTEL_VALUE_STRING: return otel__pb_size_string_any(v->len);
    case OTEL_VALUE_BOOL: return 2;
    case OTEL_VALUE_INT: return otel__pb_size_int_any(v->u.i);
    case OTEL_VALUE_DOUBLE: return 9;
    case OTEL_VALUE_STRING_ARRAY:
    case OTEL_VALUE_BOOL_ARRAY:
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY: return otel__pb_len_field_size(OTEL__PB_ANY_ARRAY, otel__pb_size_array(v));
    default: return 0; /* NONE: an empty AnyValue */
    }
}
static size_t otel__pb_size_kv(const otel_attr *a) {
    return otel__pb_len_field_size(OTEL__PB_KV_KEY, a->key.len) +
           otel__pb_len_field_size(OTEL__PB_KV_VALUE, otel__pb_size_anyvalue(&a->value));
}
/* Room for `n` more bytes after the `used` ones of a growing buffer, keeping them.
   False (and e->oom): out of memory. */
static bool otel__pb_buf_room(otel_otlp_encoder *e, uint8_t **buf, size_t *cap, size_t used, size_t n) {
    size_t c = *cap ? *cap : 4096;
    uint8_t *p;
    while (c - used < n) {
        if (c > SIZE_MAX / 2) { e->oom = true; return false; }
        c *= 2;
    }
    p = (uint8_t *)OTEL_MALLOC(c, NULL);
    if (!p) { e->oom = true; return false; }
    if (used) memcpy(p, *buf, used);
    OTEL_FREE(*buf, NULL);
    *buf = p;
    *cap = c;
    return true;
}
/* Appends `a` as a whole KeyValue field (tag `field`, length, key, AnyValue) to a growing
   buffer (`*len` bytes used) and returns the field's bytes (0 and e->oom when out of
   memory). The exact size is known first, so one room check covers the whole field and
   scalars are stored unchecked; arrays go through the checked writer, bounded to the
   field. */
OTEL__PB_INLINE size_t otel__pb_append_kv(otel_otlp_encoder *e, uint8_t **buf, size_t *cap, size_t *len,
                                          uint32_t field, const otel_attr *a) {
    const otel_value *v = &a->value;
    size_t vs = otel__pb_size_anyvalue(v),
           ks = otel__pb_len_field_size(OTEL__PB_KV_KEY, a->key.len) + otel__pb_len_field_size(OTEL__PB_KV_VALUE, vs),
           n = otel__pb_len_field_size(field, ks);
    uint8_t *p, *end;
    uint64_t bits;
    if (*cap - *len < n && !otel__pb_buf_room(e, buf, cap, *len, n)) return 0;
    p = *buf + *len;
    end = p + n;
    p = otel__pb_put_varint(p, OTEL__PB_TAG(field, OTEL__PB_LEN));
    if (ks < 0x80) { /* most: ks > key length + vs, so those take one byte each too */
        *p++ = (uint8_t)ks;
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_KV_KEY, OTEL__PB_LEN);
        *p++ = (uint8_t)a->key.len;
        p = otel__pb_put_bytes(p, a->key.ptr, a->key.len);
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_KV_VALUE, OTEL__PB_LEN);
        *p++ = (uint8_t)vs;
    } else {
        p = otel__pb_put_varint(p, ks);
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_KV_KEY, OTEL__PB_LEN);
        p = otel__pb_put_varint(p, a->key.len);
        p = otel__pb_put_bytes(p, a->key.ptr, a->key.len);
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_KV_VALUE, OTEL__PB_LEN);
        p = otel__pb_put_varint(p, vs);
    }
    switch (v->type) {
    case OTEL_VALUE_STRING:
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_ANY_STRING, OTEL__PB_LEN);
        p = otel__pb_put_varint(p, v->len);
        p = otel__pb_put_bytes(p, v->u.s, v->len);
        break;
    case OTEL_VALUE_BOOL:
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_ANY_BOOL, OTEL__PB_VARINT);
        *p++ = v->u.b ? 1 : 0;
        break;
    case OTEL_VALUE_INT:
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_ANY_INT, OTEL__PB_VARINT);
        p = otel__pb_put_varint(p, (uint64_t)v->u.i);
        break;
    case OTEL_VALUE_DOUBLE:
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_ANY_DOUBLE, OTEL__PB_I64);
        memcpy(&bits, &v->u.d, 8);
        p = otel__pb_put_fixed64(p, bits);
        break;
    case OTEL_VALUE_NONE: break; /* an empty AnyValue */
    default: {
        otel__pb b;
        b.p = p;
        b.end = end;
        b.overflow = false;
        otel__pb_write_anyvalue(&b, v);
        if (b.overflow) e->bad = true;
        p = b.p;
    }
    }
    if (p != end) e->bad = true; /* size and bytes disagree: a bug, reported as such */
    *len += n;
    return n;
}
/* A list of attributes: encodes each into kvbuf (see the top of this section), records
   and returns the list's bytes. */
static size_t otel__pb_size_attrs(otel_otlp_encoder *e, otel_iter it, uint32_t field) {
    size_t slot = otel__pb_reserve(e), n = 0;
    otel_attr a;
    while (otel_iter_attr(&it, &a)) n += otel__pb_append_kv(e, &e->kvbuf, &e->kvbuf_cap, &e->kvbuf_n, field, &a);
    otel__pb_set(e, slot, n);
    return n;
}
static size_t otel__pb_size_scope(const otel_scope *sc) {
    size_t n = 0;
    if (!sc) return 0;
    if (sc->name.len) n += otel__pb_len_field_size(OTEL__PB_SCOPE_NAME, sc->name.len);
    if (sc->version.len) n += otel__pb_len_field_size(OTEL__PB_SCOPE_VERSION, sc->version.len);
    return n;
}
static size_t otel__pb_size_resource(const otel_resource *r) {
    size_t n = 0, i;
    if (!r) return 0;
    for (i = 0; i < r->count; i++) n += otel__pb_len_field_size(OTEL__PB_RES_ATTRIBUTES, otel__pb_size_kv(&r->attrs[i]));
    if (r->dropped) n += otel__pb_varint_field_size(OTEL__PB_RES_DROPPED, r->dropped);
    return n;
}
static bool otel__pb_has_resource(const otel_resource *r) {
    return r && (r->count || r->dropped);
}

/* ---- metrics and logs: a size pass records, the write pass takes back ---------------- */

/* An attribute array (metric points): like otel__pb_size_attrs. */
static size_t otel__pb_size_attr_array(otel_otlp_encoder *e, const otel_attr *attrs, size_t count, uint32_t field) {
    size_t slot = otel__pb_reserve(e), n = 0, i;
    for (i = 0; i < count; i++) n += otel__pb_append_kv(e, &e->kvbuf, &e->kvbuf_cap, &e->kvbuf_n, field, &attrs[i]);
    otel__pb_set(e, slot, n);
    return n;
}
/* The metric's data message (Gauge, Sum or Histogram) for its type; 0 for an unknown type. */
static uint32_t otel__pb_metric_field(const otel_metric_data *m) {
    switch (m->type) {
    case OTEL_METRIC_SUM: return OTEL__PB_METRIC_SUM;
    case OTEL_METRIC_GAUGE: return OTEL__PB_METRIC_GAUGE;
    case OTEL_METRIC_HISTOGRAM: return OTEL__PB_METRIC_HISTOGRAM;
    default: return 0;
    }
}
/* NumberDataPoint: the value is a oneof, so it is written even when 0. */
static size_t otel__pb_size_number_point(otel_otlp_encoder *e, const otel_metric_point *p) {
    size_t n = 1 + 8;
    if (p->start_time_ns) n += 1 + 8;
    if (p->time_ns) n += 1 + 8;
    if (p->attr_count) n += otel__pb_size_attr_array(e, p->attrs, p->attr_count, OTEL__PB_NDP_ATTRIBUTES);
    return n;
}
/* HistogramDataPoint: sum always (optional: present), min and max when count > 0. */
static size_t otel__pb_size_histogram_point(otel_otlp_encoder *e, const otel_metric_data *m, const otel_metric_point *p) {
    size_t n = 1 + 8;
    if (p->start_time_ns) n += 1 + 8;
    if (p->time_ns) n += 1 + 8;
    if (p->count) n += 1 + 8;
    if (p->bucket_count) n += otel__pb_len_field_size(OTEL__PB_HDP_BUCKET_COUNTS, 8 * p->bucket_count);
    if (m->boundary_count) n += otel__pb_len_field_size(OTEL__PB_HDP_EXPLICIT_BOUNDS, 8 * m->boundary_count);
    if (p->attr_count) n += otel__pb_size_attr_array(e, p->attrs, p->attr_count, OTEL__PB_HDP_ATTRIBUTES);
    if (p->count) n += 2 * (1 + 8);
    return n;
}
/* Records the Metric's length, its data message's, then each point's (and attribute count). */
static size_t otel__pb_size_metric(otel_otlp_encoder *e, const otel_metric_data *m) {
    size_t slot = otel__pb_reserve(e), dslot = otel__pb_reserve(e), n = 0, d = 0, i;
    uint32_t field = otel__pb_metric_field(m);
    if (m->name.len) n += otel__pb_len_field_size(OTEL__PB_METRIC_NAME, m->name.len);
    if (m->description.len) n += otel__pb_len_field_size(OTEL__PB_METRIC_DESCRIPTION, m->description.len);
    if (m->unit.len) n += otel__pb_len_field_size(OTEL__PB_METRIC_UNIT, m->unit.len);
    for (i = 0; i < m->point_count; i++) {
        size_t ps = otel__pb_reserve(e), k;
        k = field == OTEL__PB_METRIC_HISTOGRAM ? otel__pb_size_histogram_point(e, m, &m->points[i])
                                               : otel__pb_size_number_point(e, &m->points[i]);
        otel__pb_set(e, ps, k);
        d += otel__pb_len_field_size(OTEL__PB_DATA_POINTS, k);
    }
    if (field != OTEL__PB_METRIC_GAUGE && m->temporality)
        d += otel__pb_varint_field_size(OTEL__PB_DATA_TEMPORALITY, (uint64_t)m->temporality);
    if (field == OTEL__PB_METRIC_SUM && m->monotonic) d += 2;
    n += otel__pb_len_field_size(field, d);
    otel__pb_set(e, dslot, d);
    otel__pb_set(e, slot, n);
    return n;
}

/* A log record's attributes (otel.h's [log] section hands them out with otel_log_attrs;
   until that section defines OTEL__HAVE_LOG_ATTRS, read the record's item stream, which
   is what it returns). */
static otel_iter otel__pb_log_attrs(const otel_log_data *r) {
#ifdef OTEL__HAVE_LOG_ATTRS
    return otel_log_attrs(r);
#else
    otel_iter it;
    it.p = r->otel__items;
    it.end = it.p ? it.p + r->otel__items_len : NULL;
    return it;
#endif
}
static bool otel__pb_id_set(const uint8_t *id, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (id[i]) return true;
    return false;
}
/* Records the LogRecord's length (and its attribute count). */
static size_t otel__pb_size_log(otel_otlp_encoder *e, const otel_log_data *r) {
    size_t slot = otel__pb_reserve(e), n = 0;
    if (r->time_ns) n += 1 + 8;
    if (r->severity) n += otel__pb_varint_field_size(OTEL__PB_LOG_SEVERITY_NUMBER, r->severity);
    if (r->severity_text.len) n += otel__pb_len_field_size(OTEL__PB_LOG_SEVERITY_TEXT, r->severity_text.len);
    if (r->body.type != OTEL_VALUE_NONE) n += otel__pb_len_field_size(OTEL__PB_LOG_BODY, otel__pb_size_anyvalue(&r->body));
    if (r->attr_count) n += otel__pb_size_attrs(e, otel__pb_log_attrs(r), OTEL__PB_LOG_ATTRIBUTES);
    if (r->dropped_attrs) n += otel__pb_varint_field_size(OTEL__PB_LOG_DROPPED_ATTRIBUTES, r->dropped_attrs);
    if (r->trace_flags) n += 1 + 4;
    if (otel__pb_id_set(r->trace_id, 16)) n += otel__pb_len_field_size(OTEL__PB_LOG_TRACE_ID, 16);
    if (otel__pb_id_set(r->span_id, 8)) n += otel__pb_len_field_size(OTEL__PB_LOG_SPAN_ID, 8);
    if (r->observed_time_ns) n += 1 + 8;
    if (r->event_name.len) n += otel__pb_len_field_size(OTEL__PB_LOG_EVENT_NAME, r->event_name.len);
    otel__pb_set(e, slot, n);
    return n;
}

/* ==== [write] ===================================================================== */

static void otel__pb_write_array(otel__pb *b, const otel_value *v) {
    size_t i;
    switch (v->type) {
    case OTEL_VALUE_STRING_ARRAY:
        for (i = 0; i < v->len; i++) {
            otel_str s = otel_value_str_at(v, i);
            otel__pb_field_len(b, OTEL__PB_ARRAY_VALUES, otel__pb_size_string_any(s.len));
            otel__pb_field_bytes(b, OTEL__PB_ANY_STRING, s.ptr, s.len);
        }
        break;
    case OTEL_VALUE_BOOL_ARRAY:
        for (i = 0; i < v->len; i++) {
            otel__pb_field_len(b, OTEL__PB_ARRAY_VALUES, 2);
            otel__pb_field_varint(b, OTEL__PB_ANY_BOOL, otel__otlp_arr_bool(v, i));
        }
        break;
    case OTEL_VALUE_INT_ARRAY:
        for (i = 0; i < v->len; i++) {
            int64_t x = otel__otlp_arr_int(v, i);
            otel__pb_field_len(b, OTEL__PB_ARRAY_VALUES, otel__pb_size_int_any(x));
            otel__pb_field_varint(b, OTEL__PB_ANY_INT, (uint64_t)x);
        }
        break;
    case OTEL_VALUE_DOUBLE_ARRAY:
        for (i = 0; i < v->len; i++) {
            otel__pb_field_len(b, OTEL__PB_ARRAY_VALUES, 9);
            otel__pb_field_double(b, OTEL__PB_ANY_DOUBLE, otel__otlp_arr_double(v, i));
        }
        break;
    default: break;
    }
}
static void otel__pb_write_anyvalue(otel__pb *b, const otel_value *v) {
    switch (v->type) {
    case OTEL_VALUE_STRING: otel__pb_field_bytes(b, OTEL__PB_ANY_STRING, v->u.s, v->len); break;
    case OTEL_VALUE_BOOL: otel__pb_field_varint(b, OTEL__PB_ANY_BOOL, v->u.b ? 1 : 0); break;
    case OTEL_VALUE_INT: otel__pb_field_varint(b, OTEL__PB_ANY_INT, (uint64_t)v->u.i); break;
    case OTEL_VALUE_DOUBLE: otel__pb_field_double(b, OTEL__PB_ANY_DOUBLE, v->u.d); break;
    case OTEL_VALUE_STRING_ARRAY:
    case OTEL_VALUE_BOOL_ARRAY:
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY:
        otel__pb_field_len(b, OTEL__PB_ANY_ARRAY, otel__pb_size_array(v));
        otel__pb_write_array(b, v);
        break;
    default: break;
    }
}
static void otel__pb_write_kv(otel__pb *b, uint32_t field, const otel_attr *a) {
    otel__pb_field_len(b, field, otel__pb_size_kv(a));
    otel__pb_field_bytes(b, OTEL__PB_KV_KEY, a->key.ptr, a->key.len);
    otel__pb_field_len(b, OTEL__PB_KV_VALUE, otel__pb_size_anyvalue(&a->value));
    otel__pb_write_anyvalue(b, &a->value);
}
/* Copies the next attribute list that the size pass encoded. */
static void otel__pb_write_attrs(otel_otlp_encoder *e, otel__pb *b) {
    size_t n = otel__pb_take(e);
    if (n > e->kvbuf_n - e->kvbuf_pos) { e->bad = true; return; }
    otel__pb_raw(b, e->kvbuf + e->kvbuf_pos, n);
    e->kvbuf_pos += n;
}
static void otel__pb_write_scope(otel__pb *b, const otel_scope *sc) {
    if (!sc) return;
    if (sc->name.len) otel__pb_field_bytes(b, OTEL__PB_SCOPE_NAME, sc->name.ptr, sc->name.len);
    if (sc->version.len) otel__pb_field_bytes(b, OTEL__PB_SCOPE_VERSION, sc->version.ptr, sc->version.len);
}
static void otel__pb_write_resource(otel__pb *b, const otel_resource *r) {
    size_t i;
    for (i = 0; i < r->count; i++) otel__pb_write_kv(b, OTEL__PB_RES_ATTRIBUTES, &r->attrs[i]);
    if (r->dropped) otel__pb_field_varint(b, OTEL__PB_RES_DROPPED, r->dropped);
}

/* ---- spans: one forward pass ------------------------------------------------------- */

/* Spans are written once, front to back, straight into the request buffer, which grows
   as needed (STYLE 9, option 4); each attribute is read once (otel_iter_attr costs more
   than encoding it). A submessage whose length is known only after its bytes (the
   ResourceSpans, a scope group, a span, an event, a link) gets a slot of a guessed width
   for its length varint (otel__pb_open). Once its bytes are written, otel__pb_close
   stores the length; when the varint needs another width, it moves the bytes first. So
   every length is the minimal varint, and the output is byte for byte what a size pass
   and a write pass would give; the guess only decides whether bytes move. The guesses
   come from the bytes per span of the previous batch: a span of 128 B to 16 KiB has a
   2-byte length, a batch of 16 KiB to 2 MiB a 3-byte one, so moves are rare. */

/* Room for `n` more bytes at the end of the request (e->len bytes so far): where they
   start, NULL (and e->oom) when out of memory. */
OTEL__PB_INLINE uint8_t *otel__pb_out(otel_otlp_encoder *e, size_t n) {
    if (e->cap - e->len < n && !otel__pb_buf_room(e, &e->buf, &e->cap, e->len, n)) return NULL;
    return e->buf + e->len;
}
/* Starts a LEN field: its tag, then `w` bytes for its length. Returns the length's offset. */
OTEL__PB_INLINE size_t otel__pb_open(otel_otlp_encoder *e, uint32_t field, size_t w) {
    uint8_t *p = otel__pb_out(e, otel__pb_tag_size(field) + w);
    if (!p) return 0;
    p = otel__pb_put_varint(p, OTEL__PB_TAG(field, OTEL__PB_LEN));
    e->len = (size_t)(p - e->buf) + w;
    return (size_t)(p - e->buf);
}
/* Ends the field whose `w`-byte length slot is at `at`: the bytes after the slot are its
   payload. Moves them when their length's varint is not `w` bytes wide. */
static void otel__pb_close_moving(otel_otlp_encoder *e, size_t at, size_t w, size_t n, size_t need) {
    if (need > w && !otel__pb_out(e, need - w)) return;
    memmove(e->buf + at + need, e->buf + at + w, n);
    e->len = e->len - w + need;
    otel__pb_put_varint(e->buf + at, n);
}
OTEL__PB_INLINE void otel__pb_close(otel_otlp_encoder *e, size_t at, size_t w) {
    size_t n, need;
    if (e->oom) return; /* `at` may be stale; the encode fails anyway */
    n = e->len - at - w;
    need = otel__pb_varint_size(n);
    if (need != w) otel__pb_close_moving(e, at, w, n, need);
    else otel__pb_put_varint(e->buf + at, n);
}
static void otel__pb_out_varint_field(otel_otlp_encoder *e, uint32_t field, uint64_t v) {
    uint8_t *p = otel__pb_out(e, otel__pb_varint_field_size(field, v));
    if (!p) return;
    p = otel__pb_put_varint(p, OTEL__PB_TAG(field, OTEL__PB_VARINT));
    e->len = (size_t)(otel__pb_put_varint(p, v) - e->buf);
}
static void otel__pb_out_bytes_field(otel_otlp_encoder *e, uint32_t field, const void *src, size_t n) {
    uint8_t *p = otel__pb_out(e, otel__pb_len_field_size(field, n));
    if (!p) return;
    p = otel__pb_put_varint(p, OTEL__PB_TAG(field, OTEL__PB_LEN));
    p = otel__pb_put_varint(p, n);
    e->len = (size_t)(otel__pb_put_bytes(p, src, n) - e->buf);
}
OTEL__PB_INLINE void otel__pb_out_fixed32_field(otel_otlp_encoder *e, uint32_t field, uint32_t v) {
    uint8_t *p = otel__pb_out(e, otel__pb_tag_size(field) + 4);
    if (!p) return;
    p = otel__pb_put_varint(p, OTEL__PB_TAG(field, OTEL__PB_I32));
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
    e->len = (size_t)(p + 4 - e->buf);
}
static void otel__pb_out_attrs(otel_otlp_encoder *e, otel_iter it, uint32_t field) {
    otel_attr a;
    while (otel_iter_attr(&it, &a)) otel__pb_append_kv(e, &e->buf, &e->cap, &e->len, field, &a);
}
/* The resource `r` or else the scope `sc` (once a batch or group; sized first, so no
   slot): the checked writer over exactly its room. */
static void otel__pb_out_sized(otel_otlp_encoder *e, uint32_t field, const otel_resource *r, const otel_scope *sc) {
    size_t n = r ? otel__pb_size_resource(r) : otel__pb_size_scope(sc), all = otel__pb_len_field_size(field, n);
    uint8_t *p = otel__pb_out(e, all);
    otel__pb b;
    if (!p) return;
    b.p = p;
    b.end = p + all;
    b.overflow = false;
    otel__pb_field_len(&b, field, n);
    if (r) otel__pb_write_resource(&b, r);
    else otel__pb_write_scope(&b, sc);
    if (b.overflow || b.p != b.end) e->bad = true;
    e->len += all;
}
static void otel__pb_out_event(otel_otlp_encoder *e, const otel_event_data *ev) {
    size_t at = otel__pb_open(e, OTEL__PB_SPAN_EVENTS, 1); /* most events are under 128 B */
    uint8_t *p;
    if (ev->time_ns && (p = otel__pb_out(e, 1 + 8)) != NULL) {
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_EVENT_TIME, OTEL__PB_I64);
        e->len = (size_t)(otel__pb_put_fixed64(p, ev->time_ns) - e->buf);
    }
    if (ev->name.len) otel__pb_out_bytes_field(e, OTEL__PB_EVENT_NAME, ev->name.ptr, ev->name.len);
    if (ev->attr_count) otel__pb_out_attrs(e, ev->attrs, OTEL__PB_EVENT_ATTRIBUTES);
    if (ev->dropped_attrs) otel__pb_out_varint_field(e, OTEL__PB_EVENT_DROPPED_ATTRIBUTES, ev->dropped_attrs);
    otel__pb_close(e, at, 1);
}
static void otel__pb_out_link(otel_otlp_encoder *e, const otel_link_data *l) {
    size_t at = otel__pb_open(e, OTEL__PB_SPAN_LINKS, 1);
    otel__pb_out_bytes_field(e, OTEL__PB_LINK_TRACE_ID, l->trace_id, 16);
    otel__pb_out_bytes_field(e, OTEL__PB_LINK_SPAN_ID, l->span_id, 8);
    if (l->trace_state.len) otel__pb_out_bytes_field(e, OTEL__PB_LINK_TRACE_STATE, l->trace_state.ptr, l->trace_state.len);
    if (l->attr_count) otel__pb_out_attrs(e, l->attrs, OTEL__PB_LINK_ATTRIBUTES);
    if (l->dropped_attrs) otel__pb_out_varint_field(e, OTEL__PB_LINK_DROPPED_ATTRIBUTES, l->dropped_attrs);
    otel__pb_out_fixed32_field(e, OTEL__PB_LINK_FLAGS, l->trace_flags | OTEL__PB_FLAGS_HAS_IS_REMOTE |
                                                           (l->is_remote ? OTEL__PB_FLAGS_IS_REMOTE : 0));
    otel__pb_close(e, at, 1);
}
/* The bytes of a span's fields before its attributes (otel__pb_put_span_head). */
OTEL__PB_INLINE size_t otel__pb_size_span_head(const otel_span_data *s) {
    size_t n = otel__pb_len_field_size(OTEL__PB_SPAN_TRACE_ID, 16) + otel__pb_len_field_size(OTEL__PB_SPAN_SPAN_ID, 8);
    if (s->trace_state.len) n += otel__pb_len_field_size(OTEL__PB_SPAN_TRACE_STATE, s->trace_state.len);
    if (s->has_parent) n += otel__pb_len_field_size(OTEL__PB_SPAN_PARENT_SPAN_ID, 8);
    if (s->name.len) n += otel__pb_len_field_size(OTEL__PB_SPAN_NAME, s->name.len);
    if (s->kind) n += otel__pb_varint_field_size(OTEL__PB_SPAN_KIND, s->kind);
    if (s->start_time_ns) n += 1 + 8;
    if (s->end_time_ns) n += 1 + 8;
    return n;
}
/* Writes them, unchecked: the caller made room for otel__pb_size_span_head(s) bytes. */
OTEL__PB_INLINE uint8_t *otel__pb_put_span_head(uint8_t *p, const otel_span_data *s) {
    *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_SPAN_TRACE_ID, OTEL__PB_LEN);
    *p++ = 16;
    memcpy(p, s->trace_id, 16); /* ids: fixed sizes, one copy each */
    p += 16;
    *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_SPAN_SPAN_ID, OTEL__PB_LEN);
    *p++ = 8;
    memcpy(p, s->span_id, 8);
    p += 8;
    if (s->trace_state.len) {
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_SPAN_TRACE_STATE, OTEL__PB_LEN);
        p = otel__pb_put_varint(p, s->trace_state.len);
        p = otel__pb_put_bytes(p, s->trace_state.ptr, s->trace_state.len);
    }
    if (s->has_parent) {
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_SPAN_PARENT_SPAN_ID, OTEL__PB_LEN);
        *p++ = 8;
        memcpy(p, s->parent_span_id, 8);
        p += 8;
    }
    if (s->name.len) {
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_SPAN_NAME, OTEL__PB_LEN);
        p = otel__pb_put_varint(p, s->name.len);
        p = otel__pb_put_bytes(p, s->name.ptr, s->name.len);
    }
    if (s->kind) {
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_SPAN_KIND, OTEL__PB_VARINT);
        p = otel__pb_put_varint(p, s->kind);
    }
    if (s->start_time_ns) {
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_SPAN_START_TIME, OTEL__PB_I64);
        p = otel__pb_put_fixed64(p, s->start_time_ns);
    }
    if (s->end_time_ns) {
        *p++ = (uint8_t)OTEL__PB_TAG(OTEL__PB_SPAN_END_TIME, OTEL__PB_I64);
        p = otel__pb_put_fixed64(p, s->end_time_ns);
    }
    return p;
}
static size_t otel__pb_size_status(const otel_span_data *s) {
    size_t n = 0;
    if (s->status_message.len) n += otel__pb_len_field_size(OTEL__PB_STATUS_MESSAGE, s->status_message.len);
    if (s->status_code) n += otel__pb_varint_field_size(OTEL__PB_STATUS_CODE, s->status_code);
    return n;
}
static bool otel__pb_has_status(const otel_span_data *s) {
    return s->status_code != OTEL_STATUS_UNSET || s->status_message.len > 0;
}
/* A span as a ScopeSpans.spans field; `w`: the guessed width of its length. */
static void otel__pb_out_span(otel_otlp_encoder *e, const otel_span_data *s, size_t w) {
    size_t at = otel__pb_open(e, OTEL__PB_SS_SPANS, w);
    uint8_t *p = otel__pb_out(e, otel__pb_size_span_head(s));
    otel_iter it;
    otel_event_data ev;
    otel_link_data l;
    if (!p) return;
    e->len = (size_t)(otel__pb_put_span_head(p, s) - e->buf);
    if (s->attr_count) otel__pb_out_attrs(e, otel_span_attrs(s), OTEL__PB_SPAN_ATTRIBUTES);
    if (s->dropped_attrs) otel__pb_out_varint_field(e, OTEL__PB_SPAN_DROPPED_ATTRIBUTES, s->dropped_attrs);
    if (s->event_count) {
        it = otel_span_events(s);
        while (otel_iter_event(&it, &ev)) otel__pb_out_event(e, &ev);
    }
    if (s->dropped_events) otel__pb_out_varint_field(e, OTEL__PB_SPAN_DROPPED_EVENTS, s->dropped_events);
    if (s->link_count) {
        it = otel_span_links(s);
        while (otel_iter_link(&it, &l)) otel__pb_out_link(e, &l);
    }
    if (s->dropped_links) otel__pb_out_varint_field(e, OTEL__PB_SPAN_DROPPED_LINKS, s->dropped_links);
    if (otel__pb_has_status(s)) { /* its length is known: the slot is exactly as wide */
        size_t sw = otel__pb_varint_size(otel__pb_size_status(s)), sat = otel__pb_open(e, OTEL__PB_SPAN_STATUS, sw);
        if (s->status_message.len)
            otel__pb_out_bytes_field(e, OTEL__PB_STATUS_MESSAGE, s->status_message.ptr, s->status_message.len);
        if (s->status_code) otel__pb_out_varint_field(e, OTEL__PB_STATUS_CODE, s->status_code);
        otel__pb_close(e, sat, sw);
    }
    otel__pb_out_fixed32_field(e, OTEL__PB_SPAN_FLAGS, s->trace_flags | OTEL__PB_FLAGS_HAS_IS_REMOTE |
                                                           (s->parent_is_remote ? OTEL__PB_FLAGS_IS_REMOTE : 0));
    otel__pb_close(e, at, w);
}

/* ---- metrics and logs ---------------------------------------------------------------- */

static void otel__pb_write_number_point(otel_otlp_encoder *e, otel__pb *b, const otel_metric_data *m,
                                        const otel_metric_point *p) {
    if (p->start_time_ns) otel__pb_field_fixed64(b, OTEL__PB_NDP_START_TIME, p->start_time_ns);
    if (p->time_ns) otel__pb_field_fixed64(b, OTEL__PB_NDP_TIME, p->time_ns);
    if (m->number_type == OTEL_NUMBER_DOUBLE) otel__pb_field_double(b, OTEL__PB_NDP_AS_DOUBLE, p->value.d);
    else otel__pb_field_fixed64(b, OTEL__PB_NDP_AS_INT, (uint64_t)p->value.i); /* sfixed64 */
    if (p->attr_count) otel__pb_write_attrs(e, b);
}
static void otel__pb_write_histogram_point(otel_otlp_encoder *e, otel__pb *b, const otel_metric_data *m,
                                           const otel_metric_point *p) {
    size_t i;
    if (p->start_time_ns) otel__pb_field_fixed64(b, OTEL__PB_HDP_START_TIME, p->start_time_ns);
    if (p->time_ns) otel__pb_field_fixed64(b, OTEL__PB_HDP_TIME, p->time_ns);
    if (p->count) otel__pb_field_fixed64(b, OTEL__PB_HDP_COUNT, p->count);
    otel__pb_field_double(b, OTEL__PB_HDP_SUM, p->sum);
    if (p->bucket_count) {
        otel__pb_field_len(b, OTEL__PB_HDP_BUCKET_COUNTS, 8 * p->bucket_count);
        for (i = 0; i < p->bucket_count; i++) {
            uint64_t c;
            memcpy(&c, p->bucket_counts + i, 8);
            otel__pb_fixed64(b, c);
        }
    }
    if (m->boundary_count) {
        otel__pb_field_len(b, OTEL__PB_HDP_EXPLICIT_BOUNDS, 8 * m->boundary_count);
        for (i = 0; i < m->boundary_count; i++) {
            uint64_t bits;
            memcpy(&bits, m->boundaries + i, 8);
            otel__pb_fixed64(b, bits);
        }
    }
    if (p->attr_count) otel__pb_write_attrs(e, b);
    if (p->count) {
        otel__pb_field_double(b, OTEL__PB_HDP_MIN, p->min);
        otel__pb_field_double(b, OTEL__PB_HDP_MAX, p->max);
    }
}
static void otel__pb_write_metric(otel_otlp_encoder *e, otel__pb *b, const otel_metric_data *m) {
    uint32_t field = otel__pb_metric_field(m);
    size_t i;
    otel__pb_field_len(b, OTEL__PB_SM_METRICS, otel__pb_take(e));
    if (m->name.len) otel__pb_field_bytes(b, OTEL__PB_METRIC_NAME, m->name.ptr, m->name.len);
    if (m->description.len) otel__pb_field_bytes(b, OTEL__PB_METRIC_DESCRIPTION, m->description.ptr, m->description.len);
    if (m->unit.len) otel__pb_field_bytes(b, OTEL__PB_METRIC_UNIT, m->unit.ptr, m->unit.len);
    otel__pb_field_len(b, field, otel__pb_take(e));
    for (i = 0; i < m->point_count; i++) {
        otel__pb_field_len(b, OTEL__PB_DATA_POINTS, otel__pb_take(e));
        if (field == OTEL__PB_METRIC_HISTOGRAM) otel__pb_write_histogram_point(e, b, m, &m->points[i]);
        else otel__pb_write_number_point(e, b, m, &m->points[i]);
    }
    if (field != OTEL__PB_METRIC_GAUGE && m->temporality)
        otel__pb_field_varint(b, OTEL__PB_DATA_TEMPORALITY, (uint64_t)m->temporality);
    if (field == OTEL__PB_METRIC_SUM && m->monotonic) otel__pb_field_varint(b, OTEL__PB_SUM_IS_MONOTONIC, 1);
}
static void otel__pb_write_log(otel_otlp_encoder *e, otel__pb *b, const otel_log_data *r) {
    otel__pb_field_len(b, OTEL__PB_SL_LOG_RECORDS, otel__pb_take(e));
    if (r->time_ns) otel__pb_field_fixed64(b, OTEL__PB_LOG_TIME, r->time_ns);
    if (r->severity) otel__pb_field_varint(b, OTEL__PB_LOG_SEVERITY_NUMBER, r->severity);
    if (r->severity_text.len) otel__pb_field_bytes(b, OTEL__PB_LOG_SEVERITY_TEXT, r->severity_text.ptr, r->severity_text.len);
    if (r->body.type != OTEL_VALUE_NONE) {
        otel__pb_field_len(b, OTEL__PB_LOG_BODY, otel__pb_size_anyvalue(&r->body));
        otel__pb_write_anyvalue(b, &r->body);
    }
    if (r->attr_count) otel__pb_write_attrs(e, b);
    if (r->dropped_attrs) otel__pb_field_varint(b, OTEL__PB_LOG_DROPPED_ATTRIBUTES, r->dropped_attrs);
    if (r->trace_flags) otel__pb_field_fixed32(b, OTEL__PB_LOG_FLAGS, r->trace_flags);
    if (otel__pb_id_set(r->trace_id, 16)) otel__pb_field_bytes(b, OTEL__PB_LOG_TRACE_ID, r->trace_id, 16);
    if (otel__pb_id_set(r->span_id, 8)) otel__pb_field_bytes(b, OTEL__PB_LOG_SPAN_ID, r->span_id, 8);
    if (r->observed_time_ns) otel__pb_field_fixed64(b, OTEL__PB_LOG_OBSERVED_TIME, r->observed_time_ns);
    if (r->event_name.len) otel__pb_field_bytes(b, OTEL__PB_LOG_EVENT_NAME, r->event_name.ptr, r->event_name.len);
}

/* ==== [request] =================================================================== */

static void *otel__otlp_grow(void *old, size_t *cap, size_t need, size_t elem) {
    size_t n = *cap ? *cap : 16;
    void *p;
    while (n < need) n *= 2;
    if (n > SIZE_MAX / elem) return NULL;
    p = OTEL_MALLOC(n * elem, NULL);
    if (!p) return NULL;
    OTEL_FREE(old, NULL);
    *cap = n;
    return p;
}

/* n bytes at a and b are equal. Scope names are short and compared once a span, so up to
   16 bytes go without a call: two loads that overlap in the middle, as otel__pb_put_bytes. */
static inline bool otel__otlp_bytes_same(const void *a, const void *b, size_t n) {
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    uint64_t u[2], v[2];
    if (n > 16 || n < 4) return n == 0 || !memcmp(x, y, n);
    if (n >= 8) {
        memcpy(&u[0], x, 8); memcpy(&u[1], x + n - 8, 8);
        memcpy(&v[0], y, 8); memcpy(&v[1], y + n - 8, 8);
    } else {
        uint32_t t;
        memcpy(&t, x, 4); u[0] = t; memcpy(&t, x + n - 4, 4); u[1] = t;
        memcpy(&t, y, 4); v[0] = t; memcpy(&t, y + n - 4, 4); v[1] = t;
    }
    return ((u[0] ^ v[0]) | (u[1] ^ v[1])) == 0;
}
static inline bool otel__otlp_scope_same(const otel_scope *a, const otel_scope *b) {
    if (a == b) return true;
    if (!a || !b) {
        const otel_scope *x = a ? a : b;
        return x->name.len == 0 && x->version.len == 0;
    }
    return a->name.len == b->name.len && a->version.len == b->version.len &&
           otel__otlp_bytes_same(a->name.ptr, b->name.ptr, a->name.len) &&
           otel__otlp_bytes_same(a->version.ptr, b->version.ptr, a->version.len);
}

/* Groups `n` items (spans or log records: each has its `const otel_scope *` at byte offset
   `scope_off`) by scope, stable, one group per distinct name+version, into e->order.
   False: out of memory. */
static bool otel__pb_group(otel_otlp_encoder *e, const void *const *items, size_t n, size_t scope_off) {
    size_t i, g = 0;
    const otel_scope *prev = NULL;
    if (n > e->spans_cap) {
        size_t c1 = e->spans_cap, c2 = e->spans_cap;
        uint32_t *o = (uint32_t *)otel__otlp_grow(e->order, &c1, n, sizeof *o);
        if (!o) return false;
        e->order = o;
        o = (uint32_t *)otel__otlp_grow(e->group, &c2, n, sizeof *o);
        if (!o) { e->spans_cap = 0; return false; }
        e->group = o;
        e->spans_cap = c1 < c2 ? c1 : c2;
    }
    e->scopes_n = 0;
    for (i = 0; i < n; i++) {
        const otel_scope *sc;
        memcpy((void *)&sc, (const char *)items[i] + scope_off, sizeof sc);
        /* Items come in runs of one scope: the previous item's group (g) is tried first,
           by pointer, then by content; the other groups only on a change. */
        if (i == 0 || (sc != prev && !otel__otlp_scope_same(e->scopes[g], sc))) {
            for (g = 0; g < e->scopes_n; g++)
                if (otel__otlp_scope_same(e->scopes[g], sc)) break;
            if (g == e->scopes_n) {
                if (g >= e->scopes_cap) {
                    size_t c = e->scopes_cap, c1 = e->scopes_cap, c2 = e->scopes_cap;
                    const otel_scope **sp = (const otel_scope **)otel__otlp_grow(NULL, &c, g + 1, sizeof *sp);
                    uint32_t *f = (uint32_t *)otel__otlp_grow(NULL, &c1, g + 1, sizeof *f);
                    uint32_t *k = (uint32_t *)otel__otlp_grow(NULL, &c2, g + 1, sizeof *k);
                    if (!sp || !f || !k) {
                        OTEL_FREE((void *)sp, NULL); OTEL_FREE(f, NULL); OTEL_FREE(k, NULL);
                        return false;
                    }
                    if (g) {
                        memcpy((void *)sp, (const void *)e->scopes, g * sizeof *sp);
                        memcpy(k, e->scope_count, g * sizeof *k);
                    }
                    OTEL_FREE((void *)e->scopes, NULL); OTEL_FREE(e->scope_first, NULL); OTEL_FREE(e->scope_count, NULL);
                    e->scopes = sp; e->scope_first = f; e->scope_count = k; e->scopes_cap = c;
                }
                e->scopes[g] = sc;
                e->scope_count[g] = 0;
                e->scopes_n++;
            }
        }
        prev = sc;
        e->group[i] = (uint32_t)g;
        e->scope_count[g]++;
    }
    for (g = 0, i = 0; g < e->scopes_n; g++) { e->scope_first[g] = (uint32_t)i; i += e->scope_count[g]; }
    for (i = 0; i < n; i++) e->order[e->scope_first[e->group[i]]++] = (uint32_t)i;
    for (g = 0; g < e->scopes_n; g++) e->scope_first[g] -= e->scope_count[g];
    return true;
}

/* Room for `slots` recorded sizes. False: out of memory. */
static bool otel__pb_slots(otel_otlp_encoder *e, size_t slots) {
    if (slots > e->sizes_cap) {
        uint32_t *p = (uint32_t *)otel__otlp_grow(e->sizes, &e->sizes_cap, slots, sizeof *p);
        if (!p) { e->sizes = NULL; e->sizes_cap = 0; return false; }
        e->sizes = p;
    }
    return true;
}

/* Encodes into e->buf (one forward pass, see [write]). Returns 0, 1 when the request is
   over `max` bytes (*out_len = its size; then not to be sent), -1 out of memory, -2 a bug
   (a size and its bytes disagreed). */
static int otel__otlp_encode(otel_otlp_encoder *e, const otel_span_batch *batch, size_t max,
                             size_t *out_len) {
    const otel_resource *res = batch->resource;
    size_t per_span = e->span_bytes ? e->span_bytes : 256, w_span, w_batch, rs, g, k;
    *out_len = 0;
    if (!otel__pb_group(e, (const void *const *)batch->spans, batch->count, offsetof(otel_span_data, scope)))
        return -1;
    e->bad = e->oom = false;
    e->len = 0;
    /* the guessed widths (3 and 2 bytes for typical batches and spans) */
    w_span = otel__pb_varint_size(per_span);
    w_batch = otel__pb_varint_size(per_span * batch->count + 64);
    rs = otel__pb_open(e, OTEL__PB_REQ_RESOURCE_SPANS, w_batch);
    if (otel__pb_has_resource(res)) otel__pb_out_sized(e, OTEL__PB_RS_RESOURCE, res, NULL);
    for (g = 0; g < e->scopes_n; g++) {
        size_t ss = otel__pb_open(e, OTEL__PB_RS_SCOPE_SPANS, w_batch);
        if (e->scopes[g]) otel__pb_out_sized(e, OTEL__PB_SS_SCOPE, NULL, e->scopes[g]);
        for (k = 0; k < e->scope_count[g]; k++)
            otel__pb_out_span(e, batch->spans[e->order[e->scope_first[g] + k]], w_span);
        otel__pb_close(e, ss, w_batch);
    }
    otel__pb_close(e, rs, w_batch);
    if (e->oom) return -1;
    if (e->bad) return -2;
    if (batch->count) e->span_bytes = e->len / batch->count;
    *out_len = e->len;
    if (e->len <= max) return 0;
    if (e->cap > max) { /* not to be sent: keep no buffer over the limit either */
        OTEL_FREE(e->buf, NULL);
        e->buf = NULL;
        e->cap = e->len = 0;
    }
    return 1;
}

/* Makes e->buf hold `total` bytes and starts a writer over it. False: out of memory. */
static bool otel__pb_begin(otel_otlp_encoder *e, size_t total, otel__pb *b) {
    if (total > e->cap) {
        uint8_t *p = (uint8_t *)otel__otlp_grow(e->buf, &e->cap, total, 1);
        if (!p) { e->buf = NULL; e->cap = 0; return false; }
        e->buf = p;
    }
    b->p = e->buf;
    b->end = e->buf + total;
    b->overflow = false;
    return true;
}
static void otel__pb_reset(otel_otlp_encoder *e) {
    e->bad = e->oom = false;
    e->sizes_n = e->sizes_pos = 0;
    e->kvbuf_n = e->kvbuf_pos = 0;
}

/* ExportMetricsServiceRequest: one ResourceMetrics, one ScopeMetrics per run of adjacent
   metrics with the same scope (the batch keeps a scope's metrics together). Metrics of an
   unknown type are left out. Returns as otel__otlp_encode. */
static int otel__otlp_encode_metrics(otel_otlp_encoder *e, const otel_metric_batch *batch, size_t max,
                                     size_t *out_len) {
    size_t rs_slot, rs, total, i, j, slots = 2;
    const otel_resource *res = batch->resource;
    otel__pb b;
    *out_len = 0;
    for (i = 0; i < batch->count; i++) slots += 3 + 2 * batch->metrics[i].point_count;
    if (!otel__pb_slots(e, slots)) return -1;
    otel__pb_reset(e);
    rs_slot = otel__pb_reserve(e);
    rs = otel__pb_has_resource(res) ? otel__pb_len_field_size(OTEL__PB_RM_RESOURCE, otel__pb_size_resource(res)) : 0;
    for (i = 0; i < batch->count; i = j) { /* [i, j): one scope */
        const otel_scope *sc = batch->metrics[i].scope;
        size_t ss_slot = otel__pb_reserve(e), ss = 0;
        if (sc) ss += otel__pb_len_field_size(OTEL__PB_SM_SCOPE, otel__pb_size_scope(sc));
        for (j = i; j < batch->count && otel__otlp_scope_same(batch->metrics[j].scope, sc); j++)
            if (otel__pb_metric_field(&batch->metrics[j]))
                ss += otel__pb_len_field_size(OTEL__PB_SM_METRICS, otel__pb_size_metric(e, &batch->metrics[j]));
        otel__pb_set(e, ss_slot, ss);
        rs += otel__pb_len_field_size(OTEL__PB_RM_SCOPE_METRICS, ss);
    }
    otel__pb_set(e, rs_slot, rs);
    total = otel__pb_len_field_size(OTEL__PB_MREQ_RESOURCE_METRICS, rs);
    if (e->oom) return -1;
    if (e->bad) return -2;
    *out_len = total;
    if (total > max) return 1;
    if (!otel__pb_begin(e, total, &b)) return -1;
    otel__pb_field_len(&b, OTEL__PB_MREQ_RESOURCE_METRICS, otel__pb_take(e));
    if (otel__pb_has_resource(res)) {
        otel__pb_field_len(&b, OTEL__PB_RM_RESOURCE, otel__pb_size_resource(res));
        otel__pb_write_resource(&b, res);
    }
    for (i = 0; i < batch->count; i = j) {
        const otel_scope *sc = batch->metrics[i].scope;
        otel__pb_field_len(&b, OTEL__PB_RM_SCOPE_METRICS, otel__pb_take(e));
        if (sc) {
            otel__pb_field_len(&b, OTEL__PB_SM_SCOPE, otel__pb_size_scope(sc));
            otel__pb_write_scope(&b, sc);
        }
        for (j = i; j < batch->count && otel__otlp_scope_same(batch->metrics[j].scope, sc); j++)
            if (otel__pb_metric_field(&batch->metrics[j])) otel__pb_write_metric(e, &b, &batch->metrics[j]);
    }
    if (b.overflow || e->bad || b.p != e->buf + total) return -2;
    return 0;
}

/* ExportLogsServiceRequest: one ResourceLogs, one ScopeLogs per distinct scope (records of
   several scopes may interleave in a batch). Returns as otel__otlp_encode. */
static int otel__otlp_encode_logs(otel_otlp_encoder *e, const otel_log_batch *batch, size_t max, size_t *out_len) {
    size_t rs_slot, rs, total, g, k;
    const otel_resource *res = batch->resource;
    otel__pb b;
    *out_len = 0;
    if (!otel__pb_group(e, (const void *const *)batch->records, batch->count, offsetof(otel_log_data, scope)) ||
        !otel__pb_slots(e, 2 + 2 * batch->count + e->scopes_n))
        return -1;
    otel__pb_reset(e);
    rs_slot = otel__pb_reserve(e);
    rs = otel__pb_has_resource(res) ? otel__pb_len_field_size(OTEL__PB_RL_RESOURCE, otel__pb_size_resource(res)) : 0;
    for (g = 0; g < e->scopes_n; g++) {
        size_t ss_slot = otel__pb_reserve(e), ss = 0;
        if (e->scopes[g]) ss += otel__pb_len_field_size(OTEL__PB_SL_SCOPE, otel__pb_size_scope(e->scopes[g]));
        for (k = 0; k < e->scope_count[g]; k++)
            ss += otel__pb_len_field_size(OTEL__PB_SL_LOG_RECORDS,
                                          otel__pb_size_log(e, batch->records[e->order[e->scope_first[g] + k]]));
        otel__pb_set(e, ss_slot, ss);
        rs += otel__pb_len_field_size(OTEL__PB_RL_SCOPE_LOGS, ss);
    }
    otel__pb_set(e, rs_slot, rs);
    total = otel__pb_len_field_size(OTEL__PB_LREQ_RESOURCE_LOGS, rs);
    if (e->oom) return -1;
    if (e->bad) return -2;
    *out_len = total;
    if (total > max) return 1;
    if (!otel__pb_begin(e, total, &b)) return -1;
    otel__pb_field_len(&b, OTEL__PB_LREQ_RESOURCE_LOGS, otel__pb_take(e));
    if (otel__pb_has_resource(res)) {
        otel__pb_field_len(&b, OTEL__PB_RL_RESOURCE, otel__pb_size_resource(res));
        otel__pb_write_resource(&b, res);
    }
    for (g = 0; g < e->scopes_n; g++) {
        otel__pb_field_len(&b, OTEL__PB_RL_SCOPE_LOGS, otel__pb_take(e));
        if (e->scopes[g]) {
            otel__pb_field_len(&b, OTEL__PB_SL_SCOPE, otel__pb_size_scope(e->scopes[g]));
            otel__pb_write_scope(&b, e->scopes[g]);
        }
        for (k = 0; k < e->scope_count[g]; k++)
            otel__pb_write_log(e, &b, batch->records[e->order[e->scope_first[g] + k]]);
    }
    if (b.overflow || e->bad || b.p != e->buf + total) return -2;
    return 0;
}

OTEL_API otel_otlp_encoder *otel_otlp_encoder_create(void) {
    otel_otlp_encoder *e = (otel_otlp_encoder *)OTEL_MALLOC(sizeof *e, NULL);
    if (e) memset(e, 0, sizeof *e);
    return e;
}

OTEL_API void otel_otlp_encoder_destroy(otel_otlp_encoder *e) {
    if (!e) return;
    OTEL_FREE(e->buf, NULL);
    OTEL_FREE(e->sizes, NULL);
    OTEL_FREE(e->kvbuf, NULL);
    OTEL_FREE(e->order, NULL);
    OTEL_FREE(e->group, NULL);
    OTEL_FREE((void *)e->scopes, NULL);
    OTEL_FREE(e->scope_first, NULL);
    OTEL_FREE(e->scope_count, NULL);
    OTEL_FREE(e->gz, NULL);
    OTEL_FREE(e->gzbuf, NULL);
    OTEL_FREE(e, NULL);
}

/* The public encoders' common ending: the result of an encode pass into e->buf. */
static otel_result otel__otlp_encode_done(otel_otlp_encoder *e, int r, size_t len, const uint8_t **out,
                                          size_t *out_len) {
    if (r == -1) return OTEL_ERR_NO_MEMORY;
    if (r != 0) return OTEL_ERR_INVALID_ARG;
    *out = e->buf;
    *out_len = len;
    return OTEL_OK;
}

OTEL_API otel_result otel_otlp_encode_spans(otel_otlp_encoder *e, const otel_span_batch *batch,
                                            const uint8_t **out, size_t *out_len) {
    size_t len = 0;
    int r;
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!e || !batch || !out || !out_len || (batch->count && !batch->spans)) return OTEL_ERR_INVALID_ARG;
    r = otel__otlp_encode(e, batch, SIZE_MAX, &len);
    return otel__otlp_encode_done(e, r, len, out, out_len);
}

OTEL_API otel_result otel_otlp_encode_metrics(otel_otlp_encoder *e, const otel_metric_batch *batch,
                                              const uint8_t **out, size_t *out_len) {
    size_t len = 0;
    int r;
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!e || !batch || !out || !out_len || (batch->count && !batch->metrics)) return OTEL_ERR_INVALID_ARG;
    r = otel__otlp_encode_metrics(e, batch, SIZE_MAX, &len);
    return otel__otlp_encode_done(e, r, len, out, out_len);
}

OTEL_API otel_result otel_otlp_encode_logs(otel_otlp_encoder *e, const otel_log_batch *batch,
                                           const uint8_t **out, size_t *out_len) {
    size_t len = 0;
    int r;
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!e || !batch || !out || !out_len || (batch->count && !batch->records)) return OTEL_ERR_INVALID_ARG;
    r = otel__otlp_encode_logs(e, batch, SIZE_MAX, &len);
    return otel__otlp_encode_done(e, r, len, out, out_len);
}

/* ==== [gzip] ====================================================================== */

/* A dependency-free deflate (RFC 1951) in a gzip (RFC 1952) wrapper. LZ77 over a 32 KiB
   window with a hash of 3 bytes and hash chains (greedy, at most OTEL__GZ_CHAIN
   candidates), then per block of up to OTEL__GZ_MAXSYM symbols the cheapest of a dynamic
   Huffman block, the fixed code, or stored blocks. OTLP batches repeat keys, ids and
   names, so greedy matching already gets most of the gain. */

#define OTEL__GZ_WSIZE 32768
#define OTEL__GZ_WMASK (OTEL__GZ_WSIZE - 1)
#define OTEL__GZ_HBITS 15
#define OTEL__GZ_HSIZE (1 << OTEL__GZ_HBITS)
#define OTEL__GZ_MAXSYM 16384 /* symbols per block */
#define OTEL__GZ_CHAIN 24     /* candidates tried per position */
#define OTEL__GZ_NICE 96      /* a match this long is taken at once */
#define OTEL__GZ_MINMATCH 3
#define OTEL__GZ_MAXMATCH 258

static const uint16_t otel__gz_len_base[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                               35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t otel__gz_len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                               3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t otel__gz_dist_base[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
                                                193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                                4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t otel__gz_dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                                6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
static const uint8_t otel__gz_clen_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

typedef struct otel__gz {
    int32_t head[OTEL__GZ_HSIZE];    /* last position with each hash, -1 none */
    int32_t prev[OTEL__GZ_WSIZE];    /* previous position with the same hash */
    uint16_t sym[OTEL__GZ_MAXSYM];   /* literal 0..255, or 256 + (match length - 3) */
    uint16_t dist[OTEL__GZ_MAXSYM];  /* match distance, 0 for a literal */
    uint32_t crc_table[256];
    uint8_t len_code[256];           /* match length - 3 -> length code 0..28 */
    uint8_t dist_code[512];          /* see otel__gz_dcode */
    uint32_t lfreq[286], dfreq[30];
    uint8_t llen[288], dlen[30];     /* code lengths of the block being written */
    uint16_t lcode[288], dcode[30];  /* bit-reversed codes */
    uint8_t *out, *oend;             /* bit writer */
    uint64_t bits;
    unsigned nbits;
    bool overflow;
} otel__gz;

static void otel__gz_init(otel__gz *g) {
    uint32_t i, k, c;
    for (i = 0; i < 256; i++) {
        c = i;
        for (k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        g->crc_table[i] = c;
    }
    for (c = 0; c < 28; c++)
        for (k = 0; k < (1u << otel__gz_len_extra[c]); k++) g->len_code[otel__gz_len_base[c] - 3 + k] = (uint8_t)c;
    g->len_code[255] = 28; /* 258 has its own code */
    for (c = 0; c < 30; c++)
        for (k = 0; k < (1u << otel__gz_dist_extra[c]); k++) {
            uint32_t d = otel__gz_dist_base[c] + k - 1;
            if (d < 256) g->dist_code[d] = (uint8_t)c;
            else g->dist_code[256 + (d >> 7)] = (uint8_t)c;
        }
}
static unsigned otel__gz_dcode(const otel__gz *g, unsigned dist) {
    unsigned d = dist - 1;
    return d < 256 ? g->dist_code[d] : g->dist_code[256 + (d >> 7)];
}
static uint32_t otel__gz_crc(const otel__gz *g, uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n--) crc = g->crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* LSB-first bit writer (deflate's order). */
static void otel__gz_put(otel__gz *g, uint32_t v, unsigned n) {
    g->bits |= (uint64_t)v << g->nbits;
    g->nbits += n;
    if (g->nbits >= 32) {
        if (g->oend - g->out >= 4) {
            g->out[0] = (uint8_t)g->bits; g->out[1] = (uint8_t)(g->bits >> 8);
            g->out[2] = (uint8_t)(g->bits >> 16); g->out[3] = (uint8_t)(g->bits >> 24);
            g->out += 4;
        } else {
            g->overflow = true;
        }
        g->bits >>= 32;
        g->nbits -= 32;
    }
}
static void otel__gz_flush_byte(otel__gz *g) { /* pad to a byte boundary, write out */
    while (g->nbits > 0) {
        if (g->out < g->oend) *g->out++ = (uint8_t)g->bits;
        else g->overflow = true;
        g->bits >>= 8;
        g->nbits = g->nbits >= 8 ? g->nbits - 8 : 0;
    }
    g->bits = 0;
}

/* Huffman code lengths no longer than `maxbits` for freq[0..n). Two-queue construction
   over the sorted leaves; when too deep, halve the counts and build again. Always makes
   a complete code of at least two symbols (zlib rejects incomplete ones). */
static void otel__gz_lengths(const uint32_t *freq, int n, int maxbits, uint8_t *len) {
    uint32_t f[288], w[2 * 288];
    int leaf[288], parent[2 * 288], depth[2 * 288];
    int i, nl, ni, li, ii, maxd;
    for (i = 0; i < n; i++) f[i] = freq[i];
    for (;;) {
        nl = 0;
        for (i = 0; i < n; i++) {
            len[i] = 0;
            if (f[i]) leaf[nl++] = i;
        }
        if (nl < 2) {
            int a = nl ? leaf[0] : 0;
            len[a] = 1;
            len[a == 0 ? 1 : 0] = 1;
            return;
        }
        for (i = 1; i < nl; i++) { /* insertion sort by count; n <= 288 */
            int x = leaf[i], j = i - 1;
            while (j >= 0 && f[leaf[j]] > f[x]) { leaf[j + 1] = leaf[j]; j--; }
            leaf[j + 1] = x;
        }
        for (i = 0; i < nl; i++) w[i] = f[leaf[i]];
        li = 0; ii = nl; ni = nl;
        while (ni < 2 * nl - 1) {
            int pick[2], k;
            for (k = 0; k < 2; k++) {
                if (li < nl && (ii >= ni || w[li] <= w[ii])) pick[k] = li++;
                else pick[k] = ii++;
            }
            w[ni] = w[pick[0]] + w[pick[1]];
            parent[pick[0]] = parent[pick[1]] = ni;
            ni++;
        }
        depth[ni - 1] = 0;
        maxd = 0;
        for (i = ni - 2; i >= 0; i--) {
            depth[i] = depth[parent[i]] + 1;
            if (i < nl && depth[i] > maxd) maxd = depth[i];
        }
        if (maxd <= maxbits) {
            for (i = 0; i < nl; i++) len[leaf[i]] = (uint8_t)depth[i];
            return;
        }
        for (i = 0; i < n; i++)
            if (f[i]) f[i] = (f[i] + 1) / 2;
    }
}
/* Canonical codes (RFC 1951 3.2.2), bit-reversed for the LSB-first writer. */
static void otel__gz_codes(const uint8_t *len, int n, uint16_t *code) {
    uint16_t count[16] = {0}, next[16];
    uint32_t c = 0;
    int i, b;
    for (i = 0; i < n; i++) count[len[i]]++;
    count[0] = 0;
    for (b = 1; b < 16; b++) { c = (c + count[b - 1]) << 1; next[b] = (uint16_t)c; }
    for (i = 0; i < n; i++) {
        uint32_t v, r = 0;
        int k;
        if (!len[i]) continue;
        v = next[len[i]]++;
        for (k = 0; k < len[i]; k++) { r = (r << 1) | (v & 1); v >>= 1; }
        code[i] = (uint16_t)r;
    }
}

/* Writes one block of `nsym` symbols covering in[start, end). */
static void otel__gz_block(otel__gz *g, const uint8_t *in, size_t start, size_t end, int nsym, bool last) {
    uint8_t lens[286 + 30], rle[286 + 30], rle_extra[286 + 30], clen[19];
    uint32_t cfreq[19] = {0};
    uint16_t ccode[19];
    int i, hlit, hdist, hclen, nl = 0, nrle = 0;
    uint64_t extra = 0, dyn, fix, stored;
    size_t raw = end - start;
    memset(g->lfreq, 0, sizeof g->lfreq);
    memset(g->dfreq, 0, sizeof g->dfreq);
    for (i = 0; i < nsym; i++) {
        if (g->dist[i]) {
            unsigned lc = g->len_code[g->sym[i] - 256], dc = otel__gz_dcode(g, g->dist[i]);
            g->lfreq[257 + lc]++;
            g->dfreq[dc]++;
            extra += (uint64_t)otel__gz_len_extra[lc] + otel__gz_dist_extra[dc];
        } else {
            g->lfreq[g->sym[i]]++;
        }
    }
    g->lfreq[256] = 1;
    otel__gz_lengths(g->lfreq, 286, 15, g->llen);
    otel__gz_lengths(g->dfreq, 30, 15, g->dlen);
    for (hlit = 286; hlit > 257 && !g->llen[hlit - 1]; hlit--) {}
    for (hdist = 30; hdist > 1 && !g->dlen[hdist - 1]; hdist--) {}
    memcpy(lens, g->llen, (size_t)hlit);
    memcpy(lens + hlit, g->dlen, (size_t)hdist);
    nl = hlit + hdist;
    for (i = 0; i < nl;) { /* run-length code the code lengths: 16 repeat, 17/18 zeros */
        int run = 1;
        while (i + run < nl && lens[i + run] == lens[i]) run++;
        if (lens[i] == 0 && run >= 3) {
            int r = run > 138 ? 138 : run;
            rle[nrle] = (uint8_t)(r >= 11 ? 18 : 17);
            rle_extra[nrle++] = (uint8_t)(r >= 11 ? r - 11 : r - 3);
            i += r;
        } else if (lens[i] != 0 && run >= 4) {
            int r = run - 1 > 6 ? 6 : run - 1;
            rle[nrle] = lens[i]; rle_extra[nrle++] = 0;
            rle[nrle] = 16; rle_extra[nrle++] = (uint8_t)(r - 3);
            i += 1 + r;
        } else {
            rle[nrle] = lens[i]; rle_extra[nrle++] = 0;
            i++;
        }
    }
    for (i = 0; i < nrle; i++) cfreq[rle[i]]++;
    otel__gz_lengths(cfreq, 19, 7, clen);
    for (hclen = 19; hclen > 4 && !clen[otel__gz_clen_order[hclen - 1]]; hclen--) {}
    /* costs in bits */
    dyn = 3 + 14 + 3 * (uint64_t)hclen + extra;
    for (i = 0; i < nrle; i++) dyn += clen[rle[i]] + (rle[i] == 16 ? 2 : rle[i] == 17 ? 3 : rle[i] == 18 ? 7 : 0);
    fix = 3 + extra;
    for (i = 0; i < 286; i++) {
        dyn += (uint64_t)g->lfreq[i] * g->llen[i];
        fix += (uint64_t)g->lfreq[i] * (i < 144 ? 8u : i < 256 ? 9u : i < 280 ? 7u : 8u);
    }
    for (i = 0; i < 30; i++) { dyn += (uint64_t)g->dfreq[i] * g->dlen[i]; fix += (uint64_t)g->dfreq[i] * 5; }
    stored = 8 * ((uint64_t)raw + 5 * ((raw + 65534) / 65535 + (raw == 0)));
    if (stored < dyn && stored < fix) {
        size_t off = start;
        do {
            size_t n = end - off > 65535 ? 65535 : end - off;
            otel__gz_put(g, (last && off + n == end) ? 1u : 0u, 1);
            otel__gz_put(g, 0, 2);
            otel__gz_flush_byte(g);
            if ((size_t)(g->oend - g->out) < n + 4) { g->overflow = true; return; }
            g->out[0] = (uint8_t)n; g->out[1] = (uint8_t)(n >> 8);
            g->out[2] = (uint8_t)~n; g->out[3] = (uint8_t)(~n >> 8);
            memcpy(g->out + 4, in + off, n);
            g->out += n + 4;
            off += n;
        } while (off < end);
        return;
    }
    if (fix <= dyn) { /* the fixed code of RFC 1951 3.2.6 */
        for (i = 0; i < 288; i++) g->llen[i] = (uint8_t)(i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8);
        for (i = 0; i < 30; i++) g->dlen[i] = 5;
        otel__gz_put(g, last ? 1u : 0u, 1);
        otel__gz_put(g, 1, 2);
    } else {
        g->llen[286] = g->llen[287] = 0;
        otel__gz_codes(clen, 19, ccode);
        otel__gz_put(g, last ? 1u : 0u, 1);
        otel__gz_put(g, 2, 2);
        otel__gz_put(g, (uint32_t)(hlit - 257), 5);
        otel__gz_put(g, (uint32_t)(hdist - 1), 5);
        otel__gz_put(g, (uint32_t)(hclen - 4), 4);
        for (i = 0; i < hclen; i++) otel__gz_put(g, clen[otel__gz_clen_order[i]], 3);
        for (i = 0; i < nrle; i++) {
            otel__gz_put(g, ccode[rle[i]], clen[rle[i]]);
            if (rle[i] == 16) otel__gz_put(g, rle_extra[i], 2);
            else if (rle[i] == 17) otel__gz_put(g, rle_extra[i], 3);
            else if (rle[i] == 18) otel__gz_put(g, rle_extra[i], 7);
        }
    }
    otel__gz_codes(g->llen, 288, g->lcode);
    otel__gz_codes(g->dlen, 30, g->dcode);
    for (i = 0; i < nsym; i++) {
        if (g->dist[i]) {
            unsigned l = g->sym[i] - 256u, lc = g->len_code[l], d = g->dist[i], dc = otel__gz_dcode(g, d);
            otel__gz_put(g, g->lcode[257 + lc], g->llen[257 + lc]);
            if (otel__gz_len_extra[lc]) otel__gz_put(g, l + 3 - otel__gz_len_base[lc], otel__gz_len_extra[lc]);
            otel__gz_put(g, g->dcode[dc], g->dlen[dc]);
            if (otel__gz_dist_extra[dc]) otel__gz_put(g, d - otel__gz_dist_base[dc], otel__gz_dist_extra[dc]);
        } else {
            otel__gz_put(g, g->lcode[g->sym[i]], g->llen[g->sym[i]]);
        }
    }
    otel__gz_put(g, g->lcode[256], g->llen[256]);
}

static uint32_t otel__gz_hash(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return (v * 2654435761u) >> (32 - OTEL__GZ_HBITS);
}
static size_t otel__gz_match(const uint8_t *a, const uint8_t *b, size_t max) {
    size_t n = 0;
    while (n + 8 <= max) {
        uint64_t x, y;
        memcpy(&x, a + n, 8);
        memcpy(&y, b + n, 8);
        if (x != y) {
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return n + (size_t)(__builtin_ctzll(x ^ y) >> 3);
#else
            break;
#endif
        }
        n += 8;
    }
    while (n < max && a[n] == b[n]) n++;
    return n;
}
static void otel__gz_insert(otel__gz *g, const uint8_t *in, size_t pos) {
    uint32_t h = otel__gz_hash(in + pos);
    g->prev[pos & OTEL__GZ_WMASK] = g->head[h];
    g->head[h] = (int32_t)pos;
}

/* Compresses in[0, n) to out (cap bytes). Returns the bytes written, 0 if cap is short. */
static size_t otel__gz_compress(otel__gz *g, const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    size_t pos = 0, block = 0;
    int nsym = 0;
    uint32_t crc;
    if (cap < 18 || n > 0x7fffffffu) return 0;
    memset(g->head, 0xff, sizeof g->head);
    memcpy(out, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10); /* no name, mtime 0, Unix */
    g->out = out + 10;
    g->oend = out + cap - 8;
    g->bits = 0;
    g->nbits = 0;
    g->overflow = false;
    while (pos < n) {
        size_t best = 0, bdist = 0;
        if (pos + OTEL__GZ_MINMATCH <= n) {
            uint32_t h = otel__gz_hash(in + pos);
            int32_t cand = g->head[h];
            size_t max = n - pos < OTEL__GZ_MAXMATCH ? n - pos : OTEL__GZ_MAXMATCH;
            int chain = OTEL__GZ_CHAIN;
            g->prev[pos & OTEL__GZ_WMASK] = cand;
            g->head[h] = (int32_t)pos;
            while (cand >= 0 && pos - (size_t)cand <= OTEL__GZ_WSIZE && chain-- > 0) {
                if (in[cand + best] == in[pos + best]) {
                    size_t l = otel__gz_match(in + cand, in + pos, max);
                    if (l > best) {
                        best = l;
                        bdist = pos - (size_t)cand;
                        if (l >= OTEL__GZ_NICE || l >= max) break;
                    }
                }
                {
                    int32_t next = g->prev[cand & OTEL__GZ_WMASK];
                    if (next >= cand) break;
                    cand = next;
                }
            }
        }
        if (best >= OTEL__GZ_MINMATCH) {
            size_t k;
            g->sym[nsym] = (uint16_t)(256 + best - 3);
            g->dist[nsym++] = (uint16_t)bdist;
            for (k = 1; k < best; k++)
                if (pos + k + OTEL__GZ_MINMATCH <= n) otel__gz_insert(g, in, pos + k);
            pos += best;
        } else {
            g->sym[nsym] = in[pos];
            g->dist[nsym++] = 0;
            pos++;
        }
        if (nsym == OTEL__GZ_MAXSYM) {
            otel__gz_block(g, in, block, pos, nsym, pos == n);
            block = pos;
            nsym = 0;
            if (g->overflow) return 0;
        }
    }
    if (nsym || block < n || n == 0) otel__gz_block(g, in, block, n, nsym, true);
    otel__gz_flush_byte(g);
    if (g->overflow) return 0;
    crc = otel__gz_crc(g, 0, in, n);
    g->oend += 8;
    {
        uint8_t *t = g->out;
        int i;
        for (i = 0; i < 4; i++) t[i] = (uint8_t)(crc >> (8 * i));
        for (i = 0; i < 4; i++) t[4 + i] = (uint8_t)((uint32_t)n >> (8 * i));
        g->out += 8;
    }
    return (size_t)(g->out - out);
}

OTEL_API otel_result otel_otlp_gzip(otel_otlp_encoder *e, const void *in, size_t len, const uint8_t **out,
                                    size_t *out_len) {
    size_t need = len + len / 64 + 128, n;
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!e || (!in && len) || !out || !out_len) return OTEL_ERR_INVALID_ARG;
    if (!e->gz) {
        e->gz = (otel__gz *)OTEL_MALLOC(sizeof *e->gz, NULL);
        if (!e->gz) return OTEL_ERR_NO_MEMORY;
        otel__gz_init(e->gz);
    }
    if (need > e->gzcap) {
        uint8_t *p = (uint8_t *)otel__otlp_grow(e->gzbuf, &e->gzcap, need, 1);
        if (!p) { e->gzbuf = NULL; e->gzcap = 0; return OTEL_ERR_NO_MEMORY; }
        e->gzbuf = p;
    }
    n = otel__gz_compress(e->gz, (const uint8_t *)in, len, e->gzbuf, e->gzcap);
    if (!n) return OTEL_ERR_NO_MEMORY;
    *out = e->gzbuf;
    *out_len = n;
    return OTEL_OK;
}

/* ==== [http] ====================================================================== */

/* A blocking HTTP/1.1 client for one exporter, run on the destination worker: non-blocking
   sockets driven by poll() so every wait (connect, send, receive, backoff) ends at the
   export deadline or when the cancel pipe becomes readable. One keep-alive connection is
   reused while the server keeps it open; a request that finds it closed by the server
   (nothing received) is sent once more on a new connection. Name lookups keep the
   deadline too (getaddrinfo has no timeout): see otel__http_resolve. */

typedef struct otel__otlp_url {
    bool https;
    char host[256];      /* without IPv6 brackets */
    char port[6];
    char authority[300]; /* the Host header, as written */
    char *path;          /* "/..." with the query */
} otel__otlp_url;

typedef enum otel__otlp_tx {
    OTEL__OTLP_TX_DONE = 0,   /* a response arrived (any status) */
    OTEL__OTLP_TX_RETRY,      /* no response: refused, reset, closed; worth another try */
    OTEL__OTLP_TX_FAIL,       /* unusable answer or local error; not retried */
    OTEL__OTLP_TX_TIMEOUT,    /* the export deadline passed */
    OTEL__OTLP_TX_CANCELLED   /* otel_otlp_exporter_cancel */
} otel__otlp_tx;

typedef struct otel__otlp_resp {
    int status;
    bool close;             /* the server will close the connection */
    int64_t retry_after_ms; /* -1: no Retry-After */
    const uint8_t *body;
    size_t body_len;
    char detail[160];       /* what went wrong, for RETRY/FAIL */
} otel__otlp_resp;

#define OTEL__OTLP_LOG_ITEMS(X) \
    X(GAVE_UP, "export failed") \
    X(HTTP, "export rejected") \
    X(TIMEOUT, "export timed out") \
    X(PARTIAL, "partial success") \
    X(TOO_BIG, "request too large, spans dropped") \
    X(ENCODE, "encoding failed") \
    X(RETRY, "retrying") \
    X(LOOKUP, "name lookup")
enum {
#define OTEL__X(id, text) OTEL__OTLP_LOG_##id,
    OTEL__OTLP_LOG_ITEMS(OTEL__X)
#undef OTEL__X
    OTEL__OTLP_LOG_COUNT
};
static const char *const otel__otlp_log_text[] = {
#define OTEL__X(id, text) text,
    OTEL__OTLP_LOG_ITEMS(OTEL__X)
#undef OTEL__X
};

#define OTEL__OTLP_MAGIC 0x6f746c70u /* "otlp" */

#ifndef OTEL_USE_CURL
/* The addresses of a host, copied out of getaddrinfo's list (so they can be kept). */
#define OTEL__OTLP_MAX_ADDRS 8
typedef struct otel__otlp_addrs {
    int n;
    struct {
        int family;
        socklen_t len;
        struct sockaddr_storage sa;
    } a[OTEL__OTLP_MAX_ADDRS];
} otel__otlp_addrs;

/* One name lookup on its own thread. The exporter and the thread each hold a reference;
   the last to let go closes the pipe and frees it, so a lookup the exporter stopped
   waiting for (deadline, cancel, shutdown) cleans up after itself when getaddrinfo
   finally returns. */
typedef struct otel__otlp_dns {
    int refs;               /* atomic: the exporter's and the thread's */
    int done;               /* atomic, release: rc, err, addrs and done_ms are written */
    int rc, err;            /* getaddrinfo's result; errno for EAI_SYSTEM */
    int64_t done_ms;
    otel__otlp_addrs addrs;
    int pipe[2];            /* the thread writes a byte to [1] when done; the worker polls [0] */
    pid_t pid;              /* the process the thread runs in (fork check) */
    char host[256], port[6];
} otel__otlp_dns;
#endif

typedef struct otel__otlp {
    uint32_t magic;
    char *url;
    otel__otlp_url u;
    char *head;                 /* request line and fixed headers, up to Content-Length */
    size_t head_len;
    char *user_headers;         /* "Name: value\0" ... "\0" (curl builds its list from it) */
    uint32_t timeout_ms, retry_initial_ms, retry_max_ms;
    size_t max_request;
    bool gzip;
    otel_signal signal;         /* what export_* sends */
    bool json;                  /* http/json: OTLP/JSON bodies in jbuf */
    const char *noun;           /* "spans", "data points", "log records": for messages */
    const char *who;            /* "otlp" or "zipkin": what messages start with */
    /* A non-OTLP receiver (Zipkin): the body comes from body_fn(owner, ...), a 2xx answer
       carries no partial success and an error answer is plain text. NULL for OTLP. */
    int (*body_fn)(void *owner, const void *batch, const uint8_t **body, size_t *len);
    void *owner;
    otel__buf jbuf;
    otel_otlp_encoder *enc;
    int fd;                     /* keep-alive connection, -1 none */
    pid_t pid;                  /* the process that owns fd / the curl handle (fork check) */
    int wake[2];                /* cancel writes a byte to [1]; waits poll [0] */
    int cancelled;              /* atomic */
    uint8_t *rbuf;              /* response bytes */
    size_t rcap, rlen;
    uint64_t rng;               /* jitter */
    otel_otlp_stats st;         /* atomics: read by otel_otlp_exporter_stats */
    int64_t log_last[OTEL__OTLP_LOG_COUNT];
    uint32_t log_suppressed[OTEL__OTLP_LOG_COUNT];
#ifndef OTEL_USE_CURL
    otel__otlp_dns *dns;        /* the lookup in progress (or finished, not yet taken), or NULL */
    otel__otlp_addrs addrs;     /* the last looked-up addresses, n = 0 none */
    int64_t addrs_until;        /* ... usable until then */
#endif
#ifdef OTEL_USE_CURL
    CURL *curl;
    CURLM *multi;               /* runs curl: its connection cache is the keep-alive */
    struct curl_slist *curl_headers, *curl_headers_gz;
    char *tls_ca, *tls_key, *tls_cert;
    bool tls_insecure;
    otel__otlp_resp *curl_resp;
    bool curl_too_big;
    char curl_err[CURL_ERROR_SIZE];
#endif
} otel__otlp;

static int64_t otel__otlp_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Diagnostics: each kind at most once per OTEL__OTLP_LOG_INTERVAL_MS, with the count of
   the ones held back. Only the worker thread logs, so no lock. */
static void otel__otlp_log(otel__otlp *x, int kind, otel_log_level level, const char *fmt, ...) OTEL__PRINTF(4, 5);
static void otel__otlp_log(otel__otlp *x, int kind, otel_log_level level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    int64_t now = otel__otlp_ms();
    if (x->log_last[kind] && now - x->log_last[kind] < (int64_t)OTEL__OTLP_LOG_INTERVAL_MS) {
        x->log_suppressed[kind]++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->log_suppressed[kind])
        otel_log(level, "%s %s: %s: %s (and %u more like it since the last report)", x->who, x->url,
                 otel__otlp_log_text[kind], msg, x->log_suppressed[kind]);
    else
        otel_log(level, "%s %s: %s: %s", x->who, x->url, otel__otlp_log_text[kind], msg);
    x->log_last[kind] = now ? now : 1;
    x->log_suppressed[kind] = 0;
}

static bool otel__otlp_is_digits(const char *s, size_t n) {
    size_t i;
    if (!n) return false;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* http[s]://host[:port][/path][?query]; IPv6 hosts in brackets. */
static otel_result otel__otlp_url_parse(const char *url, otel__otlp_url *u, const char **why) {
    const char *p, *a, *ae, *h, *he, *rest, *pe;
    size_t n;
    memset(u, 0, sizeof *u);
    if (!strncasecmp(url, "http://", 7)) p = url + 7;
    else if (!strncasecmp(url, "https://", 8)) { p = url + 8; u->https = true; }
    else { *why = "the URL must start with http:// or https://"; return OTEL_ERR_INVALID_ARG; }
    a = p;
    while (*p && *p != '/' && *p != '?' && *p != '#') p++;
    ae = p;
    if (ae == a) { *why = "the URL has no host"; return OTEL_ERR_INVALID_ARG; }
    if (memchr(a, '@', (size_t)(ae - a))) {
        *why = "user:password@ in the URL is not supported (use an Authorization header)";
        return OTEL_ERR_INVALID_ARG;
    }
    if ((size_t)(ae - a) >= sizeof u->authority) { *why = "the host is too long"; return OTEL_ERR_INVALID_ARG; }
    memcpy(u->authority, a, (size_t)(ae - a));
    if (*a == '[') {
        he = (const char *)memchr(a, ']', (size_t)(ae - a));
        if (!he) { *why = "unterminated [IPv6] host"; return OTEL_ERR_INVALID_ARG; }
        h = a + 1;
        rest = he + 1;
    } else {
        h = a;
        he = a;
        while (he < ae && *he != ':') he++;
        rest = he;
    }
    n = (size_t)(he - h);
    if (n == 0 || n >= sizeof u->host) { *why = "bad host"; return OTEL_ERR_INVALID_ARG; }
    memcpy(u->host, h, n);
    for (n = 0; u->host[n]; n++) {
        unsigned char c = (unsigned char)u->host[n];
        if (c <= ' ' || c >= 0x7f || c == '%' || c == '"' || c == '\\') { *why = "bad character in the host"; return OTEL_ERR_INVALID_ARG; }
    }
    if (rest < ae) {
        unsigned long port;
        if (*rest != ':' || !otel__otlp_is_digits(rest + 1, (size_t)(ae - rest - 1)) || ae - rest - 1 > 5) {
            *why = "bad port";
            return OTEL_ERR_INVALID_ARG;
        }
        port = strtoul(rest + 1, NULL, 10);
        if (port == 0 || port > 65535) { *why = "port out of range"; return OTEL_ERR_INVALID_ARG; }
        snprintf(u->port, sizeof u->port, "%lu", port);
    } else {
        strcpy(u->port, u->https ? "443" : "80");
    }
    pe = p;
    while (*pe && *pe != '#') pe++;
    n = (size_t)(pe - p);
    u->path = (char *)OTEL_MALLOC(n + 2, NULL);
    if (!u->path) return OTEL_ERR_NO_MEMORY;
    if (n == 0 || *p == '?') { /* no path: "/" (spec), the query kept after it */
        u->path[0] = '/';
        memcpy(u->path + 1, p, n);
        u->path[n + 1] = 0;
    } else {
        memcpy(u->path, p, n);
        u->path[n] = 0;
    }
    for (n = 0; u->path[n]; n++) {
        unsigned char c = (unsigned char)u->path[n];
        if (c <= ' ' || c >= 0x7f) { *why = "spaces or control bytes in the path (percent-encode them)"; return OTEL_ERR_INVALID_ARG; }
    }
    return OTEL_OK;
}

/* HTTP-date (RFC 9110 5.6.7): IMF-fixdate, RFC 850 and asctime forms. */
static int otel__otlp_month(const char *s) {
    static const char m[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    int i;
    for (i = 0; i < 12; i++)
        if (tolower((unsigned char)s[0]) == m[3 * i] && tolower((unsigned char)s[1]) == m[3 * i + 1] &&
            tolower((unsigned char)s[2]) == m[3 * i + 2])
            return i + 1;
    return 0;
}
static int64_t otel__otlp_days_from_civil(int64_t y, unsigned m, unsigned d) {
    int64_t era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}
static int otel__otlp_num(const char **p, int maxdigits) {
    int v = 0, n = 0;
    while (n < maxdigits && **p >= '0' && **p <= '9') { v = v * 10 + (**p - '0'); (*p)++; n++; }
    return n ? v : -1;
}
static bool otel__otlp_http_date(const char *s, int64_t *epoch) {
    const char *p = s;
    int day, mon, year = -1, hh, mm, ss;
    bool asc;
    while (isalpha((unsigned char)*p)) p++;
    asc = *p != ',';
    if (!asc) p++;
    while (*p == ' ') p++;
    if (!asc) {
        day = otel__otlp_num(&p, 2);
        if (*p != ' ' && *p != '-') return false;
        p++;
        if (!p[0] || !p[1] || !p[2]) return false;
        mon = otel__otlp_month(p);
        p += 3;
        if (*p != ' ' && *p != '-') return false;
        p++;
        {
            const char *y0 = p;
            year = otel__otlp_num(&p, 4);
            if (p - y0 == 2) year += year < 70 ? 2000 : 1900;
        }
    } else {
        if (!p[0] || !p[1] || !p[2]) return false;
        mon = otel__otlp_month(p);
        p += 3;
        while (*p == ' ') p++;
        day = otel__otlp_num(&p, 2);
    }
    while (*p == ' ') p++;
    hh = otel__otlp_num(&p, 2);
    if (*p++ != ':') return false;
    mm = otel__otlp_num(&p, 2);
    if (*p++ != ':') return false;
    ss = otel__otlp_num(&p, 2);
    if (asc) {
        while (*p == ' ') p++;
        year = otel__otlp_num(&p, 4);
    }
    if (day < 1 || day > 31 || mon < 1 || year < 1970 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return false;
    *epoch = otel__otlp_days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss;
    return true;
}
/* Retry-After: delay-seconds or an HTTP-date. -1 when malformed. */
static int64_t otel__otlp_retry_after_ms(const char *v, size_t n) {
    char tmp[64];
    int64_t t;
    while (n && (*v == ' ' || *v == '\t')) { v++; n--; }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n')) n--;
    if (!n || n >= sizeof tmp) return -1;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    if (otel__otlp_is_digits(tmp, n)) {
        unsigned long long s = n > 9 ? 999999999ull : strtoull(tmp, NULL, 10);
        return (int64_t)s * 1000;
    }
    if (otel__otlp_http_date(tmp, &t)) {
        int64_t now = (int64_t)time(NULL);
        return t > now ? (t - now) * 1000 : 0;
    }
    return -1;
}

/* Waits for `events` on fd (fd < 0: just waits) until `deadline`. 1 ready, 0 deadline,
   -1 cancelled, -2 error. */
static int otel__otlp_wait(otel__otlp *x, int fd, short events, int64_t deadline) {
    for (;;) {
        struct pollfd p[2];
        int64_t rem = deadline - otel__otlp_ms();
        int r;
        if (OTEL__OTLP_LOAD(&x->cancelled)) return -1;
        if (rem <= 0) return 0;
        p[0].fd = x->wake[0]; p[0].events = POLLIN; p[0].revents = 0;
        p[1].fd = fd; p[1].events = events; p[1].revents = 0;
        r = poll(p, fd >= 0 ? 2 : 1, rem > INT_MAX ? INT_MAX : (int)rem);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -2;
        }
        if (p[0].revents) return -1;
        if (fd >= 0 && p[1].revents) return 1;
    }
}
static bool otel__otlp_hdr_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen) {
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k)) return false;
    *val = line + k + 1;
    *vlen = n - k - 1;
    while (*vlen && (**val == ' ' || **val == '\t')) { (*val)++; (*vlen)--; }
    while (*vlen && ((*val)[*vlen - 1] == ' ' || (*val)[*vlen - 1] == '\t')) (*vlen)--;
    return true;
}
#ifndef OTEL_USE_CURL

/* strerror is not thread-safe everywhere; these are the errors a client meets. */
static const char *otel__otlp_errno_str(int e) {
    switch (e) {
    case ECONNREFUSED: return "connection refused";
    case ECONNRESET: return "connection reset by peer";
    case EPIPE: return "connection closed by peer";
    case ETIMEDOUT: return "timed out";
    case ENETUNREACH: return "network unreachable";
    case EHOSTUNREACH: return "host unreachable";
    case EADDRNOTAVAIL: return "address not available";
    case EAFNOSUPPORT: return "address family not supported";
    case EMFILE: case ENFILE: return "too many open files";
    case EAGAIN: return "resource temporarily unavailable";
    case ENOMEM: case ENOBUFS: return "out of memory";
    default: return "system error";
    }
}

static otel__otlp_tx otel__otlp_tx_of_wait(int w) {
    return w == 0 ? OTEL__OTLP_TX_TIMEOUT : w == -1 ? OTEL__OTLP_TX_CANCELLED : OTEL__OTLP_TX_FAIL;
}

static bool otel__otlp_has_token(const char *v, size_t n, const char *tok) {
    size_t k = strlen(tok), i;
    for (i = 0; i + k <= n; i++)
        if (!strncasecmp(v + i, tok, k)) return true;
    return false;
}

#ifdef MSG_NOSIGNAL
#define OTEL__MSG_NOSIGNAL MSG_NOSIGNAL
#else
#define OTEL__MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set instead */
#endif

static void otel__http_close(otel__otlp *x) {
    if (x->fd >= 0) close(x->fd);
    x->fd = -1;
}

/* ---- name lookup ---- getaddrinfo has no timeout: with a dead DNS server one call takes
   resolv.conf's timeout x attempts x servers, past the export deadline and past shutdown's.
   So a name is looked up on a short-lived detached thread while the worker waits in
   otel__otlp_wait (deadline, cancel pipe) for a byte on the lookup's pipe. On timeout the
   worker stops waiting and the thread finishes alone. An exporter runs at most one lookup:
   the next export waits for the same one. Numeric addresses and "localhost" need no
   thread; a looked-up address is reused for OTEL__OTLP_DNS_CACHE_MS unless connecting to it
   fails. Without a thread (or a pipe) the lookup runs here, without a timeout. */

static void otel__otlp_addrs_add(otel__otlp_addrs *out, const struct addrinfo *ai) {
    for (; ai && out->n < OTEL__OTLP_MAX_ADDRS; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > (socklen_t)sizeof out->a[0].sa)
            continue;
        out->a[out->n].family = ai->ai_family;
        out->a[out->n].len = (socklen_t)ai->ai_addrlen;
        memcpy(&out->a[out->n].sa, ai->ai_addr, ai->ai_addrlen);
        out->n++;
    }
}

static void otel__otlp_hints(struct addrinfo *h, int flags) {
    memset(h, 0, sizeof *h);
    h->ai_family = AF_UNSPEC;
    h->ai_socktype = SOCK_STREAM;
    h->ai_flags = AI_NUMERICSERV | flags;
}

/* An address literal, or "localhost" (::1 then 127.0.0.1, as libcurl does): no lookup. */
static bool otel__otlp_numeric(const char *host, const char *port, otel__otlp_addrs *out) {
    static const char *const loopback[] = {"::1", "127.0.0.1"};
    struct addrinfo hints, *res;
    bool local = !strcasecmp(host, "localhost");
    int i;
    out->n = 0;
    otel__otlp_hints(&hints, AI_NUMERICHOST);
    for (i = 0; i < (local ? 2 : 1); i++) {
        res = NULL;
        if (getaddrinfo(local ? loopback[i] : host, port, &hints, &res) != 0) continue;
        otel__otlp_addrs_add(out, res);
        freeaddrinfo(res);
    }
    return out->n > 0;
}

static void otel__otlp_dns_release(otel__otlp_dns *d) {
    if (__atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (d->pipe[0] >= 0) close(d->pipe[0]);
    if (d->pipe[1] >= 0) close(d->pipe[1]);
    OTEL_FREE(d, NULL);
}

/* Runs getaddrinfo; its own output is copied out, so freeing never depends on the exporter. */
static void otel__otlp_dns_run(otel__otlp_dns *d) {
    struct addrinfo hints, *res = NULL;
    otel__otlp_hints(&hints, 0);
    d->rc = OTEL_OTLP_GETADDRINFO(d->host, d->port, &hints, &res);
    d->err = d->rc == EAI_SYSTEM ? errno : 0;
    if (d->rc == 0) {
        otel__otlp_addrs_add(&d->addrs, res);
        freeaddrinfo(res);
    }
    d->done_ms = otel__otlp_ms();
}

static void *otel__otlp_dns_main(void *arg) {
    otel__otlp_dns *d = (otel__otlp_dns *)arg;
    char c = 1;
    otel__otlp_dns_run(d);
    __atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
    (void)!write(d->pipe[1], &c, 1); /* the read end stays open while we hold our reference */
    otel__otlp_dns_release(d);
    return NULL;
}

/* A lookup of x's host on a new thread, or, when none can be started, done here before
   returning. NULL when out of memory. */
static otel__otlp_dns *otel__otlp_dns_start(otel__otlp *x) {
    otel__otlp_dns *d = (otel__otlp_dns *)OTEL_MALLOC(sizeof *d, NULL);
    pthread_attr_t attr;
    pthread_t th;
    sigset_t all, old;
    int e, i;
    if (!d) return NULL;
    memset(d, 0, sizeof *d);
    snprintf(d->host, sizeof d->host, "%s", x->u.host);
    snprintf(d->port, sizeof d->port, "%s", x->u.port);
    d->pid = getpid();
    d->refs = 2;
    if (pipe(d->pipe) != 0) {
        e = errno;
        d->pipe[0] = d->pipe[1] = -1;
    } else {
        for (i = 0; i < 2; i++) (void)fcntl(d->pipe[i], F_SETFD, FD_CLOEXEC);
        if ((e = pthread_attr_init(&attr)) == 0) {
            (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            sigfillset(&all); /* the thread takes no signals: they go to the application's threads */
            pthread_sigmask(SIG_SETMASK, &all, &old);
            e = OTEL__OTLP_PTHREAD_CREATE(&th, &attr, otel__otlp_dns_main, d);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            pthread_attr_destroy(&attr);
        }
    }
    if (e == 0) return d;
    otel__otlp_log(x, OTEL__OTLP_LOG_LOOKUP, OTEL_LOG_WARN,
                   "cannot start a lookup thread (%s); looking up %.100s here, without the export timeout",
                   otel__otlp_errno_str(e), x->u.host);
    if (d->pipe[0] >= 0) {
        close(d->pipe[0]);
        close(d->pipe[1]);
    }
    d->pipe[0] = d->pipe[1] = -1;
    d->refs = 1;
    otel__otlp_dns_run(d);
    d->done = 1;
    return d;
}

/* Lets go of x->dns. In a forked child the thread is the parent's: the child's copy (and
   its copies of the pipe) is the child's alone. */
static void otel__otlp_dns_drop(otel__otlp *x) {
    otel__otlp_dns *d = x->dns;
    x->dns = NULL;
    if (!d) return;
    if (d->pid == getpid()) {
        otel__otlp_dns_release(d);
        return;
    }
    if (d->pipe[0] >= 0) close(d->pipe[0]);
    if (d->pipe[1] >= 0) close(d->pipe[1]);
    OTEL_FREE(d, NULL);
}

/* Takes x->dns's result once it is done: a success becomes x->addrs. Returns its rc. */
static int otel__otlp_dns_take(otel__otlp *x, int *err) {
    otel__otlp_dns *d = x->dns;
    int rc = d->rc;
    *err = d->err;
    if (rc == 0 && d->addrs.n > 0) {
        x->addrs = d->addrs;
        x->addrs_until = d->done_ms + OTEL__OTLP_DNS_CACHE_MS;
    } else if (rc == 0) {
        rc = EAI_NONAME; /* nothing usable (neither IPv4 nor IPv6) */
    }
    otel__otlp_dns_drop(x);
    return rc;
}

/* The addresses of x's host into *out, by `deadline`. A lookup that fails or does not
   answer in time is a connection failure (RETRY, or TIMEOUT at the deadline). */
static otel__otlp_tx otel__http_resolve(otel__otlp *x, int64_t deadline, otel__otlp_addrs *out, otel__otlp_resp *r) {
    int rc, err = 0, w;
    if (otel__otlp_numeric(x->u.host, x->u.port, out)) return OTEL__OTLP_TX_DONE;
    if (x->dns && x->dns->pid != getpid()) otel__otlp_dns_drop(x);
    if (x->dns && __atomic_load_n(&x->dns->done, __ATOMIC_ACQUIRE))
        (void)otel__otlp_dns_take(x, &err); /* one an earlier export stopped waiting for */
    if (x->addrs.n > 0 && otel__otlp_ms() < x->addrs_until) {
        *out = x->addrs;
        return OTEL__OTLP_TX_DONE;
    }
    if (!x->dns && !(x->dns = otel__otlp_dns_start(x))) {
        snprintf(r->detail, sizeof r->detail, "cannot look up %.100s: out of memory", x->u.host);
        return OTEL__OTLP_TX_FAIL;
    }
    while (!__atomic_load_n(&x->dns->done, __ATOMIC_ACQUIRE)) {
        w = otel__otlp_wait(x, x->dns->pipe[0], POLLIN, deadline);
        if (w == 1) continue;
        if (w == 0) {
            OTEL__OTLP_ADD(&x->st.connect_failures, 1);
            snprintf(r->detail, sizeof r->detail, "name lookup of %.100s: no answer in time (left running)",
                     x->u.host);
        } else {
            snprintf(r->detail, sizeof r->detail, "looking up %.100s", x->u.host);
        }
        return otel__otlp_tx_of_wait(w);
    }
    rc = otel__otlp_dns_take(x, &err);
    if (rc != 0) {
        OTEL__OTLP_ADD(&x->st.connect_failures, 1);
        snprintf(r->detail, sizeof r->detail, "cannot resolve %.100s: %s", x->u.host,
                 rc == EAI_SYSTEM ? otel__otlp_errno_str(err) : gai_strerror(rc));
        return OTEL__OTLP_TX_RETRY;
    }
    *out = x->addrs;
    return OTEL__OTLP_TX_DONE;
}

static otel__otlp_tx otel__http_connect(otel__otlp *x, int64_t deadline, otel__otlp_resp *r) {
    otel__otlp_addrs addrs;
    otel__otlp_tx tx;
    int i, rc, fd = -1, err = 0, one = 1;
    tx = otel__http_resolve(x, deadline, &addrs, r);
    if (tx != OTEL__OTLP_TX_DONE) return tx;
    for (i = 0; i < addrs.n; i++) {
        fd = socket(addrs.a[i].family, SOCK_STREAM, 0);
        if (fd < 0) { err = errno; continue; }
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        rc = connect(fd, (const struct sockaddr *)&addrs.a[i].sa, addrs.a[i].len);
        if (rc < 0 && (errno == EINPROGRESS || errno == EINTR)) {
            int w = otel__otlp_wait(x, fd, POLLOUT, deadline);
            if (w != 1) {
                close(fd);
                snprintf(r->detail, sizeof r->detail, "connecting to %.100s:%s", x->u.host, x->u.port);
                return otel__otlp_tx_of_wait(w);
            }
            {
                socklen_t l = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0) err = errno;
            }
            rc = err ? -1 : 0;
        } else if (rc < 0) {
            err = errno;
        }
        if (rc == 0) break;
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        x->addrs.n = 0; /* look the name up again next time: it may have moved */
        OTEL__OTLP_ADD(&x->st.connect_failures, 1);
        snprintf(r->detail, sizeof r->detail, "cannot connect to %.100s:%s: %s", x->u.host, x->u.port,
                 otel__otlp_errno_str(err));
        return OTEL__OTLP_TX_RETRY;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    x->fd = fd;
    x->pid = getpid();
    OTEL__OTLP_ADD(&x->st.connections, 1);
    return OTEL__OTLP_TX_DONE;
}

static otel__otlp_tx otel__http_send(otel__otlp *x, struct iovec *iov, int iovcnt, int64_t deadline, otel__otlp_resp *r) {
    while (iovcnt > 0) {
        struct msghdr m;
        ssize_t n;
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)iovcnt;
        n = sendmsg(x->fd, &m, OTEL__MSG_NOSIGNAL);
        if (n < 0) {
            int w;
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                snprintf(r->detail, sizeof r->detail, "send failed: %s", otel__otlp_errno_str(errno));
                return OTEL__OTLP_TX_RETRY;
            }
            w = otel__otlp_wait(x, x->fd, POLLOUT, deadline);
            if (w != 1) {
                snprintf(r->detail, sizeof r->detail, "sending the request");
                return otel__otlp_tx_of_wait(w);
            }
            continue;
        }
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) { n -= (ssize_t)iov->iov_len; iov++; iovcnt--; }
        if (iovcnt > 0) { iov->iov_base = (char *)iov->iov_base + n; iov->iov_len -= (size_t)n; }
    }
    return OTEL__OTLP_TX_DONE;
}

/* Appends what the socket has to x->rbuf (waiting for it). *eof on an orderly close. */
static otel__otlp_tx otel__http_recv(otel__otlp *x, int64_t deadline, otel__otlp_resp *r, bool *eof) {
    const size_t max = OTEL__OTLP_MAX_RESPONSE + OTEL__OTLP_MAX_RESPONSE_HEAD + 65536;
    *eof = false;
    if (x->rlen == x->rcap) {
        size_t cap = x->rcap ? x->rcap * 2 : 16384;
        uint8_t *p;
        if (x->rcap >= max) {
            snprintf(r->detail, sizeof r->detail, "response larger than %u bytes", OTEL__OTLP_MAX_RESPONSE);
            return OTEL__OTLP_TX_FAIL;
        }
        if (cap > max) cap = max;
        p = (uint8_t *)OTEL_MALLOC(cap, NULL);
        if (!p) { snprintf(r->detail, sizeof r->detail, "out of memory"); return OTEL__OTLP_TX_FAIL; }
        if (x->rlen) memcpy(p, x->rbuf, x->rlen);
        OTEL_FREE(x->rbuf, NULL);
        x->rbuf = p;
        x->rcap = cap;
    }
    for (;;) {
        ssize_t n = recv(x->fd, x->rbuf + x->rlen, x->rcap - x->rlen, 0);
        int w;
        if (n > 0) { x->rlen += (size_t)n; return OTEL__OTLP_TX_DONE; }
        if (n == 0) { *eof = true; return OTEL__OTLP_TX_DONE; }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(r->detail, sizeof r->detail, "receive failed: %s", otel__otlp_errno_str(errno));
            return OTEL__OTLP_TX_RETRY;
        }
        w = otel__otlp_wait(x, x->fd, POLLIN, deadline);
        if (w != 1) {
            snprintf(r->detail, sizeof r->detail, "waiting for the response");
            return otel__otlp_tx_of_wait(w);
        }
    }
}

/* Chunked body in p[0, n): 1 complete (with `write`, decoded in place to *out bytes), 0
   incomplete, -1 malformed, -2 too large. */
static int otel__otlp_chunked(uint8_t *p, size_t n, bool write, size_t *out) {
    size_t i = 0, o = 0;
    for (;;) {
        size_t size = 0;
        int digits = 0;
        while (i < n && isxdigit(p[i])) {
            int c = p[i];
            size = size * 16 + (size_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            if (size > OTEL__OTLP_MAX_RESPONSE) return -2;
            i++;
            digits++;
        }
        if (i >= n) return 0;
        if (!digits) return -1;
        while (i < n && p[i] != '\n') i++; /* chunk extensions */
        if (i >= n) return 0;
        i++;
        if (size == 0) { /* trailers up to an empty line */
            for (;;) {
                size_t s = i;
                while (i < n && p[i] != '\n') i++;
                if (i >= n) return 0;
                i++;
                if (i - s <= 2) { *out = o; return 1; }
            }
        }
        if (n - i < size) return 0;
        if (o + size > OTEL__OTLP_MAX_RESPONSE) return -2;
        if (write) memmove(p + o, p + i, size);
        o += size;
        i += size;
        if (i < n && p[i] == '\r') i++;
        if (i >= n) return 0;
        if (p[i] != '\n') return -1;
        i++;
    }
}

/* Reads one response (skipping 1xx) into r; *got says whether any byte arrived. */
static otel__otlp_tx otel__http_response(otel__otlp *x, int64_t deadline, otel__otlp_resp *r, bool *got) {
    size_t hend, scan = 0, cl = 0, i;
    bool chunked, has_cl, eof;
    otel__otlp_tx tx;
    int minor;
    x->rlen = 0;
    for (;;) {
        const char *h;
        /* the head */
        for (;;) {
            const uint8_t *e = NULL;
            if (x->rlen >= 4) {
                for (i = scan; i + 4 <= x->rlen; i++)
                    if (x->rbuf[i] == '\r' && !memcmp(x->rbuf + i, "\r\n\r\n", 4)) { e = x->rbuf + i; break; }
                scan = x->rlen >= 3 ? x->rlen - 3 : 0;
            }
            if (e) { hend = (size_t)(e - x->rbuf) + 4; break; }
            if (x->rlen > OTEL__OTLP_MAX_RESPONSE_HEAD) {
                snprintf(r->detail, sizeof r->detail, "response head larger than %u bytes", OTEL__OTLP_MAX_RESPONSE_HEAD);
                return OTEL__OTLP_TX_FAIL;
            }
            tx = otel__http_recv(x, deadline, r, &eof);
            if (tx != OTEL__OTLP_TX_DONE) return tx;
            if (eof) {
                snprintf(r->detail, sizeof r->detail, x->rlen ? "connection closed in the middle of the response"
                                                              : "connection closed without a response");
                return OTEL__OTLP_TX_RETRY;
            }
            *got = true;
        }
        h = (const char *)x->rbuf;
        if (hend < 12 || memcmp(h, "HTTP/1.", 7) || !isdigit((unsigned char)h[7]) || h[8] != ' ' ||
            !otel__otlp_is_digits(h + 9, 3) || (hend > 12 && h[12] != ' ' && h[12] != '\r')) {
            snprintf(r->detail, sizeof r->detail, "malformed response (not HTTP/1.x)");
            return OTEL__OTLP_TX_FAIL;
        }
        minor = h[7] - '0';
        r->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
        r->retry_after_ms = -1;
        r->close = minor == 0;
        chunked = has_cl = false;
        for (i = 0; i < hend - 2;) { /* header lines */
            const char *line = h + i, *v;
            size_t n, vl;
            const char *nl = (const char *)memchr(line, '\n', hend - i);
            if (!nl) break;
            n = (size_t)(nl - line);
            if (n && line[n - 1] == '\r') n--;
            i = (size_t)(nl - h) + 1;
            if (otel__otlp_hdr_is(line, n, "content-length", &v, &vl)) {
                if (!otel__otlp_is_digits(v, vl) || vl > 9) {
                    snprintf(r->detail, sizeof r->detail, "bad Content-Length");
                    return OTEL__OTLP_TX_FAIL;
                }
                cl = (size_t)strtoul(v, NULL, 10);
                has_cl = true;
            } else if (otel__otlp_hdr_is(line, n, "transfer-encoding", &v, &vl)) {
                chunked = otel__otlp_has_token(v, vl, "chunked");
            } else if (otel__otlp_hdr_is(line, n, "connection", &v, &vl)) {
                if (otel__otlp_has_token(v, vl, "close")) r->close = true;
                else if (otel__otlp_has_token(v, vl, "keep-alive")) r->close = false;
            } else if (otel__otlp_hdr_is(line, n, "retry-after", &v, &vl)) {
                r->retry_after_ms = otel__otlp_retry_after_ms(v, vl);
            }
        }
        if (r->status >= 200 || r->status == 101) break;
        memmove(x->rbuf, x->rbuf + hend, x->rlen - hend); /* 1xx: the real answer follows */
        x->rlen -= hend;
        scan = 0;
    }
    if (r->status == 204 || r->status == 304) {
        cl = 0;
        has_cl = true;
        chunked = false;
    }
    if (chunked) {
        size_t out = 0;
        int c;
        while ((c = otel__otlp_chunked(x->rbuf + hend, x->rlen - hend, false, &out)) == 0) {
            tx = otel__http_recv(x, deadline, r, &eof);
            if (tx != OTEL__OTLP_TX_DONE) return tx;
            if (eof) { snprintf(r->detail, sizeof r->detail, "connection closed in the middle of the response"); return OTEL__OTLP_TX_RETRY; }
        }
        if (c < 0) {
            snprintf(r->detail, sizeof r->detail, c == -2 ? "response larger than 4 MiB" : "malformed chunked response");
            return OTEL__OTLP_TX_FAIL;
        }
        (void)otel__otlp_chunked(x->rbuf + hend, x->rlen - hend, true, &out);
        r->body_len = out;
        r->close = true; /* trailing bytes are not worth tracking: start afresh next time */
    } else if (has_cl) {
        if (cl > OTEL__OTLP_MAX_RESPONSE) {
            snprintf(r->detail, sizeof r->detail, "response body of %zu bytes is over the 4 MiB limit", cl);
            return OTEL__OTLP_TX_FAIL;
        }
        while (x->rlen - hend < cl) {
            tx = otel__http_recv(x, deadline, r, &eof);
            if (tx != OTEL__OTLP_TX_DONE) return tx;
            if (eof) { snprintf(r->detail, sizeof r->detail, "connection closed in the middle of the response"); return OTEL__OTLP_TX_RETRY; }
        }
        if (x->rlen - hend > cl) r->close = true;
        r->body_len = cl;
    } else { /* until the server closes */
        for (;;) {
            tx = otel__http_recv(x, deadline, r, &eof);
            if (tx != OTEL__OTLP_TX_DONE) return tx;
            if (eof) break;
            if (x->rlen - hend > OTEL__OTLP_MAX_RESPONSE) {
                snprintf(r->detail, sizeof r->detail, "response larger than 4 MiB");
                return OTEL__OTLP_TX_FAIL;
            }
        }
        r->body_len = x->rlen - hend;
        r->close = true;
    }
    r->body = x->rbuf + hend;
    return OTEL__OTLP_TX_DONE;
}

/* An idle keep-alive connection is reusable while nothing (EOF, junk) is readable. */
static bool otel__http_alive(int fd) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, 0) == 0;
}

static otel__otlp_tx otel__otlp_post(otel__otlp *x, const uint8_t *body, size_t len, bool gz, int64_t deadline,
                                     otel__otlp_resp *r) {
    char tail[80];
    int attempt, tl = snprintf(tail, sizeof tail, "Content-Length: %zu\r\n%s\r\n", len,
                               gz ? "Content-Encoding: gzip\r\n" : "");
    if (x->fd >= 0 && x->pid != getpid()) otel__http_close(x); /* a forked child: the connection
        is the parent's too (closing our copy of the descriptor leaves the parent's intact) */
    for (attempt = 0; attempt < 2; attempt++) {
        struct iovec iov[3];
        bool reused = false, got = false;
        otel__otlp_tx tx;
        if (x->fd >= 0) {
            if (otel__http_alive(x->fd)) reused = true;
            else otel__http_close(x);
        }
        if (x->fd < 0) {
            tx = otel__http_connect(x, deadline, r);
            if (tx != OTEL__OTLP_TX_DONE) return tx;
        }
        iov[0].iov_base = x->head; iov[0].iov_len = x->head_len;
        iov[1].iov_base = tail; iov[1].iov_len = (size_t)tl;
        iov[2].iov_base = (void *)(uintptr_t)body; iov[2].iov_len = len;
        OTEL__OTLP_ADD(&x->st.requests, 1);
        tx = otel__http_send(x, iov, 3, deadline, r);
        if (tx == OTEL__OTLP_TX_DONE) {
            OTEL__OTLP_ADD(&x->st.bytes_sent, len);
            tx = otel__http_response(x, deadline, r, &got);
        }
        if (tx == OTEL__OTLP_TX_DONE) {
            if (r->close) otel__http_close(x);
            return tx;
        }
        otel__http_close(x);
        if (!(tx == OTEL__OTLP_TX_RETRY && reused && !got)) return tx;
        /* the server had closed the idle connection: once more on a new one */
    }
    return OTEL__OTLP_TX_RETRY;
}

static otel_result otel__otlp_transport_init(otel__otlp *x) {
    if (x->u.https) {
        otel_log(OTEL_LOG_ERROR, "otlp: %s: https:// needs libcurl: build with -DOTEL_USE_CURL and link -lcurl "
                                 "(or use an http:// endpoint, e.g. a local collector)", x->url);
        return OTEL_ERR_NOT_BUILT;
    }
    return OTEL_OK;
}
static void otel__otlp_transport_free(otel__otlp *x) {
    otel__http_close(x);
    otel__otlp_dns_drop(x); /* a lookup still running frees itself when it ends */
}

#endif /* !OTEL_USE_CURL */

/* ==== [curl] ====================================================================== */

/* With OTEL_USE_CURL every request goes through one reused libcurl easy handle, run by a
   multi handle of our own (its connection cache gives keep-alive): https, the proxy
   variables (http_proxy, https_proxy, no_proxy, read by libcurl), CA bundle and client
   certificate. The deadline becomes CURLOPT_TIMEOUT_MS. The transfer is driven with
   curl_multi_wait on curl's sockets plus the cancel pipe, so cancel ends it at once
   (curl_easy_perform would notice only at its next progress call, up to a second later
   while nothing moves, e.g. during a name lookup). Name lookups keep the deadline and
   cancel with a threaded (or c-ares) libcurl from 7.87 on, where CURLOPT_QUICK_EXIT lets
   the transfer end without joining a resolver thread stuck in getaddrinfo (curl's known
   bug "multi perform hangs waiting for threaded resolver": without it the transfer ends
   when getaddrinfo does). Older or synchronous-resolver builds: a debug note at setup. */
#ifdef OTEL_USE_CURL

static size_t otel__curl_write(char *p, size_t sz, size_t nm, void *user) {
    otel__otlp *x = (otel__otlp *)user;
    size_t n = sz * nm;
    if (x->rlen + n > OTEL__OTLP_MAX_RESPONSE) { x->curl_too_big = true; return 0; }
    if (x->rlen + n > x->rcap) {
        size_t cap = x->rcap ? x->rcap : 16384;
        uint8_t *q;
        while (cap < x->rlen + n) cap *= 2;
        q = (uint8_t *)OTEL_MALLOC(cap, NULL);
        if (!q) return 0;
        if (x->rlen) memcpy(q, x->rbuf, x->rlen);
        OTEL_FREE(x->rbuf, NULL);
        x->rbuf = q;
        x->rcap = cap;
    }
    memcpy(x->rbuf + x->rlen, p, n);
    x->rlen += n;
    return n;
}
static size_t otel__curl_header(char *p, size_t sz, size_t nm, void *user) {
    otel__otlp *x = (otel__otlp *)user;
    size_t n = sz * nm, vl;
    const char *v;
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n')) n--;
    if (n >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response (after a 1xx): forget the last */
        x->curl_resp->retry_after_ms = -1;
        x->rlen = 0;
    } else if (otel__otlp_hdr_is(p, n, "retry-after", &v, &vl)) {
        x->curl_resp->retry_after_ms = otel__otlp_retry_after_ms(v, vl);
    }
    return sz * nm;
}
static int otel__curl_progress(void *user, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    otel__otlp *x = (otel__otlp *)user;
    (void)a; (void)b; (void)c; (void)d;
    return OTEL__OTLP_LOAD(&x->cancelled) ? 1 : 0;
}

/* Runs the transfer on x->multi until it ends or cancel; CURLE_ABORTED_BY_CALLBACK for
   cancel. */
static CURLcode otel__curl_run(otel__otlp *x, CURL *c, char *detail, size_t cap) {
    CURLMcode mc;
    CURLMsg *msg;
    CURLcode rc = CURLE_GOT_NOTHING;
    int running = 1, left;
    if ((mc = curl_multi_add_handle(x->multi, c)) != CURLM_OK) {
        snprintf(detail, cap, "curl: %s", curl_multi_strerror(mc));
        return CURLE_FAILED_INIT;
    }
    for (;;) {
        struct curl_waitfd w;
        mc = curl_multi_perform(x->multi, &running);
        if (mc != CURLM_OK || !running) break;
        if (OTEL__OTLP_LOAD(&x->cancelled)) { rc = CURLE_ABORTED_BY_CALLBACK; break; }
        w.fd = x->wake[0];
        w.events = CURL_WAIT_POLLIN;
        w.revents = 0;
        mc = curl_multi_wait(x->multi, &w, 1, 1000, NULL); /* curl shortens it to its timers */
        if (mc != CURLM_OK) break;
    }
    if (mc != CURLM_OK) {
        snprintf(detail, cap, "curl: %s", curl_multi_strerror(mc));
        rc = CURLE_FAILED_INIT;
    } else if (!running) {
        while ((msg = curl_multi_info_read(x->multi, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) rc = msg->data.result;
    }
    curl_multi_remove_handle(x->multi, c); /* mid-transfer: the connection is closed */
    return rc;
}

static otel__otlp_tx otel__otlp_post(otel__otlp *x, const uint8_t *body, size_t len, bool gz, int64_t deadline,
                                     otel__otlp_resp *r) {
    CURL *c = x->curl;
    CURLcode rc;
    long status = 0, conns = 0;
    int64_t rem = deadline - otel__otlp_ms();
    if (rem <= 0) return OTEL__OTLP_TX_TIMEOUT;
    if (OTEL__OTLP_LOAD(&x->cancelled)) return OTEL__OTLP_TX_CANCELLED;
    if (x->pid != getpid()) { /* a forked child: the handles' cached connections are the
        parent's too; leave them alone (no cleanup) and start handles of our own */
        CURL *d = curl_easy_duphandle(c);
        CURLM *m = curl_multi_init();
        if (!d || !m) {
            if (d) curl_easy_cleanup(d);
            if (m) curl_multi_cleanup(m);
            return OTEL__OTLP_TX_FAIL;
        }
        c = x->curl = d;
        x->multi = m;
        x->pid = getpid();
    }
    x->rlen = 0;
    x->curl_too_big = false;
    x->curl_resp = r;
    x->curl_err[0] = 0;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, gz ? x->curl_headers_gz : x->curl_headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)rem);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)rem);
    OTEL__OTLP_ADD(&x->st.requests, 1);
    rc = otel__curl_run(x, c, x->curl_err, sizeof x->curl_err);
    if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0)
        OTEL__OTLP_ADD(&x->st.connections, (uint64_t)conns);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        OTEL__OTLP_ADD(&x->st.bytes_sent, len);
        r->status = (int)status;
        r->body = x->rbuf;
        r->body_len = x->rlen;
        return OTEL__OTLP_TX_DONE;
    }
    snprintf(r->detail, sizeof r->detail, "%.60s%s%.90s", curl_easy_strerror(rc), x->curl_err[0] ? ": " : "", x->curl_err);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return OTEL__OTLP_TX_TIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK: return OTEL__OTLP_TX_CANCELLED;
    case CURLE_WRITE_ERROR:
        if (x->curl_too_big) snprintf(r->detail, sizeof r->detail, "response larger than 4 MiB");
        return OTEL__OTLP_TX_FAIL;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        OTEL__OTLP_ADD(&x->st.connect_failures, 1);
        return OTEL__OTLP_TX_RETRY;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return OTEL__OTLP_TX_RETRY;
    default: return OTEL__OTLP_TX_FAIL;
    }
}

static struct curl_slist *otel__curl_headers(otel__otlp *x, bool gz) {
    struct curl_slist *l = NULL, *t;
    const char *h;
    const char *fixed[3];
    int i;
    fixed[0] = x->json ? "Content-Type: application/json" : "Content-Type: application/x-protobuf";
    fixed[1] = "Expect:"; /* no 100-continue round trip for big bodies */
    fixed[2] = gz ? "Content-Encoding: gzip" : NULL;
    for (i = 0; i < 3; i++) {
        if (!fixed[i]) continue;
        t = curl_slist_append(l, fixed[i]);
        if (!t) { curl_slist_free_all(l); return NULL; }
        l = t;
    }
    for (h = x->user_headers; h && *h; h += strlen(h) + 1) {
        t = curl_slist_append(l, h);
        if (!t) { curl_slist_free_all(l); return NULL; }
        l = t;
    }
    return l;
}

static otel_result otel__otlp_transport_init(otel__otlp *x) {
    static int global_done; /* setup thread only, as curl_global_init requires */
    CURL *c;
    bool quick = false;
    const curl_version_info_data *ver;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return OTEL_ERR_IO;
        global_done = 1;
    }
    c = x->curl = curl_easy_init();
    x->multi = curl_multi_init();
    x->pid = getpid();
    x->curl_headers = otel__curl_headers(x, false);
    x->curl_headers_gz = otel__curl_headers(x, true);
    if (!c || !x->multi || !x->curl_headers || !x->curl_headers_gz) return OTEL_ERR_NO_MEMORY;
    curl_easy_setopt(c, CURLOPT_URL, x->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, OTEL__OTLP_USER_AGENT);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, otel__curl_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, otel__curl_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, otel__curl_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
#if LIBCURL_VERSION_NUM >= 0x075700
    /* a timed-out or cancelled lookup's thread finishes (and frees its data) on its own */
    quick = curl_easy_setopt(c, CURLOPT_QUICK_EXIT, 1L) == CURLE_OK;
#endif
    ver = curl_version_info(CURLVERSION_NOW);
    if (!quick || !ver || !(ver->features & CURL_VERSION_ASYNCHDNS))
        otel_log(OTEL_LOG_DEBUG, "%s %s: with libcurl %s a slow name lookup can outlast the export timeout and "
                                 "shutdown's deadline (7.87 or later with a threaded resolver keeps them)",
                 x->who, x->url, ver ? ver->version : "?");
    if (x->tls_ca) curl_easy_setopt(c, CURLOPT_CAINFO, x->tls_ca);
    if (x->tls_cert) curl_easy_setopt(c, CURLOPT_SSLCERT, x->tls_cert);
    if (x->tls_key) curl_easy_setopt(c, CURLOPT_SSLKEY, x->tls_key);
    if (x->tls_insecure) {
        otel_log(OTEL_LOG_WARN, "%s %s: TLS certificate verification is off (insecure)", x->who, x->url);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return OTEL_OK;
}
static void otel__otlp_transport_free(otel__otlp *x) {
    if (x->curl) curl_easy_cleanup(x->curl); /* not in x->multi between transfers */
    if (x->multi) curl_multi_cleanup(x->multi);
    curl_slist_free_all(x->curl_headers);
    curl_slist_free_all(x->curl_headers_gz);
    OTEL_FREE(x->tls_ca, NULL);
    OTEL_FREE(x->tls_key, NULL);
    OTEL_FREE(x->tls_cert, NULL);
}

#endif /* OTEL_USE_CURL */

/* ==== [exporter] ================================================================== */

typedef struct otel__otlp_sb { /* a growable string */
    char *p;
    size_t len, cap;
    bool oom;
} otel__otlp_sb;

static void otel__otlp_sb_add(otel__otlp_sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap < b->len + n + 1) cap *= 2;
        p = (char *)OTEL_MALLOC(cap, NULL);
        if (!p) { b->oom = true; return; }
        if (b->len) memcpy(p, b->p, b->len);
        OTEL_FREE(b->p, NULL);
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void otel__otlp_sb_str(otel__otlp_sb *b, const char *s) { otel__otlp_sb_add(b, s, strlen(s)); }

static char *otel__otlp_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = (char *)OTEL_MALLOC(n, NULL);
    if (p) memcpy(p, s, n);
    return p;
}

static const char *const otel__otlp_sig_prefix[3] = {"OTEL_EXPORTER_OTLP_TRACES_", "OTEL_EXPORTER_OTLP_METRICS_",
                                                       "OTEL_EXPORTER_OTLP_LOGS_"};
static const char *const otel__otlp_sig_path[3] = {"v1/traces", "v1/metrics", "v1/logs"};

/* The signal's variable if set and not empty, else the generic one; NULL if neither. */
static const char *otel__otlp_env(otel_signal sig, const char *suffix, const char **name) {
    static char names[2][64];
    int i;
    for (i = 0; i < 2; i++) {
        char buf[64];
        const char *v;
        snprintf(buf, sizeof buf, "%s%s", i ? "OTEL_EXPORTER_OTLP_" : otel__otlp_sig_prefix[sig], suffix);
        v = getenv(buf);
        if (v && *v) {
            memcpy(names[i], buf, sizeof buf); /* setup thread only */
            *name = names[i];
            return v;
        }
    }
    *name = NULL;
    return NULL;
}

/* Endpoint rules (spec/protocol/exporter.md): a per-signal URL is used as is; a generic
   one is a base URL to which "v1/traces" (v1/metrics, v1/logs) is appended after exactly
   one "/". */
static char *otel__otlp_base_url(otel_signal sig, const char *base, const char *origin) {
    otel__otlp_sb b = {NULL, 0, 0, false};
    const char *path = otel__otlp_sig_path[sig];
    size_t n = strlen(base), pn = strlen(path);
    while (n && base[n - 1] == '/') n--;
    if (n > pn && base[n - pn - 1] == '/' && !memcmp(base + n - pn, path, pn))
        otel_log(OTEL_LOG_WARN, "otlp: %s (%s) is a base URL and already ends in /%s, so requests go to "
                                ".../%s/%s; use %sENDPOINT (or otel_otlp_desc.%s_endpoint) for a full URL",
                 origin, base, path, path, path, otel__otlp_sig_prefix[sig], path + 3);
    otel__otlp_sb_add(&b, base, n);
    otel__otlp_sb_str(&b, "/");
    otel__otlp_sb_str(&b, path);
    return b.oom ? NULL : b.p;
}
static char *otel__otlp_resolve_url(const otel_otlp_desc *d) {
    const char *v, *name, *own = d->signal == OTEL_SIGNAL_METRICS ? d->metrics_endpoint
                                : d->signal == OTEL_SIGNAL_LOGS  ? d->logs_endpoint
                                                                 : d->traces_endpoint;
    char var[64];
    if (own && *own) return otel__otlp_strdup(own);
    if (d->endpoint && *d->endpoint) return otel__otlp_base_url(d->signal, d->endpoint, "otel_otlp_desc.endpoint");
    snprintf(var, sizeof var, "%sENDPOINT", otel__otlp_sig_prefix[d->signal]);
    v = getenv(var);
    if (v && *v) return otel__otlp_strdup(v);
    v = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    name = "OTEL_EXPORTER_OTLP_ENDPOINT";
    if (v && *v) return otel__otlp_base_url(d->signal, v, name);
    return otel__otlp_base_url(d->signal, "http://localhost:4318", "default");
}

static bool otel__otlp_hdr_name_ok(const char *s, size_t n) { /* RFC 9110 token */
    size_t i;
    if (!n) return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c)))) return false;
    }
    return true;
}
static bool otel__otlp_hdr_value_ok(const char *s, size_t n) { /* no CR, LF, NUL or other controls */
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    return true;
}

/* Adds "name: value" to `list` (NUL-separated). Forbidden bytes: error; headers the
   transport owns: ignored with a warning. */
static otel_result otel__otlp_add_header(otel__otlp_sb *list, const char *name, size_t nn, const char *val, size_t vn,
                                         const char *origin, bool *has_ua) {
    static const char *const owned[] = {"host", "content-length", "content-type", "content-encoding",
                                        "transfer-encoding", "connection", "expect"};
    size_t i;
    if (!otel__otlp_hdr_name_ok(name, nn)) {
        otel_log(OTEL_LOG_ERROR, "otlp: %s: header name \"%.*s\" is not a valid HTTP token: rejected", origin,
                 (int)(nn > 64 ? 64 : nn), name);
        return OTEL_ERR_INVALID_ARG;
    }
    if (!otel__otlp_hdr_value_ok(val, vn)) {
        otel_log(OTEL_LOG_ERROR, "otlp: %s: the value of header %.*s contains CR, LF or another control "
                                 "character: rejected (header injection)", origin, (int)nn, name);
        return OTEL_ERR_INVALID_ARG;
    }
    for (i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (strlen(owned[i]) == nn && !strncasecmp(owned[i], name, nn)) {
            otel_log(OTEL_LOG_WARN, "otlp: %s: header %.*s is set by the exporter itself: ignored", origin, (int)nn, name);
            return OTEL_OK;
        }
    if (nn == 10 && !strncasecmp(name, "user-agent", 10)) *has_ua = true;
    otel__otlp_sb_add(list, name, nn);
    otel__otlp_sb_add(list, ": ", 2);
    otel__otlp_sb_add(list, val, vn);
    otel__otlp_sb_add(list, "", 1); /* the separator NUL */
    return OTEL_OK;
}

/* "k=v,k2=v2" (W3C Baggage syntax without properties), keys and values percent-decoded by
   otel.h's list parser; each header is then validated. The first invalid header is the
   result (setup fails: no header injection), members after it are not added. */
typedef struct otel__otlp_hdr_ctx {
    otel__otlp_sb *list;
    const char *origin;
    bool *has_ua;
    otel_result rc;
} otel__otlp_hdr_ctx;

static void otel__otlp_hdr_kv(const char *k, size_t kn, const char *v, size_t vn, void *user) {
    otel__otlp_hdr_ctx *c = (otel__otlp_hdr_ctx *)user;
    if (c->rc == OTEL_OK) c->rc = otel__otlp_add_header(c->list, k, kn, v, vn, c->origin, c->has_ua);
}

static otel_result otel__otlp_parse_headers(otel__otlp_sb *list, const char *s, const char *origin, bool *has_ua) {
    otel__otlp_hdr_ctx c;
    c.list = list;
    c.origin = origin;
    c.has_ua = has_ua;
    c.rc = OTEL_OK;
    otel_kv_list_parse(s, origin, otel__otlp_hdr_kv, &c);
    return c.rc;
}

static bool otel__otlp_parse_ms(const otel__otlp *x, const char *v, const char *name, uint32_t *out) {
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    while (n && (*v == ' ' || *v == '\t')) { v++; n--; }
    if (!otel__otlp_is_digits(v, n) || n > 9) {
        otel_log(OTEL_LOG_WARN, "%s: %s=\"%s\" is not a number of milliseconds: ignored", x->who, name, v);
        return false;
    }
    *out = (uint32_t)strtoul(v, NULL, 10);
    return true;
}

/* The request line and fixed headers (up to Content-Length) into x->head, from x->u,
   x->json and x->user_headers. */
static otel_result otel__otlp_head(otel__otlp *x, bool has_ua) {
    otel__otlp_sb head = {NULL, 0, 0, false};
    const char *v;
    otel__otlp_sb_str(&head, "POST ");
    otel__otlp_sb_str(&head, x->u.path);
    otel__otlp_sb_str(&head, " HTTP/1.1\r\nHost: ");
    otel__otlp_sb_str(&head, x->u.authority);
    if (!has_ua) otel__otlp_sb_str(&head, "\r\nUser-Agent: " OTEL__OTLP_USER_AGENT);
    otel__otlp_sb_str(&head, x->json ? "\r\nContent-Type: application/json\r\n" : "\r\nContent-Type: application/x-protobuf\r\n");
    for (v = x->user_headers; *v; v += strlen(v) + 1) {
        otel__otlp_sb_str(&head, v);
        otel__otlp_sb_add(&head, "\r\n", 2);
    }
    x->head = head.p;
    x->head_len = head.len;
    return head.oom ? OTEL_ERR_NO_MEMORY : OTEL_OK;
}

/* Resolves desc + environment into x. Errors are logged here. */
static otel_result otel__otlp_configure(otel__otlp *x, const otel_otlp_desc *d) {
    const char *v, *name, *why = NULL;
    otel_otlp_protocol proto = d->protocol;
    otel__otlp_sb list = {NULL, 0, 0, false};
    bool has_ua = false;
    otel_result rc;
    size_t i;
    if ((unsigned)d->signal > OTEL_SIGNAL_LOGS) return OTEL_ERR_INVALID_ARG;
    x->signal = d->signal;
    x->noun = d->signal == OTEL_SIGNAL_METRICS ? "data points" : d->signal == OTEL_SIGNAL_LOGS ? "log records" : "spans";
    x->who = "otlp";
    if (!proto && (v = otel__otlp_env(d->signal, "PROTOCOL", &name)) != NULL) {
        if (!strcasecmp(v, "http/protobuf")) proto = OTEL_OTLP_PROTOCOL_HTTP_PROTOBUF;
        else if (!strcasecmp(v, "http/json")) proto = OTEL_OTLP_PROTOCOL_HTTP_JSON;
        else if (!strcasecmp(v, "grpc")) proto = OTEL_OTLP_PROTOCOL_GRPC;
        else {
            otel_log(OTEL_LOG_ERROR, "otlp: %s=\"%s\" is not a protocol (http/protobuf, http/json, grpc)", name, v);
            return OTEL_ERR_INVALID_ARG;
        }
    }
    if (proto == OTEL_OTLP_PROTOCOL_GRPC) {
        otel_log(OTEL_LOG_ERROR, "otlp: protocol grpc is not supported; use http/protobuf or http/json (port 4318)");
        return OTEL_ERR_NOT_BUILT;
    }
    if (proto > OTEL_OTLP_PROTOCOL_GRPC) return OTEL_ERR_INVALID_ARG;
    if (proto == OTEL_OTLP_PROTOCOL_HTTP_JSON) {
        bool built = true;
#ifndef OTEL__HAVE_JSON_METRICS
        if (d->signal == OTEL_SIGNAL_METRICS) built = false;
#endif
#ifndef OTEL__HAVE_JSON_LOGS
        if (d->signal == OTEL_SIGNAL_LOGS) built = false;
#endif
        if (!built) {
            otel_log(OTEL_LOG_ERROR, "otlp: http/json for %s needs otel.h's OTLP/JSON writer for them, which this "
                                     "build lacks; use http/protobuf", d->signal == OTEL_SIGNAL_METRICS ? "metrics" : "logs");
            return OTEL_ERR_NOT_BUILT;
        }
        x->json = true;
    }
    x->url = otel__otlp_resolve_url(d);
    if (!x->url) return OTEL_ERR_NO_MEMORY;
    rc = otel__otlp_url_parse(x->url, &x->u, &why);
    if (rc != OTEL_OK) {
        if (why) otel_log(OTEL_LOG_ERROR, "otlp: endpoint \"%s\": %s", x->url, why);
        return rc;
    }
    x->timeout_ms = d->timeout_ms;
    if (!x->timeout_ms && (v = otel__otlp_env(d->signal, "TIMEOUT", &name)) != NULL) (void)otel__otlp_parse_ms(x, v, name, &x->timeout_ms);
    if (!x->timeout_ms) x->timeout_ms = OTEL__OTLP_TIMEOUT_MS;
    if (d->compression) {
        x->gzip = d->compression == OTEL_OTLP_COMPRESSION_GZIP;
    } else if ((v = otel__otlp_env(d->signal, "COMPRESSION", &name)) != NULL) {
        if (!strcasecmp(v, "gzip")) x->gzip = true;
        else if (strcasecmp(v, "none")) otel_log(OTEL_LOG_WARN, "otlp: %s=\"%s\" is not gzip or none: ignored", name, v);
    }
    x->retry_initial_ms = d->retry_initial_ms ? d->retry_initial_ms : OTEL__OTLP_RETRY_INITIAL_MS;
    x->retry_max_ms = d->retry_max_ms ? d->retry_max_ms : OTEL__OTLP_RETRY_MAX_MS;
    if (x->retry_max_ms < x->retry_initial_ms) x->retry_max_ms = x->retry_initial_ms;
    x->max_request = d->max_request_bytes ? d->max_request_bytes : OTEL__OTLP_MAX_REQUEST;
    /* headers: from the desc if it has any, else from the environment */
    rc = OTEL_OK;
    for (i = 0; i < d->header_count && d->headers && rc == OTEL_OK; i++) {
        const otel_otlp_header *h = &d->headers[i];
        if (!h->name) continue;
        rc = otel__otlp_add_header(&list, h->name, strlen(h->name), h->value ? h->value : "",
                                   h->value ? strlen(h->value) : 0, "otel_otlp_desc.headers", &has_ua);
    }
    if (rc == OTEL_OK && d->headers_str)
        rc = otel__otlp_parse_headers(&list, d->headers_str, "otel_otlp_desc.headers_str", &has_ua);
    if (rc == OTEL_OK && !d->header_count && !d->headers_str && (v = otel__otlp_env(d->signal, "HEADERS", &name)) != NULL)
        rc = otel__otlp_parse_headers(&list, v, name, &has_ua);
    otel__otlp_sb_add(&list, "", 1); /* the list ends with an empty entry */
    x->user_headers = list.p;
    if (rc != OTEL_OK) return rc;
    if (list.oom) return OTEL_ERR_NO_MEMORY;
    if ((rc = otel__otlp_head(x, has_ua)) != OTEL_OK) return rc;
#ifdef OTEL_USE_CURL
    {
        const char *ca = d->certificate, *key = d->client_key, *cert = d->client_certificate;
        if (!ca) ca = otel__otlp_env(d->signal, "CERTIFICATE", &name);
        if (!key) key = otel__otlp_env(d->signal, "CLIENT_KEY", &name);
        if (!cert) cert = otel__otlp_env(d->signal, "CLIENT_CERTIFICATE", &name);
        x->tls_insecure = d->insecure;
        if (!x->tls_insecure && (v = otel__otlp_env(d->signal, "INSECURE", &name)) != NULL) x->tls_insecure = !strcasecmp(v, "true");
        if ((ca && !(x->tls_ca = otel__otlp_strdup(ca))) || (key && !(x->tls_key = otel__otlp_strdup(key))) ||
            (cert && !(x->tls_cert = otel__otlp_strdup(cert))))
            return OTEL_ERR_NO_MEMORY;
    }
#endif
    return OTEL_OK;
}

static void otel__otlp_destroy(otel__otlp *x) {
    if (!x) return;
    otel__otlp_transport_free(x);
    if (x->wake[0] >= 0) close(x->wake[0]);
    if (x->wake[1] >= 0) close(x->wake[1]);
    otel_otlp_encoder_destroy(x->enc);
    otel__buf_free(&x->jbuf);
    OTEL_FREE(x->url, NULL);
    OTEL_FREE(x->u.path, NULL);
    OTEL_FREE(x->head, NULL);
    OTEL_FREE(x->user_headers, NULL);
    OTEL_FREE(x->rbuf, NULL);
    x->magic = 0;
    OTEL_FREE(x, NULL);
}

static uint64_t otel__otlp_rand(otel__otlp *x) { /* xorshift64* */
    x->rng ^= x->rng >> 12;
    x->rng ^= x->rng << 25;
    x->rng ^= x->rng >> 27;
    return x->rng * 2685821657736338717ull;
}
/* Exponential backoff: initial * 2^attempt, capped, +-20% jitter. */
static int64_t otel__otlp_backoff(otel__otlp *x, int attempt) {
    uint64_t b = x->retry_initial_ms;
    int i;
    for (i = 0; i < attempt && b < x->retry_max_ms; i++) b *= 2;
    if (b > x->retry_max_ms) b = x->retry_max_ms;
    return (int64_t)(b * (800 + otel__otlp_rand(x) % 401) / 1000);
}

/* OTLP/JSON partial success: the value of "key" in `p` (a number, or a string when `str`):
   its bytes in *v, *vn. A plain scan, enough for {"partialSuccess":{"rejectedSpans":"2",
   "errorMessage":"..."}}: the keys are unique in that message. */
static bool otel__otlp_json_member(const uint8_t *p, size_t n, const char *key, bool str, const uint8_t **v, size_t *vn) {
    size_t k = strlen(key), i, j;
    for (i = 0; i + k + 2 <= n; i++) {
        if (p[i] != '"' || memcmp(p + i + 1, key, k) || p[i + 1 + k] != '"') continue;
        j = i + k + 2;
        while (j < n && (p[j] == ' ' || p[j] == ':' || p[j] == '\t' || p[j] == '\r' || p[j] == '\n')) j++;
        if (j < n && p[j] == '"') {
            size_t e = ++j;
            while (e < n && p[e] != '"') e += p[e] == '\\' ? 2 : 1;
            if (e > n) e = n;
            *v = p + j;
            *vn = e - j;
            return true;
        }
        if (str) return false;
        *v = p + j;
        for (*vn = 0; j + *vn < n && p[j + *vn] >= '0' && p[j + *vn] <= '9'; (*vn)++) {}
        return true;
    }
    return false;
}

/* A 2xx body: Export*ServiceResponse{partial_success{rejected_<items>, error_message}}, in
   protobuf (the field numbers are the same for the three signals) or OTLP/JSON. */
static void otel__otlp_partial(otel__otlp *x, const otel__otlp_resp *r) {
    static const char *const json_key[3] = {"rejectedSpans", "rejectedDataPoints", "rejectedLogRecords"};
    otel__pbr rd, sub, f;
    uint32_t field, wire;
    uint64_t val;
    int64_t rejected = 0;
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    if (!r->body_len) return; /* the usual answer: empty */
    if (x->json) {
        const uint8_t *v;
        size_t vn, i;
        if (otel__otlp_json_member(r->body, r->body_len, json_key[x->signal], false, &v, &vn))
            for (i = 0; i < vn && i < 18 && v[i] >= '0' && v[i] <= '9'; i++) rejected = rejected * 10 + (v[i] - '0');
        if (!otel__otlp_json_member(r->body, r->body_len, "errorMessage", true, &msg, &msg_len)) msg = NULL, msg_len = 0;
        goto report;
    }
    rd.p = r->body; rd.end = r->body + r->body_len; rd.err = false;
    while (otel__pbr_next(&rd, &field, &wire, &val, &sub)) {
        if (field != OTEL__PB_RESP_PARTIAL_SUCCESS || wire != OTEL__PB_LEN) continue;
        while (otel__pbr_next(&sub, &field, &wire, &val, &f)) {
            if (field == OTEL__PB_PARTIAL_REJECTED_SPANS && wire == OTEL__PB_VARINT) rejected = (int64_t)val;
            else if (field == OTEL__PB_PARTIAL_ERROR_MESSAGE && wire == OTEL__PB_LEN) {
                msg = f.p;
                msg_len = (size_t)(f.end - f.p);
            }
        }
    }
report:
    if (rejected > 0) OTEL__OTLP_ADD(&x->st.spans_rejected, (uint64_t)rejected);
    if (rejected > 0 || msg_len)
        otel__otlp_log(x, OTEL__OTLP_LOG_PARTIAL, OTEL_LOG_WARN, "the receiver rejected %lld %s: %.*s",
                       (long long)rejected, x->noun, (int)(msg_len > 200 ? 200 : msg_len), msg ? (const char *)msg : "");
}

/* The start of an error body for the log: google.rpc.Status.message when the body is
   one, else its first bytes with non-printable ones shown as '.'. */
static void otel__otlp_body_text(const otel__otlp_resp *r, char *out, size_t cap) {
    otel__pbr rd, sub;
    uint32_t field, wire;
    uint64_t val;
    const uint8_t *p = r->body;
    size_t n = r->body_len, i;
    out[0] = 0;
    if (!n) return;
    rd.p = r->body; rd.end = r->body + r->body_len; rd.err = false;
    while (otel__pbr_next(&rd, &field, &wire, &val, &sub))
        if (field == OTEL__PB_RPC_STATUS_MESSAGE && wire == OTEL__PB_LEN && sub.end > sub.p) {
            p = sub.p;
            n = (size_t)(sub.end - sub.p);
        }
    if (n > cap - 1) n = cap - 1;
    for (i = 0; i < n; i++) out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.';
    out[n] = 0;
}

/* The start of a plain-text error body (Zipkin's), non-printables as '.'. */
static void otel__otlp_plain_text(const otel__otlp_resp *r, char *out, size_t cap) {
    size_t n = r->body_len < cap - 1 ? r->body_len : cap - 1, i;
    for (i = 0; i < n; i++) out[i] = (r->body[i] >= 0x20 && r->body[i] < 0x7f) ? (char)r->body[i] : '.';
    while (n && out[n - 1] == '.') n--; /* a trailing newline */
    out[n] = 0;
}

static bool otel__otlp_retryable(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
}

/* The request body for `batch` (of x's signal) in x's protocol: 0 (*body), 1 over
   max_request (*len = its size), -1 out of memory, -2 inconsistent batch. */
static int otel__otlp_body(otel__otlp *x, const void *batch, const uint8_t **body, size_t *len) {
    int rc;
    if (x->json) {
        x->jbuf.len = 0;
        x->jbuf.failed = false;
        if (x->signal == OTEL_SIGNAL_TRACES) otel__otlp_json_traces(&x->jbuf, (const otel_span_batch *)batch);
#ifdef OTEL__HAVE_JSON_METRICS
        else if (x->signal == OTEL_SIGNAL_METRICS) otel__json_metrics_request(&x->jbuf, (const otel_metric_batch *)batch);
#endif
#ifdef OTEL__HAVE_JSON_LOGS
        else if (x->signal == OTEL_SIGNAL_LOGS) otel__json_logs_request(&x->jbuf, (const otel_log_batch *)batch);
#endif
        else return -2; /* refused at setup */
        if (x->jbuf.failed || !x->jbuf.p) return -1;
        *body = (const uint8_t *)x->jbuf.p;
        *len = x->jbuf.len;
        return x->jbuf.len > x->max_request ? 1 : 0;
    }
    if (x->signal == OTEL_SIGNAL_METRICS) rc = otel__otlp_encode_metrics(x->enc, (const otel_metric_batch *)batch, x->max_request, len);
    else if (x->signal == OTEL_SIGNAL_LOGS) rc = otel__otlp_encode_logs(x->enc, (const otel_log_batch *)batch, x->max_request, len);
    else rc = otel__otlp_encode(x->enc, (const otel_span_batch *)batch, x->max_request, len);
    *body = x->enc->buf;
    return rc;
}

/* One export of `n` items: encode, gzip, POST with retries until the deadline. Serves
   the OTLP exporters of the three signals and (with x->body_fn) the Zipkin exporter. */
static otel_export_result otel__otlp_deliver(otel__otlp *x, const void *batch, size_t n, uint32_t batch_timeout_ms) {
    size_t raw_len = 0, len;
    const uint8_t *body = NULL;
    bool gz = false;
    int64_t start, deadline;
    uint32_t timeout;
    int rc, attempt;
    OTEL__OTLP_ADD(&x->st.batches, 1);
    if (OTEL__OTLP_LOAD(&x->cancelled)) { OTEL__OTLP_ADD(&x->st.spans_failed, n); return OTEL_EXPORT_FAILURE; }
    start = otel__otlp_ms();
    timeout = x->timeout_ms; /* ours, or the destination's export timeout if shorter */
    if (batch_timeout_ms && batch_timeout_ms < timeout) timeout = batch_timeout_ms;
    deadline = start + timeout;
    rc = x->body_fn ? x->body_fn(x->owner, batch, &body, &raw_len) : otel__otlp_body(x, batch, &body, &raw_len);
    if (rc == 1) {
        OTEL__OTLP_ADD(&x->st.spans_dropped, n);
        otel__otlp_log(x, OTEL__OTLP_LOG_TOO_BIG, OTEL_LOG_ERROR, "%zu %s make %zu bytes, over the %zu-byte limit",
                       n, x->noun, raw_len, x->max_request);
        return OTEL_EXPORT_FAILURE;
    }
    if (rc != 0) {
        OTEL__OTLP_ADD(&x->st.spans_failed, n);
        otel__otlp_log(x, OTEL__OTLP_LOG_ENCODE, OTEL_LOG_ERROR, "%s", rc == -1 ? "out of memory" : "inconsistent batch");
        return OTEL_EXPORT_FAILURE;
    }
    len = raw_len;
    OTEL__OTLP_ADD(&x->st.bytes_raw, raw_len);
    if (x->gzip) {
        const uint8_t *z;
        size_t zl;
        if (otel_otlp_gzip(x->enc, body, raw_len, &z, &zl) == OTEL_OK) { body = z; len = zl; gz = true; }
    }
    char reason[200] = ""; /* why the last try failed: named again if the deadline cuts the next one short */
    for (attempt = 0;; attempt++) {
        otel__otlp_resp r;
        otel__otlp_tx tx;
        int64_t wait, now;
        memset(&r, 0, sizeof r);
        r.retry_after_ms = -1;
        tx = otel__otlp_post(x, body, len, gz, deadline, &r);
        if (tx == OTEL__OTLP_TX_DONE) {
            OTEL__OTLP_STORE(&x->st.last_status, r.status);
            if (r.status >= 200 && r.status < 300) { /* Zipkin answers 202, with no partial success */
                if (!x->body_fn) otel__otlp_partial(x, &r);
                OTEL__OTLP_ADD(&x->st.spans_exported, n);
                return OTEL_EXPORT_SUCCESS;
            }
            if (!otel__otlp_retryable(r.status)) {
                char text[129];
                if (x->body_fn) otel__otlp_plain_text(&r, text, sizeof text);
                else otel__otlp_body_text(&r, text, sizeof text);
                OTEL__OTLP_ADD(&x->st.spans_failed, n);
                otel__otlp_log(x, OTEL__OTLP_LOG_HTTP, OTEL_LOG_ERROR, "HTTP %d for %zu %s (not retried): %s",
                               r.status, n, x->noun, text[0] ? text : "(empty body)");
                return OTEL_EXPORT_FAILURE;
            }
            snprintf(reason, sizeof reason, "HTTP %d", r.status);
        } else if (tx == OTEL__OTLP_TX_RETRY) {
            snprintf(reason, sizeof reason, "%s", r.detail);
        } else {
            OTEL__OTLP_ADD(&x->st.spans_failed, n);
            if (tx == OTEL__OTLP_TX_TIMEOUT)
                otel__otlp_log(x, OTEL__OTLP_LOG_TIMEOUT, OTEL_LOG_ERROR, "%zu %s lost after %u ms and %d tries (%s%s%s)",
                               n, x->noun, timeout, attempt + 1, r.detail[0] ? r.detail : "no answer",
                               reason[0] ? "; the try before: " : "", reason);
            else if (tx == OTEL__OTLP_TX_FAIL)
                otel__otlp_log(x, OTEL__OTLP_LOG_GAVE_UP, OTEL_LOG_ERROR, "%zu %s lost: %s", n, x->noun, r.detail);
            return OTEL_EXPORT_FAILURE; /* cancelled: the caller knows why */
        }
        wait = r.retry_after_ms >= 0 ? r.retry_after_ms : otel__otlp_backoff(x, attempt);
        now = otel__otlp_ms();
        if (now + wait >= deadline) {
            OTEL__OTLP_ADD(&x->st.spans_failed, n);
            otel__otlp_log(x, OTEL__OTLP_LOG_GAVE_UP, OTEL_LOG_ERROR,
                           "%zu %s lost: %s after %d tries; the next in %lld ms would pass the %u ms timeout",
                           n, x->noun, reason, attempt + 1, (long long)wait, timeout);
            return OTEL_EXPORT_FAILURE;
        }
        otel__otlp_log(x, OTEL__OTLP_LOG_RETRY, OTEL_LOG_DEBUG, "%s; retrying in %lld ms", reason, (long long)wait);
        if (otel__otlp_wait(x, -1, 0, now + wait) != 0) { /* cancelled */
            OTEL__OTLP_ADD(&x->st.spans_failed, n);
            return OTEL_EXPORT_FAILURE;
        }
        OTEL__OTLP_ADD(&x->st.retries, 1);
    }
}

static otel_export_result otel__otlp_export(const otel_span_batch *batch, void *user) {
    otel__otlp *x = (otel__otlp *)user;
    if (!x || !batch || !batch->count) return OTEL_EXPORT_SUCCESS; /* empty batches are not sent */
    return otel__otlp_deliver(x, batch, batch->count, batch->timeout_ms);
}
static otel_export_result otel__otlp_export_metrics(const otel_metric_batch *batch, void *user) {
    otel__otlp *x = (otel__otlp *)user;
    size_t n = 0, i;
    for (i = 0; batch && batch->metrics && i < batch->count; i++)
        if (otel__pb_metric_field(&batch->metrics[i])) n += batch->metrics[i].point_count;
    if (!x || !n) return OTEL_EXPORT_SUCCESS; /* no data points: nothing is sent */
    return otel__otlp_deliver(x, batch, n, batch->timeout_ms);
}
static otel_export_result otel__otlp_export_logs(const otel_log_batch *batch, void *user) {
    otel__otlp *x = (otel__otlp *)user;
    if (!x || !batch || !batch->count) return OTEL_EXPORT_SUCCESS;
    return otel__otlp_deliver(x, batch, batch->count, batch->timeout_ms);
}

static void otel__otlp_cancel(otel__otlp *x) {
    char c = 1;
    OTEL__OTLP_STORE(&x->cancelled, 1);
    if (x->wake[1] >= 0) (void)!write(x->wake[1], &c, 1);
}

static void otel__otlp_cancel_cb(void *user) {
    if (user) otel__otlp_cancel((otel__otlp *)user);
}

static void otel__otlp_shutdown(uint32_t timeout_ms, void *user) {
    otel__otlp *x = (otel__otlp *)user;
    (void)timeout_ms; /* nothing is buffered here: the pipeline already flushed */
    if (!x) return;
    otel__otlp_cancel(x);
    otel__otlp_destroy(x);
}

static otel__otlp *otel__otlp_of(const otel_exporter *exp) {
    otel__otlp *x;
    if (!exp || !exp->user ||
        (exp->export_spans != otel__otlp_export && exp->export_metrics != otel__otlp_export_metrics &&
         exp->export_logs != otel__otlp_export_logs))
        return NULL;
    x = (otel__otlp *)exp->user;
    return x->magic == OTEL__OTLP_MAGIC ? x : NULL;
}

/* After configure: the cancel pipe, the encoder (also the gzip buffers), the transport.
   On failure the caller destroys x. */
static otel_result otel__otlp_start(otel__otlp *x) {
    int i;
    if (pipe(x->wake) != 0) return OTEL_ERR_IO;
    for (i = 0; i < 2; i++) {
        (void)fcntl(x->wake[i], F_SETFD, FD_CLOEXEC);
        (void)fcntl(x->wake[i], F_SETFL, fcntl(x->wake[i], F_GETFL) | O_NONBLOCK);
    }
    if (!(x->enc = otel_otlp_encoder_create())) return OTEL_ERR_NO_MEMORY;
    return otel__otlp_transport_init(x);
}

OTEL_API otel_result otel_otlp_exporter_create(const otel_otlp_desc *desc, otel_exporter *out) {
    otel_otlp_desc d;
    otel__otlp *x;
    otel_result rc;
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (desc) d = *desc;
    else memset(&d, 0, sizeof d);
    x = (otel__otlp *)OTEL_MALLOC(sizeof *x, NULL);
    if (!x) return OTEL_ERR_NO_MEMORY;
    memset(x, 0, sizeof *x);
    x->fd = -1;
    x->wake[0] = x->wake[1] = -1;
    rc = otel__otlp_configure(x, &d);
    if (rc == OTEL_OK) rc = otel__otlp_start(x);
    if (rc != OTEL_OK) {
        otel__otlp_destroy(x);
        return rc;
    }
    x->rng = (uint64_t)otel__otlp_ms() ^ ((uint64_t)(uintptr_t)x << 16) ^ ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ull;
    x->magic = OTEL__OTLP_MAGIC;
    if (x->signal == OTEL_SIGNAL_METRICS) out->export_metrics = otel__otlp_export_metrics;
    else if (x->signal == OTEL_SIGNAL_LOGS) out->export_logs = otel__otlp_export_logs;
    else out->export_spans = otel__otlp_export;
    out->force_flush = NULL; /* nothing is buffered in the exporter */
    out->shutdown = otel__otlp_shutdown;
    out->cancel = otel__otlp_cancel_cb;
    out->user = x;
    out->name = "otlp";
    otel_log(OTEL_LOG_DEBUG, "otlp: exporting %s to %s (%s, timeout %u ms%s)", x->noun, x->url,
             x->json ? "http/json" : "http/protobuf", x->timeout_ms, x->gzip ? ", gzip" : "");
    return OTEL_OK;
}

OTEL_API otel_result otel_otlp_exporter_stats(const otel_exporter *exp, otel_otlp_stats *out) {
    otel__otlp *x = otel__otlp_of(exp);
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!x) return OTEL_ERR_INVALID_ARG;
    out->batches = OTEL__OTLP_LOAD(&x->st.batches);
    out->spans_exported = OTEL__OTLP_LOAD(&x->st.spans_exported);
    out->spans_rejected = OTEL__OTLP_LOAD(&x->st.spans_rejected);
    out->spans_failed = OTEL__OTLP_LOAD(&x->st.spans_failed);
    out->spans_dropped = OTEL__OTLP_LOAD(&x->st.spans_dropped);
    out->requests = OTEL__OTLP_LOAD(&x->st.requests);
    out->retries = OTEL__OTLP_LOAD(&x->st.retries);
    out->connect_failures = OTEL__OTLP_LOAD(&x->st.connect_failures);
    out->connections = OTEL__OTLP_LOAD(&x->st.connections);
    out->bytes_sent = OTEL__OTLP_LOAD(&x->st.bytes_sent);
    out->bytes_raw = OTEL__OTLP_LOAD(&x->st.bytes_raw);
    out->last_status = OTEL__OTLP_LOAD(&x->st.last_status);
    return OTEL_OK;
}

OTEL_API void otel_otlp_exporter_cancel(const otel_exporter *exp) {
    otel__otlp *x = otel__otlp_of(exp);
    if (x) otel__otlp_cancel(x);
}

OTEL_API const char *otel_otlp_exporter_url(const otel_exporter *exp) {
    otel__otlp *x = otel__otlp_of(exp);
    return x ? x->url : NULL;
}

static otel_result otel__otlp_factory(otel_signal signal, otel_exporter *out, void *user) {
    otel_otlp_desc d;
    (void)user;
    memset(&d, 0, sizeof d);
    d.signal = signal;
    return otel_otlp_exporter_create(&d, out);
}

OTEL_API otel_result otel_otlp_register(void) {
    return otel_exporter_register("otlp", otel__otlp_factory, NULL);
}

#if (defined(__GNUC__) || defined(__clang__)) && !defined(OTEL_OTLP_NO_AUTOREGISTER)
/* OTEL_TRACES_EXPORTER=otlp works as soon as this implementation is linked in. */
__attribute__((constructor)) static void otel__otlp_autoregister(void) {
    (void)otel_otlp_register();
}
#endif


/* ==== [zipkin] ==================================================================== */

/* The Zipkin v2 JSON exporter, over the same transport and retry rules as OTLP: an
   otel__otlp (URL, request head, connection, cancel pipe, counters, log limiter) and
   otel__otlp_deliver do the POST and retries; only the body (body_fn), the messages'
   prefix and the plain-text error answers (no partial success) are Zipkin's.

   Mapping (spec/trace/sdk_exporters/zipkin.md, common/mapping-to-non-otlp.md):
   - traceId 32 and id/parentId 16 lower-hex chars; parentId absent on roots.
   - kind CLIENT/SERVER/PRODUCER/CONSUMER; absent for INTERNAL. name absent when empty.
   - timestamp, duration, annotation timestamps: whole microseconds rounded to the
     nearest, half up ((ns + 500) / 1000, as the Go and Python exporters do). duration is
     the rounded end - start, at least 1 (Zipkin's minimum; Go reports a sub-microsecond
     span as 1, Java clamps to 1), also for a zero or negative span.
   - localEndpoint.serviceName: the resource's service.name ("unknown_service" without
     one). Other resource attributes are not tags, except service.namespace (the spec:
     "should be sent as a Zipkin tag"; a span attribute of that name wins).
   - remoteEndpoint, CLIENT and PRODUCER spans only, from the highest-ranked string
     attribute present: peer.service, server.address, net.peer.name,
     network.peer.address(+port), server.socket.domain, server.socket.address(+port),
     net.sock.peer.name, net.sock.peer.addr(+port), peer.hostname, peer.address, db.name.
     The *.address/addr ones give ipv4/ipv6 (+ port from the matching port attribute);
     one that is not an IP address is passed over for the next rank. The others give
     serviceName.
   - tags: every attribute as a string: bools "true"/"false", ints decimal, doubles the
     shortest round-trip form ("1.0", "0.1", "NaN", "Infinity"), arrays a JSON array
     ("[1,2]", "[\"a\",\"b\"]"). Then otel.scope.name/version and the deprecated
     otel.library.name/version, otel.status_code ("OK"/"ERROR", not for UNSET), error (the
     status description, "" if none; only with ERROR: an attribute named "error" is always
     dropped, as the spec asks for a boolean one and the Go exporter does),
     otel.dropped_attributes_count / _events_count / _links_count when not 0. A generated
     tag wins over an attribute with the same key (no duplicate keys).
   - events: annotations; an event without attributes has its name as value, one with
     attributes "\"<name>\":{<attributes as typed JSON>}" (the spec's form), with
     otel.dropped_attributes_count inside when the event dropped some.
   - links and trace state: not mapped (the spec leaves them TBD).
   Strings are JSON-escaped; invalid UTF-8 (the SDK repairs its own strings, but a
   hand-made batch may carry it) becomes U+FFFD per bad byte. */

#include <arpa/inet.h>
#include <float.h>

#define OTEL__ZIPKIN_MAGIC 0x7a69706bu /* "zipk" */
#define OTEL__ZIPKIN_ENDPOINT "http://localhost:9411/api/v2/spans"

typedef struct otel__zipkin {
    uint32_t magic;
    otel__otlp *t;       /* transport, retry state, cancel, counters, log limiter */
    otel__otlp_sb out;   /* the request body, reused */
    otel__otlp_sb tmp;   /* a JSON value that becomes a string (array tags, annotations) */
} otel__zipkin;

/* ---- JSON writing ------------------------------------------------------------------- */

/* Room for n more bytes (and the NUL the sb keeps); NULL when out of memory. */
static char *otel__zk_grow(otel__otlp_sb *b, size_t n) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    if (b->oom) return NULL;
    if (n > SIZE_MAX / 4 - b->len) { b->oom = true; return NULL; }
    while (cap < b->len + n + 1) cap *= 2;
    p = (char *)OTEL_MALLOC(cap, NULL);
    if (!p) { b->oom = true; return NULL; }
    if (b->len) memcpy(p, b->p, b->len);
    OTEL_FREE(b->p, NULL);
    b->p = p;
    b->cap = cap;
    return b->p + b->len;
}
static inline char *otel__zk_room(otel__otlp_sb *b, size_t n) {
    if (n < b->cap - b->len && !b->oom) return b->p + b->len; /* the usual case: it fits */
    return otel__zk_grow(b, n);
}
static inline void otel__zk_put(otel__otlp_sb *b, const char *s, size_t n) {
    char *o = otel__zk_room(b, n);
    if (!o) return;
    memcpy(o, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
#define OTEL__ZK_LIT(b, lit) otel__zk_put((b), (lit), sizeof(lit) - 1)

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or code
   points above U+10FFFF), 0 if invalid. */
static size_t otel__zk_utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF) return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) return 0;
        return 4;
    }
    return 0;
}

/* Bytes copied into a JSON string as they are: printable ASCII and DEL, except '"' and backslash. */
static const unsigned char otel__zk_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* A JSON string: quotes, backslashes and control characters escaped, invalid UTF-8
   replaced by U+FFFD per byte. At most 6 output bytes per input byte. */
static void otel__zk_str(otel__otlp_sb *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    char *o, *o0;
    size_t i = 0;
    if (n > SIZE_MAX / 8) { b->oom = true; return; }
    o = o0 = otel__zk_room(b, 6 * n + 2);
    if (!o) return;
    *o++ = '"';
    while (i < n) {
        unsigned char c;
        size_t k, run = i;
        while (i < n && otel__zk_plain[p[i]]) i++;
        if (i > run) {
            memcpy(o, p + run, i - run);
            o += i - run;
            if (i == n) break;
        }
        c = p[i];
        if (c < 0x80) {
            *o++ = '\\';
            switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default: *o++ = 'u'; *o++ = '0'; *o++ = '0'; *o++ = hex[c >> 4]; *o++ = hex[c & 15]; break;
            }
            i++;
            continue;
        }
        k = otel__zk_utf8_len(p + i, n - i);
        if (k) {
            memcpy(o, p + i, k);
            o += k;
            i += k;
        } else {
            *o++ = (char)0xEF; *o++ = (char)0xBF; *o++ = (char)0xBD;
            i++;
        }
    }
    *o++ = '"';
    b->len += (size_t)(o - o0);
    b->p[b->len] = 0;
}
static void otel__zk_ostr(otel__otlp_sb *b, otel_str s) { otel__zk_str(b, s.ptr ? s.ptr : "", s.ptr ? s.len : 0); }


/* Decimal digits of v at the end of t[24]; returns where they start. */
static char *otel__zk_utoa(char *t, uint64_t v, bool neg) {
    char *p = t + 24;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    if (neg) *--p = '-';
    return p;
}
static size_t otel__zk_itoa(char *t, int64_t v, const char **start) { /* t[24] */
    *start = otel__zk_utoa(t, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
    return (size_t)(t + 24 - *start);
}
static void otel__zk_u64(otel__otlp_sb *b, uint64_t v) {
    char t[24];
    const char *p = otel__zk_utoa(t, v, false);
    otel__zk_put(b, p, (size_t)(t + 24 - p));
}
static void otel__zk_i64(otel__otlp_sb *b, int64_t v) {
    char t[24];
    const char *p;
    size_t n = otel__zk_itoa(t, v, &p);
    otel__zk_put(b, p, n);
}

/* The common doubles (up to 6 decimals, 1e-4 <= |d| < 1e15) without printf: the digits
   of the smallest k for which M = |d| * 10^k is an integer and M / 10^k gives d back
   (both exact doubles, so the division rounds as strtod would). %.15g prints the same.
   Returns the length, 0 when another form is needed. */
static size_t otel__zk_double_fast(char *out, double d) {
    static const double p10[7] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    double a = d < 0 ? -d : d;
    char t[24];
    const char *q;
    size_t o = 0, nd, k;
    if (!(a >= 1e-4 && a < 1e15)) return 0;
    for (k = 0; k < 7; k++) {
        double m = a * p10[k];
        uint64_t M;
        if (m >= 1e15) return 0;
        M = (uint64_t)m;
        if ((double)M != m || (double)M / p10[k] != a) continue;
        while (k && M % 10 == 0) { M /= 10; k--; } /* no trailing zeros */
        q = otel__zk_utoa(t, M, false);
        nd = (size_t)(t + 24 - q);
        if (d < 0) out[o++] = '-';
        if (k == 0) {
            memcpy(out + o, q, nd);
            o += nd;
            out[o++] = '.';
            out[o++] = '0';
        } else if (nd > k) {
            memcpy(out + o, q, nd - k);
            o += nd - k;
            out[o++] = '.';
            memcpy(out + o, q + nd - k, k);
            o += k;
        } else {
            out[o++] = '0';
            out[o++] = '.';
            memset(out + o, '0', k - nd);
            o += k - nd;
            memcpy(out + o, q, nd);
            o += nd;
        }
        out[o] = 0;
        return o;
    }
    return 0;
}

/* The shortest of %.15g/%.16g/%.17g that reads back exactly, ".0" added to integral
   values, the locale's decimal point replaced by '.'. Returns the length (out[48]). */
static size_t otel__zk_double_slow(char *out, double d) {
    char tmp[48];
    size_t i, o = 0;
    int prec;
    bool frac = false;
    for (prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    for (i = 0; tmp[i] && o < 44; i++) {
        char c = tmp[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
            out[o++] = c;
            if (c == 'e' || c == 'E') frac = true;
        } else if (!frac) { /* a decimal point of one or more bytes */
            out[o++] = '.';
            frac = true;
            while (tmp[i + 1] && !(tmp[i + 1] >= '0' && tmp[i + 1] <= '9')) i++;
        }
    }
    if (!frac) { out[o++] = '.'; out[o++] = '0'; }
    out[o] = 0;
    return o;
}
/* A double as text (out[48]): the shortest form that reads back exactly, "1.0" for
   integral values, "NaN", "Infinity", "-Infinity". Returns the length. */
static size_t otel__zk_double(char *out, double d) {
    size_t n;
    if (d != d) { memcpy(out, "NaN", 4); return 3; }
    if (d > DBL_MAX) { memcpy(out, "Infinity", 9); return 8; }
    if (d < -DBL_MAX) { memcpy(out, "-Infinity", 10); return 9; }
    n = otel__zk_double_fast(out, d);
    return n ? n : otel__zk_double_slow(out, d);
}

/* A value as typed JSON (annotation attributes, array elements): NaN and infinities
   as strings, since JSON has no such numbers. */
static void otel__zk_json_value(otel__otlp_sb *b, const otel_value *v) {
    char d[48];
    size_t i, n;
    switch (v->type) {
    case OTEL_VALUE_STRING: otel__zk_str(b, v->u.s ? v->u.s : "", v->u.s ? v->len : 0); return;
    case OTEL_VALUE_BOOL: if (v->u.b) OTEL__ZK_LIT(b, "true"); else OTEL__ZK_LIT(b, "false"); return;
    case OTEL_VALUE_INT: otel__zk_i64(b, v->u.i); return;
    case OTEL_VALUE_DOUBLE:
        n = otel__zk_double(d, v->u.d);
        if (d[0] == 'N' || d[0] == 'I' || d[1] == 'I') otel__zk_str(b, d, n);
        else otel__zk_put(b, d, n);
        return;
    case OTEL_VALUE_STRING_ARRAY: case OTEL_VALUE_BOOL_ARRAY: case OTEL_VALUE_INT_ARRAY: case OTEL_VALUE_DOUBLE_ARRAY:
        break;
    default: OTEL__ZK_LIT(b, "null"); return;
    }
    OTEL__ZK_LIT(b, "[");
    for (i = 0; i < v->len; i++) {
        otel_value e = otel_value_at(v, i);
        if (i) OTEL__ZK_LIT(b, ",");
        otel__zk_json_value(b, &e);
    }
    OTEL__ZK_LIT(b, "]");
}

/* A value as a tag: always a JSON string. */
static void otel__zk_tag_value(otel__zipkin *z, const otel_value *v) {
    otel__otlp_sb *b = &z->out;
    char t[48];
    size_t n;
    switch (v->type) {
    case OTEL_VALUE_STRING: otel__zk_str(b, v->u.s ? v->u.s : "", v->u.s ? v->len : 0); return;
    case OTEL_VALUE_BOOL: if (v->u.b) OTEL__ZK_LIT(b, "\"true\""); else OTEL__ZK_LIT(b, "\"false\""); return;
    case OTEL_VALUE_INT: {
        const char *p;
        n = otel__zk_itoa(t, v->u.i, &p);
        otel__zk_str(b, p, n);
        return;
    }
    case OTEL_VALUE_DOUBLE:
        n = otel__zk_double(t, v->u.d);
        otel__zk_str(b, t, n);
        return;
    default:
        z->tmp.len = 0;
        otel__zk_json_value(&z->tmp, v);
        if (z->tmp.oom) { b->oom = true; return; }
        otel__zk_str(b, z->tmp.p, z->tmp.len);
        return;
    }
}

/* ---- span mapping ----------------------------------------------------------------- */

static bool otel__zk_is(otel_str s, const char *lit, size_t n) {
    return s.len == n && s.ptr && !memcmp(s.ptr, lit, n);
}
#define OTEL__ZK_IS(s, lit) otel__zk_is((s), (lit), sizeof(lit) - 1)

static void otel__zk_hex(otel__otlp_sb *b, const uint8_t *id, size_t n) {
    static const char hex[] = "0123456789abcdef";
    char *o = otel__zk_room(b, 2 * n + 2);
    size_t i;
    if (!o) return;
    *o++ = '"';
    for (i = 0; i < n; i++) { *o++ = hex[id[i] >> 4]; *o++ = hex[id[i] & 15]; }
    *o = '"';
    b->len += 2 * n + 2;
    b->p[b->len] = 0;
}

static uint64_t otel__zk_us(uint64_t ns) { return ns / 1000 + (ns % 1000 >= 500); }

/* remoteEndpoint ranking (spec table): serviceName from a name, or ipv4/ipv6 + port. */
typedef struct otel__zk_peer_key {
    const char *key;
    const char *port_key; /* non-NULL: an IP address, with this port attribute */
} otel__zk_peer_key;
static const otel__zk_peer_key otel__zk_peer_keys[] = {
    {"peer.service", NULL}, {"server.address", NULL}, {"net.peer.name", NULL},
    {"network.peer.address", "network.peer.port"}, {"server.socket.domain", NULL},
    {"server.socket.address", "server.socket.port"}, {"net.sock.peer.name", NULL},
    {"net.sock.peer.addr", "net.sock.peer.port"}, {"peer.hostname", NULL}, {"peer.address", NULL},
    {"db.name", NULL}};
#define OTEL__ZK_PEER_KEYS (sizeof otel__zk_peer_keys / sizeof otel__zk_peer_keys[0])

/* Parses an IP address into canonical text; *v6 says which family. False: not an IP. */
static bool otel__zk_ip(const otel_str *s, char *out, size_t cap, bool *v6) {
    char in[INET6_ADDRSTRLEN + 8];
    unsigned char a[16];
    size_t n = s->len;
    if (!s->ptr || n == 0 || n >= sizeof in) return false;
    memcpy(in, s->ptr, n);
    in[n] = 0;
    if (n > 2 && in[0] == '[' && in[n - 1] == ']') { memmove(in, in + 1, n - 2); in[n - 2] = 0; }
    if (inet_pton(AF_INET, in, a) == 1) {
        *v6 = false;
        return inet_ntop(AF_INET, a, out, (socklen_t)cap) != NULL;
    }
    if (inet_pton(AF_INET6, in, a) != 1) return false;
    if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) { /* IPv4-mapped: report as IPv4 */
        *v6 = false;
        return inet_ntop(AF_INET, a + 12, out, (socklen_t)cap) != NULL;
    }
    *v6 = true;
    return inet_ntop(AF_INET6, a, out, (socklen_t)cap) != NULL;
}

static long otel__zk_port(const otel_value *v) {
    if (v->type == OTEL_VALUE_INT) return v->u.i > 0 && v->u.i <= 65535 ? (long)v->u.i : 0;
    if (v->type == OTEL_VALUE_STRING && v->u.s && otel__otlp_is_digits(v->u.s, v->len) && v->len <= 5) {
        char t[8];
        long p;
        memcpy(t, v->u.s, v->len);
        t[v->len] = 0;
        p = strtol(t, NULL, 10);
        return p > 0 && p <= 65535 ? p : 0;
    }
    return 0;
}

/* Writes ,"remoteEndpoint":{...} for a CLIENT or PRODUCER span that has a peer attribute. */
static void otel__zk_remote(otel__zipkin *z, const otel_span_data *s) {
    otel_iter it;
    otel_attr a;
    otel_str best_val = {NULL, 0};
    size_t best = OTEL__ZK_PEER_KEYS, k;
    char ip[INET6_ADDRSTRLEN + 1];
    bool v6 = false;
    long port = 0;
    if (s->kind != OTEL_SPAN_KIND_CLIENT && s->kind != OTEL_SPAN_KIND_PRODUCER) return;
    it = otel_span_attrs(s);
    while (otel_iter_attr(&it, &a)) {
        if (a.value.type != OTEL_VALUE_STRING || !a.value.len) continue;
        for (k = 0; k < best; k++) {
            otel_str v;
            if (strlen(otel__zk_peer_keys[k].key) != a.key.len || memcmp(otel__zk_peer_keys[k].key, a.key.ptr, a.key.len)) continue;
            v.ptr = a.value.u.s;
            v.len = a.value.len;
            if (otel__zk_peer_keys[k].port_key && !otel__zk_ip(&v, ip, sizeof ip, &v6)) break;
            best = k;
            best_val = v;
            break;
        }
    }
    if (best == OTEL__ZK_PEER_KEYS) return;
    OTEL__ZK_LIT(&z->out, ",\"remoteEndpoint\":{");
    if (!otel__zk_peer_keys[best].port_key) {
        OTEL__ZK_LIT(&z->out, "\"serviceName\":");
        otel__zk_ostr(&z->out, best_val);
        OTEL__ZK_LIT(&z->out, "}");
        return;
    }
    (void)otel__zk_ip(&best_val, ip, sizeof ip, &v6);
    it = otel_span_attrs(s);
    while (otel_iter_attr(&it, &a))
        if (a.key.len == strlen(otel__zk_peer_keys[best].port_key) && !memcmp(a.key.ptr, otel__zk_peer_keys[best].port_key, a.key.len))
            port = otel__zk_port(&a.value);
    if (v6) OTEL__ZK_LIT(&z->out, "\"ipv6\":");
    else OTEL__ZK_LIT(&z->out, "\"ipv4\":");
    otel__zk_str(&z->out, ip, strlen(ip));
    if (port) {
        OTEL__ZK_LIT(&z->out, ",\"port\":");
        otel__zk_i64(&z->out, port);
    }
    OTEL__ZK_LIT(&z->out, "}");
}

/* ,"annotations":[...] when the span has events. */
static void otel__zk_annotations(otel__zipkin *z, const otel_span_data *s) {
    otel_iter it = otel_span_events(s);
    otel_event_data ev;
    bool first = true;
    while (otel_iter_event(&it, &ev)) {
        if (first) OTEL__ZK_LIT(&z->out, ",\"annotations\":[{\"timestamp\":");
        else OTEL__ZK_LIT(&z->out, ",{\"timestamp\":");
        first = false;
        otel__zk_u64(&z->out, otel__zk_us(ev.time_ns));
        OTEL__ZK_LIT(&z->out, ",\"value\":");
        if (!ev.attr_count && !ev.dropped_attrs) {
            otel__zk_ostr(&z->out, ev.name);
        } else { /* "name":{"k":v,...} as one string */
            otel_iter ai = ev.attrs;
            otel_attr a;
            bool f2 = true;
            otel__otlp_sb *t = &z->tmp;
            t->len = 0;
            otel__zk_ostr(t, ev.name);
            OTEL__ZK_LIT(t, ":{");
            while (otel_iter_attr(&ai, &a)) {
                if (!f2) OTEL__ZK_LIT(t, ",");
                f2 = false;
                otel__zk_ostr(t, a.key);
                OTEL__ZK_LIT(t, ":");
                otel__zk_json_value(t, &a.value);
            }
            if (ev.dropped_attrs) {
                if (!f2) OTEL__ZK_LIT(t, ",");
                OTEL__ZK_LIT(t, "\"otel.dropped_attributes_count\":");
                otel__zk_u64(t, ev.dropped_attrs);
            }
            OTEL__ZK_LIT(t, "}");
            if (t->oom) z->out.oom = true;
            else otel__zk_str(&z->out, t->p, t->len);
        }
        OTEL__ZK_LIT(&z->out, "}");
    }
    if (!first) OTEL__ZK_LIT(&z->out, "]");
}

typedef struct otel__zk_tags {
    bool first;
    bool code, scope_name, scope_version; /* tags generated from the span itself */
} otel__zk_tags;

static void otel__zk_key(otel__zipkin *z, otel__zk_tags *g, const char *k, size_t n) {
    if (g->first) OTEL__ZK_LIT(&z->out, ",\"tags\":{");
    else OTEL__ZK_LIT(&z->out, ",");
    g->first = false;
    otel__zk_str(&z->out, k, n);
    OTEL__ZK_LIT(&z->out, ":");
}
#define OTEL__ZK_KEY(z, g, lit) otel__zk_key((z), (g), (lit), sizeof(lit) - 1)

/* An attribute whose key is a tag generated for this span: left out (no duplicate keys). */
static bool otel__zk_generated(const otel_span_data *s, const otel__zk_tags *g, otel_str k) {
    if (k.len < 5 || (k.ptr[0] != 'e' && k.ptr[0] != 'o')) return false;
    if (OTEL__ZK_IS(k, "error")) return true;
    if (OTEL__ZK_IS(k, "otel.status_code")) return g->code;
    if (OTEL__ZK_IS(k, "otel.scope.name") || OTEL__ZK_IS(k, "otel.library.name")) return g->scope_name;
    if (OTEL__ZK_IS(k, "otel.scope.version") || OTEL__ZK_IS(k, "otel.library.version")) return g->scope_version;
    if (OTEL__ZK_IS(k, "otel.dropped_attributes_count")) return s->dropped_attrs != 0;
    if (OTEL__ZK_IS(k, "otel.dropped_events_count")) return s->dropped_events != 0;
    if (OTEL__ZK_IS(k, "otel.dropped_links_count")) return s->dropped_links != 0;
    return false;
}

static void otel__zk_count_tag(otel__zipkin *z, otel__zk_tags *g, const char *k, size_t n, uint32_t v) {
    char t[16];
    int l;
    if (!v) return;
    otel__zk_key(z, g, k, n);
    l = snprintf(t, sizeof t, "%u", (unsigned)v);
    otel__zk_str(&z->out, t, (size_t)l);
}

/* ,"tags":{...} when there is at least one. */
static void otel__zk_tags_write(otel__zipkin *z, const otel_span_data *s, const otel_attr *ns) {
    otel__zk_tags g;
    otel_iter it = otel_span_attrs(s);
    otel_attr a;
    bool span_ns = false;
    g.first = true;
    g.code = s->status_code == OTEL_STATUS_OK || s->status_code == OTEL_STATUS_ERROR;
    g.scope_name = s->scope && s->scope->name.len;
    g.scope_version = s->scope && s->scope->version.len;
    while (otel_iter_attr(&it, &a)) {
        if (!a.key.ptr || otel__zk_generated(s, &g, a.key)) continue;
        if (ns && OTEL__ZK_IS(a.key, "service.namespace")) span_ns = true;
        otel__zk_key(z, &g, a.key.ptr, a.key.len);
        otel__zk_tag_value(z, &a.value);
    }
    if (ns && !span_ns) {
        OTEL__ZK_KEY(z, &g, "service.namespace");
        otel__zk_tag_value(z, &ns->value);
    }
    if (g.scope_name) {
        OTEL__ZK_KEY(z, &g, "otel.scope.name");
        otel__zk_ostr(&z->out, s->scope->name);
    }
    if (g.scope_version) {
        OTEL__ZK_KEY(z, &g, "otel.scope.version");
        otel__zk_ostr(&z->out, s->scope->version);
    }
    if (g.scope_name) { /* deprecated aliases the spec still requires */
        OTEL__ZK_KEY(z, &g, "otel.library.name");
        otel__zk_ostr(&z->out, s->scope->name);
    }
    if (g.scope_version) {
        OTEL__ZK_KEY(z, &g, "otel.library.version");
        otel__zk_ostr(&z->out, s->scope->version);
    }
    if (g.code) {
        OTEL__ZK_KEY(z, &g, "otel.status_code");
        if (s->status_code == OTEL_STATUS_OK) OTEL__ZK_LIT(&z->out, "\"OK\"");
        else OTEL__ZK_LIT(&z->out, "\"ERROR\"");
    }
    if (s->status_code == OTEL_STATUS_ERROR) {
        OTEL__ZK_KEY(z, &g, "error");
        otel__zk_ostr(&z->out, s->status_message);
    }
    otel__zk_count_tag(z, &g, "otel.dropped_attributes_count", 29, s->dropped_attrs);
    otel__zk_count_tag(z, &g, "otel.dropped_events_count", 25, s->dropped_events);
    otel__zk_count_tag(z, &g, "otel.dropped_links_count", 24, s->dropped_links);
    if (!g.first) OTEL__ZK_LIT(&z->out, "}");
}

static bool otel__zk_zero(const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

static void otel__zk_span(otel__zipkin *z, const otel_span_data *s, const otel_attr *svc, const otel_attr *ns) {
    static const char *const kinds[] = {NULL, NULL, "\"SERVER\"", "\"CLIENT\"", "\"PRODUCER\"", "\"CONSUMER\""};
    otel__otlp_sb *b = &z->out;
    uint64_t start = otel__zk_us(s->start_time_ns), dur;
    OTEL__ZK_LIT(b, "{\"traceId\":");
    otel__zk_hex(b, s->trace_id, 16);
    OTEL__ZK_LIT(b, ",\"id\":");
    otel__zk_hex(b, s->span_id, 8);
    if (s->has_parent && !otel__zk_zero(s->parent_span_id, 8)) {
        OTEL__ZK_LIT(b, ",\"parentId\":");
        otel__zk_hex(b, s->parent_span_id, 8);
    }
    if (s->kind < 6 && kinds[s->kind]) {
        OTEL__ZK_LIT(b, ",\"kind\":");
        otel__zk_put(b, kinds[s->kind], strlen(kinds[s->kind]));
    }
    if (s->name.len) { /* Zipkin: "leave absent if unknown" */
        OTEL__ZK_LIT(b, ",\"name\":");
        otel__zk_ostr(b, s->name);
    }
    OTEL__ZK_LIT(b, ",\"timestamp\":");
    otel__zk_u64(b, start);
    dur = s->end_time_ns > s->start_time_ns ? otel__zk_us(s->end_time_ns - s->start_time_ns) : 0;
    OTEL__ZK_LIT(b, ",\"duration\":");
    otel__zk_u64(b, dur ? dur : 1);
    OTEL__ZK_LIT(b, ",\"localEndpoint\":{\"serviceName\":");
    if (svc) otel__zk_str(b, svc->value.u.s ? svc->value.u.s : "", svc->value.u.s ? svc->value.len : 0);
    else OTEL__ZK_LIT(b, "\"unknown_service\"");
    OTEL__ZK_LIT(b, "}");
    otel__zk_remote(z, s);
    otel__zk_annotations(z, s);
    otel__zk_tags_write(z, s, ns);
    OTEL__ZK_LIT(b, "}");
}

/* The batch as a JSON array into z->out. False: out of memory. */
static bool otel__zk_encode(otel__zipkin *z, const otel_span_batch *batch) {
    const otel_resource *res = batch->resource;
    const otel_attr *svc = NULL, *ns = NULL;
    size_t i;
    if (res && res->attrs)
        for (i = 0; i < res->count; i++) {
            const otel_attr *a = &res->attrs[i];
            if (a->value.type == OTEL_VALUE_STRING && OTEL__ZK_IS(a->key, "service.name")) svc = a;
            else if (OTEL__ZK_IS(a->key, "service.namespace")) ns = a;
        }
    z->out.len = 0;
    z->out.oom = z->tmp.oom = false;
    OTEL__ZK_LIT(&z->out, "[");
    for (i = 0; i < batch->count; i++) {
        if (i) OTEL__ZK_LIT(&z->out, ",");
        otel__zk_span(z, batch->spans[i], svc, ns);
    }
    OTEL__ZK_LIT(&z->out, "]");
    return !z->out.oom;
}

/* ---- delivery --------------------------------------------------------------------- */

/* The body for otel__otlp_deliver: 0, 1 over max_request (*len = its size), -1 out of memory. */
static int otel__zk_body(void *owner, const void *batch, const uint8_t **body, size_t *len) {
    otel__zipkin *z = (otel__zipkin *)owner;
    if (!otel__zk_encode(z, (const otel_span_batch *)batch)) return -1;
    *body = (const uint8_t *)z->out.p;
    *len = z->out.len;
    return z->out.len > z->t->max_request ? 1 : 0;
}

/* OTLP's delivery (gzip, retries, backoff, Retry-After, deadline, cancel, counters and
   rate-limited messages) with the Zipkin body: see otel__otlp_deliver. */
static otel_export_result otel__zipkin_export(const otel_span_batch *batch, void *user) {
    otel__zipkin *z = (otel__zipkin *)user;
    size_t n = batch ? batch->count : 0;
    if (!z || !n) return OTEL_EXPORT_SUCCESS; /* empty batches are not sent */
    if (!batch->spans) {
        OTEL__OTLP_ADD(&z->t->st.batches, 1);
        OTEL__OTLP_ADD(&z->t->st.spans_failed, n);
        return OTEL_EXPORT_FAILURE;
    }
    return otel__otlp_deliver(z->t, batch, n, batch->timeout_ms);
}

/* ---- setup ------------------------------------------------------------------------ */

static otel_result otel__zk_configure(otel__otlp *x, const otel_zipkin_desc *d) {
    const char *v, *why = NULL;
    otel__otlp_sb list = {NULL, 0, 0, false};
    bool has_ua = false;
    otel_result rc = OTEL_OK;
    size_t i;
    v = d->endpoint;
    if (!v || !*v) v = getenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT");
    if (!v || !*v) v = OTEL__ZIPKIN_ENDPOINT;
    x->who = "zipkin";
    x->noun = "spans";
    x->json = true; /* the Content-Type (built-in and curl transports) */
    x->body_fn = otel__zk_body;
    if (!(x->url = otel__otlp_strdup(v))) return OTEL_ERR_NO_MEMORY;
    rc = otel__otlp_url_parse(x->url, &x->u, &why);
    if (rc != OTEL_OK) {
        if (why) otel_log(OTEL_LOG_ERROR, "zipkin: endpoint \"%s\": %s", x->url, why);
        return rc;
    }
    x->timeout_ms = d->timeout_ms;
    if (!x->timeout_ms && (v = getenv("OTEL_EXPORTER_ZIPKIN_TIMEOUT")) != NULL && *v)
        (void)otel__otlp_parse_ms(x, v, "OTEL_EXPORTER_ZIPKIN_TIMEOUT", &x->timeout_ms);
    if (!x->timeout_ms) x->timeout_ms = OTEL__OTLP_TIMEOUT_MS;
    x->gzip = d->compression == OTEL_OTLP_COMPRESSION_GZIP;
    x->retry_initial_ms = d->retry_initial_ms ? d->retry_initial_ms : OTEL__OTLP_RETRY_INITIAL_MS;
    x->retry_max_ms = d->retry_max_ms ? d->retry_max_ms : OTEL__OTLP_RETRY_MAX_MS;
    if (x->retry_max_ms < x->retry_initial_ms) x->retry_max_ms = x->retry_initial_ms;
    x->max_request = d->max_request_bytes ? d->max_request_bytes : OTEL__OTLP_MAX_REQUEST;
    for (i = 0; i < d->header_count && d->headers && rc == OTEL_OK; i++) {
        const otel_otlp_header *h = &d->headers[i];
        if (!h->name) continue;
        rc = otel__otlp_add_header(&list, h->name, strlen(h->name), h->value ? h->value : "",
                                   h->value ? strlen(h->value) : 0, "otel_zipkin_desc.headers", &has_ua);
    }
    otel__otlp_sb_add(&list, "", 1); /* the list ends with an empty entry */
    x->user_headers = list.p;
    if (rc != OTEL_OK) return rc;
    if (list.oom) return OTEL_ERR_NO_MEMORY;
    if ((rc = otel__otlp_head(x, has_ua)) != OTEL_OK) return rc;
    if (x->u.https) {
#ifndef OTEL_USE_CURL
        otel_log(OTEL_LOG_ERROR, "zipkin: %s: https:// needs libcurl: build with -DOTEL_USE_CURL and link -lcurl "
                                 "(or use an http:// endpoint)", x->url);
        return OTEL_ERR_NOT_BUILT;
#endif
    }
#ifdef OTEL_USE_CURL
    x->tls_insecure = d->insecure;
    if ((d->certificate && !(x->tls_ca = otel__otlp_strdup(d->certificate))) ||
        (d->client_key && !(x->tls_key = otel__otlp_strdup(d->client_key))) ||
        (d->client_certificate && !(x->tls_cert = otel__otlp_strdup(d->client_certificate))))
        return OTEL_ERR_NO_MEMORY;
#endif
    return OTEL_OK;
}

static void otel__zipkin_destroy(otel__zipkin *z) {
    if (!z) return;
    otel__otlp_destroy(z->t);
    OTEL_FREE(z->out.p, NULL);
    OTEL_FREE(z->tmp.p, NULL);
    z->magic = 0;
    OTEL_FREE(z, NULL);
}

static void otel__zipkin_cancel_cb(void *user) {
    otel__zipkin *z = (otel__zipkin *)user;
    if (z && z->t) otel__otlp_cancel(z->t);
}

static void otel__zipkin_shutdown(uint32_t timeout_ms, void *user) {
    otel__zipkin *z = (otel__zipkin *)user;
    (void)timeout_ms; /* nothing is buffered here: the pipeline already flushed */
    if (!z) return;
    otel__otlp_cancel(z->t);
    otel__zipkin_destroy(z);
}

static otel__zipkin *otel__zipkin_of(const otel_exporter *exp) {
    otel__zipkin *z;
    if (!exp || exp->export_spans != otel__zipkin_export || !exp->user) return NULL;
    z = (otel__zipkin *)exp->user;
    return z->magic == OTEL__ZIPKIN_MAGIC ? z : NULL;
}

OTEL_API otel_result otel_zipkin_exporter_create(const otel_zipkin_desc *desc, otel_exporter *out) {
    otel_zipkin_desc d;
    otel__zipkin *z;
    otel__otlp *x;
    otel_result rc;
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (desc) d = *desc;
    else memset(&d, 0, sizeof d);
    z = (otel__zipkin *)OTEL_MALLOC(sizeof *z, NULL);
    x = (otel__otlp *)OTEL_MALLOC(sizeof *x, NULL);
    if (!z || !x) {
        OTEL_FREE(z, NULL);
        OTEL_FREE(x, NULL);
        return OTEL_ERR_NO_MEMORY;
    }
    memset(z, 0, sizeof *z);
    memset(x, 0, sizeof *x);
    z->t = x;
    x->owner = z;
    x->fd = -1;
    x->wake[0] = x->wake[1] = -1;
    rc = otel__zk_configure(x, &d);
    if (rc == OTEL_OK) rc = otel__otlp_start(x);
    if (rc != OTEL_OK) {
        otel__zipkin_destroy(z);
        return rc;
    }
    x->rng = (uint64_t)otel__otlp_ms() ^ ((uint64_t)(uintptr_t)x << 16) ^ ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ull;
    x->magic = OTEL__OTLP_MAGIC;
    z->magic = OTEL__ZIPKIN_MAGIC;
    out->export_spans = otel__zipkin_export;
    out->force_flush = NULL; /* nothing is buffered in the exporter */
    out->shutdown = otel__zipkin_shutdown;
    out->cancel = otel__zipkin_cancel_cb;
    out->user = z;
    out->name = "zipkin";
    otel_log(OTEL_LOG_DEBUG, "zipkin: exporting to %s (timeout %u ms%s)", x->url, x->timeout_ms, x->gzip ? ", gzip" : "");
    return OTEL_OK;
}

OTEL_API otel_result otel_zipkin_exporter_stats(const otel_exporter *exp, otel_otlp_stats *out) {
    otel__zipkin *z = otel__zipkin_of(exp);
    const otel_otlp_stats *st;
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!z) return OTEL_ERR_INVALID_ARG;
    st = &z->t->st;
    out->batches = OTEL__OTLP_LOAD(&st->batches);
    out->spans_exported = OTEL__OTLP_LOAD(&st->spans_exported);
    out->spans_failed = OTEL__OTLP_LOAD(&st->spans_failed);
    out->spans_dropped = OTEL__OTLP_LOAD(&st->spans_dropped);
    out->requests = OTEL__OTLP_LOAD(&st->requests);
    out->retries = OTEL__OTLP_LOAD(&st->retries);
    out->connect_failures = OTEL__OTLP_LOAD(&st->connect_failures);
    out->connections = OTEL__OTLP_LOAD(&st->connections);
    out->bytes_sent = OTEL__OTLP_LOAD(&st->bytes_sent);
    out->bytes_raw = OTEL__OTLP_LOAD(&st->bytes_raw);
    out->last_status = OTEL__OTLP_LOAD(&st->last_status);
    return OTEL_OK;
}

OTEL_API void otel_zipkin_exporter_cancel(const otel_exporter *exp) {
    otel__zipkin *z = otel__zipkin_of(exp);
    if (z) otel__otlp_cancel(z->t);
}

OTEL_API const char *otel_zipkin_exporter_url(const otel_exporter *exp) {
    otel__zipkin *z = otel__zipkin_of(exp);
    return z ? z->t->url : NULL;
}

static otel_result otel__zipkin_factory(otel_signal signal, otel_exporter *out, void *user) {
    (void)user;
    if (signal != OTEL_SIGNAL_TRACES) {
        memset(out, 0, sizeof *out);
        otel_log(OTEL_LOG_ERROR, "zipkin: Zipkin takes traces only: no %s exporter of that name",
                 signal == OTEL_SIGNAL_METRICS ? "metrics" : "logs");
        return OTEL_ERR_NOT_BUILT;
    }
    return otel_zipkin_exporter_create(NULL, out);
}

OTEL_API otel_result otel_zipkin_register(void) {
    return otel_exporter_register("zipkin", otel__zipkin_factory, NULL);
}

#if (defined(__GNUC__) || defined(__clang__)) && !defined(OTEL_OTLP_NO_AUTOREGISTER)
/* OTEL_TRACES_EXPORTER=zipkin works as soon as this implementation is linked in. */
__attribute__((constructor)) static void otel__zipkin_autoregister(void) {
    (void)otel_zipkin_register();
}
#endif


#endif /* OTEL_OTLP_IMPLEMENTATION_INCLUDED */
#endif /* OTEL_OTLP_IMPLEMENTATION */

/*
MIT License

Copyright (c) 2026 the otel.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
*/
