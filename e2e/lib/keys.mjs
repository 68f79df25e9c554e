// did:key for Ed25519, both ways, and a JSON-LD document loader that never leaves loopback:
// W3C contexts from their npm packages, Certus contexts and status lists from the server.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import * as base58 from 'base58-universal';
import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context';
import { contexts as dataIntegrityContexts } from '@digitalbazaar/data-integrity-context';
import { contexts as multikeyContexts } from '@digitalbazaar/multikey-context';
import didContext from 'did-context';

const ED25519_PUB = [0xed, 0x01];

/** The raw 32-byte public key of an Ed25519 did:key. */
export function ed25519FromDidKey(did) {
  const bytes = base58.decode(did.replace(/^did:key:z/, '').split('#')[0]);
  if (bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1]) throw new Error(`not an Ed25519 did:key: ${did}`);
  return bytes.slice(2);
}

export const jwkFromDidKey = did => ({ kty: 'OKP', crv: 'Ed25519', x: Buffer.from(ed25519FromDidKey(did)).toString('base64url') });
export const publicKeyFromDidKey = did => createPublicKey({ key: jwkFromDidKey(did), format: 'jwk' });

/** The did:key of an Ed25519 public JWK. */
export function didKeyFromJwk(jwk) {
  const raw = Buffer.from(jwk.x, 'base64url');
  return `did:key:z${base58.encode(Uint8Array.from([...ED25519_PUB, ...raw]))}`;
}

function didKeyDocument(did) {
  const fingerprint = did.slice('did:key:'.length);
  const vm = {
    id: `${did}#${fingerprint}`, type: 'Multikey', controller: did, publicKeyMultibase: fingerprint,
  };
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did, verificationMethod: [vm],
    assertionMethod: [vm.id], authentication: [vm.id],
  };
}

const vectors = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'vectors', 'contexts');

/** A document loader over bundled contexts, the server's contexts and status lists, and did:key. */
export async function documentLoader(base) {
  const docs = new Map([
    ...credentialsContexts,
    ...dataIntegrityContexts,
    ...multikeyContexts,
    ...didContext.contexts,
  ]);
  const manifest = JSON.parse(readFileSync(join(vectors, 'manifest.json'), 'utf8'));
  for (const c of manifest.contexts) docs.set(c.url, JSON.parse(readFileSync(join(vectors, c.file), 'utf8')));
  const served = await (await fetch(`${base}/contexts`)).json();
  for (const { url, document } of served) if (!docs.has(url)) docs.set(url, document);
  return async url => {
    if (url.startsWith('did:key:')) {
      const [did, fragment] = url.split('#');
      const doc = didKeyDocument(did);
      const document = fragment ? { '@context': 'https://w3id.org/security/multikey/v1', ...doc.verificationMethod[0] } : doc;
      return { contextUrl: null, documentUrl: url, document };
    }
    if (docs.has(url)) return { contextUrl: null, documentUrl: url, document: docs.get(url) };
    // Status lists of the server under test, on loopback.
    if (url.startsWith(`${base}/status/`)) {
      const res = await fetch(url);
      if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
      return { contextUrl: null, documentUrl: url, document: await res.json() };
    }
    throw new Error(`document not bundled (never fetched): ${url}`);
  };
}

/** An Ed25519 key of the test's own, as a did:jwk: its `did`, `kid`, public `jwk`, and
 * `signJwt(header, payload)`. */
export function didJwkKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const did = `did:jwk:${Buffer.from(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).toString('base64url')}`;
  const signJwt = (header, payload) => {
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${nodeSign(null, Buffer.from(input), privateKey).toString('base64url')}`;
  };
  return { privateKey, jwk, did, kid: `${did}#0`, signJwt };
}
