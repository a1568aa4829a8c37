// Makes sure the Debian packages the tests need are installed (run by `npm test` as pretest):
// chromium (browser tests) and redis-server (the Redis PubSub tests). Present: exits 0
// without a word. Missing: installs them with apt-get when running as root (as CI does),
// otherwise prints the one command that installs them and exits 1. Never skips.
//
// LV_CHROMIUM_PATH / LV_REDIS_PATH override the paths checked; with LV_DEPS_DRY_RUN=1 the
// commands are printed instead of run, e.g. to try the "missing" branch:
//   LV_CHROMIUM_PATH=/nonexistent LV_DEPS_DRY_RUN=1 node scripts/ensure-system-deps.mjs
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const NEEDED = [
  { path: process.env.LV_CHROMIUM_PATH || '/usr/bin/chromium', pkg: 'chromium', check: ['--version'] },
  { path: process.env.LV_REDIS_PATH || '/usr/bin/redis-server', pkg: 'redis-server', check: ['--version'] }
]
const dryRun = process.env.LV_DEPS_DRY_RUN === '1'

function executable (path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function onPath (name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && executable(join(dir, name)))
}

function run (command, args) {
  console.error(`ensure-system-deps: ${dryRun ? 'would run' : 'running'}: ${[command, ...args].join(' ')}`)
  if (dryRun) return
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  if (result.error !== undefined || result.status !== 0) {
    console.error(`ensure-system-deps: \`${[command, ...args].join(' ')}\` failed (${result.error?.message ?? `exit code ${result.status}`})`)
    process.exit(1)
  }
}

const missing = NEEDED.filter((dep) => !executable(dep.path))
if (missing.length === 0) process.exit(0)

const packages = missing.map((dep) => dep.pkg)
const install = `sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (!isRoot || !onPath('apt-get')) {
  console.error(`ensure-system-deps: the tests need ${missing.map((d) => `${d.pkg} (${d.path})`).join(' and ')}, which ${missing.length === 1 ? 'is' : 'are'} missing.`)
  console.error(`Install ${missing.length === 1 ? 'it' : 'them'} with:\n\n  ${install}\n`)
  console.error(isRoot ? '(apt-get was not found: use your system\'s package manager.)' : '(Run it yourself: this script installs them only when running as root.)')
  process.exit(1)
}

console.error(`ensure-system-deps: installing ${packages.join(' ')} with apt-get`)
run('apt-get', ['update'])
run('apt-get', ['install', '-y', ...packages])
if (dryRun) process.exit(0)

for (const dep of missing) {
  const version = spawnSync(dep.path, dep.check, { encoding: 'utf8' })
  if (version.error !== undefined || version.status !== 0) {
    console.error(`ensure-system-deps: installed, but \`${dep.path} ${dep.check.join(' ')}\` failed: ${version.error?.message ?? version.stderr.trim()}`)
    process.exit(1)
  }
  console.error(`ensure-system-deps: installed ${version.stdout.trim().split('\n')[0]}`)
}
