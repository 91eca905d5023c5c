# hotline — build, run and test the 12333 telephony engine.
#   make          build build/hotline
#   make run      install Debian packages if missing, build, make prompts, run on 127.0.0.1
#   make test     the same set-up, then every test (unit, Lua scenarios, fuzz smoke, end-to-end)
#   make bench    SIPp load on loopback; prints figures (a benchmark, not a test)
#   make prompts  8 kHz WAV prompts from prompts/*.txt with espeak-ng and sox
#   make fuzz     every libFuzzer target for FUZZ_SECONDS each
#   make install  install the engine under PREFIX (DESTDIR honoured; installs no packages)
#   make deb      a Debian package of it, build/hotline_VERSION_ARCH.deb

PREFIX   ?= /usr/local
# Where `make install` puts things (docs/operator-guide.md).  Under PREFIX=/usr the config and
# the data go to /etc and /var, as Debian's do; under any other prefix they stay inside it.
BINDIR        ?= $(PREFIX)/bin
DATADIR       ?= $(PREFIX)/share/hotline
MANDIR        ?= $(PREFIX)/share/man
UNITDIR       ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR    ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
LOCALSTATEDIR ?= $(if $(filter /usr,$(PREFIX)),/var,$(PREFIX)/var)
BUILD    ?= build
CC       ?= cc
PKGS      = lua5.4 libuv ortp libosip2 bctoolbox sqlite3 jansson spandsp libtiff-4 libcurl libsodium libsystemd libh2o
# Asked of pkg-config at first use, not when this file is read: on a bare machine `make run`
# reads the Makefile before contrib/install-deps.sh has installed the libraries.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-deprecated-declarations \
            -Iengine $(PKG_CFLAGS) -MMD -MP
LDLIBS   += $(PKG_LIBS) -lm -lpthread -lresolv

# Every .c under engine/ except main.c forms libhotline; tests and fuzzers link it.
ENGINE_SRC := $(filter-out engine/main.c,$(wildcard engine/*/*.c))
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
# One unit-test runner: tests/unit/runner.c and every test file (tests listed in test-list.h).
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNIT_BIN   := $(BUILD)/tests/unit-test

SIP_ADDR  ?= 127.0.0.1:5060
DATA      ?= data
FUZZ_SECONDS ?= 10

.PHONY: all run test unit-test lua-test api-docs-test e2e-test layers-test fuzz fuzz-smoke bench prompts deps \
        install deb clean libs-check

all: $(BUILD)/hotline

# One clear line, before any compiler error, when a library is missing or is not the version
# the engine is written for (e.g. a spandsp 3 in /usr/local shadowing Debian's 0.0.6).
# Checked again when the Makefile changes: a library added to PKGS is named, not a missing header.
LIBS_OK := $(BUILD)/.libs-ok
$(LIBS_OK): contrib/check-libs.sh contrib/check-libs.h Makefile
	@PKGS="$(PKGS)" CC="$(CC)" CFLAGS="$(CFLAGS)" bash contrib/check-libs.sh
	@mkdir -p $(dir $@) && touch $@
libs-check: $(LIBS_OK)

$(BUILD)/%.o: %.c | $(LIBS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libhotline.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hotline: $(BUILD)/engine/main.o $(BUILD)/libhotline.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT_BIN): $(UNIT_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libhotline.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# unit.h declares every test of test-list.h: a test defined but not listed does not compile.
$(BUILD)/tests/unit/%.o: CFLAGS += -Werror=missing-declarations

deps:
	@bash contrib/install-deps.sh

prompts: fax-docs
	@bash prompts/make-prompts.sh prompts $(BUILD)/prompts

run: deps
	@$(MAKE) --no-print-directory all prompts
	@mkdir -p $(DATA)
	@# a new database: the sample accounts of examples/sample-data/, once the engine made its tables
	@[ -e $(DATA)/hotline.db ] || (HOTLINE=$(BUILD)/hotline bash examples/sample-data/load.sh $(DATA) &)
	$(BUILD)/hotline run --sip $(SIP_ADDR) --data $(DATA) --scripts scripts --rules rules --prompts $(BUILD)/prompts

# test_sim plays the scenarios with the prompts; test_fax sends the sample fax documents.
# `make unit-test` runs every test; build/tests/unit-test NAME... runs some (--list, --help).
unit-test: $(UNIT_BIN) prompts fax-docs
	@HL_FAX_DIR=$(FAX_DIR) $(UNIT_BIN)

lua-test: all prompts
	$(BUILD)/hotline test-rules --scripts scripts --rules rules --prompts $(BUILD)/prompts

# docs/lua-api.md against the API tables: every primitive and option, nothing else, and
# every example run in the simulator.
api-docs-test: all prompts
	@python3 tests/check-api-docs.py --hotline $(BUILD)/hotline --docs docs/lua-api.md

e2e-test: all prompts
	@bash tests/e2e/run-all.sh

fuzz:
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke:
	@bash tests/fuzz/run.sh 3

test: deps
	@$(MAKE) --no-print-directory all prompts
	@bash tests/run-all.sh

bench: deps
	@$(MAKE) --no-print-directory all prompts
	@bash bench/run.sh

layers-test:
	@python3 tests/check-layers.py

# No `deps` here: installing Debian packages is `make deps`' job (or the package's Depends).
install: all prompts fax-docs
	@BUILD=$(BUILD) DESTDIR=$(DESTDIR) BINDIR=$(BINDIR) DATADIR=$(DATADIR) MANDIR=$(MANDIR) \
	  UNITDIR=$(UNITDIR) CONFDIR=$(SYSCONFDIR)/hotline STATEDIR=$(LOCALSTATEDIR)/lib/hotline \
	  bash contrib/install.sh

# The package: `make install PREFIX=/usr` into a staging folder, then dpkg-deb.
deb: all prompts fax-docs
	@rm -rf $(BUILD)/deb
	@$(MAKE) --no-print-directory install PREFIX=/usr DESTDIR=$(abspath $(BUILD)/deb/root)
	@bash contrib/deb/build-deb.sh $(BUILD)/deb/root $(BUILD)

clean:
	rm -rf $(BUILD)

include tests/tools/Makefile.inc
include tests/tools/fax.mk.inc

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
