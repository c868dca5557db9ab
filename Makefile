# posenc — build, test, demo.
#   make            build ./posenc (objects under build/); needs only OpenBLAS and cJSON
#                   (found with pkg-config) and installs nothing: a missing one is named
#                   with its Debian package and `make deps`
#   make test       install what the tests need (Debian, as root or with sudo), then build
#                   and run the Check suites and scripts/check.sh (non-zero exit on failure)
#   make SAN=1 test the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-slurm a real single-node Slurm runs a sweep plan (installs Slurm; root; ~50 s)
#   make test-report posenc report's pages in headless Chromium (installs chromium; ~15 s);
#                   REPORT_SHOTS=docs/report writes docs/REPORT.md's screenshots there
#   make test-oracle an independent PyTorch implementation of the model and every encoding,
#                   from docs/SPEC.md, against posenc's logits, loss and gradients
#                   (installs Debian's python3-torch, ~600 MB; runs ~10 s)
#   make bench      training-step performance vs the sgemm ceiling, the demo's cost and the
#                   speed targets (bench/bench.c) -> bench.json (~4 min on 2 cores)
#   make fortunes   the text experiment's corpus, build/fortunes.txt (installs Debian's
#                   fortunes package; experiments/text.json)
#   make demo       the headline experiment (experiments/demo.json) into runs/demo
#                   (installs gnuplot)
#   make fuzz       libFuzzer on the config loader, the safetensors reader and the
#                   run-directory files (config.json, eval*.json, metrics.jsonl,
#                   sweep.json) and the user's data files (a text task's file, a
#                   jsonl task's file),
#                   FUZZ_SECONDS (default 60) each, seeds in tests/fuzz-corpus/
#                   (installs clang)
#   make memcheck   valgrind on train, resume, eval and predict (installs valgrind)
#   make deps       install every Debian package the targets above use (but Slurm and
#                   Chromium, which stay with their targets): scripts/deps.sh
# Only the targets that say so install anything, each what it uses
# (scripts/deps.sh GROUP), before building in a second make that then finds it.

CC      ?= cc
BUILD   := build$(if $(SAN),-san)

# What building needs, probed with pkg-config when a goal builds something
# (not for the goals that install first, nor deps and clean): the missing
# packages named, never installed here. PKG_TEST: the Check framework, for the
# test programs only.
INSTALL_GOALS := deps clean test demo fuzz memcheck test-slurm test-report test-oracle fortunes
BUILD_GOALS   := $(filter-out $(INSTALL_GOALS),$(or $(MAKECMDGOALS),all))
# pkg-config name:Debian package
PKG_CORE := openblas:libopenblas-dev libcjson:libcjson-dev
PKG_TEST := check:check
missing = $(shell command -v pkg-config >/dev/null 2>&1 || { echo pkg-config; exit 0; }; \
            for p in $(1); do pkg-config --exists $${p%%:*} || echo $${p} | cut -d: -f2; done)
ifneq ($(BUILD_GOALS),)
  MISSING := $(call missing,$(PKG_CORE) $(if $(filter test-suites,$(BUILD_GOALS))$(findstring /tests/,$(BUILD_GOALS)),$(PKG_TEST)))
  ifneq ($(strip $(MISSING)),)
    $(error missing Debian package(s): $(strip $(MISSING)) (posenc needs OpenBLAS and cJSON, found with \
      pkg-config; the tests also Check). Install with `make deps` (as root or with sudo; `make test` \
      installs what it needs itself), or: apt-get install $(strip $(MISSING)); elsewhere, install \
      them with their pkg-config files)
  endif
endif

CORE_CFLAGS := $(shell pkg-config --cflags openblas libcjson 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs openblas libcjson 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS  := $(shell pkg-config --libs check 2>/dev/null)

# The user's CFLAGS (default -O2; `make CFLAGS=...` replaces only these) come
# first on every compile line, then the flags posenc requires, which a
# user's CFLAGS adds to but cannot remove or override (later options win):
# -ffp-contract=off everywhere, no fused multiply-add, so the same source
# gives the same bits with any compiler and -march (docs/REPRODUCIBILITY.md);
# the kernels' flags (KERNEL_CFLAGS) for core/ and model/.
CFLAGS  ?= -O2
REQ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -ffp-contract=off -Wall -Wextra -g -MMD -MP -I. $(CORE_CFLAGS) -pthread
REQ_LDFLAGS :=
LDLIBS  := $(PKG_LIBS) -lm -lpthread
ifdef SAN
  # float-cast-overflow: an out-of-range double-to-int cast is undefined
  # behaviour that -fsanitize=undefined does not include
  REQ_CFLAGS  += -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
                 -fno-sanitize-recover=undefined,float-cast-overflow
  REQ_LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
endif
# every compile: the user's flags, then the required ones, then the target's
# own (FILE_CFLAGS: the kernels', Check's, the generated header's directory)
COMPILE = $(CC) $(CFLAGS) $(REQ_CFLAGS) $(FILE_CFLAGS)
LINK    = $(CC) $(LDFLAGS) $(REQ_LDFLAGS)

LIB_SRC  := $(wildcard core/*.c model/*.c data/*.c run/*.c study/*.c)
CLI_SRC  := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/cli/report_asset.o
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_OBJ := $(patsubst bench/%.c,$(BUILD)/bench-obj/%.o,$(wildcard bench/*.c))
BENCH_BIN := $(BUILD)/bench
LIB      := $(BUILD)/libposenc.a
# the program's own objects but main, for the tests of its views and report (test_show, test_report)
CLI_LIB  := $(BUILD)/libposenc-cli.a
PROG     := $(if $(SAN),$(BUILD)/posenc,posenc)

.PHONY: all test test-suites test-slurm test-report test-oracle bench demo deps clean fuzz fuzz-run memcheck fortunes FORCE

DEMO_OUT ?= runs/demo
all: $(PROG)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(COMPILE) -c $< -o $@

# posenc report's page, built into the program (.incbin of the HTML file)
$(BUILD)/cli/report_asset.o: cli/report_asset.S cli/report_page.html
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

# The numerical kernels are built at -O3 (loop vectorisation; no fast-math,
# no FMA contraction, no FP traps assumed: vectorised code computes exactly
# what the scalar code does, and if-converts the clamps in exp; sqrtf inlined,
# as it never needs to set errno here).
KERNEL_CFLAGS := -O3 -ffp-contract=off -fno-trapping-math -fno-math-errno
$(BUILD)/model/%.o: FILE_CFLAGS += $(KERNEL_CFLAGS)
$(BUILD)/core/%.o: FILE_CFLAGS += $(KERNEL_CFLAGS)
# layers.c passes 8-float vectors to its inline helpers: GCC notes that their
# ABI changed in GCC 4.6 (they never cross a library boundary); a diagnostic
# only, the code is the same
$(BUILD)/model/layers.o $(BUILD)/fault/model/layers.o: FILE_CFLAGS += -Wno-psabi

# What produced a run is recorded in its provenance.json (run/provenance.c):
# the version (git describe, "-dirty" for uncommitted changes) and the flags,
# from a header rewritten only when one of them changes.
POSENC_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
BUILD_HDR := $(BUILD)/gen/posenc_build.h
$(BUILD_HDR): FORCE
	@mkdir -p $(dir $@)
	@printf '#define POSENC_VERSION "%s"\n#define POSENC_BUILD_CFLAGS "%s"\n#define POSENC_BUILD_KERNEL_CFLAGS "%s"\n' \
	  '$(POSENC_VERSION)' '$(CC) $(CFLAGS) $(REQ_CFLAGS)' '$(KERNEL_CFLAGS)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/run/provenance.o: $(BUILD_HDR)
$(BUILD)/run/provenance.o: FILE_CFLAGS += -I$(BUILD)/gen
FORCE:

$(BUILD)/bench-obj/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(COMPILE) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CLI_LIB): $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ))
	@rm -f $@
	ar rcs $@ $^

$(PROG): $(CLI_OBJ) $(LIB)
	$(LINK) $^ -o $@ $(LDLIBS)

# The test build of the program, $(BUILD)/posenc-test: the same, but the files
# that name fault_point (core/fsutil.h: POSENC_TEST_KILL, POSENC_TEST_STOP)
# are compiled again with -DPOSENC_FAULT_HOOKS, so the crash tests can kill or
# freeze it at a chosen point; the program itself has no such hook.
FAULT_SRC  := $(shell grep -lw fault_point $(LIB_SRC) 2>/dev/null)
FAULT_OBJ  := $(FAULT_SRC:%.c=$(BUILD)/fault/%.o)
FAULT_PROG := $(BUILD)/posenc-test
$(BUILD)/fault/%.o: %.c
	@mkdir -p $(dir $@)
	$(COMPILE) -DPOSENC_FAULT_HOOKS -c $< -o $@
$(BUILD)/fault/core/%.o $(BUILD)/fault/model/%.o: FILE_CFLAGS += $(KERNEL_CFLAGS)
$(FAULT_PROG): $(CLI_OBJ) $(FAULT_OBJ) $(LIB)
	$(LINK) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%.o: FILE_CFLAGS += $(CHECK_CFLAGS)
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(LIB)
	$(LINK) $(FILE_LDFLAGS) $(filter %.o,$^) $(filter $(CLI_LIB),$^) $(LIB) -o $@ $(CHECK_LIBS) $(LDLIBS)
$(BUILD)/tests/test_show $(BUILD)/tests/test_report: $(CLI_LIB)

# test_decode counts the allocations inside decoding steps (there must be none)
# by wrapping the allocators at link time, as the benchmark does (tests/alloc_count.c);
# test_infer the same for inference.
WRAP_ALLOC := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign
$(BUILD)/tests/test_decode $(BUILD)/tests/test_infer: $(BUILD)/tests/alloc_count.o
$(BUILD)/tests/test_decode $(BUILD)/tests/test_infer: FILE_LDFLAGS += $(WRAP_ALLOC)

# Each tests/test_*.c is one Check program; all run, and any failure fails
# the target. The CLI tests need the program itself. The benchmark is built
# and run for 3 steps too, so that it cannot silently stop compiling, and its
# Markdown renderer (docs/PERFORMANCE.md's block) is run on hostile input (tests/bench_report.sh).
# scripts/check.sh: every "docs/SPEC.md §N.M" cited exists, no Markdown link
# leaves the repository, every file is written through fsutil's one writer.
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory test-suites
test-suites: $(TEST_BIN) $(PROG) $(FAULT_PROG) $(BENCH_BIN)
	@fail=0; for t in $(TEST_BIN); do \
	  echo "== $$t"; \
	  OPENBLAS_NUM_THREADS=1 POSENC_BIN=$(abspath $(PROG)) POSENC_FAULT_BIN=$(abspath $(FAULT_PROG)) \
	    CK_DEFAULT_TIMEOUT=600 ./$$t || fail=1; \
	done; \
	echo "== $(BENCH_BIN) --one small alibi 1 3 (smoke)"; ./$(BENCH_BIN) --one small alibi 1 3 || fail=1; \
	echo "== tests/bench_report.sh"; tests/bench_report.sh $(BENCH_BIN) || fail=1; \
	echo "== scripts/check.sh"; scripts/check.sh || fail=1; \
	if [ $$fail -ne 0 ]; then echo "make test: FAILED"; exit 1; fi; echo "make test: all suites passed"

# slurmctld + slurmd on localhost (generated slurm.conf, auth/none, state in a
# temporary folder) run tests/data/sweep_tiny.json as a job array; its aggregate
# must equal the local sweep's (tests/slurm.sh). The Slurm packages are
# installed here only, not for every build.
test-slurm:
	@scripts/deps.sh slurm
	@$(MAKE) --no-print-directory $(PROG)
	OPENBLAS_NUM_THREADS=1 tests/slurm.sh $(PROG)

# A demo-shaped sweep, a single run, a sweep with a failed run and one with
# hostile strings, reported and checked in headless Chromium (tests/report.sh,
# tests/report_browser.js); screenshots of each panel go to REPORT_SHOTS.
# Chromium is installed here only, not for every build.
REPORT_SHOTS ?= $(BUILD)/report-test
test-report:
	@scripts/deps.sh chromium
	@$(MAKE) --no-print-directory $(PROG)
	tests/report.sh $(PROG) $(REPORT_SHOTS)

# The PyTorch oracle (tests/oracle.py): posenc's model and every encoding
# written again in PyTorch from docs/SPEC.md, set against posenc's logits,
# loss and gradients (tests/oracle_dump.c, a test program on the library) on
# checkpoints it trains for a few steps (~30 s). Debian's python3-torch is
# installed here only (large), and run by Debian's own python3 (a python3
# earlier on PATH, e.g. pyenv's, would not see it).
ORACLE_PYTHON ?= /usr/bin/python3
ORACLE_DUMP   := $(BUILD)/tests/oracle_dump
$(ORACLE_DUMP): $(BUILD)/tests/oracle_dump.o $(LIB)
	$(LINK) $^ -o $@ $(LDLIBS)
test-oracle:
	@scripts/deps.sh oracle
	@$(MAKE) --no-print-directory $(PROG) $(ORACLE_DUMP)
	OPENBLAS_NUM_THREADS=1 $(ORACLE_PYTHON) tests/oracle.py --posenc $(abspath $(PROG)) --dump $(abspath $(ORACLE_DUMP)) \
	  --work $(BUILD)/oracle

# The benchmark counts the allocations posenc's code makes inside a training
# step by wrapping malloc/calloc/realloc/posix_memalign at link time
# (tests/alloc_count.c).
$(BENCH_BIN): $(BENCH_OBJ) $(BUILD)/tests/alloc_count.o $(LIB)
	$(LINK) $(WRAP_ALLOC) $^ -o $@ $(LDLIBS)

bench: $(BENCH_BIN)
	./$(BENCH_BIN) --json bench.json $(BENCH_ARGS)

# The headline experiment: all five encodings on copy, trained on n <= 8,
# evaluated to n = 32, three seeds (experiments/demo.json). One build line
# (make demo V=1 shows the compiler commands), then the sweep: a line per
# finished job (count/total, elapsed, ETA; on stderr, flushed, so it shows
# when piped too) and the tables. Re-running it skips the runs already
# complete and prints the tables again. Then the findings in sentences (posenc
# compare --headline: break lengths with their range over the seeds, rankings
# with their support), where the full paired table is, and the interactive
# page $(DEMO_OUT)/report.html (posenc report).
demo:
	@scripts/deps.sh demo
	@echo "build: ./$(PROG)$(if $(filter 1,$(V)),, (quietly; make demo V=1 shows the compiler commands))"
	@$(MAKE) --no-print-directory $(if $(filter 1,$(V)),,-s) -j$$(nproc) $(PROG)
	@./$(PROG) sweep experiments/demo.json --out $(DEMO_OUT)
	@echo; echo "== findings (./$(PROG) compare $(DEMO_OUT) --headline)"
	@./$(PROG) compare $(DEMO_OUT) --headline
	@echo "every paired difference with its interval: ./$(PROG) compare $(DEMO_OUT) (--markdown for tables);"
	@echo "the tables: $(DEMO_OUT)/results.md, results.csv, breaks.csv"
	@./$(PROG) report $(DEMO_OUT)

# The text experiment's corpus (experiments/text.json): Debian's English fortune
# files in one UTF-8 file, build/fortunes.txt (installs the fortunes package; the
# corpus is never committed). Then, from the repository root:
#   ./posenc sweep experiments/text.json --out runs/text --jobs 1
fortunes:
	@scripts/deps.sh text
	scripts/text_corpus.sh build/fortunes.txt

# Fuzzing (clang + libFuzzer): the library built again by clang with the
# fuzzer's coverage instrumentation and ASan + UBSan, under build-fuzz/.
# Each target runs FUZZ_SECONDS; new inputs go to build-fuzz/corpus-NAME,
# a crash to build-fuzz/crash-* (add it to tests/fuzz-corpus/NAME/ once
# fixed: tests/test_fuzz_corpus.c replays that folder in `make test`).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_NAMES   := config safetensors rundir data jsonl
FUZZ_CFLAGS  := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -g -O1 -I. $(CORE_CFLAGS) -pthread \
                -fsanitize=fuzzer-no-link,address,undefined,float-cast-overflow \
                -fno-sanitize-recover=undefined,float-cast-overflow
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-run
fuzz-run: $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
	@for t in $(FUZZ_NAMES); do \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; mkdir -p $(FUZZ_BUILD)/corpus-$$t; \
	  log=$(FUZZ_BUILD)/fuzz_$$t.log; \
	  ./$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ \
	    -max_len=65536 $(FUZZ_BUILD)/corpus-$$t tests/fuzz-corpus/$$t > $$log 2>&1 \
	    || { tail -n 60 $$log; echo "make fuzz: fuzz_$$t FAILED (input in $(FUZZ_BUILD)/crash-*)"; exit 1; }; \
	  grep -E '^Done|stat::number_of_executed_units|stat::peak_rss' $$log; \
	done

# valgrind on train, resume, eval and predict: zero errors, zero leaks (CI)
memcheck:
	@scripts/deps.sh memcheck
	@$(MAKE) --no-print-directory posenc
	scripts/memcheck.sh ./posenc

deps:
	@scripts/deps.sh all

clean:
	rm -rf build build-san build-fuzz posenc

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
.SECONDARY:
