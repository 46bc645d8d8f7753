/** registries.d: every *.yaml merged (podsec read only default.yaml), conflicts across files, malformed YAML. */
import t from 'tap'
import { join } from 'node:path'
import { mkdirSync, writeFileSync } from 'node:fs'
import { readRegistriesDir, parseRegistriesYaml } from '../../src/agent/registries-d.js'
import { PolicyFileError } from '../../src/agent/policy-file-error.js'

async function failure (dir: string): Promise<PolicyFileError> {
  try {
    await readRegistriesDir(dir)
  } catch (err) {
    if (err instanceof PolicyFileError) return err
    throw err
  }
  throw new Error('read without an error')
}

t.test('all *.yaml files are merged; other files are ignored; the old sigstore name counts as lookaside', async t => {
  const dir = t.testdir({
    'default.yaml': 'docker:\n  quay.io:\n    lookaside: https://q/sig\n',
    'local.yaml': 'default-docker:\n  sigstore: http://sigstore.local:81/sigstore/\n  use-sigstore-attachments: true\n',
    'notes.txt': 'default-docker: {}\n',
    'empty.yaml': '',
  })
  const cfg = await readRegistriesDir(dir)
  t.same(cfg.files, ['default.yaml', 'empty.yaml', 'local.yaml'].map(f => join(dir, f)))
  t.same(cfg.defaultDocker, { lookaside: 'http://sigstore.local:81/sigstore/', lookasideStaging: null, useSigstoreAttachments: true })
  t.equal(cfg.docker['quay.io']?.lookaside, 'https://q/sig')
  t.same(await readRegistriesDir(join(dir, 'missing')), { defaultDocker: null, docker: {}, files: [] }, 'a missing directory is empty')
})

t.test('a section in two files is an error naming both files', async t => {
  const twoDefaults = t.testdir({ 'a.yaml': 'default-docker:\n  lookaside: http://a/\n', 'b.yaml': 'default-docker:\n  lookaside: http://b/\n' })
  const err = await failure(twoDefaults)
  t.match(err.message, `${join(twoDefaults, 'b.yaml')}: default-docker is already set in ${join(twoDefaults, 'a.yaml')}`)
  const twoScopes = join(twoDefaults, 'scopes')
  mkdirSync(twoScopes)
  writeFileSync(join(twoScopes, 'a.yaml'), 'docker:\n  quay.io:\n    lookaside: http://a/\n')
  writeFileSync(join(twoScopes, 'b.yaml'), 'docker:\n  quay.io:\n    lookaside: http://b/\n')
  t.match((await failure(twoScopes)).message, /docker scope "quay.io" is already set in .*a\.yaml/)
})

t.test('malformed YAML and unknown keys fail with the file and line', async t => {
  const cases: Array<[string, RegExp]> = [
    ['default-docker:\n  lookaside: [unclosed\n', /not valid YAML/],
    ['default-docker:\n  lookaside: http://a/\n  lookaside: http://b/\n', /\(line 3\): not valid YAML: Map keys must be unique/],
    ['- a\n- b\n', /\(line 1\): the document must be a YAML mapping/],
    ['default-docker:\n  lookaside: http://a/\nextra: 1\n', /\(line 3\): unknown top-level key "extra"/],
    ['default-docker:\n  lookasid: http://a/\n', /\(line 2\): unknown key "lookasid" in default-docker/],
    ['default-docker:\n  lookaside: 5\n', /\(line 2\): default-docker\.lookaside must be a URL string/],
    ['default-docker:\n  use-sigstore-attachments: "yes"\n', /must be true or false/],
    ['default-docker: http://a/\n', /\(line 1\): default-docker must be a mapping/],
    ['docker:\n  - quay.io\n', /\(line 1\): docker must be a mapping of scopes/],
    ['default-docker:\n  lookaside: http://a/\n  sigstore: http://a/\n', /sets both lookaside and its old name sigstore/],
  ]
  for (const [text, message] of cases) {
    let err: unknown = null
    try { parseRegistriesYaml('/r/x.yaml', text) } catch (e) { err = e }
    t.ok(err instanceof PolicyFileError, text)
    t.equal((err as PolicyFileError).code, 'PFIM_POLICY_FILE_INVALID')
    t.match((err as PolicyFileError).message, /^\/r\/x\.yaml/)
    t.match((err as PolicyFileError).message, message, text)
  }
})

// A directory where a file is expected fails to read even for root (the tests may run as root).
t.test('a file that cannot be read is PFIM_POLICY_FILE_UNREADABLE', async t => {
  const dir = t.testdir({ 'ok.yaml': '' })
  mkdirSync(join(dir, 'dir.yaml'))
  const err = await failure(dir)
  t.equal(err.code, 'PFIM_POLICY_FILE_UNREADABLE')
  t.match(err.message, /dir\.yaml: cannot read/)
})
