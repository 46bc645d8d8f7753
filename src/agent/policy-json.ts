/**
 * containers-policy.json(5): `{"default": [requirement...], "transports": {transport: {scope:
 * [requirement...]}}}`. Parsed as strictly as containers/image does (unknown or duplicated fields
 * reject the whole file), so a file podman would refuse is reported, never read as "policy OK".
 * Errors name the JSON path and its line; duplicate keys are found through the yaml parser,
 * because JSON.parse silently keeps the last one.
 */
import { LineCounter, parseDocument, isCollection, type Node } from 'yaml'
import { jsonErrorOffset } from './json-syntax.js'
import { PolicyFileError, jsonPathText, lineOfOffset, type JsonPath } from './policy-file-error.js'

export type RequirementType = 'insecureAcceptAnything' | 'reject' | 'signedBy' | 'sigstoreSigned'

export interface PolicyRequirement {
  readonly type: RequirementType
}

export interface PolicyJson {
  readonly default: readonly PolicyRequirement[]
  /** transport → scope → requirements; scope "" is the transport's default. */
  readonly transports: Readonly<Record<string, Readonly<Record<string, readonly PolicyRequirement[]>>>>
}

type Fields = Readonly<Record<string, 'string' | 'strings' | 'object' | 'bool'>>

/** The fields each requirement type may carry (containers-policy.json(5)). */
const REQUIREMENT_FIELDS: Readonly<Record<RequirementType, Fields>> = {
  insecureAcceptAnything: {},
  reject: {},
  signedBy: { keyType: 'string', keyPath: 'string', keyPaths: 'strings', keyData: 'string', signedIdentity: 'object' },
  sigstoreSigned: {
    keyPath: 'string', keyPaths: 'strings', keyData: 'string', keyDatas: 'strings', fulcio: 'object', pki: 'object',
    rekorPublicKeyPath: 'string', rekorPublicKeyPaths: 'strings', rekorPublicKeyData: 'string', rekorPublicKeyDatas: 'strings', signedIdentity: 'object',
  },
}

const KEY_SOURCES: Readonly<Record<string, readonly string[]>> = {
  signedBy: ['keyPath', 'keyPaths', 'keyData'],
  sigstoreSigned: ['keyPath', 'keyPaths', 'keyData', 'keyDatas', 'fulcio', 'pki'],
}

class Checker {
  constructor (readonly file: string, readonly locate: (path: JsonPath) => string) {}

  fail (path: JsonPath, message: string): never {
    throw new PolicyFileError(this.file, message, { location: this.locate(path) })
  }

  object (value: unknown, path: JsonPath): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'must be a JSON object')
    return value as Record<string, unknown>
  }

  requirements (value: unknown, path: JsonPath): PolicyRequirement[] {
    if (!Array.isArray(value) || value.length === 0) this.fail(path, 'must be a non-empty array of policy requirements')
    return (value as unknown[]).map((r, i) => this.requirement(r, [...path, i]))
  }

  requirement (value: unknown, path: JsonPath): PolicyRequirement {
    const obj = this.object(value, path)
    const type = obj.type
    if (typeof type !== 'string' || !(type in REQUIREMENT_FIELDS)) {
      this.fail([...path, 'type'], `unknown requirement type ${JSON.stringify(type)} (expected ${Object.keys(REQUIREMENT_FIELDS).join(', ')})`)
    }
    const fields = REQUIREMENT_FIELDS[type as RequirementType]
    for (const [key, v] of Object.entries(obj)) {
      if (key === 'type') continue
      const kind = fields[key]
      if (kind === undefined) this.fail([...path, key], `unknown field "${key}" for type ${type}`)
      if (!hasKind(v, kind)) this.fail([...path, key], `must be ${kind === 'strings' ? 'an array of strings' : `a ${kind}`}`)
    }
    const sources = KEY_SOURCES[type as string]
    if (sources !== undefined) {
      const given = sources.filter(s => s in obj)
      if (given.length !== 1) this.fail(path, `${type} needs exactly one of ${sources.join(', ')} (got ${given.length === 0 ? 'none' : given.join(', ')})`)
    }
    if (type === 'signedBy' && typeof obj.keyType !== 'string') this.fail([...path, 'keyType'], 'signedBy needs keyType (e.g. "GPGKeys")')
    return { type: type as RequirementType }
  }
}

function hasKind (value: unknown, kind: string): boolean {
  if (kind === 'string') return typeof value === 'string'
  if (kind === 'bool') return typeof value === 'boolean'
  if (kind === 'strings') return Array.isArray(value) && value.every(v => typeof v === 'string')
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function validate (raw: unknown, c: Checker): PolicyJson {
  const top = c.object(raw, [])
  for (const key of Object.keys(top)) if (key !== 'default' && key !== 'transports') c.fail([key], `unknown top-level field "${key}"`)
  if (!('default' in top)) c.fail([], 'the "default" policy is missing')
  const def = c.requirements(top.default, ['default'])
  const transports: Record<string, Record<string, PolicyRequirement[]>> = {}
  if (top.transports !== undefined) {
    for (const [name, scopes] of Object.entries(c.object(top.transports, ['transports']))) {
      transports[name] = {}
      for (const [scope, reqs] of Object.entries(c.object(scopes, ['transports', name]))) {
        transports[name][scope] = c.requirements(reqs, ['transports', name, scope])
      }
    }
  }
  return { default: def, transports }
}

function jsonSyntaxError (file: string, text: string, err: unknown): PolicyFileError {
  const message = err instanceof Error ? err.message : String(err)
  const offset = jsonErrorOffset(text)
  const location = offset === null ? null : `line ${lineOfOffset(text, offset)}`
  return new PolicyFileError(file, `not valid JSON: ${message}`, { location })
}

/** Parses policy.json text; `file` is used in messages only. */
export function parsePolicyJson (file: string, text: string): PolicyJson {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw jsonSyntaxError(file, text, err)
  }
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const duplicate = doc.errors.find(e => e.code === 'DUPLICATE_KEY')
  if (duplicate !== undefined) {
    throw new PolicyFileError(file, 'a field is duplicated (containers/image rejects such files)', { location: `line ${lines.linePos(duplicate.pos[0]).line}` })
  }
  const locate = (path: JsonPath): string => {
    const node = doc.errors.length === 0 && path.length > 0 ? doc.getIn(path, true) as Node | undefined : undefined
    const range = node !== undefined && (isCollection(node) || 'range' in node) ? node.range : undefined
    return range == null ? jsonPathText(path) : `${jsonPathText(path)}, line ${lines.linePos(range[0]).line}`
  }
  return validate(raw, new Checker(file, locate))
}
