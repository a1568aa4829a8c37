// The package as a new user gets it: `npm pack`, installed into a fresh project by the
// README's own quick-start commands, with the README's files (extracted from it, so the docs
// cannot drift from what works), tsc --init's strict config plus `"skipLibCheck": false`
// (so the published .d.ts files must compile), then the project's build, its test (the
// README's testing example, through the testing API) and its server, answering a GET.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { repo } from './repo.js'

const run = promisify(execFile)
const readme = readFileSync(join(repo, 'README.md'), 'utf8')

/** The README's section that starts with `heading`, up to the next `## `. */
function section (heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`README has no "${heading}" section`)
  const end = readme.indexOf('\n## ', start + heading.length + 2)
  return readme.slice(start, end < 0 ? undefined : end)
}

/** Code blocks introduced by a line `` `path`: `` in the README, by path. */
function namedFiles (): Map<string, string> {
  const files = new Map<string, string>()
  for (const m of readme.matchAll(/^`([\w./-]+)`:\n\n```\w*\n([\s\S]*?)\n```$/gm)) files.set(m[1] as string, `${m[2] as string}\n`)
  return files
}

/** Runs one shell command line in `cwd`; a failure names the command and shows its output. */
async function sh (line: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await run('sh', ['-c', line], { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (err) {
    const e = err as { stdout?: string, stderr?: string, message: string }
    throw new Error(`\`${line}\` failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`)
  }
}

t.setTimeout(300_000)

t.test('the quick start, from npm pack to a served page', async (t) => {
  if (!existsSync(join(repo, 'dist/plugin.js'))) throw new Error('dist/ is missing: `npm test` builds it first (npm run build)')
  const work = mkdtempSync(join(tmpdir(), 'lv-pack-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))

  // The package exactly as npm would publish it (dist/ was just built by pretest).
  const packed = (await sh(`npm pack --ignore-scripts --silent --pack-destination ${JSON.stringify(work)}`, repo)).trim().split('\n').pop() as string
  const tarball = join(work, packed)
  t.ok(existsSync(tarball), `packed ${packed}`)

  // The README's commands, in order: the first (mkdir && cd) is this folder.
  const app = join(work, 'counter-app')
  mkdirSync(app)
  const block = /```sh\n([\s\S]*?)\n```/.exec(section('## Quick start'))
  if (block === null) throw new Error('the quick start has no sh block')
  const lines = (block[1] as string).split('\n').map((l) => l.trim()).filter((l) => l !== '')
  t.match(lines[0], /^mkdir \S+ && cd \S+$/, 'the commands start in a new folder')
  for (const line of lines.slice(1)) {
    let command = line
    if (/^npm install /.test(command)) {
      // The package under test instead of the registry's, and no needless network round trips.
      command = command.replace(/ fastify-liveview(?= |$)/, ` ${JSON.stringify(tarball)}`) + ' --no-audit --no-fund --prefer-offline'
    }
    await sh(command, app)
  }
  const installed = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  t.match(installed.dependencies?.['fastify-liveview'], /^file:/, 'the packed tarball is what got installed')

  // Source maps carry their sources: the .ts files are not in the package.
  const pkgDir = join(app, 'node_modules/fastify-liveview')
  const maps = (await sh('tar tzf ' + JSON.stringify(tarball), work)).split('\n').filter((f) => f.endsWith('.map')).map((f) => f.replace(/^package\//, ''))
  t.ok(maps.length > 10, `${maps.length} source maps shipped`)
  const missing = maps.filter((file) => {
    const map = JSON.parse(readFileSync(join(pkgDir, file), 'utf8')) as { sources: string[], sourcesContent?: Array<string | null> }
    return map.sources.some((_source, i) => typeof map.sourcesContent?.[i] !== 'string')
  })
  t.same(missing, [], 'every source map has the content of each of its sources')

  // tsc --init's config, with the published types checked too.
  const tsconfigPath = join(app, 'tsconfig.json')
  const tsconfig = readFileSync(tsconfigPath, 'utf8')
  t.match(tsconfig, /"exactOptionalPropertyTypes": true/, 'tsc --init turns on exactOptionalPropertyTypes')
  t.match(tsconfig, /"skipLibCheck": true/)
  writeFileSync(tsconfigPath, tsconfig.replace('"skipLibCheck": true', '"skipLibCheck": false'))

  const files = namedFiles()
  for (const path of ['views/counter.eta', 'src/counter.ts', 'src/server.ts', 'test/counter.test.ts', 'src/hooks.ts']) {
    const text = files.get(path)
    if (text === undefined) throw new Error(`the README has no \`${path}\`: block`)
    mkdirSync(dirname(join(app, path)), { recursive: true })
    writeFileSync(join(app, path), text)
  }

  // The project's `npm test` is `tsc && node --test …`: it is also the build (`npm run build`
  // is the same `tsc`), so it runs once here.
  t.equal((JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build, 'tsc')
  const tested = await sh('npm test --silent', app)
  t.ok(existsSync(join(app, 'dist/src/server.js')), 'tsc compiled the server')
  t.match(tested, /# pass 1\b/, "the README's test passes")
  t.match(tested, /# fail 0\b/)

  // The types-only entry resolves at run time too (an `import { type X }` keeps the import).
  await sh(`node --input-type=module -e "await import('fastify-liveview/client')"`, app)
  t.pass('fastify-liveview/client imports')

  // npm start's command, on a free port of 127.0.0.1.
  const start = (JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start as string
  const server = spawn('sh', ['-c', `exec ${start}`], { cwd: app, env: { ...process.env, PORT: '0', LV_SECRET: 'a-pack-test-secret-of-at-least-32-chars' }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { server.kill() })
  const address = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { reject(new Error(`the server did not start:\n${out}`)) }, 30_000)
    const read = (chunk: Buffer): void => {
      out += chunk.toString()
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m !== null) { clearTimeout(timer); resolve(m[1] as string) }
    }
    server.stdout.on('data', read)
    server.stderr.on('data', read)
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited (${String(code)}):\n${out}`)) })
  })
  const res = await fetch(`${address}/counter?start=5`)
  t.equal(res.status, 200)
  const page = await res.text()
  t.match(page, '<strong id="count">5</strong>', 'the page renders the count')
  t.match(page, /<script[^>]+src="\/_live\/client\.[\w-]+\.js"/, 'and loads the client')
  const script = /src="(\/_live\/client\.[\w-]+\.js)"/.exec(page)?.[1] as string
  t.equal((await fetch(`${address}${script}`)).status, 200, 'which the plugin serves')
})
