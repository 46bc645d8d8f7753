/**
 * Worker threads that measure AIDE-selected paths for the fast full check (measure-worker.ts).
 * Hashing is the one cost left in a full check, and it parallelises: each worker hashes with
 * OpenSSL on its own core, while AIDE walks the tree in its own process. Batches go to the least
 * busy worker; a worker that dies fails every batch it held, and close() ends them all.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

export interface MeasureItem {
  readonly path: Uint8Array
  /** The selecting rule's attribute set (aide-attributes.ts bits). */
  readonly attr: number
}

export interface MeasuredEntry {
  readonly path: Uint8Array
  /** What AIDE would record for this entry: the rule's set minus what does not apply to its type or could not be read. */
  readonly attr: number
  readonly fields: Record<string, string>
}

export interface UnreadablePath {
  readonly path: Uint8Array
  readonly reason: string
}

export interface MeasureRequest { readonly id: number, readonly items: readonly MeasureItem[] }
export type MeasureReply =
  | { readonly id: number, readonly entries: MeasuredEntry[], readonly unreadable: UnreadablePath[] }
  | { readonly id: number, readonly error: string }

export interface MeasuredBatch {
  readonly entries: readonly MeasuredEntry[]
  readonly unreadable: readonly UnreadablePath[]
}

interface Slot { readonly worker: Worker, readonly pending: Map<number, Call> }
interface Call { resolve: (b: MeasuredBatch) => void, reject: (e: Error) => void }

/**
 * Built, the worker is the .js beside this file. Run from the TypeScript sources (tests, benches),
 * it is the .ts: tap's loader reaches worker threads, but tsx's does not on Node 20, so under tsx
 * the worker registers tsx itself before loading its entry.
 */
function newWorker (): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./measure-worker.js', import.meta.url))
  const entry = new URL('./measure-worker.ts', import.meta.url).href
  if (!process.execArgv.some(a => a.includes('tsx'))) return new Worker(new URL(entry))
  const api = import.meta.resolve('tsx/esm/api')
  return new Worker(`import(${JSON.stringify(api)}).then(m => m.register()).then(() => import(${JSON.stringify(entry)}))`, { eval: true })
}

export class MeasurePool {
  readonly #slots: Slot[] = []
  #nextId = 0
  #closed = false

  constructor (size = availableParallelism()) {
    for (let i = 0; i < Math.max(1, size); i++) this.#slots.push(this.#start())
  }

  #start (): Slot {
    const slot: Slot = { worker: newWorker(), pending: new Map() }
    slot.worker.on('message', (reply: MeasureReply) => {
      const call = slot.pending.get(reply.id)
      slot.pending.delete(reply.id)
      if ('error' in reply) call?.reject(new Error(`measuring worker: ${reply.error}`))
      else call?.resolve(reply)
    })
    const failAll = (err: Error): void => {
      for (const call of slot.pending.values()) call.reject(err)
      slot.pending.clear()
    }
    slot.worker.on('error', failAll)
    slot.worker.on('exit', code => failAll(new Error(`measuring worker exited (${code})`)))
    return slot
  }

  get size (): number {
    return this.#slots.length
  }

  measure (items: readonly MeasureItem[]): Promise<MeasuredBatch> {
    if (this.#closed) return Promise.reject(new Error('measuring pool is closed'))
    const slot = this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject })
      slot.worker.postMessage({ id, items } satisfies MeasureRequest)
    })
  }

  async close (): Promise<void> {
    this.#closed = true
    await Promise.all(this.#slots.map(s => s.worker.terminate()))
  }
}
