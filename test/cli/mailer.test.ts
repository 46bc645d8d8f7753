/**
 * The mailer against the real MTA: exim's sendmail program, and exim as an SMTP server on a
 * loopback port (Debian's exim offers STARTTLS with a self-signed certificate).
 */
import t from 'tap'
import { parseConfig } from '../../src/core/config.js'
import { createMailer } from '../../src/cli/mailer.js'
import { freePort, MAIL_USER, requireMta, SENDMAIL, startSmtpServer, uniqueMarker, waitForMail } from '../helpers/mail.js'

requireMta()

function mailConfig (mail: Record<string, unknown>) {
  return parseConfig({ mail }, { HOME: '/nonexistent' }).mail
}

t.test('sendmail: a local name as recipient, long and non-ASCII lines arrive exactly', async t => {
  const marker = uniqueMarker('sendmail')
  const mailer = createMailer(mailConfig({ to: MAIL_USER, sendmail: SENDMAIL }), marker)
  t.teardown(() => mailer.close())
  const long = `  changed  /etc/${'very-long-directory-name/'.repeat(6)}файл с пробелом.conf`
  const sent = await mailer.send({ subject: `test ${marker}`, text: `first line\n${long}\n=3D stays literal\n`, headers: { 'X-Podsec-Fim-Node': marker } })
  t.same(sent.accepted, [MAIL_USER])
  t.equal(mailer.via, `sendmail ${SENDMAIL}`)
  const [mail] = await waitForMail(marker)
  t.equal(mail?.headers.get('subject'), `test ${marker}`)
  t.equal(mail?.headers.get('from'), `podsec-fim@${marker}`)
  t.match(mail?.headers.get('to'), new RegExp(`^${MAIL_USER}(@|$)`))
  t.equal(mail?.headers.get('content-transfer-encoding'), 'quoted-printable', 'never base64')
  t.equal(mail?.body, `first line\n${long}\n=3D stays literal\n`)
})

t.test('smtp: STARTTLS with the MTA\'s self-signed certificate is refused unless the URL allows it', async t => {
  const { port } = await startSmtpServer(t)
  const marker = uniqueMarker('smtp')
  const strict = createMailer(mailConfig({ transport: 'smtp', smtpUrl: `smtp://127.0.0.1:${port}`, to: `${MAIL_USER}@localhost` }), marker)
  t.teardown(() => strict.close())
  await t.rejects(strict.send({ subject: `strict ${marker}`, text: 'x\n', headers: {} }), {
    code: 'PFIM_MAIL_FAILED', where: 'mail.smtpUrl', message: new RegExp(`via smtp://127\\.0\\.0\\.1:${port} was not accepted: .*certificate`),
  })

  const local = createMailer(mailConfig({ transport: 'smtp', smtpUrl: `smtp://127.0.0.1:${port}/?tls.rejectUnauthorized=false`, to: `${MAIL_USER}@localhost`, from: `fim@${marker}.example` }), marker)
  t.teardown(() => local.close())
  const sent = await local.send({ subject: `smtp ${marker}`, text: 'over SMTP\n', headers: {} })
  t.same(sent.accepted, [`${MAIL_USER}@localhost`])
  const [mail] = await waitForMail(`smtp ${marker}`)
  t.equal(mail?.headers.get('from'), `fim@${marker}.example`)
  t.match(mail?.raw, /with esmtps/, 'the message travelled over TLS')
  t.equal(mail?.body, 'over SMTP\n')
})

t.test('smtp: nothing listening is a MailError naming the server', async t => {
  // A port that was free a moment ago: nothing listens there.
  const port = await freePort()
  const mailer = createMailer(mailConfig({ transport: 'smtp', smtpUrl: `smtp://127.0.0.1:${port}`, to: 'x@localhost' }), 'node')
  t.teardown(() => mailer.close())
  await t.rejects(mailer.send({ subject: 's', text: 't', headers: {} }), { name: 'MailError', code: 'PFIM_MAIL_FAILED', message: /via smtp:\/\/127\.0\.0\.1:\d+ was not accepted/ })
})

t.test('smtp transport needs an smtp(s) URL: a config error naming mail.smtpUrl', async t => {
  for (const smtpUrl of [null, 'https://mail.example.org']) {
    t.throws(() => createMailer(mailConfig({ transport: 'smtp', smtpUrl }), 'node'), { code: 'PFIM_CONFIG_INVALID', where: 'mail.smtpUrl' })
  }
})
