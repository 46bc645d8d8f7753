import t from 'tap'
import { spawnSync } from 'node:child_process'
import { MetricError } from '../../src/core/errors.js'
import { escapeHelp, escapeLabelValue, formatValue, MetricsRegistry } from '../../src/core/metrics.js'
import { parseExposition } from '../helpers/exposition.js'

/** Runs the real promtool (Debian package prometheus, installed by .ci/deps.sh) over an exposition. */
function promtoolCheck (text: string): { status: number | null, output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (r.error !== undefined) throw r.error
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

function sample (): MetricsRegistry {
  const reg = new MetricsRegistry()
  const scans = reg.counter({ name: 'demo_scans_total', help: 'Scans by kind and condition.', labelNames: ['kind', 'condition'] })
  scans.inc({ kind: 'check', condition: 'Failed' })
  scans.inc({ kind: 'check', condition: 'Failed' }, 2)
  scans.inc({ kind: 'init', condition: 'Succeeded' })
  scans.ensure({ kind: 'check', condition: 'Errored' })
  reg.gauge({ name: 'demo_backlog', help: 'Reports not yet acknowledged.' }).set({}, 7)
  const h = reg.histogram({ name: 'demo_scan_duration_seconds', help: 'How long scans take.', labelNames: ['kind'], buckets: [1, 10, 60] })
  h.observe({ kind: 'check' }, 0.5)
  h.observe({ kind: 'check' }, 30)
  h.observe({ kind: 'check' }, 120)
  return reg
}

t.test('renders the 0.0.4 text format in a stable order', async t => {
  const text = sample().render()
  t.equal(text, [
    '# HELP demo_backlog Reports not yet acknowledged.',
    '# TYPE demo_backlog gauge',
    'demo_backlog 7',
    '# HELP demo_scan_duration_seconds How long scans take.',
    '# TYPE demo_scan_duration_seconds histogram',
    'demo_scan_duration_seconds_bucket{kind="check",le="1"} 1',
    'demo_scan_duration_seconds_bucket{kind="check",le="10"} 1',
    'demo_scan_duration_seconds_bucket{kind="check",le="60"} 2',
    'demo_scan_duration_seconds_bucket{kind="check",le="+Inf"} 3',
    'demo_scan_duration_seconds_sum{kind="check"} 150.5',
    'demo_scan_duration_seconds_count{kind="check"} 3',
    '# HELP demo_scans_total Scans by kind and condition.',
    '# TYPE demo_scans_total counter',
    'demo_scans_total{kind="check",condition="Errored"} 0',
    'demo_scans_total{kind="check",condition="Failed"} 3',
    'demo_scans_total{kind="init",condition="Succeeded"} 1',
    '',
  ].join('\n'))
  t.equal(sample().render(), text, 'the same content renders byte for byte the same')
})

t.test('the exposition parses back to the values that were set', async t => {
  const families = parseExposition(sample().render())
  t.same(families.get('demo_scans_total'), {
    type: 'counter', help: 'Scans by kind and condition.',
    samples: [
      { name: 'demo_scans_total', labels: { kind: 'check', condition: 'Errored' }, value: 0 },
      { name: 'demo_scans_total', labels: { kind: 'check', condition: 'Failed' }, value: 3 },
      { name: 'demo_scans_total', labels: { kind: 'init', condition: 'Succeeded' }, value: 1 },
    ],
  })
  const h = families.get('demo_scan_duration_seconds')
  t.equal(h?.type, 'histogram')
  t.same(h?.samples.find(s => s.labels.le === '+Inf')?.value, 3)
})

t.test('label values and help text are escaped and survive a round trip', async t => {
  const reg = new MetricsRegistry()
  const nasty = 'C:\\dir "quoted"\nnext line'
  reg.gauge({ name: 'demo_path_info', help: 'Help with a backslash \\ and\na newline.', labelNames: ['path'] }).set({ path: nasty }, 1)
  const text = reg.render()
  t.match(text, '# HELP demo_path_info Help with a backslash \\\\ and\\na newline.\n')
  t.match(text, 'demo_path_info{path="C:\\\\dir \\"quoted\\"\\nnext line"} 1\n')
  t.equal(text.split('\n').length, 4, 'no raw newline leaks into the output')
  const parsed = parseExposition(text).get('demo_path_info')
  t.equal(parsed?.help, 'Help with a backslash \\ and\na newline.')
  t.equal(parsed?.samples[0]?.labels.path, nasty)
  t.equal(escapeLabelValue('\\"\n'), '\\\\\\"\\n')
  t.equal(escapeHelp('"\\\n'), '"\\\\\\n', 'HELP keeps double quotes as they are')
})

t.test('values: special floats, get, set, ensure', async t => {
  t.equal(formatValue(Infinity), '+Inf')
  t.equal(formatValue(-Infinity), '-Inf')
  t.equal(formatValue(NaN), 'NaN')
  t.equal(formatValue(1e21), '1e+21')
  const reg = new MetricsRegistry()
  const g = reg.gauge({ name: 'demo_g', help: 'g', labelNames: ['a'] })
  t.equal(g.get({ a: 'x' }), 0, 'an unwritten series reads 0')
  t.equal(reg.render(), '# HELP demo_g g\n# TYPE demo_g gauge\n', 'reading without ensure does not create it')
  t.equal(g.get({ a: 'x' }, { ensure: true }), 0)
  t.match(reg.render(), 'demo_g{a="x"} 0\n', 'reading with ensure creates it at 0')
  g.set({ a: 'x' }, -2.5)
  g.inc({ a: 'x' }, 1)
  t.equal(g.get({ a: 'x' }), -1.5)
  const c = reg.counter({ name: 'demo_c_total', help: 'c' })
  c.set({}, 41)
  c.inc()
  t.equal(c.get(), 42)
  c.clear()
  t.equal(c.get(), 0)
  const h = reg.histogram({ name: 'demo_h', help: 'h', buckets: [0.1] })
  t.same(h.get(), { count: 0, sum: 0 })
  h.observe({}, 0.1)
  t.same(h.get(), { count: 1, sum: 0.1 })
  t.match(reg.render(), 'demo_h_bucket{le="0.1"} 1\n', 'a value equal to a bound falls into that bucket')
})

t.test('malformed names, label sets, buckets and values are rejected with MetricError', async t => {
  const reg = new MetricsRegistry()
  const bad: Array<[string, () => unknown, RegExp]> = [
    ['name with a dash', () => reg.counter({ name: 'demo-x', help: '' }), /metric name "demo-x"/],
    ['name starting with a digit', () => reg.gauge({ name: '1demo', help: '' }), /"1demo"/],
    ['empty name', () => reg.gauge({ name: '', help: '' }), /metric name ""/],
    ['label name with a dot', () => reg.gauge({ name: 'demo_a', help: '', labelNames: ['a.b'] }), /label name "a.b"/],
    ['reserved __ label', () => reg.gauge({ name: 'demo_b', help: '', labelNames: ['__name'] }), /"__name"/],
    ['repeated label', () => reg.gauge({ name: 'demo_c', help: '', labelNames: ['a', 'a'] }), /repeated/],
    ['le on a histogram', () => reg.histogram({ name: 'demo_d', help: '', labelNames: ['le'], buckets: [1] }), /"le" is reserved/],
    ['buckets not increasing', () => reg.histogram({ name: 'demo_e', help: '', buckets: [1, 1] }), /strictly increasing/],
    ['no buckets', () => reg.histogram({ name: 'demo_f', help: '', buckets: [] }), /buckets/],
    ['infinite bucket', () => reg.histogram({ name: 'demo_g', help: '', buckets: [1, Infinity] }), /finite/],
  ]
  for (const [what, fn, message] of bad) t.throws(fn, { name: 'MetricError', code: 'PFIM_METRIC_INVALID', message }, what)

  const c = reg.counter({ name: 'demo_total', help: 'c', labelNames: ['kind'] })
  t.throws(() => c.inc({}), { code: 'PFIM_METRIC_INVALID', message: /missing kind/ })
  t.throws(() => c.inc({ kind: 'x', node: 'n' }), { message: /unknown node/ })
  t.throws(() => c.inc({ kind: 3 as unknown as string }), { message: /label kind must be a string/ })
  t.throws(() => c.inc({ kind: 'x' }, -1), { message: /only goes up/ })
  t.throws(() => c.set({ kind: 'x' }, -1), { message: /cannot be negative/ })
  t.throws(() => c.inc({ kind: 'x' }, NaN), { message: /must be a number/ })
  t.throws(() => reg.gauge({ name: 'demo_total', help: '' }), { message: /clashes/ }, 'a name is registered once')
  reg.histogram({ name: 'demo_lat', help: '', buckets: [1] })
  t.throws(() => reg.gauge({ name: 'demo_lat_count', help: '' }), { message: /clashes .* demo_lat_count/ }, 'nor may it shadow a histogram series')
  t.ok(new MetricError('m') instanceof Error)
  t.equal(c.get({ kind: 'x' }), 0, 'rejected writes change nothing')
})

t.test('promtool accepts the exposition', async t => {
  const reg = sample()
  reg.gauge({ name: 'demo_path_info', help: 'With "quotes" and \\ and\nnewline.', labelNames: ['path'] }).set({ path: 'a"b\\c\nd' }, 1)
  const r = promtoolCheck(reg.render())
  t.equal(r.status, 0, r.output)
  t.equal(r.output, '', 'no lint complaints')
  t.not(promtoolCheck('demo_x{a="unterminated} 1\n').status, 0, 'promtool does reject broken text (the check can fail)')
})

t.test('the test parser rejects malformed expositions', async t => {
  t.throws(() => parseExposition('demo 1 2 3 4\n'), /line 1/)
  t.throws(() => parseExposition('demo{a="x} 1\n'), /line 1/)
  t.throws(() => parseExposition('demo{a="\\q"} 1\n'), /escape/)
  t.throws(() => parseExposition('# TYPE demo wrong\n'), /type/)
  t.throws(() => parseExposition('demo 1\n# TYPE demo gauge\n'), /TYPE after samples/)
})

t.test('toJSON mirrors the exposition', async t => {
  const json = sample().toJSON() as Array<{ name: string, series: unknown[] }>
  t.same(json.map(f => f.name), ['demo_backlog', 'demo_scan_duration_seconds', 'demo_scans_total'])
  t.same(json[0]?.series, [{ labels: {}, value: 7 }])
  t.same(json[1]?.series, [{ labels: { kind: 'check' }, counts: [1, 1, 2], sum: 150.5, count: 3 }])
})
