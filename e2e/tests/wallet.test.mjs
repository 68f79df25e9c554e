// The holder's web wallet in real headless Chromium, against a real server: a certifier
// offers a KYC credential from the portal; the holder creates a wallet, accepts the offer
// with its transaction code, sees it active and anchored; a verifier's request built in the
// console is answered with only the chosen claims, and the verifier sees exactly those and
// a passing result. Also: nothing in clear in localStorage, wrong passphrases, backup and
// restore in another browser, decline, delete, an offer read from the camera, and an offer
// of the authorization code flow taken through the issuer's page.
// Screenshots go to e2e/out/wallet-*.png.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { startServer } from '../lib/server.mjs';
import { animoVerifier } from '../lib/animo-verifier.mjs';
import { launchBrowser, fillSubject, assertNoSidewaysScroll, watchConsole } from '../lib/browser.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'out');
mkdirSync(out, { recursive: true });

const PASSWORD = 'correct horse battery staple';
const CERTIFIER = 'carla@bank-a.test';
const ADMIN = 'ada@bank-a.test';
const PASSPHRASE = 'a long wallet passphrase';
const SUBJECT = {
  givenName: 'Maria', familyName: 'Rossi-Unique', birthDate: '1988-04-12', nationality: 'IT',
  assuranceLevel: 'substantial', checkDate: '2026-10-01', checkMethod: 'video',
};

let server;
let portalBrowser;
let holderBrowser;
let portal;
let holder;
let portalConsole;
let holderConsole;

before(async () => {
  server = await startServer({
    setup: cli => {
      cli(['user', 'create', '--email', CERTIFIER, '--name', 'Carla', '--role', 'certifier', '--password-stdin'], PASSWORD);
      cli(['user', 'create', '--email', ADMIN, '--name', 'Ada', '--role', 'admin', '--password-stdin'], PASSWORD);
    },
  });
  portalBrowser = await launchBrowser();
  holderBrowser = await launchBrowser();
  portal = await portalBrowser.newPage();
  holder = await holderBrowser.newPage();
  portalConsole = watchConsole(portal);
  holderConsole = watchConsole(holder);
  for (const page of [portal, holder]) {
    await page.setViewportSize({ width: 1200, height: 900 });
    page.on('dialog', dialog => dialog.accept());
  }
  await portal.goto(`${server.base}/sign-in`);
  await portal.getByLabel('Email').fill(CERTIFIER);
  await portal.getByLabel('Password').fill(PASSWORD);
  await portal.getByTestId('sign-in').click();
  await portal.getByTestId('signed-in-as').waitFor();
});
after(async () => {
  await portalBrowser?.close();
  await holderBrowser?.close();
  await server?.stop();
});

// Neither the portal nor the wallet logs an error but for refusals a test provokes.
afterEach(() => {
  portalConsole.assertNone('the portal');
  holderConsole.assertNone('the wallet');
});

const shot = (page, name) => page.screenshot({ path: join(out, `wallet-${name}.png`), fullPage: true });

/** Offers a KYC credential from the portal's issue page; the link and the transaction code. */
async function offerKyc() {
  await portal.goto(`${server.base}/portal/issue?type=KycCredential`);
  await fillSubject(portal, SUBJECT);
  await portal.getByTestId('format-dc-sd-jwt').check();
  await portal.getByTestId('offer').click();
  await portal.getByTestId('offered').waitFor();
  const link = await portal.getByTestId('offer-link').innerText();
  const txCode = await portal.getByTestId('offer-tx-code-value').innerText();
  assert.match(link, /^openid-credential-offer:\/\/\?credential_offer_uri=/);
  assert.match(txCode, /^\d{6}$/);
  return { link, txCode };
}

async function unlock(page, passphrase = PASSPHRASE) {
  await page.getByTestId('wallet-passphrase').fill(passphrase);
  await page.getByTestId('wallet-unlock').click();
}

test('a holder creates a wallet; it is sealed in localStorage and a wrong passphrase is refused', async () => {
  await holder.goto(`${server.base}/wallet`);
  await holder.getByTestId('wallet-new-passphrase').fill('short');
  await holder.getByTestId('wallet-repeat-passphrase').fill('short');
  await holder.getByTestId('wallet-create').click();
  await holder.getByTestId('wallet-error').filter({ hasText: 'at least 10 characters' }).waitFor();
  await holder.getByTestId('wallet-new-passphrase').fill(PASSPHRASE);
  await holder.getByTestId('wallet-repeat-passphrase').fill(PASSPHRASE);
  await holder.getByTestId('wallet-create').click();
  await holder.getByTestId('wallet-empty').waitFor();
  const sealed = JSON.parse(await holder.evaluate(() => localStorage.getItem('certus.wallet')));
  assert.equal(sealed.kind, 'certus-wallet');
  assert.equal(sealed.cipher, 'A256GCM');
  assert.deepEqual({ ...sealed.kdf, salt: undefined }, { name: 'PBKDF2-SHA-256', iterations: 600000, salt: undefined });

  await holder.getByTestId('wallet-lock').click();
  await unlock(holder, 'not the passphrase at all');
  await holder.getByTestId('wallet-error').filter({ hasText: 'wrong passphrase' }).waitFor();
  await unlock(holder);
  await holder.getByTestId('wallet-empty').waitFor();
});

test('the holder accepts a portal offer with its transaction code; the credential is listed active and anchored', async () => {
  const { link, txCode } = await offerKyc();
  await portal.getByTestId('offer-status').filter({ hasText: 'waiting for the wallet' }).waitFor();
  await shot(portal, 'offer');

  await holder.getByTestId('wallet-offer-input').fill(link);
  // The offer says who offers what, in words: the issuer's host and the type's title.
  const host = new URL(server.base).host;
  await holder.getByTestId('wallet-offer').filter({ hasText: `${host} offers you a credential: “KYC` }).waitFor();
  await holder.getByTestId('wallet-tx-code').fill(txCode === '000000' ? '111111' : '000000');
  await holder.getByTestId('wallet-accept').click();
  await holder.getByTestId('wallet-accept-error').filter({ hasText: 'invalid_grant' }).waitFor();
  holderConsole.allow(/status of 400 .*\/token\)$/);
  // The access token is bound to a key of the wallet's by DPoP: a proof on the token
  // request, and the token sent with the DPoP scheme and a fresh proof.
  const protocol = [];
  const onRequest = r => { if (/\/openid4vci\/(token|credential)$/.test(r.url())) protocol.push(r); };
  holder.on('request', onRequest);
  await holder.getByTestId('wallet-tx-code').fill(txCode);
  await holder.getByTestId('wallet-accept').click();
  await holder.getByTestId('wallet-received').filter({ hasText: 'Received “KYC' }).waitFor();
  holder.off('request', onRequest);
  const [token, credential] = await Promise.all(protocol.map(r => r.allHeaders()));
  assert.equal(protocol.length, 2);
  assert.match(token.dpop, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.match(credential.authorization, /^DPoP /);
  assert.notEqual(credential.dpop, token.dpop, 'a fresh proof for each request');
  await portal.getByTestId('offer-status').filter({ hasText: 'received by the wallet' }).waitFor();
  await portal.getByTestId('offer-copies').filter({ hasText: 'and 2 more copies' }).waitFor();
  // The credential's page names the other copies, whose status changes with it.
  await portal.getByTestId('offer-status').getByRole('link').click();
  await portal.getByTestId('credential-copies').filter({ hasText: 'One of 3 copies' }).waitFor();
  assert.equal(await portal.getByTestId('credential-copies').getByRole('link').count(), 2);
  // Anchored with the next block, and the card says so without a reload.
  const fresh = holder.getByTestId('wallet-credential');
  // Received as three copies (batch issuance), each bound to a fresh key of the wallet's.
  await fresh.getByTestId('wallet-copies').filter({ hasText: '3 copies, each bound to a key of its own; 3 not yet shown' }).waitFor();
  const credentialRequest = JSON.parse(protocol[1].postData());
  assert.equal(credentialRequest.proofs.jwt.length, 3);
  const proofKeys = credentialRequest.proofs.jwt.map(jwt => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url')).kid);
  assert.equal(new Set(proofKeys).size, 3, 'a fresh key for each copy');
  await fresh.getByTestId('wallet-anchor').filter({ hasText: /anchored in block \d+/ }).waitFor({ timeout: 30_000 });

  // No personal value is stored in clear by the browser.
  const stored = await holder.evaluate(() => localStorage.getItem('certus.wallet'));
  assert.ok(!stored.includes('Rossi-Unique') && !stored.includes('1988-04-12'));

  // After a reload (and the next block: the institution has no anchor waiting), the wallet
  // opens again with the credential.
  await portal.waitForFunction(async url => {
    const r = await fetch(url);
    return r.ok && (await r.json()).pendingAnchors === 0;
  }, `${server.base}/dashboard`);
  await holder.reload();
  await unlock(holder);
  const card = holder.getByTestId('wallet-credential');
  await card.waitFor();
  assert.equal(await card.count(), 1);
  await card.getByTestId('wallet-status').filter({ hasText: 'active' }).waitFor();
  await card.getByTestId('wallet-anchor').filter({ hasText: /anchored in block \d+/ }).waitFor();
  await card.getByTestId('wallet-show').click();
  const document = JSON.parse(await card.getByTestId('wallet-document').innerText());
  assert.equal(document.familyName, 'Rossi-Unique');
  assert.ok(document.cnf.jwk.x, 'the credential is bound to a wallet key');
  await shot(holder, 'list');
  // On a phone, the card wraps its issuer's DID instead of widening the page.
  await holder.setViewportSize({ width: 390, height: 800 });
  await assertNoSidewaysScroll(holder, 'the wallet');
  await shot(holder, 'phone');
  await holder.setViewportSize({ width: 1200, height: 900 });
});

test('a verifier request is answered with only the chosen claims; the verifier sees exactly those and a passing result', async () => {
  await portal.goto(`${server.base}/verify`);
  await portal.getByLabel('Credential type').selectOption('KycCredential');
  await portal.getByTestId('ask-givenName').check();
  await portal.getByTestId('ask-nationality').check();
  await portal.getByTestId('request-purpose').fill('Open an account');
  // Answers come encrypted to the request unless the verifier says otherwise.
  assert.ok(await portal.getByTestId('request-encrypted').isChecked());
  await portal.getByTestId('request-create').click();
  const link = await portal.getByTestId('request-link').innerText();
  assert.match(link, /^openid4vp:\/\/\?/);
  await portal.getByTestId('request-status').filter({ hasText: 'pending' }).waitFor();

  await holder.getByTestId('wallet-request-input').fill(link);
  await holder.getByTestId('wallet-open-request').click();
  const consent = holder.getByTestId('wallet-consent');
  await consent.waitFor();
  assert.equal(await holder.getByTestId('consent-purpose').innerText(), 'Open an account');
  assert.match(await holder.getByTestId('consent-did').innerText(), /^did:/);
  // Every claim that can leave is listed. Asked claims are ticked and marked required,
  // the others are not ticked; claims signed in clear always leave and say so.
  const listed = () => holder.getByTestId('consent-claim').evaluateAll(lis =>
    lis.map(li => [li.dataset.claim, li.dataset.leaves === 'true', li.innerText]));
  const claims = await listed();
  const names = claims.map(([name]) => name);
  for (const name of Object.keys(SUBJECT)) assert.ok(names.includes(name), `${name} is listed: ${names}`);
  const row = name => claims.find(([n]) => n === name);
  assert.match(row('givenName')[2], /Given name[\s\S]*Maria[\s\S]*required/);
  assert.ok(await holder.getByTestId('disclose-givenName').isChecked());
  assert.ok(await holder.getByTestId('disclose-nationality').isChecked());
  assert.ok(!(await holder.getByTestId('disclose-familyName').isChecked()));
  assert.ok(!(await holder.getByTestId('disclose-birthDate').isChecked()));
  const always = claims.filter(([, , text]) => /always shared/.test(text)).map(([name]) => name);
  assert.ok(always.length > 0, 'a KYC credential signs some claims in clear');
  // Unticking a required claim is warned about, and nothing can be sent until it is back.
  await holder.getByTestId('disclose-nationality').uncheck();
  await holder.getByTestId('consent-warning').filter({ hasText: 'requires Nationality' }).waitFor();
  assert.equal(await holder.getByTestId('consent-share').isDisabled(), true);
  await shot(holder, 'consent-warning');
  await holder.getByTestId('disclose-nationality').check();
  await holder.getByTestId('consent-warning').waitFor({ state: 'detached' });
  const leaving = (await listed()).filter(([, leaves]) => leaves).map(([name]) => name).sort();
  await shot(holder, 'consent');
  await holder.getByTestId('consent-share').click();
  const answer = holder.getByTestId('wallet-answer').filter({ hasText: 'Shared with the verifier: ' });
  await answer.waitFor();
  for (const label of ['Given name', 'Nationality', 'Assurance level']) assert.match(await answer.innerText(), new RegExp(label));
  assert.doesNotMatch(await answer.innerText(), /Family name|Birth date/);
  // The copy shown is counted: the next verifier gets another.
  await holder.getByTestId('wallet-copies').filter({ hasText: '2 not yet shown' }).waitFor();

  // The verifier's page follows the request to its end, and receives exactly the claims
  // the wallet listed as leaving.
  await portal.getByTestId('request-status').filter({ hasText: 'accepted' }).waitFor();
  await portal.getByTestId('request-heading').filter({ hasText: 'The holder answered' }).waitFor();
  assert.equal(await portal.getByTestId('request-link').count(), 0);
  const rows = await portal.getByTestId('request-claims').locator('tbody tr').evaluateAll(
    trs => trs.map(tr => tr.getAttribute('data-testid').slice('claim-'.length)));
  assert.deepEqual(rows.sort(), leaving);
  for (const withheld of ['familyName', 'birthDate']) assert.ok(!rows.includes(withheld), rows.join());
  assert.deepEqual(await portal.getByTestId('claim-givenName').locator('td').allInnerTexts(), ['Given name', 'Maria']);
  await portal.getByTestId('verdict').filter({ hasText: 'Verified' }).waitFor();
  await shot(portal, 'verifier-result');
  // The web wallet encrypted its answer to the request's key (WebCrypto, ECDH-ES).
  const id = decodeURIComponent(new URL(link.replace('openid4vp://', 'https://wallet/')).searchParams.get('request_uri')).split('/').pop();
  const { body: answered } = await server.api('GET', `/presentation-requests/${id}`, undefined, { auth: true });
  assert.equal(answered.responseMode, 'direct_post.jwt');
  // The institution's dashboard counts the checked answer as a verification.
  const { body: figures } = await server.api('GET', '/dashboard', undefined, { auth: true });
  assert.equal(figures.activity.reduce((n, day) => n + day.verifications, 0), 1);
});

test('a holder who declines is reported as such to the verifier', async () => {
  await portal.goto(`${server.base}/verify`);
  await portal.getByLabel('Credential type').selectOption('KycCredential');
  await portal.getByTestId('ask-birthDate').check();
  await portal.getByTestId('request-purpose').fill('Age check');
  // This one in clear (direct_post).
  await portal.getByTestId('request-encrypted').uncheck();
  await portal.getByTestId('request-create').click();
  const link = await portal.getByTestId('request-link').innerText();
  // The verifier's own link opens the request in the web wallet.
  const walletHref = await portal.getByTestId('request-web-wallet').getAttribute('href');
  assert.ok(walletHref.startsWith('/wallet?'), walletHref);
  assert.ok(link.endsWith(walletHref.slice('/wallet?'.length)));

  await holder.goto(server.base + walletHref);
  await unlock(holder);
  await holder.getByTestId('wallet-consent').waitFor();
  assert.equal(await holder.getByTestId('consent-purpose').innerText(), 'Age check');
  await holder.getByTestId('consent-decline').click();
  await holder.getByTestId('wallet-answer').filter({ hasText: 'declined' }).waitFor();
  await portal.getByTestId('request-status').filter({ hasText: 'declined' }).waitFor();
  await portal.getByTestId('request-heading').filter({ hasText: 'The holder declined' }).waitFor();
  // The link is taken: a reload of the wallet does not open the request again.
  assert.equal(new URL(holder.url()).search, '');
});

test('a transaction the verifier asks approval for is shown to the holder and authorized with the presentation', async () => {
  const { status, body: request } = await server.api('POST', '/presentation-requests', {
    credentialType: 'KycCredential', claims: ['givenName'], purpose: 'Open an account',
    transactionData: [{ type: 'https://w3id.org/certus/transaction-data/approval/v1', text: 'Open savings account 4411' }],
  }, { auth: true });
  assert.equal(status, 201, JSON.stringify(request));
  await holder.getByTestId('wallet-request-input').fill(request.authorizationRequest);
  await holder.getByTestId('wallet-open-request').click();
  await holder.getByTestId('wallet-consent').waitFor();
  assert.equal(await holder.getByTestId('consent-transaction').innerText(), 'Open savings account 4411');
  await shot(holder, 'consent-transaction');
  await holder.getByTestId('consent-share').click();
  await holder.getByTestId('wallet-answer').filter({ hasText: 'Shared with the verifier: ' }).waitFor();
  // Accepted: the key-binding JWT carried the transaction's hash.
  const { body: result } = await server.api('GET', `/presentation-requests/${request.id}`, undefined, { auth: true });
  assert.equal(result.status, 'accepted', JSON.stringify(result.outcome?.problem));
});

test("a request made for the holder's own device sends the browser back to the verifier's page with a one-time code the page redeems", async () => {
  // The verifier's page: a shop of its own on loopback.
  const shop = createServer((_, response) => response.end('<!doctype html><title>Shop</title><p>Thank you</p>'));
  await new Promise(resolve => shop.listen(0, '127.0.0.1', resolve));
  const page = `http://127.0.0.1:${shop.address().port}/done`;
  try {
    const { status, body: request } = await server.api('POST', '/presentation-requests', {
      credentialType: 'KycCredential', claims: ['givenName'], purpose: 'Checkout', redirectUri: page,
    }, { auth: true });
    assert.equal(status, 201, JSON.stringify(request));
    await holder.getByTestId('wallet-request-input').fill(request.authorizationRequest);
    await holder.getByTestId('wallet-open-request').click();
    await holder.getByTestId('wallet-consent').waitFor();
    await Promise.all([
      holder.waitForURL(url => url.href.startsWith(`${page}#response_code=`)),
      holder.getByTestId('consent-share').click(),
    ]);
    const responseCode = new URL(holder.url()).hash.slice('#response_code='.length);
    const redeem = () => server.api('POST', `/presentation-requests/${request.id}/response-code`, { responseCode }, { auth: true });
    const redeemed = await redeem();
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.body.status, 'accepted', JSON.stringify(redeemed.body.outcome?.problem));
    assert.equal((await redeem()).body.code, 'RESPONSE_CODE_MISMATCH');
  } finally {
    shop.close();
  }
  // Back to the wallet for what follows.
  await holder.goto(`${server.base}/wallet`);
  await unlock(holder);
  await holder.getByTestId('wallet-request-input').waitFor();
});

test("a request of Animo's @openid4vc/openid4vp, a verifier of its own named by its DID, is answered by the web wallet and taken by the library's checks", async () => {
  const metadata = await (await fetch(`${server.base}/.well-known/openid-credential-issuer`)).json();
  const verifier = await animoVerifier({ vct: metadata.credential_configurations_supported.KycCredential_sd_jwt.vct, claims: ['familyName'] });
  try {
    await holder.getByTestId('wallet-request-input').fill(verifier.request);
    await holder.getByTestId('wallet-open-request').click();
    await holder.getByTestId('wallet-consent').waitFor();
    await holder.getByTestId('consent-share').click();
    await holder.getByTestId('wallet-answer').filter({ hasText: 'Shared with the verifier: ' }).waitFor();
    const [presentation] = (await verifier.answer()).dcql.presentations.kyc;
    const kb = JSON.parse(Buffer.from(presentation.split('~').pop().split('.')[1], 'base64url'));
    assert.deepEqual([kb.aud, kb.nonce], [verifier.clientId, verifier.nonce]);
  } finally {
    verifier.close();
  }
});

test('a HAIP request of a verifier named by its certificate is answered once the holder trusts that certificate, encrypted', async () => {
  // The institution's admin certifies a verifier key itself (development).
  const admin = await server.signedIn(ADMIN, PASSWORD);
  const { status, body: certificate } = await admin('POST', '/verifier/certificates', { selfSigned: true });
  assert.equal(status, 201, JSON.stringify(certificate));
  // The verifier console asks as HAIP has it.
  await portal.goto(`${server.base}/verify`);
  await portal.getByLabel('Credential type').selectOption('KycCredential');
  await portal.getByTestId('ask-givenName').check();
  await portal.getByTestId('request-purpose').fill('Open an account');
  await portal.getByTestId('request-identity').selectOption('haip');
  await portal.getByTestId('request-create').click();
  const link = await portal.getByTestId('request-link').innerText();
  assert.ok(link.startsWith('haip://?client_id=x509_hash%3A'), link);
  const request = { authorizationRequest: link, id: new URL(decodeURIComponent(new URL(link.replace('haip://', 'https://w/')).searchParams.get('request_uri'))).pathname.split('/').pop() };

  // Not trusted yet: refused, and nothing is shown to consent to.
  await holder.getByTestId('wallet-request-input').fill(request.authorizationRequest);
  await holder.getByTestId('wallet-open-request').click();
  await holder.getByTestId('wallet-request-error').filter({ hasText: 'leads to no trusted root' }).waitFor();
  assert.equal(await holder.getByTestId('wallet-consent').count(), 0);
  // Something that is not a certificate is refused as such.
  await holder.getByTestId('wallet-trust-pem').fill('not a certificate');
  await holder.getByTestId('wallet-trust-add').click();
  await holder.getByTestId('wallet-trust-error').filter({ hasText: 'PEM' }).waitFor();

  await holder.getByTestId('wallet-trust-pem').fill(certificate.chain);
  await holder.getByTestId('wallet-trust-add').click();
  await holder.getByTestId('wallet-trusted').filter({ hasText: 'CN=127.0.0.1' }).waitFor();
  await holder.getByTestId('wallet-open-request').click();
  await holder.getByTestId('wallet-consent').waitFor();
  assert.equal(await holder.getByTestId('consent-did').innerText(), 'CN=127.0.0.1');
  await shot(holder, 'consent-x509');
  await holder.getByTestId('consent-share').click();
  await holder.getByTestId('wallet-answer').filter({ hasText: 'Shared with the verifier: ' }).waitFor();
  const { body: result } = await server.api('GET', `/presentation-requests/${request.id}`, undefined, { auth: true });
  assert.equal(result.status, 'accepted', JSON.stringify(result.outcome?.problem));
  assert.equal(result.responseMode, 'direct_post.jwt');
  assert.ok(result.clientId.startsWith('x509_hash:'), result.clientId);
});

test('a backup restores in another browser with its passphrase only; a credential can be deleted', async () => {
  const link = holder.getByTestId('wallet-backup');
  assert.equal(await link.getAttribute('download'), 'certus-wallet-backup.json');
  const href = await link.getAttribute('href');
  const text = decodeURIComponent(href.slice(href.indexOf(',') + 1));
  assert.equal(JSON.parse(text).kind, 'certus-wallet');
  assert.ok(!text.includes('Rossi-Unique'), 'the backup is sealed');
  const backup = join(out, 'wallet-backup.json');
  writeFileSync(backup, text);

  const other = await launchBrowser();
  try {
    const page = await other.newPage();
    page.on('dialog', dialog => dialog.accept());
    await page.goto(`${server.base}/wallet`);
    await page.getByTestId('wallet-backup-file').setInputFiles(backup);
    await page.getByTestId('wallet-backup-passphrase').fill('not the passphrase at all');
    await page.getByTestId('wallet-restore').click();
    await page.getByTestId('wallet-restore-error').filter({ hasText: 'wrong passphrase' }).waitFor();
    await page.getByTestId('wallet-backup-passphrase').fill(PASSPHRASE);
    await page.getByTestId('wallet-restore').click();
    await page.getByTestId('wallet-credential').getByTestId('wallet-status').filter({ hasText: 'active' }).waitFor();

    await page.getByTestId('wallet-delete').click();
    await page.getByTestId('wallet-empty').waitFor();
    await page.reload();
    await unlock(page);
    await page.getByTestId('wallet-empty').waitFor();
  } finally {
    await other.close();
  }
});

/** A Y4M video (what Chromium's fake camera plays) of a PNG, grey, centred on white. */
function y4mOf(png) {
  const image = PNG.sync.read(png);
  const side = Math.max(480, image.width + 64);
  const [width, height] = [side + (side % 2), side + (side % 2)];
  const scale = Math.max(1, Math.floor(side * 0.8 / image.width));
  const y = Buffer.alloc(width * height, 255);
  const left = Math.floor((width - image.width * scale) / 2);
  const top = Math.floor((height - image.height * scale) / 2);
  for (let row = 0; row < image.height * scale; row++) {
    for (let col = 0; col < image.width * scale; col++) {
      const i = (Math.floor(row / scale) * image.width + Math.floor(col / scale)) * 4;
      y[(top + row) * width + left + col] = image.data[i];
    }
  }
  const chroma = Buffer.alloc(width * height / 4, 128);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  return Buffer.concat([header, Buffer.from('FRAME\n'), y, chroma, chroma]);
}

test('an offer QR code read by the camera is accepted', async () => {
  const { status, body } = await server.api('POST', '/credentials/offers', {
    credential: {
      '@context': ['https://www.w3.org/ns/credentials/v2', 'https://w3id.org/certus/contexts/kyc/v1'],
      type: ['VerifiableCredential', 'KycCredential'],
      credentialSubject: SUBJECT,
    },
    options: { format: 'dc+sd-jwt' },
  }, { auth: true });
  assert.equal(status, 201, JSON.stringify(body));
  const qr = await fetch(`${server.base}${body.qrCode}?format=png`, { headers: { authorization: `Bearer ${server.token}` } });
  assert.equal(qr.status, 200);
  const video = join(out, 'offer-qr.y4m');
  writeFileSync(video, y4mOf(Buffer.from(await qr.arrayBuffer())));

  const camera = await launchBrowser({
    args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
  });
  try {
    const page = await camera.newPage();
    await page.goto(`${server.base}/wallet`);
    await page.getByTestId('wallet-new-passphrase').fill(PASSPHRASE);
    await page.getByTestId('wallet-repeat-passphrase').fill(PASSPHRASE);
    await page.getByTestId('wallet-create').click();
    await page.getByTestId('wallet-empty').waitFor();
    await page.getByTestId('wallet-scan').click();
    await page.getByTestId('wallet-offer').waitFor({ timeout: 20_000 });
    assert.match(await page.getByTestId('wallet-offer-input').inputValue(), /^openid-credential-offer:\/\//);
    await page.getByTestId('wallet-accept').click();
    await page.getByTestId('wallet-received').waitFor();
    await page.getByTestId('wallet-credential').waitFor();
  } finally {
    await camera.close();
  }
});

test("an offer of the authorization code flow: the holder continues at the issuer's page, enters the code there, and the wallet receives the credential on coming back", async () => {
  await portal.goto(`${server.base}/portal/issue?type=KycCredential`);
  await fillSubject(portal, SUBJECT);
  await portal.getByTestId('format-dc-sd-jwt').check();
  await portal.getByTestId('offer-sign-in').check();
  await portal.getByTestId('offer').click();
  await portal.getByTestId('offered').filter({ hasText: "enters it on this institution's page" }).waitFor();
  const link = await portal.getByTestId('offer-link').innerText();
  const code = await portal.getByTestId('offer-tx-code-value').innerText();

  await holder.goto(`${server.base}/wallet`);
  await unlock(holder);
  const pushed = holder.waitForRequest(r => r.url().endsWith('/openid4vci/par'));
  await holder.getByTestId('wallet-offer-input').fill(link);
  await holder.getByTestId('wallet-continue').click();
  // The wallet pushed its request with PKCE and a DPoP proof, and sent the browser to the
  // issuer's page.
  const par = await pushed;
  const params = new URLSearchParams(par.postData());
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.equal(params.get('redirect_uri'), `${server.base}/wallet`);
  assert.match((await par.allHeaders()).dpop, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  await holder.waitForURL(/\/openid4vci\/authorize\?/);
  await holder.locator('h1').filter({ hasText: 'KYC credential' }).waitFor();
  await shot(holder, 'issuer-page');
  await holder.fill('#tx_code', code);
  const exchanged = holder.waitForRequest(r => r.url().endsWith('/openid4vci/token'));
  await holder.click('#continue');
  // Back in the wallet: the code is exchanged at once, with the verifier and a proof of the
  // same key; the credential comes once the wallet is open.
  const token = await exchanged;
  const grant = new URLSearchParams(token.postData());
  assert.equal(grant.get('grant_type'), 'authorization_code');
  assert.ok(grant.get('code_verifier').length >= 43);
  await holder.getByTestId('wallet-authorized').filter({ hasText: 'open your wallet to take it' }).waitFor();
  assert.equal(new URL(holder.url()).search, '', 'the one-time code is gone from the address');
  await unlock(holder);
  await holder.getByTestId('wallet-received').filter({ hasText: 'Received “KYC' }).waitFor();
  await portal.getByTestId('offer-status').filter({ hasText: 'received by the wallet' }).waitFor();
  // The wallet told the issuer it stored the credential (the notification endpoint).
  await portal.getByTestId('offer-notification').filter({ hasText: 'the wallet reports it stored it' }).waitFor();
});

test('an offer the institution approves first: the web wallet waits, the certifier approves on the dashboard, the wallet receives it', async () => {
  await portal.goto(`${server.base}/portal/issue?type=KycCredential`);
  await fillSubject(portal, SUBJECT);
  await portal.getByTestId('format-dc-sd-jwt').check();
  await portal.getByTestId('offer-tx-code').uncheck();
  await portal.getByTestId('offer-approval').check();
  await portal.getByTestId('offer').click();
  await portal.getByTestId('offered').waitFor();
  const link = await portal.getByTestId('offer-link').innerText();

  await holder.goto(`${server.base}/wallet`);
  await unlock(holder);
  // The earlier tests' credentials, listed once the wallet is open.
  await holder.getByTestId('wallet-credential').first().waitFor();
  const before = await holder.getByTestId('wallet-credential').count();
  const asked = holder.waitForResponse(r => r.url().endsWith('/openid4vci/credential'));
  await holder.getByTestId('wallet-offer-input').fill(link);
  await holder.getByTestId('wallet-accept').click();
  // The issuer keeps the request and tells the wallet to come back (202).
  assert.equal((await asked).status(), 202);
  await portal.getByTestId('offer-status').filter({ hasText: 'waiting for your approval' }).waitFor();
  // A certifier finds it on the dashboard, and approves it there.
  await portal.goto(`${server.base}/`);
  const waiting = portal.getByTestId('awaiting-offer');
  await waiting.filter({ hasText: 'KycCredential' }).waitFor();
  await shot(portal, 'awaiting-approval');
  const collected = holder.waitForResponse(r => r.url().endsWith('/openid4vci/deferred_credential') && r.status() === 200, { timeout: 30_000 });
  await waiting.getByTestId('offer-approve').click();
  await portal.getByTestId('awaiting-approval').waitFor({ state: 'detached' });
  await collected;
  await holder.getByTestId('wallet-received').filter({ hasText: 'Received “KYC' }).waitFor();
  assert.equal(await holder.getByTestId('wallet-credential').count(), before + 1);
});
