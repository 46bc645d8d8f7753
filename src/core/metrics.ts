/**
 * A small Prometheus registry of our own (the agent and the aggregator need counters, gauges and
 * one histogram; prom-client would bring a dependency and process-global state). Renders the text
 * exposition format 0.0.4 in a stable order: families by name, series by their label values.
 * Names and label sets are checked when used, so a typo fails loudly instead of starting a new series.
 */
import { MetricError } from './errors.js'

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type Labels = Readonly<Record<string, string>>
export type MetricType = 'counter' | 'gauge' | 'histogram'

export interface MetricSpec {
  readonly name: string
  readonly help: string
  readonly labelNames?: readonly string[]
}

export interface HistogramSpec extends MetricSpec {
  /** Upper bounds, strictly increasing and finite; `+Inf` is always added. */
  readonly buckets: readonly number[]
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

function renderLabels (names: readonly string[], values: readonly string[], extra = ''): string {
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
abstract class Family<S> {
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

  protected abstract renderSeries (values: readonly string[], state: S): string[]

  render (): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`]
    for (const { values, state } of this.sorted()) lines.push(...this.renderSeries(values, state))
    return lines.join('\n') + '\n'
  }

  abstract toJSON (): unknown
}

interface Cell { value: number }

/** Counter and gauge: one number per series. */
abstract class Scalar extends Family<Cell> {
  protected initial (): Cell {
    return { value: 0 }
  }

  /** The value, or 0 for a series that was never written (it is created only when `ensure` is set). */
  get (labels: Labels = {}, opts: { ensure?: boolean } = {}): number {
    return this.series(labels, opts.ensure === true)?.value ?? 0
  }

  protected checkNumber (value: number): void {
    if (typeof value !== 'number' || Number.isNaN(value)) throw new MetricError(`metric ${this.name}: value must be a number, got ${String(value)}`, { where: this.name })
  }

  protected renderSeries (values: readonly string[], state: Cell): string[] {
    return [`${this.name}${renderLabels(this.labelNames, values)} ${formatValue(state.value)}`]
  }

  toJSON (): unknown {
    return { name: this.name, type: this.type, help: this.help, series: this.sorted().map(s => ({ labels: Object.fromEntries(this.labelNames.map((n, i) => [n, s.values[i]])), value: s.state.value })) }
  }
}

export class Counter extends Scalar {
  readonly type = 'counter'

  inc (labels: Labels = {}, by = 1): void {
    this.checkNumber(by)
    if (by < 0) throw new MetricError(`metric ${this.name}: a counter only goes up (inc by ${by})`, { where: this.name })
    ;(this.series(labels, true) as Cell).value += by
  }

  /** For counters whose truth is kept elsewhere (SQLite), copied in at each scrape. */
  set (labels: Labels, value: number): void {
    this.checkNumber(value)
    if (value < 0) throw new MetricError(`metric ${this.name}: a counter cannot be negative (${value})`, { where: this.name })
    ;(this.series(labels, true) as Cell).value = value
  }
}

export class Gauge extends Scalar {
  readonly type = 'gauge'

  set (labels: Labels, value: number): void {
    this.checkNumber(value)
    ;(this.series(labels, true) as Cell).value = value
  }

  inc (labels: Labels = {}, by = 1): void {
    this.checkNumber(by)
    ;(this.series(labels, true) as Cell).value += by
  }
}

interface HistogramCell { counts: number[], sum: number, count: number }

export class Histogram extends Family<HistogramCell> {
  readonly type = 'histogram'
  readonly buckets: readonly number[]

  constructor (spec: HistogramSpec) {
    super(spec, ['le'])
    const b = spec.buckets
    if (b.length === 0 || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= (b[i - 1] as number)))) {
      throw new MetricError(`metric ${spec.name}: buckets must be finite and strictly increasing, got [${b.join(', ')}]`, { where: spec.name })
    }
    this.buckets = Object.freeze([...b])
  }

  protected initial (): HistogramCell {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 }
  }

  observe (labels: Labels, value: number): void {
    if (typeof value !== 'number' || Number.isNaN(value)) throw new MetricError(`metric ${this.name}: observed value must be a number, got ${String(value)}`, { where: this.name })
    const cell = this.series(labels, true) as HistogramCell
    this.buckets.forEach((le, i) => { if (value <= le) cell.counts[i] = (cell.counts[i] as number) + 1 })
    cell.sum += value
    cell.count += 1
  }

  /** Count and sum of one series (zeros when it has none). */
  get (labels: Labels = {}): { count: number, sum: number } {
    const cell = this.series(labels, false)
    return { count: cell?.count ?? 0, sum: cell?.sum ?? 0 }
  }

  protected renderSeries (values: readonly string[], cell: HistogramCell): string[] {
    const lines = this.buckets.map((le, i) => `${this.name}_bucket${renderLabels(this.labelNames, values, `le="${formatValue(le)}"`)} ${cell.counts[i] as number}`)
    lines.push(`${this.name}_bucket${renderLabels(this.labelNames, values, 'le="+Inf"')} ${cell.count}`)
    lines.push(`${this.name}_sum${renderLabels(this.labelNames, values)} ${formatValue(cell.sum)}`)
    lines.push(`${this.name}_count${renderLabels(this.labelNames, values)} ${cell.count}`)
    return lines
  }

  toJSON (): unknown {
    return {
      name: this.name, type: this.type, help: this.help, buckets: this.buckets,
      series: this.sorted().map(s => ({ labels: Object.fromEntries(this.labelNames.map((n, i) => [n, s.values[i]])), counts: s.state.counts, sum: s.state.sum, count: s.state.count })),
    }
  }
}

type AnyFamily = Counter | Gauge | Histogram

/** The series names a family writes; two families may not share one. */
function seriesNames (f: AnyFamily): string[] {
  return f.type === 'histogram' ? [f.name, `${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name]
}

export class MetricsRegistry {
  readonly #families = new Map<string, AnyFamily>()

  #add<F extends AnyFamily> (family: F): F {
    const taken = new Set([...this.#families.values()].flatMap(seriesNames))
    const clash = seriesNames(family).find(n => taken.has(n))
    if (clash !== undefined) throw new MetricError(`metric ${family.name} clashes with a registered metric's series ${clash}`, { where: family.name })
    this.#families.set(family.name, family)
    return family
  }

  counter (spec: MetricSpec): Counter {
    return this.#add(new Counter(spec))
  }

  gauge (spec: MetricSpec): Gauge {
    return this.#add(new Gauge(spec))
  }

  histogram (spec: HistogramSpec): Histogram {
    return this.#add(new Histogram(spec))
  }

  /** The text exposition format 0.0.4, families sorted by name. */
  render (): string {
    return [...this.#families.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(f => f.render()).join('')
  }

  /** The same content as JSON, for `--json` and tests. */
  toJSON (): unknown[] {
    return [...this.#families.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(f => f.toJSON())
  }
}
