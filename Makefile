# Makefile — ministry-tutor: build, install, test, benchmark.
#
#   make            build build/ministry-tutor
#   make run        install missing Debian packages, build, start the lessons
#   make check      the same set-up, then every test (libcheck summary last)
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
CC         ?= cc
CFLAGS     ?= -O2 -g
LDFLAGS    ?=
SANITIZE   ?=
# A sanitizer build gets a folder of its own: objects built without the
# sanitizers must not be linked into it.
BUILD      ?= $(if $(SANITIZE),build-$(subst $(comma),-,$(SANITIZE)),build)

VERSION := 0.1.0

# The interpreter the embedded libpython belongs to (its prefix is computed
# from it), from the build's own pkg-config data.
PY_PROGRAM := $(shell $(PKG_CONFIG) --variable=exec_prefix python3-embed 2>/dev/null)/bin/python$(shell $(PKG_CONFIG) --modversion python3-embed 2>/dev/null)

PKGS := python3-embed capstone libdw libelf jansson librsvg-2.0 cairo
# Only -I from ncursesw: its -D_XOPEN_SOURCE=600 would fight pyconfig.h.
CURSES_CFLAGS := $(filter -I%,$(shell $(PKG_CONFIG) --cflags ncursesw 2>/dev/null))
CURSES_LIBS   := $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null)

# Library headers are system headers: their warnings are not ours.
DEP_CFLAGS := $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null))
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) $(CURSES_LIBS) -ldl

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2
MT_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(DEP_CFLAGS) $(CURSES_CFLAGS) \
             -DMT_VERSION='"$(VERSION)"' -DMT_DATADIR='"$(DATADIR)"' \
             -DMT_PY_PROGRAM='"$(PY_PROGRAM)"' -MMD -MP
MT_LDFLAGS := -rdynamic
ifneq ($(SANITIZE),)
MT_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
MT_LDFLAGS += -fsanitize=$(SANITIZE)
endif

SRC      := $(sort $(wildcard src/*.c))
OBJ      := $(SRC:src/%.c=$(BUILD)/%.o)
LIB_OBJ  := $(filter-out $(BUILD)/main.o,$(OBJ))
TEST_SRC := $(sort $(wildcard tests/check_*.c))
TEST_OBJ := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%.o)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all deps deps-check deps-bench run check test install uninstall \
        clean bench stress fuzz
all: $(BUILD)/ministry-tutor

deps:
	$(Q)scripts/deps.sh build
deps-check:
	$(Q)scripts/deps.sh check
deps-bench:
	$(Q)scripts/deps.sh bench

$(BUILD)/ministry-tutor: $(OBJ)
	@echo "  LINK  $@"
	$(Q)$(CC) $(MT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -I$(BUILD) -c -o $@ $<

# The host's Python helpers, a Python file embedded in interp.o as bytes.
$(BUILD)/host_helpers.inc: src/host_helpers.py | $(BUILD)
	@echo "  XXD   $<"
	$(Q)xxd -i < $< > $@
$(BUILD)/interp.o: $(BUILD)/host_helpers.inc

# The test runner calls every suite named in tests/check_*.c.
$(BUILD)/tests/suites.h: $(TEST_SRC) | $(BUILD)/tests
	$(Q)sed -n 's/^\(mt_[a-z0-9_]*_suite\)(void)$$/MT_SUITE(\1)/p' $(TEST_SRC) > $@

$(BUILD)/tests/%.o: tests/%.c $(BUILD)/tests/suites.h | $(BUILD)/tests
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) $(shell $(PKG_CONFIG) --cflags check) \
	    -Wno-missing-prototypes -Isrc -I$(BUILD)/tests -c -o $@ $<

$(BUILD)/check_ministry: $(LIB_OBJ) $(TEST_OBJ)
	@echo "  LINK  $@"
	$(Q)$(CC) $(MT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(DEP_LIBS) \
	    $(shell $(PKG_CONFIG) --libs check)

$(BUILD) $(BUILD)/tests:
	$(Q)mkdir -p $@

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/ministry-tutor

check: deps-check
	$(Q)$(MAKE) --no-print-directory $(BUILD)/ministry-tutor $(BUILD)/check_ministry fuzz
	$(Q)$(PY_PROGRAM) tests/check_layering.py
	$(Q)$(PY_PROGRAM) tests/test_host_helpers.py
	$(Q)fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)
	$(Q)MT_BIN=$(abspath $(BUILD)/ministry-tutor) MT_SRCDIR=$(CURDIR) \
	    $(if $(filter address,$(subst $(comma), ,$(SANITIZE))),LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp) \
	    $(BUILD)/check_ministry
test: check


# Benchmark programs (bench/*.c): the alternating timer, the bare embedding
# host for bench/reference.py, the symbol timer, the in-process phase timer,
# and the TUI redraw timer.
BENCH_BIN := $(BUILD)/bench/bench $(BUILD)/bench/embed_ref $(BUILD)/bench/symbols \
             $(BUILD)/bench/steps $(BUILD)/bench/redraw

bench: deps-bench
	$(Q)$(MAKE) --no-print-directory $(BUILD)/ministry-tutor $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) bench/run.sh

$(BUILD)/bench:
	$(Q)mkdir -p $@

$(BUILD)/bench/bench: bench/bench.c | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench/embed_ref: bench/embed_ref.c | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(shell $(PKG_CONFIG) --libs python3-embed)

$(BUILD)/bench/symbols: bench/symbols.c $(BUILD)/symbols.o $(BUILD)/util.o | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/symbols.o \
	    $(BUILD)/util.o $(DEP_LIBS)

$(BUILD)/bench/steps: bench/steps.c $(LIB_OBJ) | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(MT_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(DEP_LIBS)

$(BUILD)/bench/redraw: bench/redraw.c $(LIB_OBJ) | $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(MT_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(DEP_LIBS)

# Reliability (docs/reliability.md).  make stress: every stage cycled
# STRESS_CYCLES times in one worker, its resident memory growth printed.
# make fuzz: the libFuzzer harnesses, built with clang; make check runs each
# for FUZZ_SECONDS (0 skips), before the test runner so that its summary
# stays last.
STRESS_CYCLES ?= 1000
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 30
FUZZ_FLAGS    := -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -g -O1 \
                 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LESSON_SRC := fuzz/fuzz_lesson.c src/lesson.c src/util.c
FUZZ_RESULT_SRC := fuzz/fuzz_result.c src/result.c src/wire.c src/util.c src/view.c src/doc.c

stress: $(BUILD)/stress
	$(Q)MT_SRCDIR=$(CURDIR) $(BUILD)/stress $(STRESS_CYCLES)

$(BUILD)/stress: tests/stress.c $(LIB_OBJ) | $(BUILD)
	@echo "  LINK  $@"
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(MT_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(DEP_LIBS)

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
	$(Q)$(CC) $(MT_CFLAGS) $(CFLAGS) -Isrc $(MT_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(DEP_LIBS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/ministry-tutor/lessons \
	    $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BUILD)/ministry-tutor $(DESTDIR)$(BINDIR)/
	install -m 644 lessons/*.py $(DESTDIR)$(DATADIR)/ministry-tutor/lessons/
	install -m 644 docs/ministry-tutor.1 $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ministry-tutor $(DESTDIR)$(MANDIR)/man1/ministry-tutor.1
	rm -rf $(DESTDIR)$(DATADIR)/ministry-tutor

clean:
	rm -rf $(BUILD)

-include $(OBJ:.o=.d) $(TEST_OBJ:.o=.d)
