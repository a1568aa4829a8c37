// Figures and text of the benchmark report, shared by bench/run.ts and its sections
// (bench/rollback.ts, bench/alloc.ts).

/** How a figure compares with its limit. */
export type Op = '<=' | '>=' | '<'

/** A figure with a target: `figure op limit`, met or not. */
export interface Target {
  /** Where the figure is in the report, e.g. `scenarios.counter.server_us_p50`. */
  figure: string
  value: number | null
  op: Op
  limit: number | null
  pass: boolean | null
  unit: string
}

export const progress = (line: string): void => { process.stderr.write(`${line}\n`) }

/** Nearest-rank percentile of sorted values. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/** The median of a few values (the mean of the middle two for an even count). */
export function median (values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export const round = (n: number | null, digits: number): number | null => n === null || !Number.isFinite(n) ? n : Number(n.toFixed(digits))

/** The op of an outbound frame `[ref,"op",…`. */
export const opOf = (frame: string): string => /^\[\d+,"([a-z]+)"/.exec(frame)?.[1] ?? '?'

export function fmt (n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  const abs = Math.abs(n)
  const s = Number.isInteger(n) || abs >= 1000 ? Math.round(n).toLocaleString('en-US') : abs >= 100 ? n.toFixed(0) : abs >= 10 ? n.toFixed(1) : n.toFixed(2)
  return unit === '' ? s : `${s} ${unit}`
}

export const opSign = (op: Op): string => op === '<=' ? '≤' : op === '>=' ? '≥' : '<'

/** Whether `value op limit` holds. */
export const holds = (value: number, op: Op, limit: number): boolean => op === '<=' ? value <= limit : op === '>=' ? value >= limit : value < limit

/** A figure and, when it has one, its target: `23.1  ≤ 40 pass`. */
export function withTarget (targets: Target[], figure: string, value: number | null | undefined, unit = ''): string {
  const t = targets.find((x) => x.figure === figure)
  const v = fmt(value, unit)
  if (t === undefined || t.limit === null) return v
  return `${v}  ${opSign(t.op)} ${fmt(t.limit)} ${t.pass === null ? 'n/a' : t.pass ? 'pass' : 'MISS'}`
}

export function table (head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('   ').trimEnd()
  return [line(head), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)].join('\n')
}
