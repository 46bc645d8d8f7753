/**
 * The real MTA for mail tests: Debian's exim4 (installed local-only by .ci/deps.sh), its
 * /usr/sbin/sendmail, and the mailbox /var/mail/pfim-mail of the test user deps.sh creates.
 * Messages are found by a marker unique to the test run, so earlier runs' mail in the same
 * mailbox never matches. For SMTP, a second exim daemon of our own listens on a loopback port
 * for the duration of a test and is stopped by its pid.
 */
import { spawn, execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { until } from './until.js'

export const SENDMAIL = '/usr/sbin/sendmail'
export const MAIL_USER = 'pfim-mail'
export const MAILBOX = `/var/mail/${MAIL_USER}`
const EXIM = '/usr/sbin/exim4'

/** Fails the test run loudly when the MTA or the test user is missing: never a silent skip. */
export function requireMta (): void {
  for (const file of [SENDMAIL, EXIM]) {
    try {
      accessSync(file, constants.X_OK)
    } catch {
      throw new Error(`${file} is missing: the mail tests need a local MTA; run .ci/deps.sh as root (installs exim4-daemon-light)`)
    }
  }
  try {
    execFileSync('id', ['-u', MAIL_USER], { stdio: 'ignore' })
  } catch {
    throw new Error(`user ${MAIL_USER} is missing: run .ci/deps.sh as root (creates the mail test user)`)
  }
}

/** A name no earlier run used: node names and subjects carry it. */
export function uniqueMarker (prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

export interface Delivered {
  readonly headers: ReadonlyMap<string, string>
  readonly body: string
  readonly raw: string
}

function decodeQuotedPrintable (text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
  return Buffer.from(bytes, 'latin1').toString('utf8')
}

function parseMessage (raw: string): Delivered {
  const split = raw.indexOf('\n\n')
  const head = raw.slice(0, split).replace(/\n[ \t]+/g, ' ')
  const headers = new Map<string, string>()
  for (const line of head.split('\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
  // mbox: a body line starting with "From " was written as ">From ", and a blank line ends each message.
  const encoded = raw.slice(split + 2).replace(/\n\n$/, '\n').replace(/^>From /gm, 'From ')
  const isQp = (headers.get('content-transfer-encoding') ?? '').toLowerCase() === 'quoted-printable'
  return { headers, body: isQp ? decodeQuotedPrintable(encoded) : encoded, raw }
}

/**
 * The mailbox text, or undefined while exim is delivering into it. exim appends a message in
 * three writes (the mbox "From " line, which carries the envelope sender and so our marker, then
 * the message, then a blank line) while it holds `<mailbox>.lock`; a read between them saw a
 * message with no headers and no body (stop 11's red CI). So: no lock before the read, none
 * after it, and the file no longer than what was read.
 */
function settledMailbox (mailbox: string): string | undefined {
  const lock = `${mailbox}.lock`
  if (existsSync(lock)) return undefined
  if (!existsSync(mailbox)) return ''
  const bytes = readFileSync(mailbox)
  if (existsSync(lock) || statSync(mailbox).size !== bytes.length) return undefined
  return bytes.toString('utf8')
}

/** Messages in the mailbox whose raw text contains `marker`, read when no delivery is under way. */
export async function delivered (marker: string, mailbox = MAILBOX): Promise<Delivered[]> {
  const text = await until(`${mailbox}.lock to go (see /var/log/exim4/mainlog)`, () => settledMailbox(mailbox), 30_000)
  return text.split(/^(?=From \S+ )/m).filter(m => m.includes(marker)).map(parseMessage)
}

/** Polls the mailbox until `count` messages with the marker arrived (exim delivers in the background). */
export async function waitForMail (marker: string, count = 1, timeoutMs = 60_000, mailbox = MAILBOX): Promise<Delivered[]> {
  return until(`${count} message(s) with ${marker} in ${mailbox} (see /var/log/exim4/mainlog)`, async () => {
    const found = await delivered(marker, mailbox)
    return found.length >= count && found
  }, timeoutMs)
}

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

/** Whether something accepts a TCP connection on the loopback port now. */
async function listening (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
}

/**
 * exim itself as an SMTP server on a loopback port (Debian's config: local delivery, STARTTLS
 * with its self-signed certificate). Stopped by its pid at the end of the test.
 */
export async function startSmtpServer (t: Test): Promise<{ port: number }> {
  const port = await freePort()
  const dir = t.testdir()
  const child = spawn(EXIM, ['-bdf', '-oX', `<; 127.0.0.1.${port}`, '-oP', join(dir, 'exim.pid')], { stdio: 'ignore' })
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await exited
  })
  await until(`exim to listen on 127.0.0.1:${port}`, async () => listening(port), 30_000)
  return { port }
}
