// The README's typed-events example compiles as written, against this package (imported by
// its published name) and TypeBox: the docs cannot drift from the types.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const repo = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(join(repo, 'README.md'), 'utf8')

t.test("the README's typed-events example type-checks", async (t) => {
  const at = readme.indexOf('**Typed events, end to end.**')
  const block = /```ts\n([\s\S]*?)\n```/.exec(readme.slice(at))
  if (at < 0 || block === null) throw new Error('the README has no typed-events example')
  // Inside the package, so `fastify-liveview` resolves to itself (its exports, dist/ built by pretest).
  const dir = mkdtempSync(join(repo, '.readme-check-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'typed-events.ts')
  writeFileSync(file, `${block[1] as string}\nexport {}\n`)
  const program = ts.createProgram([file], {
    strict: true, noEmit: true, skipLibCheck: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ['node']
  })
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  t.same(problems, [], 'no type errors')
  t.match(block[1], /ParamsOf<typeof Id>/, 'the example derives a handler type from its schema')
})
