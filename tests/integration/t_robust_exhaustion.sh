#!/usr/bin/env bash
# t_robust_exhaustion: the daemon under resource exhaustion, each phase
# bounded in time, all on 127.0.0.1: slowloris, idle TLS connections, TCP
# connections that never start a handshake, oversized headers and URLs,
# floods of tiny keep-alive requests, a thousand waiting long polls, and
# per-principal rate limits. Throughout, a legitimate client is served
# (below max_connections = 3000), memory stays bounded (VmHWM under 1 GiB,
# a memory bound, not a timing threshold), nothing crashes (daemon alive,
# no sanitizer report in its log).
. "$(dirname "$0")/lib.sh"
STORM=$ITDIR/helpers/storm.mjs
RSS_BOUND_KB=$((1024 * 1024))

# Thousands of sockets on both ends: raise the descriptor limit (inherited
# by the daemon and the node clients).
hard=$(ulimit -Hn)
want=16384
[ "$hard" != unlimited ] && [ "$hard" -lt "$want" ] && want=$hard
ulimit -n "$want" 2>/dev/null
echo "# ulimit -n $(ulimit -n)"
IDLE_N=2000
[ "$(ulimit -n)" -lt 4600 ] && IDLE_N=$(( ($(ulimit -n) - 600) / 2 ))

MPORT=$(free_port)
# connection_timeout 90: the idle connections must outlive their own
# opening (2000 handshakes take tens of seconds on two busy cores).
# One principal parks the thousand long polls here: its caps are raised
# above them (t_fairshare checks the caps themselves).
rg_setup_conf max_connections 3000 rate_limit_rps 0 metrics_listen "127.0.0.1:$MPORT" connection_timeout 90 \
	long_poll_max 2000 long_poll_per_principal 1100 connections_per_principal 1200
enrol good partner || finish
enrol poller partner || finish
P=$T/p/good

# metric NAME: a gauge from the loopback metrics listener.
metric() { curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# legit NAME: an mTLS GET /v1/keys by a principal with no part in the
# attack succeeds within 5 tries of at most 10 s each.
legit() {
	local i c
	for i in 1 2 3 4 5; do
		c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --resolve "localhost:$PORT:127.0.0.1" \
			--cacert "$P/ca.pem" --cert "$P/cert.pem" --key "$P/key.pem" "$U/v1/keys" 2>/dev/null)
		[ "$c" = 200 ] && { ok "$1: legitimate client served (try $i)"; return; }
		sleep 1
	done
	notok "$1: legitimate client served" "last status ${c:-000} after 5 tries"
}
PEAK=0
# rss LABEL: samples VmRSS and VmHWM.
rss() {
	local r h; r=$(proc_kb VmRSS); h=$(proc_kb VmHWM)
	[ -n "$h" ] && [ "$h" -gt "$PEAK" ] && PEAK=$h
	echo "# rss after $1: VmRSS $((${r:-0} / 1024)) MiB, VmHWM $((${h:-0} / 1024)) MiB"
}
# storm_bg NAME MODE ARGS...: starts a storm client in the background;
# its JSON summary goes to $T/NAME.json. Waits (bounded, 120 s) for its
# ready file.
storm_bg() {
	local n=$1 m=$2; shift 2
	rm -f "$T/$n.ready"
	timeout 200 node "$STORM" "$m" --port "$PORT" --ready "$T/$n.ready" "$@" >"$T/$n.json" 2>"$T/$n.err" &
	SPID=$!; BGPIDS="$BGPIDS $SPID"
	local i
	for i in $(seq 1200); do [ -f "$T/$n.ready" ] && return 0; kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	notok "$n: storm client ready" "$(tail -n 3 "$T/$n.err" | tr '\n' ' ')"
	return 1
}
storm_wait() { wait "$SPID" 2>/dev/null; }
j() { jget "$T/$1.json" "$2"; }

req good GET /v1/keys
expect "before: GET /v1/keys -> 200 (control)" 200
rss start

# ---- slowloris: 200 connections, a header byte a second -----------------------
storm_bg slow slowloris --n 200 --secs 15 --ca "$P/ca.pem"
echo "# open connections (server's count): $(metric refgate_open_connections)"
legit "slowloris (200 connections dripping a header)"
sleep 5
legit "slowloris, 5 s later"
storm_wait
eq "slowloris: all 200 connections opened" 200 "$(j slow .opened)"
echo "# slowloris: $(cat "$T/slow.json")"
alive "daemon alive after slowloris"
rss slowloris

# ---- idle TLS connections --------------------------------------------------------
storm_bg idle idle --n "$IDLE_N" --secs 12 --ca "$P/ca.pem"
oc=$(metric refgate_open_connections)
echo "# open connections (server's count) with $IDLE_N idle: $oc"
if [ "${oc:-0}" -ge "$IDLE_N" ]; then ok "the server holds the $IDLE_N idle connections ($oc open)"
else notok "the server holds the $IDLE_N idle connections" "refgate_open_connections = '$oc'"; fi
legit "$IDLE_N idle TLS connections"
storm_wait
eq "idle: all $IDLE_N TLS handshakes completed" "$IDLE_N" "$(j idle .opened)"
echo "# idle: $(cat "$T/idle.json")"
alive "daemon alive after $IDLE_N idle TLS connections"
rss idle

# ---- TCP connections that never say hello ------------------------------------------
storm_bg tcp tcp --n 1000 --secs 8
legit "1000 TCP connections without a TLS handshake"
storm_wait
eq "tcp: all 1000 connections opened" 1000 "$(j tcp .opened)"
echo "# tcp: $(cat "$T/tcp.json")"
alive "daemon alive after 1000 silent TCP connections"
rss tcp

# ---- oversized headers and URLs ------------------------------------------------------
# big_req NAME CURL-ARGS...: must be refused with a 4xx or a closed
# connection, never served.
big_req() {
	local n=$1; shift
	local c
	c=$(curl -s -o "$T/big.body" -w '%{http_code}' --max-time 20 --resolve "localhost:$PORT:127.0.0.1" \
		--cacert "$P/ca.pem" --cert "$P/cert.pem" --key "$P/key.pem" "$@" 2>/dev/null)
	c=${c:-000}
	case $c in
	4[0-9][0-9]|000) ok "$n: refused ($c)" ;;
	*) notok "$n: refused with a 4xx or a closed connection" "HTTP $c $(head -c 200 "$T/big.body")" ;;
	esac
}
A64K=$(head -c 65536 /dev/zero | tr '\0' a)
big_req "URL of 64 KiB" "$U/v1/keys?x=$A64K"
big_req "path of 64 KiB" "$U/v1/referrals/$A64K"
big_req "header of 64 KiB" -H "X-Big: $A64K" "$U/v1/keys"
hdrs=(); for i in $(seq 2000); do hdrs+=(-H "X-H$i: $(printf '%040d' "$i")"); done
big_req "2000 headers (~100 KiB)" "${hdrs[@]}" "$U/v1/keys"
big_req "cookie of 64 KiB" -H "Cookie: a=$A64K" "$U/v1/keys"
req good GET "/v1/keys?x=$(head -c 1000 /dev/zero | tr '\0' a)" -H "X-Small: $(head -c 1000 /dev/zero | tr '\0' b)"
expect "URL and header of 1000 bytes each -> 200 (control)" 200
alive "daemon alive after oversized requests"
legit "after oversized requests"

# ---- flood of tiny keep-alive requests ------------------------------------------------------
storm_bg flood flood --conc 32 --secs 10 --ca "$P/ca.pem" --cert "$T/p/poller/cert.pem" --key "$T/p/poller/key.pem" --path /v1/keys
sleep 3
legit "flood of keep-alive GETs (32 connections)"
storm_wait
echo "# flood: $(cat "$T/flood.json")"
nreq=$(j flood .requests); n200=$(jeval "$T/flood.json" 'j.codes["200"]||0')
if [ "${nreq:-0}" -gt 1000 ] && [ "$n200" = "$nreq" ]; then ok "flood: all $nreq requests answered 200 ($(j flood .rps)/s)"
else notok "flood: every request answered 200" "$(cat "$T/flood.json")"; fi
alive "daemon alive after the flood"
rss flood

# ---- 1000 waiting long polls ---------------------------------------------------------------
req poller GET /v1/changes
expect "GET /v1/changes (cursor) -> 200" 200
cur=$(jget "$BODY" .next)
storm_bg polls polls --n 1000 --secs 40 --ca "$P/ca.pem" --cert "$T/p/poller/cert.pem" --key "$T/p/poller/key.pem" \
	--path "/v1/changes?since=$(urlenc "$cur")&wait=20"
for _ in $(seq 150); do [ "$(metric refgate_waiting_long_polls)" = 1000 ] && break; sleep 0.1; done
wp=$(metric refgate_waiting_long_polls)
eq "1000 long polls parked (refgate_waiting_long_polls)" 1000 "$wp"
legit "1000 waiting long polls"
rss "1000 parked long polls"
refer poller wake
expect "a referral by the polling principal -> 201" 201
storm_wait
echo "# polls: $(cat "$T/polls.json")"
eq "all 1000 long polls answered 200" 1000 "$(jeval "$T/polls.json" 'j.codes["200"]||0')"
eq "all 1000 long polls carried the new change" 1000 "$(j polls .withChanges)"
last_ms=$(j polls .lastMs)
if [ -n "$last_ms" ] && [ "$last_ms" -lt 20000 ]; then ok "the long polls returned on the change, before their 20 s wait ran out (last after ${last_ms} ms)"
else notok "the long polls returned on the change, before their wait ran out" "last after ${last_ms:-?} ms"; fi
alive "daemon alive after 1000 long polls"
rss polls

# ---- memory --------------------------------------------------------------------------------
rss end
echo "# peak RSS (VmHWM) of the daemon: $((PEAK / 1024)) MiB"
if [ "$PEAK" -gt 0 ] && [ "$PEAK" -lt "$RSS_BOUND_KB" ]; then ok "peak RSS $((PEAK / 1024)) MiB < 1 GiB"
else notok "peak RSS under 1 GiB" "VmHWM $PEAK kB"; fi

# ---- rate limits ----------------------------------------------------------------------------
enrol other partner || finish
rg_stop || finish
conf_set rate_limit_rps 1
conf_set rate_limit_burst 5
rg_start || finish
codes=""
for i in $(seq 20); do
	req good GET /v1/keys
	codes="$codes $CODE"
	[ "$CODE" = 429 ] && break
done
echo "# rate_limit_rps = 1, burst 5; principal good:$codes"
case $codes in " 200"*) ok "low rate limit: the first request is served (control)" ;; *) notok "low rate limit: the first request is served" "$codes" ;; esac
expect_problem "low rate limit: principal over its budget -> 429 rate_limited" 429 rate_limited
ra=$(hdr Retry-After)
case $ra in [1-9]|[1-9][0-9]) ok "429 carries Retry-After ($ra)" ;; *) notok "429 carries Retry-After in seconds" "'$ra'" ;; esac
req other GET /v1/keys
expect "another principal is still served -> 200" 200
# Still limited: the bucket refills one token a second, so five quick
# requests cannot all be served.
again=""
for i in 1 2 3 4 5; do req good GET /v1/keys; again="$again $CODE"; done
case $again in *429*) ok "the limited principal, five requests at once again: some 429 ($again)" ;;
*) notok "the limited principal, five requests at once again: some 429" "$again" ;; esac
sleep "${ra:-2}"
req good GET /v1/keys
expect "the limited principal after Retry-After seconds -> 200" 200

finish
