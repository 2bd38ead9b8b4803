#!/usr/bin/env bash
# t_crash: "a 201 or 200 is sent only after the referral is durable on
# disk" (contract section 2). A burst of referrals from concurrent clients,
# kill -9 of the daemon in the middle, restart: every referral answered 201
# is there with its cases, resubmissions are consistent, and the database
# is intact with no case lacking a referral.
. "$(dirname "$0")/lib.sh"
rg_setup
CLIENTS=4
PER=60                       # referrals per client (bounded burst)
for i in $(seq $CLIENTS); do enrol "cr$i" partner || finish; done

# Payloads: shared handles across clients (concurrent dedup into the same
# cases) and some subjects linking an account_id to a handle (merges).
for i in $(seq $CLIENTS); do
	mkdir -p "$T/b$i"
	node -e 'const crypto=require("crypto"),fs=require("fs");const [dir,n,c]=process.argv.slice(1);
const now=Math.floor(Date.now()/1000);
for(let k=0;k<+n;k++){const s=[{handle:"crash_"+((k*7+ +c)%45)}];
 if(k%9===0) s[0].account_id=String(900000+((k+ +c)%11));
 if(k%5===0) s.push({url:"https://x.com/crash_b"+(k%17)+"/status/"+(1000+k)});
 const p={jti:crypto.randomBytes(18).toString("base64url"),iat:now,category:"violent_extremism",
  urgency:["routine","urgent","imminent_harm"][k%3],partner_ref:"c"+c+"-"+k,subjects:s};
 fs.writeFileSync(dir+"/"+String(k).padStart(4,"0")+".json",JSON.stringify(p));}' -- "$T/b$i" "$PER" "$i"
	node "$ITDIR/sign.mjs" --jwk "$T/p/cr$i/signing.jwk" --batch "$T/b$i" 2>>"$T/sign.log" \
		|| { notok "sign the burst for cr$i" "$(tail -n 2 "$T/sign.log")"; finish; }
done
n_jws=$(ls "$T"/b*/*.jws | wc -l)
eq "burst prepared" $((CLIENTS * PER)) "$n_jws"

# client I: posts its JWS files one after the other; one line per answer:
# "file code referral_id".
client() {
	local i=$1 f code
	for f in "$T/b$i"/*.jws; do
		code=$(curl -s -o "${f%.jws}.answer" -w '%{http_code}' --max-time 20 --resolve "localhost:$PORT:127.0.0.1" \
			--cacert "$T/p/cr$i/ca.pem" --cert "$T/p/cr$i/cert.pem" --key "$T/p/cr$i/key.pem" \
			-H 'Content-Type: application/jose' --data-binary @"$f" "$U/v1/referrals" 2>/dev/null)
		echo "$f ${code:-000} $(jget "${f%.jws}.answer" .referral_id)" >>"$T/results.$i"
	done
}
CPIDS=""
for i in $(seq $CLIENTS); do : >"$T/results.$i"; client "$i" & CPIDS="$CPIDS $!"; done
BGPIDS="$BGPIDS $CPIDS"

# Kill the daemon once a quarter of the burst was answered.
target=$((CLIENTS * PER / 4))
for _ in $(seq 600); do
	[ "$(cat "$T"/results.* | wc -l)" -ge "$target" ] && break
	sleep 0.05
done
answered_at_kill=$(cat "$T"/results.* | wc -l)
rg_kill9
ok "kill -9 after $answered_at_kill of $n_jws answers"
for p in $CPIDS; do
	for _ in $(seq 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
done
cat "$T"/results.* >"$T/results"
n201=$(awk '$2==201' "$T/results" | wc -l)
nbad=$(awk '$2!=201 && $2!="000"' "$T/results" | wc -l)
if [ "$answered_at_kill" -lt "$n_jws" ] && [ "$n201" -lt "$n_jws" ]; then ok "the crash came in the middle of the burst ($n201 answered 201)"
else notok "the crash came in the middle of the burst" "$n201 of $n_jws answered 201 before the kill"; fi
if [ "$n201" -gt 0 ]; then ok "some referrals answered 201 before the crash ($n201)"; else notok "some referrals answered 201 before the crash"; fi
eq "no answer other than 201 or none during the burst" 0 "$nbad"
[ "$nbad" -gt 0 ] && awk '$2!=201 && $2!="000"' "$T/results" | head -n 3

# ---- restart ---------------------------------------------------------------
rg_start || finish
ok "daemon restarts after kill -9"

missing=0; cmissing=0; checked=0
declare -A seen_case
while read -r f code rid; do
	[ "$code" = 201 ] || continue
	i=$(basename "$(dirname "$f")"); i=${i#b}
	checked=$((checked + 1))
	req "cr$i" GET "/v1/referrals/$rid"
	if [ "$CODE" != 200 ]; then missing=$((missing + 1)); [ $missing -le 3 ] && echo "# lost: $rid ($(last))"; continue; fi
	for c in $(jeval "${f%.jws}.answer" '(j.cases||[]).map(c=>c.case_id).join(" ")'); do
		[ -n "${seen_case[$c]:-}" ] && continue
		seen_case[$c]=1
		req "cr$i" GET "/v1/cases/$c"
		[ "$CODE" = 200 ] || { cmissing=$((cmissing + 1)); [ $cmissing -le 3 ] && echo "# case lost: $c ($(last))"; }
	done
done <"$T/results"
eq "every referral answered 201 is readable after the restart ($checked checked)" 0 "$missing"
eq "every case named in a 201 answer is readable after the restart (${#seen_case[@]} checked)" 0 "$cmissing"

# Resubmit everything, as a client that kept its tokens would: answered
# ones come back 200 with the same body, however late (a byte-identical
# JWS is replayed past the iat window: t_late_replay); unanswered ones are
# 201 (never recorded), 200 (recorded, answer lost), or, once the burst's
# iat is older than iat_skew (a slow machine), 401 stale_iat, which only a
# never-recorded token can get: those are signed again with the same jti
# and a fresh iat below, and must then be 201 (a recorded jti would be
# 409 jti_reuse), so no outcome depends on how fast the machine is.
same=0; differ=0; odd=0; resent=0; stale=0
for f in "$T"/b*/*.jws; do
	i=$(basename "$(dirname "$f")"); i=${i#b}
	code=$(awk -v f="$f" '$1==f {print $2}' "$T/results")
	post_jws "cr$i" "$f"
	if [ "$code" = 201 ]; then
		if [ "$CODE" = 200 ] && cmp -s "$BODY" "${f%.jws}.answer"; then same=$((same + 1))
		else differ=$((differ + 1)); [ $differ -le 3 ] && echo "# replay of $f: $(last)"; fi
	elif [ "$CODE" = 401 ] && [ "$(jget "$BODY" .code)" = stale_iat ]; then
		mkdir -p "$T/rs$i"; cp "${f%.jws}.json" "$T/rs$i/"; stale=$((stale + 1))
	else
		resent=$((resent + 1))
		case $CODE in 200|201) ;; *) odd=$((odd + 1)); [ $odd -le 3 ] && echo "# resubmission of unanswered $f: $(last)" ;; esac
	fi
done
eq "replays of answered referrals: 200 with the first body ($same)" 0 "$differ"
eq "resubmissions of unanswered referrals: 200 or 201 ($resent), or 401 stale_iat ($stale)" 0 "$odd"
eq "every burst token accounted for" "$n_jws" "$((same + differ + resent + stale))"
fresh=0; lost=0
for i in $(seq $CLIENTS); do
	[ -d "$T/rs$i" ] || continue
	node -e 'const fs=require("fs"),dir=process.argv[1],now=Math.floor(Date.now()/1000);
for(const f of fs.readdirSync(dir).filter(f=>f.endsWith(".json"))){
 const p=JSON.parse(fs.readFileSync(dir+"/"+f,"utf8"));p.iat=now;fs.writeFileSync(dir+"/"+f,JSON.stringify(p));}' -- "$T/rs$i"
	node "$ITDIR/sign.mjs" --jwk "$T/p/cr$i/signing.jwk" --batch "$T/rs$i" 2>>"$T/sign.log" \
		|| { notok "sign the stale resubmissions of cr$i again" "$(tail -n 2 "$T/sign.log")"; continue; }
	for f in "$T/rs$i"/*.jws; do
		post_jws "cr$i" "$f"
		if [ "$CODE" = 201 ]; then fresh=$((fresh + 1))
		else lost=$((lost + 1)); [ $lost -le 3 ] && echo "# fresh resubmission of $f: $(last)"; fi
	done
done
eq "stale unanswered referrals, signed again with their jti: 201 ($fresh of $stale)" "$stale 0" "$fresh $lost"

# ---- the database ------------------------------------------------------------
DB=$(conf_path database)
if [ "$RG_DB" = pg ]; then
	# PostgreSQL checks its own pages; the store's invariants are ours.
	orphans=$(dbq 'SELECT count(*) FROM cases WHERE id NOT IN (SELECT case_id FROM referral_subjects);')
	eq "no case without a referral" 0 "$orphans"
	nref=$(dbq 'SELECT count(*) FROM referrals;')
	if [ "$nref" -ge "$n201" ] 2>/dev/null; then ok "referrals in the database ($nref) >= answered 201 ($n201)"
	else notok "referrals in the database >= answered 201" "$nref vs $n201"; fi
elif [ -n "$DB" ] && [ -f "$DB" ]; then
	ic=$(sqlite3 -readonly "$DB" 'PRAGMA integrity_check;' 2>&1 | tr '\n' ' ')
	eq "sqlite3 integrity_check" "ok " "$ic"
	orphans=$(sqlite3 -readonly "$DB" 'SELECT count(*) FROM cases WHERE id NOT IN (SELECT case_id FROM referral_subjects);' 2>&1)
	eq "no case without a referral" 0 "$orphans"
	nref=$(sqlite3 -readonly "$DB" 'SELECT count(*) FROM referrals;' 2>&1)
	if [ "$nref" -ge "$n201" ] 2>/dev/null; then ok "referrals in the database ($nref) >= answered 201 ($n201)"
	else notok "referrals in the database >= answered 201" "$nref vs $n201"; fi
else
	notok "database found through refgate.conf" "database = '$DB'"
fi

finish
