// raw.mjs - sends raw bytes on one TLS connection to 127.0.0.1 and
// writes back everything the server sends, for t_robust_http.sh.
//
//   node raw.mjs --port P --ca CA [--cert C --key K] --in FILE [--idle MS]
//
// FILE's bytes go out exactly as they are, in one write. The answer is
// copied to stdout until the server closes the connection or sends
// nothing for --idle ms (default 1500) or 15 s passed; then a last line
// on stderr: "raw: closed-by-server" or "raw: still-open".
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

function die(m) { process.stderr.write('raw.mjs: ' + m + '\n'); process.exit(2); }
const argv = process.argv.slice(2);
const o = { idle: 1500 };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => { if (i + 1 >= argv.length) die('missing value for ' + a); return argv[++i]; };
  switch (a) {
    case '--port': o.port = +next(); break;
    case '--ca': o.ca = readFileSync(next()); break;
    case '--cert': o.cert = readFileSync(next()); break;
    case '--key': o.key = readFileSync(next()); break;
    case '--in': o.data = readFileSync(next()); break;
    case '--idle': o.idle = +next(); break;
    default: die('unknown option ' + a);
  }
}
if (!o.port || !o.data) die('--port and --in required');

let timer = null;
const end = (how) => { process.stderr.write('raw: ' + how + '\n'); process.exit(0); };
const s = tls.connect({ host: '127.0.0.1', port: o.port, servername: 'localhost', ca: o.ca,
  cert: o.cert, key: o.key, rejectUnauthorized: !!o.ca }, () => {
  s.write(o.data);
  timer = setTimeout(() => end('still-open'), o.idle);
});
s.on('data', (d) => {
  process.stdout.write(d);
  if (timer) { clearTimeout(timer); timer = setTimeout(() => end('still-open'), o.idle); }
});
s.on('error', (e) => process.stderr.write('raw: error ' + (e.code || e.message) + '\n'));
s.on('close', () => end('closed-by-server'));
setTimeout(() => end('still-open'), 15000);
