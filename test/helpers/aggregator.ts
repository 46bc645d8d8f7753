/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl and protocol JSON is untyped here; the assertions are what check its shape */
// The aggregator on the real test bed: etcd + kube-apiserver, our manifests applied (CRDs, namespace,
// ServiceAccount, RBAC), and podsec-fim-aggregator running in-process with the ServiceAccount's own
// token, so every test also proves the shipped RBAC is enough for what the aggregator does.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { startAggregator, type Aggregator } from '../../src/aggregator/aggregator.js';
import { parseAggregatorConfig } from '../../src/aggregator/aggregator-config.js';
import { kubeFixture, run, type Kube } from './kube.js';
import { sinkLogger } from './agent.js';

export const NAMESPACE = 'podsec-fim';
const MANIFESTS = fileURLToPath(new URL('../../etc/kubernetes/', import.meta.url));
const BASE_MANIFESTS = ['00-namespace.yaml', '10-crd-fileintegrities.yaml', '11-crd-fileintegritynodestatuses.yaml', '20-serviceaccount.yaml', '21-rbac-aggregator.yaml'];

export interface NodeCreds { node: string; certFile: string; keyFile: string; cert: Buffer; key: Buffer }

export interface AggregatorBed {
  kube: Kube;
  agg: Aggregator;
  url: string;
  /** CA that signed the aggregator's serving certificate (the test bed CA). */
  caFile: string;
  dir: string;
  logs: Array<Record<string, unknown>>;
  nodeCreds(node: string): Promise<NodeCreds>;
  /** kubectl as admin; throws with stderr on a non-zero exit. */
  k(args: string[], input?: string): Promise<string>;
  getJson<T = any>(args: string[]): Promise<T>;
  post(creds: NodeCreds | { token: string } | null, path: string, body: unknown): Promise<{ status: number; json: any }>;
  get(creds: NodeCreds | { token: string } | null, path: string): Promise<{ status: number; json: any }>;
  restart(): Promise<void>;
  /** Another replica on the same cluster (own port, own identity); closed at teardown. */
  replica(identity: string): Promise<Aggregator>;
  /** Protocol calls against a given replica. */
  postTo(agg: Aggregator, creds: NodeCreds | { token: string } | null, path: string, body: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

async function issueServing(kube: Kube, dir: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, 'aggregator.crt');
  const keyFile = join(dir, 'aggregator.key');
  const r = await run('openssl', ['req', '-x509', '-config', join(kube.dir, 'openssl.cnf'), '-extensions', 'server', '-CA', kube.caFile,
    '-CAkey', join(kube.dir, 'ca.key'), '-set_serial', String(Date.now()), '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=podsec-fim-aggregator']);
  if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { certFile, keyFile };
}

export async function aggregatorBed(t: { teardown(fn: () => unknown): void }, opts: { tokenAuthFile?: string; resyncSeconds?: number } = {}): Promise<AggregatorBed> {
  const kube = await kubeFixture(t, opts.tokenAuthFile === undefined ? undefined : { extraApiserverArgs: [`--token-auth-file=${opts.tokenAuthFile}`] });
  const k = async (args: string[], input?: string): Promise<string> => {
    const r = await kube.kubectl(args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  for (const f of BASE_MANIFESTS) await k(['apply', '-f', join(MANIFESTS, f)]);
  await k(['wait', '--for=condition=established', '--timeout=60s', 'crd/fileintegrities.fileintegrity.openshift.io', 'crd/fileintegritynodestatuses.fileintegrity.openshift.io']);
  const dir = await mkdtemp(join(tmpdir(), 'podsec-fim-agg-'));
  const token = (await k(['create', 'token', 'podsec-fim-aggregator', '-n', NAMESPACE, '--duration=2h'])).trim();
  const kubeconfig = join(dir, 'aggregator.kubeconfig');
  await writeFile(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
    clusters: [{ name: 'bed', cluster: { server: kube.url, 'certificate-authority': kube.caFile } }],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'bed', user: 'sa' } }],
  }));
  const serving = await issueServing(kube, dir);
  const config = parseAggregatorConfig({
    host: '127.0.0.1', port: 0, tls: serving, kubeconfig, namespace: NAMESPACE, identity: 'test-replica', resyncSeconds: opts.resyncSeconds ?? 1, leaseSeconds: 4,
  }, {});
  let port = 0;
  const logs: Array<Record<string, unknown>> = [];
  const bed: AggregatorBed = {
    kube, dir, logs, caFile: kube.caFile, url: '', agg: undefined as unknown as Aggregator,
    async nodeCreds(node) {
      const c = await kube.makeClientCert(`system:node:${node}`, ['system:nodes']);
      const { readFile } = await import('node:fs/promises');
      return { node, certFile: c.certFile, keyFile: c.keyFile, cert: await readFile(c.certFile), key: await readFile(c.keyFile) };
    },
    k,
    async getJson(args) { return JSON.parse(await k([...args, '-o', 'json'])); },
    post: (creds, path, body) => call(bed, creds, 'POST', path, body),
    get: (creds, path) => call(bed, creds, 'GET', path),
    async restart() {
      await bed.stop();
      bed.agg = await startAggregator({ ...config, port }, { log: sinkLogger(logs), now: Date.now, env: {} });
    },
    async stop() { await bed.agg?.close(); },
    async replica(identity) {
      const other = await startAggregator({ ...config, identity }, { log: sinkLogger(logs), now: Date.now, env: {} });
      t.teardown(() => other.close());
      return other;
    },
    postTo: (agg, creds, path, body) => call({ ...bed, url: `https://127.0.0.1:${agg.port}` }, creds, 'POST', path, body),
  };
  bed.agg = await startAggregator(config, { log: sinkLogger(logs), now: Date.now, env: {} });
  port = bed.agg.port;
  bed.url = `https://127.0.0.1:${port}`;
  t.teardown(() => bed.stop());
  return bed;
}

async function call(bed: AggregatorBed, creds: NodeCreds | { token: string } | null, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const { readFile } = await import('node:fs/promises');
  const ca = await readFile(bed.caFile);
  const tls = creds !== null && 'cert' in creds ? { ca, cert: creds.cert, key: creds.key } : { ca };
  const dispatcher = new Agent({ connect: tls });
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (creds !== null && 'token' in creds) headers.authorization = `Bearer ${creds.token}`;
    const res = await request(`${bed.url}${path}`, { method, headers, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)), dispatcher });
    const text = await res.body.text();
    let json: unknown = text;
    try { json = JSON.parse(text); } catch { /* metrics and health are text */ }
    return { status: res.statusCode, json };
  } finally {
    await dispatcher.close();
  }
}

/** Polls `probe` until it returns a value that is not undefined; fails with `what` after the deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) { lastErr = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr === undefined ? '' : `: ${(lastErr as Error).message}`}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
