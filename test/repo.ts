import { basename, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

// The repository's folder, for the tests that work on the repository itself (npm pack of it,
// its README, its own package resolution). Compiled by `npm test`, the tests run from
// .unit/test/ (scripts/test-build.mjs): the repository is the folder that holds .unit.
const here = fileURLToPath(new URL('..', import.meta.url))
export const repo = basename(here) === '.unit' ? dirname(here) : here
