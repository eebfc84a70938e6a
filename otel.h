/* otel.h - v0.6.1 - OpenTelemetry traces, metrics and logs for C, one header. License (MIT) at end.

   In exactly one .c file:     #define OTEL_IMPLEMENTATION
                               #include "otel.h"
   Everywhere else:            #include "otel.h"
   Build:                      cc -pthread app.c -o app

   QUICK START   (also examples/getting_started.c, metrics.c,
                  multi_destination_logs.c and README.md)
       otel_init(&(otel_desc){ .service_name = "hello",
                               .default_exporters = "console",           (traces)
                               .default_metrics_exporters = "console",
                               .default_logs_exporters = "console" });
       otel_span *s = otel_span_start("work", NULL);   (NULL desc: child of the active span)
       otel_span_set_int(s, "items", 3);
       otel_logger_info(NULL, NULL, 0, "did %d items", 3);   (NULL: the default logger;
                                                              the record gets the span's ids)
       otel_instrument *c = otel_counter_create(NULL, "items.done", "1", NULL);
       otel_record_int(c, 3, NULL, 0);     (NULL meter: the default one; no attributes)
       otel_span_end(s);
       otel_shutdown(0);                   (flushes every destination and reader, 0 = default
                                            deadline)

   CONFIG MACROS (define before the implementation; defaults in brackets)
       OTEL_MALLOC(size,user)/OTEL_FREE(ptr,user)  allocator, both or neither [malloc/free]
       OTEL_ASSERT(c)             the library's own invariants [assert(c)]
       OTEL_API                   prefix of every public declaration [extern]
       OTEL_STATIC                makes OTEL_API `static` (implementation private to one TU)
       OTEL_MAX_DESTINATIONS      destinations per signal (traces, logs) [8]
       OTEL_MAX_READERS           metric readers [8]
       OTEL_TRACE_STATE_MAX       bytes of a tracestate header kept [512]
       OTEL_NO_ATEXIT             do not flush from an atexit() handler

   ENVIRONMENT   (read once, by otel_init; code settings in otel_desc win, see README)
       OTEL_SDK_DISABLED                     true: every call is a cheap no-op
       OTEL_SERVICE_NAME                     service.name
       OTEL_RESOURCE_ATTRIBUTES              k=v,k2=v2 (percent-decoded)
       OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG   parentbased_always_on / 1.0
       OTEL_TRACES_EXPORTER                  comma list: console, file, memory, none, otlp, zipkin
                                             (otlp, zipkin: otel_otlp.h, which lists its own
                                             OTEL_EXPORTER_OTLP_* and OTEL_EXPORTER_ZIPKIN_*)
       OTEL_METRICS_EXPORTER                 comma list: console, none, otlp, prometheus (a pull reader)
       OTEL_METRIC_EXPORT_INTERVAL, OTEL_METRIC_EXPORT_TIMEOUT   periodic readers: 60000 / 30000 ms
       OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE    cumulative (default), delta, lowmemory
                                             (else OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE)
       OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT   the Prometheus reader's
                                             server: localhost / 9464
       (OTEL_PROPAGATORS is not read: otel_context_inject/extract are the W3C tracecontext
        propagator; baggage is not implemented yet)
       OTEL_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
       OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
       OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT,
       OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, OTEL_LINK_ATTRIBUTE_COUNT_LIMIT
       OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_MAX_QUEUE_SIZE,
       OTEL_BSP_MAX_EXPORT_BATCH_SIZE        batch processing per destination
       OTEL_LOGS_EXPORTER                    comma list: console, file, memory, none, otlp
       OTEL_BLRP_SCHEDULE_DELAY, OTEL_BLRP_EXPORT_TIMEOUT, OTEL_BLRP_MAX_QUEUE_SIZE,
       OTEL_BLRP_MAX_EXPORT_BATCH_SIZE       batch processing per log destination (1000 ms delay)
       OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT, OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT
       OTEL_EXPORTER_FILE_LOGS_PATH          (ours) file exporter path for logs (else _FILE_PATH,
                                             else logs.jsonl)
       OTEL_LOG_LEVEL                        none, error, warn, info (default), debug
       OTEL_EXPORTER_FILE_TRACES_PATH, OTEL_EXPORTER_FILE_PATH   (ours) file exporter path
       OTEL_EXPORTER_FILE_FORMAT             (ours) otlp (default) or flat
       OTEL_EXPORTER_CONSOLE_FORMAT          (ours) pretty (default) or compact

   SECTIONS      API:            [util] [span] [context] [signals] [export] [metric] [log]
                                 [pipeline]
                 implementation: [platform] [util] [span] [context] [pipeline] [export]
                                 [metric] [prometheus] [log] [env] [api]
                 -- grep "==== [" to jump

   THREADS       otel_init/otel_shutdown: setup only (one thread, not concurrently with
                 recording). Span calls: the span's owner, i.e. one thread at a time per
                 span; a span may be ended on another thread than the one that started it.
                 Metric recording (otel_record_*, otel_bound_record_*): any thread, lock-free.
                 Observable callbacks run on the collecting reader's thread, one at a time.
                 Log calls (otel_logger_*): any thread, lock-free.
                 Everything else: any thread. Exporter callbacks run on the destination's
                 worker thread (the ending/emitting thread for SIMPLE processing) or the
                 periodic reader's thread, never concurrently for one destination or reader.
                 One exporter object may serve several destinations and readers (e.g. a
                 console exporter for traces, logs and metrics): then its callbacks may run
                 concurrently (the built-in exporters allow it), and its shutdown runs once,
                 after the last of them has finished.                                      */
#ifndef OTEL_H_INCLUDED
#define OTEL_H_INCLUDED

/* The implementation needs POSIX (clocks, threads). Under a strict -std=c11 nothing POSIX
   is declared unless asked for, so ask, when otel.h is the first include of that file. */
#if defined(OTEL_IMPLEMENTATION) && defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_XOPEN_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef OTEL_API
#ifdef OTEL_STATIC
#define OTEL_API static
#else
#define OTEL_API extern
#endif
#endif

#ifndef OTEL_MAX_DESTINATIONS
#define OTEL_MAX_DESTINATIONS 8
#endif
#ifndef OTEL_MAX_READERS
#define OTEL_MAX_READERS 8
#endif
#ifndef OTEL_TRACE_STATE_MAX
#define OTEL_TRACE_STATE_MAX 512
#endif
#define OTEL_VERSION "0.6.1"
#define OTEL_TRACEPARENT_SIZE 56 /* 55 characters and a NUL */

#ifdef __cplusplus
extern "C" {
#endif

/* ==== [util] ==================================================================== */

typedef enum otel_result {
    OTEL_OK = 0,
    OTEL_ERR_INVALID_ARG = -1,   /* NULL where a value is needed, malformed input */
    OTEL_ERR_NO_MEMORY = -2,
    OTEL_ERR_IO = -3,            /* a file or socket could not be opened or written */
    OTEL_ERR_TIMEOUT = -4,       /* a deadline passed before the work finished */
    OTEL_ERR_NOT_BUILT = -5,     /* feature not compiled in (e.g. otlp without otel_otlp.h) */
    OTEL_ERR_STATE = -6,         /* already initialized / not initialized / shut down */
    OTEL_ERR_UNKNOWN = -7,       /* unknown exporter name */
    OTEL_ERR_EXPORT = -8,        /* an exporter reported failure */
    OTEL_ERR_DISABLED = -9       /* OTEL_SDK_DISABLED=true: nothing was set up */
} otel_result;

/* A short English text for `r`. Thread: any. */
OTEL_API const char *otel_result_str(otel_result r);

typedef enum otel_log_level {
    OTEL_LOG_DEFAULT = 0, /* -> OTEL_LOG_LEVEL, else INFO */
    OTEL_LOG_NONE,
    OTEL_LOG_ERROR,
    OTEL_LOG_WARN,
    OTEL_LOG_INFO,
    OTEL_LOG_DEBUG
} otel_log_level;

/* The library's diagnostics (errors, warnings, drop reports). Called from any thread;
   must not call back into otel_*. Default: a line "otel: <level>: <msg>" on stderr. */
typedef void (*otel_diag_fn)(otel_log_level level, const char *msg, void *user);
typedef struct otel_diag {
    otel_diag_fn func; /* NULL -> stderr */
    void *user;
} otel_diag;

/* A string with its length. Strings handed out by the library are also NUL-terminated. */
typedef struct otel_str {
    const char *ptr;
    size_t len;
} otel_str;

typedef enum otel_value_type {
    OTEL_VALUE_NONE = 0,
    OTEL_VALUE_STRING,
    OTEL_VALUE_BOOL,
    OTEL_VALUE_INT,
    OTEL_VALUE_DOUBLE,
    OTEL_VALUE_STRING_ARRAY,
    OTEL_VALUE_BOOL_ARRAY,
    OTEL_VALUE_INT_ARRAY,
    OTEL_VALUE_DOUBLE_ARRAY
} otel_value_type;

#define OTEL_VALUE_PACKED 1u /* otel_value.flags: string array stored by the library */

/* An attribute value. `len` is the byte length of a string or the element count of an
   array. Values read back from the library (exporters) may have string arrays PACKED:
   read their elements with otel_value_str_at(), which works for both forms. */
typedef struct otel_value {
    otel_value_type type;
    uint32_t flags;
    size_t len;
    union {
        const char *s;
        bool b;
        int64_t i;
        double d;
        const char *const *sa;
        const bool *ba;
        const int64_t *ia;
        const double *da;
        const void *packed;
    } u;
} otel_value;

typedef struct otel_attr {
    otel_str key;
    otel_value value;
} otel_attr;

/* Element `i` of a string-array value (input or packed). Out of range: {"",0}. */
OTEL_API otel_str otel_value_str_at(const otel_value *v, size_t i);
/* Element `i` of any array value as a scalar value (a string element's bytes stay where
   they are). Not an array, or out of range: type OTEL_VALUE_NONE. */
OTEL_API otel_value otel_value_at(const otel_value *v, size_t i);

/* Attribute constructors for arrays passed to otel_span_add_event, links and descs.
   The pointers are only read during the call that receives the attribute. */
static inline otel_attr otel_attr_strn(const char *k, const char *v, size_t n) {
    otel_attr a; memset(&a, 0, sizeof a);
    a.key.ptr = k; a.key.len = k ? strlen(k) : 0;
    a.value.type = OTEL_VALUE_STRING; a.value.u.s = v ? v : ""; a.value.len = v ? n : 0;
    return a;
}
static inline otel_attr otel_attr_str(const char *k, const char *v) {
    return otel_attr_strn(k, v, v ? strlen(v) : 0);
}
static inline otel_attr otel_attr_int(const char *k, int64_t v) {
    otel_attr a; memset(&a, 0, sizeof a);
    a.key.ptr = k; a.key.len = k ? strlen(k) : 0;
    a.value.type = OTEL_VALUE_INT; a.value.u.i = v;
    return a;
}
static inline otel_attr otel_attr_double(const char *k, double v) {
    otel_attr a; memset(&a, 0, sizeof a);
    a.key.ptr = k; a.key.len = k ? strlen(k) : 0;
    a.value.type = OTEL_VALUE_DOUBLE; a.value.u.d = v;
    return a;
}
static inline otel_attr otel_attr_bool(const char *k, bool v) {
    otel_attr a; memset(&a, 0, sizeof a);
    a.key.ptr = k; a.key.len = k ? strlen(k) : 0;
    a.value.type = OTEL_VALUE_BOOL; a.value.u.b = v;
    return a;
}
static inline otel_attr otel_attr_str_array(const char *k, const char *const *v, size_t n) {
    otel_attr a; memset(&a, 0, sizeof a);
    a.key.ptr = k; a.key.len = k ? strlen(k) : 0;
    a.value.type = OTEL_VALUE_STRING_ARRAY; a.value.u.sa = v; a.value.len = v ? n : 0;
    return a;
}
static inline otel_attr otel_attr_bool_array(const char *k, const bool *v, size_t n) {
    otel_attr a; memset(&a, 0, sizeof a);
    a.key.ptr = k; a.key.len = k ? strlen(k) : 0;
    a.value.type = OTEL_VALUE_BOOL_ARRAY; a.value.u.ba = v; a.value.len = v ? n : 0;
    return a;
}
static inline otel_attr otel_attr_int_array(const char *k, const int64_t *v, size_t n) {
    otel_attr a; memset(&a, 0, sizeof a);
    a.key.ptr = k; a.key.len = k ? strlen(k) : 0;
    a.value.type = OTEL_VALUE_INT_ARRAY; a.value.u.ia = v; a.value.len = v ? n : 0;
    return a;
}
static inline otel_attr otel_attr_double_array(const char *k, const double *v, size_t n) {
    otel_attr a; memset(&a, 0, sizeof a);
    a.key.ptr = k; a.key.len = k ? strlen(k) : 0;
    a.value.type = OTEL_VALUE_DOUBLE_ARRAY; a.value.u.da = v; a.value.len = v ? n : 0;
    return a;
}

/* Nanoseconds since the Unix epoch (CLOCK_REALTIME). Thread: any. */
OTEL_API uint64_t otel_now_ns(void);

/* Parses a "k1=v1,k2=v2" list as the OTEL_* variables use it (OTEL_RESOURCE_ATTRIBUTES,
   OTEL_EXPORTER_OTLP_HEADERS): members split on ',', key and value on the first '=',
   blanks around both trimmed, both percent-decoded ('+' stays '+'). `fn` gets each decoded
   key and value (not NUL-terminated); NULL only validates. A member without '=', with an
   empty key or a bad escape is skipped with one warning naming `what`. Returns how many
   members were skipped. Thread: any. */
typedef void (*otel_kv_fn)(const char *key, size_t key_len, const char *val, size_t val_len, void *user);
OTEL_API int otel_kv_list_parse(const char *s, const char *what, otel_kv_fn fn, void *user);

#if defined(__GNUC__) || defined(__clang__)
#define OTEL__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OTEL__PRINTF(f, a)
#endif
/* Sends a diagnostic through the configured otel_diag (default: stderr "otel: ...").
   For exporters and extensions built on otel.h. Thread: any. */
OTEL_API void otel_log(otel_log_level level, const char *fmt, ...) OTEL__PRINTF(2, 3);

/* ==== [span] ==================================================================== */

typedef enum otel_span_kind {
    OTEL_SPAN_KIND_DEFAULT = 0, /* -> INTERNAL */
    OTEL_SPAN_KIND_INTERNAL = 1,
    OTEL_SPAN_KIND_SERVER = 2,
    OTEL_SPAN_KIND_CLIENT = 3,
    OTEL_SPAN_KIND_PRODUCER = 4,
    OTEL_SPAN_KIND_CONSUMER = 5
} otel_span_kind; /* values are OTLP's SpanKind */

typedef enum otel_status_code {
    OTEL_STATUS_UNSET = 0,
    OTEL_STATUS_OK = 1,
    OTEL_STATUS_ERROR = 2
} otel_status_code; /* values are OTLP's Status.StatusCode */

#define OTEL_TRACE_FLAG_SAMPLED 0x01u

/* The part of a span that crosses process boundaries (W3C Trace Context). */
typedef struct otel_span_context {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t trace_flags;   /* OTEL_TRACE_FLAG_SAMPLED */
    bool is_remote;        /* extracted from a carrier */
    char trace_state[OTEL_TRACE_STATE_MAX]; /* validated W3C tracestate, "" if none */
} otel_span_context;

/* A span handle. Opaque; a stale or NULL handle is a harmless no-op everywhere. */
typedef struct otel_span otel_span;
/* A tracer names the instrumentation scope (library) that records spans. */
typedef struct otel_tracer otel_tracer;

typedef struct otel_link {
    const otel_span_context *context;
    const otel_attr *attrs;
    size_t attr_count;
} otel_link;

/* Options for otel_span_start; a NULL desc means all zero. */
typedef struct otel_span_desc {
    otel_span_kind kind;                   /* 0 -> INTERNAL */
    otel_span *parent;                     /* NULL -> the active span of this thread */
    const otel_span_context *remote_parent; /* e.g. from otel_context_extract; wins over parent */
    bool root;                             /* true: start a new trace, ignore the active span */
    bool detached;                         /* true: do not make the new span active */
    uint64_t start_time_ns;                /* 0 -> now */
    const otel_attr *attrs;                /* set before sampling; samplers may read them */
    size_t attr_count;
    const otel_link *links;
    size_t link_count;
    otel_tracer *tracer;                   /* NULL -> the default tracer */
} otel_span_desc;

/* Starts a span. With no parent in the desc it becomes the child of this thread's active
   span (a new trace if there is none) and, unless desc->detached, the active span itself.
   Never returns NULL while the SDK is initialized; when disabled or out of span slots it
   returns a non-recording handle that every call accepts.
   Thread: any. Allocates: never. */
static inline otel_span *otel_span_start(const char *name, const otel_span_desc *desc);
/* The call behind otel_span_start: `name_len` is strlen(name) when the wrapper's compiler
   knows it (a string literal), else SIZE_MAX (the library measures the name if it records). */
OTEL_API otel_span *otel__span_start(const char *name, size_t name_len, const otel_span_desc *desc);

/* Ends `span` now (or at `end_time_ns`; 0 = now), removes it from this thread's active
   stack, and hands the finished span to the destinations. Ending twice is reported once
   and ignored. Thread: the span's owner (any thread, one at a time). Allocates: never. */
OTEL_API void otel__span_end(otel_span *span);
OTEL_API void otel__span_end_at(otel_span *span, uint64_t end_time_ns);

/* Attributes. A key set twice keeps the last value. Strings are copied during the call
   and repaired to valid UTF-8. Over the limits values are truncated / attributes dropped
   and counted. Thread: the span's owner. Allocates: never. */
/* The calls behind otel_span_set_str/_strn/_int/_double/_bool: the wrappers pass the key's
   (and a string's) length, which the compiler works out for string literals, and a scalar
   as 64 bits with its otel_value_type. */
OTEL_API void otel__span_kv_str(otel_span *span, const char *key, size_t klen, const char *str, size_t slen);
OTEL_API void otel__span_kv_num(otel_span *span, const char *key, size_t klen, int type, uint64_t bits);
OTEL_API void otel__span_set_attr(otel_span *span, const otel_attr *attr);
OTEL_API void otel__span_set_attrs(otel_span *span, const otel_attr *attrs, size_t count);
/* Renames the span. */
OTEL_API void otel__span_set_name(otel_span *span, const char *name);
/* Status per the API spec: UNSET is ignored, OK is final, the description is kept only
   with ERROR. */
OTEL_API void otel__span_set_status(otel_span *span, otel_status_code code, const char *description);
/* Adds an event named `name` at `time_ns` (0 = now) with `count` attributes. */
OTEL_API void otel__span_add_event(otel_span *span, const char *name, const otel_attr *attrs, size_t count);
OTEL_API void otel__span_add_event_at(otel_span *span, const char *name, uint64_t time_ns,
                                     const otel_attr *attrs, size_t count);
/* Adds an "exception" event with exception.type / .message / .stacktrace (NULLs are
   left out). Does not change the status: call otel_span_set_status for that. */
OTEL_API void otel__span_record_exception(otel_span *span, const char *type, const char *message,
                                         const char *stacktrace);
/* Adds a link to another span's context. */
OTEL_API void otel__span_add_link(otel_span *span, const otel_link *link);
/* True while the span records (sampled, not ended). */
OTEL_API bool otel_span_is_recording(const otel_span *span);
/* Copies the span's context (valid also for unsampled spans). Returns false for a stale,
   NULL or non-recording-invalid handle, and zeroes `out`. Thread: any. */
OTEL_API bool otel_span_get_context(const otel_span *span, otel_span_context *out);

/* ---- internal: the span storage and the inline attribute path --------------------------
   Not API: these may change in any release. They are here (and not in the implementation)
   so that otel_span_set_* below can write an attribute in the caller's own code. */

#if defined(__GNUC__) || defined(__clang__)
#define OTEL__ALWAYS_INLINE inline __attribute__((always_inline))
#define OTEL__NOINLINE __attribute__((noinline))
#define OTEL__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define OTEL__LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define OTEL__ALWAYS_INLINE inline
#define OTEL__NOINLINE
#define OTEL__UNLIKELY(x) (x)
#define OTEL__LIKELY(x) (x)
#endif

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_ATOMICS__)
#define OTEL__ATOMIC_U32 _Atomic uint32_t
#else /* C99, C++: the same size and alignment; the inline path reads it with __atomic_load_n */
#define OTEL__ATOMIC_U32 uint32_t
#endif

/* Items: the attributes, events and links of a span, stored back to back in the span's
   inline storage and copied unchanged into records. Position independent: every item
   starts with its size, values follow the key, all 8-byte aligned.
     ATTR : key, NUL, pad, value (string + NUL / array / packed string array)
     EVENT: name, NUL, pad, nested ATTR items
     LINK : 16-byte trace id, 8-byte span id, flags, remote; trace_state, NUL, pad;
            nested ATTR items                                                         */
enum { OTEL__ITEM_ATTR = 1, OTEL__ITEM_EVENT = 2, OTEL__ITEM_LINK = 3, OTEL__ITEM_DEAD = 4 };

typedef struct otel__item {
    uint32_t size;   /* whole item incl. nested items, multiple of 8 */
    uint8_t tag;     /* OTEL__ITEM_* */
    uint8_t vtype;   /* otel_value_type (ATTR) */
    uint16_t klen;   /* key / event name / link trace_state length */
    uint32_t vlen;   /* ATTR: string bytes or array count; EVENT/LINK: attributes kept */
    uint32_t aux;    /* EVENT/LINK: attributes dropped; ATTR: bytes of the value part */
    union { int64_t i; double d; uint64_t u; } v; /* scalar, or the event time */
} otel__item;

#define OTEL__ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

enum { OTEL__SPAN_RECORDING = 1, OTEL__SPAN_HAS_PARENT = 2, OTEL__SPAN_PARENT_REMOTE = 4,
       OTEL__SPAN_STATUS_FINAL = 8, OTEL__SPAN_DISCARD_LOGGED = 16,
       OTEL__SPAN_IS_LOG = 32 /* a log record being written into a ring ([log]) */ };

typedef struct otel__thread otel__thread;
typedef struct otel__block otel__block;

/* An open span. Lives in its starting thread's slot table until it ends. */
typedef struct otel__slot {
    uint32_t index;              /* global slot index (thread << shift | slot) */
    uint32_t gen;                /* bumped at every end; part of the handle */
    /* (index, gen): on a 64-bit little-endian target one load gives the handle's bits
       (otel__start_auto) */
    OTEL__ATOMIC_U32 state;      /* OTEL__OPEN / _FREE_*; a free published with release by its ender */
    uint32_t flags;              /* OTEL__SPAN_* */
    otel__thread *owner;
    struct otel__slot *next_free; /* while free: the next on its owner's free list */
    otel_tracer *tracer;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_span_id[8];
    uint8_t trace_flags;
    uint8_t kind;
    uint8_t status_code;
    uint8_t pad0;
    uint32_t name_off, name_len; /* in arena */
    uint32_t ts_off, ts_len;     /* trace_state in arena */
    uint32_t msg_off, msg_len;   /* status message in arena */
    uint64_t start_ns;
    uint32_t attr_count, dropped_attrs;
    uint32_t event_count, dropped_events;
    uint32_t link_count, dropped_links;
    uint64_t keys;               /* OTEL__KEYBIT of every attribute key set: a new key skips the duplicate scan */
    uint32_t items_off, items_end; /* items area in arena; strings are allocated from the end */
    uint32_t str_used;           /* bytes used from the top of the arena for strings */
    uint32_t cap;                /* arena bytes */
    unsigned char *arena;
} otel__slot;

enum { OTEL__FREE_LOCAL = 0, OTEL__OPEN = 1, OTEL__FREE_REMOTE = 2 };

#if UINTPTR_MAX > 0xffffffffu
#define OTEL__GEN_SHIFT 32
#define OTEL__GEN_MASK 0xffffffffu
#else
#define OTEL__GEN_SHIFT 24
#define OTEL__GEN_MASK 0xffu
#endif

/* Filter bit of an attribute key (klen >= 1): its length and last byte, which tell apart
   the keys one span usually carries. Two keys with the same bit only cost a scan. */
#define OTEL__KEYBIT(key, klen) ((uint64_t)1 << (((klen) ^ ((size_t)(unsigned char)(key)[(klen) - 1] << 1)) & 63))

/* Copies n bytes to d, which has room for OTEL__ALIGN8(n + 1) bytes: the copy, its NUL and
   zero padding to the 8-byte boundary. Returns the OR of the bytes copied, whose 0x80 bits
   tell whether any was not ASCII: one pass over the source for the check and the copy.
   The last word is zeroed first; the copies then write exactly bytes [0, n) (overlapping
   loads and stores, no loop up to 32 bytes: most keys and short values), so byte n and
   the padding stay 0. */
static OTEL__ALWAYS_INLINE uint64_t otel__copy8(unsigned char *d, const char *src, size_t at) {
    uint64_t w;
    memcpy(&w, src + at, 8);
    memcpy(d + at, &w, 8);
    return w;
}

static OTEL__ALWAYS_INLINE uint64_t otel__copy_pad(unsigned char *d, const char *src, size_t n) {
    uint64_t acc;
    memset(d + OTEL__ALIGN8(n + 1) - 8, 0, 8);
    if (n >= 8) {
        acc = otel__copy8(d, src, 0) | otel__copy8(d, src, n - 8);
        if (n > 16) {
            acc |= otel__copy8(d, src, 8) | otel__copy8(d, src, n - 16);
            for (size_t k = 16; k + 16 < n; k += 8) acc |= otel__copy8(d, src, k); /* longer than 32 */
        }
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, src, 4);
        memcpy(&y, src + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
        acc = x | y;
    } else if (n) { /* 1-3 bytes: the first, the middle and the last (some the same) */
        unsigned char x = (unsigned char)src[0], y = (unsigned char)src[n >> 1], z = (unsigned char)src[n - 1];
        d[0] = x;
        d[n >> 1] = y;
        d[n - 1] = z;
        acc = x | y | z;
    } else {
        acc = 0;
    }
    return acc;
}

/* Writes an attribute item of `size` bytes at `it` (the room is checked by the caller):
   its header, the key (kused bytes with its padding) and a string value (str, slen; vused
   bytes) or a scalar (bits). Returns the OR of the bytes copied: its 0x80 bits tell that
   one was not ASCII (the caller then drops what was written: it is free space). */
static OTEL__ALWAYS_INLINE uint64_t otel__item_write(otel__item *it, size_t size, const char *key, size_t klen,
                                                     size_t kused, otel_value_type type, uint64_t bits,
                                                     const char *str, size_t slen, size_t vused) {
    unsigned char *kd = (unsigned char *)(it + 1);
    uint64_t acc = otel__copy_pad(kd, key, klen);
    if (str) acc |= otel__copy_pad(kd + kused, str, slen);
    it->size = (uint32_t)size;
    it->tag = OTEL__ITEM_ATTR;
    it->vtype = (uint8_t)type;
    it->klen = (uint16_t)klen;
    it->vlen = (uint32_t)slen;
    it->aux = (uint32_t)vused;
    it->v.u = bits;
    return acc;
}

/* The common case of a span attribute, straight-line: a new ASCII key, a scalar or an
   ASCII string within the limits, room in the inline storage. Anything else (a key already
   set, UTF-8 to repair, a limit reached, storage full) returns false and takes the general
   path, which handles and counts it. Log records use it with their own limits.
   `str` is non-NULL for a string value (type OTEL_VALUE_STRING). Bytes written past
   items_end before a false return are free space, overwritten by the general path. */
static OTEL__ALWAYS_INLINE bool otel__attr_fast_lim(otel__slot *s, const char *key, size_t klen, otel_value_type type, uint64_t bits,
                                       const char *str, size_t slen, uint32_t count_limit, uint32_t length_limit) {
    size_t at = s->items_end;
    size_t kused = OTEL__ALIGN8(klen + 1), vused = str ? OTEL__ALIGN8(slen + 1) : 0;
    size_t size = sizeof(otel__item) + kused + vused;
    if (s->attr_count >= count_limit || klen - 1 >= 0xfff0 || slen > length_limit || at + size > s->cap - s->str_used)
        return false;
    uint64_t kb = OTEL__KEYBIT(key, klen);
    if (s->keys & kb) return false; /* maybe set already: the general path looks (no call here keeps this a leaf) */
    otel__item *it = (otel__item *)(void *)(s->arena + at);
    if (otel__item_write(it, size, key, klen, kused, type, bits, str, slen, vused) & 0x8080808080808080ull) return false;
    s->items_end = (uint32_t)(at + size);
    s->keys |= kb;
    s->attr_count++;
    return true;
}

/* otel_span_set_* with a key whose length the compiler knows (a string literal, as keys
   almost always are), and for a string value one whose length it knows too (a string value
   of any length would inline a copy loop at every call site: 500-900 bytes of code each):
   the attribute is written here, in the caller's code, when `span` is
   the span this thread started or resolved last, it is open and recording, and
   otel__attr_fast_lim's common case holds (a new ASCII key, a scalar or ASCII string within
   the limits, room left). Anything else, a key not known at compile time, OTEL_NO_INLINE_ATTRS,
   another compiler or no optimization: the library's call, which does the same and more.
   The checks are otel__kv_slot's: the thread registered with the live SDK instance (so
   the cached slot is that instance's memory), the slot open with the handle's generation. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(OTEL_NO_INLINE_ATTRS)
#define OTEL__INLINE_KV 1
/* (declared with OTEL_API like the functions: `static` with OTEL_STATIC, and exported with
   them from a shared library built with hidden visibility) */
OTEL_API __thread uintptr_t otel__tls_h;       /* the handle this thread resolved last ... */
OTEL_API __thread otel__slot *otel__tls_s;     /* ... and its slot */
OTEL_API __thread uint32_t otel__tls_instance; /* the SDK instance this thread registered with */
OTEL_API uint32_t otel__live;                  /* the live SDK instance (0: none) */
OTEL_API uint32_t otel__kv_lim[2];             /* its attribute count and value length limits */
#ifdef OTEL_TEST_FAST_HITS
static unsigned long long otel__test_inline_hits; /* tests: attributes written by otel__kv_inline */
#define OTEL__INLINE_HIT() __atomic_fetch_add(&otel__test_inline_hits, 1, __ATOMIC_RELAXED)
#else
#define OTEL__INLINE_HIT() ((void)0)
#endif

static OTEL__ALWAYS_INLINE bool otel__kv_inline(otel_span *span, const char *key, size_t klen, otel_value_type type,
                                                uint64_t bits, const char *str, size_t slen) {
    uintptr_t h = (uintptr_t)span;
    if (!__builtin_constant_p(klen) || (str && !__builtin_constant_p(slen)) || !h || h != otel__tls_h ||
        otel__tls_instance != otel__live)
        return false;
    otel__slot *s = otel__tls_s;
    if (__atomic_load_n((const uint32_t *)(const void *)&s->state, __ATOMIC_ACQUIRE) != OTEL__OPEN ||
        (__atomic_load_n(&s->gen, __ATOMIC_RELAXED) & OTEL__GEN_MASK) != ((uint32_t)(h >> OTEL__GEN_SHIFT) & OTEL__GEN_MASK) ||
        !(s->flags & OTEL__SPAN_RECORDING) ||
        !otel__attr_fast_lim(s, key, klen, type, bits, str, slen, otel__kv_lim[0], otel__kv_lim[1]))
        return false;
    OTEL__INLINE_HIT();
    return true;
}
#define OTEL__KV_INLINE(span, key, klen, type, bits, str, slen) otel__kv_inline(span, key, klen, type, bits, str, slen)
#else
#define OTEL__INLINE_KV 0
#define OTEL__KV_INLINE(span, key, klen, type, bits, str, slen) false
#endif

/* The functions above are reached through these inline wrappers, so that calls on a
   span that records nothing (SDK disabled or not initialized, unsampled) cost a compare
   and no call. otel__span_* are the real, exported functions. */
#if UINTPTR_MAX > 0xffffffffu
#define OTEL__NREC_BIT_ ((uintptr_t)1 << 31)
#else
#define OTEL__NREC_BIT_ ((uintptr_t)1 << 23)
#endif
#define OTEL__SPAN_INERT(span) ((uintptr_t)(span) == 1 || ((uintptr_t)(span) & OTEL__NREC_BIT_) != 0)
static OTEL__ALWAYS_INLINE otel_span *otel_span_start(const char *name, const otel_span_desc *desc) {
#if defined(__GNUC__) || defined(__clang__)
    return otel__span_start(name, __builtin_constant_p(name ? strlen(name) : 0) ? (name ? strlen(name) : 0) : SIZE_MAX, desc);
#else
    return otel__span_start(name, SIZE_MAX, desc);
#endif
}
static OTEL__ALWAYS_INLINE void otel_span_set_strn(otel_span *span, const char *key, const char *value, size_t len) {
    if (OTEL__SPAN_INERT(span)) return;
    size_t klen = key ? strlen(key) : 0, vlen = value ? len : 0;
    const char *v = value ? value : "";
    if (!OTEL__KV_INLINE(span, key, klen, OTEL_VALUE_STRING, 0, v, vlen)) otel__span_kv_str(span, key, klen, v, vlen);
}
static OTEL__ALWAYS_INLINE void otel_span_set_str(otel_span *span, const char *key, const char *value) {
    if (OTEL__SPAN_INERT(span)) return;
    size_t klen = key ? strlen(key) : 0, vlen = value ? strlen(value) : 0;
    const char *v = value ? value : "";
    if (!OTEL__KV_INLINE(span, key, klen, OTEL_VALUE_STRING, 0, v, vlen)) otel__span_kv_str(span, key, klen, v, vlen);
}
static OTEL__ALWAYS_INLINE void otel__span_kv_scalar(otel_span *span, const char *key, otel_value_type type, uint64_t bits) {
    if (OTEL__SPAN_INERT(span)) return;
    size_t klen = key ? strlen(key) : 0;
    if (!OTEL__KV_INLINE(span, key, klen, type, bits, NULL, 0)) otel__span_kv_num(span, key, klen, (int)type, bits);
}
static OTEL__ALWAYS_INLINE void otel_span_set_int(otel_span *span, const char *key, int64_t value) {
    otel__span_kv_scalar(span, key, OTEL_VALUE_INT, (uint64_t)value);
}
static OTEL__ALWAYS_INLINE void otel_span_set_double(otel_span *span, const char *key, double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    otel__span_kv_scalar(span, key, OTEL_VALUE_DOUBLE, bits);
}
static OTEL__ALWAYS_INLINE void otel_span_set_bool(otel_span *span, const char *key, bool value) {
    otel__span_kv_scalar(span, key, OTEL_VALUE_BOOL, value ? 1 : 0);
}
static inline void otel_span_set_attr(otel_span *span, const otel_attr *attr) {
    if (!(OTEL__SPAN_INERT(span))) otel__span_set_attr(span, attr);
}
static inline void otel_span_set_attrs(otel_span *span, const otel_attr *attrs, size_t count) {
    if (!(OTEL__SPAN_INERT(span))) otel__span_set_attrs(span, attrs, count);
}
static inline void otel_span_set_name(otel_span *span, const char *name) {
    if (!(OTEL__SPAN_INERT(span))) otel__span_set_name(span, name);
}
static inline void otel_span_set_status(otel_span *span, otel_status_code code, const char *description) {
    if (!(OTEL__SPAN_INERT(span))) otel__span_set_status(span, code, description);
}
static inline void otel_span_add_event(otel_span *span, const char *name, const otel_attr *attrs, size_t count) {
    if (!(OTEL__SPAN_INERT(span))) otel__span_add_event(span, name, attrs, count);
}
static inline void otel_span_add_event_at(otel_span *span, const char *name, uint64_t time_ns, const otel_attr *attrs, size_t count) {
    if (!(OTEL__SPAN_INERT(span))) otel__span_add_event_at(span, name, time_ns, attrs, count);
}
static inline void otel_span_record_exception(otel_span *span, const char *type, const char *message, const char *stacktrace) {
    if (!(OTEL__SPAN_INERT(span))) otel__span_record_exception(span, type, message, stacktrace);
}
static inline void otel_span_add_link(otel_span *span, const otel_link *link) {
    if (!(OTEL__SPAN_INERT(span))) otel__span_add_link(span, link);
}
static inline void otel_span_end(otel_span *span) {
    if (!((uintptr_t)span == 1)) otel__span_end(span);
}
static inline void otel_span_end_at(otel_span *span, uint64_t end_time_ns) {
    if (!((uintptr_t)span == 1)) otel__span_end_at(span, end_time_ns);
}

/* Gets (creating once) the tracer of an instrumentation scope. Tracers live until
   otel_shutdown. NULL name -> the default tracer. Thread: any. */
OTEL_API otel_tracer *otel_tracer_get(const char *scope_name, const char *scope_version);

/* ==== [context] ================================================================= */

/* This thread's active span, or NULL. Thread: any (answers for the calling thread). */
OTEL_API otel_span *otel_span_current(void);
/* Makes a span active on this thread (e.g. a detached span handed to a worker thread);
   otel_context_detach removes it again. Up to 64 active spans nest per thread. */
OTEL_API void otel_context_attach(otel_span *span);
OTEL_API void otel_context_detach(otel_span *span);

/* W3C Trace Context. Writes `traceparent` (OTEL_TRACEPARENT_SIZE bytes) and, when
   `tracestate` is not NULL, the tracestate (cap bytes, "" if none) of `span` (NULL: the
   active span). Returns OTEL_ERR_INVALID_ARG when there is no valid context. */
OTEL_API otel_result otel_context_inject(const otel_span *span, char *traceparent,
                                         char *tracestate, size_t tracestate_cap);
/* Parses W3C headers into `out` (is_remote = true). A malformed traceparent is rejected
   exactly as the W3C rules say (OTEL_ERR_INVALID_ARG, `out` zeroed): start a new trace.
   A malformed tracestate is dropped (trace_state ""); tracestate may be NULL. */
OTEL_API otel_result otel_context_extract(const char *traceparent, const char *tracestate,
                                          otel_span_context *out);
/* Formats a context as a traceparent header value. */
OTEL_API otel_result otel_traceparent_format(const otel_span_context *ctx, char *out, size_t cap);
/* True when the trace id and span id are not all zero. */
OTEL_API bool otel_span_context_is_valid(const otel_span_context *ctx);

/* ==== [signals] ================================================================= */

/* The three OpenTelemetry signals. An exporter serves one or more of them. */
typedef enum otel_signal {
    OTEL_SIGNAL_TRACES = 0,
    OTEL_SIGNAL_METRICS = 1,
    OTEL_SIGNAL_LOGS = 2
} otel_signal;

/* ==== [export] ================================================================== */

typedef struct otel_scope {
    otel_str name;
    otel_str version;
} otel_scope;

typedef struct otel_resource {
    const otel_attr *attrs;
    size_t count;
    uint32_t dropped;
} otel_resource;

/* A finished span as exporters see it: read-only, valid during the export call only. */
typedef struct otel_span_data {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_span_id[8]; /* all zero for a root span */
    uint8_t trace_flags;
    bool has_parent;
    bool parent_is_remote;
    uint8_t kind;              /* otel_span_kind, never 0 */
    uint8_t status_code;       /* otel_status_code */
    uint64_t start_time_ns;
    uint64_t end_time_ns;
    otel_str name;
    otel_str trace_state;
    otel_str status_message;
    uint32_t attr_count, dropped_attrs;
    uint32_t event_count, dropped_events;
    uint32_t link_count, dropped_links;
    const otel_scope *scope;
    /* private: attributes, events and links; read them with otel_iter_* */
    const unsigned char *otel__items;
    size_t otel__items_len;
} otel_span_data;

/* Walks a span's attributes, events or links:
       otel_iter it = otel_span_attrs(s); otel_attr a;
       while (otel_iter_attr(&it, &a)) ...                                             */
typedef struct otel_iter {
    const unsigned char *p, *end;
} otel_iter;

typedef struct otel_event_data {
    otel_str name;
    uint64_t time_ns;
    uint32_t attr_count, dropped_attrs;
    otel_iter attrs; /* walk with otel_iter_attr */
} otel_event_data;

typedef struct otel_link_data {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t trace_flags;
    bool is_remote;
    otel_str trace_state;
    uint32_t attr_count, dropped_attrs;
    otel_iter attrs;
} otel_link_data;

OTEL_API otel_iter otel_span_attrs(const otel_span_data *s);
OTEL_API otel_iter otel_span_events(const otel_span_data *s);
OTEL_API otel_iter otel_span_links(const otel_span_data *s);
OTEL_API bool otel_iter_attr(otel_iter *it, otel_attr *out);
OTEL_API bool otel_iter_event(otel_iter *it, otel_event_data *out);
OTEL_API bool otel_iter_link(otel_iter *it, otel_link_data *out);

/* What an exporter receives: `count` spans sharing one resource. */
typedef struct otel_span_batch {
    const otel_span_data *const *spans;
    size_t count;
    const otel_resource *resource;
    uint32_t timeout_ms; /* the destination's export timeout: return within it */
} otel_span_batch;

typedef enum otel_export_result {
    OTEL_EXPORT_SUCCESS = 0,
    OTEL_EXPORT_FAILURE = 1
} otel_export_result;

/* An exporter: a small vtable plus its user data. The library never calls two of its
   functions at once, except `cancel`. `shutdown` is called exactly once and releases
   `user`; after it nothing else is called. Any function may be NULL except the export
   function of the signal the exporter is used for (export_spans for traces).
   `cancel` is called from another thread, while export_spans or shutdown may be running,
   when otel_shutdown's deadline has passed: it should make them return promptly (e.g.
   stop a retry backoff), and stay in effect. */
struct otel_metric_batch;
struct otel_log_batch;
typedef struct otel_exporter {
    otel_export_result (*export_spans)(const otel_span_batch *batch, void *user);
    otel_result (*force_flush)(uint32_t timeout_ms, void *user);
    void (*shutdown)(uint32_t timeout_ms, void *user);
    void *user;
    const char *name; /* for diagnostics and stats, e.g. "console" */
    void (*cancel)(void *user);
    /* Metrics and logs: an exporter fills the ones for the signals it serves. */
    otel_export_result (*export_metrics)(const struct otel_metric_batch *batch, void *user);
    otel_export_result (*export_logs)(const struct otel_log_batch *batch, void *user);
} otel_exporter;

typedef enum otel_console_format {
    OTEL_CONSOLE_DEFAULT = 0, /* -> OTEL_EXPORTER_CONSOLE_FORMAT, else PRETTY */
    OTEL_CONSOLE_PRETTY,      /* indented JSON per span, the Python SDK's shape */
    OTEL_CONSOLE_COMPACT      /* the same object on one line */
} otel_console_format;

typedef struct otel_console_desc {
    otel_console_format format;
    void *stream; /* FILE*; NULL -> stdout */
} otel_console_desc;

typedef enum otel_file_format {
    OTEL_FILE_DEFAULT = 0, /* -> OTEL_EXPORTER_FILE_FORMAT, else OTLP_JSON */
    OTEL_FILE_OTLP_JSON,   /* one OTLP/JSON ExportTraceServiceRequest per line */
    OTEL_FILE_FLAT         /* one compact console-shaped span object per line */
} otel_file_format;

typedef struct otel_file_desc {
    const char *path; /* NULL -> OTEL_EXPORTER_FILE_TRACES_PATH, OTEL_EXPORTER_FILE_PATH, "traces.jsonl" */
    otel_file_format format;
} otel_file_desc;

/* Built-in exporters. Each fills `out`; on error `out` is zeroed and the reason logged.
   Thread: any, before passing the exporter to otel_init.
   The console exporter serves traces and metrics (export_metrics: the Python SDK's
   ConsoleMetricExporter JSON, resource_metrics -> scope_metrics -> metrics). */
OTEL_API otel_result otel_console_exporter_create(const otel_console_desc *desc, otel_exporter *out);
/* Opens (appends to) the file now: an unopenable path is OTEL_ERR_IO here. */
OTEL_API otel_result otel_file_exporter_create(const otel_file_desc *desc, otel_exporter *out);
/* Keeps deep copies of up to `capacity` spans (0 -> 1 << 20) for tests. */
OTEL_API otel_result otel_memory_exporter_create(size_t capacity, otel_exporter *out);
/* Synchronous fan-out: exports to every child in turn; succeeds when any one succeeds.
   Serves each signal (spans, metrics, logs) that every child serves. */
OTEL_API otel_result otel_multi_exporter_create(const otel_exporter *children, size_t count,
                                                otel_exporter *out);
/* By name: console, file, memory, none (an exporter that drops), otlp, zipkin, and names
   added with otel_exporter_register. Unknown: OTEL_ERR_UNKNOWN; known but not compiled
   in: OTEL_ERR_NOT_BUILT. */
OTEL_API otel_result otel_exporter_create(const char *name, otel_exporter *out);
/* The same for any signal: e.g. (OTEL_SIGNAL_LOGS, "console"). */
OTEL_API otel_result otel_exporter_create_for(otel_signal signal, const char *name, otel_exporter *out);
typedef otel_result (*otel_exporter_factory_fn)(otel_signal signal, otel_exporter *out, void *user);
/* Adds or replaces a factory name (otel_otlp.h registers "otlp"). Thread: setup only. */
OTEL_API otel_result otel_exporter_register(const char *name, otel_exporter_factory_fn fn, void *user);

/* Memory exporter access (thread: any; the span pointer stays valid until reset). */
OTEL_API size_t otel_memory_exporter_count(const otel_exporter *mem);
OTEL_API const otel_span_data *otel_memory_exporter_span(const otel_exporter *mem, size_t i);
OTEL_API void otel_memory_exporter_reset(const otel_exporter *mem);
/* The resource the memory exporter last received (NULL before the first export). */
OTEL_API const otel_resource *otel_memory_exporter_resource(const otel_exporter *mem);
/* The memory exporter keeps its spans after otel_shutdown so tests can read them;
   this frees it. Thread: any, after otel_shutdown. */
OTEL_API void otel_memory_exporter_destroy(otel_exporter *mem);

/* ==== [metric] ================================================================== */

/* Instruments aggregate in place, per distinct attribute set (attribute order does not
   matter), with atomics: recording takes no lock and, once the series exists, allocates
   nothing. Readers (otel_desc.readers, or OTEL_METRICS_EXPORTER) collect them, each with
   its own temporality and state. */

typedef struct otel_meter otel_meter;
typedef struct otel_instrument otel_instrument;
typedef struct otel_bound otel_bound;       /* an instrument bound to one attribute set */
typedef struct otel_observer otel_observer; /* handed to observable callbacks */

typedef enum otel_instrument_kind {
    OTEL_INSTRUMENT_COUNTER = 1,
    OTEL_INSTRUMENT_UP_DOWN_COUNTER,
    OTEL_INSTRUMENT_HISTOGRAM,
    OTEL_INSTRUMENT_GAUGE,
    OTEL_INSTRUMENT_OBSERVABLE_COUNTER,
    OTEL_INSTRUMENT_OBSERVABLE_UP_DOWN_COUNTER,
    OTEL_INSTRUMENT_OBSERVABLE_GAUGE
} otel_instrument_kind;

typedef enum otel_number_type {
    OTEL_NUMBER_INT64 = 0,
    OTEL_NUMBER_DOUBLE = 1
} otel_number_type;

/* Observable callback: report the current values with otel_observe_int/double. Runs on
   the collecting reader's thread; must not block. */
typedef void (*otel_observe_fn)(otel_observer *obs, void *user);

typedef struct otel_instrument_desc {
    const char *name;           /* required; the spec's syntax: [A-Za-z][A-Za-z0-9_.\-/]{0,254} */
    const char *unit;           /* NULL -> "" (UCUM, e.g. "ms", "By", "1") */
    const char *description;    /* NULL -> "" */
    const double *boundaries;   /* histogram bucket bounds, strictly increasing; NULL -> the
                                   spec default 0,5,10,25,50,75,100,250,500,750,1000,2500,
                                   5000,7500,10000 */
    size_t boundary_count;
    uint32_t cardinality_limit; /* series per instrument per reader; 0 -> 2000 */
    otel_observe_fn callback;   /* observable kinds: required */
    void *callback_user;
} otel_instrument_desc;

/* A meter for an instrumentation scope (NULL name -> the default scope). Same name and
   version -> same meter. Thread: any; NULL before otel_init or when disabled. */
OTEL_API otel_meter *otel_meter_get(const char *scope_name, const char *scope_version);

/* Creates (or returns the existing identical) instrument. A NULL meter uses the default
   meter. Invalid name or arguments: an error through the diag callback and a NULL
   result; every recording call accepts NULL and does nothing. Thread: any. */
OTEL_API otel_instrument *otel_instrument_create(otel_meter *meter, otel_instrument_kind kind,
                                                 otel_number_type type, const otel_instrument_desc *desc);

/* Synchronous recording, by the instrument's kind: Counter and UpDownCounter add,
   Histogram records, Gauge sets. A negative value on a Counter is ignored with one
   warning. Attributes are copied when the series is first seen. Thread: any. */
OTEL_API void otel_record_int(otel_instrument *inst, int64_t value, const otel_attr *attrs, size_t count);
OTEL_API void otel_record_double(otel_instrument *inst, double value, const otel_attr *attrs, size_t count);

/* A handle for one attribute set: recording through it skips the lookup. Valid until
   otel_shutdown. NULL on error (recording through NULL does nothing). */
OTEL_API otel_bound *otel_instrument_bind(otel_instrument *inst, const otel_attr *attrs, size_t count);
OTEL_API void otel_bound_record_int(otel_bound *b, int64_t value);
OTEL_API void otel_bound_record_double(otel_bound *b, double value);

/* Inside an observable callback: one observation per attribute set. */
OTEL_API void otel_observe_int(otel_observer *obs, int64_t value, const otel_attr *attrs, size_t count);
OTEL_API void otel_observe_double(otel_observer *obs, double value, const otel_attr *attrs, size_t count);

/* Readable names for the common cases. */
static inline otel_instrument *otel_counter_create(otel_meter *m, const char *name, const char *unit,
                                                   const char *description) {
    otel_instrument_desc d; memset(&d, 0, sizeof d);
    d.name = name; d.unit = unit; d.description = description;
    return otel_instrument_create(m, OTEL_INSTRUMENT_COUNTER, OTEL_NUMBER_INT64, &d);
}
static inline otel_instrument *otel_histogram_create(otel_meter *m, const char *name, const char *unit,
                                                     const char *description) {
    otel_instrument_desc d; memset(&d, 0, sizeof d);
    d.name = name; d.unit = unit; d.description = description;
    return otel_instrument_create(m, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_DOUBLE, &d);
}

/* ---- what metric exporters and readers see ---- */

/* Values match OTLP's AggregationTemporality. */
typedef enum otel_temporality {
    OTEL_TEMPORALITY_UNSPECIFIED = 0,
    OTEL_TEMPORALITY_DELTA = 1,
    OTEL_TEMPORALITY_CUMULATIVE = 2
} otel_temporality;

/* OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, per reader. */
typedef enum otel_temporality_preference {
    OTEL_TEMPORALITY_PREF_DEFAULT = 0, /* -> the env var, else CUMULATIVE */
    OTEL_TEMPORALITY_PREF_CUMULATIVE,
    OTEL_TEMPORALITY_PREF_DELTA,
    OTEL_TEMPORALITY_PREF_LOWMEMORY
} otel_temporality_preference;

typedef enum otel_metric_type {
    OTEL_METRIC_SUM = 1,
    OTEL_METRIC_GAUGE,
    OTEL_METRIC_HISTOGRAM
} otel_metric_type;

/* One data point. SUM and GAUGE use `value` (the metric's number type says which member);
   HISTOGRAM uses count..bucket_counts (bucket_count = boundary_count + 1). */
typedef struct otel_metric_point {
    const otel_attr *attrs;
    size_t attr_count;
    uint64_t start_time_ns; /* 0 for GAUGE */
    uint64_t time_ns;
    union {
        int64_t i;
        double d;
    } value;
    uint64_t count;
    double sum, min, max;   /* min/max meaningful when count > 0 */
    const uint64_t *bucket_counts;
    size_t bucket_count;
} otel_metric_point;

/* One metric stream as exporters see it: read-only, valid during the export call only. */
typedef struct otel_metric_data {
    otel_str name, description, unit;
    const otel_scope *scope;
    otel_instrument_kind instrument_kind;
    otel_metric_type type;
    otel_number_type number_type;
    bool monotonic;               /* SUM */
    otel_temporality temporality; /* SUM and HISTOGRAM */
    const double *boundaries;     /* HISTOGRAM */
    size_t boundary_count;
    const otel_metric_point *points;
    size_t point_count;
} otel_metric_data;

/* What a metric exporter receives from one collection. Metrics of one scope are
   adjacent (same `scope` pointer). */
typedef struct otel_metric_batch {
    const otel_metric_data *metrics;
    size_t count;
    const otel_resource *resource;
    uint32_t timeout_ms;
} otel_metric_batch;

typedef enum otel_reader_kind {
    OTEL_READER_NONE = 0,    /* unused slot */
    OTEL_READER_PERIODIC,    /* collects every interval and calls exporter.export_metrics */
    OTEL_READER_PROMETHEUS,  /* serves the Prometheus text format over HTTP (pull) */
    OTEL_READER_MANUAL       /* collects only when the application calls otel_metrics_collect */
} otel_reader_kind;

typedef struct otel_reader_desc {
    otel_reader_kind kind;
    otel_exporter exporter;                   /* PERIODIC: export_metrics required */
    otel_temporality_preference temporality;  /* 0 -> OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE */
    uint32_t export_interval_ms;              /* 0 -> OTEL_METRIC_EXPORT_INTERVAL, else 60000 */
    uint32_t export_timeout_ms;               /* 0 -> OTEL_METRIC_EXPORT_TIMEOUT, else 30000 */
    const char *host;                         /* PROMETHEUS: NULL -> OTEL_EXPORTER_PROMETHEUS_HOST, else "localhost" */
    uint16_t port;                            /* PROMETHEUS: 0 -> OTEL_EXPORTER_PROMETHEUS_PORT, else 9464 */
    const char *path;                         /* PROMETHEUS: NULL -> "/metrics" */
} otel_reader_desc;

/* Collects reader `reader` (its index in otel_config()->readers) now and hands the result
   to `fn` (valid during the call only). Works for every reader kind; for MANUAL readers
   it is the only way to collect. A delta reader's next collection starts where this one
   ended. Runs the observable callbacks; `fn` and the callbacks must not collect again.
   Thread: any (collections of one reader take turns). */
typedef void (*otel_metrics_collect_fn)(const otel_metric_batch *batch, void *user);
OTEL_API otel_result otel_metrics_collect(size_t reader, otel_metrics_collect_fn fn, void *user);

/* The Prometheus text exposition format (0.0.4) of `batch`: metric names sanitized, unit
   suffixes, _total for monotonic sums, histograms as _bucket/_sum/_count, target_info from
   the resource. Writes at most `cap` bytes (NUL-terminated when it fits) and returns the
   full length needed, excluding the NUL. Thread: any. */
OTEL_API size_t otel_prometheus_format(const otel_metric_batch *batch, char *buf, size_t cap);
/* Collects reader `reader` and formats it: for serving /metrics from your own server.
   `*len` gets the full length; OTEL_ERR_NO_MEMORY when it did not fit in `cap`. */
OTEL_API otel_result otel_prometheus_render(size_t reader, char *buf, size_t cap, size_t *len);

/* ==== [log] ===================================================================== */

/* Log records travel the same lock-free path as spans: the emitting thread copies the
   record into its own ring (no lock, no malloc), the pipeline thread hands it to every
   log destination. */

typedef struct otel_logger otel_logger;

/* Severity numbers as the logs data model defines them (1-24). */
typedef enum otel_severity {
    OTEL_SEVERITY_UNSPECIFIED = 0,
    OTEL_SEVERITY_TRACE = 1, OTEL_SEVERITY_TRACE2, OTEL_SEVERITY_TRACE3, OTEL_SEVERITY_TRACE4,
    OTEL_SEVERITY_DEBUG = 5, OTEL_SEVERITY_DEBUG2, OTEL_SEVERITY_DEBUG3, OTEL_SEVERITY_DEBUG4,
    OTEL_SEVERITY_INFO = 9, OTEL_SEVERITY_INFO2, OTEL_SEVERITY_INFO3, OTEL_SEVERITY_INFO4,
    OTEL_SEVERITY_WARN = 13, OTEL_SEVERITY_WARN2, OTEL_SEVERITY_WARN3, OTEL_SEVERITY_WARN4,
    OTEL_SEVERITY_ERROR = 17, OTEL_SEVERITY_ERROR2, OTEL_SEVERITY_ERROR3, OTEL_SEVERITY_ERROR4,
    OTEL_SEVERITY_FATAL = 21, OTEL_SEVERITY_FATAL2, OTEL_SEVERITY_FATAL3, OTEL_SEVERITY_FATAL4
} otel_severity;

/* A logger for an instrumentation scope (NULL name -> the default scope). Same name and
   version -> same logger; loggers live until otel_shutdown. Thread: any; NULL before
   otel_init or when disabled (every call accepts NULL: default logger). */
OTEL_API otel_logger *otel_logger_get(const char *scope_name, const char *scope_version);

typedef struct otel_log_record {
    uint64_t time_ns;             /* when the event happened; 0 -> unset (observed time is used by viewers) */
    uint64_t observed_time_ns;    /* 0 -> now */
    otel_severity severity;
    const char *severity_text;    /* NULL -> the data model's short name of severity ("INFO",
                                     "WARN2", ...), "" when unspecified */
    otel_value body;              /* any value type; OTEL_VALUE_NONE -> no body */
    const otel_attr *attrs;
    size_t attr_count;
    const char *event_name;       /* NULL -> none */
    const otel_span_context *context; /* NULL -> the active span's, if any */
} otel_log_record;

/* Emits one structured record; everything is copied before it returns (into this thread's
   ring: no lock, no malloc). Attributes over OTEL_LOGRECORD_ATTRIBUTE_* limits and a body
   larger than otel_desc.log_record_bytes are dropped / cut short and counted in otel_stats;
   a full ring drops the record and counts it. Thread: any. Allocates: never. */
OTEL_API void otel_logger_emit(otel_logger *logger, const otel_log_record *rec);

/* printf-style records with attributes; the message becomes a string body, formatted
   into the record's own storage (an over-long message is truncated and counted). The
   time and the observed time are both the time of the call. Thread: any. Allocates: once
   per thread (the format buffer), then never. */
OTEL_API void otel_logger_logf(otel_logger *logger, otel_severity sev, const otel_attr *attrs, size_t count,
                               const char *fmt, ...) OTEL__PRINTF(5, 6);
OTEL_API void otel_logger_trace(otel_logger *l, const otel_attr *attrs, size_t count, const char *fmt, ...) OTEL__PRINTF(4, 5);
OTEL_API void otel_logger_debug(otel_logger *l, const otel_attr *attrs, size_t count, const char *fmt, ...) OTEL__PRINTF(4, 5);
OTEL_API void otel_logger_info(otel_logger *l, const otel_attr *attrs, size_t count, const char *fmt, ...) OTEL__PRINTF(4, 5);
OTEL_API void otel_logger_warn(otel_logger *l, const otel_attr *attrs, size_t count, const char *fmt, ...) OTEL__PRINTF(4, 5);
OTEL_API void otel_logger_error(otel_logger *l, const otel_attr *attrs, size_t count, const char *fmt, ...) OTEL__PRINTF(4, 5);
OTEL_API void otel_logger_fatal(otel_logger *l, const otel_attr *attrs, size_t count, const char *fmt, ...) OTEL__PRINTF(4, 5);

/* A finished log record as exporters see it: read-only, valid during the export call. */
typedef struct otel_log_data {
    uint64_t time_ns;             /* 0 when unset */
    uint64_t observed_time_ns;
    uint8_t trace_id[16];         /* all zero without trace context */
    uint8_t span_id[8];
    uint8_t trace_flags;
    uint8_t severity;             /* otel_severity */
    otel_str severity_text;
    otel_value body;              /* OTEL_VALUE_NONE when absent; arrays may be PACKED */
    otel_str event_name;
    uint32_t attr_count, dropped_attrs;
    const otel_scope *scope;
    /* private: attributes; read them with otel_log_attrs + otel_iter_attr */
    const unsigned char *otel__items;
    size_t otel__items_len;
} otel_log_data;

OTEL_API otel_iter otel_log_attrs(const otel_log_data *r);

/* Log record limits (otel_desc.log_limits); 0 -> the env var, else the SDK default. */
typedef struct otel_log_limits {
    uint32_t attr_count;        /* OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT, 128 */
    uint32_t attr_value_length; /* OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT,
                                   OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, no limit (OTEL_LIMIT_NONE) */
} otel_log_limits;

/* Memory exporter access to log records (thread: any; the pointer stays valid until
   otel_memory_exporter_reset/destroy). otel_memory_exporter_count counts spans only. */
OTEL_API size_t otel_memory_exporter_log_count(const otel_exporter *mem);
OTEL_API const otel_log_data *otel_memory_exporter_log(const otel_exporter *mem, size_t i);

/* What a log exporter receives: `count` records sharing one resource. */
typedef struct otel_log_batch {
    const otel_log_data *const *records;
    size_t count;
    const otel_resource *resource;
    uint32_t timeout_ms;
} otel_log_batch;

/* ==== [pipeline] ================================================================ */

typedef enum otel_processor {
    OTEL_PROCESSOR_DEFAULT = 0, /* -> BATCH */
    OTEL_PROCESSOR_BATCH,       /* own queue and worker thread (the default) */
    OTEL_PROCESSOR_SIMPLE       /* export synchronously at span end, on the ending thread */
} otel_processor;

typedef struct otel_destination_desc {
    otel_exporter exporter;       /* export_spans NULL -> unused slot */
    otel_processor processor;     /* 0 -> BATCH */
    uint32_t max_queue_size;      /* spans; 0 -> OTEL_BSP_MAX_QUEUE_SIZE, else 2048 */
    uint32_t max_export_batch;    /* 0 -> OTEL_BSP_MAX_EXPORT_BATCH_SIZE, else 512 */
    uint32_t schedule_delay_ms;   /* 0 -> OTEL_BSP_SCHEDULE_DELAY, else 5000 */
    uint32_t export_timeout_ms;   /* 0 -> OTEL_BSP_EXPORT_TIMEOUT, else 30000 */
} otel_destination_desc;

typedef enum otel_sampler {
    OTEL_SAMPLER_DEFAULT = 0, /* -> OTEL_TRACES_SAMPLER, else PARENTBASED_ALWAYS_ON */
    OTEL_SAMPLER_ALWAYS_ON,
    OTEL_SAMPLER_ALWAYS_OFF,
    OTEL_SAMPLER_TRACEIDRATIO,
    OTEL_SAMPLER_PARENTBASED_ALWAYS_ON,
    OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF,
    OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO
} otel_sampler;

/* Span limits; 0 -> the env var, else the SDK default (128; no value length limit). */
typedef struct otel_span_limits {
    uint32_t attr_count;          /* OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT */
    uint32_t attr_value_length;   /* OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_ATTRIBUTE_... */
    uint32_t event_count;         /* OTEL_SPAN_EVENT_COUNT_LIMIT */
    uint32_t link_count;          /* OTEL_SPAN_LINK_COUNT_LIMIT */
    uint32_t event_attr_count;    /* OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT */
    uint32_t link_attr_count;     /* OTEL_LINK_ATTRIBUTE_COUNT_LIMIT */
} otel_span_limits;
#define OTEL_LIMIT_NONE UINT32_MAX /* "no limit" in a resolved otel_span_limits */

typedef struct otel_desc {
    const char *service_name;           /* NULL -> OTEL_SERVICE_NAME, resource attrs, unknown_service:<exe> */
    const otel_attr *resource_attrs;    /* merged over OTEL_RESOURCE_ATTRIBUTES */
    size_t resource_attr_count;
    const char *scope_name;             /* default tracer's scope; NULL -> "otel.h" */
    const char *scope_version;          /* NULL -> "" */
    /* Destinations. When OTEL_TRACES_EXPORTER is set it decides them (unless
       lock_destinations); otherwise `destinations` are used, else `default_exporters`
       (a comma list like the env var), else "otlp" as the spec says. */
    otel_destination_desc destinations[OTEL_MAX_DESTINATIONS];
    const char *default_exporters;
    bool lock_destinations;             /* true: ignore OTEL_TRACES_EXPORTER */
    otel_processor processor;           /* for destinations made from names; 0 -> BATCH */
    /* Metric readers: when OTEL_METRICS_EXPORTER is set it decides them (unless
       lock_destinations); otherwise `readers`, else `default_metrics_exporters`, else "otlp". */
    otel_reader_desc readers[OTEL_MAX_READERS];
    const char *default_metrics_exporters;
    /* Log destinations: the same rule with OTEL_LOGS_EXPORTER (export_logs NULL -> unused;
       zero settings from OTEL_BLRP_*: delay 1000 ms, timeout 30000, queue 2048, batch 512).
       The same exporter object may also be in `destinations` and `readers`: it is shut
       down once, by the last destination or reader using it. */
    otel_destination_desc log_destinations[OTEL_MAX_DESTINATIONS];
    const char *default_logs_exporters;
    otel_sampler sampler;
    double sampler_ratio;               /* 0 -> OTEL_TRACES_SAMPLER_ARG, else 1.0 */
    otel_span_limits limits;
    uint32_t span_bytes;                /* inline storage per open span; 0 -> 2048 */
    uint32_t spans_per_thread;          /* open spans per thread; 0 -> 256 */
    uint32_t ring_bytes;                /* per-thread ring: the blocks a thread's records are
                                           written into start at this size, and are half of
                                           it, at most 64 KiB each; 0 -> 1 MiB (power of two) */
    uint32_t max_threads;               /* threads recording at once; 0 -> 1024 */
    otel_diag diag;
    otel_log_level log_level;           /* 0 -> OTEL_LOG_LEVEL, else INFO */
    bool disabled;                      /* true, or OTEL_SDK_DISABLED=true: no-op SDK */
    /* Log records (appended). */
    otel_log_limits log_limits;
    uint32_t log_record_bytes;          /* largest log record (attributes, texts, body) in a
                                           ring; 0 -> 8192; at most ring_bytes / 4 */
    /* Ring growth (appended). The most memory one thread's finished spans and log records
       may take until every destination has exported them: a thread whose blocks are all
       in use takes more, up to this, instead of dropping (address space reserved up front,
       memory used only once written). 0 -> 16 MiB on 64-bit systems, ring_bytes (no
       growth) on 32-bit ones. */
    uint32_t ring_max_bytes;
} otel_desc;

/* Sets up the SDK: resolves `desc` (NULL = all defaults) against the environment,
   creates destinations and starts the pipeline. OTEL_ERR_DISABLED when disabled (every
   call then is a no-op). Thread: setup only. */
OTEL_API otel_result otel_init(const otel_desc *desc);
/* The resolved settings (after defaults and env), or NULL before otel_init. */
OTEL_API const otel_desc *otel_config(void);
/* The resource in use (NULL before otel_init). */
OTEL_API const otel_resource *otel_resource_get(void);
/* Exports every span ended and every log record emitted before the call to every
   destination; waits at most `timeout_ms` (0 -> 30000). OTEL_ERR_TIMEOUT names the late
   destinations in the log.
   Thread: any. */
OTEL_API otel_result otel_force_flush(uint32_t timeout_ms);
/* Flushes, then shuts down every destination and stops the threads; returns by the
   deadline (0 -> 30000 ms) even when an exporter hangs. Idempotent; later calls to
   anything are no-ops until the next otel_init. Thread: setup only. */
OTEL_API otel_result otel_shutdown(uint32_t timeout_ms);

typedef struct otel_destination_stats {
    const char *name;
    uint64_t exported;   /* spans the exporter accepted */
    uint64_t dropped;    /* spans this destination's full queue refused */
    uint64_t failed;     /* spans in batches the exporter failed */
    uint32_t queue_length;
    bool unfinished;     /* missed the last flush/shutdown deadline */
} otel_destination_stats;

/* One metric reader (otel_desc.readers / OTEL_METRICS_EXPORTER), in reader order. */
typedef struct otel_reader_stats {
    const char *name;             /* "console", "otlp", "prometheus", "manual", ... */
    otel_reader_kind kind;
    uint64_t collections;         /* collections run (periodic, scrapes, otel_metrics_collect) */
    uint64_t exported_points;     /* PERIODIC: points the exporter accepted */
    uint64_t failed_points;       /* PERIODIC: points in exports that failed */
    bool unfinished;              /* missed the last flush/shutdown deadline */
} otel_reader_stats;

typedef struct otel_stats {
    uint64_t spans_started;      /* recording spans */
    uint64_t spans_unsampled;
    uint64_t spans_ended;        /* recording spans ended */
    uint64_t spans_dropped;      /* thread ring full, or no free span slot */
    uint64_t attrs_dropped;      /* over a limit or out of inline storage */
    uint64_t misuse;             /* stale/NULL handles, double ends */
    uint32_t destination_count;
    otel_destination_stats destinations[OTEL_MAX_DESTINATIONS];
    /* Log records (appended). Log destinations count records where the above count spans. */
    uint64_t logs_emitted;       /* records handed to the pipeline (or to SIMPLE destinations) */
    uint64_t logs_dropped;       /* thread ring full, no recording thread slot */
    uint64_t log_attrs_dropped;  /* over the count limit or out of record storage */
    uint64_t logs_truncated;     /* bodies cut short: printf message or record storage full */
    uint32_t log_destination_count;
    otel_destination_stats log_destinations[OTEL_MAX_DESTINATIONS];
    /* metrics */
    uint32_t reader_count;
    otel_reader_stats readers[OTEL_MAX_READERS];
    uint64_t metric_dropped;     /* measurements refused: negative on a Counter, NaN or infinite
                                    sums and histograms, recording on an observable instrument */
    uint64_t metric_overflowed;  /* measurements that went to an overflow series (cardinality limit) */
    /* the clock */
    bool clock_tsc;              /* otel_now_ns reads the CPU's time-stamp counter, calibrated
                                    against CLOCK_REALTIME (else: clock_gettime) */
    /* the per-thread rings (blocks) */
    uint64_t ring_grows;         /* times a thread's blocks grew past ring_bytes and each doubling
                                    of it (otel_desc.ring_max_bytes) */
    uint64_t ring_bytes;         /* block memory in use now (cut from the reserved region), summed
                                    over every thread record (an exited thread's blocks are kept
                                    for the next thread) */
} otel_stats;

/* A snapshot of the counters. Thread: any. */
OTEL_API otel_result otel_stats_get(otel_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* OTEL_H_INCLUDED */

/* ================================================================================= */
/*                                IMPLEMENTATION                                     */
/* ================================================================================= */
#ifdef OTEL_IMPLEMENTATION
#ifndef OTEL_IMPLEMENTATION_INCLUDED
#define OTEL_IMPLEMENTATION_INCLUDED

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#if defined(MAP_NORESERVE)
#define OTEL__MAP_NORESERVE MAP_NORESERVE
#else
#define OTEL__MAP_NORESERVE 0
#endif
#if defined(MAP_ANONYMOUS)
#define OTEL__MAP_ANON MAP_ANONYMOUS
#elif defined(MAP_ANON)
#define OTEL__MAP_ANON MAP_ANON
#else
#define OTEL__MAP_ANON 0 /* strict POSIX headers: private pages of /dev/zero instead */
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
long syscall(long number, ...); /* declared by <unistd.h> only with _DEFAULT_SOURCE */
#endif
/* POSIX calls that <unistd.h>/<pthread.h> hide under a strict -std=c11 when a system header
   was included before otel.h: declared here so the include order does not matter. */
ssize_t readlink(const char *path, char *buf, size_t size);
int pthread_mutex_timedlock(pthread_mutex_t *mutex, const struct timespec *abstime);
#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#if !defined(CLOCK_REALTIME) || !defined(CLOCK_MONOTONIC)
#error "otel.h's implementation needs POSIX: include otel.h first in that file, or build with -std=gnu11 or -D_POSIX_C_SOURCE=200809L"
#endif

#if defined(OTEL_MALLOC) != defined(OTEL_FREE)
#error "define both OTEL_MALLOC and OTEL_FREE, or neither"
#elif !defined(OTEL_MALLOC)
#define OTEL_MALLOC(size, user) malloc(size)
#define OTEL_FREE(ptr, user) free(ptr)
#endif
#ifndef OTEL_ASSERT
#define OTEL_ASSERT(c) assert(c)
#endif

#define OTEL__CACHE_LINE 64
#define OTEL__STACK_MAX 64          /* active spans per thread */
#define OTEL__MAX_TRACERS 64
#define OTEL__SLOT_CHUNK 16         /* span slots allocated together */
#define OTEL__TS_NUL_ROOM 8         /* a recording span's empty tracestate: its NUL, padded, after the name */
#ifndef OTEL__DISCARD_LOG_MS
#define OTEL__DISCARD_LOG_MS 1000   /* a span's dropped attributes/events/links: logged at most this often */
#endif
#define OTEL__DEFAULT_SPAN_BYTES 2048u
#define OTEL__DEFAULT_SPANS_PER_THREAD 256u
#define OTEL__DEFAULT_RING_BYTES (1u << 20)
#define OTEL__DEFAULT_RING_MAX_BYTES (sizeof(void *) >= 8 ? (16u << 20) : 0u)
#define OTEL__DEFAULT_MAX_THREADS 1024u
#define OTEL__DEFAULT_LOG_RECORD_BYTES 8192u
#define OTEL__BLOCK_BYTES (64u << 10) /* the largest block of a thread's records (otel__blk_bytes) */
#define OTEL__PASS_MS 20u             /* the longest the pipeline sleeps between passes (otel__pace) */
#ifndef OTEL_TEST_HQ_START                /* tests: handover queue counters that soon wrap around */
#define OTEL_TEST_HQ_START 0u
#endif
#ifdef OTEL_TEST_FAST_HITS /* tests: how often the fast paths wrote: [0] log records by otel__log_fast,
                              [1] attributes by otel_span_set_attrs' per-attribute fast path,
                              [2] span starts by otel__start_rec */
static _Atomic unsigned long long otel__test_fast_hits[3];
#define OTEL__FAST_HIT(k) atomic_fetch_add_explicit(&otel__test_fast_hits[k], 1, memory_order_relaxed)
#else
#define OTEL__FAST_HIT(k) ((void)0)
#endif
#define OTEL__HOLD_MS 20             /* the pipeline waits this long for queue room ... */
#define OTEL__HOLD_MAX_MS 100        /* ... and this long in all, then drops for ... */
#define OTEL__NOWAIT_MS 1000         /* ... this long (see otel__pipeline_main) */

/* ==== [platform] ================================================================= */


#define otel__load_acq(p) atomic_load_explicit((p), memory_order_acquire)
#define otel__load_rlx(p) atomic_load_explicit((p), memory_order_relaxed)
#define otel__store_rel(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define otel__store_rlx(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define otel__add_rlx(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)

static uint64_t otel__realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the clock ------------------------------------------------------------------------
   Every span reads the wall clock twice, and clock_gettime costs ~27 ns here against ~16 ns
   for the CPU's time-stamp counter, which the vDSO reads and scales itself. Where the kernel
   itself keeps time with the TSC (clocksource "tsc": it checked that the counter is
   invariant and in step across CPUs), otel_now_ns reads the TSC and maps it to
   CLOCK_REALTIME with an anchor and a rate that the pipeline thread refreshes every 50 ms
   (otel__clock_tick). The rate is measured over 0.5-2 s windows (a few ppm); each refresh
   re-anchors to clock_gettime, so NTP slews and steps are followed within 50 ms. An anchor
   older than a second (no pipeline running, or a stalled one) is not used: the call falls
   back to clock_gettime. A re-anchor can move the mapping by a few microseconds, so span
   end times are clamped to their start. Build with OTEL_NO_TSC to always use clock_gettime. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(OTEL_NO_TSC)
#define OTEL__HAVE_TSC 1
static inline uint64_t otel__rdtsc(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Seqlock: odd while written. max_delta 0 (before the first calibration, or the TSC not
   usable): every read falls back to clock_gettime. */
static struct {
    _Atomic uint32_t seq;
    _Atomic uint64_t tsc0, ns0, mult, max_delta; /* ns = ns0 + (tsc - tsc0) * mult / 2^32 */
} otel__clk;

/* Calibration state: the pipeline thread of the one live SDK instance (otel__clk_mu). */
static pthread_mutex_t otel__clk_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int otel__clk_ok;       /* 0 unknown, 1 the kernel keeps time with the TSC, -1 not */
static uint64_t otel__clk_base_tsc, otel__clk_base_ns; /* start of the rate window */
static _Atomic uint64_t otel__clk_last_ms; /* read before the lock: atomic */
static uint64_t otel__clk_mult;

/* One (tsc, realtime) pair: the tightest of three brackets. */
static void otel__clk_pair(uint64_t *tsc, uint64_t *ns) {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 3; i++) {
        uint64_t a = otel__rdtsc(), n = otel__realtime_ns(), b = otel__rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ns = n;
        }
    }
}

static void otel__clk_publish(uint64_t tsc0, uint64_t ns0, uint64_t mult, uint64_t max_delta) {
    uint32_t q = otel__load_rlx(&otel__clk.seq); /* even: only this (locked) writer changes it */
    otel__store_rlx(&otel__clk.seq, q + 1); /* odd: readers fall back meanwhile */
    atomic_thread_fence(memory_order_release);
    otel__store_rlx(&otel__clk.tsc0, tsc0);
    otel__store_rlx(&otel__clk.ns0, ns0);
    otel__store_rlx(&otel__clk.mult, mult);
    otel__store_rlx(&otel__clk.max_delta, max_delta);
    otel__store_rel(&otel__clk.seq, q + 2);
}

static void otel__clk_disable(void) {
    otel__clk_publish(0, 0, 0, 0);
    otel__clk_mult = 0;
}

static bool otel__clk_kernel_tsc(void) {
    char buf[32] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 3 && memcmp(buf, "tsc", 3) == 0 && (n == 3 || buf[3] == '\n');
}

/* Called by the pipeline thread on every wake (at least every 20 ms); works every 50 ms. */
static void otel__clock_tick(uint64_t now_ms) {
    if (otel__load_rlx(&otel__clk_ok) < 0 || now_ms - otel__load_rlx(&otel__clk_last_ms) < 50) return;
    if (pthread_mutex_trylock(&otel__clk_mu) != 0) return;
    if (otel__load_rlx(&otel__clk_ok) == 0) otel__store_rlx(&otel__clk_ok, otel__clk_kernel_tsc() ? 1 : -1);
    if (otel__load_rlx(&otel__clk_ok) < 0) {
        otel__clk_disable();
        pthread_mutex_unlock(&otel__clk_mu);
        return;
    }
    uint64_t tsc = 0, ns = 0;
    otel__clk_pair(&tsc, &ns);
    otel__store_rlx(&otel__clk_last_ms, now_ms);
    if (otel__clk_mult) { /* how far the mapping drifted: more than 100 us means a clock
                             step or a counter that misbehaves: measure the rate afresh */
        uint64_t pred = otel__load_rlx(&otel__clk.ns0) +
                        (uint64_t)(((unsigned __int128)(tsc - otel__load_rlx(&otel__clk.tsc0)) * otel__clk_mult) >> 32);
        uint64_t err = pred > ns ? pred - ns : ns - pred;
        if (err > 100000u) {
            otel__clk_disable();
            otel__clk_base_tsc = tsc, otel__clk_base_ns = ns;
            pthread_mutex_unlock(&otel__clk_mu);
            return;
        }
    }
    if (otel__clk_base_tsc == 0 || tsc <= otel__clk_base_tsc || ns <= otel__clk_base_ns) {
        otel__clk_base_tsc = tsc, otel__clk_base_ns = ns;
        pthread_mutex_unlock(&otel__clk_mu);
        return;
    }
    uint64_t dns = ns - otel__clk_base_ns, dtsc = tsc - otel__clk_base_tsc;
    /* a new rate from a window of at least 0.5 s (50 ms for the very first one) */
    if (dns >= 500000000u || (!otel__clk_mult && dns >= 50000000u)) {
        otel__clk_mult = (uint64_t)(((unsigned __int128)dns << 32) / dtsc);
        if (dns >= 2000000000u) otel__clk_base_tsc = tsc, otel__clk_base_ns = ns; /* next window */
    }
    if (otel__clk_mult) {
        /* ticks in one second: older anchors are not trusted */
        uint64_t max_delta = (uint64_t)(((unsigned __int128)1000000000u << 32) / otel__clk_mult);
        otel__clk_publish(tsc, ns, otel__clk_mult, max_delta);
    }
    pthread_mutex_unlock(&otel__clk_mu);
}

/* In a child after fork (one thread): the parent's calibrating thread may have held the
   lock or been mid-publish. */
static void otel__clock_after_fork(void) {
    pthread_mutex_init(&otel__clk_mu, NULL);
    uint32_t q = otel__load_rlx(&otel__clk.seq);
    if (q & 1) {
        otel__store_rlx(&otel__clk.max_delta, 0);
        otel__store_rel(&otel__clk.seq, q + 1);
    }
}

/* True while otel_now_ns reads the TSC (tests). */
static bool otel__clock_uses_tsc(void) {
    return otel__load_acq(&otel__clk.max_delta) != 0;
}
#else
static void otel__clock_tick(uint64_t now_ms) { (void)now_ms; }
static void otel__clock_after_fork(void) {}
static bool otel__clock_uses_tsc(void) { return false; }
#endif

/* Inlined into span start and end, where the counter read overlaps the work around it. */
static OTEL__ALWAYS_INLINE uint64_t otel__now(void) {
#ifdef OTEL__HAVE_TSC
    uint32_t q = otel__load_acq(&otel__clk.seq);
    if (!(q & 1)) {
        uint64_t t0 = otel__load_rlx(&otel__clk.tsc0), n0 = otel__load_rlx(&otel__clk.ns0);
        uint64_t m = otel__load_rlx(&otel__clk.mult), lim = otel__load_rlx(&otel__clk.max_delta);
        atomic_thread_fence(memory_order_acquire);
        /* lim 0: not calibrated (no pipeline thread yet, or the TSC is not used): no counter
           read, which would cost as much as the clock_gettime that follows */
        if (OTEL__LIKELY(lim != 0)) {
            uint64_t d = otel__rdtsc() - t0;
            if (otel__load_rlx(&otel__clk.seq) == q && d < lim) return n0 + (uint64_t)(((unsigned __int128)d * m) >> 32);
        }
    }
#endif
    return otel__realtime_ns();
}

OTEL_API uint64_t otel_now_ns(void) { return otel__now(); }

static uint64_t otel__mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A wake-up word: waiters sleep while it holds `expect`; wakers change it and wake.
   Linux: futex (no lock on the waking side, which may be an application thread).
   Elsewhere: a mutex and condition variable. */
typedef struct otel__event {
    _Atomic uint32_t word;
#if !defined(__linux__)
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
} otel__event;

static void otel__event_init(otel__event *e) {
    atomic_init(&e->word, 0);
#if !defined(__linux__)
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
#endif
}

static void otel__event_deinit(otel__event *e) {
#if !defined(__linux__)
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
#else
    (void)e;
#endif
}

/* Sleeps while e->word == expect, at most timeout_ms. */
static void otel__event_wait(otel__event *e, uint32_t expect, uint32_t timeout_ms) {
#if defined(__linux__)
    struct timespec ts;
    ts.tv_sec = timeout_ms / 1000u;
    ts.tv_nsec = (long)(timeout_ms % 1000u) * 1000000L;
    syscall(SYS_futex, &e->word, FUTEX_WAIT_PRIVATE, expect, &ts, NULL, 0);
#else
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000u;
    ts.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&e->mu);
    if (atomic_load(&e->word) == expect) pthread_cond_timedwait(&e->cv, &e->mu, &ts);
    pthread_mutex_unlock(&e->mu);
#endif
}

static void otel__event_wake(otel__event *e) {
#if defined(__linux__)
    syscall(SYS_futex, &e->word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    pthread_mutex_lock(&e->mu);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
#endif
}

/* Absolute CLOCK_REALTIME timespec `ms` from now, for pthread_cond_timedwait. */
static struct timespec otel__abstime(uint32_t ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000u;
    ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    return ts;
}

static void otel__os_random(void *buf, size_t n) {
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (got < n) {
            ssize_t r = read(fd, (char *)buf + got, n - got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        close(fd);
    }
    if (got < n) { /* no /dev/urandom: mix time, address and pid */
        uint64_t x = otel_now_ns() ^ ((uint64_t)(uintptr_t)buf << 17) ^ (uint64_t)getpid();
        for (; got < n; got++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            ((unsigned char *)buf)[got] = (unsigned char)(x >> 24);
        }
    }
}

/* ==== [util] ===================================================================== */

static const char *const otel__level_names[] = {"", "none", "error", "warn", "info", "debug"};

typedef struct otel__diag_state {
    otel_diag diag;
    otel_log_level level;
    pthread_mutex_t mu; /* serializes the default stderr writer */
} otel__diag_state;

static otel__diag_state otel__diag_g = {{NULL, NULL}, OTEL_LOG_INFO, PTHREAD_MUTEX_INITIALIZER};

static void otel__vlog(otel_log_level level, const char *fmt, va_list ap) {
    char msg[1024];
    if (level == OTEL_LOG_DEFAULT || level == OTEL_LOG_NONE || level > otel__diag_g.level) return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (otel__diag_g.diag.func) {
        otel__diag_g.diag.func(level, msg, otel__diag_g.diag.user);
        return;
    }
    pthread_mutex_lock(&otel__diag_g.mu);
    fprintf(stderr, "otel: %s: %s\n", otel__level_names[level], msg);
    pthread_mutex_unlock(&otel__diag_g.mu);
}

static void otel__logf(otel_log_level level, const char *fmt, ...) OTEL__PRINTF(2, 3);
static void otel__logf(otel_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    otel__vlog(level, fmt, ap);
    va_end(ap);
}

OTEL_API void otel_log(otel_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    otel__vlog(level, fmt, ap);
    va_end(ap);
}

/* Reports a condition once per otel_init: `flag` is one of the state's once-flags. */
#define OTEL__LOG_ONCE(flag, level, ...) \
    do { if (!atomic_exchange_explicit(&(flag), 1, memory_order_relaxed)) otel__logf(level, __VA_ARGS__); } while (0)

OTEL_API const char *otel_result_str(otel_result r) {
    switch (r) {
    case OTEL_OK: return "ok";
    case OTEL_ERR_INVALID_ARG: return "invalid argument";
    case OTEL_ERR_NO_MEMORY: return "out of memory";
    case OTEL_ERR_IO: return "I/O error";
    case OTEL_ERR_TIMEOUT: return "deadline passed";
    case OTEL_ERR_NOT_BUILT: return "not built in";
    case OTEL_ERR_STATE: return "wrong state (not initialized, or already)";
    case OTEL_ERR_UNKNOWN: return "unknown name";
    case OTEL_ERR_EXPORT: return "exporter failed";
    case OTEL_ERR_DISABLED: return "SDK disabled";
    }
    return "unknown result";
}

static void *otel__calloc(size_t n) {
    void *p = OTEL_MALLOC(n, NULL);
    if (p) memset(p, 0, n);
    return p;
}

static size_t otel__strnlen(const char *s, size_t max) {
    const char *z = (const char *)memchr(s, 0, max);
    return z ? (size_t)(z - s) : max;
}

static char *otel__strndup(const char *s, size_t n) {
    char *p = (char *)OTEL_MALLOC(n + 1, NULL);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static uint32_t otel__pow2_ceil(uint32_t v) {
    uint32_t p = 1;
    while (p < v && p < (1u << 31)) p <<= 1;
    return p;
}

/* ---- [util] part: growable output buffer (exporters, worker threads) ---------------- */

/* Output buffer with a sticky failure flag: after an allocation failure every call is a
   no-op and the caller checks `failed` once. While p != NULL, p[len] == '\0'. */
typedef struct otel__buf {
    char *p;
    size_t len, cap;
    bool failed;
} otel__buf;

/* Makes room for `extra` more bytes (plus the NUL). Grows by doubling, at least 256. */
static void otel__buf_reserve(otel__buf *b, size_t extra) {
    size_t need, ncap;
    char *np;
    if (b->failed) return;
    if (extra > SIZE_MAX / 2 - b->len - 1) { b->failed = true; return; }
    need = b->len + extra + 1;
    if (b->p && need <= b->cap) return;
    ncap = b->cap < 256 ? 256 : b->cap;
    while (ncap < need) ncap *= 2;
    np = (char *)OTEL_MALLOC(ncap, NULL);
    if (!np) { b->failed = true; return; }
    if (b->p) {
        memcpy(np, b->p, b->len);
        OTEL_FREE(b->p, NULL);
    }
    np[b->len] = '\0';
    b->p = np;
    b->cap = ncap;
}

static void otel__buf_put(otel__buf *b, const char *s, size_t n) {
    otel__buf_reserve(b, n);
    if (b->failed) return;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void otel__buf_puts(otel__buf *b, const char *s) { otel__buf_put(b, s, strlen(s)); }

static void otel__buf_putc(otel__buf *b, char c) { otel__buf_put(b, &c, 1); }

static void otel__buf_printf(otel__buf *b, const char *fmt, ...) {
    va_list ap, ap2;
    int r;
    otel__buf_reserve(b, 0);
    if (b->failed) return;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    r = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    if (r >= 0 && (size_t)r >= b->cap - b->len) {
        otel__buf_reserve(b, (size_t)r);
        if (!b->failed) r = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    va_end(ap);
    if (b->failed || r < 0) { /* out of memory, or an encoding error */
        if (b->p) b->p[b->len] = '\0'; /* drop a partial first attempt */
        b->failed = true;
        return;
    }
    b->len += (size_t)r;
}

/* Frees the storage; the buffer is then empty and usable again. */
static void otel__buf_free(otel__buf *b) {
    if (b->p) OTEL_FREE(b->p, NULL);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

static const char otel__hex_digits[] = "0123456789abcdef";

/* Lower-case hex of `n` bytes: writes 2n chars and a NUL (out has 2n+1 bytes). */
static void otel__hex_encode(char *out, const uint8_t *bytes, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = otel__hex_digits[bytes[i] >> 4];
        out[2 * i + 1] = otel__hex_digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Lower-case hex, no quotes. */
static void otel__buf_hex(otel__buf *b, const uint8_t *bytes, size_t n) {
    if (n > SIZE_MAX / 4) { b->failed = true; return; }
    otel__buf_reserve(b, 2 * n);
    if (b->failed) return;
    otel__hex_encode(b->p + b->len, bytes, n);
    b->len += 2 * n;
}

/* "..." with JSON escaping. Bytes >= 0x80 are copied as is (input is valid UTF-8). */
static void otel__buf_json_str(otel__buf *b, const char *s, size_t n) {
    size_t i, run = 0;
    otel__buf_putc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            memcpy(u, "\\u00", 4);
            u[4] = otel__hex_digits[c >> 4];
            u[5] = otel__hex_digits[c & 15];
            u[6] = '\0';
            esc = u;
            break;
        }
        otel__buf_put(b, s + run, i - run);
        otel__buf_puts(b, esc);
        run = i + 1;
    }
    otel__buf_put(b, s + run, n - run);
    otel__buf_putc(b, '"');
}

/* A JSON number: the shortest of %.15g/%.16g/%.17g that reads back exactly, with ".0"
   added to integral values ("1.0", "-0.0"; "1e+300" stays). The locale's decimal point is
   replaced by '.'. NaN and infinities become the strings "NaN", "Infinity", "-Infinity". */
static void otel__buf_json_double(otel__buf *b, double d) {
    char tmp[48], out[48];
    size_t i, o = 0;
    int prec;
    bool frac = false;
    if (d != d) { otel__buf_puts(b, "\"NaN\""); return; }
    if (d > 1.7976931348623157e308) { otel__buf_puts(b, "\"Infinity\""); return; }
    if (d < -1.7976931348623157e308) { otel__buf_puts(b, "\"-Infinity\""); return; }
    for (prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break; /* same locale as snprintf: consistent */
    }
    for (i = 0; tmp[i]; i++) {
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
    out[o] = '\0';
    otel__buf_put(b, out, o);
    if (!frac) otel__buf_put(b, ".0", 2);
}

/* Days since 1970-01-01 -> civil date (proleptic Gregorian; H. Hinnant's algorithm). */
static void otel__civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    int64_t era, yy;
    unsigned doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* "2020-05-07T14:39:52.906272Z": UTC, microseconds truncated. Returns the length.
   Pure arithmetic (no gmtime_r, which Windows lacks): thread-safe, no feature macros. */
static size_t otel__iso8601(char out[40], uint64_t unix_ns) {
    uint64_t secs = unix_ns / 1000000000u;
    unsigned us = (unsigned)(unix_ns % 1000000000u / 1000u);
    unsigned sod = (unsigned)(secs % 86400u), mon, day;
    int year, r;
    otel__civil_from_days((int64_t)(secs / 86400u), &year, &mon, &day);
    r = snprintf(out, 40, "%04d-%02u-%02uT%02u:%02u:%02u.%06uZ", year, mon, day, sod / 3600,
                 sod / 60 % 60, sod % 60, us);
    return r > 0 ? (size_t)r : 0;
}

/* ---- [util] part: UTF-8 repair ----------------------------------------------------- */

/* At s[0] >= 0x80: returns the length (2..4) of a valid sequence, or 0 and sets *bad to
   the length of the maximal subpart of an ill-formed one (1..3), per Unicode ch. 3 "U+FFFD
   substitution of maximal subparts" (what Python's errors="replace" and browsers do). */
static size_t otel__utf8_seq(const unsigned char *s, size_t n, size_t *bad) {
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need, k;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;      /* overlong */
        else if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;      /* overlong */
        else if (c == 0xF4) hi = 0x8F; /* > U+10FFFF */
    } else { *bad = 1; return 0; }     /* continuation byte, C0, C1, F5..FF */
    for (k = 1; k < need; k++) {
        if (k >= n || s[k] < lo || s[k] > hi) { *bad = k; return 0; }
        lo = 0x80;
        hi = 0xBF;
    }
    return need;
}

/* Copies src[0..n) into dst as valid UTF-8: each maximal ill-formed subpart becomes one
   U+FFFD. Stops before exceeding `cap` bytes or `max_chars` code points (SIZE_MAX: no
   limit), never splitting a character. Returns bytes written; no NUL is written.
   *changed (may be NULL) = something was replaced or left out. dst may lie before src in
   the same buffer (the copies are memmove) as long as the output never passes the input
   not yet read (otel__lput_fmt places the input so). */
static size_t otel__utf8_copy(char *dst, size_t cap, const char *src, size_t n, size_t max_chars,
                              bool *changed) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0, chars = 0, k, lim, len, bad;
    bool ch = false;
    while (i < n) {
        lim = n - i; /* ASCII fast path: one byte = one char */
        if (lim > cap - o) lim = cap - o;
        if (lim > max_chars - chars) lim = max_chars - chars;
        k = 0;
        while (k + 8 <= lim) {
            uint64_t w;
            memcpy(&w, s + i + k, 8);
            if (w & 0x8080808080808080ull) break;
            k += 8;
        }
        while (k < lim && s[i + k] < 0x80) k++;
        if (k) {
            memmove(dst + o, s + i, k);
            i += k; o += k; chars += k;
            continue;
        }
        if (s[i] < 0x80) { ch = true; break; } /* a limit was reached */
        len = otel__utf8_seq(s + i, n - i, &bad);
        if (chars >= max_chars || (len ? len : 3) > cap - o) { ch = true; break; }
        if (len) {
            memmove(dst + o, s + i, len);
            i += len; o += len;
        } else {
            memcpy(dst + o, "\xEF\xBF\xBD", 3);
            i += bad; o += 3;
            ch = true;
        }
        chars++;
    }
    if (changed) *changed = ch;
    return o;
}

/* Bytes otel__utf8_copy writes for src[0..n), max_chars and `cap`; *in (may be NULL): the
   source bytes they come from. */
static size_t otel__utf8_fit(const char *src, size_t n, size_t max_chars, size_t cap, size_t *in) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0, chars = 0, len, adv, bad;
    for (; i < n && chars < max_chars; chars++) {
        if (s[i] < 0x80) len = adv = 1;
        else if ((len = otel__utf8_seq(s + i, n - i, &bad)) != 0) adv = len;
        else len = 3, adv = bad;
        if (len > cap - o) break;
        i += adv;
        o += len;
    }
    if (in) *in = i;
    return o;
}

/* Bytes otel__utf8_copy writes for src[0..n) and max_chars when it has room enough. */
static size_t otel__utf8_need(const char *src, size_t n, size_t max_chars) {
    return otel__utf8_fit(src, n, max_chars, SIZE_MAX, NULL);
}

static bool otel__utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, bad;
    while (i < n) {
        if (p[i] < 0x80) { i++; continue; }
        size_t l = otel__utf8_seq(p + i, n - i, &bad);
        if (!l) return false;
        i += l;
    }
    return true;
}

/* ---- [util] part: percent decoding ------------------------------------------------- */

static int otel__hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes %XX (either case) from s[0..n) into out (room for n bytes). '+' stays '+'.
   A '%' without two hex digits after it: false (*out_len = 0). The result may be invalid
   UTF-8: the caller repairs it. */
static bool otel__percent_decode(const char *s, size_t n, char *out, size_t *out_len) {
    size_t i, o = 0;
    *out_len = 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h, l;
            if (n - i < 3) return false;
            h = otel__hexval(s[i + 1]);
            l = otel__hexval(s[i + 2]);
            if (h < 0 || l < 0) return false;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    *out_len = o;
    return true;
}

/* ---- [env] part: parsing rules of the SDK spec ------------------------------------- */

static bool otel__is_ows(char c) { return c == ' ' || c == '\t'; }

/* Trims spaces and tabs around s[0..*n); returns the new start. */
static const char *otel__trim(const char *s, size_t *n) {
    while (*n && otel__is_ows(s[0])) { s++; (*n)--; }
    while (*n && otel__is_ows(s[*n - 1])) (*n)--;
    return s;
}

/* Case-insensitive (ASCII) equality of s[0..n) and the NUL-terminated `lit`. */
static bool otel__eq_nocase(const char *s, size_t n, const char *lit) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (!lit[i] || tolower((unsigned char)s[i]) != tolower((unsigned char)lit[i])) return false;
    }
    return lit[n] == '\0';
}

/* getenv; an empty or all-blank (spaces/tabs) value means unset: NULL. */
static const char *otel__env(const char *name) {
    const char *v = getenv(name);
    size_t n;
    if (!v) return NULL;
    n = strlen(v);
    otel__trim(v, &n);
    return n ? v : NULL;
}

/* Unset -> def; "true"/"false" in any case (blanks around ignored); else false + warning. */
static bool otel__env_bool(const char *name, bool def) {
    const char *v = otel__env(name), *t;
    size_t n;
    if (!v) return def;
    n = strlen(v);
    t = otel__trim(v, &n);
    if (otel__eq_nocase(t, n, "true")) return true;
    if (!otel__eq_nocase(t, n, "false"))
        otel__logf(OTEL_LOG_WARN, "%s=\"%.100s\" is not true or false; using false", name, v);
    return false;
}

/* Decimal digits only, blanks around ignored; false for a sign, junk or > UINT32_MAX. */
static bool otel__parse_u32(const char *v, uint32_t *out) {
    size_t n = strlen(v), i;
    const char *t = otel__trim(v, &n);
    uint64_t x = 0;
    for (i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9') break;
        x = x * 10 + (uint64_t)(t[i] - '0');
        if (x > UINT32_MAX) break;
    }
    if (n == 0 || i < n) return false;
    *out = (uint32_t)x;
    return true;
}

/* The number in env var `name`; unset -> def; not a number -> a warning and `def`. */
static uint32_t otel__env_u32(const char *name, uint32_t def) {
    const char *v = otel__env(name);
    uint32_t x;
    if (!v) return def;
    if (!otel__parse_u32(v, &x)) {
        otel__logf(OTEL_LOG_WARN, "%s=\"%.100s\" is not a number from 0 to 4294967295; using %lu",
                   name, v, (unsigned long)def);
        return def;
    }
    return x;
}

/* Locale-independent decimal: [+-]digits[.digits][(e|E)[+-]digits]; no inf/nan/hex.
   Correctly rounded when the significant digits fit 2^53 and the scale is <= 22. */
static bool otel__parse_double(const char *s, size_t n, double *out) {
    size_t i = 0;
    uint64_t mant = 0;
    long exp10 = 0, e = 0;
    int digits = 0;
    bool neg = false, eneg = false;
    double v, p = 1.0, ten = 10.0;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (mant < 100000000000000000ull) mant = mant * 10 + (uint64_t)(s[i] - '0');
        else exp10++;
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (mant < 100000000000000000ull) { mant = mant * 10 + (uint64_t)(s[i] - '0'); exp10--; }
        }
    }
    if (!digits) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t start;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        for (start = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 100000) e = e * 10 + (s[i] - '0');
        if (i == start) return false;
    }
    if (i != n) return false;
    exp10 += eneg ? -e : e;
    v = (double)mant;
    if (mant != 0 && exp10 > 0) {
        for (e = exp10 > 400 ? 400 : exp10; e > 0; e >>= 1, ten *= ten) if (e & 1) p *= ten;
        v *= p; /* may become infinity: out of any range */
    } else if (mant != 0 && exp10 < 0) {
        for (e = -exp10 > 400 ? 400 : -exp10; e > 22; e -= 22) v /= 1e22;
        for (; e > 0; e >>= 1, ten *= ten) if (e & 1) p *= ten; /* exact up to 1e22 */
        v /= p;
    }
    *out = neg ? -v : v;
    return true;
}

/* A decimal number in [lo, hi] (blanks around ignored); else a warning and `def`. */
static double otel__env_double(const char *name, double def, double lo, double hi) {
    const char *v = otel__env(name), *t;
    size_t n;
    double d;
    if (!v) return def;
    n = strlen(v);
    t = otel__trim(v, &n);
    if (!otel__parse_double(t, n, &d) || !(d >= lo && d <= hi)) {
        otel__logf(OTEL_LOG_WARN, "%s=\"%.100s\" is not a number from %g to %g; using %g", name,
                   v, lo, hi, def);
        return def;
    }
    return d;
}

/* Index of the value in names[0..count) (case-insensitive, blanks trimmed); unknown ->
   a warning and `def`. Unset -> def. */
static int otel__env_enum(const char *name, const char *const *names, int count, int def) {
    const char *v = otel__env(name), *t;
    size_t n;
    int i;
    if (!v) return def;
    n = strlen(v);
    t = otel__trim(v, &n);
    for (i = 0; i < count; i++)
        if (names[i] && otel__eq_nocase(t, n, names[i])) return i;
    otel__logf(OTEL_LOG_WARN, "%s=\"%.100s\" is not a known value; ignored", name, v);
    return def;
}

/* Next item of a comma-separated list at *cursor (NUL-terminated; NULL = empty list):
   blanks around items trimmed, empty items skipped. False at the end. */
static bool otel__list_next(const char **cursor, const char **item, size_t *item_len) {
    const char *p = *cursor;
    if (!p) return false;
    while (*p) {
        const char *start = p, *t;
        size_t n;
        while (*p && *p != ',') p++;
        n = (size_t)(p - start);
        t = otel__trim(start, &n);
        if (*p == ',') p++;
        if (n) {
            *cursor = p;
            *item = t;
            *item_len = n;
            return true;
        }
    }
    *cursor = p;
    return false;
}

typedef otel_kv_fn otel__kv_fn;

/* One member: 0 = good (fn called), 1 = skipped (warned). m[0..n) is trimmed, not empty. */
static int otel__kv_member(const char *m, size_t n, const char *what, otel__kv_fn fn, void *user) {
    char stack[1024], *buf = stack;
    const char *eq = (const char *)memchr(m, '=', n), *why = NULL;
    size_t shown;
    if (!eq) why = "no '='";
    else {
        size_t kn = (size_t)(eq - m), vn = (size_t)(m + n - (eq + 1)), kd = 0, vd = 0;
        const char *k = otel__trim(m, &kn), *v = otel__trim(eq + 1, &vn);
        if (!kn) why = "empty key";
        else if (n > sizeof stack && !(buf = (char *)OTEL_MALLOC(n, NULL))) why = "out of memory";
        else if (!otel__percent_decode(k, kn, buf, &kd) ||
                 !otel__percent_decode(v, vn, buf + kd, &vd)) why = "bad percent escape";
        else if (fn) fn(buf, kd, buf + kd, vd, user);
        if (buf && buf != stack) OTEL_FREE(buf, NULL);
    }
    if (!why) return 0;
    /* Only the key part is shown: a header value may be a credential. */
    shown = eq ? (size_t)(eq - m) : n;
    otel__logf(OTEL_LOG_WARN, "%s: skipping member \"%.*s%s%s\": %s", what,
               (int)(shown > 64 ? 64 : shown), m, shown > 64 ? "..." : "", eq ? "=..." : "", why);
    return 1;
}

/* Parses "k1=v1,k2=v2" (OTEL_RESOURCE_ATTRIBUTES, *_HEADERS): members split on ',', key
   and value on the first '=', blanks around both trimmed, both percent-decoded ('+'
   kept). fn (may be NULL: validate only) gets the decoded, not NUL-terminated key and
   value. Empty members are ignored silently. A member without '=', with an empty key or
   a bad escape is skipped with one warning naming `what`; returns how many were skipped. */
static int otel__parse_kv_list(const char *s, const char *what, otel__kv_fn fn, void *user) {
    const char *cur = s, *item;
    size_t n;
    int skipped = 0;
    while (otel__list_next(&cur, &item, &n)) skipped += otel__kv_member(item, n, what, fn, user);
    return skipped;
}

OTEL_API int otel_kv_list_parse(const char *s, const char *what, otel_kv_fn fn, void *user) {
    return s ? otel__parse_kv_list(s, what ? what : "list", fn, user) : 0;
}

/* Per-thread random numbers: wyrand, seeded from the OS once per thread. */
static uint64_t otel__wyrand(uint64_t *s) {
    *s += 0xa0761d6478bd642fULL;
    __uint128_t t = (__uint128_t)*s * (*s ^ 0xe7037ed1a0b428dbULL);
    return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* A non-zero random word (an 8-byte id, or half of a trace id drawn by halves). (The
   retry is hinted unlikely: GCC 12 then keeps its callers to call-clobbered registers.) */
static OTEL__ALWAYS_INLINE uint64_t otel__wyrand_nz(uint64_t *s) {
    uint64_t x;
    do x = otel__wyrand(s); while (OTEL__UNLIKELY(x == 0));
    return x;
}

/* ==== [span] ===================================================================== */


#define OTEL__LINK_CTX_BYTES 32u /* trace id 16, span id 8, flags 1, remote 1, pad */


struct otel_tracer {
    otel_scope scope;
};

struct otel_logger {
    otel_scope scope;
};



/* One per application thread that records: its span slots, its active-span stack and its
   blocks. Producer of its blocks: this thread; the pipeline thread hands them to the
   destinations; the last destination to release one gives it back (free lists below). Kept
   after the thread exits (other threads may still end its spans); a new thread adopts it. */
struct otel__thread {
    /* handover queues, one per signal (spans, logs): the producer appends each block it
       starts; the pipeline takes a block off once it is sealed and all of it is handed on */
    _Atomic uint32_t hq_head[2];       /* pipeline writes them */
    char pad0[OTEL__CACHE_LINE - 8];
    _Atomic(otel__block *) sfree; /* blocks given back by other threads (a stack: they push,
                                          the producer takes it whole) */
    char pad1[OTEL__CACHE_LINE - sizeof(void *)];
    _Atomic uint32_t hq_tail[2];       /* producer writes them */
    otel__block *cur[2];        /* the block being filled, per signal (NULL: none) */
    otel__block *pfree;         /* producer's own free list */
    otel__block **hq[2];        /* hq_cap entries each */
    uint32_t hq_cap;
    _Atomic uint32_t carved;           /* bytes of the region cut into blocks so far */
    uint32_t region_bytes;             /* the most it may use: ring_max_bytes (reserved address
                                          space) or ring_bytes (from OTEL_MALLOC) */
    uint32_t region_mapped;            /* region from mmap */
    uint32_t grow_next;                /* carved beyond this: counted as a ring growth */
    uint32_t poke_mark;                /* hq_tail[0] + hq_tail[1] when the pipeline was last poked */
    uint32_t poke_step;                /* block bytes between pokes (otel__poke_step) */
    unsigned char *region;
    uint32_t index;                    /* in the registry */
    _Atomic uint32_t exited;           /* the OS thread is gone: adoptable */
    _Atomic uint32_t slot_count;       /* slots allocated (chunks published first) */
    uint32_t slot_cap;
    otel__slot **chunks;
    otel__slot *free_slots;            /* free slots of this thread: a list through next_free
                                          (the owner's alone: others free via FREE_REMOTE) */
    _Atomic uint32_t remote_frees;     /* slots freed by other threads, not reclaimed yet */
    uint32_t depth;                    /* active stack */
    uintptr_t stack[OTEL__STACK_MAX];
    otel__slot *stack_s[OTEL__STACK_MAX]; /* the slot of each stack entry: no registry walk */
    uint64_t rng;
    unsigned char *lscratch;           /* a log record for SIMPLE-only log destinations ([log]) */
    uint32_t log_busy;                 /* writing a record, or inside a SIMPLE log export: a nested
                                          record (from a diag callback or the exporter) is dropped */
    /* counters: written by the owning thread only, read by anyone */
    _Atomic uint64_t started, unsampled, ended, dropped, attrs_dropped;
    _Atomic uint64_t logs, logs_dropped, log_attrs_dropped, logs_truncated;
    _Atomic uint64_t ring_grows;
};

/* Owner-only counter increment: a plain load and store, no locked instruction. */
#define OTEL__BUMP(c, n) otel__store_rlx(&(c), otel__load_rlx(&(c)) + (n))

typedef struct otel__dest otel__dest;

/* The exporter objects handed over in otel_desc (destinations, log_destinations, readers),
   told apart by (user, shutdown). One object may serve several of them (a console or file
   exporter for traces, logs and metrics): its shutdown runs once, by the last of them to
   let it go, after their last export (otel__exp_release). */
typedef struct otel__exp_ref {
    void *user;
    void (*shutdown)(uint32_t timeout_ms, void *user);
    _Atomic int refs;       /* holders that have not let it go; 0: done, never matches again */
    _Atomic bool tainted;   /* a holder was left unusable by fork: no shutdown */
} otel__exp_ref;
typedef struct otel__exp_refs {
    otel__exp_ref e[2 * OTEL_MAX_DESTINATIONS + OTEL_MAX_READERS];
    int n;
} otel__exp_refs;

/* The library state: one instance between otel_init and otel_shutdown. */
typedef struct otel__state {
    otel_desc cfg;                     /* resolved settings */
    uint32_t instance;
    pid_t pid;
    otel_span_limits lim;
    uint64_t ratio_bound;
    /* resource and tracers */
    otel_resource resource;
    pthread_mutex_t tracer_mu;
    otel_tracer tracers[OTEL__MAX_TRACERS];
    _Atomic uint32_t ntracers;
    /* threads */
    pthread_mutex_t reg_mu;
    pthread_key_t key;
    otel__thread **threads;
    _Atomic uint32_t nthreads;
    uint32_t slot_shift, slot_mask;
    uint32_t blk_bytes;          /* bytes of one block (otel__blk_bytes) */
    uint32_t poke_recs;          /* records waiting that make a thread poke the pipeline (otel__pace) */
    uint32_t pass_ms;            /* the pipeline's sleep between passes (otel__pace) */
    /* loggers ([log]) */
    otel_logger loggers[OTEL__MAX_TRACERS];
    _Atomic uint32_t nloggers;
    otel_log_limits llim;
    /* destinations of both signals, each tagged with its signal */
    uint32_t ndest;
    otel__dest *dests[2 * OTEL_MAX_DESTINATIONS];
    bool any_batch, any_simple;         /* span destinations */
    bool any_batch_log, any_simple_log; /* log destinations */
    /* pipeline thread */
    pthread_t pipe_thread;
    bool pipe_started;
    otel__event pipe_ev;               /* word: 1 = pipeline sleeping, 0 = awake/poked */
    _Atomic uint32_t stop;
    _Atomic uint32_t holding;          /* the pipeline waits for queue room: workers poke it */
    _Atomic uint32_t room_seq;         /* bumped by a worker that made room while holding */
    _Atomic uint32_t poke_seq;         /* bumped by each poke of a recording thread (otel__block_next) */
    uint64_t hold_since;               /* pipeline only: monotonic ms the current hold began */
    bool hold_any_short;               /* pipeline only: a destination still waits for room */
    _Atomic uint64_t flush_req;        /* flush sequence asked for */
    _Atomic uint64_t flush_drained;    /* flush sequence fully handed to destinations */
    pthread_mutex_t flush_mu;
    pthread_cond_t flush_cv;           /* signalled when a destination finishes a flush */
    /* once-flags for diagnostics */
    _Atomic int once_misuse, once_null, once_ring, once_slots, once_arena, once_nomem;
    _Atomic uint64_t discard_log_ms;     /* when a span's discard was last logged (otel__note_discard) */
    _Atomic uint32_t discard_unlogged;   /* spans with discards not logged since */
    _Atomic int once_log_ring, once_log_attrs, once_log_trunc, once_log_lost;
    _Atomic int once_ring_map, once_ring_grow;
    _Atomic uint64_t logs_lost;        /* records of threads that could not register */
    bool shut;
    _Atomic uint64_t misuse;           /* stale/NULL handles, double ends */
    uint32_t abandoned;                /* workers otel_shutdown left running (flush_mu): the last frees the state */
    struct otel__metrics *metrics;     /* [metric]: meters, instruments, readers */
    otel__exp_refs xrefs;              /* the desc's exporters: one shutdown each */
} otel__state;

static void otel__exp_refs_add(otel__exp_refs *t, const otel_exporter *e) {
    if (!e->shutdown || !e->user) return; /* no object to share */
    for (int i = 0; i < t->n; i++)
        if (t->e[i].user == e->user && t->e[i].shutdown == e->shutdown) {
            atomic_fetch_add(&t->e[i].refs, 1);
            return;
        }
    otel__exp_ref *r = &t->e[t->n++];
    r->user = e->user;
    r->shutdown = e->shutdown;
    atomic_init(&r->refs, 1);
    atomic_init(&r->tainted, false);
}

/* Counts each exporter of `in` that otel_init either uses or releases, once per use. */
static void otel__exp_refs_count(otel__exp_refs *t, const otel_desc *in) {
    t->n = 0;
    for (int i = 0; i < OTEL_MAX_DESTINATIONS; i++) {
        if (in->destinations[i].exporter.export_spans) otel__exp_refs_add(t, &in->destinations[i].exporter);
        if (in->log_destinations[i].exporter.export_logs) otel__exp_refs_add(t, &in->log_destinations[i].exporter);
    }
    for (int i = 0; i < OTEL_MAX_READERS; i++)
        if (in->readers[i].kind != OTEL_READER_NONE) otel__exp_refs_add(t, &in->readers[i].exporter);
}

/* A destination or reader lets its exporter go: the shutdown runs now, unless the object
   is shared and another holder still has it (the last one runs it then). `tainted`: this
   holder may not call into the exporter (fork); then nobody does. */
static void otel__exp_release(otel__exp_refs *t, const otel_exporter *e, uint32_t timeout_ms, bool tainted) {
    if (!e->shutdown) return;
    for (int i = 0; t && i < t->n; i++) {
        otel__exp_ref *r = &t->e[i];
        if (r->user != e->user || r->shutdown != e->shutdown || atomic_load(&r->refs) <= 0) continue;
        if (tainted) atomic_store(&r->tainted, true);
        if (atomic_fetch_sub(&r->refs, 1) == 1 && !atomic_load(&r->tainted)) e->shutdown(timeout_ms, e->user);
        return;
    }
    if (!tainted) e->shutdown(timeout_ms, e->user); /* made by otel_init from a name: its own */
}

static otel__state *otel__g;
static uint32_t otel__instances;
static _Thread_local otel__thread *otel__tls;
/* otel__live: otel__g's instance while otel__g is set, else 0. otel__tls_h/_s: the last
   handle this thread resolved and its slot: spans are mostly set and ended by the thread
   that started them right after, and this skips the registry walk (a chain of dependent
   loads). With the inline attribute path these are declared in the API part (and with
   OTEL_STATIC defined there too). */
#if !OTEL__INLINE_KV
static uint32_t otel__live;
static uint32_t otel__kv_lim[2];
static _Thread_local uint32_t otel__tls_instance;
static _Thread_local uintptr_t otel__tls_h;
static _Thread_local otel__slot *otel__tls_s;
#elif !defined(OTEL_STATIC)
uint32_t otel__live;
uint32_t otel__kv_lim[2];
__thread uint32_t otel__tls_instance;
__thread uintptr_t otel__tls_h;
__thread otel__slot *otel__tls_s;
#endif

#define OTEL__NOOP ((otel_span *)(uintptr_t)1)

static otel__slot *otel__slot_at(otel__thread *t, uint32_t i) {
    return &t->chunks[i / OTEL__SLOT_CHUNK][i % OTEL__SLOT_CHUNK];
}

/* Set in the handles of non-recording (unsampled) spans: attribute calls return at once. */
#define OTEL__NREC_BIT ((uintptr_t)1 << (OTEL__GEN_SHIFT - 1))
_Static_assert(OTEL__NREC_BIT == OTEL__NREC_BIT_, "the API's non-recording bit matches the handle layout");
#define OTEL__NREC(h) (((uintptr_t)(h) & OTEL__NREC_BIT) != 0)

static otel_span *otel__handle(otel__slot *s) {
    uintptr_t gen = (uintptr_t)(otel__load_rlx((_Atomic uint32_t *)&s->gen) & OTEL__GEN_MASK);
    uintptr_t nrec = (s->flags & OTEL__SPAN_RECORDING) ? 0 : OTEL__NREC_BIT;
    return (otel_span *)((gen << OTEL__GEN_SHIFT) | nrec | (uintptr_t)s->index);
}

/* A handle's generation and index bits for a slot that this thread holds free: no other
   thread writes its generation (a release by another thread is ordered before the slot's
   return to the free list by the acquire in otel__slot_alloc_slow), so a plain load of
   both words serves where the layout allows. */
static OTEL__ALWAYS_INLINE uintptr_t otel__free_handle_bits(const otel__slot *s) {
#if OTEL__GEN_SHIFT == 32 && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, (const unsigned char *)s + offsetof(otel__slot, index), sizeof v); /* index, then gen: gen << 32 | index */
    return (uintptr_t)v;
#else
    return ((uintptr_t)(s->gen & OTEL__GEN_MASK) << OTEL__GEN_SHIFT) | (uintptr_t)s->index;
#endif
}
_Static_assert(offsetof(otel__slot, gen) == offsetof(otel__slot, index) + 4, "gen follows index");

/* The open slot behind a handle, or NULL for stale/NULL/no-op handles. Thread: any. */
static otel__slot *otel__slot_of(otel__state *g, const otel_span *h) {
    uintptr_t v = (uintptr_t)h;
    uint32_t gen = (uint32_t)(v >> OTEL__GEN_SHIFT) & OTEL__GEN_MASK;
    uint32_t idx = (uint32_t)(v & (OTEL__NREC_BIT - 1));
    uint32_t ti = idx >> g->slot_shift, si = idx & g->slot_mask;
    if (gen == 0 || ti >= otel__load_acq(&g->nthreads)) return NULL;
    otel__thread *t = g->threads[ti];
    if (!t || si >= otel__load_acq(&t->slot_count)) return NULL;
    otel__slot *s = otel__slot_at(t, si);
    if (otel__load_acq(&s->state) != OTEL__OPEN) return NULL;
    if ((otel__load_rlx((_Atomic uint32_t *)&s->gen) & OTEL__GEN_MASK) != gen) return NULL;
    return s;
}

/* 1: `h` is the handle this thread resolved last and *out its slot if still open (else
   NULL); 0: not that handle. No call, so that callers can stay leaf functions. */
static OTEL__ALWAYS_INLINE int otel__slot_cached(const otel__state *g, const otel_span *h, otel__slot **out) {
    if (!h || (uintptr_t)h != otel__tls_h || otel__tls_instance != g->instance) return 0;
    otel__slot *s = otel__tls_s;
    uint32_t gen = (uint32_t)((uintptr_t)h >> OTEL__GEN_SHIFT) & OTEL__GEN_MASK;
    *out = otel__load_acq(&s->state) == OTEL__OPEN && (otel__load_rlx((_Atomic uint32_t *)&s->gen) & OTEL__GEN_MASK) == gen
               ? s : NULL;
    return 1;
}

static inline otel__slot *otel__slot_get(otel__state *g, const otel_span *h) {
    otel__slot *s;
    if (otel__slot_cached(g, h, &s)) return s;
    s = otel__slot_of(g, h);
    if (s && otel__tls_instance == g->instance) {
        otel__tls_h = (uintptr_t)h;
        otel__tls_s = s;
    }
    return s;
}

static void otel__misuse(otel__state *g, const otel_span *h, const char *what) {
    if (h == OTEL__NOOP) return; /* non-recording handles are accepted silently */
    /* one shared counter: misuse is rare, and a thread that never recorded needs no ring */
    otel__add_rlx(&g->misuse, 1);
    if (!h)
        OTEL__LOG_ONCE(g->once_null, OTEL_LOG_WARN, "%s called with a NULL span (ignored; reported once)", what);
    else
        OTEL__LOG_ONCE(g->once_misuse, OTEL_LOG_WARN,
                       "%s called with a span that already ended or is stale (ignored; reported once)", what);
}

/* ---- thread registration --------------------------------------------------------- */

static void otel__thread_exit(void *p) {
    otel__thread *t = (otel__thread *)p;
    otel__state *g = otel__g;
    if (!g || !t || otel__tls_instance != g->instance) return;
    t->depth = 0;
    otel__store_rel(&t->exited, 1);
    otel__tls = NULL;
}

/* A slot onto its owner's free list (by the owner only). */
static OTEL__ALWAYS_INLINE void otel__slot_push_free(otel__thread *t, otel__slot *s) {
    s->next_free = t->free_slots;
    t->free_slots = s;
}

static bool otel__slots_grow(otel__thread *t) {
    uint32_t n = otel__load_rlx(&t->slot_count);
    if (n >= t->slot_cap) return false;
    otel__state *g = otel__g;
    size_t bytes = g->cfg.span_bytes;
    otel__slot *chunk = (otel__slot *)otel__calloc(sizeof(otel__slot) * OTEL__SLOT_CHUNK);
    unsigned char *arena = (unsigned char *)OTEL_MALLOC(bytes * OTEL__SLOT_CHUNK, NULL);
    if (!chunk || !arena) {
        OTEL_FREE(chunk, NULL);
        OTEL_FREE(arena, NULL);
        return false;
    }
    for (uint32_t i = 0; i < OTEL__SLOT_CHUNK; i++) {
        otel__slot *s = &chunk[i];
        atomic_init(&s->state, OTEL__FREE_LOCAL);
        s->gen = (g->instance << 20) | 1; /* per otel_init: a handle from an earlier one stays stale */
        s->index = (t->index << g->slot_shift) | (n + i);
        s->owner = t;
        s->arena = arena + bytes * i;
        s->cap = (uint32_t)bytes;
    }
    t->chunks[n / OTEL__SLOT_CHUNK] = chunk;
    for (uint32_t i = OTEL__SLOT_CHUNK; i > 0; i--) otel__slot_push_free(t, &chunk[i - 1]); /* [0] first out */
    otel__store_rel(&t->slot_count, n + OTEL__SLOT_CHUNK);
    return true;
}

/* A thread's region, cut into blocks as they are needed. Where it may grow, the largest
   size (ring_max_bytes) is reserved as address space up front (no memory is used until
   written) so that a new block needs no call from the application thread; else, or if
   that fails, ring_bytes from OTEL_MALLOC. */
static void otel__region_alloc(otel__state *g, otel__thread *t) {
    if (g->cfg.ring_max_bytes > g->cfg.ring_bytes) {
        int fd = OTEL__MAP_ANON ? -1 : open("/dev/zero", O_RDWR | O_CLOEXEC);
        void *m = mmap(NULL, g->cfg.ring_max_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | OTEL__MAP_ANON | OTEL__MAP_NORESERVE, fd, 0);
        if (fd >= 0) close(fd);
        if (m != MAP_FAILED) {
            t->region = (unsigned char *)m;
            t->region_bytes = g->cfg.ring_max_bytes;
            t->region_mapped = 1;
            return;
        }
        OTEL__LOG_ONCE(g->once_ring_map, OTEL_LOG_WARN,
                       "could not reserve %u bytes for a growing ring (%s): rings stay at ring_bytes=%u",
                       (unsigned)g->cfg.ring_max_bytes, strerror(errno), (unsigned)g->cfg.ring_bytes);
    }
    t->region = (unsigned char *)OTEL_MALLOC(g->cfg.ring_bytes, NULL);
    t->region_bytes = g->cfg.ring_bytes;
    t->region_mapped = 0;
}

static void otel__region_free(otel__thread *t) {
    if (t->region_mapped) munmap(t->region, t->region_bytes);
    else OTEL_FREE(t->region, NULL);
    t->region = NULL;
}

/* Block bytes a thread starts between two pokes of the pipeline (otel__block_next): a
   quarter of ring_bytes, or, where the region may grow to 16 times that or more, a 16th of
   the region, up to ring_bytes. Each poke costs the application thread a futex wake and
   the background a pipeline pass and a worker wake-up (about 10 us each on a VM); the
   pipeline's own timed passes (otel__pace) take the rest. A 16th keeps 15/16 of the
   region free for the time the pipeline takes to run. Measured with bench_span (a million
   spans, one thread, the step alone): a quarter of 1 MiB cost 32-43 ns of background CPU
   per span, 1 MiB 11-15 ns, with about the same rings at the end (2-4 MiB). */
static uint32_t otel__poke_step(const otel__state *g, const otel__thread *t) {
    uint32_t step = g->cfg.ring_bytes / 4, grow = t->region_bytes / 16;
    if (grow > step) step = grow < g->cfg.ring_bytes ? grow : g->cfg.ring_bytes;
    return step;
}

/* A thread's blocks start over (a new thread, a child after fork): none cut, none queued. */
static void otel__blocks_reset(otel__state *g, otel__thread *t) {
    for (int k = 0; k < 2; k++) {
        atomic_init(&t->hq_head[k], (uint32_t)(OTEL_TEST_HQ_START));
        atomic_init(&t->hq_tail[k], (uint32_t)(OTEL_TEST_HQ_START));
        t->cur[k] = NULL;
    }
    atomic_init(&t->sfree, NULL);
    t->pfree = NULL;
    atomic_init(&t->carved, 0);
    t->grow_next = g->cfg.ring_bytes;
    t->poke_mark = 2 * (uint32_t)(OTEL_TEST_HQ_START);
    t->poke_step = otel__poke_step(g, t);
}

static otel__thread *otel__thread_new(otel__state *g, uint32_t index) {
    otel__thread *t = (otel__thread *)otel__calloc(sizeof *t);
    if (!t) return NULL;
    t->slot_cap = g->slot_mask + 1;
    t->chunks = (otel__slot **)otel__calloc(sizeof(otel__slot *) * (t->slot_cap / OTEL__SLOT_CHUNK + 1));
    otel__region_alloc(g, t);
    /* every block of the region and one more, a power of two: the free-running counters
       index it by a mask, which stays right when they wrap around */
    t->hq_cap = otel__pow2_ceil(t->region_bytes / g->blk_bytes + 1);
    t->hq[0] = (otel__block **)OTEL_MALLOC(sizeof(otel__block *) * t->hq_cap * 2, NULL);
    t->hq[1] = t->hq[0] ? t->hq[0] + t->hq_cap : NULL;
    if (!t->chunks || !t->region || !t->hq[0]) {
        OTEL_FREE(t->chunks, NULL);
        if (t->region) otel__region_free(t);
        OTEL_FREE(t->hq[0], NULL);
        OTEL_FREE(t, NULL);
        return NULL;
    }
    otel__blocks_reset(g, t);
    t->index = index;
    return t;
}

static void otel__thread_free(otel__thread *t) {
    uint32_t n = otel__load_rlx(&t->slot_count);
    for (uint32_t c = 0; c < n / OTEL__SLOT_CHUNK; c++) {
        OTEL_FREE(t->chunks[c][0].arena, NULL);
        OTEL_FREE(t->chunks[c], NULL);
    }
    OTEL_FREE(t->chunks, NULL);
    otel__region_free(t);
    OTEL_FREE(t->hq[0], NULL);
    OTEL_FREE(t->lscratch, NULL);
    OTEL_FREE(t, NULL);
}

static void otel__after_fork_child(void);

/* Slow path of otel__self: registers the calling thread (adopting an exited one). */
static otel__thread *otel__register(otel__state *g) {
    otel__thread *t = NULL;
    if (g->pid != getpid()) otel__after_fork_child(); /* forked behind our back */
    pthread_mutex_lock(&g->reg_mu);
    uint32_t n = otel__load_rlx(&g->nthreads);
    for (uint32_t i = 0; i < n; i++) {
        if (otel__load_acq(&g->threads[i]->exited)) {
            t = g->threads[i];
            otel__store_rlx(&t->exited, 0);
            break;
        }
    }
    if (!t && n < g->cfg.max_threads) {
        t = otel__thread_new(g, n);
        if (t) {
            uint64_t seed;
            otel__os_random(&seed, sizeof seed);
            t->rng = seed;
            g->threads[n] = t;
            otel__store_rel(&g->nthreads, n + 1);
        }
    }
    pthread_mutex_unlock(&g->reg_mu);
    if (!t) {
        OTEL__LOG_ONCE(g->once_slots, OTEL_LOG_WARN,
                       "cannot register another recording thread (max_threads %u or out of memory): its spans are dropped",
                       (unsigned)g->cfg.max_threads);
        return NULL;
    }
    if (t->rng == 0) otel__os_random(&t->rng, sizeof t->rng);
    t->depth = 0;
    otel__tls = t;
    otel__tls_instance = g->instance;
    otel__tls_h = 0;
    otel__tls_s = NULL;
    pthread_setspecific(g->key, t);
    return t;
}

static inline otel__thread *otel__self(otel__state *g) {
    otel__thread *t = otel__tls;
    if (t && otel__tls_instance == g->instance) return t;
    return otel__register(g);
}

/* ---- slots ------------------------------------------------------------------------ */

static OTEL__NOINLINE otel__slot *otel__slot_alloc_slow(otel__thread *t) {
    if (otel__load_acq(&t->remote_frees) > 0) { /* slots ended by other threads */
        uint32_t n = otel__load_rlx(&t->slot_count), got = 0;
        for (uint32_t i = 0; i < n; i++) {
            otel__slot *s = otel__slot_at(t, i);
            if (otel__load_acq(&s->state) == OTEL__FREE_REMOTE) {
                otel__store_rlx(&s->state, OTEL__FREE_LOCAL);
                otel__slot_push_free(t, s);
                got++;
            }
        }
        atomic_fetch_sub_explicit(&t->remote_frees, got, memory_order_relaxed);
    }
    if (!t->free_slots && !otel__slots_grow(t)) return NULL;
    otel__slot *s = t->free_slots;
    t->free_slots = s->next_free;
    return s;
}

static OTEL__ALWAYS_INLINE otel__slot *otel__slot_alloc(otel__thread *t) {
    otel__slot *s = t->free_slots;
    if (!s) return otel__slot_alloc_slow(t);
    t->free_slots = s->next_free;
    return s;
}

/* The generation after `gen`: never 0 in the handle's bits (a handle with generation 0 is
   invalid). */
static OTEL__ALWAYS_INLINE uint32_t otel__gen_next(uint32_t gen) {
#if OTEL__GEN_SHIFT == 32 && (defined(__GNUC__) || defined(__clang__))
    uint32_t n;
    bool wrapped = __builtin_add_overflow(gen, 1u, &n);
    return n + wrapped; /* add, adc */
#else
    gen++;
    return (gen & OTEL__GEN_MASK) == 0 ? gen + 1 : gen;
#endif
}

static OTEL__ALWAYS_INLINE void otel__slot_release(otel__thread *self, otel__slot *s) {
    otel__store_rlx((_Atomic uint32_t *)&s->gen, otel__gen_next(s->gen));
    if (s->owner == self) {
        otel__store_rel(&s->state, OTEL__FREE_LOCAL);
        otel__slot_push_free(self, s);
    } else {
        otel__store_rel(&s->state, OTEL__FREE_REMOTE);
        atomic_fetch_add_explicit(&s->owner->remote_frees, 1, memory_order_release);
    }
}

/* ---- inline storage ----------------------------------------------------------------- */

/* Copies a string into the top of the arena (renames, status messages). */
static bool otel__arena_top_str(otel__slot *s, const char *str, size_t n, uint32_t *off, uint32_t *len) {
    size_t avail = s->cap - s->str_used - s->items_end;
    if (avail < 1) return false;
    size_t need = otel__utf8_need(str, n, SIZE_MAX); /* bytes after repair */
    size_t room = need < avail - 1 ? need : avail - 1;
    char *dst = (char *)s->arena + s->cap - s->str_used - room - 1;
    size_t w = otel__utf8_copy(dst, room, str, n, SIZE_MAX, NULL); /* w <= room, never splits */
    dst[w] = 0;
    s->str_used += (uint32_t)(room + 1);
    *off = (uint32_t)(dst - (char *)s->arena);
    *len = (uint32_t)w;
    return w == need; /* false: cut short (a repair is no cut) */
}

/* Appends a NUL-terminated, repaired copy at items_end, padded to 8. Returns bytes used or 0.
   *truncated (may be NULL) = cut short for lack of room (max_chars cuts do not count). */
/* memcpy for the short strings of the hot path without a library call. */
static inline void otel__copy(unsigned char *d, const char *src, size_t n) {
    uint64_t a, b;
    uint32_t x, y;
    if (n >= 8 && n <= 16) {
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(&x, src, 4);
        memcpy(&y, src + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++) d[i] = (unsigned char)src[i];
    } else {
        memcpy(d, src, n);
    }
}

/* True when s[0..n) is all ASCII. Word loads, the tail by one overlapping load. */
static inline bool otel__ascii(const char *s, size_t n) {
    uint64_t w, acc = 0;
    if (n >= 8) {
        size_t k = 0;
        for (; k + 8 <= n; k += 8) {
            memcpy(&w, s + k, 8);
            acc |= w;
        }
        memcpy(&w, s + n - 8, 8);
        acc |= w;
        return (acc & 0x8080808080808080ull) == 0;
    }
    for (size_t k = 0; k < n; k++) acc |= (unsigned char)s[k];
    return (acc & 0x80) == 0;
}



/* otel__arena_put_str past its common case: UTF-8 repair, a string cut to the storage. */
static OTEL__NOINLINE size_t otel__arena_put_str_slow(otel__slot *s, size_t at, const char *str, size_t n,
                                                      size_t max_chars, size_t *out_len, bool *truncated) {
    size_t avail = s->cap - s->str_used;
    if (at + 8 > avail) return 0;
    size_t w = otel__utf8_copy((char *)s->arena + at, avail - at - 1, str, n, max_chars, NULL);
    if (truncated) *truncated = w + 4 > avail - at - 1 && otel__utf8_need(str, n, max_chars) > w;
    *out_len = w;
    size_t used = OTEL__ALIGN8(w + 1);
    if (at + used > avail) return 0;
    memset(s->arena + at + w, 0, used - w); /* the NUL and the padding, as on the fast path */
    return used;
}

/* Copies str[0..n) to the arena at `at`, NUL-terminated, repaired to valid UTF-8, at most
   max_chars code points; returns the bytes used (a multiple of 8), 0 when not even an empty
   string fits. The common case, an ASCII string that fits, is inline: copied and checked
   in one pass (what it copied before a byte that is not ASCII is overwritten by the slow
   path). */
static OTEL__ALWAYS_INLINE size_t otel__arena_put_str(otel__slot *s, size_t at, const char *str, size_t n,
                                                      size_t max_chars, size_t *out_len, bool *truncated) {
    size_t avail = s->cap - s->str_used, used = OTEL__ALIGN8(n + 1);
    if (at + 8 <= avail && n < avail - at && n <= max_chars && at + used <= avail &&
        !(otel__copy_pad(s->arena + at, str, n) & 0x8080808080808080ull)) {
        *out_len = n;
        if (truncated) *truncated = false;
        return used;
    }
    return otel__arena_put_str_slow(s, at, str, n, max_chars, out_len, truncated);
}

static size_t otel__limit_chars(uint32_t lim) { return lim == OTEL_LIMIT_NONE ? SIZE_MAX : lim; }

/* Writes the value part of an attribute item at `at`; returns its size (aligned) or
   (size_t)-1 when it does not fit. */
static size_t otel__put_value(otel__slot *s, size_t at, const otel_value *v, size_t maxc, otel__item *it) {
    size_t avail = s->cap - s->str_used, n = v->len, w = 0;
    switch (v->type) {
    case OTEL_VALUE_STRING: {
        bool cut = false;
        size_t used = otel__arena_put_str(s, at, v->u.s ? v->u.s : "", v->u.s ? n : 0, maxc, &w, &cut);
        if (!used || cut) return (size_t)-1; /* no room for all of it: dropped, not cut */
        it->vlen = (uint32_t)w;
        return used;
    }
    case OTEL_VALUE_BOOL: it->v.i = v->u.b ? 1 : 0; return 0;
    case OTEL_VALUE_INT: it->v.i = v->u.i; return 0;
    case OTEL_VALUE_DOUBLE: it->v.d = v->u.d; return 0;
    case OTEL_VALUE_BOOL_ARRAY:
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY: {
        size_t es = v->type == OTEL_VALUE_BOOL_ARRAY ? 1 : 8, bytes = OTEL__ALIGN8(n * es);
        if (n > 0xffffff || at + bytes > avail) return (size_t)-1;
        unsigned char *dst = s->arena + at;
        if (v->type == OTEL_VALUE_BOOL_ARRAY)
            for (size_t i = 0; i < n; i++) dst[i] = v->u.ba[i] ? 1 : 0;
        else if (n)
            memcpy(dst, v->type == OTEL_VALUE_INT_ARRAY ? (const void *)v->u.ia : (const void *)v->u.da, n * 8);
        it->vlen = (uint32_t)n;
        return bytes;
    }
    case OTEL_VALUE_STRING_ARRAY: {
        size_t hdr = OTEL__ALIGN8(n * 8), pos = hdr;
        if (n > 0xffff || at + hdr > avail) return (size_t)-1;
        uint32_t *off = (uint32_t *)(void *)(s->arena + at), *len = off + n;
        for (size_t i = 0; i < n; i++) {
            otel_str e = otel_value_str_at(v, i);
            if (at + pos + 1 > avail) return (size_t)-1;
            size_t room = avail - at - pos - 1;
            size_t wl = otel__utf8_copy((char *)s->arena + at + pos, room, e.ptr, e.len, maxc, NULL);
            if (wl + 4 > room && otel__utf8_need(e.ptr, e.len, maxc) > wl) return (size_t)-1; /* no room */
            s->arena[at + pos + wl] = 0;
            off[i] = (uint32_t)pos;
            len[i] = (uint32_t)wl;
            pos += wl + 1;
        }
        pos = OTEL__ALIGN8(pos);
        if (at + pos > avail) return (size_t)-1;
        it->vlen = (uint32_t)n;
        return pos;
    }
    case OTEL_VALUE_NONE: break;
    }
    return (size_t)-1;
}

/* How much of a name (n bytes, valid UTF-8) a warning shows: at most 100 bytes, cut at a
   character boundary (the warning adds "..." when n > 100). */
static size_t otel__name_cut(const char *p, size_t n) {
    if (n <= 100) return n;
    n = 100;
    while (n && ((unsigned char)p[n] & 0xC0) == 0x80) n--;
    return n;
}

static void otel__note_discard(otel__state *g, otel__slot *s, const char *what) {
    otel__thread *t = otel__tls;
    if (s->flags & OTEL__SPAN_IS_LOG) { /* a log record: its own counter, reported once */
        if (t && otel__tls_instance == g->instance) OTEL__BUMP(t->log_attrs_dropped, 1);
        OTEL__LOG_ONCE(g->once_log_attrs, OTEL_LOG_WARN, "log record: %s (counted; reported once)", what);
        return;
    }
    if (t && otel__tls_instance == g->instance) OTEL__BUMP(t->attrs_dropped, 1);
    if (!(s->flags & OTEL__SPAN_DISCARD_LOGGED)) {
        /* once per span (the spec's most), and at most once per OTEL__DISCARD_LOG_MS for the
           process: a limit that every span reaches must not put a write to stderr on every span */
        s->flags |= OTEL__SPAN_DISCARD_LOGGED;
        uint64_t now = otel__mono_ms() + 1, last = atomic_load_explicit(&g->discard_log_ms, memory_order_relaxed);
        /* signed: another thread may have logged at a time after `now` was read */
        if ((last && (int64_t)(now - last) < (int64_t)OTEL__DISCARD_LOG_MS) ||
            !atomic_compare_exchange_strong_explicit(&g->discard_log_ms, &last, now, memory_order_relaxed,
                                                     memory_order_relaxed)) {
            atomic_fetch_add_explicit(&g->discard_unlogged, 1, memory_order_relaxed);
            return;
        }
        uint32_t more = atomic_exchange_explicit(&g->discard_unlogged, 0, memory_order_relaxed);
        char tail[96] = "";
        if (more) snprintf(tail, sizeof tail, "; %u more spans had discards since the last report", (unsigned)more);
        const char *nm = (const char *)s->arena + s->name_off;
        otel__logf(OTEL_LOG_WARN, "span '%.*s%s': %s (logged once per span, at most once every %u ms%s)",
                   (int)otel__name_cut(nm, s->name_len), nm, s->name_len > 100 ? "..." : "", what,
                   (unsigned)OTEL__DISCARD_LOG_MS, tail);
    }
}

/* Appends an attribute item at items_end inside the region [region, items_end) that holds
   the attributes it must be unique among. Returns 1 added, 0 replaced, -1 dropped. */
/* The attribute item with this key in [region, end), or NULL. */
static otel__item *otel__attr_find(otel__slot *s, size_t region, size_t end, const char *key, size_t klen) {
    for (size_t p = region; p < end;) {
        otel__item *o = (otel__item *)(void *)(s->arena + p);
        if (o->tag == OTEL__ITEM_ATTR && o->klen == klen && memcmp(s->arena + p + sizeof(otel__item), key, klen) == 0)
            return o;
        p += o->size;
    }
    return NULL;
}

static int otel__attr_append(otel__state *g, otel__slot *s, size_t region, uint32_t count, uint32_t limit,
                             size_t maxc, const char *key, size_t klen, const otel_value *v) {
    size_t at = s->items_end, avail = s->cap - s->str_used, kl;
    if (!key || klen == 0 || v->type == OTEL_VALUE_NONE || v->type > OTEL_VALUE_DOUBLE_ARRAY) {
        otel__note_discard(g, s, "attribute with an empty key or no value dropped");
        return -1;
    }
    /* same key already there? (a key that needs UTF-8 repair is looked up again below) */
    otel__item *old = otel__attr_find(s, region, at, key, klen);
    if (old && v->type >= OTEL_VALUE_BOOL && v->type <= OTEL_VALUE_DOUBLE) {
        /* a scalar over an existing key is updated in place: no space used (a counter set in
           a loop keeps its last value) */
        old->vtype = (uint8_t)v->type;
        old->vlen = 0;
        if (v->type == OTEL_VALUE_DOUBLE) old->v.d = v->u.d;
        else old->v.i = v->type == OTEL_VALUE_BOOL ? (v->u.b ? 1 : 0) : v->u.i;
        return 0;
    }
    if (at + sizeof(otel__item) + 8 > avail) goto full;
    bool kcut = false;
    size_t kused = otel__arena_put_str(s, at + sizeof(otel__item), key, klen > 0xfff0 ? 0xfff0 : klen,
                                       SIZE_MAX, &kl, &kcut);
    if (!kused || kcut) goto full;
    const char *k = (const char *)s->arena + at + sizeof(otel__item);
    if (!old && !otel__ascii(key, klen)) old = otel__attr_find(s, region, at, k, kl); /* repaired key */
    if (!old && count >= limit) {
        otel__note_discard(g, s, "attribute count limit reached, attributes dropped");
        return -1;
    }
    /* the item header is written in place, field by field: building it on the stack and
       copying it stalls on store forwarding */
    otel__item *it = (otel__item *)(void *)(s->arena + at);
    it->vlen = 0;
    it->v.u = 0;
    size_t vat = at + sizeof(otel__item) + kused;
    size_t vused = otel__put_value(s, vat, v, maxc, it);
    if (vused == (size_t)-1) goto full;
    it->size = (uint32_t)(sizeof(otel__item) + kused + vused);
    it->tag = OTEL__ITEM_ATTR;
    it->vtype = (uint8_t)v->type;
    it->klen = (uint16_t)kl;
    it->aux = (uint32_t)vused;
    s->items_end = (uint32_t)(at + it->size);
    if (kl) s->keys |= OTEL__KEYBIT(k, kl);
    if (old) {
        old->tag = OTEL__ITEM_DEAD;
        return 0;
    }
    return 1;
full:
    if (!(s->flags & OTEL__SPAN_IS_LOG))
        OTEL__LOG_ONCE(g->once_arena, OTEL_LOG_WARN,
                       "a span's inline storage (span_bytes=%u) is full: attributes/events dropped and counted "
                       "(raise otel_desc.span_bytes; reported once)", (unsigned)s->cap);
    otel__note_discard(g, s, "inline storage full, attribute dropped");
    return -1;
}

static void otel__span_attr(otel__state *g, otel__slot *s, const char *key, size_t klen, const otel_value *v) {
    int r = otel__attr_append(g, s, s->items_off, s->attr_count, g->lim.attr_count,
                              otel__limit_chars(g->lim.attr_value_length), key, klen, v);
    if (r > 0) s->attr_count++;
    else if (r < 0) s->dropped_attrs++;
}

/* Appends attributes nested in the item at `item_at` (an event or link). */
static void otel__nested_attrs(otel__state *g, otel__slot *s, size_t item_at, size_t region, uint32_t limit,
                               const otel_attr *attrs, size_t n) {
    otel__item *it = (otel__item *)(void *)(s->arena + item_at);
    for (size_t i = 0; i < n; i++) {
        const otel_attr *a = &attrs[i];
        int r = otel__attr_append(g, s, region, it->vlen, limit, otel__limit_chars(g->lim.attr_value_length),
                                  a->key.ptr, a->key.len, &a->value);
        it = (otel__item *)(void *)(s->arena + item_at); /* same place; re-read after writes */
        if (r > 0) it->vlen++;
        else if (r < 0) it->aux++;
    }
    it->size = (uint32_t)(s->items_end - item_at);
}

static void otel__span_link(otel__state *g, otel__slot *s, const otel_link *l) {
    size_t at = s->items_end, avail = s->cap - s->str_used, tl;
    if (!l || !l->context || !otel_span_context_is_valid(l->context)) {
        otel__note_discard(g, s, "invalid link dropped");
        s->dropped_links++;
        return;
    }
    if (s->link_count >= g->lim.link_count) {
        otel__note_discard(g, s, "link count limit reached, links dropped");
        s->dropped_links++;
        return;
    }
    size_t ctx_at = at + sizeof(otel__item), ts_at = ctx_at + OTEL__LINK_CTX_BYTES;
    size_t tsn = otel__strnlen(l->context->trace_state, OTEL_TRACE_STATE_MAX);
    bool tcut = false;
    size_t tsused = ts_at < avail ? otel__arena_put_str(s, ts_at, l->context->trace_state, tsn, SIZE_MAX, &tl, &tcut) : 0;
    if (!tsused || tcut) {
        otel__note_discard(g, s, "inline storage full, link dropped");
        s->dropped_links++;
        return;
    }
    otel__item it;
    memset(&it, 0, sizeof it);
    it.tag = OTEL__ITEM_LINK;
    it.klen = (uint16_t)tl;
    unsigned char *c = s->arena + ctx_at;
    memset(c, 0, OTEL__LINK_CTX_BYTES);
    memcpy(c, l->context->trace_id, 16);
    memcpy(c + 16, l->context->span_id, 8);
    c[24] = l->context->trace_flags;
    c[25] = l->context->is_remote ? 1 : 0;
    it.size = (uint32_t)(sizeof(otel__item) + OTEL__LINK_CTX_BYTES + tsused);
    memcpy(s->arena + at, &it, sizeof it);
    s->items_end = (uint32_t)(at + it.size);
    otel__nested_attrs(g, s, at, s->items_end, g->lim.link_attr_count, l->attrs, l->attrs ? l->attr_count : 0);
    s->link_count++;
}

static void otel__span_event(otel__state *g, otel__slot *s, const char *name, uint64_t t_ns,
                             const otel_attr *attrs, size_t n) {
    size_t at = s->items_end, avail = s->cap - s->str_used, nl;
    if (s->event_count >= g->lim.event_count) {
        otel__note_discard(g, s, "event count limit reached, events dropped");
        s->dropped_events++;
        return;
    }
    size_t nat = at + sizeof(otel__item);
    bool ncut = false;
    size_t used = nat < avail ? otel__arena_put_str(s, nat, name ? name : "", name ? strlen(name) : 0, SIZE_MAX, &nl, &ncut) : 0;
    if (!used || ncut) {
        otel__note_discard(g, s, "inline storage full, event dropped");
        s->dropped_events++;
        return;
    }
    otel__item it;
    memset(&it, 0, sizeof it);
    it.tag = OTEL__ITEM_EVENT;
    it.klen = (uint16_t)nl;
    it.v.u = t_ns ? t_ns : otel_now_ns();
    it.size = (uint32_t)(sizeof(otel__item) + used);
    memcpy(s->arena + at, &it, sizeof it);
    s->items_end = (uint32_t)(at + it.size);
    otel__nested_attrs(g, s, at, s->items_end, g->lim.event_attr_count, attrs, attrs ? n : 0);
    s->event_count++;
}

/* ---- sampling ----------------------------------------------------------------------- */

static bool otel__ratio_sample(const otel__state *g, const uint8_t *trace_id) {
    uint64_t x = 0;
    for (int i = 8; i < 16; i++) x = (x << 8) | trace_id[i];
    return (x >> 1) < g->ratio_bound;
}

/* The sampling decision for a new span (spec: trace/sdk.md, built-in samplers). */
static OTEL__ALWAYS_INLINE bool otel__sample(const otel__state *g, bool has_parent, bool parent_sampled, const uint8_t *trace_id) {
    otel_sampler smp = g->cfg.sampler;
    if (smp == OTEL_SAMPLER_ALWAYS_OFF) return false;
    if (smp == OTEL_SAMPLER_ALWAYS_ON) return true;
    if (smp == OTEL_SAMPLER_TRACEIDRATIO) return otel__ratio_sample(g, trace_id);
    /* the parent-based ones (OTEL_SAMPLER_DEFAULT is parentbased_always_on) */
    if (has_parent) return parent_sampled;
    if (smp == OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO) return otel__ratio_sample(g, trace_id);
    return smp != OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF;
}

/* ---- the active-span stack --------------------------------------------------------- */

static OTEL__NOINLINE void otel__stack_remove_inner(otel__thread *t, uintptr_t h) {
    for (uint32_t i = t->depth; i > 0; i--) {
        if (t->stack[i - 1] == h) {
            memmove(&t->stack[i - 1], &t->stack[i], (t->depth - i) * sizeof(uintptr_t));
            memmove(&t->stack_s[i - 1], &t->stack_s[i], (t->depth - i) * sizeof(otel__slot *));
            t->depth--;
            return;
        }
    }
}

static OTEL__ALWAYS_INLINE void otel__stack_remove(otel__thread *t, uintptr_t h) {
    if (t->depth && t->stack[t->depth - 1] == h) { /* the usual case: the innermost span */
        t->depth--;
        return;
    }
    otel__stack_remove_inner(t, h);
}

/* Whether the span of an active-stack entry (handle h, slot s) is still open: the slot is
   open and has the entry's generation. (The generation alone does not tell: it wraps, and
   a stale entry can sit below open ones for 2^32 reuses of its slot, 255 on 32-bit
   targets. The state is next to it: one more load of the same line, relaxed, as an open
   slot's fields were written by this thread or ordered by otel__slot_of.) */
static OTEL__ALWAYS_INLINE bool otel__stack_entry_open(uintptr_t h, const otel__slot *s) {
    return otel__load_rlx(&s->state) == OTEL__OPEN &&
           (otel__load_rlx((_Atomic uint32_t *)&s->gen) & OTEL__GEN_MASK) == ((uint32_t)(h >> OTEL__GEN_SHIFT) & OTEL__GEN_MASK);
}

/* Top of the stack that is still open; drops entries of spans ended elsewhere. */
static OTEL__ALWAYS_INLINE otel__slot *otel__stack_top(otel__thread *t) {
    while (t->depth > 0) {
        uintptr_t h = t->stack[t->depth - 1];
        otel__slot *s = t->stack_s[t->depth - 1];
        if (otel__stack_entry_open(h, s)) return s;
        t->depth--;
    }
    return NULL;
}

static OTEL__ALWAYS_INLINE void otel__stack_push(otel__thread *t, otel_span *h, otel__slot *s) {
    if (t->depth < OTEL__STACK_MAX) {
        t->stack_s[t->depth] = s;
        t->stack[t->depth++] = (uintptr_t)h;
    }
}

/* otel__stack_push for a caller that checked depth < OTEL__STACK_MAX (otel__start_auto).
   (Reads the depth again: kept in a register across a start, it cost a saved one.) */
static OTEL__ALWAYS_INLINE void otel__stack_push_room(otel__thread *t, otel_span *h, otel__slot *s) {
    uint32_t depth = t->depth;
    t->stack_s[depth] = s;
    t->stack[depth] = (uintptr_t)h;
    t->depth = depth + 1;
}

/* ---- public span calls ------------------------------------------------------------- */

static OTEL__ALWAYS_INLINE void otel__emit(otel__state *g, otel__thread *t, otel__slot *s, uint64_t end_ns);

/* n is 8 or 16; never all zero. (The state is a local in the loop: GCC then keeps the
   128-bit products out of saved registers.) */
static OTEL__ALWAYS_INLINE void otel__rand_bytes(otel__thread *t, uint8_t *out, size_t n) {
    uint64_t r = t->rng, a, b = 0;
    do {
        a = otel__wyrand(&r);
        if (n == 16) b = otel__wyrand(&r);
    } while ((a | b) == 0);
    t->rng = r;
    memcpy(out, &a, 8);
    if (n == 16) memcpy(out + 8, &b, 8);
}

/* The fields only a recording span reads, as every start leaves them (otel__start,
   otel__start_rec). */
static OTEL__ALWAYS_INLINE void otel__rec_fields(otel__slot *s, uint8_t kind, otel_tracer *tracer, uint64_t start_ns) {
    s->attr_count = s->dropped_attrs = s->event_count = s->dropped_events = 0;
    s->link_count = s->dropped_links = 0;
    s->keys = 0;
    s->msg_off = s->msg_len = 0;
    s->status_code = OTEL_STATUS_UNSET;
    s->kind = kind;
    s->tracer = tracer;
    s->start_ns = start_ns;
}

/* Called with a constant `d` for otel_span_start(name, NULL): the compiler then drops
   every branch on the desc's fields. With `found` (a constant) `tt` is this thread
   (registered) and `top` the open top of its active stack (NULL: empty), as
   otel__start_auto found them; else they are looked up here. `decided`: the sampler's
   answer when known (0 or 1), else -1. */
static OTEL__ALWAYS_INLINE otel_span *otel__start(otel__state *g, const char *name, const otel_span_desc *d,
                                                  bool found, otel__thread *tt, otel__slot *top, int decided) {
    otel__thread *t = found ? tt : otel__self(g);
    if (!t) return OTEL__NOOP;
    /* parent */
    const uint8_t *ptid = NULL, *psid = NULL;
    const char *pts = "";
    size_t ptsn = 0;
    bool has_parent = false, premote = false, psampled = false;
    if (d->remote_parent && otel_span_context_is_valid(d->remote_parent)) {
        const otel_span_context *c = d->remote_parent;
        ptid = c->trace_id; psid = c->span_id;
        pts = c->trace_state; ptsn = otel__strnlen(c->trace_state, OTEL_TRACE_STATE_MAX);
        has_parent = true; premote = c->is_remote; psampled = (c->trace_flags & OTEL_TRACE_FLAG_SAMPLED) != 0;
    } else if (!d->root) {
        otel__slot *p = d->parent ? otel__slot_of(g, d->parent) : found ? top : otel__stack_top(t);
        if (d->parent && !p) otel__misuse(g, d->parent, "otel_span_start (parent)");
        if (p) {
            ptid = p->trace_id; psid = p->span_id;
            pts = (const char *)p->arena + p->ts_off; ptsn = p->ts_len;
            has_parent = true; psampled = (p->trace_flags & OTEL_TRACE_FLAG_SAMPLED) != 0;
        }
    }
    otel__slot *s = otel__slot_alloc(t);
    if (!s) {
        OTEL__BUMP(t->dropped, 1);
        const char *nm = name ? name : ""; /* (the arguments are evaluated only when it logs) */
        OTEL__LOG_ONCE(g->once_slots, OTEL_LOG_WARN,
                       "no free span slot on this thread (spans_per_thread=%u): span '%.*s%s' not recorded (reported once)",
                       (unsigned)g->cfg.spans_per_thread, (int)otel__name_cut(nm, strlen(nm)), nm,
                       strlen(nm) > 100 ? "..." : "");
        return OTEL__NOOP;
    }
    if (has_parent) {
        memcpy(s->trace_id, ptid, 16);
        memcpy(s->parent_span_id, psid, 8);
    } else {
        otel__rand_bytes(t, s->trace_id, 16);
        memset(s->parent_span_id, 0, 8);
    }
    otel__rand_bytes(t, s->span_id, 8);
    bool rec = decided >= 0 ? decided != 0 : otel__sample(g, has_parent, psampled, s->trace_id);
    /* read now: the counter's latency overlaps the copies below */
    uint64_t now = rec && !d->start_time_ns ? otel__now() : d->start_time_ns;
    s->flags = (rec ? OTEL__SPAN_RECORDING : 0) | (has_parent ? OTEL__SPAN_HAS_PARENT : 0) |
               (premote ? OTEL__SPAN_PARENT_REMOTE : 0);
    s->trace_flags = rec ? OTEL_TRACE_FLAG_SAMPLED : 0;
    s->str_used = 0;
    size_t nl = 0, used = 0;
    if (rec) {
        nl = name ? strlen(name) : 0;
        s->str_used = OTEL__TS_NUL_ROOM; /* the name leaves room for the tracestate's NUL after it (below) */
        used = otel__arena_put_str(s, 0, name ? name : "", nl, SIZE_MAX, &nl, NULL);
        s->str_used = 0;
        if (!used) used = 8, s->arena[0] = 0, nl = 0;
    }
    s->name_off = 0;
    s->name_len = (uint32_t)nl; /* a non-recording span keeps no name */
    s->ts_off = (uint32_t)used;
    bool tcut = false;
    size_t tl = 0, tsused = ptsn ? otel__arena_put_str(s, used, pts, ptsn, SIZE_MAX, &tl, &tcut) : 0;
    if (!tsused || tcut) tsused = tl = 0; /* none, or it does not fit: empty (read by its length), never cut */
    s->ts_len = (uint32_t)tl;
    if (rec) {
        if (!tsused) { /* a recording span's strings are NUL-terminated in its record */
            s->arena[used] = 0;
            tsused = OTEL__TS_NUL_ROOM;
        }
        s->items_off = s->items_end = (uint32_t)(used + tsused);
    }
    otel__store_rlx(&s->state, OTEL__OPEN);
    otel_span *h = otel__handle(s);
    otel__tls_h = (uintptr_t)h;
    otel__tls_s = s;
    if (rec) { /* what only a recording span reads (calls on the others return early) */
        otel__rec_fields(s, (uint8_t)(d->kind >= OTEL_SPAN_KIND_INTERNAL && d->kind <= OTEL_SPAN_KIND_CONSUMER
                                          ? d->kind : OTEL_SPAN_KIND_INTERNAL),
                         d->tracer ? d->tracer : &g->tracers[0], now);
        for (size_t i = 0; d->attrs && i < d->attr_count; i++)
            otel__span_attr(g, s, d->attrs[i].key.ptr, d->attrs[i].key.len, &d->attrs[i].value);
        for (size_t i = 0; d->links && i < d->link_count; i++) otel__span_link(g, s, &d->links[i]);
        OTEL__BUMP(t->started, 1);
    } else {
        OTEL__BUMP(t->unsampled, 1);
    }
    if (!d->detached) otel__stack_push(t, h, s);
    return h;
}

static const otel_span_desc otel__zero_desc;

/* A span with a desc, or one otel__start_auto leaves (thread not registered yet, stale
   entries on the active stack). (`name` first, as in otel_span_start: the tail calls
   move fewer registers.) */
static OTEL__NOINLINE otel_span *otel__start_desc(const char *name, const otel_span_desc *desc, otel__state *g) {
    return otel__start(g, name, desc, false, NULL, NULL, -1);
}

/* A child of the active span (or a root) that otel__start_auto did not finish itself. */
static OTEL__NOINLINE otel_span *otel__start_child(const char *name, otel__state *g, otel__thread *t, otel__slot *top,
                                                   int decided) {
    return otel__start(g, name, &otel__zero_desc, true, t, top, decided);
}

/* A recording child of the open top of this thread's active stack (`p`, which has no
   tracestate), when a slot is free: what otel__start does for it, without the desc's
   branches and with the name's common case inline. Writes the same slot as otel__start.
   A name that is not ASCII or does not fit takes otel__start_child (the bytes written
   into the free slot's arena are free space). */
static OTEL__NOINLINE otel_span *otel__start_rec(const char *name, size_t name_len, otel__state *g, otel__thread *t,
                                                 const otel__slot *p) {
    uint64_t now = otel__now(); /* first: the counter's latency overlaps the rest */
    otel__slot *s = t->free_slots;
    size_t nl = name_len != SIZE_MAX ? name_len : name ? strlen(name) : 0, used = OTEL__ALIGN8(nl + 1);
    if (OTEL__UNLIKELY(used + OTEL__TS_NUL_ROOM > s->cap) ||
        (otel__copy_pad(s->arena, name ? name : "", nl) & 0x8080808080808080ull))
        return otel__start_child(name, g, t, (otel__slot *)p, 1);
    OTEL__FAST_HIT(2);
    t->free_slots = s->next_free;
    memcpy(s->trace_id, p->trace_id, 16);
    memcpy(s->parent_span_id, p->span_id, 8);
    uint64_t r = t->rng, x = otel__wyrand_nz(&r);
    t->rng = r;
    memcpy(s->span_id, &x, 8);
    s->flags = OTEL__SPAN_RECORDING | OTEL__SPAN_HAS_PARENT;
    s->trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    s->str_used = 0;
    s->name_off = 0;
    s->name_len = (uint32_t)nl;
    s->ts_off = (uint32_t)used;
    s->ts_len = 0;
    s->arena[used] = 0; /* the empty tracestate, NUL-terminated as every string of the record */
    s->items_off = s->items_end = (uint32_t)(used + OTEL__TS_NUL_ROOM);
    otel__rec_fields(s, OTEL_SPAN_KIND_INTERNAL, &g->tracers[0], now);
    otel__store_rlx(&s->state, OTEL__OPEN);
    otel_span *h = (otel_span *)otel__free_handle_bits(s);
    otel__tls_h = (uintptr_t)h;
    otel__tls_s = s;
    OTEL__BUMP(t->started, 1);
    otel__stack_push_room(t, h, s);
    return h;
}

/* otel_span_start(name, NULL). Finds the parent (the top of the active stack) and, when
   the sampler already says no, starts the non-recording span here: no name, no time, no
   attributes; it keeps what it must provide (a trace id, a new span id, flags 0, a place
   on the active stack, a handle that goes stale at its end). Everything else, and every
   case it does not cover (a recording span, a parent with a tracestate, no free slot, an
   unregistered thread, stale stack entries), goes to otel__start by a tail call, so that
   this needs no saved registers. */
static OTEL__NOINLINE otel_span *otel__start_auto(const char *name, size_t name_len, otel__state *g) {
    otel__thread *t = otel__tls;
    if (!t || otel__tls_instance != g->instance) return otel__start_desc(name, &otel__zero_desc, g);
    uint32_t depth = t->depth;
    otel__slot *p = NULL;
    int rec; /* the sampler's answer, -1: not known yet */
    if (depth - 1 < OTEL__STACK_MAX - 1) { /* a parent, and room above it (one compare) */
        uintptr_t ph = t->stack[depth - 1];
        p = t->stack_s[depth - 1];
        if (!otel__stack_entry_open(ph, p))
            return otel__start_desc(name, &otel__zero_desc, g); /* it drops the stale entries */
        rec = otel__sample(g, true, (p->trace_flags & OTEL_TRACE_FLAG_SAMPLED) != 0, p->trace_id);
        /* (a parent's tracestate is copied by the general path) */
        if (rec || p->ts_len || !t->free_slots) {
            if (rec && !p->ts_len && t->free_slots) return otel__start_rec(name, name_len, g, t, p);
            return otel__start_child(name, g, t, p, rec);
        }
    } else if (depth == 0) {
        /* a root: only these samplers decide without the new trace id */
        rec = g->cfg.sampler == OTEL_SAMPLER_ALWAYS_OFF || g->cfg.sampler == OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF ? 0 : -1;
        if (rec || !t->free_slots) return otel__start_child(name, g, t, NULL, rec);
    } else { /* a full stack (the general path leaves the span off it) */
        return otel__start_desc(name, &otel__zero_desc, g);
    }
    otel__slot *s = t->free_slots;
    t->free_slots = s->next_free;
    uint64_t r = t->rng, x;
    if (p) {
        memcpy(s->trace_id, p->trace_id, 16);
    } else { /* by halves, each non-zero: fewer live registers than otel__rand_bytes(16) */
        x = otel__wyrand_nz(&r);
        memcpy(s->trace_id, &x, 8);
        x = otel__wyrand_nz(&r);
        memcpy(s->trace_id + 8, &x, 8);
    }
    x = otel__wyrand_nz(&r);
    memcpy(s->span_id, &x, 8);
    t->rng = r;
    /* what a non-recording span's readers use: otel_span_get_context, a child's start
       (ids, flags, tracestate) and the recording flag; the name, times, parent span id and
       the rest of the record are only read for recording spans. (The handle is not made
       this thread's last resolved one: no call on a non-recording handle looks it up.) */
    s->flags = 0;
    s->trace_flags = 0;
    s->ts_off = s->ts_len = 0;
    otel__store_rlx(&s->state, OTEL__OPEN);
    otel_span *h = (otel_span *)(otel__free_handle_bits(s) | OTEL__NREC_BIT);
    OTEL__BUMP(t->unsampled, 1);
    otel__stack_push_room(t, h, s); /* depth < OTEL__STACK_MAX was checked above */
    return h;
}

/* With the SDK disabled or not initialized this is a load, a test and a return; the
   work (and its saved registers) is in otel__start_auto / otel__start_desc, reached by
   tail calls, so that this stays small enough to be inlined where the implementation is
   compiled into the caller's file. */
OTEL_API otel_span *otel__span_start(const char *name, size_t name_len, const otel_span_desc *desc) {
    otel__state *g = otel__g;
    if (!g) return OTEL__NOOP;
    if (desc) return otel__start_desc(name, desc, g);
    return otel__start_auto(name, name_len, g);
}

/* The open slot of a handle for a recording call, or NULL (misuse reported). */
static otel__slot *otel__rec_slot(otel__state *g, const otel_span *h, const char *what) {
    if (OTEL__NREC(h)) return NULL; /* unsampled: nothing to record */
    otel__slot *s = otel__slot_get(g, h);
    if (!s) {
        otel__misuse(g, h, what);
        return NULL;
    }
    return (s->flags & OTEL__SPAN_RECORDING) ? s : NULL;
}

static OTEL__ALWAYS_INLINE void otel__end(otel_span *span, uint64_t end_time_ns) {
    /* the time first: the span ends when the call is made, and the counter's latency
       overlaps the lookups below (a handle with the non-recording bit needs no time) */
    uint64_t now = !end_time_ns && !OTEL__NREC(span) ? otel__now() : 0;
    otel__state *g = otel__g;
    if (!g) return;
    otel__slot *s = otel__slot_get(g, span);
    if (!s) {
        otel__misuse(g, span, "otel_span_end");
        return;
    }
    otel__thread *t = otel__self(g);
    if (!t) return;
    otel__stack_remove(t, (uintptr_t)span);
    if (s->flags & OTEL__SPAN_RECORDING) {
        uint64_t end = end_time_ns;
        if (!end) { /* a clock re-anchor or step never makes a span end before it began */
            end = now ? now : otel__now();
            if (end < s->start_ns) end = s->start_ns;
        }
        otel__emit(g, t, s, end);
    }
    otel__slot_release(t, s);
}

/* Ends a non-recording span in the usual case: started by this thread and on top of its
   active stack (the stack entry gives the slot). Does what otel__end does for it (off the
   stack, slot released, handle stale) without a clock read, a registry walk or saved
   registers. False: not that case, nothing done (the general path decides, and reports
   misuse). Called only for a handle with the non-recording bit.
   What the checks below leave out, and why it holds:
   - the recording flag: the handle's non-recording bit was set from it when this opening
     started (otel__handle, otel__start_auto), and it does not change while a slot is open.
   The owner stays: otel_context_attach may put another thread's span on this stack; its
   end on this thread is a remote free (the general path). */
static OTEL__ALWAYS_INLINE bool otel__end_unsampled(otel_span *span) {
    otel__thread *t = otel__tls;
    /* this thread registered with the current instance (otel__live: no load of otel__g;
       a registered instance is never 0) */
    if (!t || otel__tls_instance != otel__live) return false;
    uint32_t depth = t->depth;
    if (!depth || t->stack[depth - 1] != (uintptr_t)span) return false;
    otel__slot *s = t->stack_s[depth - 1];
    uint32_t gen = otel__load_rlx((_Atomic uint32_t *)&s->gen); /* otel__stack_entry_open, gen read once */
    if (otel__load_rlx(&s->state) != OTEL__OPEN ||
        (gen & OTEL__GEN_MASK) != ((uint32_t)((uintptr_t)span >> OTEL__GEN_SHIFT) & OTEL__GEN_MASK) || s->owner != t)
        return false;
    t->depth = depth - 1;
    /* otel__slot_release for a slot of this thread */
    otel__store_rlx((_Atomic uint32_t *)&s->gen, otel__gen_next(gen));
    otel__store_rel(&s->state, OTEL__FREE_LOCAL);
    otel__slot_push_free(t, s);
    return true;
}

static OTEL__NOINLINE void otel__end_now(otel_span *span) { otel__end(span, 0); }
static OTEL__NOINLINE void otel__end_time(otel_span *span, uint64_t end_time_ns) { otel__end(span, end_time_ns); }

/* A non-recording handle tries the short path first; the rest is a tail call, so that
   neither needs saved registers. */
OTEL_API void otel__span_end_at(otel_span *span, uint64_t end_time_ns) {
    if (OTEL__NREC(span) && otel__end_unsampled(span)) return;
    otel__end_time(span, end_time_ns);
}
OTEL_API void otel__span_end(otel_span *span) {
    if (OTEL__NREC(span) && otel__end_unsampled(span)) return;
    otel__end_now(span);
}

OTEL_API void otel__span_set_attr(otel_span *span, const otel_attr *attr) {
    otel__state *g = otel__g;
    if (!g || !attr) return;
    otel__slot *s = otel__rec_slot(g, span, "otel_span_set_attr");
    if (s) otel__span_attr(g, s, attr->key.ptr, attr->key.len, &attr->value);
}



/* The 8 bytes an item keeps for a scalar value (bool, int or double). */
static OTEL__ALWAYS_INLINE uint64_t otel__value_bits(const otel_value *v) {
    uint64_t bits;
    if (v->type == OTEL_VALUE_DOUBLE) memcpy(&bits, &v->u.d, 8);
    else bits = (uint64_t)(v->type == OTEL_VALUE_BOOL ? (v->u.b ? 1 : 0) : v->u.i);
    return bits;
}

/* otel__attr_fast_lim for an otel_attr: a scalar, or a string, with a key. False: not that
   or not the usual case (the general path takes it; nothing is left behind). */
static OTEL__ALWAYS_INLINE bool otel__attr_fast_attr(otel__slot *s, const otel_attr *a, uint32_t count_limit,
                                                     uint32_t length_limit) {
    const otel_value *v = &a->value;
    if (v->type < OTEL_VALUE_STRING || v->type > OTEL_VALUE_DOUBLE || !a->key.ptr) return false;
    if (v->type == OTEL_VALUE_STRING)
        return v->u.s && otel__attr_fast_lim(s, a->key.ptr, a->key.len, OTEL_VALUE_STRING, 0, v->u.s, v->len,
                                             count_limit, length_limit);
    return otel__attr_fast_lim(s, a->key.ptr, a->key.len, v->type, otel__value_bits(v), NULL, 0, count_limit, length_limit);
}

static OTEL__ALWAYS_INLINE bool otel__attr_fast(otel__state *g, otel__slot *s, const char *key, size_t klen,
                                   otel_value_type type, uint64_t bits, const char *str, size_t slen) {
    return otel__attr_fast_lim(s, key, klen, type, bits, str, slen, g->lim.attr_count, g->lim.attr_value_length);
}

/* The slot of the span this thread touched last, when `span` is that one and records.
   NULL: take the general path. */
static inline otel__slot *otel__kv_slot(otel__state *g, const otel_span *span) {
    otel__slot *s;
    if (g && otel__slot_cached(g, span, &s) && s && (s->flags & OTEL__SPAN_RECORDING)) return s;
    return NULL;
}

/* Everything the fast paths below leave: another thread's or an older span, misuse, a
   key already set, UTF-8 to repair, limits, full storage, other value types. */
static OTEL__NOINLINE void otel__kv_general(otel_span *span, const char *key, size_t klen, int type, uint64_t bits,
                             const char *str, size_t slen) {
    otel__state *g = otel__g;
    if (!g) return;
    otel__slot *s = otel__rec_slot(g, span, "otel_span_set_*");
    if (!s) return;
    if (type == OTEL_VALUE_STRING) {
        if (!str) str = "", slen = 0;
    } else {
        str = NULL, slen = 0;
    }
    if (otel__attr_fast(g, s, key, klen, (otel_value_type)type, bits, str, slen)) return; /* another span's */
    otel_value v;
    memset(&v, 0, sizeof v);
    v.type = (otel_value_type)type;
    switch (type) {
    case OTEL_VALUE_STRING: v.u.s = str; v.len = slen; break;
    case OTEL_VALUE_BOOL: v.u.b = bits != 0; break;
    case OTEL_VALUE_INT: v.u.i = (int64_t)bits; break;
    case OTEL_VALUE_DOUBLE: memcpy(&v.u.d, &bits, sizeof v.u.d); break;
    default: v.type = OTEL_VALUE_NONE; break; /* not a scalar: rejected and counted below */
    }
    otel__span_attr(g, s, key, klen, &v);
}

/* (Two entry points with at most 5 arguments each, so that the fast paths below reach
   the general one by a tail call.) */
static OTEL__NOINLINE void otel__kv_general_str(otel_span *span, const char *key, size_t klen, const char *str, size_t slen) {
    otel__kv_general(span, key, klen, OTEL_VALUE_STRING, 0, str, slen);
}

static OTEL__NOINLINE void otel__kv_general_num(otel_span *span, const char *key, size_t klen, int type, uint64_t bits) {
    otel__kv_general(span, key, klen, type, bits, NULL, 0);
}

OTEL_API void otel__span_kv_str(otel_span *span, const char *key, size_t klen, const char *str, size_t slen) {
    otel__state *g = otel__g;
    otel__slot *s = otel__kv_slot(g, span);
    if (s && str && otel__attr_fast(g, s, key, klen, OTEL_VALUE_STRING, 0, str, slen)) return;
    otel__kv_general_str(span, key, klen, str, slen);
}

OTEL_API void otel__span_kv_num(otel_span *span, const char *key, size_t klen, int type, uint64_t bits) {
    otel__state *g = otel__g;
    otel__slot *s = otel__kv_slot(g, span);
    if (s && type >= OTEL_VALUE_BOOL && type <= OTEL_VALUE_DOUBLE &&
        otel__attr_fast(g, s, key, klen, (otel_value_type)type, bits, NULL, 0))
        return;
    otel__kv_general_num(span, key, klen, type, bits);
}

OTEL_API void otel__span_set_attrs(otel_span *span, const otel_attr *attrs, size_t count) {
    otel__state *g = otel__g;
    if (!g || !attrs) return;
    otel__slot *s = otel__rec_slot(g, span, "otel_span_set_attrs");
    for (size_t i = 0; s && i < count; i++) {
        /* the fast path of otel_span_set_* first */
        if (otel__attr_fast_attr(s, &attrs[i], g->lim.attr_count, g->lim.attr_value_length)) {
            OTEL__FAST_HIT(1);
            continue;
        }
        otel__span_attr(g, s, attrs[i].key.ptr, attrs[i].key.len, &attrs[i].value);
    }
}

OTEL_API void otel__span_set_name(otel_span *span, const char *name) {
    otel__state *g = otel__g;
    if (!g || !name) return;
    otel__slot *s = otel__rec_slot(g, span, "otel_span_set_name");
    if (s && !otel__arena_top_str(s, name, strlen(name), &s->name_off, &s->name_len))
        otel__note_discard(g, s, "span name truncated (inline storage full)");
}

OTEL_API void otel__span_set_status(otel_span *span, otel_status_code code, const char *description) {
    otel__state *g = otel__g;
    if (!g) return;
    otel__slot *s = otel__rec_slot(g, span, "otel_span_set_status");
    if (!s || code == OTEL_STATUS_UNSET || (s->flags & OTEL__SPAN_STATUS_FINAL)) return;
    if (code == OTEL_STATUS_OK) {
        s->status_code = OTEL_STATUS_OK;
        s->msg_len = 0;
        s->flags |= OTEL__SPAN_STATUS_FINAL;
    } else if (code == OTEL_STATUS_ERROR) {
        s->status_code = OTEL_STATUS_ERROR;
        s->msg_len = 0;
        if (description && *description)
            otel__arena_top_str(s, description, strlen(description), &s->msg_off, &s->msg_len);
    }
}

OTEL_API void otel__span_add_event_at(otel_span *span, const char *name, uint64_t time_ns, const otel_attr *attrs,
                                     size_t count) {
    otel__state *g = otel__g;
    if (!g) return;
    otel__slot *s = otel__rec_slot(g, span, "otel_span_add_event");
    if (s) otel__span_event(g, s, name, time_ns, attrs, count);
}

OTEL_API void otel__span_add_event(otel_span *span, const char *name, const otel_attr *attrs, size_t count) {
    otel_span_add_event_at(span, name, 0, attrs, count);
}

OTEL_API void otel__span_record_exception(otel_span *span, const char *type, const char *message,
                                         const char *stacktrace) {
    otel_attr a[3];
    size_t n = 0;
    if (type) a[n++] = otel_attr_str("exception.type", type);
    if (message) a[n++] = otel_attr_str("exception.message", message);
    if (stacktrace) a[n++] = otel_attr_str("exception.stacktrace", stacktrace);
    otel_span_add_event_at(span, "exception", 0, a, n);
}

OTEL_API void otel__span_add_link(otel_span *span, const otel_link *link) {
    otel__state *g = otel__g;
    if (!g) return;
    otel__slot *s = otel__rec_slot(g, span, "otel_span_add_link");
    if (s) otel__span_link(g, s, link);
}

OTEL_API bool otel_span_is_recording(const otel_span *span) {
    otel__state *g = otel__g;
    otel__slot *s = g ? otel__slot_of(g, span) : NULL;
    return s && (s->flags & OTEL__SPAN_RECORDING);
}

OTEL_API bool otel_span_get_context(const otel_span *span, otel_span_context *out) {
    otel__state *g = otel__g;
    if (!out) return false;
    memset(out, 0, sizeof *out);
    otel__slot *s = g ? otel__slot_of(g, span) : NULL;
    if (!s) return false;
    memcpy(out->trace_id, s->trace_id, 16);
    memcpy(out->span_id, s->span_id, 8);
    out->trace_flags = s->trace_flags;
    size_t n = s->ts_len < OTEL_TRACE_STATE_MAX - 1 ? s->ts_len : OTEL_TRACE_STATE_MAX - 1;
    memcpy(out->trace_state, s->arena + s->ts_off, n);
    out->trace_state[n] = 0;
    return true;
}

/* The scope (name, version) in a table of `max` elements of `stride` bytes that start with
   an otel_scope (tracers, loggers, meters), *n of them in use: found, or added when there
   is room. NULL: the table is full or out of memory. The caller holds the table's lock;
   lock-free readers see a new entry complete (release store of *n). */
static otel_scope *otel__scope_table_get(void *base, size_t stride, _Atomic uint32_t *n, uint32_t max,
                                         const char *name, const char *ver) {
    uint32_t cnt = otel__load_rlx(n);
    for (uint32_t i = 0; i < cnt; i++) {
        otel_scope *sc = (otel_scope *)((char *)base + i * stride);
        if (strcmp(sc->name.ptr, name) == 0 && strcmp(sc->version.ptr, ver) == 0) return sc;
    }
    if (cnt >= max) return NULL;
    char *nm = otel__strndup(name, strlen(name)), *vs = otel__strndup(ver, strlen(ver));
    if (!nm || !vs) {
        OTEL_FREE(nm, NULL);
        OTEL_FREE(vs, NULL);
        return NULL;
    }
    otel_scope *sc = (otel_scope *)((char *)base + cnt * stride);
    sc->name.ptr = nm; sc->name.len = strlen(nm);
    sc->version.ptr = vs; sc->version.len = strlen(vs);
    otel__store_rel(n, cnt + 1);
    return sc;
}

OTEL_API otel_tracer *otel_tracer_get(const char *scope_name, const char *scope_version) {
    otel__state *g = otel__g;
    if (!g) return NULL;
    if (!scope_name) return &g->tracers[0];
    pthread_mutex_lock(&g->tracer_mu);
    otel_scope *sc = otel__scope_table_get(g->tracers, sizeof g->tracers[0], &g->ntracers, OTEL__MAX_TRACERS,
                                           scope_name, scope_version ? scope_version : "");
    pthread_mutex_unlock(&g->tracer_mu);
    if (!sc) {
        otel__logf(OTEL_LOG_WARN, "tracer '%s': too many tracers (%d) or no memory; using the default tracer",
                   scope_name, OTEL__MAX_TRACERS);
        return &g->tracers[0];
    }
    return (otel_tracer *)sc; /* the scope is the tracer's first member */
}

/* ==== [context] ================================================================== */

/* ---- [context] part: W3C Trace Context --------------------------------------------- */

/* Lower-case hex only (W3C HEXDIGLC): value or -1. */
static int otel__hexlc(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* 2n lower-hex chars -> n bytes; false on any other char or when all bytes are zero. */
static bool otel__hexlc_id(const char *s, uint8_t *out, size_t n) {
    size_t i;
    uint8_t any = 0;
    for (i = 0; i < n; i++) {
        int h = otel__hexlc(s[2 * i]), l = otel__hexlc(s[2 * i + 1]);
        if (h < 0 || l < 0) return false;
        out[i] = (uint8_t)(h * 16 + l);
        any |= out[i];
    }
    return any != 0;
}

/* version-traceid-parentid-flags. Version 00: exactly 55 chars. Higher versions (not ff):
   at least 55, and char 55 must be '-' when longer (the rest is not looked at). Flags are
   kept as received (any value); on failure `out` is untouched. */
static bool otel__traceparent_parse(const char *s, size_t n, otel_span_context *out) {
    uint8_t tid[16], sid[8];
    int vh, vl, fh, fl;
    if (!s || n < 55) return false;
    vh = otel__hexlc(s[0]);
    vl = otel__hexlc(s[1]);
    if (vh < 0 || vl < 0 || (vh == 15 && vl == 15)) return false; /* ff: invalid */
    if (vh == 0 && vl == 0 && n != 55) return false;
    if (n > 55 && s[55] != '-') return false;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-') return false;
    if (!otel__hexlc_id(s + 3, tid, 16) || !otel__hexlc_id(s + 36, sid, 8)) return false;
    fh = otel__hexlc(s[53]);
    fl = otel__hexlc(s[54]);
    if (fh < 0 || fl < 0) return false;
    memcpy(out->trace_id, tid, 16);
    memcpy(out->span_id, sid, 8);
    out->trace_flags = (uint8_t)(fh * 16 + fl);
    out->is_remote = true;
    out->trace_state[0] = '\0';
    return true;
}

static bool otel__ts_keychar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '*' || c == '/';
}

/* W3C key: simple-key = lcalpha 0*255(keychar); multi-tenant-key = tenant-id "@"
   system-id, tenant-id = (lcalpha / DIGIT) 0*240(keychar), system-id = lcalpha
   0*13(keychar). */
static bool otel__ts_key_ok(const char *k, size_t n) {
    const char *at = (const char *)memchr(k, '@', n);
    size_t tn = at ? (size_t)(at - k) : n, i;
    if (tn == 0 || tn > (at ? 241u : 256u)) return false;
    if (!(k[0] >= 'a' && k[0] <= 'z') && !(at && k[0] >= '0' && k[0] <= '9')) return false;
    for (i = 1; i < tn; i++)
        if (!otel__ts_keychar(k[i])) return false;
    if (!at) return true;
    k = at + 1;
    n -= tn + 1;
    if (n == 0 || n > 14 || !(k[0] >= 'a' && k[0] <= 'z')) return false;
    for (i = 1; i < n; i++)
        if (!otel__ts_keychar(k[i])) return false;
    return true;
}

/* value = 0*255(chr) nblk-chr: 1..256 of 0x20..0x7E except ',' '=', not ending in ' '. */
static bool otel__ts_value_ok(const char *v, size_t n) {
    size_t i;
    if (n == 0 || n > 256 || v[n - 1] == ' ') return false;
    for (i = 0; i < n; i++)
        if (v[i] < 0x20 || v[i] > 0x7E || v[i] == ',' || v[i] == '=') return false;
    return true;
}

/* Validates a tracestate value and writes it to out (cap bytes incl. the NUL) with the
   members joined by ',' and no blanks. Empty members are dropped and do not count
   toward the 32-member limit. Duplicate keys, more than 32 members, a bad key or value,
   or output longer than cap-1: false, out = "". */
static bool otel__tracestate_normalize(const char *s, size_t n, char *out, size_t cap) {
    size_t keys[32][2], count = 0, o = 0, i = 0;
    if (!out || cap == 0) return false;
    out[0] = '\0';
    if (!s) return n == 0;
    while (i <= n) {
        size_t start = i, mn, kn, j;
        const char *m, *eq;
        while (i < n && s[i] != ',') i++;
        mn = i - start;
        m = otel__trim(s + start, &mn);
        i++; /* past the ',' (or the end) */
        if (!mn) continue;
        eq = (const char *)memchr(m, '=', mn);
        if (!eq) goto invalid;
        kn = (size_t)(eq - m);
        if (count == 32 || !otel__ts_key_ok(m, kn) || !otel__ts_value_ok(eq + 1, mn - kn - 1))
            goto invalid;
        for (j = 0; j < count; j++)
            if (keys[j][1] == kn && memcmp(out + keys[j][0], m, kn) == 0) goto invalid;
        if (o + (o != 0) + mn >= cap) goto invalid;
        if (o) out[o++] = ',';
        keys[count][0] = o;
        keys[count][1] = kn;
        count++;
        memcpy(out + o, m, mn);
        o += mn;
        out[o] = '\0';
    }
    return true;
invalid:
    out[0] = '\0';
    return false;
}

/* ---- [util]/[context] part: public functions ---------------------------------------- */

OTEL_API otel_value otel_value_at(const otel_value *v, size_t i) {
    otel_value e;
    memset(&e, 0, sizeof e);
    if (!v || i >= v->len) return e;
    switch (v->type) {
    case OTEL_VALUE_STRING_ARRAY: {
        otel_str s = otel_value_str_at(v, i);
        e.type = OTEL_VALUE_STRING; e.u.s = s.ptr; e.len = s.len;
        break;
    }
    case OTEL_VALUE_BOOL_ARRAY: if (v->u.ba) e.type = OTEL_VALUE_BOOL, e.u.b = v->u.ba[i]; break;
    case OTEL_VALUE_INT_ARRAY: if (v->u.ia) e.type = OTEL_VALUE_INT, e.u.i = v->u.ia[i]; break;
    case OTEL_VALUE_DOUBLE_ARRAY: if (v->u.da) e.type = OTEL_VALUE_DOUBLE, e.u.d = v->u.da[i]; break;
    default: break;
    }
    return e;
}

OTEL_API otel_str otel_value_str_at(const otel_value *v, size_t i) {
    otel_str r;
    r.ptr = "";
    r.len = 0;
    if (!v || v->type != OTEL_VALUE_STRING_ARRAY || i >= v->len) return r;
    if (v->flags & OTEL_VALUE_PACKED) {
        const char *blk = (const char *)v->u.packed;
        uint32_t off, slen;
        if (!blk) return r;
        memcpy(&off, blk + i * sizeof(uint32_t), sizeof off);
        memcpy(&slen, blk + (v->len + i) * sizeof(uint32_t), sizeof slen);
        r.ptr = blk + off;
        r.len = slen;
    } else if (v->u.sa && v->u.sa[i]) {
        r.ptr = v->u.sa[i];
        r.len = strlen(r.ptr);
    }
    return r;
}

OTEL_API bool otel_span_context_is_valid(const otel_span_context *ctx) {
    uint8_t t = 0, s = 0;
    size_t i;
    if (!ctx) return false;
    for (i = 0; i < 16; i++) t |= ctx->trace_id[i];
    for (i = 0; i < 8; i++) s |= ctx->span_id[i];
    return t != 0 && s != 0;
}

OTEL_API otel_result otel_context_extract(const char *traceparent, const char *tracestate,
                                          otel_span_context *out) {
    const char *tp;
    size_t n;
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!traceparent) return OTEL_ERR_INVALID_ARG;
    n = strlen(traceparent);
    tp = otel__trim(traceparent, &n);
    if (!otel__traceparent_parse(tp, n, out)) {
        memset(out, 0, sizeof *out);
        return OTEL_ERR_INVALID_ARG;
    }
    if (tracestate)
        otel__tracestate_normalize(tracestate, strlen(tracestate), out->trace_state,
                                   sizeof out->trace_state); /* invalid: "" */
    return OTEL_OK;
}

OTEL_API otel_result otel_traceparent_format(const otel_span_context *ctx, char *out, size_t cap) {
    if (!out) return OTEL_ERR_INVALID_ARG;
    if (cap < OTEL_TRACEPARENT_SIZE || !otel_span_context_is_valid(ctx)) {
        if (cap) out[0] = '\0';
        return OTEL_ERR_INVALID_ARG;
    }
    memcpy(out, "00-", 3);
    otel__hex_encode(out + 3, ctx->trace_id, 16);
    out[35] = '-';
    otel__hex_encode(out + 36, ctx->span_id, 8);
    out[52] = '-';
    out[53] = '0';
    out[54] = (ctx->trace_flags & OTEL_TRACE_FLAG_SAMPLED) ? '1' : '0';
    out[55] = '\0';
    return OTEL_OK;
}


OTEL_API otel_span *otel_span_current(void) {
    otel__state *g = otel__g;
    if (!g) return NULL;
    otel__thread *t = otel__self(g);
    otel__slot *s = t ? otel__stack_top(t) : NULL;
    return s ? otel__handle(s) : NULL;
}

OTEL_API void otel_context_attach(otel_span *span) {
    otel__state *g = otel__g;
    if (!g) return;
    otel__slot *s = otel__slot_of(g, span); /* once: a second look could find it ended */
    if (!s) {
        otel__misuse(g, span, "otel_context_attach");
        return;
    }
    otel__thread *t = otel__self(g);
    if (t) otel__stack_push(t, span, s);
}

OTEL_API void otel_context_detach(otel_span *span) {
    otel__state *g = otel__g;
    otel__thread *t = g ? otel__self(g) : NULL;
    if (t) otel__stack_remove(t, (uintptr_t)span);
}

OTEL_API otel_result otel_context_inject(const otel_span *span, char *traceparent, char *tracestate,
                                         size_t tracestate_cap) {
    otel_span_context c;
    if (!traceparent) return OTEL_ERR_INVALID_ARG;
    traceparent[0] = 0;
    if (tracestate && tracestate_cap) tracestate[0] = 0;
    if (!span) span = otel_span_current();
    if (!otel_span_get_context(span, &c)) return OTEL_ERR_INVALID_ARG;
    otel_result r = otel_traceparent_format(&c, traceparent, OTEL_TRACEPARENT_SIZE);
    if (r == OTEL_OK && tracestate && tracestate_cap) {
        size_t n = strlen(c.trace_state);
        if (n < tracestate_cap) memcpy(tracestate, c.trace_state, n + 1);
    }
    return r;
}

/* ==== [pipeline] ================================================================= */

enum { OTEL__REC_SPAN = 1, OTEL__REC_LOG = 3 };

/* A finished span in a block, written once by the thread that ended it; its pointers
   point into the record. The bytes after the header: items, then the strings from the
   arena top. */
typedef struct otel__rec {
    _Alignas(8) uint32_t size; /* whole record, multiple of 8 (so is the header: the items that
                                  follow it hold 8-byte values, also on 32-bit targets) */
    uint32_t type; /* OTEL__REC_* */
    otel_span_data d;
} otel__rec;

/* A log record in a block, the same way ([log] writes it): the bytes after the header
   hold the attribute items, then the severity text, event name and body. */
typedef struct otel__lrec {
    _Alignas(8) uint32_t size; /* whole record, multiple of 8 (so is the header: the items that
                                  follow it hold 8-byte values, also on 32-bit targets) */
    uint32_t type; /* OTEL__REC_LOG */
    otel_log_data d;
} otel__lrec;
_Static_assert(sizeof(otel__rec) % 8 == 0 && sizeof(otel__lrec) % 8 == 0, "record headers keep 8-byte alignment");

/* A block of finished spans (or log records) of one thread and one signal, cut from the
   thread's region ([hdr: this struct, the record pointers][records]). The thread writes the
   records and publishes them one at a time (npub); the pipeline hands each new run of them
   to every destination of the signal, which read them in place (no copy). A published
   record never changes. Once sealed (full) and all handed on, the pipeline drops the
   handover's reference; the last reference gives the block back to its thread. */
struct otel__block {
    _Atomic uint32_t refs;
    _Atomic uint32_t npub;   /* records published (producer, release) */
    _Atomic uint32_t sealed; /* the producer writes no more here (set after the last npub) */
    uint32_t count;          /* producer: records written */
    uint32_t used, cap;      /* data bytes: used (producer), in the block */
    uint32_t max_spans;      /* room in spans[] */
    uint32_t taken;          /* pipeline: records handed to the destinations */
    otel__thread *owner;
    otel__block *next;       /* in a free list */
    const otel_span_data **spans; /* span blocks */
    const otel_log_data **logs;   /* log blocks: the same array */
    unsigned char *data;
};

typedef struct otel__qent {
    otel__block *b;
    uint32_t start, count;
} otel__qent;

/* One destination: its exporter, its bounded queue, its worker thread and counters. Serves
   one signal (traces or logs); "spans" below means records of that signal. */
struct otel__dest {
    struct otel__state *g;
    otel_signal signal;        /* OTEL_SIGNAL_TRACES or OTEL_SIGNAL_LOGS */
    otel_destination_desc d;
    otel_exporter exp;
    char name[32];
    pthread_mutex_t mu;        /* queue, flush and stop fields */
    pthread_mutex_t export_mu; /* held around every call into the exporter */
    bool tainted;              /* forked while an export ran: disabled in the child */
    pthread_cond_t cv;         /* wakes the worker */
    otel__qent *q;
    uint32_t qcap, qhead, qcount;
    uint32_t queued;           /* spans in the queue */
    uint64_t flush_target, flush_done;
    bool stop, exited, stuck;
    bool wake;                 /* a full batch was queued: the pipeline signals cv after its pass */
    bool in_shutdown;          /* the worker is in the exporter's shutdown (flush_mu): no cancel */
    uint64_t shutdown_at;      /* monotonic ms deadline handed to exporter shutdown */
    pthread_t thread;
    bool started;
    const otel_span_data **batch; /* worker's export array (max_export_batch) */
    const otel_log_data **lbatch; /* the same array, for a log destination */
    otel__block **hold;        /* blocks the current export references */
    _Atomic uint64_t exported, dropped, failed;
    _Atomic int once_drop, once_fail;
    uint64_t nowait_until;     /* pipeline only: did not keep up during a hold; its overflow is
                                  dropped at once until then (monotonic ms) */
    uint64_t hold_takes, hold_room_at; /* pipeline only: `takes` and the time it last changed */
    uint64_t takes;            /* batches taken off the queue (under mu) */
    bool hold_short;           /* (under mu) the pipeline holds records for this destination's
                                  room: its worker pokes the pipeline once it made room */
};

/* Drops a reference to `b`; the last one gives it back to its thread (any thread). */
static void otel__block_release(otel__block *b) {
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1) return;
    otel__thread *t = b->owner;
    otel__block *h = atomic_load_explicit(&t->sfree, memory_order_relaxed);
    do b->next = h;
    while (!atomic_compare_exchange_weak_explicit(&t->sfree, &h, b, memory_order_release, memory_order_relaxed));
}

/* Offset in a record of an arena string at `off`. */
static uintptr_t otel__rec_str_off(const otel__slot *s, uint32_t off) {
    uint32_t top = s->cap - s->str_used;
    if (off >= top) return sizeof(otel__rec) + s->items_end + (off - top);
    return sizeof(otel__rec) + off;
}

static OTEL__ALWAYS_INLINE void otel__fill_data(otel_span_data *d, const otel__slot *s, uint64_t end_ns) {
    memcpy(d->trace_id, s->trace_id, 16);
    memcpy(d->span_id, s->span_id, 8);
    memcpy(d->parent_span_id, s->parent_span_id, 8);
    d->trace_flags = s->trace_flags;
    d->has_parent = (s->flags & OTEL__SPAN_HAS_PARENT) != 0;
    d->parent_is_remote = (s->flags & OTEL__SPAN_PARENT_REMOTE) != 0;
    d->kind = s->kind;
    d->status_code = s->status_code;
    d->start_time_ns = s->start_ns;
    d->end_time_ns = end_ns;
    d->name.len = s->name_len;
    d->trace_state.len = s->ts_len;
    d->status_message.len = s->msg_len;
    d->attr_count = s->attr_count;
    d->dropped_attrs = s->dropped_attrs;
    d->event_count = s->event_count;
    d->dropped_events = s->dropped_events;
    d->link_count = s->link_count;
    d->dropped_links = s->dropped_links;
    d->scope = &s->tracer->scope;
    d->otel__items_len = s->items_end - s->items_off;
}

static void otel__pipe_poke(otel__state *g, bool force) {
    if (force || atomic_load(&g->pipe_ev.word) == 1) { /* seq_cst: see otel__pipeline_main */
        if (atomic_exchange(&g->pipe_ev.word, 0) == 1 || force) otel__event_wake(&g->pipe_ev);
    }
}

static void otel__export_simple(otel__state *g, const otel__slot *s, uint64_t end_ns) {
    otel_span_data d;
    otel__fill_data(&d, s, end_ns);
    d.name.ptr = (const char *)s->arena + s->name_off;
    d.trace_state.ptr = (const char *)s->arena + s->ts_off;
    d.status_message.ptr = s->msg_len ? (const char *)s->arena + s->msg_off : "";
    d.otel__items = s->arena + s->items_off;
    const otel_span_data *one = &d;
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (ds->d.processor != OTEL_PROCESSOR_SIMPLE || ds->signal != OTEL_SIGNAL_TRACES) continue;
        otel_span_batch b;
        b.spans = &one;
        b.count = 1;
        b.resource = &g->resource;
        b.timeout_ms = ds->d.export_timeout_ms;
        pthread_mutex_lock(&ds->export_mu);
        bool ok = !ds->stop && !ds->tainted && ds->exp.export_spans(&b, ds->exp.user) == OTEL_EXPORT_SUCCESS;
        pthread_mutex_unlock(&ds->export_mu);
        otel__add_rlx(ok ? &ds->exported : &ds->failed, 1);
        if (!ok) OTEL__LOG_ONCE(ds->once_fail, OTEL_LOG_WARN, "destination '%s': exporter failed (reported once)", ds->name);
    }
}

/* ---- the per-thread blocks -----------------------------------------------------------
   A thread writes each finished span or log record into its current block of that signal
   and publishes it with one release store (npub). When a record does not fit, the block
   is sealed and the next one comes from the thread's free lists, or is cut from the rest
   of its region (no call: the region is reserved address space, or was allocated whole),
   and is appended to the signal's handover queue for the pipeline. With none left (every
   block of the region queued, or held by destinations that have not exported it yet) the
   record is dropped and counted. Nothing is copied after this: the pipeline hands runs of
   published records to the destinations, whose workers read them in place. */

/* Bytes of one block: half of ring_bytes, at most OTEL__BLOCK_BYTES, and at least twice
   the largest record (at most a quarter of ring_bytes, otel__desc_defaults sees to it). */
static uint32_t otel__blk_bytes(const otel_desc *c) {
    uint32_t b = c->ring_bytes / 2 < OTEL__BLOCK_BYTES ? c->ring_bytes / 2 : OTEL__BLOCK_BYTES;
    uint32_t rs = c->span_bytes + (uint32_t)sizeof(otel__rec), rl = c->log_record_bytes + (uint32_t)sizeof(otel__lrec);
    uint32_t rec = rs > rl ? rs : rl;
    while (b < 2 * rec) b *= 2;
    return b;
}

/* Cuts the next block off this thread's region; NULL: the region is used up. */
static otel__block *otel__block_carve(otel__state *g, otel__thread *t) {
    uint32_t carved = otel__load_rlx(&t->carved), blk = g->blk_bytes;
    if (t->region_bytes - carved < blk) return NULL;
    otel__block *b = (otel__block *)(void *)(t->region + carved);
    uint32_t min_rec = (uint32_t)(sizeof(otel__rec) < sizeof(otel__lrec) ? sizeof(otel__rec) : sizeof(otel__lrec));
    uint32_t max_spans = (uint32_t)((blk - sizeof(otel__block)) / (min_rec + sizeof(void *))) + 1;
    uint32_t hdr = (uint32_t)OTEL__ALIGN8(sizeof(otel__block) + max_spans * sizeof(void *));
    b->owner = t;
    b->max_spans = max_spans;
    b->cap = blk - hdr;
    b->spans = (const otel_span_data **)(void *)(b + 1);
    b->logs = (const otel_log_data **)(void *)(b + 1);
    b->data = (unsigned char *)b + hdr;
    carved += blk;
    otel__store_rlx(&t->carved, carved);
    if (carved > t->grow_next) { /* past ring_bytes, and then each doubling of it */
        while (carved > t->grow_next) t->grow_next *= 2;
        OTEL__BUMP(t->ring_grows, 1);
        OTEL__LOG_ONCE(g->once_ring_grow, OTEL_LOG_DEBUG, "a thread's blocks grew past %u bytes (ring_max_bytes=%u)",
                       (unsigned)(t->grow_next / 2), (unsigned)g->cfg.ring_max_bytes);
    }
    return b;
}

/* Blocks of this thread that the pipeline has not taken off its handover queues. */
static inline uint32_t otel__blocks_queued(otel__thread *t) {
    return otel__load_rlx(&t->hq_tail[0]) - otel__load_acq(&t->hq_head[0]) + otel__load_rlx(&t->hq_tail[1]) -
           otel__load_acq(&t->hq_head[1]);
}

/* Seals this thread's current block of signal `k` (if any): the thread writes no more
   there, and once handed on and exported it goes back to the free lists. Also when no
   other block is free and it cannot take a record: with a region of two blocks, one per
   signal, a full block left open would never be freed. */
static void otel__block_seal(otel__thread *t, int k) {
    if (!t->cur[k]) return;
    otel__store_rel(&t->cur[k]->sealed, 1);
    t->cur[k] = NULL;
}

/* Whether `b` (NULL: none) takes a record of `size` bytes. */
static OTEL__ALWAYS_INLINE bool otel__block_fits(const otel__block *b, uint32_t size) {
    return b && b->cap - b->used >= size && b->count < b->max_spans;
}

/* Starts this thread's next block of signal `k` and seals the current one (if any); NULL:
   none free (the current one then stays open: the caller seals it if it cannot take its
   record). Once a poke step of blocks (otel__poke_step) was started since it last woke
   the pipeline, or since the pipeline last took its blocks, it wakes it, and if a
   quarter of the blocks in use waits for it, gives it this CPU for a moment: with more
   busy threads than cores a woken pipeline otherwise waits a whole scheduler slice
   (milliseconds). sched_yield never waits for the pipeline: with nothing else runnable it
   returns at once. (Yielding only when the pipeline missed a whole step saved nothing
   measurable and dropped 1.6x as many spans in span_4attr_2threads_fixedring.) */
#ifdef OTEL_TEST_POKES /* tests: the pokes otel__block_next made, the pipeline's passes */
static _Atomic unsigned long otel__test_pokes, otel__test_passes;
#define OTEL__TEST_POKE() atomic_fetch_add_explicit(&otel__test_pokes, 1, memory_order_relaxed)
#define OTEL__TEST_PASS() atomic_fetch_add_explicit(&otel__test_passes, 1, memory_order_relaxed)
#else
#define OTEL__TEST_POKE() ((void)0)
#define OTEL__TEST_PASS() ((void)0)
#endif

static OTEL__NOINLINE otel__block *otel__block_next(otel__state *g, otel__thread *t, int k) {
    uint32_t per = t->cur[k] ? t->cur[k]->count : 0; /* records in the block it seals */
    otel__block *b = t->pfree;
    if (!b) b = atomic_exchange_explicit(&t->sfree, NULL, memory_order_acquire);
    if (b) t->pfree = b->next;
    else if (!(b = otel__block_carve(g, t))) {
        otel__pipe_poke(g, false);
        return NULL;
    }
    otel__block_seal(t, k);
    atomic_init(&b->refs, 1); /* the handover queue's */
    atomic_init(&b->npub, 0);
    atomic_init(&b->sealed, 0);
    b->count = b->used = b->taken = 0;
    uint32_t tail = otel__load_rlx(&t->hq_tail[k]);
    t->hq[k][tail & (t->hq_cap - 1)] = b;
    otel__store_rel(&t->hq_tail[k], tail + 1);
    t->cur[k] = b;
    /* blocks started since the last poke, or since the pipeline's last pass over this
       thread if that came later (a pass takes all but each signal's open block, unless a
       hold keeps some back: what is queued now came after it, give or take a block), so
       that a pass another thread's poke or the timer started restarts the count */
    uint32_t started = otel__load_rlx(&t->hq_tail[0]) + otel__load_rlx(&t->hq_tail[1]);
    uint32_t since = started - t->poke_mark, queued = otel__blocks_queued(t);
    if (queued < since) since = queued;
    /* ... a poke step of bytes, or about half the smallest batch queue of records (blocks
       of records as many as the one just sealed): what a pass can hand on at once, so
       that a small queue (the specification's 2,048) is not made to hold records back in
       the blocks every pass */
    if ((uint64_t)since * g->blk_bytes >= t->poke_step || (g->poke_recs && (uint64_t)since * per >= g->poke_recs)) {
        t->poke_mark = started;
        OTEL__TEST_POKE();
        /* counted first: a poke that finds the pipeline awake (in a pass that may have
           drained this thread already) makes it pass again instead of sleeping */
        atomic_fetch_add(&g->poke_seq, 1);
        otel__pipe_poke(g, false);
        uint32_t carved = otel__load_rlx(&t->carved);
        if ((uint64_t)queued * g->blk_bytes >= (carved > g->cfg.ring_bytes ? carved : g->cfg.ring_bytes) / 4)
            sched_yield();
    }
    return b;
}

/* Room for a span record of `size` bytes in this thread's span block, starting the next
   block if need be; NULL: none (the current block, which cannot take it, is sealed). */
static OTEL__ALWAYS_INLINE otel__block *otel__span_block(otel__state *g, otel__thread *t, uint32_t size) {
    otel__block *b = t->cur[0];
    if (OTEL__UNLIKELY(!otel__block_fits(b, size)) && !(b = otel__block_next(g, t, 0))) otel__block_seal(t, 0);
    return b;
}

/* Publishes the record of `size` bytes just written at b->data + b->used. */
static OTEL__ALWAYS_INLINE void otel__block_push(otel__block *b, const void *d, uint32_t size) {
    b->spans[b->count] = (const otel_span_data *)d; /* logs[] is the same array */
    b->used += size;
    otel__store_rel(&b->npub, ++b->count);
}

/* Writes the finished span into this thread's block (and to SIMPLE destinations). */
static OTEL__ALWAYS_INLINE void otel__emit(otel__state *g, otel__thread *t, otel__slot *s, uint64_t end_ns) {
    OTEL__BUMP(t->ended, 1);
    if (g->any_simple) otel__export_simple(g, s, end_ns);
    if (!g->any_batch) return;
    uint32_t size = (uint32_t)OTEL__ALIGN8(sizeof(otel__rec) + s->items_end + s->str_used);
    otel__block *b = otel__span_block(g, t, size);
    if (OTEL__UNLIKELY(!b)) {
        OTEL__BUMP(t->dropped, 1);
        OTEL__LOG_ONCE(g->once_ring, OTEL_LOG_WARN,
                       "a thread's ring is full (%u bytes, ring_max_bytes=%u): spans dropped and counted (reported once)",
                       (unsigned)otel__load_rlx(&t->carved), (unsigned)g->cfg.ring_max_bytes);
        return;
    }
    otel__rec *r = (otel__rec *)(void *)(b->data + b->used);
    const char *base = (const char *)r;
    r->size = size;
    r->type = OTEL__REC_SPAN;
    otel__fill_data(&r->d, s, end_ns);
    r->d.name.ptr = base + otel__rec_str_off(s, s->name_off);
    r->d.trace_state.ptr = base + otel__rec_str_off(s, s->ts_off);
    r->d.status_message.ptr = base + (s->msg_len ? otel__rec_str_off(s, s->msg_off) : otel__rec_str_off(s, s->ts_off) + s->ts_len);
    r->d.otel__items = (const unsigned char *)base + sizeof(otel__rec) + s->items_off;
    unsigned char *body = (unsigned char *)(r + 1);
    memcpy(body, s->arena, s->items_end);
    if (s->str_used) memcpy(body + s->items_end, s->arena + s->cap - s->str_used, s->str_used);
    otel__block_push(b, &r->d, size);
}

/* ---- the pipeline thread ------------------------------------------------------------- */

/* Hands records [start, start + count) of `b` to every batch destination of `sig`; each
   takes what its queue has room for (a run that continues its last entry extends it). */
static void otel__publish(otel__state *g, otel__block *b, uint32_t start, uint32_t count, otel_signal sig) {
    for (uint32_t i = 0; i < g->ndest && count; i++) {
        otel__dest *ds = g->dests[i];
        if (ds->d.processor != OTEL_PROCESSOR_BATCH || ds->signal != sig) continue;
        pthread_mutex_lock(&ds->mu);
        uint32_t room = ds->d.max_queue_size - ds->queued, k = count < room ? count : room;
        otel__qent *last = ds->qcount ? &ds->q[(ds->qhead + ds->qcount - 1) % ds->qcap] : NULL;
        if (k && last && last->b == b && last->start + last->count == start) {
            last->count += k; /* its reference covers the run */
        } else if (k && ds->qcount < ds->qcap) {
            otel__qent *e = &ds->q[(ds->qhead + ds->qcount++) % ds->qcap];
            e->b = b;
            e->start = start;
            e->count = k;
            atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        } else {
            k = 0;
        }
        ds->queued += k;
        /* a full batch: wake the worker at the end of this drain pass (one wake-up for all
           the pass moved), or now if the queue is half full; after the unlock, so that the
           woken worker does not wait for the mutex */
        bool now = k && ds->queued >= ds->d.max_queue_size / 2;
        if (!now && k && ds->queued >= ds->d.max_export_batch) ds->wake = true;
        pthread_mutex_unlock(&ds->mu);
        if (now) pthread_cond_signal(&ds->cv);
        if (k < count) {
            otel__add_rlx(&ds->dropped, count - k);
            OTEL__LOG_ONCE(ds->once_drop, OTEL_LOG_WARN,
                           "destination '%s': queue full (max_queue_size=%u), %s dropped and counted "
                           "(reported once; totals at shutdown)", ds->name, (unsigned)ds->d.max_queue_size,
                           sig == OTEL_SIGNAL_LOGS ? "log records" : "spans");
        }
    }
}

/* A batch destination the pipeline waits for when its queue is full: a worker runs and it
   was not let go (otel__hold_check). */
static bool otel__dest_waited(const otel__dest *ds, uint64_t now) {
    return ds->d.processor == OTEL_PROCESSOR_BATCH && ds->started && now >= ds->nowait_until;
}

/* Spans or records the queue has room for; ds->mu held. */
static uint32_t otel__queue_room(const otel__dest *ds) {
    return ds->qcount == ds->qcap ? 0 : ds->d.max_queue_size - ds->queued;
}

/* Queue room, per signal, of the destinations the pipeline waits for: the least room
   (UINT32_MAX: none to wait for). */
static void otel__dest_room(otel__state *g, uint32_t room[2]) {
    room[0] = room[1] = UINT32_MAX;
    uint64_t now = otel__mono_ms();
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (!otel__dest_waited(ds, now)) continue;
        pthread_mutex_lock(&ds->mu);
        uint32_t free = otel__queue_room(ds);
        pthread_mutex_unlock(&ds->mu);
        uint32_t *r = &room[ds->signal == OTEL_SIGNAL_LOGS];
        if (free < *r) *r = free;
    }
}

/* During a hold (after each pass that held records back): a destination short of room that
   took nothing off its queue for OTEL__HOLD_MS, or any one still short once the hold has
   lasted OTEL__HOLD_MAX_MS (`all`), is not waited for during the next OTEL__NOWAIT_MS.
   Progress is each destination's own, so one that keeps up cannot extend a hold for one
   that is stuck. `fresh`: the hold just began. Marks the destinations whose workers should
   poke the pipeline once they made room (hold_short). Returns whether any was let go. */
static bool otel__hold_check(otel__state *g, uint64_t now, bool fresh, bool all) {
    bool any = false;
    g->hold_any_short = false;
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (!otel__dest_waited(ds, now)) continue;
        pthread_mutex_lock(&ds->mu);
        uint32_t free = otel__queue_room(ds);
        uint64_t takes = ds->takes;
        ds->hold_short = free == 0 || free < ds->d.max_queue_size / 4;
        g->hold_any_short |= ds->hold_short;
        pthread_mutex_unlock(&ds->mu);
        if (fresh || takes != ds->hold_takes) {
            ds->hold_takes = takes;
            ds->hold_room_at = now;
        }
        if (free < ds->d.max_export_batch && (all || now - ds->hold_room_at >= OTEL__HOLD_MS)) {
            ds->nowait_until = now + OTEL__NOWAIT_MS;
            any = true;
        }
    }
    return any;
}

enum { OTEL__HOLD_NONE = 0, OTEL__HOLD_ROOM = 1, OTEL__HOLD_FULL = 2 };

#ifdef OTEL_TEST_PIPE_STALL /* tests: a mutex the pipeline takes at each drain, to hold it still */
static pthread_mutex_t otel__test_stall_mu = PTHREAD_MUTEX_INITIALIZER;
#endif

/* Hands every record published since the last pass, in every thread's blocks, to the
   destinations (no copy: they read the records where the thread wrote them), and takes
   sealed blocks that are all handed on off the handover queues.
   With `hold`, hands on no more of a signal than its destinations' queues have room for
   (otel__dest_room): the rest waits in the blocks, and *held says so (OTEL__HOLD_FULL: a
   thread's region is all cut and 3/4 of it waits in its handover queues). */
static void otel__drain(otel__state *g, bool hold, int *held) {
#ifdef OTEL_TEST_PIPE_STALL
    pthread_mutex_lock(&otel__test_stall_mu);
    pthread_mutex_unlock(&otel__test_stall_mu);
#endif
    uint32_t n = otel__load_acq(&g->nthreads);
    size_t moved = 0;
    uint32_t room[2] = {UINT32_MAX, UINT32_MAX};
    if (hold) otel__dest_room(g, room);
    *held = OTEL__HOLD_NONE;
    for (uint32_t i = 0; i < n; i++) {
        otel__thread *t = g->threads[i];
        for (int k = 0; k < 2; k++) {
            uint32_t h = otel__load_rlx(&t->hq_head[k]), tl = otel__load_acq(&t->hq_tail[k]);
            while (h != tl) {
                otel__block *b = t->hq[k][h & (t->hq_cap - 1)];
                uint32_t sealed = otel__load_acq(&b->sealed), np = otel__load_acq(&b->npub); /* sealed first: np is then final */
                if (np != b->taken) {
                    uint32_t c = np - b->taken;
                    if (c > room[k]) c = room[k];
                    if (room[k] != UINT32_MAX) room[k] -= c;
                    if (c) otel__publish(g, b, b->taken, c, k ? OTEL_SIGNAL_LOGS : OTEL_SIGNAL_TRACES);
                    b->taken += c;
                    moved += c;
                    if (np != b->taken) { /* no room: the rest waits in the blocks */
                        bool at_max = t->region_bytes - otel__load_rlx(&t->carved) < g->blk_bytes;
                        uint64_t waiting = (uint64_t)otel__blocks_queued(t) * g->blk_bytes;
                        if (*held < OTEL__HOLD_FULL)
                            *held = at_max && waiting >= t->region_bytes - t->region_bytes / 4 ? OTEL__HOLD_FULL : OTEL__HOLD_ROOM;
                        break;
                    }
                }
                if (!sealed) break; /* the thread's current block: the last one queued */
                otel__store_rel(&t->hq_head[k], ++h);
                otel__block_release(b); /* the handover queue's reference */
            }
        }
    }
    for (uint32_t i = 0; i < g->ndest && moved; i++) { /* the wake-ups otel__publish put off */
        otel__dest *ds = g->dests[i];
        if (ds->d.processor != OTEL_PROCESSOR_BATCH) continue;
        pthread_mutex_lock(&ds->mu);
        bool wake = ds->wake;
        ds->wake = false;
        pthread_mutex_unlock(&ds->mu);
        if (wake) pthread_cond_signal(&ds->cv); /* after the unlock, as in otel__publish */
    }
}

static void otel__notify_flush(otel__state *g, uint64_t seq) {
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (ds->d.processor != OTEL_PROCESSOR_BATCH) continue;
        pthread_mutex_lock(&ds->mu);
        if (ds->flush_target < seq) ds->flush_target = seq;
        pthread_cond_signal(&ds->cv);
        pthread_mutex_unlock(&ds->mu);
    }
    otel__store_rel(&g->flush_drained, seq);
}

/* The pipeline's pace, from its batch destinations (set before its thread starts):
   - pass_ms, how long it sleeps after a pass that held nothing back: half the shortest
     schedule delay, so that records wait in the blocks for about half of it (1 ms at
     least; longer while a hold keeps them back), and at most OTEL__PASS_MS. Threads that
     record many records wake it sooner (otel__poke_step); a flush or shutdown wakes it at
     once. (Until 0.6.1 it was 1 ms after any pass that moved a record: a thread recording
     1,000 spans a second then cost 1,000 wake-ups a second, about 10 us of CPU each on a
     VM.)
   - poke_recs, the records waiting that make a thread wake it (otel__block_next): half the
     smallest queue, what one pass can hand on without holding records back (0: none). */
static void otel__pace(otel__state *g) {
    uint32_t delay = UINT32_MAX, queue = UINT32_MAX;
    for (uint32_t i = 0; i < g->ndest; i++) {
        const otel__dest *ds = g->dests[i];
        if (ds->d.processor != OTEL_PROCESSOR_BATCH) continue;
        if (ds->d.schedule_delay_ms < delay) delay = ds->d.schedule_delay_ms;
        if (ds->d.max_queue_size < queue) queue = ds->d.max_queue_size;
    }
    g->pass_ms = delay / 2 < OTEL__PASS_MS ? (delay / 2 ? delay / 2 : 1) : OTEL__PASS_MS;
    g->poke_recs = queue == UINT32_MAX ? 0 : queue / 2 ? queue / 2 : 1;
}

/* The pipeline thread. When a destination's queue is full it holds records back in the
   rings (which grow) rather than drop them: a worker that the host or the scheduler kept
   off the CPU for a few milliseconds loses nothing. A destination short of room that takes
   nothing off its queue for OTEL__HOLD_MS, or is still short once the hold has lasted
   OTEL__HOLD_MAX_MS, is let go: not waited for during the next OTEL__NOWAIT_MS (its
   overflow is dropped and counted, the spec's queue rule). When a ring at its largest size
   is 3/4 used, one pass moves everything (dropping what does not fit) and the hold goes
   on. So a slow or hung exporter delays the others by at most OTEL__HOLD_MAX_MS per
   OTEL__NOWAIT_MS (a hung one by OTEL__HOLD_MS), and never the application. A flush is
   passed on to the workers once nothing is held; shutdown's last drain never holds. */
static void *otel__pipeline_main(void *arg) {
    otel__state *g = (otel__state *)arg;
    for (;;) {
        OTEL__TEST_PASS();
        uint32_t pokes = atomic_load(&g->poke_seq); /* pokes after this: pass again (below) */
        uint64_t fr = otel__load_acq(&g->flush_req);
        bool stop = otel__load_acq(&g->stop) != 0;
        int held;
        otel__drain(g, !stop, &held);
        uint64_t now = otel__mono_ms();
        otel__clock_tick(now);
        uint32_t seq = 0;
        bool hold_goes_on = false;
        if (held) {
            /* workers of short destinations poke from now on: hold_short is set under their
               mutex after this store, so room made later is not missed, and room made
               before is seen by otel__hold_check */
            otel__store_rlx(&g->holding, 1);
            seq = otel__load_acq(&g->room_seq);
            bool fresh = !g->hold_since;
            if (fresh) g->hold_since = now ? now : 1;
            if (otel__hold_check(g, now, fresh, now - g->hold_since >= OTEL__HOLD_MAX_MS))
                otel__drain(g, true, &held); /* without the ones let go */
            if (held == OTEL__HOLD_FULL) { /* move everything; the hold (and its clock) goes on */
                otel__drain(g, false, &held);
                hold_goes_on = true;
            }
        }
        if (!held && !hold_goes_on) g->hold_since = 0;
        otel__store_rlx(&g->holding, held != OTEL__HOLD_NONE);
        if (fr > otel__load_rlx(&g->flush_drained) && !held) otel__notify_flush(g, fr); /* all before fr moved */
        if (stop) {
            otel__drain(g, false, &held);
            break;
        }
        /* sleeping from here; a poke counted before this store is seen below, one counted
           after it finds the word at 1 and wakes the pipeline (both sequentially
           consistent, with otel__block_next and otel__pipe_poke) */
        atomic_store(&g->pipe_ev.word, 1);
        if (otel__load_acq(&g->flush_req) != fr || otel__load_acq(&g->stop) || atomic_load(&g->poke_seq) != pokes ||
            (held && (otel__load_acq(&g->room_seq) != seq || !g->hold_any_short))) {
            otel__store_rlx(&g->pipe_ev.word, 0);
            continue;
        }
        /* 1 ms while holding, or after a pass that moved everything at a ring's limit: room
           made is seen soon */
        otel__event_wait(&g->pipe_ev, 1, held || hold_goes_on ? 1 : g->pass_ms);
        otel__store_rlx(&g->pipe_ev.word, 0);
    }
    return NULL;
}

/* ---- destination workers ------------------------------------------------------------ */

/* Takes up to max_export_batch spans off the queue; dest->mu held. */
static size_t otel__dest_take(otel__dest *ds, size_t *nhold) {
    size_t n = 0;
    *nhold = 0;
    if (ds->qcount) ds->takes++;
    while (ds->qcount && n < ds->d.max_export_batch) {
        otel__qent *e = &ds->q[ds->qhead];
        uint32_t k = e->count;
        if (k > ds->d.max_export_batch - n) k = (uint32_t)(ds->d.max_export_batch - n);
        if (ds->signal == OTEL_SIGNAL_LOGS)
            for (uint32_t i = 0; i < k; i++) ds->lbatch[n++] = e->b->logs[e->start + i];
        else
            for (uint32_t i = 0; i < k; i++) ds->batch[n++] = e->b->spans[e->start + i];
        e->start += k;
        e->count -= k;
        ds->queued -= k;
        /* room the pipeline waits for: a quarter queue at least (no ping-pong per batch) */
        if (ds->hold_short && ds->d.max_queue_size - ds->queued >= ds->d.max_queue_size / 4 &&
            otel__load_rlx(&ds->g->holding)) {
            ds->hold_short = false;
            atomic_fetch_add_explicit(&ds->g->room_seq, 1, memory_order_release);
            otel__pipe_poke(ds->g, false);
        }
        atomic_fetch_add_explicit(&e->b->refs, 1, memory_order_relaxed);
        ds->hold[(*nhold)++] = e->b;
        if (e->count == 0) {
            otel__block_release(e->b);
            ds->qhead = (ds->qhead + 1) % ds->qcap;
            ds->qcount--;
        }
    }
    return n;
}

static void otel__dest_export(otel__state *g, otel__dest *ds, size_t n, size_t nhold) {
    otel_export_result r;
    pthread_mutex_lock(&ds->export_mu);
    if (ds->tainted) {
        r = OTEL_EXPORT_FAILURE;
    } else if (ds->signal == OTEL_SIGNAL_LOGS) {
        otel_log_batch b;
        b.records = ds->lbatch;
        b.count = n;
        b.resource = &g->resource;
        b.timeout_ms = ds->d.export_timeout_ms;
        r = ds->exp.export_logs(&b, ds->exp.user);
    } else {
        otel_span_batch b;
        b.spans = ds->batch;
        b.count = n;
        b.resource = &g->resource;
        b.timeout_ms = ds->d.export_timeout_ms;
        r = ds->exp.export_spans(&b, ds->exp.user);
    }
    pthread_mutex_unlock(&ds->export_mu);
    if (r == OTEL_EXPORT_SUCCESS) {
        otel__add_rlx(&ds->exported, n);
    } else {
        otel__add_rlx(&ds->failed, n);
        OTEL__LOG_ONCE(ds->once_fail, OTEL_LOG_WARN, "destination '%s': exporter failed a batch of %u %s (reported once)",
                       ds->name, (unsigned)n, ds->signal == OTEL_SIGNAL_LOGS ? "log records" : "spans");
    }
    for (size_t i = 0; i < nhold; i++) otel__block_release(ds->hold[i]);
}

static void otel__state_destroy(otel__state *g);

static void *otel__worker_main(void *arg) {
    otel__dest *ds = (otel__dest *)arg;
    otel__state *g = ds->g;
    uint64_t next = otel__mono_ms() + ds->d.schedule_delay_ms;
    pthread_mutex_lock(&ds->mu);
    for (;;) {
        while (!ds->stop && ds->queued < ds->d.max_export_batch && ds->flush_target == ds->flush_done) {
            uint64_t now = otel__mono_ms();
            if (now >= next) break;
            struct timespec ts = otel__abstime((uint32_t)(next - now));
            pthread_cond_timedwait(&ds->cv, &ds->mu, &ts);
        }
        uint64_t flush = ds->flush_target;
        bool stop = ds->stop;
        /* export what is queued: one batch, or everything when flushing or stopping */
        do {
            size_t nhold, n = otel__dest_take(ds, &nhold);
            if (!n) break;
            pthread_mutex_unlock(&ds->mu);
            otel__dest_export(g, ds, n, nhold);
            pthread_mutex_lock(&ds->mu);
        } while (flush != ds->flush_done || stop || ds->queued >= ds->d.max_export_batch);
        next = otel__mono_ms() + ds->d.schedule_delay_ms;
        if (flush != ds->flush_done) {
            pthread_mutex_unlock(&ds->mu);
            pthread_mutex_lock(&ds->export_mu);
            if (ds->exp.force_flush && !ds->tainted) ds->exp.force_flush(ds->d.export_timeout_ms, ds->exp.user);
            pthread_mutex_unlock(&ds->export_mu);
            pthread_mutex_lock(&g->flush_mu);
            ds->flush_done = flush; /* read under flush_mu by waiters */
            pthread_cond_broadcast(&g->flush_cv);
            pthread_mutex_unlock(&g->flush_mu);
            pthread_mutex_lock(&ds->mu);
        }
        if (stop && ds->qcount == 0) break;
    }
    pthread_mutex_unlock(&ds->mu);
    pthread_mutex_lock(&g->flush_mu); /* from here on otel_shutdown no longer calls cancel */
    ds->in_shutdown = true;
    pthread_mutex_unlock(&g->flush_mu);
    if (ds->tainted) {
        otel__exp_release(&g->xrefs, &ds->exp, 0, true);
    } else if (ds->exp.shutdown) {
        uint64_t now = otel__mono_ms();
        pthread_mutex_lock(&ds->export_mu);
        otel__exp_release(&g->xrefs, &ds->exp, ds->shutdown_at > now ? (uint32_t)(ds->shutdown_at - now) : 1, false);
        pthread_mutex_unlock(&ds->export_mu);
    }
    pthread_mutex_lock(&g->flush_mu);
    ds->exited = true;
    bool last = g->abandoned && --g->abandoned == 0;
    pthread_cond_broadcast(&g->flush_cv);
    pthread_mutex_unlock(&g->flush_mu);
    if (last) otel__state_destroy(g); /* abandoned by otel_shutdown, and the last one out */
    return NULL;
}

/* ==== [export] =================================================================== */

OTEL_API otel_iter otel_span_attrs(const otel_span_data *s) {
    otel_iter it;
    it.p = s && s->otel__items ? s->otel__items : NULL;
    it.end = it.p ? it.p + s->otel__items_len : NULL;
    return it;
}
OTEL_API otel_iter otel_span_events(const otel_span_data *s) { return otel_span_attrs(s); }
OTEL_API otel_iter otel_span_links(const otel_span_data *s) { return otel_span_attrs(s); }

/* Next item with `tag` at this level; NULL at the end. */
static const otel__item *otel__iter_next(otel_iter *it, uint8_t tag) {
    while (it->p && it->p + sizeof(otel__item) <= it->end) {
        const otel__item *item = (const otel__item *)(const void *)it->p;
        if (item->size < sizeof(otel__item) || item->size > (size_t)(it->end - it->p)) break;
        it->p += item->size;
        if (item->tag == tag) return item;
    }
    if (it) it->p = it->end;
    return NULL;
}

OTEL_API bool otel_iter_attr(otel_iter *it, otel_attr *out) {
    const otel__item *item = it ? otel__iter_next(it, OTEL__ITEM_ATTR) : NULL;
    if (!item || !out) return false;
    const unsigned char *k = (const unsigned char *)(item + 1);
    const unsigned char *v = k + OTEL__ALIGN8((size_t)item->klen + 1);
    memset(out, 0, sizeof *out);
    out->key.ptr = (const char *)k;
    out->key.len = item->klen;
    out->value.type = (otel_value_type)item->vtype;
    out->value.len = item->vlen;
    switch (out->value.type) {
    case OTEL_VALUE_BOOL: out->value.u.b = item->v.i != 0; break;
    case OTEL_VALUE_INT: out->value.u.i = item->v.i; break;
    case OTEL_VALUE_DOUBLE: out->value.u.d = item->v.d; break;
    case OTEL_VALUE_STRING: out->value.u.s = (const char *)v; break;
    case OTEL_VALUE_STRING_ARRAY: out->value.u.packed = v; out->value.flags = OTEL_VALUE_PACKED; break;
    case OTEL_VALUE_BOOL_ARRAY: out->value.u.ba = (const bool *)(const void *)v; break;
    case OTEL_VALUE_INT_ARRAY: out->value.u.ia = (const int64_t *)(const void *)v; break;
    case OTEL_VALUE_DOUBLE_ARRAY: out->value.u.da = (const double *)(const void *)v; break;
    case OTEL_VALUE_NONE: break;
    }
    return true;
}

OTEL_API bool otel_iter_event(otel_iter *it, otel_event_data *out) {
    const otel__item *item = it ? otel__iter_next(it, OTEL__ITEM_EVENT) : NULL;
    if (!item || !out) return false;
    const unsigned char *n = (const unsigned char *)(item + 1);
    out->name.ptr = (const char *)n;
    out->name.len = item->klen;
    out->time_ns = item->v.u;
    out->attr_count = item->vlen;
    out->dropped_attrs = item->aux;
    out->attrs.p = n + OTEL__ALIGN8((size_t)item->klen + 1);
    out->attrs.end = (const unsigned char *)item + item->size;
    return true;
}

OTEL_API bool otel_iter_link(otel_iter *it, otel_link_data *out) {
    const otel__item *item = it ? otel__iter_next(it, OTEL__ITEM_LINK) : NULL;
    if (!item || !out) return false;
    const unsigned char *c = (const unsigned char *)(item + 1), *ts = c + OTEL__LINK_CTX_BYTES;
    memcpy(out->trace_id, c, 16);
    memcpy(out->span_id, c + 16, 8);
    out->trace_flags = c[24];
    out->is_remote = c[25] != 0;
    out->trace_state.ptr = (const char *)ts;
    out->trace_state.len = item->klen;
    out->attr_count = item->vlen;
    out->dropped_attrs = item->aux;
    out->attrs.p = ts + OTEL__ALIGN8((size_t)item->klen + 1);
    out->attrs.end = (const unsigned char *)item + item->size;
    return true;
}

/* ---- JSON writing shared by the console and file exporters --------------------------- */

static void otel__json_value(otel__buf *b, const otel_value *v, bool otlp) {
    size_t n = v->len;
    switch (v->type) {
    case OTEL_VALUE_STRING:
        if (otlp) otel__buf_puts(b, "{\"stringValue\":");
        otel__buf_json_str(b, v->u.s, n);
        if (otlp) otel__buf_putc(b, '}');
        return;
    case OTEL_VALUE_BOOL:
        otel__buf_puts(b, otlp ? (v->u.b ? "{\"boolValue\":true}" : "{\"boolValue\":false}") : (v->u.b ? "true" : "false"));
        return;
    case OTEL_VALUE_INT:
        otel__buf_printf(b, otlp ? "{\"intValue\":\"%lld\"}" : "%lld", (long long)v->u.i);
        return;
    case OTEL_VALUE_DOUBLE:
        if (otlp) otel__buf_puts(b, "{\"doubleValue\":");
        otel__buf_json_double(b, v->u.d);
        if (otlp) otel__buf_putc(b, '}');
        return;
    default: break;
    }
    otel__buf_puts(b, otlp ? "{\"arrayValue\":{\"values\":[" : "[");
    for (size_t i = 0; i < n; i++) {
        otel_value e = otel_value_at(v, i);
        if (i) otel__buf_putc(b, ',');
        otel__json_value(b, &e, otlp);
    }
    otel__buf_puts(b, otlp ? "]}}" : "]");
}

/* Console-shaped attributes: {"k": v, ...}. `ind` < 0: one line. */
static void otel__json_nl(otel__buf *b, int ind) {
    if (ind < 0) return;
    otel__buf_putc(b, '\n');
    for (int i = 0; i < ind; i++) otel__buf_puts(b, "    ");
}

static void otel__console_attrs(otel__buf *b, otel_iter it, int ind) {
    otel_attr a;
    bool first = true;
    otel__buf_putc(b, '{');
    while (otel_iter_attr(&it, &a)) {
        if (!first) otel__buf_putc(b, ',');
        first = false;
        otel__json_nl(b, ind < 0 ? ind : ind + 1);
        otel__buf_json_str(b, a.key.ptr, a.key.len);
        otel__buf_puts(b, ind < 0 ? ":" : ": ");
        otel__json_value(b, &a.value, false);
    }
    if (!first) otel__json_nl(b, ind);
    otel__buf_putc(b, '}');
}

static const char *const otel__kind_names[] = {"SpanKind.INTERNAL", "SpanKind.INTERNAL", "SpanKind.SERVER",
                                               "SpanKind.CLIENT", "SpanKind.PRODUCER", "SpanKind.CONSUMER"};
static const char *const otel__status_names[] = {"UNSET", "OK", "ERROR"};

static void otel__hex_field(otel__buf *b, const char *key, const uint8_t *id, size_t n, bool prefix, const char *sep) {
    otel__buf_putc(b, '"');
    otel__buf_puts(b, key);
    otel__buf_putc(b, '"');
    otel__buf_puts(b, sep);
    otel__buf_puts(b, prefix ? "\"0x" : "\"");
    otel__buf_hex(b, id, n);
    otel__buf_putc(b, '"');
}

/* The console records' "resource": {"attributes": {...}, "schema_url": ""} member (at
   indent i1, -1 compact), up to its closing brace, which the caller writes. */
static void otel__console_resource(otel__buf *b, const otel_resource *res, const char *sep, int i1) {
    int i2 = i1 < 0 ? -1 : i1 + 1, i3 = i1 < 0 ? -1 : i1 + 2;
    otel__json_nl(b, i1); otel__buf_printf(b, "\"resource\"%s{", sep);
    otel__json_nl(b, i2); otel__buf_printf(b, "\"attributes\"%s{", sep);
    for (size_t k = 0; res && k < res->count; k++) {
        if (k) otel__buf_putc(b, ',');
        otel__json_nl(b, i3);
        otel__buf_json_str(b, res->attrs[k].key.ptr, res->attrs[k].key.len);
        otel__buf_puts(b, sep);
        otel__json_value(b, &res->attrs[k].value, false);
    }
    if (res && res->count) otel__json_nl(b, i2);
    otel__buf_puts(b, "},");
    otel__json_nl(b, i2); otel__buf_printf(b, "\"schema_url\"%s\"\"", sep);
    otel__json_nl(b, i1);
}

/* The Python SDK's ConsoleSpanExporter shape; pretty (ind 0) or one line (ind -1). */
static void otel__console_span(otel__buf *b, const otel_span_data *s, const otel_resource *res, int ind) {
    char ts[40];
    const char *sep = ind < 0 ? ":" : ": ";
    int i1 = ind < 0 ? -1 : ind + 1, i2 = ind < 0 ? -1 : ind + 2, i3 = ind < 0 ? -1 : ind + 3;
    otel__buf_putc(b, '{');
    otel__json_nl(b, i1); otel__buf_printf(b, "\"name\"%s", sep); otel__buf_json_str(b, s->name.ptr, s->name.len);
    otel__buf_putc(b, ',');
    otel__json_nl(b, i1); otel__buf_printf(b, "\"context\"%s{", sep);
    otel__json_nl(b, i2); otel__hex_field(b, "trace_id", s->trace_id, 16, true, sep); otel__buf_putc(b, ',');
    otel__json_nl(b, i2); otel__hex_field(b, "span_id", s->span_id, 8, true, sep); otel__buf_putc(b, ',');
    otel__json_nl(b, i2); otel__buf_printf(b, "\"trace_state\"%s", sep);
    otel__buf_json_str(b, s->trace_state.ptr, s->trace_state.len);
    otel__json_nl(b, i1); otel__buf_puts(b, "},");
    otel__json_nl(b, i1); otel__buf_printf(b, "\"kind\"%s\"%s\",", sep, otel__kind_names[s->kind <= 5 ? s->kind : 1]);
    otel__json_nl(b, i1);
    if (s->has_parent) otel__hex_field(b, "parent_id", s->parent_span_id, 8, true, sep);
    else otel__buf_printf(b, "\"parent_id\"%snull", sep);
    otel__buf_putc(b, ',');
    otel__iso8601(ts, s->start_time_ns);
    otel__json_nl(b, i1); otel__buf_printf(b, "\"start_time\"%s\"%s\",", sep, ts);
    otel__iso8601(ts, s->end_time_ns);
    otel__json_nl(b, i1); otel__buf_printf(b, "\"end_time\"%s\"%s\",", sep, ts);
    otel__json_nl(b, i1); otel__buf_printf(b, "\"status\"%s{", sep);
    otel__json_nl(b, i2); otel__buf_printf(b, "\"status_code\"%s\"%s\"", sep, otel__status_names[s->status_code <= 2 ? s->status_code : 0]);
    if (s->status_code == OTEL_STATUS_ERROR && s->status_message.len) {
        otel__buf_putc(b, ',');
        otel__json_nl(b, i2); otel__buf_printf(b, "\"description\"%s", sep);
        otel__buf_json_str(b, s->status_message.ptr, s->status_message.len);
    }
    otel__json_nl(b, i1); otel__buf_puts(b, "},");
    otel__json_nl(b, i1); otel__buf_printf(b, "\"attributes\"%s", sep); otel__console_attrs(b, otel_span_attrs(s), i1);
    otel__buf_putc(b, ',');
    otel__json_nl(b, i1); otel__buf_printf(b, "\"events\"%s[", sep);
    otel_iter it = otel_span_events(s);
    otel_event_data ev;
    bool first = true;
    while (otel_iter_event(&it, &ev)) {
        if (!first) otel__buf_putc(b, ',');
        first = false;
        otel__json_nl(b, i2); otel__buf_putc(b, '{');
        otel__json_nl(b, i3); otel__buf_printf(b, "\"name\"%s", sep); otel__buf_json_str(b, ev.name.ptr, ev.name.len);
        otel__iso8601(ts, ev.time_ns);
        otel__buf_putc(b, ',');
        otel__json_nl(b, i3); otel__buf_printf(b, "\"timestamp\"%s\"%s\",", sep, ts);
        otel__json_nl(b, i3); otel__buf_printf(b, "\"attributes\"%s", sep); otel__console_attrs(b, ev.attrs, i3);
        otel__json_nl(b, i2); otel__buf_putc(b, '}');
    }
    if (!first) otel__json_nl(b, i1);
    otel__buf_puts(b, "],");
    otel__json_nl(b, i1); otel__buf_printf(b, "\"links\"%s[", sep);
    it = otel_span_links(s);
    otel_link_data ln;
    first = true;
    while (otel_iter_link(&it, &ln)) {
        if (!first) otel__buf_putc(b, ',');
        first = false;
        otel__json_nl(b, i2); otel__buf_putc(b, '{');
        otel__json_nl(b, i3); otel__buf_printf(b, "\"context\"%s{", sep);
        otel__hex_field(b, "trace_id", ln.trace_id, 16, true, sep); otel__buf_puts(b, ind < 0 ? "," : ", ");
        otel__hex_field(b, "span_id", ln.span_id, 8, true, sep); otel__buf_puts(b, ind < 0 ? "," : ", ");
        otel__buf_printf(b, "\"trace_state\"%s", sep); otel__buf_json_str(b, ln.trace_state.ptr, ln.trace_state.len);
        otel__buf_puts(b, "},");
        otel__json_nl(b, i3); otel__buf_printf(b, "\"attributes\"%s", sep); otel__console_attrs(b, ln.attrs, i3);
        otel__json_nl(b, i2); otel__buf_putc(b, '}');
    }
    if (!first) otel__json_nl(b, i1);
    otel__buf_puts(b, "],");
    otel__console_resource(b, res, sep, i1); otel__buf_putc(b, '}');
    otel__json_nl(b, ind);
    otel__buf_putc(b, '}');
}

static void otel__otlp_attrs(otel__buf *b, otel_iter it) {
    otel_attr a;
    bool first = true;
    otel__buf_puts(b, "\"attributes\":[");
    while (otel_iter_attr(&it, &a)) {
        if (!first) otel__buf_putc(b, ',');
        first = false;
        otel__buf_puts(b, "{\"key\":");
        otel__buf_json_str(b, a.key.ptr, a.key.len);
        otel__buf_puts(b, ",\"value\":");
        otel__json_value(b, &a.value, true);
        otel__buf_putc(b, '}');
    }
    otel__buf_putc(b, ']');
}

static uint32_t otel__span_flags(uint8_t trace_flags, bool remote) {
    return (uint32_t)trace_flags | 0x100u | (remote ? 0x200u : 0);
}

static void otel__otlp_span(otel__buf *b, const otel_span_data *s) {
    otel__buf_putc(b, '{');
    otel__hex_field(b, "traceId", s->trace_id, 16, false, ":");
    otel__buf_putc(b, ',');
    otel__hex_field(b, "spanId", s->span_id, 8, false, ":");
    if (s->trace_state.len) {
        otel__buf_puts(b, ",\"traceState\":");
        otel__buf_json_str(b, s->trace_state.ptr, s->trace_state.len);
    }
    if (s->has_parent) {
        otel__buf_putc(b, ',');
        otel__hex_field(b, "parentSpanId", s->parent_span_id, 8, false, ":");
    }
    otel__buf_printf(b, ",\"flags\":%u,\"name\":", (unsigned)otel__span_flags(s->trace_flags, s->parent_is_remote));
    otel__buf_json_str(b, s->name.ptr, s->name.len);
    otel__buf_printf(b, ",\"kind\":%u,\"startTimeUnixNano\":\"%llu\",\"endTimeUnixNano\":\"%llu\",", (unsigned)s->kind,
                     (unsigned long long)s->start_time_ns, (unsigned long long)s->end_time_ns);
    otel__otlp_attrs(b, otel_span_attrs(s));
    if (s->dropped_attrs) otel__buf_printf(b, ",\"droppedAttributesCount\":%u", (unsigned)s->dropped_attrs);
    otel__buf_puts(b, ",\"events\":[");
    otel_iter it = otel_span_events(s);
    otel_event_data ev;
    bool first = true;
    while (otel_iter_event(&it, &ev)) {
        if (!first) otel__buf_putc(b, ',');
        first = false;
        otel__buf_printf(b, "{\"timeUnixNano\":\"%llu\",\"name\":", (unsigned long long)ev.time_ns);
        otel__buf_json_str(b, ev.name.ptr, ev.name.len);
        otel__buf_putc(b, ',');
        otel__otlp_attrs(b, ev.attrs);
        if (ev.dropped_attrs) otel__buf_printf(b, ",\"droppedAttributesCount\":%u", (unsigned)ev.dropped_attrs);
        otel__buf_putc(b, '}');
    }
    otel__buf_putc(b, ']');
    if (s->dropped_events) otel__buf_printf(b, ",\"droppedEventsCount\":%u", (unsigned)s->dropped_events);
    otel__buf_puts(b, ",\"links\":[");
    it = otel_span_links(s);
    otel_link_data ln;
    first = true;
    while (otel_iter_link(&it, &ln)) {
        if (!first) otel__buf_putc(b, ',');
        first = false;
        otel__buf_putc(b, '{');
        otel__hex_field(b, "traceId", ln.trace_id, 16, false, ":");
        otel__buf_putc(b, ',');
        otel__hex_field(b, "spanId", ln.span_id, 8, false, ":");
        if (ln.trace_state.len) {
            otel__buf_puts(b, ",\"traceState\":");
            otel__buf_json_str(b, ln.trace_state.ptr, ln.trace_state.len);
        }
        otel__buf_putc(b, ',');
        otel__otlp_attrs(b, ln.attrs);
        if (ln.dropped_attrs) otel__buf_printf(b, ",\"droppedAttributesCount\":%u", (unsigned)ln.dropped_attrs);
        otel__buf_printf(b, ",\"flags\":%u}", (unsigned)otel__span_flags(ln.trace_flags, ln.is_remote));
    }
    otel__buf_putc(b, ']');
    if (s->dropped_links) otel__buf_printf(b, ",\"droppedLinksCount\":%u", (unsigned)s->dropped_links);
    otel__buf_puts(b, ",\"status\":{");
    if (s->status_code == OTEL_STATUS_ERROR && s->status_message.len) {
        otel__buf_puts(b, "\"message\":");
        otel__buf_json_str(b, s->status_message.ptr, s->status_message.len);
        otel__buf_putc(b, ',');
    }
    otel__buf_printf(b, "\"code\":%u}}", (unsigned)s->status_code);
}

static void otel__otlp_resource(otel__buf *b, const otel_resource *res) {
    otel__buf_puts(b, "{\"resource\":{\"attributes\":[");
    for (size_t k = 0; res && k < res->count; k++) {
        if (k) otel__buf_putc(b, ',');
        otel__buf_puts(b, "{\"key\":");
        otel__buf_json_str(b, res->attrs[k].key.ptr, res->attrs[k].key.len);
        otel__buf_puts(b, ",\"value\":");
        otel__json_value(b, &res->attrs[k].value, true);
        otel__buf_putc(b, '}');
    }
    otel__buf_putc(b, ']');
    if (res && res->dropped) otel__buf_printf(b, ",\"droppedAttributesCount\":%u", (unsigned)res->dropped);
    otel__buf_putc(b, '}');
}

/* One OTLP/JSON ExportTraceServiceRequest for the batch (no newline), spans grouped by
   scope in first-seen order. */
/* A batch's items grouped by scope in first-seen order, as the OTLP/JSON and console
   writers nest them: per scope `{"scope":{"name":..,"version":..` + `mid`, the scope's
   items (comma-separated, written by `item`), `end`; scopes comma-separated. scope_at(batch,
   i) is item i's scope. */
typedef const otel_scope *(*otel__scope_at_fn)(const void *batch, size_t i);
typedef void (*otel__item_fn)(otel__buf *b, const void *batch, size_t i);
static void otel__json_by_scope(otel__buf *b, const void *batch, size_t count, otel__scope_at_fn scope_at,
                                const char *mid, otel__item_fn item, const char *end) {
    for (size_t i = 0; i < count; i++) {
        const otel_scope *sc = scope_at(batch, i);
        size_t j = 0;
        while (j < i && scope_at(batch, j) != sc) j++;
        if (j < i) continue; /* scope already written */
        if (i) otel__buf_putc(b, ',');
        otel__buf_puts(b, "{\"scope\":{\"name\":");
        otel__buf_json_str(b, sc ? sc->name.ptr : "", sc ? sc->name.len : 0);
        otel__buf_puts(b, ",\"version\":");
        otel__buf_json_str(b, sc ? sc->version.ptr : "", sc ? sc->version.len : 0);
        otel__buf_puts(b, mid);
        bool first = true;
        for (size_t k = i; k < count; k++) {
            if (scope_at(batch, k) != sc) continue;
            if (!first) otel__buf_putc(b, ',');
            first = false;
            item(b, batch, k);
        }
        otel__buf_puts(b, end);
    }
}

static const otel_scope *otel__span_scope_at(const void *batch, size_t i) {
    return ((const otel_span_batch *)batch)->spans[i]->scope;
}
static void otel__otlp_span_at(otel__buf *b, const void *batch, size_t i) {
    otel__otlp_span(b, ((const otel_span_batch *)batch)->spans[i]);
}

static void otel__otlp_json_traces(otel__buf *b, const otel_span_batch *batch) {
    otel__buf_puts(b, "{\"resourceSpans\":[");
    otel__otlp_resource(b, batch->resource);
    otel__buf_puts(b, ",\"scopeSpans\":[");
    otel__json_by_scope(b, batch, batch->count, otel__span_scope_at, "},\"spans\":[", otel__otlp_span_at, "]}");
    otel__buf_puts(b, "]}]}");
}

/* ---- console exporter ------------------------------------------------------------------ */

typedef struct otel__console {
    FILE *out;
    otel_console_format format;
    pthread_mutex_t mu; /* buf and whole batches on `out`: one exporter may serve traces, logs
                           and metrics, from their destinations' and readers' threads */
    otel__buf buf;
} otel__console;

/* Writes what an export put into c->buf (under c->mu, which it releases). */
static otel_export_result otel__console_write_unlock(otel__console *c) {
    bool ok = !c->buf.failed && fwrite(c->buf.p, 1, c->buf.len, c->out) == c->buf.len;
    ok = fflush(c->out) == 0 && ok;
    if (c->buf.cap > (1u << 20)) otel__buf_free(&c->buf); /* do not keep a huge buffer */
    pthread_mutex_unlock(&c->mu);
    return ok ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

static otel_export_result otel__console_export(const otel_span_batch *batch, void *user) {
    otel__console *c = (otel__console *)user;
    pthread_mutex_lock(&c->mu);
    c->buf.len = 0;
    c->buf.failed = false;
    for (size_t i = 0; i < batch->count; i++) {
        otel__console_span(&c->buf, batch->spans[i], batch->resource, c->format == OTEL_CONSOLE_COMPACT ? -1 : 0);
        otel__buf_putc(&c->buf, '\n');
    }
    return otel__console_write_unlock(c);
}

static otel_result otel__console_flush(uint32_t timeout_ms, void *user) {
    (void)timeout_ms;
    return fflush(((otel__console *)user)->out) == 0 ? OTEL_OK : OTEL_ERR_IO;
}

static void otel__console_shutdown(uint32_t timeout_ms, void *user) {
    otel__console *c = (otel__console *)user;
    (void)timeout_ms;
    fflush(c->out);
    otel__buf_free(&c->buf);
    pthread_mutex_destroy(&c->mu);
    OTEL_FREE(c, NULL);
}

static int otel__env_console_format(void);
static int otel__env_file_format(void);
/* The log record side of the built-in exporters is in [log]. */
static otel_export_result otel__console_export_logs(const otel_log_batch *batch, void *user);
static otel_export_result otel__file_export_logs(const otel_log_batch *batch, void *user);
static otel_export_result otel__memory_export_logs(const otel_log_batch *batch, void *user);
static otel_export_result otel__multi_export_logs(const otel_log_batch *batch, void *user);
static otel_export_result otel__none_export_logs(const otel_log_batch *batch, void *user);
static otel_export_result otel__console_export_metrics(const otel_metric_batch *batch, void *user);

OTEL_API otel_result otel_console_exporter_create(const otel_console_desc *desc, otel_exporter *out) {
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    otel__console *c = (otel__console *)otel__calloc(sizeof *c);
    if (!c) return OTEL_ERR_NO_MEMORY;
    c->out = desc && desc->stream ? (FILE *)desc->stream : stdout;
    c->format = desc && desc->format ? desc->format : (otel_console_format)otel__env_console_format();
    pthread_mutex_init(&c->mu, NULL);
    out->export_spans = otel__console_export;
    out->export_logs = otel__console_export_logs;
    out->export_metrics = otel__console_export_metrics;
    out->force_flush = otel__console_flush;
    out->shutdown = otel__console_shutdown;
    out->user = c;
    out->name = "console";
    return OTEL_OK;
}

/* ---- file exporter ----------------------------------------------------------------------- */

typedef struct otel__file {
    int fd;
    otel_file_format format;
    pthread_mutex_t mu; /* one writer at a time, whichever thread exports */
    otel__buf buf;
    char *path;
} otel__file;

/* Writes what an export put into f->buf (under f->mu, which it releases) with O_APPEND:
   each write lands at the end, whichever signal's batch it is. */
static otel_export_result otel__file_write_unlock(otel__file *f) {
    bool ok = !f->buf.failed;
    for (size_t off = 0; ok && off < f->buf.len;) {
        ssize_t w = write(f->fd, f->buf.p + off, f->buf.len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) ok = false;
        else off += (size_t)w;
    }
    if (f->buf.cap > (4u << 20)) otel__buf_free(&f->buf);
    pthread_mutex_unlock(&f->mu);
    if (!ok) otel__logf(OTEL_LOG_ERROR, "file exporter: writing %s failed: %s", f->path, strerror(errno));
    return ok ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

static otel_export_result otel__file_export(const otel_span_batch *batch, void *user) {
    otel__file *f = (otel__file *)user;
    pthread_mutex_lock(&f->mu);
    f->buf.len = 0;
    f->buf.failed = false;
    if (f->format == OTEL_FILE_FLAT) {
        for (size_t i = 0; i < batch->count; i++) {
            otel__console_span(&f->buf, batch->spans[i], batch->resource, -1);
            otel__buf_putc(&f->buf, '\n');
        }
    } else if (batch->count) {
        otel__otlp_json_traces(&f->buf, batch);
        otel__buf_putc(&f->buf, '\n');
    }
    return otel__file_write_unlock(f);
}

static otel_result otel__file_flush(uint32_t timeout_ms, void *user) {
    (void)timeout_ms;
    (void)user; /* every batch is written with write(2) as it is exported */
    return OTEL_OK;
}

static void otel__file_shutdown(uint32_t timeout_ms, void *user) {
    otel__file *f = (otel__file *)user;
    (void)timeout_ms;
    close(f->fd);
    pthread_mutex_destroy(&f->mu);
    otel__buf_free(&f->buf);
    OTEL_FREE(f->path, NULL);
    OTEL_FREE(f, NULL);
}

/* A file exporter; without a path in the desc, the default path of `sig`'s file. It
   serves spans and log records alike (one signal per file is the spec's rule: the factory
   makes one per destination). */
static otel_result otel__file_create(const otel_file_desc *desc, otel_signal sig, otel_exporter *out) {
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    const char *path = desc && desc->path ? desc->path : NULL;
    if (!path) path = otel__env(sig == OTEL_SIGNAL_LOGS ? "OTEL_EXPORTER_FILE_LOGS_PATH" : "OTEL_EXPORTER_FILE_TRACES_PATH");
    if (!path) path = otel__env("OTEL_EXPORTER_FILE_PATH");
    if (!path) path = sig == OTEL_SIGNAL_LOGS ? "logs.jsonl" : "traces.jsonl";
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        otel__logf(OTEL_LOG_ERROR, "file exporter: cannot open '%s' for appending: %s", path, strerror(errno));
        return OTEL_ERR_IO;
    }
    otel__file *f = (otel__file *)otel__calloc(sizeof *f);
    if (f) f->path = otel__strndup(path, strlen(path));
    if (!f || !f->path) {
        close(fd);
        if (f) OTEL_FREE(f, NULL);
        return OTEL_ERR_NO_MEMORY;
    }
    f->fd = fd;
    f->format = desc && desc->format ? desc->format : (otel_file_format)otel__env_file_format();
    pthread_mutex_init(&f->mu, NULL);
    out->export_spans = otel__file_export;
    out->export_logs = otel__file_export_logs;
    out->force_flush = otel__file_flush;
    out->shutdown = otel__file_shutdown;
    out->user = f;
    out->name = "file";
    return OTEL_OK;
}

OTEL_API otel_result otel_file_exporter_create(const otel_file_desc *desc, otel_exporter *out) {
    return otel__file_create(desc, OTEL_SIGNAL_TRACES, out);
}

/* ---- memory exporter ------------------------------------------------------------------ */

typedef struct otel__memory {
    pthread_mutex_t mu;
    otel_span_data **spans;
    size_t count, cap, limit;
    otel_log_data **logs;          /* log records ([log]); `limit` applies to each signal */
    size_t lcount, lcap;
    otel_resource resource;
    bool have_resource;
    bool owned; /* made from a name by otel_init (nobody else can reach it): freed at shutdown */
} otel__memory;

/* Room for one more pointer in a growable pointer array (`arrp` points at any T**;
   doubling from 1024). The pointer is read and written through memcpy: any object pointer
   type, no aliasing games. */
static bool otel__ptrs_reserve(void *arrp, size_t count, size_t *cap) {
    if (count < *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 1024;
    void *n = OTEL_MALLOC(ncap * sizeof(void *), NULL), *old;
    if (!n) return false;
    memcpy(&old, arrp, sizeof old);
    if (count) memcpy(n, old, count * sizeof(void *));
    OTEL_FREE(old, NULL);
    memcpy(arrp, &n, sizeof n);
    *cap = ncap;
    return true;
}

/* A deep copy of `s` in one allocation (scope strings included). Worker thread. */
static otel_span_data *otel__span_copy(const otel_span_data *s) {
    size_t sn = s->scope ? s->scope->name.len : 0, sv = s->scope ? s->scope->version.len : 0;
    size_t bytes = sizeof(otel_span_data) + sizeof(otel_scope) + OTEL__ALIGN8(s->otel__items_len) + s->name.len +
                   s->trace_state.len + s->status_message.len + sn + sv + 5;
    otel_span_data *c = (otel_span_data *)OTEL_MALLOC(bytes, NULL);
    if (!c) return NULL;
    *c = *s;
    otel_scope *sc = (otel_scope *)(void *)(c + 1);
    unsigned char *items = (unsigned char *)(sc + 1);
    if (s->otel__items_len) memcpy(items, s->otel__items, s->otel__items_len);
    c->otel__items = items;
    char *p = (char *)items + OTEL__ALIGN8(s->otel__items_len);
#define OTEL__COPY_STR(dst, src) \
    do { memcpy(p, (src).ptr, (src).len); p[(src).len] = 0; (dst).ptr = p; (dst).len = (src).len; p += (src).len + 1; } while (0)
    OTEL__COPY_STR(c->name, s->name);
    OTEL__COPY_STR(c->trace_state, s->trace_state);
    OTEL__COPY_STR(c->status_message, s->status_message);
    otel_str empty = {"", 0};
    OTEL__COPY_STR(sc->name, s->scope ? s->scope->name : empty);
    OTEL__COPY_STR(sc->version, s->scope ? s->scope->version : empty);
#undef OTEL__COPY_STR
    c->scope = sc;
    return c;
}

static void otel__resource_free(otel_resource *r) {
    for (size_t i = 0; i < r->count; i++) OTEL_FREE((void *)r->attrs[i].key.ptr, NULL);
    OTEL_FREE((void *)r->attrs, NULL);
    memset(r, 0, sizeof *r);
}

/* A deep copy of a resource whose values are scalars or strings (as resources are). */
static bool otel__resource_copy(otel_resource *dst, const otel_resource *src) {
    memset(dst, 0, sizeof *dst);
    otel_attr *a = (otel_attr *)otel__calloc(sizeof(otel_attr) * (src->count + 1));
    if (!a) return false;
    dst->attrs = a;
    dst->dropped = src->dropped;
    for (size_t i = 0; i < src->count; i++) {
        const otel_attr *s = &src->attrs[i];
        size_t vl = s->value.type == OTEL_VALUE_STRING ? s->value.len : 0;
        char *k = (char *)OTEL_MALLOC(s->key.len + vl + 2, NULL);
        if (!k) return false;
        memcpy(k, s->key.ptr, s->key.len);
        k[s->key.len] = 0;
        a[i] = *s;
        a[i].key.ptr = k;
        if (s->value.type == OTEL_VALUE_STRING) {
            memcpy(k + s->key.len + 1, s->value.u.s, vl);
            k[s->key.len + 1 + vl] = 0;
            a[i].value.u.s = k + s->key.len + 1;
        }
        dst->count++;
    }
    return true;
}

static otel_export_result otel__memory_export(const otel_span_batch *batch, void *user) {
    otel__memory *m = (otel__memory *)user;
    bool ok = true;
    pthread_mutex_lock(&m->mu);
    if (!m->have_resource && batch->resource) m->have_resource = otel__resource_copy(&m->resource, batch->resource);
    for (size_t i = 0; i < batch->count; i++) {
        if (m->count == m->limit) { ok = false; break; }
        if (!otel__ptrs_reserve(&m->spans, m->count, &m->cap)) { ok = false; break; }
        otel_span_data *c = otel__span_copy(batch->spans[i]);
        if (!c) { ok = false; break; }
        m->spans[m->count++] = c;
    }
    pthread_mutex_unlock(&m->mu);
    return ok ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

static void otel__memory_shutdown(uint32_t timeout_ms, void *user) {
    otel__memory *m = (otel__memory *)user;
    (void)timeout_ms;
    if (!m->owned) return; /* kept for reading; otel_memory_exporter_destroy frees it */
    otel_exporter e;
    memset(&e, 0, sizeof e);
    e.export_spans = otel__memory_export;
    e.user = m;
    otel_memory_exporter_destroy(&e);
}

OTEL_API otel_result otel_memory_exporter_create(size_t capacity, otel_exporter *out) {
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    otel__memory *m = (otel__memory *)otel__calloc(sizeof *m);
    if (!m) return OTEL_ERR_NO_MEMORY;
    pthread_mutex_init(&m->mu, NULL);
    m->limit = capacity ? capacity : (1u << 20);
    out->export_spans = otel__memory_export;
    out->export_logs = otel__memory_export_logs;
    out->shutdown = otel__memory_shutdown;
    out->user = m;
    out->name = "memory";
    return OTEL_OK;
}

static otel__memory *otel__memory_of(const otel_exporter *e) {
    return e && e->export_spans == otel__memory_export ? (otel__memory *)e->user : NULL;
}

OTEL_API size_t otel_memory_exporter_count(const otel_exporter *mem) {
    otel__memory *m = otel__memory_of(mem);
    if (!m) return 0;
    pthread_mutex_lock(&m->mu);
    size_t n = m->count;
    pthread_mutex_unlock(&m->mu);
    return n;
}

OTEL_API const otel_span_data *otel_memory_exporter_span(const otel_exporter *mem, size_t i) {
    otel__memory *m = otel__memory_of(mem);
    if (!m) return NULL;
    pthread_mutex_lock(&m->mu);
    const otel_span_data *s = i < m->count ? m->spans[i] : NULL;
    pthread_mutex_unlock(&m->mu);
    return s;
}

OTEL_API const otel_resource *otel_memory_exporter_resource(const otel_exporter *mem) {
    otel__memory *m = otel__memory_of(mem);
    if (!m) return NULL;
    pthread_mutex_lock(&m->mu);
    const otel_resource *r = m->have_resource ? &m->resource : NULL;
    pthread_mutex_unlock(&m->mu);
    return r;
}

OTEL_API void otel_memory_exporter_reset(const otel_exporter *mem) {
    otel__memory *m = otel__memory_of(mem);
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->count; i++) OTEL_FREE(m->spans[i], NULL);
    m->count = 0;
    for (size_t i = 0; i < m->lcount; i++) OTEL_FREE(m->logs[i], NULL);
    m->lcount = 0;
    pthread_mutex_unlock(&m->mu);
}

OTEL_API void otel_memory_exporter_destroy(otel_exporter *mem) {
    otel__memory *m = otel__memory_of(mem);
    if (!m) return;
    otel_memory_exporter_reset(mem);
    OTEL_FREE(m->spans, NULL);
    OTEL_FREE(m->logs, NULL);
    if (m->have_resource) otel__resource_free(&m->resource);
    pthread_mutex_destroy(&m->mu);
    OTEL_FREE(m, NULL);
    memset(mem, 0, sizeof *mem);
}

/* ---- multi (synchronous fan-out) and none ------------------------------------------------ */

typedef struct otel__multi {
    size_t count;
    otel_exporter children[OTEL_MAX_DESTINATIONS];
} otel__multi;

static otel_export_result otel__multi_export(const otel_span_batch *batch, void *user) {
    otel__multi *m = (otel__multi *)user;
    bool any = false;
    for (size_t i = 0; i < m->count; i++)
        if (m->children[i].export_spans(batch, m->children[i].user) == OTEL_EXPORT_SUCCESS) any = true;
    return any ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

static otel_export_result otel__multi_export_metrics(const otel_metric_batch *batch, void *user) {
    otel__multi *m = (otel__multi *)user;
    bool any = false;
    for (size_t i = 0; i < m->count; i++)
        if (m->children[i].export_metrics(batch, m->children[i].user) == OTEL_EXPORT_SUCCESS) any = true;
    return any ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

static otel_result otel__multi_flush(uint32_t timeout_ms, void *user) {
    otel__multi *m = (otel__multi *)user;
    otel_result r = OTEL_OK;
    for (size_t i = 0; i < m->count; i++)
        if (m->children[i].force_flush && m->children[i].force_flush(timeout_ms, m->children[i].user) != OTEL_OK)
            r = OTEL_ERR_EXPORT;
    return r;
}

static void otel__multi_cancel(void *user) {
    otel__multi *m = (otel__multi *)user;
    for (size_t i = 0; i < m->count; i++)
        if (m->children[i].cancel) m->children[i].cancel(m->children[i].user);
}

static void otel__multi_shutdown(uint32_t timeout_ms, void *user) {
    otel__multi *m = (otel__multi *)user;
    for (size_t i = 0; i < m->count; i++)
        if (m->children[i].shutdown) m->children[i].shutdown(timeout_ms, m->children[i].user);
    OTEL_FREE(m, NULL);
}

OTEL_API otel_result otel_multi_exporter_create(const otel_exporter *children, size_t count, otel_exporter *out) {
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!children || count == 0 || count > OTEL_MAX_DESTINATIONS) {
        otel__logf(OTEL_LOG_ERROR, "multi exporter: needs 1 to %d children", OTEL_MAX_DESTINATIONS);
        return OTEL_ERR_INVALID_ARG;
    }
    bool spans = true, metrics = true, logs = true; /* the multi exporter serves what all its children serve */
    for (size_t i = 0; i < count; i++) {
        spans &= children[i].export_spans != NULL;
        metrics &= children[i].export_metrics != NULL;
        logs &= children[i].export_logs != NULL;
        if (!children[i].export_spans && !children[i].export_metrics && !children[i].export_logs) {
            otel__logf(OTEL_LOG_ERROR, "multi exporter: child %u has no export_spans", (unsigned)i);
            return OTEL_ERR_INVALID_ARG;
        }
    }
    otel__multi *m = (otel__multi *)otel__calloc(sizeof *m);
    if (!m) return OTEL_ERR_NO_MEMORY;
    m->count = count;
    memcpy(m->children, children, count * sizeof *children);
    out->export_spans = spans ? otel__multi_export : NULL;
    out->export_metrics = metrics ? otel__multi_export_metrics : NULL;
    out->export_logs = logs ? otel__multi_export_logs : NULL;
    out->force_flush = otel__multi_flush;
    out->shutdown = otel__multi_shutdown;
    out->cancel = otel__multi_cancel;
    out->user = m;
    out->name = "multi";
    return OTEL_OK;
}

static otel_export_result otel__none_export(const otel_span_batch *batch, void *user) {
    (void)batch;
    (void)user;
    return OTEL_EXPORT_SUCCESS;
}

/* ---- factory ---------------------------------------------------------------------------- */

typedef struct otel__factory {
    char name[32];
    otel_exporter_factory_fn fn;
    void *user;
} otel__factory;

static otel__factory otel__factories[16];
static pthread_mutex_t otel__factory_mu = PTHREAD_MUTEX_INITIALIZER;

static bool otel__factory_known(const char *name) {
    bool known = false;
    pthread_mutex_lock(&otel__factory_mu);
    for (size_t i = 0; i < sizeof otel__factories / sizeof otel__factories[0]; i++)
        known |= otel__factories[i].fn && strcmp(otel__factories[i].name, name) == 0;
    pthread_mutex_unlock(&otel__factory_mu);
    return known;
}

OTEL_API otel_result otel_exporter_register(const char *name, otel_exporter_factory_fn fn, void *user) {
    if (!name || !*name || strlen(name) >= sizeof otel__factories[0].name || !fn) return OTEL_ERR_INVALID_ARG;
    otel_result r = OTEL_ERR_NO_MEMORY;
    pthread_mutex_lock(&otel__factory_mu);
    for (size_t i = 0; i < sizeof otel__factories / sizeof otel__factories[0]; i++) {
        otel__factory *f = &otel__factories[i];
        if (!f->fn || strcmp(f->name, name) == 0) {
            strcpy(f->name, name);
            f->fn = fn;
            f->user = user;
            r = OTEL_OK;
            break;
        }
    }
    pthread_mutex_unlock(&otel__factory_mu);
    return r;
}

static otel_result otel__metric_exporter_by_name(const char *name, size_t n, otel_exporter *out);

static otel_result otel__exporter_by_name(otel_signal sig, const char *name, size_t n, otel_exporter *out) {
    memset(out, 0, sizeof *out);
    otel_exporter_factory_fn fn = NULL;
    void *user = NULL;
    pthread_mutex_lock(&otel__factory_mu);
    for (size_t i = 0; i < sizeof otel__factories / sizeof otel__factories[0]; i++)
        if (otel__factories[i].fn && strlen(otel__factories[i].name) == n && memcmp(otel__factories[i].name, name, n) == 0) {
            fn = otel__factories[i].fn;
            user = otel__factories[i].user;
        }
    pthread_mutex_unlock(&otel__factory_mu);
    if (fn) return fn(sig, out, user);
    if (sig == OTEL_SIGNAL_METRICS) return otel__metric_exporter_by_name(name, n, out);
#define OTEL__IS(s) (n == sizeof(s) - 1 && otel__eq_nocase(name, n, s))
    if (OTEL__IS("console")) return otel_console_exporter_create(NULL, out);
    if (OTEL__IS("file")) return otel__file_create(NULL, sig, out);
    if (OTEL__IS("memory")) return otel_memory_exporter_create(0, out);
    if (OTEL__IS("none")) {
        out->export_spans = otel__none_export;
        out->export_logs = otel__none_export_logs;
        out->name = "none";
        return OTEL_OK;
    }
    if (sig == OTEL_SIGNAL_LOGS && OTEL__IS("zipkin")) {
        otel__logf(OTEL_LOG_ERROR, "exporter 'zipkin' exports spans only, not log records");
        return OTEL_ERR_UNKNOWN;
    }
    if (OTEL__IS("otlp") || OTEL__IS("zipkin")) {
        otel__logf(OTEL_LOG_ERROR, "exporter '%.*s' is not built in: %s", (int)n, name,
                   OTEL__IS("otlp") ? "compile otel_otlp.h with OTEL_OTLP_IMPLEMENTATION in the same program"
                                    : "compile otel_otlp.h with OTEL_OTLP_IMPLEMENTATION in the same program (it provides zipkin)");
        return OTEL_ERR_NOT_BUILT;
    }
#undef OTEL__IS
    otel__logf(OTEL_LOG_ERROR, "unknown exporter '%.*s' (known: console, file, memory, none, otlp, zipkin)", (int)n, name);
    return OTEL_ERR_UNKNOWN;
}

OTEL_API otel_result otel_exporter_create(const char *name, otel_exporter *out) {
    if (!name || !out) return OTEL_ERR_INVALID_ARG;
    return otel__exporter_by_name(OTEL_SIGNAL_TRACES, name, strlen(name), out);
}

OTEL_API otel_result otel_exporter_create_for(otel_signal signal, const char *name, otel_exporter *out) {
    if (!name || !out || (unsigned)signal > OTEL_SIGNAL_LOGS) return OTEL_ERR_INVALID_ARG;
    return otel__exporter_by_name(signal, name, strlen(name), out);
}

/* ==== [metric] =================================================================== */

/* Meter provider, instruments, aggregation, readers and temporality. The Prometheus text
   format and its HTTP server follow in their own section.

   Aggregation. An instrument keeps one series per distinct attribute set. A series is found
   through an order-independent hash of the set (a sum of per-attribute hashes) in an
   open-addressing table that recording threads read without a lock; a miss goes to the slow
   path, which canonicalizes the set (sorted by key, a repeated key keeps its last value,
   strings repaired to UTF-8) and, under the instrument's mutex, finds or creates the series.
   The table is replaced, never resized in place, and old tables stay until shutdown, so a
   thread still probing one is safe. A series is one cache-line-aligned allocation whose
   first line holds what recording touches (value, dirty bits, hash, attributes), so threads
   recording into different series never write a shared line. Sums are an int64 (atomic
   add) or a double (CAS on its bit pattern); histograms are bucket counts (their sum is the
   count), sum, min and max (CAS); gauges the last value and its time.

   Readers. Each reader collects on its own. A cumulative reader reads the running values. A
   delta reader (a "delta slot" of the instrument) keeps, per series, what it reported last
   and reports the difference; a series has one dirty bit per delta slot, set by recording
   after the value changed and cleared by the reader before it reads, so series without
   measurements since that reader's last collection are skipped. Histogram min and max per
   delta slot are separate words that the reader resets. Series live until otel_shutdown:
   memory is bounded by the cardinality limit of each instrument.

   Locks (in this order): reader mu (one collection and its export at a time) -> metrics
   collect_mu (observable callbacks, delta state) -> inst_mu (meters, instrument list) ->
   an instrument's mu (new series). Recording takes only the last, and only for a new series
   or an attribute set past the cardinality limit. */

#define OTEL__MAX_METERS 64
#define OTEL__METRIC_ATTRS_MAX 128u   /* attributes kept per measurement (the spec's default limit) */
#define OTEL__DEFAULT_CARDINALITY 2000u
#define OTEL__METRIC_NAME_MAX 255u

static const double otel__default_bounds[15] = {0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000};

struct otel_meter {
    otel_scope scope;
};

typedef struct otel__series otel__series;

/* Open addressing with linear probing, at most half full. Read without a lock; replaced by
   a bigger one under the instrument's mutex (the old one stays on the `retired` chain). */
typedef struct otel__stable {
    uint32_t mask;
    struct otel__stable *retired;
    _Atomic(otel__series *) slot[];
} otel__stable;

struct otel__series {
    /* first cache line: what recording reads and writes */
    _Atomic uint64_t v;          /* sum or last value: int64 or double bits; HISTOGRAM: the sum */
    _Atomic uint32_t dirty;      /* bit per delta slot: measured since that reader collected */
    uint32_t attr_count;
    uint64_t hash;
    const otel_attr *attrs;      /* canonical: sorted by key, no repeated key */
    otel_instrument *inst;
    _Atomic uint64_t *buckets;   /* HISTOGRAM: boundary_count + 1 counts */
    _Atomic uint64_t *mm;        /* HISTOGRAM: (min, max) pairs: [0] lifetime, [1 + k] delta slot k */
    _Atomic uint64_t t;          /* GAUGE: time of the last value */
    /* cold */
    _Atomic(otel__series *) next; /* creation order */
    uint64_t start_ns;
    uint64_t *prev;              /* per delta slot: the value (HISTOGRAM: sum, buckets) reported last */
    uint32_t round;              /* observable: collection round of the last observation (collect_mu) */
    bool overflow;               /* the otel.metric.overflow=true series */
    void *mem;                   /* the allocation this series is aligned in */
};

struct otel_instrument {
    /* read by recording threads, written only at creation */
    otel_instrument_kind kind;
    otel_number_type type;
    uint32_t dirty_all;          /* the bits of every delta slot; 0: no delta reader */
    uint32_t nbounds;
    const double *bounds;
    _Atomic(otel__stable *) table;
    uint32_t limit;              /* series including the overflow series */
    uint32_t nd;                 /* delta slots */
    int8_t dslot[OTEL_MAX_READERS]; /* reader -> its delta slot, -1: cumulative (or a gauge) */
    char pad[OTEL__CACHE_LINE];  /* what follows is written: keep it off the lines above */
    pthread_mutex_t mu;          /* new series */
    uint32_t nseries;            /* series in the table (mu) */
    _Atomic(otel__series *) head;
    otel__series *tail, *overflow;
    uint32_t round;              /* observable: callback runs (collect_mu) */
    _Atomic(otel_instrument *) next;
    otel_meter *meter;
    otel_str name, unit, description;
    otel_observe_fn cb;
    void *cb_user;
    _Atomic uint64_t overflowed; /* measurements that went to the overflow series */
    _Atomic int once_neg, once_nan, once_kind, once_overflow, once_attrs, once_nomem;
};

struct otel_observer {
    otel_instrument *inst;
    uint32_t round;
};

/* The Prometheus server (section [prometheus]); declared again with its typedefs there. */
struct otel__prom_server;
static struct otel__prom_server *otel__prom_server_start(const char *host, uint16_t port, const char *path,
                                                         bool (*produce)(otel__buf *b, void *user), void *user,
                                                         otel_result *err);
static void otel__prom_server_stop(struct otel__prom_server *s);

typedef struct otel__reader {
    struct otel__state *g;
    otel_reader_desc d;          /* resolved */
    uint32_t index;
    otel_temporality_preference pref;
    char name[32];
    char host[256], path[256];   /* PROMETHEUS */
    pthread_mutex_t mu;          /* one collection (and its export) at a time: scratch, last_ns, exporter */
    pthread_mutex_t ctl_mu;      /* stop and flush requests to the periodic thread */
    pthread_cond_t cv;
    bool stop;                   /* ctl_mu */
    uint64_t flush_req;          /* ctl_mu */
    uint64_t flush_done;         /* g->flush_mu */
    bool exited, in_shutdown, stuck; /* g->flush_mu */
    bool started, tainted;
    uint64_t shutdown_at;        /* monotonic ms deadline handed to the exporter's shutdown */
    pthread_t thread;
    uint64_t last_ns;            /* previous collection: the start time of delta points */
    struct otel__prom_server *server;
    /* scratch of one collection (mu) */
    otel_metric_data *md;
    size_t md_cap;
    otel_metric_point *pts;
    size_t pt_cap;
    uint64_t *words;
    size_t w_cap;
    _Atomic uint64_t collections, exported, failed;
    _Atomic int once_fail, once_nomem;
} otel__reader;

typedef struct otel__metrics {
    pthread_mutex_t collect_mu;  /* a collection's gathering: callbacks, rounds, delta state */
    pthread_mutex_t inst_mu;     /* meters and the instrument list */
    otel_meter meters[OTEL__MAX_METERS];
    _Atomic uint32_t nmeters;
    _Atomic(otel_instrument *) head;
    otel_instrument *tail;
    uint32_t nreaders;
    otel__reader *readers[OTEL_MAX_READERS];
    _Atomic uint64_t dropped;    /* measurements refused */
    _Atomic int once_meters;
} otel__metrics;

static uint32_t otel__pick_pos(uint32_t code, const char *env, uint32_t def);

/* ---- [metric] part: attribute sets ------------------------------------------------------- */

static inline uint64_t otel__mum(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)(r >> 64) ^ (uint64_t)r;
}

/* A fast 64-bit hash of p[0..n): wyhash's mixing, 16 bytes per multiply (one multiply for
   the strings attributes usually are). */
static inline uint64_t otel__hash_bytes(const char *p, size_t n, uint64_t seed) {
    const uint64_t k1 = 0xe7037ed1a0b428dbull, k2 = 0x8ebc6af09c88c6e3ull;
    uint64_t a, b, h = seed ^ ((uint64_t)n << 1);
    uint32_t x, y;
    while (n > 16) {
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        h = otel__mum(a ^ k1, b ^ h);
        p += 16;
        n -= 16;
    }
    if (n > 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
    } else if (n >= 4) {
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        a = ((uint64_t)x << 32) | y;
        b = 0;
    } else {
        a = n ? ((uint64_t)(unsigned char)p[0] << 16) | ((uint64_t)(unsigned char)p[n >> 1] << 8) | (unsigned char)p[n - 1] : 0;
        b = 0;
    }
    return otel__mum(a ^ k1, b ^ h ^ k2);
}

/* a[0..n) == b[0..n), inlined (attribute keys and values are short: no call to memcmp). */
static inline bool otel__bytes_eq(const char *a, const char *b, size_t n) {
    uint64_t x, y, z, w;
    for (; n > 16; a += 8, b += 8, n -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return false;
    }
    if (n >= 8) { /* 8..16: two overlapping words */
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&z, a + n - 8, 8);
        memcpy(&w, b + n - 8, 8);
        return ((x ^ y) | (z ^ w)) == 0;
    }
    if (n >= 4) {
        uint32_t p, q, r, t;
        memcpy(&p, a, 4); memcpy(&q, b, 4);
        memcpy(&r, a + n - 4, 4); memcpy(&t, b + n - 4, 4);
        return p == q && r == t;
    }
    return n == 0 || (a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1]); /* n <= 3: every byte */
}

static inline uint64_t otel__d2u(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static inline double otel__u2d(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Usable in a metric attribute set: a key, and a value of a known type. */
static inline bool otel__mattr_ok(const otel_attr *a) {
    if (!a->key.ptr || !a->key.len || a->value.type < OTEL_VALUE_STRING || a->value.type > OTEL_VALUE_DOUBLE_ARRAY)
        return false;
    if (a->value.type == OTEL_VALUE_BOOL || a->value.type == OTEL_VALUE_INT || a->value.type == OTEL_VALUE_DOUBLE)
        return true;
    return a->value.len == 0 || a->value.u.packed != NULL;
}

static uint64_t otel__value_hash(const otel_value *v, uint64_t h) {
    const uint64_t k = 0x4b33a62ed433d4a3ull;
    h ^= (uint64_t)v->type * 0x9e3779b97f4a7c15ull;
    switch (v->type) {
    case OTEL_VALUE_STRING: return otel__hash_bytes(v->u.s, v->len, h);
    case OTEL_VALUE_BOOL: return otel__mum(h ^ (v->u.b ? 1u : 2u), k);
    case OTEL_VALUE_INT: return otel__mum(h ^ (uint64_t)v->u.i, k);
    case OTEL_VALUE_DOUBLE: return otel__mum(h ^ otel__d2u(v->u.d), k);
    default: break;
    }
    for (size_t i = 0; i < v->len; i++) {
        switch (v->type) {
        case OTEL_VALUE_STRING_ARRAY: {
            otel_str s = otel_value_str_at(v, i);
            h = otel__hash_bytes(s.ptr, s.len, h);
            break;
        }
        case OTEL_VALUE_BOOL_ARRAY: h = otel__mum(h ^ (v->u.ba[i] ? 1u : 2u), k); break;
        case OTEL_VALUE_INT_ARRAY: h = otel__mum(h ^ (uint64_t)v->u.ia[i], k); break;
        default: h = otel__mum(h ^ otel__d2u(v->u.da[i]), k); break;
        }
    }
    return otel__mum(h ^ v->len, k);
}

/* The hash of a set: independent of the attributes' order. */
static inline uint64_t otel__attr_hash(const otel_attr *a) {
    uint64_t kh = otel__hash_bytes(a->key.ptr, a->key.len, 0x51ed27f3u), vh;
    if (a->value.type == OTEL_VALUE_STRING) /* the common case, inlined; independent of kh */
        vh = otel__hash_bytes(a->value.u.s, a->value.len, (uint64_t)OTEL_VALUE_STRING * 0x9e3779b97f4a7c15ull);
    else
        vh = otel__value_hash(&a->value, 0x2d358dccaa6c78a5ull);
    return otel__mum(kh ^ 0xa0761d6478bd642full, vh ^ 0x589965cc75374cc3ull);
}

/* False when the set needs the slow path's canonical form (an unusable attribute, too many). */
static inline bool otel__set_hash(const otel_attr *a, size_t n, uint64_t *out) {
    uint64_t h = n;
    if (n > OTEL__METRIC_ATTRS_MAX || (n && !a)) return false;
    for (size_t i = 0; i < n; i++) {
        if (!(a[i].value.type == OTEL_VALUE_STRING && a[i].key.ptr && a[i].key.len && a[i].value.u.s) &&
            !otel__mattr_ok(&a[i]))
            return false;
        h += otel__attr_hash(&a[i]);
    }
    *out = otel__mum(h, 0x8bb84b93962eacc9ull);
    return true;
}

static inline bool otel__value_eq(const otel_value *a, const otel_value *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
    case OTEL_VALUE_STRING: return a->len == b->len && otel__bytes_eq(a->u.s, b->u.s, a->len);
    case OTEL_VALUE_BOOL: return a->u.b == b->u.b;
    case OTEL_VALUE_INT: return a->u.i == b->u.i;
    case OTEL_VALUE_DOUBLE: return otel__d2u(a->u.d) == otel__d2u(b->u.d);
    default: break;
    }
    if (a->len != b->len) return false;
    for (size_t i = 0; i < a->len; i++) {
        switch (a->type) {
        case OTEL_VALUE_STRING_ARRAY: {
            otel_str x = otel_value_str_at(a, i), y = otel_value_str_at(b, i);
            if (x.len != y.len || memcmp(x.ptr, y.ptr, x.len) != 0) return false;
            break;
        }
        case OTEL_VALUE_BOOL_ARRAY: if (a->u.ba[i] != b->u.ba[i]) return false; break;
        case OTEL_VALUE_INT_ARRAY: if (a->u.ia[i] != b->u.ia[i]) return false; break;
        default: if (otel__d2u(a->u.da[i]) != otel__d2u(b->u.da[i])) return false; break;
        }
    }
    return true;
}

static inline int otel__key_cmp(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an < bn ? -1 : an > bn);
}

static inline bool otel__key_eq(const otel_str *a, const otel_str *b) {
    return a->len == b->len && otel__bytes_eq(a->ptr, b->ptr, a->len);
}

/* The series holds exactly the set a[0..n) (any order; the hashes already matched). */
static inline bool otel__attrs_match(const otel__series *s, const otel_attr *a, size_t n) {
    if (s->attr_count != n) return false;
    for (size_t i = 0; i < n; i++) {
        const otel_attr *x = &s->attrs[i]; /* usually the caller's order is the sorted one */
        if (!otel__key_eq(&x->key, &a[i].key)) {
            size_t lo = 0, hi = n;
            x = NULL;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = otel__key_cmp(s->attrs[mid].key.ptr, s->attrs[mid].key.len, a[i].key.ptr, a[i].key.len);
                if (c == 0) { x = &s->attrs[mid]; break; }
                if (c < 0) lo = mid + 1;
                else hi = mid;
            }
            if (!x) return false;
        }
        if (x->value.type == OTEL_VALUE_STRING && a[i].value.type == OTEL_VALUE_STRING) {
            if (x->value.len != a[i].value.len || !otel__bytes_eq(x->value.u.s, a[i].value.u.s, x->value.len)) return false;
        } else if (!otel__value_eq(&x->value, &a[i].value)) {
            return false;
        }
    }
    return true;
}

/* Canonical form of a[0..n) into out (room for n; out == a is allowed): usable attributes
   sorted by key, a repeated key keeping its last value, at most OTEL__METRIC_ATTRS_MAX.
   *dropped: something was left out. */
static size_t otel__attrs_canon(const otel_attr *a, size_t n, otel_attr *out, bool *dropped) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        otel_attr x = a[i];
        if (!otel__mattr_ok(&x)) { *dropped = true; continue; }
        size_t j = k;
        while (j > 0 && otel__key_cmp(out[j - 1].key.ptr, out[j - 1].key.len, x.key.ptr, x.key.len) > 0) j--;
        if (j > 0 && otel__key_eq(&out[j - 1].key, &x.key)) {
            out[j - 1] = x; /* the last value of a repeated key wins */
            continue;
        }
        memmove(out + j + 1, out + j, (k - j) * sizeof *out);
        out[j] = x;
        k++;
    }
    if (k > OTEL__METRIC_ATTRS_MAX) {
        k = OTEL__METRIC_ATTRS_MAX;
        *dropped = true;
    }
    return k;
}

static bool otel__attrs_utf8_valid(const otel_attr *a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!otel__utf8_valid(a[i].key.ptr, a[i].key.len)) return false;
        if (a[i].value.type == OTEL_VALUE_STRING && !otel__utf8_valid(a[i].value.u.s, a[i].value.len)) return false;
        if (a[i].value.type == OTEL_VALUE_STRING_ARRAY)
            for (size_t j = 0; j < a[i].value.len; j++) {
                otel_str s = otel_value_str_at(&a[i].value, j);
                if (!otel__utf8_valid(s.ptr, s.len)) return false;
            }
    }
    return true;
}

/* Bytes otel__attrs_store needs after the otel_attr array for a[0..n). */
static size_t otel__attrs_bytes(const otel_attr *a, size_t n) {
    size_t b = 0;
    for (size_t i = 0; i < n; i++) {
        const otel_value *v = &a[i].value;
        b += OTEL__ALIGN8(otel__utf8_need(a[i].key.ptr, a[i].key.len, SIZE_MAX) + 1);
        switch (v->type) {
        case OTEL_VALUE_STRING: b += OTEL__ALIGN8(otel__utf8_need(v->u.s, v->len, SIZE_MAX) + 1); break;
        case OTEL_VALUE_STRING_ARRAY:
            b += OTEL__ALIGN8(v->len * sizeof(char *));
            for (size_t j = 0; j < v->len; j++) {
                otel_str s = otel_value_str_at(v, j);
                b += OTEL__ALIGN8(otel__utf8_need(s.ptr, s.len, SIZE_MAX) + 1);
            }
            break;
        case OTEL_VALUE_BOOL_ARRAY: b += OTEL__ALIGN8(v->len * sizeof(bool)); break;
        case OTEL_VALUE_INT_ARRAY:
        case OTEL_VALUE_DOUBLE_ARRAY: b += v->len * 8; break;
        default: break;
        }
    }
    return b;
}

/* Copies into `mem` (8-aligned, otel__attrs_bytes long), repairing strings to UTF-8. */
static char *otel__str_store(char **mem, const char *s, size_t n, size_t *out_len) {
    char *d = *mem;
    size_t need = otel__utf8_need(s, n, SIZE_MAX);
    size_t w = otel__utf8_copy(d, need, s, n, SIZE_MAX, NULL);
    d[w] = '\0';
    *out_len = w;
    *mem += OTEL__ALIGN8(need + 1);
    return d;
}

static void otel__attrs_store(otel_attr *dst, const otel_attr *src, size_t n, char *mem) {
    for (size_t i = 0; i < n; i++) {
        const otel_value *v = &src[i].value;
        otel_attr a;
        memset(&a, 0, sizeof a);
        a.key.ptr = otel__str_store(&mem, src[i].key.ptr, src[i].key.len, &a.key.len);
        a.value.type = v->type;
        a.value.len = v->len;
        switch (v->type) {
        case OTEL_VALUE_STRING: a.value.u.s = otel__str_store(&mem, v->u.s, v->len, &a.value.len); break;
        case OTEL_VALUE_BOOL: a.value.u.b = v->u.b; break;
        case OTEL_VALUE_INT: a.value.u.i = v->u.i; break;
        case OTEL_VALUE_DOUBLE: a.value.u.d = v->u.d; break;
        case OTEL_VALUE_STRING_ARRAY: {
            const char **arr = (const char **)(void *)mem;
            mem += OTEL__ALIGN8(v->len * sizeof(char *));
            for (size_t j = 0; j < v->len; j++) {
                otel_str s = otel_value_str_at(v, j);
                size_t l;
                arr[j] = otel__str_store(&mem, s.ptr, s.len, &l);
            }
            a.value.u.sa = arr;
            break;
        }
        case OTEL_VALUE_BOOL_ARRAY:
            if (v->len) memcpy(mem, v->u.ba, v->len * sizeof(bool));
            a.value.u.ba = (const bool *)(void *)mem;
            mem += OTEL__ALIGN8(v->len * sizeof(bool));
            break;
        case OTEL_VALUE_INT_ARRAY:
        case OTEL_VALUE_DOUBLE_ARRAY:
            if (v->len) memcpy(mem, v->u.packed, v->len * 8);
            a.value.u.packed = mem;
            mem += v->len * 8;
            break;
        default: break;
        }
        dst[i] = a;
    }
}

/* ---- [metric] part: series ------------------------------------------------------------- */

static inline bool otel__is_hist(const otel_instrument *inst) { return inst->kind == OTEL_INSTRUMENT_HISTOGRAM; }
static inline bool otel__is_async(const otel_instrument *inst) { return inst->kind >= OTEL_INSTRUMENT_OBSERVABLE_COUNTER; }
static inline bool otel__is_gauge(const otel_instrument *inst) {
    return inst->kind == OTEL_INSTRUMENT_GAUGE || inst->kind == OTEL_INSTRUMENT_OBSERVABLE_GAUGE;
}

/* Initial min and max words of a histogram (as the instrument's number type). */
static inline uint64_t otel__mm_init(const otel_instrument *inst, bool max) {
    if (inst->type == OTEL_NUMBER_INT64) return (uint64_t)(max ? INT64_MIN : INT64_MAX);
    return otel__d2u(max ? -INFINITY : INFINITY);
}

/* A new series with a copy of the canonical set a[0..n); not yet visible. */
static otel__series *otel__series_new(otel_instrument *inst, const otel_attr *a, size_t n, uint64_t hash) {
    size_t nb = otel__is_hist(inst) ? inst->nbounds + 1 : 0;
    size_t hot = OTEL__ALIGN8(sizeof(otel__series) + OTEL__CACHE_LINE - 1) / OTEL__CACHE_LINE * OTEL__CACHE_LINE;
    size_t hist_words = nb ? 2 * (1 + (size_t)inst->nd) + nb : 0;
    size_t prev_words = (size_t)inst->nd * (nb ? 1 + nb : 1);
    size_t bytes = hot + (hist_words + prev_words) * 8 + n * sizeof(otel_attr) + otel__attrs_bytes(a, n);
    bytes = (bytes + OTEL__CACHE_LINE - 1) / OTEL__CACHE_LINE * OTEL__CACHE_LINE; /* no line shared with a neighbour */
    void *mem = otel__calloc(bytes + OTEL__CACHE_LINE - 1);
    if (!mem) return NULL;
    unsigned char *base = (unsigned char *)(((uintptr_t)mem + OTEL__CACHE_LINE - 1) & ~(uintptr_t)(OTEL__CACHE_LINE - 1));
    otel__series *s = (otel__series *)(void *)base;
    unsigned char *p = base + hot;
    s->mem = mem;
    s->inst = inst;
    s->hash = hash;
    s->start_ns = otel_now_ns();
    if (nb) {
        s->mm = (_Atomic uint64_t *)(void *)p;
        for (size_t k = 0; k <= inst->nd; k++) {
            atomic_init(&s->mm[2 * k], otel__mm_init(inst, false));
            atomic_init(&s->mm[2 * k + 1], otel__mm_init(inst, true));
        }
        s->buckets = s->mm + 2 * (1 + (size_t)inst->nd);
        p += hist_words * 8;
    }
    s->prev = (uint64_t *)(void *)p;
    p += prev_words * 8;
    otel_attr *attrs = (otel_attr *)(void *)p;
    otel__attrs_store(attrs, a, n, (char *)(attrs + n));
    s->attrs = attrs;
    s->attr_count = (uint32_t)n;
    return s;
}

static otel__stable *otel__table_new(uint32_t size) {
    otel__stable *t = (otel__stable *)otel__calloc(sizeof(otel__stable) + size * sizeof(t->slot[0]));
    if (t) t->mask = size - 1;
    return t;
}

static void otel__table_put(otel__stable *t, otel__series *s) {
    uint32_t i = (uint32_t)s->hash & t->mask;
    while (otel__load_rlx(&t->slot[i])) i = (i + 1) & t->mask;
    otel__store_rel(&t->slot[i], s); /* the series is complete before it is visible */
}

/* Adds `s` to the table and the list. inst->mu held. False: out of memory. */
static bool otel__series_insert(otel_instrument *inst, otel__series *s) {
    otel__stable *t = otel__load_rlx(&inst->table);
    if ((inst->nseries + 1) * 2 > t->mask + 1) {
        otel__stable *nt = otel__table_new((t->mask + 1) * 2);
        if (!nt) return false;
        for (otel__series *x = otel__load_rlx(&inst->head); x; x = otel__load_rlx(&x->next))
            if (!x->overflow) otel__table_put(nt, x);
        nt->retired = t;
        otel__store_rel(&inst->table, nt);
        t = nt;
    }
    otel__table_put(t, s);
    inst->nseries++;
    if (inst->tail) otel__store_rel(&inst->tail->next, s);
    else otel__store_rel(&inst->head, s);
    inst->tail = s;
    return true;
}

/* Finds (under inst->mu) the series of the canonical set a[0..n). */
static otel__series *otel__series_lookup(otel_instrument *inst, const otel_attr *a, size_t n, uint64_t h) {
    otel__stable *t = otel__load_rlx(&inst->table);
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        otel__series *s = otel__load_rlx(&t->slot[i]);
        if (!s) return NULL;
        if (s->hash == h && otel__attrs_match(s, a, n)) return s;
    }
}

/* The overflow series (created once). inst->mu held. */
static otel__series *otel__series_overflow(otel_instrument *inst) {
    if (!inst->overflow) {
        otel_attr a = otel_attr_bool("otel.metric.overflow", true);
        otel__series *s = otel__series_new(inst, &a, 1, 0);
        if (!s) return NULL;
        s->overflow = true;
        inst->overflow = s;
        if (inst->tail) otel__store_rel(&inst->tail->next, s);
        else otel__store_rel(&inst->head, s);
        inst->tail = s;
    }
    return inst->overflow;
}

/* Slow path: canonicalize the set, then find or create its series under the mutex; past the
   cardinality limit, the overflow series. NULL: out of memory (the measurement is dropped). */
static otel__series *otel__series_slow(otel_instrument *inst, const otel_attr *a, size_t n) {
    otel_attr stack[16], *canon = stack, *repaired = NULL;
    bool dropped = false;
    if (!a) n = 0;
    if (n > 16 && !(canon = (otel_attr *)OTEL_MALLOC(n * sizeof *canon, NULL))) return NULL;
    size_t k = otel__attrs_canon(a, n, canon, &dropped);
    if (dropped)
        OTEL__LOG_ONCE(inst->once_attrs, OTEL_LOG_WARN,
                       "instrument '%s': attributes without a key or a value, or beyond %u, were left out (reported once)",
                       inst->name.ptr, (unsigned)OTEL__METRIC_ATTRS_MAX);
    const otel_attr *set = canon;
    if (!otel__attrs_utf8_valid(canon, k)) { /* compare and hash the repaired strings */
        repaired = (otel_attr *)OTEL_MALLOC(k * sizeof(otel_attr) + otel__attrs_bytes(canon, k), NULL);
        if (!repaired) {
            if (canon != stack) OTEL_FREE(canon, NULL);
            return NULL;
        }
        otel__attrs_store(repaired, canon, k, (char *)(repaired + k));
        k = otel__attrs_canon(repaired, k, repaired, &dropped); /* repairing may merge two keys */
        set = repaired;
    }
    uint64_t h = 0;
    otel__set_hash(set, k, &h);
    pthread_mutex_lock(&inst->mu);
    otel__series *s = otel__series_lookup(inst, set, k, h);
    if (!s && inst->nseries + 1 >= inst->limit) {
        s = otel__series_overflow(inst);
        otel__add_rlx(&inst->overflowed, 1);
        OTEL__LOG_ONCE(inst->once_overflow, OTEL_LOG_WARN,
                       "instrument '%s': cardinality limit %u reached; measurements with new attribute sets go to "
                       "the series otel.metric.overflow=true (reported once)", inst->name.ptr, (unsigned)inst->limit);
    } else if (!s) {
        s = otel__series_new(inst, set, k, h);
        if (s && !otel__series_insert(inst, s)) {
            OTEL_FREE(s->mem, NULL);
            s = NULL;
        }
    }
    pthread_mutex_unlock(&inst->mu);
    if (!s) OTEL__LOG_ONCE(inst->once_nomem, OTEL_LOG_ERROR, "instrument '%s': out of memory, measurements dropped",
                           inst->name.ptr);
    if (canon != stack) OTEL_FREE(canon, NULL);
    if (repaired) OTEL_FREE(repaired, NULL);
    return s;
}

/* The series of a[0..n): a lock-free probe, else the slow path. */
static inline otel__series *otel__series_get(otel_instrument *inst, const otel_attr *a, size_t n) {
    uint64_t h;
    if (otel__set_hash(a, n, &h)) {
        otel__stable *t = otel__load_acq(&inst->table);
        for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
            otel__series *s = otel__load_acq(&t->slot[i]);
            if (!s) break;
            if (s->hash == h && otel__attrs_match(s, a, n)) return s;
        }
    }
    return otel__series_slow(inst, a, n);
}

/* ---- [metric] part: recording ----------------------------------------------------------- */

/* After the value changed: tell every delta reader. The value's RMW and this load are both
   seq_cst, the reader's clear and its loads too: either the reader sees the new value or
   this thread sees the cleared bit and sets it again. */
static inline void otel__mark(const otel_instrument *inst, otel__series *s) {
    uint32_t all = inst->dirty_all;
    if (all && atomic_load(&s->dirty) != all) atomic_fetch_or(&s->dirty, all);
}

static inline void otel__add_double(_Atomic uint64_t *w, double v) {
    uint64_t old = otel__load_rlx(w);
    while (!atomic_compare_exchange_weak(w, &old, otel__d2u(otel__u2d(old) + v))) {
    }
}

static inline void otel__min_max(_Atomic uint64_t *mm, bool is_int, int64_t iv, double dv) {
    uint64_t old = otel__load_rlx(&mm[0]);
    if (is_int) {
        while (iv < (int64_t)old && !atomic_compare_exchange_weak(&mm[0], &old, (uint64_t)iv)) {
        }
        old = otel__load_rlx(&mm[1]);
        while (iv > (int64_t)old && !atomic_compare_exchange_weak(&mm[1], &old, (uint64_t)iv)) {
        }
    } else {
        while (dv < otel__u2d(old) && !atomic_compare_exchange_weak(&mm[0], &old, otel__d2u(dv))) {
        }
        old = otel__load_rlx(&mm[1]);
        while (dv > otel__u2d(old) && !atomic_compare_exchange_weak(&mm[1], &old, otel__d2u(dv))) {
        }
    }
}

/* Bucket i counts (bounds[i-1], bounds[i]]; the last one (bounds[n-1], +inf). */
static inline size_t otel__bucket_of(const double *b, size_t n, double v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= b[mid]) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static inline void otel__hist_record(const otel_instrument *inst, otel__series *s, int64_t iv, double dv) {
    bool is_int = inst->type == OTEL_NUMBER_INT64;
    atomic_fetch_add(&s->buckets[otel__bucket_of(inst->bounds, inst->nbounds, is_int ? (double)iv : dv)], 1);
    if (is_int) atomic_fetch_add(&s->v, (uint64_t)iv);
    else otel__add_double(&s->v, dv);
    for (uint32_t k = 0; k <= inst->nd; k++) otel__min_max(&s->mm[2 * k], is_int, iv, dv);
}

static void otel__dropped(void) {
    otel__state *g = otel__g;
    if (g && g->metrics) otel__add_rlx(&g->metrics->dropped, 1);
}

/* Whether a synchronous measurement of `inst` may be recorded (else it is counted and reported once). */
static inline bool otel__measure_ok(otel_instrument *inst, bool negative, bool finite) {
    if (inst->kind >= OTEL_INSTRUMENT_OBSERVABLE_COUNTER) {
        otel__dropped();
        OTEL__LOG_ONCE(inst->once_kind, OTEL_LOG_WARN,
                       "instrument '%s' is observable: record values from its callback with otel_observe_* (ignored; "
                       "reported once)", inst->name.ptr);
        return false;
    }
    if (negative && inst->kind == OTEL_INSTRUMENT_COUNTER) {
        otel__dropped();
        OTEL__LOG_ONCE(inst->once_neg, OTEL_LOG_WARN,
                       "counter '%s': negative value ignored (a Counter only goes up; use an UpDownCounter; reported once)",
                       inst->name.ptr);
        return false;
    }
    if (!finite && inst->kind != OTEL_INSTRUMENT_GAUGE) {
        otel__dropped();
        OTEL__LOG_ONCE(inst->once_nan, OTEL_LOG_WARN, "instrument '%s': NaN or infinite value ignored (reported once)",
                       inst->name.ptr);
        return false;
    }
    return true;
}

/* A double for an int64 instrument: truncated toward zero, clamped to the int64 range; NaN
   (which a gauge or an observation may carry) is 0, not an undefined conversion. */
static inline int64_t otel__d2i(double d) {
    if (d != d) return 0;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
}

static inline void otel__apply(otel_instrument *inst, otel__series *s, int64_t iv, double dv) {
    switch (inst->kind) {
    case OTEL_INSTRUMENT_COUNTER:
    case OTEL_INSTRUMENT_UP_DOWN_COUNTER:
        if (inst->type == OTEL_NUMBER_INT64) atomic_fetch_add(&s->v, (uint64_t)iv);
        else otel__add_double(&s->v, dv);
        break;
    case OTEL_INSTRUMENT_HISTOGRAM: otel__hist_record(inst, s, iv, dv); break;
    case OTEL_INSTRUMENT_GAUGE:
        otel__store_rlx(&s->v, inst->type == OTEL_NUMBER_INT64 ? (uint64_t)iv : otel__d2u(dv));
        otel__store_rlx(&s->t, otel_now_ns());
        break;
    default: return;
    }
    otel__mark(inst, s);
}

OTEL_API void otel_record_int(otel_instrument *inst, int64_t value, const otel_attr *attrs, size_t count) {
    if (!inst || !otel__g || !otel__measure_ok(inst, value < 0, true)) return;
    otel__series *s = otel__series_get(inst, attrs, count);
    if (s) otel__apply(inst, s, value, (double)value);
}

OTEL_API void otel_record_double(otel_instrument *inst, double value, const otel_attr *attrs, size_t count) {
    if (!inst || !otel__g || !otel__measure_ok(inst, value < 0, isfinite(value))) return;
    otel__series *s = otel__series_get(inst, attrs, count);
    if (s) otel__apply(inst, s, otel__d2i(value), value);
}

OTEL_API otel_bound *otel_instrument_bind(otel_instrument *inst, const otel_attr *attrs, size_t count) {
    if (!inst || !otel__g) return NULL;
    if (otel__is_async(inst)) {
        otel__logf(OTEL_LOG_ERROR, "otel_instrument_bind: instrument '%s' is observable; it cannot be bound",
                   inst->name.ptr);
        return NULL;
    }
    return (otel_bound *)otel__series_get(inst, attrs, count);
}

OTEL_API void otel_bound_record_int(otel_bound *b, int64_t value) {
    otel__series *s = (otel__series *)b;
    if (!s || !otel__g || !otel__measure_ok(s->inst, value < 0, true)) return;
    otel__apply(s->inst, s, value, (double)value);
}

OTEL_API void otel_bound_record_double(otel_bound *b, double value) {
    otel__series *s = (otel__series *)b;
    if (!s || !otel__g || !otel__measure_ok(s->inst, value < 0, isfinite(value))) return;
    otel__apply(s->inst, s, otel__d2i(value), value);
}

/* Observable instruments: the callback reports current values (a total for counters). */
static void otel__observe(otel_observer *obs, int64_t iv, double dv, const otel_attr *attrs, size_t count) {
    if (!obs || !obs->inst || obs->round != obs->inst->round) return;
    otel_instrument *inst = obs->inst;
    otel__series *s = otel__series_get(inst, attrs, count);
    if (!s) return;
    otel__store_rlx(&s->v, inst->type == OTEL_NUMBER_INT64 ? (uint64_t)iv : otel__d2u(dv));
    s->round = obs->round; /* collect_mu held by the collection running the callback */
}

OTEL_API void otel_observe_int(otel_observer *obs, int64_t value, const otel_attr *attrs, size_t count) {
    otel__observe(obs, value, (double)value, attrs, count);
}

OTEL_API void otel_observe_double(otel_observer *obs, double value, const otel_attr *attrs, size_t count) {
    otel__observe(obs, otel__d2i(value), value, attrs, count);
}

/* ---- [metric] part: meters and instruments --------------------------------------------- */

static otel_temporality otel__temporality_of(otel_instrument_kind k, otel_temporality_preference p) {
    if (k == OTEL_INSTRUMENT_GAUGE || k == OTEL_INSTRUMENT_OBSERVABLE_GAUGE) return OTEL_TEMPORALITY_UNSPECIFIED;
    /* the presets of the spec's OTLP metric exporter (and the Python SDK's guide) */
    if (p == OTEL_TEMPORALITY_PREF_DELTA &&
        (k == OTEL_INSTRUMENT_COUNTER || k == OTEL_INSTRUMENT_OBSERVABLE_COUNTER || k == OTEL_INSTRUMENT_HISTOGRAM))
        return OTEL_TEMPORALITY_DELTA;
    if (p == OTEL_TEMPORALITY_PREF_LOWMEMORY && (k == OTEL_INSTRUMENT_COUNTER || k == OTEL_INSTRUMENT_HISTOGRAM))
        return OTEL_TEMPORALITY_DELTA;
    return OTEL_TEMPORALITY_CUMULATIVE;
}

OTEL_API otel_meter *otel_meter_get(const char *scope_name, const char *scope_version) {
    otel__state *g = otel__g;
    if (!g || !g->metrics) return NULL;
    otel__metrics *m = g->metrics;
    if (!scope_name) return &m->meters[0];
    pthread_mutex_lock(&m->inst_mu);
    otel_scope *sc = otel__scope_table_get(m->meters, sizeof m->meters[0], &m->nmeters, OTEL__MAX_METERS,
                                           scope_name, scope_version ? scope_version : "");
    pthread_mutex_unlock(&m->inst_mu);
    if (!sc) {
        OTEL__LOG_ONCE(m->once_meters, OTEL_LOG_WARN, "meter '%s': too many meters (%d) or no memory; using the default meter",
                       scope_name, OTEL__MAX_METERS);
        return &m->meters[0];
    }
    return (otel_meter *)sc; /* the scope is the meter's first member */
}

/* The API spec's instrument name syntax: [A-Za-z][A-Za-z0-9_.\-/]{0,254}. */
static bool otel__instrument_name_ok(const char *s) {
    size_t n = otel__strnlen(s, OTEL__METRIC_NAME_MAX + 1);
    if (n == 0 || n > OTEL__METRIC_NAME_MAX) return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-' || c == '/'))
            return false;
    }
    return true;
}

/* A unit: at most 63 printable ASCII characters. */
static bool otel__unit_ok(const char *s) {
    size_t n = otel__strnlen(s, 64);
    if (n > 63) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return false;
    return true;
}

static const char *const otel__instrument_kind_names[] = {"?", "Counter", "UpDownCounter", "Histogram", "Gauge",
                                                          "ObservableCounter", "ObservableUpDownCounter",
                                                          "ObservableGauge"};

/* Checks the desc; NULL when it is fine, else why not. */
static const char *otel__instrument_check(otel_instrument_kind kind, otel_number_type type, const otel_instrument_desc *d) {
    if (kind < OTEL_INSTRUMENT_COUNTER || kind > OTEL_INSTRUMENT_OBSERVABLE_GAUGE) return "unknown instrument kind";
    if (type != OTEL_NUMBER_INT64 && type != OTEL_NUMBER_DOUBLE) return "unknown number type";
    if (!otel__instrument_name_ok(d->name))
        return "invalid name: it must start with a letter and have at most 255 characters of A-Z a-z 0-9 _ . - /";
    if (d->unit && !otel__unit_ok(d->unit)) return "invalid unit: at most 63 printable ASCII characters";
    if (kind >= OTEL_INSTRUMENT_OBSERVABLE_COUNTER && !d->callback) return "an observable instrument needs a callback";
    if (kind == OTEL_INSTRUMENT_HISTOGRAM && d->boundaries) {
        if (d->boundary_count > 4096) return "more than 4096 histogram boundaries";
        for (size_t i = 0; i < d->boundary_count; i++) {
            if (!isfinite(d->boundaries[i])) return "histogram boundaries must be finite";
            if (i && !(d->boundaries[i] > d->boundaries[i - 1])) return "histogram boundaries must be strictly increasing";
        }
    }
    return NULL;
}

static bool otel__str_eq0(otel_str a, const char *b) {
    b = b ? b : "";
    return a.len == strlen(b) && memcmp(a.ptr, b, a.len) == 0;
}

/* An existing instrument of `meter` with this name (case-insensitive, as the spec says). inst_mu held. */
static otel_instrument *otel__instrument_find(otel__metrics *m, otel_meter *meter, const char *name,
                                             otel_instrument_kind kind, otel_number_type type, bool *conflict) {
    size_t n = strlen(name);
    *conflict = false;
    for (otel_instrument *i = otel__load_rlx(&m->head); i; i = otel__load_rlx(&i->next)) {
        if (i->meter != meter || !otel__eq_nocase(i->name.ptr, i->name.len, name) || n != i->name.len) continue;
        if (i->kind == kind && i->type == type) return i;
        *conflict = true;
    }
    return NULL;
}

static void otel__instrument_free(otel_instrument *inst) {
    otel__series *s = otel__load_rlx(&inst->head);
    while (s) {
        otel__series *next = otel__load_rlx(&s->next);
        OTEL_FREE(s->mem, NULL);
        s = next;
    }
    otel__stable *t = otel__load_rlx(&inst->table);
    while (t) {
        otel__stable *older = t->retired;
        OTEL_FREE(t, NULL);
        t = older;
    }
    pthread_mutex_destroy(&inst->mu);
    OTEL_FREE(inst, NULL);
}

static otel_instrument *otel__instrument_new(otel__metrics *m, otel_meter *meter, otel_instrument_kind kind,
                                             otel_number_type type, const otel_instrument_desc *d) {
    const char *unit = d->unit ? d->unit : "", *desc = d->description ? d->description : "";
    bool hist = kind == OTEL_INSTRUMENT_HISTOGRAM;
    const double *bounds = hist ? (d->boundaries ? d->boundaries : otel__default_bounds) : NULL;
    size_t nb = hist ? (d->boundaries ? d->boundary_count : 15) : 0;
    size_t ln = strlen(d->name), lu = strlen(unit), ldesc = strlen(desc);
    size_t bytes = OTEL__ALIGN8(sizeof(otel_instrument)) + nb * sizeof(double) + ln + lu + ldesc + 3;
    otel_instrument *inst = (otel_instrument *)otel__calloc(bytes);
    otel__stable *t = otel__table_new(16);
    if (!inst || !t) {
        OTEL_FREE(inst, NULL);
        OTEL_FREE(t, NULL);
        return NULL;
    }
    double *bcopy = (double *)(void *)((char *)inst + OTEL__ALIGN8(sizeof(otel_instrument)));
    char *str = (char *)(bcopy + nb);
    if (nb) memcpy(bcopy, bounds, nb * sizeof(double));
    inst->kind = kind;
    inst->type = type;
    inst->bounds = bcopy;
    inst->nbounds = (uint32_t)nb;
    inst->limit = d->cardinality_limit ? d->cardinality_limit : OTEL__DEFAULT_CARDINALITY;
    for (uint32_t r = 0; r < OTEL_MAX_READERS; r++) {
        inst->dslot[r] = -1;
        if (r < m->nreaders && otel__temporality_of(kind, m->readers[r]->pref) == OTEL_TEMPORALITY_DELTA)
            inst->dslot[r] = (int8_t)inst->nd++;
    }
    if (kind <= OTEL_INSTRUMENT_GAUGE && inst->nd) inst->dirty_all = (1u << inst->nd) - 1;
    atomic_init(&inst->table, t);
    pthread_mutex_init(&inst->mu, NULL);
    inst->meter = meter;
    memcpy(str, d->name, ln + 1);
    inst->name.ptr = str; inst->name.len = ln;
    memcpy(str + ln + 1, unit, lu + 1);
    inst->unit.ptr = str + ln + 1; inst->unit.len = lu;
    memcpy(str + ln + lu + 2, desc, ldesc + 1);
    inst->description.ptr = str + ln + lu + 2; inst->description.len = ldesc;
    inst->cb = d->callback;
    inst->cb_user = d->callback_user;
    return inst;
}

OTEL_API otel_instrument *otel_instrument_create(otel_meter *meter, otel_instrument_kind kind, otel_number_type type,
                                                 const otel_instrument_desc *desc) {
    otel__state *g = otel__g;
    if (!g || !g->metrics) return NULL;
    otel__metrics *m = g->metrics;
    if (!meter) meter = &m->meters[0];
    if (!desc || !desc->name) {
        otel__logf(OTEL_LOG_ERROR, "otel_instrument_create: an instrument needs a name");
        return NULL;
    }
    const char *why = otel__instrument_check(kind, type, desc);
    if (why) {
        otel__logf(OTEL_LOG_ERROR, "otel_instrument_create: instrument '%.300s': %s; it records nothing", desc->name, why);
        return NULL;
    }
    bool conflict;
    pthread_mutex_lock(&m->inst_mu);
    otel_instrument *inst = otel__instrument_find(m, meter, desc->name, kind, type, &conflict);
    if (inst) {
        bool same = otel__str_eq0(inst->unit, desc->unit) && otel__str_eq0(inst->description, desc->description);
        if (kind == OTEL_INSTRUMENT_HISTOGRAM && desc->boundaries)
            same = same && inst->nbounds == desc->boundary_count &&
                   (!inst->nbounds || memcmp(inst->bounds, desc->boundaries, inst->nbounds * sizeof(double)) == 0);
        if (kind >= OTEL_INSTRUMENT_OBSERVABLE_COUNTER)
            same = same && inst->cb == desc->callback && inst->cb_user == desc->callback_user;
        pthread_mutex_unlock(&m->inst_mu);
        if (!same)
            otel__logf(OTEL_LOG_WARN, "instrument '%s' already exists with another unit, description, boundaries or "
                       "callback; the first one is used", desc->name);
        return inst;
    }
    if (conflict)
        otel__logf(OTEL_LOG_WARN, "instrument '%s' already exists as another kind or number type; both are kept and "
                   "exported under the same name", desc->name);
    inst = otel__instrument_new(m, meter, kind, type, desc);
    if (inst) {
        if (m->tail) otel__store_rel(&m->tail->next, inst);
        else otel__store_rel(&m->head, inst);
        m->tail = inst;
    }
    pthread_mutex_unlock(&m->inst_mu);
    if (!inst) otel__logf(OTEL_LOG_ERROR, "otel_instrument_create: out of memory");
    return inst;
}

/* ---- [metric] part: collection ---------------------------------------------------------- */

/* `p` with room for `need` elements (contents kept); NULL when out of memory (p unchanged). */
static void *otel__grow(void *p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return p;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *np = OTEL_MALLOC(nc * elem, NULL);
    if (!np) return NULL;
    if (p) {
        memcpy(np, p, *cap * elem);
        OTEL_FREE(p, NULL);
    }
    *cap = nc;
    return np;
}

/* Histogram part of a point: bucket counts into bk. False: nothing to report. */
static bool otel__hist_point(otel_instrument *inst, otel__series *s, int slot, otel_metric_point *p, uint64_t *bk) {
    bool is_int = inst->type == OTEL_NUMBER_INT64;
    size_t nb = inst->nbounds + 1;
    uint64_t mn, mx, v, count = 0, init_min = otel__mm_init(inst, false), init_max = otel__mm_init(inst, true);
    double sum;
    if (slot >= 0) {
        uint64_t *prev = s->prev + (size_t)slot * (1 + nb);
        /* min/max first: every measurement they saw has its bucket counted below */
        mn = atomic_exchange(&s->mm[2 + 2 * slot], init_min);
        mx = atomic_exchange(&s->mm[3 + 2 * slot], init_max);
        for (size_t i = 0; i < nb; i++) {
            uint64_t c = atomic_load(&s->buckets[i]);
            bk[i] = c - prev[1 + i];
            prev[1 + i] = c;
            count += bk[i];
        }
        v = atomic_load(&s->v);
        sum = is_int ? (double)(int64_t)(v - prev[0]) : otel__u2d(v) - otel__u2d(prev[0]);
        prev[0] = v;
    } else {
        mn = atomic_load(&s->mm[0]);
        mx = atomic_load(&s->mm[1]);
        for (size_t i = 0; i < nb; i++) count += bk[i] = atomic_load(&s->buckets[i]);
        v = atomic_load(&s->v);
        sum = is_int ? (double)(int64_t)v : otel__u2d(v);
    }
    if (!count) return false;
    p->count = count;
    p->sum = sum;
    if (mn == init_min || mx == init_max) { /* a measurement in flight: its min/max come next time */
        p->min = p->max = sum / (double)count;
    } else {
        p->min = is_int ? (double)(int64_t)mn : otel__u2d(mn);
        p->max = is_int ? (double)(int64_t)mx : otel__u2d(mx);
    }
    p->bucket_count = nb;
    return true;
}

/* The point of series `s` for reader `r` (delta slot `slot`, -1: cumulative). False: none
   this time (no measurement since this delta reader's last collection, not observed). */
static bool otel__point(otel__reader *r, otel_instrument *inst, otel__series *s, int slot, uint64_t now,
                        otel_metric_point *p, uint64_t *bk) {
    bool is_int = inst->type == OTEL_NUMBER_INT64;
    memset(p, 0, sizeof *p);
    p->attrs = s->attrs;
    p->attr_count = s->attr_count;
    p->time_ns = now;
    if (otel__is_async(inst)) {
        if (s->round != inst->round) return false;
    } else if (slot >= 0) {
        uint32_t bit = 1u << slot;
        if (!(atomic_fetch_and(&s->dirty, ~bit) & bit)) return false;
    }
    if (otel__is_gauge(inst)) {
        uint64_t v = otel__load_rlx(&s->v);
        if (is_int) p->value.i = (int64_t)v;
        else p->value.d = otel__u2d(v);
        if (inst->kind == OTEL_INSTRUMENT_GAUGE) p->time_ns = otel__load_rlx(&s->t);
        return true;
    }
    /* A series created after this collection's clock read (by an observation in a callback,
       or a measurement racing the collection) starts no later than the point's time. All
       readers of start_ns hold collect_mu. */
    if (s->start_ns > now) s->start_ns = now;
    p->start_time_ns = slot >= 0 ? r->last_ns : s->start_ns;
    if (otel__is_hist(inst)) return otel__hist_point(inst, s, slot, p, bk);
    uint64_t v = atomic_load(&s->v);
    if (slot >= 0) { /* delta: what changed since this reader's last collection */
        uint64_t pv = s->prev[slot];
        s->prev[slot] = v;
        if (is_int) p->value.i = (int64_t)(v - pv);
        else p->value.d = otel__u2d(v) - otel__u2d(pv);
    } else if (is_int) {
        p->value.i = (int64_t)v;
    } else {
        p->value.d = otel__u2d(v);
    }
    return true;
}

static void otel__metric_fill(otel_metric_data *md, const otel_instrument *inst, int slot) {
    memset(md, 0, sizeof *md);
    md->name = inst->name;
    md->description = inst->description;
    md->unit = inst->unit;
    md->scope = &inst->meter->scope;
    md->instrument_kind = inst->kind;
    md->number_type = inst->type;
    md->type = otel__is_hist(inst) ? OTEL_METRIC_HISTOGRAM : otel__is_gauge(inst) ? OTEL_METRIC_GAUGE : OTEL_METRIC_SUM;
    md->monotonic = inst->kind == OTEL_INSTRUMENT_COUNTER || inst->kind == OTEL_INSTRUMENT_OBSERVABLE_COUNTER;
    if (md->type != OTEL_METRIC_GAUGE) md->temporality = slot >= 0 ? OTEL_TEMPORALITY_DELTA : OTEL_TEMPORALITY_CUMULATIVE;
    if (md->type == OTEL_METRIC_HISTOGRAM) {
        md->boundaries = inst->bounds;
        md->boundary_count = inst->nbounds;
    }
}

/* Collects reader `r` into its scratch arrays; `out` is valid until the next collection.
   r->mu held. Runs the observable callbacks. */
static otel_result otel__collect(otel__reader *r, otel_metric_batch *out) {
    otel__metrics *m = r->g->metrics;
    size_t nmd = 0, npt = 0, nw = 0;
    bool oom = false;
    void *np;
    pthread_mutex_lock(&m->collect_mu);
    uint64_t now = otel_now_ns();
    uint32_t nmeters = otel__load_acq(&m->nmeters);
    for (uint32_t mi = 0; mi < nmeters && !oom; mi++) { /* a scope's metrics stay adjacent */
        for (otel_instrument *inst = otel__load_acq(&m->head); inst && !oom; inst = otel__load_acq(&inst->next)) {
            if (inst->meter != &m->meters[mi]) continue;
            if (inst->cb) {
                otel_observer obs;
                obs.inst = inst;
                obs.round = ++inst->round;
                inst->cb(&obs, inst->cb_user);
            }
            int slot = inst->dslot[r->index];
            size_t first = npt, nb = otel__is_hist(inst) ? inst->nbounds + 1 : 0;
            for (otel__series *s = otel__load_acq(&inst->head); s; s = otel__load_acq(&s->next)) {
                if (!(np = otel__grow(r->pts, &r->pt_cap, npt + 1, sizeof *r->pts))) { oom = true; break; }
                r->pts = (otel_metric_point *)np;
                if (!(np = otel__grow(r->words, &r->w_cap, nw + nb + 1, 8))) { oom = true; break; }
                r->words = (uint64_t *)np;
                otel_metric_point *p = &r->pts[npt];
                if (!otel__point(r, inst, s, slot, now, p, r->words + nw)) continue;
                if (nb) {
                    p->bucket_counts = (const uint64_t *)(uintptr_t)nw; /* an offset until the arrays stop moving */
                    nw += nb;
                }
                npt++;
            }
            if (npt == first) continue;
            if (!(np = otel__grow(r->md, &r->md_cap, nmd + 1, sizeof *r->md))) {
                oom = true;
                npt = first;
                break;
            }
            r->md = (otel_metric_data *)np;
            otel__metric_fill(&r->md[nmd], inst, slot);
            r->md[nmd].points = (const otel_metric_point *)(uintptr_t)first;
            r->md[nmd].point_count = npt - first;
            nmd++;
        }
    }
    pthread_mutex_unlock(&m->collect_mu);
    r->last_ns = now;
    for (size_t i = 0; i < nmd; i++) {
        otel_metric_data *md = &r->md[i];
        otel_metric_point *pts = r->pts + (uintptr_t)md->points;
        md->points = pts;
        if (md->type == OTEL_METRIC_HISTOGRAM)
            for (size_t k = 0; k < md->point_count; k++) pts[k].bucket_counts = r->words + (uintptr_t)pts[k].bucket_counts;
    }
    out->metrics = r->md;
    out->count = nmd;
    out->resource = &r->g->resource;
    out->timeout_ms = r->d.export_timeout_ms;
    otel__add_rlx(&r->collections, 1);
    if (oom) OTEL__LOG_ONCE(r->once_nomem, OTEL_LOG_ERROR, "reader '%s': out of memory while collecting; points left out",
                            r->name);
    return oom ? OTEL_ERR_NO_MEMORY : OTEL_OK;
}

static size_t otel__batch_points(const otel_metric_batch *b) {
    size_t n = 0;
    for (size_t i = 0; i < b->count; i++) n += b->metrics[i].point_count;
    return n;
}

/* PERIODIC: one collection and its export (empty collections are not exported). */
static void otel__reader_export(otel__reader *r) {
    otel_metric_batch b;
    pthread_mutex_lock(&r->mu);
    otel__collect(r, &b);
    if (b.count && !r->tainted) {
        size_t n = otel__batch_points(&b);
        bool ok = r->d.exporter.export_metrics(&b, r->d.exporter.user) == OTEL_EXPORT_SUCCESS;
        otel__add_rlx(ok ? &r->exported : &r->failed, n);
        if (!ok)
            OTEL__LOG_ONCE(r->once_fail, OTEL_LOG_WARN, "metric reader '%s': exporter failed a collection of %u points "
                           "(reported once)", r->name, (unsigned)n);
    }
    pthread_mutex_unlock(&r->mu);
}

static void otel__state_destroy(otel__state *g);

static void *otel__reader_main(void *arg) {
    otel__reader *r = (otel__reader *)arg;
    otel__state *g = r->g;
    uint64_t next = otel__mono_ms() + r->d.export_interval_ms, seen;
    pthread_mutex_lock(&r->ctl_mu);
    seen = r->flush_done; /* not flush_req: a flush asked before this thread ran still counts */
    for (;;) {
        while (!r->stop && r->flush_req == seen) {
            uint64_t now = otel__mono_ms();
            if (now >= next) break;
            struct timespec ts = otel__abstime((uint32_t)(next - now));
            pthread_cond_timedwait(&r->cv, &r->ctl_mu, &ts);
        }
        bool stop = r->stop;
        uint64_t flush = r->flush_req;
        pthread_mutex_unlock(&r->ctl_mu);
        otel__reader_export(r);
        next = otel__mono_ms() + r->d.export_interval_ms;
        if (flush != seen) {
            seen = flush;
            pthread_mutex_lock(&r->mu);
            if (r->d.exporter.force_flush && !r->tainted)
                r->d.exporter.force_flush(r->d.export_timeout_ms, r->d.exporter.user);
            pthread_mutex_unlock(&r->mu);
            pthread_mutex_lock(&g->flush_mu);
            r->flush_done = flush;
            pthread_cond_broadcast(&g->flush_cv);
            pthread_mutex_unlock(&g->flush_mu);
        }
        pthread_mutex_lock(&r->ctl_mu);
        if (stop) break;
    }
    pthread_mutex_unlock(&r->ctl_mu);
    pthread_mutex_lock(&g->flush_mu); /* from here on otel_shutdown no longer calls cancel */
    r->in_shutdown = true;
    pthread_mutex_unlock(&g->flush_mu);
    if (r->tainted) {
        otel__exp_release(&g->xrefs, &r->d.exporter, 0, true);
    } else if (r->d.exporter.shutdown) {
        uint64_t now = otel__mono_ms();
        pthread_mutex_lock(&r->mu);
        otel__exp_release(&g->xrefs, &r->d.exporter, r->shutdown_at > now ? (uint32_t)(r->shutdown_at - now) : 1, false);
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_lock(&g->flush_mu);
    r->exited = true;
    bool last = g->abandoned && --g->abandoned == 0;
    pthread_cond_broadcast(&g->flush_cv);
    pthread_mutex_unlock(&g->flush_mu);
    if (last) otel__state_destroy(g); /* abandoned by otel_shutdown, and the last one out */
    return NULL;
}

/* PROMETHEUS: one scrape's text (the reader is cumulative). Runs on the server's thread. */
static bool otel__prom_format_buf(otel__buf *b, const otel_metric_batch *batch);

static bool otel__reader_produce(otel__buf *b, void *user) {
    otel__reader *r = (otel__reader *)user;
    otel_metric_batch batch;
    pthread_mutex_lock(&r->mu);
    bool ok = otel__collect(r, &batch) == OTEL_OK && otel__prom_format_buf(b, &batch);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

OTEL_API otel_result otel_metrics_collect(size_t reader, otel_metrics_collect_fn fn, void *user) {
    otel__state *g = otel__g;
    if (!g || g->shut || !g->metrics) return OTEL_ERR_STATE;
    otel__metrics *m = g->metrics;
    if (!fn || reader >= m->nreaders) return OTEL_ERR_INVALID_ARG;
    otel__reader *r = m->readers[reader];
    otel_metric_batch b;
    pthread_mutex_lock(&r->mu);
    otel_result res = otel__collect(r, &b);
    fn(&b, user);
    pthread_mutex_unlock(&r->mu);
    return res;
}

/* ---- [metric] part: JSON (console exporter, OTLP/JSON) ------------------------------------ */

/* Re-indents compact JSON s[0..n) the way Python's json.dumps(indent=4) writes it. */
static void otel__json_pretty(otel__buf *o, const char *s, size_t n) {
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        switch (c) {
        case '"': {
            size_t j = i + 1;
            while (j < n && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
            otel__buf_put(o, s + i, (j < n ? j + 1 : n) - i);
            i = j;
            break;
        }
        case '{':
        case '[':
            if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
                otel__buf_put(o, s + i, 2);
                i++;
                break;
            }
            otel__buf_putc(o, c);
            otel__json_nl(o, ++depth);
            break;
        case '}':
        case ']':
            otel__json_nl(o, --depth);
            otel__buf_putc(o, c);
            break;
        case ',':
            otel__buf_putc(o, ',');
            otel__json_nl(o, depth);
            break;
        case ':': otel__buf_puts(o, ": "); break;
        default: otel__buf_putc(o, c); break;
        }
    }
}

/* A number of the metric's type: int64 as a JSON number (console) or string (OTLP). */
static void otel__json_number(otel__buf *b, const otel_metric_data *md, const otel_metric_point *p, bool otlp) {
    if (md->number_type == OTEL_NUMBER_INT64) otel__buf_printf(b, otlp ? "\"%lld\"" : "%lld", (long long)p->value.i);
    else otel__buf_json_double(b, p->value.d);
}

static void otel__console_attr_map(otel__buf *b, const otel_attr *a, size_t n) {
    otel__buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) otel__buf_putc(b, ',');
        otel__buf_json_str(b, a[i].key.ptr, a[i].key.len);
        otel__buf_putc(b, ':');
        otel__json_value(b, &a[i].value, false);
    }
    otel__buf_putc(b, '}');
}

static void otel__console_metric(otel__buf *b, const otel_metric_data *md) {
    otel__buf_puts(b, "{\"name\":");
    otel__buf_json_str(b, md->name.ptr, md->name.len);
    otel__buf_puts(b, ",\"description\":");
    otel__buf_json_str(b, md->description.ptr, md->description.len);
    otel__buf_puts(b, ",\"unit\":");
    otel__buf_json_str(b, md->unit.ptr, md->unit.len);
    otel__buf_puts(b, ",\"data\":{\"data_points\":[");
    for (size_t k = 0; k < md->point_count; k++) {
        const otel_metric_point *p = &md->points[k];
        if (k) otel__buf_putc(b, ',');
        otel__buf_puts(b, "{\"attributes\":");
        otel__console_attr_map(b, p->attrs, p->attr_count);
        otel__buf_printf(b, ",\"start_time_unix_nano\":%llu,\"time_unix_nano\":%llu,",
                         (unsigned long long)p->start_time_ns, (unsigned long long)p->time_ns);
        if (md->type == OTEL_METRIC_HISTOGRAM) {
            otel__buf_printf(b, "\"count\":%llu,\"sum\":", (unsigned long long)p->count);
            otel__buf_json_double(b, p->sum);
            otel__buf_puts(b, ",\"bucket_counts\":[");
            for (size_t i = 0; i < p->bucket_count; i++)
                otel__buf_printf(b, i ? ",%llu" : "%llu", (unsigned long long)p->bucket_counts[i]);
            otel__buf_puts(b, "],\"explicit_bounds\":[");
            for (size_t i = 0; i < md->boundary_count; i++) {
                if (i) otel__buf_putc(b, ',');
                otel__buf_json_double(b, md->boundaries[i]);
            }
            otel__buf_puts(b, "],\"min\":");
            otel__buf_json_double(b, p->min);
            otel__buf_puts(b, ",\"max\":");
            otel__buf_json_double(b, p->max);
        } else {
            otel__buf_puts(b, "\"value\":");
            otel__json_number(b, md, p, false);
        }
        otel__buf_puts(b, ",\"exemplars\":[]}");
    }
    otel__buf_putc(b, ']');
    if (md->type != OTEL_METRIC_GAUGE) otel__buf_printf(b, ",\"aggregation_temporality\":%d", (int)md->temporality);
    if (md->type == OTEL_METRIC_SUM) otel__buf_printf(b, ",\"is_monotonic\":%s", md->monotonic ? "true" : "false");
    otel__buf_puts(b, "}}");
}

/* The Python SDK's MetricsData.to_json() shape, compact. */
static const otel_scope *otel__metric_scope_at(const void *batch, size_t i) {
    return ((const otel_metric_batch *)batch)->metrics[i].scope;
}
static void otel__console_metric_at(otel__buf *b, const void *batch, size_t i) {
    otel__console_metric(b, &((const otel_metric_batch *)batch)->metrics[i]);
}

static void otel__console_metrics(otel__buf *b, const otel_metric_batch *batch) {
    const otel_resource *res = batch->resource;
    otel__buf_puts(b, "{\"resource_metrics\":[{\"resource\":{\"attributes\":");
    otel__console_attr_map(b, res ? res->attrs : NULL, res ? res->count : 0);
    otel__buf_puts(b, ",\"schema_url\":\"\"},\"scope_metrics\":[");
    otel__json_by_scope(b, batch, batch->count, otel__metric_scope_at, ",\"schema_url\":\"\",\"attributes\":null},\"metrics\":[",
                        otel__console_metric_at, "],\"schema_url\":\"\"}");
    otel__buf_puts(b, "],\"schema_url\":\"\"}]}");
}

static otel_export_result otel__console_export_metrics(const otel_metric_batch *batch, void *user) {
    otel__console *c = (otel__console *)user;
    otel__buf tmp, out;
    memset(&tmp, 0, sizeof tmp);
    memset(&out, 0, sizeof out);
    otel__console_metrics(&tmp, batch);
    if (c->format == OTEL_CONSOLE_COMPACT) {
        out = tmp;
        memset(&tmp, 0, sizeof tmp);
    } else if (!tmp.failed) {
        otel__json_pretty(&out, tmp.p, tmp.len);
    }
    otel__buf_putc(&out, '\n');
    bool ok = !tmp.failed && !out.failed && fwrite(out.p, 1, out.len, c->out) == out.len;
    ok = fflush(c->out) == 0 && ok;
    otel__buf_free(&tmp);
    otel__buf_free(&out);
    return ok ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

static void otel__otlp_attr_array(otel__buf *b, const otel_attr *a, size_t n) {
    otel__buf_puts(b, "\"attributes\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) otel__buf_putc(b, ',');
        otel__buf_puts(b, "{\"key\":");
        otel__buf_json_str(b, a[i].key.ptr, a[i].key.len);
        otel__buf_puts(b, ",\"value\":");
        otel__json_value(b, &a[i].value, true);
        otel__buf_putc(b, '}');
    }
    otel__buf_putc(b, ']');
}

static void otel__otlp_metric(otel__buf *b, const otel_metric_data *md) {
    static const char *const kinds[] = {"", "sum", "gauge", "histogram"};
    otel__buf_puts(b, "{\"name\":");
    otel__buf_json_str(b, md->name.ptr, md->name.len);
    otel__buf_puts(b, ",\"description\":");
    otel__buf_json_str(b, md->description.ptr, md->description.len);
    otel__buf_puts(b, ",\"unit\":");
    otel__buf_json_str(b, md->unit.ptr, md->unit.len);
    otel__buf_printf(b, ",\"%s\":{\"dataPoints\":[", kinds[md->type <= OTEL_METRIC_HISTOGRAM ? md->type : 1]);
    for (size_t k = 0; k < md->point_count; k++) {
        const otel_metric_point *p = &md->points[k];
        if (k) otel__buf_putc(b, ',');
        otel__buf_putc(b, '{');
        otel__otlp_attr_array(b, p->attrs, p->attr_count);
        if (p->start_time_ns) otel__buf_printf(b, ",\"startTimeUnixNano\":\"%llu\"", (unsigned long long)p->start_time_ns);
        otel__buf_printf(b, ",\"timeUnixNano\":\"%llu\",", (unsigned long long)p->time_ns);
        if (md->type == OTEL_METRIC_HISTOGRAM) {
            otel__buf_printf(b, "\"count\":\"%llu\",\"sum\":", (unsigned long long)p->count);
            otel__buf_json_double(b, p->sum);
            otel__buf_puts(b, ",\"bucketCounts\":[");
            for (size_t i = 0; i < p->bucket_count; i++)
                otel__buf_printf(b, i ? ",\"%llu\"" : "\"%llu\"", (unsigned long long)p->bucket_counts[i]);
            otel__buf_puts(b, "],\"explicitBounds\":[");
            for (size_t i = 0; i < md->boundary_count; i++) {
                if (i) otel__buf_putc(b, ',');
                otel__buf_json_double(b, md->boundaries[i]);
            }
            otel__buf_putc(b, ']');
            if (p->count) {
                otel__buf_puts(b, ",\"min\":");
                otel__buf_json_double(b, p->min);
                otel__buf_puts(b, ",\"max\":");
                otel__buf_json_double(b, p->max);
            }
        } else {
            otel__buf_puts(b, md->number_type == OTEL_NUMBER_INT64 ? "\"asInt\":" : "\"asDouble\":");
            otel__json_number(b, md, p, true);
        }
        otel__buf_putc(b, '}');
    }
    otel__buf_putc(b, ']');
    if (md->type != OTEL_METRIC_GAUGE) otel__buf_printf(b, ",\"aggregationTemporality\":%d", (int)md->temporality);
    if (md->type == OTEL_METRIC_SUM) otel__buf_printf(b, ",\"isMonotonic\":%s", md->monotonic ? "true" : "false");
    otel__buf_puts(b, "}}");
}

static void otel__otlp_metric_at(otel__buf *b, const void *batch, size_t i) {
    otel__otlp_metric(b, &((const otel_metric_batch *)batch)->metrics[i]);
}

/* One OTLP/JSON ExportMetricsServiceRequest for the batch (no newline), metrics grouped by
   scope in first-seen order. The conventions of otel__otlp_json_traces: lowerCamelCase
   names, 64-bit integers as strings, enums as numbers. otel_otlp.h sends it for metrics
   with http/json; unused by otel.h itself. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((unused))
#endif
#define OTEL__HAVE_JSON_METRICS 1
static void otel__json_metrics_request(otel__buf *b, const otel_metric_batch *batch) {
    otel__buf_puts(b, "{\"resourceMetrics\":[");
    otel__otlp_resource(b, batch->resource);
    otel__buf_puts(b, ",\"scopeMetrics\":[");
    otel__json_by_scope(b, batch, batch->count, otel__metric_scope_at, "},\"metrics\":[", otel__otlp_metric_at, "]}");
    otel__buf_puts(b, "]}]}");
}

/* ---- [metric] part: exporters by name ---------------------------------------------------- */

static otel_export_result otel__none_export_metrics(const otel_metric_batch *batch, void *user) {
    (void)batch;
    (void)user;
    return OTEL_EXPORT_SUCCESS;
}

/* Names otel.h knows for metrics (after the registered factories): console, none. */
static otel_result otel__metric_exporter_by_name(const char *name, size_t n, otel_exporter *out) {
#define OTEL__IS(s) (n == sizeof(s) - 1 && otel__eq_nocase(name, n, s))
    if (OTEL__IS("console")) return otel_console_exporter_create(NULL, out);
    if (OTEL__IS("none")) {
        out->export_metrics = otel__none_export_metrics;
        out->name = "none";
        return OTEL_OK;
    }
    if (OTEL__IS("prometheus")) {
        otel__logf(OTEL_LOG_ERROR, "'prometheus' is a pull reader, not an exporter: use a reader of kind "
                   "OTEL_READER_PROMETHEUS, or OTEL_METRICS_EXPORTER=prometheus");
        return OTEL_ERR_INVALID_ARG;
    }
    if (OTEL__IS("otlp")) {
        otel__logf(OTEL_LOG_ERROR, "metric exporter 'otlp' is not built in: compile otel_otlp.h with "
                   "OTEL_OTLP_IMPLEMENTATION in the same program");
        return OTEL_ERR_NOT_BUILT;
    }
#undef OTEL__IS
    otel__logf(OTEL_LOG_ERROR, "unknown metric exporter '%.*s' (known: console, none, otlp, prometheus)", (int)n, name);
    return OTEL_ERR_UNKNOWN;
}

/* ---- [metric] part: setup ------------------------------------------------------------- */

static const char *const otel__temporality_names[] = {"", "cumulative", "delta", "lowmemory"};

/* OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE (the spec's name, wins), else
   OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE (the Python guide's name). */
static otel_temporality_preference otel__env_temporality(void) {
    const char *var = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", *v = otel__env(var), *t;
    if (!v) v = otel__env(var = "OTEL_EXPORTER_METRICS_TEMPORALITY_PREFERENCE");
    if (!v) return OTEL_TEMPORALITY_PREF_CUMULATIVE;
    size_t n = strlen(v);
    t = otel__trim(v, &n);
    for (int i = 1; i <= 3; i++)
        if (otel__eq_nocase(t, n, otel__temporality_names[i])) return (otel_temporality_preference)i;
    otel__logf(OTEL_LOG_WARN, "%s=\"%.100s\" is not CUMULATIVE, DELTA or LOWMEMORY; using CUMULATIVE", var, v);
    return OTEL_TEMPORALITY_PREF_CUMULATIVE;
}

static void otel__reader_release(otel__exp_refs *t, const otel_reader_desc *d) {
    otel__exp_release(t, &d->exporter, 0, false);
}

/* Copies s into out[256], or def; a too long value is a warning. */
static void otel__copy_setting(char *out, const char *s, const char *def, const char *what) {
    if (!s) s = def;
    if (strlen(s) > 255) {
        otel__logf(OTEL_LOG_WARN, "%s is longer than 255 characters; using \"%s\"", what, def);
        s = def;
    }
    snprintf(out, 256, "%s", s);
}

/* What the environment says for every reader (read once by otel__metrics_setup). */
typedef struct otel__reader_env {
    otel_temporality_preference pref;
    uint32_t interval_ms, timeout_ms;
} otel__reader_env;

static void otel__reader_add(otel__state *g, const otel_reader_desc *in, const char *name, const otel__reader_env *env) {
    otel__metrics *m = g->metrics;
    const char *why = NULL;
    if (m->nreaders == OTEL_MAX_READERS) why = "too many readers (OTEL_MAX_READERS)";
    else if (in->kind < OTEL_READER_PERIODIC || in->kind > OTEL_READER_MANUAL) why = "unknown reader kind";
    else if (in->kind == OTEL_READER_PERIODIC && !in->exporter.export_metrics)
        why = "a periodic reader needs an exporter with export_metrics";
    else if ((unsigned)in->temporality > OTEL_TEMPORALITY_PREF_LOWMEMORY) why = "unknown temporality preference";
    otel__reader *r = why ? NULL : (otel__reader *)otel__calloc(sizeof *r);
    if (!r) {
        otel__logf(OTEL_LOG_ERROR, "metric reader '%s': %s; left out", name ? name : "custom", why ? why : "out of memory");
        otel__reader_release(&g->xrefs, in);
        return;
    }
    r->g = g;
    r->d = *in;
    r->index = m->nreaders;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "custom");
    r->pref = in->temporality ? in->temporality : env->pref;
    r->d.export_timeout_ms = in->export_timeout_ms ? in->export_timeout_ms : env->timeout_ms;
    if (in->kind == OTEL_READER_PERIODIC) {
        r->d.export_interval_ms = in->export_interval_ms ? in->export_interval_ms : env->interval_ms;
    } else if (in->kind == OTEL_READER_PROMETHEUS) {
        if (in->temporality && in->temporality != OTEL_TEMPORALITY_PREF_CUMULATIVE)
            otel__logf(OTEL_LOG_WARN, "metric reader '%s': Prometheus is always cumulative; temporality ignored", r->name);
        r->pref = OTEL_TEMPORALITY_PREF_CUMULATIVE;
        otel__copy_setting(r->host, in->host ? in->host : otel__env("OTEL_EXPORTER_PROMETHEUS_HOST"), "localhost",
                           "Prometheus host");
        uint32_t port = in->port;
        if (!port) port = otel__env_u32("OTEL_EXPORTER_PROMETHEUS_PORT", 9464);
        if (port == 0 || port > 65535) {
            otel__logf(OTEL_LOG_WARN, "OTEL_EXPORTER_PROMETHEUS_PORT=%u is not a port; using 9464", (unsigned)port);
            port = 9464;
        }
        otel__copy_setting(r->path, in->path, "/metrics", "Prometheus path");
        if (r->path[0] != '/') {
            otel__logf(OTEL_LOG_WARN, "Prometheus path '%s' does not start with '/'; using /metrics", r->path);
            snprintf(r->path, sizeof r->path, "/metrics");
        }
        r->d.host = r->host;
        r->d.port = (uint16_t)port;
        r->d.path = r->path;
    }
    r->d.temporality = r->pref;
    r->last_ns = otel_now_ns();
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->ctl_mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    m->readers[m->nreaders++] = r;
    g->cfg.readers[r->index] = r->d; /* otel_config() shows what is in use */
}


/* Readers from a comma list: prometheus makes a pull reader, any other name a periodic
   reader with that metric exporter, none nothing. */
static void otel__readers_from_names(otel__state *g, const char *list, const char *what, const otel__reader_env *env,
                                     otel_log_level fail_level) {
    const char *cur = list, *item;
    size_t n;
    while (otel__list_next(&cur, &item, &n)) {
        otel_reader_desc d;
        char name[32];
        memset(&d, 0, sizeof d);
        snprintf(name, sizeof name, "%.*s", (int)(n < 31 ? n : 31), item);
        if (otel__eq_nocase(item, n, "none")) continue;
        if (otel__eq_nocase(item, n, "prometheus")) {
            d.kind = OTEL_READER_PROMETHEUS;
            otel__reader_add(g, &d, "prometheus", env);
            continue;
        }
        otel_result r = otel__exporter_by_name(OTEL_SIGNAL_METRICS, item, n, &d.exporter);
        if (r != OTEL_OK) {
            otel__logf(fail_level, "%s: metric exporter '%.*s' could not be created (%s); no reader for it", what,
                       (int)n, item, otel_result_str(r));
            continue;
        }
        d.kind = OTEL_READER_PERIODIC;
        otel__reader_add(g, &d, d.exporter.name ? d.exporter.name : name, env);
    }
}

/* The metrics half of otel_init: the meter provider and its readers (nothing started yet).
   Precedence as for trace destinations: OTEL_METRICS_EXPORTER (unless lock_destinations),
   else desc.readers, else desc.default_metrics_exporters, else "otlp". */
static bool otel__metrics_setup(otel__state *g, const otel_desc *in) {
    otel__metrics *m = (otel__metrics *)otel__calloc(sizeof *m);
    if (!m) return false;
    pthread_mutex_init(&m->collect_mu, NULL);
    pthread_mutex_init(&m->inst_mu, NULL);
    m->meters[0].scope = g->tracers[0].scope; /* the default scope (strings owned by cfg) */
    atomic_init(&m->nmeters, 1);
    g->metrics = m;
    memset(g->cfg.readers, 0, sizeof g->cfg.readers); /* filled as readers are made */
    otel__reader_env renv;
    renv.pref = otel__env_temporality();
    renv.interval_ms = otel__pick_pos(0, "OTEL_METRIC_EXPORT_INTERVAL", 60000);
    renv.timeout_ms = otel__pick_pos(0, "OTEL_METRIC_EXPORT_TIMEOUT", 30000);
    const char *env = in->lock_destinations ? NULL : otel__env("OTEL_METRICS_EXPORTER");
    bool have_code = false;
    for (int i = 0; i < OTEL_MAX_READERS; i++) have_code |= in->readers[i].kind != OTEL_READER_NONE;
    if (env) {
        otel__readers_from_names(g, env, "OTEL_METRICS_EXPORTER", &renv, OTEL_LOG_WARN);
        for (int i = 0; i < OTEL_MAX_READERS; i++) /* not used: release their exporters */
            if (in->readers[i].kind != OTEL_READER_NONE) otel__reader_release(&g->xrefs, &in->readers[i]);
    } else if (have_code) {
        for (int i = 0; i < OTEL_MAX_READERS; i++)
            if (in->readers[i].kind != OTEL_READER_NONE) {
                const otel_reader_desc *d = &in->readers[i];
                const char *name = d->kind == OTEL_READER_PROMETHEUS ? "prometheus"
                                   : d->kind == OTEL_READER_MANUAL   ? "manual"
                                                                     : d->exporter.name;
                otel__reader_add(g, d, name, &renv);
            }
    } else if (in->default_metrics_exporters) {
        otel__readers_from_names(g, in->default_metrics_exporters, "default_metrics_exporters", &renv, OTEL_LOG_WARN);
    } else if (otel__factory_known("otlp")) {
        /* nobody asked for metrics: not being able to is not worth a warning */
        otel__readers_from_names(g, "otlp", "default metric exporter", &renv, OTEL_LOG_INFO);
    } else {
        otel__logf(OTEL_LOG_DEBUG, "no metric reader: the default exporter (otlp) is not compiled in");
    }
    return true;
}

/* Starts the periodic readers' threads and the Prometheus servers (after otel__g is set). */
static void otel__metrics_start(otel__state *g) {
    otel__metrics *m = g->metrics;
    for (uint32_t i = 0; m && i < m->nreaders; i++) {
        otel__reader *r = m->readers[i];
        if (r->d.kind == OTEL_READER_PERIODIC) {
            r->started = pthread_create(&r->thread, NULL, otel__reader_main, r) == 0;
            if (!r->started) otel__logf(OTEL_LOG_ERROR, "metric reader '%s': cannot start its thread", r->name);
        } else if (r->d.kind == OTEL_READER_PROMETHEUS) {
            otel_result err = OTEL_OK;
            r->server = otel__prom_server_start(r->host, r->d.port, r->path, otel__reader_produce, r, &err);
            if (!r->server)
                otel__logf(OTEL_LOG_ERROR, "metric reader 'prometheus': cannot serve http://%s:%u%s (%s); the other "
                           "readers keep working and otel_prometheus_render() can still read this one", r->host,
                           (unsigned)r->d.port, r->path, otel_result_str(err));
        }
    }
}

/* otel_init disabled: readers handed over in the desc are released unused. */
static void otel__metrics_release_desc(otel__exp_refs *t, const otel_desc *in) {
    for (int i = 0; i < OTEL_MAX_READERS; i++)
        if (in->readers[i].kind != OTEL_READER_NONE) otel__reader_release(t, &in->readers[i]);
}

/* ---- [metric] part: flush, shutdown, fork, stats ------------------------------------------ */

/* Asks every periodic reader to collect and export now; targets[i] = what to wait for. */
static void otel__metrics_flush_begin(otel__state *g, uint64_t *targets) {
    otel__metrics *m = g->metrics;
    for (uint32_t i = 0; m && i < m->nreaders; i++) {
        otel__reader *r = m->readers[i];
        targets[i] = 0;
        if (!r->started) continue;
        pthread_mutex_lock(&r->ctl_mu);
        targets[i] = ++r->flush_req;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->ctl_mu);
    }
}

static otel_result otel__metrics_flush_wait(otel__state *g, const uint64_t *targets, uint64_t deadline) {
    otel__metrics *m = g->metrics;
    bool all = true;
    if (!m) return OTEL_OK;
    pthread_mutex_lock(&g->flush_mu);
    for (;;) {
        all = true;
        for (uint32_t i = 0; i < m->nreaders; i++)
            if (targets[i] && m->readers[i]->flush_done < targets[i] && !m->readers[i]->exited) all = false;
        uint64_t now = otel__mono_ms();
        if (all || now >= deadline) break;
        struct timespec ts = otel__abstime((uint32_t)(deadline - now < 50 ? deadline - now : 50));
        pthread_cond_timedwait(&g->flush_cv, &g->flush_mu, &ts);
    }
    for (uint32_t i = 0; i < m->nreaders; i++) {
        otel__reader *r = m->readers[i];
        r->stuck = targets[i] && r->flush_done < targets[i] && !r->exited;
        if (r->stuck) otel__logf(OTEL_LOG_WARN, "metric reader '%s' did not finish flushing by the deadline", r->name);
    }
    pthread_mutex_unlock(&g->flush_mu);
    return all ? OTEL_OK : OTEL_ERR_TIMEOUT;
}

/* Shutdown, first half: periodic readers do a last collection and export and then shut
   their exporter down, on their own threads; Prometheus servers stop. */
static void otel__metrics_stop_begin(otel__state *g, uint64_t deadline) {
    otel__metrics *m = g->metrics;
    for (uint32_t i = 0; m && i < m->nreaders; i++) {
        otel__reader *r = m->readers[i];
        if (r->started) {
            pthread_mutex_lock(&r->ctl_mu);
            r->stop = true;
            r->shutdown_at = deadline;
            pthread_cond_signal(&r->cv);
            pthread_mutex_unlock(&r->ctl_mu);
            continue;
        }
        if (r->server) {
            otel__prom_server_stop(r->server);
            r->server = NULL;
        }
        if (r->tainted) {
            otel__exp_release(&g->xrefs, &r->d.exporter, 0, true);
        } else if (r->d.exporter.shutdown) {
            uint64_t now = otel__mono_ms();
            pthread_mutex_lock(&r->mu);
            otel__exp_release(&g->xrefs, &r->d.exporter, deadline > now ? (uint32_t)(deadline - now) : 1, false);
            pthread_mutex_unlock(&r->mu);
        }
        pthread_mutex_lock(&g->flush_mu);
        r->exited = true;
        pthread_mutex_unlock(&g->flush_mu);
    }
}

/* Shutdown, second half: waits for the periodic readers until the deadline, then cancels
   their exporters and gives them 100 ms more; the ones still running are abandoned (they
   free the state if they are the last). Returns true when any was abandoned. */
static bool otel__metrics_stop_wait(otel__state *g, uint64_t deadline, otel_result *res) {
    otel__metrics *m = g->metrics;
    bool cancelled = false, leak = false;
    if (!m) return false;
    pthread_mutex_lock(&g->flush_mu);
    for (;;) {
        bool all = true;
        for (uint32_t i = 0; i < m->nreaders; i++) all &= m->readers[i]->exited;
        uint64_t now = otel__mono_ms();
        if (all) break;
        if (now >= deadline) {
            if (cancelled) break;
            cancelled = true;
            for (uint32_t i = 0; i < m->nreaders; i++) {
                otel__reader *r = m->readers[i];
                if (!r->exited && !r->in_shutdown && r->d.exporter.cancel) r->d.exporter.cancel(r->d.exporter.user);
            }
            deadline = now + 100;
        }
        struct timespec ts = otel__abstime((uint32_t)(deadline - now < 50 ? deadline - now : 50));
        pthread_cond_timedwait(&g->flush_cv, &g->flush_mu, &ts);
    }
    for (uint32_t i = 0; i < m->nreaders; i++) {
        m->readers[i]->stuck = !m->readers[i]->exited;
        leak |= m->readers[i]->stuck;
    }
    pthread_mutex_unlock(&g->flush_mu);
    for (uint32_t i = 0; i < m->nreaders; i++) {
        otel__reader *r = m->readers[i];
        if (r->stuck) {
            otel__logf(OTEL_LOG_ERROR, "shutdown: metric reader '%s' did not stop by the deadline; abandoning its thread",
                       r->name);
            pthread_detach(r->thread);
            *res = OTEL_ERR_TIMEOUT;
        } else if (r->started) {
            pthread_join(r->thread, NULL);
        }
    }
    return leak;
}

/* Reader threads still running (g->flush_mu held). */
static uint32_t otel__metrics_unexited(otel__state *g) {
    uint32_t n = 0;
    for (uint32_t i = 0; g->metrics && i < g->metrics->nreaders; i++) n += !g->metrics->readers[i]->exited;
    return n;
}

static void otel__metrics_free(otel__state *g) {
    otel__metrics *m = g->metrics;
    if (!m) return;
    for (uint32_t i = 0; i < m->nreaders; i++) {
        otel__reader *r = m->readers[i];
        pthread_mutex_destroy(&r->mu);
        pthread_mutex_destroy(&r->ctl_mu);
        pthread_cond_destroy(&r->cv);
        OTEL_FREE(r->md, NULL);
        OTEL_FREE(r->pts, NULL);
        OTEL_FREE(r->words, NULL);
        OTEL_FREE(r, NULL);
    }
    otel_instrument *inst = otel__load_rlx(&m->head);
    while (inst) {
        otel_instrument *next = otel__load_rlx(&inst->next);
        otel__instrument_free(inst);
        inst = next;
    }
    for (uint32_t i = 1; i < otel__load_rlx(&m->nmeters); i++) {
        OTEL_FREE((void *)m->meters[i].scope.name.ptr, NULL);
        OTEL_FREE((void *)m->meters[i].scope.version.ptr, NULL);
    }
    pthread_mutex_destroy(&m->collect_mu);
    pthread_mutex_destroy(&m->inst_mu);
    OTEL_FREE(m, NULL);
    g->metrics = NULL;
}

/* fork(): no collection, instrument or series creation may be half done in the child. A
   reader busy exporting (its exporter may hold locks of its own) is waited for briefly,
   else disabled in the child. */
static void otel__metrics_fork_prepare(otel__state *g) {
    otel__metrics *m = g->metrics;
    if (!m) return;
    for (uint32_t i = 0; i < m->nreaders; i++) {
        struct timespec ts = otel__abstime(100);
        m->readers[i]->tainted = pthread_mutex_timedlock(&m->readers[i]->mu, &ts) != 0;
    }
    pthread_mutex_lock(&m->collect_mu);
    pthread_mutex_lock(&m->inst_mu);
    for (otel_instrument *i = otel__load_rlx(&m->head); i; i = otel__load_rlx(&i->next)) pthread_mutex_lock(&i->mu);
}

static void otel__metrics_fork_parent(otel__state *g) {
    otel__metrics *m = g->metrics;
    if (!m) return;
    for (otel_instrument *i = otel__load_rlx(&m->head); i; i = otel__load_rlx(&i->next)) pthread_mutex_unlock(&i->mu);
    pthread_mutex_unlock(&m->inst_mu);
    pthread_mutex_unlock(&m->collect_mu);
    for (uint32_t i = 0; i < m->nreaders; i++) {
        if (!m->readers[i]->tainted) pthread_mutex_unlock(&m->readers[i]->mu);
        m->readers[i]->tainted = false;
    }
}

/* In the child: fresh locks; periodic readers get a new thread (the values recorded so far
   are kept), a reader that was exporting during fork() and the Prometheus servers (the
   parent keeps the port) are off. */
static void otel__metrics_fork_child(otel__state *g) {
    otel__metrics *m = g->metrics;
    if (!m) return;
    pthread_mutex_init(&m->collect_mu, NULL);
    pthread_mutex_init(&m->inst_mu, NULL);
    for (otel_instrument *i = otel__load_rlx(&m->head); i; i = otel__load_rlx(&i->next)) pthread_mutex_init(&i->mu, NULL);
    for (uint32_t i = 0; i < m->nreaders; i++) {
        otel__reader *r = m->readers[i];
        pthread_mutex_init(&r->mu, NULL);
        pthread_mutex_init(&r->ctl_mu, NULL);
        pthread_cond_init(&r->cv, NULL);
        r->flush_done = r->flush_req;
        r->stop = r->exited = r->in_shutdown = r->stuck = false;
        if (r->server) {
            r->server = NULL; /* its thread is not in the child: left alone */
            otel__logf(OTEL_LOG_INFO, "metric reader 'prometheus': not served in the forked child (pid %ld)", (long)getpid());
        }
        if (r->d.kind != OTEL_READER_PERIODIC) continue;
        r->started = false;
        if (r->tainted) {
            otel__logf(OTEL_LOG_WARN, "metric reader '%s' was exporting during fork(): disabled in the child", r->name);
            continue;
        }
        r->started = pthread_create(&r->thread, NULL, otel__reader_main, r) == 0;
    }
}

static void otel__metrics_stats(otel__state *g, otel_stats *out) {
    otel__metrics *m = g->metrics;
    if (!m) return;
    out->reader_count = m->nreaders;
    for (uint32_t i = 0; i < m->nreaders; i++) {
        otel__reader *r = m->readers[i];
        otel_reader_stats *s = &out->readers[i];
        s->name = r->name;
        s->kind = r->d.kind;
        s->collections = otel__load_rlx(&r->collections);
        s->exported_points = otel__load_rlx(&r->exported);
        s->failed_points = otel__load_rlx(&r->failed);
        pthread_mutex_lock(&g->flush_mu);
        s->unfinished = r->stuck;
        pthread_mutex_unlock(&g->flush_mu);
    }
    out->metric_dropped = otel__load_rlx(&m->dropped);
    pthread_mutex_lock(&m->inst_mu);
    for (otel_instrument *i = otel__load_rlx(&m->head); i; i = otel__load_rlx(&i->next))
        out->metric_overflowed += otel__load_rlx(&i->overflowed);
    pthread_mutex_unlock(&m->inst_mu);
}

/* ---- the prometheus server interface (implemented in [prometheus]) ---- */
typedef struct otel__prom_server otel__prom_server;
/* produce: writes the exposition text of one scrape into *b (otel__buf); return false on error */
typedef bool (*otel__prom_produce_fn)(otel__buf *b, void *user);
static otel__prom_server *otel__prom_server_start(const char *host, uint16_t port, const char *path,
                                                  otel__prom_produce_fn produce, void *user, otel_result *err);
static void otel__prom_server_stop(otel__prom_server *s);



/* ==== [prometheus] =============================================================== */

/* The Prometheus text exposition format (0.0.4) and the pull reader's HTTP server
   (otel__prom_server_start/stop, declared in [metric]). */


#if defined(__GNUC__) || defined(__clang__)
#define OTEL__PROM_MAYBE_UNUSED __attribute__((unused))
#else
#define OTEL__PROM_MAYBE_UNUSED
#endif

/* ---- [prometheus] part: text format ------------------------------------------------ */

/* Where the text goes: a caller's buffer (what passes `cap` is counted, not written) or,
   when `b` is set, a growable otel__buf. */
typedef struct otel__prom_out {
    char *p;
    size_t cap, len;
    otel__buf *b;
} otel__prom_out;

static void otel__prom_put(otel__prom_out *o, const char *s, size_t n) {
    if (o->b) {
        otel__buf *b = o->b;
        if (b->p && n < b->cap - b->len) { /* room: skip otel__buf_put's checks */
            memcpy(b->p + b->len, s, n);
            b->len += n;
            b->p[b->len] = '\0';
        } else {
            otel__buf_put(b, s, n);
        }
        return;
    }
    if (o->len < o->cap) memcpy(o->p + o->len, s, o->cap - o->len < n ? o->cap - o->len : n);
    o->len += n;
}

static void otel__prom_puts(otel__prom_out *o, const char *s) { otel__prom_put(o, s, strlen(s)); }

/* Decimal digits of v, written backwards ending at `end`; returns the first digit. */
static char *otel__prom_u64(char *end, uint64_t v) {
    do { *--end = (char)('0' + v % 10u); v /= 10u; } while (v);
    return end;
}

/* An int64 in decimal into out (24 bytes); returns the length. */
static size_t otel__prom_i64(char *out, int64_t v) {
    char tmp[24], *s;
    uint64_t m = v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
    size_t n;
    s = otel__prom_u64(tmp + sizeof tmp, m);
    if (v < 0) *--s = '-';
    n = (size_t)(tmp + sizeof tmp - s);
    memcpy(out, s, n);
    return n;
}

/* A value as Go's ParseFloat (Prometheus) reads it: "NaN", "+Inf", "-Inf"; integral values
   up to 2^53 as plain integers ("3", not "3e+00"); others the shortest of %.15g..%.17g
   that reads back exactly, with '.' whatever the locale. out has 40 bytes. */
static size_t otel__prom_double(char *out, double d) {
    char tmp[40];
    double m;
    size_t i, o = 0;
    int prec;
    bool point = false;
    if (d != d) { memcpy(out, "NaN", 3); return 3; }
    if (d > 1.7976931348623157e308) { memcpy(out, "+Inf", 4); return 4; }
    if (d < -1.7976931348623157e308) { memcpy(out, "-Inf", 4); return 4; }
    if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(int64_t)d)
        return otel__prom_i64(out, (int64_t)d);
    m = d * 10000.0;
    if (d > -1e11 && d < 1e11 && m == (double)(int64_t)m) {
        /* up to 4 decimals (0.25, 12.375): written by hand, kept when it reads back exactly
           (strtod follows the locale: a ',' locale takes the general path below) */
        char digits[24], *q = otel__prom_u64(digits + sizeof digits, (uint64_t)(m < 0 ? -m : m));
        size_t nd = (size_t)(digits + sizeof digits - q), frac = 4;
        if (m < 0) out[o++] = '-';
        if (nd <= 4) out[o++] = '0';
        else { memcpy(out + o, q, nd - 4); o += nd - 4; q += nd - 4; nd = 4; }
        out[o++] = '.';
        for (i = 0; i < 4 - nd; i++) out[o++] = '0';
        memcpy(out + o, q, nd);
        o += nd;
        while (frac > 0 && out[o - 1] == '0') { o--; frac--; }
        out[o] = '\0';
        if (strtod(out, NULL) == d) return o;
        o = 0;
    }
    for (prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break; /* same locale as snprintf: consistent */
    }
    for (i = 0; tmp[i] && o < 39; i++) {
        char c = tmp[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
            out[o++] = c;
            if (c == 'e' || c == 'E') point = true;
        } else if (!point) { /* the locale's decimal point, one or more bytes */
            out[o++] = '.';
            point = true;
            while (tmp[i + 1] && !(tmp[i + 1] >= '0' && tmp[i + 1] <= '9')) i++;
        }
    }
    return o;
}

/* Escapes a HELP text (`\` and newline) or, with `quote`, a label value (also `"`). */
static void otel__prom_escape(otel__prom_out *o, const char *s, size_t n, bool quote) {
    size_t i, run = 0;
    for (i = 0; i < n; i++) {
        const char *e;
        if (s[i] == '\\') e = "\\\\";
        else if (s[i] == '\n') e = "\\n";
        else if (s[i] == '"' && quote) e = "\\\"";
        else continue;
        otel__prom_put(o, s + run, i - run);
        otel__prom_put(o, e, 2);
        run = i + 1;
    }
    otel__prom_put(o, s + run, n - run);
}

/* Renders one exposition: scratch space reused across points, and the family index. */
typedef struct otel__prom_label {
    const char *key;   /* sanitized label name (into `keys` while key_off != SIZE_MAX) */
    size_t key_len, key_off;
    otel_str orig;     /* the attribute key: orders values merged under one name */
    const otel_value *value;
} otel__prom_label;

typedef struct otel__prom_ctx {
    otel__prom_out *o;
    otel__buf names;           /* every metric's Prometheus name, back to back */
    size_t *name_off, *name_len, *next; /* per metric; next: the family's next metric */
    uint8_t *kind;             /* per metric: OTEL__PROM_* or 0 = not exported */
    otel__buf keys;            /* the current point: sanitized label names */
    otel__buf lbl;             /* the current point: a="x",b="y" */
    otel__buf tmp, fix;        /* non-string values as text; UTF-8 repairs */
    otel__prom_label *labels;
    size_t labels_cap;
    bool failed;
} otel__prom_ctx;

enum { OTEL__PROM_COUNTER = 1, OTEL__PROM_GAUGE, OTEL__PROM_HISTOGRAM };
static const char *const otel__prom_type_names[] = {"", "counter", "gauge", "histogram"};

/* UCUM units Prometheus writes out (prometheus/otlptranslator's table); "1" has no suffix
   (gauges get _ratio instead). */
static const char *const otel__prom_units[][2] = {
    {"d", "days"}, {"h", "hours"}, {"min", "minutes"}, {"s", "seconds"}, {"ms", "milliseconds"},
    {"us", "microseconds"}, {"ns", "nanoseconds"}, {"By", "bytes"}, {"KiBy", "kibibytes"},
    {"MiBy", "mebibytes"}, {"GiBy", "gibibytes"}, {"TiBy", "tebibytes"}, {"KBy", "kilobytes"},
    {"MBy", "megabytes"}, {"GBy", "gigabytes"}, {"TBy", "terabytes"}, {"m", "meters"},
    {"V", "volts"}, {"A", "amperes"}, {"J", "joules"}, {"W", "watts"}, {"g", "grams"},
    {"Cel", "celsius"}, {"Hz", "hertz"}, {"1", ""}, {"%", "percent"}};
/* The unit after '/', singular: m/s -> meters_per_second. */
static const char *const otel__prom_per_units[][2] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
    {"w", "week"}, {"mo", "month"}, {"y", "year"}};

static bool otel__prom_name_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':';
}

/* Appends the words of s[0..n) to b (words: runs of [A-Za-z0-9:], plus ':' when `colon`),
   each preceded by '_' unless it is the first thing since `start`. So invalid characters
   become '_', runs of '_' collapse, and no '_' leads or trails. */
static void otel__prom_words(otel__buf *b, size_t start, const char *s, size_t n, bool colon) {
    size_t i = 0, j;
    while (i < n) {
        while (i < n && !(otel__prom_name_char((unsigned char)s[i]) && (colon || s[i] != ':'))) i++;
        for (j = i; j < n && otel__prom_name_char((unsigned char)s[j]) && (colon || s[j] != ':'); j++) {}
        if (j > i) {
            if (b->len > start) otel__buf_putc(b, '_');
            otel__buf_put(b, s + i, j - i);
        }
        i = j;
    }
}

/* True when `w` occurs in name[0..n) as whole '_'-separated words. */
static bool otel__prom_has_words(const char *name, size_t n, const char *w, size_t wn) {
    size_t i;
    if (wn == 0 || wn > n) return wn == 0;
    for (i = 0; i + wn <= n; i++)
        if ((i == 0 || name[i - 1] == '_') && (i + wn == n || name[i + wn] == '_') &&
            memcmp(name + i, w, wn) == 0)
            return true;
    return false;
}

/* Drops a trailing "_w" ("_total", "_ratio") from the name at b->p[start..]: it is added
   back after the unit ("x_total" in seconds -> x_seconds_total). */
static void otel__prom_drop_word(otel__buf *b, size_t start, const char *w) {
    size_t wn = strlen(w), n = b->len - start;
    if (n <= wn || memcmp(b->p + b->len - wn, w, wn) != 0 || b->p[b->len - wn - 1] != '_') return;
    b->len -= wn + 1;
    b->p[b->len] = '\0';
}

/* One side of a unit ("ms", "{req}", "By"): {annotations} and blanks dropped, then
   mapped through `table`, else kept (as words). Result in out (NUL-terminated). */
static void otel__prom_unit_part(const char *u, size_t n, const char *const (*table)[2], size_t rows,
                                 char *out, size_t cap) {
    char raw[64];
    size_t i, r = 0, depth = 0;
    otel__buf w;
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        if (u[i] == '{') depth++;
        else if (u[i] == '}' && depth) depth--;
        else if (!depth && u[i] != ' ' && u[i] != '\t') {
            if (r + 1 >= sizeof raw) return; /* an absurdly long unit: no suffix */
            raw[r++] = u[i];
        }
    }
    raw[r] = '\0';
    if (!r) return;
    for (i = 0; i < rows; i++)
        if (strcmp(raw, table[i][0]) == 0) {
            snprintf(out, cap, "%s", table[i][1]);
            return;
        }
    memset(&w, 0, sizeof w); /* an unknown unit: its words, without ':' (as Go's cleanUpUnit) */
    otel__prom_words(&w, 0, raw, r, false);
    if (w.p && !w.failed && w.len < cap) memcpy(out, w.p, w.len + 1);
    otel__buf_free(&w);
}

/* Appends the Prometheus name of `m` to b (empty when nothing usable is left):
   words of the name; the unit (unless its words are already in the name); _total for
   counters, _ratio for gauges of unit "1"; '_' in front of a leading digit. */
static void otel__prom_metric_name(otel__buf *b, const otel_metric_data *m, int kind) {
    otel_str unit = m->unit;
    size_t start = b->len, slash;
    char main_u[80], per_u[80], per[96];
    bool ratio;
    if (!unit.ptr) unit.len = 0;
    slash = unit.len;
    ratio = m->type == OTEL_METRIC_GAUGE && unit.len == 1 && unit.ptr[0] == '1';
    otel__buf_reserve(b, m->name.len + 96); /* b->p is set from here on */
    if (b->failed) return;
    otel__prom_words(b, start, m->name.ptr, m->name.len, true);
    if (kind == OTEL__PROM_COUNTER) otel__prom_drop_word(b, start, "total");
    if (ratio) otel__prom_drop_word(b, start, "ratio");
    if (unit.len) {
        const char *sl = (const char *)memchr(unit.ptr, '/', unit.len);
        if (sl) slash = (size_t)(sl - unit.ptr);
    }
    otel__prom_unit_part(unit.ptr, slash, otel__prom_units,
                         sizeof otel__prom_units / sizeof otel__prom_units[0], main_u, sizeof main_u);
    per[0] = '\0';
    if (slash < unit.len) {
        otel__prom_unit_part(unit.ptr + slash + 1, unit.len - slash - 1, otel__prom_per_units,
                             sizeof otel__prom_per_units / sizeof otel__prom_per_units[0], per_u,
                             sizeof per_u);
        if (per_u[0]) snprintf(per, sizeof per, "per_%s", per_u);
    }
    if (b->failed) return;
    if (main_u[0] && !otel__prom_has_words(b->p + start, b->len - start, main_u, strlen(main_u)))
        otel__prom_words(b, start, main_u, strlen(main_u), true);
    if (per[0] && !otel__prom_has_words(b->p + start, b->len - start, per, strlen(per)))
        otel__prom_words(b, start, per, strlen(per), true);
    if (b->len == start) return; /* nothing left of the name: no metric */
    if (kind == OTEL__PROM_COUNTER && !(b->len - start == 5 && memcmp(b->p + start, "total", 5) == 0))
        otel__buf_puts(b, "_total");
    if (ratio && !(b->len - start == 5 && memcmp(b->p + start, "ratio", 5) == 0)) otel__buf_puts(b, "_ratio");
    if (!b->failed && b->len > start && b->p[start] >= '0' && b->p[start] <= '9') {
        otel__buf_putc(b, '_');
        if (b->failed) return;
        memmove(b->p + start + 1, b->p + start, b->len - start - 1);
        b->p[start] = '_';
    }
}

/* A label name as Prometheus accepts it, [a-zA-Z_][a-zA-Z0-9_]*: other characters become
   '_', runs of '_' collapse to one, a leading digit gets "key_" in front, "" becomes "key". */
static bool otel__prom_label_ok(const char *k, size_t n) {
    size_t i;
    if (n == 0 || (k[0] >= '0' && k[0] <= '9')) return false;
    for (i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
        if (c == '_' && i > 0 && k[i - 1] == '_') return false;
    }
    return true;
}

static void otel__prom_label_name(otel__buf *b, const char *k, size_t n) {
    char *o, *start;
    size_t i;
    otel__buf_reserve(b, n + 4);
    if (b->failed) return;
    o = start = b->p + b->len;
    if (n == 0 || (k[0] >= '0' && k[0] <= '9')) {
        memcpy(o, "key_", 4);
        o += n ? 4 : 3;
    }
    for (i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
        if (c == '_' && o > start && o[-1] == '_') continue;
        *o++ = c;
    }
    *o = '\0';
    b->len = (size_t)(o - b->p);
}

/* Text in valid UTF-8 (Prometheus rejects anything else): s itself, or a repaired copy in
   c->fix with U+FFFD for each ill-formed sequence. */
static otel_str otel__prom_utf8(otel__prom_ctx *c, const char *s, size_t n) {
    otel_str r;
    size_t i, need, bad;
    r.ptr = s;
    r.len = n;
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x80) continue;
        need = otel__utf8_seq((const unsigned char *)s + i, n - i, &bad);
        if (!need) break;
        i += need - 1;
    }
    if (i >= n) return r;
    need = otel__utf8_need(s, n, SIZE_MAX);
    c->fix.len = 0;
    otel__buf_reserve(&c->fix, need);
    if (c->fix.failed) { c->failed = true; r.len = 0; return r; }
    c->fix.len = otel__utf8_copy(c->fix.p, need, s, n, SIZE_MAX, NULL);
    r.ptr = c->fix.p;
    r.len = c->fix.len;
    return r;
}

/* An attribute value as label text: strings as they are, others as the attribute spec
   says (true/false, decimal, arrays as JSON), in c->tmp. */
static otel_str otel__prom_value_text(otel__prom_ctx *c, const otel_value *v) {
    otel_str r;
    char num[40];
    size_t i;
    r.ptr = "";
    r.len = 0;
    c->tmp.len = 0;
    switch (v->type) {
    case OTEL_VALUE_STRING:
        r.ptr = v->u.s ? v->u.s : "";
        r.len = v->u.s ? v->len : 0;
        return r;
    case OTEL_VALUE_BOOL: r.ptr = v->u.b ? "true" : "false"; r.len = strlen(r.ptr); return r;
    case OTEL_VALUE_INT: otel__buf_put(&c->tmp, num, otel__prom_i64(num, v->u.i)); break;
    case OTEL_VALUE_DOUBLE: otel__buf_put(&c->tmp, num, otel__prom_double(num, v->u.d)); break;
    case OTEL_VALUE_STRING_ARRAY: case OTEL_VALUE_BOOL_ARRAY:
    case OTEL_VALUE_INT_ARRAY: case OTEL_VALUE_DOUBLE_ARRAY:
        otel__buf_putc(&c->tmp, '[');
        for (i = 0; i < v->len; i++) {
            if (i) otel__buf_putc(&c->tmp, ',');
            if (v->type == OTEL_VALUE_STRING_ARRAY) {
                otel_str e = otel_value_str_at(v, i);
                otel__buf_json_str(&c->tmp, e.ptr, e.len);
            } else if (v->type == OTEL_VALUE_BOOL_ARRAY) {
                otel__buf_puts(&c->tmp, v->u.ba[i] ? "true" : "false");
            } else if (v->type == OTEL_VALUE_INT_ARRAY) {
                otel__buf_put(&c->tmp, num, otel__prom_i64(num, v->u.ia[i]));
            } else {
                otel__buf_json_double(&c->tmp, v->u.da[i]);
            }
        }
        otel__buf_putc(&c->tmp, ']');
        break;
    default: return r;
    }
    if (c->tmp.failed) { c->failed = true; return r; }
    r.ptr = c->tmp.p;
    r.len = c->tmp.len;
    return r;
}

static int otel__prom_label_cmp(const otel__prom_label *a, const otel__prom_label *b) {
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int r = memcmp(a->key, b->key, n);
    if (r || a->key_len != b->key_len) return r ? r : (a->key_len < b->key_len ? -1 : 1);
    n = a->orig.len < b->orig.len ? a->orig.len : b->orig.len;
    r = n ? memcmp(a->orig.ptr, b->orig.ptr, n) : 0;
    return r ? r : (a->orig.len > b->orig.len) - (a->orig.len < b->orig.len);
}

/* Fills c->labels[n] from a key and value; the key is sanitized into c->keys when needed. */
static void otel__prom_label_add(otel__prom_ctx *c, size_t n, otel_str key, const otel_value *v) {
    otel__prom_label *l = &c->labels[n];
    l->orig = key;
    if (!l->orig.ptr) l->orig.len = 0;
    l->value = v;
    l->key_off = SIZE_MAX;
    if (otel__prom_label_ok(l->orig.ptr, l->orig.len)) {
        l->key = l->orig.ptr;
        l->key_len = l->orig.len;
    } else {
        l->key_off = c->keys.len;
        otel__prom_label_name(&c->keys, l->orig.ptr, l->orig.len);
        l->key_len = c->keys.len - l->key_off;
    }
}

/* Builds c->lbl, the label set of one point (a="x",b="y"): its attributes plus the scope's
   name and version, sorted by name. Attributes whose names collide once sanitized share
   one label, their values joined with ';' in the order of the original keys (the spec's
   rule). A histogram leaves out `le` (the bucket's label). */
static void otel__prom_labels(otel__prom_ctx *c, const otel_attr *attrs, size_t count, const otel_scope *scope,
                              bool histogram) {
    otel_value sv[2];
    otel__prom_out lo;
    const char *prev = NULL;
    size_t n = 0, i, j, prev_len = 0;
    c->lbl.len = 0;
    c->keys.len = 0;
    if (!attrs) count = 0;
    if (count + 2 > c->labels_cap) {
        size_t cap = count + 2 < 16 ? 16 : count + 2;
        otel__prom_label *nl = (otel__prom_label *)OTEL_MALLOC(cap * sizeof *nl, NULL);
        if (!nl) { c->failed = true; return; }
        if (c->labels) OTEL_FREE(c->labels, NULL);
        c->labels = nl;
        c->labels_cap = cap;
    }
    for (i = 0; i < count; i++) otel__prom_label_add(c, n++, attrs[i].key, &attrs[i].value);
    memset(sv, 0, sizeof sv);
    for (i = 0; scope && i < 2; i++) {
        otel_str s = i == 0 ? scope->name : scope->version, k;
        if (!s.ptr || !s.len) continue;
        sv[i].type = OTEL_VALUE_STRING;
        sv[i].u.s = s.ptr;
        sv[i].len = s.len;
        k.ptr = i == 0 ? "otel_scope_name" : "otel_scope_version";
        k.len = strlen(k.ptr);
        otel__prom_label_add(c, n++, k, &sv[i]);
    }
    if (c->keys.failed) { c->failed = true; return; }
    for (i = 0; i < n; i++)
        if (c->labels[i].key_off != SIZE_MAX) c->labels[i].key = c->keys.p + c->labels[i].key_off;
    for (i = 1; i < n; i++) { /* insertion sort: a handful of labels */
        otel__prom_label t = c->labels[i];
        for (j = i; j > 0 && otel__prom_label_cmp(&t, &c->labels[j - 1]) < 0; j--) c->labels[j] = c->labels[j - 1];
        c->labels[j] = t;
    }
    memset(&lo, 0, sizeof lo);
    lo.b = &c->lbl;
    for (i = 0; i < n; i++) {
        const otel__prom_label *l = &c->labels[i];
        otel_str v;
        if (histogram && l->key_len == 2 && memcmp(l->key, "le", 2) == 0) continue;
        if (prev && l->key_len == prev_len && memcmp(l->key, prev, prev_len) == 0) {
            otel__prom_put(&lo, ";", 1);
        } else {
            if (prev) otel__prom_put(&lo, "\",", 2);
            otel__prom_put(&lo, l->key, l->key_len);
            otel__prom_put(&lo, "=\"", 2);
            prev = l->key;
            prev_len = l->key_len;
        }
        v = otel__prom_value_text(c, l->value);
        v = otel__prom_utf8(c, v.ptr, v.len);
        otel__prom_escape(&lo, v.ptr, v.len, true);
    }
    if (prev) otel__prom_put(&lo, "\"", 1);
    if (c->lbl.failed) c->failed = true;
}

/* One sample line: name+suffix{labels[,le=".."]} value */
static void otel__prom_sample(otel__prom_ctx *c, const char *name, size_t name_len, const char *suffix,
                              const char *le, size_t le_len, const char *val, size_t val_len) {
    otel__prom_out *o = c->o;
    bool braces = c->lbl.len || le;
    otel__prom_put(o, name, name_len);
    otel__prom_puts(o, suffix);
    if (braces) otel__prom_put(o, "{", 1);
    if (c->lbl.len) otel__prom_put(o, c->lbl.p, c->lbl.len);
    if (le) {
        if (c->lbl.len) otel__prom_put(o, ",", 1);
        otel__prom_put(o, "le=\"", 4);
        otel__prom_put(o, le, le_len);
        otel__prom_put(o, "\"", 1);
    }
    otel__prom_put(o, braces ? "} " : " ", braces ? 2 : 1);
    otel__prom_put(o, val, val_len);
    otel__prom_put(o, "\n", 1);
}

/* The samples of one point: one line for a sum or gauge; for a histogram the cumulative
   buckets (bounds that are NaN, infinite or not increasing are folded into the next
   bucket), le="+Inf" = count, then _sum and _count. */
static void otel__prom_point(otel__prom_ctx *c, const otel_metric_data *m, const char *name, size_t name_len,
                             const otel_metric_point *p) {
    char val[40], le[40];
    size_t vn, k, ln;
    uint64_t cum = 0;
    double prev = 0;
    bool have_prev = false;
    otel__prom_labels(c, p->attrs, p->attr_count, m->scope, m->type == OTEL_METRIC_HISTOGRAM);
    if (c->failed) return;
    if (m->type != OTEL_METRIC_HISTOGRAM) {
        vn = m->number_type == OTEL_NUMBER_DOUBLE ? otel__prom_double(val, p->value.d) : otel__prom_i64(val, p->value.i);
        otel__prom_sample(c, name, name_len, "", NULL, 0, val, vn);
        return;
    }
    for (k = 0; m->boundaries && k < m->boundary_count; k++) {
        double b = m->boundaries[k];
        if (p->bucket_counts && k < p->bucket_count) cum += p->bucket_counts[k];
        if (b != b || b > 1.7976931348623157e308 || b < -1.7976931348623157e308 || (have_prev && b <= prev))
            continue;
        prev = b;
        have_prev = true;
        ln = otel__prom_double(le, b);
        vn = (size_t)(otel__prom_u64(val + sizeof val, cum) - val);
        otel__prom_sample(c, name, name_len, "_bucket", le, ln, val + vn, sizeof val - vn);
    }
    vn = (size_t)(otel__prom_u64(val + sizeof val, p->count) - val);
    otel__prom_sample(c, name, name_len, "_bucket", "+Inf", 4, val + vn, sizeof val - vn);
    ln = otel__prom_double(le, p->sum);
    otel__prom_sample(c, name, name_len, "_sum", NULL, 0, le, ln);
    otel__prom_sample(c, name, name_len, "_count", NULL, 0, val + vn, sizeof val - vn);
}

/* The Prometheus type of a metric; 0 when it cannot be exported: delta sums and
   histograms (the Prometheus reader is cumulative, so they are not expected). */
static int otel__prom_kind(const otel_metric_data *m) {
    bool delta = m->temporality == OTEL_TEMPORALITY_DELTA;
    switch (m->type) {
    case OTEL_METRIC_SUM: return delta ? 0 : m->monotonic ? OTEL__PROM_COUNTER : OTEL__PROM_GAUGE;
    case OTEL_METRIC_GAUGE: return OTEL__PROM_GAUGE;
    case OTEL_METRIC_HISTOGRAM: return delta ? 0 : OTEL__PROM_HISTOGRAM;
    }
    return 0;
}

static uint64_t otel__prom_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Names every metric and links metrics of one name into families (first appearance
   first): same name from several scopes -> one HELP/TYPE block. A metric whose name is
   taken by another type is dropped, as the spec says (conflicting TYPE lines). */
static bool otel__prom_families(otel__prom_ctx *c, const otel_metric_batch *batch, bool target_info) {
    static _Atomic int warned_delta, warned_conflict;
    size_t n = batch->count, i, slots = 16, *table, *tail;
    while (slots < 2 * n) slots *= 2;
    c->name_off = (size_t *)OTEL_MALLOC((4 * n + slots) * sizeof(size_t) + n, NULL);
    if (!c->name_off) return false;
    c->name_len = c->name_off + n;
    c->next = c->name_len + n;
    tail = c->next + n;
    table = tail + n;
    c->kind = (uint8_t *)(table + slots);
    for (i = 0; i < slots; i++) table[i] = SIZE_MAX;
    for (i = 0; i < n; i++) {
        const otel_metric_data *m = &batch->metrics[i];
        const char *nm;
        size_t h;
        int kind = otel__prom_kind(m);
        c->next[i] = SIZE_MAX;
        c->kind[i] = 0;
        c->name_off[i] = c->names.len;
        c->name_len[i] = 0;
        if (!kind) {
            if (m->type == OTEL_METRIC_SUM || m->type == OTEL_METRIC_HISTOGRAM)
                OTEL__LOG_ONCE(warned_delta, OTEL_LOG_WARN, "prometheus: metric '%.*s' has delta temporality: "
                               "not exported (Prometheus needs cumulative)", (int)m->name.len, m->name.ptr);
            continue;
        }
        if (!m->name.ptr) continue;
        otel__prom_metric_name(&c->names, m, kind);
        if (c->names.failed) return false;
        c->name_len[i] = c->names.len - c->name_off[i];
        if (!c->name_len[i]) continue;
        nm = c->names.p + c->name_off[i];
        if (target_info && c->name_len[i] == 11 && memcmp(nm, "target_info", 11) == 0) {
            OTEL__LOG_ONCE(warned_conflict, OTEL_LOG_WARN, "prometheus: metric 'target_info' clashes with the "
                           "resource's target_info: not exported");
            continue;
        }
        c->kind[i] = (uint8_t)kind;
        for (h = (size_t)otel__prom_hash(nm, c->name_len[i]) & (slots - 1);; h = (h + 1) & (slots - 1)) {
            size_t f = table[h];
            if (f == SIZE_MAX) { /* a new family, headed by i */
                table[h] = i;
                tail[i] = i;
                break;
            }
            if (c->name_len[f] != c->name_len[i] || memcmp(c->names.p + c->name_off[f], nm, c->name_len[i]) != 0)
                continue;
            if (c->kind[f] != kind) {
                OTEL__LOG_ONCE(warned_conflict, OTEL_LOG_WARN, "prometheus: metric '%.*s' is a %s and a %s: the "
                               "%s is not exported", (int)c->name_len[i], nm, otel__prom_type_names[c->kind[f]],
                               otel__prom_type_names[kind], otel__prom_type_names[kind]);
                c->kind[i] = 0;
            } else {
                c->next[tail[f]] = i;
                tail[f] = i;
                c->kind[i] |= 0x80; /* not a family head */
            }
            break;
        }
    }
    return true;
}

/* HELP and TYPE once, then the points of every metric of the family headed by `head`. */
static void otel__prom_family(otel__prom_ctx *c, const otel_metric_batch *batch, size_t head) {
    const char *name = c->names.p + c->name_off[head];
    size_t len = c->name_len[head], i, k;
    const otel_metric_data *help = NULL;
    for (i = head; i != SIZE_MAX && !help; i = c->next[i])
        if (batch->metrics[i].description.len && batch->metrics[i].description.ptr) help = &batch->metrics[i];
    if (help) { /* no description: no HELP line (an empty one reads the same) */
        otel_str d = otel__prom_utf8(c, help->description.ptr, help->description.len);
        otel__prom_put(c->o, "# HELP ", 7);
        otel__prom_put(c->o, name, len);
        otel__prom_put(c->o, " ", 1);
        otel__prom_escape(c->o, d.ptr, d.len, false);
        otel__prom_put(c->o, "\n", 1);
    }
    otel__prom_put(c->o, "# TYPE ", 7);
    otel__prom_put(c->o, name, len);
    otel__prom_put(c->o, " ", 1);
    otel__prom_puts(c->o, otel__prom_type_names[c->kind[head] & 0x7f]);
    otel__prom_put(c->o, "\n", 1);
    for (i = head; i != SIZE_MAX && !c->failed; i = c->next[i]) {
        const otel_metric_data *m = &batch->metrics[i];
        for (k = 0; m->points && k < m->point_count && !c->failed; k++) otel__prom_point(c, m, name, len, &m->points[k]);
    }
}

/* target_info: one gauge sample, value 1, labelled with the resource attributes. */
static void otel__prom_target_info(otel__prom_ctx *c, const otel_resource *r) {
    otel__prom_puts(c->o, "# HELP target_info Target metadata\n# TYPE target_info gauge\n");
    otel__prom_labels(c, r->attrs, r->count, NULL, false);
    if (!c->failed) otel__prom_sample(c, "target_info", 11, "", NULL, 0, "1", 1);
}

/* The whole exposition of `batch` into o. False when memory ran out. */
static bool otel__prom_write(otel__prom_out *o, const otel_metric_batch *batch) {
    otel__prom_ctx c;
    size_t i;
    bool ti, ok;
    memset(&c, 0, sizeof c);
    c.o = o;
    if (!batch) return true;
    ti = batch->resource && batch->resource->attrs && batch->resource->count > 0;
    if (ti) otel__prom_target_info(&c, batch->resource);
    ok = !c.failed && (!batch->metrics || !batch->count || otel__prom_families(&c, batch, ti));
    for (i = 0; ok && batch->metrics && i < batch->count && !c.failed; i++)
        if (c.kind[i] && !(c.kind[i] & 0x80)) otel__prom_family(&c, batch, i);
    ok = ok && !c.failed && !(o->b && o->b->failed);
    if (c.name_off) OTEL_FREE(c.name_off, NULL);
    if (c.labels) OTEL_FREE(c.labels, NULL);
    otel__buf_free(&c.names);
    otel__buf_free(&c.keys);
    otel__buf_free(&c.lbl);
    otel__buf_free(&c.tmp);
    otel__buf_free(&c.fix);
    if (!ok) otel__logf(OTEL_LOG_ERROR, "prometheus: out of memory while formatting %zu metrics", batch->count);
    return ok;
}

/* Appends the exposition of `batch` to b (the PROMETHEUS reader's produce function uses
   this). False when memory ran out. */
static bool otel__prom_format_buf(otel__buf *b, const otel_metric_batch *batch) {
    otel__prom_out o;
    memset(&o, 0, sizeof o);
    o.b = b;
    return otel__prom_write(&o, batch) && !b->failed;
}

OTEL_API size_t otel_prometheus_format(const otel_metric_batch *batch, char *buf, size_t cap) {
    otel__prom_out o;
    memset(&o, 0, sizeof o);
    o.p = buf;
    o.cap = buf ? cap : 0;
    if (!otel__prom_write(&o, batch)) return 0;
    if (o.len < o.cap) buf[o.len] = '\0';
    return o.len;
}

typedef struct otel__prom_render_ctx {
    char *buf;
    size_t cap, len;
    bool failed;
} otel__prom_render_ctx;

static void otel__prom_render_cb(const otel_metric_batch *batch, void *user) {
    otel__prom_render_ctx *r = (otel__prom_render_ctx *)user;
    otel__prom_out o;
    memset(&o, 0, sizeof o);
    o.p = r->buf;
    o.cap = r->cap;
    r->failed = !otel__prom_write(&o, batch);
    r->len = o.len;
    if (o.len < o.cap) r->buf[o.len] = '\0';
}

OTEL_API otel_result otel_prometheus_render(size_t reader, char *buf, size_t cap, size_t *len) {
    otel__prom_render_ctx r;
    otel_result res;
    if (len) *len = 0;
    if (!buf) cap = 0;
    memset(&r, 0, sizeof r);
    r.buf = buf;
    r.cap = cap;
    if (cap) buf[0] = '\0';
    res = otel_metrics_collect(reader, otel__prom_render_cb, &r);
    if (res != OTEL_OK) return res;
    if (r.failed) return OTEL_ERR_NO_MEMORY;
    if (len) *len = r.len;
    if (r.len >= cap) return OTEL_ERR_NO_MEMORY; /* the text and its NUL must fit */
    return OTEL_OK;
}

/* ---- [prometheus] part: HTTP server ------------------------------------------------ */

/* One thread runs a poll() loop over the listening sockets and up to OTEL__PROM_CONNS
   connections, all non-blocking: a client that sends nothing, or reads slowly, holds one
   slot until its deadline and never blocks the others. Scrapes are answered one at a
   time on that thread, so `produce` is never called concurrently. Every response closes
   the connection (Prometheus reconnects each scrape; keep-alive would gain little). */

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <strings.h>
#include <sys/uio.h>

#define OTEL__PROM_CONNS 16       /* connections served at once (the oldest idle one is evicted) */
#define OTEL__PROM_LISTENERS 4    /* addresses one host may resolve to */
#define OTEL__PROM_MAX_HEAD 8192  /* request line and headers; more -> 431 */
#define OTEL__PROM_READ_MS 5000   /* the request head must arrive within this */
#define OTEL__PROM_TOTAL_MS 10000 /* the whole exchange must end within this */
#define OTEL__PROM_LINGER_MS 1000 /* after a response: what the client still sends is read and
                                     dropped, so closing does not reset the response away */
#ifdef MSG_NOSIGNAL
#define OTEL__PROM_NOSIGNAL MSG_NOSIGNAL
#else
#define OTEL__PROM_NOSIGNAL 0 /* SO_NOSIGPIPE is set on each socket instead */
#endif

enum { OTEL__PROM_FREE = 0, OTEL__PROM_READING, OTEL__PROM_WRITING, OTEL__PROM_LINGERING };

typedef struct otel__prom_conn {
    int fd, state;
    uint64_t read_deadline, deadline; /* otel__mono_ms */
    size_t req_len, sent, head_len, body_len; /* body_len: 0 for HEAD */
    char head[256];
    otel__buf body;
    char req[OTEL__PROM_MAX_HEAD];
} otel__prom_conn;

struct otel__prom_server {
    int listeners[OTEL__PROM_LISTENERS], nlisteners;
    int wake[2]; /* stop writes a byte to [1]; the loop polls [0] */
    uint16_t port;
    char *path;
    otel__prom_produce_fn produce;
    void *user;
    pthread_t thread;
    _Atomic int stop;
    uint64_t accept_pause_until; /* out of descriptors: stop accepting for a moment */
    otel__prom_conn conns[OTEL__PROM_CONNS];
};

/* Non-blocking, close-on-exec, no SIGPIPE where a socket option does that. */
static bool otel__prom_fd_setup(int fd) {
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return false;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
    {
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
    }
#endif
    return true;
}

static void otel__prom_conn_close(otel__prom_conn *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->state = OTEL__PROM_FREE;
    c->req_len = c->sent = c->head_len = c->body_len = 0;
    otel__buf_free(&c->body);
}

static bool otel__prom_tchar(unsigned char c) { /* RFC 9110 token characters */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Checks the request line r[0..n) (without its line end): method SP target SP HTTP/1.x.
   Returns 0 when well-formed, else the status to answer (400, 505). */
static int otel__prom_request_line(const char *r, size_t n, size_t *mlen, const char **target, size_t *tlen) {
    size_t i = 0, t;
    while (i < n && otel__prom_tchar((unsigned char)r[i])) i++;
    if (i == 0 || i > 32 || i >= n || r[i] != ' ') return 400;
    *mlen = i;
    t = ++i;
    while (i < n && (unsigned char)r[i] > 0x20 && (unsigned char)r[i] != 0x7f) i++;
    if (i == t || i >= n || r[i] != ' ') return 400;
    *target = r + t;
    *tlen = i - t;
    i++;
    if (n - i != 8 || memcmp(r + i, "HTTP/", 5) != 0 || r[i + 5] < '0' || r[i + 5] > '9' || r[i + 6] != '.' ||
        r[i + 7] < '0' || r[i + 7] > '9')
        return 400;
    return r[i + 5] == '1' ? 0 : 505;
}

/* Where the request head r[0..n) ends (after its blank line), searching from `from`; 0 if
   it has not arrived yet. Bare LF line ends are accepted. */
static size_t otel__prom_head_end(const char *r, size_t from, size_t n) {
    size_t i;
    for (i = from; i < n; i++) {
        if (r[i] != '\n') continue;
        if (i + 1 < n && r[i + 1] == '\n') return i + 2;
        if (i + 2 < n && r[i + 1] == '\r' && r[i + 2] == '\n') return i + 3;
    }
    return 0;
}

/* Length of the line at r[0..n) without its "\r\n" or "\n"; *next = the following line. */
static size_t otel__prom_line(const char *r, size_t n, size_t *next) {
    const char *nl = (const char *)memchr(r, '\n', n);
    size_t len = nl ? (size_t)(nl - r) : n;
    *next = nl ? len + 1 : n;
    if (len && r[len - 1] == '\r') len--;
    return len;
}

/* The status for a complete request head r[0..n): 200 (serve; *head_only for HEAD), or
   400 malformed, 404 another path, 405 another method, 505 not HTTP/1.x. */
static int otel__prom_route(const otel__prom_server *s, const char *r, size_t n, bool *head_only) {
    const char *req = r, *target, *path;
    size_t mlen, tlen, next, len, plen, i;
    int st;
    len = otel__prom_line(r, n, &next);
    if ((st = otel__prom_request_line(r, len, &mlen, &target, &tlen)) != 0) return st;
    r += next;
    n -= next;
    while (n > 0) { /* headers: name ":" value; no folding, no control characters */
        const char *colon;
        len = otel__prom_line(r, n, &next);
        if (len == 0) break;
        colon = (const char *)memchr(r, ':', len);
        if (!colon || colon == r) return 400;
        for (i = 0; i < (size_t)(colon - r); i++)
            if (!otel__prom_tchar((unsigned char)r[i])) return 400;
        for (i = (size_t)(colon - r) + 1; i < len; i++)
            if (((unsigned char)r[i] < 0x20 && r[i] != '\t') || r[i] == 0x7f) return 400;
        r += next;
        n -= next;
    }
    path = target;
    if (tlen >= 7 && strncasecmp(target, "http://", 7) == 0) { /* absolute form: skip the authority */
        const char *slash = (const char *)memchr(target + 7, '/', tlen - 7);
        path = slash ? slash : "/";
        tlen = slash ? tlen - (size_t)(slash - target) : 1;
    } else if (target[0] != '/') {
        return 400;
    }
    for (plen = 0; plen < tlen && path[plen] != '?' && path[plen] != '#'; plen++) {}
    if (plen != strlen(s->path) || memcmp(path, s->path, plen) != 0) return 404;
    *head_only = mlen == 4 && memcmp(req, "HEAD", 4) == 0;
    if (*head_only || (mlen == 3 && memcmp(req, "GET", 3) == 0)) return 200;
    return 405;
}

/* Sends what is left of the response; when all is sent, half-closes and lingers. */
static void otel__prom_conn_write(otel__prom_conn *c, uint64_t now) {
    for (;;) {
        struct iovec iov[2];
        struct msghdr msg;
        size_t total = c->head_len + c->body_len, off;
        ssize_t w;
        int k = 0;
        if (c->sent >= total) {
            (void)shutdown(c->fd, SHUT_WR);
            c->state = OTEL__PROM_LINGERING;
            if (c->deadline > now + OTEL__PROM_LINGER_MS) c->deadline = now + OTEL__PROM_LINGER_MS;
            otel__buf_free(&c->body);
            return;
        }
        if (c->sent < c->head_len) {
            iov[k].iov_base = c->head + c->sent;
            iov[k++].iov_len = c->head_len - c->sent;
        }
        if (c->body_len) {
            off = c->sent > c->head_len ? c->sent - c->head_len : 0;
            iov[k].iov_base = c->body.p + off;
            iov[k++].iov_len = c->body_len - off;
        }
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = k;
        w = sendmsg(c->fd, &msg, OTEL__PROM_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) otel__prom_conn_close(c); /* gone: EPIPE etc. */
            return;
        }
        c->sent += (size_t)w;
    }
}

/* Queues a response (head in c->head, body in c->body) and starts sending it. */
static void otel__prom_reply(otel__prom_conn *c, int status, const char *reason, const char *type,
                             const char *extra, bool send_body, uint64_t now) {
    int n = snprintf(c->head, sizeof c->head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
                     status, reason, type, c->body.len, extra ? extra : "");
    c->head_len = n > 0 && (size_t)n < sizeof c->head ? (size_t)n : 0;
    c->body_len = send_body ? c->body.len : 0;
    c->sent = 0;
    c->state = OTEL__PROM_WRITING;
    otel__prom_conn_write(c, now);
}

static void otel__prom_error(otel__prom_conn *c, int status, bool head_only, uint64_t now) {
    const char *reason = status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                       : status == 405 ? "Method Not Allowed" : status == 431 ? "Request Header Fields Too Large"
                       : status == 505 ? "HTTP Version Not Supported" : "Internal Server Error";
    c->body.len = 0;
    otel__buf_printf(&c->body, "%d %s\n", status, reason);
    if (c->body.failed) otel__buf_free(&c->body);
    otel__prom_reply(c, status, reason, "text/plain; charset=utf-8", status == 405 ? "Allow: GET, HEAD\r\n" : NULL,
                     !head_only, now);
}

/* A complete request head c->req[0..end): answer it. */
static void otel__prom_handle(otel__prom_server *s, otel__prom_conn *c, size_t end, uint64_t now) {
    bool head_only = false;
    int st = otel__prom_route(s, c->req, end, &head_only);
    if (st != 200) {
        otel__prom_error(c, st, head_only, now);
        return;
    }
    c->body.len = 0;
    if (!s->produce(&c->body, s->user) || c->body.failed) {
        otel__buf_free(&c->body);
        otel__prom_error(c, 500, head_only, now);
        return;
    }
    otel__prom_reply(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", NULL, !head_only, now);
}

/* Reads what the client sent: the request head, or (lingering) whatever follows it. */
static void otel__prom_conn_read(otel__prom_server *s, otel__prom_conn *c, uint64_t now) {
    for (;;) {
        size_t old = c->req_len, end;
        ssize_t r;
        if (c->state == OTEL__PROM_LINGERING) {
            char junk[4096];
            r = recv(c->fd, junk, sizeof junk, 0);
            if (r > 0 || (r < 0 && errno == EINTR)) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            otel__prom_conn_close(c); /* the client closed too: done */
            return;
        }
        if (c->state != OTEL__PROM_READING) return;
        r = recv(c->fd, c->req + old, sizeof c->req - old, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (r <= 0) { /* closed (or failed) before a whole request: nobody to answer */
            otel__prom_conn_close(c);
            return;
        }
        c->req_len += (size_t)r;
        end = otel__prom_head_end(c->req, old >= 2 ? old - 2 : 0, c->req_len);
        if (end) {
            otel__prom_handle(s, c, end, now);
            continue;
        }
        if (memchr(c->req + old, '\n', c->req_len - old) && !memchr(c->req, '\n', old)) {
            /* the request line is complete: garbage is answered now, not at the timeout */
            const char *t;
            size_t next, ml, tl, len = otel__prom_line(c->req, c->req_len, &next);
            int st = otel__prom_request_line(c->req, len, &ml, &t, &tl);
            if (st) {
                otel__prom_error(c, st, false, now);
                continue;
            }
        }
        if (c->req_len == sizeof c->req) otel__prom_error(c, 431, false, now);
    }
}

/* Accepts waiting connections. With every slot taken, the connection that has waited
   longest for its request is dropped: idle clients cannot lock scrapers out. */
static void otel__prom_accept(otel__prom_server *s, int lfd, uint64_t now) {
    int k, i;
    for (k = 0; k < OTEL__PROM_CONNS; k++) {
        otel__prom_conn *c = NULL;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                s->accept_pause_until = now + 100;
            return;
        }
        for (i = 0; i < OTEL__PROM_CONNS && !c; i++)
            if (s->conns[i].state == OTEL__PROM_FREE) c = &s->conns[i];
        for (i = 0; i < OTEL__PROM_CONNS && !c; i++) { /* evict: a lingering one, else the oldest reader */
            otel__prom_conn *v = &s->conns[i];
            if (v->state == OTEL__PROM_LINGERING) c = v;
        }
        for (i = 0; i < OTEL__PROM_CONNS; i++) {
            otel__prom_conn *v = &s->conns[i];
            if (!c && v->state == OTEL__PROM_READING) c = v;
            else if (c && c->state == OTEL__PROM_READING && v->state == OTEL__PROM_READING &&
                     v->read_deadline < c->read_deadline)
                c = v;
        }
        if (!c || !otel__prom_fd_setup(fd)) { /* every slot is sending a response */
            close(fd);
            continue;
        }
        if (c->state != OTEL__PROM_FREE) otel__prom_conn_close(c);
        c->fd = fd;
        c->state = OTEL__PROM_READING;
        c->read_deadline = now + OTEL__PROM_READ_MS;
        c->deadline = now + OTEL__PROM_TOTAL_MS;
    }
}

static void *otel__prom_main(void *arg) {
    otel__prom_server *s = (otel__prom_server *)arg;
    struct pollfd pf[1 + OTEL__PROM_LISTENERS + OTEL__PROM_CONNS];
    int who[1 + OTEL__PROM_LISTENERS + OTEL__PROM_CONNS]; /* pf[k] is conns[who[k]] */
    int i, k, n, nl;
    while (!atomic_load(&s->stop)) {
        uint64_t now = otel__mono_ms(), next = now + 1000;
        n = 0;
        pf[n].fd = s->wake[0];
        pf[n++].events = POLLIN;
        nl = now >= s->accept_pause_until ? s->nlisteners : 0;
        for (i = 0; i < nl; i++) {
            pf[n].fd = s->listeners[i];
            pf[n++].events = POLLIN;
        }
        if (nl < s->nlisteners && s->accept_pause_until < next) next = s->accept_pause_until;
        for (i = 0; i < OTEL__PROM_CONNS; i++) {
            otel__prom_conn *c = &s->conns[i];
            uint64_t due;
            if (c->state == OTEL__PROM_FREE) continue;
            due = c->state == OTEL__PROM_READING && c->read_deadline < c->deadline ? c->read_deadline : c->deadline;
            if (now >= due) { /* too slow: dropped without an answer */
                otel__prom_conn_close(c);
                continue;
            }
            if (due < next) next = due;
            pf[n].fd = c->fd;
            pf[n].events = c->state == OTEL__PROM_WRITING ? POLLOUT : POLLIN;
            who[n++] = i;
        }
        for (k = 0; k < n; k++) pf[k].revents = 0;
        if (poll(pf, (nfds_t)n, (int)(next - now)) < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            otel__logf(OTEL_LOG_ERROR, "prometheus: poll failed (%s); the endpoint stops", strerror(errno));
            break;
        }
        now = otel__mono_ms();
        if (pf[0].revents) {
            char junk[64];
            while (read(s->wake[0], junk, sizeof junk) > 0) {}
        }
        for (k = 1 + nl; k < n; k++) {
            otel__prom_conn *c = &s->conns[who[k]];
            if (!pf[k].revents || c->fd != pf[k].fd) continue;
            if (c->state == OTEL__PROM_WRITING) otel__prom_conn_write(c, now);
            else otel__prom_conn_read(s, c, now);
        }
        for (k = 1; k < 1 + nl; k++)
            if (pf[k].revents) otel__prom_accept(s, pf[k].fd, now);
    }
    for (i = 0; i < OTEL__PROM_CONNS; i++) otel__prom_conn_close(&s->conns[i]);
    return NULL;
}

/* Same address (port aside)? getaddrinfo may list one address twice. */
static bool otel__prom_same_addr(const struct sockaddr *a, const struct sockaddr *b) OTEL__PROM_MAYBE_UNUSED;
static bool otel__prom_same_addr(const struct sockaddr *a, const struct sockaddr *b) {
    if (a->sa_family != b->sa_family) return false;
    if (a->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
                      &((const struct sockaddr_in *)(const void *)b)->sin_addr, sizeof(struct in_addr)) == 0;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return false;
}

static void otel__prom_set_port(struct sockaddr *a, uint16_t port) {
    if (a->sa_family == AF_INET) ((struct sockaddr_in *)(void *)a)->sin_port = htons(port);
    else if (a->sa_family == AF_INET6) ((struct sockaddr_in6 *)(void *)a)->sin6_port = htons(port);
}

/* The addresses `node` (NULL: every interface) stands for, at most OTEL__PROM_LISTENERS,
   with the port set. Returns how many; 0 after logging why there are none. */
static int otel__prom_resolve(const char *node, uint16_t port, struct sockaddr_storage *out, socklen_t *lens) {
    int n = 0, i, dup;
#ifdef AI_PASSIVE
    struct addrinfo hints, *res = NULL, *ai;
    char service[8];
    int rc;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(node, service, &hints, &res);
    if (rc != 0) {
        otel__logf(OTEL_LOG_ERROR, "prometheus: cannot resolve host '%s': %s", node ? node : "", gai_strerror(rc));
        return 0;
    }
    for (ai = res; ai && n < OTEL__PROM_LISTENERS; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof *out) continue;
        for (i = 0, dup = 0; i < n; i++) dup |= otel__prom_same_addr((struct sockaddr *)&out[i], ai->ai_addr);
        if (dup) continue; /* getaddrinfo may list one address twice */
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n], ai->ai_addr, ai->ai_addrlen);
        lens[n++] = (socklen_t)ai->ai_addrlen;
    }
    freeaddrinfo(res);
#else
    /* <netdb.h> hides getaddrinfo when a system header came before otel.h under a strict
       -std=c11: numeric addresses and "localhost" still work. */
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&out[0];
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&out[1];
    bool local = node && strcmp(node, "localhost") == 0;
    memset(out, 0, 2 * sizeof *out);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    lens[0] = sizeof *v4;
    lens[1] = sizeof *v6;
    if (!node || local) {
        v4->sin_addr.s_addr = htonl(local ? INADDR_LOOPBACK : INADDR_ANY);
        v6->sin6_addr = local ? in6addr_loopback : in6addr_any;
        n = 2;
    } else if (inet_pton(AF_INET, node, &v4->sin_addr) == 1) {
        n = 1;
    } else if (inet_pton(AF_INET6, node, &v6->sin6_addr) == 1) {
        memmove(&out[0], &out[1], sizeof out[0]);
        lens[0] = lens[1];
        n = 1;
    } else {
        otel__logf(OTEL_LOG_ERROR, "prometheus: cannot resolve host '%s': this build has no getaddrinfo (include "
                   "otel.h first, or build with -D_POSIX_C_SOURCE=200809L); use an IP address", node);
    }
    (void)i;
    (void)dup;
#endif
    return n;
}

/* Listens on every address `host` resolves to (NULL or "": all interfaces). Returns 0 or
   the errno of the failure; a port in use on any of them is a failure. */
static int otel__prom_listen(otel__prom_server *s, const char *host, uint16_t port) {
    struct sockaddr_storage addrs[OTEL__PROM_LISTENERS];
    socklen_t lens[OTEL__PROM_LISTENERS];
    char node[256];
    size_t hl = host ? strlen(host) : 0;
    int err = EADDRNOTAVAIL, one = 1, i, n;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') { /* [::1] */
        host++;
        hl -= 2;
    }
    if (hl >= sizeof node) return EINVAL;
    memcpy(node, host ? host : "", hl);
    node[hl] = '\0';
    n = otel__prom_resolve(hl ? node : NULL, port, addrs, lens);
    for (i = 0; i < n && s->nlisteners < OTEL__PROM_LISTENERS; i++) {
        struct sockaddr *sa = (struct sockaddr *)&addrs[i];
        struct sockaddr_storage got;
        socklen_t gl = sizeof got;
        int fd;
        if (s->port) otel__prom_set_port(sa, s->port); /* port 0: the one the first address got */
        fd = socket(sa->sa_family, SOCK_STREAM, 0);
        if (fd < 0) { err = errno; continue; }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (sa->sa_family == AF_INET6) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, sa, lens[i]) != 0 || listen(fd, 64) != 0 || !otel__prom_fd_setup(fd)) {
            err = errno;
            close(fd);
            if (err == EADDRINUSE && port != 0) return EADDRINUSE; /* someone else serves this port */
            continue;
        }
        if (!s->port && getsockname(fd, (struct sockaddr *)&got, &gl) == 0)
            s->port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)(void *)&got)->sin_port
                                                     : ((struct sockaddr_in6 *)(void *)&got)->sin6_port);
        s->listeners[s->nlisteners++] = fd;
    }
    return s->nlisteners ? 0 : err;
}

static void otel__prom_free(otel__prom_server *s) {
    int i;
    for (i = 0; i < s->nlisteners; i++) close(s->listeners[i]);
    if (s->wake[0] >= 0) close(s->wake[0]);
    if (s->wake[1] >= 0) close(s->wake[1]);
    if (s->path) OTEL_FREE(s->path, NULL);
    OTEL_FREE(s, NULL);
}

static otel__prom_server *otel__prom_server_start(const char *host, uint16_t port, const char *path,
                                                  otel__prom_produce_fn produce, void *user, otel_result *err) {
    otel__prom_server *s;
    sigset_t all, old;
    int e, i;
    const char *h = host ? host : "";
    bool v6 = strchr(h, ':') != NULL && h[0] != '[';
    if (err) *err = OTEL_OK;
    if (!path || !*path) path = "/metrics";
    if (!produce || path[0] != '/') {
        otel__logf(OTEL_LOG_ERROR, "prometheus: invalid endpoint setup (the path must start with '/')");
        if (err) *err = OTEL_ERR_INVALID_ARG;
        return NULL;
    }
    s = (otel__prom_server *)otel__calloc(sizeof *s);
    if (!s || !(s->path = otel__strndup(path, strlen(path)))) {
        if (s) OTEL_FREE(s, NULL);
        if (err) *err = OTEL_ERR_NO_MEMORY;
        return NULL;
    }
    s->wake[0] = s->wake[1] = -1;
    for (i = 0; i < OTEL__PROM_CONNS; i++) s->conns[i].fd = -1;
    s->produce = produce;
    s->user = user;
    atomic_init(&s->stop, 0);
    e = otel__prom_listen(s, host, port);
    if (e) {
        otel__logf(OTEL_LOG_ERROR, "prometheus: cannot listen on %s%s%s:%u: %s%s", v6 ? "[" : "", h, v6 ? "]" : "",
                   (unsigned)port, strerror(e), e == EADDRINUSE ? " (another process serves this port)" : "");
        otel__prom_free(s);
        if (err) *err = OTEL_ERR_IO;
        return NULL;
    }
    if (pipe(s->wake) != 0 || !otel__prom_fd_setup(s->wake[0]) || !otel__prom_fd_setup(s->wake[1])) {
        otel__logf(OTEL_LOG_ERROR, "prometheus: cannot create a pipe: %s", strerror(errno));
        otel__prom_free(s);
        if (err) *err = OTEL_ERR_IO;
        return NULL;
    }
    /* the server thread takes no signals: they go to the application's threads */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&s->thread, NULL, otel__prom_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        otel__logf(OTEL_LOG_ERROR, "prometheus: cannot start the server thread: %s", strerror(e));
        otel__prom_free(s);
        if (err) *err = OTEL_ERR_IO;
        return NULL;
    }
    otel__logf(OTEL_LOG_DEBUG, "prometheus: serving http://%s%s%s:%u%s", v6 ? "[" : "", *h ? h : "0.0.0.0",
               v6 ? "]" : "", (unsigned)s->port, s->path);
    return s;
}

/* Stops serving: wakes the thread, joins it, closes every socket. Open connections are
   dropped. */
static void otel__prom_server_stop(otel__prom_server *s) {
    if (!s) return;
    atomic_store(&s->stop, 1);
    if (write(s->wake[1], "x", 1) < 0) { /* full pipe: a wake-up is pending anyway */
    }
    pthread_join(s->thread, NULL);
    otel__prom_free(s);
}

/* The bound port (the one picked by the OS when started with port 0). */
static uint16_t otel__prom_server_port(const otel__prom_server *s) OTEL__PROM_MAYBE_UNUSED;
static uint16_t otel__prom_server_port(const otel__prom_server *s) { return s ? s->port : 0; }


/* ==== [log] ====================================================================== */

/* Loggers and log records: written into the per-thread blocks like spans. A record is
   written straight into the emitting thread's current log block (no staging copy): the
   attribute items first (the span item format, so otel_iter_attr reads them), then the
   severity text, the event name and the body, which gets whatever room is left (cut short
   and counted when it does not fit in log_record_bytes). The header's pointers point into
   the record (an empty string is ""). The pipeline routes log records to the log
   destinations only. */

static const char otel__severity_names[25][8] = { /* 8 bytes each: copied as one word */
    "", "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4",
    "INFO", "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4",
    "ERROR", "ERROR2", "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4"};
static const uint8_t otel__severity_len[25] = {0, 5, 6, 6, 6, 5, 6, 6, 6, 4, 5, 5, 5, 4, 5, 5, 5, 5, 6, 6, 6, 5, 6, 6, 6};

#define OTEL__HAVE_LOG_ATTRS 1
OTEL_API otel_iter otel_log_attrs(const otel_log_data *r) {
    otel_iter it;
    it.p = r && r->otel__items ? r->otel__items : NULL;
    it.end = it.p ? it.p + r->otel__items_len : NULL;
    return it;
}

OTEL_API otel_logger *otel_logger_get(const char *scope_name, const char *scope_version) {
    otel__state *g = otel__g;
    if (!g) return NULL;
    if (!scope_name) return &g->loggers[0];
    pthread_mutex_lock(&g->tracer_mu);
    otel_scope *sc = otel__scope_table_get(g->loggers, sizeof g->loggers[0], &g->nloggers, OTEL__MAX_TRACERS,
                                           scope_name, scope_version ? scope_version : "");
    pthread_mutex_unlock(&g->tracer_mu);
    if (!sc) {
        otel__logf(OTEL_LOG_WARN, "logger '%s': too many loggers (%d) or no memory; using the default logger",
                   scope_name, OTEL__MAX_TRACERS);
        return &g->loggers[0];
    }
    return (otel_logger *)sc; /* the scope is the logger's first member */
}

/* ---- writing a record ----------------------------------------------------------------- */

/* Bytes a string may take in a record: UTF-8 repair turns a byte into at most 3. (No scan
   for ASCII: a generous reservation costs nothing, a second scan would.) */
static inline size_t otel__lstr_bound(size_t n, size_t lim) {
    return n >= lim ? lim : 3 * n + 8;
}

/* Bytes a value may take in a record (at most `lim`: more is cut anyway). */
static size_t otel__lvalue_bound_slow(const otel_value *v, size_t lim) {
    size_t n = v->len, b;
    if (n >= lim) return lim;
    switch (v->type) {
    case OTEL_VALUE_BOOL_ARRAY: return OTEL__ALIGN8(n);
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY: return n * 8;
    case OTEL_VALUE_STRING_ARRAY:
        b = OTEL__ALIGN8(n * 8) + 8;
        for (size_t i = 0; i < n && b < lim; i++) b += 3 * otel_value_str_at(v, i).len + 1;
        return b < lim ? b : lim;
    default: return 0;
    }
}

static inline size_t otel__lvalue_bound(const otel_value *v, size_t lim) {
    if (v->type == OTEL_VALUE_STRING) return otel__lstr_bound(v->len, lim);
    return v->type <= OTEL_VALUE_DOUBLE ? 0 : otel__lvalue_bound_slow(v, lim);
}

/* Appends a string at items_end of the record being written; `out` gets its address (""
   when empty). *cut: it did not fit whole. */
static OTEL__ALWAYS_INLINE void otel__lput_str(otel__slot *s, const char *p, size_t n, otel_str *out, bool *cut) {
    size_t at = s->items_end, w = 0;
    bool tr = false;
    size_t used = n ? otel__arena_put_str(s, at, p, n, SIZE_MAX, &w, &tr) : 0;
    out->len = used ? w : 0;
    out->ptr = out->len ? (const char *)s->arena + at : "";
    s->items_end += (uint32_t)used;
    *cut = (n && !used) || tr;
}

/* The body: scalars inline, strings and arrays after the other parts. False: cut short
   (a string) or left out (an array that does not fit). */
static bool otel__lput_body(otel__slot *s, const otel_value *v, otel_value *out) {
    bool cut = false;
    out->type = v->type;
    out->flags = 0;
    out->len = 0;
    out->u.i = 0;
    switch (v->type) {
    case OTEL_VALUE_STRING: {
        otel_str bs;
        otel__lput_str(s, v->u.s ? v->u.s : "", v->u.s ? v->len : 0, &bs, &cut);
        out->u.s = bs.ptr;
        out->len = bs.len;
        return !cut;
    }
    case OTEL_VALUE_BOOL: out->u.b = v->u.b; return true;
    case OTEL_VALUE_INT: out->u.i = v->u.i; return true;
    case OTEL_VALUE_DOUBLE: out->u.d = v->u.d; return true;
    case OTEL_VALUE_STRING_ARRAY:
    case OTEL_VALUE_BOOL_ARRAY:
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY: {
        otel__item it;
        size_t at = s->items_end, used = otel__put_value(s, at, v, SIZE_MAX, &it);
        if (used == (size_t)-1) {
            out->type = OTEL_VALUE_NONE;
            return false;
        }
        out->len = it.vlen;
        out->u.packed = s->arena + at;
        if (v->type == OTEL_VALUE_STRING_ARRAY) out->flags = OTEL_VALUE_PACKED;
        s->items_end += (uint32_t)used;
        return true;
    }
    default: break;
    }
    out->type = OTEL_VALUE_NONE; /* none, or not a value type */
    return true;
}

/* Hands a written record to the SIMPLE log destinations, on this thread. */
static void otel__log_export_simple(otel__state *g, otel__thread *t, const otel__lrec *r) {
    const otel_log_data *one = &r->d;
    t->log_busy = 1; /* a record emitted from inside the exporter would overwrite this one */
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (ds->d.processor != OTEL_PROCESSOR_SIMPLE || ds->signal != OTEL_SIGNAL_LOGS) continue;
        otel_log_batch b;
        b.records = &one;
        b.count = 1;
        b.resource = &g->resource;
        b.timeout_ms = ds->d.export_timeout_ms;
        pthread_mutex_lock(&ds->export_mu);
        bool ok = !ds->stop && !ds->tainted && ds->exp.export_logs(&b, ds->exp.user) == OTEL_EXPORT_SUCCESS;
        pthread_mutex_unlock(&ds->export_mu);
        otel__add_rlx(ok ? &ds->exported : &ds->failed, 1);
        if (!ok) OTEL__LOG_ONCE(ds->once_fail, OTEL_LOG_WARN, "destination '%s': exporter failed (reported once)", ds->name);
    }
    t->log_busy = 0;
}

static void otel__log_drop(otel__state *g, otel__thread *t, const char *why) {
    OTEL__BUMP(t->logs_dropped, 1);
    OTEL__LOG_ONCE(g->once_log_ring, OTEL_LOG_WARN, "log record dropped: %s (counted; reported once, totals at shutdown)", why);
}

static int otel__vformat(char *buf, size_t size, const char *fmt, va_list ap);

/* The length of a printf message (what vsnprintf would return), formatting nothing. */
static size_t otel__fmt_len(const char *fmt, va_list *ap) {
    char one;
    va_list a;
    va_copy(a, *ap);
    int n = otel__vformat(&one, 1, fmt, a);
    va_end(a);
    return n < 0 ? 0 : (size_t)n;
}

/* The bytes a record may need in a block: its header and at most `lim` bytes of parts.
   `fmt`: the body is that printf message. */
static OTEL__NOINLINE uint32_t otel__log_bound(const otel_log_record *r, size_t na, size_t lim, const char *fmt,
                                              va_list *ap) {
    size_t stn = r->severity_text ? strlen(r->severity_text) : 8, evn = r->event_name ? strlen(r->event_name) : 0;
    size_t body = fmt ? otel__lstr_bound(otel__fmt_len(fmt, ap), lim) : otel__lvalue_bound(&r->body, lim);
    size_t bound = otel__lstr_bound(stn, lim) + otel__lstr_bound(evn, lim) + body;
    for (size_t i = 0; i < na && bound < lim; i++)
        bound += sizeof(otel__item) + otel__lstr_bound(r->attrs[i].key.len, lim) + otel__lvalue_bound(&r->attrs[i].value, lim);
    return (uint32_t)OTEL__ALIGN8(sizeof(otel__lrec) + (bound < lim ? bound : lim));
}

/* The block for a record that may not fit in the room left in this thread's current log
   block (log_record_bytes): a block with at least an eighth of it free takes the record if
   it has the room the record may need (otel__log_bound), else the next block does; and when
   none is free, the current one does, as long as it has that room. *size: the room asked. */
static OTEL__NOINLINE otel__block *otel__log_block(otel__state *g, otel__thread *t, const otel_log_record *r, size_t na,
                                                  size_t lim, const char *fmt, va_list *ap, uint32_t *size) {
    otel__block *b = t->cur[1];
    uint32_t need = 0;
    if (otel__block_fits(b, g->blk_bytes / 8)) {
        need = otel__log_bound(r, na, lim, fmt, ap);
        if (otel__block_fits(b, need)) {
            *size = need;
            return b;
        }
    }
    otel__block *nb = otel__block_next(g, t, 1);
    if (nb) return nb;
    if (b && !need) need = otel__log_bound(r, na, lim, fmt, ap);
    if (!otel__block_fits(b, need)) {
        otel__block_seal(t, 1);
        return NULL;
    }
    *size = need;
    return b;
}

/* Formats a printf message straight into the record, at items_end, as its string body:
   cut short to the room left (at a character boundary) and repaired to valid UTF-8 in
   place. Returns true when it was cut. */
static bool otel__lput_fmt(otel__slot *s, const char *fmt, va_list *ap, otel_value *out) {
    size_t at = s->items_end, room = s->cap - at; /* a multiple of 8: records and items are */
    char *buf = (char *)s->arena + at;
    out->type = OTEL_VALUE_STRING;
    out->flags = 0;
    out->len = 0;
    out->u.s = "";
    if (room < 8) return otel__fmt_len(fmt, ap) > 0; /* no room at all */
    size_t cap = room - 1, len, bad;
    int n = otel__vformat(buf, room, fmt, *ap); /* the last reader of *ap */
    len = n < 0 ? 0 : (size_t)n;
    bool cut = n < 0 || len > cap;
    if (len > cap) { /* do not leave a split character at the end */
        size_t k = len = cap;
        while (k > 0 && len - k < 3 && ((unsigned char)buf[k - 1] & 0xC0) == 0x80) k--;
        if (k > 0 && (unsigned char)buf[k - 1] >= 0xC0 && !otel__utf8_seq((unsigned char *)buf + k - 1, len - k + 1, &bad))
            len = k - 1;
    }
    if (!otel__ascii(buf, len) && !otel__utf8_valid(buf, len)) {
        /* The longest start whose repair fits in `cap` moves to the end of the room and is
           repaired from there to the front: the output then never passes the input not
           yet read (it would only where the repaired text is longer than `cap`). */
        size_t in;
        otel__utf8_fit(buf, len, SIZE_MAX, cap, &in);
        cut |= in < len;
        memmove(buf + cap - in, buf, in);
        len = otel__utf8_copy(buf, cap, buf + cap - in, in, SIZE_MAX, NULL);
    }
    size_t used = OTEL__ALIGN8(len + 1); /* <= room: room is a multiple of 8 and len < room */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* the NUL and the padding (1 to 8 bytes) by one word, the last, keeping its bytes below len */
    uint64_t w;
    unsigned keep = (unsigned)(len - (used - 8)); /* 0..7 */
    memcpy(&w, buf + used - 8, 8);
    w &= ((uint64_t)1 << (8 * keep)) - 1;
    memcpy(buf + used - 8, &w, 8);
#else
    for (size_t j = len; j < used; j++) buf[j] = 0; /* the NUL and the padding: 1 to 8 bytes */
#endif
    out->len = len;
    if (len) out->u.s = buf;
    s->items_end += (uint32_t)used;
    return cut;
}

/* What every record ends with: the times, the trace context (the record's own, else the
   active span's), severity, counts, scope and size (`end`: bytes of parts written), and
   the counters (the warning for a cut body follows the push: otel__log_cut_note). */
static OTEL__ALWAYS_INLINE void otel__log_finish(otel__thread *t, const otel_logger *lg, const otel_log_record *r,
                                                 otel__lrec *rec, uint8_t sev, uint32_t attr_count, uint32_t dropped,
                                                 size_t end, bool cut) {
    otel_log_data *d = &rec->d;
    d->time_ns = r->time_ns;
    d->observed_time_ns = r->observed_time_ns ? r->observed_time_ns : otel__now();
    const otel__slot *top = r->context ? NULL : otel__stack_top(t);
    if (r->context) {
        memcpy(d->trace_id, r->context->trace_id, 16);
        memcpy(d->span_id, r->context->span_id, 8);
        d->trace_flags = r->context->trace_flags;
    } else if (top) {
        memcpy(d->trace_id, top->trace_id, 16);
        memcpy(d->span_id, top->span_id, 8);
        d->trace_flags = top->trace_flags;
    } else {
        memset(d->trace_id, 0, 16);
        memset(d->span_id, 0, 8);
        d->trace_flags = 0;
    }
    d->severity = sev;
    d->attr_count = attr_count;
    d->dropped_attrs = dropped;
    d->scope = &lg->scope;
    rec->type = OTEL__REC_LOG;
    rec->size = (uint32_t)OTEL__ALIGN8(sizeof(otel__lrec) + end);
    if (cut) OTEL__BUMP(t->logs_truncated, 1);
    OTEL__BUMP(t->logs, 1);
}

/* The warning for a cut body, once; called after the record is published (the diag
   callback may emit a record on this thread). */
static OTEL__NOINLINE void otel__log_cut_note(otel__state *g, size_t lim) {
    OTEL__LOG_ONCE(g->once_log_trunc, OTEL_LOG_WARN,
                   "log record body cut short (log_record_bytes=%u; counted, reported once)", (unsigned)lim);
}

/* The usual record, straight-line and with its state in registers (otel__log_write keeps
   a slot view and many values live, and spills them): batch log destinations only, no
   severity text or event name given, a string body or a printf message, scalar or string
   attributes within the limits, with ASCII keys and values whose filter bits differ, all
   in the room the current block has for the largest record. It writes exactly what
   otel__log_write would. False: not such a record; nothing was published (what was
   written is free space) and `ap` was not read: otel__log_write then writes it. */
static OTEL__NOINLINE bool otel__log_fast(otel__state *g, otel__thread *t, const otel_logger *lg,
                                          const otel_log_record *r, const char *fmt, va_list *ap) {
    otel__block *b = t->cur[1];
    size_t lim = g->cfg.log_record_bytes;
    if (!g->any_batch_log || g->any_simple_log || t->log_busy || r->severity_text || r->event_name ||
        !otel__block_fits(b, (uint32_t)(sizeof(otel__lrec) + lim)))
        return false;
    const char *body = NULL;
    size_t bn = 0;
    if (!fmt) {
        if (r->body.type != OTEL_VALUE_STRING || !r->body.u.s) return false;
        body = r->body.u.s;
        bn = r->body.len;
    }
    size_t na = r->attrs ? r->attr_count : 0;
    if (na > g->llim.attr_count) return false;
    otel__lrec *rec = (otel__lrec *)(void *)(b->data + b->used);
    unsigned char *arena = (unsigned char *)(rec + 1);
    uint32_t vlim = g->llim.attr_value_length;
    size_t at = 0;
    uint64_t keys = 0, acc = 0;
    for (size_t i = 0; i < na; i++) {
        const otel_attr *a = &r->attrs[i];
        const char *key = a->key.ptr, *str = NULL;
        size_t klen = a->key.len, slen = 0;
        uint64_t bits = 0;
        otel_value_type ty = a->value.type;
        if (ty == OTEL_VALUE_STRING) {
            str = a->value.u.s;
            slen = a->value.len;
            if (!str || slen > vlim) return false;
        } else if (ty == OTEL_VALUE_INT) { /* otel__value_bits inside the type test this path
                                              needs anyway: 4 fewer instructions a record */
            bits = (uint64_t)a->value.u.i;
        } else if (ty == OTEL_VALUE_DOUBLE) {
            memcpy(&bits, &a->value.u.d, 8);
        } else if (ty == OTEL_VALUE_BOOL) {
            bits = a->value.u.b ? 1 : 0;
        } else {
            return false;
        }
        if (!key || klen - 1 >= 0xfff0) return false;
        size_t kused = OTEL__ALIGN8(klen + 1), vused = str ? OTEL__ALIGN8(slen + 1) : 0;
        size_t size = sizeof(otel__item) + kused + vused;
        uint64_t kb = OTEL__KEYBIT(key, klen);
        if (at + size > lim || (keys & kb)) return false;
        keys |= kb;
        acc |= otel__item_write((otel__item *)(void *)(arena + at), size, key, klen, kused, ty, bits, str, slen, vused);
        at += size;
    }
    /* then the severity's short name (8 bytes with its NUL) and the body */
    if (lim - at < 8) return false;
    otel_log_data *d = &rec->d;
    size_t bat = at + 8;
    bool cut = false;
    if (!fmt) {
        d->body.u.s = "";
        if (bn) {
            if (bn >= lim - bat || bat + OTEL__ALIGN8(bn + 1) > lim) return false;
            acc |= otel__copy_pad(arena + bat, body, bn);
            d->body.u.s = (const char *)arena + bat;
            bat += OTEL__ALIGN8(bn + 1);
        }
        if (acc & 0x8080808080808080ull) return false;
        d->body.type = OTEL_VALUE_STRING;
        d->body.flags = 0;
        d->body.len = bn;
    } else {
        if (acc & 0x8080808080808080ull) return false;
        otel__slot s; /* the view otel__lput_fmt writes through */
        s.arena = arena;
        s.cap = (uint32_t)lim;
        s.items_end = (uint32_t)bat;
        cut = otel__lput_fmt(&s, fmt, ap, &d->body);
        bat = s.items_end;
    }
    uint8_t sev = (unsigned)r->severity <= 24 ? (uint8_t)r->severity : 0;
    memcpy(arena + at, otel__severity_names[sev], 8);
    d->severity_text.len = otel__severity_len[sev];
    d->severity_text.ptr = d->severity_text.len ? (const char *)arena + at : "";
    d->otel__items = arena;
    d->otel__items_len = at;
    d->event_name.ptr = "";
    d->event_name.len = 0;
    otel__log_finish(t, lg, r, rec, sev, (uint32_t)na, 0, bat, cut);
    otel__block_push(b, d, rec->size);
    if (cut) otel__log_cut_note(g, lim); /* after the push: the diag callback may log */
    OTEL__FAST_HIT(0);
    return true;
}

/* Writes one record for this thread: into its ring when there are batch log destinations
   (else into its scratch buffer), then to the SIMPLE ones. `fmt` (with `ap`): the body is
   that printf message, formatted straight into the record. Thread: the caller's.
   Allocates: never once warmed up. */
static void otel__log_write(otel__state *g, otel__thread *t, const otel_logger *lg, const otel_log_record *r,
                            const char *fmt, va_list *ap) {
    if (t->log_busy) {
        otel__log_drop(g, t, "emitted from inside a SIMPLE log exporter or a diag callback during a record's write");
        return;
    }
    size_t lim = g->cfg.log_record_bytes;
    uint8_t sev = (unsigned)r->severity <= 24 ? (uint8_t)r->severity : 0;
    size_t na = r->attrs ? r->attr_count : 0;
    /* Room for the largest record first: one check, no walk over the parts. Only when that
       is not free, the room this record may need (otel__log_bound), so that a nearly full
       ring does not refuse it early. */
    uint32_t size = (uint32_t)(sizeof(otel__lrec) + lim);
    otel__lrec *rec;
    otel__block *b = NULL;
    if (g->any_batch_log) {
        b = t->cur[1];
        if (OTEL__UNLIKELY(!otel__block_fits(b, size)))
            b = otel__log_block(g, t, r, na, lim, fmt, ap, &size);
        if (!b) {
            otel__log_drop(g, t, "the thread's ring is full");
            return;
        }
        rec = (otel__lrec *)(void *)(b->data + b->used);
    } else { /* SIMPLE only: a per-thread scratch record */
        if (!t->lscratch) t->lscratch = (unsigned char *)OTEL_MALLOC(sizeof(otel__lrec) + lim, NULL);
        if (!t->lscratch) {
            otel__log_drop(g, t, "out of memory");
            return;
        }
        rec = (otel__lrec *)(void *)t->lscratch;
    }
    /* until it is published: a diag callback (a limit note) that emits a record on this
       thread would write over this one */
    t->log_busy = 1;
    /* the record's storage as a span arena: the attribute code is shared */
    otel__slot s;
    s.arena = (unsigned char *)(rec + 1);
    s.cap = size - (uint32_t)sizeof(otel__lrec);
    s.str_used = 0;
    s.items_off = s.items_end = 0;
    s.flags = OTEL__SPAN_IS_LOG;
    s.attr_count = 0;
    s.keys = 0;
    uint32_t dropped = 0;
    size_t maxc = otel__limit_chars(g->llim.attr_value_length);
    for (size_t i = 0; i < na; i++) {
        const otel_attr *a = &r->attrs[i];
        if (otel__attr_fast_attr(&s, a, g->llim.attr_count, g->llim.attr_value_length)) continue; /* the usual case */
        int k = otel__attr_append(g, &s, 0, s.attr_count, g->llim.attr_count, maxc, a->key.ptr, a->key.len, &a->value);
        if (k > 0) s.attr_count++;
        else if (k < 0) dropped++;
    }
    otel_log_data *d = &rec->d;
    bool c1, c2;
    d->otel__items = s.arena;
    d->otel__items_len = s.items_end;
    if (!r->severity_text && s.cap - s.items_end >= 8) { /* a short name: 8 bytes with its NUL */
        memcpy(s.arena + s.items_end, otel__severity_names[sev], 8);
        d->severity_text.len = otel__severity_len[sev];
        d->severity_text.ptr = d->severity_text.len ? (const char *)s.arena + s.items_end : "";
        s.items_end += 8;
        c1 = false;
    } else {
        const char *st = r->severity_text ? r->severity_text : otel__severity_names[sev];
        otel__lput_str(&s, st, r->severity_text ? strlen(st) : otel__severity_len[sev], &d->severity_text, &c1);
    }
    if (r->event_name) {
        otel__lput_str(&s, r->event_name, strlen(r->event_name), &d->event_name, &c2);
    } else { /* none: empty (read by its length) */
        d->event_name.ptr = "";
        d->event_name.len = 0;
        c2 = false;
    }
    bool cut = fmt ? otel__lput_fmt(&s, fmt, ap, &d->body) : !otel__lput_body(&s, &r->body, &d->body);
    cut |= c1 || c2;
    otel__log_finish(t, lg, r, rec, sev, s.attr_count, dropped, s.items_end, cut);
    if (b) otel__block_push(b, d, rec->size); /* first: SIMPLE exporters cannot touch it then */
    t->log_busy = 0;
    if (cut) otel__log_cut_note(g, lim);
    if (g->any_simple_log) otel__log_export_simple(g, t, rec);
}

/* ---- public calls --------------------------------------------------------------------- */

/* This thread's record state, or NULL when nothing is to be recorded (lost ones counted). */
static otel__thread *otel__log_thread(otel__state *g) {
    if (!g->any_batch_log && !g->any_simple_log) return NULL; /* no log destination */
    otel__thread *t = otel__self(g);
    if (!t) {
        otel__add_rlx(&g->logs_lost, 1);
        OTEL__LOG_ONCE(g->once_log_lost, OTEL_LOG_WARN, "log records of a thread that could not register are dropped");
    }
    return t;
}

OTEL_API void otel_logger_emit(otel_logger *logger, const otel_log_record *rec) {
    otel__state *g = otel__g;
    if (!g || !rec) return;
    otel__thread *t = otel__log_thread(g);
    const otel_logger *lg = logger ? logger : &g->loggers[0];
    if (t && !otel__log_fast(g, t, lg, rec, NULL, NULL)) otel__log_write(g, t, lg, rec, NULL, NULL);
}

/* Appends k bytes at buf + *n, of which only those below `cap` are written; *n counts them
   all. */
static OTEL__ALWAYS_INLINE void otel__fmt_put(char *buf, size_t cap, size_t *n, const char *s, size_t k) {
    if (*n < cap) otel__copy((unsigned char *)buf + *n, s, k <= cap - *n ? k : cap - *n);
    *n += k;
}

/* printf formatting for log messages: vsnprintf's result, byte for byte, faster for the
   formats log calls use. Conversions without flags, width or precision (d i u x X c s and
   %%, with the length modifiers hh h l ll z j t) are written here. Any other conversion
   (a float, a width, %p, %n, ...) or a NULL %s argument hands the whole call to
   vsnprintf: otel__vformat_fast reads a copy of `ap`, so vsnprintf starts again from the
   first argument. (glibc's vsnprintf spends most of a short message's time setting up a
   FILE and copying literal runs byte by byte.) Returns what vsnprintf returns: the full
   length (bytes beyond size - 1 are not written), or -1. `size` >= 1.
   otel__vformat_fast returns -2 for a format it leaves to vsnprintf. */
static int otel__vformat_fast(char *buf, size_t size, const char *fmt, va_list ap) {
    size_t n = 0, cap = size - 1;
    const char *p = fmt, *end = fmt + strlen(fmt);
    for (;;) {
        const char *q = (const char *)memchr(p, '%', (size_t)(end - p));
        if (!q) q = end;
        if (q > p) otel__fmt_put(buf, cap, &n, p, (size_t)(q - p)); /* a literal run */
        if (q == end) break;
        q++; /* past '%' */
        char num[24];
        const char *s = num;
        size_t k;
        if (*q == '%') {
            s = "%", k = 1;
        } else {
            int lm = 0; /* 'H' hh, 'h', 'l', 'L' ll, 'z', 'j', 't' */
            if (*q == 'h') lm = q[1] == 'h' ? (q++, 'H') : 'h', q++;
            else if (*q == 'l') lm = q[1] == 'l' ? (q++, 'L') : 'l', q++;
            else if (*q == 'z' || *q == 'j' || *q == 't') lm = *q++;
            char c = *q;
            if (c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X') {
                uint64_t u;
                bool neg = false;
                if (c == 'd' || c == 'i') {
                    int64_t v;
                    switch (lm) {
                    case 0: v = va_arg(ap, int); break;
                    case 'H': v = (signed char)va_arg(ap, int); break;
                    case 'h': v = (short)va_arg(ap, int); break;
                    case 'l': v = va_arg(ap, long); break;
                    case 'L': v = va_arg(ap, long long); break;
                    case 'z': v = (int64_t)(ptrdiff_t)va_arg(ap, size_t); break;
                    case 'j': v = (int64_t)va_arg(ap, intmax_t); break;
                    default: v = (int64_t)va_arg(ap, ptrdiff_t); break;
                    }
                    neg = v < 0;
                    u = neg ? 0 - (uint64_t)v : (uint64_t)v;
                } else {
                    switch (lm) {
                    case 0: u = va_arg(ap, unsigned); break;
                    case 'H': u = (unsigned char)va_arg(ap, unsigned); break;
                    case 'h': u = (unsigned short)va_arg(ap, unsigned); break;
                    case 'l': u = va_arg(ap, unsigned long); break;
                    case 'L': u = va_arg(ap, unsigned long long); break;
                    case 'z': u = va_arg(ap, size_t); break;
                    case 'j': u = (uint64_t)va_arg(ap, uintmax_t); break;
                    default: u = (uint64_t)(size_t)va_arg(ap, ptrdiff_t); break;
                    }
                }
                char *e = num + sizeof num, *d = e;
                if (c == 'x' || c == 'X') {
                    const char *dig = c == 'x' ? otel__hex_digits : "0123456789ABCDEF";
                    do *--d = dig[u & 15]; while (u >>= 4);
                } else {
                    do *--d = (char)('0' + u % 10); while (u /= 10);
                }
                if (neg) *--d = '-';
                s = d, k = (size_t)(e - d);
            } else if (c == 'c' && lm == 0) {
                num[0] = (char)(unsigned char)va_arg(ap, int);
                k = 1;
            } else if (c == 's' && lm == 0) {
                s = va_arg(ap, const char *);
                if (!s) return -2; /* "(null)" or a crash: the C library's choice */
                k = strlen(s);
            } else {
                return -2;
            }
        }
        otel__fmt_put(buf, cap, &n, s, k);
        p = q + 1;
    }
    buf[n < cap ? n : cap] = 0;
    return n > INT_MAX ? -1 : (int)n;
}

static int otel__vformat(char *buf, size_t size, const char *fmt, va_list ap) {
    va_list ap1;
    va_copy(ap1, ap);
    int r = otel__vformat_fast(buf, size, fmt, ap1);
    va_end(ap1);
    return r == -2 ? vsnprintf(buf, size, fmt, ap) : r;
}

static void otel__logv(otel_logger *logger, otel_severity sev, const otel_attr *attrs, size_t count, const char *fmt,
                       va_list ap) {
    otel__state *g = otel__g;
    if (!g) return;
    otel__thread *t = otel__log_thread(g);
    if (!t) return;
    otel_log_record r;
    memset(&r, 0, sizeof r);
    r.severity = sev;
    r.time_ns = r.observed_time_ns = otel__now(); /* the call is the event */
    r.attrs = attrs;
    r.attr_count = attrs ? count : 0;
    va_list a;
    va_copy(a, ap);
    const otel_logger *lg = logger ? logger : &g->loggers[0];
    if (!fmt) fmt = "";
    if (!otel__log_fast(g, t, lg, &r, fmt, &a)) otel__log_write(g, t, lg, &r, fmt, &a);
    va_end(a);
}

OTEL_API void otel_logger_logf(otel_logger *logger, otel_severity sev, const otel_attr *attrs, size_t count,
                               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    otel__logv(logger, sev, attrs, count, fmt, ap);
    va_end(ap);
}

#define OTEL__LOGF_LEVEL(fn, sev)                                                                  \
    OTEL_API void fn(otel_logger *l, const otel_attr *attrs, size_t count, const char *fmt, ...) { \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        otel__logv(l, sev, attrs, count, fmt, ap);                                                 \
        va_end(ap);                                                                                \
    }
OTEL__LOGF_LEVEL(otel_logger_trace, OTEL_SEVERITY_TRACE)
OTEL__LOGF_LEVEL(otel_logger_debug, OTEL_SEVERITY_DEBUG)
OTEL__LOGF_LEVEL(otel_logger_info, OTEL_SEVERITY_INFO)
OTEL__LOGF_LEVEL(otel_logger_warn, OTEL_SEVERITY_WARN)
OTEL__LOGF_LEVEL(otel_logger_error, OTEL_SEVERITY_ERROR)
OTEL__LOGF_LEVEL(otel_logger_fatal, OTEL_SEVERITY_FATAL)
#undef OTEL__LOGF_LEVEL

/* ---- JSON: the console shape and OTLP/JSON ------------------------------------------------ */

static bool otel__id_is_zero(const uint8_t *id, size_t n) {
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++) any |= id[i];
    return any == 0;
}

/* The Python SDK's LogRecord.to_json() shape (ConsoleLogExporter); pretty (ind 0) or one
   line (ind -1). */
static void otel__console_log(otel__buf *b, const otel_log_data *r, const otel_resource *res, int ind) {
    char ts[40];
    const char *sep = ind < 0 ? ":" : ": ";
    int i1 = ind < 0 ? -1 : ind + 1;
    otel__buf_putc(b, '{');
    otel__json_nl(b, i1); otel__buf_printf(b, "\"body\"%s", sep);
    if (r->body.type == OTEL_VALUE_NONE) otel__buf_puts(b, "null");
    else otel__json_value(b, &r->body, false);
    otel__buf_putc(b, ',');
    otel__json_nl(b, i1); otel__buf_printf(b, "\"severity_number\"%s%u,", sep, (unsigned)r->severity);
    otel__json_nl(b, i1); otel__buf_printf(b, "\"severity_text\"%s", sep);
    otel__buf_json_str(b, r->severity_text.ptr, r->severity_text.len);
    otel__buf_putc(b, ',');
    otel__json_nl(b, i1); otel__buf_printf(b, "\"attributes\"%s", sep);
    if (r->attr_count) otel__console_attrs(b, otel_log_attrs(r), i1);
    else otel__buf_puts(b, "null");
    otel__buf_putc(b, ',');
    otel__json_nl(b, i1); otel__buf_printf(b, "\"dropped_attributes\"%s%u,", sep, (unsigned)r->dropped_attrs);
    otel__json_nl(b, i1);
    if (r->time_ns) {
        otel__iso8601(ts, r->time_ns);
        otel__buf_printf(b, "\"timestamp\"%s\"%s\",", sep, ts);
    } else {
        otel__buf_printf(b, "\"timestamp\"%snull,", sep);
    }
    otel__iso8601(ts, r->observed_time_ns);
    otel__json_nl(b, i1); otel__buf_printf(b, "\"observed_timestamp\"%s\"%s\",", sep, ts);
    otel__json_nl(b, i1); otel__hex_field(b, "trace_id", r->trace_id, 16, true, sep); otel__buf_putc(b, ',');
    otel__json_nl(b, i1); otel__hex_field(b, "span_id", r->span_id, 8, true, sep); otel__buf_putc(b, ',');
    otel__json_nl(b, i1); otel__buf_printf(b, "\"trace_flags\"%s%u,", sep, (unsigned)r->trace_flags);
    otel__console_resource(b, res, sep, i1); otel__buf_puts(b, "},");
    otel__json_nl(b, i1); otel__buf_printf(b, "\"event_name\"%s", sep);
    otel__buf_json_str(b, r->event_name.ptr, r->event_name.len);
    otel__json_nl(b, ind);
    otel__buf_putc(b, '}');
}

/* One OTLP/JSON LogRecord. Fields at their proto3 default are left out (a time of 0 is
   "unset"); ids are hex, 64-bit integers strings, the body an AnyValue. */
static void otel__json_log_record(otel__buf *b, const otel_log_data *r) {
    otel__buf_putc(b, '{');
    if (r->time_ns) otel__buf_printf(b, "\"timeUnixNano\":\"%llu\",", (unsigned long long)r->time_ns);
    otel__buf_printf(b, "\"observedTimeUnixNano\":\"%llu\"", (unsigned long long)r->observed_time_ns);
    if (r->severity) otel__buf_printf(b, ",\"severityNumber\":%u", (unsigned)r->severity);
    if (r->severity_text.len) {
        otel__buf_puts(b, ",\"severityText\":");
        otel__buf_json_str(b, r->severity_text.ptr, r->severity_text.len);
    }
    if (r->body.type != OTEL_VALUE_NONE) {
        otel__buf_puts(b, ",\"body\":");
        otel__json_value(b, &r->body, true);
    }
    otel__buf_putc(b, ',');
    otel__otlp_attrs(b, otel_log_attrs(r));
    if (r->dropped_attrs) otel__buf_printf(b, ",\"droppedAttributesCount\":%u", (unsigned)r->dropped_attrs);
    if (r->trace_flags) otel__buf_printf(b, ",\"flags\":%u", (unsigned)r->trace_flags);
    if (!otel__id_is_zero(r->trace_id, 16)) {
        otel__buf_putc(b, ',');
        otel__hex_field(b, "traceId", r->trace_id, 16, false, ":");
    }
    if (!otel__id_is_zero(r->span_id, 8)) {
        otel__buf_putc(b, ',');
        otel__hex_field(b, "spanId", r->span_id, 8, false, ":");
    }
    if (r->event_name.len) {
        otel__buf_puts(b, ",\"eventName\":");
        otel__buf_json_str(b, r->event_name.ptr, r->event_name.len);
    }
    otel__buf_putc(b, '}');
}

/* One OTLP/JSON ExportLogsServiceRequest for the batch (no newline), records grouped by
   scope in first-seen order. Also used by otel_otlp.h for http/json. */
/* otel_otlp.h sends this body for logs with http/json. */
#define OTEL__HAVE_JSON_LOGS 1
static const otel_scope *otel__log_scope_at(const void *batch, size_t i) {
    return ((const otel_log_batch *)batch)->records[i]->scope;
}
static void otel__json_log_record_at(otel__buf *b, const void *batch, size_t i) {
    otel__json_log_record(b, ((const otel_log_batch *)batch)->records[i]);
}

static void otel__json_logs_request(otel__buf *b, const otel_log_batch *batch) {
    otel__buf_puts(b, "{\"resourceLogs\":[");
    otel__otlp_resource(b, batch->resource);
    otel__buf_puts(b, ",\"scopeLogs\":[");
    otel__json_by_scope(b, batch, batch->count, otel__log_scope_at, "},\"logRecords\":[", otel__json_log_record_at, "]}");
    otel__buf_puts(b, "]}]}");
}

/* ---- the built-in exporters' log side ------------------------------------------------------ */

static otel_export_result otel__console_export_logs(const otel_log_batch *batch, void *user) {
    otel__console *c = (otel__console *)user;
    pthread_mutex_lock(&c->mu);
    c->buf.len = 0;
    c->buf.failed = false;
    for (size_t i = 0; i < batch->count; i++) {
        otel__console_log(&c->buf, batch->records[i], batch->resource, c->format == OTEL_CONSOLE_COMPACT ? -1 : 0);
        otel__buf_putc(&c->buf, '\n');
    }
    return otel__console_write_unlock(c);
}

/* One OTLP/JSON ExportLogsServiceRequest line per batch (flat: one console-shaped record
   per line), written with the span side's lock and O_APPEND. */
static otel_export_result otel__file_export_logs(const otel_log_batch *batch, void *user) {
    otel__file *f = (otel__file *)user;
    pthread_mutex_lock(&f->mu);
    f->buf.len = 0;
    f->buf.failed = false;
    if (f->format == OTEL_FILE_FLAT) {
        for (size_t i = 0; i < batch->count; i++) {
            otel__console_log(&f->buf, batch->records[i], batch->resource, -1);
            otel__buf_putc(&f->buf, '\n');
        }
    } else if (batch->count) {
        otel__json_logs_request(&f->buf, batch);
        otel__buf_putc(&f->buf, '\n');
    }
    return otel__file_write_unlock(f);
}

/* Bytes of a body value's out-of-line part once copied (string arrays packed). */
static size_t otel__body_bytes(const otel_value *v) {
    size_t n = v->len, b;
    switch (v->type) {
    case OTEL_VALUE_STRING: return n + 1;
    case OTEL_VALUE_BOOL_ARRAY: return n;
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY: return n * 8;
    case OTEL_VALUE_STRING_ARRAY:
        b = OTEL__ALIGN8(n * 8);
        for (size_t i = 0; i < n; i++) b += otel_value_str_at(v, i).len + 1;
        return b;
    default: return 0;
    }
}

/* Copies a body's out-of-line part to `p` (room: otel__body_bytes) and points `dst` at it. */
static void otel__body_copy(otel_value *dst, const otel_value *v, unsigned char *p) {
    size_t n = v->len;
    *dst = *v;
    switch (v->type) {
    case OTEL_VALUE_STRING:
        if (n) memcpy(p, v->u.s, n);
        p[n] = 0;
        dst->u.s = (const char *)p;
        break;
    case OTEL_VALUE_BOOL_ARRAY:
        for (size_t i = 0; i < n; i++) p[i] = v->u.ba[i] ? 1 : 0;
        dst->u.ba = (const bool *)(const void *)p;
        break;
    case OTEL_VALUE_INT_ARRAY:
    case OTEL_VALUE_DOUBLE_ARRAY:
        if (n) memcpy(p, v->type == OTEL_VALUE_INT_ARRAY ? (const void *)v->u.ia : (const void *)v->u.da, n * 8);
        dst->u.packed = p;
        break;
    case OTEL_VALUE_STRING_ARRAY: { /* packed: offsets, lengths, then the strings */
        size_t pos = OTEL__ALIGN8(n * 8);
        for (size_t i = 0; i < n; i++) {
            otel_str e = otel_value_str_at(v, i);
            uint32_t off = (uint32_t)pos, len = (uint32_t)e.len;
            memcpy(p + i * 4, &off, 4);
            memcpy(p + (n + i) * 4, &len, 4);
            if (e.len) memcpy(p + pos, e.ptr, e.len);
            p[pos + e.len] = 0;
            pos += e.len + 1;
        }
        dst->u.packed = p;
        dst->flags = OTEL_VALUE_PACKED;
        break;
    }
    default: break;
    }
}

/* A deep copy of `r` in one allocation (scope strings included). Worker thread. */
static otel_log_data *otel__log_copy(const otel_log_data *r) {
    otel_str empty = {"", 0};
    otel_str sn = r->scope ? r->scope->name : empty, sv = r->scope ? r->scope->version : empty;
    size_t body = OTEL__ALIGN8(otel__body_bytes(&r->body));
    size_t bytes = sizeof(otel_log_data) + sizeof(otel_scope) + OTEL__ALIGN8(r->otel__items_len) + body +
                   r->severity_text.len + r->event_name.len + sn.len + sv.len + 4;
    otel_log_data *c = (otel_log_data *)OTEL_MALLOC(bytes, NULL);
    if (!c) return NULL;
    *c = *r;
    otel_scope *sc = (otel_scope *)(void *)(c + 1);
    unsigned char *items = (unsigned char *)(sc + 1);
    if (r->otel__items_len) memcpy(items, r->otel__items, r->otel__items_len);
    c->otel__items = items;
    unsigned char *bp = items + OTEL__ALIGN8(r->otel__items_len);
    otel__body_copy(&c->body, &r->body, bp);
    char *p = (char *)bp + body;
#define OTEL__COPY_STR(dst, src) \
    do { if ((src).len) memcpy(p, (src).ptr, (src).len); p[(src).len] = 0; (dst).ptr = p; (dst).len = (src).len; p += (src).len + 1; } while (0)
    OTEL__COPY_STR(c->severity_text, r->severity_text);
    OTEL__COPY_STR(c->event_name, r->event_name);
    OTEL__COPY_STR(sc->name, sn);
    OTEL__COPY_STR(sc->version, sv);
#undef OTEL__COPY_STR
    c->scope = sc;
    return c;
}

static otel_export_result otel__memory_export_logs(const otel_log_batch *batch, void *user) {
    otel__memory *m = (otel__memory *)user;
    bool ok = true;
    pthread_mutex_lock(&m->mu);
    if (!m->have_resource && batch->resource) m->have_resource = otel__resource_copy(&m->resource, batch->resource);
    for (size_t i = 0; i < batch->count; i++) {
        if (m->lcount == m->limit) { ok = false; break; }
        if (!otel__ptrs_reserve(&m->logs, m->lcount, &m->lcap)) { ok = false; break; }
        otel_log_data *c = otel__log_copy(batch->records[i]);
        if (!c) { ok = false; break; }
        m->logs[m->lcount++] = c;
    }
    pthread_mutex_unlock(&m->mu);
    return ok ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

OTEL_API size_t otel_memory_exporter_log_count(const otel_exporter *mem) {
    otel__memory *m = otel__memory_of(mem);
    if (!m) return 0;
    pthread_mutex_lock(&m->mu);
    size_t n = m->lcount;
    pthread_mutex_unlock(&m->mu);
    return n;
}

OTEL_API const otel_log_data *otel_memory_exporter_log(const otel_exporter *mem, size_t i) {
    otel__memory *m = otel__memory_of(mem);
    if (!m) return NULL;
    pthread_mutex_lock(&m->mu);
    const otel_log_data *r = i < m->lcount ? m->logs[i] : NULL;
    pthread_mutex_unlock(&m->mu);
    return r;
}

static otel_export_result otel__multi_export_logs(const otel_log_batch *batch, void *user) {
    otel__multi *m = (otel__multi *)user;
    bool any = false;
    for (size_t i = 0; i < m->count; i++)
        if (m->children[i].export_logs(batch, m->children[i].user) == OTEL_EXPORT_SUCCESS) any = true;
    return any ? OTEL_EXPORT_SUCCESS : OTEL_EXPORT_FAILURE;
}

static otel_export_result otel__none_export_logs(const otel_log_batch *batch, void *user) {
    (void)batch;
    (void)user;
    return OTEL_EXPORT_SUCCESS;
}


/* ==== [env] ====================================================================== */

static const char *const otel__console_format_names[] = {"", "pretty", "compact"};
static const char *const otel__file_format_names[] = {"", "otlp", "flat"};
static const char *const otel__sampler_names[] = {"", "always_on", "always_off", "traceidratio",
                                                  "parentbased_always_on", "parentbased_always_off",
                                                  "parentbased_traceidratio"};

static int otel__env_console_format(void) {
    return otel__env_enum("OTEL_EXPORTER_CONSOLE_FORMAT", otel__console_format_names, 3, OTEL_CONSOLE_PRETTY);
}
static int otel__env_file_format(void) {
    return otel__env_enum("OTEL_EXPORTER_FILE_FORMAT", otel__file_format_names, 3, OTEL_FILE_OTLP_JSON);
}

/* First set of: desc value, each env var in order (0 allowed there), default. */
static uint32_t otel__pick_u32(uint32_t code, const char *env1, const char *env2, uint32_t def) {
    if (code) return code;
    if (env1 && otel__env(env1)) return otel__env_u32(env1, def);
    if (env2 && otel__env(env2)) return otel__env_u32(env2, def);
    return def;
}

/* A positive setting: desc, env (0 or junk -> warning and default), default. */
static uint32_t otel__pick_pos(uint32_t code, const char *env, uint32_t def) {
    if (code) return code;
    uint32_t v = otel__env_u32(env, def);
    if (v == 0) {
        otel__logf(OTEL_LOG_WARN, "%s=0 is not valid; using %u", env, (unsigned)def);
        v = def;
    }
    return v;
}

/* Batch span processor (OTEL_BSP_*) or batch log record processor (OTEL_BLRP_*) settings. */
static void otel__resolve_dest(const otel_desc *cfg, otel_destination_desc *d, otel_signal sig) {
    bool logs = sig == OTEL_SIGNAL_LOGS;
    if (!d->processor) d->processor = cfg->processor ? cfg->processor : OTEL_PROCESSOR_BATCH;
    d->max_queue_size = otel__pick_pos(d->max_queue_size, logs ? "OTEL_BLRP_MAX_QUEUE_SIZE" : "OTEL_BSP_MAX_QUEUE_SIZE", 2048);
    d->max_export_batch = otel__pick_pos(d->max_export_batch,
                                         logs ? "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE" : "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512);
    d->schedule_delay_ms = otel__pick_pos(d->schedule_delay_ms, logs ? "OTEL_BLRP_SCHEDULE_DELAY" : "OTEL_BSP_SCHEDULE_DELAY",
                                          logs ? 1000 : 5000);
    d->export_timeout_ms = otel__pick_pos(d->export_timeout_ms, logs ? "OTEL_BLRP_EXPORT_TIMEOUT" : "OTEL_BSP_EXPORT_TIMEOUT",
                                          30000);
    if (d->max_export_batch > d->max_queue_size) {
        otel__logf(OTEL_LOG_WARN, "max export batch %u is above the queue size %u; using %u",
                   (unsigned)d->max_export_batch, (unsigned)d->max_queue_size, (unsigned)d->max_queue_size);
        d->max_export_batch = d->max_queue_size;
    }
}

/* Everything otel_init needs from desc and environment, in one place: desc value, then
   environment variable, then built-in default. */
static void otel__desc_defaults(const otel_desc *in, otel_desc *c) {
    static const char *const levels[] = {"", "none", "error", "warn", "info", "debug"};
    *c = *in;
    if (!c->log_level) c->log_level = (otel_log_level)otel__env_enum("OTEL_LOG_LEVEL", levels, 6, OTEL_LOG_INFO);
    if (!c->disabled) c->disabled = otel__env_bool("OTEL_SDK_DISABLED", false);
    if (!c->scope_name) c->scope_name = "otel.h";
    if (!c->scope_version) c->scope_version = "";
    if (!c->sampler) c->sampler = (otel_sampler)otel__env_enum("OTEL_TRACES_SAMPLER", otel__sampler_names, 7,
                                                               OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
    if (c->sampler == OTEL_SAMPLER_TRACEIDRATIO || c->sampler == OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO) {
        if (!(c->sampler_ratio > 0 && c->sampler_ratio <= 1))
            c->sampler_ratio = (c->sampler_ratio > 1 || c->sampler_ratio < 0)
                                   ? (otel__logf(OTEL_LOG_WARN, "sampler_ratio %g outside [0,1]; using 1.0", c->sampler_ratio), 1.0)
                                   : otel__env_double("OTEL_TRACES_SAMPLER_ARG", 1.0, 0.0, 1.0);
    } else {
        c->sampler_ratio = 1.0;
    }
    otel_span_limits *l = &c->limits;
    l->attr_count = otel__pick_u32(l->attr_count, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT", 128);
    l->attr_value_length = otel__pick_u32(l->attr_value_length, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                                          "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", OTEL_LIMIT_NONE);
    l->event_count = otel__pick_u32(l->event_count, "OTEL_SPAN_EVENT_COUNT_LIMIT", NULL, 128);
    l->link_count = otel__pick_u32(l->link_count, "OTEL_SPAN_LINK_COUNT_LIMIT", NULL, 128);
    l->event_attr_count = otel__pick_u32(l->event_attr_count, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", NULL, 128);
    l->link_attr_count = otel__pick_u32(l->link_attr_count, "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", NULL, 128);
    if (!c->span_bytes) c->span_bytes = OTEL__DEFAULT_SPAN_BYTES;
    if (c->span_bytes < 256) c->span_bytes = 256;
    if (c->span_bytes > (1u << 20)) c->span_bytes = 1u << 20;
    c->span_bytes = (uint32_t)OTEL__ALIGN8(c->span_bytes);
    if (!c->spans_per_thread) c->spans_per_thread = OTEL__DEFAULT_SPANS_PER_THREAD;
    c->spans_per_thread = otel__pow2_ceil(c->spans_per_thread < OTEL__SLOT_CHUNK ? OTEL__SLOT_CHUNK : c->spans_per_thread);
    if (c->spans_per_thread > (1u << 16)) c->spans_per_thread = 1u << 16;
    if (!c->ring_bytes) c->ring_bytes = OTEL__DEFAULT_RING_BYTES;
    c->ring_bytes = otel__pow2_ceil(c->ring_bytes < (16u << 10) ? (16u << 10) : c->ring_bytes);
    if (c->ring_bytes < 4 * (c->span_bytes + (uint32_t)sizeof(otel__rec)))
        c->ring_bytes = otel__pow2_ceil(4 * (c->span_bytes + (uint32_t)sizeof(otel__rec)));
    if (!c->ring_max_bytes) c->ring_max_bytes = OTEL__DEFAULT_RING_MAX_BYTES;
    if (c->ring_max_bytes > (1u << 29)) c->ring_max_bytes = 1u << 29; /* 512 MiB */
    c->ring_max_bytes = c->ring_max_bytes < c->ring_bytes ? c->ring_bytes : otel__pow2_ceil(c->ring_max_bytes);
    /* log record limits fall back to the general OTEL_ATTRIBUTE_* variables too (a bad
       value there was reported above, for spans: the default, quietly) */
    otel_log_limits *ll = &c->log_limits;
    const char *gv = otel__env("OTEL_ATTRIBUTE_COUNT_LIMIT");
    uint32_t gen_count = 128, gen_len = OTEL_LIMIT_NONE;
    if (gv && !otel__parse_u32(gv, &gen_count)) gen_count = 128;
    gv = otel__env("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT");
    if (gv && !otel__parse_u32(gv, &gen_len)) gen_len = OTEL_LIMIT_NONE;
    ll->attr_count = otel__pick_u32(ll->attr_count, "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", NULL, gen_count);
    ll->attr_value_length = otel__pick_u32(ll->attr_value_length, "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", NULL, gen_len);
    /* a log record is written straight into the ring: at most a quarter of it, as a span */
    if (!c->log_record_bytes) c->log_record_bytes = OTEL__DEFAULT_LOG_RECORD_BYTES;
    if (c->log_record_bytes < 256) c->log_record_bytes = 256;
    if (c->log_record_bytes > c->ring_bytes / 4 - (uint32_t)sizeof(otel__lrec))
        c->log_record_bytes = c->ring_bytes / 4 - (uint32_t)sizeof(otel__lrec);
    c->log_record_bytes &= ~7u;
    if (!c->max_threads) c->max_threads = OTEL__DEFAULT_MAX_THREADS;
    if (c->max_threads > (1u << 16)) c->max_threads = 1u << 16;
    /* a handle holds thread and slot below OTEL__NREC_BIT */
    while (c->max_threads > 1 && (uint64_t)c->max_threads * c->spans_per_thread > (uint64_t)OTEL__NREC_BIT)
        c->max_threads /= 2;
    if (!c->processor) c->processor = OTEL_PROCESSOR_BATCH;
}

/* ---- resource -------------------------------------------------------------------------- */

typedef struct otel__res_builder {
    otel_attr *a;
    size_t n, cap;
    bool oom;
} otel__res_builder;

/* Adds or replaces a key; strings copied (key and value in one allocation). */
static void otel__res_put(otel__res_builder *rb, const char *k, size_t kn, const otel_value *v) {
    size_t vl = v->type == OTEL_VALUE_STRING ? v->len : 0;
    if (v->type > OTEL_VALUE_DOUBLE) {
        otel__logf(OTEL_LOG_WARN, "resource attribute '%.*s': array values are not supported in resources; skipped",
                   (int)kn, k);
        return;
    }
    char *mem = (char *)OTEL_MALLOC(kn * 3 + vl * 3 + 2, NULL);
    if (!mem) { rb->oom = true; return; }
    bool ch;
    size_t kw = otel__utf8_copy(mem, kn * 3, k, kn, SIZE_MAX, &ch);
    mem[kw] = 0;
    char *vs = mem + kw + 1;
    size_t vw = vl ? otel__utf8_copy(vs, vl * 3, v->u.s, vl, SIZE_MAX, &ch) : 0;
    vs[vw] = 0;
    otel_attr a;
    memset(&a, 0, sizeof a);
    a.key.ptr = mem; a.key.len = kw;
    a.value = *v;
    if (v->type == OTEL_VALUE_STRING) { a.value.u.s = vs; a.value.len = vw; }
    for (size_t i = 0; i < rb->n; i++)
        if (rb->a[i].key.len == kw && memcmp(rb->a[i].key.ptr, mem, kw) == 0) {
            OTEL_FREE((void *)rb->a[i].key.ptr, NULL);
            rb->a[i] = a;
            return;
        }
    if (rb->n == rb->cap) {
        size_t nc = rb->cap ? rb->cap * 2 : 16;
        otel_attr *na = (otel_attr *)OTEL_MALLOC(nc * sizeof *na, NULL);
        if (!na) { OTEL_FREE(mem, NULL); rb->oom = true; return; }
        if (rb->n) memcpy(na, rb->a, rb->n * sizeof *na);
        OTEL_FREE(rb->a, NULL);
        rb->a = na;
        rb->cap = nc;
    }
    rb->a[rb->n++] = a;
}

static void otel__res_put_str(otel__res_builder *rb, const char *k, const char *v, size_t vn) {
    otel_value val;
    memset(&val, 0, sizeof val);
    val.type = OTEL_VALUE_STRING;
    val.u.s = v;
    val.len = vn;
    otel__res_put(rb, k, strlen(k), &val);
}

static void otel__res_kv(const char *key, size_t key_len, const char *val, size_t val_len, void *user) {
    otel_value v;
    memset(&v, 0, sizeof v);
    v.type = OTEL_VALUE_STRING;
    v.u.s = val;
    v.len = val_len;
    otel__res_put((otel__res_builder *)user, key, key_len, &v);
}

static const otel_attr *otel__res_find(const otel__res_builder *rb, const char *k) {
    for (size_t i = 0; i < rb->n; i++)
        if (rb->a[i].key.len == strlen(k) && memcmp(rb->a[i].key.ptr, k, rb->a[i].key.len) == 0) return &rb->a[i];
    return NULL;
}

static bool otel__resource_build(const otel_desc *c, otel_resource *out) {
    otel__res_builder rb;
    memset(&rb, 0, sizeof rb);
    otel__res_put_str(&rb, "telemetry.sdk.name", "otel.h", 6);
    otel__res_put_str(&rb, "telemetry.sdk.language", "c", 1);
    otel__res_put_str(&rb, "telemetry.sdk.version", OTEL_VERSION, strlen(OTEL_VERSION));
    const char *env = otel__env("OTEL_RESOURCE_ATTRIBUTES");
    if (env) otel__parse_kv_list(env, "OTEL_RESOURCE_ATTRIBUTES", otel__res_kv, &rb);
    for (size_t i = 0; c->resource_attrs && i < c->resource_attr_count; i++) {
        const otel_attr *a = &c->resource_attrs[i];
        if (a->key.ptr && a->key.len) otel__res_put(&rb, a->key.ptr, a->key.len, &a->value);
    }
    const char *svc = c->service_name;
    bool code_svc = false; /* service.name in the code's resource_attrs: code wins over the env */
    for (size_t i = 0; c->resource_attrs && i < c->resource_attr_count; i++)
        code_svc |= c->resource_attrs[i].key.ptr && c->resource_attrs[i].key.len == 12 &&
                    memcmp(c->resource_attrs[i].key.ptr, "service.name", 12) == 0;
    if (!svc && !code_svc) svc = otel__env("OTEL_SERVICE_NAME");
    if (svc) {
        otel__res_put_str(&rb, "service.name", svc, strlen(svc));
    } else if (!otel__res_find(&rb, "service.name")) {
        char exe[256] = "", name[300];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        const char *base = strrchr(exe, '/');
        snprintf(name, sizeof name, "unknown_service:%s", base ? base + 1 : exe);
        otel__res_put_str(&rb, "service.name", name, strlen(name));
    }
    /* service.name first: it is what people look for */
    for (size_t i = 0; i < rb.n; i++)
        if (rb.a[i].key.len == 12 && memcmp(rb.a[i].key.ptr, "service.name", 12) == 0 && i) {
            otel_attr t = rb.a[i];
            memmove(&rb.a[1], &rb.a[0], i * sizeof t);
            rb.a[0] = t;
        }
    out->attrs = rb.a;
    out->count = rb.n;
    out->dropped = 0;
    return !rb.oom;
}

/* ==== [api] ====================================================================== */

static void otel__dest_free(otel__dest *ds) {
    if (!ds) return;
    while (ds->qcount) {
        otel__block_release(ds->q[ds->qhead].b);
        ds->qhead = (ds->qhead + 1) % ds->qcap;
        ds->qcount--;
    }
    pthread_mutex_destroy(&ds->mu);
    pthread_mutex_destroy(&ds->export_mu);
    pthread_cond_destroy(&ds->cv);
    OTEL_FREE(ds->q, NULL);
    OTEL_FREE(ds->batch, NULL);
    OTEL_FREE(ds->hold, NULL);
    OTEL_FREE(ds, NULL);
}

/* Destinations of `sig` so far. */
static uint32_t otel__dest_count(const otel__state *g, otel_signal sig) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->ndest; i++) n += g->dests[i]->signal == sig;
    return n;
}

static otel_result otel__dest_add(otel__state *g, const otel_destination_desc *in, const char *name, otel_signal sig) {
    uint32_t k = otel__dest_count(g, sig);
    if (k == OTEL_MAX_DESTINATIONS) {
        otel__logf(OTEL_LOG_WARN, "more than %d %s destinations; '%s' ignored", OTEL_MAX_DESTINATIONS,
                   sig == OTEL_SIGNAL_LOGS ? "log" : "trace", name);
        otel__exp_release(&g->xrefs, &in->exporter, 0, false);
        return OTEL_ERR_INVALID_ARG;
    }
    otel__dest *ds = (otel__dest *)otel__calloc(sizeof *ds);
    if (!ds) return OTEL_ERR_NO_MEMORY;
    ds->g = g;
    ds->signal = sig;
    ds->d = *in;
    otel__resolve_dest(&g->cfg, &ds->d, sig);
    ds->exp = in->exporter;
    snprintf(ds->name, sizeof ds->name, "%s", name ? name : "custom");
    pthread_mutex_init(&ds->mu, NULL);
    pthread_mutex_init(&ds->export_mu, NULL);
    pthread_cond_init(&ds->cv, NULL);
    ds->qcap = ds->d.max_queue_size;
    ds->q = (otel__qent *)OTEL_MALLOC(sizeof(otel__qent) * ds->qcap, NULL);
    ds->batch = (const otel_span_data **)OTEL_MALLOC(sizeof(void *) * ds->d.max_export_batch, NULL);
    ds->hold = (otel__block **)OTEL_MALLOC(sizeof(void *) * ds->d.max_export_batch, NULL);
    ds->lbatch = (const otel_log_data **)(void *)ds->batch;
    if (!ds->q || !ds->batch || !ds->hold) {
        otel__dest_free(ds);
        return OTEL_ERR_NO_MEMORY;
    }
    otel_destination_desc *shown = sig == OTEL_SIGNAL_LOGS ? g->cfg.log_destinations : g->cfg.destinations;
    shown[k] = ds->d; /* otel_config() shows what is in use */
    shown[k].exporter = ds->exp;
    g->dests[g->ndest++] = ds;
    bool simple = ds->d.processor == OTEL_PROCESSOR_SIMPLE;
    if (sig == OTEL_SIGNAL_LOGS) {
        g->any_simple_log |= simple;
        g->any_batch_log |= !simple;
    } else {
        g->any_simple |= simple;
        g->any_batch |= !simple;
    }
    return OTEL_OK;
}

/* The export function an exporter needs for `sig`. */
static bool otel__serves(const otel_exporter *e, otel_signal sig) {
    return sig == OTEL_SIGNAL_LOGS ? e->export_logs != NULL : e->export_spans != NULL;
}

/* Destinations from a comma list of exporter names. `quiet`: the implicit default of a
   signal the program may not use (logs): failures are debug messages. */
static void otel__dests_from_names(otel__state *g, const char *list, const char *what, otel_signal sig, bool quiet) {
    const char *cur = list, *item;
    size_t n;
    while (otel__list_next(&cur, &item, &n)) {
        otel_exporter e;
        if (n == 4 && memcmp(item, "none", 4) == 0) continue;
        otel_result r = otel__exporter_by_name(sig, item, n, &e);
        if (r != OTEL_OK) {
            otel__logf(quiet ? OTEL_LOG_DEBUG : OTEL_LOG_WARN, "%s: exporter '%.*s' could not be created (%s); skipped",
                       what, (int)n, item, otel_result_str(r));
            continue;
        }
        if (e.export_spans == otel__memory_export) ((otel__memory *)e.user)->owned = true;
        otel_destination_desc d;
        memset(&d, 0, sizeof d);
        d.exporter = e;
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(n < 31 ? n : 31), item);
        otel__dest_add(g, &d, e.name ? e.name : name, sig);
    }
}

/* The destinations of one signal. The env var, when set, decides (unless lock_destinations);
   else the desc's destinations; else the desc's default list; else "otlp" as the spec says
   (for logs only when an "otlp" factory is registered, and quietly). */
static void otel__setup_dests(otel__state *g, const otel_desc *in, otel_signal sig) {
    bool logs = sig == OTEL_SIGNAL_LOGS;
    const char *var = logs ? "OTEL_LOGS_EXPORTER" : "OTEL_TRACES_EXPORTER";
    const otel_destination_desc *code = logs ? in->log_destinations : in->destinations;
    const char *deflist = logs ? in->default_logs_exporters : in->default_exporters;
    const char *env = in->lock_destinations ? NULL : otel__env(var);
    bool have_code = false;
    uint32_t before = otel__dest_count(g, sig);
    for (int i = 0; i < OTEL_MAX_DESTINATIONS; i++) have_code |= otel__serves(&code[i].exporter, sig);
    if (env) {
        otel__dests_from_names(g, env, var, sig, false);
        for (int i = 0; i < OTEL_MAX_DESTINATIONS; i++) { /* not used: release them */
            const otel_exporter *e = &code[i].exporter;
            if (otel__serves(e, sig)) otel__exp_release(&g->xrefs, e, 0, false);
        }
    } else if (have_code) {
        for (int i = 0; i < OTEL_MAX_DESTINATIONS; i++)
            if (otel__serves(&code[i].exporter, sig)) otel__dest_add(g, &code[i], code[i].exporter.name, sig);
    } else if (deflist) {
        otel__dests_from_names(g, deflist, logs ? "default_logs_exporters" : "default_exporters", sig, false);
    } else if (!logs || otel__factory_known("otlp")) {
        otel__dests_from_names(g, "otlp", "default exporter", sig, logs);
    }
    const char *list = env ? env : have_code ? NULL : deflist; /* "none" asked for nothing */
    if (otel__dest_count(g, sig) == before && !(list && strstr(list, "none")))
        otel__logf(logs ? OTEL_LOG_DEBUG : OTEL_LOG_INFO, "no %s destination configured: %s are recorded but not exported",
                   logs ? "log" : "trace", logs ? "log records" : "spans");
}

static void *otel__worker_main(void *arg);
static void *otel__pipeline_main(void *arg);

static bool otel__start_threads(otel__state *g) {
    bool ok = true;
    otel__pace(g);
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (ds->d.processor != OTEL_PROCESSOR_BATCH) continue;
        ds->started = pthread_create(&ds->thread, NULL, otel__worker_main, ds) == 0;
        if (!ds->started) {
            otel__logf(OTEL_LOG_ERROR, "destination '%s': cannot start its worker thread", ds->name);
            ok = false;
        }
    }
    if (g->any_batch || g->any_batch_log) {
        g->pipe_started = pthread_create(&g->pipe_thread, NULL, otel__pipeline_main, g) == 0;
        if (!g->pipe_started) {
            otel__logf(OTEL_LOG_ERROR, "cannot start the pipeline thread");
            ok = false;
        }
    }
    return ok;
}

static void otel__fork_prepare(void) {
    otel__state *g = otel__g;
    if (!g) return;
    pthread_mutex_lock(&g->reg_mu);
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        struct timespec ts = otel__abstime(100);
        /* an export in progress may hold exporter-internal locks: wait briefly for it */
        ds->tainted = pthread_mutex_timedlock(&ds->export_mu, &ts) != 0;
    }
    otel__metrics_fork_prepare(g);
}

static void otel__fork_parent(void) {
    otel__state *g = otel__g;
    if (!g) return;
    otel__metrics_fork_parent(g);
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (!ds->tainted) pthread_mutex_unlock(&ds->export_mu);
        ds->tainted = false;
    }
    pthread_mutex_unlock(&g->reg_mu);
}

/* In a child after fork: only the forking thread exists. Empty the rings and queues (the
   parent exports what they held) and start fresh threads. */
static void otel__after_fork_child(void) {
    otel__state *g = otel__g;
    if (!g) return;
    g->pid = getpid();
    pthread_mutex_init(&g->reg_mu, NULL);
    pthread_mutex_init(&g->tracer_mu, NULL);
    pthread_mutex_init(&g->flush_mu, NULL);
    pthread_cond_init(&g->flush_cv, NULL);
    pthread_mutex_init(&otel__diag_g.mu, NULL);
    pthread_mutex_init(&otel__factory_mu, NULL);
    otel__clock_after_fork();
#ifdef OTEL_TEST_PIPE_STALL
    pthread_mutex_init(&otel__test_stall_mu, NULL);
#endif
    otel__event_init(&g->pipe_ev);
    otel__store_rlx(&g->holding, 0);
    g->hold_since = 0;
    for (uint32_t i = 0; i < g->ndest; i++) { /* a fresh pipeline: no hold, no destination let go */
        g->dests[i]->nowait_until = 0;
        g->dests[i]->wake = false;
        g->dests[i]->hold_short = false;
    }
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        pthread_mutex_init(&ds->mu, NULL);
        pthread_mutex_init(&ds->export_mu, NULL);
        pthread_cond_init(&ds->cv, NULL);
        if (ds->tainted)
            otel__logf(OTEL_LOG_WARN, "destination '%s' was exporting during fork(): disabled in the child", ds->name);
        ds->qhead = ds->qcount = 0; /* their blocks start over below */
        ds->queued = 0;
        ds->flush_done = ds->flush_target;
        ds->started = false;
    }
    uint32_t n = otel__load_rlx(&g->nthreads);
    for (uint32_t i = 0; i < n; i++) { /* every block free again: cut anew, none queued */
        otel__thread *t = g->threads[i];
        otel__blocks_reset(g, t);
        if (t != otel__tls) otel__store_rlx(&t->exited, 1);
    }
    otel__store_rlx(&g->flush_drained, otel__load_rlx(&g->flush_req));
    g->pipe_started = false;
    otel__start_threads(g);
    otel__metrics_fork_child(g);
}

static void otel__atexit(void) {
    otel__state *g = otel__g;
    if (!g || g->shut || g->pid != getpid()) return;
    /* flush only: other threads may still be recording, so nothing is freed here */
    otel_force_flush(5000);
}

static void otel__state_free(otel__state *g) {
    uint32_t n = otel__load_rlx(&g->nthreads);
    for (uint32_t i = 0; i < n; i++) otel__thread_free(g->threads[i]);
    OTEL_FREE(g->threads, NULL);
    for (uint32_t i = 1; i < otel__load_rlx(&g->ntracers); i++) {
        OTEL_FREE((void *)g->tracers[i].scope.name.ptr, NULL);
        OTEL_FREE((void *)g->tracers[i].scope.version.ptr, NULL);
    }
    for (uint32_t i = 1; i < otel__load_rlx(&g->nloggers); i++) {
        OTEL_FREE((void *)g->loggers[i].scope.name.ptr, NULL);
        OTEL_FREE((void *)g->loggers[i].scope.version.ptr, NULL);
    }
    otel__resource_free(&g->resource);
    pthread_mutex_destroy(&g->reg_mu);
    pthread_mutex_destroy(&g->tracer_mu);
    pthread_mutex_destroy(&g->flush_mu);
    pthread_cond_destroy(&g->flush_cv);
    otel__event_deinit(&g->pipe_ev);
    OTEL_FREE(g, NULL);
}

/* Frees the state and its destinations once no thread of the library uses them. */
static void otel__state_destroy(otel__state *g) {
    otel__metrics_free(g);
    for (uint32_t i = 0; i < g->ndest; i++) otel__dest_free(g->dests[i]);
    otel__state_free(g);
}

OTEL_API otel_result otel_init(const otel_desc *desc) {
    static const otel_desc zero;
    static bool hooks;
    otel_desc c;
    if (otel__g) {
        otel__logf(OTEL_LOG_ERROR, "otel_init: already initialized (call otel_shutdown first)");
        return OTEL_ERR_STATE;
    }
    const otel_desc *in = desc ? desc : &zero;
    otel__diag_g.diag = in->diag;
    otel__diag_g.level = OTEL_LOG_INFO;
    otel__desc_defaults(in, &c);
    otel__diag_g.level = c.log_level;
    if (c.disabled) {
        otel__exp_refs t; /* handed over, never used: released, each object once */
        otel__exp_refs_count(&t, in);
        for (int i = 0; i < OTEL_MAX_DESTINATIONS; i++) {
            if (in->destinations[i].exporter.export_spans) otel__exp_release(&t, &in->destinations[i].exporter, 0, false);
            if (in->log_destinations[i].exporter.export_logs) otel__exp_release(&t, &in->log_destinations[i].exporter, 0, false);
        }
        otel__metrics_release_desc(&t, in);
        return OTEL_ERR_DISABLED;
    }
    otel__state *g = (otel__state *)otel__calloc(sizeof *g);
    if (!g) return OTEL_ERR_NO_MEMORY;
    g->cfg = c;
    g->blk_bytes = otel__blk_bytes(&c);
    g->instance = ++otel__instances;
    g->pid = getpid();
    g->lim = c.limits;
    g->ratio_bound = (uint64_t)(c.sampler_ratio * 9223372036854775808.0); /* ratio * 2^63 */
    pthread_mutex_init(&g->reg_mu, NULL);
    pthread_mutex_init(&g->tracer_mu, NULL);
    pthread_mutex_init(&g->flush_mu, NULL);
    pthread_cond_init(&g->flush_cv, NULL);
    otel__event_init(&g->pipe_ev);
    g->tracers[0].scope.name.ptr = c.scope_name;
    g->tracers[0].scope.name.len = strlen(c.scope_name);
    g->tracers[0].scope.version.ptr = c.scope_version;
    g->tracers[0].scope.version.len = strlen(c.scope_version);
    atomic_init(&g->ntracers, 1);
    g->llim = c.log_limits;
    g->loggers[0].scope = g->tracers[0].scope; /* the default logger: the default scope */
    atomic_init(&g->nloggers, 1);
    for (uint32_t s = c.spans_per_thread; s > 1; s >>= 1) g->slot_shift++;
    g->slot_mask = c.spans_per_thread - 1;
    g->threads = (otel__thread **)otel__calloc(sizeof(otel__thread *) * c.max_threads);
    bool ok = g->threads && otel__resource_build(&c, &g->resource) &&
              pthread_key_create(&g->key, otel__thread_exit) == 0;
    if (!ok) {
        otel__logf(OTEL_LOG_ERROR, "otel_init: out of memory");
        otel__state_free(g);
        return OTEL_ERR_NO_MEMORY;
    }
    otel__exp_refs_count(&g->xrefs, in);
    memset(g->cfg.destinations, 0, sizeof g->cfg.destinations); /* filled as they are made */
    memset(g->cfg.log_destinations, 0, sizeof g->cfg.log_destinations);
    otel__setup_dests(g, in, OTEL_SIGNAL_TRACES);
    otel__setup_dests(g, in, OTEL_SIGNAL_LOGS);
    bool metrics_ok = otel__metrics_setup(g, in);
    otel__kv_lim[0] = g->lim.attr_count; /* read by otel__kv_inline once otel__live says this instance */
    otel__kv_lim[1] = g->lim.attr_value_length;
    otel__live = g->instance;
    otel__g = g;
    if (!metrics_ok || !otel__start_threads(g)) {
        if (!metrics_ok) {
            otel__logf(OTEL_LOG_ERROR, "otel_init: out of memory");
            otel__metrics_release_desc(&g->xrefs, in); /* never reached the readers */
        }
        otel_shutdown(1000);
        return OTEL_ERR_NO_MEMORY;
    }
    otel__metrics_start(g);
    if (!hooks) {
        hooks = true;
        pthread_atfork(otel__fork_prepare, otel__fork_parent, otel__after_fork_child);
#ifndef OTEL_NO_ATEXIT
        atexit(otel__atexit);
#endif
    }
    return OTEL_OK;
}

OTEL_API const otel_desc *otel_config(void) { return otel__g ? &otel__g->cfg : NULL; }

OTEL_API const otel_resource *otel_resource_get(void) { return otel__g ? &otel__g->resource : NULL; }

/* Asks every destination to export all it holds, waits until the monotonic `deadline`. */
static otel_result otel__flush(otel__state *g, uint64_t deadline) {
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (ds->d.processor != OTEL_PROCESSOR_SIMPLE || !ds->exp.force_flush) continue;
        uint64_t now = otel__mono_ms();
        pthread_mutex_lock(&ds->export_mu);
        if (!ds->stop) ds->exp.force_flush(deadline > now ? (uint32_t)(deadline - now) : 1, ds->exp.user);
        pthread_mutex_unlock(&ds->export_mu);
    }
    if (!g->pipe_started) return OTEL_OK;
    uint64_t seq = atomic_fetch_add(&g->flush_req, 1) + 1;
    otel__pipe_poke(g, true);
    bool all = false;
    pthread_mutex_lock(&g->flush_mu);
    for (;;) {
        all = true;
        for (uint32_t i = 0; i < g->ndest; i++) {
            otel__dest *ds = g->dests[i];
            if (ds->d.processor == OTEL_PROCESSOR_BATCH && ds->flush_done < seq && !ds->exited) all = false;
        }
        uint64_t now = otel__mono_ms();
        if (all || now >= deadline) break;
        struct timespec ts = otel__abstime((uint32_t)(deadline - now < 50 ? deadline - now : 50));
        pthread_cond_timedwait(&g->flush_cv, &g->flush_mu, &ts);
    }
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        ds->stuck = ds->d.processor == OTEL_PROCESSOR_BATCH && ds->flush_done < seq && !ds->exited;
        if (ds->stuck) otel__logf(OTEL_LOG_WARN, "destination '%s' did not finish flushing by the deadline", ds->name);
    }
    pthread_mutex_unlock(&g->flush_mu);
    return all ? OTEL_OK : OTEL_ERR_TIMEOUT;
}

OTEL_API otel_result otel_force_flush(uint32_t timeout_ms) {
    otel__state *g = otel__g;
    uint64_t targets[OTEL_MAX_READERS];
    if (!g || g->shut) return OTEL_ERR_STATE;
    uint64_t deadline = otel__mono_ms() + (timeout_ms ? timeout_ms : 30000);
    otel__metrics_flush_begin(g, targets); /* metric readers export while the spans flush */
    otel_result r = otel__flush(g, deadline), mr = otel__metrics_flush_wait(g, targets, deadline);
    return r != OTEL_OK ? r : mr;
}

/* One summary line per signal at shutdown when anything was lost, so drops are never silent. */
static void otel__report_drops(void) {
    otel_stats st;
    char line[900];
    if (otel_stats_get(&st) != OTEL_OK) return;
    for (int sig = 0; sig < 2; sig++) {
        const otel_destination_stats *ds = sig ? st.log_destinations : st.destinations;
        uint32_t count = sig ? st.log_destination_count : st.destination_count;
        uint64_t lost = sig ? st.logs_dropped : st.spans_dropped;
        bool any = lost != 0;
        int n = sig ? snprintf(line, sizeof line, "shutdown: log records lost: %llu before any destination (ring full)",
                               (unsigned long long)lost)
                    : snprintf(line, sizeof line, "shutdown: spans lost: %llu before any destination (ring full or no span slot)",
                               (unsigned long long)lost);
        for (uint32_t i = 0; i < count && n < (int)sizeof line; i++) {
            const otel_destination_stats *d = &ds[i];
            any |= d->dropped || d->failed;
            n += snprintf(line + n, sizeof line - (size_t)n, "; '%s': %llu exported, %llu dropped (queue full), %llu failed",
                          d->name, (unsigned long long)d->exported, (unsigned long long)d->dropped,
                          (unsigned long long)d->failed);
        }
        if (any) otel__logf(OTEL_LOG_WARN, "%s", line);
    }
}

OTEL_API otel_result otel_shutdown(uint32_t timeout_ms) {
    otel__state *g = otel__g;
    if (!g) return OTEL_OK;
    uint64_t deadline = otel__mono_ms() + (timeout_ms ? timeout_ms : 30000);
    /* No separate flush first: it would wait for a hung destination until the deadline and
       leave the healthy ones no time to stop. Stopping flushes: the pipeline drains every
       ring before it exits, each worker exports all it holds before its exporter's shutdown. */
    otel_result r = OTEL_OK;
    g->shut = true;
    otel__metrics_stop_begin(g, deadline); /* metric readers: last export on their own threads */
    /* the pipeline makes no outside calls, so it always stops promptly */
    otel__store_rel(&g->stop, 1);
    if (g->pipe_started) {
        otel__pipe_poke(g, true);
        pthread_join(g->pipe_thread, NULL);
    }
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        pthread_mutex_lock(&ds->mu);
        ds->stop = true;
        ds->shutdown_at = deadline;
        pthread_cond_signal(&ds->cv);
        pthread_mutex_unlock(&ds->mu);
        if (ds->d.processor == OTEL_PROCESSOR_SIMPLE || !ds->started) {
            uint64_t now = otel__mono_ms();
            pthread_mutex_lock(&ds->export_mu);
            otel__exp_release(&g->xrefs, &ds->exp, deadline > now ? (uint32_t)(deadline - now) : 1, false);
            pthread_mutex_unlock(&ds->export_mu);
            ds->exited = true;
        }
    }
    pthread_mutex_lock(&g->flush_mu);
    bool cancelled = false;
    for (;;) {
        bool all = true;
        for (uint32_t i = 0; i < g->ndest; i++) all &= g->dests[i]->exited;
        uint64_t now = otel__mono_ms();
        if (all) break;
        if (now >= deadline) {
            if (cancelled) break;
            /* deadline passed: ask exporters that can to stop (e.g. an OTLP retry backoff),
               and give them a moment to return before their workers are abandoned */
            cancelled = true;
            for (uint32_t i = 0; i < g->ndest; i++)
                if (!g->dests[i]->exited && !g->dests[i]->in_shutdown && g->dests[i]->exp.cancel)
                    g->dests[i]->exp.cancel(g->dests[i]->exp.user); /* flush_mu held: see in_shutdown */
            deadline = now + 100;
        }
        struct timespec ts = otel__abstime((uint32_t)(deadline - now < 50 ? deadline - now : 50));
        pthread_cond_timedwait(&g->flush_cv, &g->flush_mu, &ts);
    }
    bool leak = false;
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        ds->stuck = !ds->exited;
        leak |= ds->stuck;
    }
    pthread_mutex_unlock(&g->flush_mu);
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        if (ds->stuck) {
            otel__logf(OTEL_LOG_ERROR, "shutdown: destination '%s' did not stop by the deadline; abandoning its worker",
                       ds->name);
            pthread_detach(ds->thread);
            r = OTEL_ERR_TIMEOUT;
        } else if (ds->started) {
            pthread_join(ds->thread, NULL);
        }
    }
    leak |= otel__metrics_stop_wait(g, deadline, &r);
    otel__report_drops();
    uint32_t unlogged = atomic_load_explicit(&g->discard_unlogged, memory_order_relaxed);
    if (unlogged)
        otel__logf(OTEL_LOG_WARN, "shutdown: %u more spans dropped attributes, events or links since the last warning "
                   "(see otel_stats.attrs_dropped)", (unsigned)unlogged);
    otel__g = NULL;
    otel__live = 0;
    pthread_key_delete(g->key);
    otel__tls = NULL;
    if (leak) { /* stuck workers still use the state: the last of them to finish frees it */
        pthread_mutex_lock(&g->flush_mu);
        for (uint32_t i = 0; i < g->ndest; i++) g->abandoned += !g->dests[i]->exited;
        g->abandoned += otel__metrics_unexited(g);
        leak = g->abandoned != 0;
        pthread_mutex_unlock(&g->flush_mu);
        if (leak) return r;
    }
    otel__state_destroy(g);
    return r;
}

OTEL_API otel_result otel_stats_get(otel_stats *out) {
    otel__state *g = otel__g;
    if (!out) return OTEL_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!g) return OTEL_ERR_STATE;
    out->clock_tsc = otel__clock_uses_tsc();
    uint32_t n = otel__load_acq(&g->nthreads);
    for (uint32_t i = 0; i < n; i++) {
        otel__thread *t = g->threads[i];
        out->spans_started += otel__load_rlx(&t->started);
        out->spans_unsampled += otel__load_rlx(&t->unsampled);
        out->spans_ended += otel__load_rlx(&t->ended);
        out->spans_dropped += otel__load_rlx(&t->dropped);
        out->attrs_dropped += otel__load_rlx(&t->attrs_dropped);
        out->logs_emitted += otel__load_rlx(&t->logs);
        out->logs_dropped += otel__load_rlx(&t->logs_dropped);
        out->log_attrs_dropped += otel__load_rlx(&t->log_attrs_dropped);
        out->logs_truncated += otel__load_rlx(&t->logs_truncated);
        out->ring_grows += otel__load_rlx(&t->ring_grows);
        out->ring_bytes += otel__load_rlx(&t->carved);
    }
    out->logs_dropped += otel__load_rlx(&g->logs_lost);
    out->misuse = otel__load_rlx(&g->misuse);
    for (uint32_t i = 0; i < g->ndest; i++) {
        otel__dest *ds = g->dests[i];
        otel_destination_stats *d = ds->signal == OTEL_SIGNAL_LOGS ? &out->log_destinations[out->log_destination_count++]
                                                                   : &out->destinations[out->destination_count++];
        d->name = ds->name;
        d->exported = otel__load_rlx(&ds->exported);
        d->dropped = otel__load_rlx(&ds->dropped);
        d->failed = otel__load_rlx(&ds->failed);
        pthread_mutex_lock(&ds->mu);
        d->queue_length = ds->queued;
        pthread_mutex_unlock(&ds->mu);
        pthread_mutex_lock(&g->flush_mu);
        d->unfinished = ds->stuck; /* written under flush_mu by flush and shutdown */
        pthread_mutex_unlock(&g->flush_mu);
    }
    otel__metrics_stats(g, out);
    return OTEL_OK;
}

#endif /* OTEL_IMPLEMENTATION_INCLUDED */
#endif /* OTEL_IMPLEMENTATION */

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
