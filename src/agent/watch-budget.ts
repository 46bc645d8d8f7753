/**
 * A count of inotify watches a watcher may hold. inotify watches are limited per user
 * (fs.inotify.max_user_watches), and on a u7s node kubelet and CRI-O run as the same user as the
 * agent: a watcher that took them all would blind those, so each watcher stays within a budget.
 */
export class WatchBudget {
  readonly limit: number
  #used = 0

  constructor (limit: number) {
    this.limit = limit
  }

  get used (): number {
    return this.#used
  }

  take (): boolean {
    if (this.#used >= this.limit) return false
    this.#used++
    return true
  }

  give (): void {
    this.#used = Math.max(0, this.#used - 1)
  }
}

