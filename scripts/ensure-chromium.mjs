// Makes sure Chromium is installed for the browser tests (run by `npm test` as pretest).
// Present: exits 0 without a word. Missing: installs it with apt-get when running as root
// (as CI does), otherwise prints the command that installs it and exits 1. Never skips.
//
// LV_CHROMIUM_PATH overrides the path checked (default /usr/bin/chromium); with
// LV_CHROMIUM_DRY_RUN=1 the commands are printed instead of run, e.g. to try the
// "missing" branch: LV_CHROMIUM_PATH=/nonexistent LV_CHROMIUM_DRY_RUN=1 node scripts/ensure-chromium.mjs
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const chromium = process.env.LV_CHROMIUM_PATH || '/usr/bin/chromium'
const dryRun = process.env.LV_CHROMIUM_DRY_RUN === '1'
const INSTALL = 'sudo apt-get update && sudo apt-get install -y chromium'

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
  console.error(`ensure-chromium: ${dryRun ? 'would run' : 'running'}: ${[command, ...args].join(' ')}`)
  if (dryRun) return
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  if (result.error !== undefined || result.status !== 0) {
    console.error(`ensure-chromium: \`${[command, ...args].join(' ')}\` failed (${result.error?.message ?? `exit code ${result.status}`})`)
    process.exit(1)
  }
}

if (executable(chromium)) process.exit(0)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (!isRoot || !onPath('apt-get')) {
  console.error(`ensure-chromium: ${chromium} is missing and the browser tests need it.`)
  console.error(`Install it with:\n\n  ${INSTALL}\n`)
  console.error(isRoot ? '(apt-get was not found: install Chromium with your system\'s package manager.)' : '(Run it yourself: this script installs it only when running as root.)')
  process.exit(1)
}

console.error(`ensure-chromium: ${chromium} is missing; installing Chromium with apt-get`)
run('apt-get', ['update'])
run('apt-get', ['install', '-y', 'chromium'])
if (dryRun) process.exit(0)

const version = spawnSync(chromium, ['--version'], { encoding: 'utf8' })
if (version.error !== undefined || version.status !== 0) {
  console.error(`ensure-chromium: installed, but \`${chromium} --version\` failed: ${version.error?.message ?? version.stderr.trim()}`)
  process.exit(1)
}
console.error(`ensure-chromium: installed ${version.stdout.trim()}`)
