/**
 * Sends the reports through nodemailer: the local sendmail program by default (what cron's own
 * mail uses; nodemailer spawns it with an argument array, never a shell), or an SMTP server.
 * Every failure becomes a MailError naming the transport, so cron's mail and the exit code say
 * which MTA refused. Timeouts are bounded: a hung SMTP server must not hold the report's lock
 * past the next cron run.
 */
import nodemailer from 'nodemailer'
import type { AgentConfig } from '../core/config.js'
import { ConfigError, MailError } from '../core/errors.js'

export interface MailMessage {
  readonly subject: string
  readonly text: string
  readonly headers: Readonly<Record<string, string>>
}

export interface SentMail {
  readonly messageId: string
  readonly to: string
  readonly accepted: readonly string[]
  readonly rejected: readonly string[]
}

export interface Mailer {
  /** "sendmail /usr/sbin/sendmail" or "smtp://host:port", for messages (never a password). */
  readonly via: string
  send (message: MailMessage): Promise<SentMail>
  close (): void
}

const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 }

function smtpUrl (mail: AgentConfig['mail']): URL {
  const text = mail.smtpUrl
  const url = text === null ? null : new URL(text)
  if (url === null || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')) {
    throw new ConfigError(`config key "mail.smtpUrl" must be an smtp:// or smtps:// URL when "mail.transport" is "smtp", got ${JSON.stringify(text)}`, { where: 'mail.smtpUrl' })
  }
  return url
}

function transportFor (mail: AgentConfig['mail']): { via: string, transport: nodemailer.Transporter } {
  if (mail.transport === 'sendmail') {
    return { via: `sendmail ${mail.sendmail}`, transport: nodemailer.createTransport({ sendmail: true, path: mail.sendmail, newline: 'unix' }) }
  }
  const url = smtpUrl(mail)
  return { via: `${url.protocol}//${url.host}`, transport: nodemailer.createTransport({ url: url.href, ...SMTP_TIMEOUTS }) }
}

/**
 * `root`, `root, admin@example.org`: as address objects, because nodemailer drops a plain
 * string without a domain from both the envelope and the To header, while cron's own mail and
 * the sendmail program take local names ("root") as they are.
 */
function recipients (to: string): Array<{ name: string, address: string }> {
  return to.split(',').map(a => a.trim()).filter(a => a !== '').map(address => ({ name: '', address }))
}

function addresses (list: ReadonlyArray<string | { address: string }> | undefined): string[] {
  return (list ?? []).map(a => (typeof a === 'string' ? a : a.address))
}

export function createMailer (mail: AgentConfig['mail'], nodeName: string): Mailer {
  const { via, transport } = transportFor(mail)
  const from = mail.from ?? `podsec-fim@${nodeName}`
  const where = mail.transport === 'sendmail' ? 'mail.sendmail' : 'mail.smtpUrl'
  return {
    via,
    async send (message) {
      let info: { messageId: string, envelope?: { to?: string[] }, accepted?: Array<string | { address: string }>, rejected?: Array<string | { address: string }> }
      try {
        // Quoted-printable, never base64: ASCII lines stay as they are for `mail`, long or
        // non-ASCII file names are still exact for mutt.
        info = await transport.sendMail({ from, to: recipients(mail.to), subject: message.subject, text: message.text, textEncoding: 'quoted-printable', headers: { ...message.headers } }) as typeof info
      } catch (err) {
        throw new MailError(`mail to ${mail.to} via ${via} was not accepted: ${(err as Error).message}`, { where, cause: err })
      }
      // The sendmail program accepts the whole envelope or fails; only SMTP answers per recipient.
      return { messageId: info.messageId, to: mail.to, accepted: addresses(info.accepted ?? info.envelope?.to), rejected: addresses(info.rejected) }
    },
    close () {
      transport.close()
    },
  }
}
