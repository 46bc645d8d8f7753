/**
 * Users and group membership from /etc/passwd and /etc/group, read as files (podsec ran
 * `id -g -n` / `id -G -n` per user; a file is watchable and needs no process). A user's groups
 * are the primary group plus every group listing them, as `id -G -n` prints them.
 * NSS sources other than files (LDAP, sssd) are not consulted.
 */
import { PolicyFileError } from './policy-file-error.js'

export interface Account {
  readonly name: string
  readonly uid: number
  readonly gid: number
  readonly home: string
}

export interface Accounts {
  readonly users: ReadonlyMap<string, Account>
  /** group name → gid and members */
  readonly groups: ReadonlyMap<string, { readonly gid: number, readonly members: ReadonlySet<string> }>
}

const ID = /^(0|[1-9][0-9]{0,9})$/

function records (file: string, text: string, fields: number): Array<{ parts: string[], line: number }> {
  const out: Array<{ parts: string[], line: number }> = []
  text.split('\n').forEach((raw, i) => {
    if (raw === '' || raw.startsWith('#')) return
    const parts = raw.split(':')
    const line = i + 1
    if (parts.length !== fields) throw new PolicyFileError(file, `has ${parts.length} fields, expected ${fields}`, { location: `line ${line}` })
    if (parts[0] === '') throw new PolicyFileError(file, 'the name field is empty', { location: `line ${line}` })
    out.push({ parts, line })
  })
  return out
}

function id (file: string, text: string | undefined, line: number, what: string): number {
  if (text === undefined || !ID.test(text)) throw new PolicyFileError(file, `${what} "${text ?? ''}" is not a number`, { location: `line ${line}` })
  return Number(text)
}

/** Parses /etc/passwd (7 fields) and /etc/group (4 fields); errors name the file and line. */
export function parseAccounts (passwdFile: string, passwd: string, groupFile: string, group: string): Accounts {
  const users = new Map<string, Account>()
  for (const { parts, line } of records(passwdFile, passwd, 7)) {
    const name = parts[0] as string
    users.set(name, { name, uid: id(passwdFile, parts[2], line, 'uid'), gid: id(passwdFile, parts[3], line, 'gid'), home: parts[5] as string })
  }
  const groups = new Map<string, { gid: number, members: Set<string> }>()
  for (const { parts, line } of records(groupFile, group, 4)) {
    const members = new Set((parts[3] as string).split(',').filter(m => m !== ''))
    groups.set(parts[0] as string, { gid: id(groupFile, parts[2], line, 'gid'), members })
  }
  return { users, groups }
}

/** The user's group names (primary first), or null when the user does not exist. */
export function groupsOf (accounts: Accounts, user: string): readonly string[] | null {
  const account = accounts.users.get(user)
  if (account === undefined) return null
  const names: string[] = []
  const primary = [...accounts.groups].find(([, g]) => g.gid === account.gid)
  if (primary !== undefined) names.push(primary[0])
  for (const [name, g] of accounts.groups) if (g.members.has(user) && !names.includes(name)) names.push(name)
  return names
}
