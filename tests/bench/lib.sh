# tests/bench/lib.sh - what the bench phases that run their own deployment
# share (growth.sh, rss.sh): a free loopback port, a fresh deployment
# without fair-share limits, starting and stopping its gateway. Sourced;
# expects B (build folder) and T (the phase's scratch folder), and sets
# PORT, D (the deployment) and GWPID.

GW=$B/refgate; CTL=$B/refgatectl; LG=$B/loadgen
GWPID=

bench_fail() {
	echo "bench: $1" >&2
	[ -n "${2:-}" ] && [ -f "$2" ] && tail -n 15 "$2" | sed 's/^/bench:   /' >&2
	exit 1
}

bench_listening() { ss -ltnH 2>/dev/null | awk '{print $4}' | grep -q "[:.]$1\$"; }

# bench_deploy: refgatectl init into $T/gw on a free port; no rate limit,
# daily quotas at their maxima (one partner sends every referral).
bench_deploy() {
	PORT=
	for _ in $(seq 50); do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
		bench_listening "$p" || { PORT=$p; break; }
	done
	[ -n "$PORT" ] || bench_fail "no free port"
	D=$T/gw
	"$CTL" init "$D" --listen "127.0.0.1:$PORT" --hostname localhost >"$T/init.log" 2>&1 \
		|| bench_fail "refgatectl init failed" "$T/init.log"
	printf 'rate_limit_rps = 0\nquota_referrals_per_day = 1000000000\nquota_subjects_per_day = 1000000000\nquota_bytes_per_day = 1099511627776\n' \
		>>"$D/refgate.conf"
}

# gw_start: the gateway on $D, up and listening.
gw_start() {
	"$GW" -c "$D/refgate.conf" >>"$T/server.log" 2>&1 &
	GWPID=$!
	for _ in $(seq 300); do
		kill -0 "$GWPID" 2>/dev/null || bench_fail "refgate exited" "$T/server.log"
		bench_listening "$PORT" && return 0
		sleep 0.1
	done
	bench_fail "refgate does not listen on 127.0.0.1:$PORT" "$T/server.log"
}

# gw_stop: SIGTERM (it drains its writes), SIGKILL after 10 s.
gw_stop() {
	[ -n "$GWPID" ] || return 0
	kill "$GWPID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$GWPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$GWPID" 2>/dev/null
	wait "$GWPID" 2>/dev/null
	GWPID=
}

# rss_kib PID: its resident set, KiB (VmRSS).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
