/**
 * Who is calling: a node proves its name with a client certificate issued by the cluster client
 * CA (CN `system:node:<name>`, O `system:nodes`, as kubelets' certificates are), or with a bearer
 * token the API server's TokenReview resolves to such a user. Nothing else is a node.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { AppError } from '../core/errors.js'
import { TOKENREVIEWS, type KubeClient, type KubeObject } from './kube-client.js'

const NODE_USER = /^system:node:([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/
const NODES_GROUP = 'system:nodes'
const TOKEN_CACHE_MS = 60_000
const TOKEN_CACHE_MAX = 10_000

export class IdentityError extends AppError {
  readonly status: 401 | 403
  constructor (status: 401 | 403, message: string) {
    super(status === 401 ? 'PFIM_UNAUTHENTICATED' : 'PFIM_FORBIDDEN', message)
    this.name = 'IdentityError'
    this.status = status
  }
}

/** The node a user name and groups stand for, or an error saying why they are not a node. */
export function nodeOf (user: string, groups: readonly string[]): string {
  const m = NODE_USER.exec(user)
  if (m === null || !groups.includes(NODES_GROUP)) throw new IdentityError(403, `${user} is not a node (need user system:node:<name> in group ${NODES_GROUP})`)
  return m[1] as string
}

function certNode (socket: TLSSocket): string | null {
  if (!socket.authorized) return null
  const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[] | undefined> | undefined
  const cn = subject?.CN
  if (typeof cn !== 'string') throw new IdentityError(403, 'client certificate has no single CN')
  const o = subject?.O
  return nodeOf(cn, o === undefined ? [] : Array.isArray(o) ? o : [o])
}

interface TokenReview extends KubeObject { status?: { authenticated?: boolean, user?: { username?: string, groups?: string[] }, error?: string } }

export class NodeAuthenticator {
  readonly #tokens = new Map<string, { node: string | IdentityError, until: number }>()

  constructor (private readonly o: { kube: KubeClient, now: () => number }) {}

  /** Resolves the calling node or throws an IdentityError (401 no credential, 403 not a node). */
  async authenticate (req: IncomingMessage): Promise<string> {
    const fromCert = certNode(req.socket as TLSSocket)
    if (fromCert !== null) return fromCert
    const auth = req.headers.authorization
    if (auth === undefined || !auth.startsWith('Bearer ')) {
      throw new IdentityError(401, 'no client certificate signed by the cluster client CA and no bearer token')
    }
    return await this.#token(auth.slice('Bearer '.length).trim())
  }

  async #token (token: string): Promise<string> {
    const key = createHash('sha256').update(token).digest('hex')
    const now = this.o.now()
    const hit = this.#tokens.get(key)
    if (hit !== undefined && hit.until > now) {
      if (typeof hit.node === 'string') return hit.node
      throw hit.node
    }
    const review = await this.o.kube.create<TokenReview>(TOKENREVIEWS, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { name: '' }, spec: { token } })
    let node: string | IdentityError
    if (review.status?.authenticated !== true) node = new IdentityError(401, `token rejected by TokenReview${review.status?.error === undefined ? '' : `: ${review.status.error}`}`)
    else {
      try { node = nodeOf(review.status.user?.username ?? '', review.status.user?.groups ?? []) } catch (err) { node = err as IdentityError }
    }
    if (this.#tokens.size >= TOKEN_CACHE_MAX) this.#tokens.clear()
    this.#tokens.set(key, { node, until: now + TOKEN_CACHE_MS })
    if (typeof node === 'string') return node
    throw node
  }
}
