/**
 * `podsec-fim report`: integrity failures and findings new since the last mailed report, or
 * (`--digest`) the daily digest. Without --mail it only shows what would be sent and writes
 * nothing. With --mail the cursor moves only after the MTA accepted the message: a failed send
 * leaves it in place, so the next cron run sends the same news again; nothing is lost, and
 * nothing accepted is sent twice.
 */
import { CursorStore } from '../../agent/cursor-store.js'
import { openStore, stateDbPath, type Store } from '../../agent/store.js'
import { StoreError } from '../../core/errors.js'
import { positiveInteger, type CommandSpec } from '../command-spec.js'
import type { CliContext } from '../context.js'
import { EXIT } from '../exit-codes.js'
import { createMailer, type Mailer, type MailMessage, type SentMail } from '../mailer.js'
import { ReportCursor } from '../report-cursor.js'
import { CURSOR_START, isEmpty, readDigest, readEventReport, type MailCursor, type Report } from '../report-model.js'
import { digestBody, digestSubject, eventBody, eventSubject } from '../report-text.js'

const EVENTS_CURSOR = 'mail-report'
const DIGEST_CURSOR = 'mail-digest'
const DAY_MS = 86_400_000

interface DigestCursor { readonly until: number }

interface Flags { readonly isMail: boolean, readonly isQuiet: boolean, readonly limit: number }

function withReadStore<T> (file: string, read: (store: Store) => T): T {
  const store = openStore(file, { readonly: true })
  try {
    return read(store)
  } finally {
    store.close()
  }
}

/** A missing or unreadable database says so (66, 77) before the writer tries to lock beside it. */
function assertStore (file: string): void {
  withReadStore(file, () => undefined)
}

function message (report: Report, limit: number): MailMessage {
  const isDigest = report.kind === 'digest'
  return {
    subject: isDigest ? digestSubject(report) : eventSubject(report),
    text: isDigest ? digestBody(report, { limit }) : eventBody(report, { limit }),
    // RFC 3834: vacation responders must not answer; the node header lets mail rules sort by node.
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Podsec-Fim-Node': report.node, 'X-Podsec-Fim-Report': report.kind },
  }
}

function show (ctx: CliContext, report: Report, limit: number): void {
  if (ctx.isJson) {
    ctx.out.json({ report, mail: null })
    return
  }
  const m = message(report, limit)
  ctx.out.text(`Subject: ${m.subject}\n\n${m.text}`)
}

async function send (mailer: Mailer, report: Report, limit: number): Promise<SentMail & { via: string }> {
  return { ...await mailer.send(message(report, limit)), via: mailer.via }
}

/**
 * The mailer is made before anything is read, so a broken mail config fails every run (and cron
 * mails the error), not only the first run that has news.
 */
function openMailer (ctx: CliContext): Mailer {
  const config = ctx.config()
  return createMailer(config.mail, config.nodeName)
}

/** Moves the cursor after a send; a failure here is the one case that can repeat a mail, so it says so. */
function advanceAfterSend<T> (cursor: ReportCursor, sent: SentMail | null, next: (current: T | null) => T): void {
  try {
    cursor.advance(next)
  } catch (err) {
    if (sent === null) throw err
    throw new StoreError('PFIM_STORE_FAILED', `the report was mailed (${sent.messageId}) but its cursor could not be written, so the next run mails it again: ${(err as Error).message}`, { where: cursor.name, cause: err })
  }
}

function sentNote (ctx: CliContext, report: Report, sent: SentMail & { via: string }, flags: Flags): void {
  if (ctx.isJson) ctx.out.json({ report, mail: sent })
  else if (!flags.isQuiet) ctx.out.note(`mailed to ${sent.to} via ${sent.via}: ${message(report, flags.limit).subject}`)
}

/** The mailer, then the cursor (with its lock) for one mailed report; both closed afterwards. */
async function withMailing (ctx: CliContext, file: string, name: string, use: (mailer: Mailer, cursor: ReportCursor) => Promise<number>): Promise<number> {
  assertStore(file)
  const mailer = openMailer(ctx)
  try {
    const cursor = ReportCursor.open(file, name, { pid: ctx.pid, now: ctx.now })
    try {
      return await use(mailer, cursor)
    } finally {
      cursor.close()
    }
  } finally {
    mailer.close()
  }
}

function maxCursor (a: MailCursor, b: MailCursor): MailCursor {
  return { scanId: Math.max(a.scanId, b.scanId), findingId: Math.max(a.findingId, b.findingId), findingSeenAt: Math.max(a.findingSeenAt, b.findingSeenAt) }
}

function nothingNew (ctx: CliContext, report: Report, flags: Flags): number {
  if (ctx.isJson) ctx.out.json({ report, mail: null })
  else if (!flags.isQuiet) ctx.out.note(`nothing new since the last mailed report (scans after ${report.kind === 'events' ? report.since.scanId : '-'}); nothing sent`)
  return EXIT.OK
}

async function eventsReport (ctx: CliContext, flags: Flags): Promise<number> {
  const file = stateDbPath(ctx.stateDir())
  const node = ctx.config().nodeName
  if (!flags.isMail) {
    const report = withReadStore(file, store => readEventReport(store, node, new CursorStore(store.db).get<MailCursor>(EVENTS_CURSOR) ?? CURSOR_START, ctx.now()))
    if (isEmpty(report)) return nothingNew(ctx, report, flags)
    show(ctx, report, flags.limit)
    return EXIT.OK
  }
  return withMailing(ctx, file, EVENTS_CURSOR, async (mailer, cursor) => {
    const since = cursor.get<MailCursor>() ?? CURSOR_START
    const events = withReadStore(file, store => readEventReport(store, node, since, ctx.now()))
    const sent = isEmpty(events) ? null : await send(mailer, events, flags.limit)
    // Also when nothing was sent: the scans passed over were news to nobody.
    advanceAfterSend<MailCursor>(cursor, sent, current => maxCursor(current ?? CURSOR_START, events.next))
    if (sent === null) return nothingNew(ctx, events, flags)
    sentNote(ctx, events, sent, flags)
    return EXIT.OK
  })
}

async function digestReport (ctx: CliContext, flags: Flags): Promise<number> {
  const file = stateDbPath(ctx.stateDir())
  const node = ctx.config().nodeName
  const now = ctx.now()
  const from = (until: number | undefined): number => until ?? now - DAY_MS
  if (!flags.isMail) {
    const digest = withReadStore(file, store => readDigest(store, node, from(new CursorStore(store.db).get<DigestCursor>(DIGEST_CURSOR)?.until), now))
    show(ctx, digest, flags.limit)
    return EXIT.OK
  }
  return withMailing(ctx, file, DIGEST_CURSOR, async (mailer, cursor) => {
    const digest = withReadStore(file, store => readDigest(store, node, from(cursor.get<DigestCursor>()?.until), now))
    const sent = await send(mailer, digest, flags.limit)
    advanceAfterSend<DigestCursor>(cursor, sent, current => ({ until: Math.max(current?.until ?? 0, now) }))
    sentNote(ctx, digest, sent, flags)
    return EXIT.OK
  })
}

export const report: CommandSpec = {
  name: 'report',
  description: 'Integrity failures (Failed/Errored scans with their files) and findings (denied API requests, ...) new since the last mailed report; --mail sends them (nothing new: nothing sent), --digest the daily digest.',
  example: 'machinectl -q shell u7s-admin@ /usr/bin/podsec-fim report   (as root; cron adds --mail --quiet)',
  exits: [[0, 'shown, mailed, or nothing new'], [66, 'no state database yet'], [70, 'mailed, but the cursor could not be written: the next run repeats that mail'], [75, 'the MTA did not accept the mail (the cursor stays; the next run retries), or another report is running'], [77, 'this user may not read or write the state database'], [78, 'invalid config (mail.*)']],
  options: [
    { flags: '--mail', description: 'send the report (mail.transport, mail.to) and advance the report cursor once the MTA accepted it' },
    { flags: '--digest', description: 'the daily digest: counts since the last digest (or 24 h), the baseline, the last check, what is still open; always sent' },
    { flags: '--quiet', description: 'say nothing on success or when nothing is new (for cron, which mails any output); errors are still printed' },
    { flags: '--limit <n>', description: 'list at most n files per scan and n findings per section in the text; the rest are counted', parse: positiveInteger('--limit'), default: 50 },
  ],
  async run (ctx, _args, opts) {
    const flags: Flags = { isMail: opts.mail === true, isQuiet: opts.quiet === true, limit: opts.limit as number }
    return opts.digest === true ? digestReport(ctx, flags) : eventsReport(ctx, flags)
  },
}
