// OpenID4VC with independent implementations: Sphereon's and Animo's OpenID4VCI clients
// receive credentials from our issuer (pre-authorized, and Animo's also through the
// authorization code flow with PAR, PKCE and DPoP); a presentation built with OpenWallet's @sd-jwt libraries and
// a key of the test's own is accepted by our verifier over OpenID4VP; and the `certus
// wallet` command line does both against a real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey, randomBytes, sign as nodeSign } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer as createHttpServer } from 'node:http';
import { OpenID4VCIClient } from '@sphereon/oid4vci-client';
import { Openid4vpClient, parseOpenid4vpAuthorizationRequest } from '@openid4vc/openid4vp';
import { Openid4vciClient, createKeyAttestationJwt } from '@openid4vc/openid4vci';
import { clientAuthenticationClientAttestationJwt, clientAuthenticationNone, createClientAttestationJwt } from '@openid4vc/oauth2';
import { setGlobalConfig } from '@openid4vc/utils';
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, exportJWK, generateKeyPair, importJWK } from 'jose';
import { didJwkKey, publicKeyFromDidKey } from '../lib/keys.mjs';
import { animoVerifier } from '../lib/animo-verifier.mjs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { startServer, kycCredential } from '../lib/server.mjs';
import { openssl, opensslIssue, opensslRoot } from '../lib/ca.mjs';
import { launchBrowser } from '../lib/browser.mjs';

const ADMIN = 'admin@openid.test';
const PASSWORD = 'correct horse battery staple';

let server;
before(async () => {
  server = await startServer({
    setup: cli => cli(['user', 'create', '--email', ADMIN, '--name', 'Ada', '--role', 'admin', '--password-stdin'], PASSWORD),
  });
});

/** Sends `method path` with JSON `body` as the institution's admin. */
const asAdmin = async (method, path, body) => (await server.signedIn(ADMIN, PASSWORD))(method, path, body);

/** Sets the institution's `requireDpop` as its admin does. */
async function requireDpop(required) {
  const { status, body } = await asAdmin('PUT', '/settings', { requireDpop: required });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.requireDpop, required);
}
after(() => server?.stop());

/** Checks the Certus verifier accepts `credential`, naming what failed if it does not. */
async function assertVerifies(credential) {
  const { status, body } = await server.verify(credential);
  assert.equal(status, 200, JSON.stringify(body.results?.filter(r => r.outcome === 'failed' || r.outcome === 'error') ?? body));
}

const unbound = () => {
  const credential = kycCredential();
  delete credential.credentialSubject.id;
  return credential;
};

const offer = async (format, txCode = false, flow = 'preAuthorized') => {
  const { status, body } = await server.api('POST', '/credentials/offers',
    { credential: unbound(), options: { format }, txCode, flow }, { auth: true });
  assert.equal(status, 201, JSON.stringify(body));
  return body;
};

const holderKey = didJwkKey;

const b64json = part => JSON.parse(Buffer.from(part, 'base64url'));
const form = params => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });

/** A credential request of a fresh KYC SD-JWT VC offer, as a plain HTTP wallet makes it
 * for `holder` (token, nonce, proof): the access token and the request. */
async function credentialRequest(holder) {
  const made = await offer('dc+sd-jwt');
  const code = made.credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
  const token = await (await fetch(`${server.base}/openid4vci/token`, form({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code }))).json();
  const { c_nonce } = await (await fetch(`${server.base}/openid4vci/nonce`, { method: 'POST' })).json();
  const issuer = made.credentialOffer.credential_issuer;
  const proof = holder.signJwt({ typ: 'openid4vci-proof+jwt', alg: 'EdDSA', jwk: { kty: 'OKP', crv: 'Ed25519', x: holder.jwk.x } }, { aud: issuer, iat: Math.floor(Date.now() / 1000), nonce: c_nonce });
  const request = { credential_configuration_id: made.credentialOffer.credential_configuration_ids[0], proofs: { jwt: [proof] } };
  return { access: token.access_token, request };
}

/** Posts a credential request as `contentType` with the access token. */
const postCredential = (access, contentType, body) => fetch(`${server.base}/openid4vci/credential`, {
  method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${access}` }, body,
});

/** Redeems a KYC SD-JWT VC offer for `holder` as a plain HTTP wallet: the credential. */
async function receiveSdJwt(holder) {
  const { access, request } = await credentialRequest(holder);
  const issued = await (await postCredential(access, 'application/json', JSON.stringify(request))).json();
  return issued.credentials[0].credential;
}

/** `credential` presented with @sd-jwt: the `disclosed` claims, bound to the request's
 * nonce and client, `more` claims in its key-binding JWT. */
function presentSdJwt(holder, credential, disclosed, { client_id, nonce }, more = {}) {
  const sdjwt = new SDJwtVcInstance({
    hasher: (data, alg) => new Uint8Array(createHash(alg.replace('-', '')).update(data).digest()),
    kbSigner: (data) => nodeSign(null, Buffer.from(data), holder.privateKey).toString('base64url'),
    kbSignAlg: 'EdDSA',
  });
  return sdjwt.present(credential, disclosed,
    { kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: client_id, nonce, ...more } } });
}

/** An @openid4vc/openid4vci wallet with `holders`' keys (the library names each by its
 * `kid`) and a DPoP key of its own, its requests made with `fetchImpl`, authenticating as
 * `clientAuthentication` has it (by default, naming itself `certus-e2e`). */
function animoWallet({ holders = [holderKey()], fetchImpl = fetch, clientAuthentication = clientAuthenticationNone({ clientId: 'certus-e2e' }) } = {}) {
  const dpopKey = holderKey();
  const client = new Openid4vciClient({
    callbacks: {
      fetch: fetchImpl,
      hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: bytes => new Uint8Array(randomBytes(bytes)),
      clientAuthentication,
      signJwt: async (signer, { header, payload }) => {
        const key = signer.method === 'jwk' ? dpopKey : holders.find(h => h.kid === signer.didUrl);
        return { jwt: key.signJwt({ ...header, alg: 'EdDSA' }, payload), signerJwk: { kty: 'OKP', crv: 'Ed25519', x: key.jwk.x } };
      },
    },
  });
  const dpop = { signer: { method: 'jwk', alg: 'EdDSA', publicJwk: { kty: 'OKP', crv: 'Ed25519', x: dpopKey.jwk.x } } };
  return { holder: holders[0], holders, client, dpop };
}

/**
 * Animo's OpenID4VCI client asking for signed issuer metadata (`Accept: application/jwt`),
 * checking its signature by the signer's did:key; `alter` may change the signed metadata
 * on its way. The client and how many signatures verified.
 */
function animoAskingForSignedMetadata(alter = jwt => jwt) {
  const checked = [];
  const wellKnown = url => String(url).includes('/.well-known/openid-credential-issuer');
  const client = new Openid4vciClient({
    callbacks: {
      fetch: async (url, init) => {
        if (!wellKnown(url)) return fetch(url, init);
        const answer = await fetch(url, { ...init, headers: { ...init?.headers, accept: 'application/jwt' } });
        return new Response(alter(await answer.text()), { status: answer.status, headers: answer.headers });
      },
      hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: bytes => new Uint8Array(randomBytes(bytes)),
      clientAuthentication: clientAuthenticationNone({ clientId: 'certus-e2e' }),
      verifyJwt: async (signer, { compact }) => {
        const key = publicKeyFromDidKey(signer.didUrl);
        try {
          await compactVerify(compact, key);
          checked.push(signer.didUrl);
          return { verified: true, signerJwk: await exportJWK(key) };
        } catch {
          return { verified: false };
        }
      },
    },
  });
  return { client, checked };
}

test("Animo's @openid4vc/openid4vci checks the Certus issuer metadata signed by the node's institution; altered, it is refused", async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  const made = await offer('dc+sd-jwt');
  const { client, checked } = animoAskingForSignedMetadata();
  const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
  const metadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  assert.equal(checked.length, 1, 'the signature was checked');
  assert.match(checked[0], /^did:key:/);
  const { header, payload } = metadata.signedCredentialIssuer.jwt;
  assert.equal(header.typ, 'openidvci-issuer-metadata+jwt');
  assert.equal(payload.sub, credentialOffer.credential_issuer);
  assert.equal(metadata.credentialIssuer.credential_endpoint, `${credentialOffer.credential_issuer}/openid4vci/credential`);

  // Someone on the way points the credential endpoint elsewhere: the library refuses it.
  const { client: misled } = animoAskingForSignedMetadata(jwt => {
    const [head, body, signature] = jwt.split('.');
    const claims = b64json(body);
    claims.credential_endpoint = 'https://attacker.example/credential';
    return [head, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  });
  await assert.rejects(misled.resolveIssuerMetadata(credentialOffer.credential_issuer), /verification failed/);
});

test("Animo's @openid4vc/openid4vci receives a batch: a copy of the credential bound to each of its keys, each with its own status entry, revoked together", async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  const { holders, client } = animoWallet({ holders: [holderKey(), holderKey(), holderKey()] });
  const made = await offer('dc+sd-jwt');
  const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  assert.equal(issuerMetadata.credentialIssuer.batch_credential_issuance.batch_size, 10);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata });
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const configuration = 'KycCredential_sd_jwt';
  const proofs = [];
  for (const holder of holders) {
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: configuration, nonce: c_nonce,
      signer: { method: 'did', didUrl: holder.kid, alg: 'EdDSA' },
    });
    proofs.push(jwt);
  }
  // Two proofs by one key, or more than batch_size: refused as the spec names it, and
  // nothing is used up.
  for (const jwt of [[proofs[0], proofs[0]], Array(11).fill(proofs[0])]) {
    const refused = await fetch(issuerMetadata.credentialIssuer.credential_endpoint, { method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessTokenResponse.access_token}` },
      body: JSON.stringify({ credential_configuration_id: configuration, proofs: { jwt } }) });
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).error, 'invalid_proof');
  }
  const response = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configuration,
    proofs: { jwt: proofs },
  });
  const credentials = response.credentialResponse.credentials.map(c => c.credential);
  assert.equal(credentials.length, 3);
  const entries = new Set();
  for (const [i, credential] of credentials.entries()) {
    const payload = b64json(credential.split('~')[0].split('.')[1]);
    assert.equal(payload.cnf.jwk.x, holders[i].jwk.x, 'each copy bound to its own key');
    entries.add(`${payload.status.status_list.uri}#${payload.status.status_list.idx}`);
    await assertVerifies(credential);
  }
  assert.equal(entries.size, 3, 'each copy has its own status entry');
  // Each names the integrity of its type metadata: Node's own SHA-256 of the bytes served.
  const metadata = Buffer.from(await (await fetch(`${server.base}/.well-known/vct/credential-types/KycCredential/v1`)).arrayBuffer());
  const integrity = `sha256-${createHash('sha256').update(metadata).digest('base64')}`;
  for (const credential of credentials) {
    assert.equal(b64json(credential.split('~')[0].split('.')[1])['vct#integrity'], integrity);
  }
  const { body: info } = await server.api('GET', `/credentials/offers/${made.id}`, undefined, { auth: true });
  assert.equal(info.copies, 3);
  // Revoking the credential the offer names revokes every copy.
  const { status, body: change } = await server.api('POST', '/credentials/status', {
    credentialId: info.credentialId,
    credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation' },
    status: true,
  }, { auth: true });
  assert.equal(status, 200, JSON.stringify(change));
  assert.equal(change.changed, 3);
  for (const credential of credentials) {
    const { status, body } = await server.verify(credential);
    assert.equal(status, 400);
    assert.equal(body.results.find(r => r.check === 'status').code, 'REVOKED');
  }
});

test("Animo's @openid4vc/openid4vci waits for a credential the institution approves first, and collects it at the deferred endpoint; a refused one is refused as the spec names it", async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  const { holder, client } = animoWallet();
  const configuration = 'KycCredential_sd_jwt';
  const ask = async () => {
    const { status, body: made } = await server.api('POST', '/credentials/offers',
      { credential: unbound(), options: { format: 'dc+sd-jwt' }, approval: true }, { auth: true });
    assert.equal(status, 201, JSON.stringify(made));
    const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata });
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: configuration, nonce: c_nonce,
      signer: { method: 'did', didUrl: holder.kid, alg: 'EdDSA' },
    });
    const { credentialResponse } = await client.retrieveCredentials({
      issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configuration,
      proofs: { jwt: [jwt] },
    });
    // Nothing yet: a transaction id and how long to wait.
    assert.equal(credentialResponse.credentials, undefined);
    assert.ok(credentialResponse.transaction_id && credentialResponse.interval > 0, JSON.stringify(credentialResponse));
    const collect = () => client.retrieveDeferredCredentials({
      issuerMetadata, accessToken: accessTokenResponse.access_token, transactionId: credentialResponse.transaction_id,
    });
    return { made, collect };
  };
  const decide = async (made, approve) => {
    const { status, body } = await server.api('POST', `/credentials/offers/${made.id}/approval`, { approve }, { auth: true });
    assert.equal(status, 200, JSON.stringify(body));
  };

  const approved = await ask();
  const early = await approved.collect();
  assert.equal(early.response.status, 202);
  assert.equal(early.deferredCredentialResponse.credentials, undefined);
  await decide(approved.made, true);
  const { deferredCredentialResponse } = await approved.collect();
  const credential = deferredCredentialResponse.credentials[0].credential;
  assert.equal(b64json(credential.split('~')[0].split('.')[1]).cnf.jwk.x, holder.jwk.x);
  await assertVerifies(credential);
  // Collected once: the transaction id is spent.
  const again = await approved.collect().catch(e => e);
  assert.equal(again.response?.deferredCredentialErrorResponseResult?.data?.error, 'invalid_transaction_id', String(again));

  const refused = await ask();
  await decide(refused.made, false);
  const denied = await refused.collect().catch(e => e);
  assert.equal(denied.response?.deferredCredentialErrorResponseResult?.data?.error, 'credential_request_denied', String(denied));
});

test('Sphereon\'s OpenID4VCI client receives a Certus SD-JWT VC through a pre-authorized offer with a transaction code', async () => {
  const made = await offer('dc+sd-jwt', true);
  const holder = holderKey();
  const client = await OpenID4VCIClient.fromURI({ uri: made.offerUri, clientId: 'certus-e2e', retrieveServerMetadata: true });
  await client.acquireAccessToken({ pin: made.txCode });
  const response = await client.acquireCredentials({
    credentialTypes: ['https://w3id.org/certus/types/KycCredential/v1'],
    format: 'vc+sd-jwt', // this client speaks draft 13, which names SD-JWT VC so
    kid: holder.kid,
    alg: 'EdDSA',
    proofCallbacks: {
      signCallback: async args => holder.signJwt({ ...args.header, alg: 'EdDSA', kid: holder.kid }, args.payload),
    },
  });
  const credential = response.credential ?? response.credentials?.[0]?.credential;
  assert.equal(typeof credential, 'string', JSON.stringify(response));
  const payload = b64json(credential.split('~')[0].split('.')[1]);
  assert.equal(payload.vct, 'https://w3id.org/certus/types/KycCredential/v1');
  assert.equal(payload.cnf.jwk.x, holder.jwk.x, 'bound to the wallet\'s key');
  const { body: info } = await server.api('GET', `/credentials/offers/${made.id}`, undefined, { auth: true });
  assert.equal(info.status, 'redeemed');
});

test('a presentation made with @sd-jwt and an independent key answers a Certus OpenID4VP request, disclosing only what was asked', async () => {
  const holder = holderKey();
  const credential = await receiveSdJwt(holder);

  // The verifier asks for two claims.
  const { status, body: request } = await server.api('POST', '/presentation-requests',
    { credentialType: 'KycCredential', claims: ['givenName', 'birthDate'], purpose: 'Age check' }, { auth: true });
  assert.equal(status, 201, JSON.stringify(request));
  const requestUri = new URL(request.authorizationRequest.replace('openid4vp://', 'https://wallet/')).searchParams.get('request_uri');
  const object = b64json((await (await fetch(requestUri)).text()).split('.')[1]);
  assert.deepEqual(object.dcql_query.credentials[0].claims.map(c => c.path), [['givenName'], ['birthDate']]);

  const presentation = await presentSdJwt(holder, credential, { givenName: true, birthDate: true }, object);
  const answer = await fetch(object.response_uri, form({ vp_token: JSON.stringify({ credential: [presentation] }), state: object.state }));
  assert.equal(answer.status, 200, await answer.clone().text());

  const { body: result } = await server.api('GET', `/presentation-requests/${request.id}`, undefined, { auth: true });
  assert.equal(result.status, 'accepted', JSON.stringify(result));
  const claims = result.outcome.credentials[0].claims;
  assert.equal(claims.givenName, 'Maria');
  assert.equal(claims.birthDate, '1988-04-12');
  assert.equal(claims.familyName, undefined, 'not asked for, not disclosed');
  assert.equal(typeof result.outcome.verificationReceipt, 'string');

  // The same answer again is refused: a response is taken once.
  const replay = await fetch(object.response_uri, form({ vp_token: JSON.stringify({ credential: [presentation] }), state: object.state }));
  assert.equal(replay.status, 400);
  assert.equal((await replay.json()).code, 'REQUEST_ALREADY_ANSWERED');
});

test('a wallet built on jose encrypts its credential request to the Certus issuer key and gets the credential encrypted to its own; asked in clear, that is refused', async () => {
  const { body: metadata } = await server.api('GET', '/.well-known/openid-credential-issuer');
  const issuerKey = metadata.credential_request_encryption.jwks.keys[0];
  assert.deepEqual(metadata.credential_response_encryption.alg_values_supported, ['ECDH-ES']);
  const wallet = await generateKeyPair('ECDH-ES', { crv: 'P-256' });
  const walletJwk = { ...(await exportJWK(wallet.publicKey)), alg: 'ECDH-ES', use: 'enc', kid: 'wallet-1' };
  const holder = holderKey();
  const { access, request } = await credentialRequest(holder);
  const asking = { ...request, credential_response_encryption: { jwk: walletJwk, enc: 'A256GCM' } };

  // In clear, the answer's key could have been swapped on the way: refused.
  const clear = await postCredential(access, 'application/json', JSON.stringify(asking));
  assert.equal(clear.status, 400);
  assert.equal((await clear.json()).error, 'invalid_encryption_parameters');

  const sealed = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(asking)))
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A128GCM', kid: issuerKey.kid })
    .encrypt(await importJWK(issuerKey, 'ECDH-ES'));
  const answer = await postCredential(access, 'application/jwt', sealed);
  assert.equal(answer.status, 200, await answer.clone().text());
  assert.match(answer.headers.get('content-type'), /^application\/jwt/);
  const { plaintext, protectedHeader } = await compactDecrypt(await answer.text(), wallet.privateKey);
  assert.deepEqual([protectedHeader.alg, protectedHeader.enc, protectedHeader.kid], ['ECDH-ES', 'A256GCM', 'wallet-1']);
  const credential = JSON.parse(new TextDecoder().decode(plaintext)).credentials[0].credential;
  const payload = b64json(credential.split('~')[0].split('.')[1]);
  assert.equal(payload.cnf.jwk.x, holder.jwk.x, 'bound to the wallet\'s key');
});

test("Animo's @openid4vc/openid4vci wallet library receives a Certus credential in every format, as each configuration defines it", async () => {
  // The test server is plain HTTP on loopback; production issuers are https.
  setGlobalConfig({ allowInsecureUrls: true });
  const { holder, client } = animoWallet();
  // Each offer lists the configurations its credential can be received in; a VC JWT
  // comes as OpenID4VCI's jwt_vc_json (VC Data Model 1.1) or as a VC 2.0 vc+jwt.
  const cases = [
    ['dc+sd-jwt', 'KycCredential_sd_jwt', token => b64json(token.split('~')[0].split('.')[1]).cnf.jwk.x === holder.jwk.x],
    ['vc+jwt', 'KycCredential_jwt_vc_json', token => {
      const [header, payload] = token.split('.').slice(0, 2).map(b64json);
      return header.typ === 'JWT' && payload.vc['@context'][0] === 'https://www.w3.org/2018/credentials/v1'
        && payload.vc.credentialSubject.id === holder.did;
    }],
    ['vc+jwt', 'KycCredential_vc_jwt', token => {
      const [header, payload] = token.split('.').slice(0, 2).map(b64json);
      return header.typ === 'vc+jwt' && payload.credentialSubject.id === holder.did;
    }],
    ['ldp_vc', 'KycCredential_ldp_vc', credential => credential.credentialSubject.id === holder.did],
  ];
  for (const [format, configuration, bound] of cases) {
    const made = await offer(format);
    const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
    assert.ok(credentialOffer.credential_configuration_ids.includes(configuration), JSON.stringify(credentialOffer));
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata });
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId: configuration,
      nonce: c_nonce,
      signer: { method: 'did', didUrl: holder.kid, alg: 'EdDSA' },
    });
    const response = await client.retrieveCredentials({
      issuerMetadata,
      accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: configuration,
      proofs: { jwt: [jwt] },
    });
    const credential = response.credentialResponse.credentials[0].credential;
    assert.ok(bound(credential), `${configuration}: ${JSON.stringify(credential)}`);
    const { status, body } = await server.verify(credential);
    assert.equal(status, 200, `${configuration}: ${JSON.stringify(body)}`);
  }
});

test("Animo's @openid4vc libraries bind the access token to the wallet's key with DPoP; a proof used twice, or a bound token sent as a bearer token, is refused", async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  const sent = [];
  // Every request the library makes, kept to replay its DPoP proofs.
  const { holder, client, dpop } = animoWallet({ fetchImpl: async (url, init) => { sent.push({ url: String(url), init }); return fetch(url, init); } });
  const made = await offer('dc+sd-jwt');
  const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  assert.deepEqual(issuerMetadata.authorizationServers[0].dpop_signing_alg_values_supported, ['EdDSA', 'ES256']);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, dpop });
  assert.equal(accessTokenResponse.token_type, 'DPoP');
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const configuration = 'KycCredential_sd_jwt';
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configuration, nonce: c_nonce,
    signer: { method: 'did', didUrl: holder.kid, alg: 'EdDSA' },
  });
  const credentialEndpoint = issuerMetadata.credentialIssuer.credential_endpoint;
  // The bound token as a bearer token, before the library uses it: refused.
  const asBearer = await fetch(credentialEndpoint, { method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessTokenResponse.access_token}` },
    body: JSON.stringify({ credential_configuration_id: configuration, proofs: { jwt: [jwt] } }) });
  assert.equal(asBearer.status, 401);
  assert.equal((await asBearer.json()).error, 'invalid_token');
  const response = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configuration,
    proofs: { jwt: [jwt] }, dpop,
  });
  const credential = response.credentialResponse.credentials[0].credential;
  assert.equal(b64json(credential.split('~')[0].split('.')[1]).cnf.jwk.x, holder.jwk.x);
  await assertVerifies(credential);
  // The library's own DPoP proof of that request, sent again: refused as used.
  const request = sent.findLast(r => r.url === credentialEndpoint);
  const headers = new Headers(request.init.headers);
  assert.equal(headers.get('authorization'), `DPoP ${accessTokenResponse.access_token}`);
  const replay = await fetch(credentialEndpoint, { method: 'POST', headers, body: request.init.body });
  assert.equal(replay.status, 401);
  assert.match(replay.headers.get('www-authenticate'), /^DPoP error="invalid_dpop_proof"/);
  assert.equal((await replay.json()).error, 'invalid_dpop_proof');
});

test("Animo's @openid4vc libraries receive a Certus credential through the authorization code flow: PAR, PKCE and DPoP, with the holder entering the offer's code on the issuer's page in Chromium", async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  const { holder, client, dpop } = animoWallet();
  // The wallet's redirect URI: a loopback address of its own, as a native app's (RFC 8252).
  let returned;
  const callback = createHttpServer((request, response) => {
    // The redirect, not the browser's favicon request that may follow it.
    if (request.url.startsWith('/callback')) returned = new URL(request.url, redirectUri).href;
    response.end('wallet');
  });
  await new Promise(resolve => callback.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${callback.address().port}/callback`;
  const made = await offer('dc+sd-jwt', false, 'authorizationCode');
  const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
  assert.ok(credentialOffer.grants.authorization_code.issuer_state, JSON.stringify(credentialOffer));
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  // The library pushes the request (the metadata requires PAR), with PKCE and DPoP.
  const authorization = await client.initiateAuthorization({
    clientId: 'certus-e2e', issuerMetadata, credentialOffer, redirectUri, scope: 'KycCredential', dpop,
  });
  assert.equal(authorization.authorizationFlow, 'Oauth2Redirect');
  assert.equal(authorization.pkce.codeChallengeMethod, 'S256');
  assert.match(new URL(authorization.authorizationRequestUrl).searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);

  // The holder, in a browser: the issuer's page asks for the offer's code; a wrong one is
  // refused, the right one sends the browser back to the wallet.
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(authorization.authorizationRequestUrl);
    assert.match(await page.locator('h1').textContent(), /KYC credential/);
    await page.fill('#tx_code', '000000');
    await page.click('#continue');
    assert.match(await page.locator('#problem').textContent(), /not right\. 4 attempt\(s\) left/);
    await page.fill('#tx_code', made.txCode);
    await Promise.all([page.waitForURL(url => url.href.startsWith(redirectUri)), page.click('#continue')]);
  } finally {
    await browser.close();
    callback.close();
  }
  const authorizationServerMetadata = issuerMetadata.authorizationServers[0];
  const response = client.parseAndVerifyAuthorizationResponseRedirectUrl({ url: returned, authorizationServerMetadata });
  assert.ok(response.code, returned);

  // A wrong PKCE verifier: invalid_grant, and the code still works with the right one.
  await assert.rejects(
    client.retrieveAuthorizationCodeAccessTokenFromOffer({
      issuerMetadata, credentialOffer, authorizationCode: response.code, redirectUri, dpop: authorization.dpop,
      pkceCodeVerifier: randomBytes(48).toString('base64url'),
    }),
    e => e.errorResponse?.error === 'invalid_grant',
  );
  const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    issuerMetadata, credentialOffer, authorizationCode: response.code, redirectUri, dpop: authorization.dpop,
    pkceCodeVerifier: authorization.pkce.codeVerifier,
  });
  assert.equal(accessTokenResponse.token_type, 'DPoP');
  const configuration = 'KycCredential_sd_jwt';
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configuration, nonce: c_nonce,
    signer: { method: 'did', didUrl: holder.kid, alg: 'EdDSA' },
  });
  const issued = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configuration,
    proofs: { jwt: [jwt] }, dpop: authorization.dpop,
  });
  const credential = issued.credentialResponse.credentials[0].credential;
  assert.equal(b64json(credential.split('~')[0].split('.')[1]).cnf.jwk.x, holder.jwk.x);
  await assertVerifies(credential);

  // The library tells the issuer the credential was stored (the notification endpoint),
  // with the same DPoP-bound token; an id it was not given is refused.
  const notify = notificationId => client.sendNotification({
    issuerMetadata, accessToken: accessTokenResponse.access_token, dpop: authorization.dpop,
    notification: { notificationId, event: 'credential_accepted' },
  });
  await assert.rejects(notify('not-the-id'),
    e => e.response?.notificationErrorResponseResult?.data?.error === 'invalid_notification_id');
  await notify(issued.credentialResponse.notification_id);
  const { body: info } = await server.api('GET', `/credentials/offers/${made.id}`, undefined, { auth: true });
  assert.equal(info.status, 'redeemed');
  assert.equal(info.notification, 'credential_accepted');

  // The code, used again: refused.
  await assert.rejects(
    client.retrieveAuthorizationCodeAccessTokenFromOffer({
      issuerMetadata, credentialOffer, authorizationCode: response.code, redirectUri, dpop: authorization.dpop,
      pkceCodeVerifier: authorization.pkce.codeVerifier,
    }),
    e => e.errorResponse?.error === 'invalid_grant',
  );
});

/**
 * Animo's OpenID4VP wallet library, resolving the request `request` made: the library,
 * the resolved request, how many request signatures it checked and the methods it
 * fetched the request object with. Answers it encrypts with `jose` (ECDH-ES) as the
 * library asks.
 */
async function animoResolves(request, { trustedRoot } = {}) {
  const params = Object.fromEntries(new URL(request.authorizationRequest.replace(/^[a-z0-9]+:\/\//, 'https://wallet/')).searchParams);
  // The test server is plain HTTP on loopback; production request URIs are https.
  setGlobalConfig({ allowInsecureUrls: true });
  let checked = 0;
  const fetchedBy = [];
  const client = new Openid4vpClient({
    callbacks: {
      fetch: (url, init) => {
        if (String(url) === params.request_uri) fetchedBy.push(init?.method ?? 'GET');
        return fetch(url, init);
      },
      hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      getX509CertificateMetadata: certificate => ({
        sanDnsNames: (new X509Certificate(Buffer.from(certificate, 'base64')).subjectAltName ?? '')
          .split(', ').filter(n => n.startsWith('DNS:')).map(n => n.slice(4)),
        sanUriNames: [],
      }),
      verifyJwt: async (signer, { compact }) => {
        const key = signer.method === 'x5c' ? chainKey(signer.x5c, trustedRoot) : publicKeyFromDidKey(signer.didUrl);
        try {
          await compactVerify(compact, key);
          checked += 1;
          return { verified: true, signerJwk: await exportJWK(key) };
        } catch {
          return { verified: false };
        }
      },
      encryptJwe: async (encryptor, payload) => {
        const parties = Object.fromEntries(['apu', 'apv'].filter(p => encryptor[p]).map(p => [p, Buffer.from(encryptor[p], 'base64url')]));
        const jwe = await new CompactEncrypt(new TextEncoder().encode(payload))
          .setProtectedHeader({ alg: encryptor.alg, enc: encryptor.enc, kid: encryptor.publicJwk.kid })
          .setKeyManagementParameters(parties)
          .encrypt(await importJWK(encryptor.publicJwk, encryptor.alg));
        return { encryptionJwk: encryptor.publicJwk, jwe };
      },
    },
  });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: params });
  return { client, resolved, params, checked, fetchedBy };
}

/**
 * The key of the first certificate of `x5c`, once Node's X.509 (OpenSSL) finds each
 * certificate valid now and signed by the next, and the last `trustedRoot` or signed by it.
 */
function chainKey(x5c, trustedRoot) {
  const chain = x5c.map(c => new X509Certificate(Buffer.from(c, 'base64')));
  const now = Date.now();
  for (const [i, cert] of chain.entries()) {
    assert.ok(new Date(cert.validFrom) <= now && now <= new Date(cert.validTo), `certificate ${i} not valid now`);
    const issuer = chain[i + 1] ?? (cert.raw.equals(trustedRoot.raw) ? cert : trustedRoot);
    assert.ok(cert.checkIssued(issuer) && cert.verify(issuer.publicKey), `certificate ${i} not signed by the next`);
  }
  return chain[0].publicKey;
}

test("Animo's @openid4vc/openid4vp checks a HAIP request of Certus — x509_hash, and the chain a CA made with OpenSSL issued from Certus's signing request — answers it encrypted, and is sent back to the verifier's page with a one-time response code", async () => {
  // The institution's admin makes a verifier key; OpenSSL's CA certifies it from the CSR.
  const { status, body: made } = await asAdmin('POST', '/verifier/certificates', {});
  assert.equal(status, 201, JSON.stringify(made));
  assert.equal(made.status, 'pending');
  const dir = mkdtempSync(join(tmpdir(), 'certus-ca-'));
  try {
    writeFileSync(join(dir, 'verifier.csr'), made.csr);
    openssl(dir, 'req', '-verify', '-noout', '-in', 'verifier.csr');
    opensslRoot(dir, 'root');
    opensslIssue(dir, 'verifier', 'root');
    const root = readFileSync(join(dir, 'root.pem'), 'utf8');
    const leaf = readFileSync(join(dir, 'verifier.pem'), 'utf8');
    const installed = await asAdmin('PUT', `/verifier/certificates/${made.id}/chain`, { chain: leaf + root });
    assert.equal(installed.status, 200, JSON.stringify(installed.body));
    assert.equal(installed.body.status, 'active');
    const trustedRoot = new X509Certificate(root);

    const haipRequest = async (more = {}) => {
      const { status: asked, body: request } = await server.api('POST', '/presentation-requests',
        { credentialType: 'KycCredential', claims: ['givenName'], purpose: 'Name check', profile: 'haip', ...more }, { auth: true });
      assert.equal(asked, 201, JSON.stringify(request));
      return request;
    };
    // On the same device: the verifier's page the holder's browser comes back to.
    const request = await haipRequest({ redirectUri: 'https://shop.e2e/done' });
    assert.ok(request.authorizationRequest.startsWith('haip://'), request.authorizationRequest);
    assert.equal(parseOpenid4vpAuthorizationRequest({ authorizationRequest: request.authorizationRequest }).type, 'jar');
    const { client, resolved, checked } = await animoResolves(request, { trustedRoot });
    assert.equal(checked, 1, 'the request object signature was checked');
    assert.equal(resolved.client.prefix, 'x509_hash');
    assert.equal(resolved.client.identifier,
      createHash('sha256').update(new X509Certificate(leaf).raw).digest('base64url'));
    const payload = resolved.authorizationRequestPayload;
    assert.equal(payload.response_mode, 'direct_post.jwt');

    const holder = holderKey();
    const presentation = await presentSdJwt(holder, await receiveSdJwt(holder), { givenName: true }, payload);
    const created = await client.createOpenid4vpAuthorizationResponse({
      authorizationRequestPayload: payload,
      authorizationResponsePayload: { vp_token: { [resolved.dcql.query.credentials[0].id]: [presentation] } },
      jarm: {
        encryption: { nonce: randomBytes(16).toString('base64url') },
        serverMetadata: {
          authorization_encryption_alg_values_supported: ['ECDH-ES'],
          authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
        },
      },
    });
    const submitted = await client.submitOpenid4vpAuthorizationResponse({
      authorizationRequestPayload: payload,
      authorizationResponsePayload: created.authorizationResponsePayload,
      jarm: created.jarm,
    });
    assert.equal(submitted.response.status, 200, await submitted.response.clone().text());
    // The answer sends the browser back with a one-time code, which the page's backend
    // redeems for the outcome (OpenID4VP 1.0 §8.2); once.
    const [page, responseCode] = (await submitted.response.json()).redirect_uri.split('#response_code=');
    assert.equal(page, 'https://shop.e2e/done');
    const redeem = () => server.api('POST', `/presentation-requests/${request.id}/response-code`, { responseCode }, { auth: true });
    const redeemed = await redeem();
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.body.status, 'accepted');
    assert.equal((await redeem()).body.code, 'RESPONSE_CODE_MISMATCH');
    const { body: result } = await server.api('GET', `/presentation-requests/${request.id}`, undefined, { auth: true });
    assert.equal(result.status, 'accepted', JSON.stringify(result));
    assert.equal(result.clientId, `x509_hash:${resolved.client.identifier}`);

    // A wallet trusting another root refuses the request.
    opensslRoot(dir, 'other');
    await assert.rejects(animoResolves(await haipRequest(), { trustedRoot: new X509Certificate(readFileSync(join(dir, 'other.pem'))) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Two wallet providers' CAs, made with OpenSSL in `dir`, each with a certificate it signs
 * attestations with: `provider` (whose root, in PEM, is `root`) and a `stranger`.
 * `signer(name)` and `signJwt(name)` are Animo's signer and callback for that provider
 * (ES256, its certificate in `x5c`).
 */
function walletProviders(dir) {
  for (const [name, root] of [['provider', 'provider-root'], ['stranger', 'stranger-root']]) {
    opensslRoot(dir, root);
    openssl(dir, 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=E2E ${name}`);
    opensslIssue(dir, name, root);
  }
  return {
    root: readFileSync(join(dir, 'provider-root.pem'), 'utf8'),
    signer: name => ({ method: 'x5c', alg: 'ES256', x5c: [new X509Certificate(readFileSync(join(dir, `${name}.pem`))).raw.toString('base64')] }),
    signJwt: name => async (_, { header, payload }) => ({
      jwt: await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ ...header, alg: 'ES256' }).sign(createPrivateKey(readFileSync(join(dir, `${name}.key`)))),
    }),
  };
}

test("Animo's @openid4vc/openid4vci proves its key with a wallet provider's key attestation when the institution requires one; without one, or from a provider it does not trust, the proof is refused", async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  const dir = mkdtempSync(join(tmpdir(), 'certus-provider-'));
  try {
    const providers = walletProviders(dir);
    const set = await asAdmin('PUT', '/settings', { requireKeyAttestation: true, walletProviders: providers.root });
    assert.equal(set.status, 200, JSON.stringify(set.body));

    /** The provider `name`'s attestation of `holder`'s key, made by Animo's library. */
    const attestation = (name, holder, nonce) => createKeyAttestationJwt({
      use: 'proof_type.jwt',
      signer: providers.signer(name),
      issuedAt: new Date(), expiresAt: new Date(Date.now() + 3600_000), nonce,
      attestedKeys: [{ kty: 'OKP', crv: 'Ed25519', x: holder.jwk.x }], keyStorage: ['iso_18045_moderate'],
      callbacks: { signJwt: providers.signJwt(name) },
    });
    const { holder, client } = animoWallet();
    const configuration = 'KycCredential_sd_jwt';
    const attempt = async (name) => {
      const made = await offer('dc+sd-jwt');
      const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
      const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
      assert.deepEqual(issuerMetadata.credentialIssuer.credential_configurations_supported[configuration]
        .proof_types_supported.jwt.key_attestations_required, {});
      const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata });
      const { c_nonce } = await client.requestNonce({ issuerMetadata });
      const signer = { method: 'did', didUrl: holder.kid, alg: 'EdDSA' };
      // The library itself will not send a proof without one, as the metadata asks.
      await assert.rejects(client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configuration, nonce: c_nonce, signer }),
        /requires key attestations/);
      const { jwt } = await client.createCredentialRequestJwtProof({
        issuerMetadata, credentialConfigurationId: configuration, nonce: c_nonce, signer,
        keyAttestationJwt: await attestation(name, holder, c_nonce),
      });
      return client.retrieveCredentials({
        issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configuration, proofs: { jwt: [jwt] },
      });
    };
    const { credentialResponse } = await attempt('provider');
    const credential = credentialResponse.credentials[0].credential;
    assert.equal(b64json(credential.split('~')[0].split('.')[1]).cnf.jwk.x, holder.jwk.x);
    await assertVerifies(credential);
    const refused = await attempt('stranger').catch(e => e);
    const error = refused.response?.credentialErrorResponseResult?.data;
    assert.equal(error?.error, 'invalid_proof', String(refused));
    assert.match(error.error_description, /provider is not trusted/);
  } finally {
    await asAdmin('PUT', '/settings', {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Animo's @openid4vc libraries authenticate the wallet by its provider's attestation at PAR and token, and prove a batch of keys with one `attestation` proof; a wallet without one, or attested by a stranger, is invalid_client", async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  const dir = mkdtempSync(join(tmpdir(), 'certus-provider-'));
  try {
    const providers = walletProviders(dir);
    const set = await asAdmin('PUT', '/settings', { requireWalletAttestation: true, walletProviders: providers.root });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    // The wallet instance's key (P-256), which its provider attests and it proves at each call.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const confirmation = { jwk: await exportJWK(publicKey) };
    const proving = {
      generateRandom: bytes => new Uint8Array(randomBytes(bytes)),
      signJwt: async (_, { header, payload }) => ({
        jwt: await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header).sign(privateKey),
      }),
    };
    const holders = [holderKey(), holderKey()];
    /** A wallet attested by the provider `name`, made with Animo's library. */
    const attestedBy = async name => animoWallet({
      holders,
      clientAuthentication: clientAuthenticationClientAttestationJwt({
        clientAttestationJwt: await createClientAttestationJwt({
          issuer: 'https://provider.e2e', clientId: 'certus-e2e', expiresAt: new Date(Date.now() + 3600_000),
          confirmation, signer: providers.signer(name), callbacks: { signJwt: providers.signJwt(name) },
        }),
        callbacks: proving,
      }),
    }).client;
    const redirectUri = 'http://127.0.0.1:9/callback';
    const made = await offer('dc+sd-jwt', false, 'authorizationCode');
    const authorize = async client => {
      const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
      const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
      const authorization = await client.initiateAuthorization({ clientId: 'certus-e2e', issuerMetadata, credentialOffer, redirectUri, scope: 'KycCredential' });
      return { credentialOffer, issuerMetadata, authorization };
    };
    // Without an attestation, or with a stranger's: the pushed request is refused.
    for (const client of [animoWallet().client, await attestedBy('stranger')]) {
      await assert.rejects(authorize(client), e => e.errorResponse?.error === 'invalid_client');
    }

    const client = await attestedBy('provider');
    const { credentialOffer, issuerMetadata, authorization } = await authorize(client);
    const configuration = 'KycCredential_sd_jwt';
    assert.deepEqual(issuerMetadata.credentialIssuer.credential_configurations_supported[configuration].proof_types_supported.attestation,
      { proof_signing_alg_values_supported: ['ES256'], key_attestations_required: {} });
    // The holder enters the offer's code on the issuer's page (its form, posted as a browser would).
    const params = new URL(authorization.authorizationRequestUrl).searchParams;
    assert.equal((await fetch(authorization.authorizationRequestUrl)).status, 200);
    const answered = await fetch(`${server.base}/openid4vci/authorize`, {
      ...form({ client_id: params.get('client_id'), request_uri: params.get('request_uri'), tx_code: made.txCode }), redirect: 'manual',
    });
    assert.equal(answered.status, 303);
    const { code } = client.parseAndVerifyAuthorizationResponseRedirectUrl({
      url: answered.headers.get('location'), authorizationServerMetadata: issuerMetadata.authorizationServers[0],
    });
    const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
      issuerMetadata, credentialOffer, authorizationCode: code, redirectUri, pkceCodeVerifier: authorization.pkce.codeVerifier,
    });

    // One key attestation for both keys, carrying the fresh nonce: a copy bound to each.
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const keyAttestation = await createKeyAttestationJwt({
      use: 'proof_type.attestation', nonce: c_nonce, issuedAt: new Date(), signer: providers.signer('provider'),
      attestedKeys: holders.map(h => ({ kty: 'OKP', crv: 'Ed25519', x: h.jwk.x })), keyStorage: ['iso_18045_moderate'],
      callbacks: { signJwt: providers.signJwt('provider') },
    });
    const issued = await client.retrieveCredentials({
      issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configuration,
      proofs: { attestation: [keyAttestation] },
    });
    const credentials = issued.credentialResponse.credentials.map(c => c.credential);
    assert.deepEqual(credentials.map(c => b64json(c.split('~')[0].split('.')[1]).cnf.jwk.x), holders.map(h => h.jwk.x));
    for (const credential of credentials) await assertVerifies(credential);
  } finally {
    await asAdmin('PUT', '/settings', {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Animo's @openid4vc/openid4vp wallet library resolves a Certus request object — its signature, client and DCQL query — and answers it", async () => {
  const { status, body: request } = await server.api('POST', '/presentation-requests',
    { credentialType: 'KycCredential', claims: ['givenName'], purpose: 'Name check' }, { auth: true });
  assert.equal(status, 201, JSON.stringify(request));
  const { client, resolved, params, checked, fetchedBy } = await animoResolves(request);
  assert.equal(checked, 1, 'the request object signature was checked');
  // The link offers request_uri_method=post, and the library takes it.
  assert.equal(params.request_uri_method, 'post');
  assert.deepEqual(fetchedBy, ['post']);
  assert.equal(resolved.client.prefix, 'decentralized_identifier');
  assert.equal(resolved.client.identifier, params.client_id.replace('decentralized_identifier:', ''));
  assert.deepEqual(resolved.dcql.query.credentials[0].claims.map(c => c.path), [['givenName']]);
  assert.equal(resolved.authorizationRequestPayload.response_mode, 'direct_post');

  // The library answers it: the wallet's SD-JWT presentation, posted to the response URI.
  const holder = holderKey();
  const presentation = await presentSdJwt(holder, await receiveSdJwt(holder), { givenName: true },
    resolved.authorizationRequestPayload);
  const queryId = resolved.dcql.query.credentials[0].id;
  const { authorizationResponsePayload } = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: resolved.authorizationRequestPayload,
    authorizationResponsePayload: { vp_token: { [queryId]: [presentation] } },
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: resolved.authorizationRequestPayload,
    authorizationResponsePayload,
  });
  assert.equal(submitted.response.status, 200, await submitted.response.clone().text());
  const { body: result } = await server.api('GET', `/presentation-requests/${request.id}`, undefined, { auth: true });
  assert.equal(result.status, 'accepted', JSON.stringify(result));
  assert.equal(result.outcome.credentials[0].claims.givenName, 'Maria');
  assert.equal(result.outcome.credentials[0].claims.familyName, undefined);
});

test("Animo's @openid4vc/openid4vp wallet library answers a request for an encrypted answer with direct_post.jwt; an answer in clear is refused", async () => {
  const { status, body: request } = await server.api('POST', '/presentation-requests',
    { credentialType: 'KycCredential', claims: ['givenName'], purpose: 'Name check', responseMode: 'direct_post.jwt' }, { auth: true });
  assert.equal(status, 201, JSON.stringify(request));
  const { client, resolved } = await animoResolves(request);
  const asked = resolved.authorizationRequestPayload;
  assert.equal(asked.response_mode, 'direct_post.jwt');
  const holder = holderKey();
  const presentation = await presentSdJwt(holder, await receiveSdJwt(holder), { givenName: true }, asked);
  const vp_token = { [resolved.dcql.query.credentials[0].id]: [presentation] };

  // The presentations in clear, to a request that asked for encryption: `invalid_request`,
  // and the request still waits for its answer.
  const clear = await fetch(asked.response_uri, form({ vp_token: JSON.stringify(vp_token), state: asked.state }));
  assert.equal(clear.status, 400);
  const refusal = await clear.json();
  assert.deepEqual([refusal.error, refusal.code], ['invalid_request', 'RESPONSE_NOT_ENCRYPTED']);
  const { body: waiting } = await server.api('GET', `/presentation-requests/${request.id}`, undefined, { auth: true });
  assert.equal(waiting.status, 'pending');

  // The library encrypts to the request's key (its JARM path, with the apu and apv it sets).
  const created = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: asked,
    authorizationResponsePayload: { vp_token },
    jarm: {
      encryption: { nonce: randomBytes(16).toString('base64url') },
      serverMetadata: {
        authorization_encryption_alg_values_supported: ['ECDH-ES'],
        authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
      },
    },
  });
  const jwe = created.jarm.responseJwt;
  const header = b64json(jwe.split('.')[0]);
  assert.deepEqual([header.alg, header.enc, header.kid], ['ECDH-ES', 'A128GCM', asked.client_metadata.jwks.keys[0].kid]);
  assert.equal(header.epk.crv, 'P-256');
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: asked,
    authorizationResponsePayload: created.authorizationResponsePayload,
    jarm: created.jarm,
  });
  assert.equal(submitted.response.status, 200, await submitted.response.clone().text());
  const { body: result } = await server.api('GET', `/presentation-requests/${request.id}`, undefined, { auth: true });
  assert.equal(result.status, 'accepted', JSON.stringify(result));
  assert.equal(result.responseMode, 'direct_post.jwt');
  assert.equal(result.outcome.credentials[0].claims.givenName, 'Maria');
});

test("Animo's @openid4vc/openid4vp reads the transaction a Certus request asks to authorize; an @sd-jwt presentation hashing it into its key-binding JWT is accepted, one without is rejected", async () => {
  const APPROVAL = 'https://w3id.org/certus/transaction-data/approval/v1';
  const holder = holderKey();
  const credential = await receiveSdJwt(holder);
  const ask = async () => {
    const { status, body } = await server.api('POST', '/presentation-requests', {
      credentialType: 'KycCredential', claims: ['givenName'], purpose: 'Open an account',
      transactionData: [{ type: APPROVAL, text: 'Open savings account 4411' }],
    }, { auth: true });
    assert.equal(status, 201, JSON.stringify(body));
    return { request: body, ...(await animoResolves(body)) };
  };
  const answer = async (resolved, more) => {
    const asked = resolved.authorizationRequestPayload;
    const presentation = await presentSdJwt(holder, credential, { givenName: true }, asked, more);
    return fetch(asked.response_uri, form({ vp_token: JSON.stringify({ [resolved.dcql.query.credentials[0].id]: [presentation] }), state: asked.state }));
  };

  const first = await ask();
  const [transaction] = first.resolved.transactionData;
  assert.equal(transaction.transactionData.type, APPROVAL);
  assert.equal(transaction.transactionData.text, 'Open savings account 4411');
  assert.deepEqual(transaction.transactionData.credential_ids, [first.resolved.dcql.query.credentials[0].id]);
  // The key-binding JWT without the transaction's hash: rejected.
  const unauthorized = await answer(first.resolved, {});
  assert.equal(unauthorized.status, 400);
  assert.equal((await unauthorized.json()).code, 'TRANSACTION_NOT_AUTHORIZED');

  // With the SHA-256 of the string as sent: accepted.
  const second = await ask();
  const encoded = second.resolved.transactionData[0].encoded;
  const authorized = await answer(second.resolved, {
    transaction_data_hashes: [createHash('sha256').update(encoded).digest('base64url')],
    transaction_data_hashes_alg: 'sha-256',
  });
  assert.equal(authorized.status, 200, await authorized.clone().text());
  const { body: result } = await server.api('GET', `/presentation-requests/${second.request.id}`, undefined, { auth: true });
  assert.equal(result.status, 'accepted');
  assert.equal(result.transactionData[0].text, 'Open savings account 4411');
});

test('the certus wallet command line accepts an offer — pre-authorized, through the issuer\'s page by the authorization code flow, or once the institution approved it — and answers a request', async () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const binary = process.env.CERTUS_BIN ?? join(root, 'target', 'debug', 'certus');
  const dir = mkdtempSync(join(tmpdir(), 'certus-wallet-'));
  const wallet = (...args) => execFileSync(binary, ['wallet', '--wallet', join(dir, 'wallet.json'), ...args], { env: { ...process.env, RUST_LOG: 'warn' } }).toString();
  try {
    wallet('init');
    // The institution requires DPoP: a token request without a proof is refused, and the
    // command, which always binds its token, is served.
    await requireDpop(true);
    const made = await offer('dc+sd-jwt', true);
    const code = made.credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    const bearer = await fetch(`${server.base}/openid4vci/token`, form({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: made.txCode }));
    assert.equal(bearer.status, 400);
    assert.equal((await bearer.json()).error, 'invalid_dpop_proof');
    // Three copies at once (batch issuance), each bound to a fresh key.
    assert.match(wallet('accept', made.offerUri, '--tx-code', made.txCode), /accepted credential 1: .*KycCredential.* \(dc\+sd-jwt\), 3 copies bound to a key of its own/);
    await requireDpop(false);
    assert.match(wallet('list'), /^1\t.*KycCredential.*\tdc\+sd-jwt\t.*\t3 copies, 3 not yet shown$/m);
    const held = JSON.parse(readFileSync(join(dir, 'wallet.json'), 'utf8'));
    const bound = [held.credentials[0].holder, ...held.credentials[0].copies.map(c => c.holder)];
    assert.equal(new Set(bound).size, 3, 'a key per copy');
    assert.ok(bound.every(did => held.keys.some(k => k.did === did)), 'each copy\'s key is kept');
    // Stored, the command told the issuer so (the notification endpoint).
    const { body: taken } = await server.api('GET', `/credentials/offers/${made.id}`, undefined, { auth: true });
    assert.equal(taken.notification, 'credential_accepted');
    // The verifier asks for an answer encrypted to its request (direct_post.jwt), and for
    // the holder's approval of a transaction.
    const { body: request } = await server.api('POST', '/presentation-requests',
      { credentialType: 'KycCredential', claims: ['familyName'], purpose: 'Open an account', responseMode: 'direct_post.jwt',
        transactionData: [{ type: 'https://w3id.org/certus/transaction-data/approval/v1', text: 'Open savings account 4411' }] }, { auth: true });
    const out = wallet('present', request.authorizationRequest, '--yes');
    assert.match(out, /asks: Open an account/);
    assert.match(out, /and that you approve: Open savings account 4411/);
    assert.match(out, /disclosing \["familyName"\]/);
    const { body: result } = await server.api('GET', `/presentation-requests/${request.id}`, undefined, { auth: true });
    assert.equal(result.status, 'accepted');
    assert.equal(result.responseMode, 'direct_post.jwt');
    assert.deepEqual(Object.keys(result.outcome.credentials[0].claims).filter(k => ['givenName', 'familyName', 'birthDate'].includes(k)), ['familyName']);
    // The next presentation shows the next copy.
    assert.match(wallet('list'), /\t3 copies, 2 not yet shown$/m);

    // A verifier named by its certificate (x509_san_dns, self-signed here): the command
    // answers only when told to trust that certificate.
    const { body: certificate } = await asAdmin('POST', '/verifier/certificates', { selfSigned: true });
    assert.equal(certificate.status, 'active', JSON.stringify(certificate));
    writeFileSync(join(dir, 'verifier.pem'), certificate.chain);
    const { body: named } = await server.api('POST', '/presentation-requests',
      { credentialType: 'KycCredential', claims: ['familyName'], purpose: 'Open an account', clientIdPrefix: 'x509_san_dns' }, { auth: true });
    assert.ok(named.authorizationRequest.startsWith('openid4vp://?client_id=x509_san_dns%3A127.0.0.1'), named.authorizationRequest);
    assert.throws(() => wallet('present', named.authorizationRequest, '--yes'), e => /leads to no trusted root/.test(e.stderr.toString()));
    assert.match(wallet('present', named.authorizationRequest, '--yes', '--trust-anchor', join(dir, 'verifier.pem')), /\(x509_san_dns:127\.0\.0\.1\) asks: Open an account/);
    assert.equal((await server.api('GET', `/presentation-requests/${named.id}`, undefined, { auth: true })).body.status, 'accepted');

    // An offer of the authorization code flow: the command prints the issuer's page and
    // waits on a loopback address; the holder's browser (here, fetch) enters the code and
    // is sent back to it.
    const byPage = await offer('dc+sd-jwt', false, 'authorizationCode');
    const child = spawn(binary, ['wallet', '--wallet', join(dir, 'wallet.json'), 'accept', byPage.offerUri], { env: { ...process.env, RUST_LOG: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    const exited = new Promise(resolve => child.on('exit', resolve));
    const pageUrl = await new Promise((resolve, reject) => {
      child.stderr.on('data', d => {
        stderr += d;
        const found = stderr.match(/^(http\S+\/openid4vci\/authorize\?\S+)$/m);
        if (found) resolve(found[1]);
      });
      child.on('exit', () => reject(new Error(`the wallet exited: ${stderr}`)));
    });
    const page = await fetch(pageUrl);
    assert.equal(page.status, 200);
    const params = new URL(pageUrl).searchParams;
    const answer = await fetch(`${server.base}/openid4vci/authorize`, { ...form({ client_id: params.get('client_id'), request_uri: params.get('request_uri'), tx_code: byPage.txCode }), redirect: 'manual' });
    assert.equal(answer.status, 303);
    const back = new URL(answer.headers.get('location'));
    assert.equal(back.origin.startsWith('http://127.0.0.1:'), true, back.href);
    assert.equal((await fetch(back)).status, 200);
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /accepted credential 2: .*KycCredential.* \(dc\+sd-jwt\)/);

    // An offer the institution approves first: the command says it waits, and takes the
    // credential once the institution approved it.
    const { body: approval } = await server.api('POST', '/credentials/offers',
      { credential: unbound(), options: { format: 'dc+sd-jwt' }, approval: true }, { auth: true });
    const waiting = spawn(binary, ['wallet', '--wallet', join(dir, 'wallet.json'), 'accept', approval.offerUri], { env: { ...process.env, RUST_LOG: 'warn' } });
    let said = '';
    let printed = '';
    waiting.stdout.on('data', d => { printed += d; });
    const done = new Promise(resolve => waiting.on('exit', resolve));
    await new Promise((resolve, reject) => {
      waiting.stderr.on('data', d => {
        said += d;
        if (/approves this credential before it issues it/.test(said)) resolve();
      });
      waiting.on('exit', () => reject(new Error(`the wallet exited: ${said}`)));
    });
    const { status: decided } = await server.api('POST', `/credentials/offers/${approval.id}/approval`, { approve: true }, { auth: true });
    assert.equal(decided, 200);
    assert.equal(await done, 0, said);
    assert.match(printed, /accepted credential 3: .*KycCredential/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Animo's @openid4vc/openid4vp as the verifier: its signed request, named by its DID, is answered by the certus wallet command line, and its checks take the answer", async () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const binary = process.env.CERTUS_BIN ?? join(root, 'target', 'debug', 'certus');
  const dir = mkdtempSync(join(tmpdir(), 'certus-wallet-'));
  const wallet = (...args) => execFileSync(binary, ['wallet', '--wallet', join(dir, 'wallet.json'), ...args], { env: { ...process.env, RUST_LOG: 'warn' } }).toString();
  let verifier;
  try {
    wallet('init');
    const made = await offer('dc+sd-jwt', true);
    wallet('accept', made.offerUri, '--tx-code', made.txCode);
    const { vct } = b64json(JSON.parse(readFileSync(join(dir, 'wallet.json'), 'utf8')).credentials[0].credential.split('.')[1]);
    verifier = await animoVerifier({ vct, claims: ['familyName'] });
    // Run without blocking this process, which serves the verifier's endpoints.
    const out = await new Promise((resolve, reject) => {
      const child = spawn(binary, ['wallet', '--wallet', join(dir, 'wallet.json'), 'present', verifier.request, '--yes'],
        { env: { ...process.env, RUST_LOG: 'warn' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', d => { stdout += d; });
      child.stderr.on('data', d => { stderr += d; });
      child.on('exit', code => (code === 0 ? resolve(stdout) : reject(new Error(`the wallet failed: ${stderr}`))));
    });
    assert.match(out, /disclosing \["familyName"\]/, out);
    // The verifier library reads the answer against its request: the DCQL query answered,
    // bound to this verifier and this request, disclosing only what was asked.
    const [presentation] = (await verifier.answer()).dcql.presentations.kyc;
    const kb = b64json(presentation.split('~').pop().split('.')[1]);
    assert.deepEqual([kb.aud, kb.nonce], [verifier.clientId, verifier.nonce]);
    const disclosed = presentation.split('~').slice(1, -1).map(d => b64json(d)[1]);
    assert.ok(disclosed.includes('familyName'), JSON.stringify(disclosed));
    assert.ok(!disclosed.includes('givenName') && !disclosed.includes('birthDate'), JSON.stringify(disclosed));
    // And the credential in it verifies (at Certus, with its status and anchor).
    await assertVerifies(presentation.split('~').slice(0, -1).join('~') + '~');
  } finally {
    verifier?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Animo's @openid4vc/openid4vci proofs with a nonce this issuer did not give, or made for another issuer, are refused as the spec names them", async () => {
  setGlobalConfig({ allowInsecureUrls: true });
  const { holder, client } = animoWallet();
  const made = await offer('dc+sd-jwt');
  const credentialOffer = await client.resolveCredentialOffer(made.offerUri);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata });
  const configuration = 'KycCredential_sd_jwt';
  const signer = { method: 'did', didUrl: holder.kid, alg: 'EdDSA' };
  /** The credential request with a proof for `metadata`'s issuer and `nonce`: the answer, or the error. */
  const send = async (metadata, nonce) => {
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata: metadata, credentialConfigurationId: configuration, nonce, signer });
    return client.retrieveCredentials({
      issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configuration, proofs: { jwt: [jwt] },
    }).catch(e => e.response?.credentialErrorResponseResult?.data ?? e);
  };
  // A nonce this issuer never gave (as good as an expired or used one): invalid_nonce, with
  // a fresh c_nonce to retry with.
  const stale = await send(issuerMetadata, randomBytes(32).toString('base64url'));
  assert.equal(stale.error, 'invalid_nonce', JSON.stringify(stale));
  assert.ok(stale.c_nonce);
  // A proof made for another issuer (its `aud`): invalid_proof.
  const elsewhere = { ...issuerMetadata, credentialIssuer: { ...issuerMetadata.credentialIssuer, credential_issuer: 'https://other-issuer.example' } };
  const wrongAudience = await send(elsewhere, stale.c_nonce);
  assert.equal(wrongAudience.error, 'invalid_proof', JSON.stringify(wrongAudience));
  assert.match(wrongAudience.error_description, /`aud`/);
  // Made right, with the nonce the refusal gave: the credential.
  const issued = await send(issuerMetadata, wrongAudience.c_nonce);
  await assertVerifies(issued.credentialResponse.credentials[0].credential);
});
