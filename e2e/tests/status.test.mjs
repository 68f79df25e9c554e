// Certus status lists read by Digital Bazaar's @digitalbazaar/vc-bitstring-status-list:
// the lists we serve decode to the bits we set, verify as signed credentials, and a
// credential we revoke or suspend is reported so there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { checkStatus, decodeList } from '@digitalbazaar/vc-bitstring-status-list';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import { verify as nodeVerify } from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { startServer, kycCredential, tokenOf } from '../lib/server.mjs';
import { documentLoader, publicKeyFromDidKey } from '../lib/keys.mjs';

let server;
let loader;
before(async () => {
  server = await startServer();
  loader = await documentLoader(server.base);
});
after(() => server?.stop());

const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
const check = credential => checkStatus({ credential, documentLoader: loader, suite });
const statusOf = (result, purpose) =>
  result.results.find(r => r.credentialStatus.statusPurpose === purpose).status;

const setStatus = (credentialId, statusPurpose, status = true) =>
  server.api('POST', '/credentials/status',
    { credentialId, credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose }, status },
    { auth: true });

test('Digital Bazaar reads a fresh Certus credential as neither revoked nor suspended', async () => {
  const credential = await server.issue(kycCredential(), 'ldp_vc');
  const result = await check(credential);
  assert.equal(result.verified, true, String(result.error?.stack ?? JSON.stringify(result)));
  assert.equal(result.results.length, 2);
  assert.equal(statusOf(result, 'revocation'), false);
  assert.equal(statusOf(result, 'suspension'), false);
});

test('a credential revoked in Certus is reported revoked by Digital Bazaar; its neighbours are not', async () => {
  const revoked = await server.issue(kycCredential(), 'ldp_vc');
  const neighbour = await server.issue(kycCredential(), 'ldp_vc');
  const { status, body } = await setStatus(revoked.id, 'revocation');
  assert.equal(status, 200, JSON.stringify(body));
  const result = await check(revoked);
  assert.equal(result.verified, true, String(result.error?.stack));
  assert.equal(statusOf(result, 'revocation'), true);
  assert.equal(statusOf(result, 'suspension'), false);
  assert.equal(statusOf(await check(neighbour), 'revocation'), false);
  // And Certus agrees.
  const ours = await server.verify(revoked);
  assert.equal(ours.status, 400);
  assert.ok(ours.body.errors.some(e => e.code === 'REVOKED'));
});

test('a suspension lifted in Certus is lifted for Digital Bazaar', async () => {
  const enveloped = await server.issue(kycCredential(), 'vc+jwt');
  const payload = JSON.parse(Buffer.from(tokenOf(enveloped).split('.')[1], 'base64url'));
  assert.equal((await setStatus(payload.id, 'suspension')).status, 200);
  assert.equal(statusOf(await check(payload), 'suspension'), true);
  assert.equal((await setStatus(payload.id, 'suspension', false)).status, 200);
  assert.equal(statusOf(await check(payload), 'suspension'), false);
});

test('a served list decodes in Digital Bazaar to exactly the bits Certus set', async () => {
  const issued = [];
  for (let i = 0; i < 8; i++) issued.push(await server.issue(kycCredential(), 'ldp_vc'));
  const revoked = issued.filter((_, i) => i % 3 === 0);
  for (const credential of revoked) assert.equal((await setStatus(credential.id, 'revocation')).status, 200);
  const entry = issued[0].credentialStatus.find(e => e.statusPurpose === 'revocation');
  const served = await (await fetch(entry.statusListCredential)).json();
  const list = await decodeList({ encodedList: served.credentialSubject.encodedList });
  assert.equal(list.length, 131072);
  for (const credential of issued) {
    const index = Number(credential.credentialStatus[0].statusListIndex);
    assert.equal(list.getStatus(index), revoked.includes(credential), `index ${index}`);
  }
  // Every set bit is one Certus revoked (this server revoked one credential before).
  let set = 0;
  for (let i = 0; i < list.length; i++) if (list.getStatus(i)) set++;
  assert.equal(set, revoked.length + 1);
});

test('a tampered status list credential is refused by Digital Bazaar', async () => {
  const credential = await server.issue(kycCredential(), 'ldp_vc');
  const url = credential.credentialStatus[0].statusListCredential;
  const tampered = await (await fetch(url)).json();
  const flipped = await decodeList({ encodedList: tampered.credentialSubject.encodedList });
  flipped.setStatus(Number(credential.credentialStatus[0].statusListIndex), true);
  tampered.credentialSubject.encodedList = await flipped.encode();
  const tamperedLoader = async u => (u === url
    ? { contextUrl: null, documentUrl: u, document: tampered } : loader(u));
  const result = await checkStatus({ credential, documentLoader: tamperedLoader, suite });
  assert.equal(result.verified, false);
});

test('@sd-jwt/sd-jwt-vc reads a Certus SD-JWT VC status from its Token Status List', async () => {
  const token = tokenOf(await server.issue(kycCredential(), 'dc+sd-jwt'));
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url'));
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
  const key = publicKeyFromDidKey(header.kid);
  const seen = [];
  const sdjwt = new SDJwtVcInstance({
    verifier: (data, sig) => nodeVerify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url')),
    hasher: async (data, alg) => new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(data))),
    statusValidator: async status => { seen.push(status); if (status !== 0) throw new Error(`status ${status}`); },
  });
  // The default fetcher asks the list URL for application/statuslist+jwt, on loopback.
  await sdjwt.verify(token);
  assert.deepEqual(seen, [0]);
  assert.equal((await setStatus(payload.jti, 'suspension')).status, 200);
  await assert.rejects(sdjwt.verify(token), /status 2/);
  assert.equal((await setStatus(payload.jti, 'suspension', false)).status, 200);
  await sdjwt.verify(token);
  assert.equal((await setStatus(payload.jti, 'revocation')).status, 200);
  await assert.rejects(sdjwt.verify(token), /status 1/);
});
