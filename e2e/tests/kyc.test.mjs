// KYC done once, reused across institutions, in real headless Chromium against a real
// server with three tenants: bank A's KYC desk (accredited) offers a KycCredential from the
// portal; the holder accepts it in the web wallet; bank B saves a KYC policy and a webhook
// in the portal, asks through the verifier console, and the holder shares (allowing status
// notifications): accepted, reliance recorded. Bank C's stricter policy refuses the same
// credential and says why. Bank A sees the count of reliance on its KYC; bank A revokes;
// bank B's next check says revoked and its webhook receives a signed event.
// Screenshots go to e2e/out/kyc-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, fillSubject } from '../lib/browser.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'out');
mkdirSync(out, { recursive: true });

const PASSWORD = 'correct horse battery staple';
const PASSPHRASE = 'a long wallet passphrase';
const day = offset => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
const SUBJECT = {
  givenName: 'Maria', familyName: 'Rossi-Kyc', birthDate: '1988-04-12', nationality: 'IT',
  documentNumber: 'YA7654321', assuranceLevel: 'substantial', checkDate: day(100), checkMethod: 'video',
};
const PEOPLE = {
  a: { email: 'carla@bank-a.test', tenant: 'default', role: 'certifier' },
  b: { email: 'bea@bank-b.test', tenant: 'bank-b', role: 'admin' },
  c: { email: 'cole@bank-c.test', tenant: 'bank-c', role: 'admin' },
};

let server;
let hook;
const events = [];
const browsers = [];
const pages = {};

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', chunk => { body += chunk; });
    req.on('end', () => {
      events.push({ type: req.headers['content-type'], body });
      res.writeHead(202).end();
    });
  });
  await new Promise(resolve => hook.listen(0, '127.0.0.1', resolve));
  server = await startServer({
    setup: cli => {
      cli(['tenant', 'create', 'Bank B', '--id', 'bank-b', '--admin', 'first@bank-b.test']);
      cli(['tenant', 'create', 'Bank C', '--id', 'bank-c', '--admin', 'first@bank-c.test']);
      for (const { email, tenant, role } of Object.values(PEOPLE)) {
        cli(['user', 'create', '--email', email, '--name', email.split('@')[0], '--role', role,
          '--tenant', tenant, '--password-stdin'], PASSWORD);
      }
    },
  });
  for (const who of ['a', 'b', 'c', 'holder']) {
    const browser = await launchBrowser();
    browsers.push(browser);
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1200, height: 900 });
    page.on('dialog', dialog => dialog.accept());
    pages[who] = page;
    if (who === 'holder') continue;
    await page.goto(`${server.base}/sign-in`);
    await page.getByLabel('Email').fill(PEOPLE[who].email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('signed-in-as').waitFor();
  }
});
after(async () => {
  for (const browser of browsers) await browser.close();
  await server?.stop();
  hook?.close();
});

const shot = (page, name) => page.screenshot({ path: join(out, `kyc-${name}.png`), fullPage: true });

/** Saves a KYC policy on the KYC page of `page`'s institution. */
async function savePolicy(page, name, maxDays) {
  await page.goto(`${server.base}/portal/kyc`);
  await page.getByTestId('kyc-policy-name').fill(name);
  await page.getByTestId('kyc-min-assurance').selectOption('substantial');
  await page.getByTestId('kyc-max-age').fill(String(maxDays));
  await page.getByTestId('kyc-claim-givenName').waitFor();
  await page.getByTestId('kyc-policy-save').click();
  await page.getByTestId('kyc-policy-saved').filter({ hasText: name }).waitFor();
}

/** Builds a request under `policy` in the verifier console; its link. */
async function requestKyc(page, policy) {
  await page.goto(`${server.base}/verify`);
  await page.getByLabel('Credential type').selectOption('KycCredential');
  for (const claim of ['givenName', 'familyName', 'birthDate']) await page.getByTestId(`ask-${claim}`).check();
  await page.getByTestId('request-purpose').fill('Open a current account');
  await page.getByTestId('request-policy').fill(policy);
  await page.getByTestId('request-create').click();
  await page.getByTestId('request-status').filter({ hasText: 'pending' }).waitFor();
  return page.getByTestId('request-link').innerText();
}

/**
 * The holder opens `link` and shares what is asked, allowing notifications when asked;
 * what the wallet then says (`refused`: the verifier's refusal).
 */
async function share(link, { allowNotifications, refused = false }) {
  const holder = pages.holder;
  await holder.getByTestId('wallet-request-input').fill(link);
  await holder.getByTestId('wallet-open-request').click();
  await holder.getByTestId('wallet-consent').waitFor();
  const notify = holder.getByTestId('consent-notify');
  assert.ok(!(await notify.isChecked()), 'notifications are opt-in');
  if (allowNotifications) await notify.check();
  await holder.getByTestId('consent-share').click();
  const answer = holder.getByTestId(refused ? 'wallet-answer-error' : 'wallet-answer');
  await answer.waitFor();
  return answer.innerText();
}

test('bank A, accredited for KYC, offers a KycCredential; the holder accepts it', async () => {
  const a = pages.a;
  await a.goto(`${server.base}/portal/issue?type=KycCredential`);
  await fillSubject(a, SUBJECT);
  await a.getByTestId('format-dc-sd-jwt').check();
  await a.getByTestId('offer').click();
  await a.getByTestId('offered').waitFor();
  const link = await a.getByTestId('offer-link').innerText();
  const txCode = await a.getByTestId('offer-tx-code-value').innerText();

  const holder = pages.holder;
  await holder.goto(`${server.base}/wallet`);
  await holder.getByTestId('wallet-new-passphrase').fill(PASSPHRASE);
  await holder.getByTestId('wallet-repeat-passphrase').fill(PASSPHRASE);
  await holder.getByTestId('wallet-create').click();
  await holder.getByTestId('wallet-empty').waitFor();
  await holder.getByTestId('wallet-offer-input').fill(link);
  await holder.getByTestId('wallet-tx-code').fill(txCode);
  await holder.getByTestId('wallet-accept').click();
  await holder.getByTestId('wallet-received').waitFor();
  await a.getByTestId('offer-status').filter({ hasText: 'received by the wallet' }).waitFor();
});

test('bank C, not accredited, cannot issue a KycCredential', async () => {
  const c = pages.c;
  await c.goto(`${server.base}/portal/issue?type=KycCredential`);
  await fillSubject(c, SUBJECT);
  await c.getByTestId('issue').click();
  await c.getByTestId('accreditation-note').waitFor();
  await c.getByTestId('issue-error').filter({ hasText: 'ISSUER_NOT_ACCREDITED' }).waitFor();
});

test('bank B onboards under its KYC policy: accepted, and the reliance is recorded', async () => {
  const b = pages.b;
  await savePolicy(b, 'bank-b-onboarding', 365);
  await b.getByTestId('kyc-webhook-url').fill(`http://127.0.0.1:${hook.address().port}/hook`);
  await b.getByTestId('kyc-webhook-save').click();
  await b.getByTestId('kyc-webhook-saved').waitFor();
  await b.getByTestId('kyc-reliances-empty').waitFor();
  await shot(b, 'policy');

  const link = await requestKyc(b, 'bank-b-onboarding');
  await share(link, { allowNotifications: true });
  await shot(pages.holder, 'consent');
  await b.getByTestId('request-status').filter({ hasText: 'accepted' }).waitFor();
  const reliance = await b.getByTestId('request-reliance').innerText();
  assert.match(reliance, /Bank B relied on the substantial KYC of did:key:/);
  assert.match(reliance, /told of suspension or revocation/);
  await shot(b, 'accepted');
});

test('bank C, wanting a check at most 30 days old, refuses the same credential and says why', async () => {
  const c = pages.c;
  await savePolicy(c, 'bank-c-onboarding', 30);
  const link = await requestKyc(c, 'bank-c-onboarding');
  const told = await share(link, { allowNotifications: false, refused: true });
  assert.match(told, /kyc\.maxCheckAgeDays \(checked 100 days ago; at most 30 accepted\)/);
  await c.getByTestId('request-status').filter({ hasText: 'rejected' }).waitFor();
  const problem = await c.getByTestId('request-problem').innerText();
  assert.match(problem, /POLICY_NOT_SATISFIED/);
  assert.match(problem, /kyc\.maxCheckAgeDays \(checked 100 days ago; at most 30 accepted\)/);
  assert.equal(await c.getByTestId('request-reliance').count(), 0);
  await c.goto(`${server.base}/portal/kyc`);
  await c.getByTestId('kyc-reliances-empty').waitFor();
  await shot(c, 'refused');
});

test('bank A sees how often its KYC was relied on, by whom, and no customer', async () => {
  const a = pages.a;
  await a.goto(`${server.base}/portal/kyc`);
  const summary = a.getByTestId('kyc-summary');
  await summary.waitFor();
  const text = await summary.innerText();
  assert.match(text, /Bank B\s+\d{4}-\d{2}\s+1/);
  assert.ok(!text.includes('Maria') && !text.includes('Rossi-Kyc'));
  await shot(a, 'summary');
});

test('bank A revokes; bank B\'s next check fails and its webhook receives a signed event', async () => {
  const b = pages.b;
  await b.goto(`${server.base}/portal/kyc`);
  const row = b.getByTestId('kyc-reliance');
  await row.waitFor();
  await row.getByTestId('kyc-check').click();
  await row.getByTestId('kyc-state').filter({ hasText: 'active' }).waitFor();

  const a = pages.a;
  await a.goto(`${server.base}/portal/credentials`);
  await a.getByTestId('credential-list').waitFor();
  await a.getByTestId('credential-list').locator('tbody a').first().click();
  await a.getByTestId('credential-status').filter({ hasText: 'active' }).waitFor();
  await a.getByLabel('Reason').selectOption('superseded');
  await a.getByTestId('action-revoke').click();
  await a.getByTestId('credential-status').filter({ hasText: 'revoked' }).waitFor();

  await row.getByTestId('kyc-check').click();
  await row.getByTestId('kyc-state').filter({ hasText: 'revoked' }).waitFor();
  // The delivery task sends within a few seconds.
  for (let i = 0; i < 50 && events.length === 0; i++) await new Promise(r => setTimeout(r, 200));
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'application/secevent+jwt');
  const [header, payload] = events[0].body.split('.').slice(0, 2)
    .map(part => JSON.parse(Buffer.from(part, 'base64url').toString()));
  assert.equal(header.typ, 'secevent+jwt');
  const event = payload.events['https://w3id.org/certus/secevent/credential-status'];
  assert.equal(event.event, 'revoked');
  assert.ok(!events[0].body.includes('Maria'));
  await b.getByTestId('kyc-deliveries-refresh').click();
  await b.getByTestId('kyc-deliveries').filter({ hasText: 'delivered' }).waitFor();
  await shot(b, 'revoked');
});
