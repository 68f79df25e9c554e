// Animo's @openid4vc/openid4vp as a verifier of its own on loopback: it signs a request
// object (by reference, named by its did:jwk) and takes the wallet's `direct_post` answer.
// Its endpoints answer any origin, as a verifier's must for a wallet in a browser.
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { Openid4vpVerifier } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/utils';
import { didJwkKey } from './keys.mjs';

/**
 * A verifier asking for the `claims` of an SD-JWT VC of type `vct`: `request`, the
 * openid4vp:// link; `clientId` and `nonce`, what the answer must be bound to; `answer()`,
 * the first answer once it came, read against the request by Animo's library; `close()`.
 */
export async function animoVerifier({ vct, claims }) {
  // The endpoints are plain HTTP on loopback.
  setGlobalConfig({ allowInsecureUrls: true });
  let requestObject;
  const answers = [];
  let arrived = () => {};
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET, POST' };
  const endpoints = createServer((request, response) => {
    if (request.method === 'OPTIONS') {
      response.writeHead(204, cors);
      response.end();
    } else if (request.method === 'GET' && request.url === '/request') {
      response.writeHead(200, { ...cors, 'content-type': 'application/oauth-authz-req+jwt' });
      response.end(requestObject);
    } else {
      let body = '';
      request.on('data', d => { body += d; });
      request.on('end', () => {
        answers.push(Object.fromEntries(new URLSearchParams(body)));
        response.writeHead(200, { ...cors, 'content-type': 'application/json' });
        response.end('{}');
        arrived();
      });
    }
  });
  await new Promise(resolve => endpoints.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${endpoints.address().port}`;
  const key = didJwkKey();
  const clientId = `decentralized_identifier:${key.did}`;
  const verifier = new Openid4vpVerifier({
    callbacks: {
      hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: bytes => new Uint8Array(randomBytes(bytes)),
      signJwt: async (_, { header, payload }) => ({
        jwt: key.signJwt({ ...header, alg: 'EdDSA' }, payload),
        signerJwk: { kty: 'OKP', crv: 'Ed25519', x: key.jwk.x },
      }),
    },
  });
  const nonce = randomBytes(16).toString('base64url');
  const authorizationRequestPayload = {
    response_type: 'vp_token', client_id: clientId, response_mode: 'direct_post', response_uri: `${base}/response`,
    nonce, state: randomBytes(8).toString('base64url'),
    dcql_query: { credentials: [{ id: 'kyc', format: 'dc+sd-jwt', meta: { vct_values: [vct] }, claims: claims.map(c => ({ path: [c] })) }] },
    client_metadata: { vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['EdDSA', 'ES256'], 'kb-jwt_alg_values': ['EdDSA', 'ES256'] } } },
  };
  const created = await verifier.createOpenId4vpAuthorizationRequest({
    authorizationRequestPayload,
    jar: {
      requestUri: `${base}/request`, jwtSigner: { method: 'did', didUrl: key.kid, alg: 'EdDSA' },
      additionalJwtPayload: { aud: 'https://self-issued.me/v2' },
    },
  });
  requestObject = created.jar.authorizationRequestJwt;
  return {
    request: created.authorizationRequest,
    clientId,
    nonce,
    answer: async () => {
      if (answers.length === 0) await new Promise(resolve => { arrived = resolve; });
      return verifier.parseOpenid4vpAuthorizationResponse({ authorizationResponse: answers[0], authorizationRequestPayload, callbacks: {} });
    },
    close: () => endpoints.close(),
  };
}
