#!/usr/bin/env bash
# t_ops: the operations listener (contract section 1: plain HTTP, loopback
# only, GET /healthz and GET /metrics in Prometheus text format) with its
# counters advancing after activity; a non-loopback metrics_listen refused
# at start; a partner's own statistics (GET /v1/partners/me/stats) against
# a known scenario; ETag and If-None-Match on the GET endpoints.
. "$(dirname "$0")/lib.sh"
PORT2=$(free_port)
rg_setup_conf metrics_listen "127.0.0.1:$PORT2" rate_limit_rps 20 rate_limit_burst 40
enrol ps partner || finish
enrol p2 partner || finish
enrol p3 partner || finish
enrol hammer partner || finish
enrol ag1 agency || finish
enrol rev reviewer || finish
OPS=http://127.0.0.1:$PORT2

# ops PATH [curl args]: the operations listener; sets CODE, BODY, HDR.
ops() {
	local p=$1; shift
	: >"$BODY"; : >"$HDR"
	CODE=$(curl -s -o "$BODY" -D "$HDR" -w '%{http_code}' --max-time 10 "$@" "$OPS$p" 2>/dev/null)
	[ -n "$CODE" ] || CODE=000
}
# metric NAME [FILE]: the value of an unlabelled sample (0 when absent).
metric() { awk -v n="$1" '$1 == n {print $2; f=1} END {if (!f) print 0}' "${2:-$T/m.txt}"; }
# requests_sum FILE: the sum of every refgate_requests_total sample.
requests_sum() { awk '/^refgate_requests_total[{]/ {s += $NF} END {print s + 0}' "$1"; }
scrape() { ops /metrics; cp "$BODY" "$T/$1"; }
gt() { if awk -v a="$2" -v b="$3" 'BEGIN {exit !(a > b)}'; then ok "$1 ($3 -> $2)"; else notok "$1" "$3 -> $2"; fi; }

# ---- /healthz, /metrics ------------------------------------------------------------
ops /healthz
expect "GET /healthz -> 200" 200
eq "healthz body" ok "$(jget "$BODY" .status)"
ops /metrics
expect "GET /metrics -> 200" 200
check "metrics: text/plain (Prometheus text format)" grep -qi '^content-type: *text/plain' "$HDR"
cp "$BODY" "$T/m0.txt"
for m in refgate_requests_total refgate_request_duration_seconds refgate_referrals_total refgate_dedup_hits_total \
	refgate_disclosures_total refgate_rate_limited_total refgate_open_connections refgate_waiting_long_polls; do
	check "metrics: $m has HELP and TYPE" grep -q "^# TYPE $m " "$T/m0.txt"
done
check "refgate_request_duration_seconds is a histogram" grep -q '^# TYPE refgate_request_duration_seconds histogram' "$T/m0.txt"
for m in refgate_referrals_total refgate_dedup_hits_total refgate_disclosures_total refgate_rate_limited_total; do
	check "$m is a counter" grep -q "^# TYPE $m counter" "$T/m0.txt"
done
for m in refgate_open_connections refgate_waiting_long_polls; do
	check "$m is a gauge" grep -q "^# TYPE $m gauge" "$T/m0.txt"
done
check "histogram has le=\"+Inf\", _sum and _count" grep -q 'refgate_request_duration_seconds_bucket{le="+Inf"}' "$T/m0.txt"
eq "every sample line is NAME{LABELS} VALUE or NAME VALUE" "" \
	"$(grep -v '^#' "$T/m0.txt" | grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfa]+$' | head -n 3)"
eq "refgate_review_queue_open: 0 before any referral" "0 0 0" \
	"$(metric refgate_review_queue_open "$T/m0.txt") $(metric refgate_review_oldest_open_seconds "$T/m0.txt") $(metric refgate_removal_orders_overdue "$T/m0.txt")"
check "refgate_review_queue_open is a gauge (present even at 0)" grep -q '^# TYPE refgate_review_queue_open gauge' "$T/m0.txt"
SNA=$(date -u -d "$(openssl x509 -enddate -noout -in "$(conf_path tls_cert)" | cut -d= -f2)" +%s)
eq "refgate_server_certificate_expiry_timestamp_seconds is the server certificate's notAfter" "$SNA" \
	"$(metric refgate_server_certificate_expiry_timestamp_seconds "$T/m0.txt")"
eq "refgate_principal_certificates_expiring: 0 (every certificate has 397 days)" 0 "$(metric refgate_principal_certificates_expiring "$T/m0.txt")"
NEXT=$(metric refgate_principal_certificate_next_expiry_timestamp_seconds "$T/m0.txt")
gt "refgate_principal_certificate_next_expiry_timestamp_seconds is more than 390 days ahead" "$NEXT" "$(( $(date +%s) + 390 * 86400 ))"
ops /metrics -X POST; expect "POST /metrics -> 405" 405
ops /nothing-here; expect "GET /nothing-here on the ops listener -> 404" 404
req ps GET /metrics
ne "the TLS listener does not serve /metrics" 200 "$CODE"
req ps GET /healthz
ne "the TLS listener does not serve /healthz" 200 "$CODE"

# ---- activity, and the counters advance -----------------------------------------------
scrape m1.txt
R1=$(requests_sum "$T/m1.txt")
refer ps a1 'subjects:[{handle:"stats_a"}]'; expect "ps refers A -> 201" 201
refer p2 a2 'subjects:[{handle:"Stats_A"}]'; expect "p2 refers A (a dedup hit) -> 201" 201
A=$(jget "$T/a1.answer" '.cases[0].case_id')
post_json legal /v1/admin/access-keys "{\"principal\":\"ag1\",\"tier\":\"disclosure\",\"cases\":[\"$A\"],\"legal_basis\":\"Ops test\",\"expires_at\":\"$(date -u -d "@$(($(date +%s) + 3600))" +%Y-%m-%dT%H:%M:%SZ)\"}"
expect "issue a disclosure key -> 201" 201
req ag1 GET "/v1/cases/$A" -H "Authorization: Bearer $(jget "$BODY" .secret)"
expect "a disclosure -> 200" 200
args=(); for i in $(seq 60); do args+=(-o /dev/null "$U/v1/keys"); done
HAM=$(curl -s -w '%{http_code} ' --max-time 60 --resolve "localhost:$PORT:127.0.0.1" --cacert "$T/p/hammer/ca.pem" \
	--cert "$T/p/hammer/cert.pem" --key "$T/p/hammer/key.pem" "${args[@]}" 2>/dev/null)
N429=$(echo "$HAM" | tr ' ' '\n' | grep -c '^429$')
ne "60 requests at once over burst 40: some 429" 0 "$N429"
scrape m2.txt
gt "refgate_referrals_total advanced by 2" "$(metric refgate_referrals_total "$T/m2.txt")" "$(( $(metric refgate_referrals_total "$T/m1.txt") + 1 ))"
eq "refgate_referrals_total advanced by exactly 2" $(( $(metric refgate_referrals_total "$T/m1.txt") + 2 )) "$(metric refgate_referrals_total "$T/m2.txt")"
eq "refgate_dedup_hits_total advanced by 1" $(( $(metric refgate_dedup_hits_total "$T/m1.txt") + 1 )) "$(metric refgate_dedup_hits_total "$T/m2.txt")"
eq "refgate_disclosures_total advanced by 1" $(( $(metric refgate_disclosures_total "$T/m1.txt") + 1 )) "$(metric refgate_disclosures_total "$T/m2.txt")"
eq "refgate_rate_limited_total advanced by the 429s ($N429)" $(( $(metric refgate_rate_limited_total "$T/m1.txt") + N429 )) "$(metric refgate_rate_limited_total "$T/m2.txt")"
R2=$(requests_sum "$T/m2.txt")
gt "refgate_requests_total advanced by at least the 64 requests" "$R2" "$((R1 + 63))"
n429() { awk '/^refgate_requests_total[{].*status="429"/ {s += $NF} END {print s + 0}' "$1"; }
eq "refgate_requests_total counts the 429s (status=\"429\", any route)" "$N429" "$(( $(n429 "$T/m2.txt") - $(n429 "$T/m1.txt") ))"
check "refgate_requests_total counts the referrals (201)" grep -q '^refgate_requests_total{route="POST /v1/referrals",status="201"}' "$T/m2.txt"
gt "refgate_request_duration_seconds_count advanced" "$(metric refgate_request_duration_seconds_count "$T/m2.txt")" "$(metric refgate_request_duration_seconds_count "$T/m1.txt")"
eq "histogram: buckets cumulative, +Inf = _count" ok "$(awk '
	/^refgate_request_duration_seconds_bucket/ {v = $2 + 0; if (v < prev) bad = 1; prev = v; inf = v}
	/^refgate_request_duration_seconds_count/ {c = $2 + 0}
	END {print (!bad && inf == c) ? "ok" : "bad"}' "$T/m2.txt")"

# gauges: a parked long poll and its connection
req ps GET '/v1/changes?limit=500'; HEADC=$(jget "$BODY" .next)
(curl -s -o /dev/null --max-time 30 --resolve "localhost:$PORT:127.0.0.1" --cacert "$T/p/ps/ca.pem" \
	--cert "$T/p/ps/cert.pem" --key "$T/p/ps/key.pem" "$U/v1/changes?since=$(urlenc "$HEADC")&wait=8") &
LP=$!; BGPIDS="$BGPIDS $LP"
W=0
for _ in $(seq 50); do scrape m3.txt; W=$(metric refgate_waiting_long_polls "$T/m3.txt"); [ "$W" -ge 1 ] && break; sleep 0.1; done
eq "refgate_waiting_long_polls: 1 while a long poll waits" 1 "$W"
gt "refgate_open_connections counts its connection" "$(metric refgate_open_connections "$T/m3.txt")" 0
wait "$LP" 2>/dev/null
for _ in $(seq 30); do scrape m4.txt; [ "$(metric refgate_waiting_long_polls "$T/m4.txt")" = 0 ] && break; sleep 0.1; done
eq "refgate_waiting_long_polls back to 0 after it answered" 0 "$(metric refgate_waiting_long_polls "$T/m4.txt")"

# ---- partner statistics: a known scenario ----------------------------------------------------------
# ps: A (twice: by handle and by URL), B, C, D; p2: A and Z. Decisions: A
# actioned, B (later) no_action, C in_review, D untouched.
refer ps a3 'subjects:[{url:"https://x.com/stats_a"}]'; expect "ps refers A again -> 201" 201
refer ps b 'subjects:[{handle:"stats_b"}]'; B=$(jget "$T/b.answer" '.cases[0].case_id')
refer ps c 'subjects:[{handle:"stats_c"}]'; C=$(jget "$T/c.answer" '.cases[0].case_id')
refer ps d 'subjects:[{handle:"stats_d"}]'
refer p2 z 'subjects:[{handle:"stats_z"}]'
expect "fixture referrals -> 201" 201
req ps GET /v1/partners/me/stats
eq "before any decision: median null, all pending" "5 4 0 0 4 null" \
	"$(jeval "$BODY" '[j.referrals,j.distinct_accounts,j.actioned,j.no_action,j.pending,JSON.stringify(j.median_time_to_decision_seconds)].join(" ")')"
sleep 1
post_json rev "/v1/cases/$A/decision" '{"status":"in_review"}'
post_json rev "/v1/cases/$A/decision" '{"status":"actioned","action":"account_suspended","ground":"illegal_content","explanation":"x"}'
expect "A actioned" 200
sleep 2
post_json rev "/v1/cases/$B/decision" '{"status":"in_review"}'
post_json rev "/v1/cases/$B/decision" '{"status":"no_action","ground":"terms_of_service","explanation":"y"}'
expect "B no_action" 200
post_json rev "/v1/cases/$C/decision" '{"status":"in_review"}'
expect "C in_review" 200
scrape m6.txt
eq "refgate_review_queue_open: C (in_review), D and Z (received)" 3 "$(metric refgate_review_queue_open "$T/m6.txt")"
gt "refgate_review_oldest_open_seconds: C was opened over 3 s ago" "$(metric refgate_review_oldest_open_seconds "$T/m6.txt")" 2
eq "refgate_removal_orders_overdue: none" 0 "$(metric refgate_removal_orders_overdue "$T/m6.txt")"
# decided_at - opened_at of A and B, from the reviewer's view
dur() { req rev GET "/v1/cases/$1"; jeval "$BODY" '(Date.parse(j.decided_at)-Date.parse(j.opened_at))/1000'; }
DA=$(dur "$A"); DB=$(dur "$B")
MED=$(( (DA + DB) / 2 ))
req ps GET /v1/partners/me/stats
expect "ps GET /v1/partners/me/stats -> 200" 200
eq "stats members" "actioned,distinct_accounts,median_time_to_decision_seconds,no_action,pending,referrals" "$(jeval "$BODY" 'Object.keys(j).sort().join(",")')"
eq "ps: referrals 5, distinct_accounts 4, actioned 1, no_action 1, pending 2, median floor(($DA+$DB)/2)" \
	"5 4 1 1 2 $MED" "$(jeval "$BODY" '[j.referrals,j.distinct_accounts,j.actioned,j.no_action,j.pending,j.median_time_to_decision_seconds].join(" ")')"
ETAG=$(hdr ETag)
# p2's own time to decision: from its own first referral into A (its own
# view's opened_at), not from ps's (contract section 4)
req p2 GET "/v1/cases/$(jget "$T/a2.answer" '.cases[0].case_id')"
DA2=$(jeval "$BODY" '(Date.parse(j.decided_at)-Date.parse(j.opened_at))/1000')
req p2 GET /v1/partners/me/stats
eq "p2: its own only (A and Z): 2 2 1 0 1 median $DA2 (from its own referral)" "2 2 1 0 1 $DA2" \
	"$(jeval "$BODY" '[j.referrals,j.distinct_accounts,j.actioned,j.no_action,j.pending,j.median_time_to_decision_seconds].join(" ")')"
req p3 GET /v1/partners/me/stats
eq "p3 (nothing referred): zeros, median null" "0 0 0 0 0 null" \
	"$(jeval "$BODY" '[j.referrals,j.distinct_accounts,j.actioned,j.no_action,j.pending,JSON.stringify(j.median_time_to_decision_seconds)].join(" ")')"
req ag1 GET /v1/partners/me/stats
expect "an agency's own stats -> 200" 200
req rev GET /v1/partners/me/stats; expect_problem "reviewer on /v1/partners/me/stats -> 403" 403 forbidden
req legal GET /v1/partners/me/stats; expect_problem "legal on /v1/partners/me/stats -> 403" 403 forbidden
req ps GET /v1/partners/me/stats -H "If-None-Match: $ETAG"
expect "stats with If-None-Match -> 304" 304

# ---- ETag on GET answers ------------------------------------------------------------------------------
R=$(jget "$T/b.answer" .referral_id)
for pair in "ps /v1/keys" "ps /v1/changes" "ps /v1/referrals/$R" "ps /v1/cases/$B" "rev /v1/review/queue" \
	"legal /v1/admin/principals" "legal /v1/admin/access-keys" "legal /v1/admin/audit?limit=5"; do
	who=${pair%% *}; path=${pair#* }
	req "$who" GET "$path"
	E=$(hdr ETag)
	case $E in \"?*\") ok "GET $path ($who): 200 with a strong ETag" ;; *) notok "GET $path ($who): 200 with a strong ETag" "HTTP $CODE ETag '$E'" ;; esac
	req "$who" GET "$path" -H "If-None-Match: $E"
	expect "GET $path with If-None-Match -> 304" 304
done

# ---- metrics_listen must be loopback -----------------------------------------------------------------------
rg_stop
for bad in "0.0.0.0:$(free_port)" "192.0.2.1:$(free_port)"; do
	conf_set metrics_listen "$bad"
	timeout 15 "$BIN/refgate" -c "$D/refgate.conf" >"$T/start-bad.log" 2>&1
	rc=$?
	if [ $rc != 0 ] && [ $rc != 124 ]; then ok "metrics_listen = $bad: the daemon refuses to start (exit $rc)"
	else notok "metrics_listen = $bad: the daemon refuses to start" "exit $rc"; fi
	check "... and says why (loopback)" grep -qi 'loopback' "$T/start-bad.log"
done
conf_set metrics_listen "127.0.0.1:$PORT2"
rg_start && ok "metrics_listen on 127.0.0.1 starts (positive control)"
ops /healthz
expect "healthz after the restart -> 200" 200
scrape m5.txt
eq "counters start again from 0 after a restart (process counters)" 0 "$(metric refgate_referrals_total "$T/m5.txt")"
# ---- a refused request's reason is in the log line, never in the answer --------------
# why_of: the "why" of the request log line of the last answer's request id.
why_of() {
	local id; id=$(hdr X-Request-Id)
	[ -n "$id" ] || { echo "no request id"; return; }
	grep -F "\"req\":\"$id\"" "$D/server.log" | grep -F '"msg":"request"' | tail -n 1 |
		node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).why||"none")}catch(e){console.log("no log line")}})'
}
enrol gone partner || finish
req gone GET /v1/keys; expect "a principal before its revocation -> 200 (control)" 200
eq "an accepted request's log line has no why" none "$(why_of)"
ctl revoke gone || notok "refgatectl revoke gone" "$(cat "$T/ctl.out")"
req gone GET /v1/keys
expect_problem "the revoked principal -> 401" 401 unauthenticated
eq "its 401 says nothing of why" "" "$(jeval "$BODY" 'j.detail||""')"
eq "the log says why: not enrolled, or revoked" "no active principal holds this certificate's key (not enrolled, or revoked)" "$(why_of)"
req none GET /v1/keys
expect_problem "no client certificate -> 401" 401 unauthenticated
eq "the log says why: no client certificate" "no client certificate" "$(why_of)"

finish
