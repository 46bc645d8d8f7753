/** Severity by path (podsec's rule, minus its blanket excludes) and podsec's exact line layout. */
import t from 'tap'
import { classify, podsecLine, safeToken } from '../../src/agent/container-classify.js'

const FILE = 0o100644
const EXEC = 0o100755

t.test('podsec: home and /etc are warnings with podsec\'s words, the rest is critical', async t => {
  const cases: Array<[string, string, number | null, string | null, string | null]> = [
    ['/home/user/.ssh/authorized_keys', 'CREATE', FILE, 'warning', 'in home directory'],
    ['/root/.bashrc', 'MODIFY', FILE, 'warning', 'in home directory'],
    ['/root', 'ATTRIB,ISDIR', 0o40700, 'warning', 'in home directory'],
    ['/etc/passwd', 'MODIFY', FILE, 'warning', 'in configuration directory'],
    ['/usr/bin/ls', 'MODIFY', EXEC, 'critical', null],
    ['/var/spool/cron/root', 'CREATE', FILE, 'critical', null],
    ['/var/lib/app/db', 'DELETE', null, 'critical', null],
    ['/homework/x', 'CREATE', FILE, 'critical', null],
    ['/etcetera', 'CREATE', FILE, 'critical', null],
  ]
  for (const [path, event, mode, severity, where] of cases) {
    t.match(classify(path, event, mode), { severity, where }, path)
  }
})

t.test('fixed blanket excludes: scratch dirs are info unless executable; setuid is critical anywhere', async t => {
  t.match(classify('/tmp/x', 'CREATE', FILE), { severity: 'info', prefix: null, priority: null })
  t.match(classify('/var/log/app.log', 'MODIFY', FILE), { severity: 'info' })
  t.match(classify('/run/app.pid', 'CREATE', FILE), { severity: 'info' })
  t.match(classify('/tmp/x', 'ATTRIB', EXEC), { severity: 'critical', prefix: 'Critical', priority: 'crit' })
  t.match(classify('/dev/shm/payload', 'CREATE', EXEC), { severity: 'critical' })
  t.match(classify('/home/u/bin/su', 'ATTRIB', 0o104755), { severity: 'critical', reason: 'setuid or setgid file' })
  t.match(classify('/tmp/g', 'ATTRIB', 0o102755), { severity: 'critical' })
  t.match(classify('/tmp/d', 'CREATE,ISDIR', 0o41777), { severity: 'info' }, 'a sticky directory is not setuid')
})

t.test('kept excludes: pseudo filesystems and the mount points the runtime creates at start', async t => {
  t.equal(classify('/proc/1/environ', 'MODIFY', FILE), null)
  t.equal(classify('/sys/kernel/x', 'CREATE', FILE), null)
  t.equal(classify('/etc/resolv.conf', 'CREATE', FILE), null)
  t.equal(classify('/dev', 'CREATE,ISDIR', 0o40755), null)
  t.equal(classify('/var/run/secrets/kubernetes.io/serviceaccount', 'CREATE,ISDIR', 0o40755), null)
  t.match(classify('/etc/resolv.conf', 'MODIFY', FILE), { severity: 'warning' }, 'changing a mount point file later is reported')
  t.match(classify('/etc/hosts', 'CREATE,DELETE', null), { severity: 'warning' })
})

t.test('podsec line layout and tokens', async t => {
  t.equal(podsecLine('Critical', 'CREATE', 'shop/web-0/nginx', null, '/usr/bin/x'), 'Critical: An event CREATE occurred in the container shop/web-0/nginx on the file /usr/bin/x')
  t.equal(podsecLine('Warning', 'MODIFY', 'db', 'in configuration directory', '/etc/passwd'), 'Warning: An event MODIFY occurred in the container db in configuration directory on the file /etc/passwd')
  t.equal(safeToken('a b\nc'), 'a\\x20b\\nc')
})
