// The README's typed-events example compiles as written, against this package (imported by
// its published name) and TypeBox: the docs cannot drift from the types.
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { repo } from './repo.js'

const readme = readFileSync(join(repo, 'README.md'), 'utf8')

/** The first ```ts block after `marker` in the README. */
function blockAfter (marker: string): string {
  const at = readme.indexOf(marker)
  const block = /```ts\n([\s\S]*?)\n```/.exec(readme.slice(at))
  if (at < 0 || block === null) throw new Error(`the README has no ts example after '${marker}'`)
  return block[1] as string
}

/**
 * Type errors of each example (by name), compiled together in one program inside the package
 * (so `fastify-liveview` resolves to itself: its exports, dist/ built by pretest). One
 * program for all: each compile loads the package's types again, which is most of its time.
 */
const examples = {
  'typed-events': blockAfter('**Typed events, end to end.**'),
  'live-components': blockAfter('### Live components'),
  'function-components': blockAfter('**TypeScript function components**'),
  uploads: blockAfter('## Uploads'),
  forms: blockAfter('## Forms'),
  presence: blockAfter('### Presence'),
  persist: blockAfter('### State that survives a restart')
}
let compiled: Map<string, string[]> | undefined
function problemsOf (t: Test, name: keyof typeof examples): string[] {
  if (compiled === undefined) {
    const dir = mkdtempSync(join(repo, '.readme-check-'))
    t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
    const files = Object.entries(examples).map(([n, code]) => {
      const file = join(dir, `${n}.ts`)
      writeFileSync(file, `${code}\nexport {}\n`)
      return [n, file] as const
    })
    const program = ts.createProgram(files.map(([, f]) => f), {
      strict: true, noEmit: true, skipLibCheck: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ['node']
    })
    const global = [...program.getGlobalDiagnostics(), ...program.getOptionsDiagnostics()]
    compiled = new Map(files.map(([n, f]) => [n, [...global, ...ts.getPreEmitDiagnostics(program, program.getSourceFile(f))].map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))]))
  }
  return compiled.get(name)!
}

t.test("the README's typed-events example type-checks", async (t) => {
  const code = examples['typed-events']
  t.same(problemsOf(t, 'typed-events'), [], 'no type errors')
  t.match(code, /ParamsOf<typeof Id>/, 'the example derives a handler type from its schema')
})

t.test("the README's component examples type-check", async (t) => {
  t.match(examples['live-components'], /extends LiveComponent<\{ todo: Todo \}>/)
  t.same(problemsOf(t, 'live-components'), [], 'the live component example: no type errors')
  t.same(problemsOf(t, 'function-components'), [], 'the function component example: no type errors')
})

t.test("the README's upload example type-checks", async (t) => {
  t.match(examples.uploads, /this\.consumeUploads\('photo'/)
  t.same(problemsOf(t, 'uploads'), [], 'no type errors')
})

t.test("the README's forms example type-checks", async (t) => {
  t.match(examples.forms, /onInvalid: 'render'/)
  t.same(problemsOf(t, 'forms'), [], 'no type errors')
})

t.test("the README's presence and persisted-state examples type-check", async (t) => {
  t.match(examples.presence, /this\.track\('room:1'/)
  t.same(problemsOf(t, 'presence'), [], 'presence: no type errors')
  t.match(examples.persist, /static persist = \['step', 'cart'\]/)
  t.same(problemsOf(t, 'persist'), [], 'persisted state: no type errors')
})
