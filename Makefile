# telos -- top-level build. `make run` and `make check` do all of the set-up.

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
BUILD     := build
CC        ?= cc
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
             -I$(BUILD) -Iserver/src -I$(shell $(PG_CONFIG) --includedir 2>/dev/null)
LDLIBS    := -lpq -lmicrohttpd -ljansson -lsodium -lpthread -lm

SRCS      := $(wildcard server/src/*.c)
OBJS      := $(patsubst server/src/%.c,$(BUILD)/obj/%.o,$(SRCS)) $(BUILD)/obj/migrations_data.o
LIB_OBJS  := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
MIGRATIONS:= $(sort $(wildcard schema/*.sql))
UNIT_SRCS := $(wildcard server/tests/test_*.c)
UNIT_BINS := $(patsubst server/tests/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: all deps build install run check unit bench clean extension

all: build

deps:
	@tools/deps.sh

build: deps $(BUILD)/telos extension $(UNIT_BINS)

$(BUILD)/telos: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: server/src/%.c $(wildcard server/src/*.h) | $(BUILD)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

# The migrations are compiled into the binary so it needs no file at run time.
$(BUILD)/migrations_data.c: $(MIGRATIONS) tools/embed_migrations.sh | $(BUILD)/obj
	tools/embed_migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/migrations_data.o: $(BUILD)/migrations_data.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: server/tests/%.c $(LIB_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

extension:
	$(MAKE) -C extension/telos PG_CONFIG=$(PG_CONFIG)
	$(MAKE) -C extension/telos_vector PG_CONFIG=$(PG_CONFIG)

install: build
	$(SUDO) $(MAKE) -C extension/telos PG_CONFIG=$(PG_CONFIG) install
	$(SUDO) $(MAKE) -C extension/telos_vector PG_CONFIG=$(PG_CONFIG) install

run: install
	$(BUILD)/telos run

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

check: install
	tests/run.sh

# BENCH=timeseries|compress|vector|stats|discovery|forecast runs one benchmark; default all of them.
bench: install
	@case "$(or $(BENCH),all)" in all|timeseries) bench/run.sh --size $(or $(SIZE),small) || exit 1;; esac
	@case "$(or $(BENCH),all)" in all|compress) bench/compress.sh --size $(or $(SIZE),small) || exit 1;; esac
	@case "$(or $(BENCH),all)" in all|vector) bench/vector.sh --size $(or $(SIZE),small) || exit 1;; esac
	@case "$(or $(BENCH),all)" in all|stats) bench/stats.sh || exit 1;; esac
	@case "$(or $(BENCH),all)" in all|discovery) bench/discovery.sh || exit 1;; esac
	@case "$(or $(BENCH),all)" in all|forecast) bench/forecast.sh || exit 1;; esac

clean:
	rm -rf $(BUILD)
	$(MAKE) -C extension/telos PG_CONFIG=$(PG_CONFIG) clean
	$(MAKE) -C extension/telos_vector PG_CONFIG=$(PG_CONFIG) clean
