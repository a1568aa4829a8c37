// Types of diff-dom-apply.js: the parts of diff-dom 5.2.1's `applyDOM` the client uses.

export type DiffAction = Record<string, unknown>

export interface ApplyOptions {
  /** Action and key names → the numbers a `compress: true` diff uses. */
  _const: Record<string, number>
  document: Document
  valueDiffing: boolean
  simplifiedElementCheck: boolean
  textDiff (node: Text | Comment, current: string, expected: string, newValue: string): void
  /** Returning true skips the action. */
  preDiffApply (info: { diff: DiffAction, node?: Node }): boolean
  postDiffApply (info: { diff: DiffAction, node?: Node, newNode?: Node }): void
}

/** Applies `diffs` under `tree`; false (or a throw) when a route does not fit the DOM. */
export function applyDOM (tree: Element, diffs: DiffAction[], options: ApplyOptions): boolean
