/** Regenerates the README's config reference from the definitions table (npm run docs). */
import { readFileSync, writeFileSync } from 'node:fs'
import { renderConfigReference } from '../../src/core/config.js'

const START = '<!-- config-reference:start -->'
const END = '<!-- config-reference:end -->'
const readme = readFileSync('README.md', 'utf8')
const from = readme.indexOf(START)
const to = readme.indexOf(END)
if (from < 0 || to < from) throw new Error(`README.md lacks the ${START} … ${END} markers`)
writeFileSync('README.md', `${readme.slice(0, from + START.length)}\n${renderConfigReference()}\n${readme.slice(to)}`)
