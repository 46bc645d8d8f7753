/**
 * A real system tree for the policy rules in a temp dir: etc/containers (policy.json,
 * registries.d), etc/passwd, etc/group and home/<user> with container storage and
 * ~/.config/containers. Not a test file itself.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PolicyRoots } from '../../src/agent/policy-facts.js'

/** podsec's intended hardened policy: reject by default, registry.local signed. */
export const GOOD_POLICY = JSON.stringify({
  default: [{ type: 'reject' }],
  transports: { docker: { 'registry.local': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/var/sigstore/keys/group1.pgp' }] } },
}, null, 2)

export const GOOD_REGISTRIES = 'default-docker:\n  lookaside: http://sigstore.local:81/sigstore/\n'

export const STORAGE_CONF = '[storage]\ndriver = "overlay"\n'

export interface TreeUser {
  readonly name: string
  readonly uid: number
  /** Supplementary groups (the primary group is the user's own). */
  readonly groups?: readonly string[]
  /** Creates ~/.local/share/containers/storage/overlay (population A). */
  readonly hasStorage?: boolean
  readonly policy?: string
  readonly registries?: Readonly<Record<string, string>>
  readonly storageConf?: string
}

export interface TreeSpec {
  readonly policy?: string | null
  readonly registries?: Readonly<Record<string, string>>
  readonly users?: readonly TreeUser[]
}

const SYSTEM_GROUPS = ['wheel', 'podman', 'podman_dev']

export function accountsText (users: readonly TreeUser[]): { passwd: string, group: string } {
  const passwd = ['root:x:0:0:root:/root:/bin/bash', ...users.map(u => `${u.name}:x:${u.uid}:${u.uid}::/home/${u.name}:/bin/bash`)]
  const group = ['root:x:0:', ...users.map(u => `${u.name}:x:${u.uid}:`)]
  SYSTEM_GROUPS.forEach((g, i) => {
    const members = users.filter(u => (u.groups ?? []).includes(g)).map(u => u.name)
    group.push(`${g}:x:${900 + i}:${members.join(',')}`)
  })
  return { passwd: passwd.join('\n') + '\n', group: group.join('\n') + '\n' }
}

function writeAll (dir: string, files: Readonly<Record<string, string>>): void {
  mkdirSync(dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
}

export function writeUser (roots: PolicyRoots, u: TreeUser): void {
  const home = join(roots.homes, u.name)
  mkdirSync(home, { recursive: true })
  if (u.hasStorage === true) mkdirSync(join(home, '.local/share/containers/storage/overlay'), { recursive: true })
  const config = join(home, '.config/containers')
  if (u.policy !== undefined || u.registries !== undefined || u.storageConf !== undefined) mkdirSync(config, { recursive: true })
  if (u.policy !== undefined) writeFileSync(join(config, 'policy.json'), u.policy)
  if (u.registries !== undefined) writeAll(join(config, 'registries.d'), u.registries)
  if (u.storageConf !== undefined) writeFileSync(join(config, 'storage.conf'), u.storageConf)
}

/** Writes the tree under `root` and returns its roots. */
export function writePolicyTree (root: string, spec: TreeSpec): PolicyRoots {
  const roots: PolicyRoots = { containersDir: join(root, 'etc/containers'), homes: join(root, 'home'), passwdFile: join(root, 'etc/passwd'), groupFile: join(root, 'etc/group') }
  mkdirSync(roots.containersDir, { recursive: true })
  mkdirSync(roots.homes, { recursive: true })
  if (spec.policy !== null) writeFileSync(join(roots.containersDir, 'policy.json'), spec.policy ?? GOOD_POLICY)
  writeAll(join(roots.containersDir, 'registries.d'), spec.registries ?? { 'default.yaml': GOOD_REGISTRIES })
  const users = spec.users ?? []
  const { passwd, group } = accountsText(users)
  writeFileSync(roots.passwdFile, passwd)
  writeFileSync(roots.groupFile, group)
  for (const u of users) writeUser(roots, u)
  return roots
}
