#!/usr/bin/python3
"""refer_and_poll.py - a partner's referral to refgate, in Python.

Signs one referral with the partner's Ed25519 key (a JWS, EdDSA), sends it
over mutually authenticated TLS, checks the gateway's signed receipt against
the gateway's published keys (GET /v1/keys), then polls the case's status
with If-None-Match until a reviewer decides it or the time runs out.

Debian 12: apt-get install python3-jwcrypto python3-requests

    /usr/bin/python3 refer_and_poll.py --gateway https://gw.example:8443 \\
        --as ./pave --handle @some_account --category terrorist_content \\
        [--summary TEXT] [--wait SECONDS]

--as names the folder `refgatectl enroll --out` wrote (or the legal team
sent): cert.pem, key.pem, ca.pem and signing.jwk.

Prints one line per event ("referral r_... case c_... received",
"receipt verified", "status c_... actioned content_removed") and exits 0
when the referral was accepted (and, with --wait, decided in time); 1 when
the gateway refused it (the problem's code and detail are printed) or the
receipt did not verify; 2 on a usage error; 3 when --wait ran out.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import time

import requests
from jwcrypto import jwk, jws

TYP = "refgate-referral+json"
CATEGORIES = ("terrorist_content", "violent_extremism",
              "incitement_to_violence", "hate_speech", "other_illegal")


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Gateway:
    """One kept-alive mTLS session with the gateway."""

    def __init__(self, base, creds):
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.http.cert = (os.path.join(creds, "cert.pem"),
                          os.path.join(creds, "key.pem"))
        self.http.verify = os.path.join(creds, "ca.pem")
        # Only the gateway's anchor: REQUESTS_CA_BUNDLE and the like would
        # otherwise replace `verify`, and no proxy sits inside mutual TLS.
        self.http.trust_env = False

    def get(self, path, **kw):
        return self.http.get(self.base + path, timeout=30, **kw)

    def post(self, path, **kw):
        return self.http.post(self.base + path, timeout=30, **kw)


def refused(resp):
    """The problem+json answer as one line."""
    try:
        p = resp.json()
        return "refused: HTTP %d %s: %s" % (resp.status_code, p.get("code"),
                                            p.get("detail"))
    except ValueError:
        return "refused: HTTP %d" % resp.status_code


def sign_referral(key, payload):
    token = jws.JWS(json.dumps(payload).encode("utf-8"))
    header = {"alg": "EdDSA", "kid": key.get("kid"), "typ": TYP}
    token.add_signature(key, alg="EdDSA", protected=json.dumps(header))
    return token.serialize(compact=True)


def verify_receipt(gw, receipt, sent):
    """The receipt's signature against GET /v1/keys, and that it names
    the bytes we sent. Returns the receipt's payload, or None."""
    keys = gw.get("/v1/keys")
    if keys.status_code != 200:
        return None
    keyset = jwk.JWKSet.from_json(keys.text)
    token = jws.JWS()
    token.allowed_algs = ["EdDSA"]
    token.deserialize(receipt)
    kid = token.jose_header.get("kid")
    key = keyset.get_key(kid) if kid else None
    if key is None:
        return None
    try:
        token.verify(key, alg="EdDSA")
    except jws.InvalidJWSSignature:
        return None
    claims = json.loads(token.payload)
    if claims.get("jws_sha256") != hashlib.sha256(sent.encode()).hexdigest():
        return None
    return claims


def poll_case(gw, case_id, wait):
    """Reads the case with If-None-Match until it is decided or `wait`
    seconds pass. Returns the decided view, or None."""
    etag = None
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        headers = {"If-None-Match": etag} if etag else {}
        resp = gw.get("/v1/cases/" + case_id, headers=headers)
        if resp.status_code == 200:
            etag = resp.headers.get("ETag")
            view = resp.json()
            if view.get("status") in ("actioned", "no_action"):
                return view
        elif resp.status_code != 304:
            print(refused(resp))
            return None
        time.sleep(1)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--as", dest="creds", required=True)
    ap.add_argument("--handle", required=True)
    ap.add_argument("--category", default="terrorist_content",
                    choices=CATEGORIES)
    ap.add_argument("--summary")
    ap.add_argument("--wait", type=int, default=0,
                    help="seconds to poll for a decision (0: do not poll)")
    args = ap.parse_args()

    with open(os.path.join(args.creds, "signing.jwk"), "rb") as f:
        key = jwk.JWK.from_json(f.read())
    payload = {
        "jti": b64url(secrets.token_bytes(18)),
        "iat": int(time.time()),
        "category": args.category,
        "subjects": [{"handle": args.handle}],
    }
    if args.summary:
        payload["summary"] = args.summary
    token = sign_referral(key, payload)

    gw = Gateway(args.gateway, args.creds)
    try:
        return submit_and_poll(gw, token, args.wait)
    except (requests.RequestException, ValueError, KeyError) as e:
        print("failed: %s" % e)
        return 1


def submit_and_poll(gw, token, wait):
    resp = gw.post("/v1/referrals", data=token,
                   headers={"Content-Type": "application/jose"})
    if resp.status_code not in (200, 201):
        print(refused(resp))
        return 1
    answer = resp.json()
    case_id = answer["cases"][0]["case_id"]
    print("referral %s case %s %s" % (answer["referral_id"], case_id,
                                      answer["cases"][0]["status"]))
    claims = verify_receipt(gw, answer["receipt"], token)
    if claims is None or claims.get("referral_id") != answer["referral_id"]:
        print("receipt does not verify")
        return 1
    print("receipt verified")

    if wait <= 0:
        return 0
    view = poll_case(gw, case_id, wait)
    if view is None:
        print("no decision within %d s" % wait)
        return 3
    print("status %s %s %s" % (case_id, view["status"],
                               view.get("action", "-")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
