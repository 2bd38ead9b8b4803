#!/usr/bin/env bash
# t_privacy: contract section 4, "Referrers learn nothing of each other".
# A differential test: partner `fresh` refers accounts no one else ever
# named; partner `stale` (same name length: receipts name the sender) runs the very same requests on accounts that
# others touched first: referred by another partner, ordered removed by an
# agency, taken into review by a reviewer, decided no_action, and linked
# by account id to another principal's older case. Everything each
# receives (status codes, header names and values, bodies, ETag
# behaviour, feed entries, cursors, request id format), with its own ids
# and times normalised (helpers/transcript.mjs), must be equal between
# the two worlds; and the first referrer's answers (case, ETag, feed,
# cursor) must not change through the stale one's referrals. The two
# paths' submission times are measured and printed (not asserted: tests
# check behaviour, the bench measures speed).
. "$(dirname "$0")/lib.sh"
rg_setup
for p in fresh stale other; do enrol "$p" partner || finish; done
enrol agent agency || finish
enrol rev reviewer || finish
TAG=$(rnd 8)

# rec WORLD LABEL: appends the last answer to the world's transcript:
# status, the header lines (Date dropped: the clock's), the body.
rec() {
	{
		printf '== %s\n%s\n' "$2" "$CODE"
		tr -d '\r' <"$HDR" | grep -v -i -e '^date:' -e '^HTTP/' -e '^$' | sort
		cat "$BODY"; printf '\n'
	} >>"$T/world-$1.txt"
}
# each world's submission times (curl's, seconds), for the report
TIMES_fresh=""; TIMES_stale=""

# ---- the others' history (only in the late world's accounts) ----------------
# account names: fresh_<i> for `fresh`, late_<i> for `stale`
L() { printf 'late_%s_%s' "$TAG" "$1"; }
F() { printf 'fresh_%s_%s' "$TAG" "$1"; }
refer other o1 "subjects:[{handle:\"$(L 1)\"}]"
expect "other refers late_1 first -> 201" 201
OC1=$(jget "$T/o1.answer" '.cases[0].case_id')
refer agent o2 "subjects:[{handle:\"$(L 2)\"}], removal_order:{reference:\"RO-$TAG\", issued_at:now, legal_basis:\"Regulation (EU) 2021/784, Art. 3\"}"
expect "an agency orders late_2 removed -> 201" 201
refer other o3 "subjects:[{handle:\"$(L 3)\"}], urgency:\"imminent_harm\""
expect "other refers late_3 -> 201" 201
post_json rev "/v1/cases/$(jget "$T/o3.answer" '.cases[0].case_id')/decision" '{"status":"in_review"}'
expect "a reviewer takes late_3 into review -> 200" 200
refer other o4 "subjects:[{handle:\"$(L 4)\"}]"
O4=$(jget "$T/o4.answer" '.cases[0].case_id')
post_json rev "/v1/cases/$O4/decision" '{"status":"in_review"}'
post_json rev "/v1/cases/$O4/decision" '{"status":"no_action","ground":"terms_of_service","explanation":"not a violation"}'
expect "late_4 decided no_action -> 200" 200
refer other o5 "subjects:[{account_id:\"9${TAG//[!0-9]/1}5\", handle:\"$(L 5o)\"}]"
expect "other refers an account by id and handle -> 201" 201
ID_LATE="9${TAG//[!0-9]/1}5"
ID_FRESH="8${TAG//[!0-9]/1}5"

# The first referrer's view of its case and feed, before the late one acts.
req other GET "/v1/cases/$OC1"; expect "other reads its case -> 200" 200
cp "$BODY" "$T/o-before.json"; O_ETAG=$(hdr etag)
req other GET "/v1/changes?limit=500"; expect "other reads its feed -> 200" 200
O_NEXT=$(jget "$BODY" .next)

# ---- the same requests in both worlds -----------------------------------------
# world W NAMEFN IDVALUE: the partner's requests, recorded.
world() {
	local w=$1 nm=$2 idv=$3 i c0 n
	req "$w" GET "/v1/changes"; rec "$w" "feed before"; c0=$(jget "$BODY" .next)
	for i in 1 2 3 4; do
		refer "$w" "$w-r$i" "subjects:[{handle:\"$($nm "$i")\"}]"
		rec "$w" "refer account $i"
		eval "TIMES_$w=\"\$TIMES_$w $SECS\""
	done
	# its own account first, then a subject linking it to an account id
	# that (in the late world) another principal's older case holds
	refer "$w" "$w-r5" "subjects:[{handle:\"$($nm 5)\"}]"; rec "$w" "refer account 5"
	refer "$w" "$w-r6" "subjects:[{handle:\"$($nm 5)\", account_id:\"$idv\"}]"; rec "$w" "link account 5 to an id"
	for i in 1 2 3 4 5 6; do
		local cid rid etag
		cid=$(jget "$T/$w-r$i.answer" '.cases[0].case_id')
		rid=$(jget "$T/$w-r$i.answer" .referral_id)
		req "$w" GET "/v1/cases/$cid"; rec "$w" "case $i"
		etag=$(hdr etag)
		req "$w" GET "/v1/cases/$cid" -H "If-None-Match: $etag"; rec "$w" "case $i if-none-match"
		req "$w" GET "/v1/referrals/$rid"; rec "$w" "referral $i"
	done
	req "$w" GET "/v1/partners/me/stats"; rec "$w" "statistics"
	req "$w" GET "/v1/changes?since=$c0&limit=3"; rec "$w" "feed page 1"
	n=$(jget "$BODY" .next)
	req "$w" GET "/v1/changes?since=$n"; rec "$w" "feed page 2"
	n=$(jget "$BODY" .next)
	req "$w" GET "/v1/changes?since=$n"; rec "$w" "feed after"
	# another principal's activity meanwhile must not move the cursor
	refer agent "noise-$w" "subjects:[{handle:\"$($nm 1)\"}]"
	req "$w" GET "/v1/changes?since=$n"; rec "$w" "feed after another's referral"
}

world fresh F "$ID_FRESH"
world stale L "$ID_LATE"

# ---- compare --------------------------------------------------------------------
node "$ITDIR/helpers/transcript.mjs" "$T/world-fresh.txt" >"$T/norm-fresh.txt"
node "$ITDIR/helpers/transcript.mjs" "$T/world-stale.txt" >"$T/norm-stale.txt"
check "transcripts recorded (30 answers each)" \
	test "$(grep -c '^== ' "$T/norm-fresh.txt")" = 30 -a "$(grep -c '^== ' "$T/norm-stale.txt")" = 30
# every section equal, one assertion each, so a failure names the request
while IFS= read -r label; do
	a=$(awk -v l="== $label" '$0==l{f=1;print;next} /^== /{f=0} f' "$T/norm-fresh.txt")
	b=$(awk -v l="== $label" '$0==l{f=1;print;next} /^== /{f=0} f' "$T/norm-stale.txt")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same answer in both worlds: $label"
	else notok "same answer in both worlds: $label" "$(diff <(echo "$a") <(echo "$b") | head -n 8 | tr '\n' ' ')"; fi
done < <(sed -n 's/^== //p' "$T/norm-fresh.txt")

# Times are the caller's own: stale's view of account 1 opened with its
# own referral (not other's, earlier), updated_at its own last referral.
req stale GET "/v1/cases/$(jget "$T/stale-r1.answer" '.cases[0].case_id')"
eq "stale's opened_at is its own first referral's received_at" \
	"$(jget "$T/stale-r1.answer" .received_at)" "$(jget "$BODY" .opened_at)"
eq "stale's updated_at is its own last referral's received_at" \
	"$(jget "$T/stale-r1.answer" .received_at)" "$(jget "$BODY" .updated_at)"
check "stale sees no deadline_at of the agency's removal order" \
	test -z "$(req stale GET "/v1/cases/$(jget "$T/stale-r2.answer" '.cases[0].case_id')"; [ "$CODE" = 200 ] || echo "HTTP $CODE"; jget "$BODY" .deadline_at)"

# The transcripts are not vacuous: they hold what the properties are about.
check "stale world: answers are 201s and 200s" grep -q '^201$' "$T/norm-stale.txt"
check "the ETag'd case answers 304 to If-None-Match" grep -q '^304$' "$T/norm-stale.txt"
check "feed entries were recorded" grep -q '"changes":\[{' "$T/norm-stale.txt"
check "request ids are random 96-bit values" grep -qi 'x-request-id: <random 96-bit id>' "$T/norm-stale.txt"
eq "stale's case of account 3 shows received (a reviewer has it in review)" received \
	"$(jget "$T/stale-r3.answer" '.cases[0].status')"
ne "stale's case of account 1 is not other's case id" "$OC1" "$(jget "$T/stale-r1.answer" '.cases[0].case_id')"
# the reviewer sees one case per account: the dedup still happened
req rev GET "/v1/cases/$(jget "$T/stale-r1.answer" '.cases[0].case_id')"
eq "reviewer: stale's id for account 1 resolves to other's case" "$OC1" "$(jget "$BODY" .case_id)"
eq "reviewer: that case has other's, stale's and the agency's referrals" 3 "$(jeval "$BODY" '(j.referrals||[]).length')"
req rev GET "/v1/cases/$(jget "$T/stale-r6.answer" '.cases[0].case_id')"
eq "reviewer: the linking referral merged into other's older case" \
	"$(jget "$T/o5.answer" '.cases[0].case_id')" "$(jget "$BODY" .case_id)"
req stale GET "/v1/cases/$OC1"
expect_problem "stale cannot read other's id for the same account -> 404" 404 not_found

# ---- the first referrer's answers did not change ---------------------------------
req other GET "/v1/cases/$OC1"
expect "other reads its case again -> 200" 200
check "other's case view unchanged by the stale referrals" cmp -s "$BODY" "$T/o-before.json"
eq "other's ETag unchanged" "$O_ETAG" "$(hdr etag)"
req other GET "/v1/cases/$OC1" -H "If-None-Match: $O_ETAG"
expect "other's If-None-Match still answers 304" 304
req other GET "/v1/changes?since=$O_NEXT&limit=500"
expect "other reads its feed again -> 200" 200
eq "other's feed: no entry from the others' referrals" 0 "$(jeval "$BODY" 'j.changes.length')"
eq "other's cursor unchanged" "$O_NEXT" "$(jget "$BODY" .next)"

# ---- timing (reported, not asserted) -----------------------------------------------
echo "# submit times (s), fresh accounts:$TIMES_fresh; accounts others referred:$TIMES_stale"
finish
