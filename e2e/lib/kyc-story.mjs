// KYC done once, reused across institutions, in real headless Chromium against real
// servers: bank A's KYC desk (accredited) offers a KycCredential from the portal; the
// holder accepts it in the web wallet; bank B saves a KYC policy and a webhook in the
// portal, asks through the verifier console, and the holder shares (allowing status
// notifications): accepted, reliance recorded. Bank C's stricter policy refuses the same
// credential and says why. Bank A sees the count of reliance on its KYC, and the regulator
// the whole register; bank A revokes; bank B's next check says revoked and its webhook
// receives a signed event. `deploy` decides where the banks are: three tenants of one
// deployment, or three members of a consortium, each on its own node.
// Screenshots go to e2e/out/kyc-<name>-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, fillSubject } from './browser.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'out');
mkdirSync(out, { recursive: true });

export const PASSWORD = 'correct horse battery staple';
const PASSPHRASE = 'a long wallet passphrase';
const day = offset => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
const SUBJECT = {
  givenName: 'Maria', familyName: 'Rossi-Kyc', birthDate: '1988-04-12', nationality: 'IT',
  documentNumber: 'YA7654321', assuranceLevel: 'substantial', checkDate: day(100), checkMethod: 'video',
};
/** Who signs in for each bank: their account, in their bank's tenant. */
export const PEOPLE = {
  a: { email: 'carla@bank-a.test', tenant: 'default', role: 'certifier' },
  b: { email: 'bea@bank-b.test', tenant: 'bank-b', role: 'admin' },
  c: { email: 'cole@bank-c.test', tenant: 'bank-c', role: 'admin' },
};

/** The setup of a store for `banks` (keys of PEOPLE): their tenants and accounts. */
export const bankSetup = banks => cli => {
  for (const bank of banks) {
    const { email, tenant, role } = PEOPLE[bank];
    if (tenant !== 'default') {
      const name = `Bank ${bank.toUpperCase()}`;
      cli(['tenant', 'create', name, '--id', tenant, '--admin', `first@${tenant}.test`]);
    }
    cli(['user', 'create', '--email', email, '--name', email.split('@')[0], '--role', role,
      '--tenant', tenant, '--password-stdin'], PASSWORD);
  }
};

/** Polls `check` every 300 ms (at most 60 times) until it holds. */
async function until(what, check) {
  for (let i = 0; i < 60; i++) {
    if (await check()) return;
    await new Promise(resolve => setTimeout(resolve, 300));
  }
  assert.fail(`waited 18 s for ${what}`);
}

/**
 * The story, as tests of the calling file. `deploy()` starts the deployment and resolves
 * with `sites` (each bank's base URL: a, b, c), `regulator` (a node's `api` and the root
 * authority's `trustToken` there) and `stop()`.
 */
export function kycStory(name, deploy) {
  let deployment;
  let hook;
  const events = [];
  const browsers = [];
  const pages = {};
  const site = who => deployment.sites[who];

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
    deployment = await deploy();
    for (const who of ['a', 'b', 'c', 'holder']) {
      const browser = await launchBrowser();
      browsers.push(browser);
      const page = await browser.newPage();
      await page.setViewportSize({ width: 1200, height: 900 });
      page.on('dialog', dialog => dialog.accept());
      pages[who] = page;
      if (who === 'holder') continue;
      await page.goto(`${site(who)}/sign-in`);
      await page.getByLabel('Email').fill(PEOPLE[who].email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByTestId('sign-in').click();
      await page.getByTestId('signed-in-as').waitFor();
    }
  });
  after(async () => {
    for (const browser of browsers) await browser.close();
    await deployment?.stop();
    hook?.close();
  });

  const shot = (page, what) => page.screenshot({ path: join(out, `kyc-${name}-${what}.png`), fullPage: true });

  /** Saves a KYC policy on the KYC page of `who`'s institution. */
  async function savePolicy(who, policy, maxDays) {
    const page = pages[who];
    await page.goto(`${site(who)}/portal/kyc`);
    await page.getByTestId('kyc-policy-name').fill(policy);
    await page.getByTestId('kyc-min-assurance').selectOption('substantial');
    await page.getByTestId('kyc-max-age').fill(String(maxDays));
    await page.getByTestId('kyc-claim-givenName').waitFor();
    await page.getByTestId('kyc-policy-save').click();
    await page.getByTestId('kyc-policy-saved').filter({ hasText: policy }).waitFor();
  }

  /** Builds a request under `policy` in `who`'s verifier console; its link. */
  async function requestKyc(who, policy) {
    const page = pages[who];
    await page.goto(`${site(who)}/verify`);
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
    await a.goto(`${site('a')}/portal/issue?type=KycCredential`);
    await fillSubject(a, SUBJECT);
    await a.getByTestId('format-dc-sd-jwt').check();
    await a.getByTestId('offer').click();
    await a.getByTestId('offered').waitFor();
    const link = await a.getByTestId('offer-link').innerText();
    const txCode = await a.getByTestId('offer-tx-code-value').innerText();

    // The holder's web wallet is served by bank A's node; it answers the other banks'
    // nodes across origins.
    const holder = pages.holder;
    await holder.goto(`${site('a')}/wallet`);
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
    await c.goto(`${site('c')}/portal/issue?type=KycCredential`);
    await fillSubject(c, SUBJECT);
    await c.getByTestId('issue').click();
    await c.getByTestId('accreditation-note').waitFor();
    await c.getByTestId('issue-error').filter({ hasText: 'ISSUER_NOT_ACCREDITED' }).waitFor();
  });

  test('bank B onboards under its KYC policy: accepted, and the reliance is recorded', async () => {
    const b = pages.b;
    await savePolicy('b', 'bank-b-onboarding', 365);
    await b.getByTestId('kyc-webhook-url').fill(`http://127.0.0.1:${hook.address().port}/hook`);
    await b.getByTestId('kyc-webhook-save').click();
    await b.getByTestId('kyc-webhook-saved').waitFor();
    await b.getByTestId('kyc-reliances-empty').waitFor();
    await shot(b, 'policy');

    const link = await requestKyc('b', 'bank-b-onboarding');
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
    await savePolicy('c', 'bank-c-onboarding', 30);
    const link = await requestKyc('c', 'bank-c-onboarding');
    const told = await share(link, { allowNotifications: false, refused: true });
    assert.match(told, /kyc\.maxCheckAgeDays \(checked 100 days ago; at most 30 accepted\)/);
    await c.getByTestId('request-status').filter({ hasText: 'rejected' }).waitFor();
    const problem = await c.getByTestId('request-problem').innerText();
    assert.match(problem, /POLICY_NOT_SATISFIED/);
    assert.match(problem, /kyc\.maxCheckAgeDays \(checked 100 days ago; at most 30 accepted\)/);
    assert.equal(await c.getByTestId('request-reliance').count(), 0);
    await c.goto(`${site('c')}/portal/kyc`);
    await c.getByTestId('kyc-reliances-empty').waitFor();
    await shot(c, 'refused');
  });

  test('bank A sees how often its KYC was relied on, by whom, and no customer', async () => {
    const a = pages.a;
    const summary = a.getByTestId('kyc-summary');
    // Counted from the chain: the reliance shows once its block is final.
    await until('the reliance in bank A\'s summary', async () => {
      await a.goto(`${site('a')}/portal/kyc`);
      await summary.waitFor();
      return /Bank B\s+\d{4}-\d{2}\s+1/.test(await summary.innerText());
    });
    const text = await summary.innerText();
    assert.ok(!text.includes('Maria') && !text.includes('Rossi-Kyc'));
    await shot(a, 'summary');
  });

  test('the regulator reads the whole register, and no customer in it', async () => {
    const { api, trustToken } = deployment.regulator;
    const register = () => api('GET', '/kyc/register', undefined, { bearer: trustToken });
    await until('the reliance in the regulator\'s register', async () => (await register()).body.records?.length > 0);
    const { status, body } = await register();
    assert.equal(status, 200);
    assert.equal(body.records.length, 1);
    const [entry] = body.records;
    assert.equal(entry.notice.relyingInstitution, 'Bank B');
    assert.equal(entry.notice.assuranceLevel, 'substantial');
    assert.match(entry.notice.month, /^\d{4}-\d{2}$/);
    assert.ok(entry.height > 0 && entry.sealedAt);
    // The full record (with its check date) only where bank B's node is the regulator's.
    assert.equal(entry.record !== undefined, deployment.sites.b === deployment.regulator.base);
    assert.ok(!JSON.stringify(body).includes('Maria') && !JSON.stringify(body).includes('Rossi-Kyc'));
  });

  test('bank A revokes; bank B\'s next check fails and its webhook receives a signed event', async () => {
    const b = pages.b;
    await b.goto(`${site('b')}/portal/kyc`);
    const row = b.getByTestId('kyc-reliance');
    await row.waitFor();
    await row.getByTestId('kyc-check').click();
    await row.getByTestId('kyc-state').filter({ hasText: 'active' }).waitFor();

    const a = pages.a;
    await a.goto(`${site('a')}/portal/credentials`);
    await a.getByTestId('credential-list').waitFor();
    await a.getByTestId('credential-list').locator('tbody a').first().click();
    await a.getByTestId('credential-status').filter({ hasText: 'active' }).waitFor();
    await a.getByLabel('Reason').selectOption('superseded');
    await a.getByTestId('action-revoke').click();
    await a.getByTestId('credential-status').filter({ hasText: 'revoked' }).waitFor();

    // Bank B reads the list version the chain anchors: once its block is final there.
    await until('bank B\'s check to say revoked', async () => {
      await row.getByTestId('kyc-check').click();
      await row.getByTestId('kyc-state').waitFor();
      return (await row.getByTestId('kyc-state').innerText()).includes('revoked');
    });
    // The delivery task sends within a few seconds.
    await until('the webhook event', () => events.length > 0);
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
}
