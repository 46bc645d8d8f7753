/**
 * What every metric family shares: a checked name and label set, help text, series keyed by their
 * label values, and the text format's escaping and ordering. The kinds are in metrics.ts.
 */
import { MetricError } from './errors.js'

export type Labels = Readonly<Record<string, string>>
export type MetricType = 'counter' | 'gauge' | 'histogram'

export interface MetricSpec {
  readonly name: string
  readonly help: string
  readonly labelNames?: readonly string[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Go's strconv.FormatFloat as Prometheus writes it: +Inf, -Inf, NaN, otherwise the shortest form. */
export function formatValue (value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

export function escapeLabelValue (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function escapeHelp (text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function checkName (name: string): void {
  if (!METRIC_NAME.test(name)) throw new MetricError(`metric name "${name}" is not a valid Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)`, { where: name })
}

function checkLabelNames (metric: string, names: readonly string[], reserved: readonly string[]): void {
  const seen = new Set<string>()
  for (const n of names) {
    if (!LABEL_NAME.test(n) || n.startsWith('__')) throw new MetricError(`metric ${metric}: label name "${n}" is not valid ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)`, { where: `${metric}.${n}` })
    if (reserved.includes(n)) throw new MetricError(`metric ${metric}: label name "${n}" is reserved`, { where: `${metric}.${n}` })
    if (seen.has(n)) throw new MetricError(`metric ${metric}: label name "${n}" is repeated`, { where: `${metric}.${n}` })
    seen.add(n)
  }
}

export function renderLabels (names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i] as string)}"`)
  if (extra !== '') parts.push(extra)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

function compareValues (a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string
    const y = b[i] as string
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/** What every family shares: its name, help, label names, and series keyed by their label values. */
export abstract class Family<S> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  abstract readonly type: MetricType
  readonly #series = new Map<string, { values: readonly string[], state: S }>()

  constructor (spec: MetricSpec, reserved: readonly string[] = []) {
    checkName(spec.name)
    this.name = spec.name
    this.help = spec.help
    this.labelNames = Object.freeze([...(spec.labelNames ?? [])])
    checkLabelNames(spec.name, this.labelNames, reserved)
  }

  protected abstract initial (): S

  /** Label values in labelNames order; the label set must match exactly. */
  #values (labels: Labels): string[] {
    const given = Object.keys(labels)
    const unknown = given.filter(k => !this.labelNames.includes(k))
    const missing = this.labelNames.filter(k => !given.includes(k))
    if (unknown.length > 0 || missing.length > 0) {
      const what = [unknown.length > 0 ? `unknown ${unknown.join(', ')}` : '', missing.length > 0 ? `missing ${missing.join(', ')}` : ''].filter(s => s !== '').join('; ')
      throw new MetricError(`metric ${this.name}: labels do not match {${this.labelNames.join(',')}}: ${what}`, { where: this.name })
    }
    return this.labelNames.map(n => {
      const v = labels[n]
      if (typeof v !== 'string') throw new MetricError(`metric ${this.name}: label ${n} must be a string`, { where: `${this.name}.${n}` })
      return v
    })
  }

  /** The series for these labels, created (at its initial value) when absent and `create` is set. */
  protected series (labels: Labels, create: boolean): S | undefined {
    const values = this.#values(labels)
    const key = JSON.stringify(values)
    let entry = this.#series.get(key)
    if (entry === undefined && create) {
      entry = { values, state: this.initial() }
      this.#series.set(key, entry)
    }
    return entry?.state
  }

  /** Creates the series at zero if absent, so it is exported before its first event. */
  ensure (labels: Labels = {}): void {
    this.series(labels, true)
  }

  /** Forgets every series (for families rebuilt from a source of truth at each scrape). */
  clear (): void {
    this.#series.clear()
  }

  protected sorted (): Array<{ values: readonly string[], state: S }> {
    return [...this.#series.values()].sort((a, b) => compareValues(a.values, b.values))
  }

  protected labelsOf (values: readonly string[]): Record<string, string> {
    return Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] as string]))
  }

  protected abstract renderSeries (values: readonly string[], state: S): string[]

  render (): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`]
    for (const { values, state } of this.sorted()) lines.push(...this.renderSeries(values, state))
    return lines.join('\n') + '\n'
  }

  abstract toJSON (): unknown
}

