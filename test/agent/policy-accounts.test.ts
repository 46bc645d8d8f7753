/** /etc/passwd and /etc/group: membership as `id -G -n` reports it, and malformed lines named. */
import t from 'tap'
import { groupsOf, parseAccounts } from '../../src/agent/policy-accounts.js'
import { PolicyFileError } from '../../src/agent/policy-file-error.js'

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nbob:x:1001:900::/home/bob:/bin/sh\n'
const GROUP = 'root:x:0:\nalice:x:1000:\npodman:x:900:alice\npodman_dev:x:901:\nwheel:x:10:alice,bob\n'

t.test('groups are the primary group, then every group listing the user; exact names', async t => {
  const a = parseAccounts('/etc/passwd', PASSWD, '/etc/group', GROUP)
  t.same(groupsOf(a, 'alice'), ['alice', 'podman', 'wheel'])
  t.same(groupsOf(a, 'bob'), ['podman', 'wheel'], 'primary group by gid')
  t.same(groupsOf(a, 'root'), ['root'], 'root keeps its group (podsec dropped it in check-images)')
  t.equal(groupsOf(a, 'carol'), null)
  t.equal(a.users.get('bob')?.uid, 1001)
})

t.test('malformed lines are refused with the file and line', async t => {
  const cases: Array<[string, string, RegExp]> = [
    ['root:x:0:0:root:/root\n', GROUP, /\/etc\/passwd \(line 1\): has 6 fields, expected 7/],
    ['root:x:zero:0:root:/root:/bin/sh\n', GROUP, /\/etc\/passwd \(line 1\): uid "zero" is not a number/],
    [':x:0:0:root:/root:/bin/sh\n', GROUP, /the name field is empty/],
    [PASSWD, 'root:x:0:\npodman:x:900\n', /\/etc\/group \(line 2\): has 3 fields, expected 4/],
    [PASSWD, 'root:x:-1:\n', /\/etc\/group \(line 1\): gid "-1" is not a number/],
  ]
  for (const [passwd, group, message] of cases) {
    let err: unknown = null
    try { parseAccounts('/etc/passwd', passwd, '/etc/group', group) } catch (e) { err = e }
    t.ok(err instanceof PolicyFileError)
    t.match((err as PolicyFileError).message, message)
  }
})
