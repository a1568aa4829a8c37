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

await build({
  entryPoints: [`${root}client/index.ts`],
  outfile: `${root}dist/client/client.js`,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  sourcemap: 'linked',
  legalComments: 'none',
  banner: {
    js: `/*! fastify-liveview ${pkg.version} client | MIT */`
  },
  logLevel: 'warning'
})

// The upload code: a lazy chunk the client loads when a page binds an upload.
await build({
  entryPoints: [`${root}client/upload.ts`],
  outfile: `${root}dist/client/upload.js`,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  banner: {
    js: `/*! fastify-liveview ${pkg.version} uploads | MIT */`
  },
  logLevel: 'warning'
})

// The client's public types (`fastify-liveview/client`): hooks, `window.lvHooks`, `lv:*` events.
execFileSync(process.execPath, [
  new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname, 'client/types.ts',
  '--declaration', '--emitDeclarationOnly', '--outDir', 'dist/client', '--rootDir', 'client',
  '--target', 'ES2020', '--module', 'ESNext', '--moduleResolution', 'bundler', '--lib', 'ES2020,DOM', '--strict', '--skipLibCheck'
], { cwd: root, stdio: 'inherit' })
// An empty module beside them: `import { type LiveHook } from 'fastify-liveview/client'` under
// verbatimModuleSyntax keeps an import statement, which must resolve.
writeFileSync(new URL('../dist/client/types.js', import.meta.url), '// Types only: see types.d.ts. The client script is served by the plugin.\nexport {}\n')
