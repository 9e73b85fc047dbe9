# refrain — build, test, bench, demo.  `make help` lists the targets.
# Sources are found by wildcard: a new .c file in a module folder joins that
# module's library with no edit here.

CC      ?= cc
BUILD   ?= build
MODULES := util audio nn data conditioning autoencoder diffusion sampler
OPT     ?= -O2

# -fno-trapping-math lets `omp simd` loops with float compares (nn_expf's
# clamps, the SiLU and softmax loops) be if-converted and vectorized; it changes
# no result (no reassociation, no finite-math assumptions), only that FP
# exception flags are not preserved, which refrain never reads.
CFLAGS  := -std=c11 $(OPT) -g -Wall -Wextra -Wno-unused-parameter -Wshadow -fno-trapping-math \
           -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. \
           -I/usr/include/stb $(EXTRA_CFLAGS)
LDLIBS  := -lsndfile -lsamplerate -lfftw3f -lopenblas -lstb -lopenmpt -lm -lpthread

# Feature probes (llm.c style): OpenMP and -march=native when the compiler has them.
ifeq ($(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo yes),yes)
  CFLAGS += -fopenmp
  LDLIBS += -fopenmp
endif
ifeq ($(NO_NATIVE),)
ifeq ($(shell echo 'int main(void){return 0;}' | $(CC) -march=native -x c - -o /dev/null 2>/dev/null && echo yes),yes)
  CFLAGS += -march=native
endif
endif

# CI=true or a fresh checkout: install the Debian packages we need when missing.
DEPS_STAMP := $(BUILD)/.deps-ok

lib_srcs = $(wildcard $(1)/*.c)
lib_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(call lib_srcs,$(1)))
ALL_OBJS := $(foreach m,$(MODULES),$(call lib_objs,$(m)))
CLI_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard cli/*.c))
TEST_HEADERS := $(wildcard tests/*.h)
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/bench_*.c))

REFRAIN ?= refrain
.PHONY: all deps test bench demo debug clean help data fetch-music model model-denoiser
all: $(REFRAIN)

help:
	@echo "make            build ./refrain"
	@echo "make deps       install missing Debian packages (needs root)"
	@echo "make test       build and run all tests (installs deps, fetches test music)"
	@echo "make bench      benchmarks against peers; reports in notebooks_exports/"
	@echo "make data       fetch Debian music, render MMA songs, build corpus shards + index"
	@echo "make demo       vocoder round trip of a real excerpt + spectrogram PNG in out/"
	@echo "make debug      build with ASan and UBSan into build-debug/ and run the tests"
	@echo "make fuzz       libFuzzer on every file reader, 10 M executions each (1-2 h); notebooks_exports/fuzz.md"
	@echo "make model      retrain everything shipped: assets/ae.rfc (~3.2 h on 2 cores), then assets/denoiser.rfc (runs make data first)"
	@echo "make model-denoiser  retrain only the denoiser assets/denoiser.rfc (resumable: MAX_MINUTES=N stops a phase)"
	@echo "make clean      remove build outputs"

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@bash scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/obj/%.o: %.c Makefile | $(DEPS_STAMP)   # Makefile: a flag change rebuilds
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

MODULE_LIBS := $(foreach m,$(MODULES),$(BUILD)/lib$(m).a)
.SECONDEXPANSION:
$(MODULE_LIBS): $(BUILD)/lib%.a: $$(call lib_objs,$$*)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/librefrain.a: $(ALL_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The CLI binary; `make debug` builds its own copy under build-debug/.
REFRAIN ?= refrain
export REFRAIN
export BUILD   # tests/cli_*.sh find the test programs (tiny models) under $(BUILD)/tests
$(REFRAIN): $(CLI_OBJS) $(BUILD)/librefrain.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/librefrain.a $(LDLIBS)

# Tests link only the modules their name says, so one module's breakage
# does not stop another's tests: test_audio_* -> audio+util, test_nn_* -> nn+util.
$(BUILD)/tests/test_util_%: tests/test_util_%.c $(TEST_HEADERS) $(BUILD)/libutil.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libutil.a $(LDLIBS)
$(BUILD)/tests/test_audio_%: tests/test_audio_%.c $(TEST_HEADERS) $(BUILD)/libaudio.a $(BUILD)/libutil.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libaudio.a $(BUILD)/libutil.a $(LDLIBS)
$(BUILD)/tests/test_nn_%: tests/test_nn_%.c $(TEST_HEADERS) $(BUILD)/libnn.a $(BUILD)/libutil.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libnn.a $(BUILD)/libutil.a $(LDLIBS)
$(BUILD)/tests/test_%: tests/test_%.c $(TEST_HEADERS) $(BUILD)/librefrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/librefrain.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/librefrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/librefrain.a $(LDLIBS)

# The vocoder's projection loops take sqrtf of sums of squares, which never
# needs errno; without this GCC keeps a scalar errno branch and will not
# vectorise them (measured: see audio/vocoder.c).
$(BUILD)/obj/audio/vocoder.o: CFLAGS += -fno-math-errno

fetch-music: | $(DEPS_STAMP)
	@bash scripts/fetch-music.sh

# The training corpus (design.md, "The corpus") into .cache/corpus; incremental.
data: $(DEPS_STAMP) $(REFRAIN)
	@bash scripts/make-data.sh

test: $(DEPS_STAMP) $(REFRAIN) $(TESTS) fetch-music
	@bash tests/run.sh $(TESTS)

bench: $(DEPS_STAMP) $(REFRAIN) $(BENCHES) fetch-music
	@bash bench/run.sh

demo: $(DEPS_STAMP) $(REFRAIN) fetch-music
	@bash scripts/demo.sh

# Everything shipped: the autoencoder, then the denoiser on its latents.
model: data
	@bash scripts/train-model.sh
	@bash scripts/train-denoiser.sh

# Only the denoiser (the shipped autoencoder stays); rerun to continue a phase.
model-denoiser: data
	@bash scripts/train-denoiser.sh

# Fuzzing (issue 17): libFuzzer harnesses fuzz/fuzz_*.c, built with Debian's
# clang against a copy of the library compiled with ASan, UBSan and coverage
# (OpenMP pragmas not compiled: one thread per fuzzer). `make fuzz` runs each to
# FUZZ_RUNS executions (10 million) or FUZZ_SECONDS, two at a time (one per
# core): 1 to 2 h on this machine under training load; writes notebooks_exports/fuzz.md
# (scripts/fuzz.sh); an input that crashes is kept in tests/fuzz/NAME/, which
# test_fuzz_replay replays in `make test`. FUZZ_SECONDS: see scripts/fuzz.sh.
FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 7200
FUZZ_RUNS    ?= 10000000
FUZZ_CFLAGS  := -std=c11 -O1 -g -fno-omit-frame-pointer -Wno-unknown-pragmas -D_POSIX_C_SOURCE=200809L \
                -D_DEFAULT_SOURCE -I. -I/usr/include/stb -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRCS    := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_SRCS))
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,$(FUZZ_BUILD)/fuzz_%,$(wildcard fuzz/fuzz_*.c))
FUZZ_LDLIBS  := -lsndfile -lsamplerate -lfftw3f -lopenblas -lstb -lopenmpt -lm -lpthread -fopenmp   # omp_* calls; pragmas off
.PHONY: fuzz fuzz-build
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
$(FUZZ_BUILD)/librefrain.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_BUILD)/librefrain.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/librefrain.a $(FUZZ_LDLIBS)
$(FUZZ_BUILD)/make_seeds: fuzz/make_seeds.c fuzz/fuzz.h $(FUZZ_BUILD)/librefrain.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_BUILD)/librefrain.a $(FUZZ_LDLIBS)
fuzz-build: $(FUZZ_TARGETS) $(FUZZ_BUILD)/make_seeds
fuzz: fuzz-build
	@bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_RUNS)

debug:
	$(MAKE) BUILD=build-debug REFRAIN=build-debug/refrain \
	        OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" test

clean:
	rm -rf build build-debug refrain

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
ifneq ($(filter fuzz fuzz-build $(FUZZ_BUILD)/%,$(MAKECMDGOALS)),)
-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
endif
