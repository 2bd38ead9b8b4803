// sign.mjs - signs a referral payload as a partner would, with the npm `jose`
// package (an implementation refgate did not write), and forges the bad
// tokens the integration tests need.
//
//   node sign.mjs --jwk PRIVATE.jwk --payload FILE [options]   > token
//   node sign.mjs --jwk PRIVATE.jwk --batch DIR                 (every DIR/*.json -> DIR/*.jws)
//   node sign.mjs --genkey PRIV.jwk PUB.jwk                     (new Ed25519 pair, kid = RFC 7638 thumbprint)
//
// Options:
//   --typ T          protected header typ (default refgate-referral+json)
//   --no-typ         no typ member
//   --kid K          use K as kid instead of the JWK's kid
//   --no-kid         no kid member
//   --alg A          EdDSA (default) | none | HS256 | ES256: the last two sign
//                    with a throw-away key of the right type, none has an
//                    empty signature
//   --header JSON    extra protected header members, merged last
//                    (e.g. '{"crit":["exp"],"exp":1}', '{"jku":"https://x"}');
//                    a member set to null is removed ('{"alg":null}')
//   --jwk-header     put the signer's public JWK into the header (jwk member)
//   --raw-header S   use exactly S as the protected header text
//   --bad-sig        flip one bit of the signature
//   --ed-sig         whatever the header says (alg, typ, crit, ...), sign the
//                    token by hand with the signer's Ed25519 key: a 64-byte
//                    signature that verifies, so only a header rule can
//                    refuse the token
//   --make MEMBERS   first write a fresh valid payload to the --payload file:
//                    new jti, current iat, category terrorist_content, one
//                    random handle, overridden by MEMBERS, the body of a JS
//                    object literal (now, rnd(n) in scope; a member set to
//                    undefined is removed)
//
// jose is loaded from $RG_NM (a node_modules folder, default
// /tmp/rg-test-node/node_modules).
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import crypto from 'node:crypto';

const NM = process.env.RG_NM || '/tmp/rg-test-node/node_modules';
const require = createRequire(NM + '/');
const jose = require('jose');

function die(msg) { process.stderr.write('sign.mjs: ' + msg + '\n'); process.exit(2); }

const args = process.argv.slice(2);
const o = { typ: 'refgate-referral+json', alg: 'EdDSA', header: {} };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => { if (i + 1 >= args.length) die('missing value for ' + a); return args[++i]; };
  switch (a) {
    case '--jwk': o.jwk = next(); break;
    case '--payload': o.payload = next(); break;
    case '--batch': o.batch = next(); break;
    case '--genkey': o.genkey = [next(), next()]; break;
    case '--typ': o.typ = next(); break;
    case '--no-typ': o.typ = undefined; break;
    case '--kid': o.kid = next(); break;
    case '--no-kid': o.noKid = true; break;
    case '--alg': o.alg = next(); break;
    case '--header': o.header = { ...o.header, ...JSON.parse(next()) }; break;
    case '--jwk-header': o.jwkHeader = true; break;
    case '--raw-header': o.rawHeader = next(); break;
    case '--bad-sig': o.badSig = true; break;
    case '--ed-sig': o.edSig = true; break;
    case '--make': o.make = next(); break;
    default: die('unknown option ' + a);
  }
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');

async function genkey([privPath, pubPath]) {
  const { publicKey, privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const pub = await jose.exportJWK(publicKey);
  const priv = await jose.exportJWK(privateKey);
  const kid = await jose.calculateJwkThumbprint(pub);
  writeFileSync(privPath, JSON.stringify({ ...priv, kid, alg: 'EdDSA' }) + '\n', { mode: 0o600 });
  writeFileSync(pubPath, JSON.stringify({ ...pub, kid, alg: 'EdDSA' }) + '\n');
}

function makePayload(members) {
  const now = Math.floor(Date.now() / 1000);
  const rnd = (n) => crypto.randomBytes(n || 6).toString('hex');
  const p = { jti: crypto.randomBytes(18).toString('base64url'), iat: now,
    category: 'terrorist_content', subjects: [{ handle: '@Acct_' + rnd(5) }] };
  const m = (new Function('now', 'rnd', 'return ({' + members + '})'))(now, rnd);
  for (const k of Object.keys(m)) { if (m[k] === undefined) delete p[k]; else p[k] = m[k]; }
  return JSON.stringify(p);
}

async function signOne(jwk, key, payload) {
  const kid = o.noKid ? undefined : (o.kid !== undefined ? o.kid : jwk.kid);
  const hdr = { alg: o.alg };
  if (kid !== undefined) hdr.kid = kid;
  if (o.typ !== undefined) hdr.typ = o.typ;
  if (o.jwkHeader) {
    const { d, ...pub } = jwk;
    hdr.jwk = pub;
  }
  Object.assign(hdr, o.header);
  for (const k of Object.keys(hdr)) if (hdr[k] === null) delete hdr[k];

  let token;
  const forged = o.edSig || o.rawHeader !== undefined || o.alg === 'none' || hdr.crit !== undefined;
  if (!forged && o.alg === 'EdDSA') {
    token = await new jose.CompactSign(payload).setProtectedHeader(hdr).sign(key);
  } else if (!forged && (o.alg === 'HS256' || o.alg === 'ES256')) {
    const k = o.alg === 'HS256' ? crypto.randomBytes(32)
      : (await jose.generateKeyPair('ES256')).privateKey;
    token = await new jose.CompactSign(payload).setProtectedHeader(hdr).sign(k);
  } else {
    // Built by hand: jose refuses to produce these on purpose.
    const h = o.rawHeader !== undefined ? o.rawHeader : JSON.stringify(hdr);
    const input = b64u(Buffer.from(h, 'utf8')) + '.' + b64u(payload);
    let sig = '';
    if (o.edSig || o.alg === 'EdDSA') sig = b64u(crypto.sign(null, Buffer.from(input), key));
    else if (o.alg === 'HS256') sig = b64u(crypto.createHmac('sha256', crypto.randomBytes(32)).update(input).digest());
    else if (o.alg !== 'none') die('cannot forge alg ' + o.alg);
    token = input + '.' + sig;
  }
  if (o.badSig) {
    const parts = token.split('.');
    const s = Buffer.from(parts[2], 'base64url');
    if (s.length === 0) die('--bad-sig with an empty signature');
    s[s.length >> 1] ^= 0x01;
    parts[2] = b64u(s);
    token = parts.join('.');
  }
  return token;
}

async function main() {
  if (o.genkey) return genkey(o.genkey);
  if (!o.jwk) die('--jwk required');
  const jwk = JSON.parse(readFileSync(o.jwk, 'utf8'));
  if (!jwk.d) die(o.jwk + ' is not a private JWK');
  const key = await jose.importJWK(jwk, 'EdDSA');
  if (o.batch) {
    for (const f of readdirSync(o.batch).filter((n) => n.endsWith('.json')).sort()) {
      const p = o.batch + '/' + f;
      writeFileSync(p.replace(/\.json$/, '.jws'), await signOne(jwk, key, readFileSync(p)));
    }
    return;
  }
  if (!o.payload) die('--payload required');
  if (o.make !== undefined) writeFileSync(o.payload, makePayload(o.make));
  process.stdout.write(await signOne(jwk, key, readFileSync(o.payload)));
}

main().catch((e) => die(String(e && e.stack || e)));
