#!/usr/bin/env bash
# t_nodes: several gateway nodes on one PostgreSQL (contract section 12).
# Three refgate processes run from copies of one deployment, each on its
# own port, sharing a throwaway PostgreSQL 15: a referral acknowledged by
# one node is readable on every node at once; the same account referred
# at the same moment through two nodes makes one case (200 races); two
# identifiers of one account arriving on two nodes merge; a long poll on
# one node wakes on a decision made on another; one audit chain verifies
# after concurrent writes through all nodes; a revocation on one node
# refuses the next request on every node; kill -9 of a node under load
# loses nothing it acknowledged; a PostgreSQL restart under load answers
# 503 unavailable meanwhile and every node recovers by itself.
RG_DB=pg
. "$(dirname "$0")/lib.sh"
# Per-second rate limits are per node; this scenario sends hundreds of
# referrals from one principal.
rg_setup_conf rate_limit_rps 0
enrol pave partner || finish
enrol lodi partner || finish
enrol rev reviewer || finish
enrol ag1 agency || finish

# ---- the other nodes -----------------------------------------------------------
NPORT=([1]=$PORT)
NPID=([1]=$PID)
# node_start N: node N from $T/gwN, a copy of the deployment with its own
# listen (started again from the same folder after a kill).
node_start() {
	local n=$1 d=$T/gw$1 i
	if [ ! -d "$d" ]; then
		cp -a "$D" "$d" || return 1
		NPORT[$n]=$(free_port) || return 1
		sed -i "s|^listen = .*|listen = 127.0.0.1:${NPORT[$n]}|" "$d/refgate.conf"
	fi
	"$BIN/refgate" -c "$d/refgate.conf" >>"$d/server.log" 2>&1 &
	NPID[$n]=$!
	BGPIDS="$BGPIDS ${NPID[$n]}"
	for i in $(seq 300); do
		kill -0 "${NPID[$n]}" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/${NPORT[$n]}") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# node_stop N: SIGTERM, and a clean exit within 15 s.
node_stop() {
	local p=${NPID[$1]} i
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	wait "$p" 2>/dev/null
}
# at N CMD...: CMD (req, refer, post_json, ...) against node N.
at() {
	local n=$1 sp=$PORT su=$U rc; shift
	PORT=${NPORT[$n]}; U=https://localhost:$PORT
	"$@"; rc=$?
	PORT=$sp; U=$su
	return $rc
}
check "node 2 starts from a copy of the deployment" node_start 2
check "node 3 starts from a copy of the deployment" node_start 3

case_of() { jget "$1" '.cases['"${2:-0}"'].case_id'; }
live_of() { req rev GET "/v1/cases/$1"; [ "$CODE" = 200 ] && jget "$BODY" .case_id; }

# ---- acknowledged on one node, readable on every node at once --------------------
at 1 refer pave ack1 'subjects:[{handle:"nodes_ack"}]'
expect "referral through node 1 -> 201" 201
R1=$(jget "$T/ack1.answer" .referral_id); C1=$(case_of "$T/ack1.answer")
for n in 2 3; do
	at $n req pave GET "/v1/referrals/$R1"
	expect "node $n reads it at once -> 200" 200
	at $n req pave GET "/v1/cases/$C1"
	expect "node $n reads its case at once -> 200" 200
done
at 1 req pave GET "/v1/referrals/r_nonexistent0000000000"
expect_problem "an unknown referral on node 1 -> 404 (control)" 404 not_found

# ---- the same account at the same moment through two nodes: one case -------------
RACES=200
mkdir -p "$T/race"
node -e 'const c=require("crypto"),fs=require("fs");const [dir,n]=process.argv.slice(1);
const now=Math.floor(Date.now()/1000),tag=c.randomBytes(4).toString("hex");
for(let i=0;i<+n;i++) for(const s of ["a","b"]) fs.writeFileSync(`${dir}/${i}${s}.json`,JSON.stringify({
 jti:c.randomBytes(18).toString("base64url"),iat:now,category:"terrorist_content",
 subjects:[{handle:`r${tag}_${i}`}]}));' -- "$T/race" "$RACES"
node "$ITDIR/sign.mjs" --jwk "$T/p/pave/signing.jwk" --batch "$T/race" 2>>"$T/sign.log"
eq "$((RACES * 2)) race referrals signed" $((RACES * 2)) "$(find "$T/race" -name '*.jws' | wc -l)"
# post N FILE OUT: the JWS to node N with curl, answer "CODE BODY" in OUT.
post() {
	curl -sS -o "$3.body" -w '%{http_code}' --max-time 45 \
		--resolve "localhost:${NPORT[$1]}:127.0.0.1" --cacert "$T/p/pave/ca.pem" \
		--cert "$T/p/pave/cert.pem" --key "$T/p/pave/key.pem" \
		-H 'Content-Type: application/jose' --data-binary @"$2" \
		"https://localhost:${NPORT[$1]}/v1/referrals" >"$3.code" 2>>"$T/curl.err"
}
split=0 notboth=0
for i in $(seq 0 $((RACES - 1))); do
	# the pair goes to nodes 1-2, 2-3 and 3-1 in turn
	a=$((i % 3 + 1)); b=$(((i + 1) % 3 + 1))
	post $a "$T/race/${i}a.jws" "$T/race/${i}a" &
	pa=$!
	post $b "$T/race/${i}b.jws" "$T/race/${i}b" &
	pb=$!
	wait $pa $pb
	if [ "$(cat "$T/race/${i}a.code")" != 201 ] || [ "$(cat "$T/race/${i}b.code")" != 201 ]; then
		notboth=$((notboth + 1)); continue
	fi
	# One principal names one case by one id: two cases would be two ids.
	[ "$(case_of "$T/race/${i}a.body")" = "$(case_of "$T/race/${i}b.body")" ] || split=$((split + 1))
done
eq "$RACES races: both referrals of each pair acknowledged (201)" 0 "$notboth"
eq "$RACES races: each pair made one case" 0 "$split"
req rev GET "/v1/cases/$(case_of "$T/race/0a.body")"
eq "the reviewer sees both referrals of a pair on its one case (sample)" 2 "$(jget "$BODY" .referral_count)"

# ---- two identifiers of one account on two nodes merge ----------------------------
MID=$((RANDOM * 32768 + RANDOM + 1000000))
at 1 refer pave m1 "subjects:[{account_id:\"$MID\"}]"
expect "account_id through node 1 -> 201" 201
at 2 refer lodi m2 'subjects:[{handle:"nodes_merge_me"}]'
expect "handle through node 2 -> 201" 201
M1=$(case_of "$T/m1.answer"); M2=$(case_of "$T/m2.answer")
ne "two cases before the link" "$(at 3 live_of "$M1")" "$(at 3 live_of "$M2")"
at 3 refer lodi m3 "subjects:[{account_id:\"$MID\", handle:\"Nodes_Merge_Me\"}]"
expect "the link through node 3 -> 201" 201
L1=$(at 1 live_of "$M1"); L2=$(at 2 live_of "$M2")
ne "the merged case has an id" "" "$L1"
eq "node 1 and node 2 see one merged case" "$L1" "$L2"
eq "node 3 sees the same" "$L1" "$(at 3 live_of "$M2")"

# ---- a long poll on node 1 wakes on a decision made on node 2 --------------------
at 1 refer pave lp 'subjects:[{handle:"nodes_long_poll"}]'
expect "referral for the long poll -> 201" 201
LPC=$(case_of "$T/lp.answer")
at 1 req pave GET /v1/changes
NEXT=$(jget "$BODY" .next)
# drain to the head of pave's feed
for i in $(seq 50); do
	at 1 req pave GET "/v1/changes?since=$(urlenc "$NEXT")&limit=500"
	[ "$(jeval "$BODY" 'j.changes.length')" = 0 ] && break
	NEXT=$(jget "$BODY" .next)
done
eq "at the head of pave's feed" 0 "$(jeval "$BODY" 'j.changes.length')"
poll_bg() {   # NODE OUT: a long poll (wait=25) as pave from NEXT
	curl -sS -o "$2" -w '%{http_code}' --max-time 60 \
		--resolve "localhost:${NPORT[$1]}:127.0.0.1" --cacert "$T/p/pave/ca.pem" \
		--cert "$T/p/pave/cert.pem" --key "$T/p/pave/key.pem" \
		"https://localhost:${NPORT[$1]}/v1/changes?since=$(urlenc "$NEXT")&wait=25" >"$2.code" 2>>"$T/curl.err"
}
poll_bg 1 "$T/lp1.json" &
LPP=$!
# Let it park first, so that it is the wake-up that answers it (were the
# decision first, the poll would answer at once with the same change:
# the check below holds either way).
sleep 2
at 2 post_json rev "/v1/cases/$(at 2 live_of "$LPC")/decision" '{"status":"in_review"}'
at 2 post_json rev "/v1/cases/$(at 2 live_of "$LPC")/decision" \
	'{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"nodes"}'
expect "decision through node 2 -> 200" 200
wait $LPP
eq "the long poll on node 1 answered 200" 200 "$(cat "$T/lp1.json.code")"
eq "... before its wait ran out, with the decision made on node 2" "$LPC actioned" \
	"$(jeval "$T/lp1.json" 'j.changes.map(c=>c.case_id+" "+c.status).join(",")')"

# ---- one audit chain after concurrent writes through every node -----------------
mkdir -p "$T/aud"
for i in $(seq 0 29); do printf '{"jti":"aud-%s-%04d","iat":%d,"category":"hate_speech","subjects":[{"handle":"aud_%s_%d"}]}' \
	"$(rnd 16)" "$i" "$(date +%s)" "$(rnd 6)" "$i" >"$T/aud/$i.json"; done
node "$ITDIR/sign.mjs" --jwk "$T/p/lodi/signing.jwk" --batch "$T/aud" 2>>"$T/sign.log"
pids=""
for i in $(seq 0 29); do
	curl -sS -o /dev/null -w '%{http_code}\n' --max-time 45 --resolve "localhost:${NPORT[$((i % 3 + 1))]}:127.0.0.1" \
		--cacert "$T/p/lodi/ca.pem" --cert "$T/p/lodi/cert.pem" --key "$T/p/lodi/key.pem" \
		-H 'Content-Type: application/jose' --data-binary @"$T/aud/$i.jws" \
		"https://localhost:${NPORT[$((i % 3 + 1))]}/v1/referrals" >>"$T/aud/codes" 2>>"$T/curl.err" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
eq "30 concurrent referrals through three nodes -> 201 each" 30 "$(grep -c '^201$' "$T/aud/codes")"
ctl audit verify
eq "refgatectl audit verify: one chain, intact" "0 1" "$? $(grep -c 'chain intact' "$T/ctl.out")"

# ---- revocation on one node refuses the next request on every node --------------
KP=/v1/admin/access-keys
exp=$(date -u -d "@$(($(date +%s) + 86400))" +%Y-%m-%dT%H:%M:%SZ)
at 1 post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"status\",\"cases\":[\"$(at 1 live_of "$C1")\"],\"legal_basis\":\"nodes\",\"expires_at\":\"$exp\"}"
expect "access key issued on node 1 -> 201" 201
KID=$(jget "$BODY" .id); KS=$(jget "$BODY" .secret)
KC=$(at 1 live_of "$C1")
for n in 1 2 3; do
	at $n req ag1 GET "/v1/cases/$KC" -H "Authorization: Bearer $KS"
	expect "the key works on node $n (control)" 200
done
at 2 req legal DELETE "$KP/$KID"
expect "key revoked on node 2 -> 200" 200
for n in 1 2 3; do
	at $n req ag1 GET "/v1/cases/$KC" -H "Authorization: Bearer $KS"
	expect_problem "the revoked key on node $n's next request -> 401" 401 unauthenticated
done
enrol gone partner || finish
for n in 1 2 3; do
	at $n req gone GET /v1/changes
	expect "principal 'gone' on node $n (control)" 200
done
at 3 req legal DELETE /v1/admin/principals/gone
expect "principal revoked on node 3 -> 200" 200
for n in 1 2 3; do
	at $n req gone GET /v1/changes
	expect_refused "the revoked principal on node $n's next request"
done

# ---- kill -9 of a node under load: nothing acknowledged is lost ------------------
mkdir -p "$T/k9"
for i in $(seq 0 199); do printf '{"jti":"k9-%s-%04d","iat":%d,"category":"hate_speech","subjects":[{"handle":"k9_%s_%d"}]}' \
	"$(rnd 16)" "$i" "$(date +%s)" "$(rnd 6)" "$i" >"$T/k9/$i.json"; done
node "$ITDIR/sign.mjs" --jwk "$T/p/lodi/signing.jwk" --batch "$T/k9" 2>>"$T/sign.log"
# load on node 2: four senders, each recording the referral id of every 201
k9_sender() {
	local s=$1 i
	for i in $(seq "$s" 4 199); do
		curl -sS -o "$T/k9/$i.body" -w '%{http_code}' --max-time 20 \
			--resolve "localhost:${NPORT[2]}:127.0.0.1" --cacert "$T/p/lodi/ca.pem" \
			--cert "$T/p/lodi/cert.pem" --key "$T/p/lodi/key.pem" \
			-H 'Content-Type: application/jose' --data-binary @"$T/k9/$i.jws" \
			"https://localhost:${NPORT[2]}/v1/referrals" >"$T/k9/$i.code" 2>/dev/null
	done
}
spids=""
for s in 0 1 2 3; do k9_sender $s & spids="$spids $!"; done
# kill once a tenth of the load is acknowledged (bounded wait)
for i in $(seq 300); do
	[ "$(grep -l '^201$' "$T"/k9/*.code 2>/dev/null | wc -l)" -ge 20 ] && break
	sleep 0.1
done
kill -9 "${NPID[2]}"; wait "${NPID[2]}" 2>/dev/null
# shellcheck disable=SC2086
wait $spids
ACKED=$(grep -l '^201$' "$T"/k9/*.code 2>/dev/null | wc -l)
ne "some referrals were acknowledged by node 2 before the kill" 0 "$ACKED"
lost=0
for f in $(grep -l '^201$' "$T"/k9/*.code 2>/dev/null); do
	id=$(jget "${f%.code}.body" .referral_id)
	at 1 req lodi GET "/v1/referrals/$id"
	[ "$CODE" = 200 ] || lost=$((lost + 1))
done
eq "every referral node 2 acknowledged is on node 1 after its kill -9 ($ACKED)" 0 "$lost"
at 3 refer lodi k9after 'subjects:[{handle:"after_kill"}]'
expect "node 3 keeps answering: a referral -> 201" 201
at 1 req lodi GET "/v1/referrals/$(jget "$T/k9after.answer" .referral_id)"
expect "node 1 keeps answering: it reads it -> 200" 200
check "node 2 restarts from the same folder" node_start 2
at 2 req lodi GET "/v1/referrals/$(jget "$T/k9after.answer" .referral_id)"
expect "the restarted node 2 reads it -> 200" 200

# ---- PostgreSQL restart under load: 503 meanwhile, recovery without restarts -----
mkdir -p "$T/pr"
for i in $(seq 0 5); do printf '{"jti":"pr-%s-%04d","iat":%d,"category":"hate_speech","subjects":[{"handle":"pr_%s_%d"}]}' \
	"$(rnd 16)" "$i" "$(date +%s)" "$(rnd 6)" "$i" >"$T/pr/$i.json"; done
node "$ITDIR/sign.mjs" --jwk "$T/p/lodi/signing.jwk" --batch "$T/pr" 2>>"$T/sign.log"
at 1 post_jws lodi "$T/pr/0.jws"
expect "before the restart: a referral -> 201 (control)" 201
PR0=$(jget "$BODY" .referral_id)
check "PostgreSQL stops" pg_down
for n in 1 2 3; do
	at $n post_jws lodi "$T/pr/$n.jws"
	expect_problem "database down: a referral on node $n -> 503 unavailable" 503 unavailable
	at $n req pave GET "/v1/cases/$C1"
	expect_problem "database down: a read on node $n -> 503 unavailable" 503 unavailable
	at $n req lodi GET /v1/changes
	expect_problem "database down: a principal it cannot look up on node $n -> 503 (never 401)" 503 unavailable
done
check "PostgreSQL starts again" pg_up
for n in 1 2 3; do
	# bounded: a node reconnects at most once a second per connection
	for i in $(seq 100); do
		at $n req pave GET "/v1/cases/$C1"
		[ "$CODE" = 200 ] && break
		sleep 0.2
	done
	expect "node $n recovered by itself (no restart): a read -> 200" 200
	at $n post_jws lodi "$T/pr/$n.jws"
	case $CODE in
	201) ok "node $n: the referral refused with 503 is recorded now (201): nothing of it was half-written" ;;
	*) notok "node $n: the referral refused with 503 is recorded now (201)" "$(last)" ;;
	esac
done
for n in 1 2 3; do
	at $n req lodi GET "/v1/referrals/$PR0"
	expect "node $n: the referral acknowledged before the restart is there" 200
done
# the listener re-listened: a poll on node 3 wakes on node 1's decision
at 3 refer pave lp2 'subjects:[{handle:"nodes_after_restart"}]'
expect "referral after the restart -> 201" 201
LP2=$(case_of "$T/lp2.answer")
at 3 req pave GET "/v1/changes?since=$(urlenc "$NEXT")&limit=500"
for i in $(seq 50); do
	[ "$(jeval "$BODY" 'j.changes.length')" = 0 ] && break
	NEXT=$(jget "$BODY" .next)
	at 3 req pave GET "/v1/changes?since=$(urlenc "$NEXT")&limit=500"
done
poll_bg 3 "$T/lp3.json" &
LPP=$!
sleep 2
at 1 post_json rev "/v1/cases/$(at 1 live_of "$LP2")/decision" '{"status":"in_review"}'
at 1 post_json rev "/v1/cases/$(at 1 live_of "$LP2")/decision" '{"status":"no_action","ground":"terms_of_service","explanation":"nodes"}'
expect "decision through node 1 after the restart -> 200" 200
wait $LPP
eq "a long poll on node 3 wakes on it, after the restart" "$LP2 no_action" \
	"$(jeval "$T/lp3.json" 'j.changes.map(c=>c.case_id+" "+c.status).join(",")')"
ctl audit verify
eq "refgatectl audit verify after it all: one chain, intact" "0 1" "$? $(grep -c 'chain intact' "$T/ctl.out")"

# ---- the other nodes stop cleanly -------------------------------------------------
for n in 2 3; do
	node_stop $n; rc=$?
	eq "node $n exits cleanly on SIGTERM" 0 "$rc"
done
finish
