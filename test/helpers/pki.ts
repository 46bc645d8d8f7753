// A throwaway certificate authority for tests (the kube test bed, the protocol stub): openssl run
// from argument arrays with our own config, so the system openssl.cnf never turns a leaf into a CA.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** openssl with an argument array; a failure names the command and carries its stderr. */
async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`);
  }
}

// openssl -subj syntax: '/' separates RDNs, so escape it (and the other specials) inside values.
export const rdn = (key: string, value: string) => `/${key}=${value.replace(/[\\/+=]/g, '\\$&')}`;

const OPENSSL_CONF = `[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`;

export class Pki {
  private serial = 1;
  constructor(private readonly dir: string) {}
  get conf() { return join(this.dir, 'openssl.cnf'); }
  get caCert() { return join(this.dir, 'ca.crt'); }
  get caKey() { return join(this.dir, 'ca.key'); }

  async init(): Promise<void> {
    // Our own config, so the system openssl.cnf's default extensions never turn a leaf into a CA.
    await writeFile(this.conf, OPENSSL_CONF);
    await this.req('ca', this.caKey, this.caCert, rdn('CN', 'podsec-fim-testbed-ca'), []);
  }

  /** A CA-signed certificate with a fresh P-256 key; OpenSSL 3's `req -CA` signs in one step. */
  async issue(base: string, ext: 'server' | 'client', subject: string): Promise<{ certFile: string; keyFile: string }> {
    const certFile = join(this.dir, `${base}.crt`);
    const keyFile = join(this.dir, `${base}.key`);
    await this.req(ext, keyFile, certFile, subject, ['-CA', this.caCert, '-CAkey', this.caKey, '-set_serial', String(++this.serial)]);
    return { certFile, keyFile };
  }

  private req(ext: string, keyFile: string, certFile: string, subject: string, signer: string[]): Promise<void> {
    return openssl(['req', '-x509', '-config', this.conf, '-extensions', ext, ...signer, '-newkey', 'ec',
      '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', subject]);
  }
}

