// GDPR in real headless Chromium against a real server logging at debug level: an admin
// (the institution's data-protection officer) issues credentials full of known personal
// values from the portal and by API; the raw SQLite files, the server's logs and the chain
// hold none of them in clear. On the Privacy page she finds the person by the
// institution's reference, downloads everything held about them, erases them (a signed,
// anchored receipt), and the export then holds nothing personal while the credential's
// status still works. Screenshots go to e2e/out/privacy-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, fillSubject } from '../lib/browser.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'out');
mkdirSync(out, { recursive: true });

const PASSWORD = 'correct horse battery staple';
const DPO = 'dana@certus.test';
const SUBJECT = {
  givenName: 'Mariela', familyName: 'Rossetti', birthDate: '1987-03-09', nationality: 'IT',
  documentNumber: 'YB2468013', assuranceLevel: 'substantial', checkDate: '2026-10-01', checkMethod: 'video',
};
const CONTACT = { email: 'mariela.rossetti@example.org', phone: '+39 347 7654321' };
const REFERENCE = 'CUST-90210';
const PERSONAL = [SUBJECT.givenName, SUBJECT.familyName, SUBJECT.birthDate, SUBJECT.documentNumber,
  CONTACT.email, CONTACT.phone, REFERENCE, 'Via Garibaldi 7'];

let server;
let browser;
let page;

const shot = name => page.screenshot({ path: join(out, `privacy-${name}.png`), fullPage: true });

/** Everything on disk: the SQLite database and its write-ahead log. */
const storeBytes = () => Buffer.concat(readdirSync(server.dataDir)
  .filter(name => name.startsWith('certus.db'))
  .map(name => readFileSync(join(server.dataDir, name))));

/** The whole chain as the API serves it. */
async function chainText() {
  const head = (await server.api('GET', '/chain/head')).body.height;
  const blocks = [];
  for (let h = 0; h <= head; h++) blocks.push(JSON.stringify((await server.api('GET', `/chain/blocks/${h}`)).body));
  return blocks.join('\n');
}

function assertNothingPersonal(what, text) {
  for (const value of PERSONAL) assert.ok(!text.includes(value), `${what} holds ${value} in clear`);
}

before(async () => {
  server = await startServer({
    logLevel: 'debug', captureLogs: true,
    setup: cli => cli(['user', 'create', '--email', DPO, '--name', 'Dana', '--role', 'admin', '--password-stdin'], PASSWORD),
  });
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto(`${server.base}/sign-in`);
  await page.getByLabel('Email').fill(DPO);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('signed-in-as').waitFor();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

let credentialId;

test('the issue form takes the data subject and warns about claims the holder cannot withhold', async () => {
  await page.goto(`${server.base}/portal/issue?type=KycCredential`);
  await fillSubject(page, SUBJECT);
  await page.getByTestId('subject-reference').fill(REFERENCE);
  await page.getByTestId('subject-email').fill(CONTACT.email);
  await page.getByTestId('subject-phone').fill(CONTACT.phone);
  await page.getByTestId('format-vc-jwt').check();
  const lint = page.getByTestId('privacy-lint');
  await lint.filter({ hasText: 'givenName' }).waitFor();
  await shot('issue-lint');
  await page.getByTestId('format-dc-sd-jwt').check();
  await lint.waitFor({ state: 'detached' });
  await page.getByTestId('issue').click();
  const link = page.locator('a[href^="/portal/credentials/"]').first();
  await link.waitFor();
  credentialId = decodeURIComponent((await link.getAttribute('href')).split('/').pop());
  // The same person again, by API: a second credential with KYC evidence and an address.
  const { status, body } = await server.api('POST', '/credentials/issue', {
    credential: {
      '@context': ['https://www.w3.org/ns/credentials/v2', 'https://w3id.org/certus/contexts/kyc/v1'],
      type: ['VerifiableCredential', 'KycCredential'],
      credentialSubject: SUBJECT,
    },
    options: {
      format: 'vc+jwt',
      dataSubject: { reference: REFERENCE, contact: { address: 'Via Garibaldi 7, Torino' },
        evidence: { documentType: 'passport', documentNumber: SUBJECT.documentNumber } },
    },
  }, { auth: true });
  assert.equal(status, 201, JSON.stringify(body));
});

test("the credentials page finds the person's credentials by the institution's reference, which stays out of the logs", async () => {
  await page.getByRole('link', { name: 'Credentials', exact: true }).click();
  await page.getByTestId('credential-list').waitFor();
  await page.getByTestId('filter-reference').fill(REFERENCE);
  await page.getByTestId('search').click();
  const list = page.getByTestId('credential-list');
  await list.locator('caption').filter({ hasText: '1–2 of 2' }).waitFor();
  assert.match(await list.innerText(), new RegExp(credentialId));
  await shot('search-by-reference');
  // Another reference finds nothing. (The next test checks the debug logs hold neither.)
  await page.getByTestId('filter-reference').fill('CUST-00000');
  await page.getByTestId('search').click();
  await page.getByTestId('no-credentials').waitFor();
});

test('nothing personal in clear: not in the SQLite files, the debug logs or the chain', async () => {
  // Once the institution has no anchor waiting, the chain holds everything issued.
  await page.waitForFunction(async url => {
    const r = await fetch(url);
    return r.ok && (await r.json()).pendingAnchors === 0;
  }, `${server.base}/dashboard`);
  assertNothingPersonal('the SQLite files', storeBytes().toString('latin1'));
  assertNothingPersonal('the logs', server.logs());
  assert.ok(server.logs().length > 1000, 'the server logged at debug level');
  assertNothingPersonal('the chain', await chainText());
});

test('the Privacy page finds the person, exports everything, erases them with an anchored receipt', async () => {
  await page.goto(`${server.base}/portal/privacy`);
  await page.getByTestId('processing-activities').filter({ hasText: 'Issuing KycCredential' }).waitFor();
  await page.getByTestId('retention-rules').filter({ hasText: 'P5Y' }).waitFor();
  await page.getByTestId('subject-search-reference').fill(REFERENCE);
  await page.getByTestId('subject-search').click();
  const card = page.getByTestId('data-subject-card');
  await card.waitFor();
  assert.match(await card.textContent(), /2 credential\(s\)/);
  await shot('subject');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('subject-export').click()]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.format, 'certus-data-subject-export/1');
  const text = JSON.stringify(exported);
  for (const value of [SUBJECT.givenName, CONTACT.email, 'Via Garibaldi 7', SUBJECT.documentNumber]) {
    assert.ok(text.includes(value), `the export lacks ${value}`);
  }
  assert.equal(exported.credentials.length, 2);

  await page.getByTestId('subject-erase').click();
  await page.getByTestId('erase-warning').waitFor();
  await page.getByTestId('subject-erase').click();
  // Done, or refused with the reason shown: a refusal fails here with its message.
  const done = page.getByTestId('erasure-done');
  await done.or(card.getByTestId('error')).waitFor();
  assert.ok(await done.isVisible(), await card.getByTestId('error').textContent().catch(() => 'no error shown'));
  assert.match(await done.textContent(), /Erased 5 record/);
  await card.getByTestId('subject-erased').waitFor();
  await shot('erased');
  // The README's picture: the person found, erased, with the receipt.
  await page.locator('details summary').first().click();
  await page.screenshot({ path: join(out, 'privacy-readme.png'), fullPage: true, clip: { x: 0, y: 0, width: 1200, height: 1150 } });

  // After erasure: the export holds nothing personal, the reference finds no one.
  const after = await page.request.get(`${server.base}/data-subjects/${exported.dataSubject}/export`);
  assert.equal(after.status(), 200);
  assertNothingPersonal('the export after erasure', await after.text());
  await page.getByTestId('subject-search').click();
  await page.getByTestId('subjects-empty').waitFor();

  // The receipt is anchored, and the credential's status still works.
  const erasures = await page.request.get(`${server.base}/erasures`);
  const [erasure] = (await erasures.json()).erasures;
  let anchored;
  for (let tries = 0; tries < 50; tries++) { // 202 until the next block is sealed
    anchored = await server.api('GET', `/anchors/${erasure.commitment}/receipt`);
    if (anchored.status !== 202) break;
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  assert.equal(anchored.status, 200, JSON.stringify(anchored.body));
  const revoked = await server.api('POST', '/credentials/status', {
    credentialId, credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation' }, status: true,
  }, { auth: true });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assertNothingPersonal('the logs after erasure', server.logs());
});
