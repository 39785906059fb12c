# test/codec/codec.mk -- the column codecs (src/codec/) outside the backend;
# included by the extension's Makefile.
#
#   make codec-check     cmocka unit tests, built plain and with ASan/UBSan;
#                        TAP lines "ok - codec NAME" (tests/run.sh counts them)
#   make fuzz            every libFuzzer target for FUZZ_SECONDS (default 300)
#   make fuzz-check      every target for 15 s; TAP lines "ok - fuzz NAME"
#   make codec-bench     MB/s and bits/value of each codec on realistic data
#                        (CODEC_BENCH_ARGS="--json" for JSON)
#
# Everything is built in test/build/ (ignored by git). The fuzzers need
# clang-14 and libclang-rt-14-dev; their corpora grow in test/build/fuzz/.

CODEC_SRCS   := $(sort $(wildcard src/codec/*.c))
CODEC_DEPS   := $(CODEC_SRCS) $(wildcard src/codec/*.h) test/codec/codec_malloc.c \
                test/codec/codec_data.h test/codec/codec.mk
CODEC_OUT    := test/build
CODEC_FLAGS  := -std=c11 -g -Wall -Wextra -Werror -fno-strict-aliasing -Isrc/codec -Itest/codec
CODEC_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CODEC_LIBS   := -lzstd -lm
FUZZ_CC      ?= $(shell command -v clang-14 || command -v clang || echo clang)
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := i64 gorilla dec bool dict blob
FUZZ_BINS    := $(patsubst %,$(CODEC_OUT)/fuzz/codec_%_fuzz,$(FUZZ_TARGETS))
EXTRA_CLEAN  += $(CODEC_OUT)

.PHONY: codec-check fuzz fuzz-check codec-bench

$(CODEC_OUT)/test_codec: test/codec/test_codec.c $(CODEC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CODEC_FLAGS) -O2 -o $@ $< test/codec/codec_malloc.c $(CODEC_SRCS) -lcmocka $(CODEC_LIBS)

$(CODEC_OUT)/test_codec_asan: test/codec/test_codec.c $(CODEC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CODEC_FLAGS) -O1 $(CODEC_SAN) -o $@ $< test/codec/codec_malloc.c $(CODEC_SRCS) -lcmocka $(CODEC_LIBS)

$(CODEC_OUT)/codec_bench: test/codec/codec_bench.c $(CODEC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CODEC_FLAGS) -O2 -o $@ $< test/codec/codec_malloc.c $(CODEC_SRCS) $(CODEC_LIBS)

$(CODEC_OUT)/fuzz/codec_seeds: test/fuzz/codec_seeds.c $(CODEC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CODEC_FLAGS) -O2 -o $@ $< test/codec/codec_malloc.c $(CODEC_SRCS) $(CODEC_LIBS)

$(CODEC_OUT)/fuzz/codec_%_fuzz: test/fuzz/codec_%_fuzz.c test/fuzz/codec_fuzz.h $(CODEC_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CODEC_FLAGS) -Itest/fuzz -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ $< test/codec/codec_malloc.c $(CODEC_SRCS) $(CODEC_LIBS)

codec-check: $(CODEC_OUT)/test_codec $(CODEC_OUT)/test_codec_asan
	@test/codec/run_tap.sh $(CODEC_OUT)/test_codec ""
	@test/codec/run_tap.sh $(CODEC_OUT)/test_codec_asan " (asan)"

fuzz: $(FUZZ_BINS) $(CODEC_OUT)/fuzz/codec_seeds
	@test/fuzz/run_fuzz.sh $(CODEC_OUT)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-check: $(FUZZ_BINS) $(CODEC_OUT)/fuzz/codec_seeds
	@test/fuzz/run_fuzz.sh $(CODEC_OUT)/fuzz 15 $(FUZZ_TARGETS)

codec-bench: $(CODEC_OUT)/codec_bench
	@$(CODEC_OUT)/codec_bench $(CODEC_BENCH_ARGS)
