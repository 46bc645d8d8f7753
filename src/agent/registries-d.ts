/**
 * containers-registries.d(5): every `*.yaml` in the directory (podsec read only default.yaml),
 * merged as containers/image merges them: at most one `default-docker` section across all
 * files and each `docker` scope in one file only; a conflict is an error naming both files.
 * `sigstore`/`sigstore-staging` are the older names of `lookaside`/`lookaside-staging`.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LineCounter, parseDocument, isMap, isScalar, type Document, type Node } from 'yaml'
import { PolicyFileError, isMissing } from './policy-file-error.js'

export interface SignatureSection {
  readonly lookaside: string | null
  readonly lookasideStaging: string | null
  readonly useSigstoreAttachments: boolean | null
}

export interface RegistriesConfig {
  readonly defaultDocker: SignatureSection | null
  readonly docker: Readonly<Record<string, SignatureSection>>
  /** The files merged, sorted by name. */
  readonly files: readonly string[]
}

export interface FileConfig {
  defaultDocker: SignatureSection | null
  readonly docker: Record<string, SignatureSection>
}

function lineOf (node: Node | null | undefined, lines: LineCounter): string | null {
  const range = node?.range
  return range == null ? null : `line ${lines.linePos(range[0]).line}`
}

function parseSection (file: string, node: unknown, lines: LineCounter, what: string): SignatureSection {
  if (!isMap(node)) throw new PolicyFileError(file, `${what} must be a mapping`, { location: lineOf(node as Node, lines) })
  const values: Record<string, string | boolean> = {}
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    const value = isScalar(pair.value) ? pair.value.value : undefined
    const location = lineOf(pair.key as Node, lines)
    const isBoolKey = key === 'use-sigstore-attachments'
    if (!['lookaside', 'lookaside-staging', 'sigstore', 'sigstore-staging', 'use-sigstore-attachments'].includes(key)) {
      throw new PolicyFileError(file, `unknown key "${key}" in ${what}`, { location })
    }
    if (isBoolKey ? typeof value !== 'boolean' : typeof value !== 'string') {
      throw new PolicyFileError(file, `${what}.${key} must be ${isBoolKey ? 'true or false' : 'a URL string'}`, { location })
    }
    values[key] = value as string | boolean
  }
  for (const [now, old] of [['lookaside', 'sigstore'], ['lookaside-staging', 'sigstore-staging']] as const) {
    if (now in values && old in values) throw new PolicyFileError(file, `${what} sets both ${now} and its old name ${old}`, { location: lineOf(node, lines) })
  }
  const text = (k: string, alt: string): string | null => (values[k] ?? values[alt] ?? null) as string | null
  return { lookaside: text('lookaside', 'sigstore'), lookasideStaging: text('lookaside-staging', 'sigstore-staging'), useSigstoreAttachments: (values['use-sigstore-attachments'] ?? null) as boolean | null }
}

function parseTop (file: string, doc: Document, lines: LineCounter): FileConfig {
  const out: FileConfig = { defaultDocker: null, docker: {} }
  if (doc.contents === null) return out
  if (!isMap(doc.contents)) throw new PolicyFileError(file, 'the document must be a YAML mapping', { location: lineOf(doc.contents, lines) })
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    if (key === 'default-docker') {
      out.defaultDocker = parseSection(file, pair.value, lines, 'default-docker')
    } else if (key === 'docker') {
      if (pair.value === null) continue
      if (!isMap(pair.value)) throw new PolicyFileError(file, 'docker must be a mapping of scopes', { location: lineOf(pair.key as Node, lines) })
      for (const scope of pair.value.items) {
        const name = isScalar(scope.key) ? String(scope.key.value) : ''
        out.docker[name] = parseSection(file, scope.value, lines, `docker.${name}`)
      }
    } else {
      throw new PolicyFileError(file, `unknown top-level key "${key}" (expected default-docker, docker)`, { location: lineOf(pair.key as Node, lines) })
    }
  }
  return out
}

/** Parses one registries.d YAML file's text. */
export function parseRegistriesYaml (file: string, text: string): FileConfig {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const first = doc.errors[0]
  if (first !== undefined) {
    throw new PolicyFileError(file, `not valid YAML: ${first.message.split('\n')[0] ?? ''}`, { location: `line ${lines.linePos(first.pos[0]).line}` })
  }
  return parseTop(file, doc, lines)
}

function merge (parsed: ReadonlyArray<readonly [string, FileConfig]>): RegistriesConfig {
  let defaultDocker: SignatureSection | null = null
  let defaultFrom = ''
  const docker: Record<string, SignatureSection> = {}
  const from: Record<string, string> = {}
  for (const [file, cfg] of parsed) {
    if (cfg.defaultDocker !== null) {
      if (defaultDocker !== null) throw new PolicyFileError(file, `default-docker is already set in ${defaultFrom} (at most one per directory)`)
      defaultDocker = cfg.defaultDocker
      defaultFrom = file
    }
    for (const [scope, section] of Object.entries(cfg.docker)) {
      if (scope in docker) throw new PolicyFileError(file, `docker scope "${scope}" is already set in ${from[scope]} (one file per scope)`)
      docker[scope] = section
      from[scope] = file
    }
  }
  return { defaultDocker, docker, files: parsed.map(([f]) => f) }
}

/** Reads and merges every `*.yaml` in `dir`; a missing directory is an empty configuration. */
export async function readRegistriesDir (dir: string): Promise<RegistriesConfig> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter(n => n.endsWith('.yaml')).sort()
  } catch (err) {
    if (isMissing(err)) return { defaultDocker: null, docker: {}, files: [] }
    throw new PolicyFileError(dir, `cannot list the directory: ${(err as Error).message}`, { isUnreadable: true, cause: err })
  }
  const parsed: Array<readonly [string, FileConfig]> = []
  for (const name of names) {
    const file = join(dir, name)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      throw new PolicyFileError(file, `cannot read: ${(err as Error).message}`, { isUnreadable: true, cause: err })
    }
    parsed.push([file, parseRegistriesYaml(file, text)])
  }
  return merge(parsed)
}
