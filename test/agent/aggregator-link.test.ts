/** The link's credentials and its answers' checks, over real TLS against protocolStubServer (an aggregator stand-in). */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { join } from 'node:path'
import { AggregatorLink, loadCredentials } from '../../src/agent/aggregator-link.js'
import { parseConfig } from '../../src/core/config.js'
import { checkAck } from '../../src/core/protocol.js'
import { makePki } from '../helpers/protocol-stub.js'

t.test('credentials from explicit files, and a token file', async t => {
  const dir = t.testdir()
  const pki = await makePki(dir)
  const client = await pki.client('system:node:node-a')
  writeFileSync(join(dir, 'token'), 'tok-9\n')
  const base = { nodeName: 'node-a', stateDir: join(dir, 's') }
  const explicit = await loadCredentials(parseConfig({ ...base, aggregator: { url: 'https://x', caFile: pki.caFile, certFile: client.certFile, keyFile: client.keyFile } }, {}).aggregator)
  t.match(explicit, { ca: /BEGIN CERTIFICATE/, cert: /BEGIN CERTIFICATE/, key: /PRIVATE KEY/, token: null })
  const token = await loadCredentials(parseConfig({ ...base, aggregator: { url: 'https://x', caFile: pki.caFile, tokenFile: join(dir, 'token') } }, {}).aggregator)
  t.match(token, { ca: /BEGIN CERTIFICATE/, cert: null, key: null, token: 'tok-9' })
  await t.rejects(loadCredentials(parseConfig({ ...base, aggregator: { url: 'https://x', certFile: client.certFile } }, {}).aggregator),
    { code: 'PFIM_AGGREGATOR_CREDENTIALS', message: /aggregator.keyFile must be set together with aggregator.certFile/ })
  writeFileSync(join(dir, 'empty'), '')
  await t.rejects(loadCredentials(parseConfig({ ...base, aggregator: { url: 'https://x', tokenFile: join(dir, 'empty') } }, {}).aggregator),
    { code: 'PFIM_AGGREGATOR_CREDENTIALS', message: /aggregator.tokenFile .*empty/ })
})

t.test('answers are checked: an invalid body names the field; no answer is UNAVAILABLE', async t => {
  const dir = t.testdir()
  const pki = await makePki(dir)
  // A deliberately broken aggregator (this test's own stand-in): 200 with an Ack missing its seq.
  const server = createServer({ key: readFileSync(pki.server.keyFile), cert: readFileSync(pki.server.certFile) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ node: 'node-a', ackedSeq: 'seven' }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  const port = (server.address() as { port: number }).port
  const credentials = { ca: readFileSync(pki.caFile, 'utf8'), cert: null, key: null, token: 't' }
  const link = new AggregatorLink({ url: `https://127.0.0.1:${port}/`, node: 'node-a', credentials, now: () => 42 })
  t.teardown(() => link.close())
  const signal = new AbortController().signal
  await t.rejects(link.exchange('POST', '/v1/reports', {}, checkAck, { signal }), { code: 'PFIM_AGGREGATOR_REJECTED', message: /invalid body: body\.ackedSeq: expected an integer/ })
  t.match(link.health, { isConnected: false, lastErrorAt: 42 })
  await new Promise<void>(resolve => server.close(() => resolve()))
  const gone = new AggregatorLink({ url: `https://127.0.0.1:${port}`, node: 'node-a', credentials, now: () => 43 })
  t.teardown(() => gone.close())
  await t.rejects(gone.exchange('GET', '/v1/directives', undefined, checkAck, { signal }), { code: 'PFIM_AGGREGATOR_UNAVAILABLE', message: /GET https:\/\/127\.0\.0\.1:\d+\/v1\/directives failed/ })
})
