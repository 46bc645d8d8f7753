/** The JSON error locator agrees with JSON.parse on what is valid, and points at the first bad character. */
import t from 'tap'
import { jsonErrorOffset } from '../../src/agent/json-syntax.js'

t.test('valid JSON has no error offset', async t => {
  for (const text of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]} \n', '"s"', '0']) {
    t.doesNotThrow(() => JSON.parse(text))
    t.equal(jsonErrorOffset(text), null, text)
  }
})

t.test('invalid JSON: the offset of the first bad character', async t => {
  const cases: Array<[string, number]> = [
    ['{"a": [1,]}', 9],
    ['{"a" 1}', 5],
    ['{a: 1}', 1],
    ['[1 2]', 3],
    ['{"a": 01}', 7],
    ['', 0],
    ['{"a": 1} x', 9],
    ['{"a": "\u0001"}', 6],
    ['[tru]', 1],
    ['{"a": [1', 8],
  ]
  for (const [text, offset] of cases) {
    t.throws(() => JSON.parse(text), text)
    t.equal(jsonErrorOffset(text), offset, JSON.stringify(text))
  }
})
