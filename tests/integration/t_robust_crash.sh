#!/usr/bin/env bash
# t_robust_crash: crash consistency under sustained load. Four partners
# submit referrals steadily, 12 a second each, on keep-alive connections
# (shared subjects: dedup and merges; a request cut off by a kill is
# resent byte for byte until answered) while
# the daemon is killed with SIGKILL at random moments, ROUNDS times, and
# restarted. After every restart: each referral answered 200/201 so far is
# in the database with its jti and principal, the ones answered since the
# last check are readable over HTTP, and the database holds together
# (integrity_check; no referral without all its subjects and their cases;
# no case without an identifier, a referral and the audit record that
# opened it; every identifier, alias and change on a live case; every
# referral with exactly its audit record; the audit chain linked). At the
# end, everything answered is read back and the audit chain is verified
# with `refgatectl audit verify` when that command exists (SKIP otherwise).
. "$(dirname "$0")/lib.sh"
ROUNDS=${RG_CRASH_ROUNDS:-24}
CLIENTS=4
rg_setup_conf rate_limit_rps 0
for i in $(seq $CLIENTS); do enrol "ld$i" partner || finish; done
DB=$(conf_path database)
[ -f "$DB" ] || { notok "database found through refgate.conf" "database = '$DB'"; finish; }

OUT=$T/attempts; STOP=$T/stop; : >"$OUT"
node "$ITDIR/helpers/load.mjs" submit --port "$PORT" --out "$OUT" --stop "$STOP" --rate 12 --max-s 200 \
	$(for i in $(seq $CLIENTS); do echo "$T/p/ld$i"; done) 2>"$T/load.log" &
LOADPID=$!; BGPIDS="$BGPIDS $LOADPID"

# The invariants, one name|value line each, read in one snapshot.
cat >"$T/inv.sql" <<'SQL'
BEGIN;
SELECT 'integrity_check', (SELECT group_concat(integrity_check, ';') FROM pragma_integrity_check());
SELECT 'referral_without_all_its_subjects', count(*) FROM referrals r
 WHERE r.n_subjects != (SELECT count(*) FROM referral_subjects s WHERE s.referral_id = r.id);
SELECT 'subject_without_referral', count(*) FROM referral_subjects WHERE referral_id NOT IN (SELECT id FROM referrals);
SELECT 'subject_on_missing_case', count(*) FROM referral_subjects WHERE case_id NOT IN (SELECT id FROM cases);
SELECT 'ident_on_missing_case', count(*) FROM case_idents WHERE case_id NOT IN (SELECT id FROM cases);
SELECT 'case_without_ident', count(*) FROM cases WHERE id NOT IN (SELECT case_id FROM case_idents);
SELECT 'case_without_referral', count(*) FROM cases WHERE id NOT IN (SELECT case_id FROM referral_subjects);
SELECT 'alias_to_missing_case', count(*) FROM case_aliases WHERE case_id NOT IN (SELECT id FROM cases);
SELECT 'change_on_missing_case', count(*) FROM changes WHERE case_id NOT IN (SELECT id FROM cases);
SELECT 'referral_without_audit', count(*) FROM referrals WHERE id NOT IN (SELECT object FROM audit WHERE kind = 'referral');
SELECT 'referral_with_several_audits', count(*) FROM (SELECT object FROM audit WHERE kind = 'referral' GROUP BY object HAVING count(*) > 1);
SELECT 'audit_without_referral', count(*) FROM audit WHERE kind = 'referral' AND object NOT IN (SELECT id FROM referrals);
SELECT 'case_without_opening_audit', count(*) FROM cases WHERE id NOT IN
 (SELECT j.value FROM audit a, json_each(a.detail, '$.opened') j WHERE a.kind = 'referral');
SELECT 'audit_chain_link_broken', count(*) FROM audit a JOIN audit b ON b.seq = a.seq - 1 WHERE a.prev_hash != b.hash;
SELECT 'audit_seq_gap', (SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM audit) - (SELECT count(*) FROM audit);
COMMIT;
SQL
# invariants ROUND: one check.
invariants() {
	local out bad
	out=$(dbq ".read $T/inv.sql")
	bad=$(echo "$out" | awk -F'|' '($1 == "integrity_check" && $2 != "ok") || ($1 != "integrity_check" && $2 != "0")')
	if [ -n "$out" ] && [ -z "$bad" ] && [ "$(echo "$out" | wc -l)" = 15 ]; then
		ok "$1: database invariants hold ($(dbq 'SELECT count(*) FROM referrals') referrals, $(dbq 'SELECT count(*) FROM cases') cases)"
	else
		notok "$1: database invariants hold" "$(echo "${bad:-$out}" | tr '\n' ' ' | head -c 400)"
	fi
}

# answered N: the referrals answered 200/201 in the first N attempt lines
# ("who rid jti").
answered() { head -n "$1" "$OUT" | awk '($2 == "200" || $2 == "201") && $3 != "-" {print $1, $3, $4}'; }

# in_db ROUND N: every referral answered 2xx (first N attempt lines) is in
# the database, with its jti and principal.
in_db() {
	local n_ok
	answered "$2" | sort -u -k2,2 >"$T/ans"
	n_ok=$(wc -l <"$T/ans")
	if [ "$n_ok" = 0 ]; then ok "$1: no referral answered yet"; return; fi
	{
		echo "WITH v(who, id, jti) AS (VALUES"
		awk '{printf "%s(\x27%s\x27,\x27%s\x27,\x27%s\x27)", (NR > 1 ? ",\n" : ""), $1, $2, $3}' "$T/ans"
		echo ") SELECT v.id FROM v LEFT JOIN referrals r ON r.id = v.id"
		echo " WHERE r.id IS NULL OR r.jti != v.jti OR r.principal != v.who;"
	} >"$T/ans.sql"
	local lost; lost=$(dbq ".read $T/ans.sql")
	if [ -z "$lost" ]; then ok "$1: all $n_ok referrals answered 200/201 are in the database"
	else notok "$1: all $n_ok referrals answered 200/201 are in the database" "lost: $(echo "$lost" | head -n 5 | tr '\n' ' ')"; fi
}

# readable ROUND FROM TO: the referrals answered in attempt lines FROM..TO
# are readable over HTTP by their submitter.
readable() {
	head -n "$3" "$OUT" | tail -n +"$2" | awk '($2 == "200" || $2 == "201") && $3 != "-" {print $1, $3}' | sort -u >"$T/ids"
	local n; n=$(wc -l <"$T/ids")
	[ "$n" -gt 0 ] || { ok "$1: no new referral to read back"; return; }
	timeout 90 node "$ITDIR/helpers/load.mjs" verify --port "$PORT" --ids "$T/ids" $(for i in $(seq $CLIENTS); do echo "$T/p/ld$i"; done) >"$T/verify.out" 2>&1
	if grep -q "^checked $n failed 0$" "$T/verify.out"; then ok "$1: the $n referrals answered since the last check are readable"
	else notok "$1: the $n referrals answered since the last check are readable" "$(tr '\n' ' ' <"$T/verify.out" | head -c 400)"; fi
}

# Wait for the load to start.
for _ in $(seq 200); do [ "$(grep -c ' 201 ' "$OUT")" -ge 5 ] && break; sleep 0.05; done
checked=0            # attempt lines whose answers were read back
busy_rounds=0        # rounds in which referrals were answered between start and kill
cut_rounds=0         # rounds in which the kill cut requests off (000)
kills=0
for r in $(seq "$ROUNDS"); do
	if [ "$SECONDS" -gt 170 ]; then notok "$ROUNDS kill rounds within 170 s" "only $kills done"; break; fi
	before=$(wc -l <"$OUT")
	# a random moment: 0.15 s to 1.65 s of load
	sleep "$(awk -v x=$RANDOM 'BEGIN {printf "%.3f", 0.15 + (x % 1500) / 1000}')"
	kill -0 "$LOADPID" 2>/dev/null || { notok "round $r: load generator still running" "$(tail -n 3 "$T/load.log" | tr '\n' ' ')"; break; }
	rg_kill9
	kills=$((kills + 1))
	sleep 0.3
	n=$(wc -l <"$OUT")
	head -n "$n" "$OUT" | tail -n +"$((before + 1))" | awk '$2 == "201" {a = 1} END {exit !a}' && busy_rounds=$((busy_rounds + 1))
	rg_start || finish
	# attempts answered 000 around the kill (the retry lines come later)
	nn=$(wc -l <"$OUT")
	head -n "$nn" "$OUT" | tail -n +"$((before + 1))" | awk '$2 == "000" {a = 1} END {exit !a}' && cut_rounds=$((cut_rounds + 1))
	invariants "round $r"
	in_db "round $r" "$n"
	readable "round $r" "$((checked + 1))" "$n"
	checked=$n
done

touch "$STOP"
for _ in $(seq 300); do kill -0 "$LOADPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$LOADPID" 2>/dev/null; then notok "load generator stops when asked"; kill "$LOADPID"; fi
wait "$LOADPID" 2>/dev/null

# ---- totals ------------------------------------------------------------------
total=$(wc -l <"$OUT")
n201=$(awk '$2 == "201"' "$OUT" | wc -l)
n200=$(awk '$2 == "200"' "$OUT" | wc -l)
n000=$(awk '$2 == "000"' "$OUT" | wc -l)
nodd=$(awk '$2 != "201" && $2 != "200" && $2 != "000"' "$OUT" | wc -l)
echo "# $kills kills; $total attempts: $n201 answered 201, $n200 answered 200 (replays of a request cut off by a kill), $n000 without an answer, $nodd other"
echo "# rounds with referrals answered before the kill: $busy_rounds; rounds with requests left without an answer (cut off or sent while down): $cut_rounds"
if [ "$n201" -ge $((ROUNDS * 2)) ]; then ok "sustained load: $n201 referrals answered 201 across $kills kills"
else notok "sustained load" "only $n201 referrals answered 201"; fi
if [ "$busy_rounds" -ge $((ROUNDS / 2)) ]; then ok "kills landed under load ($busy_rounds of $kills rounds)"
else notok "kills landed under load" "only $busy_rounds of $kills rounds"; fi
eq "no answer other than 200, 201 or none" 0 "$nodd"
[ "$nodd" -gt 0 ] && awk '$2 != "201" && $2 != "200" && $2 != "000"' "$OUT" | head -n 3 | sed 's/^/# /'
# A JWS resent after a kill is answered with one referral id only.
split=$(awk '($2 == "200" || $2 == "201") && $3 != "-" {k = $1 " " $4; if (k in id && id[k] != $3) n++; id[k] = $3} END {print n + 0}' "$OUT")
eq "every resent JWS answered with the referral id of its first answer" 0 "$split"
# Every jti is recorded at most once per principal (UNIQUE), and every
# retried request whose final attempt was answered is recorded.
unans=$(awk '{last[$1 " " $4] = $2} END {for (k in last) if (last[k] == "000") n++; print n + 0}' "$OUT")
echo "# requests never answered (stopped while the daemon was down): $unans"

# ---- the end: everything read back ---------------------------------------------
invariants "final"
in_db "final" "$total"
awk '($2 == "200" || $2 == "201") && $3 != "-" {print $1, $3}' "$OUT" | sort -u >"$T/ids"
nall=$(wc -l <"$T/ids")
timeout 90 node "$ITDIR/helpers/load.mjs" verify --port "$PORT" --ids "$T/ids" $(for i in $(seq $CLIENTS); do echo "$T/p/ld$i"; done) >"$T/verify.out" 2>&1
if grep -q "^checked $nall failed 0$" "$T/verify.out"; then ok "final: all $nall answered referrals readable over HTTP"
else notok "final: all $nall answered referrals readable over HTTP" "$(tr '\n' ' ' <"$T/verify.out" | head -c 400)"; fi
# A new referral after all this: the gateway still works (control).
refer ld1 after
expect "a new referral after $kills crashes -> 201" 201

if "$BIN/refgatectl" help 2>&1 | grep -qw audit; then
	if ctl audit verify; then ok "refgatectl audit verify: the audit chain verifies after $kills crashes"
	else notok "refgatectl audit verify" "$(tail -n 3 "$T/ctl.out" | tr '\n' ' ')"; fi
	# Control: the same command on a copy with one audit row altered fails.
	sqlite3 -readonly "$DB" ".backup '$T/tampered.db'" >"$T/tamper.log" 2>&1
	sqlite3 "$T/tampered.db" "DROP TRIGGER audit_no_update;
		UPDATE audit SET detail = detail || ' ' WHERE seq = (SELECT max(seq) / 2 FROM audit);" >>"$T/tamper.log" 2>&1
	sed "s|^database *=.*|database = $T/tampered.db|" "$D/refgate.conf" >"$D/tampered.conf"
	if "$BIN/refgatectl" -c "$D/tampered.conf" audit verify >"$T/tamper.out" 2>&1; then
		notok "refgatectl audit verify fails on a copy with one audit row altered (control)" "$(tail -n 2 "$T/tamper.out" | tr '\n' ' ')"
	else ok "refgatectl audit verify fails on a copy with one audit row altered (control): $(tail -n 1 "$T/tamper.out" | head -c 120)"; fi
else
	notok "refgatectl audit verify" "refgatectl help lists no audit command yet; only the chain links were checked in SQL"
fi

finish
