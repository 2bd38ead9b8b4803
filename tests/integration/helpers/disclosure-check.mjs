// disclosure-check.mjs - the disclosure property test of t_policy.sh.
//
// For every endpoint that answers case or referral data and every audience
// of a plan, the members of the answer must be exactly what the policy FILE
// grants that audience, intersected with what the full view holds (the
// reviewer's view under a policy granting "*"), with the same values; a case
// or referral the audience may not see answers 404 not_found. Nothing here
// knows a field list: expectations come from the policy file and the full
// views.
//
// Partners and agencies see a case under their own id for it, with their
// own times and "received" until a decision (contract section 4): for
// them the values the gateway alone knows (own times) are checked for
// shape (present exactly when granted), everything else against the full
// view. That another principal's activity changes none of it is
// t_privacy.sh's differential test.
//
//   node disclosure-check.mjs full  PLANDIR OUT.json
//       fetches, as the plan's reviewer, every case, every referral, the
//       whole change feed and the review queue (run it under a "*" policy)
//   node disclosure-check.mjs check PLANDIR POLICY.json FULL.json LABEL MATRIX
//       checks every endpoint x audience against the policy; prints
//       "ok - ..." / "not ok - ..." lines and appends the coverage to MATRIX
//   node disclosure-check.mjs matrix MATRIX
//       prints the coverage table (endpoint x audience x policy)
//
// PLANDIR holds whitespace-separated lines (written by t_policy.sh):
//   principals  NAME ROLE DIR            (DIR has cert.pem, key.pem)
//   audiences   LABEL PRINCIPAL KEYFILE  (KEYFILE: the access key secret, or -)
//   keys        KEYFILE TIER SCOPE OWNER (SCOPE: case ids joined by ",", or all_own)
//   refs        REFERRAL_ID PRINCIPAL CASE[,CASE...]
//   answers     referral FILE PRINCIPAL CASE=true|false[,...]   (POST /v1/referrals answer)
//               decision FILE CASE                               (POST /v1/cases/{id}/decision answer)
// Environment: RG_PORT (the gateway on 127.0.0.1, name localhost), RG_CA
// (the anchor of the server certificate).
import https from 'node:https';
import { readFileSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';

const [mode, ...args] = process.argv.slice(2);
const PORT = Number(process.env.RG_PORT);
const CA = process.env.RG_CA ? readFileSync(process.env.RG_CA) : undefined;

function lines(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
}

function loadPlan(dir) {
  const principals = {};
  for (const [name, role, pdir] of lines(dir + '/principals'))
    principals[name] = { name, role, dir: pdir };
  const keys = {};
  for (const [file, tier, scope, owner] of lines(dir + '/keys'))
    keys[file] = { file, tier, owner, allOwn: scope === 'all_own',
      cases: scope === 'all_own' ? [] : scope.split(','),
      secret: readFileSync(file, 'utf8').trim() };
  const audiences = lines(dir + '/audiences').map(([label, principal, key]) => ({
    label, p: principals[principal], key: key === '-' ? null : keys[key] }));
  const refs = lines(dir + '/refs').map(([id, principal, cases]) => ({
    id, principal, cases: cases.split(',') }));
  const answers = lines(dir + '/answers');
  const caseIds = [...new Set(refs.flatMap((r) => r.cases))];
  const referrers = {};
  for (const r of refs) for (const c of r.cases)
    (referrers[c] ||= new Set()).add(r.principal);
  const reviewer = audiences.find((a) => a.p.role === 'reviewer' && !a.key);
  return { principals, keys, audiences, refs, answers, caseIds, referrers, reviewer };
}

// ---- HTTP -------------------------------------------------------------------

const agents = new Map();
function agentOf(p) {
  if (!agents.has(p.name))
    agents.set(p.name, new https.Agent({ keepAlive: true, maxSockets: 1, maxCachedSessions: 0,
      cert: readFileSync(p.dir + '/cert.pem'), key: readFileSync(p.dir + '/key.pem'), ca: CA }));
  return agents.get(p.name);
}

function once(aud, method, path) {
  return new Promise((resolve) => {
    const headers = {};
    if (aud.key) headers.Authorization = 'Bearer ' + aud.key.secret;
    const rq = https.request({ host: '127.0.0.1', port: PORT, servername: 'localhost', method, path,
      headers, agent: agentOf(aud.p), timeout: 30000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json; try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    rq.on('timeout', () => rq.destroy(new Error('timeout')));
    rq.on('error', (e) => resolve({ status: 0, headers: {}, text: String(e), json: undefined }));
    rq.end();
  });
}

async function get(aud, path) {
  for (let i = 0; ; i++) {
    const r = await once(aud, 'GET', path);
    if (r.status !== 429 || i >= 5) return r;
    await new Promise((s) => setTimeout(s, 1000 * Number(r.headers['retry-after'] || 1)));
  }
}

async function feed(aud) {
  const all = [];
  let since = '';
  for (let i = 0; i < 200; i++) {
    const r = await get(aud, '/v1/changes?limit=500' + (since ? '&since=' + encodeURIComponent(since) : ''));
    if (r.status !== 200 || !r.json || !Array.isArray(r.json.changes)) return { error: r };
    if (!r.headers.etag) return { error: { status: r.status, text: 'no ETag on the 200 answer' } };
    all.push(...r.json.changes);
    if (r.json.changes.length === 0) return { changes: all };
    since = r.json.next;
  }
  return { error: { status: 0, text: 'feed did not end' } };
}

// ---- the policy ---------------------------------------------------------------

function grant(pol, aud, kind) {
  const list = (((pol.audiences || {})[aud] || {})[kind]) || [];
  return { all: list.includes('*'), set: new Set(list.filter((f) => f !== '*')), n: list.length };
}
const has = (g, f) => g.all || g.set.has(f);
function pick(obj, g, keep) {
  const o = {};
  for (const k of Object.keys(obj)) if (has(g, k) || k === keep) o[k] = obj[k];
  return o;
}

// The statuses a partner or agency may be shown: in_review is for reviewers.
const outsider = (st) => (st === 'in_review' ? 'received' : st);
const OWN_FIELDS = ['case_id', 'status', 'action', 'opened_at', 'updated_at', 'decided_at', 'deadline_at'];
const OWN_ALWAYS = ['case_id', 'status', 'opened_at', 'updated_at'];

// Expected case view of `aud` (caller `caller`, asking for id `c`) from the
// full view. Returns { exp, loose }: exp's members are compared by value;
// loose members (the caller's own times) must be present (always) or may
// be present (when set), with any value.
function expectCase(pol, aud, caller, full, c, plan) {
  const gc = grant(pol, aud, 'case'), own = grant(pol, aud, 'own_referrals');
  const exp = {}, loose = { always: [], maybe: [] };
  const mine = aud !== 'reviewer' && plan && (plan.referrers[c] || new Set()).has(caller);
  for (const k of Object.keys(full)) {
    if (k === 'referrals' || !has(gc, k)) continue;
    if (mine && OWN_FIELDS.includes(k)) continue;
    exp[k] = aud === 'reviewer' ? full[k] : k === 'status' ? outsider(full[k]) : full[k];
  }
  if (mine) {
    // its own view: its id, a status an outsider may see, its own times
    if (has(gc, 'case_id')) exp.case_id = c;
    if (has(gc, 'action') && full.status === 'actioned') exp.action = full.action;
    if (has(gc, 'status') && full.status === 'actioned') exp.status = 'actioned';
    else if (has(gc, 'status')) loose.always.push('status');
    for (const k of OWN_ALWAYS) if (has(gc, k) && !(k in exp) && !loose.always.includes(k)) loose.always.push(k);
    for (const k of ['decided_at', 'deadline_at']) if (has(gc, k)) loose.maybe.push(k);
  }
  if (Array.isArray(full.referrals)) {
    if (has(gc, 'referrals')) exp.referrals = full.referrals;
    else if (own.all || own.n > 0) {
      // its own referrals given this id (all of its own in the case when
      // it sees the case through a key under another id)
      const ids = plan && mine ? new Set(plan.refs.filter((r) => r.principal === caller && r.cases.includes(c)).map((r) => r.id)) : null;
      exp.referrals = full.referrals.filter((r) => r.principal === caller && (!ids || ids.has(r.referral_id))).map((r) => pick(r, own));
    }
  }
  return { exp, loose };
}
// Shape check of the loose members: the statuses an outsider may see.
function looseDiff(loose, act) {
  const out = [];
  if (!act || typeof act !== 'object') return out;
  for (const k of loose.always) if (!(k in act)) out.push('missing ' + k);
  if (loose.always.includes('status') && !['received', 'actioned', 'no_action'].includes(act.status))
    out.push(`status ${act.status} is not one a partner or agency may see`);
  return out;
}
function caseDiff(e, act) {
  const known = { ...e.exp };
  for (const k of [...e.loose.always, ...e.loose.maybe]) if (act && k in act) known[k] = act[k];
  return diff(known, act).concat(looseDiff(e.loose, act));
}

// Expected referral view: referral grants on top, each case element as a
// case view (the caller's own ids and views for a referrer).
function expectReferral(pol, aud, full, ref, plan) {
  const gr = grant(pol, aud, 'referral'), gc = grant(pol, aud, 'case');
  const exp = pick(full, gr);
  if (Array.isArray(exp.cases)) {
    if (aud === 'reviewer') exp.cases = exp.cases.map((c) => pick(c, gc, 'subject'));
    else exp.cases = exp.cases.map((c, i) => {
      const e = expectCase(pol, aud, ref.principal, { ...c, referrals: undefined }, ref.cases[i], plan);
      return { e, subject: c.subject };
    });
  }
  return exp;
}
function referralDiff(exp, act) {
  if (!Array.isArray(exp.cases) || !exp.cases.length || !exp.cases[0].e) return diff(exp, act);
  const { cases, ...rest } = exp;
  const out = diff({ ...rest, cases: null }, { ...act, cases: null });
  const ac = (act && act.cases) || [];
  if (ac.length !== cases.length) out.push(`cases: ${ac.length} elements, expected ${cases.length}`);
  cases.forEach((x, i) => {
    const { subject, ...a } = ac[i] || {};
    if (subject !== x.subject) out.push(`cases[${i}].subject ${subject}, expected ${x.subject}`);
    const d = caseDiff(x.e, a);
    if (d.length) out.push(`cases[${i}]: ${d.join(', ')}`);
  });
  return out;
}

// ---- comparison -------------------------------------------------------------------

function canon(v) {
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (v && typeof v === 'object')
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
// Differences between an expected and an actual object: members missing,
// members extra, members with another value.
function diff(exp, act) {
  if (!act || typeof act !== 'object' || Array.isArray(act)) return ['not a JSON object'];
  const out = [];
  const miss = Object.keys(exp).filter((k) => !(k in act));
  const extra = Object.keys(act).filter((k) => !(k in exp));
  if (miss.length) out.push('missing ' + miss.join(','));
  if (extra.length) out.push('extra ' + extra.join(','));
  for (const k of Object.keys(exp)) if (k in act && canon(exp[k]) !== canon(act[k]))
    out.push(`${k}: expected ${canon(exp[k]).slice(0, 160)}, got ${canon(act[k]).slice(0, 160)}`);
  return out;
}

// ---- output -----------------------------------------------------------------------

let passed = 0, failed = 0;
function report(name, problems) {
  if (problems.length === 0) { passed++; console.log('ok - ' + name); }
  else { failed++; console.log('not ok - ' + name + ': ' + problems.slice(0, 4).join('; ') +
    (problems.length > 4 ? ` (+${problems.length - 4} more)` : '')); }
}
const matrix = [];
function cover(endpoint, audience, policy, cell) { matrix.push({ endpoint, audience, policy, cell }); }

function is404(r) {
  return r.status === 404 && /^application\/problem\+json/i.test(r.headers['content-type'] || '') &&
    r.json && r.json.code === 'not_found';
}
function descr(r) { return `HTTP ${r.status} ${String(r.text).slice(0, 120)}`; }

// The live case an id resolves to (the reviewer's full view names it).
const live = (plan, fv, c) => (fv.cases[c] && fv.cases[c].case_id) || c;
// The ids a principal was given (its own ids for cases).
const ownIds = (plan, name) => plan.caseIds.filter((c) => (plan.referrers[c] || new Set()).has(name));

// Which audience an audience label is in for case id c (null: may not see
// it). A key covers the live case its listed ids resolve to, under any id.
function caseAudience(plan, fv, a, c) {
  if (a.key) {
    const k = a.key, L = live(plan, fv, c);
    const covers = k.allOwn ? ownIds(plan, k.owner).some((x) => live(plan, fv, x) === L)
      : k.cases.some((x) => live(plan, fv, x) === L);
    if (covers) return k.tier === 'disclosure' ? 'disclosure_key' : 'status_key';
  }
  switch (a.p.role) {
    case 'reviewer': return 'reviewer';
    case 'partner': case 'agency': return (plan.referrers[c] || new Set()).has(a.p.name) ? 'referrer' : null;
    default: return null;
  }
}
// The live cases whose shared changes an audience's feed holds.
function feedCases(plan, fv, a) {
  if (a.key) return new Set(a.key.allOwn ? [] : a.key.cases.map((x) => live(plan, fv, x)));
  if (a.p.role === 'reviewer') return new Set(plan.caseIds.map((x) => live(plan, fv, x)));
  return new Set();
}
const feedAudience = (a) => a.key ? (a.key.tier === 'disclosure' ? 'disclosure_key' : 'status_key')
  : a.p.role === 'reviewer' ? 'reviewer' : a.p.role === 'legal' ? 'legal' : 'referrer';
// ---- modes ------------------------------------------------------------------------

async function full(dir, out) {
  const plan = loadPlan(dir);
  const rv = plan.reviewer;
  const res = { cases: {}, referrals: {}, changes: [], queue: [] };
  const bad = [];
  for (const c of plan.caseIds) {
    const r = await get(rv, '/v1/cases/' + c);
    if (r.status === 200 && r.json) res.cases[c] = r.json; else bad.push(`case ${c}: ${descr(r)}`);
  }
  for (const ref of plan.refs) {
    const r = await get(rv, '/v1/referrals/' + ref.id);
    if (r.status === 200 && r.json) res.referrals[ref.id] = r.json; else bad.push(`referral ${ref.id}: ${descr(r)}`);
  }
  const f = await feed(rv);
  if (f.error) bad.push('changes: ' + descr(f.error)); else res.changes = f.changes;
  const q = await get(rv, '/v1/review/queue?limit=500');
  if (q.status === 200 && q.json && Array.isArray(q.json.cases)) res.queue = q.json.cases;
  else bad.push('queue: ' + descr(q));
  writeFileSync(out, JSON.stringify(res));
  report(`full views as the reviewer under "*" (${plan.caseIds.length} cases, ${plan.refs.length} referrals)`, bad);
}

async function check(dir, polFile, fullFile, label, matrixFile) {
  const plan = loadPlan(dir);
  const pol = JSON.parse(readFileSync(polFile, 'utf8'));
  const fv = JSON.parse(readFileSync(fullFile, 'utf8'));
  const P = `[${label}]`;

  for (const a of plan.audiences) {
    const caller = a.p.name;
    // GET /v1/cases/{id}
    {
      const probs = []; let n200 = 0, n404 = 0;
      for (const c of plan.caseIds) {
        const aud = caseAudience(plan, fv, a, c);
        const r = await get(a, '/v1/cases/' + c);
        if (aud === null) {
          if (is404(r)) n404++; else probs.push(`${c} must be 404 not_found, got ${descr(r)}`);
          continue;
        }
        if (r.status !== 200) { probs.push(`${c} (${aud}): ${descr(r)}`); continue; }
        n200++;
        if (!r.headers.etag) probs.push(`${c}: no ETag`);
        const d = caseDiff(expectCase(pol, aud, caller, fv.cases[c], c, plan), r.json);
        if (d.length) probs.push(`${c} as ${aud}: ${d.join(', ')}`);
      }
      report(`${P} GET /v1/cases/{id} as ${a.label}: ${n200} granted views, ${n404} 404`, probs);
      cover('GET /v1/cases/{id}', a.label, label, `${n200}/${n404}`);
    }
    // GET /v1/referrals/{id}
    {
      const probs = []; let n200 = 0, n404 = 0;
      for (const ref of plan.refs) {
        const visible = a.p.role === 'reviewer' || ref.principal === caller;
        const r = await get(a, '/v1/referrals/' + ref.id);
        if (!visible) {
          if (is404(r)) n404++; else probs.push(`${ref.id} must be 404 not_found, got ${descr(r)}`);
          continue;
        }
        if (r.status !== 200) { probs.push(`${ref.id}: ${descr(r)}`); continue; }
        n200++;
        if (!r.headers.etag) probs.push(`${ref.id}: no ETag`);
        const aud = a.p.role === 'reviewer' ? 'reviewer' : 'referrer';
        const d = referralDiff(expectReferral(pol, aud, fv.referrals[ref.id], ref, plan), r.json);
        if (d.length) probs.push(`${ref.id} as ${aud}: ${d.join(', ')}`);
      }
      report(`${P} GET /v1/referrals/{id} as ${a.label}: ${n200} granted views, ${n404} 404`, probs);
      cover('GET /v1/referrals/{id}', a.label, label, `${n200}/${n404}`);
    }
    // GET /v1/changes
    {
      const probs = [];
      const f = await feed(a);
      const vis = feedCases(plan, fv, a);
      const fa = feedAudience(a);
      const g = grant(pol, fa, 'case'), gr = grant(pol, 'referrer', 'case');
      const exp = fv.changes.filter((ch) => vis.has(ch.case_id))
        .map((ch) => pick(fa === 'reviewer' ? ch : { ...ch, status: outsider(ch.status) }, g));
      const mine = new Set(ownIds(plan, caller));
      if (f.error) probs.push(descr(f.error));
      else if (fa === 'reviewer') {
        if (f.changes.length !== exp.length)
          probs.push(`expected ${exp.length} changes (cases ${[...vis].join(' ') || 'none'}), got ${f.changes.length}` +
            ` (cases ${[...new Set(f.changes.map((x) => x.case_id))].join(' ')})`);
        for (let i = 0; i < Math.min(exp.length, f.changes.length); i++) {
          const d = diff(exp[i], f.changes[i]);
          if (d.length) { probs.push(`change ${i}: ${d.join(', ')}`); break; }
        }
      } else if (fa !== 'legal') {
        // A partner's or agency's own feed: entries under its own ids, one
        // per case of each of its referrals (and per decision), in the
        // statuses it may see, fields as the referrer audience is granted.
        // With a listed key, the key's cases' changes besides, complete and
        // in order, as the key's tier is granted.
        let j = 0, nOwn = 0;
        for (let i = 0; i < f.changes.length; i++) {
          const ch = f.changes[i];
          const k = j < exp.length && diff(exp[j], ch).length === 0;
          if (k) { j++; continue; }
          const extra = Object.keys(ch).filter((m) => !has(gr, m) || !['case_id', 'status', 'action', 'updated_at'].includes(m));
          if (has(gr, 'case_id') && !mine.has(ch.case_id))
            { probs.push(`change ${i} (${ch.case_id}) is neither the key's next change nor under one of the caller's own ids`); break; }
          if (extra.length) { probs.push(`change ${i} carries ${extra.join(',')}`); break; }
          if (has(gr, 'status') && !['received', 'actioned', 'no_action'].includes(ch.status))
            { probs.push(`change ${i}: status ${ch.status}`); break; }
          nOwn++;
        }
        if (j !== exp.length) probs.push(`the key's listed cases: expected all ${exp.length} of their changes in order, got ${j}`);
        const pairs = plan.refs.filter((r) => r.principal === caller).reduce((n, r) => n + new Set(r.cases).size, 0);
        if (nOwn < pairs) probs.push(`own entries: ${nOwn}, expected at least one per case of each referral (${pairs})`);
      } else if (f.changes.length) probs.push(`legal without a key: ${f.changes.length} changes`);
      report(`${P} GET /v1/changes as ${a.label} (${fa}): ${exp.length} shared changes of ${vis.size} cases, own ids ${mine.size}`, probs);
      cover('GET /v1/changes', a.label, label, String(exp.length));
    }
    // GET /v1/review/queue
    {
      const probs = [];
      const r = await get(a, '/v1/review/queue?limit=500');
      if (a.p.role !== 'reviewer') {
        if (!(r.status === 403 && r.json && r.json.code === 'forbidden')) probs.push('expected 403 forbidden, got ' + descr(r));
        report(`${P} GET /v1/review/queue as ${a.label}: 403 forbidden`, probs);
        cover('GET /v1/review/queue', a.label, label, '403');
      } else {
        const g = grant(pol, 'reviewer', 'case');
        if (r.status !== 200 || !r.json || !Array.isArray(r.json.cases)) probs.push(descr(r));
        else {
          if (!r.headers.etag) probs.push('no ETag');
          const ids = r.json.cases.map((c) => c.case_id);
          const want = fv.queue.map((c) => c.case_id);
          if (has(g, 'case_id') && canon(ids) !== canon(want))
            probs.push(`queue order/membership ${ids.join(' ')} != ${want.join(' ')}`);
          r.json.cases.forEach((c, i) => {
            const d = fv.queue[i] ? diff(pick(fv.queue[i], g), c) : ['no such element in the full queue'];
            if (d.length) probs.push(`element ${i}: ${d.join(', ')}`);
          });
          if (r.json.cases.length !== fv.queue.length) probs.push(`length ${r.json.cases.length} != ${fv.queue.length}`);
        }
        report(`${P} GET /v1/review/queue as ${a.label}: ${fv.queue.length} open cases with the reviewer's granted fields`, probs);
        cover('GET /v1/review/queue', a.label, label, String(fv.queue.length));
      }
    }
  }

  // POST /v1/referrals answers (saved by the scenario under this policy)
  for (const [kind, file, ...rest] of plan.answers) {
    const ans = JSON.parse(readFileSync(file, 'utf8'));
    if (kind === 'referral') {
      const [who, spec] = rest;
      const expNew = Object.fromEntries(spec.split(',').map((s) => s.split('=')));
      const p = plan.principals[who];
      const showNew = has(grant(pol, 'referrer', 'case'), 'new_case');
      const probs = [];
      for (const c of ans.cases || []) {
        const want = ['case_id', 'status', 'subject'].concat(showNew ? ['new_case'] : []).sort();
        const got = Object.keys(c).sort();
        if (canon(want) !== canon(got)) probs.push(`case ${c.case_id}: members ${got.join(',')}, expected ${want.join(',')}`);
        if (showNew && String(c.new_case) !== expNew[c.case_id])
          probs.push(`case ${c.case_id}: new_case ${c.new_case}, expected ${expNew[c.case_id]}`);
      }
      if (!Array.isArray(ans.cases) || ans.cases.length === 0) probs.push('no cases in the answer');
      const lbl = `${p.role}-referrer`;
      report(`${P} POST /v1/referrals answer as ${lbl} (${Object.values(expNew).join(',')}): new_case ${showNew ? 'present and right' : 'absent'}`, probs);
      cover('POST /v1/referrals (answer)', lbl, label, showNew ? 'new_case' : 'no new_case');
    } else if (kind === 'decision') {
      const [c] = rest;
      const d = caseDiff(expectCase(pol, 'reviewer', plan.reviewer.p.name, fv.cases[c], c, plan), ans);
      report(`${P} POST /v1/cases/{id}/decision answer (${ans.status}) as reviewer`, d);
      cover('POST /v1/cases/{id}/decision (answer)', 'reviewer', label, ans.status || '?');
    }
  }
  appendFileSync(matrixFile, matrix.map((m) => JSON.stringify(m)).join('\n') + '\n');
}

function printMatrix(file) {
  const rows = lines(file).length ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const pols = [...new Set(rows.map((r) => r.policy))];
  const keys = [...new Set(rows.map((r) => r.endpoint + '\t' + r.audience))];
  const cell = new Map();
  for (const r of rows) {
    const k = r.endpoint + '\t' + r.audience + '\t' + r.policy;
    const v = cell.get(k);
    if (v === undefined) cell.set(k, r.cell);
    else if (!v.split('+').includes(r.cell)) cell.set(k, v + '+' + r.cell);
  }
  console.log('# disclosure matrix: endpoint x audience x policy (cells: views/404s, changes seen, queue size, or what was checked)');
  console.log('# ' + ['endpoint'.padEnd(38), 'audience'.padEnd(30), ...pols.map((p) => p.padEnd(20))].join(' '));
  for (const k of keys) {
    const [e, a] = k.split('\t');
    console.log('# ' + [e.padEnd(38), a.padEnd(30), ...pols.map((p) => String(cell.get(k + '\t' + p) ?? '-').padEnd(20))].join(' '));
  }
  console.log(`# ${new Set(rows.map((r) => r.endpoint)).size} endpoints x ${new Set(rows.map((r) => r.audience)).size} audiences x ${pols.length} policies, ${rows.length} cells`);
}

try {
  if (mode === 'full') await full(args[0], args[1]);
  else if (mode === 'check') await check(...args);
  else if (mode === 'matrix') printMatrix(args[0]);
  else { console.error('usage: disclosure-check.mjs full|check|matrix ...'); process.exit(2); }
} catch (e) {
  failed++; console.log('not ok - disclosure-check.mjs ' + mode + ': ' + String(e && e.stack || e).split('\n').slice(0, 3).join(' '));
}
for (const a of agents.values()) a.destroy();
if (mode !== 'matrix') console.log(`# helper: ${passed} passed, ${failed} failed`);
