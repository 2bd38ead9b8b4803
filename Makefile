# refgate - top-level build.
#   make          build build/refgate and build/refgatectl
#   make run      install missing packages, build, create dev/ if absent, start
#   make check    install missing packages, build, run every test (plain,
#                 then under AddressSanitizer + UndefinedBehaviorSanitizer)
#   make bench    load benchmark against a fresh deployment
#   make fuzz     libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make install  binaries, man pages, systemd unit and sysusers entry under
#                 $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); make uninstall
#   make mutants  the deliberate-breakage audit: every breakage in
#                 tests/mutants/list must make a named test fail
#                 (docs/testing.md)
#   make ctl-link-check  build/refgatectl holds no daemon code (make check
#                 runs it too)
.SUFFIXES:

ifeq ($(origin CC),default)
CC := cc
endif
# Libraries by who links them: the store (STOREPKGS: its database
# engines), what the protocol code needs (libsodium, jansson), the daemon
# (TLS and HTTP) and refgatectl (OpenSSL for its X.509, libcurl).
STOREPKGS := sqlite3 libpq
PROTOPKGS := libsodium jansson
PKGS      := libmicrohttpd gnutls openssl $(PROTOPKGS) $(STOREPKGS)
CLIPKGS   := openssl libcurl $(PROTOPKGS) $(STOREPKGS)
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
           -fPIE $(WARN) $(CFLAGS) $(SANFLAGS) \
           $(shell pkg-config --cflags $(PKGS) $(CLIPKGS) 2>/dev/null)
LDLIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CLILIBS = $(shell pkg-config --libs $(CLIPKGS) 2>/dev/null) -lpthread -lm
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)

# Three libraries, linked downward only:
#   libproto.a   proto/*.c: the contract both ends share (wire formats and
#                limits, the audit record format, key files), pure code.
#   libstore.a   the store: server/store*.c and server/db*.c (every file of
#                the storage logic and its engine drivers), log.c, which
#                it logs through, and statements.c, the pure mapping of a
#                decision to its statement of reasons that it records. refgatectl links it for `init` (creates
#                the database) and `audit verify` (opens it read-only).
#   libserver.a  the rest of server/ but main.c: the daemon's own (TLS,
#                HTTP, routes, handlers, auth, policy); only build/refgate
#                and the unit tests link it, never refgatectl (`make
#                ctl-link-check`, run by tests/run-all.sh, proves it).
B ?= build
PROTO_SRC  := $(wildcard proto/*.c)
STORE_SRC  := $(wildcard server/store*.c server/db*.c) server/log.c \
              server/statements.c
SERVER_SRC := $(filter-out server/main.c $(STORE_SRC),$(wildcard server/*.c))
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
HDRS       := $(wildcard proto/*.h server/*.h cli/*.h tests/unit/*.h)

PROTO_OBJ  := $(PROTO_SRC:%.c=$(B)/obj/%.o)
STORE_OBJ  := $(STORE_SRC:%.c=$(B)/obj/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

all: $(B)/refgate $(B)/refgatectl

$(B)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libproto.a: $(PROTO_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/libstore.a: $(STORE_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/libserver.a: $(SERVER_OBJ)
	@rm -f $@; ar rcs $@ $^

$(B)/refgate: $(B)/obj/server/main.o $(B)/libserver.a $(B)/libstore.a \
		$(B)/libproto.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/refgatectl: $(CLI_OBJ) $(B)/libstore.a $(B)/libproto.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CLILIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libserver.a $(B)/libstore.a \
		$(B)/libproto.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libserver.a \
		$(B)/libstore.a $(B)/libproto.a $(LDLIBS) -lcmocka

$(B)/loadgen: tests/bench/loadgen.c $(B)/libproto.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libproto.a $(LDLIBS)

# The growth bench's generator: referrals through intake and the store,
# without HTTP (tests/bench/fill.c).
$(B)/benchfill: tests/bench/fill.c $(B)/libserver.a $(B)/libstore.a \
		$(B)/libproto.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libserver.a \
		$(B)/libstore.a $(B)/libproto.a $(LDLIBS)

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
bench: deps all $(B)/loadgen $(B)/benchfill
	@PEERS='$(PEERS)' B='$(B)' sh tests/bench/run.sh

fuzz: deps
	@sh tests/fuzz/run.sh

clean:
	rm -rf build

# refgatectl holds none of the daemon: no symbol that libserver.a defines,
# no libmicrohttpd or GnuTLS (tests/link/ctl_symbols.sh).
ctl-link-check: $(B)/refgatectl $(B)/libserver.a
	@sh tests/link/ctl_symbols.sh $(B)

.PHONY: all units deps run check bench fuzz clean ctl-link-check

# ---- installation (docs/operators.md section 4a) ---------------------------
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/refgate
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
VERSION     := $(shell sed -n 's/^\#define RG_VERSION "\(.*\)"/\1/p' proto/rg.h)
MAN_SUBST    = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@UNITDIR@|$(UNITDIR)|g' \
               -e 's|@SBINDIR@|$(SBINDIR)|g'

$(B)/man/refgate.conf.5: docs/operators.md scripts/man-conf.py proto/rg.h
	@mkdir -p $(@D)
	python3 scripts/man-conf.py docs/operators.md $(VERSION) >$@.tmp && mv $@.tmp $@

# The man pages and the unit name installed paths: filled in at install
# time, for the PREFIX of that call.
install: all $(B)/man/refgate.conf.5
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(B)/refgate $(B)/refgatectl $(DESTDIR)$(SBINDIR)/
	for m in refgate refgatectl; do \
		$(MAN_SUBST) docs/man/$$m.8 >$(DESTDIR)$(MANDIR)/man8/$$m.8 || exit 1; \
		chmod 0644 $(DESTDIR)$(MANDIR)/man8/$$m.8; done
	install -m 0644 $(B)/man/refgate.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(MAN_SUBST) scripts/systemd/refgate.service.in >$(DESTDIR)$(UNITDIR)/refgate.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/refgate.service
	install -m 0644 scripts/systemd/refgate.sysusers $(DESTDIR)$(SYSUSERSDIR)/refgate.conf
	install -m 0644 README.md SECURITY.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 examples/python/refer_and_poll.py $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/refgate $(DESTDIR)$(SBINDIR)/refgatectl \
		$(DESTDIR)$(MANDIR)/man8/refgate.8 $(DESTDIR)$(MANDIR)/man8/refgatectl.8 \
		$(DESTDIR)$(MANDIR)/man5/refgate.conf.5 $(DESTDIR)$(UNITDIR)/refgate.service \
		$(DESTDIR)$(SYSUSERSDIR)/refgate.conf
	rm -rf $(DESTDIR)$(DOCDIR)

.PHONY: install uninstall

# Fuzz regression replay (seeds and saved crash inputs under ASan+UBSan,
# no libFuzzer; the fuzz part of `make check`) and seed regeneration.
fuzz-regress: deps
	@sh tests/fuzz/regress.sh

fuzz-seeds:
	@sh tests/fuzz/make-seeds.sh

.PHONY: fuzz-regress fuzz-seeds

# Each known breakage of tests/mutants/list applied to a scratch copy
# (in MUTANTS_DIR, by default $(B)/mutants: this checkout's own, ignored
# by git), built, and its named tests run; fails when one survives or no
# longer applies, or when docs/testing.md's table is out of step with the
# list.
MUTANTS_DIR ?= $(B)/mutants
mutants: deps
	@bash tests/mutants/doc.sh --check
	@MUTANTS_DIR='$(abspath $(MUTANTS_DIR))' bash tests/mutants/run.sh

.PHONY: mutants
