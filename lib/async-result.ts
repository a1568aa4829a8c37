/**
 * The state of data loaded by `assignAsync`, as a template reads it: `loading` (with the
 * last value while it reloads), `ok` with the value, or `failed` with what was thrown (the
 * template decides what the user sees of it; it never reaches the client by itself).
 */
export type AsyncResult<T> =
  | { readonly status: 'loading', readonly value?: T | undefined }
  | { readonly status: 'ok', readonly value: T }
  | { readonly status: 'failed', readonly error: unknown, readonly value?: T | undefined }

/** Makes `AsyncResult`s: a view's field starts as `AsyncResult.loading()`. */
export const AsyncResult = {
  loading<T> (value?: T): AsyncResult<T> { return value === undefined ? { status: 'loading' } : { status: 'loading', value } },
  ok<T> (value: T): AsyncResult<T> { return { status: 'ok', value } },
  failed<T> (error: unknown, value?: T): AsyncResult<T> { return value === undefined ? { status: 'failed', error } : { status: 'failed', error, value } }
}

/** Options of `assignAsync` and `startAsync`. */
export interface AsyncOptions {
  /**
   * On the HTTP render (JavaScript off, crawlers): `'loading'` (default) renders the loading
   * state and does not run the work (it runs once the socket joins); `'await'` runs it and
   * sends the page with its result, at the cost of running it twice (again on join) and of a
   * slower first byte.
   */
  http?: 'loading' | 'await' | undefined
  /** With `http: 'await'`: how long the HTTP render waits at most; then the work is aborted and the page shows its loading state. Default: 5000 */
  httpTimeoutMs?: number | undefined
  /** Abort it when the URL changes within the route (`pushPatch`, an `lv-patch` link, back, forward). Default: false */
  abortOnPatch?: boolean | undefined
}
