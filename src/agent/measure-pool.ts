/**
 * Worker threads that measure AIDE-selected paths for the fast full check and compare them with
 * the baseline index (measure-worker.ts). Hashing and comparing are the costs left in a full
 * check, and they parallelise: each worker hashes with OpenSSL on its own core, while AIDE walks
 * the tree in its own process. Batches go to the least busy worker; a worker that dies fails every
 * batch it held, and close() ends them all.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { ReportEntry } from './aide-report.js'

export interface MeasureItem {
  readonly path: Uint8Array
  /** The selecting rule's attribute set (aide-attributes.ts bits). */
  readonly attr: number
}

export interface UnreadablePath {
  readonly path: Uint8Array
  readonly reason: string
}

export interface MeasureRequest { readonly id: number, readonly items: readonly MeasureItem[] }
export type MeasureReply =
  | ({ readonly id: number } & MeasuredBatch)
  | { readonly id: number, readonly error: string }

/** A batch as it comes back (paths are Uint8Arrays after the thread boundary). */
export interface MeasuredBatch {
  /** Every path found, in order (the baseline entries never seen are the removed ones). */
  readonly seen: readonly Uint8Array[]
  /** What --check would report for them: added and changed entries. */
  readonly differences: readonly ReportEntry[]
  readonly unreadable: readonly UnreadablePath[]
}

interface Slot { readonly worker: Worker, readonly pending: Map<number, Call>, failed: Error | null }
interface Call { resolve: (b: MeasuredBatch) => void, reject: (e: Error) => void }

/**
 * Built, the worker is the .js beside this file. Run from the TypeScript sources (tests, benches),
 * it is the .ts: tap's loader reaches worker threads, but tsx's does not on Node 20, so under tsx
 * the worker registers tsx itself before loading its entry.
 */
function newWorker (stateDb: string): Worker {
  const workerData = { stateDb }
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./measure-worker.js', import.meta.url), { workerData })
  const entry = new URL('./measure-worker.ts', import.meta.url).href
  if (!process.execArgv.some(a => a.includes('tsx'))) return new Worker(new URL(entry), { workerData })
  const api = import.meta.resolve('tsx/esm/api')
  return new Worker(`import(${JSON.stringify(api)}).then(m => m.register()).then(() => import(${JSON.stringify(entry)}))`, { eval: true, workerData })
}

export class MeasurePool {
  readonly #slots: Slot[] = []
  #nextId = 0
  #closed = false

  /** `stateDb`: the state database holding the baseline index the workers compare with. */
  constructor (stateDb: string, size = availableParallelism()) {
    for (let i = 0; i < Math.max(1, size); i++) this.#slots.push(this.#start(stateDb))
  }

  #start (stateDb: string): Slot {
    const slot: Slot = { worker: newWorker(stateDb), pending: new Map(), failed: null }
    slot.worker.on('message', (reply: MeasureReply) => {
      const call = slot.pending.get(reply.id)
      slot.pending.delete(reply.id)
      if ('error' in reply) call?.reject(new Error(`measuring worker: ${reply.error}`))
      else call?.resolve(reply)
    })
    const failAll = (err: Error): void => {
      slot.failed ??= err
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
    // A worker that could not start (an unreadable state database) or died fails the check, never hangs it.
    if (slot.failed !== null) return Promise.reject(slot.failed)
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
