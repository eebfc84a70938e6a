# Makefile for otel.h (GNU make). The library itself needs no build: copy otel.h.
#
#   make                 every examples/*.c -> build/examples/NAME, tools/*.c -> build/tools/NAME
#   make examples        only the examples;  make tools: only the tools
#   make test            tests/run.sh: gcc, clang, ASan+UBSan and TSan builds of tests/test_*.c,
#                        the C++11 and C99 API checks, tests/test_*.sh (a 20 s fuzz run), the
#                        examples; ends "N passed, N failed"
#     make test TESTS=test_span      only matching tests (names or globs, "test_" optional)
#     make test QUICK=1              gcc configuration only (development)
#     make test CONFIGS="gcc asan"   chosen configurations
#     make test BUILD=build/mine     another build directory (runs in one directory take turns)
#   make bench           builds every bench/*.c (-O2) into build/bench/NAME and runs each
#   make install         PREFIX=/usr/local, DESTDIR honoured: headers + otel.pc (pkg-config)
#   make uninstall, make clean
#   make demo, make fuzz  defined in mk/otlp.mk (included when present)
#
# A source file may ask for extra link flags with a line starting /* link: -lfoo */ ; a tool or
# example whose name ends in _curl links -lcurl.

CC      ?= cc
CFLAGS  ?= -std=c11 -O2 -Wall -Wextra -Werror
CPPFLAGS += -I.
LDFLAGS ?=
LDLIBS  ?=
BUILD   ?= build

PREFIX     ?= /usr/local
prefix     ?= $(PREFIX)
includedir ?= $(prefix)/include
# Header-only and architecture-independent, hence share/ (pkg-config searches it).
pkgconfigdir ?= $(prefix)/share/pkgconfig

VERSION := $(shell sed -n 's/^\#define OTEL_VERSION "\(.*\)".*/\1/p' otel.h)
HEADERS := otel.h $(wildcard otel_otlp.h)
# Everything a program built from this tree depends on.
DEPS    := $(HEADERS) $(wildcard parts/*.inc) Makefile

EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
TOOLS    := $(patsubst tools/%.c,$(BUILD)/tools/%,$(wildcard tools/*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

# The flags a source file asks for in a /* link: ... */ comment.
link_flags = $(shell sed -n 's|^/\* link: \(.*\) \*/.*|\1|p' $(1))

.PHONY: all examples tools test bench install uninstall clean
.DELETE_ON_ERROR:

all: examples tools

examples: $(EXAMPLES)
tools: $(TOOLS)

$(BUILD)/examples/%_curl $(BUILD)/tools/%_curl $(BUILD)/bench/%_curl: LDLIBS += -lcurl

$(BUILD)/examples/%: examples/%.c $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -pthread $< -o $@ $(LDFLAGS) $(call link_flags,$<) $(LDLIBS)

$(BUILD)/tools/%: tools/%.c $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -pthread $< -o $@ $(LDFLAGS) $(call link_flags,$<) $(LDLIBS)

# Benchmarks: -O2, portable (no -march=native), so numbers from different machines compare.
$(BUILD)/bench/%: bench/%.c bench/bench.h $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c11 -O2 -Wall -Wextra -Werror -pthread $< -o $@ $(LDFLAGS) \
	    $(call link_flags,$<) $(LDLIBS) -lm

test:
	@TESTS="$(TESTS)" QUICK="$(QUICK)" CONFIGS="$(CONFIGS)" BUILD="$(BUILD)" bash tests/run.sh

# Benchmarks may start the tools (e.g. otlp_sink), so those are built first.
bench: $(BENCHES) $(TOOLS)
ifeq ($(strip $(BENCHES)),)
	@echo "no benchmarks"
else
	@set -e; for b in $(BENCHES); do echo "== $$b"; $$b $(BENCH_ARGS); done
endif

# otel.pc is written at each install: it records PREFIX, which may differ from the last one.
install:
	@mkdir -p $(BUILD)
	@{ echo 'prefix=$(prefix)'; \
	   echo 'includedir=$(includedir)'; \
	   echo; \
	   echo 'Name: otel'; \
	   echo 'Description: OpenTelemetry for C in one header (otel.h, otel_otlp.h)'; \
	   echo 'Version: $(VERSION)'; \
	   echo 'Cflags: -I$${includedir}'; \
	   echo 'Libs: -pthread'; \
	 } >$(BUILD)/otel.pc
	install -d "$(DESTDIR)$(includedir)" "$(DESTDIR)$(pkgconfigdir)"
	install -m 644 $(HEADERS) "$(DESTDIR)$(includedir)/"
	install -m 644 $(BUILD)/otel.pc "$(DESTDIR)$(pkgconfigdir)/otel.pc"

uninstall:
	rm -f $(addprefix "$(DESTDIR)$(includedir)/,$(addsuffix ",$(notdir $(HEADERS))))
	rm -f "$(DESTDIR)$(pkgconfigdir)/otel.pc"

clean:
	rm -rf $(BUILD)

# make demo and make fuzz (the OTLP part) live here; last, so `all` stays the default goal.
-include mk/otlp.mk
