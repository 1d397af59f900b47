# Makefile — ministry-tutor: build, install, test, benchmark.
#
#   make            build build/ministry-tutor and a worker per CPython
#                   (build/ministry-worker-3.X; PYTHON=3.X for just one)
#   make run        install missing Debian packages, build, start the lessons
#   make check      the same set-up, then every test against every worker
#   make check-forky   make check in a Debian forky root (3.13, 3.14, 3.15)
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      side-by-side benchmark, writes bench/RESULTS.md
#   make stress     seven stages cycled in one worker, resident memory growth
#   make fuzz       libFuzzer harnesses (clang)
#
# User flags go in CFLAGS/LDFLAGS; the project's own are kept apart.
# SANITIZE=address,undefined builds everything with those sanitizers; V=1
# shows the commands.

comma := ,
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
LIBEXECDIR ?= $(PREFIX)/libexec/ministry-tutor
CC         ?= cc
CFLAGS     ?= -O2 -g
LDFLAGS    ?=
SANITIZE   ?=
# A sanitizer build gets a folder of its own: objects built without the
# sanitizers must not be linked into it.
BUILD      ?= $(if $(SANITIZE),build-$(subst $(comma),-,$(SANITIZE)),build)

VERSION := 0.1.0

# The CPythons to build a worker for: every 3.11 or newer whose
# python-3.X-embed pkg-config file is installed, or just PYTHON=3.X.
# DEFAULT_PY is the one build/check_ministry tests: the system python3's
# when it is among them, else the newest.
PYTHONS := $(or $(PYTHON),$(shell $(PKG_CONFIG) --list-all 2>/dev/null \
             | sed -n 's/^python-3\.\([0-9][0-9]*\)-embed .*/\1/p' \
             | awk '$$1 >= 11' | sort -n | sed 's/^/3./' | tr '\n' ' '))
SYSTEM_PY  := $(patsubst python%,%,$(notdir $(realpath /usr/bin/python3)))
DEFAULT_PY := $(or $(filter $(SYSTEM_PY),$(PYTHONS)),$(lastword $(PYTHONS)))

# The frontend links no libpython; each worker links its own.
PKGS       := jansson librsvg-2.0 cairo
WORKER_PKGS := capstone libdw libelf jansson
# Only -I from ncursesw: its -D_XOPEN_SOURCE=600 would fight pyconfig.h.
CURSES_CFLAGS := $(filter -I%,$(shell $(PKG_CONFIG) --cflags ncursesw 2>/dev/null))
CURSES_LIBS   := $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null)

# Library headers are system headers: their warnings are not ours.
isystem = $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null))
DEP_CFLAGS := $(call isystem,$(PKGS) $(WORKER_PKGS))
# librsvg and cairo are headers only: export_fmt.c opens them with dlopen
# when it first draws a PNG (linked, they slowed every start by ~6 ms).
# The tests read PNGs back with cairo.
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null) $(CURSES_LIBS) -ldl
WORKER_LIBS := $(shell $(PKG_CONFIG) --libs $(WORKER_PKGS) 2>/dev/null) -ldl
# One CPython's flags, libraries and interpreter path (the embedded
# interpreter computes its prefix from it).
py_cflags  = $(call isystem,python-$(1)-embed) -DMT_PY_PROGRAM='"$(call py_program,$(1))"'
py_libs    = $(shell $(PKG_CONFIG) --libs python-$(1)-embed 2>/dev/null)
py_program = $(shell $(PKG_CONFIG) --variable=exec_prefix python-$(1)-embed)/bin/python$(1)

# The frames between frontend and worker, stamped into both: a worker built
# from other sources is refused at its hello.
WIRE_FILES := src/wire.c src/wire.h src/result.c src/result.h src/attempt.c src/attempt.h \
              src/worker.h
WIRE_SUM   := $(firstword $(shell cat $(WIRE_FILES) 2>/dev/null | cksum))

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2
MT_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(DEP_CFLAGS) $(CURSES_CFLAGS) \
             -DMT_VERSION='"$(VERSION)"' -DMT_DATADIR='"$(DATADIR)"' \
             -DMT_LIBEXECDIR='"$(LIBEXECDIR)"' -DMT_WIRE_SUM='"$(WIRE_SUM)"' -MMD -MP
MT_LDFLAGS := -rdynamic
# A finding ends the process that made it (a worker's undefined behaviour
# would otherwise be a line in a log nobody reads).
ifneq ($(SANITIZE),)
MT_CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
MT_LDFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

# Three kinds of source: the files that include Python.h, compiled once per
# CPython into $(BUILD)/py3.X/; the worker's other files; the frontend's.
SRC        := $(sort $(wildcard src/*.c))
PY_SRC     := src/interp.c src/layout.c src/ministry.c
WORKER_SRC := src/serve.c src/session.c src/symbols.c src/tramp.c src/disasm.c \
              src/mem.c src/checker.c src/worker_main.c
SHARED_SRC := src/lesson.c src/util.c src/wire.c src/result.c src/attempt.c
FRONT_SRC  := $(filter-out $(PY_SRC) $(WORKER_SRC),$(SRC))
OBJ        := $(FRONT_SRC:src/%.c=$(BUILD)/%.o)
WORKER_OBJ := $(WORKER_SRC:src/%.c=$(BUILD)/%.o) $(SHARED_SRC:src/%.c=$(BUILD)/%.o)
py_obj      = $(PY_SRC:src/%.c=$(BUILD)/py$(1)/%.o)
WORKERS    := $(PYTHONS:%=$(BUILD)/ministry-worker-%)
# Everything but the two mains, for DEFAULT_PY: what runs the engine in
# one process (tests, stress, bench).
LIB_OBJ    := $(sort $(filter-out $(BUILD)/main.o $(BUILD)/worker_main.o,$(OBJ) $(WORKER_OBJ))) \
              $(call py_obj,$(DEFAULT_PY))
LIB_LIBS   := $(DEP_LIBS) $(WORKER_LIBS) $(call py_libs,$(DEFAULT_PY))
TEST_SRC   := $(sort $(wildcard tests/check_*.c))
test_obj    = $(TEST_SRC:tests/%.c=$(BUILD)/py$(1)/tests/%.o)
CHECKS     := $(PYTHONS:%=$(BUILD)/check_ministry-%)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all deps deps-check deps-bench run check check-run check-forky test install uninstall \
        clean bench stress fuzz
all: $(BUILD)/ministry-tutor $(WORKERS)

deps:
	$(Q)scripts/deps.sh build
DEPS_SET ?= check
deps-check:
	$(Q)scripts/deps.sh $(DEPS_SET)
deps-bench:
	$(Q)scripts/deps.sh bench

# The frontend is of no use without a worker: building it builds them.
$(BUILD)/ministry-tutor: $(OBJ) | $(WORKERS)
	@echo "  LINK  $@"
	$(Q)$(CC) $(MT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -I$(BUILD) -c -o $@ $<

# The host's Python helpers, a Python file embedded in interp.o as bytes.
$(BUILD)/host_helpers.inc: src/host_helpers.py | $(BUILD)
	@echo "  XXD   $<"
	$(Q)xxd -i < $< > $@
$(PYTHONS:%=$(BUILD)/py%/interp.o): $(BUILD)/host_helpers.inc

# Both ends of the frames carry their checksum.
$(BUILD)/worker.o $(BUILD)/serve.o: $(WIRE_FILES)

# The test runner calls every suite named in tests/check_*.c.
$(BUILD)/tests/suites.h: $(TEST_SRC) | $(BUILD)/tests
	$(Q)sed -n 's/^\(mt_[a-z0-9_]*_suite\)(void)$$/MT_SUITE(\1)/p' $(TEST_SRC) > $@

# Per CPython 3.X: its Python-aware objects, its worker, and a test binary
# whose in-process engine is that version (its CLI tests drive the worker).
define PYTHON_RULES
$(BUILD)/py$(1)/%.o: src/%.c | $(BUILD)/py$(1)
	@echo "  CC    $$< ($(1))"
	$(Q)$(CC) $(MT_CFLAGS) $(call py_cflags,$(1)) $(CFLAGS) -I$(BUILD) -c -o $$@ $$<

$(BUILD)/ministry-worker-$(1): $(WORKER_OBJ) $(call py_obj,$(1))
	@echo "  LINK  $$@"
	$(Q)$(CC) $(MT_LDFLAGS) $(LDFLAGS) -o $$@ $$^ $(WORKER_LIBS) $(call py_libs,$(1))

$(BUILD)/py$(1)/tests/%.o: tests/%.c $(BUILD)/tests/suites.h | $(BUILD)/py$(1)/tests
	@echo "  CC    $$< ($(1))"
	$(Q)$(CC) $(MT_CFLAGS) $(call py_cflags,$(1)) $(CFLAGS) \
	    $(shell $(PKG_CONFIG) --cflags check) -Wno-missing-prototypes -Isrc \
	    -I$(BUILD)/tests -c -o $$@ $$<

$(BUILD)/check_ministry-$(1): $(sort $(filter-out $(BUILD)/main.o $(BUILD)/worker_main.o,$(OBJ) $(WORKER_OBJ))) \
                             $(call py_obj,$(1)) $(call test_obj,$(1))
	@echo "  LINK  $$@"
	$(Q)$(CC) $(MT_LDFLAGS) $(LDFLAGS) -o $$@ $$^ $(DEP_LIBS) $(WORKER_LIBS) \
	    $(call py_libs,$(1)) $(shell $(PKG_CONFIG) --libs check cairo)

$(BUILD)/py$(1) $(BUILD)/py$(1)/tests:
	$(Q)mkdir -p $$@
endef
$(foreach v,$(PYTHONS),$(eval $(call PYTHON_RULES,$(v))))

# The test binary of DEFAULT_PY, under the name the quick loops use.
$(BUILD)/check_ministry: $(BUILD)/check_ministry-$(DEFAULT_PY)
	$(Q)ln -f $< $@

$(BUILD) $(BUILD)/tests:
	$(Q)mkdir -p $@

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/ministry-tutor

# Every suite once per worker built, each test binary and the frontend on
# that CPython (MINISTRY_PYTHON), one summary per version; a failure on one
# version does not stop the others.
# check-run is a make of its own, so that the CPythons the set-up has just
# installed are found.
check: deps-check
	$(Q)$(MAKE) --no-print-directory check-run
# Under SANITIZE=address the crashes lessons provoke on purpose are left to
# kill the worker by their signal (ASAN_OPTIONS=handle_segv=0 ...), as they
# do without it, so the tests see the same deaths; MT_SANITIZED skips what
# cannot run such a binary (valgrind).  Every sanitized process writes its
# reports to $(SAN_LOGS) instead of its stderr (a worker's stderr is a log
# the frontend shows only when it dies, and a worker that quits looks for
# leaks itself): a report there fails make check, and is printed.
SAN_LOGS = $(abspath $(BUILD))/sanitizer
check-run:
	$(Q)test -n "$(PYTHONS)" || { echo "make check: no python3.X-dev (3.11+) is installed" >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory $(BUILD)/ministry-tutor $(CHECKS) \
	    $(if $(filter 0,$(FUZZ_SECONDS)),,fuzz)
	$(Q)$(call py_program,$(DEFAULT_PY)) tests/check_layering.py
	$(Q)set -e; for v in $(PYTHONS); do \
	    $(call py_program,$$v) tests/test_host_helpers.py; done
	$(Q)$(if $(filter 0,$(FUZZ_SECONDS)),true,fuzz/run.sh $(BUILD) $(FUZZ_SECONDS))
	$(Q)$(if $(SANITIZE),rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS))
	$(Q)rc=0; for v in $(PYTHONS); do \
	    echo "== CPython $$v"; \
	    MINISTRY_PYTHON=$$v MT_BIN=$(abspath $(BUILD)/ministry-tutor) MT_SRCDIR=$(CURDIR) \
	    $(if $(filter address,$(subst $(comma), ,$(SANITIZE))),LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 ASAN_OPTIONS=handle_segv=0:handle_sigbus=0:handle_abort=0:log_path=$(SAN_LOGS)/asan MT_SANITIZED=1) \
	    $(if $(SANITIZE),UBSAN_OPTIONS=print_stacktrace=1:log_path=$(SAN_LOGS)/ubsan) \
	    $(BUILD)/check_ministry-$$v || rc=1; done; \
	$(if $(SANITIZE),set -- $(SAN_LOGS)/*; if [ -e "$$1" ]; then \
	    echo "make check: $$# sanitizer report(s) in $(SAN_LOGS):" >&2; \
	    for f; do echo "== $$f" >&2; head -n 40 "$$f" >&2; done; rc=1; fi;) \
	exit $$rc
test: check

# make check inside a Debian forky root (debootstrap, cached in
# $(FORKY_ROOT)) for the CPythons forky ships: 3.13, 3.14 and 3.15.  As root.
FORKY_ROOT ?= build/forky-root
check-forky:
	$(Q)scripts/forky.sh $(FORKY_ROOT) build-forky $(FORKY_MIRROR)


# Benchmark programs (bench/*.c): the alternating timer, the bare embedding
# host for bench/reference.py (one per CPython a worker is built for, linked
# with that version's libpython), the symbol timer, the in-process phase
# timer, and the TUI redraw timer.  BENCH_OLD=path/to/an/older/ministry-tutor
# adds its --list to the side-by-side runs.
BENCH_BIN := $(BUILD)/bench/bench $(PYTHONS:%=$(BUILD)/bench/embed_ref-%) \
             $(BUILD)/bench/symbols $(BUILD)/bench/steps $(BUILD)/bench/redraw

bench: deps-bench
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) bench/run.sh

define BENCH_RULES
$(BUILD)/bench/embed_ref-$(1): bench/embed_ref.c | $(BUILD)/bench
	@echo "  CC    $$< ($(1))"
	$(Q)$(CC) $(MT_CFLAGS) $(call py_cflags,$(1)) $(CFLAGS) $(LDFLAGS) -o $$@ $$< \
	    $(call py_libs,$(1))
endef
$(foreach v,$(PYTHONS),$(eval $(call BENCH_RULES,$(v))))

$(BUILD)/bench:
	$(Q)mkdir -p $@

$(BUILD)/bench/bench: bench/bench.c | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench/symbols: bench/symbols.c $(BUILD)/symbols.o $(BUILD)/util.o | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(call py_cflags,$(DEFAULT_PY)) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< \
	    $(BUILD)/symbols.o $(BUILD)/util.o $(DEP_LIBS) $(WORKER_LIBS) $(call py_libs,$(DEFAULT_PY))

$(BUILD)/bench/steps: bench/steps.c $(LIB_OBJ) | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(MT_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LIB_LIBS)

$(BUILD)/bench/redraw: bench/redraw.c $(LIB_OBJ) | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(MT_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LIB_LIBS)

# Reliability (docs/reliability.md).  make stress: every stage cycled
# STRESS_CYCLES times in one worker, its resident memory growth printed;
# then STRESS_WALKS walks of the binary ended by random signals (no
# process may be left, no file outside the export folder touched).
# make fuzz: the libFuzzer harnesses, built with clang; make check runs each
# for FUZZ_SECONDS (0 skips), before the test runner so that its summary
# stays last.
STRESS_CYCLES ?= 1000
STRESS_WALKS  ?= 1000
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 30
FUZZ_FLAGS    := -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -g -O1 \
                 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LESSON_SRC := fuzz/fuzz_lesson.c src/lesson.c src/util.c
FUZZ_RESULT_SRC := fuzz/fuzz_result.c src/result.c src/wire.c src/util.c src/view.c src/doc.c

stress: $(BUILD)/stress $(BUILD)/stress_signals $(BUILD)/ministry-tutor $(WORKERS)
	$(Q)MT_SRCDIR=$(CURDIR) $(BUILD)/stress $(STRESS_CYCLES)
	$(Q)MT_BIN=$(abspath $(BUILD)/ministry-tutor) $(BUILD)/stress_signals $(STRESS_WALKS)

$(BUILD)/stress_signals: tests/stress_signals.c | $(BUILD)
	@echo "  LINK  $@"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -o $@ $<

$(BUILD)/stress: tests/stress.c $(LIB_OBJ) | $(BUILD)
	@echo "  LINK  $@"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(MT_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LIB_LIBS)

fuzz: $(BUILD)/fuzz/fuzz_lesson $(BUILD)/fuzz/fuzz_result $(BUILD)/fuzz/seed_result

$(BUILD)/fuzz:
	$(Q)mkdir -p $@

$(BUILD)/fuzz/fuzz_lesson: $(FUZZ_LESSON_SRC) $(wildcard src/*.h) | $(BUILD)/fuzz
	@echo "  FUZZ  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) $(shell $(PKG_CONFIG) --cflags jansson) -o $@ \
	    $(FUZZ_LESSON_SRC) $(shell $(PKG_CONFIG) --libs jansson)

$(BUILD)/fuzz/fuzz_result: $(FUZZ_RESULT_SRC) $(wildcard src/*.h) | $(BUILD)/fuzz
	@echo "  FUZZ  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_RESULT_SRC)

$(BUILD)/fuzz/seed_result: fuzz/seed_result.c $(LIB_OBJ) | $(BUILD)/fuzz
	@echo "  LINK  $@"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(MT_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LIB_LIBS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/ministry-tutor/lessons \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(BUILD)/ministry-tutor $(DESTDIR)$(BINDIR)/
	install -m 755 $(WORKERS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 644 lessons/*.py $(DESTDIR)$(DATADIR)/ministry-tutor/lessons/
	install -m 644 docs/ministry-tutor.1 $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ministry-tutor $(DESTDIR)$(MANDIR)/man1/ministry-tutor.1
	rm -rf $(DESTDIR)$(DATADIR)/ministry-tutor $(DESTDIR)$(LIBEXECDIR)

clean:
	rm -rf $(BUILD)

-include $(OBJ:.o=.d) $(WORKER_OBJ:.o=.d) $(wildcard $(BUILD)/py*/*.d $(BUILD)/py*/tests/*.d)
