/**
 * A strict little parser of the Prometheus text format 0.0.4, written independently of
 * src/core/metrics.ts so the tests can read the exposition back (promtool checks it too).
 */

export interface Sample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}

export interface ParsedFamily {
  type: string | undefined
  help: string | undefined
  samples: Sample[]
}

const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped']

function unescape (text: string, allowed: string, line: number): string {
  return text.replace(/\\(.)/g, (_m, c: string) => {
    if (!allowed.includes(c)) throw new Error(`line ${line}: bad escape \\${c}`)
    return c === 'n' ? '\n' : c
  })
}

function parseValue (text: string, line: number): number {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  if (!/^-?[0-9.]+(e[+-]?[0-9]+)?$/i.test(text)) throw new Error(`line ${line}: bad value ${text}`)
  return Number(text)
}

function parseLabels (text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {}
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$)/y
  let at = 0
  while (at < text.length) {
    re.lastIndex = at
    const m = re.exec(text)
    if (m === null) throw new Error(`line ${line}: bad labels {${text}}`)
    labels[m[1]!] = unescape(m[2]!, '\\"n', line)
    at = re.lastIndex
  }
  return labels
}

/** The family a sample belongs to: histogram series end in _bucket, _sum, _count. */
function familyOf (families: Map<string, ParsedFamily>, name: string): ParsedFamily {
  const base = name.replace(/_(bucket|sum|count)$/, '')
  const f = families.get(name) ?? (families.get(base)?.type === 'histogram' ? families.get(base) : undefined)
  if (f !== undefined) return f
  const created: ParsedFamily = { type: undefined, help: undefined, samples: [] }
  families.set(name, created)
  return created
}

function family (families: Map<string, ParsedFamily>, name: string): ParsedFamily {
  const f = families.get(name) ?? { type: undefined, help: undefined, samples: [] }
  families.set(name, f)
  return f
}

export function parseExposition (text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>()
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline')
  text.split('\n').slice(0, -1).forEach((raw, i) => {
    const line = i + 1
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(raw)
    if (meta !== null) {
      const f = family(families, meta[2]!)
      if (meta[1] === 'HELP') { f.help = unescape(meta[3]!, '\\n', line); return }
      if (!TYPES.includes(meta[3]!)) throw new Error(`line ${line}: unknown type ${meta[3]}`)
      if (f.samples.length > 0) throw new Error(`line ${line}: TYPE after samples of ${meta[2]}`)
      f.type = meta[3]
      return
    }
    if (raw.startsWith('#') || raw === '') return
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?[0-9]+))?$/.exec(raw)
    if (m === null) throw new Error(`line ${line}: not a sample: ${raw}`)
    const labels = m[2] === undefined ? {} : parseLabels(m[2], line)
    familyOf(families, m[1]!).samples.push({ name: m[1]!, labels, value: parseValue(m[3]!, line) })
  })
  return families
}

/** The value of one sample (exact label match), or undefined. */
export function sampleValue (families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue
      const keys = Object.keys(s.labels)
      if (keys.length === Object.keys(labels).length && keys.every(k => s.labels[k] === labels[k])) return s.value
    }
  }
  return undefined
}
