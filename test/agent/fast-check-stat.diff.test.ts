/**
 * Differential tests of the fast full check against real `aide --check` (test/helpers/fast-diff.ts):
 * every attribute lstat gives, measured in Node.
 */
import t from 'tap'
import { ruleSet } from '../helpers/fast-diff.js'

ruleSet(t, 'stat')
