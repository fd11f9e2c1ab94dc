# vhdvisor: one non-recursive Makefile. Each folder contributes a module.mk
# that names its sources; every folder becomes a static library under
# $(BUILD)/lib, and the programs in tools/ link them.
#
#   make            build everything           make test      deps+build+tests
#   make deps       install Debian packages    make asan      tests under ASan+UBSan
#   make bench      benchmarks vs peer tools   make test-long soaks, long fuzzing
#   make fuzz       libFuzzer targets          make install PREFIX=/usr/local
#   make demo       the main job: build, make tiny.vhd, boot a VM from it
#   make iso        the turnkey installer ISO, $(BUILD)/vhdvisor.iso (root)
#   make clean
#
# BUILD=dir selects the output folder (several builds can coexist).

BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= gcc
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

WARN := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wshadow -Wpointer-arith -Wwrite-strings -Wundef -Wvla \
	-Wmissing-declarations -Wold-style-definition -Wnested-externs \
	-Wno-unused-parameter -Werror
OPT      ?= -O2 -g
SAN      ?=
CPPFLAGS += -I. -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
CFLAGS   += -std=gnu11 $(OPT) $(WARN) $(SAN) -fno-strict-aliasing -pthread
LDFLAGS  += $(SAN) -pthread

# Library order for linking: a folder may only use folders to its right
# (see docs/architecture.md). Folders that do not exist yet are skipped.
LIB_ORDER := appliance images hv blkback netback virtio vhd common

MODULES  :=
PROGRAMS :=
LDLIBS   :=
include $(wildcard */module.mk)

lib_of    = $(BUILD)/lib/lib$(1).a
objs_of   = $(patsubst %.c,$(BUILD)/obj/%.o,$($(1)_SRCS))
LINK_MODS := $(filter $(MODULES),$(LIB_ORDER))
LIBS      := $(foreach m,$(LINK_MODS),$(call lib_of,$(m)))

all: $(foreach p,$(PROGRAMS),$(BUILD)/bin/$(p))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MD -MP -c $< -o $@

define module_rule
$(call lib_of,$(1)): $(call objs_of,$(1))
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  AR      $$@")
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m))))

define program_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$($(1)_PROG_SRCS)) $(LIBS)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK    $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBS) $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# ---- unit tests: tests/unit/<folder>/test_<module>.c, one binary each ----
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS) -lcriterion

# ---- test tools: tests/tools/<name>.c, programs the integration tests run
# ($VV_BUILD/tests/tools/<name>); each links only what it names here ----
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst %.c,$(BUILD)/%,$(TOOL_SRCS))
TOOL_LIBS_lvread := -lvhdi
TOOL_LIBS_nbd_tls_client := -lgnutls -pthread
TOOL_LIBS_ws_client := -lgnutls -lcrypto
TOOL_LIBS_api_load := -pthread

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TOOL_LIBS_$*)

# ---- fuzz targets: tests/fuzz/fuzz_<name>.c, built with clang+libFuzzer ----
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BUILD := build/fuzz

.PHONY: all deps demo tests-build test test-unit test-integration check-includes asan bench \
	test-long fuzz fuzz-build install clean iso
.SECONDARY:

deps:
	@bash scripts/deps.sh

tests-build: all $(UNIT_BINS) $(TOOL_BINS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) bash scripts/demo.sh

test: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)BUILD=$(BUILD) bash tests/run.sh

test-unit: tests-build
	$(Q)BUILD=$(BUILD) bash tests/run.sh --unit

test-integration: tests-build
	$(Q)BUILD=$(BUILD) bash tests/run.sh --integration

check-includes:
	$(Q)bash scripts/check-includes.sh .

# Tests that compile C against $(BUILD)/lib must add $$VV_SAN to their flags.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan OPT="-O2 -g" \
		SAN="$(ASAN_FLAGS)" \
		tests-build
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		VV_SAN="$(ASAN_FLAGS)" BUILD=build/asan bash tests/run.sh

bench: deps all
	$(Q)BUILD=$(BUILD) bash tests/bench/run.sh

fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined" all
	$(Q)for f in $(FUZZ_SRCS); do \
		n=$$(basename $$f .c); \
		clang $(CPPFLAGS) -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined \
			-o $(FUZZ_BUILD)/bin/$$n $$f $(foreach m,$(LINK_MODS),$(FUZZ_BUILD)/lib/lib$(m).a) $(LDLIBS) || exit 1; \
	done

fuzz: fuzz-build
	$(Q)bash tests/fuzz/run.sh $(FUZZ_BUILD)/bin 300

test-long: tests-build fuzz-build
	$(Q)BUILD=$(BUILD) VHDVISOR_LONG=1 bash tests/run.sh
	$(Q)bash tests/fuzz/run.sh $(FUZZ_BUILD)/bin 1800

SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 $(foreach p,$(PROGRAMS),$(BUILD)/bin/$(p)) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(foreach p,$(PROGRAMS),docs/man/$(p).1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(foreach p,$(PROGRAMS),tools/completion/$(p)) \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed 's|@PREFIX@|$(PREFIX)|g' scripts/vhdvisord.service >$(DESTDIR)$(SYSTEMD_UNIT_DIR)/vhdvisord.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/vhdvisord.service
	install -d $(DESTDIR)$(PREFIX)/share/vhdvisor/web
	install -m 0644 $(addprefix $(WEB_OUT)/,index.html app.js app.css app.js.gz app.css.gz) \
		$(DESTDIR)$(PREFIX)/share/vhdvisor/web/

# The turnkey installer/live ISO (issue 15): $(BUILD)/vhdvisor.iso, needs root.
iso: all
	$(Q)BUILD=$(BUILD) bash scripts/iso/build.sh

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
