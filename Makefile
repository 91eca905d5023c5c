# hotline — build, run and test the 12333 telephony engine.
#   make          build build/hotline
#   make run      install Debian packages if missing, build, make prompts, run on 127.0.0.1
#   make test     the same set-up, then every test (unit, Lua scenarios, fuzz smoke, end-to-end)
#   make bench    SIPp load on loopback; prints figures (a benchmark, not a test)
#   make prompts  8 kHz WAV prompts from prompts/*.txt with espeak-ng and sox
#   make fuzz     every libFuzzer target for FUZZ_SECONDS each
#   make install  install the binary, scripts, rules and prompts under PREFIX

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
PKGS      = lua5.4 libuv ortp libosip2 bctoolbox sqlite3 jansson spandsp libtiff-4 libcurl libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-deprecated-declarations \
            -Iengine $(PKG_CFLAGS) -MMD -MP
LDLIBS   += $(PKG_LIBS) -lm -lpthread

# Every .c under engine/ except main.c forms libhotline; tests and fuzzers link it.
ENGINE_SRC := $(filter-out engine/main.c,$(wildcard engine/*/*.c))
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

SIP_ADDR  ?= 127.0.0.1:5060
DATA      ?= data
FUZZ_SECONDS ?= 10

.PHONY: all run test unit-test lua-test e2e-test fuzz fuzz-smoke bench prompts deps install clean

all: $(BUILD)/hotline

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libhotline.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hotline: $(BUILD)/engine/main.o $(BUILD)/libhotline.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libhotline.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@bash contrib/install-deps.sh

prompts: deps fax-docs
	@bash prompts/make-prompts.sh prompts $(BUILD)/prompts

run: deps all prompts
	@mkdir -p $(DATA)
	@# a new database: the sample accounts of examples/sample-data/, once the engine made its tables
	@[ -e $(DATA)/hotline.db ] || (HOTLINE=$(BUILD)/hotline bash examples/sample-data/load.sh $(DATA) &)
	$(BUILD)/hotline run --sip $(SIP_ADDR) --data $(DATA) --scripts scripts --rules rules --prompts $(BUILD)/prompts

unit-test: $(UNIT_BIN)
	@bash tests/run-unit.sh $(UNIT_BIN)

lua-test: all prompts
	$(BUILD)/hotline test-rules --scripts scripts --rules rules --prompts $(BUILD)/prompts

e2e-test: all prompts
	@bash tests/e2e/run-all.sh

fuzz:
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke:
	@bash tests/fuzz/run.sh 3

test: deps all prompts
	@bash tests/run-all.sh

bench: deps all prompts
	@bash bench/run.sh

install: all prompts
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/hotline
	install -m 755 $(BUILD)/hotline $(DESTDIR)$(PREFIX)/bin/hotline
	cp -r scripts rules $(DESTDIR)$(PREFIX)/share/hotline/
	cp -r $(BUILD)/prompts $(DESTDIR)$(PREFIX)/share/hotline/prompts
	cp -r $(BUILD)/fax $(DESTDIR)$(PREFIX)/share/hotline/fax

clean:
	rm -rf $(BUILD)

include tests/tools/Makefile.inc
include tests/tools/fax.mk.inc

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
