// Child processes of the benchmark (the load / memory server and client), driven over IPC:
// the parent sends `{ id, cmd, ...args }`, the child answers `{ id, ok, result | error }`.
// Every child is killed when the parent exits, on error too.
import { execSync, fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'

interface Reply { id: number, ok: boolean, result?: unknown, error?: string }

const children = new Set<ChildProcess>()
process.once('exit', () => { for (const c of children) c.kill('SIGKILL') })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of children) c.kill('SIGKILL')
    process.exit(130)
  })
}

export class Child {
  readonly name: string
  readonly #proc: ChildProcess
  readonly #pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  #next = 0
  #exited: string | undefined

  /**
   * Forks `script` (a compiled bench module that calls `serve`). On POSIX it starts through
   * `sh` to raise the open-files soft limit to the hard limit first: each side of the memory
   * run holds thousands of sockets. The child's output goes to our stderr (stdout stays
   * the report's).
   */
  constructor (name: string, script: URL, nodeFlags: string[] = []) {
    this.name = name
    const viaShell = process.platform !== 'win32'
    const raise = 'h=$(ulimit -Hn); [ "$h" = unlimited ] && h=65536; [ "$(ulimit -n)" -lt "$h" ] 2>/dev/null && ulimit -n "$h" 2>/dev/null; exec "$0" "$@"'
    this.#proc = fork(script, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      ...(viaShell ? { execPath: '/bin/sh', execArgv: ['-c', raise, process.execPath, ...nodeFlags] } : { execArgv: nodeFlags })
    })
    children.add(this.#proc)
    this.#proc.stdout!.pipe(process.stderr)
    this.#proc.stderr!.pipe(process.stderr)
    this.#proc.on('message', (m: Reply) => {
      const p = this.#pending.get(m.id)
      if (p === undefined) return
      this.#pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.ok) p.resolve(m.result)
      else p.reject(new Error(`${this.name}: ${m.error ?? 'failed'}`))
    })
    this.#proc.on('exit', (code, signal) => {
      children.delete(this.#proc)
      this.#exited = `${this.name} exited (code ${String(code)}, signal ${String(signal)})`
      for (const p of this.#pending.values()) { clearTimeout(p.timer); p.reject(new Error(this.#exited)) }
      this.#pending.clear()
    })
  }

  /** Sends a command; rejects when the child fails it, exits, or takes longer than `timeoutMs`. */
  async request<T> (cmd: string, args: Record<string, unknown>, timeoutMs: number): Promise<T> {
    if (this.#exited !== undefined) throw new Error(this.#exited)
    const id = ++this.#next
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.name}: '${cmd}' took longer than ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.#proc.send({ id, cmd, ...args })
    })
  }

  /** Kills the child (by its own handle) and waits for it to be gone. */
  async kill (): Promise<void> {
    if (this.#exited !== undefined) return
    const gone = new Promise((resolve) => this.#proc.once('exit', resolve))
    this.#proc.kill('SIGKILL')
    await gone
  }
}

/** In a child: answers the parent's commands; exits when the parent goes away. */
export function serve (handlers: Record<string, (args: Record<string, unknown>) => unknown>): void {
  process.on('message', (m: { id: number, cmd: string } & Record<string, unknown>) => {
    void (async () => {
      const handler = handlers[m.cmd]
      try {
        if (handler === undefined) throw new Error(`unknown command ${m.cmd}`)
        const result = await handler(m)
        process.send!({ id: m.id, ok: true, result })
      } catch (err) {
        process.send!({ id: m.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) })
      }
    })()
  })
  process.on('disconnect', () => { process.exit(0) })
}

/** The open-files soft limit of this process, or undefined when it cannot be read. */
export function openFilesLimit (): number | undefined {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (line !== null) return line[1] === 'unlimited' ? Infinity : Number(line[1])
  } catch {}
  try {
    const out = execSync('ulimit -n', { encoding: 'utf8', shell: '/bin/sh' }).trim()
    return out === 'unlimited' ? Infinity : Number(out)
  } catch {
    return undefined
  }
}

/** The route of the memory run's bare WebSocket server (bench/load-server.ts, `bare: true`). */
export const BARE_PATH = '/bare'

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
