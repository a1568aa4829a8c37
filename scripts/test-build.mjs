// Compiles the sources and the tests once, with esbuild, into .unit/ (with what the tests
// read from disk beside them), so each test file runs as plain JavaScript: tap's TypeScript
// loader would transpile the same modules again in every test process (seconds per file).
// Used by `npm test` (tap runs .unit/test/*.test.js; source maps point coverage and stack
// traces back at the .ts files) and by `npm run test:unit`. The type checks are tsc's.
import { build } from 'esbuild'
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('..', import.meta.url))
export const out = join(root, '.unit')

function files (dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}

export async function buildTests () {
  rmSync(out, { recursive: true, force: true })
  const sources = ['plugin.ts', 'testing.ts', 'redis.ts'].map((f) => join(root, f))
    .concat(...['lib', 'test', 'examples', 'client', 'bench'].map((d) => files(join(root, d)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))))
  await build({ entryPoints: sources, outdir: out, outbase: root, format: 'esm', platform: 'node', target: 'node20', sourcemap: 'inline', logLevel: 'warning' })
  // What the tests read from disk: templates and other fixtures, the client's sources
  // (bundled by the client tests) and its build (served by the plugin), the README (checked
  // by the docs test).
  const notTs = (src) => statSync(src).isDirectory() || !src.endsWith('.ts')
  cpSync(join(root, 'test/fixtures'), join(out, 'test/fixtures'), { recursive: true, filter: notTs })
  for (const dir of ['views', 'client', 'dist/client', 'bench/views', '.ci']) cpSync(join(root, dir), join(out, dir), { recursive: true })
  for (const file of ['README.md', 'package.json']) cpSync(join(root, file), join(out, file))
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildTests()
