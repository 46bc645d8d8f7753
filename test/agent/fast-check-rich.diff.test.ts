/**
 * Differential tests of the fast full check against real `aide --check` (test/helpers/fast-diff.ts):
 * a rule with ACLs and xattrs (the `aide --init` way) and one with I/ANF/ARF (handed to --check).
 */
import t from 'tap'
import { ruleSet } from '../helpers/fast-diff.js'

ruleSet(t, 'rich')
ruleSet(t, 'flags')
