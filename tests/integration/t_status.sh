#!/usr/bin/env bash
# t_status: contract section 3: reading referrals and cases (own only,
# others' 404 exactly like missing ones), ETag/If-None-Match, and the change
# feed with its cursor, limits and long poll.
. "$(dirname "$0")/lib.sh"
rg_setup
enrol pave partner || finish
enrol lodi partner || finish
enrol rev reviewer || finish

refer pave r1 'partner_ref:"P-1"'
expect "partner A referral -> 201" 201
R1=$(jget "$T/r1.answer" .referral_id); C1=$(jget "$T/r1.answer" '.cases[0].case_id')

# ---- referrals -----------------------------------------------------------------
req pave GET "/v1/referrals/$R1"
expect "own referral -> 200" 200
eq "own referral view: id, partner_ref, case, status" "$R1 P-1 $C1 received" \
	"$(jeval "$BODY" '[j.referral_id,j.partner_ref,j.cases&&j.cases[0].case_id,j.cases&&j.cases[0].status].join(" ")')"
req lodi GET "/v1/referrals/$R1"
expect_problem "another partner's referral -> 404 not_found" 404 not_found
sed -e "s/$R1/ID/g" "$BODY" >"$T/other404"
req lodi GET "/v1/referrals/r_doesnotexist000000000000"
expect_problem "a missing referral -> 404 not_found" 404 not_found
sed -e "s/r_doesnotexist000000000000/ID/g" "$BODY" >"$T/missing404"
if cmp -s "$T/other404" "$T/missing404"; then ok "someone else's referral answers exactly as a missing one"
else notok "someone else's referral answers exactly as a missing one" "$(head -c 150 "$T/other404") vs $(head -c 150 "$T/missing404")"; fi
req rev GET "/v1/referrals/$R1"
expect "reviewer reads any referral -> 200" 200

# ---- cases, ETag ---------------------------------------------------------------
req pave GET "/v1/cases/$C1"
expect "own case -> 200" 200
ETAG=$(hdr ETag)
ne "case answer carries an ETag" "" "$ETAG"
case $ETAG in W/*) notok "ETag is strong" "$ETAG" ;; \"*\") ok "ETag is a quoted strong tag" ;; *) notok "ETag is a quoted strong tag" "$ETAG" ;; esac
eq "partner's case view lists only the default-policy fields" "" \
	"$(jeval "$BODY" 'Object.keys(j).filter(k=>!["case_id","status","action","opened_at","updated_at","decided_at","deadline_at","referrals"].includes(k)).join(",")')"
req pave GET "/v1/cases/$C1" -H "If-None-Match: $ETAG"
expect "If-None-Match with the ETag -> 304" 304
eq "304 has no body" 0 "$(wc -c <"$BODY")"
req pave GET "/v1/cases/$C1" -H 'If-None-Match: "not-the-tag"'
expect "If-None-Match with another tag -> 200 (control)" 200
req lodi GET "/v1/cases/$C1"
expect_problem "another partner's case -> 404 not_found" 404 not_found
req lodi GET "/v1/cases/$C1" -H "If-None-Match: $ETAG"
expect_problem "another partner's case with its ETag -> still 404" 404 not_found
post_json rev "/v1/cases/$C1/decision" '{"status":"in_review"}'
expect "reviewer moves it to in_review -> 200" 200
req pave GET "/v1/cases/$C1" -H "If-None-Match: $ETAG"
expect "in_review is for reviewers: the partner's ETag still holds -> 304" 304
req pave GET "/v1/cases/$C1"
eq "the partner's view still shows received" "200 received" "$CODE $(jget "$BODY" .status)"
post_json rev "/v1/cases/$C1/decision" '{"status":"no_action","ground":"terms_of_service","explanation":"No violation."}'
expect "reviewer decides no_action -> 200" 200
req pave GET "/v1/cases/$C1" -H "If-None-Match: $ETAG"
expect "after a decision, the old ETag -> 200" 200
eq "the new view shows no_action" no_action "$(jget "$BODY" .status)"
ne "the ETag changed" "$ETAG" "$(hdr ETag)"

# ---- change feed ------------------------------------------------------------------
refer pave r2 ''
refer pave r3 ''
refer lodi l1 ''
C2=$(jget "$T/r2.answer" '.cases[0].case_id'); C3=$(jget "$T/r3.answer" '.cases[0].case_id'); L1=$(jget "$T/l1.answer" '.cases[0].case_id')
req pave GET /v1/changes
expect "GET /v1/changes (no since) -> 200" 200
eq "feed shape: changes[] and next" true "$(jeval "$BODY" 'Array.isArray(j.changes) && typeof j.next === "string" && j.next.length > 0')"
eq "partner A's feed: its cases only, oldest first" "$C1 $C1 $C2 $C3" "$(jeval "$BODY" 'j.changes.map(c=>c.case_id).join(" ")')"
eq "statuses in order (in_review is no entry)" "received no_action received received" "$(jeval "$BODY" 'j.changes.map(c=>c.status).join(" ")')"
eq "each change has case_id, status, updated_at" true "$(jeval "$BODY" 'j.changes.every(c=>c.case_id&&c.status&&c.updated_at)')"
req lodi GET /v1/changes
eq "partner B's feed: only its case" "$L1" "$(jeval "$BODY" 'j.changes.map(c=>c.case_id).join(" ")')"

req pave GET '/v1/changes?limit=2'
expect "limit=2 -> 200" 200
eq "limit=2 gives the first two" "$C1 $C1" "$(jeval "$BODY" 'j.changes.map(c=>c.case_id).join(" ")')"
N1=$(jget "$BODY" .next)
req pave GET "/v1/changes?since=$(urlenc "$N1")&limit=2"
expect "since=next -> 200" 200
eq "since=next continues where it stopped" "$C2 $C3" "$(jeval "$BODY" 'j.changes.map(c=>c.case_id).join(" ")')"
N2=$(jget "$BODY" .next)
req pave GET "/v1/changes?since=$(urlenc "$N2")"
eq "at the head: empty list" 0 "$(jeval "$BODY" 'j.changes.length')"
N3=$(jget "$BODY" .next)
req pave GET "/v1/changes?since=$(urlenc "$N3")"
eq "at the head: its next is a working cursor at the head" "200 0" "$CODE $(jeval "$BODY" 'j.changes.length')"
# The cursor is sealed: one flipped character is refused (control above).
BAD=$(printf '%s' "$N3" | sed 's/^\(.\)\(.\)/\2\1/')
[ "$BAD" = "$N3" ] && BAD="A$N3"
req pave GET "/v1/changes?since=$(urlenc "$BAD")"
expect_problem "an edited cursor -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?limit=1'; expect "limit=1 -> 200 (control)" 200
req pave GET '/v1/changes?limit=500'; expect "limit=500 -> 200 (control)" 200
req pave GET '/v1/changes?limit=0'; expect_problem "limit=0 -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?limit=501'; expect_problem "limit=501 -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?limit=abc'; expect_problem "limit=abc -> 400 bad_request" 400 bad_request
eq "limit=abc: the problem says what limit must be" "limit must be a whole number from 1 to 500" "$(jget "$BODY" .detail)"
req pave GET '/v1/changes?limit='; expect_problem "limit= (empty) -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?limit=99999999999999999999999'; expect_problem "limit past 2^63 -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?limit=5x'; expect_problem "limit=5x -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?since=%21%21not-a-cursor%21%21'; expect_problem "malformed cursor -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?wait=31'; expect_problem "wait=31 -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?wait=-1'; expect_problem "wait=-1 -> 400 bad_request" 400 bad_request
req pave GET '/v1/changes?wait=0'; expect "wait=0 -> 200 (control)" 200

# ---- long poll ---------------------------------------------------------------------
HEAD=$N2
# A change arrives while the poll waits: it returns with it.
(
	curl -s -o "$T/lp.body" -w '%{http_code}' --max-time 40 --resolve "localhost:$PORT:127.0.0.1" \
		--cacert "$T/p/pave/ca.pem" --cert "$T/p/pave/cert.pem" --key "$T/p/pave/key.pem" \
		"$U/v1/changes?since=$(urlenc "$HEAD")&wait=5" >"$T/lp.code" 2>/dev/null
) &
LP=$!; BGPIDS="$BGPIDS $LP"
sleep 1
refer pave r4 ''
expect "referral during the long poll -> 201" 201
C4=$(jget "$T/r4.answer" '.cases[0].case_id')
for _ in $(seq 200); do kill -0 "$LP" 2>/dev/null || break; sleep 0.1; done
wait "$LP" 2>/dev/null
eq "long poll answered 200" 200 "$(cat "$T/lp.code" 2>/dev/null)"
eq "long poll returned with the new case's change" "$C4" "$(jeval "$T/lp.body" 'j.changes.map(c=>c.case_id).join(" ")')"
# Nothing arrives: an empty list once the wait is over.
req pave GET /v1/changes?limit=500
HEAD=$(jget "$BODY" .next)
s=$(date +%s)
req pave GET "/v1/changes?since=$(urlenc "$HEAD")&wait=2"
e=$(date +%s)
expect "long poll without a change -> 200" 200
eq "long poll without a change: empty list" 0 "$(jeval "$BODY" 'j.changes.length')"
if [ $((e - s)) -ge 1 ]; then ok "long poll without a change held the request"; else notok "long poll without a change held the request" "returned after $((e - s)) s"; fi
# Another partner's change does not wake or feed partner A.
(
	curl -s -o "$T/lp2.body" -w '%{http_code}' --max-time 40 --resolve "localhost:$PORT:127.0.0.1" \
		--cacert "$T/p/pave/ca.pem" --cert "$T/p/pave/cert.pem" --key "$T/p/pave/key.pem" \
		"$U/v1/changes?since=$(urlenc "$HEAD")&wait=3" >"$T/lp2.code" 2>/dev/null
) &
LP=$!; BGPIDS="$BGPIDS $LP"
sleep 0.5
refer lodi l2 ''
for _ in $(seq 200); do kill -0 "$LP" 2>/dev/null || break; sleep 0.1; done
wait "$LP" 2>/dev/null
eq "another partner's change is not in partner A's long poll" 0 "$(jeval "$T/lp2.body" 'j.changes.length')"

finish
