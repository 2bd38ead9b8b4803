#!/usr/bin/env bash
# t_audit: the audit log (contract section 6): every state change and
# disclosure recorded; GET /v1/admin/audit pages with its cursor and is the
# legal team's only; `refgatectl audit verify` passes on a clean chain and,
# on copies of the stopped deployment where an attacker with file access
# dropped the append-only triggers, names the first bad record of an
# edited, a deleted and a reordered record (and catches a cut tail and a
# rehashed chain through the signed heads).
. "$(dirname "$0")/lib.sh"
rg_setup_conf audit_sign_interval 1
enrol p1 partner || finish
enrol ag1 agency || finish
enrol rev reviewer || finish
enrol gone partner || finish

case_of() { jget "$T/$1.answer" '.cases[0].case_id'; }
exp_at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

# ---- activity: every kind of state change ----------------------------------------
refer p1 r1 'subjects:[{handle:"audit_one"}]'; C1=$(case_of r1)
refer ag1 r2 'subjects:[{handle:"audit_two"}]'; C2=$(case_of r2)
refer p1 r3 'subjects:[{handle:"audit_one"}]'
post_json rev "/v1/cases/$C1/decision" '{"status":"in_review"}'
post_json rev "/v1/cases/$C1/decision" '{"status":"actioned","action":"content_restricted","ground":"terms_of_service","explanation":"Restricted."}'
expect "activity: decision -> 200" 200
post_json legal /v1/admin/access-keys "{\"principal\":\"ag1\",\"tier\":\"disclosure\",\"cases\":[\"$C1\"],\"legal_basis\":\"Order 1\",\"expires_at\":\"$(exp_at 86400)\"}"
expect "activity: key issued -> 201" 201
KID=$(jget "$BODY" .id); SEC=$(jget "$BODY" .secret)
req ag1 GET "/v1/cases/$C1" -H "Authorization: Bearer $SEC"
expect "activity: disclosure -> 200" 200
req legal DELETE "/v1/admin/access-keys/$KID"; expect "activity: key revoked -> 200" 200
ctl revoke gone; eq "activity: principal revoked" 0 $?

# ---- GET /v1/admin/audit -----------------------------------------------------------------
req legal GET '/v1/admin/audit?limit=1000'
expect "legal reads the audit log -> 200" 200
ne "the answer carries an ETag" "" "$(hdr ETag)"
cp "$BODY" "$T/all.json"
N=$(jeval "$T/all.json" 'j.records.length')
eq "records numbered 1..N without gaps" true "$(jeval "$T/all.json" 'j.records.every((r,i)=>r.seq===i+1)')"
eq "each record chained to the previous one's hash (zeros before the first)" true \
	"$(jeval "$T/all.json" 'j.records.every((r,i)=>r.prev_hash===(i?j.records[i-1].hash:"0".repeat(64)) && /^[0-9a-f]{64}$/.test(r.hash))')"
eq "each record has seq, at, actor, kind, object, detail" true \
	"$(jeval "$T/all.json" 'j.records.every(r=>["seq","at","actor","kind","object","detail"].every(k=>k in r))')"
for k in enrol referral decision key_issue disclosure key_revoke revoke; do
	eq "a \"$k\" record is there" true "$(jeval "$T/all.json" 'j.records.some(r=>r.kind==="'"$k"'")')"
done
eq "the disclosure record names the key, the case and the legal basis" "$KID $C1 Order 1" \
	"$(jeval "$T/all.json" '(r=>r?[r.detail.key,r.detail.case_id||r.object,r.detail.legal_basis].join(" "):"none")(j.records.find(r=>r.kind==="disclosure"))')"
# one time format: every time in a record (its "at" and every "*_at" of its
# detail, at any depth) is RFC 3339 UTC, never Unix seconds
eq "every time in every record is RFC 3339 (at, and each *_at of the details)" "" \
	"$(jeval "$T/all.json" '(()=>{const bad=[];const re=/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const walk=(o,where)=>{if(o&&typeof o==="object")for(const [k,v] of Object.entries(o)){
 if(/_at$/.test(k)&&!(typeof v==="string"&&re.test(v)))bad.push(where+"."+k+"="+JSON.stringify(v)); walk(v,where)}};
for(const r of j.records){ if(!re.test(r.at))bad.push(r.kind+".at"); walk(r.detail,r.kind)}
return bad.slice(0,3).join(" ")})()')"
eq "the key_issue record's expires_at is there" true \
	"$(jeval "$T/all.json" 'j.records.some(r=>r.kind==="key_issue"&&typeof r.detail.expires_at==="string")')"
eq "no record holds an account identifier in clear" "" "$(jeval "$T/all.json" 'JSON.stringify(j).match(/audit_one|audit_two/)||""')"

# paging with the cursor, 3 at a time
SEEN=; SINCE=; PAGES=0; OVER=0
for i in $(seq 200); do
	req legal GET "/v1/admin/audit?limit=3${SINCE:+&since=$(urlenc "$SINCE")}"
	[ "$CODE" = 200 ] || { notok "audit page $i -> 200" "$(last)"; break; }
	n=$(jeval "$BODY" 'j.records.length')
	[ "$n" -gt 3 ] && OVER=1
	[ "$n" = 0 ] && break
	PAGES=$((PAGES + 1))
	SEEN="$SEEN $(jeval "$BODY" 'j.records.map(r=>r.seq).join(" ")')"
	SINCE=$(jget "$BODY" .next)
done
eq "paging limit=3 with since=next visits 1..N once, in order" "$(seq -s ' ' 1 "$N")" "${SEEN# }"
eq "no page holds more than 3" 0 "$OVER"
eq "pages needed: ceil(N/3)" $(((N + 2) / 3)) "$PAGES"
eq "at the head: next unchanged" "$SINCE" "$(jget "$BODY" .next)"
refer p1 r4 ''
req legal GET "/v1/admin/audit?since=$(urlenc "$SINCE")"
eq "a new record appears after the head cursor" "$((N + 1)):referral" "$(jeval "$BODY" 'j.records.map(r=>r.seq+":"+r.kind).join(" ")')"
# the newest signed head, verifiable with the gateway's JWKS
sleep 1.5         # audit_sign_interval 1
req legal GET '/v1/admin/audit?limit=1000'; cp "$BODY" "$T/withhead.json"
req legal GET /v1/keys; cp "$BODY" "$T/jwks.json"
HV=$(node -e '
const fs=require("fs"),crypto=require("crypto");
const a=JSON.parse(fs.readFileSync(process.argv[1])),k=JSON.parse(fs.readFileSync(process.argv[2]));
const h=a.signed_head; if(!h){console.log("no signed_head");process.exit(0);}
const rec=a.records.find(r=>r.seq===h.seq);
const m=Buffer.alloc(22+8+8+32); m.write("refgate-audit-head:v1:",0,"ascii");
m.writeBigInt64BE(BigInt(h.seq),22); m.writeBigInt64BE(BigInt(Math.floor(Date.parse(h.at)/1000)),30);
Buffer.from(h.hash,"hex").copy(m,38);
const ok=k.keys.some(j=>{try{return crypto.verify(null,m,crypto.createPublicKey({key:{kty:j.kty,crv:j.crv,x:j.x},format:"jwk"}),Buffer.from(h.signature,"base64url"))}catch(e){return false}});
console.log([ok?"valid":"invalid", rec&&rec.hash===h.hash?"matches":"mismatch", h.seq>=1&&h.seq<=a.records.length?"in-range":"out-of-range"].join(" "));' -- "$T/withhead.json" "$T/jwks.json" 2>&1)
eq "signed_head: Ed25519 signature valid under GET /v1/keys, hash of its record" "valid matches in-range" "$HV"
req legal GET '/v1/admin/audit?since=%21%21bad%21%21'; expect_problem "malformed cursor -> 400" 400 bad_request
req legal GET '/v1/admin/audit?limit=0'; expect_problem "limit=0 -> 400" 400 bad_request
req legal GET '/v1/admin/audit?limit=1001'; expect_problem "limit=1001 -> 400" 400 bad_request
req legal GET '/v1/admin/audit?limit=1000'; expect "limit=1000 -> 200 (control)" 200
# the one integer reading of every endpoint: digits only, no sign or space
req legal GET '/v1/admin/audit?limit=%2B5'; expect_problem "limit=+5 -> 400" 400 bad_request
req legal GET '/v1/admin/audit?limit=%205'; expect_problem "limit=' 5' -> 400" 400 bad_request
req legal GET '/v1/admin/audit?limit=005'; expect "limit=005 -> 200 (control)" 200
for who in p1 ag1 rev; do
	req "$who" GET /v1/admin/audit
	expect_problem "$who on /v1/admin/audit -> 403" 403 forbidden
done
req ag1 GET /v1/admin/audit -H "Authorization: Bearer $SEC"
expect_problem "agency with a revoked key on /v1/admin/audit -> 401" 401 unauthenticated
req none GET /v1/admin/audit
expect_refused "no certificate on /v1/admin/audit -> refused"

# ---- audit verify on the live and the stopped deployment ------------------------------------
verify() { "$BIN/refgatectl" -c "$1/refgate.conf" audit verify >"$T/verify.out" 2>&1; }
verify "$D"; rc=$?
eq "audit verify on the running deployment exits 0" 0 $rc
sleep 2          # a signed head after the last record (audit_sign_interval 1)
rg_stop
verify "$D"; rc=$?
eq "audit verify on the clean, stopped deployment exits 0" 0 $rc
check "audit verify says the chain is intact" grep -q 'chain intact' "$T/verify.out"
# dbat DIR SQL: a deployment's database (the original or a tampered
# copy), through sqlite3 or psql; rows '|'-separated either way.
dbat() {
	if [ "$RG_DB" = pg ]; then
		"$PG_BIN/psql" -X -q -At -h "$PG_DIR" -U refgate -d "$(pgdb_of "$1")" -v ON_ERROR_STOP=1 -c "$2"
	else
		sqlite3 "$1/$DBREL" "$2"
	fi
}
# pgdb_of DIR: the PostgreSQL database name in DIR's refgate.conf.
pgdb_of() { sed -n 's|^database = postgresql:///\([a-z_0-9]*\)?.*|\1|p' "$1/refgate.conf"; }
# ZERO64: a 64-byte zero blob in the engine's SQL.
if [ "$RG_DB" = pg ]; then ZERO64="decode(repeat('00', 64), 'hex')"; else ZERO64="zeroblob(64)"; fi
DBREL=$(sed -n 's/^[[:space:]]*database[[:space:]]*=[[:space:]]*//p' "$D/refgate.conf" | tail -n 1)
NTOT=$(dbat "$D" 'SELECT COUNT(*) FROM audit')
HEADS=$(dbat "$D" 'SELECT COUNT(*) FROM audit_heads')
ne "signed heads were recorded" 0 "${HEADS:-0}"
K=$((NTOT / 2))
[ "$K" -ge 2 ] && [ "$K" -lt "$NTOT" ] || notok "enough records to tamper with" "$NTOT"

# tamper NAME SQL: a copy of the stopped deployment, its audit triggers
# dropped (PostgreSQL: a copy of the database, made from it as a template,
# with triggers and foreign keys off for the session), SQL applied; sets TD.
tamper() {
	TD=$T/tamper-$1
	cp -a "$D" "$TD"
	local db=$TD/${DBREL} ok=0
	if [ "$RG_DB" = pg ]; then
		local name; name=tamper_$(printf '%s' "$1" | tr -c 'a-z0-9' '_')
		sed -i "s|^database = postgresql:///[a-z_0-9]*?|database = postgresql:///$name?|" "$TD/refgate.conf"
		"$PG_BIN/psql" -X -q -h "$PG_DIR" -U refgate -d postgres -v ON_ERROR_STOP=1 \
			-c "CREATE DATABASE $name TEMPLATE $(pgdb_of "$D")" >"$T/sqlite-$1.log" 2>&1 &&
		dbat "$TD" "SET session_replication_role = replica; $2" >>"$T/sqlite-$1.log" 2>&1 && ok=1
	else
		sqlite3 "$db" "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; $2" >"$T/sqlite-$1.log" 2>&1 && ok=1
	fi
	[ $ok = 1 ] || notok "tamper $1 applied" "$(head -c 200 "$T/sqlite-$1.log")"
}
# expect_bad NAME WHY SEQ...: verify fails the way the CLI reports a bad
# log: exit status 1 (not a crash, a signal or a usage error) and the line
# "audit: record SEQ: WHY..." naming one of the seqs, WHY an ERE for the
# check that caught it.
expect_bad() {
	local name=$1 why=$2; shift 2
	verify "$TD"; local rc=$? s named=
	for s in "$@"; do grep -Eq "^audit: record $s: .*($why)" "$T/verify.out" && named=$s; done
	if [ $rc = 1 ] && [ -n "$named" ]; then ok "audit verify: $name -> exit 1, names record $named ($why)"
	else notok "audit verify: $name -> exit 1 naming record $* ($why)" "exit $rc: $(head -c 300 "$T/verify.out" | tr '\n' ' ')"; fi
}
tamper sanity "SELECT 1;"
verify "$TD"; eq "an untouched copy verifies (control)" 0 $?
tamper edit "UPDATE audit SET detail = '{\"role\":\"reviewer\"}' WHERE seq = $K;"
eq "edit applied" 1 "$(dbat "$TD" "SELECT COUNT(*) FROM audit WHERE seq = $K AND detail = '{\"role\":\"reviewer\"}'")"
expect_bad "record $K edited" "hash does not match" "$K"
tamper actor "UPDATE audit SET actor = 'someone' WHERE seq = $K;"
expect_bad "record $K's actor edited" "hash does not match" "$K"
tamper delete "DELETE FROM audit WHERE seq = $K;"
expect_bad "record $K deleted" "missing|prev_hash|hash does not match" "$K" "$((K + 1))"
tamper reorder "UPDATE audit SET seq = -1 WHERE seq = $K; UPDATE audit SET seq = $K WHERE seq = $((K + 1)); UPDATE audit SET seq = $((K + 1)) WHERE seq = -1;"
eq "reorder applied" "$(dbat "$D" "SELECT kind||object FROM audit WHERE seq = $((K + 1))")" \
	"$(dbat "$TD" "SELECT kind||object FROM audit WHERE seq = $K")"
expect_bad "records $K and $((K + 1)) swapped" "hash does not match|prev_hash" "$K"
LAST=$(dbat "$D" "SELECT MAX(seq) FROM audit")
tamper tail "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit);"
eq "tail cut applied" "$((LAST - 1))" "$(dbat "$TD" "SELECT MAX(seq) FROM audit")"
expect_bad "the last record ($LAST) cut off (caught by the signed head)" "missing: the signed head" "$LAST"
sed 's/^/#   /' "$T/verify.out"
HS=$(dbat "$D" "SELECT MAX(seq) FROM audit_heads")
tamper forged "UPDATE audit_heads SET sig = $ZERO64 WHERE seq = $HS;"
eq "forged head applied" 1 "$(dbat "$TD" "SELECT COUNT(*) FROM audit_heads WHERE seq = $HS AND sig = $ZERO64")"
expect_bad "the signed head of record $HS forged (zero signature)" "forged head" "$HS"

# rehash DIR K fix|check: recomputes the chain from record K on in DIR's
# database (the gateway's record hash: BLAKE2b-256 of the previous hash,
# seq and at as big-endian int64, and actor, kind, object, detail each
# length-prefixed); fix writes the new hashes, check prints how many
# stored hashes differ from the recomputed ones. Text travels as hex
# through sqlite3 or psql, so no separator inside a value can confuse it.
rehash() {
	local q="SELECT seq, at, hex(actor), hex(kind), hex(object), hex(detail), hex(hash) FROM audit WHERE seq >= $2 - 1 ORDER BY seq"
	[ "$RG_DB" = pg ] && q="SELECT seq, at, encode(convert_to(actor, 'UTF8'), 'hex'), encode(convert_to(kind, 'UTF8'), 'hex'), encode(convert_to(object, 'UTF8'), 'hex'), encode(convert_to(detail, 'UTF8'), 'hex'), encode(hash, 'hex') FROM audit WHERE seq >= $2 - 1 ORDER BY seq"
	dbat "$1" "$q" >"$T/rehash-rows" || return 1
	python3 - "$T/rehash-rows" "$3" "$RG_DB" >"$T/rehash.sql" <<'EOF' || return 1
import hashlib, struct, sys
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
mode, pg = sys.argv[2], sys.argv[3] == "pg"
lit = (lambda x: "decode('%s', 'hex')" % x.hex()) if pg else (lambda x: "X'%s'" % x.hex())
prev = bytes.fromhex(rows[0][6])
bad = 0
for seq, at, actor, kind, obj, detail, stored in rows[1:]:
    m = prev + struct.pack(">qq", int(seq), int(at))
    for x in (actor, kind, obj, detail):
        b = bytes.fromhex(x)
        m += struct.pack(">I", len(b)) + b
    h = hashlib.blake2b(m, digest_size=32).digest()
    bad += h != bytes.fromhex(stored)
    if mode == "fix":
        print("UPDATE audit SET prev_hash = %s, hash = %s WHERE seq = %s;" % (lit(prev), lit(h), seq))
    prev = h
if mode == "check":
    print("SELECT 'recomputed-mismatches %d';" % bad)
EOF
	if [ "$RG_DB" = pg ]; then dbat "$1" "SET session_replication_role = replica; $(cat "$T/rehash.sql")"
	else dbat "$1" "DROP TRIGGER IF EXISTS audit_no_update; $(cat "$T/rehash.sql")"; fi
}

# A rehashed chain: record K edited and every hash from K on recomputed
# (the attacker has the file, not the gateway's signing key). Only the
# signed heads can tell.
if command -v python3 >/dev/null 2>&1; then
	tamper rehash "UPDATE audit SET detail = '{\"role\":\"reviewer\"}' WHERE seq = $K;"
	rehash "$TD" "$K" fix >"$T/rehash.log" 2>&1
	# The control: the same recomputation without the edit leaves the chain as it was.
	tamper rehash-control "SELECT 1;"
	rehash "$TD" "$K" check >>"$T/rehash.log" 2>&1
	check "the test's recomputation matches the gateway's hashes (control)" grep -q 'recomputed-mismatches 0' "$T/rehash.log"
	TD=$T/tamper-rehash
	expect_bad "record $K edited and the chain rehashed (signed heads)" "hash differs from the signed head" "$K" $(seq "$((K + 1))" "$LAST")
	sed 's/^/#   /' "$T/verify.out"
else
	notok "rehashed chain" "no python3 (scripts/install-deps.sh installs it)"
fi

# The tampered copies do not affect the deployment itself.
verify "$D"; eq "the original still verifies" 0 $?
rg_start
req legal GET '/v1/admin/audit?limit=1'
expect "the restarted gateway serves the audit log" 200
finish
