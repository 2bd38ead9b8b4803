// load.mjs - sustained referral submissions from several principals, for
// the crash scenario (t_robust_crash.sh), and the check that what was
// answered can be read back.
//
//   node load.mjs submit --port P --out FILE --stop FILE [--pool N] [--rate R] [--max-s S] DIR...
//       One client per DIR (a principal's folder: cert.pem, key.pem,
//       ca.pem, signing.jwk), each on its own keep-alive connection,
//       submitting fresh referrals at R a second (default 20) until the stop
//       file exists (or --max-s seconds passed). Subjects come from a
//       shared pool of handles and account ids so that clients dedup into
//       and merge the same cases. A request that got no HTTP answer
//       (daemon killed) is retried with the byte-identical JWS until it
//       gets one (at most 200 tries). One line per attempt is appended to
//       FILE:  "<dir-basename> <status> <referral_id|-> <jti> <try>"
//       (status 000: no HTTP answer).
//   node load.mjs verify --port P --ids FILE [--conc N] DIR...
//       FILE holds lines "<dir-basename> <referral_id>"; GETs each
//       /v1/referrals/{id} as that principal. Prints "# missing ..." lines
//       for each failure and a last line "checked N failed M".
//
// jose is loaded from $RG_NM (default /tmp/rg-test-node/node_modules).
// Everything goes to 127.0.0.1, with SNI and certificate name localhost.
import { createRequire } from 'node:module';
import { readFileSync, appendFileSync, existsSync } from 'node:fs';
import { basename } from 'node:path';
import https from 'node:https';
import crypto from 'node:crypto';

const NM = process.env.RG_NM || '/tmp/rg-test-node/node_modules';
const jose = createRequire(NM + '/')('jose');

function die(m) { process.stderr.write('load.mjs: ' + m + '\n'); process.exit(2); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const argv = process.argv.slice(2);
const mode = argv.shift();
const o = { pool: 300, rate: 20, maxS: 600, conc: 8, dirs: [] };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => { if (i + 1 >= argv.length) die('missing value for ' + a); return argv[++i]; };
  switch (a) {
    case '--port': o.port = +next(); break;
    case '--out': o.out = next(); break;
    case '--stop': o.stop = next(); break;
    case '--pool': o.pool = +next(); break;
    case '--rate': o.rate = +next(); break;
    case '--max-s': o.maxS = +next(); break;
    case '--ids': o.ids = next(); break;
    case '--conc': o.conc = +next(); break;
    default: if (a.startsWith('--')) die('unknown option ' + a); o.dirs.push(a);
  }
}
if (!o.port) die('--port required');

function principal(dir) {
  return {
    name: basename(dir), dir,
    agent: new https.Agent({
      keepAlive: true, maxSockets: 1,
      cert: readFileSync(dir + '/cert.pem'), key: readFileSync(dir + '/key.pem'),
      ca: readFileSync(dir + '/ca.pem'), servername: 'localhost',
    }),
  };
}

// One request; resolves { code, body } (code '000' without an HTTP answer).
function request(p, method, path, headers, body) {
  return new Promise((resolve) => {
    const r = https.request({ host: '127.0.0.1', port: o.port, method, path, headers,
      agent: p.agent, servername: 'localhost', timeout: 20000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ code: String(res.statusCode), body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ code: '000', body: '' }));
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', () => resolve({ code: '000', body: '' }));
    if (body) r.write(body);
    r.end();
  });
}

// Subjects from a pool of P accounts: handle rob_K, account id 700000+K
// and profile URLs all name account K, so a subject giving two of them
// merges the cases opened for each, but accounts never merge with others.
function payload(rnd) {
  const pick = (n) => rnd.randomInt(n);
  const subjects = [];
  const n = 1 + (pick(10) < 7 ? 0 : pick(3));
  for (let k = 0; k < n; k++) {
    const a = pick(o.pool), s = {};
    const kind = pick(10);
    if (kind < 5) s.handle = 'rob_' + a;
    else if (kind < 7) { s.handle = 'Rob_' + a; s.account_id = String(700000 + a); }
    else if (kind < 8) s.account_id = '00' + (700000 + a);
    else s.url = 'https://mobile.x.com/rob_' + a + '/status/' + (1 + pick(1e9));
    subjects.push(s);
  }
  return JSON.stringify({
    jti: crypto.randomBytes(18).toString('base64url'), iat: Math.floor(Date.now() / 1000),
    category: 'violent_extremism', urgency: ['routine', 'urgent', 'imminent_harm'][pick(3)],
    partner_ref: 'rob-' + pick(1e6), subjects,
    summary: 'robustness run ' + crypto.randomBytes(24).toString('hex'),
  });
}

async function submitter(p, t0) {
  const jwk = JSON.parse(readFileSync(p.dir + '/signing.jwk', 'utf8'));
  const key = await jose.importJWK(jwk, 'EdDSA');
  const stopped = () => (o.stop && existsSync(o.stop)) || Date.now() - t0 > o.maxS * 1000;
  let due = Date.now();
  while (!stopped()) {
    due += 1000 / o.rate;                 // a steady pace, not a flood
    if (due > Date.now()) await sleep(due - Date.now()); else due = Date.now();
    const pl = payload(crypto);
    const jti = JSON.parse(pl).jti;
    const jws = await new jose.CompactSign(new TextEncoder().encode(pl))
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'refgate-referral+json' }).sign(key);
    for (let tr = 1; tr <= 200; tr++) {
      const r = await request(p, 'POST', '/v1/referrals',
        { 'Content-Type': 'application/jose', 'Content-Length': Buffer.byteLength(jws) }, jws);
      let rid = '-';
      try { rid = JSON.parse(r.body).referral_id || '-'; } catch (e) { /* not JSON */ }
      appendFileSync(o.out, `${p.name} ${r.code} ${rid} ${jti} ${tr}\n`);
      if (r.code !== '000') break;
      await sleep(50);          // the daemon is down or restarting
      if (tr > 1 && stopped()) break;
    }
  }
}

async function verify() {
  const ps = new Map(o.dirs.map((d) => [basename(d), principal(d)]));
  for (const p of ps.values()) p.agent.maxSockets = 2;
  const lines = readFileSync(o.ids, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
  let i = 0, failed = 0;
  const worker = async () => {
    while (i < lines.length) {
      const [who, rid] = lines[i++];
      const p = ps.get(who);
      if (!p) { failed++; console.log(`# missing ${rid}: no principal ${who}`); continue; }
      let r;
      for (let tr = 0; tr < 3; tr++) {        // a 000 only: connection trouble
        r = await request(p, 'GET', '/v1/referrals/' + rid, {});
        if (r.code !== '000') break;
        await sleep(200);
      }
      let same = false;
      try { same = JSON.parse(r.body).referral_id === rid; } catch (e) { /* not JSON */ }
      if (r.code !== '200' || !same) {
        failed++;
        if (failed <= 5) console.log(`# missing ${rid} (${who}): HTTP ${r.code} ${r.body.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.conc }, worker));
  console.log(`checked ${lines.length} failed ${failed}`);
  for (const p of ps.values()) p.agent.destroy();
}

if (mode === 'submit') {
  if (!o.out) die('--out required');
  const t0 = Date.now();
  await Promise.all(o.dirs.map((d) => submitter(principal(d), t0)));
  process.exit(0);
} else if (mode === 'verify') {
  if (!o.ids) die('--ids required');
  await verify();
  process.exit(0);
} else {
  die('mode: submit | verify');
}
