#!/usr/bin/env bash
# t_status_cache: case views answered from memory (server/viewcache.c).
# A read of an unchanged case is served from memory (counted in
# refgate_case_views_from_memory_total); the commit that changes the case
# (a decision, a referral joining it) invalidates it at once, per
# audience; ETag/If-None-Match follow the same view; a revoked access key
# or principal is refused on its next request although its view is in
# memory; a disclosure key's read is never served from memory and is
# audited each time.
. "$(dirname "$0")/lib.sh"
PORT2=$(free_port)
rg_setup_conf metrics_listen "127.0.0.1:$PORT2"
enrol p1 partner || finish
enrol p2 partner || finish
enrol ag1 agency || finish
enrol ag2 agency || finish
enrol rev reviewer || finish
OPS=http://127.0.0.1:$PORT2
KP=/v1/admin/access-keys
from_memory() {
	curl -s --max-time 10 "$OPS/metrics" 2>/dev/null |
		awk '$1 == "refgate_case_views_from_memory_total" {print $2; f=1} END {if (!f) print "none"}'
}
exp_at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
disclosures() {
	req legal GET "/v1/admin/audit?limit=1000"
	jeval "$BODY" '(j.records||[]).filter(r=>r.kind==="disclosure").length'
}

refer p1 r1 'subjects:[{handle:"@Cache_Acct_One"}]'
expect "p1's referral -> 201" 201
C1=$(jget "$T/r1.answer" '.cases[0].case_id')

# ---- served from memory --------------------------------------------------------
M0=$(from_memory)
ne "the counter is exported" none "$M0"
req p1 GET "/v1/cases/$C1"; expect "p1 reads its case -> 200" 200
E1=$(hdr ETag); B1=$(cat "$BODY")
req p1 GET "/v1/cases/$C1"; expect "p1 reads it again -> 200" 200
eq "the second read is the same view" "$B1" "$(cat "$BODY")"
eq "... with the same ETag" "$E1" "$(hdr ETag)"
eq "the second read came from memory" $((M0 + 1)) "$(from_memory)"
req p1 GET "/v1/cases/$C1" -H "If-None-Match: $E1"
expect "If-None-Match with that ETag, from memory -> 304" 304

# ---- per audience --------------------------------------------------------------
req rev GET "/v1/cases/$C1"; expect "the reviewer reads it -> 200" 200
RB=$(cat "$BODY")
ne "the reviewer's view is not the partner's" "$B1" "$RB"
req rev GET "/v1/cases/$C1"
eq "the reviewer's second read: its own view" "$RB" "$(cat "$BODY")"
req p2 GET "/v1/cases/$C1"
expect_problem "p2 never referred it: 404, whatever is in memory" 404 not_found

# ---- invalidated by the commit that changes the case ----------------------------------
post_json rev "/v1/cases/$C1/decision" '{"status":"in_review"}'
expect "the reviewer moves it to in_review -> 200" 200
req rev GET "/v1/cases/$C1"
eq "the reviewer's next read shows in_review" "200 in_review" "$CODE $(jget "$BODY" .status)"
req p1 GET "/v1/cases/$C1"
eq "p1's view still shows received (in_review is for reviewers)" "200 received" "$CODE $(jget "$BODY" .status)"
refer p2 r2 'subjects:[{handle:"cache_acct_one"}]'
expect "p2 refers the same account -> 201" 201
req rev GET "/v1/cases/$C1"
eq "the reviewer's next read counts p2's referral" 2 "$(jeval "$BODY" '(j.referrals||[]).length')"
M1=$(from_memory)
req rev GET "/v1/cases/$C1"
eq "unchanged again: from memory" $((M1 + 1)) "$(from_memory)"
post_json rev "/v1/cases/$C1/decision" '{"status":"no_action","ground":"terms_of_service","explanation":"No violation."}'
expect "the reviewer decides no_action -> 200" 200
req p1 GET "/v1/cases/$C1" -H "If-None-Match: $E1"
eq "p1's next read, with its old ETag: 200 no_action" "200 no_action" "$CODE $(jget "$BODY" .status)"
ne "... and a new ETag" "$E1" "$(hdr ETag)"

# ---- revocation through the cache ----------------------------------------------------
refer ag1 r3 'subjects:[{handle:"@Cache_Acct_Three"}]'
expect "ag1's referral -> 201" 201
C3=$(jget "$T/r3.answer" '.cases[0].case_id')
post_json legal $KP "{\"principal\":\"ag1\",\"tier\":\"status\",\"cases\":[\"$C1\"],\"legal_basis\":\"cache test\",\"expires_at\":\"$(exp_at 3600)\"}"
expect "a status key for C1 -> 201" 201
KID=$(jget "$BODY" .id); KS=$(jget "$BODY" .secret)
req ag1 GET "/v1/cases/$C1" -H "Authorization: Bearer $KS"; expect "ag1 reads C1 with its key -> 200" 200
M2=$(from_memory)
req ag1 GET "/v1/cases/$C1" -H "Authorization: Bearer $KS"; expect "again -> 200" 200
eq "... from memory" $((M2 + 1)) "$(from_memory)"
req legal DELETE "$KP/$KID"; expect "revoke the key -> 200" 200
req ag1 GET "/v1/cases/$C1" -H "Authorization: Bearer $KS"
expect_problem "the revoked key, its view in memory -> 401" 401 unauthenticated
req ag1 GET "/v1/cases/$C3"; expect "ag1 reads its own case -> 200" 200
req ag1 GET "/v1/cases/$C3"; expect "again -> 200 (in memory now)" 200
ctl revoke ag1; eq "refgatectl revoke ag1" 0 $?
req ag1 GET "/v1/cases/$C3"
expect_refused "the revoked principal, its view in memory -> refused"
req p1 GET "/v1/cases/$C1"; expect "another principal still reads (control) -> 200" 200

# ---- a disclosure key: audited per read, never from memory ----------------------------
post_json legal $KP "{\"principal\":\"ag2\",\"tier\":\"disclosure\",\"cases\":[\"$C1\"],\"legal_basis\":\"cache test order\",\"expires_at\":\"$(exp_at 3600)\"}"
expect "a disclosure key for ag2 -> 201" 201
DS=$(jget "$BODY" .secret)
N0=$(disclosures)
M3=$(from_memory)
req ag2 GET "/v1/cases/$C1" -H "Authorization: Bearer $DS"; expect "read with the disclosure key -> 200" 200
present "... disclosing the handle" handle
req ag2 GET "/v1/cases/$C1" -H "Authorization: Bearer $DS"; expect "again -> 200" 200
present "... disclosing the handle again" handle
eq "two disclosure audit records" $((N0 + 2)) "$(disclosures)"
eq "neither read came from memory" "$M3" "$(from_memory)"
finish
