# pg.sh - a throwaway PostgreSQL 15 for tests (bash, sourced).
#
#   pg_start          initdb + pg_ctl start in a new temp folder, listening
#                     only on a Unix socket in that folder (no TCP port);
#                     sets RG_PG_URI (postgresql:///refgate?host=...)
#   pg_stop           stops it (fast) and removes the folder
#   pg_restart        stops and starts the same cluster (the data stays)
#   pg_down / pg_up   stop / start it without removing anything
#   pg_psql SQL       runs SQL with psql (-At: bare rows, '|' separated)
#
# PostgreSQL refuses to run as root: as root the cluster runs as `nobody`
# (runuser) in a folder it owns; the socket folder is then opened to the
# test's clients, which connect as the database user `refgate` (trust
# authentication: the socket is in a private temp folder and nothing else
# listens). PG_BIN: where initdb and pg_ctl are (Debian's postgresql-15).
# The caller's EXIT trap must call pg_stop (pg_trap installs one when the
# caller has none).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
RG_PG_URI=

pg_as() {
	if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

pg_up() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-k $PG_DIR -c listen_addresses= -c max_connections=200 -c fsync=on" \
		start >"$PG_DIR/pg_ctl.log" 2>&1
}

pg_down() {
	[ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop \
		>>"$PG_DIR/pg_ctl.log" 2>&1
}

pg_restart() { pg_down && pg_up; }

pg_start() {
	[ -x "$PG_BIN/initdb" ] || { echo "pg.sh: no $PG_BIN/initdb (install postgresql-15)" >&2; return 1; }
	PG_DIR=$(mktemp -d /tmp/rgpg.XXXXXX) || return 1
	chmod 0711 "$PG_DIR"
	if [ "$(id -u)" = 0 ]; then chown nobody "$PG_DIR" || return 1; fi
	if ! pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U refgate -A trust -E UTF8 --no-sync \
		--no-instructions >"$PG_DIR/initdb.log" 2>&1; then
		echo "pg.sh: initdb failed: $(tail -n 3 "$PG_DIR/initdb.log")" >&2; return 1
	fi
	if ! pg_up; then
		echo "pg.sh: pg_ctl start failed: $(tail -n 5 "$PG_DIR/server.log" 2>/dev/null)" >&2; return 1
	fi
	if ! "$PG_BIN/createdb" -h "$PG_DIR" -U refgate refgate >"$PG_DIR/createdb.log" 2>&1; then
		echo "pg.sh: createdb failed: $(cat "$PG_DIR/createdb.log")" >&2; return 1
	fi
	RG_PG_URI="postgresql:///refgate?host=$PG_DIR&user=refgate"
	export RG_PG_URI
}

pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 60 stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
	PG_DIR=
}

pg_psql() {
	"$PG_BIN/psql" -X -q -At -h "$PG_DIR" -U refgate -d refgate -v ON_ERROR_STOP=1 -c "$1"
}

# pg_trap: stop the server on exit, for a caller without its own trap.
pg_trap() { trap pg_stop EXIT; }
