#!/usr/bin/env bash
# t_log: contract section 11, the transparency log. 64 referrals, the
# checkpoint fetched after each; an independent verifier
# (helpers/tlog-verify.mjs: RFC 9162 and C2SP signed notes with
# node:crypto, the key from GET /v1/keys) checks every checkpoint's
# signature, every receipt's leaf in every later checkpoint, the
# consistency of every pair of checkpoints, and refuses a tampered proof,
# root and signature. Then the bounds (problem+json 400), who may read,
# and kill -9 between append and checkpoint, many times: every checkpoint
# seen before and after the crashes is consistent with every other, and
# every referral answered 201 is in the last one.
. "$(dirname "$0")/lib.sh"
rg_setup_conf rate_limit_rps 0   # the verifier sends thousands of proof requests
enrol pave partner || finish
enrol isd agency || finish
enrol rev reviewer || finish
N=64
ORIGIN=localhost/refgate
mkdir -p "$T/notes" "$T/receipts" "$T/jws"

# getcp NAME: GET /v1/log/checkpoint as the reviewer, kept as notes/NAME.
getcp() {
	req rev GET /v1/log/checkpoint
	[ "$CODE" = 200 ] && cp "$BODY" "$T/notes/$1"
}
# verify ARGS...: the verifier as the reviewer; its summary in $T/verify.json.
verify() {
	node "$ITDIR/helpers/tlog-verify.mjs" --url "$U" --cert "$T/p/rev/cert.pem" \
		--key "$T/p/rev/key.pem" --ca "$T/p/rev/ca.pem" --origin "$ORIGIN" "$@" \
		>"$T/verify.json" 2>"$T/verify.log"
}
# post NAME WHO FILE: POST a JWS; a 201 answer is kept as receipts/NAME.
post() {
	post_jws "$2" "$3"
	[ "$CODE" = 201 ] && cp "$BODY" "$T/receipts/$1.json"
}

# ---- the empty log ------------------------------------------------------
getcp 000-empty
expect "checkpoint of the empty log -> 200" 200
eq "it is text/plain" "text/plain; charset=utf-8" "$(hdr content-type)"
eq "origin, size 0, the empty tree's root (SHA-256 of nothing)" \
	"$ORIGIN|0|47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=||" \
	"$(head -n 4 "$BODY" | tr '\n' '|')"
check "one signature line: em dash, origin, base64 of 68 bytes" \
	grep -qE "^— $ORIGIN [A-Za-z0-9+/]{91}=\$" "$BODY"
req rev GET "/v1/log/inclusion?index=0&size=1"
expect_problem "no proof beyond the latest checkpoint (size 0)" 400 bad_request

# ---- 64 leaves, a checkpoint after each ----------------------------------
for who in pave isd; do
	mkdir -p "$T/b-$who"
	node -e 'const crypto=require("crypto"),fs=require("fs");const [dir,n,who]=process.argv.slice(1);
const now=Math.floor(Date.now()/1000);
for(let k=0;k<+n;k++){const p={jti:crypto.randomBytes(18).toString("base64url"),iat:now,
 category:"hate_speech",subjects:[{handle:"log_"+who+"_"+(k%20)}]};
 fs.writeFileSync(dir+"/"+String(k).padStart(4,"0")+".json",JSON.stringify(p));}' -- "$T/b-$who" $((N / 2 + 40)) "$who"
	node "$ITDIR/sign.mjs" --jwk "$T/p/$who/signing.jwk" --batch "$T/b-$who" 2>>"$T/sign.log" \
		|| { notok "sign referrals for $who" "$(tail -n 2 "$T/sign.log")"; finish; }
done
ls "$T"/b-pave/*.jws >"$T/pave.list"; ls "$T"/b-isd/*.jws >"$T/isd.list"
n201=0; ncp=0
for i in $(seq 0 $((N - 1))); do
	who=pave; [ $((i % 2)) = 1 ] && who=isd
	f=$(sed -n "$((i / 2 + 1))p" "$T/$who.list")
	post "$(printf '%03d' "$i")" "$who" "$f"
	[ "$CODE" = 201 ] && n201=$((n201 + 1))
	getcp "$(printf '%03d' "$((i + 1))")" && ncp=$((ncp + 1))
done
eq "$N referrals answered 201" "$N" "$n201"
eq "$N checkpoints fetched" "$N" "$ncp"
eq "the receipts' log_index run 0..$((N - 1))" "$(seq -s, 0 $((N - 1)))" \
	"$(for f in "$T"/receipts/*.json; do jget "$f" .receipt | cut -d. -f2 | node -e \
		'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(String(JSON.parse(Buffer.from(s.trim(),"base64url")).log_index)))'; echo; done | paste -sd,)"
eq "each checkpoint has the size of the log after its referral" "$N" "$(sed -n 2p "$T/notes/$(printf '%03d' $N)")"
eq "the database holds one leaf per referral" "$N|$N" "$(dbq 'SELECT COUNT(*) FROM log_leaves; SELECT COUNT(*) FROM referrals;' | paste -sd'|')"

# A replay answers the byte-identical receipt, and appends nothing.
f=$(sed -n 1p "$T/pave.list")
post_jws pave "$f"
expect "a replay -> 200" 200
eq "the replay's receipt is the first one, byte for byte" "$(jget "$T/receipts/000.json" .receipt)" "$(jget "$BODY" .receipt)"
getcp replay
eq "a replay adds no leaf" "$N" "$(sed -n 2p "$T/notes/replay")"

# ---- the independent verifier -------------------------------------------
verify --notes "$T/notes" --receipts "$T/receipts" --all --tamper
eq "verifier: every checkpoint's signature verifies" "$((N + 2))" "$(jget "$T/verify.json" .notes)"
eq "verifier: every receipt (signature, log_index)" "$N" "$(jget "$T/verify.json" .receipts)"
eq "verifier: every inclusion proof of every leaf in every size" "$((N * (N + 1) / 2))" "$(jget "$T/verify.json" .inclusion)"
eq "verifier: every consistency proof between all sizes" "$((N * (N + 1) / 2))" "$(jget "$T/verify.json" .consistency)"
eq "verifier: no failure" "[]" "$(jget "$T/verify.json" .failures)"
eq "verifier: the untampered current checkpoint is accepted" "accepted" "$(jget "$T/verify.json" .tamper.control)"
for what in inclusion_proof inclusion_root consistency_proof consistency_root signature note_size; do
	eq "verifier refuses a tampered $what" "refused" "$(jget "$T/verify.json" ".tamper.$what")"
done

# ---- bounds and roles -----------------------------------------------------
bad() {
	req pave GET "$2"
	expect_problem "$1 -> 400 bad_request" 400 bad_request
}
bad "inclusion: size beyond the latest checkpoint" "/v1/log/inclusion?index=0&size=$((N + 1))"
bad "inclusion: index = size" "/v1/log/inclusion?index=$N&size=$N"
bad "inclusion: non-numeric index" "/v1/log/inclusion?index=abc&size=4"
bad "inclusion: negative index" "/v1/log/inclusion?index=-1&size=4"
bad "inclusion: no size" "/v1/log/inclusion?index=1"
bad "inclusion: a size with a sign" "/v1/log/inclusion?index=1&size=%2B4"
bad "inclusion: a 20-digit size" "/v1/log/inclusion?index=1&size=18446744073709551617"
bad "consistency: from = 0" "/v1/log/consistency?from=0&size=4"
bad "consistency: from > size" "/v1/log/consistency?from=5&size=4"
bad "consistency: size beyond the latest checkpoint" "/v1/log/consistency?from=1&size=$((N + 1))"
bad "consistency: non-numeric" "/v1/log/consistency?from=1&size=4x"
req pave GET "/v1/log/consistency?from=4&size=4"
eq "consistency: from = size -> 200, no hashes" "200 []" "$CODE $(jget "$BODY" .hashes)"
for who in pave isd rev legal; do
	req "$who" GET "/v1/log/inclusion?index=3&size=10"
	expect "$who may read an inclusion proof" 200
	req "$who" GET /v1/log/checkpoint
	expect "$who may read the checkpoint" 200
done
req none GET /v1/log/checkpoint
expect_refused "no client certificate: no checkpoint"
req pave POST /v1/log/checkpoint
expect_problem "POST on the checkpoint -> 405" 405 method_not_allowed

# ---- refgatectl log verify | watch ----------------------------------------
if ctl log verify "$T/receipts/005.json" --as "$T/p/pave"; then ok "log verify: a receipt (the 201 answer) -> exit 0"
else notok "log verify: a receipt (the 201 answer) -> exit 0" "$(cat "$T/ctl.out")"; fi
check "log verify names the leaf and the checkpoint" grep -q "leaf 5 of the checkpoint of size" "$T/ctl.out"
eq "... and complains about nothing" "" "$(grep -v '^log: ' "$T/ctl.out")"
jget "$T/receipts/042.json" .receipt >"$T/r42.jws"
ctl log verify "$T/r42.jws" --as "$T/p/isd"; eq "log verify: a bare receipt JWS, another principal -> exit 0" 0 $?
# the receipt of leaf 42 with its payload swapped for leaf 41's: no signature
node -e 'const [a,b]=process.argv.slice(1).map(f=>require("fs").readFileSync(f,"utf8").trim().split("."));
process.stdout.write([a[0],b[1],a[2]].join("."))' -- "$T/r42.jws" <(jget "$T/receipts/041.json" .receipt) >"$T/r-bad.jws"
ctl log verify "$T/r-bad.jws" --as "$T/p/pave"; eq "log verify: a tampered receipt -> exit 1" 1 $?
check "... saying so" grep -q "RECEIPT DOES NOT VERIFY" "$T/ctl.out"
ctl log watch --state "$T/state.txt" --as "$T/p/pave"; eq "log watch, first run -> exit 0" 0 $?
check "... keeps the first checkpoint" grep -q "first checkpoint kept" "$T/ctl.out"
f=$(sed -n "$((N / 2 + 1))p" "$T/isd.list")
post late isd "$f"; expect "one more referral -> 201" 201
ctl log watch --state "$T/state.txt" --as "$T/p/pave"; eq "log watch after growth -> exit 0" 0 $?
check "... consistent, kept" grep -q "is consistent with the kept one" "$T/ctl.out"
eq "... and complains about nothing" "" "$(grep -v '^log: ' "$T/ctl.out")"
eq "... the state file holds the new checkpoint" "$((N + 1))" "$(sed -n 2p "$T/state.txt")"
# A forged history: a checkpoint of a smaller size with another root,
# signed with the gateway's own key (what a rewritten log would sign).
node -e 'const c=require("crypto"),fs=require("fs");const [keyf,origin,size]=process.argv.slice(1);
const seed=Buffer.from(fs.readFileSync(keyf,"utf8").trim(),"base64url");
const sk=c.createPrivateKey({key:Buffer.concat([Buffer.from("302e020100300506032b657004220420","hex"),seed]),format:"der",type:"pkcs8"});
const x=Buffer.from(c.createPublicKey(sk).export({format:"jwk"}).x,"base64url");
const body=origin+"\n"+size+"\n"+c.randomBytes(32).toString("base64")+"\n";
const id=c.createHash("sha256").update(origin+"\n").update(Buffer.from([1])).update(x).digest().subarray(0,4);
const sig=Buffer.concat([id,c.sign(null,Buffer.from(body),sk)]).toString("base64");
process.stdout.write(body+"\n\u2014 "+origin+" "+sig+"\n");' -- "$(conf_path receipt_key)" "$ORIGIN" $((N - 3)) >"$T/forged.txt"
cp "$T/forged.txt" "$T/state.txt"
ctl log watch --state "$T/state.txt" --as "$T/p/pave"; eq "log watch against a forged earlier checkpoint -> exit 1" 1 $?
check "... LOG INCONSISTENT" grep -q "LOG INCONSISTENT" "$T/ctl.out"
check "... the state file is left as it was" cmp -s "$T/forged.txt" "$T/state.txt"
sed -i '2s/.*/1/' "$T/state.txt"
ctl log watch --state "$T/state.txt" --as "$T/p/pave"; eq "log watch with a state file that does not verify -> exit 1" 1 $?
check "... saying so" grep -q "does not verify" "$T/ctl.out"

# ---- kill -9 between append and checkpoint, many times --------------------
# Each round: two referrals answered 201 (appended, no checkpoint asked
# for), two more sent as the daemon is killed; restart; the checkpoint.
ROUNDS=8
k=0
for r in $(seq "$ROUNDS"); do
	for j in 1 2; do
		f=$(sed -n "$((N / 2 + k + 1))p" "$T/pave.list"); k=$((k + 1))
		post "crash-$r-$j" pave "$f"
	done
	f1=$(sed -n "$((N / 2 + k + 1))p" "$T/pave.list"); k=$((k + 1))
	f2=$(sed -n "$((N / 2 + k + 1))p" "$T/pave.list"); k=$((k + 1))
	for f in "$f1" "$f2"; do
		curl -s -o /dev/null --max-time 10 --resolve "localhost:$PORT:127.0.0.1" \
			--cacert "$T/p/pave/ca.pem" --cert "$T/p/pave/cert.pem" --key "$T/p/pave/key.pem" \
			-H 'Content-Type: application/jose' --data-binary @"$f" "$U/v1/referrals" &
		BGPIDS="$BGPIDS $!"
	done
	rg_kill9
	wait 2>/dev/null
	rg_start || finish
	getcp "crash-$r" || notok "checkpoint after restart $r" "$(last)"
done
ok "$ROUNDS rounds of kill -9 between append and checkpoint"
crash_201=$(ls "$T"/receipts/crash-* 2>/dev/null | wc -l)
eq "every round's first two referrals answered 201" $((ROUNDS * 2)) "$crash_201"
verify --notes "$T/notes" --receipts "$T/receipts"
eq "after the crashes: no failure (every checkpoint consistent with the next and the last, every 201 in the last)" \
	"[]" "$(jget "$T/verify.json" .failures)"
eq "after the crashes: every 201 receipt checked" $((N + 1 + ROUNDS * 2)) "$(jget "$T/verify.json" .receipts)"
verify --notes "$T/notes" --all
eq "after the crashes: every pair of checkpoints seen is consistent" "[]" "$(jget "$T/verify.json" .failures)"
eq "the database still holds one leaf per referral" "$(dbq 'SELECT COUNT(*) FROM referrals')" "$(dbq 'SELECT COUNT(*) FROM log_leaves')"
eq "each checkpoint size was signed once" "0" "$(dbq 'SELECT COUNT(*) - COUNT(DISTINCT size) FROM log_checkpoints')"
finish
