/** policy.json parsed as strictly as containers/image: valid forms, and every malformed one named by path and line. */
import t from 'tap'
import { parsePolicyJson } from '../../src/agent/policy-json.js'
import { PolicyFileError } from '../../src/agent/policy-file-error.js'

function failure (text: string): PolicyFileError {
  try {
    parsePolicyJson('/etc/containers/policy.json', text)
  } catch (err) {
    if (err instanceof PolicyFileError) return err
    throw err
  }
  throw new Error('parsed without an error')
}

t.test('the forms containers-policy.json(5) documents are read', async t => {
  const p = parsePolicyJson('p', JSON.stringify({
    default: [{ type: 'reject' }],
    transports: {
      docker: {
        'registry.local': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k.pgp', signedIdentity: { type: 'matchRepository' } }],
        'quay.io/x': [{ type: 'sigstoreSigned', keyPath: '/k.pub', signedIdentity: { type: 'matchRepository' } }],
        'docker.io': [{ type: 'insecureAcceptAnything' }],
      },
      'docker-daemon': { '': [{ type: 'insecureAcceptAnything' }] },
    },
  }))
  t.same(p.default, [{ type: 'reject' }])
  t.same(Object.keys(p.transports.docker ?? {}), ['registry.local', 'quay.io/x', 'docker.io'])
  t.same(p.transports['docker-daemon']?.[''], [{ type: 'insecureAcceptAnything' }])
  t.same(parsePolicyJson('p', '{"default":[{"type":"insecureAcceptAnything"}]}').transports, {}, 'transports is optional')
})

t.test('malformed files fail with the file, the JSON path and the line', async t => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"default": [\n  {"type": "reject"},\n]}', /\(line 3\): not valid JSON/],
    ['empty', '', /not valid JSON/],
    ['duplicate key', '{\n "default": [{"type": "reject"}],\n "default": [{"type": "insecureAcceptAnything"}]\n}', /\(line 3\): a field is duplicated/],
    ['not an object', '[]', /\(\$\): must be a JSON object/],
    ['default missing', '{"transports": {}}', /the "default" policy is missing/],
    ['unknown top-level field', '{"default": [{"type": "reject"}],\n "defaults": []}', /\(\$\.defaults, line 2\): unknown top-level field "defaults"/],
    ['empty default', '{"default": []}', /\$\.default, line 1\): must be a non-empty array/],
    ['unknown type', '{"default": [{"type": "acceptAll"}]}', /\$\.default\[0\]\.type, line 1\): unknown requirement type "acceptAll"/],
    ['missing type', '{"default": [{}]}', /\$\.default\[0\]\.type\): unknown requirement type undefined/],
    ['extra field', '{"default": [{"type": "reject", "keyPath": "/k"}]}', /\$\.default\[0\]\.keyPath, line 1\): unknown field "keyPath" for type reject/],
    ['signedBy without key', '{"default": [{"type": "signedBy", "keyType": "GPGKeys"}]}', /signedBy needs exactly one of keyPath, keyPaths, keyData \(got none\)/],
    ['signedBy two keys', '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/a", "keyData": "x"}]}', /got keyPath, keyData/],
    ['signedBy without keyType', '{"default": [{"type": "signedBy", "keyPath": "/a"}]}', /\$\.default\[0\]\.keyType\): signedBy needs keyType/],
    ['wrong field type', '{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPaths": "/a"}]}', /keyPaths, line 1\): must be an array of strings/],
    ['scope not a list', '{"default": [{"type": "reject"}], "transports": {"docker": {"registry.local": {"type": "reject"}}}}', /\$\.transports\.docker\["registry\.local"\], line 1\): must be a non-empty array/],
    ['transport not an object', '{"default": [{"type": "reject"}], "transports": {"docker": []}}', /\$\.transports\.docker, line 1\): must be a JSON object/],
  ]
  for (const [name, text, message] of cases) {
    const err = failure(text)
    t.equal(err.code, 'PFIM_POLICY_FILE_INVALID', name)
    t.equal(err.file, '/etc/containers/policy.json')
    t.match(err.message, /^\/etc\/containers\/policy\.json/, `${name}: the message names the file`)
    t.match(err.message, message, name)
  }
})
