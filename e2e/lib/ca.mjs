// A certification authority made with the `openssl` command, an implementation of X.509 of
// its own: roots, and certificates issued from signing requests, as files in a folder.
import { execFileSync } from 'node:child_process';

/** `openssl` (the command) with `args` in `dir`; what it printed. */
export const openssl = (dir, ...args) =>
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** A self-signed P-256 CA certificate in `dir`, as `name`.pem and `name`.key. */
export const opensslRoot = (dir, name) => openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
  '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', '/CN=E2E Verifier Root', '-days', '30',
  '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');

/** The certificate root `root` (in `dir`) issues from the signing request `name`.csr, with
 * the extensions it asks for, as `name`.pem. */
export const opensslIssue = (dir, name, root) => openssl(dir, 'x509', '-req', '-in', `${name}.csr`,
  '-CA', `${root}.pem`, '-CAkey', `${root}.key`, '-CAcreateserial', '-days', '30', '-copy_extensions', 'copy',
  '-out', `${name}.pem`);
