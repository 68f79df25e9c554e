// Open issuance (decision 18) as integrators and the W3C/CCG conformance suites use it:
// credentials of no registered type — the VC Data Model's examples, only
// VerifiableCredential — issued by a node in the `open` profile verify in Digital Bazaar's
// libraries (status included) and jose; a credential with a context given inline, signed
// by Digital Bazaar, verifies in Certus; the issuer suite's malformed inputs are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import { createVerifyCryptosuite } from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { compactVerify } from 'jose';
import { checkStatus } from '@digitalbazaar/vc-bitstring-status-list';
import { startServer, tokenOf } from '../lib/server.mjs';
import { documentLoader, publicKeyFromDidKey } from '../lib/keys.mjs';

const V2 = 'https://www.w3.org/ns/credentials/v2';
const EXAMPLES = 'https://www.w3.org/ns/credentials/examples/v2';

let server;
let loader;
before(async () => {
  server = await startServer({ profile: 'open' });
  loader = await documentLoader(server.base);
});
after(async () => { await server?.stop(); });

const clone = v => JSON.parse(JSON.stringify(v));

/** The VC Data Model's example degree: a type nobody registered. */
const exampleDegree = () => ({
  '@context': [V2, EXAMPLES],
  type: ['VerifiableCredential', 'ExampleDegreeCredential'],
  credentialSubject: {
    id: 'did:example:ebfeb1f712ebc6f1c276e12ec21',
    degree: { type: 'ExampleBachelorDegree', name: 'Bachelor of Science and Arts' },
  },
});

const issueOpenly = async (credential, options) => {
  const { status, body } = await server.api('POST', '/credentials/issue', { credential, options }, { auth: true });
  assert.equal(status, 201, JSON.stringify(body));
  assert.equal(body.schemaChecked, false);
  return body.verifiableCredential;
};

test('an example credential issued openly verifies with Digital Bazaar in both Ed25519 suites, status included, and fails when tampered', async () => {
  for (const [options, suite] of [
    [{ format: 'ldp_vc' }, new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 })],
    [{ format: 'ldp_vc', cryptosuite: 'eddsa-jcs-2022' }, [
      new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() }),
      // The status list credentials the check reads are eddsa-rdfc-2022.
      new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
    ]],
  ]) {
    const credential = await issueOpenly(exampleDegree(), options);
    assert.equal(credential.credentialStatus.length, 2);
    const ok = await vc.verifyCredential({ credential, suite, documentLoader: loader, checkStatus });
    assert.equal(ok.verified, true, JSON.stringify(ok.error ?? ok, null, 2));
    const tampered = clone(credential);
    tampered.credentialSubject.degree.name = 'Doctor of Arts';
    const bad = await vc.verifyCredential({ credential: tampered, suite, documentLoader: loader, checkStatus });
    assert.equal(bad.verified, false, JSON.stringify(options));
  }
});

test('the status list suite\'s smallest credential is issued openly and its status reads as set once revoked', async () => {
  // tests/validVc.json of w3c/vc-bitstring-status-list-test-suite.
  const credential = await issueOpenly({
    '@context': [V2],
    type: ['VerifiableCredential'],
    credentialSubject: { id: 'did:key:z6MkhTNL7i2etLerDK8Acz5t528giE5KA4p75T6ka1E1D74r' },
  }, { format: 'ldp_vc' });
  const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
  const fresh = await vc.verifyCredential({ credential, suite, documentLoader: loader, checkStatus });
  assert.equal(fresh.verified, true, JSON.stringify(fresh.error ?? fresh, null, 2));
  const revoked = await server.api('POST', '/credentials/status', {
    credentialId: credential.id,
    credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation' },
  }, { auth: true });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  const status = await checkStatus({ credential, documentLoader: loader, suite });
  assert.equal(status.verified, true, String(status.error?.stack ?? JSON.stringify(status)));
  const bit = purpose => status.results.find(r => r.credentialStatus.statusPurpose === purpose).status;
  assert.equal(bit('revocation'), true, 'Digital Bazaar reads the revocation bit');
  assert.equal(bit('suspension'), false);
});

test('an example credential issued openly as vc+jwt verifies with jose, and fails when tampered', async () => {
  const jwt = tokenOf(await issueOpenly(exampleDegree(), { format: 'vc+jwt' }));
  const { kid, alg } = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));
  const key = publicKeyFromDidKey(kid);
  const { payload } = await compactVerify(jwt, key, { algorithms: [alg] });
  const credential = JSON.parse(new TextDecoder().decode(payload));
  assert.equal(credential.credentialSubject.degree.name, 'Bachelor of Science and Arts');
  const parts = jwt.split('.');
  const forged = Buffer.from(JSON.stringify({ ...credential, type: ['VerifiableCredential'] })).toString('base64url');
  await assert.rejects(compactVerify(`${parts[0]}.${forged}.${parts[2]}`, key));
});

test('a Digital Bazaar credential with a context given inline verifies in Certus, and fails when tampered', async () => {
  const keyPair = await Ed25519Multikey.generate();
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  const credential = {
    '@context': [V2, { nickname: 'https://example.org/vocab#nickname' }],
    id: `urn:uuid:${crypto.randomUUID()}`,
    type: ['VerifiableCredential'],
    issuer: did,
    validFrom: '2026-01-01T00:00:00Z',
    credentialSubject: { id: 'did:example:holder', nickname: 'Pat' },
  };
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022 });
  const signed = await vc.issue({ credential, suite, documentLoader: loader });
  const { status, body } = await server.verify(signed);
  assert.equal(status, 200, JSON.stringify(body));
  const tampered = clone(signed);
  tampered.credentialSubject.nickname = 'Sam';
  const refused = await server.verify(tampered);
  assert.equal(refused.status, 400);
  assert.ok(refused.body.errors.some(e => e.code === 'SIGNATURE_INVALID'), JSON.stringify(refused.body));
});

test('the VC API issuer suite\'s malformed requests are refused with a reason, its valid ones issued', async () => {
  const issuers = await server.api('GET', '/issuers', undefined, { auth: true });
  const did = issuers.body.find(i => i.default).did;
  const valid = () => ({ ...exampleDegree(), issuer: did });
  const malformed = [
    ['no credential', { verifiableCredential: valid() }],
    ['no @context', { credential: (({ '@context': _, ...c }) => c)(valid()) }],
    ['@context a number', { credential: { ...valid(), '@context': 4 } }],
    ['@context items not strings', { credential: { ...valid(), '@context': [{ foo: true }, 4, false, null] } }],
    ['type a number', { credential: { ...valid(), type: 4 } }],
    ['no type', { credential: (({ type: _, ...c }) => c)(valid()) }],
    ['type items not strings', { credential: { ...valid(), type: [2, null, { foo: true }, false] } }],
    ['issuer a number', { credential: { ...valid(), issuer: 4 } }],
    ['no credentialSubject', { credential: (({ credentialSubject: _, ...c }) => c)(valid()) }],
    ['credentialSubject not objects', { credential: { ...valid(), credentialSubject: [null, true, 4] } }],
  ];
  for (const [what, body] of malformed) {
    const { status, body: error } = await server.api('POST', '/credentials/issue', body, { auth: true });
    assert.ok(status >= 400 && status < 500, `${what}: ${status}`);
    assert.equal(typeof error.code, 'string', `${what}: ${JSON.stringify(error)}`);
    assert.ok(error.message.length > 0, what);
  }
  for (const issuer of [did, { id: did, name: 'Certus test issuer' }]) {
    const { status, body } = await server.api('POST', '/credentials/issue', { credential: { ...valid(), issuer } }, { auth: true });
    assert.equal(status, 201, JSON.stringify(body));
  }
});
