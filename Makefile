# posenc — build, test, demo.
#   make            build ./posenc (objects under build/)
#   make test       build and run the Check suites (non-zero exit on failure)
#   make SAN=1 test the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      training-step performance vs the sgemm ceiling -> bench.json (~2 min)
#   make demo       the headline experiment (experiments/demo.json) into runs/demo
#   make deps       install missing Debian packages (run automatically)
# Every top-level target first makes sure the Debian packages are present.

CC      ?= cc
PKGS    := openblas libcjson check
DEBS    := libopenblas-dev libcjson-dev check pkg-config gnuplot-nox
BUILD   := build$(if $(SAN),-san)

# Installing dependencies happens at parse time, before pkg-config is asked,
# so that a fresh machine needs nothing but `make test`.
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
  DEPS_OK := $(shell scripts/deps.sh >&2 && echo ok)
  ifneq ($(DEPS_OK),ok)
    $(error dependency installation failed (see the messages above))
  endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs openblas libcjson 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS  ?= -O2
CFLAGS  += -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -g -MMD -MP -I. $(PKG_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lm -lpthread
ifdef SAN
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(wildcard model/*.c data/*.c run/*.c)
CLI_SRC  := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_OBJ := $(patsubst bench/%.c,$(BUILD)/bench-obj/%.o,$(wildcard bench/*.c))
BENCH_BIN := $(BUILD)/bench
LIB      := $(BUILD)/libposenc.a
PROG     := $(if $(SAN),$(BUILD)/posenc,posenc)

.PHONY: all test bench demo deps clean

DEMO_OUT ?= runs/demo
all: $(PROG)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The numerical kernels are built at -O3 (loop vectorisation; no fast-math,
# no FMA contraction, no FP traps assumed: vectorised code computes exactly
# what the scalar code does, and if-converts the clamps in exp).
$(BUILD)/model/%.o: CFLAGS += -O3 -ffp-contract=off -fno-trapping-math

$(BUILD)/bench-obj/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(PROG): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(LIB)
	$(CC) $(LDFLAGS) $^ -o $@ $(CHECK_LIBS) $(LDLIBS)

# Each tests/test_*.c is one Check program; all run, and any failure fails
# the target. The CLI tests need the program itself.
test: $(TEST_BIN) $(PROG)
	@fail=0; for t in $(TEST_BIN); do \
	  echo "== $$t"; \
	  OPENBLAS_NUM_THREADS=1 POSENC_BIN=$(abspath $(PROG)) CK_DEFAULT_TIMEOUT=600 ./$$t || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo "make test: FAILED"; exit 1; fi; echo "make test: all suites passed"

# The benchmark counts the allocations posenc's code makes inside a training
# step by wrapping malloc/calloc/realloc at link time.
$(BENCH_BIN): $(BENCH_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc $^ -o $@ $(LDLIBS)

bench: $(BENCH_BIN)
	./$(BENCH_BIN) --json bench.json $(BENCH_ARGS)

# The headline experiment: all five encodings on copy, trained on n <= 8,
# evaluated to n = 32, two seeds (experiments/demo.json). Re-running it skips
# the runs already complete and prints the table again.
demo: $(PROG)
	./$(PROG) sweep experiments/demo.json --out $(DEMO_OUT)

deps:
	@scripts/deps.sh

clean:
	rm -rf build build-san posenc

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
.SECONDARY:
