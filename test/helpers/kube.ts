// A real Kubernetes control plane for tests: etcd + kube-apiserver built from Go modules by
// test/testbed/build.sh, started on loopback with generated certificates, Node,RBAC authorization,
// NodeRestriction admission and a podsec-like audit policy (podsec-original.md §7.1).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pki, rdn } from './pki.js';

export interface RunResult { code: number; stdout: string; stderr: string }
export interface ClientCert { certFile: string; keyFile: string; kubeconfig: string }
export interface KubectlOptions { kubeconfig?: string; input?: string; timeoutMs?: number }
export interface KubeOptions {
  auditPolicy?: string; // YAML; defaults to PODSEC_AUDIT_POLICY
  extraApiserverArgs?: string[];
  readyTries?: number; // polls of /readyz, 500 ms apart
}
export interface Kube {
  kubeconfig: string; url: string; caFile: string; auditLogPath: string; binDir: string;
  dir: string; pids: { etcd: number; apiserver: number };
  makeClientCert(name: string, groups: string[]): Promise<ClientCert>;
  createNode(name: string, labels?: Record<string, string>): Promise<void>;
  kubectl(args: string[], opts?: KubectlOptions): Promise<RunResult>;
  close(): Promise<void>;
}

// podsec's /etc/podsec/u7s/audit/policy.yaml as described in podsec-original.md §7.1. Note what it
// implies for tests: requests by system:masters, system:nodes and service accounts are never audited.
export const PODSEC_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/logs", "/metrics", "/swagger*", "/version", "/readyz", "/livez"]
- level: None
  users: ["system:kube-scheduler", "system:kube-proxy", "system:apiserver", "system:kube-controller-manager", "system:serviceaccount:gatekeeper-system:gatekeeper-admin"]
- level: None
  userGroups: ["system:nodes", "system:serviceaccounts", "system:masters"]
- level: Metadata
  resources: [{group: "authentication.k8s.io", resources: ["tokenreviews"]}]
  omitStages: ["RequestReceived"]
- level: RequestResponse
  resources: [{group: "authorization.k8s.io", resources: ["subjectaccessreviews"]}]
  omitStages: ["RequestReceived"]
- level: RequestResponse
  verbs: ["create", "patch", "update", "delete"]
  resources: [{group: "", resources: ["pods"]}]
  omitStages: ["RequestReceived"]
- level: Metadata
  omitStages: ["RequestReceived"]
`;

const BUILD_SCRIPT = fileURLToPath(new URL('../testbed/build.sh', import.meta.url));
const BINARIES = ['etcd', 'kube-apiserver', 'kubectl'];
const STOP_GRACE_MS = 10_000;

/** Runs a program (argument array, no shell); resolves with its exit code and output, never rejects on exit code. */
export function run(cmd: string, args: string[], opts: KubectlOptions & { env?: NodeJS.ProcessEnv; echoStderr?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); if (opts.echoStderr) process.stderr.write(d); });
    child.on('error', (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

async function mustRun(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

let binDirPromise: Promise<string> | undefined;

/** PODSEC_FIM_TESTBED_BIN, else whatever build.sh reports (it is fast when cached). Never skips: throws. */
export function locateBinDir(): Promise<string> {
  binDirPromise ??= findBinDir();
  return binDirPromise;
}

async function findBinDir(): Promise<string> {
  let dir = process.env.PODSEC_FIM_TESTBED_BIN;
  if (!dir) {
    // build.sh's progress is echoed so a cold build shows what it is doing; no timeout (cold: minutes).
    const r = await run('bash', [BUILD_SCRIPT], { timeoutMs: 0, echoStderr: true });
    if (r.code !== 0) {
      const lines = r.stderr.trim().split('\n');
      const why = lines.filter((l) => l.includes('FAILED at step')).pop() ?? lines.slice(-5).join('\n');
      throw new Error(`kube test bed: ${BUILD_SCRIPT} exited ${r.code}: ${why}`);
    }
    const last = r.stdout.trim().split('\n').pop() ?? '';
    if (!last.startsWith('PODSEC_FIM_TESTBED_BIN=')) throw new Error(`kube test bed: ${BUILD_SCRIPT} did not print PODSEC_FIM_TESTBED_BIN=<dir> last (got "${last}")`);
    dir = last.slice('PODSEC_FIM_TESTBED_BIN='.length);
  }
  const missing = BINARIES.filter((b) => !existsSync(join(dir, b)));
  if (missing.length) throw new Error(`kube test bed: ${missing.join(', ')} missing in ${dir}`);
  return dir;
}

/** Distinct free loopback ports: all listeners stay open until every port is chosen, so none repeats. */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(0, '127.0.0.1', resolve); });
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

function kubeconfigJson(url: string, caFile: string, user: string, certFile: string, keyFile: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'testbed',
    clusters: [{ name: 'testbed', cluster: { server: url, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { 'client-certificate': certFile, 'client-key': keyFile } }],
    contexts: [{ name: 'testbed', context: { cluster: 'testbed', user } }],
  });
}

/** A control-plane process whose output is kept (last 64 KiB) for error messages. */
class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private out = '';
  private spawnFailed = false;
  constructor(readonly name: string, bin: string, args: string[]) {
    this.child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => { this.out = (this.out + d.toString()).slice(-65_536); };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.once('error', (err) => { this.spawnFailed = true; this.out += `\nspawn error: ${err.message}`; });
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }
  get running(): boolean { return !this.spawnFailed && this.child.exitCode === null && this.child.signalCode === null; }
  tail(lines = 30): string { return `--- ${this.name} output (tail) ---\n${this.out.trimEnd().split('\n').slice(-lines).join('\n')}`; }
  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    this.child.kill('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, STOP_GRACE_MS, 'timeout').unref());
    if (await Promise.race([this.exited, timer]) === 'timeout') this.child.kill('SIGKILL');
    await this.exited;
  }
}

// Safety net for a test process that exits without close(): never leave a control plane behind.
const live = new Set<Proc>();
const liveDirs = new Set<string>();
process.on('exit', () => {
  for (const p of live) p.child.kill('SIGKILL');
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
});

// A bed that is starting names its step, so a run whose event loop empties midway (once seen in CI,
// not reproduced) says where it stood and what was still open, instead of only "test unfinished".
const starting = new Map<string, string>();
process.on('beforeExit', () => {
  for (const [dir, step] of starting) {
    process.stderr.write(`[kube test bed] the event loop emptied while ${dir} was at: ${step}; open: ${process.getActiveResourcesInfo().join(', ') || 'nothing'}\n`);
  }
});

function httpsGet(url: string, tls: { ca: string; cert: string; key: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitReady(url: string, tls: { ca: string; cert: string; key: string }, procs: Proc[], tries: number): Promise<void> {
  let last = 'no answer';
  for (let i = 0; i < tries; i++) {
    const dead = procs.find((p) => !p.running);
    if (dead) throw new Error(`kube test bed: ${dead.name} exited (code ${dead.child.exitCode}, signal ${dead.child.signalCode}) before ${url}/readyz was ok\n${dead.tail()}`);
    try {
      const r = await httpsGet(`${url}/readyz`, tls);
      if (r.status === 200) return;
      last = `HTTP ${r.status}: ${r.body.slice(0, 2000)}`;
    } catch (err) { last = (err as Error).message; }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`kube test bed: ${url}/readyz not ok after ${tries} tries (last: ${last})\n${procs.map((p) => p.tail()).join('\n')}`);
}

function etcdArgs(dir: string, client: number, peer: number): string[] {
  const c = `http://127.0.0.1:${client}`;
  const p = `http://127.0.0.1:${peer}`;
  return [`--name=testbed`, `--data-dir=${join(dir, 'etcd')}`, `--listen-client-urls=${c}`, `--advertise-client-urls=${c}`,
    `--listen-peer-urls=${p}`, `--initial-advertise-peer-urls=${p}`, `--initial-cluster=testbed=${p}`,
    // A throwaway store: durability is worthless here and fsync is the slowest part of etcd.
    '--unsafe-no-fsync', '--log-level=warn'];
}

function apiserverArgs(dir: string, port: number, etcdPort: number, serving: { certFile: string; keyFile: string }, pki: Pki): string[] {
  return [`--etcd-servers=http://127.0.0.1:${etcdPort}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
    `--secure-port=${port}`, `--cert-dir=${join(dir, 'apiserver-certs')}`, `--tls-cert-file=${serving.certFile}`,
    `--tls-private-key-file=${serving.keyFile}`, `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
    // No controller-manager runs, so no namespace ever gets a default ServiceAccount to admit pods with.
    '--disable-admission-plugins=ServiceAccount', '--allow-privileged=true',
    '--service-cluster-ip-range=10.0.0.0/24', `--service-account-issuer=https://127.0.0.1:${port}`,
    `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${join(dir, 'audit.log')}`,
    '--audit-log-format=json', '--profiling=false'];
}

/** Starts etcd + kube-apiserver in a fresh temp dir; resolves once /readyz is ok. */
export async function startKube(opts: KubeOptions = {}): Promise<Kube> {
  const t0 = Date.now();
  const binDir = await locateBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'podsec-fim-kube-'));
  liveDirs.add(dir);
  const step = (what: string) => { starting.set(dir, what); };
  const procs: Proc[] = [];
  const close = async () => {
    for (const p of [...procs].reverse()) await p.stop(); // apiserver first, then its storage
    await rm(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };
  try {
    step('pki');
    const pki = new Pki(dir);
    await pki.init();
    const serving = await pki.issue('apiserver', 'server', rdn('CN', 'kube-apiserver'));
    const admin = await pki.issue('admin', 'client', rdn('CN', 'testbed-admin') + rdn('O', 'system:masters'));
    step('service account key');
    await mustRun('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(dir, 'sa.key')]);
    await mustRun('openssl', ['pkey', '-in', join(dir, 'sa.key'), '-pubout', '-out', join(dir, 'sa.pub')]);
    await writeFile(join(dir, 'audit-policy.yaml'), opts.auditPolicy ?? PODSEC_AUDIT_POLICY);

    step('ports');
    const [etcdPort, peerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const url = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfig, kubeconfigJson(url, pki.caCert, 'testbed-admin', admin.certFile, admin.keyFile));

    procs.push(new Proc('etcd', join(binDir, 'etcd'), etcdArgs(dir, etcdPort, peerPort)));
    const apiArgs = [...apiserverArgs(dir, apiPort, etcdPort, serving, pki), ...(opts.extraApiserverArgs ?? [])];
    procs.push(new Proc('kube-apiserver', join(binDir, 'kube-apiserver'), apiArgs));
    const tls = { ca: await readFile(pki.caCert, 'utf8'), cert: await readFile(admin.certFile, 'utf8'), key: await readFile(admin.keyFile, 'utf8') };
    step('waiting for /readyz');
    await waitReady(url, tls, procs, opts.readyTries ?? 180);
    starting.delete(dir);
    process.stderr.write(`[kube test bed] ready at ${url} in ${Date.now() - t0} ms (dir ${dir})\n`);

    const kubectl = (args: string[], o: KubectlOptions = {}) => {
      const env = { ...process.env };
      delete env.KUBECONFIG; // only the bed's kubeconfig may be used
      // Discovery is cached per server address in ~/.kube/cache; ports repeat across beds, so a
      // stale cache could name kinds this bed does not have. Each bed gets its own cache.
      return run(join(binDir, 'kubectl'), [`--kubeconfig=${o.kubeconfig ?? kubeconfig}`, `--cache-dir=${join(dir, 'kubectl-cache')}`, ...args], { env, input: o.input, timeoutMs: o.timeoutMs });
    };
    let users = 0;
    return {
      kubeconfig, url, caFile: pki.caCert, auditLogPath: join(dir, 'audit.log'), binDir, dir,
      pids: { etcd: procs[0]!.child.pid!, apiserver: procs[1]!.child.pid! },
      kubectl,
      async makeClientCert(name, groups) {
        const base = `user${++users}`;
        const subject = rdn('CN', name) + groups.map((g) => rdn('O', g)).join('');
        const cert = await pki.issue(base, 'client', subject);
        const userKubeconfig = join(dir, `${base}.kubeconfig`);
        await writeFile(userKubeconfig, kubeconfigJson(url, pki.caCert, name, cert.certFile, cert.keyFile));
        return { ...cert, kubeconfig: userKubeconfig };
      },
      async createNode(name, labels = {}) {
        const node = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } };
        const r = await kubectl(['create', '-f', '-'], { input: JSON.stringify(node) });
        if (r.code !== 0) throw new Error(`kube test bed: creating Node ${name} failed: ${r.stderr.trim()}`);
      },
      close,
    };
  } catch (err) {
    step(`closing after: ${(err as Error).message}`);
    await close();
    starting.delete(dir);
    throw err;
  }
}

/** The audit log's complete lines: a line kube-apiserver is still writing (no newline yet) waits for the next read. */
export function auditLines(path: string): string[] {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
}

/** tap fixture: starts the bed and stops it when the test ends. */
export async function kubeFixture(t: { teardown(fn: () => unknown): void }, opts?: KubeOptions): Promise<Kube> {
  const kube = await startKube(opts);
  t.teardown(() => kube.close());
  return kube;
}
