import { CLASS_ERROR, CODE_DISCONNECTED, DOM_ERROR, ROOT_ATTR } from '../lib/protocol.js'

// Development only (the plugin never serves it in production): the server's errors over the
// page. A failed render or handler shows its code and message (a template's names the .eta
// file and line, with the lines around it) until the next update succeeds, a click on ×, or
// Escape.

const ID = 'lv-dev-overlay'
const doc = document

const hide = (): void => { doc.getElementById(ID)?.remove() }

const show = (code: string, message: string): void => {
  hide()
  const box = doc.createElement('div')
  box.id = ID
  box.setAttribute('role', 'alert')
  // At the bottom, and clicks go through it to the page (but on ×): the page stays usable.
  box.style.cssText = 'position:fixed;inset:auto 0 0 0;max-height:50vh;overflow:auto;z-index:2147483647;pointer-events:none;' +
    'background:#1d1f21e8;color:#f8f8f2;border-top:4px solid #e5484d;padding:12px 20px;font:13px/1.5 ui-monospace,monospace;box-shadow:0 -4px 24px #0008'
  const close = doc.createElement('button')
  close.type = 'button'
  close.textContent = '×'
  close.setAttribute('aria-label', 'Close')
  close.style.cssText = 'float:right;background:none;border:0;color:inherit;font-size:20px;cursor:pointer;pointer-events:auto'
  close.onclick = hide
  const title = doc.createElement('strong')
  title.textContent = code
  title.style.color = '#ff8a8a'
  const pre = doc.createElement('pre')
  pre.textContent = message
  pre.style.cssText = 'white-space:pre-wrap;margin:8px 0 0'
  const note = doc.createElement('p')
  note.textContent = 'fastify-liveview (development): fix it and save; the page updates.'
  note.style.cssText = 'opacity:.6;margin:8px 0 0'
  box.append(close, title, pre, note)
  doc.body.append(box)
}

doc.addEventListener(DOM_ERROR, (e) => {
  const { code, message } = (e as CustomEvent<{ code: string, message: string }>).detail
  // A socket that is down is no fault of the app.
  if (code !== CODE_DISCONNECTED) show(code, message)
}, true)
doc.addEventListener('keydown', (e) => { if (e.key === 'Escape') hide() })

// The next successful update takes the root's error class off: the overlay goes with it.
const watch = (): void => {
  const root = doc.querySelector(`[${ROOT_ATTR}]`)
  if (root) new MutationObserver(() => { if (!root.classList.contains(CLASS_ERROR)) hide() }).observe(root, { attributeFilter: ['class'] })
}
if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', watch)
else watch()
