/** Nagios ranges: the documented forms, what fires, and malformed input refused with a typed error. */
import t from 'tap'
import { parseNagiosRange, rangeFires } from '../../src/core/nagios-range.js'
import { AppError } from '../../src/core/errors.js'

t.test('each form of the guidelines fires where they say', async t => {
  const cases: Array<[string, number[], number[]]> = [
    // range, values that fire, values that do not
    ['10', [-1, 11, 101], [0, 5, 10]],
    ['100', [101, 908], [0, 100]],
    ['0', [1, 90], [0]],
    ['10:', [9, -5], [10, 1000]],
    ['~:10', [11], [-1e9, 10]],
    ['10:20', [9, 21], [10, 15, 20]],
    ['@10:20', [10, 15, 20], [9, 21]],
    ['-5:-1', [0, -6], [-5, -1]],
    ['1.5:2.5', [1, 3], [2]],
  ]
  for (const [text, fire, hold] of cases) {
    const range = parseNagiosRange(text, '-c')
    t.equal(range.text, text)
    for (const v of fire) t.ok(rangeFires(range, v), `${text} fires at ${v}`)
    for (const v of hold) t.notOk(rangeFires(range, v), `${text} holds at ${v}`)
  }
})

function failure (fn: () => unknown): AppError | null {
  try {
    fn()
    return null
  } catch (err) {
    return err as AppError
  }
}

t.test('malformed ranges are refused, naming the option and the text', async t => {
  const bad = ['', '@', '20-100', '@20-100', 'abc', '1:2:3', '20:10', ':5', '~', '~5', '10 ', ' 10', '1e3', '0x10', '--1', '1.', '.5', '10::']
  for (const text of bad) {
    const err = failure(() => parseNagiosRange(text, '-w'))
    t.ok(err instanceof AppError, `"${text}" is refused`)
    t.equal(err?.code, 'PFIM_THRESHOLD_INVALID')
    t.match(err?.message, '-w')
  }
  t.match(failure(() => parseNagiosRange('20-100', '-c'))?.message, /threshold -c "20-100"/, 'the man page\'s 20-100 is no longer read as 20')
})
