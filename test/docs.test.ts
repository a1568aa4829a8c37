import t from 'tap'
import { readFileSync } from 'node:fs'
import { errors } from '../plugin.js'
import { DEFAULT_LIMITS } from '../lib/options.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

t.test('every error code is documented in the README', async (t) => {
  const codes: string[] = Object.values(errors).map((E) => new E('a', 'b', 'c').code)
  t.ok(codes.length >= 25)
  for (const code of codes) t.match(readme, new RegExp(`\`${code}\``), code)
  const documented = [...readme.matchAll(/`(FST_LIVEVIEW_[A-Z_]+)`/g)].map((m) => m[1])
  for (const code of new Set(documented)) t.ok(codes.includes(code as string), `${code as string} in the README exists`)
})

t.test('every limit is documented with its default', async (t) => {
  for (const [name, value] of Object.entries(DEFAULT_LIMITS)) {
    t.match(readme, new RegExp(`\`${name}\`[^\\n]*\`${value}\``), `${name} = ${value}`)
  }
})

t.test('the README opens with the two commands, and CI runs the same test command', async (t) => {
  const head = readme.split('\n').slice(0, 20).join('\n')
  t.match(head, 'npm install && npm start')
  t.match(head, 'npm test')
  t.match(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8'), /^npm test\b/m)
})
