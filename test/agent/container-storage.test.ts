/** Parsing a containers/storage root: CRI-O and podman records, strict errors naming file and field. */
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readStorage } from '../../src/agent/container-storage.js'
import { AppError } from '../../src/core/errors.js'
import { FakeStorage, hexId } from '../helpers/container-storage.js'

t.test('maps CRI-O (volatile) and podman containers to their upper dirs, with pod and namespace', async t => {
  const s = new FakeStorage(t.testdir())
  const { sandbox, container } = s.addCrioPod('web-0', 'shop', 'nginx')
  const db = s.addPodman('db')
  const map = readStorage(s.root)
  t.same(map.unknownLayers, [])
  const byId = new Map(map.containers.map(c => [c.id, c]))
  t.match(byId.get(container.id), { name: 'nginx', pod: 'web-0', namespace: 'shop', infra: false, layer: container.layer, upperDir: s.diff(container.layer), image: 'docker.io/library/nginx:1.27' })
  t.match(byId.get(sandbox.id), { name: 'POD', pod: 'web-0', namespace: 'shop', infra: true })
  t.match(byId.get(db.id), { name: 'db', pod: null, namespace: null, infra: false, upperDir: s.diff(db.layer) })
  t.equal(map.containers.length, 3, 'the image layer is not a container')
})

t.test('without its sandbox record, pod and namespace come from the CRI-O sandbox name', async t => {
  const s = new FakeStorage(t.testdir())
  const { sandbox, container } = s.addCrioPod('api-7f9c', 'kube-system', 'api')
  s.remove(sandbox.id)
  t.match(readStorage(s.root).containers.find(c => c.id === container.id), { name: 'api', pod: 'api-7f9c', namespace: 'kube-system' })
})

t.test('missing or empty files are empty lists; a container whose layer is unknown is listed apart', async t => {
  const root = t.testdir()
  t.same(readStorage(root), { containers: [], unknownLayers: [] })
  const s = new FakeStorage(root)
  const db = s.addPodman('db')
  writeFileSync(join(root, 'overlay-layers', 'layers.json'), '')
  t.same(readStorage(root), { containers: [], unknownLayers: [db.id] })
})

t.test('metadata that is not a JSON object is the runtime\'s business: names still work', async t => {
  const root = t.testdir()
  mkdirSync(join(root, 'overlay-containers'), { recursive: true })
  mkdirSync(join(root, 'overlay-layers'), { recursive: true })
  writeFileSync(join(root, 'overlay-containers', 'containers.json'), JSON.stringify([{ id: hexId('a'), names: ['plain'], layer: hexId('la'), metadata: 'buildah working container' }]))
  writeFileSync(join(root, 'overlay-layers', 'layers.json'), JSON.stringify([{ id: hexId('la') }]))
  t.match(readStorage(root).containers, [{ name: 'plain', pod: null }])
})

t.test('malformed files: a typed error naming the file and the field', async t => {
  const cases: Array<[string, string, RegExp]> = [
    ['containers.json', '{"id":', /containers\.json: \(top level\): not JSON/],
    ['containers.json', '{"id":"x"}', /containers\.json: \(top level\): not a JSON array/],
    ['containers.json', '[1]', /containers\.json: \[0\]: not a JSON object/],
    ['containers.json', JSON.stringify([{ id: '../../etc', layer: hexId('l') }]), /containers\.json: \[0\]\.id: expected a 64-hex-digit id/],
    ['containers.json', JSON.stringify([{ id: hexId('c') }]), /containers\.json: \[0\]\.layer: expected a 64-hex-digit id/],
    ['containers.json', JSON.stringify([{ id: hexId('c'), layer: hexId('l'), names: 'x' }]), /\[0\]\.names: expected an array of strings/],
    ['containers.json', JSON.stringify([{ id: hexId('c'), layer: hexId('l'), metadata: 7 }]), /\[0\]\.metadata: expected a string/],
    ['containers.json', JSON.stringify([{ id: hexId('c'), layer: hexId('l'), metadata: '{"pod-name":3}' }]), /\[0\]\.metadata\.pod-name: expected a string/],
    ['containers.json', JSON.stringify([{ id: hexId('c'), layer: hexId('l'), metadata: '{"pod":"yes"}' }]), /\[0\]\.metadata\.pod: expected a boolean/],
    ['volatile-containers.json', '[{"id":"', /volatile-containers\.json: \(top level\): not JSON/],
    ['layers.json', JSON.stringify([{ id: 'short' }]), /layers\.json: \[0\]\.id: expected a 64-hex-digit id/],
  ]
  for (const [file, text, message] of cases) {
    const root = t.testdir()
    const dir = join(root, file.includes('layers') ? 'overlay-layers' : 'overlay-containers')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, file), text)
    const err = (() => { try { readStorage(root) } catch (e) { return e } return null })()
    t.ok(err instanceof AppError, `${file} ${text} throws an AppError`)
    t.match(err, { code: 'PFIM_CONTAINER_STORAGE_INVALID', message, where: /\S/ })
  }
})

t.test('an unreadable file is a typed error too', async t => {
  const root = t.testdir()
  mkdirSync(join(root, 'overlay-containers', 'containers.json'), { recursive: true })
  t.throws(() => readStorage(root), { code: 'PFIM_CONTAINER_STORAGE_INVALID', message: /containers\.json: cannot be read/ })
})
