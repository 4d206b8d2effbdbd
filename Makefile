# clinicledger - one non-recursive GNU Makefile.
#
#   make                 build/clinicledger and build/clinicledger-* tools
#   make run             install missing packages, build, start the server (SQLite, demo tenant)
#   make test            install missing packages, build, run the whole suite (both databases,
#                        plus ASan+UBSan), ends with "N passed, N failed"
#   make SANITIZE=address,undefined   sanitizer build (into build-san/ unless BUILD is set)
#   make BUILD=dir       build into another directory
#   make unit            unit tests only (fast)
#   make format          clang-format the tree

SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build-san
endif

CC ?= cc
PKGS := libulfius jansson libmicrohttpd sqlite3 libpq libargon2 openssl libcurl libqrencode
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wvla -Wimplicit-fallthrough
# snprintf truncation is deliberate and bounded everywhere (gcc only knows this flag)
WARN += $(shell $(CC) -Werror -Wno-format-truncation -x c -c /dev/null -o /dev/null 2>/dev/null && echo -Wno-format-truncation)
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lhpdf -lpthread -lm   # libharu ships no pkg-config file

ifneq ($(SANITIZE),)
ALL_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) -fsanitize=$(SANITIZE) \
	-fno-omit-frame-pointer -fno-sanitize-recover=all -O1
LDFLAGS_ALL += -fsanitize=$(SANITIZE)
HARDEN :=
endif
ALL_CFLAGS += $(HARDEN)

# Layers, lowest first. A unit test links only the layers it needs, so a
# module being edited never breaks the core tests.
CORE_SRC := $(wildcard src/core/*.c)
CRYPTO_SRC := $(wildcard src/crypto/*.c)
DB_SRC := $(wildcard src/db/*.c) $(BUILD)/gen/migrations.c
NET_SRC := $(wildcard src/net/*.c)
APP_SRC := $(filter-out src/main.c,$(wildcard src/*.c src/http/*.c src/jobs/*.c src/mod/*/*.c)) \
	$(BUILD)/gen/dte_schema_data.c

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(patsubst $(BUILD)/%,%,$(1)))

CORE_OBJ := $(call obj,$(CORE_SRC))
CRYPTO_OBJ := $(call obj,$(CRYPTO_SRC))
DB_OBJ := $(call obj,$(DB_SRC))
NET_OBJ := $(call obj,$(NET_SRC))
APP_OBJ := $(call obj,$(APP_SRC))

LIBCORE := $(BUILD)/libcore.a
LIBCRYPTO := $(BUILD)/libclcrypto.a
LIBDB := $(BUILD)/libdb.a
LIBNET := $(BUILD)/libnet.a
LIBAPP := $(BUILD)/libapp.a

BIN := $(BUILD)/clinicledger
TOOLS := $(patsubst tools/%/main.c,$(BUILD)/clinicledger-%,$(wildcard tools/*/main.c))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
API_SRC := $(wildcard tests/api/test_*.c)
API_BIN := $(patsubst tests/api/%.c,$(BUILD)/tests/api/%,$(API_SRC))
API_HARNESS := $(call obj,$(filter-out $(API_SRC),$(wildcard tests/api/*.c)))
# Programs the test suites run (corpus generators, load clients): tests/tools/<name>.c
TEST_TOOL_SRC := $(wildcard tests/tools/*.c)
TEST_TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TEST_TOOL_SRC))

.PHONY: all run test unit tests-build deps format clean
all: $(BIN) $(TOOLS) tests-build

tests-build: $(UNIT_BIN) $(API_BIN) $(TEST_TOOL_BIN)

$(BUILD)/gen/migrations.c: tools/embed_sql.sh $(wildcard sql/*/*.sql)
	@mkdir -p $(dir $@)
	sh tools/embed_sql.sh sql > $@.tmp && mv $@.tmp $@

# The official MH DTE schemas, embedded byte for byte (src/mod/dte/dte_schemas.h).
$(BUILD)/gen/dte_schema_data.c: tools/embed_schemas.sh $(wildcard tests/fixtures/dte-sv/*.json)
	@mkdir -p $(dir $@)
	sh tools/embed_schemas.sh tests/fixtures/dte-sv > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBCORE): $(CORE_OBJ)
$(LIBCRYPTO): $(CRYPTO_OBJ)
$(LIBDB): $(DB_OBJ)
$(LIBNET): $(NET_OBJ)
$(LIBAPP): $(APP_OBJ)
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

LAYERS := $(LIBAPP) $(LIBNET) $(LIBDB) $(LIBCRYPTO) $(LIBCORE)

$(BIN): $(call obj,src/main.c) $(LAYERS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

.SECONDEXPANSION:
# A tool is tools/<name>/*.c, built as build/clinicledger-<name> (e.g. the MH sandbox).
$(BUILD)/clinicledger-%: $$(call obj,$$(wildcard tools/$$*/*.c)) $(LAYERS)
	$(CC) $(LDFLAGS_ALL) -o $@ $(call obj,$(wildcard tools/$*/*.c)) $(LAYERS) $(LDLIBS_ALL)

# Unit tests link every layer (archives only pull in what a test uses).
$(BUILD)/tests/unit/%: $(call obj,tests/unit/%.c) $(LAYERS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS_ALL)

$(BUILD)/tests/api/%: $(call obj,tests/api/%.c) $(API_HARNESS) $(LAYERS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS_ALL)

$(BUILD)/tests/tools/%: $(call obj,tests/tools/%.c) $(LAYERS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# The two README commands (sub-makes build in parallel).
JOBS := -j$(shell nproc 2>/dev/null || echo 2)

deps:
	@sh tools/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory $(JOBS) $(BIN) $(TOOLS)
	@sh tools/run.sh

test: deps
	@$(MAKE) --no-print-directory $(JOBS) all
	@$(MAKE) --no-print-directory $(JOBS) SANITIZE=address,undefined all
	@sh tests/run.sh

unit: $(UNIT_BIN)
	@sh tests/run.sh --unit-only

format:
	clang-format -i $(shell find src tests tools -name '*.[ch]')

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
