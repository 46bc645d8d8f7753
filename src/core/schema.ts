/**
 * A small runtime validator for what crosses a trust boundary (protocol bodies). Unknown fields
 * and wrong types are rejected with the JSON path of the offending field, so a 400 names it.
 */
import { AppError } from './errors.js'

export class SchemaError extends AppError {
  constructor (where: string, expected: string) {
    super('PFIM_PROTOCOL_INVALID', `${where}: expected ${expected}`, { where })
    this.name = 'SchemaError'
  }
}

export type Check<T> = (value: unknown, where: string) => T

export const str = (opts: { max?: number, pattern?: RegExp } = {}): Check<string> => (v, where) => {
  if (typeof v !== 'string') throw new SchemaError(where, 'a string')
  if (opts.max !== undefined && v.length > opts.max) throw new SchemaError(where, `a string of at most ${opts.max} characters`)
  if (opts.pattern !== undefined && !opts.pattern.test(v)) throw new SchemaError(where, `a string matching ${String(opts.pattern)}`)
  return v
}

export const int = (min = 0, max = Number.MAX_SAFE_INTEGER): Check<number> => (v, where) => {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new SchemaError(where, `an integer in [${min}, ${max}]`)
  return v as number
}

export const bool: Check<boolean> = (v, where) => {
  if (typeof v !== 'boolean') throw new SchemaError(where, 'true or false')
  return v
}

export const oneOf = <T extends string>(...values: T[]): Check<T> => (v, where) => {
  if (!(values as unknown[]).includes(v)) throw new SchemaError(where, `one of ${values.join(', ')}`)
  return v as T
}

export const nullable = <T>(inner: Check<T>): Check<T | null> => (v, where) => (v === null ? null : inner(v, where))

export const arrayOf = <T>(inner: Check<T>, max = 100_000): Check<T[]> => (v, where) => {
  if (!Array.isArray(v)) throw new SchemaError(where, 'an array')
  if (v.length > max) throw new SchemaError(where, `an array of at most ${max} items`)
  return v.map((item, i) => inner(item, `${where}[${i}]`))
}

type Shape = Record<string, Check<unknown>>
type Out<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never }

/** An object with exactly these keys; keys whose check accepts undefined may be absent. */
export const object = <S extends Shape>(shape: S): Check<Out<S>> => (v, where) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(where, 'an object')
  for (const key of Object.keys(v)) if (!(key in shape)) throw new SchemaError(`${where}.${key}`, 'no such field (unknown fields are rejected)')
  const out: Record<string, unknown> = {}
  for (const [key, check] of Object.entries(shape)) out[key] = check((v as Record<string, unknown>)[key], `${where}.${key}`)
  return out as Out<S>
}

export const optional = <T>(inner: Check<T>): Check<T | undefined> => (v, where) => (v === undefined ? undefined : inner(v, where))

/** A JSON object of arbitrary shape (free-form details), bounded in size. */
export const record = (maxBytes: number): Check<Record<string, unknown>> => (v, where) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(where, 'an object')
  if (JSON.stringify(v).length > maxBytes) throw new SchemaError(where, `an object of at most ${maxBytes} bytes as JSON`)
  return v as Record<string, unknown>
}
