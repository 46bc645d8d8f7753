/**
 * Reads everything the policy rules look at into one plain value (the I/O half; the rules in
 * policy-rules.ts are pure). Who is looked at follows podsec: root with the system policy, plus
 * every `<homes>/<dir>` holding `.local/share/containers/storage/overlay` (population A), and
 * every `<homes>/<dir>` whose name is a user in `podman` but not `podman_dev` (population B).
 * A file that cannot be read or parsed becomes a FileProblem; the users it concerns are left
 * out of the rules it would decide, never counted as compliant.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { ErrorCode } from '../core/errors.js'
import { groupsOf, parseAccounts, type Account, type Accounts } from './policy-accounts.js'
import { PolicyFileError, isMissing } from './policy-file-error.js'
import { parsePolicyJson, type PolicyJson } from './policy-json.js'
import { configDirWritable, type ImmutableProbe } from './policy-writable.js'
import { readRegistriesDir, type RegistriesConfig } from './registries-d.js'
import { checkStorageConf } from './storage-conf.js'

export interface PolicyRoots {
  /** `/etc/containers`: policy.json, registries.d/ */
  readonly containersDir: string
  /** `policy.homes`, `/home` by default. */
  readonly homes: string
  readonly passwdFile: string
  readonly groupFile: string
}

export function systemRoots (homes: string): PolicyRoots {
  return { containersDir: '/etc/containers', homes, passwdFile: '/etc/passwd', groupFile: '/etc/group' }
}

export interface FileProblem {
  readonly file: string
  readonly code: ErrorCode
  readonly message: string
}

export interface PolicyUser {
  readonly name: string
  readonly policyFile: string
  /** null: the policy file is missing, unreadable or invalid (see problems). */
  readonly policy: PolicyJson | null
  readonly registries: RegistriesConfig | null
  /** null: the user is not in /etc/passwd, or the account files are unusable. */
  readonly groups: readonly string[] | null
}

export interface PodmanUser {
  readonly name: string
  readonly groups: readonly string[]
  readonly hasStorageConf: boolean
  /** null: could not be decided (the directory cannot be examined). */
  readonly isConfigWritable: boolean | null
}

export interface PolicyFacts {
  /** Every directory name under the homes root, whether examined or not (the watcher watches them all). */
  readonly homes: readonly string[]
  readonly users: readonly PolicyUser[]
  readonly podmanUsers: readonly PodmanUser[]
  readonly problems: readonly FileProblem[]
}

class Problems {
  readonly list: FileProblem[] = []
  add (err: unknown, fallbackFile: string): void {
    if (err instanceof PolicyFileError) this.list.push({ file: err.file, code: err.code, message: err.message })
    else this.list.push({ file: fallbackFile, code: 'PFIM_POLICY_FILE_UNREADABLE', message: `${fallbackFile}: ${(err as Error).message}` })
  }
}

async function isDir (path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch (err) {
    if (isMissing(err)) return false
    throw new PolicyFileError(path, `cannot examine: ${(err as Error).message}`, { isUnreadable: true, cause: err })
  }
}

async function readText (file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if (isMissing(err)) return null
    throw new PolicyFileError(file, `cannot read: ${(err as Error).message}`, { isUnreadable: true, cause: err })
  }
}

async function readPolicy (file: string, problems: Problems): Promise<PolicyJson | null> {
  try {
    const text = await readText(file)
    if (text === null) throw new PolicyFileError(file, 'does not exist (podman refuses every image without a policy)', { isUnreadable: true })
    return parsePolicyJson(file, text)
  } catch (err) {
    problems.add(err, file)
    return null
  }
}

async function readAccounts (roots: PolicyRoots, problems: Problems): Promise<Accounts | null> {
  try {
    const passwd = await readText(roots.passwdFile)
    const group = await readText(roots.groupFile)
    if (passwd === null) throw new PolicyFileError(roots.passwdFile, 'does not exist', { isUnreadable: true })
    if (group === null) throw new PolicyFileError(roots.groupFile, 'does not exist', { isUnreadable: true })
    return parseAccounts(roots.passwdFile, passwd, roots.groupFile, group)
  } catch (err) {
    problems.add(err, roots.passwdFile)
    return null
  }
}

/** Per containers/image: the user's registries.d when it exists, else the system one (read once). */
async function userRegistries (home: string, system: RegistriesConfig | null, problems: Problems): Promise<RegistriesConfig | null> {
  const own = join(home, '.config/containers/registries.d')
  const dir = await isDir(own).catch(err => { problems.add(err, own); return null })
  if (dir === null) return null
  if (!dir) return system
  return readRegistriesDir(own).catch(err => { problems.add(err, own); return null })
}

async function populationA (roots: PolicyRoots, homes: readonly string[], accounts: Accounts | null, problems: Problems): Promise<PolicyUser[]> {
  const systemFile = join(roots.containersDir, 'policy.json')
  const systemPolicy = await readPolicy(systemFile, problems)
  const systemRegistries = await readRegistriesDir(join(roots.containersDir, 'registries.d')).catch(err => { problems.add(err, join(roots.containersDir, 'registries.d')); return null })
  const users: PolicyUser[] = [{ name: 'root', policyFile: systemFile, policy: systemPolicy, registries: systemRegistries, groups: accounts === null ? null : groupsOf(accounts, 'root') }]
  for (const name of homes) {
    const home = join(roots.homes, name)
    const hasStorage = await isDir(join(home, '.local/share/containers/storage/overlay')).catch(err => { problems.add(err, home); return false })
    if (!hasStorage) continue
    const own = join(home, '.config/containers/policy.json')
    const hasOwn = (await readText(own).catch(() => '')) !== null
    const policyFile = hasOwn ? own : systemFile
    const policy = hasOwn ? await readPolicy(own, problems) : systemPolicy
    const groups = accounts === null ? null : groupsOf(accounts, name)
    users.push({ name, policyFile, policy, registries: await userRegistries(home, systemRegistries, problems), groups })
  }
  return users
}

async function podmanUser (home: string, account: Account, groups: readonly string[], accounts: Accounts, probe: ImmutableProbe, problems: Problems): Promise<PodmanUser> {
  const configDir = join(home, '.config/containers')
  const conf = join(configDir, 'storage.conf')
  try {
    const text = await readText(conf)
    if (text === null) return { name: account.name, groups, hasStorageConf: false, isConfigWritable: null }
    checkStorageConf(conf, text)
  } catch (err) {
    problems.add(err, conf)
  }
  const isConfigWritable = await configDirWritable(configDir, account, accounts, probe).catch(err => { problems.add(err, configDir); return null })
  return { name: account.name, groups, hasStorageConf: true, isConfigWritable }
}

async function populationB (roots: PolicyRoots, homes: readonly string[], accounts: Accounts, probe: ImmutableProbe, problems: Problems): Promise<PodmanUser[]> {
  const out: PodmanUser[] = []
  for (const name of homes) {
    const account = accounts.users.get(name)
    const groups = groupsOf(accounts, name)
    if (account === undefined || groups === null) continue
    if (groups.includes('podman_dev') || !groups.includes('podman')) continue
    out.push(await podmanUser(join(roots.homes, name), account, groups, accounts, probe, problems))
  }
  return out
}

async function homeDirs (homes: string, problems: Problems): Promise<string[]> {
  try {
    const names = (await readdir(homes)).sort()
    const dirs: string[] = []
    for (const n of names) if (await isDir(join(homes, n)).catch(() => false)) dirs.push(n)
    return dirs
  } catch (err) {
    if (!isMissing(err)) problems.add(new PolicyFileError(homes, `cannot list the homes: ${(err as Error).message}`, { isUnreadable: true, cause: err }), homes)
    return []
  }
}

/** Collects the facts under `roots`; never throws for a bad or unreadable file. */
export async function collectPolicyFacts (roots: PolicyRoots, probe: ImmutableProbe): Promise<PolicyFacts> {
  const problems = new Problems()
  const accounts = await readAccounts(roots, problems)
  const homes = await homeDirs(roots.homes, problems)
  const users = await populationA(roots, homes, accounts, problems)
  const podmanUsers = accounts === null ? [] : await populationB(roots, homes, accounts, probe, problems)
  return { homes, users, podmanUsers, problems: problems.list }
}
