/**
 * A small Prometheus registry of our own (the agent and the aggregator need counters, gauges and
 * one histogram; prom-client would bring a dependency and process-global state). Renders the text
 * exposition format 0.0.4 in a stable order: families by name, series by their label values.
 * Names and label sets are checked when used, so a typo fails loudly instead of starting a new series.
 */
import { MetricError } from './errors.js'
import { Family, formatValue, renderLabels, type Labels, type MetricSpec } from './metric-family.js'

export { escapeHelp, escapeLabelValue, formatValue } from './metric-family.js'
export type { Labels, MetricSpec, MetricType } from './metric-family.js'

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export interface HistogramSpec extends MetricSpec {
  /** Upper bounds, strictly increasing and finite; `+Inf` is always added. */
  readonly buckets: readonly number[]
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
    return { name: this.name, type: this.type, help: this.help, series: this.sorted().map(s => ({ labels: this.labelsOf(s.values), value: s.state.value })) }
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

  /**
   * Sets a whole series from counts kept elsewhere (SQLite): `cumulative[i]` observations were
   * <= buckets[i]; `count` is all of them (the +Inf bucket).
   */
  set (labels: Labels, value: { cumulative: readonly number[], sum: number, count: number }): void {
    const c = value.cumulative
    const ok = c.length === this.buckets.length && [...c, value.count].every((n, i) => Number.isInteger(n) && n >= (i === 0 ? 0 : c[i - 1] as number))
    if (!ok || typeof value.sum !== 'number' || Number.isNaN(value.sum)) {
      throw new MetricError(`metric ${this.name}: bucket counts must be ${this.buckets.length} non-decreasing integers up to count, got [${c.join(', ')}] of ${value.count}`, { where: this.name })
    }
    const cell = this.series(labels, true) as HistogramCell
    cell.counts = [...c]
    cell.sum = value.sum
    cell.count = value.count
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
    const series = this.sorted().map(s => ({ labels: this.labelsOf(s.values), counts: s.state.counts, sum: s.state.sum, count: s.state.count }))
    return { name: this.name, type: this.type, help: this.help, buckets: this.buckets, series }
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

  #sorted (): AnyFamily[] {
    return [...this.#families.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  /** The text exposition format 0.0.4, families sorted by name. */
  render (): string {
    return this.#sorted().map(f => f.render()).join('')
  }

  /** The same content as JSON, for `--json` and tests. */
  toJSON (): unknown[] {
    return this.#sorted().map(f => f.toJSON())
  }
}
