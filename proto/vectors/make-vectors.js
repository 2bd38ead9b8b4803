#!/usr/bin/env node
// make-vectors.js - regenerates the JWS test vectors in this folder.
//
//   mkdir -p /tmp/rg-vec-node && (cd /tmp/rg-vec-node && npm install jose@5)
//   node proto/vectors/make-vectors.js            # from the repo root
//
// Keys are Ed25519 keys derived from fixed seeds, and Ed25519 signatures are
// deterministic, so running it again gives byte-identical files. Valid JWSs
// come from the npm `jose` package; the refusal vectors are built by hand
// (jose will not produce most of them) and, unless the point is a bad
// signature, carry a valid Ed25519 signature by key A so that only the rule
// under test can refuse them. Each file is one vector:
//   { "name", "description", "jws", "public_jwk",
//     "expect": "ok" | "invalid_jws" | "bad_signature",
//     "payload_b64"?   (ok only: the payload, unpadded base64url)
//     "private_jwk"?   (ok only, when the header is {"alg","kid"[,"typ"]} in
//                       that order: jws_sign with this key must reproduce
//                       "jws" byte for byte) }
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

function loadJose() {
	const tries = [process.env.JOSE_PATH, '/tmp/rg-vec-node/node_modules/jose',
		'/tmp/rg-conformance-node/node_modules/jose', 'jose'];
	for (const t of tries) {
		if (!t)
			continue;
		try {
			return require(t);
		} catch (e) { /* next */ }
	}
	throw new Error('jose not found: npm install jose@5 into /tmp/rg-vec-node or set JOSE_PATH');
}
const jose = loadJose();

const OUT = __dirname;
const MAX = 64 * 1024;                  // JWS_MAX_BYTES
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

const b64u = (b) => Buffer.from(b).toString('base64url');
const sha256 = (s) => crypto.createHash('sha256').update(s).digest();

// An Ed25519 key pair from a fixed 32-byte seed (PKCS#8 wrapping).
function keyFromSeed(label, kid) {
	const seed = sha256('refgate proto/vectors ' + label);
	const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
	const priv = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
	const pub = crypto.createPublicKey(priv);
	const j = priv.export({ format: 'jwk' });
	return {
		kid, priv, pub,
		publicJwk: { kty: 'OKP', crv: 'Ed25519', x: j.x, kid },
		privateJwk: { kty: 'OKP', crv: 'Ed25519', x: j.x, d: j.d, kid },
		raw: Buffer.from(j.x, 'base64url'),
	};
}

const A = keyFromSeed('key A', 'refgate-test-a');
const B = keyFromSeed('key B', 'refgate-test-b');

const payload = Buffer.from(JSON.stringify({
	jti: 'vector0000000000001',
	iat: 1795874591,
	category: 'terrorist_content',
	subjects: [{ handle: '@example' }],
}));

const edSign = (key, input) => crypto.sign(null, Buffer.from(input), key.priv);

// h.p.s from a header (a string, UTF-8, or exact bytes), payload bytes and
// a signer.
function raw(header, body = payload, key = A) {
	const input = b64u(Buffer.from(header)) + '.' + b64u(body);
	return input + '.' + b64u(edSign(key, input));
}
const hdr = (o) => JSON.stringify(o);
const std = { alg: 'EdDSA', kid: A.kid, typ: 'refgate-referral+json' };
const parts = (jws) => jws.split('.');

// Sets the lowest bit of the last base64url character of s: a lax decoder
// reads the same bytes, a canonical one refuses it (needs len % 4 != 0).
function nonCanonical(s) {
	if (s.length % 4 === 0)
		throw new Error('no spare bits');
	const al = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
	const i = al.indexOf(s[s.length - 1]);
	return s.slice(0, -1) + al[i | 1];
}

const vectors = [];
function add(name, description, jws, expect, extra = {}) {
	if (vectors.some((v) => v.name === name))
		throw new Error('duplicate vector ' + name);
	vectors.push({ name, description, jws, public_jwk: A.publicJwk, expect, ...extra });
}
function addOk(name, description, jws, body, signable) {
	const extra = { payload_b64: b64u(body) };
	if (signable)
		extra.private_jwk = A.privateJwk;
	add(name, description, jws, 'ok', extra);
}

async function joseSign(header, body = payload, key = A) {
	return new jose.CompactSign(body).setProtectedHeader(header).sign(key.priv);
}

// A payload of JSON padding that brings the whole JWS to exactly `total`
// bytes (or the next length base64url can reach).
async function sized(total, header) {
	for (let want = total; want < total + 4; want++) {
		const base = (await joseSign(header, Buffer.from('{"pad":""}'))).length;
		for (let k = Math.max(0, Math.floor((want - base) * 3 / 4) - 4); ; k++) {
			const body = Buffer.from(JSON.stringify({ pad: 'x'.repeat(k) }));
			const jws = await joseSign(header, body);
			if (jws.length === want)
				return { jws, body };
			if (jws.length > want)
				break;
		}
	}
	throw new Error('cannot reach ' + total);
}

async function main() {
	// ---- valid ----
	addOk('ok-typ', 'alg, kid and typ, signed by jose', await joseSign(std), payload, true);
	addOk('ok-no-typ', 'no typ member', await joseSign({ alg: 'EdDSA', kid: A.kid }), payload, true);
	addOk('ok-typ-application', 'typ with the application/ prefix',
		await joseSign({ ...std, typ: 'application/refgate-referral+json' }), payload, true);
	addOk('ok-typ-mixed-case', 'typ compares case-insensitively',
		await joseSign({ ...std, typ: 'Application/Refgate-Referral+JSON' }), payload, true);
	addOk('ok-header-kid-first', 'member order does not matter',
		await joseSign({ kid: A.kid, typ: 'refgate-referral+json', alg: 'EdDSA' }), payload, false);
	addOk('ok-header-whitespace', 'whitespace inside the header JSON',
		raw('{ "alg" : "EdDSA",\n  "kid" : "' + A.kid + '" }\n'), payload, false);
	addOk('ok-header-extra-member', 'an unknown member (cty) is ignored',
		await joseSign({ ...std, cty: 'json' }), payload, false);
	addOk('ok-kid-128', 'kid of the maximal 128 characters of [A-Za-z0-9_.:-]',
		await joseSign({ alg: 'EdDSA', kid: 'aZ09_.:-'.repeat(16) }), payload, false);
	addOk('ok-empty-payload', 'an empty payload is a valid JWS (the payload rules refuse it later)',
		await joseSign(std, Buffer.alloc(0)), Buffer.alloc(0), true);
	const bin = Buffer.from([...Array(256).keys()]);
	addOk('ok-binary-payload', 'payload bytes 0x00-0xff, NUL included',
		await joseSign(std, bin), bin, true);
	// base64url never has 4k+1 characters, so pick the kid length that
	// lets the whole JWS land on exactly 65536 bytes
	let big;
	for (const kid of [A.kid, A.kid + '.1', A.kid + '.12', A.kid + '.123']) {
		const hh = { ...std, kid };
		big = await sized(MAX, hh);
		if (big.jws.length === MAX)
			break;
	}
	if (big.jws.length !== MAX)
		throw new Error('ok-max-size is ' + big.jws.length);
	addOk('ok-max-size', 'exactly 65536 bytes, the largest accepted (kid lengthened to reach it)', big.jws, big.body, true);

	// ---- size and shape ----
	const over = await sized(MAX + 1, std);
	add('too-big', 'validly signed but ' + over.jws.length + ' bytes, over the 64 KiB limit',
		over.jws, 'invalid_jws');
	const [h, p, s] = parts(raw(hdr(std)));
	add('empty-string', 'nothing at all', '', 'invalid_jws');
	add('one-part', 'no dot', h, 'invalid_jws');
	add('two-parts', 'header and payload only', h + '.' + p, 'invalid_jws');
	add('four-parts', 'an extra part', h + '.' + p + '.' + s + '.' + s, 'invalid_jws');
	add('only-dots', 'two dots and nothing else', '..', 'invalid_jws');
	add('empty-header', 'empty first part', '.' + p + '.' + s, 'invalid_jws');
	add('empty-signature', 'empty third part', h + '.' + p + '.', 'invalid_jws');
	add('signature-63-bytes', 'signature one byte short', h + '.' + p + '.' + b64u(Buffer.from(s, 'base64url').subarray(0, 63)), 'invalid_jws');
	add('signature-65-bytes', 'signature one byte long', h + '.' + p + '.' + b64u(Buffer.concat([Buffer.from(s, 'base64url'), Buffer.from([0])])), 'invalid_jws');
	add('trailing-newline', 'a newline after the signature', h + '.' + p + '.' + s + '\n', 'invalid_jws');
	add('leading-space', 'a space before the header', ' ' + h + '.' + p + '.' + s, 'invalid_jws');
	add('nul-byte', 'a NUL byte inside the payload part', h + '.' + p.slice(0, 8) + '\u0000' + p.slice(8) + '.' + s, 'invalid_jws');

	// ---- base64url ----
	const padded = (x) => x + '='.repeat((4 - x.length % 4) % 4);
	const stdB64 = (x) => Buffer.from(x, 'base64url').toString('base64').replace(/=+$/, '');
	if (h.length % 4 === 0 || p.length % 4 === 0)
		throw new Error('header or payload needs padding for the padding vectors');
	add('b64-header-padded', 'header part with = padding', padded(h) + '.' + p + '.' + s, 'invalid_jws');
	add('b64-payload-padded', 'payload part with = padding', h + '.' + padded(p) + '.' + s, 'invalid_jws');
	add('b64-signature-padded', 'signature part with == padding', h + '.' + p + '.' + padded(s), 'invalid_jws');
	{
		// find a validly signed payload whose part and signature need + and /
		let n = 0, pp, ss, jws;
		do {
			const body = Buffer.from(JSON.stringify({ jti: 'vector0000000000002', n: n++, x: '\u00fe\u00ff>?' }));
			jws = raw(hdr(std), body);
			[, pp, ss] = parts(jws);
		} while (!/[-_]/.test(pp) || !/-/.test(ss) || !/_/.test(ss));
		add('b64-payload-standard-alphabet', 'payload part in the +/ alphabet', h + '.' + stdB64(pp) + '.' + ss, 'invalid_jws');
		add('b64-signature-standard-alphabet', 'signature part in the +/ alphabet', h + '.' + pp + '.' + stdB64(ss), 'invalid_jws');
	}
	add('b64-header-bad-char', 'a * in the header part', h.slice(0, 5) + '*' + h.slice(6) + '.' + p + '.' + s, 'invalid_jws');
	add('b64-payload-bad-char', 'a ! in the payload part', h + '.' + p.slice(0, 5) + '!' + p.slice(6) + '.' + s, 'invalid_jws');
	add('b64-payload-space', 'a space in the payload part', h + '.' + p.slice(0, 5) + ' ' + p.slice(5) + '.' + s, 'invalid_jws');
	add('b64-signature-bad-char', 'a ~ in the signature part', h + '.' + p + '.' + s.slice(0, 40) + '~' + s.slice(41), 'invalid_jws');
	add('b64-payload-length-mod4-1', 'payload part of 4k+1 characters', h + '.' + (p.length % 4 === 0 ? p + 'A' : p.slice(0, p.length - p.length % 4 + 1)) + '.' + s, 'invalid_jws');
	add('b64-header-noncanonical', 'header part with non-zero trailing bits (same bytes to a lax decoder)', nonCanonical(h) + '.' + p + '.' + s, 'invalid_jws');
	{
		// for the payload, re-sign over the non-canonical text so a lax
		// decoder that then verifies the text as sent would accept it
		const pn = nonCanonical(p);
		const input = h + '.' + pn;
		add('b64-payload-noncanonical', 'payload part with non-zero trailing bits, signed as sent', input + '.' + b64u(edSign(A, input)), 'invalid_jws');
	}
	add('b64-signature-noncanonical', 'signature part with non-zero trailing bits: the same 64 bytes to a lax decoder', h + '.' + p + '.' + nonCanonical(s), 'invalid_jws');

	// ---- alg ----
	const hmac = (alg, secret, input) => crypto.createHmac(alg, secret).update(input).digest();
	add('alg-none', 'alg none, with an Ed25519 signature', raw(hdr({ ...std, alg: 'none' })), 'invalid_jws');
	{
		const hn = b64u(hdr({ alg: 'none', kid: A.kid }));
		add('alg-none-empty-signature', 'alg none in its usual form: empty signature', hn + '.' + p + '.', 'invalid_jws');
		const h2 = b64u(hdr({ alg: 'HS256', kid: A.kid }));
		add('alg-hs256', 'HS256 keyed with the public key bytes', h2 + '.' + p + '.' + b64u(hmac('sha256', A.raw, h2 + '.' + p)), 'invalid_jws');
		const h5 = b64u(hdr({ alg: 'HS512', kid: A.kid }));
		add('alg-hs512-64-byte-mac', 'HS512 keyed with the public key bytes: a 64-byte MAC', h5 + '.' + p + '.' + b64u(hmac('sha512', A.raw, h5 + '.' + p)), 'invalid_jws');
	}
	add('alg-es256', 'alg ES256 (with a 64-byte Ed25519 signature)', raw(hdr({ ...std, alg: 'ES256' })), 'invalid_jws');
	add('alg-lowercase', 'alg eddsa', raw(hdr({ ...std, alg: 'eddsa' })), 'invalid_jws');
	add('alg-ed25519', 'alg Ed25519 (the contract says EdDSA)', raw(hdr({ ...std, alg: 'Ed25519' })), 'invalid_jws');
	add('alg-trailing-space', 'alg "EdDSA "', raw(hdr({ ...std, alg: 'EdDSA ' })), 'invalid_jws');
	add('alg-array', 'alg ["EdDSA"]', raw(hdr({ ...std, alg: ['EdDSA'] })), 'invalid_jws');
	add('alg-null', 'alg null', raw(hdr({ ...std, alg: null })), 'invalid_jws');
	add('alg-missing', 'no alg member', raw(hdr({ kid: A.kid, typ: std.typ })), 'invalid_jws');

	// ---- kid ----
	add('kid-missing', 'no kid member', raw(hdr({ alg: 'EdDSA', typ: std.typ })), 'invalid_jws');
	add('kid-empty', 'kid ""', raw(hdr({ ...std, kid: '' })), 'invalid_jws');
	add('kid-invalid-chars', 'kid with / and a space', raw(hdr({ ...std, kid: 'refgate test/../a' })), 'invalid_jws');
	add('kid-non-ascii', 'kid with a non-ASCII letter', raw(hdr({ ...std, kid: 'refgate-t\u00e9st-a' })), 'invalid_jws');
	add('kid-too-long', 'kid of 129 characters', raw(hdr({ ...std, kid: 'k'.repeat(129) })), 'invalid_jws');
	add('kid-number', 'kid 42', raw(hdr({ ...std, kid: 42 })), 'invalid_jws');

	// ---- typ ----
	for (const [name, typ] of [['typ-jwt', 'JWT'], ['typ-json', 'application/json'],
		['typ-trailing-space', 'refgate-referral+json '], ['typ-empty', ''],
		['typ-prefix-only', 'application/'], ['typ-other-prefix', 'text/refgate-referral+json'],
		['typ-number', 1], ['typ-null', null]])
		add('bad-' + name, 'typ ' + JSON.stringify(typ), raw(hdr({ ...std, typ })), 'invalid_jws');

	// ---- refused members ----
	add('crit', 'crit naming a member', raw(hdr({ ...std, crit: ['exp'], exp: 1 })), 'invalid_jws');
	add('crit-empty', 'crit [] (present at all)', raw(hdr({ ...std, crit: [] })), 'invalid_jws');
	add('jku', 'jku URL', raw(hdr({ ...std, jku: 'https://attacker.example/jwks.json' })), 'invalid_jws');
	add('jwk-embedded', 'jwk naming key B, signed by key B', raw(hdr({ ...std, kid: B.kid, jwk: B.publicJwk }), payload, B), 'invalid_jws');
	add('jwk-null', 'jwk null (present at all)', raw(hdr({ ...std, jwk: null })), 'invalid_jws');
	add('x5u', 'x5u URL', raw(hdr({ ...std, x5u: 'https://attacker.example/cert.pem' })), 'invalid_jws');
	add('x5c', 'x5c chain', raw(hdr({ ...std, x5c: ['MIIBszCCAVmgAwIBAgIUAA'] })), 'invalid_jws');
	add('b64-member', 'RFC 7797 b64 (changes what is signed) is refused too', raw(hdr({ ...std, b64: true })), 'invalid_jws');

	// ---- header JSON ----
	add('duplicate-kid', 'kid twice', raw('{"alg":"EdDSA","kid":"' + A.kid + '","kid":"' + B.kid + '"}'), 'invalid_jws');
	add('duplicate-alg', 'alg none then alg EdDSA', raw('{"alg":"none","alg":"EdDSA","kid":"' + A.kid + '"}'), 'invalid_jws');
	add('duplicate-typ', 'typ twice', raw('{"alg":"EdDSA","kid":"' + A.kid + '","typ":"JWT","typ":"refgate-referral+json"}'), 'invalid_jws');
	add('header-array', 'header is a JSON array', raw('["EdDSA","' + A.kid + '"]'), 'invalid_jws');
	add('header-string', 'header is a JSON string', raw('"EdDSA"'), 'invalid_jws');
	add('header-null', 'header is null', raw('null'), 'invalid_jws');
	add('header-number', 'header is a number', raw('1'), 'invalid_jws');
	add('header-not-json', 'header is not JSON', raw('{alg:EdDSA,kid:' + A.kid + '}'), 'invalid_jws');
	add('header-trailing-garbage', 'a JSON object followed by more text', raw(hdr(std) + 'x'), 'invalid_jws');
	add('header-two-objects', 'two JSON objects', raw(hdr(std) + hdr(std)), 'invalid_jws');
	add('header-bom', 'a UTF-8 byte order mark before the object', raw(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(hdr(std))])), 'invalid_jws');
	add('header-invalid-utf8', 'a 0xff byte inside a string', raw(Buffer.from('{"alg":"EdDSA","kid":"' + A.kid + '","cty":"\u00ff"}', 'latin1')), 'invalid_jws');
	add('header-nul-escape', 'a \\u0000 inside a string', raw('{"alg":"EdDSA","kid":"' + A.kid + '\\u0000x"}'), 'invalid_jws');
	add('header-deep', 'an unknown member nested 64 deep', raw('{"alg":"EdDSA","kid":"' + A.kid + '","x":' + '['.repeat(64) + ']'.repeat(64) + '}'), 'invalid_jws');
	add('header-too-large', 'a protected header over 4 KiB', raw(hdr({ ...std, cty: 'c'.repeat(4200) })), 'invalid_jws');

	// ---- bad signatures (well formed) ----
	const good = parts(await joseSign(std));
	add('signature-other-key', 'kid A, signed by key B', raw(hdr(std), payload, B), 'bad_signature');
	{
		const tp = b64u(Buffer.from(payload.toString().replace('terrorist_content', 'other_illegal')));
		add('tampered-payload', 'payload changed after signing', good[0] + '.' + tp + '.' + good[2], 'bad_signature');
		const th = b64u(hdr({ alg: 'EdDSA', kid: A.kid }));
		add('tampered-header', 'typ removed after signing', th + '.' + good[1] + '.' + good[2], 'bad_signature');
		const sig = Buffer.from(good[2], 'base64url');
		sig[10] ^= 1;
		add('signature-bit-flip', 'one bit of R flipped', good[0] + '.' + good[1] + '.' + b64u(sig), 'bad_signature');
		add('signature-zero', '64 zero bytes', good[0] + '.' + good[1] + '.' + b64u(Buffer.alloc(64)), 'bad_signature');
		// S + L: the same signature to a verifier that does not insist on S < L
		const s0 = Buffer.from(good[2], 'base64url');
		let S = BigInt('0x' + Buffer.from(s0.subarray(32)).reverse().toString('hex')) + L;
		const S2 = Buffer.from(S.toString(16).padStart(64, '0'), 'hex').reverse();
		add('signature-s-not-reduced', 'S replaced by S + L (malleability)', good[0] + '.' + good[1] + '.' + b64u(Buffer.concat([s0.subarray(0, 32), S2])), 'bad_signature');
	}

	// self-check against jose: every ok vector verifies, every bad_signature
	// vector fails verification
	for (const v of vectors) {
		if (v.expect === 'invalid_jws')
			continue;
		let ok;
		try {
			await jose.compactVerify(v.jws, A.pub, { algorithms: ['EdDSA'] });
			ok = true;
		} catch (e) {
			ok = false;
		}
		if (ok !== (v.expect === 'ok'))
			throw new Error('jose disagrees on ' + v.name);
	}

	for (const f of fs.readdirSync(OUT))
		if (f.endsWith('.json'))
			fs.unlinkSync(path.join(OUT, f));
	for (const v of vectors)
		fs.writeFileSync(path.join(OUT, v.name + '.json'), JSON.stringify(v, null, 1) + '\n');
	console.log('wrote ' + vectors.length + ' vectors to ' + OUT);
}

main().catch((e) => {
	console.error(String(e && e.stack || e));
	process.exit(1);
});
