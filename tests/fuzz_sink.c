/* fuzz_sink.c - libFuzzer target for tools/otlp_sink's parsers: the OTLP trace decoder
   (and the --count-only counter, which must agree with it), gunzip + decoder, the HTTP
   request head parser and the chunked-body decoder. The first input byte picks which.
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
    switch (mode % 4) {
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
    default:
        (void)sink_dechunk(data, size, &plain, &used, 1u << 20);
        break;
    }
    sink_buf_free(&out);
    sink_buf_free(&plain);
    return 0;
}
