/**
 * The mail test helper reads a mailbox only between exim's deliveries. exim appends a message in
 * three writes under `<mailbox>.lock`, and its first write, the mbox "From " line, already holds
 * the envelope sender and so the test's marker: stop 11's CI read a message that was only that line.
 */
import t from 'tap'
import { appendFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { until } from '../helpers/until.js'
import { delivered, MAIL_USER, requireMta, SENDMAIL, uniqueMarker, waitForMail } from '../helpers/mail.js'

t.test('a message exim is still writing is not read', async t => {
  const box = join(t.testdir(), 'mbox')
  const marker = uniqueMarker('half')
  writeFileSync(`${box}.lock`, '')
  appendFileSync(box, `From podsec-fim@${marker} Tue Nov 24 02:53:08 2026\n`)
  let settled = false
  const waiting = waitForMail(marker, 1, 60_000, box).finally(() => { settled = true })
  // Many turns of the poller while the lock stands; none may return the half message.
  for (let i = 0; i < 20; i++) await new Promise(resolve => setTimeout(resolve, 25))
  t.equal(settled, false, 'nothing returned while the lock stands')
  appendFileSync(box, `Subject: whole ${marker}\nFrom: podsec-fim@${marker}\n\nbody\n\n`)
  rmSync(`${box}.lock`)
  const [mail] = await waiting
  t.equal(mail?.headers.get('subject'), `whole ${marker}`)
  t.equal(mail?.body, 'body\n')
})

t.test('a missing mailbox holds no mail yet', async t => {
  t.same(await delivered('anything', join(t.testdir(), 'none')), [])
})

t.test('real exim: messages read while others are delivered are always whole', async t => {
  requireMta()
  const marker = uniqueMarker('burst')
  const count = 12
  for (let i = 0; i < count; i++) {
    // -odb: exim delivers in the background, so deliveries overlap the reads below.
    execFileSync(SENDMAIL, ['-odb', '-f', `podsec-fim@${marker}`, MAIL_USER], { input: `Subject: ${marker} ${i}\n\nbody ${i}\n` })
  }
  const partial: string[] = []
  const whole = new RegExp(`^${marker} \\d+$`)
  const all = await until(`${count} messages with ${marker}`, async () => {
    const found = await delivered(marker)
    for (const mail of found) if (!whole.test(mail.headers.get('subject') ?? '')) partial.push(mail.raw)
    return found.length >= count && found
  })
  t.same(partial, [], 'every read saw whole messages only')
  t.same(all.map(m => m.body).sort(), Array.from({ length: count }, (_, i) => `body ${i}\n`).sort())
})
