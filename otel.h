/* otel.h - v0.1 - OpenTelemetry traces for C, one header. License (MIT) at end.

   In exactly one .c file:     #define OTEL_IMPLEMENTATION
                               #include "otel.h"
   Everywhere else:            #include "otel.h"
   Build:                      cc -pthread app.c -o app

   QUICK START   (also examples/getting_started.c and the top of README.md)
       otel_init(&(otel_desc){ .service_name = "hello",
                               .default_exporters = "console" });
       otel_span *s = otel_span_start("work", NULL);   (NULL desc: child of the active span)
       otel_span_set_int(s, "items", 3);
       otel_span_end(s);
       otel_shutdown(0);                   (flushes every destination, 0 = default deadline)

   CONFIG MACROS (define before the implementation; defaults in brackets)
       OTEL_MALLOC(size,user)/OTEL_FREE(ptr,user)  allocator, both or neither [malloc/free]
       OTEL_ASSERT(c)             the library's own invariants [assert(c)]
       OTEL_API                   prefix of every public declaration [extern]
       OTEL_STATIC                makes OTEL_API `static` (implementation private to one TU)
       OTEL_MAX_DESTINATIONS      destinations per signal [8]
       OTEL_TRACE_STATE_MAX       bytes of a tracestate header kept [512]
       OTEL_NO_ATEXIT             do not flush from an atexit() handler

   ENVIRONMENT   (read once, by otel_init; code settings in otel_desc win, see README)
       OTEL_SDK_DISABLED                     true: every call is a cheap no-op
       OTEL_SERVICE_NAME                     service.name
       OTEL_RESOURCE_ATTRIBUTES              k=v,k2=v2 (percent-decoded)
       OTEL_TRACES_SAMPLER, _ARG             parentbased_always_on / 1.0
       OTEL_TRACES_EXPORTER                  comma list: console, file, memory, none, otlp, zipkin
       OTEL_PROPAGATORS                      tracecontext (baggage: parsed list, not yet propagated)
       OTEL_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
       OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
       OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT,
       OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, OTEL_LINK_ATTRIBUTE_COUNT_LIMIT
       OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_MAX_QUEUE_SIZE,
       OTEL_BSP_MAX_EXPORT_BATCH_SIZE        batch processing per destination
       OTEL_LOG_LEVEL                        none, error, warn, info (default), debug
       OTEL_EXPORTER_FILE_TRACES_PATH, OTEL_EXPORTER_FILE_PATH   (ours) file exporter path
       OTEL_EXPORTER_FILE_FORMAT             (ours) otlp (default) or flat
       OTEL_EXPORTER_CONSOLE_FORMAT          (ours) pretty (default) or compact

   SECTIONS      [platform] [util] [span] [context] [pipeline] [export] [env] [api]
                 -- grep "==== [" to jump

   THREADS       otel_init/otel_shutdown: setup only (one thread, not concurrently with
                 recording). Span calls: the span's owner, i.e. one thread at a time per
                 span; a span may be ended on another thread than the one that started it.
                 Everything else: any thread. Exporter callbacks run on the destination's
                 worker thread (or the ending thread for SIMPLE processing), never
                 concurrently for one exporter.                                           */
#ifndef OTEL_H_INCLUDED
#define OTEL_H_INCLUDED

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
#ifndef OTEL_TRACE_STATE_MAX
#define OTEL_TRACE_STATE_MAX 512
#endif
#define OTEL_VERSION "0.1.0"
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
OTEL_API otel_span *otel_span_start(const char *name, const otel_span_desc *desc);

/* Ends `span` now (or at `end_time_ns`; 0 = now), removes it from this thread's active
   stack, and hands the finished span to the destinations. Ending twice is reported once
   and ignored. Thread: the span's owner (any thread, one at a time). Allocates: never. */
OTEL_API void otel_span_end(otel_span *span);
OTEL_API void otel_span_end_at(otel_span *span, uint64_t end_time_ns);

/* Attributes. A key set twice keeps the last value. Strings are copied during the call
   and repaired to valid UTF-8. Over the limits values are truncated / attributes dropped
   and counted. Thread: the span's owner. Allocates: never. */
OTEL_API void otel_span_set_str(otel_span *span, const char *key, const char *value);
OTEL_API void otel_span_set_strn(otel_span *span, const char *key, const char *value, size_t len);
OTEL_API void otel_span_set_int(otel_span *span, const char *key, int64_t value);
OTEL_API void otel_span_set_double(otel_span *span, const char *key, double value);
OTEL_API void otel_span_set_bool(otel_span *span, const char *key, bool value);
OTEL_API void otel_span_set_attr(otel_span *span, const otel_attr *attr);
OTEL_API void otel_span_set_attrs(otel_span *span, const otel_attr *attrs, size_t count);
/* Renames the span. */
OTEL_API void otel_span_set_name(otel_span *span, const char *name);
/* Status per the API spec: UNSET is ignored, OK is final, the description is kept only
   with ERROR. */
OTEL_API void otel_span_set_status(otel_span *span, otel_status_code code, const char *description);
/* Adds an event named `name` at `time_ns` (0 = now) with `count` attributes. */
OTEL_API void otel_span_add_event(otel_span *span, const char *name, const otel_attr *attrs, size_t count);
OTEL_API void otel_span_add_event_at(otel_span *span, const char *name, uint64_t time_ns,
                                     const otel_attr *attrs, size_t count);
/* Adds an "exception" event with exception.type / .message / .stacktrace (NULLs are
   left out). Does not change the status: call otel_span_set_status for that. */
OTEL_API void otel_span_record_exception(otel_span *span, const char *type, const char *message,
                                         const char *stacktrace);
/* Adds a link to another span's context. */
OTEL_API void otel_span_add_link(otel_span *span, const otel_link *link);
/* True while the span records (sampled, not ended). */
OTEL_API bool otel_span_is_recording(const otel_span *span);
/* Copies the span's context (valid also for unsampled spans). Returns false for a stale,
   NULL or non-recording-invalid handle, and zeroes `out`. Thread: any. */
OTEL_API bool otel_span_get_context(const otel_span *span, otel_span_context *out);

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
} otel_span_batch;

typedef enum otel_export_result {
    OTEL_EXPORT_SUCCESS = 0,
    OTEL_EXPORT_FAILURE = 1
} otel_export_result;

/* An exporter: a small vtable plus its user data. The library never calls two of its
   functions at once. `shutdown` is called exactly once and releases `user`; after it
   nothing else is called. Any function may be NULL except export_spans. */
typedef struct otel_exporter {
    otel_export_result (*export_spans)(const otel_span_batch *batch, void *user);
    otel_result (*force_flush)(uint32_t timeout_ms, void *user);
    void (*shutdown)(uint32_t timeout_ms, void *user);
    void *user;
    const char *name; /* for diagnostics and stats, e.g. "console" */
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
   Thread: any, before passing the exporter to otel_init. */
OTEL_API otel_result otel_console_exporter_create(const otel_console_desc *desc, otel_exporter *out);
/* Opens (appends to) the file now: an unopenable path is OTEL_ERR_IO here. */
OTEL_API otel_result otel_file_exporter_create(const otel_file_desc *desc, otel_exporter *out);
/* Keeps deep copies of up to `capacity` spans (0 -> 1 << 20) for tests. */
OTEL_API otel_result otel_memory_exporter_create(size_t capacity, otel_exporter *out);
/* Synchronous fan-out: exports to every child in turn; succeeds when any one succeeds. */
OTEL_API otel_result otel_multi_exporter_create(const otel_exporter *children, size_t count,
                                                otel_exporter *out);
/* By name: console, file, memory, none (an exporter that drops), otlp, zipkin, and names
   added with otel_exporter_register. Unknown: OTEL_ERR_UNKNOWN; known but not compiled
   in: OTEL_ERR_NOT_BUILT. */
OTEL_API otel_result otel_exporter_create(const char *name, otel_exporter *out);
typedef otel_result (*otel_exporter_factory_fn)(otel_exporter *out, void *user);
/* Adds or replaces a factory name (otel_otlp.h registers "otlp"). Thread: setup only. */
OTEL_API otel_result otel_exporter_register(const char *name, otel_exporter_factory_fn fn, void *user);

/* Memory exporter access (thread: any; the span pointer stays valid until reset). */
OTEL_API size_t otel_memory_exporter_count(const otel_exporter *mem);
OTEL_API const otel_span_data *otel_memory_exporter_span(const otel_exporter *mem, size_t i);
OTEL_API void otel_memory_exporter_reset(const otel_exporter *mem);
/* The resource the memory exporter last received (NULL before the first export). */
OTEL_API const otel_resource *otel_memory_exporter_resource(const otel_exporter *mem);

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
    otel_sampler sampler;
    double sampler_ratio;               /* 0 -> OTEL_TRACES_SAMPLER_ARG, else 1.0 */
    otel_span_limits limits;
    uint32_t span_bytes;                /* inline storage per open span; 0 -> 2048 */
    uint32_t spans_per_thread;          /* open spans per thread; 0 -> 256 */
    uint32_t ring_bytes;                /* per-thread ring; 0 -> 256 KiB (power of two) */
    uint32_t max_threads;               /* threads recording at once; 0 -> 1024 */
    otel_diag diag;
    otel_log_level log_level;           /* 0 -> OTEL_LOG_LEVEL, else INFO */
    bool disabled;                      /* true, or OTEL_SDK_DISABLED=true: no-op SDK */
} otel_desc;

/* Sets up the SDK: resolves `desc` (NULL = all defaults) against the environment,
   creates destinations and starts the pipeline. OTEL_ERR_DISABLED when disabled (every
   call then is a no-op). Thread: setup only. */
OTEL_API otel_result otel_init(const otel_desc *desc);
/* The resolved settings (after defaults and env), or NULL before otel_init. */
OTEL_API const otel_desc *otel_config(void);
/* The resource in use (NULL before otel_init). */
OTEL_API const otel_resource *otel_resource_get(void);
/* Exports every span ended before the call to every destination; waits at most
   `timeout_ms` (0 -> 30000). OTEL_ERR_TIMEOUT names the late destinations in the log.
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

typedef struct otel_stats {
    uint64_t spans_started;      /* recording spans */
    uint64_t spans_unsampled;
    uint64_t spans_ended;        /* recording spans ended */
    uint64_t spans_dropped;      /* thread ring full, or no free span slot */
    uint64_t attrs_dropped;      /* over a limit or out of inline storage */
    uint64_t misuse;             /* stale/NULL handles, double ends */
    uint32_t destination_count;
    otel_destination_stats destinations[OTEL_MAX_DESTINATIONS];
} otel_stats;

/* A snapshot of the counters. Thread: any. */
OTEL_API otel_result otel_stats_get(otel_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* OTEL_H_INCLUDED */
