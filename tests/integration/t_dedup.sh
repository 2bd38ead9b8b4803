#!/usr/bin/env bash
# t_dedup: normalisation and deduplication of contract section 2: one case
# per account across partners, handles and URLs; merging of cases linked by
# one subject; no_action cases reopened; actioned cases left alone. Each
# partner sees a case under its own id (section 4): that two answers name
# one case is checked through the reviewer, who sees the live case.
. "$(dirname "$0")/lib.sh"
rg_setup
enrol pave partner || finish
enrol lodi partner || finish
enrol rev reviewer || finish

case_of() { jget "$1" '.cases['"${2:-0}"'].case_id'; }
new_case_of() { jget "$1" '.cases['"${2:-0}"'].new_case'; }
# live_of ID: the live case an id resolves to, as the reviewer sees it.
live_of() { req rev GET "/v1/cases/$1"; [ "$CODE" = 200 ] && jget "$BODY" .case_id; }
decide() {   # CASE JSON: reviewer decision, sets CODE
	post_json rev "/v1/cases/$1/decision" "$2"
}

# ---- two partners, one account by handle -------------------------------------
refer pave h1 'subjects:[{handle:"@Dedup_Foo"}]'
expect "partner A refers @Dedup_Foo -> 201" 201
refer lodi h2 'subjects:[{handle:"dedup_FOO"}]'
expect "partner B refers dedup_FOO -> 201" 201
C1=$(case_of "$T/h1.answer"); C2=$(case_of "$T/h2.answer")
ne "first answer has a case id" "" "$C1"
ne "partner B is given its own id for the case" "$C1" "$C2"
eq "same account by handle (case, @) -> same case" "$C1" "$(live_of "$C2")"
case $(new_case_of "$T/h1.answer") in true|"") ok "first referral: new_case true (or not disclosed)" ;;
	*) notok "first referral: new_case true (or not disclosed)" "$(new_case_of "$T/h1.answer")" ;; esac
case $(new_case_of "$T/h2.answer") in false|"") ok "second referral: new_case not true" ;;
	*) notok "second referral: new_case not true" "$(new_case_of "$T/h2.answer")" ;; esac
refer lodi h3 'subjects:[{handle:"dedup_foo2"}]'
expect "another account -> 201" 201
ne "another account -> another case (control)" "$C1" "$(case_of "$T/h3.answer")"
req lodi GET "/v1/cases/$C1"
expect_problem "partner B cannot read partner A's id for it -> 404" 404 not_found
req lodi GET "/v1/cases/$C2"
expect "partner B reads the shared case under its own id -> 200" 200
eq "the shared case shows partner B only its own referral" "$(jget "$T/h2.answer" .referral_id)" \
	"$(jeval "$BODY" '(j.referrals||[]).map(r=>r.referral_id).join(",")')"
absent "partner B sees no counts or identifiers" principal_count referral_count handle account_id identifiers
eq "partner B does not see partner A's name (200 checked above)" "200 " \
	"$CODE $(jeval "$BODY" 'JSON.stringify(j).includes("pave") ? "pave" : ""')"

# ---- by URL --------------------------------------------------------------------
refer pave u1 'subjects:[{handle:"UrlFoo"}]'
expect "partner A refers UrlFoo -> 201" 201
refer lodi u2 'subjects:[{url:"https://www.twitter.com/UrlFoo/status/123?s=20"}]'
expect "partner B refers https://www.twitter.com/UrlFoo/status/123?s=20 -> 201" 201
eq "status URL on www.twitter.com -> the handle's case" "$(case_of "$T/u1.answer")" "$(live_of "$(case_of "$T/u2.answer")")"
refer lodi u3 'subjects:[{url:"HTTPS://Mobile.X.com/urlfoo#frag"}]'
expect "https://mobile.x.com profile URL -> 201" 201
eq "profile URL on mobile.x.com -> the same case" "$(case_of "$T/u1.answer")" "$(live_of "$(case_of "$T/u3.answer")")"
eq "partner B names it by URL twice: one id of its own" "$(case_of "$T/u2.answer")" "$(case_of "$T/u3.answer")"
refer pave i1 'subjects:[{account_id:"000424242"}]'
refer lodi i2 'subjects:[{url:"https://x.com/i/user/424242"}]'
eq "account_id with leading zeros and /i/user/<id> -> same case" "$(case_of "$T/i1.answer")" "$(live_of "$(case_of "$T/i2.answer")")"
refer lodi i3 'subjects:[{account_id:"4242420"}]'
ne "a different account_id -> another case (control)" "$(case_of "$T/i1.answer")" "$(live_of "$(case_of "$T/i3.answer")")"

# ---- two subjects of one referral naming the same account ----------------------
refer pave two 'subjects:[{handle:"twin_acct"},{handle:"@TWIN_ACCT"}]'
expect "two subjects naming one account -> 201" 201
eq "both subjects -> the same case" "$(case_of "$T/two.answer" 0)" "$(case_of "$T/two.answer" 1)"

# ---- merge ------------------------------------------------------------------------
refer pave m1 'subjects:[{account_id:"777000111"}]'
expect "case by account_id -> 201" 201
sleep 1
refer lodi m2 'subjects:[{handle:"merge_me"}]'
expect "case by handle -> 201" 201
M1=$(case_of "$T/m1.answer"); M2=$(case_of "$T/m2.answer")
ne "two separate cases before the link" "$M1" "$M2"
refer lodi m3 'subjects:[{account_id:"777000111", handle:"Merge_Me"}]'
expect "subject with account_id + handle linking both -> 201" 201
eq "linking referral: partner B keeps its own id" "$M2" "$(case_of "$T/m3.answer")"
eq "linking referral joins the older case" "$M1" "$(live_of "$M2")"
req rev GET "/v1/cases/$M2"
expect "GET the merged-away id -> 200" 200
eq "merged-away id resolves to the survivor (case_id = older id)" "$M1" "$(jget "$BODY" .case_id)"
req rev GET "/v1/cases/$M1"
eq "survivor holds the three referrals" 3 "$(jeval "$BODY" '(j.referrals||[]).length')"
req lodi GET "/v1/referrals/$(jget "$T/m2.answer" .referral_id)"
expect "partner B's first referral still readable -> 200" 200
eq "its case keeps the id partner B was given" "$M2" "$(jget "$BODY" '.cases[0].case_id')"
req lodi GET "/v1/cases/$M2"
expect "partner B reads its id after the merge -> 200" 200
eq "partner B's view keeps its id" "$M2" "$(jget "$BODY" .case_id)"
eq "partner B's view lists its two referrals" 2 "$(jeval "$BODY" '(j.referrals||[]).length')"

# ---- no_action reopened ------------------------------------------------------------
refer pave n1 'subjects:[{handle:"reopen_me"}]'
N1=$(case_of "$T/n1.answer")
decide "$N1" '{"status":"in_review"}'; expect "in_review -> 200" 200
decide "$N1" '{"status":"no_action","ground":"terms_of_service","explanation":"Satire, no violation."}'
expect "no_action -> 200" 200
req pave GET "/v1/cases/$N1"
eq "case is no_action" no_action "$(jget "$BODY" .status)"
refer lodi n2 'subjects:[{url:"https://twitter.com/Reopen_Me"}]'
expect "new referral of the no_action account -> 201" 201
eq "it joins the closed case" "$N1" "$(live_of "$(case_of "$T/n2.answer")")"
eq "answer shows status received" received "$(jget "$T/n2.answer" '.cases[0].status')"
req rev GET "/v1/cases/$N1"
eq "case reopened: status received" received "$(jget "$BODY" .status)"
eq "reopen_count kept: 1" 1 "$(jget "$BODY" .reopen_count)"
req pave GET "/v1/cases/$N1"
eq "partner A still sees its decision: the reopening is partner B's" no_action "$(jget "$BODY" .status)"

# ---- actioned stays actioned ----------------------------------------------------------
refer pave a1 'subjects:[{handle:"done_deal"}]'
A1=$(case_of "$T/a1.answer")
decide "$A1" '{"status":"in_review"}'
decide "$A1" '{"status":"actioned","action":"account_suspended","ground":"illegal_content","explanation":"Terrorist content."}'
expect "actioned -> 200" 200
refer lodi a2 'subjects:[{handle:"DONE_DEAL"}]'
expect "new referral of the actioned account -> 201" 201
eq "it joins the actioned case" "$A1" "$(live_of "$(case_of "$T/a2.answer")")"
eq "answer shows status actioned" actioned "$(jget "$T/a2.answer" '.cases[0].status')"
req rev GET "/v1/cases/$A1"
eq "case still actioned, action kept" "actioned account_suspended" "$(jeval "$BODY" 'j.status+" "+j.action')"
eq "the referral is recorded on it" 2 "$(jeval "$BODY" '(j.referrals||[]).length')"

finish
