// Starts a real Certus server on loopback with a fresh data folder, and stops it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binary = process.env.CERTUS_BIN ?? join(root, 'target', 'debug', 'certus');

/**
 * Starts a server on a fresh data folder. `setup(cli)` runs before it starts, with
 * `cli(args, stdin)` running the certus command line on the same store. `withApiKey: false`
 * leaves the store without any account or key, as on a real first start.
 */
export async function startServer({ setup, withApiKey = true } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'certus-e2e-'));
  const env = { ...process.env, CERTUS_DATA_DIR: dataDir, RUST_LOG: 'warn' };
  delete env.DATABASE_URL;
  const cli = (args, input) => execFileSync(binary, args, { env, input }).toString().trim();
  const token = withApiKey ? cli(['api-key', 'create', '--scopes', 'issue,verify,status']) : undefined;
  if (setup) await setup(cli);
  const child = spawn(binary, ['serve', '--addr', '127.0.0.1:0',
    '--web-dir', join(root, 'frontend', 'dist')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('certus did not start within 30 s')), 30_000);
    child.stdout.on('data', chunk => {
      output += chunk;
      const m = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', code => reject(new Error(`certus exited with ${code}`)));
  });
  const api = async (method, path, body, { auth = false } = {}) => {
    const headers = { 'content-type': 'application/json' };
    if (auth) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  return {
    base, token, api,
    /** Resolves with the first match of `pattern` in what the server printed. */
    waitForOutput: pattern => new Promise((resolve, reject) => {
      const check = () => {
        const m = output.match(pattern);
        if (m) { child.stdout.off('data', check); clearTimeout(timer); resolve(m); }
      };
      const timer = setTimeout(() => reject(new Error(`the server never printed ${pattern}`)), 10_000);
      child.stdout.on('data', check);
      check();
    }),
    issue: async (credential, format) => {
      const { status, body } = await api('POST', '/credentials/issue', { credential, options: { format } }, { auth: true });
      if (status !== 201) throw new Error(`issue failed: ${status} ${JSON.stringify(body)}`);
      return body.verifiableCredential;
    },
    verify: verifiableCredential => api('POST', '/credentials/verify', { verifiableCredential }),
    stop: () => new Promise(resolve => {
      child.once('exit', () => { rmSync(dataDir, { recursive: true, force: true }); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

export const kycCredential = subjectId => ({
  '@context': ['https://www.w3.org/ns/credentials/v2', 'https://w3id.org/certus/contexts/kyc/v1'],
  type: ['VerifiableCredential', 'KycCredential'],
  credentialSubject: {
    ...(subjectId ? { id: subjectId } : {}),
    givenName: 'Maria', familyName: 'Rossi', birthDate: '1988-04-12',
    assuranceLevel: 'substantial', checkDate: '2026-10-01', checkMethod: 'video',
  },
});

/** The token of an EnvelopedVerifiableCredential. */
export const tokenOf = enveloped => enveloped.id.slice(enveloped.id.indexOf(',') + 1);
