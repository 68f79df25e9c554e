// The verifier console in a real browser: it shows every check of a credential.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, kycCredential } from '../lib/server.mjs';
import { launchBrowser } from '../lib/browser.mjs';

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
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto(`${server.base}/verify`);

  const credential = await server.issue(kycCredential(), 'ldp_vc');
  await page.getByTestId('verify-input').fill(JSON.stringify(credential, null, 2));
  await page.getByTestId('verify-submit').click();
  await page.getByTestId('verdict').filter({ hasText: 'Verified' }).waitFor();
  assert.match(await page.getByTestId('check-signature').innerText(), /passed/);
  mkdirSync(out, { recursive: true });
  await page.screenshot({ path: join(out, 'verifier-console.png'), fullPage: true });

  credential.credentialSubject.familyName = 'Bianchi';
  await page.getByTestId('verify-input').fill(JSON.stringify(credential));
  await page.getByTestId('verify-submit').click();
  await page.getByTestId('verdict').filter({ hasText: 'Not verified' }).waitFor();
  assert.match(await page.getByTestId('check-signature').innerText(), /failed[\s\S]*SIGNATURE_INVALID/);
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
