// storm.mjs - resource-exhaustion clients for t_robust_exhaustion.sh. Every
// mode is bounded by --secs, talks to 127.0.0.1 only, writes the --ready
// file once its connections are up (or the mode is under way), and prints
// one JSON summary line on stdout when done.
//
//   node storm.mjs MODE --port P --ca CA [--cert C --key K] [--n N]
//                  [--secs S] [--ready FILE] [--path PATH] [--conc C]
//
//   slowloris  N TLS connections sending a request header one byte a
//              second for S seconds (never finishing it).
//              {opened, failed, closedEarly, bytesSent}
//   idle       N TLS connections, handshake done, nothing sent, held S s.
//              {opened, failed, closedEarly}
//   tcp        N TCP connections without a TLS handshake, held S s.
//              {opened, failed, closedEarly}
//   flood      C keep-alive connections sending GET PATH back to back for
//              S seconds. {requests, codes: {status: count}, rps, maxMs}
//   polls      N GET PATH (a long poll) at once on N keep-alive
//              connections; waits until all answered or S seconds.
//              {sent, answered, codes, withChanges, firstMs, lastMs,
//               errors} (times from the moment the ready file was written)
//   conns      N TLS connections at once, each sending one keep-alive
//              GET PATH and reading the answer's status; then (ready) held
//              S seconds. {opened, codes, closedByServer: {status: count
//              of connections the server closed after that answer},
//              stillOpen}
import tls from 'node:tls';
import net from 'node:net';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';

function die(m) { process.stderr.write('storm.mjs: ' + m + '\n'); process.exit(2); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const argv = process.argv.slice(2);
const mode = argv.shift();
const o = { n: 100, secs: 10, conc: 16, path: '/v1/keys' };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => { if (i + 1 >= argv.length) die('missing value for ' + a); return argv[++i]; };
  switch (a) {
    case '--port': o.port = +next(); break;
    case '--ca': o.ca = readFileSync(next()); break;
    case '--cert': o.cert = readFileSync(next()); break;
    case '--key': o.key = readFileSync(next()); break;
    case '--n': o.n = +next(); break;
    case '--secs': o.secs = +next(); break;
    case '--ready': o.ready = next(); break;
    case '--path': o.path = next(); break;
    case '--conc': o.conc = +next(); break;
    default: die('unknown option ' + a);
  }
}
if (!o.port) die('--port required');
// One secure context for every connection (building one per connection,
// as tls.connect does from ca/cert/key, costs more than the handshake).
let ctx;
const tlsOpts = () => {
  ctx = ctx || tls.createSecureContext({ ca: o.ca, cert: o.cert, key: o.key });
  return { host: '127.0.0.1', port: o.port, servername: 'localhost', secureContext: ctx,
    rejectUnauthorized: !!o.ca };
};
const ready = () => { if (o.ready) writeFileSync(o.ready, String(Date.now())); };
const out = (x) => { process.stdout.write(JSON.stringify({ mode, ...x }) + '\n'); };

// Opens n connections, 100 at a time; each resolves when established
// (or failed). Returns the sockets that are up and a closedEarly counter.
async function openMany(n, connect) {
  const st = { socks: [], failed: 0, closedEarly: 0, done: false, errors: {}, t0: Date.now(), lifeMs: [] };
  const one = () => new Promise((resolve) => {
    let up = false, tUp = 0;
    const s = connect(() => { up = true; tUp = Date.now(); st.socks.push(s); resolve(); });
    s.setTimeout(30000);
    s.on('timeout', () => s.destroy(new Error('connect timeout')));
    s.on('error', (e) => { const k = e.code || e.message; st.errors[k] = (st.errors[k] || 0) + 1; });
    s.on('close', () => {
      if (!up) { st.failed++; resolve(); } else if (!st.done) { st.closedEarly++; st.lifeMs.push(Date.now() - tUp); }
    });
  });
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, one));
  }
  for (const s of st.socks) s.setTimeout(0);
  st.openMs = Date.now() - st.t0;
  return st;
}

async function hold(n, connect, dripper) {
  const st = await openMany(n, connect);
  ready();
  const t0 = Date.now();
  let bytes = 0;
  while (Date.now() - t0 < o.secs * 1000) {
    await sleep(1000);
    if (dripper) for (const s of st.socks) if (!s.destroyed) { s.write(dripper()); bytes++; }
  }
  st.done = true;
  const stillOpen = st.socks.filter((s) => !s.destroyed).length;
  for (const s of st.socks) s.destroy();
  out({ n, opened: st.socks.length, failed: st.failed, closedEarly: st.closedEarly, stillOpen,
    bytesSent: bytes, errors: st.errors, openMs: st.openMs,
    closedAfterMs: st.lifeMs.length ? [Math.min(...st.lifeMs), Math.max(...st.lifeMs)] : [] });
}

async function flood() {
  const agent = new https.Agent({ keepAlive: true, maxSockets: o.conc, ...tlsOpts() });
  const codes = {};
  let requests = 0, maxMs = 0;
  const t0 = Date.now();
  ready();
  const worker = async () => {
    while (Date.now() - t0 < o.secs * 1000) {
      const s = Date.now();
      const code = await new Promise((resolve) => {
        const r = https.request({ ...tlsOpts(), path: o.path, agent, timeout: 20000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
          res.on('error', () => resolve('000'));
        });
        r.on('timeout', () => r.destroy(new Error('timeout')));
        r.on('error', () => resolve('000'));
        r.end();
      });
      requests++;
      codes[code] = (codes[code] || 0) + 1;
      maxMs = Math.max(maxMs, Date.now() - s);
      if (code === '000') await sleep(50);
    }
  };
  await Promise.all(Array.from({ length: o.conc }, worker));
  agent.destroy();
  const secs = (Date.now() - t0) / 1000;
  out({ conc: o.conc, requests, codes, rps: Math.round(requests / secs), maxMs });
}

async function polls() {
  const agent = new https.Agent({ keepAlive: true, maxSockets: o.n, ...tlsOpts() });
  const codes = {};
  let answered = 0, withChanges = 0, errors = 0, sent = 0, tReady = 0;
  const times = [];
  const all = [];
  for (let i = 0; i < o.n; i++) {
    all.push(new Promise((resolve) => {
      const r = https.request({ ...tlsOpts(), path: o.path, agent, timeout: (o.secs + 5) * 1000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          answered++;
          codes[res.statusCode] = (codes[res.statusCode] || 0) + 1;
          try { if (JSON.parse(Buffer.concat(chunks).toString()).changes.length > 0) withChanges++; } catch (e) { /* not JSON */ }
          times.push(Date.now());
          resolve();
        });
      });
      r.on('timeout', () => r.destroy(new Error('timeout')));
      r.on('error', () => { errors++; resolve(); });
      r.on('finish', () => { if (++sent === o.n) { tReady = Date.now(); ready(); } });
      r.end();
    }));
    if (i % 100 === 99) await sleep(20);
  }
  await Promise.race([Promise.all(all), sleep(o.secs * 1000)]);
  agent.destroy();
  times.sort((a, b) => a - b);
  out({ n: o.n, sent, answered, codes, withChanges, errors,
    firstMs: times.length ? times[0] - tReady : -1, lastMs: times.length ? times[times.length - 1] - tReady : -1 });
}

async function conns() {
  const codes = {}, closedByServer = {};
  const socks = [];
  let done = false;
  const one = () => new Promise((resolve) => {
    let buf = '', code = null;
    const s = tls.connect(tlsOpts(), () => {
      socks.push(s);
      s.write('GET ' + o.path + ' HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
    s.setTimeout(30000);
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('data', (d) => {
      if (code) return;
      buf += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      if (m && buf.includes('\r\n\r\n')) { code = m[1]; codes[code] = (codes[code] || 0) + 1; resolve(); }
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (!code) { codes['000'] = (codes['000'] || 0) + 1; resolve(); }
      else if (!done) closedByServer[code] = (closedByServer[code] || 0) + 1;
    });
  });
  await Promise.all(Array.from({ length: o.n }, one));
  await sleep(500);          // the server's close after a refusal arrives
  ready();
  await sleep(o.secs * 1000);
  done = true;
  const stillOpen = socks.filter((s) => !s.destroyed).length;
  for (const s of socks) s.destroy();
  out({ n: o.n, opened: socks.length, codes, closedByServer, stillOpen });
}

const tlsConnect = (cb) => tls.connect(tlsOpts(), cb);
const tcpConnect = (cb) => net.connect({ host: '127.0.0.1', port: o.port }, cb);

switch (mode) {
  case 'slowloris': {
    // the request line and Host first, then a header value that never ends
    const head = 'GET ' + o.path + ' HTTP/1.1\r\nHost: localhost\r\nX-Slow: ';
    const con = (cb) => tls.connect(tlsOpts(), function () { this.write(head); cb(); });
    await hold(o.n, con, () => 'a');
    break;
  }
  case 'idle': await hold(o.n, tlsConnect, null); break;
  case 'tcp': await hold(o.n, tcpConnect, null); break;
  case 'flood': await flood(); break;
  case 'polls': await polls(); break;
  case 'conns': await conns(); break;
  default: die('mode: slowloris | idle | tcp | flood | polls | conns');
}
process.exit(0);
