#!/usr/bin/env bash
# t_python: the Python partner example (examples/python/refer_and_poll.py,
# Debian's python3-jwcrypto and python3-requests) against the real daemon:
# it signs and submits a referral, verifies the receipt against
# GET /v1/keys, and polls the case until a reviewer decides it.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in examples/
EX=$ROOT/examples/python/refer_and_poll.py
rg_setup
enrol pave partner || finish
enrol lodi partner || finish
enrol rev reviewer || finish

# example ARGS...: runs it as pave (unless --as is given); output in $T/py.out
example() {
	"$PY" "$EX" --gateway "$U" "$@" >"$T/py.out" 2>&1
}
HANDLE=py_$(rnd 10)

# ---- submit and verify the receipt ---------------------------------------------
example --as "$T/p/pave" --handle "@$HANDLE" --summary "from Python"
eq "the example exits 0" 0 $?
grep -E -q '^referral r_[A-Za-z0-9_-]+ case c_[A-Za-z0-9_-]+ received$' "$T/py.out" \
	&& ok "it prints the referral, its case and status" \
	|| notok "it prints the referral, its case and status" "$(head -c 300 "$T/py.out")"
grep -qx 'receipt verified' "$T/py.out" && ok "it verified the receipt against GET /v1/keys" \
	|| notok "it verified the receipt against GET /v1/keys" "$(head -c 300 "$T/py.out")"
R=$(sed -n 's/^referral \(r_[^ ]*\) .*/\1/p' "$T/py.out")
C=$(sed -n 's/^referral [^ ]* case \(c_[^ ]*\) .*/\1/p' "$T/py.out")
req pave GET "/v1/referrals/$R"
expect "the gateway holds the referral the example sent" 200
eq "... with the example's summary, read back as a reviewer" "from Python" \
	"$(req rev GET "/v1/referrals/$R"; jget "$BODY" .summary)"

# ---- the receipt check refuses what it must -----------------------------------------
# The example's own verify_receipt, on the answer the gateway gave: it
# accepts it as it is, and refuses a flipped signature bit, a receipt of
# other bytes, and a receipt signed by a key not in GET /v1/keys.
refer pave rc
cat >"$T/receipt.py" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import refer_and_poll as ex
from jwcrypto import jwk, jws
gw = ex.Gateway(sys.argv[2], sys.argv[3])
answer = json.load(open(sys.argv[4]))
sent = open(sys.argv[5]).read().strip()
r = answer["receipt"]
h, p, s = r.split(".")
flipped = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
other = jwk.JWK.generate(kty="OKP", crv="Ed25519", kid="not-the-gateway")
t = jws.JWS(ex.base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
t.add_signature(other, alg="EdDSA", protected=json.dumps({"alg": "EdDSA", "kid": json.loads(ex.base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"]}))
forged = t.serialize(compact=True)
print(" ".join("ok" if ex.verify_receipt(gw, tok, b) else "refused" for tok, b in
               ((r, sent), (flipped, sent), (r, sent + "x"), (forged, sent))))
PY
eq "verify_receipt: genuine ok; flipped bit, other bytes, forged signer refused" \
	"ok refused refused refused" \
	"$("$PY" "$T/receipt.py" "$ROOT/examples/python" "$U" "$T/p/pave" "$T/rc.answer" "$T/rc.jws" 2>"$T/receipt.err" || head -c 300 "$T/receipt.err")"

# ---- the same account again: one case ---------------------------------------------
example --as "$T/p/pave" --handle "$HANDLE" --category violent_extremism
eq "a second referral of the account exits 0" 0 $?
eq "... and lands in the same case" "$C" "$(sed -n 's/^referral [^ ]* case \(c_[^ ]*\) .*/\1/p' "$T/py.out")"

# ---- poll until a reviewer decides -----------------------------------------------
"$PY" "$EX" --gateway "$U" --as "$T/p/pave" --handle "$HANDLE" --wait 60 >"$T/poll.out" 2>&1 &
POLL=$!
BGPIDS="$BGPIDS $POLL"
for _ in $(seq 100); do grep -q '^receipt verified' "$T/poll.out" && break; sleep 0.1; done
post_json rev "/v1/cases/$C/decision" '{"status":"in_review"}'
expect "reviewer takes the case" 200
post_json rev "/v1/cases/$C/decision" '{"status":"actioned","action":"account_suspended","ground":"illegal_content","explanation":"Terrorist propaganda."}'
expect "reviewer actions the case" 200
wait "$POLL"
eq "the polling example exits 0 once the case is decided" 0 $?
grep -qx "status $C actioned account_suspended" "$T/poll.out" \
	&& ok "it prints the decision it polled" \
	|| notok "it prints the decision it polled" "$(tail -n 3 "$T/poll.out" | tr '\n' ' ')"

# ---- refusals are reported, not hidden -------------------------------------------
mkdir -p "$T/mixed"
cp "$T/p/pave/cert.pem" "$T/p/pave/key.pem" "$T/p/pave/ca.pem" "$T/mixed/"
cp "$T/p/lodi/signing.jwk" "$T/mixed/"
example --as "$T/mixed" --handle "@$HANDLE"
eq "signed with another partner's key: the example exits 1" 1 $?
grep -E -q '^refused: HTTP 4[0-9][0-9] [a-z_]+: .+' "$T/py.out" \
	&& ok "... and prints the gateway's problem code and detail" \
	|| notok "... and prints the gateway's problem code and detail" "$(head -c 300 "$T/py.out")"

finish
