#!/usr/bin/env bash
# t_fairshare: no one principal can starve the rest. Small limits keep it
# quick: quota_subjects_per_day 40, quota_referrals_per_day 8,
# long_poll_per_principal 3, connections_per_principal 6.
#   - a partner flooding imminent_harm referrals is stopped by its daily
#     quota: 429 rate_limited, Retry-After = seconds to the next UTC
#     midnight, the detail naming the quota, nothing of it stored; another
#     partner is still served, its imminent_harm case is on a 3-entry
#     first page of the review queue (turns by principal) and its urgent
#     case on the default first page;
#   - the referral-count and stored-bytes quotas likewise;
#   - many subjects of one principal naming one account are one case;
#   - a principal over its long-poll or connection cap gets 429 for the
#     extra ones while another principal is served (served, not timed);
#   - long_poll_max above max_connections: the daemon refuses to start;
#   - revoking an access key, or a principal, answers its parked long
#     poll (wait=30) at once with the 401 a new request gets: well
#     before the wait runs out.
. "$(dirname "$0")/lib.sh"
STORM=$ITDIR/helpers/storm.mjs
MPORT=$(free_port)
rg_setup_conf rate_limit_rps 0 metrics_listen "127.0.0.1:$MPORT" \
	quota_subjects_per_day 40 quota_referrals_per_day 8 \
	long_poll_per_principal 3 connections_per_principal 6
for p in flood calm many poller doomed; do enrol "$p" partner || finish; done
enrol agent agency || finish
enrol rev reviewer || finish

metric() { curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
to_midnight() { echo $((86400 - $(date -u +%s) % 86400)); }
# subjects N PREFIX: a JS array of N handles PREFIX_1..N
subjects() { local i s=""; for i in $(seq "$1"); do s="$s{handle:\"$2_$i\"},"; done; echo "[${s%,}]"; }
# retry_after_midnight NAME BEFORE AFTER: Retry-After of the last answer
# lies between the seconds to midnight measured after and before it.
retry_after_midnight() {
	local ra; ra=$(hdr Retry-After)
	case $ra in ''|*[!0-9]*) notok "$1" "Retry-After '$ra'"; return ;; esac
	if [ "$3" -gt "$2" ]; then skip "$1" "the test crossed UTC midnight"
	elif [ "$ra" -ge $(($3 - 1)) ] && [ "$ra" -le $(($2 + 1)) ]; then ok "$1 ($ra s)"
	else notok "$1" "Retry-After $ra, expected $3..$2"; fi
}
TAG=$(rnd 6)

# ---- daily quotas: the flood ------------------------------------------------------
for i in 1 2 3 4; do
	refer flood "f$i" "urgency:\"imminent_harm\", subjects:$(subjects 10 "fl_${TAG}_$i")"
	[ "$CODE" = 201 ] || break
done
expect "flood: 4 imminent_harm referrals of 10 subjects (40, the quota) -> 201" 201
N_REF=$(dbq "SELECT COUNT(*) FROM referrals")
N_CASES=$(dbq "SELECT COUNT(*) FROM cases")
Q_ROW=$(dbq "SELECT referrals || '/' || subjects || '/' || bytes FROM quota_days WHERE principal = 'flood'")
eq "the day's counts are in the database (4 referrals, 40 subjects)" "4/40" "${Q_ROW%/*}"
b=$(to_midnight)
refer flood f5 "urgency:\"imminent_harm\", subjects:$(subjects 10 "fl_${TAG}_5")"
a=$(to_midnight)
expect_problem "flood: the 5th referral (subjects over quota) -> 429 rate_limited" 429 rate_limited
retry_after_midnight "... Retry-After: the seconds to the next UTC midnight" "$b" "$a"
case $(jget "$BODY" .detail) in *quota_subjects_per_day*) ok "... the detail names the quota" ;;
*) notok "... the detail names the quota" "$(jget "$BODY" .detail)" ;; esac
eq "... nothing stored: referrals, cases and the day's counts unchanged" "$N_REF $N_CASES $Q_ROW" \
	"$(dbq "SELECT COUNT(*) FROM referrals") $(dbq "SELECT COUNT(*) FROM cases") $(dbq "SELECT referrals || '/' || subjects || '/' || bytes FROM quota_days WHERE principal = 'flood'")"
post_jws flood "$T/f5.jws"
expect_problem "... the same JWS again: still 429 (its jti was never recorded)" 429 rate_limited
refer flood f6 "subjects:[{handle:\"fl_${TAG}_one\"}]"
expect_problem "flood: even one more subject -> 429" 429 rate_limited
post_jws flood "$T/f1.jws"
expect "flood: a replay of an accepted referral is still answered -> 200" 200

refer calm c_imm "urgency:\"imminent_harm\", subjects:[{handle:\"calm_${TAG}_imm\"}]"
expect "another partner is still served: imminent_harm referral -> 201" 201
C_IMM=$(jget "$T/c_imm.answer" '.cases[0].case_id')
refer calm c_urg "urgency:\"urgent\", subjects:[{handle:\"calm_${TAG}_urg\"}]"
expect "... and an urgent one -> 201" 201
C_URG=$(jget "$T/c_urg.answer" '.cases[0].case_id')

req rev GET "/v1/review/queue?limit=3"
expect "review queue, first page of 3 -> 200" 200
eq "the other partner's imminent_harm case is on it (2nd: turns by principal)" "$C_IMM" "$(jget "$BODY" '.cases[1].case_id')"
F1=$(jget "$T/f1.answer" '.cases[0].case_id'); F2=$(jget "$T/f1.answer" '.cases[1].case_id')
eq "... between the flood's oldest two" "$F1 $F2" "$(jget "$BODY" '.cases[0].case_id') $(jget "$BODY" '.cases[2].case_id')"
req rev GET /v1/review/queue
expect "review queue, default first page -> 200" 200
eq "the other partner's urgent case is on it" 1 "$(jeval "$BODY" "j.cases.filter(c=>c.case_id===\"$C_URG\").length")"
eq "... after the 41 imminent_harm cases (the contract's order)" 41 "$(jeval "$BODY" "j.cases.findIndex(c=>c.case_id===\"$C_URG\")")"

# ---- the referral-count quota ---------------------------------------------------------
for i in $(seq 8); do refer many "m$i" "subjects:[{handle:\"many_${TAG}_$i\"}]"; [ "$CODE" = 201 ] || break; done
expect "8 referrals of one subject (the referral quota) -> 201" 201
refer many m9 "subjects:[{handle:\"many_${TAG}_9\"}]"
expect_problem "the 9th -> 429 rate_limited" 429 rate_limited
case $(jget "$BODY" .detail) in *quota_referrals_per_day*) ok "... the detail names the referral quota" ;;
*) notok "... the detail names the referral quota" "$(jget "$BODY" .detail)" ;; esac
ne "... with Retry-After" "" "$(hdr Retry-After)"

# ---- one account named by many subjects of one principal: one case ------------------------
ACC="Same_${TAG}"
refer calm same1 "subjects:[{handle:\"@$ACC\"},{handle:\"${ACC,,}\"},{url:\"https://x.com/$ACC\"},{url:\"https://mobile.twitter.com/${ACC^^}/status/123\"},{url:\"https://www.twitter.com/$ACC?s=20\"}]"
expect "one referral, 5 subjects naming one account -> 201" 201
S0=$(jget "$T/same1.answer" '.cases[0].case_id')
eq "... all 5 subjects in one case" "1 5" "$(jeval "$T/same1.answer" '[new Set(j.cases.map(c=>c.case_id)).size, j.cases.length].join(" ")')"
refer calm same2 "subjects:[{handle:\"${ACC,,}\"},{url:\"https://twitter.com/$ACC\"}]"
expect "a second referral naming it twice -> 201" 201
eq "... the same case" "$S0 $S0" "$(jget "$T/same2.answer" '.cases[0].case_id') $(jget "$T/same2.answer" '.cases[1].case_id')"
req rev GET "/v1/review/queue?limit=500"
eq "one entry for it in the review queue" 1 "$(jeval "$BODY" "j.cases.filter(c=>c.case_id===\"$S0\").length")"
eq "one case row holds its handle" 1 "$(dbq "SELECT COUNT(DISTINCT case_id) FROM referral_subjects s JOIN referrals r ON r.id = s.referral_id WHERE r.principal = 'calm' AND s.referral_id IN ('$(jget "$T/same1.answer" .referral_id)', '$(jget "$T/same2.answer" .referral_id)')")"

# ---- long polls per principal ---------------------------------------------------------------
req poller GET /v1/changes; expect "poller: cursor -> 200" 200
PCUR=$(urlenc "$(jget "$BODY" .next)")
rm -f "$T/polls.ready"
timeout 60 node "$STORM" polls --port "$PORT" --ready "$T/polls.ready" --n 5 --secs 40 --ca "$T/p/poller/ca.pem" \
	--cert "$T/p/poller/cert.pem" --key "$T/p/poller/key.pem" --path "/v1/changes?since=$PCUR&wait=25" >"$T/polls.json" 2>"$T/polls.err" &
SPID=$!; BGPIDS="$BGPIDS $SPID"
for _ in $(seq 300); do [ "$(metric refgate_waiting_long_polls)" = 3 ] && break; sleep 0.1; done
eq "poller opens 5 long polls: 3 park (its cap)" 3 "$(metric refgate_waiting_long_polls)"
b=$(to_midnight)
req poller GET "/v1/changes?since=$PCUR&wait=20"
expect_problem "poller's 6th long poll -> 429 rate_limited" 429 rate_limited
ra=$(hdr Retry-After)
case $ra in [1-9]|1[0-9]|20) ok "... Retry-After $ra (at most the wait asked for)" ;; *) notok "... Retry-After within 1..20" "'$ra'" ;; esac
req calm GET /v1/changes; expect "meanwhile another principal is served -> 200" 200
req calm GET "/v1/changes?since=$(urlenc "$(jget "$BODY" .next)")&wait=1"
expect "... and its own long poll is served -> 200" 200
refer poller pw "subjects:[{handle:\"poll_${TAG}\"}]"
expect "a referral by poller (wakes its polls) -> 201" 201
wait "$SPID" 2>/dev/null
eq "the 3 parked polls answered 200 with the change, the 2 extra 429" '{"200":3,"429":2} 3' \
	"$(jeval "$T/polls.json" 'JSON.stringify(j.codes)') $(jget "$T/polls.json" .withChanges)"

# ---- connections per principal --------------------------------------------------------------
rm -f "$T/conns.ready"
timeout 60 node "$STORM" conns --port "$PORT" --ready "$T/conns.ready" --n 9 --secs 4 --ca "$T/p/poller/ca.pem" \
	--cert "$T/p/poller/cert.pem" --key "$T/p/poller/key.pem" --path /v1/keys >"$T/conns.json" 2>"$T/conns.err" &
SPID=$!; BGPIDS="$BGPIDS $SPID"
for _ in $(seq 300); do [ -f "$T/conns.ready" ] && break; sleep 0.1; done
req calm GET /v1/keys; expect "while poller holds its connections, another principal is served -> 200" 200
wait "$SPID" 2>/dev/null
echo "# conns: $(cat "$T/conns.json")"
eq "poller opens 9 connections at once: 6 served (its cap), 3 refused 429" '{"200":6,"429":3}' "$(jeval "$T/conns.json" 'JSON.stringify(Object.fromEntries(Object.entries(j.codes).sort()))')"
eq "... the 3 refused connections closed by the server, the 6 kept open" '{"429":3} 6' \
	"$(jeval "$T/conns.json" 'JSON.stringify(j.closedByServer)') $(jget "$T/conns.json" .stillOpen)"
for _ in $(seq 50); do req poller GET /v1/keys; [ "$CODE" = 200 ] && break; sleep 0.1; done
expect "once they are closed, poller is served again -> 200" 200

# ---- revocation answers parked long polls --------------------------------------------------
# bgpoll NAME WHO PATH [curl args]: a long poll in the background; its
# status and seconds go to $T/NAME.out.
bgpoll() {
	local n=$1 w=$2 p=$3; shift 3
	curl -s -o "$T/$n.body" -w '%{http_code} %{time_total}' --max-time 45 --resolve "localhost:$PORT:127.0.0.1" \
		--cacert "$T/p/$w/ca.pem" --cert "$T/p/$w/cert.pem" --key "$T/p/$w/key.pem" "$@" "$U$p" >"$T/$n.out" 2>/dev/null &
	BGPID=$!; BGPIDS="$BGPIDS $BGPID"
}
# parked N: waits (bounded) until N long polls wait.
parked() { local i; for i in $(seq 300); do [ "$(metric refgate_waiting_long_polls)" = "$1" ] && return 0; sleep 0.1; done; return 1; }
# poll_ended NAME: the background poll's status is 401, and it ended
# before 20 s of its 30 s wait (a behaviour check: at once, not at timeout).
poll_ended() {
	wait "$BGPID" 2>/dev/null
	local c s; read -r c s <"$T/$1.out"
	eq "$1: the parked poll answered 401 unauthenticated" "401 unauthenticated" "$c $(jget "$T/$1.body" .code)"
	if [ -n "$s" ] && [ "${s%.*}" -lt 20 ]; then ok "$1: it ended before its wait=30 ran out (${s} s)"
	else notok "$1: it ended before its wait=30 ran out" "after ${s:-?} s"; fi
}
refer agent ak "subjects:[{handle:\"agent_${TAG}\"}]"; AC=$(jget "$T/ak.answer" '.cases[0].case_id')
post_json legal /v1/admin/access-keys "{\"principal\":\"agent\",\"tier\":\"status\",\"cases\":[\"$AC\"],\"legal_basis\":\"fair share test\",\"expires_at\":\"$(date -u -d "@$(($(date +%s) + 86400))" +%Y-%m-%dT%H:%M:%SZ)\"}"
expect "legal issues agent an access key -> 201" 201
KID=$(jget "$BODY" .id); KSEC=$(jget "$BODY" .secret)
req agent GET /v1/changes -H "Authorization: Bearer $KSEC"; expect "agent: cursor with the key -> 200" 200
bgpoll keypoll agent "/v1/changes?since=$(urlenc "$(jget "$BODY" .next)")&wait=30" -H "Authorization: Bearer $KSEC"
check "the key's long poll is parked" parked 1
req legal DELETE "/v1/admin/access-keys/$KID"; expect "legal revokes the key -> 200" 200
poll_ended keypoll
req agent GET /v1/changes -H "Authorization: Bearer $KSEC"
eq "... the same 401 as a new request with the revoked key" "$CODE $(jeval "$BODY" '[j.code, j.detail].join("|")')" \
	"401 $(jeval "$T/keypoll.body" '[j.code, j.detail].join("|")')"
req agent GET /v1/changes; expect "agent without the key is still served -> 200" 200

req doomed GET /v1/changes; expect "doomed: cursor -> 200" 200
bgpoll prinpoll doomed "/v1/changes?since=$(urlenc "$(jget "$BODY" .next)")&wait=30"
check "doomed's long poll is parked" parked 1
ctl revoke doomed; eq "refgatectl revoke doomed exits 0" 0 $?
poll_ended prinpoll
req doomed GET /v1/changes; expect_problem "doomed's next request -> 401" 401 unauthenticated
eq "... the parked poll got the same 401 as that new request" "$(jeval "$BODY" '[j.code, j.detail].join("|")')" \
	"$(jeval "$T/prinpoll.body" '[j.code, j.detail].join("|")')"

# ---- configuration: long_poll_max above max_connections ----------------------------------------
rg_stop || finish
conf_set max_connections 100
conf_set long_poll_max 101
timeout 30 "$BIN/refgate" -c "$D/refgate.conf" >"$T/refuse.log" 2>&1
rc=$?
ne "long_poll_max 101 > max_connections 100: the daemon refuses to start" 0 "$rc"
ne "... (it did not time out)" 124 "$rc"
check "... the error names both keys" grep -q 'long_poll_max (101) is above max_connections (100)' "$T/refuse.log"
conf_set long_poll_max 100

# ---- the stored-bytes quota ---------------------------------------------------------------------
conf_set quota_bytes_per_day 6144
rg_start || finish
refer agent big "summary:\"$(head -c 4000 /dev/zero | tr "\0" s)\", subjects:[{handle:\"big_${TAG}\"}]"
expect "agent: a referral of ~4 KB under a 6 KiB daily byte quota -> 201" 201
b=$(to_midnight)
refer agent big2 "summary:\"$(head -c 4000 /dev/zero | tr "\0" t)\", subjects:[{handle:\"big2_${TAG}\"}]"
a=$(to_midnight)
expect_problem "a second one -> 429 rate_limited" 429 rate_limited
case $(jget "$BODY" .detail) in *quota_bytes_per_day*) ok "... the detail names the byte quota" ;;
*) notok "... the detail names the byte quota" "$(jget "$BODY" .detail)" ;; esac
retry_after_midnight "... Retry-After: the seconds to the next UTC midnight" "$b" "$a"
refer calm small "subjects:[{handle:\"small_${TAG}\"}]"
expect "another partner under its own byte quota -> 201" 201
finish
