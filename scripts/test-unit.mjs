// `npm run test:unit`: the fast tier. The tests that need no browser, no Redis and no real
// timing (sockets with sleeps, the demo's child processes), with fewer random cases
// (LV_QUICK=1). The tap runner costs seconds per file (its process-info loader and
// coverage in every test process, its reporter); here esbuild transpiles the sources once
// into .unit/ and each test file runs as plain node, two at a time (tap's `t` works the
// same without the runner: TAP on stdout, exit code 1 on a failure). A failing file's
// output is printed whole.
// The compile step is scripts/test-build.mjs, shared with `npm test`.
// The full suite (`npm test`) runs everything, compiled the same way, under tap with coverage.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { buildTests, root } from './test-build.mjs'

const SLOW = /^(browser.*|diff-browser|redis.*|demo|socket|pack|readme-types)\.test\.ts$/
const out = await buildTests()

const tests = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts') && !SLOW.test(f)).map((f) => join(out, 'test', f.replace(/\.ts$/, '.js')))

/** Runs one test file; resolves with its exit code, its output, and its TAP counts. */
function run (file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file], { cwd: root, env: { ...process.env, LV_QUICK: '1' } })
    let output = ''
    child.stdout.on('data', (d) => { output += d })
    child.stderr.on('data', (d) => { output += d })
    const timer = setTimeout(() => { child.kill(); output += '\n# killed after 120 s\n' }, 120000)
    child.on('close', (code) => {
      clearTimeout(timer)
      const pass = (output.match(/^\s*ok \d+/gm) ?? []).length
      const fail = (output.match(/^\s*not ok \d+/gm) ?? []).length
      resolve({ file, code, output, pass, fail })
    })
  })
}

const started = Date.now()
const queue = [...tests]
const results = []
await Promise.all([0, 1].map(async () => {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const r = await run(file)
    results.push(r)
    console.log(`${r.code === 0 && r.fail === 0 ? 'ok    ' : 'FAILED'} ${relative(out, file)} (${r.pass} passed, ${r.fail} failed)`)
    if (r.code !== 0 || r.fail > 0) console.log(r.output)
  }
}))
const failed = results.filter((r) => r.code !== 0 || r.fail > 0)
console.log(`\ntest:unit: ${results.length} files, ${results.reduce((n, r) => n + r.pass, 0)} assertions and subtests passed, ${failed.length} files failed, ${((Date.now() - started) / 1000).toFixed(1)} s`)
process.exit(failed.length === 0 ? 0 : 1)
