// console.mjs - the web console in headless Chromium (Debian's chromium,
// driven by playwright-core from $RG_NM), one browser launch, one
// context per principal, each presenting its client certificate.
// Prints "ok - ..." / "not ok - ...: why" lines, which t_console.sh
// counts; the gateway's CA is trusted through NODE_EXTRA_CA_CERTS.
//
// Environment: RG_URL (https://localhost:PORT), RG_P (folder of the
// principals' credentials), RG_CASE_A, RG_CASE_B (cases to work on),
// RG_CASE_ORDER (a removal order's case, answered cannot_execute),
// RG_CASE_PLAIN (an ordinary case taken in review),
// RG_LEGAL_GROUND (the legal ground the decision on case A cites),
// RG_REVOKE (a principal legal revokes), RG_AGENCY (one it issues a key
// to), RG_SHOTS (folder for the screenshots), RG_OUT (a JSON file for
// what the shell checks through the API afterwards).
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire((process.env.RG_NM || '/tmp/rg-test-node/node_modules') + '/');
const { chromium } = require('playwright-core');
const U = process.env.RG_URL, P = process.env.RG_P;
const A = process.env.RG_CASE_A, B = process.env.RG_CASE_B;
const ORDER = process.env.RG_CASE_ORDER, PLAIN = process.env.RG_CASE_PLAIN;
// the reviewer's legal ground for case A (t_console.sh checks it through the API)
const LEGAL_GROUND = process.env.RG_LEGAL_GROUND;
const out = {};

const ok = (name) => console.log(`ok - ${name}`);
const notok = (name, why) => console.log(`not ok - ${name}: ${String(why).replace(/\s+/g, ' ').slice(0, 300)}`);
const check = (name, cond, why) => (cond ? ok(name) : notok(name, why));

// Every console answer the browser gets must carry the CSP.
const missingCsp = [];
let consoleAnswers = 0;
function watch(page) {
  page.on('response', (r) => {
    if (!r.url().startsWith(U + '/console')) return;
    consoleAnswers++;
    const csp = r.headers()['content-security-policy'] || '';
    if (!csp.includes("default-src 'none'") || !csp.includes("frame-ancestors 'none'") ||
        !csp.includes("form-action 'self'") || r.headers()['x-frame-options'] !== 'DENY')
      missingCsp.push(`${r.status()} ${r.url()}`);
  });
}

// rev2 presents the PKCS#12 file of `refgatectl enroll --p12`, the
// others their PEM certificate and key.
async function as(browser, who) {
  const cert = who === 'rev2'
    ? { origin: U, pfxPath: `${P}/../rev2.p12`, passphrase: process.env.RG_P12_PASS }
    : { origin: U, certPath: `${P}/${who}/cert.pem`, keyPath: `${P}/${who}/key.pem` };
  const ctx = await browser.newContext({
    clientCertificates: [cert],
    viewport: { width: 1200, height: 700 },
  });
  const page = await ctx.newPage();
  watch(page);
  return { ctx, page };
}

const rowOf = (page, id) => page.locator('#queue tbody tr', { hasText: id });

async function reviewer(browser) {
  const { ctx, page } = await as(browser, 'rev');
  let r = await page.goto(U + '/console/');
  check('reviewer: /console/ leads to the queue', r.status() === 200 && page.url() === U + '/console/queue', `${r.status()} ${page.url()}`);
  check('reviewer: the queue lists case A', (await rowOf(page, A).count()) === 1, await page.textContent('main'));
  check('reviewer: case A has a deadline countdown', /in \d+ min/.test(await rowOf(page, A).locator('td').nth(2).textContent()),
    await rowOf(page, A).textContent());
  check('reviewer: the page runs no script', (await page.locator('script').count()) === 0, 'a script element');
  await rowOf(page, A).getByRole('button', { name: 'Claim' }).click();
  await page.waitForURL(U + '/console/queue');
  const claimed = await rowOf(page, A).locator('td').last().textContent();
  check('reviewer: after Claim the queue shows rev as claimant with its expiry', /^rev \(expires in \d+ min\)/.test(claimed.trim()), claimed);
  if (process.env.RG_SHOTS) await page.screenshot({ path: `${process.env.RG_SHOTS}/console-queue.png`, fullPage: true });

  await page.getByRole('link', { name: A }).click();
  await page.waitForURL(U + `/console/cases/${A}`);
  const main = await page.textContent('main');
  check('reviewer: the case shows the decrypted summary, as text', main.includes('<script>alert(1)</script> & <b>bold</b>'), main.slice(0, 300));
  check('reviewer: markup in a summary stays text (no element made)', (await page.locator('main b, main script').count()) === 0, 'an element from the summary');
  check('reviewer: the case shows its evidence', main.includes('https://x.com/someone/status/1') && main.includes('ab'.repeat(32)), main.slice(0, 300));
  check('reviewer: the case shows the account handle', /Handle\s*console_target/.test(main), main.slice(0, 300));
  await page.selectOption('#status', 'in_review');
  await page.getByRole('button', { name: 'Record the decision' }).click();
  await page.waitForURL(U + `/console/cases/${A}`);
  check('reviewer: taking the case shows it in_review', /Status\s*in_review/.test(await page.textContent('#case')), await page.textContent('#case'));
  await page.selectOption('#status', 'actioned');
  await page.selectOption('#action', 'content_removed');
  await page.selectOption('#ground', 'illegal_content');
  await page.fill('#explanation', 'Recruitment video of a designated organisation; evidence hash verified.');
  check('reviewer: the decision form offers the legal ground, optional, up to 500 characters',
    (await page.getAttribute('#legal_ground', 'maxlength')) === '500' && (await page.getAttribute('#legal_ground', 'required')) === null,
    await page.locator('#legal_ground').evaluate((e) => e.outerHTML).catch((e) => e.message));
  await page.fill('#legal_ground', LEGAL_GROUND);
  await page.getByRole('button', { name: 'Record the decision' }).click();
  await page.waitForURL(U + `/console/cases/${A}`);
  const after = await page.textContent('main');
  check('reviewer: the decision is recorded (actioned, content_removed)', /Status\s*actioned/.test(after) && /Action\s*content_removed/.test(after), after.slice(0, 300));
  check('reviewer: the decision lists the statement of reasons', after.includes('Recruitment video of a designated organisation'), after.slice(0, 400));
  const lastDecision = await page.locator('#decisions tr').last().locator('td').nth(5).textContent();
  check('reviewer: the decision lists its legal ground', lastDecision === LEGAL_GROUND, lastDecision);

  // a removal order: the Annex III answer from the same form
  await page.goto(U + `/console/cases/${ORDER}`);
  await page.selectOption('#status', 'in_review');
  await page.getByRole('button', { name: 'Record the decision' }).click();
  await page.waitForURL(U + `/console/cases/${ORDER}`);
  const offered = await page.locator('#status option').evaluateAll((os) => os.map((o) => o.value).join(' '));
  check('reviewer: a removal order in review offers cannot_execute', offered === 'actioned no_action cannot_execute', offered);
  const reasons = await page.locator('#reason option').evaluateAll((os) => os.map((o) => o.value).join(' '));
  check('reviewer: ... with the three Annex III reasons', reasons === 'force_majeure manifest_error insufficient_information', reasons);
  await page.selectOption('#status', 'cannot_execute');
  await page.selectOption('#reason', 'manifest_error');
  await page.fill('#explanation', 'The order names an account that does not exist on the platform.');
  await page.getByRole('button', { name: 'Record the decision' }).click();
  await page.waitForURL(U + `/console/cases/${ORDER}`);
  const answered = await page.textContent('main');
  check('reviewer: the removal order is answered cannot_execute', /Status\s*cannot_execute/.test(answered) && answered.includes('does not exist on the platform'), answered.slice(0, 300));

  // an ordinary referral: its form offers no cannot_execute
  await page.goto(U + `/console/cases/${PLAIN}`);
  await page.selectOption('#status', 'in_review');
  await page.getByRole('button', { name: 'Record the decision' }).click();
  await page.waitForURL(U + `/console/cases/${PLAIN}`);
  const plain = await page.locator('#status option').evaluateAll((os) => os.map((o) => o.value).join(' '));
  check('reviewer: a case without a removal order offers no cannot_execute, nor a reason',
    plain === 'actioned no_action' && (await page.locator('#reason').count()) === 0, plain);

  // B: rev claims it, so rev2 cannot decide it
  await page.goto(U + `/console/cases/${B}`);
  await page.locator('#case').getByRole('button', { name: 'Claim' }).click();
  await page.waitForURL(U + `/console/cases/${B}`);
  check('reviewer: claiming from the case page', /rev \(expires in/.test(await page.textContent('#case')), await page.textContent('#case'));
  await ctx.close();

  const two = await as(browser, 'rev2');
  r = await two.page.goto(U + `/console/cases/${B}`);
  check('second reviewer: sees the claim by rev', /Claim\s*rev \(expires in/.test(await two.page.textContent('#case')), await two.page.textContent('#case'));
  check('second reviewer: no claim button on a case rev holds', (await two.page.locator('#case button').count()) === 0, 'a button');
  await two.page.selectOption('#status', 'in_review');
  const [resp] = await Promise.all([
    two.page.waitForResponse((x) => x.url().endsWith(`/console/cases/${B}/decision`)),
    two.page.getByRole('button', { name: 'Record the decision' }).click(),
  ]);
  await two.page.waitForLoadState();
  const refusal = await two.page.textContent('main');
  check('second reviewer: deciding the claimed case is refused (409)', resp.status() === 409, `${resp.status()}`);
  check('second reviewer: the refusal names the claimant and expiry', /claimed by rev until \d{4}-\d\d-\d\dT/.test(refusal), refusal.slice(0, 300));
  await two.ctx.close();
}

async function partner(browser) {
  const { ctx, page } = await as(browser, 'pave');
  const r = await page.goto(U + '/console/');
  check("partner: its certificate gets 403 on /console/", r.status() === 403, `${r.status()}`);
  await ctx.close();
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
});
try {
  await reviewer(browser);
  await partner(browser);
  if (process.env.RG_LEGAL === '1') await (await import('./console_legal.mjs')).legal(browser, { U, P, as, check, ok, notok, out });
} catch (e) {
  notok('the browser scenario ran to its end', e.stack || e);
} finally {
  await browser.close();
}
check(`every console answer (${consoleAnswers}) carried the CSP and X-Frame-Options`, consoleAnswers > 5 && missingCsp.length === 0, missingCsp.join(', ') || `only ${consoleAnswers}`);
if (process.env.RG_OUT) writeFileSync(process.env.RG_OUT, JSON.stringify(out));
