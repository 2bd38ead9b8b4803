#!/bin/sh
# tests/fuzz/make-seeds.sh - (re)generates the seed corpora in
# tests/fuzz/seeds/<target>/ from the repo's test data. The seeds are
# committed (small files, deterministic output); run this after the test
# vectors or unit tables change, then review and commit the diff.
#   jws        proto/vectors/*.json "jws" strings (at most 8 KiB), and for
#              each, "<decoded header>\0<decoded payload>" (the target
#              signs those itself)
#   referral   'C' (role agency) or 'B' (partner) + payload JSON: the
#              vectors' payloads and full_payload of tests/unit/test_referral.c
#   normalise  URLs, handles, account ids and subjects (account\nhandle\nurl)
#              of tests/unit/test_normalise.c's tables, plus a few more
#   conf       a complete refgate.conf as refgatectl init writes it, and
#              small variants
#   policy     the default policy and variants
# Needs node (scripts/install-deps.sh installs it).
set -eu
cd "$(dirname "$0")/../.."
SEEDS=tests/fuzz/seeds
for t in jws referral normalise conf policy; do
	rm -rf "$SEEDS/$t"
	mkdir -p "$SEEDS/$t"
done

node - "$SEEDS" <<'JS'
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const SEEDS = process.argv[2];
const seen = {};

/* Writes one seed unless the target already has the same bytes. */
function put(target, name, data) {
	const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
	const h = crypto.createHash('sha1').update(buf).digest('hex');
	seen[target] = seen[target] || new Set();
	if (seen[target].has(h))
		return;
	seen[target].add(h);
	name = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
	let file = path.join(SEEDS, target, name);
	for (let i = 2; fs.existsSync(file); i++)
		file = path.join(SEEDS, target, `${name}-${i}`);
	fs.writeFileSync(file, buf);
}

/* The bytes of the C string literal body s (escapes resolved). */
function cbytes(s) {
	const out = [];
	for (let i = 0; i < s.length; i++) {
		if (s[i] !== '\\') {
			out.push(...Buffer.from(s[i], 'utf8'));
			continue;
		}
		const c = s[++i];
		const simple = {n: 10, t: 9, r: 13, '0': 0, '"': 34, '\\': 92, "'": 39};
		if (c === 'x') {
			let hex = '';
			while (hex.length < 2 && /[0-9a-fA-F]/.test(s[i + 1] || ''))
				hex += s[++i];
			out.push(parseInt(hex, 16));
		} else if (c in simple) {
			out.push(simple[c]);
		} else {
			out.push(...Buffer.from(c, 'utf8'));
		}
	}
	return Buffer.from(out);
}
const LIT = /"((?:[^"\\\n]|\\.)*)"/g;
function literals(text) {
	return [...text.matchAll(LIT)].map(m => cbytes(m[1]));
}

/* --- jws and referral, from the vectors --- */
const vdir = 'proto/vectors';
for (const f of fs.readdirSync(vdir).filter(f => f.endsWith('.json')).sort()) {
	const v = JSON.parse(fs.readFileSync(path.join(vdir, f), 'utf8'));
	const name = f.replace(/\.json$/, '');
	if (typeof v.jws !== 'string')
		continue;
	if (v.jws.length <= 8192)
		put('jws', `v-${name}`, v.jws);
	const parts = v.jws.split('.');
	if (parts.length < 2)
		continue;
	const hdr = Buffer.from(parts[0], 'base64url');
	const pay = Buffer.from(parts[1], 'base64url');
	if (hdr.length + pay.length < 8192)
		put('jws', `s-${name}`, Buffer.concat([hdr, Buffer.from([0]), pay]));
	if (pay.length > 0 && pay.length < 8192 && pay[0] === 0x7b)
		put('referral', `C-${name}.json`,
		    Buffer.concat([Buffer.from('C'), pay]));
}

/* --- referral, from the unit tests --- */
const tref = fs.readFileSync('tests/unit/test_referral.c', 'utf8');
const fp = tref.match(/full_payload\[\] =([\s\S]*?);/);
if (fp) {
	const full = Buffer.concat(literals(fp[1]));
	put('referral', 'C-full_payload.json', Buffer.concat([Buffer.from('C'), full]));
	put('referral', 'B-full_payload.json', Buffer.concat([Buffer.from('B'), full]));
}
/* single-literal JSON objects in the referral tests */
let k = 0;
for (const lit of literals(tref)) {
	try {
		const v = JSON.parse(lit.toString('utf8'));
		if (v && typeof v === 'object' && !Array.isArray(v))
			put('referral', `C-t${k++}.json`,
			    Buffer.concat([Buffer.from('C'), lit]));
	} catch (e) { /* not JSON */ }
}
put('referral', 'B-minimal.json',
    'B{"jti":"0123456789abcdef","iat":1795874591,"category":"hate_speech",' +
    '"subjects":[{"url":"https://x.com/i/user/42"}]}');

/* --- normalise, from the unit tables --- */
const tnorm = fs.readFileSync('tests/unit/test_normalise.c', 'utf8');
let n = 0;
for (const line of tnorm.split('\n')) {
	const m = line.match(/^\s*\{("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*"|NULL|REFUSED)/);
	if (!m)
		continue;
	const lits = literals(line.replace(/REFUSED\(.*$/, ''));
	/* subjects: three literals then RG_... */
	if (/RG_(OK|E[A-Z]+)/.test(line) && lits.length >= 3)
		put('normalise', `subject-${n++}`,
		    Buffer.concat([lits[0], Buffer.from('\n'), lits[1],
				   Buffer.from('\n'), lits[2]]));
	else
		put('normalise', `t-${n++}`, lits[0]);
}
for (const u of [
	'https://x.com/foo', 'https://twitter.com/Foo/status/1234567890',
	'https://mobile.twitter.com/i/user/000123', 'http://www.x.com:80/foo/likes',
	'https://x.com/i/web/status/1', 'https://x.com/foo/statuses/42?s=20#x',
	'@Foo_1', '000123', '42\n@foo\nhttps://x.com/foo/status/9',
	'foo\nhttps://x.com/i/user/42',
])
	put('normalise', `extra-${n++}`, u);

/* --- conf --- */
const conf = `# refgate.conf - configuration of one refgate gateway, written by
# \`refgatectl init\`.

## Network
listen = 127.0.0.1:8443
hostname = localhost
metrics_listen = off

## TLS
tls_cert = server/cert.pem
tls_key = server/key.pem
client_ca = ca/ca.pem
client_ca_key = ca/ca.key

## Storage and keys
database = data/refgate.db
receipt_key = keys/receipt.key
data_key = keys/data.key
index_key = keys/index.key
policy = policy.json
max_db_pages = 0

## refgatectl's legal credentials
admin_cert = principals/legal/cert.pem
admin_key = principals/legal/key.pem
admin_ca = principals/legal/ca.pem

## The platform
platform_hosts = twitter.com, x.com
host_prefixes = www, mobile, m

## Limits
iat_skew = 300
threads = 0
max_connections = 1000
connection_timeout = 30
max_body = 65536
long_poll_max = 10000
access_key_max_days = 90
`;
put('conf', 'refgate.conf', conf);
put('conf', 'empty.conf', '');
put('conf', 'v6.conf', 'listen = [::1]:9000\r\nhostname = 10.0.0.5\r\n' +
    'metrics_listen = [::1]:9443\r\n');
put('conf', 'values.conf', '# comment\n\n  listen = 127.0.0.2:9000  \r\n' +
    'hostname=gw.example\nplatform_hosts = Example.COM, ex.org\n' +
    'host_prefixes = www\niat_skew = 60\nthreads = 4\n' +
    'max_connections = 10\nconnection_timeout = 5\nmax_body = 1024\n' +
    'database = /var/lib/refgate/db\nmetrics_listen = 127.0.0.1:9100\n' +
    'max_db_pages = 100');
put('conf', 'bad-key.conf', 'listen = 127.0.0.1:8443\nunknown = 1\n');

/* --- policy --- */
const def = {version: 1, audiences: {
	referrer: {
		case: ['case_id', 'status', 'action', 'opened_at', 'updated_at',
		       'decided_at', 'deadline_at'],
		referral: ['referral_id', 'partner_ref', 'received_at', 'cases'],
		own_referrals: ['referral_id', 'partner_ref'],
	},
	status_key: {case: ['case_id', 'status']},
	disclosure_key: {case: ['case_id', 'status', 'account_id', 'handle']},
	reviewer: {case: ['*'], referral: ['*']},
	legal: {case: [], referral: []},
}};
put('policy', 'default.json', JSON.stringify(def));
put('policy', 'default-pretty.json', JSON.stringify(def, null, 2) + '\n');
put('policy', 'all.json', JSON.stringify({version: 1, audiences: {
	referrer: {case: ['*'], referral: ['*'], own_referrals: ['*']},
	legal: {case: ['referrals', 'identifiers', 'decisions', 'new_case']},
}}));
put('policy', 'own.json', JSON.stringify({version: 1, audiences: {
	referrer: {case: ['case_id', 'referral_count'],
		   own_referrals: ['referral_id', 'principal', 'summary']},
}}));
put('policy', 'empty.json', '{"version":1,"audiences":{}}');
put('policy', 'bad-field.json',
    '{"version":1,"audiences":{"referrer":{"case":["case_id","nope"]}}}');
JS

cat "$SEEDS"/*/* | wc -c | awk '{print "make-seeds: " $1 " bytes in all"}'
for t in jws referral normalise conf policy; do
	printf 'make-seeds: %s %s files\n' "$t" "$(ls "$SEEDS/$t" | wc -l)"
done
