import { FLASH_COOKIE, FLASH_COOKIE_MAX_AGE } from '../lib/protocol.js'

/** Reloads the client may do on its own (refused joins) per window. */
export const MAX_LOADS = 3
export const WINDOW_MS = 30_000
const KEY = 'lv-reloads'

/**
 * Counts a reload the client starts by itself and says whether it may go ahead: at most
 * MAX_LOADS per WINDOW_MS in this tab, counted in sessionStorage (`count,since`) so the
 * reloaded page remembers. Past it, a server that refuses every join cannot make the page
 * reload forever.
 */
export function mayLoad (now = Date.now()): boolean {
  try {
    let [n, since] = (sessionStorage.getItem(KEY) ?? '0,0').split(',').map(Number) as [number, number]
    if (!(now - since < WINDOW_MS)) [n, since] = [0, now]
    if (n >= MAX_LOADS) return false
    sessionStorage.setItem(KEY, `${n + 1},${since}`)
  } catch {}
  return true
}

/**
 * Loads `url` in full: a reload when the page is there already (a URL the client pushed).
 * Only http(s) URLs: the server checks what it sends, and the client does not trust it blindly.
 */
export function load (url: string): void {
  const to = new URL(url, location.href)
  if (!/^https?:$/.test(to.protocol)) return
  if (to.href === location.href) location.reload()
  else location.assign(to.href)
}

/** Keeps the flash a redirect carries for the next page (the server reads and clears it). */
export function carryFlash (flash: string): void {
  document.cookie = `${FLASH_COOKIE}=${flash};path=/;max-age=${FLASH_COOKIE_MAX_AGE};samesite=lax`
}
