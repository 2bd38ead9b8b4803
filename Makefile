# refgate - top-level build.
#   make          build build/refgate and build/refgatectl
#   make run      install missing packages, build, create dev/ if absent, start
#   make check    install missing packages, build, run every test (plain,
#                 then under AddressSanitizer + UndefinedBehaviorSanitizer)
#   make bench    load benchmark against a fresh deployment
#   make fuzz     libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make mutants  the deliberate-breakage audit: every breakage in
#                 tests/mutants/list must make a named test fail
#                 (docs/testing.md)
.SUFFIXES:

ifeq ($(origin CC),default)
CC := cc
endif
PKGS    := libmicrohttpd gnutls openssl libsodium jansson sqlite3
CLIPKGS := libcurl
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
           -fPIE $(WARN) $(CFLAGS) $(SANFLAGS) \
           $(shell pkg-config --cflags $(PKGS) $(CLIPKGS) 2>/dev/null)
LDLIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CLILIBS = $(shell pkg-config --libs $(CLIPKGS) 2>/dev/null)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)

B ?= build
PROTO_SRC  := $(wildcard proto/*.c)
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
HDRS       := $(wildcard proto/*.h server/*.h cli/*.h tests/unit/*.h)

PROTO_OBJ  := $(PROTO_SRC:%.c=$(B)/obj/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

all: $(B)/refgate $(B)/refgatectl

$(B)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libproto.a: $(PROTO_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/libserver.a: $(SERVER_OBJ)
	@rm -f $@; ar rcs $@ $^

$(B)/refgate: $(B)/obj/server/main.o $(B)/libserver.a $(B)/libproto.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/refgatectl: $(CLI_OBJ) $(B)/libserver.a $(B)/libproto.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CLILIBS) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libserver.a $(B)/libproto.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libserver.a $(B)/libproto.a \
		$(LDLIBS) -lcmocka

$(B)/loadgen: tests/bench/loadgen.c $(B)/libproto.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libproto.a $(LDLIBS)

units: $(UNIT_BIN)

deps:
	@sh scripts/install-deps.sh

dev/refgate.conf: | $(B)/refgatectl
	$(B)/refgatectl init dev --listen 127.0.0.1:8443 --hostname localhost

run: deps all dev/refgate.conf
	@echo "refgate: https://localhost:8443 (client credentials in dev/principals/legal/)"
	@echo "refgate: try  $(B)/refgatectl -c dev/refgate.conf enroll pave --role partner --out dev/principals/pave"
	exec $(B)/refgate -c dev/refgate.conf

check: deps
	@sh tests/run-all.sh

# The benchmark's peers (nginx, Node https + jose: start.sh/stop.sh), run
# in the same session for the ratios; absent, `make bench` says so and
# runs refgate alone.
PEERS ?= ../shared/bench/peers
bench: deps all $(B)/loadgen
	@PEERS='$(PEERS)' B='$(B)' sh tests/bench/run.sh

fuzz: deps
	@sh tests/fuzz/run.sh

clean:
	rm -rf build

.PHONY: all units deps run check bench fuzz clean

# Fuzz regression replay (seeds and saved crash inputs under ASan+UBSan,
# no libFuzzer; the fuzz part of `make check`) and seed regeneration.
fuzz-regress: deps
	@sh tests/fuzz/regress.sh

fuzz-seeds:
	@sh tests/fuzz/make-seeds.sh

.PHONY: fuzz-regress fuzz-seeds

# Each known breakage of tests/mutants/list applied to a scratch copy,
# built, and its named tests run; fails when one survives or no longer
# applies, or when docs/testing.md's table is out of step with the list.
mutants: deps
	@bash tests/mutants/doc.sh --check
	@bash tests/mutants/run.sh

.PHONY: mutants
