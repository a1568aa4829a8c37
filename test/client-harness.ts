// What the client tests that boot the real bundle share: a stand-in for the browser's
// WebSocket, and the client entry bundled with esbuild as the build does.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

export type Frame = unknown[]

/** The repository's sources (the compiled suite runs from .unit/: the browser code is bundled from the .ts). */
export const SOURCES = fileURLToPath(new URL('..', import.meta.url)).replace(/\.unit\/$/, '')

/** Stands in for the browser's WebSocket: records what the client sends. */
export class FakeSocket {
  static all: FakeSocket[] = []
  sent: Frame[] = []
  onopen?: () => void
  onmessage?: (m: { data: string }) => void
  onclose?: (e: { code: number }) => void
  readonly #listeners: Array<[string, () => void]> = []
  constructor (readonly url: string) { FakeSocket.all.push(this) }
  addEventListener (type: string, fn: () => void): void { this.#listeners.push([type, fn]) }
  send (text: string): void { this.sent.push(JSON.parse(text) as Frame) }
  open (): void { this.#fire('open'); this.onopen?.() }
  receive (frame: Frame): void { this.onmessage?.({ data: JSON.stringify(frame) }) }
  close (code = 1006): void { this.#fire('close'); this.onclose?.({ code }) }
  #fire (type: string): void { for (const [t, fn] of this.#listeners) if (t === type) fn() }
}

/** The client entry (client/index.ts), bundled: evaluate it to boot a copy. */
export async function bundleClient (): Promise<string> {
  const bundle = await build({
    entryPoints: [`${SOURCES}client/index.ts`],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent'
  })
  return bundle.outputFiles[0]!.text
}

/** A lazy chunk of the client (`js`: commands and hooks; `upload`; `lp`: long polling), bundled as the build does. */
export async function bundleChunk (name: 'js' | 'upload' | 'lp'): Promise<string> {
  const bundle = await build({
    entryPoints: [`${SOURCES}client/${name}.ts`],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent'
  })
  return bundle.outputFiles[0]!.text
}

/**
 * A script for a test page: `lines` of TypeScript (imports relative to the repository root)
 * bundled into one IIFE, as the build bundles the client.
 */
export async function bundleScript (name: string, lines: string[]): Promise<string> {
  const bundle = await build({
    stdin: { contents: lines.join('\n'), resolveDir: SOURCES, sourcefile: name, loader: 'ts' },
    bundle: true,
    format: 'iife',
    target: ['es2020'],
    write: false,
    logLevel: 'silent'
  })
  return bundle.outputFiles[0]!.text
}
