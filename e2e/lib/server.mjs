// Starts a real Certus server on loopback with a fresh data folder, and stops it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binary = process.env.CERTUS_BIN ?? join(root, 'target', 'debug', 'certus');

/**
 * Starts a server on a fresh data folder. `setup(cli)` runs before it starts, with
 * `cli(args, stdin)` running the certus command line on the same store. `withApiKey: false`
 * leaves the store without any account or key, as on a real first start. With an API key,
 * the chain's root authority (a `trust` key, `trustToken`) accredits the default
 * institution's DIDs for KYC, as a bank's KYC desk is, unless `accreditKyc: false`.
 * `logLevel` sets `RUST_LOG`; with `captureLogs`, the server's logs are kept (`logs()`)
 * instead of shown. With `pkcs11`, the node's keys are made and kept in a fresh SoftHSM2
 * token (Debian's `softhsm2`) in the data folder. `profile: 'open'` starts the server in the
 * open profile (open issuance on: decision 18).
 */
export async function startServer({ setup, withApiKey = true, accreditKyc = true, logLevel = 'warn', captureLogs = false, pkcs11 = false, profile = 'standard' } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'certus-e2e-'));
  const env = { ...process.env, CERTUS_DATA_DIR: dataDir, RUST_LOG: logLevel, CERTUS_PROFILE: profile };
  delete env.DATABASE_URL;
  if (pkcs11) Object.assign(env, softHsmToken(dataDir));
  const node = await startNode(env, { setup, withApiKey, captureLogs });
  if (withApiKey && accreditKyc) {
    const issuers = await node.api('GET', '/issuers', undefined, { auth: true });
    for (const { did } of issuers.body) await node.accreditForKyc(did);
  }
  return {
    ...node,
    dataDir,
    stop: async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a consortium of `members` nodes on loopback (decision 19): `certus consortium
 * init`, then one `certus serve` per member, each with its own SQLite store, master key and
 * validator key, its API on a port the system picks and its peer port from a free range.
 * `setup[i](cli)` runs on member i's store (0-based) before it starts. Resolves once every
 * member is ready (a quorum votes) and has heard where the others serve their API. The
 * last member is the regulator: its validator key is the root authority, so its `trust`
 * key speaks for it; with `accreditKyc`, it accredits the first member's default
 * institution for KYC, and the first member sees it final.
 */
export async function startConsortium({ members = 4, setup = [], accreditKyc = true, logLevel = 'warn' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'certus-consortium-'));
  const base = env => { const e = { ...process.env, RUST_LOG: logLevel, ...env }; delete e.DATABASE_URL; return e; };
  const p2pBase = await freePortRange(members);
  execFileSync(binary, ['consortium', 'init', '--members', String(members), '--out', dir,
    '--p2p-base', String(p2pBase), '--root', `node-${members}`], { env: base({}) });
  const nodes = [];
  try {
    for (let i = 0; i < members; i++) {
      const env = base({ CERTUS_DATA_DIR: join(dir, `node-${i + 1}`) });
      nodes.push(await startNode(env, { setup: setup[i], withApiKey: true, captureLogs: false }));
    }
    await Promise.all(nodes.map(node => until(`${node.base} ready with its peers' public URLs`, async () => {
      const ready = await fetch(`${node.base}/ready`);
      if (ready.status !== 200) return false;
      const peers = await (await fetch(`${node.base}/chain/peers`)).json();
      return peers.peers.every(peer => peer.publicUrl);
    })));
    if (accreditKyc) {
      const [first] = nodes;
      const regulator = nodes[nodes.length - 1];
      const issuers = await first.api('GET', '/issuers', undefined, { auth: true });
      for (const { did } of issuers.body) {
        await regulator.accreditForKyc(did);
        await until(`${did}'s accreditation final at ${first.base}`, async () => {
          const { body } = await first.api('GET', `/trust/statements?subject=${encodeURIComponent(did)}`);
          return body.length > 0;
        });
      }
    }
  } catch (e) {
    await Promise.all(nodes.map(node => node.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    nodes,
    stop: async () => {
      await Promise.all(nodes.map(node => node.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 200 ms until it holds; fails after 30 s, naming `what`. */
async function until(what, check) {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  throw new Error(`waited 30 s for ${what}`);
}

/** The first of `count` consecutive loopback ports, all free now, from a random start. */
async function freePortRange(count) {
  const free = port => new Promise(resolve => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = 20_000 + Math.floor(Math.random() * 20_000);
    let all = true;
    for (let port = start; port < start + count && all; port++) all = await free(port);
    if (all) return start;
  }
  throw new Error(`no ${count} free consecutive ports on 127.0.0.1`);
}

/**
 * One `certus serve` on loopback with `env` (its data folder among it): API keys (issue,
 * verify, status; and a `trust` key) and `setup(cli)` first, on its store. Its API helpers,
 * and `stop()`, which leaves the data folder to the caller.
 */
async function startNode(env, { setup, withApiKey, captureLogs }) {
  const cli = (args, input) => execFileSync(binary, args, { env, input }).toString().trim();
  const token = withApiKey ? cli(['api-key', 'create', '--scopes', 'issue,verify,status']) : undefined;
  const trustToken = withApiKey ? cli(['api-key', 'create', '--scopes', 'trust', '--label', 'root']) : undefined;
  if (setup) await setup(cli);
  const child = spawn(binary, ['serve', '--addr', '127.0.0.1:0',
    '--web-dir', join(root, 'frontend', 'dist')], { env, stdio: ['ignore', 'pipe', captureLogs ? 'pipe' : 'inherit'] });
  let output = '';
  let logs = '';
  child.stderr?.on('data', chunk => { logs += chunk; });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('certus did not start within 30 s')), 30_000);
    child.stdout.on('data', chunk => {
      output += chunk;
      const m = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', code => reject(new Error(`certus exited with ${code}`)));
  });
  const api = async (method, path, body, { auth = false, bearer } = {}) => {
    const headers = { 'content-type': 'application/json' };
    if (auth || bearer) headers.authorization = `Bearer ${bearer ?? token}`;
    const res = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  /** `api` as the person `email`, signed in with `password` (the session cookie and CSRF token). */
  const signedIn = async (email, password) => {
    const signIn = await fetch(`${base}/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
    });
    if (signIn.status !== 200) throw new Error(`signing in ${email}: ${await signIn.text()}`);
    const cookie = signIn.headers.get('set-cookie').split(';')[0];
    const { csrfToken } = await signIn.json();
    return async (method, path, body) => {
      const res = await fetch(base + path, {
        method, headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: body && JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
  };
  /** The root authority registers the KYC schema (once) and accredits `did` for it. */
  const accreditForKyc = async did => {
    const registered = await api('POST', '/trust/schemas', { type: 'KycCredential' }, { bearer: trustToken });
    if (registered.status !== 201 && registered.body.code !== 'SCHEMA_ALREADY_REGISTERED') {
      throw new Error(`registering the KYC schema: ${JSON.stringify(registered.body)}`);
    }
    const accredited = await api('POST', '/trust/accreditations',
      { subject: did, credentialTypes: ['KycCredential'] }, { bearer: trustToken });
    if (accredited.status !== 201) throw new Error(`accrediting ${did}: ${JSON.stringify(accredited.body)}`);
  };
  return {
    base, token, trustToken, api, signedIn, accreditForKyc, cli,
    /** What the server logged so far (with `captureLogs`). */
    logs: () => logs,
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
    issue: async (credential, format, options = {}) => {
      const { status, body } = await api('POST', '/credentials/issue', { credential, options: { format, ...options } }, { auth: true });
      if (status !== 201) throw new Error(`issue failed: ${status} ${JSON.stringify(body)}`);
      return body.verifiableCredential;
    },
    verify: verifiableCredential => api('POST', '/credentials/verify', { verifiableCredential }),
    stop: () => new Promise(resolve => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** A fresh SoftHSM2 token under `dir`, and the settings that make a node keep its keys in it. */
function softHsmToken(dir) {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const pin = 'e2e-pin-4711';
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'certus-e2e',
    '--so-pin', 'e2e-so-0815', '--pin', pin], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  return {
    SOFTHSM2_CONF: conf,
    CERTUS_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
    CERTUS_PKCS11_TOKEN: 'certus-e2e',
    CERTUS_PKCS11_PIN: pin,
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
