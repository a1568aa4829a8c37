// The README's typed-events example compiles as written, against this package (imported by
// its published name) and TypeBox: the docs cannot drift from the types.
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const repo = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(join(repo, 'README.md'), 'utf8')

/** The first ```ts block after `marker` in the README. */
function blockAfter (marker: string): string {
  const at = readme.indexOf(marker)
  const block = /```ts\n([\s\S]*?)\n```/.exec(readme.slice(at))
  if (at < 0 || block === null) throw new Error(`the README has no ts example after '${marker}'`)
  return block[1] as string
}

/** Type errors of `code`, compiled inside the package (so `fastify-liveview` resolves to itself: its exports, dist/ built by pretest). */
function problemsOf (t: Test, name: string, code: string): string[] {
  const dir = mkdtempSync(join(repo, '.readme-check-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, `${name}.ts`)
  writeFileSync(file, `${code}\nexport {}\n`)
  const program = ts.createProgram([file], {
    strict: true, noEmit: true, skipLibCheck: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ['node']
  })
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

t.test("the README's typed-events example type-checks", async (t) => {
  const code = blockAfter('**Typed events, end to end.**')
  t.same(problemsOf(t, 'typed-events', code), [], 'no type errors')
  t.match(code, /ParamsOf<typeof Id>/, 'the example derives a handler type from its schema')
})

t.test("the README's component examples type-check", async (t) => {
  const live = blockAfter('### Live components')
  t.match(live, /extends LiveComponent<\{ todo: Todo \}>/)
  t.same(problemsOf(t, 'live-components', live), [], 'the live component example: no type errors')
  const fn = blockAfter('**TypeScript function components**')
  t.same(problemsOf(t, 'function-components', fn), [], 'the function component example: no type errors')
})

t.test("the README's upload example type-checks", async (t) => {
  const code = blockAfter('## Uploads')
  t.match(code, /this\.consumeUploads\('photo'/)
  t.same(problemsOf(t, 'uploads', code), [], 'no type errors')
})
