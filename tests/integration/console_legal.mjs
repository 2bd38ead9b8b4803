// console_legal.mjs - the legal team's console pages, for console.mjs
// (same browser): principals with certificate expiry, enrolling one,
// revoking one after the confirmation page, issuing an access key whose
// secret shows once, revoking it, the audit log and its verification.
export async function legal(browser, { U, as, check, out }) {
  const victim = process.env.RG_REVOKE, agency = process.env.RG_AGENCY;
  const { ctx, page } = await as(browser, 'legal');
  let r = await page.goto(U + '/console/');
  check('legal: /console/ leads to the principals', r.status() === 200 && page.url() === U + '/console/principals', `${r.status()} ${page.url()}`);
  const row = (name) => page.locator('#principals tbody tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${name}$`) }) });
  const prow = await row('pave').textContent();
  check('legal: a principal shows its certificate expiry', /partneractive11\d{4}-\d\d-\d\d \(in \d+ d/.test(prow), prow);

  // enrol a reviewer from a certificate the CA issued
  await page.fill('#name', 'newrev');
  await page.selectOption('#role', 'reviewer');
  await page.fill('#certificate', process.env.RG_NEWCERT);
  await page.getByRole('button', { name: 'Enrol' }).click();
  await page.waitForURL(U + '/console/principals');
  check('legal: enrolling through the form lists the new principal', (await row('newrev').count()) === 1, await page.textContent('#principals'));
  if (process.env.RG_SHOTS) await page.screenshot({ path: `${process.env.RG_SHOTS}/console-principals.png`, fullPage: true });

  // revoke, with its confirmation step
  await row(victim).getByRole('link', { name: /Revoke/ }).click();
  await page.waitForURL(U + `/console/principals/${victim}/revoke`);
  const ask = await page.textContent('main');
  check('legal: revoking asks first, naming the principal', ask.includes(`Revoke principal ${victim}?`) && ask.includes('cannot be undone'), ask);
  const other = await ctx.newPage();
  await other.goto(U + '/console/principals');
  const still = await other.locator('#principals tbody tr', { has: other.locator('td:first-child', { hasText: new RegExp(`^${victim}$`) }) }).textContent();
  check('legal: the confirmation page alone revokes nothing', /active/.test(still), still);
  await other.close();
  await page.locator('#confirm').click();
  await page.waitForURL(U + '/console/principals');
  check('legal: after confirming, the principal shows revoked', /revoked/.test(await row(victim).textContent()), await row(victim).textContent());

  // an access key, its secret shown once
  await page.goto(U + '/console/keys');
  await page.fill('#principal', agency);
  await page.selectOption('#tier', 'status');
  await page.fill('#cases', 'all_own');
  await page.fill('#legal_basis', 'Art. 6 GDPR; agreement of 2026-11-01');
  await page.fill('#days', '30');
  const [resp] = await Promise.all([
    page.waitForResponse((x) => x.url() === U + '/console/keys' && x.request().method() === 'POST'),
    page.getByRole('button', { name: 'Issue' }).click(),
  ]);
  await page.waitForLoadState();
  const secret = (await page.textContent('#secret')).trim();
  out.key_id = (await page.textContent('#key-id')).trim();
  out.secret = secret;
  check('legal: issuing answers 201 with the secret on the page', resp.status() === 201 && secret.length >= 32, `${resp.status()} ${secret.length}`);
  check('legal: the issued-key page is not cached', /no-store/.test(resp.headers()['cache-control'] || ''), resp.headers()['cache-control']);
  await page.goto(U + '/console/keys');
  const keys = await page.textContent('main');
  check('legal: the key is listed as active', new RegExp(`${out.key_id}${agency}statusactive`).test(keys.replace(/\s+/g, '')), keys.slice(0, 400));
  check('legal: the secret is not shown again', !keys.includes(secret), 'secret on the list page');
  await page.locator('#keys tbody tr', { hasText: out.key_id }).getByRole('link', { name: /Revoke/ }).click();
  await page.locator('#confirm').click();
  await page.waitForURL(U + '/console/keys');
  check('legal: the revoked key leaves the active list', (await page.locator('#keys tbody tr', { hasText: out.key_id }).count()) === 0, await page.textContent('#keys'));
  await page.goto(U + '/console/keys?show=revoked');
  check('legal: and shows under revoked', /revoked/.test(await page.locator('#keys tbody tr', { hasText: out.key_id }).textContent()), await page.textContent('#keys'));

  // the audit log and its verification
  await page.goto(U + '/console/audit');
  const audit = await page.textContent('#audit');
  check('legal: the audit log lists the console\'s actions (claim, revoke, key_issue)', ['claim', 'revoke', 'key_issue'].every((k) => audit.includes(k)), audit.slice(0, 300));
  await page.getByRole('link', { name: /Verify the chain/ }).click();
  const verdict = await page.textContent('#verdict');
  check('legal: the chain verifies', /^\d+ records, \d+ signed heads, chain intact\.$/.test(verdict.trim()), verdict);
  await ctx.close();
}
