/**
 * A containers/storage root (overlay driver) on disk, in the format containers/storage writes:
 * overlay-containers/containers.json (podman) and volatile-containers.json (CRI-O creates its
 * containers volatile), overlay-layers/layers.json, overlay/<layer>/diff. No container runtime
 * runs here, so these files are the boundary; the watcher reads and watches them for real.
 * Also: array-backed FindingSink/SyslogSink and a polling wait.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { FindingInput, FindingSink, SyslogPriority, SyslogSink } from '../../src/agent/finding-types.js'

export const hexId = (seed: string): string => createHash('sha256').update(seed).digest('hex')

export interface FakeContainer {
  readonly id: string
  readonly layer: string
  readonly names: string[]
  readonly metadata: Record<string, unknown>
  readonly volatile: boolean
}

export class RecordingFindings implements FindingSink {
  readonly findings: FindingInput[] = []
  record (finding: FindingInput): number {
    this.findings.push(finding)
    return this.findings.length
  }
}

export class RecordingSyslog implements SyslogSink {
  readonly lines: Array<{ tag: string, priority: SyslogPriority, message: string }> = []
  write (tag: string, priority: SyslogPriority, message: string): void {
    this.lines.push({ tag, priority, message })
  }
}

export async function until<T> (what: string, probe: () => T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = probe()
    if (v !== null && v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** containers/storage saves with AtomicWriteFile: a temp file renamed over the old one. */
function atomicWrite (path: string, data: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(data), { mode: 0o600 })
  renameSync(`${path}.tmp`, path)
}

export class FakeStorage {
  readonly root: string
  readonly imageLayer = hexId('image-top-layer')
  readonly containers: FakeContainer[] = []

  constructor (root: string) {
    this.root = root
    for (const d of ['overlay-containers', 'overlay-layers', 'overlay-images', 'overlay/l']) mkdirSync(join(root, d), { recursive: true })
    this.writeFiles(this.diff(this.imageLayer), { 'usr/bin/app': '#!/bin/sh\n', 'etc/app.conf': 'x=1\n' })
  }

  diff (layer: string): string {
    return join(this.root, 'overlay', layer, 'diff')
  }

  writeFiles (dir: string, files: Record<string, string>): void {
    mkdirSync(dir, { recursive: true })
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true })
      writeFileSync(join(dir, name), content)
    }
  }

  /** A podman container: containers.json, metadata = libpod's RuntimeContainerMetadata. */
  addPodman (name: string, files: Record<string, string> = {}): FakeContainer {
    return this.add({ id: hexId(`ctr-${name}`), layer: hexId(`layer-${name}`), names: [name], volatile: false,
      metadata: { 'image-name': 'docker.io/library/alpine:latest', 'image-id': hexId('image'), name, 'created-at': 1763900000 } }, files)
  }

  /** A CRI-O pod: its sandbox (pause) and one container, in volatile-containers.json. */
  addCrioPod (pod: string, namespace: string, container: string, files: Record<string, string> = {}): { sandbox: FakeContainer, container: FakeContainer } {
    const uid = '3f0c2a9e-1b7d-4c55-9d0e-2a6b8f1c7e44'
    const podName = `k8s_${pod}_${namespace}_${uid}_0`
    const podId = hexId(`sandbox-${pod}`)
    const sandbox = this.add({ id: podId, layer: hexId(`layer-sandbox-${pod}`), names: [`k8s_POD_${pod}_${namespace}_${uid}_0`, podName], volatile: true,
      metadata: { 'pod-name': podName, 'pod-id': podId, 'image-name': 'registry.k8s.io/pause:3.10', 'image-id': hexId('pause'), name: `k8s_POD_${pod}_${namespace}_${uid}_0`, 'metadata-name': pod, uid, namespace, 'created-at': 1763900000, pod: true } }, {})
    const ctr = this.add({ id: hexId(`ctr-${pod}-${container}`), layer: hexId(`layer-${pod}-${container}`), names: [`k8s_${container}_${pod}_${namespace}_${uid}_0`], volatile: true,
      metadata: { 'pod-name': podName, 'pod-id': podId, 'image-name': 'docker.io/library/nginx:1.27', 'image-id': hexId('nginx'), name: `k8s_${container}_${pod}_${namespace}_${uid}_0`, 'metadata-name': container, 'created-at': 1763900001 } }, files)
    return { sandbox, container: ctr }
  }

  add (c: FakeContainer, files: Record<string, string>): FakeContainer {
    this.writeFiles(this.diff(c.layer), files)
    for (const d of ['work', 'merged']) mkdirSync(join(this.root, 'overlay', c.layer, d), { recursive: true })
    writeFileSync(join(this.root, 'overlay', c.layer, 'link'), c.layer.slice(0, 26).toUpperCase())
    this.containers.push(c)
    this.save()
    return c
  }

  remove (id: string): void {
    const i = this.containers.findIndex(c => c.id === id)
    if (i >= 0) this.containers.splice(i, 1)
    this.save()
  }

  save (): void {
    const record = (c: FakeContainer) => ({
      id: c.id, names: c.names, image: hexId('image'), layer: c.layer, metadata: JSON.stringify(c.metadata),
      'big-data-names': ['config.json'], 'big-data-sizes': { 'config.json': 4096 }, 'big-data-digests': { 'config.json': `sha256:${hexId(c.id)}` },
      created: '2026-11-23T16:00:00.000000000Z', flags: c.volatile ? { MountLabel: '', ProcessLabel: '', Volatile: true } : { MountLabel: '', ProcessLabel: '' },
    })
    atomicWrite(join(this.root, 'overlay-containers', 'containers.json'), this.containers.filter(c => !c.volatile).map(record))
    atomicWrite(join(this.root, 'overlay-containers', 'volatile-containers.json'), this.containers.filter(c => c.volatile).map(record))
    const layers = [
      { id: this.imageLayer, created: '2026-11-20T10:00:00Z', 'compressed-diff-digest': `sha256:${hexId('blob')}`, 'compressed-size': 3623807, 'diff-digest': `sha256:${hexId('diff')}`, 'diff-size': 8461312, compression: 2, uidset: [0], gidset: [0] },
      ...this.containers.map(c => ({ id: c.layer, names: [`${c.names[0]}-layer`], parent: this.imageLayer, created: '2026-11-23T16:00:00Z' })),
    ]
    atomicWrite(join(this.root, 'overlay-layers', 'layers.json'), layers)
  }
}
