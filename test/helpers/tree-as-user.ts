/**
 * A ContainerTree in a process of its own, so that a test can run it as another user (one who,
 * unlike root, can be refused a directory). Watches argv[2]; prints every change, error and
 * sweep as a JSON line; a line "sweep" on stdin sweeps, the end of stdin closes the tree.
 */
import { createInterface } from 'node:readline'
import { ContainerTree } from '../../src/agent/container-tree.js'
import { displayPath } from '../../src/agent/file-path.js'
import { InotifyQueue } from '../../src/agent/inotify-queue.js'
import { WatchBudget } from '../../src/agent/watch-budget.js'

const say = (line: object) => { process.stdout.write(`${JSON.stringify(line)}\n`) }
const tree = new ContainerTree({
  dir: process.argv[2] as string, queue: new InotifyQueue(), budget: new WatchBudget(1000), coalesceMs: 100,
  onChange: c => say({ path: displayPath(c.path), event: c.event }),
  onError: e => say({ error: (e as NodeJS.ErrnoException).code ?? e.message }),
})
tree.start()
say({ started: tree.watches })
const lines = createInterface({ input: process.stdin })
lines.on('line', line => {
  if (line === 'sweep') { tree.sweep(); say({ swept: true }) }
})
lines.on('close', () => tree.close())
