import t from 'tap'
import { aidePaths, renderAideConf, reportArgs, escapeRegex, rewriteClusterLine, DEFAULT_RULES } from '../../src/agent/aide-conf.js'

const paths = aidePaths('/var/lib/u7s-admin/.local/state/podsec-fim')

t.test('built-in rules: our database lines first, state dir excluded', async t => {
  const text = renderAideConf({ paths, userConf: null, source: 'the built-in u7s rules', legacyDatabaseKey: false })
  const lines = text.split('\n')
  t.equal(lines[1], `database_in=file:${paths.database}`)
  t.equal(lines[2], `database_out=file:${paths.databaseNew}`)
  t.ok(lines.includes('!/var/lib/u7s-admin/\\.local/state/podsec-fim/aide($|/)'))
  t.ok(text.includes(DEFAULT_RULES))
  t.ok(text.endsWith('\n'))
})

t.test('a user config has its database, report and DBDIR/LOGDIR lines rewritten', async t => {
  const user = [
    '@@define DBDIR /var/lib/aide',
    '@@define LOGDIR /var/log/aide',
    'database=file:@@{DBDIR}/aide.db.gz',
    'database_in=file:/x',
    'database_out=file:@@{DBDIR}/aide.db.new.gz',
    'report_url=file:@@{LOGDIR}/aide.log',
    'report_url=stdout',
    '/etc/crowbar CONTENT',
    '!/usr/multipass',
    '=/boot$ p',
  ].join('\n')
  const text = renderAideConf({ paths, userConf: user, source: '/etc/podsec/fim/aide.conf', legacyDatabaseKey: false })
  t.match(text, `@@define DBDIR ${paths.dir}\n`)
  t.match(text, `@@define LOGDIR ${paths.dir}\n`)
  for (const l of ['database=file:@@{DBDIR}/aide.db.gz', 'database_in=file:/x', 'report_url=stdout', 'report_url=file:@@{LOGDIR}/aide.log']) {
    t.match(text, `# podsec-fim: replaced: ${l}\n`, l)
  }
  t.match(text, '\n/etc/crowbar CONTENT\n', 'rules are kept as written: the agent sees the host paths')
  t.match(text, '\n!/usr/multipass\n')
  t.match(text, '# Rendered by podsec-fim-agent from /etc/podsec/fim/aide.conf')
})

t.test('AIDE 0.16 gets database=, and plain reports only', async t => {
  const text = renderAideConf({ paths, userConf: '/x p', source: 's', legacyDatabaseKey: true })
  t.match(text, `\ndatabase=file:${paths.database}\n`)
  t.same(reportArgs(paths, false), ['-A', `report_url=file:${paths.logNew}`])
  t.same(reportArgs(paths, true), ['-A', 'report_format=plain', '-A', `report_url=file:${paths.logNew}`, '-A', 'report_format=json', '-A', `report_url=file:${paths.jsonReport}`])
})

t.test('regex escaping of literal paths', async t => {
  t.equal(escapeRegex('/a.b/c d/(x)+'), '/a\\.b/c\\ d/\\(x\\)\\+')
})

t.test('a FileIntegrity (FIO) config: /hostroot dropped from selection lines, verbose commented out', async t => {
  const fio = [
    '@@define DBDIR /hostroot/etc/kubernetes',
    '@@define LOGDIR /hostroot/etc/kubernetes',
    'database=file:@@{DBDIR}/aide.db.gz',
    'verbose=5',
    '/hostroot/boot/        CONTENT_EX',
    '!/hostroot/etc/mtab$',
    '=/hostroot/var/log$ PERMS',
    '  /hostroot/root/\\..* PERMS',
    '/hostroot CONTENT_EX',
    '/hostrootfs/x CONTENT_EX',
    '# /hostroot/in/a/comment',
    '@@include /etc/shadow',
    '  @@x_include /usr/local/bin ^.*$',
    '',
  ].join('\n')
  const statePaths = aidePaths('/state')
  const out = renderAideConf({ paths: statePaths, userConf: fio, source: 'cluster', legacyDatabaseKey: false, isFromCluster: true })
  t.match(out, '@@define DBDIR /state/aide\n@@define LOGDIR /state/aide\n')
  t.match(out, '# podsec-fim: replaced: database=file:@@{DBDIR}/aide.db.gz')
  t.match(out, '# podsec-fim: not supported by AIDE 0.18 (use log_level/report_level): verbose=5')
  t.match(out, '\n/boot/        CONTENT_EX\n!/etc/mtab$\n=/var/log$ PERMS\n  /root/\\..* PERMS\n/ CONTENT_EX\n/hostrootfs/x CONTENT_EX\n# /hostroot/in/a/comment\n')
  t.match(out, '# podsec-fim: not allowed in a config from the cluster: @@include /etc/shadow\n# podsec-fim: not allowed in a config from the cluster:   @@x_include /usr/local/bin ^.*$\n')
  const own = renderAideConf({ paths: statePaths, userConf: fio, source: 'file', legacyDatabaseKey: false })
  t.match(own, '\n/hostroot/boot/        CONTENT_EX\n', 'the agent\'s own config keeps its paths')
  t.equal(rewriteClusterLine('/hostroot/etc'), '/etc')
})
