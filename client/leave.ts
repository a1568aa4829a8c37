import { FLASH_COOKIE, FLASH_COOKIE_MAX_AGE } from '../lib/protocol.js'

/** Reloads the client may do on its own (refused joins) per window. */
export const MAX_LOADS = 3
export const WINDOW_MS = 30_000
const KEY = 'lv-reloads'

/**
 * Counts a reload the client starts by itself and says whether it may go ahead: at most
 * MAX_LOADS per WINDOW_MS in this tab, counted in sessionStorage so the reloaded page
 * remembers. Past it, a server that refuses every join cannot make the page reload forever.
 */
export function mayLoad (now = Date.now()): boolean {
  let loads: number[] = []
  try {
    loads = (JSON.parse(sessionStorage.getItem(KEY) ?? '[]') as number[]).filter(t => now - t < WINDOW_MS)
  } catch {}
  if (loads.length >= MAX_LOADS) return false
  loads.push(now)
  try { sessionStorage.setItem(KEY, JSON.stringify(loads)) } catch {}
  return true
}

/**
 * Loads `url` in full: replacing the history entry when the page is there already (a
 * navigation the client pushed, or a reload), adding one otherwise.
 */
export function load (url: string): void {
  const to = new URL(url, location.href).href
  if (to === location.href.split('#')[0]) location.reload()
  else if (to.split('#')[0] === location.href.split('#')[0]) location.replace(to)
  else location.assign(to)
}

/** Keeps the flash a redirect carries for the next page (the server reads and clears it). */
export function carryFlash (flash: string): void {
  document.cookie = `${FLASH_COOKIE}=${flash}; path=/; max-age=${FLASH_COOKIE_MAX_AGE}; samesite=lax`
}
