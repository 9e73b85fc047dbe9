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
# One object set for librefrain.a and librefrain.so: -fPIC, and only refrain.h's
# functions exported (its `#pragma GCC visibility`), so every other global is
# hidden and reached directly, as in the -fPIE objects Debian's gcc makes by
# default. The code differs from -fPIE only where a _Thread_local scratch buffer
# is looked up (a __tls_get_addr call, which the linker turns back into a %fs
# access in the executable) and in register choices around it: 1.5% of the
# libraries' instructions, none in inner loops (objdump of every module, -fPIE
# against these flags). Executed instructions (valgrind, one thread) of
# examples/generate.c making a 40 s song with the tiny test models, 8 steps:
# 2,665,515,413 with -fPIE objects, 2,665,540,529 (+0.001%) with these linked
# statically, 2,672,324,291 (+0.26%, mostly the loader) through librefrain.so;
# the same WAV bytes from all three. So one object set, not two.
CFLAGS  += -fPIC -fvisibility=hidden
# The one version is refrain.h's REFRAIN_VERSION (`refrain --version` prints it);
# the shared library is librefrain.so.VERSION, soname librefrain.so.MAJOR.
VERSION := $(shell sed -n 's/^\#define REFRAIN_VERSION "\(.*\)"/\1/p' refrain.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME  := librefrain.so.$(SOMAJOR)
# make debug's sanitizers (in OPT) also link the shared library (its
# --no-undefined needs their runtimes), every program that uses it (the
# sanitizers' runtime must come first) and refrain.pc's Libs.
SANITIZE = $(filter -fsanitize=% -fno-sanitize-recover=%,$(OPT))
export SANITIZE   # tests that build a program against librefrain.so add it (cli_analyze_output.sh)

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

# CI=true or a fresh checkout: install the Debian packages a target needs when
# missing (scripts/install-deps.sh lists them): building, the demo and the
# tests need no PyTorch; the tests and the corpus need mma and fluidsynth.
DEPS_STAMP := $(BUILD)/.deps-build

# Data-parallel training over MPI (util/dist.h says why a build option and not
# dlopen): `make MPI=1` links ./refrain against Debian's OpenMPI (openmpi-bin and
# libopenmpi-dev, installed when missing) for `mpirun -np N refrain train-diffusion`
# and train-ae. The default build's util/dist.c is a serial stub: no MPI at build
# or run time. $(BUILD)/refrain-mpi is the MPI binary beside the serial one;
# `make test` builds it and runs tests/cli_mpi.sh when OpenMPI's headers are
# here, or in CI (CI=true), where the test deps include OpenMPI.
MPI_MODE   := $(if $(filter 1,$(MPI)),on,off)
MPI_CFLAGS  = $(shell pkg-config --cflags ompi-c)
MPI_LIBS    = $(shell pkg-config --libs ompi-c)
MPI_OBJ    := $(BUILD)/obj/util/dist-mpi.o
# (MPI_DEPS: the goal's own deps stamp when it is test or bench, so one apt-get runs at a time)
MPI_DEPS   := $(BUILD)/.deps-$(or $(firstword $(filter test bench,$(MAKECMDGOALS))),mpi)
TEST_MPI   := $(if $(or $(filter true,$(CI)),$(filter on,$(MPI_MODE)),$(shell pkg-config --exists ompi-c 2>/dev/null && echo y)),$(BUILD)/refrain-mpi)

lib_srcs = $(wildcard $(1)/*.c)
lib_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(call lib_srcs,$(1)))
ALL_OBJS := $(foreach m,$(MODULES),$(call lib_objs,$(m)))
CLI_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard cli/*.c))
TEST_HEADERS := $(wildcard tests/*.h)
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/bench_*.c))

REFRAIN ?= refrain
.PHONY: all deps test bench demo debug clean help data fetch-music model model-denoiser lib install uninstall
all: $(REFRAIN)

help:
	@echo "make            build ./refrain"
	@echo "make deps       install missing Debian packages (needs root)"
	@echo "make test       build and run all tests (installs deps, fetches test music)"
	@echo "make bench      benchmarks against peers; reports in notebooks_exports/"
	@echo "make data       fetch Debian music, render MMA songs, build corpus shards + index"
	@echo "make demo       a song generated from a form (out/song.wav, .png, .json), then a real excerpt through the vocoder"
	@echo "make debug      build with ASan and UBSan into build-debug/ and run the tests"
	@echo "make killtest   make data's render and corpus build, both trainers killed (SIGKILL) 20 times each and resumed: same bits (1-3 min)"
	@echo "make fuzz       libFuzzer on every file reader, 10 M executions each (about 2 h on one core); notebooks_exports/fuzz.md"
	@echo "make model      retrain everything shipped: assets/ae.rfc (~3.2 h on 2 cores), then assets/denoiser.rfc (runs make data first)"
	@echo "make model-denoiser  retrain only the denoiser assets/denoiser.rfc (resumable: MAX_MINUTES=N stops a phase)"
	@echo "make lib        librefrain.a and librefrain.so.$(VERSION) in $(BUILD)/"
	@echo "make install    PREFIX=/usr/local DESTDIR=: binary, libraries, refrain.h, refrain.pc, models, man page"
	@echo "make uninstall  removes what make install put there (same PREFIX and DESTDIR)"
	@echo "make clean      remove build outputs"

deps: $(BUILD)/.deps-all
$(DEPS_STAMP): scripts/install-deps.sh
	@bash scripts/install-deps.sh build
	@mkdir -p $(BUILD) && touch $@
$(BUILD)/.deps-%: scripts/install-deps.sh | $(DEPS_STAMP)   # after it: one apt-get at a time under -j
	@bash scripts/install-deps.sh $*
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

$(BUILD)/librefrain.so.$(VERSION): $(ALL_OBJS)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined $(SANITIZE) -o $@ $^ $(LDLIBS)
	ln -sf librefrain.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/librefrain.so
lib: $(BUILD)/librefrain.a $(BUILD)/librefrain.so.$(VERSION)

# examples/generate.c, built as a user would (refrain.h only, the shared library);
# tests/cli_install.sh runs it, then builds it again against an installed copy.
$(BUILD)/examples/generate: examples/generate.c refrain.h $(BUILD)/librefrain.so.$(VERSION)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra $(SANITIZE) -I. -o $@ $< -L$(BUILD) -lrefrain -Wl,-rpath,'$$ORIGIN/..'

# The CLI binary; `make debug` builds its own copy under build-debug/.
REFRAIN ?= refrain
export REFRAIN
export BUILD   # tests/cli_*.sh find the test programs (tiny models) under $(BUILD)/tests
$(REFRAIN): $(CLI_OBJS) $(BUILD)/librefrain.a $(if $(filter on,$(MPI_MODE)),$(MPI_OBJ)) $(BUILD)/.mpi-$(MPI_MODE)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(if $(filter on,$(MPI_MODE)),$(MPI_OBJ)) $(BUILD)/librefrain.a $(LDLIBS) \
	    $(if $(filter on,$(MPI_MODE)),$(MPI_LIBS))
# MPI=1 and back relinks the binary (the stamp of the mode it was linked in).
$(BUILD)/.mpi-$(MPI_MODE):
	@mkdir -p $(BUILD) && rm -f $(BUILD)/.mpi-on $(BUILD)/.mpi-off && touch $@
# util/dist.c with MPI; linked before librefrain.a, its dist_* replace the serial stub's.
$(MPI_OBJ): util/dist.c Makefile | $(MPI_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DREFRAIN_MPI $(MPI_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/refrain-mpi: $(CLI_OBJS) $(MPI_OBJ) $(BUILD)/librefrain.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(MPI_OBJ) $(BUILD)/librefrain.a $(LDLIBS) $(MPI_LIBS)

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

# fetch-music's apt-get download waits for the goal's own apt-get install, if any.
fetch-music: | $(DEPS_STAMP) $(foreach g,test bench data,$(if $(filter $(g),$(MAKECMDGOALS)),$(BUILD)/.deps-$(g)))
	@bash scripts/fetch-music.sh

# The training corpus (design.md, "The corpus") into .cache/corpus; incremental.
data: $(BUILD)/.deps-data $(REFRAIN)
	@bash scripts/make-data.sh

test: $(BUILD)/.deps-test $(REFRAIN) $(TESTS) $(BUILD)/examples/generate $(TEST_MPI) fetch-music
	@bash tests/run.sh $(TESTS)

# The kill test (issue 17) in full: make data's MMA render and corpus builder,
# train-ae and train-diffusion each killed with SIGKILL at 20 random moments and
# restarted;
# `make test` runs tests/cli_kill.sh with 5 kills each (about 30 s).
.PHONY: killtest
killtest: $(REFRAIN) $(BUILD)/tests/test_generate
	@KILLS=20 bash tests/cli_kill.sh

bench: $(BUILD)/.deps-bench $(REFRAIN) $(BENCHES) $(BUILD)/refrain-mpi fetch-music
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
# FUZZ_RUNS executions (10 million) or FUZZ_SECONDS, FUZZ_JOBS at a time (1: one
# core): about 2 h on this machine under training load; writes notebooks_exports/fuzz.md
# (scripts/fuzz.sh); an input that crashes is kept in tests/fuzz/NAME/, which
# test_fuzz_replay replays in `make test`. FUZZ_SECONDS: see scripts/fuzz.sh.
FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 7200
FUZZ_RUNS    ?= 10000000
FUZZ_JOBS    ?= 1
FUZZ_CFLAGS  := -std=c11 -O1 -g -fno-omit-frame-pointer -Wno-unknown-pragmas -D_POSIX_C_SOURCE=200809L \
                -D_DEFAULT_SOURCE -I. -I/usr/include/stb -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRCS    := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_SRCS))
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,$(FUZZ_BUILD)/fuzz_%,$(wildcard fuzz/fuzz_*.c))
FUZZ_LDLIBS  := -lsndfile -lsamplerate -lfftw3f -lopenblas -lstb -lopenmpt -lm -lpthread -fopenmp   # omp_* calls; pragmas off
.PHONY: fuzz fuzz-build
$(FUZZ_BUILD)/obj/%.o: %.c fuzz/coverage-ignore.txt
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=fuzz/coverage-ignore.txt \
	    -MMD -MP -c -o $@ $<
$(FUZZ_BUILD)/librefrain.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_BUILD)/librefrain.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/librefrain.a $(FUZZ_LDLIBS)
$(FUZZ_BUILD)/make_seeds: fuzz/make_seeds.c fuzz/fuzz.h $(FUZZ_BUILD)/librefrain.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_BUILD)/librefrain.a $(FUZZ_LDLIBS)
fuzz-build: $(FUZZ_TARGETS) $(FUZZ_BUILD)/make_seeds
# test_fuzz_replay (make test) includes every harness and the seed maker
$(BUILD)/tests/test_fuzz_replay: $(wildcard fuzz/*.c fuzz/*.h)
fuzz: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_RUNS)

# make install PREFIX=/usr/local DESTDIR=: what a user of the command or of
# refrain.h needs. INSTALLED lists every file (uninstall removes exactly these,
# then the folders left empty); the models only when assets/ has them.
PREFIX  ?= /usr/local
DESTDIR ?=
D       := $(DESTDIR)$(PREFIX)
MODELS  := $(wildcard assets/ae.rfc assets/denoiser.rfc)
INSTALLED := bin/refrain lib/librefrain.a lib/librefrain.so.$(VERSION) lib/$(SONAME) lib/librefrain.so \
             include/refrain.h lib/pkgconfig/refrain.pc share/man/man1/refrain.1 \
             share/doc/refrain/MODEL_CARD.md $(patsubst assets/%,share/refrain/%,$(MODELS))
INSTALL_DIRS := lib/pkgconfig share/man/man1 share/man share/doc/refrain share/doc share/refrain include lib bin share
$(BUILD)/refrain.1: $(REFRAIN)
	$(abspath $(REFRAIN)) --man > $@.tmp && mv $@.tmp $@
# refrain.pc: its Libs.private is LDLIBS itself (what librefrain.a needs, so it
# cannot drift); no Requires.private: Debian 12's sndfile.pc names -lmp3lame,
# -lFLAC, ... whose -dev packages libsndfile1-dev does not pull in, so a
# `pkg-config --static` link through it fails ("cannot find -lmp3lame").
install: $(REFRAIN) lib $(BUILD)/refrain.1
	install -d $(D)/bin $(D)/lib/pkgconfig $(D)/include $(D)/share/man/man1 $(D)/share/doc/refrain
	install -m 755 $(REFRAIN) $(D)/bin/refrain
	install -m 644 $(BUILD)/librefrain.a $(D)/lib/
	install -m 755 $(BUILD)/librefrain.so.$(VERSION) $(D)/lib/
	ln -sf librefrain.so.$(VERSION) $(D)/lib/$(SONAME)
	ln -sf $(SONAME) $(D)/lib/librefrain.so
	install -m 644 refrain.h $(D)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LDLIBS)|' -e 's|@SANITIZE@|$(SANITIZE)|' \
	    refrain.pc.in > $(D)/lib/pkgconfig/refrain.pc
	install -m 644 $(BUILD)/refrain.1 $(D)/share/man/man1/
	install -m 644 assets/MODEL_CARD.md $(D)/share/doc/refrain/
	$(if $(MODELS),install -d $(D)/share/refrain && install -m 644 $(MODELS) $(D)/share/refrain/)
	@# the loader's cache, so programs find librefrain.so.$(SOMAJOR) in /usr/local/lib
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && { [ "$(PREFIX)" = /usr/local ] || [ "$(PREFIX)" = /usr ]; }; \
	    then ldconfig || true; fi
uninstall:
	rm -f $(addprefix $(D)/,$(INSTALLED))
	-@for d in $(INSTALL_DIRS); do rmdir "$(D)/$$d" 2>/dev/null; done; true

# tests/lsan.supp: leaks inside third-party libraries only (libsndfile's Ogg
# Vorbis writer after a failed write), each documented there.
debug: export LSAN_OPTIONS = suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
debug:
	$(MAKE) BUILD=build-debug REFRAIN=build-debug/refrain \
	        OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" test

clean:
	rm -rf build build-debug refrain

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
ifneq ($(filter fuzz fuzz-build $(FUZZ_BUILD)/%,$(MAKECMDGOALS)),)
-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
endif
