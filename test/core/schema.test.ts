import t from 'tap'
import { arrayOf, bool, int, nullable, object, oneOf, optional, record, str, SchemaError } from '../../src/core/schema.js'

t.test('each check accepts its type and names the field it rejects', async t => {
  const check = object({ a: str({ max: 3 }), b: int(1, 9), c: bool, d: oneOf('x', 'y'), e: nullable(int()), f: arrayOf(str(), 2), g: optional(bool), h: record(20) })
  const ok = { a: 'abc', b: 2, c: false, d: 'y', e: null, f: ['p'], h: { k: 1 } }
  t.same(check(ok, 'body'), { ...ok, g: undefined })
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ ...ok, a: 5 }, 'body.a'],
    [{ ...ok, a: 'abcd' }, 'body.a'],
    [{ ...ok, b: 0 }, 'body.b'],
    [{ ...ok, b: 1.5 }, 'body.b'],
    [{ ...ok, c: 'true' }, 'body.c'],
    [{ ...ok, d: 'z' }, 'body.d'],
    [{ ...ok, e: '1' }, 'body.e'],
    [{ ...ok, f: ['p', 'q', 'r'] }, 'body.f'],
    [{ ...ok, f: [1] }, 'body.f[0]'],
    [{ ...ok, g: 1 }, 'body.g'],
    [{ ...ok, h: { k: 'x'.repeat(30) } }, 'body.h'],
    [{ ...ok, extra: 1 }, 'body.extra'],
    [{ ...ok, a: undefined }, 'body.a'],
  ]
  for (const [value, where] of bad) {
    const err = t.throws(() => check(value, 'body')) as SchemaError
    t.equal(err.code, 'PFIM_PROTOCOL_INVALID')
    t.equal(err.where, where)
    t.match(err.message, where)
  }
  t.throws(() => check([], 'body'), { name: 'SchemaError', where: 'body' })
  t.throws(() => check(null, 'body'), { name: 'SchemaError', where: 'body' })
})
