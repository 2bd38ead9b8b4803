#!/usr/bin/env bash
# t_retention: contract section 13, retention. Cases closed longer ago
# than retention_days lose their identifier index entries and their
# referrals' sealed content, unless a preservation hold (an actioned
# removal order) covers them; each erasure is audited; the case still
# answers; afterwards neither the database file nor its WAL holds the
# erased bytes. Time is driven without sleeping: with the gateway
# stopped, decision times are moved back in the database (sqlite3), as
# if the cases had been closed that long ago. The purge runs on
# `refgatectl purge` (through POST /v1/admin/purge) and by itself every
# retention_interval seconds.
. "$(dirname "$0")/lib.sh"
rg_setup_conf retention_interval 86400
enrol pave partner || finish
enrol agent agency || finish
enrol rev reviewer || finish

DAY=86400
DB=$(conf_path database)
decide() { post_json rev "/v1/cases/$1/decision" "$2"; }
close_case() {   # CASE STATUS: in_review, then actioned or no_action
	decide "$1" '{"status":"in_review"}'
	if [ "$2" = actioned ]; then
		decide "$1" '{"status":"actioned","action":"content_removed","ground":"illegal_content","explanation":"Terrorist propaganda video."}'
	else
		decide "$1" '{"status":"no_action","ground":"terms_of_service","explanation":"Not illegal."}'
	fi
	[ "$CODE" = 200 ] || notok "decision $2 on $1" "$(last)"
}
newcase() {   # WHO NAME HANDLE [MEMBERS]: sets CASE and REF
	refer "$1" "$2" "subjects:[{handle:\"$3\"}], summary:\"Summary of $3\", evidence:[{url:\"https://x.com/$3/status/1\", sha256:\"$(printf '%064d' 7)\", media_type:\"video/mp4\", captured_at:\"2026-11-01T10:00:00Z\"}]${4:+, $4}"
	[ "$CODE" = 201 ] || notok "referral $2" "$(last)"
	CASE=$(jget "$T/$2.answer" '.cases[0].case_id')
	REF=$(jget "$T/$2.answer" '.referral_id')
}
# What must disappear with a case: its index hash (hex), its sealed
# identifier, and a slice of its referral's ciphertext (after the nonce).
secrets_of() {   # CASE REFERRAL -> "HASH SEALED_IDENT REFERRAL_SLICE"
	dbq "SELECT hex(hash) || ' ' || hex(sealed) FROM case_idents WHERE case_id = '$1';" | head -n 1 | tr -d '\n'
	printf ' '
	dbq "SELECT hex(substr(sealed, 25, 48)) FROM referrals WHERE id = '$2';"
}
# in_wal HEX: "yes" when those bytes are in the WAL file.
in_wal() {
	python3 - "$DB-wal" "$1" <<'EOF'
import os, sys
p, needle = sys.argv[1], bytes.fromhex(sys.argv[2])
print("yes" if os.path.exists(p) and needle in open(p, "rb").read() else "no")
EOF
}
# on_disk HEX: "yes" when those bytes are in the database file or its WAL.
on_disk() {
	python3 - "$DB" "$1" <<'EOF'
import os, sys
db, needle = sys.argv[1], bytes.fromhex(sys.argv[2])
found = any(os.path.exists(p) and needle in open(p, "rb").read()
            for p in (db, db + "-wal", db + "-shm"))
print("yes" if found else "no")
EOF
}
H() { echo "Ret_$1_$TAG"; }
TAG=$(rnd 6)

# ---- the cases -------------------------------------------------------------------
newcase pave a "$(H a)"; A=$CASE; RA=$REF            # actioned long ago: erased
close_case "$A" actioned
newcase pave b "$(H b)"; B=$CASE; RB=$REF            # no_action, 100 days ago: kept
close_case "$B" no_action
newcase agent h "$(H h)" 'removal_order:{reference:"RO-'"$TAG"'", issued_at:now, legal_basis:"Regulation (EU) 2021/784, Art. 3"}'
HC=$CASE; RH=$REF                                    # actioned removal order: held
close_case "$HC" actioned
newcase pave o "$(H o)"; O=$CASE; RO=$REF            # never closed: kept
newcase pave c "$(H c)"; C=$CASE; RC=$REF            # for the periodic run
close_case "$C" actioned
newcase pave m "$(H m)"; M=$CASE; RM=$REF            # closed no_action, old: erased
close_case "$M" no_action
# one referral naming two accounts: X closed long ago, Y still open; the
# referral's content stays until both are erased
refer pave two "subjects:[{handle:\"$(H x)\"},{handle:\"$(H y)\"}], summary:\"Two accounts\""
[ "$CODE" = 201 ] || notok "referral two" "$(last)"
X=$(jget "$T/two.answer" '.cases[0].case_id'); Y=$(jget "$T/two.answer" '.cases[1].case_id'); RXY=$(jget "$T/two.answer" '.referral_id')
close_case "$X" actioned

eq "an actioned removal-order case is held for 183 days from its decision" 15811200 \
	"$(dbq "SELECT preserved_until - decided_at FROM cases WHERE id = '$HC';")"
eq "an actioned case without a removal order is not held" 0 \
	"$(dbq "SELECT preserved_until FROM cases WHERE id = '$A';")"

SA=$(secrets_of "$A" "$RA"); SB=$(secrets_of "$B" "$RB"); SH=$(secrets_of "$HC" "$RH")
SO=$(secrets_of "$O" "$RO"); SC=$(secrets_of "$C" "$RC"); SM=$(secrets_of "$M" "$RM")
SX=$(secrets_of "$X" "$RXY"); SY=$(secrets_of "$Y" "$RXY")
eq "each case has its index hash, sealed identifier and referral slice" "3 3 3 3 3 3 3 3" \
	"$(for s in "$SA" "$SB" "$SH" "$SO" "$SC" "$SM" "$SX" "$SY"; do set -- $s; printf '%s ' $#; done | sed 's/ $//')"

# ---- move time: closed 400 days ago (A, H, M), 100 days ago (B), O opened 400 days ago
rg_stop
sqlite3 "$DB" "UPDATE cases SET decided_at = decided_at - 400*$DAY, opened_at = opened_at - 400*$DAY WHERE id IN ('$A', '$HC', '$M', '$X');
UPDATE cases SET decided_at = decided_at - 100*$DAY WHERE id = '$B';
UPDATE cases SET opened_at = opened_at - 400*$DAY, updated_at = updated_at - 400*$DAY WHERE id = '$O';" \
	|| notok "moving decision times back"
for s in $SA; do eq "before the purge, A's bytes are in the database file (control)" yes "$(on_disk "$s")"; done
rg_start || finish
# A new referral rewrites the pages holding A's rows: the WAL now holds
# copies of A's bytes too, which the purge must not leave behind.
newcase pave f "$(H f)"
set -- $SA
eq "before the purge, the WAL holds copies of A's index hash and referral content (control)" "yes yes" \
	"$(in_wal "$1") $(in_wal "$3")"

# ---- refgatectl purge ------------------------------------------------------------
if ctl purge; then ok "refgatectl purge"; else notok "refgatectl purge" "$(cat "$T/ctl.out")"; fi
eq "purge erased A, M and X (3 cases, 2 referrals, 3 identifiers), left H held, compacted the file" \
	"3 2 3 1 true 365" \
	"$(jeval "$T/ctl.out" '[j.cases,j.referrals,j.identifiers,j.held,j.compacted,j.retention_days].join(" ")')"
for s in $SA; do eq "after the purge, A's bytes are in neither the file nor its WAL" no "$(on_disk "$s")"; done
for s in $SM; do eq "after the purge, M's bytes are in neither the file nor its WAL" no "$(on_disk "$s")"; done
set -- $SX
eq "X's index hash and sealed identifier are gone" "no no" "$(on_disk "$1") $(on_disk "$2")"
eq "the referral naming X and the open Y keeps its content" yes "$(on_disk "$3")"
eq "the referral naming X and Y is not marked erased" "0" "$(dbq "SELECT purged_at FROM referrals WHERE id = '$RXY';")"
set -- $SY
eq "Y (open) keeps its index hash and sealed identifier" "yes yes" "$(on_disk "$1") $(on_disk "$2")"
for s in $SB; do eq "B (closed 100 days ago) keeps its bytes" yes "$(on_disk "$s")"; done
for s in $SH; do eq "H (under a preservation hold) keeps its bytes" yes "$(on_disk "$s")"; done
for s in $SO; do eq "O (never closed) keeps its bytes" yes "$(on_disk "$s")"; done
eq "A has no identifier rows left anywhere" "0 0 0" \
	"$(dbq "SELECT (SELECT COUNT(*) FROM case_idents WHERE case_id = '$A') || ' ' || (SELECT COUNT(*) FROM referral_idents WHERE referral_id = '$RA') || ' ' || (SELECT COUNT(*) FROM referrer_idents WHERE alias = '$A');")"
eq "A's referral content is empty and marked erased" "0 1" \
	"$(dbq "SELECT length(sealed) || ' ' || (purged_at > 0) FROM referrals WHERE id = '$RA';")"

# the case still answers
req pave GET "/v1/cases/$A"
eq "the purged case still answers its referrer: status and action" "200 actioned content_removed" "$CODE $(jeval "$BODY" 'j.status+" "+j.action')"
req pave GET "/v1/referrals/$RA"
expect "the purged case's referral still answers its sender" 200
req rev GET "/v1/cases/$A"
eq "the reviewer still sees the case and its decision, without content or identifiers" \
	"200 actioned Terrorist propaganda video. no" \
	"$CODE $(jeval "$BODY" 'j.status+" "+(j.decisions||[]).slice(-1)[0].explanation+" "+(JSON.stringify(j).includes("Summary of")?"yes":"no")')"
req rev GET "/v1/cases/$B"
eq "the reviewer still sees B's content (control)" "200 yes" \
	"$CODE $(jeval "$BODY" 'JSON.stringify(j).includes("Summary of '"$(H b)"'")?"yes":"no"')"

# the audit log
req legal GET '/v1/admin/audit?limit=1000'
# (cases closed in the same second are purged in the order of their
# random ids: compared as sets)
eq "one purge record per erased case, by the legal principal, ids and counts only" \
	"$(printf '%s\n' "$A:legal:1:1" "$M:legal:1:1" "$X:legal:1:0" | sort | paste -sd ' ' -)" \
	"$(jeval "$BODY" 'j.records.filter(r=>r.kind==="purge").map(r=>r.object+":"+r.actor+":"+r.detail.identifiers+":"+r.detail.referrals).join("\n")' | sort | paste -sd ' ' -)"
eq "each purge record's closed_at is RFC 3339 (one time format in the audit log)" true \
	"$(jeval "$BODY" '(l=>l.length>0&&l.every(r=>/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(r.detail.closed_at)))(j.records.filter(r=>r.kind==="purge"))')"
eq "no purge record names an identifier" no \
	"$(jeval "$BODY" 'JSON.stringify(j.records.filter(r=>r.kind==="purge")).includes("Ret_")?"yes":"no"')"

# a second purge finds nothing more
ctl purge
eq "a second purge erases nothing" "0 1" "$(jeval "$T/ctl.out" 'j.cases+" "+j.held')"

# the same account referred again opens a new case (its index entry is gone)
newcase pave a2 "$(H a)"
ne "a new referral of A's account opens a new case" "$A" "$CASE"

# roles
req pave POST /v1/admin/purge
expect_problem "a partner may not purge: 403 forbidden" 403 forbidden
req rev POST /v1/admin/purge
expect_problem "a reviewer may not purge: 403 forbidden" 403 forbidden
req legal GET /v1/admin/purge
expect_problem "GET /v1/admin/purge: 405" 405 method_not_allowed

# ---- the periodic purge ------------------------------------------------------------
for s in $SC; do eq "before the periodic run, C's bytes are on disk (control)" yes "$(on_disk "$s")"; done
close_case "$Y" no_action
rg_stop
sqlite3 "$DB" "UPDATE cases SET decided_at = decided_at - 400*$DAY WHERE id IN ('$C', '$Y');" || notok "moving C and Y back"
conf_set retention_interval 1
rg_start || finish
got=""
for i in $(seq 300); do
	req legal GET '/v1/admin/audit?limit=1000'
	got=$(jeval "$BODY" 'j.records.filter(r=>r.kind==="purge"&&r.object==="'"$C"'").map(r=>r.actor).join(",")')
	[ -n "$got" ] && break
	sleep 0.1
done
eq "the gateway purged C by itself, audited as refgate-retention" refgate-retention "$got"
for i in $(seq 100); do [ "$(on_disk "${SC%% *}")" = no ] && break; sleep 0.1; done
for s in $SC; do eq "after the periodic run, C's bytes are gone from the file and the WAL" no "$(on_disk "$s")"; done
for s in $SY; do eq "Y erased: its identifiers and now the two-account referral's content are gone" no "$(on_disk "$s")"; done
for s in $SH; do eq "H is still held after the periodic runs" yes "$(on_disk "$s")"; done

# ---- limits ----------------------------------------------------------------------
rg_stop
conf_set retention_days 29
"$BIN/refgate" -c "$D/refgate.conf" >"$T/bad.log" 2>&1 &
bp=$!; for i in $(seq 100); do kill -0 "$bp" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$bp" 2>/dev/null; then kill "$bp"; wait "$bp"; notok "retention_days 29 is refused at start" "the daemon runs"
else wait "$bp"; rc=$?
	if [ "$rc" != 0 ] && grep -q 'retention_days' "$T/bad.log"; then ok "retention_days 29 is refused at start, naming the key"
	else notok "retention_days 29 is refused at start" "exit $rc: $(tail -n 2 "$T/bad.log")"; fi
fi
conf_set retention_days 30
rg_start && ok "retention_days 30 is accepted (control)"
finish
