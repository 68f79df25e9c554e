// The certifier portal in a real browser: sign in, issue from the form, batch-issue a CSV,
// find and revoke a credential, open its anchor receipt, sign out; another institution's
// user can neither see nor open it. Screenshots of each page go to e2e/out/portal-*.png.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../lib/server.mjs';
import { opensslIssue, opensslRoot } from '../lib/ca.mjs';
import { launchBrowser, assertNoSidewaysScroll, watchConsole } from '../lib/browser.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'out');
mkdirSync(out, { recursive: true });

const PASSWORD = 'correct horse battery staple';
const CERTIFIER = 'carla@food-cert.test';
const ADMIN = 'adele@food-cert.test';
const OTHER = 'bruno@bank-b.test';

let server;
let browser;
let page;
let consoleErrors;
let issuedId;
let receiptText;

before(async () => {
  server = await startServer({
    setup: cli => {
      cli(['user', 'create', '--email', CERTIFIER, '--name', 'Carla Certifier', '--role', 'certifier', '--password-stdin'], PASSWORD);
      cli(['user', 'create', '--email', ADMIN, '--name', 'Adele Admin', '--role', 'admin', '--password-stdin'], PASSWORD);
      cli(['tenant', 'create', 'Bank B', '--admin', 'admin@bank-b.test']);
      cli(['user', 'create', '--tenant', 'bank-b', '--email', OTHER, '--name', 'Bruno', '--role', 'certifier', '--password-stdin'], PASSWORD);
    },
  });
  browser = await launchBrowser();
  page = await browser.newPage();
  consoleErrors = watchConsole(page);
  await page.setViewportSize({ width: 1200, height: 900 });
  page.on('dialog', dialog => dialog.accept());
});
// No page logs an error to the console but for the refusals a test provokes on purpose.
afterEach(() => consoleErrors.assertNone('the portal'));
after(async () => {
  await browser?.close();
  await server?.stop();
});

const shot = name => page.screenshot({ path: join(out, `portal-${name}.png`), fullPage: true });

async function signIn(email) {
  await page.goto(`${server.base}/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('signed-in-as').filter({ hasText: email }).waitFor();
}

async function signOut() {
  await page.getByTestId('sign-out').click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

test("an address with no page shows the app's own page; the API still answers in JSON", async () => {
  const response = await page.goto(`${server.base}/no/such/page`);
  assert.equal(response.status(), 404);
  await page.getByTestId('not-found').waitFor();
  await page.getByRole('link', { name: 'Go to the start page' }).waitFor();
  const { status, body } = await server.api('GET', '/no/such/route');
  assert.deepEqual([status, body.code], [404, 'NOT_FOUND']);
  const icon = await fetch(`${server.base}/favicon.svg`);
  assert.deepEqual([icon.status, icon.headers.get('content-type')], [200, 'image/svg+xml']);
  await shot('not-found');
  consoleErrors.allow(/status of 404 .*\/no\/such\/page/);
});

test('a wrong password is refused with a clear message, and pages need a session', async () => {
  await page.goto(`${server.base}/portal/credentials`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(page.url(), /\/sign-in\?next=%2Fportal%2Fcredentials$/);
  await page.getByLabel('Email').fill(CERTIFIER);
  await page.getByLabel('Password').fill('not the password');
  await page.getByTestId('sign-in').click();
  await page.getByTestId('sign-in-error').filter({ hasText: 'INVALID_CREDENTIALS' }).waitFor();
  await shot('sign-in');
  consoleErrors.allow(/status of 401 .*\/session\)$/);
});

test('signing in with the keyboard alone leads to the page asked for, then the dashboard', async () => {
  await page.goto(`${server.base}/sign-in?next=%2Fportal%2Ftypes`);
  await page.getByLabel('Email').focus();
  await page.keyboard.type(CERTIFIER);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByTestId('type-FoodIngredientCertificate').waitFor();
  assert.equal(await page.getByTestId('credential-types').locator('article').count(), 4);
  assert.match(await page.getByTestId('type-KycCredential').innerText(), /personal/);
  await shot('types');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByTestId('stat-issued').waitFor();
  await shot('dashboard');
});

/** Fills the food certificate's fields other than its name and product code. */
async function fillTheRest() {
  await page.getByTestId('field-producer').fill('Frantoio Esempio S.r.l.');
  await page.getByTestId('field-siteCountry').fill('IT');
  await page.getByTestId('field-standard').fill('ISO 22000:2018');
  await page.getByTestId('field-auditDate').fill('2026-09-15');
  await page.getByTestId('field-result').selectOption('certified');
  await page.getByTestId('field-auditorName').fill('Luca Bianchi');
}

/** Whether the element is in the viewport (its top edge within the window). */
const inView = testid => page.getByTestId(testid).evaluate(e => {
  const box = e.getBoundingClientRect();
  return box.top >= 0 && box.top < window.innerHeight;
});

const foodCertificates = async () => (await server.api('GET',
  '/credentials?type=FoodIngredientCertificate', undefined, { auth: true })).body.total;

test('a certifier issues one credential from the form generated from its schema', async () => {
  await page.getByRole('link', { name: 'Issue', exact: true }).click();
  await page.getByLabel('Credential type').selectOption('FoodIngredientCertificate');
  await page.getByTestId('field-ingredientName').fill('Cold-pressed olive oil');
  await page.getByTestId('field-productCode').fill('abc');
  const codeError = page.getByTestId('field-productCode-error');
  await codeError.filter({ hasText: 'expected form' }).waitFor();
  assert.equal(await page.getByTestId('field-productCode').getAttribute('aria-invalid'), 'true');
  await page.getByTestId('field-productCode').fill('08001234567890');
  await codeError.filter({ hasText: /^$/ }).waitFor({ state: 'attached' });
  await fillTheRest();
  await page.getByTestId('format-vc-jwt').check();
  await page.getByTestId('preview').click();
  const preview = page.getByTestId('preview-panel');
  await preview.waitFor();
  assert.match(await preview.innerText(), /"productCode": "08001234567890"/);
  await page.getByTestId('issue').click();
  const id = page.getByTestId('issued-id');
  await id.waitFor();
  issuedId = await id.innerText();
  assert.match(issuedId, /^urn:uuid:[0-9a-f-]{36}$/);
  const href = await page.getByTestId('download-credential').getAttribute('href');
  assert.match(href, /^data:application\/vc\+jwt;charset=utf-8,eyJ/);
  // The result takes the form's place and is brought into view.
  assert.equal(await inView('issued'), true);
  assert.equal(await page.locator('form.issue').isVisible(), false);
  await shot('issue');
});

test('a double click issues one credential, and "Issue another" starts an empty form', async () => {
  const before = await foodCertificates();
  await page.getByTestId('issue-another').click();
  assert.equal(await page.getByTestId('field-ingredientName').inputValue(), '');
  assert.equal(await page.getByTestId('issued').count(), 0);
  await page.getByTestId('field-ingredientName').fill('Extra virgin olive oil');
  await page.getByTestId('field-productCode').fill('08001234567891');
  await fillTheRest();
  // An end of validity in the past is refused next to its field, before anything is sent.
  await page.getByTestId('valid-until').fill('2020-01-31');
  await page.getByTestId('issue').click();
  await page.getByTestId('valid-until-error').filter({ hasText: 'later date' }).waitFor();
  await page.getByTestId('valid-until').fill('2099-12-31');
  await page.getByTestId('issue').dblclick();
  await page.getByTestId('issued-id').waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await foodCertificates(), before + 1);
  // Valid through the whole of the chosen day.
  const href = await page.getByTestId('download-credential').getAttribute('href');
  const payload = JSON.parse(Buffer.from(decodeURIComponent(href).split(',')[1].split('.')[1], 'base64url'));
  assert.equal(payload.validUntil, '2099-12-31T23:59:59Z');
});

test('a required field left empty is flagged next to the field, and nothing is issued', async () => {
  await page.goto(`${server.base}/portal/issue`);
  await page.getByLabel('Credential type').selectOption('FoodIngredientCertificate');
  await page.getByTestId('issue').click();
  await page.getByTestId('field-producer-error').filter({ hasText: 'required' }).waitFor();
  await page.getByTestId('form-errors').waitFor();
  assert.equal(await page.getByTestId('issued').count(), 0);
});

test('a batch is checked whole before anything is issued: a missing column or a bad row refuses it, a clean file of 200 rows is issued', async () => {
  await page.getByRole('link', { name: 'Batch issue' }).click();
  await page.getByLabel('Credential type').selectOption('FoodIngredientCertificate');
  // The template holds the form's labels and the schema's example, and is matched back.
  const template = decodeURIComponent((await page.getByTestId('batch-template').getAttribute('href')).split(',').slice(1).join(','));
  const [header] = template.split('\n');
  assert.match(header, /^Ingredient name,/);
  assert.match(header, /Person's reference$/);
  const before = await foodCertificates();
  const upload = async (name, lines) => {
    const file = join(out, name);
    writeFileSync(file, lines.join('\n') + '\n');
    await page.getByTestId('csv-file').setInputFiles(file);
    await page.getByTestId('csv-summary').filter({ hasText: `${lines.length - 1} rows` }).waitFor();
  };
  // Columns named by their labels (any case and spacing) are matched; the audit date's
  // column is missing, so the check refuses the batch whole.
  const row = (i, date) => `Olive oil lot ${i},0800123456${String(i).padStart(4, '0')},"Frantoio Esempio, S.r.l.",IT,ISO 22000:2018,${date},certified,Luca Bianchi,CUST-${i}`;
  const labels = 'ingredient name,Product code,PRODUCER,siteCountry,Standard,auditDate,result,Auditor name,Person\'s reference';
  await upload('batch-missing.csv', [labels.replace('auditDate', 'audited'), row(1, '2026-09-15')]);
  assert.equal(await page.getByTestId('map-ingredientName').inputValue(), 'ingredient name');
  assert.equal(await page.getByTestId('map-producer').inputValue(), 'PRODUCER');
  assert.equal(await page.getByTestId('map-auditDate').inputValue(), '');
  assert.equal(await page.getByTestId('batch-start').isDisabled(), true);
  await page.getByTestId('batch-check').click();
  await page.getByTestId('batch-unmapped').filter({ hasText: 'Audit date' }).waitFor();
  await page.getByTestId('batch-refused').waitFor();
  assert.equal(await page.getByTestId('batch-start').isDisabled(), true);
  // Rows 50 and 150 carry a date the schema refuses: refused whole, both rows named.
  const rows = [labels];
  for (let i = 1; i <= 200; i++) rows.push(row(i, i % 100 === 50 ? '15/09/2026' : '2026-09-15'));
  await upload('batch-bad-rows.csv', rows);
  await page.getByTestId('batch-check').click();
  const problems = page.getByTestId('batch-problems');
  await problems.locator('caption').filter({ hasText: '2 of 200 rows have problems' }).waitFor();
  assert.match(await problems.innerText(), /50\s+Audit date/);
  assert.match(await problems.innerText(), /150\s+Audit date/);
  assert.equal(await page.getByTestId('batch-start').isDisabled(), true);
  await shot('batch-refused');
  assert.equal(await foodCertificates(), before, 'nothing was issued');
  // Fixed: it passes, and is issued with progress to 100% and a result file that holds
  // each credential.
  rows[50] = row(50, '2026-09-15');
  rows[150] = row(150, '2026-09-15');
  await upload('batch.csv', rows);
  await page.getByTestId('batch-check').click();
  await page.getByTestId('batch-ready').filter({ hasText: 'All 200 rows are ready' }).waitFor();
  await page.getByTestId('batch-start').click();
  await page.getByTestId('batch-percent').filter({ hasText: '200 of 200 rows — 100%' }).waitFor({ timeout: 120_000 });
  await page.getByTestId('batch-summary').filter({ hasText: 'Issued 200, failed 0.' }).waitFor();
  const result = decodeURIComponent((await page.getByTestId('batch-result').getAttribute('href')).split(',').slice(1).join(','));
  const issued = result.trim().split('\n').filter(l => /^\d+,issued,urn:uuid:/.test(l));
  assert.equal(issued.length, 200);
  assert.match(issued[0], /"\{""@context""/, 'the credential itself is in the file');
  assert.equal(await foodCertificates(), before + 200);
  await shot('batch');
});

test('a batch can be offered to the holders\' wallets: a QR code, a link and a transaction code per row', async () => {
  await page.goto(`${server.base}/portal/batch`);
  await page.getByLabel('Credential type').selectOption('FoodIngredientCertificate');
  await page.getByTestId('deliver-offer').check();
  const lines = ['Ingredient name,Product code,Producer,Site country,Standard,Audit date,Result,Auditor name'];
  for (let i = 1; i <= 3; i++) lines.push(`Offered oil ${i},0800765432100${i},Frantoio,IT,ISO 22000:2018,2026-09-15,certified,Luca Bianchi`);
  await page.getByText('…or paste the CSV').click();
  await page.getByTestId('csv-text').fill(lines.join('\n'));
  await page.getByTestId('batch-check').click();
  await page.getByTestId('batch-ready').waitFor();
  await page.getByTestId('batch-start').click();
  await page.getByTestId('batch-summary').filter({ hasText: 'Offered 3, failed 0.' }).waitFor();
  const offers = page.getByTestId('batch-offer');
  assert.equal(await offers.count(), 3);
  assert.match(await offers.first().innerText(), /openid-credential-offer:\/\/\?credential_offer_uri=[\s\S]*\d{6}/);
  // Each QR code loads (an image the session may fetch).
  await page.waitForFunction(() => [...document.querySelectorAll('img.qr-small')].every(i => i.complete && i.naturalWidth > 0));
  await shot('batch-offers');
});

test('a credential is found by its id or a claim, revoked with a reason, and its status history and receipt shown', async () => {
  await page.getByRole('link', { name: 'Credentials', exact: true }).click();
  await page.getByTestId('credential-list').waitFor();
  assert.match(await page.getByTestId('credential-list').locator('caption').innerText(), /of 202$/);
  // By what a non-personal claim says, in any case: the batch's lots 17 and 170–179.
  // Never by a personal claim's value (every batch row names the same auditor).
  const claim = page.getByLabel('A claim contains');
  await claim.fill('OLIVE OIL LOT 17');
  await page.getByTestId('search').click();
  await page.getByTestId('credential-list').locator('caption').filter({ hasText: '1–11 of 11' }).waitFor();
  await claim.fill('Luca Bianchi');
  await page.getByTestId('search').click();
  await page.getByTestId('no-credentials').waitFor();
  await claim.fill('');
  await page.getByLabel('Credential id contains').fill(issuedId.slice(-12));
  await page.getByTestId('search').click();
  await page.getByTestId('credential-list').locator('caption').filter({ hasText: '1–1 of 1' }).waitFor();
  await shot('credentials');
  await page.getByRole('link', { name: issuedId }).click();
  await page.getByTestId('credential-id').filter({ hasText: issuedId }).waitFor();
  await page.getByTestId('credential-status').filter({ hasText: 'active' }).waitFor();
  await page.getByLabel('Reason').selectOption('superseded');
  await page.getByTestId('action-revoke').click();
  await page.getByTestId('credential-status').filter({ hasText: 'revoked (superseded)' }).waitFor();
  await page.getByTestId('history').filter({ hasText: 'credential.revoke' }).waitFor();
  assert.match(await page.getByTestId('history').innerText(), /credential\.issue[\s\S]*credential\.revoke/);
  // Who, by name: the certifier, not her account's id alone.
  assert.match(await page.getByTestId('history').innerText(), /Carla Certifier/);
  // The anchor is sealed within a block interval; the page shows it once reloaded.
  await page.waitForFunction(async url => {
    const r = await fetch(url);
    return r.ok && (await r.json()).anchor !== undefined;
  }, `${server.base}/credentials/${encodeURIComponent(issuedId)}`);
  await page.reload();
  await page.getByTestId('anchor').waitFor();
  await page.getByTestId('open-receipt').click();
  await page.getByTestId('receipt').waitFor();
  // The page checks the receipt itself, with the ledger core compiled to wasm: it asks
  // the server for nothing but the genesis.
  const checks = [];
  const onRequest = r => { if (r.url().includes('/chain/receipts/verify')) checks.push(r.url()); };
  page.on('request', onRequest);
  await page.getByTestId('verify-receipt').click();
  await page.getByTestId('receipt-valid').waitFor();
  receiptText = await page.getByTestId('receipt').locator('pre').textContent();
  page.off('request', onRequest);
  assert.deepEqual(checks, [], 'the receipt was checked in the browser');
  await shot('credential');
  // The list now shows it as revoked.
  await page.getByRole('link', { name: 'Credentials', exact: true }).click();
  await page.getByTestId('filter-status').selectOption('revoked');
  await page.getByTestId('search').click();
  await page.getByTestId('credential-list').locator('caption').filter({ hasText: '1–1 of 1' }).waitFor();
});

test("the dashboard charts the institution's work by day and by week, bar for bar as the API counts it", async () => {
  await page.getByRole('link', { name: 'Dashboard' }).click();
  const { body: figures } = await server.api('GET', '/dashboard', undefined, { auth: true });
  const bars = testid => page.getByTestId(`${testid}-data`).locator('tr').evaluateAll(
    rows => rows.map(r => [r.dataset.key, Number(r.querySelector('td').textContent)]));
  const api = (days, measure) => days.map(d => [d.day, d[measure]]);
  await page.getByTestId('chart-issued').waitFor();
  const daily = figures.activity.slice(-30);
  assert.deepEqual(await bars('chart-issued'), api(daily, 'issued'));
  assert.deepEqual(await bars('chart-status'), api(daily, 'statusChanges'));
  assert.ok(daily.reduce((n, d) => n + d.issued, 0) >= 202 && daily.reduce((n, d) => n + d.statusChanges, 0) >= 1);
  // Each day with work is a bar drawn in the SVG.
  const drawn = await page.getByTestId('chart-issued').locator('svg rect').count();
  assert.ok(drawn >= daily.filter(d => d.issued > 0).length, `${drawn} rects`);
  await shot('dashboard');
  await page.getByTestId('period-week').check();
  const weeks = [];
  for (let i = 0; i < figures.activity.length; i += 7) {
    const week = figures.activity.slice(i, i + 7);
    weeks.push([week[0].day, week.reduce((n, d) => n + d.issued, 0)]);
  }
  await page.getByTestId('chart-issued-data').locator('tr').nth(11).waitFor();
  assert.deepEqual(await bars('chart-issued'), weeks);
  await shot('dashboard-weekly');
});

test('the chain explorer and the audit log show the blocks and the changes', async () => {
  await page.getByRole('link', { name: 'Chain' }).click();
  await page.getByTestId('blocks').waitFor();
  const newest = page.getByTestId('blocks').getByRole('button').first();
  const height = Number(await newest.innerText());
  await newest.click();
  await page.getByTestId('block').waitFor();
  // Who signed the block, and the validators: this node alone, a quorum of one.
  const { body: validators } = await server.api('GET', '/chain/validators');
  const key = validators.validators[0].key;
  await page.getByTestId('block-signers').filter({ hasText: 'Signed by 1:' }).waitFor();
  await page.getByTestId('block-signer-list').filter({ hasText: key.slice(0, 16) }).waitFor();
  // Its transactions by kind, as the block itself holds them.
  const { body: block } = await server.api('GET', `/chain/blocks/${height}`);
  const kinds = {};
  for (const tx of block.transactions) kinds[tx.type] = (kinds[tx.type] ?? 0) + 1;
  const shown = await page.getByTestId('block-kind-table').locator('tbody tr').evaluateAll(
    rows => Object.fromEntries(rows.map(r => [r.dataset.key, Number(r.cells[1].textContent)])));
  assert.deepEqual(shown, kinds);
  assert.ok(await page.getByTestId('block-kinds').locator('svg rect').count() >= Object.keys(kinds).length);
  await page.getByTestId('validators').filter({ hasText: 'this node' }).waitFor();
  assert.match(await page.getByTestId('validators').innerText(), new RegExp(key.slice(0, 16)));
  await shot('chain');
  // A receipt pasted into the explorer is checked in the browser: the one downloaded
  // holds, and the same with another transaction's commitment does not, and says why.
  const receipt = JSON.parse(receiptText);
  await page.getByTestId('receipt-input').fill(JSON.stringify(receipt));
  await page.getByTestId('check-receipt').click();
  await page.getByTestId('receipt-valid').waitFor();
  const forged = JSON.stringify(receipt).replaceAll(receipt.commitment, '0'.repeat(64));
  assert.notEqual(forged, JSON.stringify(receipt));
  await page.getByTestId('receipt-input').fill(forged);
  await page.getByTestId('check-receipt').click();
  const verdict = await page.getByTestId('receipt-invalid').textContent();
  assert.match(verdict, /Not valid: .*not in the block/);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByTestId('audit-log').filter({ hasText: 'credential.revoke' }).waitFor();
  assert.match(await page.getByTestId('audit-log').innerText(), /Carla Certifier/);
  await shot('audit');
  await signOut();
});

test("an admin asks the institution's CA for a verifier certificate, installs the chain it returned, and requires key attestations from trusted wallet providers", async () => {
  await signIn(ADMIN);
  await page.getByRole('link', { name: 'Users & keys' }).click();
  await page.getByTestId('certificate-dns').fill('verifier.food-cert.test');
  await page.getByTestId('certificate-request').click();
  const csr = await page.getByTestId('certificate-csr').innerText();
  // OpenSSL's CA signs the request.
  const dir = mkdtempSync(join(tmpdir(), 'certus-portal-ca-'));
  try {
    writeFileSync(join(dir, 'verifier.csr'), csr);
    opensslRoot(dir, 'root');
    opensslIssue(dir, 'verifier', 'root');
    // A chain for another name is refused with the reason; the right one is installed.
    await page.getByTestId('certificate-chain-input').fill(readFileSync(join(dir, 'root.pem'), 'utf8'));
    await page.getByTestId('certificate-install').click();
    await page.getByTestId('certificate-install-error').filter({ hasText: 'CERTIFICATE_KEY_MISMATCH' }).waitFor();
    consoleErrors.allow(/status of 422 .*\/verifier\/certificates\/\w+\/chain\)$/);
    await page.getByTestId('certificate-chain-input').fill(readFileSync(join(dir, 'verifier.pem'), 'utf8') + readFileSync(join(dir, 'root.pem'), 'utf8'));
    await page.getByTestId('certificate-install').click();
    await page.getByTestId('certificate-status').filter({ hasText: 'active' }).waitFor();
    assert.match(await page.getByTestId('certificate-client-id').first().innerText(), /^x509_san_dns:verifier\.food-cert\.test$/);
    await shot('verifier-certificate');

    // Key and wallet attestations: the providers' roots, then the switches (one PUT carries
    // every choice).
    const saved = () => page.waitForResponse(r => r.url().endsWith('/settings') && r.request().method() === 'PUT');
    await page.getByTestId('wallet-providers').fill(readFileSync(join(dir, 'root.pem'), 'utf8'));
    await Promise.all([saved(), page.getByTestId('wallet-providers-save').click()]);
    await Promise.all([saved(), page.getByTestId('require-key-attestation').check()]);
    await Promise.all([saved(), page.getByTestId('require-wallet-attestation').check()]);
    const { body: settings } = await server.api('GET', '/settings', undefined, { auth: true });
    assert.equal(settings.requireKeyAttestation, true);
    assert.equal(settings.requireWalletAttestation, true);
    assert.match(settings.walletProviders, /BEGIN CERTIFICATE/);
    await Promise.all([saved(), page.getByTestId('require-key-attestation').uncheck()]);
    await Promise.all([saved(), page.getByTestId('require-wallet-attestation').uncheck()]);
    const { body: after } = await server.api('GET', '/settings', undefined, { auth: true });
    assert.equal(after.requireWalletAttestation, false);
    assert.match(after.walletProviders, /BEGIN CERTIFICATE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await signOut();
});

test('an admin adds a user and creates an API key; a certifier has no such page', async () => {
  await signIn(ADMIN);
  await page.getByRole('link', { name: 'Users & keys' }).click();
  await page.getByTestId('users').filter({ hasText: CERTIFIER }).waitFor();
  await page.getByLabel('Email').fill('new.auditor@food-cert.test');
  await page.getByLabel('Name').fill('Nora Auditor');
  await page.getByLabel('Role', { exact: true }).selectOption('auditor');
  await page.getByTestId('add-user').click();
  await page.getByTestId('one-time-password').waitFor();
  await page.getByTestId('users').filter({ hasText: 'new.auditor@food-cert.test' }).waitFor();
  await page.getByLabel('Label').fill('verifier desk');
  await page.getByTestId('create-key').click();
  const token = (await page.getByTestId('new-token').locator('code').innerText()).trim();
  assert.match(token, /^certus_/);
  await page.getByTestId('api-keys').filter({ hasText: 'verifier desk' }).waitFor();
  await shot('admin');
  // Open issuance: off as the profile has it, turned on by the admin, and then an
  // integrator issues a credential of no registered type.
  const example = {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://www.w3.org/ns/credentials/examples/v2'],
    type: ['VerifiableCredential', 'ExampleDegreeCredential'],
    credentialSubject: { id: 'did:example:ebfeb1f712ebc6f1c276e12ec21', degree: { name: 'BSc' } },
  };
  const issueExample = () => server.api('POST', '/credentials/issue', { credential: example }, { auth: true });
  await page.getByTestId('open-issuance-state').filter({ hasText: 'off, as the server' }).waitFor();
  assert.equal((await issueExample()).body.code, 'UNKNOWN_CREDENTIAL_TYPE');
  await page.getByLabel('Open issuance through the VC API').selectOption('on');
  await page.getByTestId('open-issuance-state').filter({ hasText: 'on, as you chose' }).waitFor();
  const issued = await issueExample();
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  assert.equal(issued.body.schemaChecked, false);
  // Requiring DPoP keeps the open issuance chosen (one PUT carries every choice).
  const settingsNow = async () => (await server.api('GET', '/settings', undefined, { auth: true })).body;
  const saved = () => page.waitForResponse(r => r.url().endsWith('/settings') && r.request().method() === 'PUT');
  await Promise.all([saved(), page.getByTestId('require-dpop').check()]);
  assert.deepEqual(
    (({ openIssuance, requireDpop }) => ({ openIssuance, requireDpop }))(await settingsNow()),
    { openIssuance: true, requireDpop: true });
  await Promise.all([saved(), page.getByTestId('require-dpop').uncheck()]);
  assert.equal((await settingsNow()).requireDpop, false);
  await page.getByLabel('Open issuance through the VC API').selectOption('profile');
  await page.getByTestId('open-issuance-state').filter({ hasText: 'off, as the server' }).waitFor();
  await signOut();
  // The new key works for what it was given.
  const r = await fetch(`${server.base}/credentials/verify`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"verifiableCredential": 1}' });
  assert.equal(r.status, 400);
});

test("another institution's user neither sees nor opens the credential", async () => {
  await signIn(OTHER);
  await page.getByRole('link', { name: 'Credentials', exact: true }).click();
  await page.getByTestId('no-credentials').waitFor();
  await page.goto(`${server.base}/portal/credentials/${encodeURIComponent(issuedId)}`);
  await page.getByTestId('credential-error').filter({ hasText: 'CREDENTIAL_NOT_FOUND' }).waitFor();
  consoleErrors.allow(/status of 404 .*\/credentials\/urn/);
  assert.equal(await page.getByRole('link', { name: 'Users & keys' }).count(), 0);
  await signOut();
  await page.goto(`${server.base}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
});

test('on a phone-sized screen the portal stays usable', async () => {
  await signIn(CERTIFIER);
  await page.setViewportSize({ width: 390, height: 800 });
  // The menu folds behind one button, and the header stays one line high.
  const header = () => page.locator('header.top').evaluate(h => h.getBoundingClientRect().height);
  assert.equal(await page.getByRole('link', { name: 'Credentials', exact: true }).isVisible(), false);
  assert.ok(await header() < 70, `the header is ${await header()}px high`);
  await page.getByTestId('menu-toggle').click();
  assert.equal(await page.getByTestId('menu-toggle').getAttribute('aria-expanded'), 'true');
  await shot('phone-menu');
  await page.getByRole('link', { name: 'Credentials', exact: true }).click();
  await page.getByTestId('credential-list').waitFor();
  // Going to a page folds the menu again.
  await page.locator('[data-testid=menu-toggle][aria-expanded=false]').waitFor();
  await assertNoSidewaysScroll(page, 'the list');
  await shot('phone');
  // Issuing on a phone: the result comes into view, and nothing scrolls sideways.
  await page.goto(`${server.base}/portal/issue?type=FoodIngredientCertificate`);
  await page.getByTestId('field-ingredientName').fill('Olive oil, phone');
  await page.getByTestId('field-productCode').fill('08001234567892');
  await fillTheRest();
  await page.getByTestId('issue').click();
  await page.getByTestId('issued-id').waitFor();
  assert.equal(await inView('issued'), true);
  await assertNoSidewaysScroll(page, 'the issue page');
  await shot('phone-issue');
  await page.goto(`${server.base}/portal/types`);
  await page.getByTestId('type-KycCredential').waitFor();
  await assertNoSidewaysScroll(page, 'the types page');
  await shot('phone-types');
  await page.setViewportSize({ width: 1200, height: 900 });
  await signOut();
});

test('on a first start the console shows a one-time password, which must be replaced', async () => {
  const fresh = await startServer({ withApiKey: false });
  try {
    const [, email, password] = await fresh.waitForOutput(/First sign-in: \S+ as (\S+) with the one-time password (\S+) /);
    const p = await browser.newPage();
    await p.goto(`${fresh.base}/sign-in`);
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(password);
    await p.getByTestId('sign-in').click();
    await p.getByRole('heading', { name: 'Choose your password' }).waitFor();
    // Until then the API refuses everything else.
    const blocked = await p.evaluate(async () => (await fetch('/dashboard')).json());
    assert.equal(blocked.code, 'PASSWORD_CHANGE_REQUIRED');
    await p.getByTestId('current-password').fill(password);
    await p.getByTestId('new-password').fill(PASSWORD);
    await p.getByTestId('repeat-password').fill(PASSWORD);
    await p.getByTestId('change-password').click();
    await p.getByTestId('stat-issued').waitFor();
    await p.close();
  } finally {
    await fresh.stop();
  }
});

test('an admin defines a credential type from a list of claims, and a certifier issues it from the generated form', async () => {
  await signIn(ADMIN);
  await page.getByRole('link', { name: 'Types' }).click();
  await page.getByText('Define a credential type of your own').click();
  await page.getByTestId('type-name').fill('organic');
  await page.getByTestId('type-title').fill('Organic farm certificate');
  await page.getByTestId('type-description').fill('The farm is certified organic under EU 2018/848.');
  const rows = page.getByTestId('claim-row');
  const claim = async (i, name, { kind, allowed, personal, optional } = {}) => {
    if (i > 0) await page.getByTestId('add-claim').click();
    const row = rows.nth(i);
    await row.getByTestId('claim-name').fill(name);
    if (kind) await row.getByTestId('claim-kind').selectOption(kind);
    if (allowed) await row.getByTestId('claim-allowed').fill(allowed);
    if (personal) await row.getByTestId('claim-personal').check();
    if (optional) await row.getByTestId('claim-required').uncheck();
  };
  await claim(0, 'farmName');
  await claim(1, 'certifiedOn', { kind: 'date' });
  await claim(2, 'scope', { allowed: 'crops, livestock' });
  await claim(3, 'inspectorName', { personal: true, optional: true });
  // A name that cannot be a type is flagged next to the field.
  await page.getByTestId('define-type-submit').click();
  await page.locator('#type-name-error').filter({ hasText: 'capital letter' }).waitFor();
  consoleErrors.allow(/status of 422 .*\/credential-types\)$/);
  await page.getByTestId('type-name').fill('OrganicFarmCertificate');
  await page.getByTestId('define-type-submit').click();
  await page.getByTestId('type-defined').filter({ hasText: 'Defined OrganicFarmCertificate (version 1), registered on the chain' }).waitFor();
  const card = page.getByTestId('type-OrganicFarmCertificate');
  await card.waitFor();
  assert.match(await card.innerText(), /inspectorName[\s\S]*personal/);
  await shot('define-type');
  await signOut();

  await signIn(CERTIFIER);
  await page.getByRole('link', { name: 'Issue', exact: true }).click();
  await page.getByLabel('Credential type').selectOption('OrganicFarmCertificate');
  await page.getByTestId('field-farmName').fill('Podere Esempio');
  await page.getByTestId('field-certifiedOn').fill('2026-11-20');
  await page.getByTestId('field-scope').selectOption('livestock');
  await page.getByTestId('field-inspectorName').fill('Luca Bianchi');
  await page.getByTestId('format-vc-jwt').check();
  await page.getByTestId('issue').click();
  await page.getByTestId('issued-id').waitFor();
  const href = await page.getByTestId('download-credential').getAttribute('href');
  const jwt = decodeURIComponent(href.split(',').slice(1).join(','));
  const r = await fetch(`${server.base}/credentials/verify`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ verifiableCredential: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: 'EnvelopedVerifiableCredential', id: `data:application/vc+jwt,${jwt}` } }),
  });
  const result = await r.json();
  assert.equal(result.verified, true, JSON.stringify(result));
  assert.ok(result.results.some(c => c.check === 'schema' && c.outcome === 'passed'));
  await shot('issue-own-type');

  // The batch page maps a CSV onto the new type's claims like any other type's.
  const csv = join(out, 'organic.csv');
  writeFileSync(csv, [
    'farmName,certifiedOn,scope,inspectorName',
    'Podere Uno,2026-11-01,crops,Luca Bianchi',
    'Podere Due,2026-11-02,livestock,',
    'Podere Tre,01/11/2026,crops,Luca Bianchi',
  ].join('\n') + '\n');
  await page.getByRole('link', { name: 'Batch issue' }).click();
  await page.getByLabel('Credential type').selectOption('OrganicFarmCertificate');
  await page.getByTestId('csv-file').setInputFiles(csv);
  await page.getByTestId('csv-summary').filter({ hasText: '3 rows' }).waitFor();
  await page.getByTestId('batch-check').click();
  assert.match(await page.getByTestId('batch-problems').innerText(), /3\s+Certified on/);
  // The bad row fixed, the batch passes and is issued.
  await page.getByText('…or paste the CSV').click();
  await page.getByTestId('csv-text').fill(readFileSync(csv, 'utf8').replace('01/11/2026', '2026-11-03'));
  await page.getByTestId('batch-check').click();
  await page.getByTestId('batch-ready').waitFor();
  await page.getByTestId('batch-start').click();
  await page.getByTestId('batch-summary').filter({ hasText: 'Issued 3, failed 0.' }).waitFor({ timeout: 60_000 });
  await signOut();
});

test('every page, at 1280 px and at 360 px, fits the screen and logs no error; a screenshot of each', async () => {
  await signIn(ADMIN);
  const { body: head } = await server.api('GET', '/chain/head');
  const pages = [
    ['dashboard', '/'],
    ['credentials', '/portal/credentials'],
    ['credential', `/portal/credentials/${encodeURIComponent(issuedId)}`],
    ['issue', '/portal/issue?type=FoodIngredientCertificate'],
    ['batch', '/portal/batch'],
    ['types', '/portal/types'],
    ['chain', `/portal/chain?block=${head.height}`],
    ['audit', '/portal/audit'],
    ['kyc', '/portal/kyc'],
    ['privacy', '/portal/privacy'],
    ['admin', '/portal/admin'],
    ['verify', '/verify'],
    ['wallet', '/wallet'],
  ];
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: 900 });
    for (const [name, path] of pages) {
      await page.goto(`${server.base}${path}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      await assertNoSidewaysScroll(page, `${name} at ${width} px`);
      await page.screenshot({ path: join(out, `page-${name}-${width}.png`), fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1200, height: 900 });
  await signOut();
});
