# crawler: one non-recursive Makefile. `make help` lists the targets.

CC ?= cc
BUILD ?= build
PKGS := libcurl libxml-2.0 sqlite3 libpsl zlib
CFLAGS ?= -O2 -g
WARNINGS := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wimplicit-fallthrough
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARNINGS) $(CFLAGS) -pthread -I. $(PKG_CFLAGS) -MMD -MP
LDLIBS = $(PKG_LIBS) -lm -pthread

LIB_SRC := $(sort $(wildcard crawler/*.c fetch/*.c parse/*.c store/*.c))
LIB_SRC := $(filter-out crawler/main.c,$(LIB_SRC))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/crawler/main.o
TEST_SRC := $(sort $(wildcard tests/unit/*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))
BENCH_SRC := bench/parse_cost.c

BIN := $(BUILD)/crawler
UNIT := $(BUILD)/unit_tests
PARSE_COST := $(BUILD)/parse_cost

# The crawl `make run` does: modest limits, polite defaults.
RUN_ARGS ?= --max-pages 200 --max-depth 3

.PHONY: all deps run test unit integration asan fuzz demo bench lint clean help

all: deps
	@$(MAKE) --no-print-directory $(BIN)

help:
	@echo "make run    crawl seeds.txt into crawl.db (installs deps, builds)"
	@echo "make test   build and run every unit and integration test"
	@echo "make demo   crawl a small local site and show what is in the db"
	@echo "make asan   the tests under AddressSanitizer and UBSan"
	@echo "make fuzz   build the libFuzzer targets (clang) in build-fuzz"
	@echo "make bench  benchmark against wget2 on the local synthetic web"
	@echo "make lint   clang-format check and cppcheck"

# A shell command that installs the Debian packages named after it, as
# root or through sudo.
APT_INSTALL = SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
    $$SUDO apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

# Installs the libraries only when pkg-config cannot find one (Debian 12).
deps:
	@if ! pkg-config --exists $(PKGS) 2>/dev/null || \
	    ! command -v python3 >/dev/null 2>&1 || \
	    ! command -v $(CC) >/dev/null 2>&1; then \
	    echo "installing build dependencies with apt-get"; \
	    $(APT_INSTALL) build-essential pkg-config python3 libcurl4-openssl-dev \
	        libxml2-dev libsqlite3-dev libpsl-dev zlib1g-dev; \
	fi

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BIN): $(LIB_OBJ) $(MAIN_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(LIB_OBJ) $(TEST_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(PARSE_COST): $(LIB_OBJ) $(BUILD)/obj/bench/parse_cost.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

run: all
	$(BIN) crawl seeds.txt --db crawl.db $(RUN_ARGS)

test: deps
	@$(MAKE) --no-print-directory $(BIN) $(UNIT) $(PARSE_COST)
	@tests/run $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/crawler build-asan/unit_tests \
	    build-asan/parse_cost
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 tests/run build-asan

# libFuzzer targets, built with clang and the sanitizers; each runs as
# build-fuzz/fuzz_NAME [-max_total_time=S] [CORPUS_DIR].
fuzz: deps
	@if ! command -v clang >/dev/null 2>&1; then \
	    echo "installing clang with apt-get"; \
	    $(APT_INSTALL) clang; \
	fi
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=fuzzer,address,undefined" \
	    $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

$(BUILD)/fuzz_%: $(LIB_OBJ) $(BUILD)/obj/tests/fuzz/fuzz_%.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

demo: all
	@tests/demo $(BIN)

bench: all
	@$(MAKE) --no-print-directory $(PARSE_COST)
	@bench/run $(BIN)

lint:
	clang-format --dry-run --Werror $(LIB_SRC) crawler/main.c $(TEST_SRC) \
	    $(FUZZ_SRC) $(BENCH_SRC) \
	    $(wildcard */*.h tests/unit/*.h)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance \
	    --std=c11 -I. $(LIB_SRC) crawler/main.c $(BENCH_SRC)

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) \
    $(FUZZ_SRC:%.c=$(BUILD)/obj/%.d) $(BENCH_SRC:%.c=$(BUILD)/obj/%.d)
