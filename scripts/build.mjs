// Builds the package: the server with tsc, the browser client with esbuild.
// The client is bundled here, at build time, never at request time.
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true })
execFileSync(process.execPath, [new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname, '-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit'
})

/** Bundles one browser script: the client (its source map beside it) or a lazy chunk. */
const bundle = (entry, out, label, map = false) => build({
  entryPoints: [`${root}client/${entry}.ts`],
  outfile: `${root}dist/client/${out}.js`,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2022'],
  sourcemap: map ? 'linked' : false,
  legalComments: 'none',
  banner: { js: `/*! fastify-liveview ${pkg.version} ${label} | MIT */` },
  logLevel: 'warning'
})

await bundle('index', 'client', 'client', true)
// Lazy chunks, loaded by the client when a page needs them: uploads (a page binds an
// upload), commands (a binding runs client-side commands, or a focus wrap).
await bundle('upload', 'upload', 'uploads')
await bundle('js', 'js', 'commands')
// The long-poll fallback (loaded when WebSockets fail).
await bundle('lp', 'lp', 'long-poll')
// Development only: the error overlay (pages load it when the app is not in production).
await bundle('dev', 'dev', 'development overlay')

// The client's public types (`fastify-liveview/client`): hooks, `window.lvHooks`, `lv:*` events.
execFileSync(process.execPath, [
  new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname, 'client/types.ts',
  '--declaration', '--emitDeclarationOnly', '--outDir', 'dist/client', '--rootDir', 'client',
  '--target', 'ES2020', '--module', 'ESNext', '--moduleResolution', 'bundler', '--lib', 'ES2020,DOM', '--strict', '--skipLibCheck'
], { cwd: root, stdio: 'inherit' })
// An empty module beside them: `import { type LiveHook } from 'fastify-liveview/client'` under
// verbatimModuleSyntax keeps an import statement, which must resolve.
writeFileSync(new URL('../dist/client/types.js', import.meta.url), '// Types only: see types.d.ts. The client script is served by the plugin.\nexport {}\n')
