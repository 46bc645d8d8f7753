/**
 * The AIDE database as a tamper-evident baseline. AIDE accepts an empty, truncated or replaced
 * database with at most a warning ("everything added"), so the agent checks a new database is
 * complete before it promotes it, records its size and SHA-256, and verifies both before every check.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import { AideError } from '../core/errors.js'
import type { Baseline } from './scan-types.js'

export interface FileDigest {
  readonly sha256: string
  readonly size: number
}

export async function digestFile (file: string): Promise<FileDigest> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { sha256: hash.digest('hex'), size }
}

/** Checks that a freshly written database decompresses and ends with @@end_db (AIDE's own end marker). */
export async function assertCompleteDatabase (file: string): Promise<void> {
  let tail = ''
  let sawBegin = false
  try {
    const source = createReadStream(file)
    const gunzip = createGunzip()
    source.pipe(gunzip)
    source.once('error', err => gunzip.destroy(err))
    for await (const chunk of gunzip) {
      const text = (chunk as Buffer).toString('latin1')
      if (!sawBegin) sawBegin = (tail + text).includes('@@begin_db')
      tail = (tail + text).slice(-64)
    }
  } catch (err) {
    throw new AideError('PFIM_AIDE_REPORT_INVALID', `new AIDE database ${file} is not a complete gzip file: ${(err as Error).message}`, { where: file, cause: err })
  }
  if (!sawBegin || !/@@end_db\s*$/.test(tail)) {
    throw new AideError('PFIM_AIDE_REPORT_INVALID', `new AIDE database ${file} is incomplete (no @@begin_db … @@end_db)`, { where: file })
  }
}

/** Throws PFIM_BASELINE_MISSING or PFIM_BASELINE_TAMPERED unless the file is exactly the recorded baseline. */
export async function verifyBaseline (file: string, baseline: Baseline): Promise<void> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new AideError('PFIM_BASELINE_MISSING', `AIDE database ${file} recorded at baseline ${baseline.id} is missing; it was removed outside the agent (run "podsec-fim reinit" to take a new baseline on purpose)`, { where: file })
    }
    throw err
  })
  const found = info.size === baseline.size ? await digestFile(file) : { size: info.size, sha256: '(not computed)' }
  if (found.size !== baseline.size || found.sha256 !== baseline.sha256) {
    throw new AideError('PFIM_BASELINE_TAMPERED',
      `AIDE database ${file} was changed outside the agent: expected ${baseline.size} bytes sha256 ${baseline.sha256}, found ${found.size} bytes sha256 ${found.sha256}; not re-baselining (run "podsec-fim reinit" once the cause is known)`,
      { where: file })
  }
}
