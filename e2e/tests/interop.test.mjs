// Certus credentials verify in independent implementations, and theirs verify in Certus:
// Digital Bazaar's vc + eddsa-rdfc-2022 (Data Integrity), panva jose (vc+jwt) and the
// OpenWallet @sd-jwt libraries (SD-JWT VC). Tampered credentials fail on both sides. The
// issuing node is a single node, one whose keys are in a PKCS#11 token, and a member of a
// consortium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify, createHash, randomBytes } from 'node:crypto';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import { createSignCryptosuite, createVerifyCryptosuite } from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { compactVerify, SignJWT, importJWK, exportJWK } from 'jose';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { checkStatus } from '@digitalbazaar/vc-bitstring-status-list';
import { startServer, startConsortium, kycCredential, tokenOf } from '../lib/server.mjs';
import { documentLoader, publicKeyFromDidKey, didKeyFromJwk } from '../lib/keys.mjs';

let server;
let loader;
// A second node whose keys are made and kept in a PKCS#11 token (SoftHSM2): what it signs
// must verify in the independent libraries exactly as the first node's does.
let hsm;
let hsmLoader;
// A member of a four-node consortium: its credentials and their status lists (fetched by
// the libraries from the issuing member's node) verify as a single node's do.
let consortium;
let memberLoader;
before(async () => {
  server = await startServer();
  loader = await documentLoader(server.base);
  hsm = await startServer({ pkcs11: true });
  hsmLoader = await documentLoader(hsm.base);
  consortium = await startConsortium();
  memberLoader = await documentLoader(consortium.nodes[0].base);
});
after(async () => { await server?.stop(); await hsm?.stop(); await consortium?.stop(); });

/** The nodes whose credentials the independent libraries check. */
const issuers = [
  ['', () => ({ node: server, documentLoader: loader })],
  [' (keys in a PKCS#11 token)', () => ({ node: hsm, documentLoader: hsmLoader })],
  [' (a consortium member)', () => ({ node: consortium.nodes[0], documentLoader: memberLoader })],
];

const clone = v => JSON.parse(JSON.stringify(v));

// --- Data Integrity: Digital Bazaar ---------------------------------------------------

for (const [keys, of] of issuers) test(`a Certus eddsa-rdfc-2022 credential${keys} verifies with Digital Bazaar, and fails when tampered`, async () => {
  const { node, documentLoader } = of();
  const credential = await node.issue(kycCredential(), 'ldp_vc');
  const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
  const ok = await vc.verifyCredential({ credential, suite, documentLoader, checkStatus });
  assert.equal(ok.verified, true, JSON.stringify(ok.error ?? ok, null, 2));
  const tampered = clone(credential);
  tampered.credentialSubject.familyName = 'Bianchi';
  const bad = await vc.verifyCredential({ credential: tampered, suite, documentLoader, checkStatus });
  assert.equal(bad.verified, false);
});

async function dbIssuer() {
  const keyPair = await Ed25519Multikey.generate();
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  return { keyPair, did };
}

test('a Digital Bazaar eddsa-rdfc-2022 credential verifies in Certus, and fails when tampered', async () => {
  const { keyPair, did } = await dbIssuer();
  const credential = { ...kycCredential(), issuer: did, validFrom: '2026-01-01T00:00:00Z', id: `urn:uuid:${crypto.randomUUID()}` };
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022 });
  const signed = await vc.issue({ credential, suite, documentLoader: loader });
  const { status, body } = await server.verify(signed);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.verified, true);
  const tampered = clone(signed);
  tampered.credentialSubject.assuranceLevel = 'high';
  const refused = await server.verify(tampered);
  assert.equal(refused.status, 400);
  assert.ok(refused.body.errors.some(e => e.code === 'SIGNATURE_INVALID'), JSON.stringify(refused.body));
});

// eddsa-jcs-2022: JSON canonicalization (RFC 8785) instead of RDF, both ways.

for (const [keys, of] of issuers) test(`a Certus eddsa-jcs-2022 credential${keys} verifies with Digital Bazaar, and fails when tampered`, async () => {
  const { node, documentLoader } = of();
  const credential = await node.issue(kycCredential(), 'ldp_vc', { cryptosuite: 'eddsa-jcs-2022' });
  assert.equal(credential.proof.cryptosuite, 'eddsa-jcs-2022');
  // The status list credentials the check reads are eddsa-rdfc-2022.
  const suite = [
    new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() }),
    new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
  ];
  const ok = await vc.verifyCredential({ credential, suite, documentLoader, checkStatus });
  assert.equal(ok.verified, true, JSON.stringify(ok.error ?? ok, null, 2));
  for (const tamper of [c => { c.credentialSubject.familyName = 'Bianchi'; }, c => { c.proof.created = '2020-01-01T00:00:00Z'; }]) {
    const tampered = clone(credential);
    tamper(tampered);
    const bad = await vc.verifyCredential({ credential: tampered, suite, documentLoader, checkStatus });
    assert.equal(bad.verified, false);
  }
});

test('a Digital Bazaar eddsa-jcs-2022 credential verifies in Certus, and fails when tampered', async () => {
  const { keyPair, did } = await dbIssuer();
  const credential = { ...kycCredential(), issuer: did, validFrom: '2026-01-01T00:00:00Z', id: `urn:uuid:${crypto.randomUUID()}` };
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: createSignCryptosuite() });
  const signed = await vc.issue({ credential, suite, documentLoader: loader });
  assert.equal(signed.proof.cryptosuite, 'eddsa-jcs-2022');
  const { status, body } = await server.verify(signed);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.verified, true);
  const tampered = clone(signed);
  tampered.credentialSubject.assuranceLevel = 'high';
  const refused = await server.verify(tampered);
  assert.equal(refused.status, 400);
  assert.ok(refused.body.errors.some(e => e.code === 'SIGNATURE_INVALID'), JSON.stringify(refused.body));
});

// --- VC-JOSE: panva jose ------------------------------------------------------------

for (const [keys, of] of issuers) test(`a Certus vc+jwt${keys} verifies with jose, and fails when tampered`, async () => {
  const enveloped = await of().node.issue(kycCredential(), 'vc+jwt');
  const jwt = tokenOf(enveloped);
  const [header] = jwt.split('.');
  const { kid, alg, typ } = JSON.parse(Buffer.from(header, 'base64url'));
  assert.equal(typ, 'vc+jwt');
  const key = publicKeyFromDidKey(kid);
  const { payload } = await compactVerify(jwt, key, { algorithms: [alg] });
  const credential = JSON.parse(new TextDecoder().decode(payload));
  assert.equal(credential.credentialSubject.givenName, 'Maria');
  assert.equal(credential.issuer, kid.split('#')[0]);
  const parts = jwt.split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ ...credential, validUntil: '2099-01-01T00:00:00Z' })).toString('base64url');
  await assert.rejects(compactVerify(`${parts[0]}.${forgedPayload}.${parts[2]}`, key));
});

test('a jose-signed vc+jwt verifies in Certus, and fails when tampered', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const did = didKeyFromJwk(await exportJWK(publicKey));
  const kid = `${did}#${did.slice('did:key:'.length)}`;
  const credential = { ...kycCredential(), issuer: did, validFrom: '2026-01-01T00:00:00Z' };
  const jwt = await new SignJWT(credential)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'vc+jwt', kid })
    .sign(privateKey);
  const { status, body } = await server.verify(jwt);
  assert.equal(status, 200, JSON.stringify(body));
  const other = generateKeyPairSync('ed25519').privateKey;
  const forged = await new SignJWT(credential).setProtectedHeader({ alg: 'EdDSA', typ: 'vc+jwt', kid }).sign(other);
  const refused = await server.verify(forged);
  assert.equal(refused.status, 400);
  assert.ok(refused.body.errors.some(e => e.code === 'SIGNATURE_INVALID'));
});

// --- VC Data Model 1.1: Digital Bazaar (Data Integrity) and jose (a JWT with a vc claim)

const V1 = 'https://www.w3.org/2018/credentials/v1';
const kycV11 = () => {
  const credential = kycCredential();
  credential['@context'] = [V1, ...credential['@context'].slice(1)];
  return credential;
};

test('Certus VC 1.1 credentials — Data Integrity and a JWT — verify with Digital Bazaar and jose, and fail when tampered', async () => {
  const ldp = await server.issue(kycV11(), 'ldp_vc');
  assert.equal(ldp['@context'][0], V1);
  assert.ok(ldp.issuanceDate);
  const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
  const ok = await vc.verifyCredential({ credential: ldp, suite, documentLoader: loader, checkStatus });
  assert.equal(ok.verified, true, JSON.stringify(ok.error ?? ok, null, 2));
  const tampered = clone(ldp);
  tampered.credentialSubject.familyName = 'Bianchi';
  assert.equal((await vc.verifyCredential({ credential: tampered, suite, documentLoader: loader, checkStatus })).verified, false);

  const jwt = await server.issue(kycV11(), 'vc+jwt');
  assert.equal(typeof jwt, 'string');
  const { kid, alg, typ } = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));
  assert.equal(typ, 'JWT');
  const key = publicKeyFromDidKey(kid);
  const { payload } = await compactVerify(jwt, key, { algorithms: [alg] });
  const claims = JSON.parse(new TextDecoder().decode(payload));
  assert.equal(claims.vc['@context'][0], V1);
  assert.equal(claims.vc.credentialSubject.givenName, 'Maria');
  assert.equal(claims.iss, kid.split('#')[0]);
  assert.equal(claims.jti, claims.vc.id);
  const parts = jwt.split('.');
  const forged = Buffer.from(JSON.stringify({ ...claims, exp: 4102444800 })).toString('base64url');
  await assert.rejects(compactVerify(`${parts[0]}.${forged}.${parts[2]}`, key));
});

test('a Digital Bazaar VC 1.1 credential and a jose VC 1.1 JWT verify in Certus, and fail when tampered', async () => {
  const { keyPair, did } = await dbIssuer();
  const credential = {
    ...kycV11(), '@context': [...kycV11()['@context'], 'https://w3id.org/security/data-integrity/v2'],
    issuer: did, issuanceDate: '2026-01-01T00:00:00Z', id: `urn:uuid:${crypto.randomUUID()}`,
  };
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022 });
  const signed = await vc.issue({ credential, suite, documentLoader: loader });
  const { status, body } = await server.verify(signed);
  assert.equal(status, 200, JSON.stringify(body));
  const tampered = clone(signed);
  tampered.issuanceDate = '2025-01-01T00:00:00Z';
  const refused = await server.verify(tampered);
  assert.equal(refused.status, 400);
  assert.ok(refused.body.errors.some(e => e.code === 'SIGNATURE_INVALID'), JSON.stringify(refused.body));

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const issuer = didKeyFromJwk(await exportJWK(publicKey));
  const kid = `${issuer}#${issuer.slice('did:key:'.length)}`;
  const id = `urn:uuid:${crypto.randomUUID()}`;
  const claims = { iss: issuer, nbf: 1767225600, jti: id, vc: { ...kycV11(), issuer, id, issuanceDate: '2026-01-01T00:00:00Z' } };
  const jwt = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid }).sign(privateKey);
  const verified = await server.verify(jwt);
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  assert.equal(verified.body.credential.validFrom, '2026-01-01T00:00:00Z');
  const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid }).sign(generateKeyPairSync('ed25519').privateKey);
  assert.equal((await server.verify(forged)).status, 400);
  // A JWT whose iss names another issuer than its credential is refused.
  const contradicting = await new SignJWT({ ...claims, vc: { ...claims.vc, issuer: 'did:example:other' } })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid }).sign(privateKey);
  const contradicted = await server.verify(contradicting);
  assert.equal(contradicted.status, 400);
  assert.ok(contradicted.body.errors.some(e => e.code === 'MALFORMED_CREDENTIAL'), JSON.stringify(contradicted.body));
});

// --- SD-JWT VC: OpenWallet @sd-jwt -----------------------------------------------------

const hasher = (data, alg) => {
  assert.equal(alg.toLowerCase(), 'sha-256');
  return new Uint8Array(createHash('sha256').update(data).digest());
};
const saltGenerator = length => randomBytes(length).toString('base64url');

function sdJwtVc({ signer, verifier }) {
  return new SDJwtVcInstance({
    signer, verifier, signAlg: 'EdDSA', hasher, hashAlg: 'sha-256', saltGenerator,
  });
}

for (const [keys, of] of issuers) test(`a Certus dc+sd-jwt${keys} verifies with @sd-jwt/sd-jwt-vc, and fails when tampered`, async () => {
  const token = tokenOf(await of().node.issue(kycCredential(), 'dc+sd-jwt'));
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url'));
  assert.equal(header.typ, 'dc+sd-jwt');
  const key = publicKeyFromDidKey(header.kid);
  const verifier = (data, sig) => nodeVerify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
  const sdjwt = sdJwtVc({ verifier });
  const { payload } = await sdjwt.verify(token);
  assert.equal(payload.vct, 'https://w3id.org/certus/types/KycCredential/v1');
  assert.equal(payload.familyName, 'Rossi', 'disclosed claims are revealed');
  assert.equal(payload.assuranceLevel, 'substantial');
  const [jwt, ...disclosures] = token.split('~');
  const forgedDisclosure = Buffer.from(JSON.stringify(['salt', 'familyName', 'Bianchi'])).toString('base64url');
  // @sd-jwt ignores a disclosure no digest references (Certus rejects it, per RFC 9901
  // §7.1); either way the forged value must never be revealed.
  const lenient = await sdjwt.verify([jwt, forgedDisclosure, ''].join('~')).catch(() => null);
  assert.notEqual(lenient?.payload?.familyName, 'Bianchi');
  const [h, p, s] = jwt.split('.');
  const forgedPayload = JSON.parse(Buffer.from(p, 'base64url'));
  forgedPayload.assuranceLevel = 'high';
  await assert.rejects(sdjwt.verify([`${h}.${Buffer.from(JSON.stringify(forgedPayload)).toString('base64url')}.${s}`, ...disclosures].join('~')));
});

test('an @sd-jwt/sd-jwt-vc credential verifies in Certus, selectively disclosed, and fails when tampered', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const did = didKeyFromJwk(await exportJWK(publicKey));
  const kid = `${did}#${did.slice('did:key:'.length)}`;
  const signer = data => nodeSign(null, Buffer.from(data), privateKey).toString('base64url');
  const sdjwt = sdJwtVc({ signer });
  const now = Math.floor(Date.now() / 1000);
  const token = await sdjwt.issue(
    {
      iss: did, iat: now, nbf: now - 60, vct: 'https://w3id.org/certus/types/KycCredential/v1',
      givenName: 'Maria', familyName: 'Rossi', birthDate: '1988-04-12',
      assuranceLevel: 'substantial', checkDate: '2026-10-01', checkMethod: 'video',
    },
    { _sd: ['givenName', 'familyName', 'birthDate'] },
    { header: { kid, typ: 'dc+sd-jwt' } },
  );
  const { status, body } = await server.verify(token);
  assert.equal(status, 200, JSON.stringify(body));
  const presented = await sdjwt.present(token, { givenName: true });
  const partial = await server.verify(presented);
  assert.equal(partial.status, 200, JSON.stringify(partial.body));
  const [jwt] = token.split('~');
  const forged = `${jwt}~${Buffer.from(JSON.stringify(['s', 'givenName', 'Eve'])).toString('base64url')}~`;
  const refused = await server.verify(forged);
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
});
