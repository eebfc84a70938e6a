# mk/otlp.mk - the OTLP targets, included by the Makefile.
#
#   make demo    builds everything, starts build/tools/otlp_sink on 127.0.0.1 (a free port;
#                it stops by itself after 30 s), runs build/examples/multi_destination_traces
#                with OTEL_TRACES_EXPORTER=console,file,otlp and the endpoint pointing at the
#                sink, shows what the sink received, and stops it (by its PID).
#   make fuzz    a libFuzzer run of otlp_sink's decoders (clang): FUZZ_SECONDS=300;
#                corpus and any crash inputs in build/fuzz/. make test runs a 20 s one.

DEMO_DIR ?= $(BUILD)/demo
DEMO_EXAMPLE ?= multi_destination_traces
FUZZ_SECONDS ?= 300

.PHONY: demo fuzz

demo: all
	@set -e; d=$(DEMO_DIR); rm -rf "$$d"; mkdir -p "$$d"; \
	ex=$(BUILD)/examples/$(DEMO_EXAMPLE); \
	if ! grep -q '^#include.*otel_otlp\.h' examples/$(DEMO_EXAMPLE).c; then \
	    echo "note: examples/$(DEMO_EXAMPLE).c does not compile in otel_otlp.h yet; using otlp_traces"; \
	    ex=$(BUILD)/examples/otlp_traces; \
	fi; \
	$(BUILD)/tools/otlp_sink --host 127.0.0.1 --port 0 --port-file "$$d/port" \
	    --out "$$d/sink.jsonl" --max-seconds 30 2>"$$d/sink.log" & pid=$$!; \
	trap 'kill $$pid 2>/dev/null || true' EXIT INT TERM; \
	i=0; while [ ! -s "$$d/port" ] && [ $$i -lt 200 ]; do sleep 0.05; i=$$((i + 1)); done; \
	[ -s "$$d/port" ] || { echo "otlp_sink did not start:"; cat "$$d/sink.log"; exit 1; }; \
	port=$$(cat "$$d/port"); \
	echo "== otlp_sink (pid $$pid) listening on http://127.0.0.1:$$port"; \
	echo "== $$ex, OTEL_TRACES_EXPORTER=console,file,otlp"; \
	OTEL_TRACES_EXPORTER=console,file,otlp \
	OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$$port" \
	OTEL_EXPORTER_FILE_TRACES_PATH="$$d/traces.jsonl" \
	    "$$ex"; \
	kill $$pid; wait $$pid 2>/dev/null || true; trap - EXIT INT TERM; \
	echo; echo "== the JSON Lines file $$d/traces.jsonl: $$(wc -l <"$$d/traces.jsonl" 2>/dev/null || echo 0) line(s)"; \
	echo "== what otlp_sink received ($$d/sink.jsonl), one span per line:"; \
	cat "$$d/sink.log"; \
	cat "$$d/sink.jsonl"; \
	n=$$(wc -l <"$$d/sink.jsonl"); \
	[ "$$n" -gt 0 ] || { echo "demo: the sink received no spans"; exit 1; }; \
	echo "== $$n span(s) arrived over OTLP/HTTP"

fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_DIR=$(BUILD)/fuzz sh tests/test_sink_fuzz.sh
