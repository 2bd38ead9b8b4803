#!/usr/bin/env bash
# t_cli: refgatectl (contract section 8): init layout and file modes,
# enroll with a new key / a CSR / a public JWK, submit, status, changes,
# decide, revoke, principals; each refusal beside the call that works.
. "$(dirname "$0")/lib.sh"
rg_setup

mode() { stat -c %a "$1" 2>/dev/null; }
OUT=$T/ctl.out

# ---- init layout -----------------------------------------------------------
bad=$(find "$D" -type d ! -perm 700 -printf '%p %m\n' 2>/dev/null | head -n 3 | tr '\n' ' ')
ndirs=$(find "$D" -type d | wc -l)
eq "init: every folder is 0700 ($ndirs folders)" "" "$bad"
for k in tls_key client_ca_key receipt_key data_key index_key admin_key; do
	f=$(conf_path "$k")
	if [ -z "$f" ]; then notok "init: $k named in refgate.conf"; continue; fi
	eq "init: $k ($(basename "$f")) is 0600" 600 "$(mode "$f")"
done
for k in tls_cert client_ca database policy admin_cert admin_ca; do
	f=$(conf_path "$k")
	if [ -n "$f" ] && [ -s "$f" ]; then ok "init: $k exists ($(basename "$f"))"; else notok "init: $k exists" "'$f'"; fi
done
eq "init: refgate.conf not writable by group or others" "" "$(find "$D/refgate.conf" -perm /0022)"
eq "init: no file readable by others holds a private key" "" \
	"$(grep -l -r -E 'PRIVATE KEY|"d" *:' "$D" 2>/dev/null | while read -r f; do [ -n "$(find "$f" -perm /0077)" ] && echo "$f"; done | head -n 3 | tr '\n' ' ')"
for f in cert.pem key.pem; do [ -s "$D/principals/legal/$f" ] && ok "init: principals/legal/$f" || notok "init: principals/legal/$f"; done
eq "init: legal key.pem is 0600" 600 "$(mode "$D/principals/legal/key.pem")"
openssl verify -CAfile "$(conf_path client_ca)" "$D/principals/legal/cert.pem" >"$T/verify.log" 2>&1 \
	&& ok "init: legal certificate chains to the client CA" || notok "init: legal certificate chains to the client CA" "$(cat "$T/verify.log")"
sum=$(sha256sum "$D/refgate.conf")
if "$BIN/refgatectl" init "$D" --listen "127.0.0.1:$PORT" --hostname localhost >"$T/init2.log" 2>&1; then
	notok "init over an existing deployment is refused" "exit 0"
else ok "init over an existing deployment is refused (exit $?)"; fi
eq "the existing refgate.conf is untouched" "$sum" "$(sha256sum "$D/refgate.conf")"
P2=$(free_port)
"$BIN/refgatectl" init "$T/gw2" --listen "127.0.0.1:$P2" --hostname localhost >"$T/init3.log" 2>&1
eq "init into a new folder (control) -> exit 0" 0 "$?"
"$BIN/refgatectl" init "$T/gw3" --listen "127.0.0.1:notaport" >"$T/init4.log" 2>&1
eq "init --listen without a port -> usage error (exit 2)" 2 "$?"
[ -e "$T/gw3/refgate.conf" ] && notok "a refused init leaves nothing behind" || ok "a refused init leaves nothing behind"

# ---- init's next steps keep secrets out of the working folder ---------------------
# (issue 13: init once suggested `--out pave`, secrets in the repository root)
steps=$(sed -n 's/^  refgatectl \(.* enroll pave .*\)$/\1/p' "$T/init.log")
eq "init suggests enrolling into the deployment's principals/ folder" \
	"-c $D/refgate.conf enroll pave --role partner --out $D/principals/pave" "$steps"
outside=$(grep -oE -- '(-c|--out) [^ ]+' "$T/init.log" | while read -r _ p; do case $p in "$D"/*) ;; *) echo "$p" ;; esac; done | tr '\n' ' ')
eq "every path init's next steps name lies in the deployment folder" "" "$outside"
mkdir -m 700 "$T/cwd"
# shellcheck disable=SC2086 # the suggested words, as a person would paste them
(cd "$T/cwd" && "$BIN/refgatectl" $steps) >"$T/steps.log" 2>&1
eq "init's suggested enroll, run from an empty working folder -> exit 0" 0 "$?"
eq "... leaves the working folder empty" "" "$(ls -A "$T/cwd")"
eq "... principals/pave is 0700" 700 "$(mode "$D/principals/pave")"
eq "... its key.pem and signing.jwk are 0600" "600 600" "$(mode "$D/principals/pave/key.pem") $(mode "$D/principals/pave/signing.jwk")"
# Every secret init and enroll wrote (mode 0600; refgate.conf holds only
# paths) is ignored by git wherever the deployment folder lies in a
# checkout, even as the checkout's root (`init .`).
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	secrets=$(cd "$D" && find . -type f -perm 600 ! -name refgate.conf | sed 's|^\./||' | sort)
	ns=$(printf '%s\n' "$secrets" | grep -c .)
	tracked=$(for f in $secrets; do for p in "$f" "anygw/$f"; do
		git -C "$ROOT" check-ignore --no-index -q -- "$p" || echo "$p"; done; done | head -n 5 | tr '\n' ' ')
	eq ".gitignore covers every secret of a deployment ($ns files: keys, CA and TLS keys, database, principals' keys)" "" "$tracked"
	tracked=$(for p in bka/disclosure.key rev.p12 x/bka/status.hdr; do
		git -C "$ROOT" check-ignore --no-index -q -- "$p" || echo "$p"; done | tr '\n' ' ')
	eq ".gitignore covers access keys, PKCS#12 files and Bearer headers anywhere" "" "$tracked"
else
	notok ".gitignore covers every secret of a deployment" "$ROOT is not a git work tree"
fi
# The docs never tell anyone to write a secret into the working folder
# (every --out, --p12, -keyout, --key-file and key redirection names a
# folder, or is a placeholder such as FILE), and every backup command
# runs under umask 077 (copies 0600, like the files they copy).
docs="$ROOT/README.md $ROOT/SECURITY.md $ROOT/Makefile $ROOT/docs/*.md"
# shellcheck disable=SC2086
bad=$(grep -noE -- '(--out|--p12|-keyout|--key-file) [^ `)]+' $docs | awk '{a=$NF} a !~ /\// && a !~ /^[A-Z_]+$/' | sed "s|^$ROOT/||" | head -n 5 | tr '\n' ' ')
eq "docs: every secret file they have written names a folder" "" "$bad"
# shellcheck disable=SC2086
bad=$(grep -noE -- '> *[^ >`)]*(\.key|\.jwk|\.p12|key\.pem)\b' $docs | awk -F'>' '{a=$NF} a !~ /\//' | sed "s|^$ROOT/||" | head -n 5 | tr '\n' ' ')
eq "docs: every key file written by redirection names a folder" "" "$bad"
# shellcheck disable=SC2086
nb=$(grep -cE -- "\\.backup '|pg_dump --|tar -C " $docs | awk -F: '{s+=$NF} END {print s+0}')
# shellcheck disable=SC2086
bad=$(grep -nE -- "\\.backup '|pg_dump --|tar -C " $docs | grep -vF '(umask 077 &&' | sed "s|^$ROOT/||" | head -n 5 | tr '\n' ' ')
ne "docs: backup commands found (control)" 0 "$nb"
eq "docs: each of the $nb backup commands runs under umask 077" "" "$bad"

# ---- enroll with a new key -----------------------------------------------------
enrol newp partner || finish
ok "enroll newp --role partner --out DIR"
eq "enroll: OUTDIR is 0700" 700 "$(mode "$T/p/newp")"
eq "enroll: key.pem is 0600" 600 "$(mode "$T/p/newp/key.pem")"
eq "enroll: signing.jwk is 0600" 600 "$(mode "$T/p/newp/signing.jwk")"
KID=$(jget "$T/p/newp/signing.jwk" .kid)
ne "signing.jwk has a kid" "" "$KID"
grep -qF -- "$KID" "$OUT" && ok "enroll prints the kid" || notok "enroll prints the kid" "$(cat "$OUT")"
eq "signing.jwk is a private Ed25519 JWK" "OKP Ed25519 true" "$(jeval "$T/p/newp/signing.jwk" 'j.kty+" "+j.crv+" "+(typeof j.d==="string")')"
openssl verify -CAfile "$(conf_path client_ca)" "$T/p/newp/cert.pem" >"$T/verify.log" 2>&1 \
	&& ok "enroll: certificate chains to the client CA" || notok "enroll: certificate chains to the client CA" "$(cat "$T/verify.log")"
openssl verify -CAfile "$T/p/newp/ca.pem" -purpose sslserver "$(conf_path tls_cert)" >"$T/verify.log" 2>&1 \
	&& ok "enroll: ca.pem verifies the gateway's server certificate" || notok "enroll: ca.pem verifies the server certificate" "$(cat "$T/verify.log")"
req newp GET /v1/keys
expect "new principal's certificate -> 200" 200
ctl enroll newp --role partner --out "$T/p/newp-again"
eq "enroll an active name again, same role -> credentials added (exit 0)" 0 "$?"
req newp-again GET /v1/keys; expect "the added certificate -> 200" 200
req newp GET /v1/keys; expect "the first certificate still -> 200" 200
ctl enroll newp --role reviewer --out "$T/p/newp-rev"
ne "enroll an active name with another role -> refused" 0 "$?"
ctl enroll badrole --role emperor --out "$T/p/badrole"
eq "enroll --role emperor -> usage error (exit 2)" 2 "$?"
[ -e "$T/p/badrole" ] && notok "a refused enroll leaves no OUTDIR" || ok "a refused enroll leaves no OUTDIR"
ctl enroll rv --role reviewer --jwk /dev/null --out "$T/p/rvx"
eq "enroll --jwk for a reviewer -> usage error (exit 2)" 2 "$?"
enrol rv reviewer || finish
[ -e "$T/p/rv/signing.jwk" ] && notok "a reviewer gets no signing.jwk" || ok "a reviewer gets no signing.jwk"

# ---- enroll --csr --------------------------------------------------------------------
mkdir -p "$T/csrp"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=csrp \
	-keyout "$T/csrp/key.pem" -out "$T/csrp/req.pem" >"$T/openssl.log" 2>&1
if ctl enroll csrp --role partner --csr "$T/csrp/req.pem" --out "$T/p/csrp"; then ok "enroll csrp --csr FILE"
else notok "enroll csrp --csr FILE" "$(tail -n 3 "$OUT" | tr '\n' ' ')"; fi
[ -e "$T/p/csrp/key.pem" ] && notok "enroll --csr writes no key.pem" || ok "enroll --csr writes no key.pem"
eq "the certificate carries the CSR's public key" "$(openssl req -in "$T/csrp/req.pem" -pubkey -noout 2>/dev/null)" \
	"$(openssl x509 -in "$T/p/csrp/cert.pem" -pubkey -noout 2>/dev/null)"
cp "$T/csrp/key.pem" "$T/p/csrp/key.pem"
req csrp GET /v1/keys
expect "CSR principal with its own key -> 200" 200
ctl enroll csrp2 --role partner --csr "$T/csrp/key.pem" --out "$T/p/csrp2"
ne "enroll --csr with a file that is no CSR -> refused" 0 "$?"
openssl req -new -key "$T/csrp/key.pem" -subj /CN=again -out "$T/csrp/req2.pem" >>"$T/openssl.log" 2>&1
ctl enroll csrp3 --role partner --csr "$T/csrp/req2.pem" --out "$T/p/csrp3"
ne "enroll --csr with a key already enrolled -> refused" 0 "$?"
req csrp GET /v1/keys
expect "the first holder of that key still works (control)" 200

# ---- enroll --jwk ----------------------------------------------------------------------
node "$ITDIR/sign.mjs" --genkey "$T/jwkp.priv.jwk" "$T/jwkp.pub.jwk" 2>>"$T/sign.log"
JKID=$(jget "$T/jwkp.pub.jwk" .kid)
ctl enroll jwkp --role partner --jwk "$T/jwkp.priv.jwk" --out "$T/p/jwkp-x"
ne "enroll --jwk with a private JWK (d member) -> refused" 0 "$?"
[ -e "$T/p/jwkp-x" ] && notok "the refused enroll left no OUTDIR" || ok "the refused enroll left no OUTDIR"
if ctl enroll jwkp --role partner --jwk "$T/jwkp.pub.jwk" --out "$T/p/jwkp"; then ok "enroll jwkp --jwk PUBLIC.jwk (control)"
else notok "enroll jwkp --jwk PUBLIC.jwk" "$(tail -n 3 "$OUT" | tr '\n' ' ')"; fi
grep -qF -- "$JKID" "$OUT" && ok "enroll --jwk reports the JWK's kid" || notok "enroll --jwk reports the JWK's kid" "$(cat "$OUT")"
install -m 600 "$T/jwkp.priv.jwk" "$T/p/jwkp/signing.jwk"
refer jwkp j1 ''
expect "referral signed by jose with the enrolled --jwk key -> 201" 201
refer newp j2 '' -- --kid "$JKID"
expect_problem "newp using jwkp's kid -> 401 key_not_owned" 401 key_not_owned

# ---- submit, status, changes ----------------------------------------------------
printf '{"category":"hate_speech","urgency":"urgent","partner_ref":"CLI-1","subjects":[{"handle":"@Cli_Acct"}]}' >"$T/cli1.json"
if ctl submit "$T/cli1.json" --as "$T/p/newp"; then ok "submit FILE --as DIR (jti, iat filled in)"
else notok "submit FILE --as DIR" "$(tail -n 3 "$OUT" | tr '\n' ' ')"; fi
sed -n '/^{/,$p' "$OUT" >"$T/cli1.answer"
RID=$(jget "$T/cli1.answer" .referral_id); CID=$(jget "$T/cli1.answer" '.cases[0].case_id')
ne "submit prints the answer with referral_id and case_id" "" "$RID$CID"
req newp GET "/v1/referrals/$RID"
eq "the submitted referral is the partner's, partner_ref kept" "200 CLI-1" "$CODE $(jget "$BODY" .partner_ref)"
printf '{"category":"hate_speech","subjects":[{"handle":"not a handle"}]}' >"$T/cli2.json"
ctl submit "$T/cli1.json" --as "$T/p/rv"
eq "submit as a reviewer -> exit 1" 1 "$?"
grep -qF "holds no signing.jwk: only partners and agencies sign referrals" "$OUT" \
	&& ok "submit as a reviewer says only partners and agencies sign" || notok "submit as a reviewer says only partners and agencies sign" "$(cat "$OUT")"
ctl submit "$T/cli2.json" --as "$T/p/newp"
eq "submit of an invalid payload -> exit 1" 1 "$?"
grep -q invalid_payload "$OUT" && ok "submit reports invalid_payload" || notok "submit reports invalid_payload" "$(cat "$OUT")"
grep -q '/subjects/0/handle' "$OUT" && ok "submit reports the pointer /subjects/0/handle" || notok "submit reports the pointer" "$(cat "$OUT")"
chmod 644 "$T/p/newp/signing.jwk"
ctl submit "$T/cli1.json" --as "$T/p/newp"
ne "submit with a signing.jwk readable by others -> refused" 0 "$?"
chmod 600 "$T/p/newp/signing.jwk"
printf '{"category":"hate_speech","subjects":[{"handle":"cli_acct_2"}]}' >"$T/cli3.json"
ctl submit "$T/cli3.json" --as "$T/p/newp"
eq "the same after chmod 600 -> exit 0 (control)" 0 "$?"
ctl submit "$T/cli3.json" --as "$T/p/csrp"
eq "submit by the --csr principal with its new signing key -> exit 0" 0 "$?"

if ctl status "$RID" --as "$T/p/newp"; then ok "status r_... --as DIR"; else notok "status r_..." "$(tail -n 3 "$OUT" | tr '\n' ' ')"; fi
grep -qF -- "$CID" "$OUT" && ok "status shows the referral's case" || notok "status shows the referral's case" "$(head -c 300 "$OUT")"
if ctl status "$CID" --as "$T/p/newp"; then ok "status c_... --as DIR"; else notok "status c_..." "$(tail -n 3 "$OUT" | tr '\n' ' ')"; fi
grep -q '"received"' "$OUT" && ok "status shows the case received" || notok "status shows received" "$(head -c 300 "$OUT")"
ctl status "$RID" --as "$T/p/csrp"
eq "status of another partner's referral -> exit 1" 1 "$?"
grep -Eq 'HTTP 404 not_found' "$OUT" && ok "status reports HTTP 404 not_found" || notok "status reports HTTP 404 not_found" "$(cat "$OUT")"
# Without --as: the configuration's legal credentials, whose view of a
# referral is empty (policy.json), so a 404 that says whose view it was
# and what to give; one line, no TLS library text.
ctl status "$RID"
eq "status without --as -> exit 1" 1 "$?"
eq "status without --as says whose view it was and to give --as" \
	"refgatectl: status as the configuration's legal credentials (give --as DIR, the partner's or a reviewer's): HTTP 404 not_found: Not found" \
	"$(cat "$OUT")"
ctl status "$RID" --as "$T/p/csrp"
eq "status --as another partner: the plain 404 (no legal hint)" "refgatectl: HTTP 404 not_found: Not found" "$(cat "$OUT")"
ctl changes --as "$T/p/newp"
eq "changes --as DIR -> exit 0" 0 "$?"
grep -qF -- "$CID" "$OUT" && ok "changes lists the new case" || notok "changes lists the new case" "$(head -c 300 "$OUT")"
ctl changes --limit 501 --as "$T/p/newp"
eq "changes --limit 501 -> usage error (exit 2)" 2 "$?"

# ---- decide ------------------------------------------------------------------------
ctl decide "$CID" --status actioned --action account_suspended --ground illegal_content --explanation "Incitement." --as "$T/p/rv"
eq "decide received -> actioned -> exit 1" 1 "$?"
grep -q bad_transition "$OUT" && ok "decide reports bad_transition" || notok "decide reports bad_transition" "$(cat "$OUT")"
ctl decide "$CID" --status in_review --as "$T/p/newp"
eq "decide as a partner -> exit 1" 1 "$?"
grep -q forbidden "$OUT" && ok "decide as a partner reports forbidden" || notok "decide as a partner reports forbidden" "$(cat "$OUT")"
ctl decide "$CID" --status in_review --as "$T/p/rv"
eq "decide --status in_review as the reviewer -> exit 0" 0 "$?"
printf 'Incitement to violence in three posts.\nSee the evidence of the referral.\n' >"$T/expl.txt"
ctl decide "$CID" --status actioned --action account_suspended --ground illegal_content --explanation "x" --explanation-file "$T/expl.txt" --as "$T/p/rv"
eq "decide with both --explanation and --explanation-file -> usage error (exit 2)" 2 "$?"
ctl decide "$CID" --status actioned --action account_suspended --ground illegal_content --explanation-file "$T/nonexistent" --as "$T/p/rv"
eq "decide --explanation-file of a missing file -> exit 1" 1 "$?"
grep -qF -- "$T/nonexistent" "$OUT" && ok "... naming the file" || notok "... naming the file" "$(cat "$OUT")"
ctl decide "$CID" --status actioned --action account_suspended --ground illegal_content --explanation-file "$T/expl.txt" --as "$T/p/rv"
eq "decide --status actioned ... --explanation-file -> exit 0" 0 "$?"
eq "decide prints one line: 'ID: status (action)'" "$CID: actioned (account_suspended)" "$(cat "$OUT")"
req rv GET "/v1/cases/$CID"
eq "the recorded explanation is the file's text without its final newline" \
	"$(printf 'Incitement to violence in three posts.\nSee the evidence of the referral.' | od -An -c | tr -s ' \n' ' ')" \
	"$(jeval "$BODY" '((j.decisions||[]).find(d=>d.status==="actioned")||{}).explanation||""' | od -An -c | tr -s ' \n' ' ')"
ctl decide "$CID" --status actioned --action nuke --ground illegal_content --explanation "x" --as "$T/p/rv"
eq "decide --action nuke -> usage error (exit 2)" 2 "$?"
req newp GET "/v1/cases/$CID"
eq "the partner sees the decision" "actioned account_suspended" "$(jeval "$BODY" 'j.status+" "+j.action')"

# ---- revoke, principals -----------------------------------------------------------------
req newp GET /v1/keys; expect "newp before revocation -> 200" 200
if ctl revoke newp; then ok "revoke newp"; else notok "revoke newp" "$(tail -n 3 "$OUT" | tr '\n' ' ')"; fi
req newp GET /v1/keys; expect_refused "newp after revoke: refused"
req csrp GET /v1/keys; expect "csrp still served (control)" 200
refer jwkp j3 ''
expect "jwkp still submits (control)" 201
ctl revoke newp
ne "revoke an already revoked principal -> non-zero" 0 "$?"
grep -qE "already revoked at [0-9]{4}-" "$OUT" && ok "... says it was already revoked, and when" || notok "... says it was already revoked, and when" "$(cat "$OUT")"
ctl revoke nobody
ne "revoke an unknown principal -> non-zero" 0 "$?"
grep -qF "no principal of that name" "$OUT" && ok "... says there is no such principal" || notok "... says there is no such principal" "$(cat "$OUT")"
ctl enroll newp --role partner --out "$T/p/newp3"
ne "enroll under a revoked name -> refused" 0 "$?"
# revoke asks first on a terminal (script(1) gives it one), unless --yes
enrol tmpa reviewer || true
enrol tmpb reviewer || true
printf 'n\n' | script -qefc "$BIN/refgatectl -c $D/refgate.conf revoke tmpa" /dev/null >"$T/tty.out" 2>&1
eq "revoke on a terminal, answered n -> exit 1" 1 "$?"
grep -qF "Revoke principal tmpa, with all its certificates and signing keys?" "$T/tty.out" \
	&& ok "... after asking" || notok "... after asking" "$(cat "$T/tty.out")"
req tmpa GET /v1/keys; expect "... and tmpa is still served" 200
printf 'y\n' | script -qefc "$BIN/refgatectl -c $D/refgate.conf revoke tmpa" /dev/null >"$T/tty.out" 2>&1
eq "revoke on a terminal, answered y -> exit 0" 0 "$?"
req tmpa GET /v1/keys; expect_refused "... and tmpa is refused"
script -qefc "$BIN/refgatectl -c $D/refgate.conf revoke tmpb --yes" /dev/null </dev/null >"$T/tty.out" 2>&1
eq "revoke --yes on a terminal -> exit 0 without asking" "0 no" "$? $(grep -q 'Revoke principal' "$T/tty.out" && echo asked || echo no)"
req tmpb GET /v1/keys; expect_refused "... and tmpb is refused"
if ctl principals --json; then ok "principals --json"; else notok "principals --json" "$(tail -n 3 "$OUT")"; fi
sed -n '/^{/,$p' "$OUT" >"$T/principals.json"
eq "principals lists legal, newp (revoked), csrp, jwkp, rv" "csrp:partner:- jwkp:partner:- legal:legal:- newp:partner:revoked rv:reviewer:-" \
	"$(jeval "$T/principals.json" '(j.principals||[]).filter(p=>["legal","newp","csrp","jwkp","rv"].includes(p.name)).map(p=>p.name+":"+p.role+":"+(p.revoked_at?"revoked":"-")).sort().join(" ")')"

# ---- the programs explain themselves ------------------------------------------------
V=$("$BIN/refgate" --version 2>&1); rc=$?
eq "refgate --version: exit 0, 'refgate X.Y.Z'" "0 true" "$rc $(echo "$V" | grep -Eqx 'refgate [0-9]+\.[0-9]+\.[0-9]+' && echo true || echo false)"
V=$("$BIN/refgatectl" --version 2>&1); rc=$?
eq "refgatectl --version: exit 0, 'refgatectl X.Y.Z'" "0 true" "$rc $(echo "$V" | grep -Eqx 'refgatectl [0-9]+\.[0-9]+\.[0-9]+' && echo true || echo false)"
H=$("$BIN/refgate" --help 2>/dev/null); rc=$?
eq "refgate --help: exit 0, the usage on stdout" "0 true" "$rc $(echo "$H" | grep -q '^usage: refgate -c' && echo true || echo false)"
"$BIN/refgate" --bogus >/dev/null 2>"$T/bogus.err"; rc=$?
eq "refgate --bogus: usage error (exit 2) with the usage" "2 true" "$rc $(grep -q '^usage: refgate' "$T/bogus.err" && echo true || echo false)"
"$BIN/refgate" -c "$D" >/dev/null 2>"$T/dir.err"; rc=$?
eq "refgate -c FOLDER: exit 1, says it is a folder and names its refgate.conf" "1 true" \
	"$rc $(grep -qF -- "$D is a folder: give its refgate.conf" "$T/dir.err" && echo true || echo false)"
"$BIN/refgatectl" -c "$D" principals >/dev/null 2>"$T/dir.err"; rc=$?
eq "refgatectl -c FOLDER: exit 1, says it is a folder" "1 true" \
	"$rc $(grep -qF -- "$D is a folder" "$T/dir.err" && echo true || echo false)"
"$BIN/refgate" -c "$D/refgate.conf" >/dev/null 2>"$T/inuse.err"; rc=$?
eq "a second gateway on the same port: exit 1, 'Address already in use'" "1 true" \
	"$rc $(grep -qF -- "cannot listen on 127.0.0.1:$PORT: Address already in use" "$T/inuse.err" && echo true || echo false)"
req legal GET /v1/keys; expect "the first gateway still serves (control)" 200

finish
