/** podsec's threshold letters: parsing, the documented precedence (bash hash order fixed), bad input. */
import t from 'tap'
import { AppError } from '../../src/core/errors.js'
import { journalLevel, nagiosState, parseThresholdArgs, PODSEC_DEFAULT_THRESHOLDS, thresholdsText } from '../../src/agent/policy-thresholds.js'

function failure (fn: () => unknown): AppError | null {
  try {
    fn()
    return null
  } catch (err) {
    return err as AppError
  }
}

t.test('no arguments behave like podsec without arguments: -c 100 on both scales, verbosity 2', async t => {
  const th = parseThresholdArgs([])
  t.equal(th, PODSEC_DEFAULT_THRESHOLDS)
  t.equal(journalLevel(th, 101)?.prefix, 'Critical')
  t.equal(journalLevel(th, 100), null, 'a 90xshare weight is below -c 100, as in podsec')
  t.equal(nagiosState(th, 101), 'critical')
  t.equal(th.verbosity, 2)
})

t.test('the most severe firing letter wins (podsec: -vvv -w 0 -h 0 -c 100 at 101 gave High/Warning)', async t => {
  const th = parseThresholdArgs(['-vvv', '-w', '0', '-h', '0', '-c', '100'])
  t.equal(th.verbosity, 3)
  t.equal(journalLevel(th, 101)?.prefix, 'Critical')
  t.equal(journalLevel(th, 101)?.priority, 'crit')
  t.equal(journalLevel(th, 50)?.prefix, 'High')
  t.equal(journalLevel(th, 0), null)
  t.equal(nagiosState(th, 101), 'critical')
  t.equal(nagiosState(th, 1), 'warning')
  t.equal(nagiosState(th, 0), 'ok')
  t.equal(thresholdsText(th), '-c 100 -h 0 -w 0')
})

t.test('every letter maps to podsec\'s prefix; -cVALUE and Nagios ranges are accepted', async t => {
  const cases: Array<[string, string, string]> = [
    ['-a', 'Crash', 'crit'], ['-f', 'Fatal', 'crit'], ['-c', 'Critical', 'crit'], ['-h', 'High', 'err'],
    ['-m', 'Middle', 'warning'], ['-l', 'Low', 'notice'], ['-d', 'Debug', 'info'],
  ]
  for (const [flag, prefix, priority] of cases) {
    const level = journalLevel(parseThresholdArgs([flag, '0']), 1)
    t.same([level?.prefix, level?.priority], [prefix, priority], flag)
  }
  t.equal(journalLevel(parseThresholdArgs(['-w', '0']), 5), null, '-w is the Nagios scale only')
  t.equal(nagiosState(parseThresholdArgs(['-c@100:200']), 150), 'critical')
  t.equal(nagiosState(parseThresholdArgs(['-c', '~:10']), 5), 'ok')
  t.equal(parseThresholdArgs(['-vvvvv']).verbosity, 3, 'capped at 3 as podsec does')
})

t.test('malformed arguments are errors, not silently ignored as in podsec', async t => {
  const bad: Array<[string[], RegExp]> = [
    [['-c'], /-c needs a range/],
    [['-c', '20-100'], /"20-100"/],
    [['-x', '5'], /unknown threshold letter -x/],
    [['-M', 'root@localhost'], /-M \(mail\) is not supported/],
    [['>/dev/null'], /unexpected argument ">\/dev\/null"/],
    [['100'], /unexpected argument "100"/],
    [['-w', '@'], /threshold -w is empty/],
  ]
  for (const [args, message] of bad) {
    const err = failure(() => parseThresholdArgs(args))
    t.equal(err?.code, 'PFIM_THRESHOLD_INVALID', args.join(' '))
    t.match(err?.message, message)
  }
})
