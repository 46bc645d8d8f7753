/**
 * Reads a containers/storage root (overlay driver) as containers/storage lays it out:
 *   overlay-containers/containers.json and volatile-containers.json (CRI-O creates its containers
 *   with `Volatile: true`, so on a u7s node they are in the second file),
 *   overlay-layers/layers.json and volatile-layers.json,
 *   overlay/<layer id>/diff: the layer's files; for a container's read-write layer, its upper dir.
 * Only containers are mapped, never image layers. Names, pod and namespace come from the
 * container's `metadata` string, which CRI-O and podman fill with their RuntimeContainerMetadata
 * JSON (`pod-name`, `pod-id`, `name`, `metadata-name`, and on a sandbox `namespace`, `pod`).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '../core/errors.js'

export interface ContainerRecord {
  readonly id: string
  /** The Kubernetes container name (CRI-O `metadata-name`; `POD` for a sandbox) or the podman name. */
  readonly name: string
  readonly names: readonly string[]
  readonly layer: string
  readonly upperDir: string
  readonly pod: string | null
  readonly namespace: string | null
  readonly image: string | null
  /** The pod's infrastructure (pause) container. */
  readonly infra: boolean
}

export interface StorageMap {
  readonly containers: readonly ContainerRecord[]
  /** Containers whose read-write layer layers.json does not know: listed, not watched. */
  readonly unknownLayers: readonly string[]
}

/** containers/storage ids are 64 lower-case hex digits (stringid.ValidateID); they become path parts. */
const ID = /^[0-9a-f]{64}$/

export const STORAGE_FILES = {
  containers: ['overlay-containers', 'containers.json'],
  volatileContainers: ['overlay-containers', 'volatile-containers.json'],
  layers: ['overlay-layers', 'layers.json'],
  volatileLayers: ['overlay-layers', 'volatile-layers.json'],
} as const

type Json = Record<string, unknown>

function invalid (file: string, field: string, why: string): AppError {
  return new AppError('PFIM_CONTAINER_STORAGE_INVALID', `${file}: ${field}: ${why}`, { where: `${file}: ${field}` })
}

/** A missing or empty file is an empty list, as containers/storage itself reads it. */
function readList (file: string): Json[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new AppError('PFIM_CONTAINER_STORAGE_INVALID', `${file}: cannot be read (${(err as Error).message})`, { where: file, cause: err })
  }
  if (text.trim() === '') return []
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw invalid(file, '(top level)', `not JSON (${(err as Error).message})`)
  }
  if (!Array.isArray(raw)) throw invalid(file, '(top level)', 'not a JSON array')
  return raw.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalid(file, `[${i}]`, 'not a JSON object')
    return entry as Json
  })
}

function id (file: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || !ID.test(v)) throw invalid(file, field, 'expected a 64-hex-digit id')
  return v
}

function optionalString (file: string, field: string, v: unknown): string | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') throw invalid(file, field, 'expected a string')
  return v
}

function names (file: string, field: string, v: unknown): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || !v.every(n => typeof n === 'string')) throw invalid(file, field, 'expected an array of strings')
  return v as string[]
}

interface RawContainer { id: string, names: string[], layer: string, meta: Json }

/** The metadata string is the runtime's own; it is used only when it is a JSON object. */
function metadata (file: string, field: string, v: unknown): Json {
  const text = optionalString(file, field, v)
  if (text === null) return {}
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Json : {}
  } catch {
    return {}
  }
}

function rawContainers (file: string): RawContainer[] {
  return readList(file).map((c, i) => {
    const meta = metadata(file, `[${i}].metadata`, c.metadata)
    for (const key of ['pod-name', 'pod-id', 'name', 'metadata-name', 'namespace', 'image-name']) optionalString(file, `[${i}].metadata.${key}`, meta[key])
    if (meta.pod !== undefined && typeof meta.pod !== 'boolean') throw invalid(file, `[${i}].metadata.pod`, 'expected a boolean')
    return { id: id(file, `[${i}].id`, c.id), names: names(file, `[${i}].names`, c.names), layer: id(file, `[${i}].layer`, c.layer), meta }
  })
}

function layerIds (file: string): string[] {
  return readList(file).map((l, i) => id(file, `[${i}].id`, l.id))
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** CRI-O's sandbox name is `k8s_<pod>_<namespace>_<uid>_<attempt>`; pod and namespace are DNS names without `_`. */
function fromSandboxName (podName: string | null): { pod: string, namespace: string } | null {
  const parts = podName?.split('_') ?? []
  return parts.length === 5 && parts[0] === 'k8s' ? { pod: parts[1] as string, namespace: parts[2] as string } : null
}

function podOf (c: RawContainer, byId: ReadonlyMap<string, RawContainer>): { pod: string | null, namespace: string | null } {
  const sandbox = c.meta.pod === true ? c : byId.get(str(c.meta['pod-id']) ?? '')
  if (sandbox !== undefined && str(sandbox.meta.namespace) !== null) {
    return { pod: str(sandbox.meta['metadata-name']), namespace: str(sandbox.meta.namespace) }
  }
  return fromSandboxName(str(c.meta['pod-name'])) ?? { pod: null, namespace: null }
}

export function readStorage (root: string): StorageMap {
  const file = (parts: readonly string[]): string => join(root, ...parts)
  const raw = [...rawContainers(file(STORAGE_FILES.containers)), ...rawContainers(file(STORAGE_FILES.volatileContainers))]
  const layers = new Set([...layerIds(file(STORAGE_FILES.layers)), ...layerIds(file(STORAGE_FILES.volatileLayers))])
  const byId = new Map(raw.map(c => [c.id, c]))
  const containers: ContainerRecord[] = []
  const unknownLayers: string[] = []
  for (const c of byId.values()) {
    if (!layers.has(c.layer)) {
      unknownLayers.push(c.id)
      continue
    }
    containers.push({
      id: c.id,
      // CRI-O names a sandbox's infra container `k8s_POD_…` (oci.InfraContainerName); its metadata-name is the pod's.
      name: c.meta.pod === true ? 'POD' : str(c.meta['metadata-name']) ?? c.names[0] ?? str(c.meta.name) ?? c.id.slice(0, 12),
      names: c.names,
      layer: c.layer,
      upperDir: join(root, 'overlay', c.layer, 'diff'),
      ...podOf(c, byId),
      image: str(c.meta['image-name']),
      infra: c.meta.pod === true,
    })
  }
  return { containers, unknownLayers }
}
