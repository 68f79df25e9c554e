// A VC API issuer built on Digital Bazaar's libraries (@digitalbazaar/vc, data-integrity,
// eddsa-rdfc-2022-cryptosuite), the yardstick `scripts/load.sh --compare digitalbazaar`
// measures Certus's Data Integrity issuance against:
//
//   node e2e/load/digitalbazaar-issuer.mjs <port> <certus base URL>
//
// POST /credentials/issue {credential} answers 201 {verifiableCredential}: the credential
// completed as Certus completes it (id, issuer, validFrom, a revocation and a suspension
// BitstringStatusListEntry) and signed eddsa-rdfc-2022 with one Ed25519 key. It stores
// nothing, anchors nothing and seals no personal data: it is only the signing Certus also
// does. Contexts come from the npm packages and, once at start, from the Certus server
// under test (its /contexts, on loopback). One worker per core, as Certus uses every core.
import cluster from 'node:cluster';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { randomUUID, randomInt } from 'node:crypto';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { documentLoader } from '../lib/keys.mjs';

const [port, certus] = process.argv.slice(2);
if (!port || !certus) throw new Error('usage: digitalbazaar-issuer.mjs <port> <certus base URL>');

if (cluster.isPrimary) {
  for (let i = 0; i < availableParallelism(); i++) cluster.fork();
  cluster.on('exit', (_, code) => { if (code) process.exit(code); });
} else {
  const loader = await documentLoader(certus);
  const keyPair = await Ed25519Multikey.generate();
  const issuer = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = issuer;
  keyPair.id = `${issuer}#${keyPair.publicKeyMultibase}`;
  const lists = `${certus}/status/digitalbazaar`;
  const entry = (purpose, index) => ({
    id: `${lists}-${purpose}#${index}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: purpose,
    statusListIndex: String(index),
    statusListCredential: `${lists}-${purpose}`,
  });

  const issue = async request => {
    const index = randomInt(131072);
    const credential = {
      ...request.credential,
      id: `urn:uuid:${randomUUID()}`,
      issuer,
      validFrom: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      credentialStatus: [entry('revocation', index), entry('suspension', index)],
    };
    const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022 });
    return vc.issue({ credential, suite, documentLoader: loader });
  };

  http.createServer((req, res) => {
    const answer = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/credentials/issue') return answer(404, { error: 'not found' });
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', async () => {
      try {
        const verifiableCredential = await issue(JSON.parse(Buffer.concat(chunks)));
        answer(201, { verifiableCredential });
      } catch (e) {
        answer(400, { error: String(e?.message ?? e) });
      }
    });
  }).listen(Number(port), '127.0.0.1');
}
