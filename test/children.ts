// Child processes of the multi-process tests: a fixture under test/fixtures/ forked with this
// process's loader flags, killed when the test file ends, and asked things over IPC.
import { fork, type ChildProcess } from 'node:child_process'
import type { Test } from 'tap'

/** Forks `test/fixtures/<name>` (the .ts from the sources, the .js in the compiled suite, .unit/) with `args`. */
export function forkFixture (t: Test, name: string, args: string[]): ChildProcess {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  const proc = fork(new URL(`./fixtures/${name}${ext}`, import.meta.url), args, { execArgv: process.execArgv, stdio: 'inherit' })
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })
  return proc
}

/** The next message of `proc`. */
export async function nextMessage<T> (proc: ChildProcess): Promise<T> {
  return await new Promise((resolve) => proc.once('message', (m) => { resolve(m as T) }))
}

/** Sends `msg` to `proc` and resolves with its answer (its next message). */
export async function ask<T> (proc: ChildProcess, msg: object): Promise<T> {
  const answer = nextMessage<T>(proc)
  proc.send(msg)
  return await answer
}

/** A forked fixture that serves: its process and the port it listens on. */
export interface Child { proc: ChildProcess, port: number }

/** Forks fixture `name` with `args` and waits for the port it listens on (its first message). */
export async function startChild (t: Test, name: string, args: string[]): Promise<Child> {
  const proc = forkFixture(t, name, args)
  return { proc, port: (await nextMessage<{ port: number }>(proc)).port }
}
