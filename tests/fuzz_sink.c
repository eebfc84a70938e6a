/* fuzz_sink.c - libFuzzer target for tools/otlp_sink's parsers: the OTLP trace, metrics
   and logs decoders (and the --count-only counters, which must agree with them), gunzip +
   decoder, the HTTP request head parser, the chunked-body decoder and the OTLP/JSON
   checker. The first input byte picks which (mod 8).
   Build and run: make fuzz (or tests/test_sink_fuzz.sh, which make test runs for 20 s). */
#define OTLP_SINK_NO_MAIN
#include "../tools/otlp_sink.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sink_buf out = {NULL, 0, 0, false}, plain = {NULL, 0, 0, false};
    sink_ctx c;
    sink_req req;
    size_t count = 0, used = 0;
    uint8_t mode;
    if (size < 1) return 0;
    mode = data[0];
    data++;
    size--;
    memset(&c, 0, sizeof c);
    switch (mode % 8) {
    case 0:
        if (sink_decode_traces(data, size, &out, &count, &c)) {
            size_t counted = 0;
            if (out.len && out.p[out.len - 1] != '\n') __builtin_trap();
            /* --count-only must accept what the full decoder accepts, with the same count */
            memset(&c, 0, sizeof c);
            if (!sink_count_traces(data, size, &out, &counted, &c) || counted != count) __builtin_trap();
        } else {
            memset(&c, 0, sizeof c);
            (void)sink_count_traces(data, size, &out, &count, &c);
        }
        break;
    case 1:
        if (!sink_gunzip(data, size, &plain, 1u << 20))
            (void)sink_decode_traces((const uint8_t *)(plain.p ? plain.p : ""), plain.len, &out, &count, &c);
        break;
    case 2:
        (void)sink_parse_request((const char *)data, size, &req);
        break;
    case 3:
        (void)sink_dechunk(data, size, &plain, &used, 1u << 20);
        break;
    case 4:
    case 5: {
        bool (*dec)(const uint8_t *, size_t, sink_buf *, size_t *, sink_ctx *) = mode % 8 == 4 ? sink_decode_metrics : sink_decode_logs;
        bool (*cnt)(const uint8_t *, size_t, sink_buf *, size_t *, sink_ctx *) = mode % 8 == 4 ? sink_count_metrics : sink_count_logs;
        if (dec(data, size, &out, &count, &c)) {
            size_t counted = 0, lines = 0, i;
            for (i = 0; i < out.len; i++) lines += out.p[i] == '\n';
            if (out.len && out.p[out.len - 1] != '\n') __builtin_trap();
            if (lines != count) __builtin_trap(); /* one line per data point / record */
            memset(&c, 0, sizeof c);
            if (!cnt(data, size, &out, &counted, &c) || counted != count) __builtin_trap();
        }
        break;
    }
    case 6:
        if (sink_decode_json(data, size, &out, &count, &c) && (!out.len || out.p[out.len - 1] != '\n'))
            __builtin_trap();
        break;
    default:
        if (!sink_gunzip(data, size, &plain, 1u << 20)) {
            (void)sink_decode_metrics((const uint8_t *)(plain.p ? plain.p : ""), plain.len, &out, &count, &c);
            memset(&c, 0, sizeof c);
            (void)sink_decode_logs((const uint8_t *)(plain.p ? plain.p : ""), plain.len, &out, &count, &c);
        }
        break;
    }
    sink_buf_free(&out);
    sink_buf_free(&plain);
    return 0;
}
