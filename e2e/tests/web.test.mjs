// The verifier console in a real browser: it shows every check of a credential.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, kycCredential } from '../lib/server.mjs';
import { launchBrowser, assertNoSidewaysScroll, watchConsole } from '../lib/browser.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'out');

test('the verifier console, open without an account, verifies a pasted credential', async () => {
  const page = await browser.newPage();
  const consoleErrors = watchConsole(page);
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto(`${server.base}/verify`);

  const credential = await server.issue(kycCredential(), 'ldp_vc');
  await page.getByTestId('verify-input').fill(JSON.stringify(credential, null, 2));
  await page.getByTestId('verify-submit').click();
  await page.getByTestId('verdict').filter({ hasText: 'Verified' }).waitFor();
  assert.match(await page.getByTestId('check-signature').innerText(), /passed/);
  // What it says, beside the checks: the type's title, the issuer, the dates, the claims
  // under their schema's titles.
  await page.getByTestId('standing').filter({ hasText: 'Valid' }).waitFor();
  await page.getByTestId('summary-type').filter({ hasText: /KYC/ }).waitFor();
  assert.equal(await page.getByTestId('summary-issuer').innerText(), credential.issuer);
  assert.notEqual(await page.getByTestId('summary-from').innerText(), '—');
  assert.match(await page.getByTestId('claim-familyName').innerText(), /Family name\s+Rossi/);
  mkdirSync(out, { recursive: true });
  await page.screenshot({ path: join(out, 'verifier-console.png'), fullPage: true });

  credential.credentialSubject.familyName = 'Bianchi';
  await page.getByTestId('verify-input').fill(JSON.stringify(credential));
  await page.getByTestId('verify-submit').click();
  await page.getByTestId('verdict').filter({ hasText: 'Not verified' }).waitFor();
  assert.match(await page.getByTestId('check-signature').innerText(), /failed[\s\S]*SIGNATURE_INVALID/);
  await page.getByTestId('standing').filter({ hasText: 'Forged or altered' }).waitFor();
  // The VC API answers a failed check with 400, which the browser logs; the page shows it
  // as the result it is.
  consoleErrors.allow(/status of 400 .*\/credentials\/verify\)$/);
  consoleErrors.assertNone('the verifier console, signed out');
});

test('the console tells a suspended credential from a forged one, and takes the issue answer as pasted', async () => {
  const page = await browser.newPage();
  const consoleErrors = watchConsole(page);
  await page.goto(`${server.base}/verify`);
  const credentialId = `urn:uuid:${randomUUID()}`;
  const { status, body } = await server.api('POST', '/credentials/issue',
    { credential: { ...kycCredential(), id: credentialId }, options: { format: 'vc+jwt' } }, { auth: true });
  assert.equal(status, 201);
  const suspended = await server.api('POST', '/credentials/status', {
    credentialId,
    credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'suspension' }, status: true,
  }, { auth: true });
  assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
  await page.getByTestId('verify-input').fill(JSON.stringify(body, null, 2));
  await page.getByTestId('verify-submit').click();
  await page.getByTestId('standing').filter({ hasText: 'Suspended' }).waitFor();
  assert.match(await page.getByTestId('check-status').innerText(), /SUSPENDED/);
  assert.match(await page.getByTestId('claim-givenName').innerText(), /Maria/);
  await page.screenshot({ path: join(out, 'verifier-suspended.png'), fullPage: true });
  // On a phone the result wraps instead of making the page scroll sideways.
  await page.setViewportSize({ width: 390, height: 800 });
  await assertNoSidewaysScroll(page, 'the result');
  await page.screenshot({ path: join(out, 'verifier-suspended-phone.png'), fullPage: true });
  consoleErrors.allow(/status of 400 .*\/credentials\/verify\)$/);
  consoleErrors.assertNone('the verifier console');
});

test('the verifier console shows a clear error for input that is not a credential', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/verify`);
  await page.getByTestId('verify-input').fill('42');
  await page.getByTestId('verify-submit').click();
  const error = page.getByTestId('verify-error');
  await error.waitFor();
  assert.match(await error.innerText(), /MALFORMED_CREDENTIAL/);
});

test('the API reference reads as a reference: sections, fields with their types, examples, schemas linked, no raw markup', async () => {
  const page = await browser.newPage();
  const consoleErrors = watchConsole(page);
  await page.goto(`${server.base}/api-docs`);
  const issue = page.locator('details.op').filter({ has: page.locator('summary', { hasText: /^post \/credentials\/issue —/ }) });
  await issue.waitFor();
  await issue.locator('summary').first().click();
  const text = await issue.innerText();
  // The request body as fields, required ones marked, and a realistic example.
  assert.match(text, /Request body[\s\S]*credential\s+required/);
  assert.match(text, /Example[\s\S]*"FoodIngredientCertificate"/);
  // Descriptions show code as code: no backtick is left in the page.
  assert.doesNotMatch(await page.locator('#ops').innerText(), /`/);
  // An answer's schema is a link that opens the schema, with its fields and an example.
  const created = issue.locator('details.response').filter({ hasText: /^201/ });
  await created.locator('summary').click();
  await created.getByRole('link', { name: 'IssueResponse' }).first().click();
  const schema = page.locator('#schema-IssueResponse');
  await schema.locator('table').waitFor();
  assert.match(await schema.innerText(), /verifiableCredential/);
  // The wallet-facing protocol endpoints are in the reference too.
  for (const path of ['/openid4vci/credential', '/openid4vci/token', '/.well-known/openid-credential-issuer']) {
    assert.ok(await page.locator('details.op summary', { hasText: path }).count() > 0, path);
  }
  await page.screenshot({ path: join(out, 'api-reference.png') });
  consoleErrors.assertNone('the API reference');
});

