// The upload code: a lazy chunk the client loads when a page binds an upload (`lv-upload`,
// `lv-drop`). It declares picked or dropped files to the view, sends their bytes in binary
// chunk frames (never more than the window unacknowledged), or to an external URL, shows
// previews, and resumes what a reconnect interrupted.
import { accepts } from '../lib/accept.js'
import { encodeChunk } from '../lib/frames.js'
import { ATTR_DROP, ATTR_PREVIEW, ATTR_UPLOAD, CID_ATTR, CLASS_DRAG, OP_UPLOAD, OP_UPLOAD_PROGRESS, type UploadGrant, type UploadTarget } from '../lib/protocol.js'
import type { UploadPort } from './live.js'

/** A file being uploaded: its ref, bytes sent and acknowledged, where it goes, who waits for it. */
interface Entry {
  ref: string
  file: File
  name: string
  /** The form it belongs to (its submit waits for it). */
  form: HTMLFormElement | null
  sent: number
  acked: number
  chunk: number
  window: number
  target?: UploadTarget | undefined
  started: boolean
  /** Finished (acknowledged, or confirmed), or stopped by the server. */
  over: boolean
  url?: string
  /** Wakes the sender (an acknowledgement, a rejoin). */
  wake?: () => void
  ended: Promise<void>
  end: () => void
}

const port = (window as unknown as { __lvUp: UploadPort }).__lvUp
const root = port.root
const doc = root.ownerDocument
const entries = new Map<string, Entry>()
/** Entries in the order they go (one at a time: the window is the socket's). */
const queue: Entry[] = []
let running = false

const sleep = (e: Entry): Promise<void> => new Promise(resolve => { e.wake = resolve })

const finish = (e: Entry): void => {
  e.over = true
  e.end()
  e.wake?.()
}

/** Forgets an entry (the server dropped it, or it was submitted). */
const forget = (e: Entry): void => {
  entries.delete(e.ref)
  if (e.url) URL.revokeObjectURL(e.url)
  finish(e)
}

/** What the input's attributes allow (a first check: the server checks again, and shows the errors). */
function allowed (input: Element | null, file: File): boolean {
  if (!input) return true
  const max = +(input.getAttribute('data-lv-max-size') ?? Infinity)
  // No accept attribute (or an empty one): any file.
  const accept = input.getAttribute('accept')?.toLowerCase().split(',').filter(Boolean)
  return file.size <= max && accepts(accept?.length ? accept : undefined, file.name, file.type)
}

/** Declares files for the upload `name` (from `el`: an input or a drop zone); `resume`: entries to continue. */
function declare (el: Element, name: string, picked: File[], resume?: Entry[]): void {
  // A declaration carries at most 100 files (more than any upload takes).
  const files = picked.slice(0, 100)
  if (!files.length) return
  // The input of that upload: the zone's own, else the one in the same component (or the view).
  const owner = el.closest(`[${CID_ATTR}]`) ?? root
  const input = el.matches('input') ? el : owner.querySelector(`input[${ATTR_UPLOAD}="${CSS.escape(name)}"]`)
  const form = (input as HTMLInputElement | null)?.form ?? el.closest('form')
  const list = files.map((f, i) => resume ? [f.name, f.type, f.size, resume[i]!.ref] : [f.name, f.type, f.size])
  // A component's upload: the input (or zone) is inside its root.
  const cid = (input ?? el).closest(`[${CID_ATTR}]`)?.getAttribute(CID_ATTR)
  port.r(el, r => cid ? [r, OP_UPLOAD, port.m(), name, list as never, +cid] : [r, OP_UPLOAD, port.m(), name, list as never], OP_UPLOAD, (value, err) => {
    if (err || !value) return
    const g = value as UploadGrant
    g.entries.forEach(([ref, ok, received, target], i) => {
      const old = resume?.[i]
      if (old) entries.delete(old.ref)
      const file = files[i] as File
      if (!ok || !allowed(input, file)) return old && finish(old)
      let end!: () => void
      const ended = new Promise<void>(resolve => { end = resolve })
      const e: Entry = old ?? { ref, file, name, form, sent: 0, acked: 0, chunk: g.chunk, window: g.window, started: false, over: false, ended, end }
      Object.assign(e, { ref, sent: received, acked: received, target, chunk: g.chunk, window: g.window })
      // A file the server no longer holds (expired, another process): it goes again, and a submit waits for it.
      if (e.over && (received < file.size || target)) {
        e.over = false
        e.ended = new Promise<void>(resolve => { e.end = resolve })
      }
      entries.set(ref, e)
      if (received >= file.size && !target) finish(e)
      else if (old?.started || g.auto) start(e, true)
    })
    previews()
  })
}

function start (e: Entry, again?: boolean): void {
  if (e.started && !e.over && !again) return void e.wake?.()
  e.wake?.()
  e.started = true
  if (e.target) return external(e, e.target)
  if (!queue.includes(e)) queue.push(e)
  void run()
}

/** Bytes read from a file at once (a read is a round trip to the browser's file system: few, large ones). */
const BLOCK = 1 << 20

/** Sends the queued entries' chunks, one entry at a time. */
async function run (): Promise<void> {
  if (running) return
  running = true
  for (let e = queue[0]; e; e = queue[0]) {
    const size = e.file.size
    let block: Uint8Array | undefined
    let from = 0
    while (!e.over && e.acked < size) {
      const at = e.sent
      const end = Math.min(at + e.chunk, size)
      if (at >= size || at - e.acked + end - at > e.window) {
        await sleep(e)
        continue
      }
      if (!block || at < from || end > from + block.length) {
        from = at
        block = new Uint8Array(await e.file.slice(from, Math.min(from + Math.max(BLOCK, e.chunk), size)).arrayBuffer())
        continue
      }
      // Not connected: wait for the rejoin (it resumes from what the server holds).
      if (!port.s(encodeChunk(e.ref, at, block.subarray(at - from, end - from)))) {
        await sleep(e)
        continue
      }
      e.sent = end
    }
    queue.shift()
  }
  running = false
}

/** An external upload: the file goes to the signed URL; progress and completion are reported to the view. */
function external (e: Entry, t: UploadTarget): void {
  const xhr = new XMLHttpRequest()
  let last = 0
  const report = (p: number): void => { port.r(root, r => [r, OP_UPLOAD_PROGRESS, port.m(), e.ref, p], OP_UPLOAD_PROGRESS, () => { if (p === 100 || p < 0) finish(e) }) }
  xhr.open(t.method ?? 'PUT', t.url)
  for (const [k, v] of Object.entries(t.headers ?? {})) xhr.setRequestHeader(k, v)
  xhr.upload.onprogress = p => {
    const pct = Math.floor(p.loaded * 100 / (p.total || 1))
    if (pct < 100 && Date.now() - last > 250) {
      last = Date.now()
      report(pct)
    }
  }
  xhr.onload = () => { report(xhr.status < 300 ? 100 : -1) }
  xhr.onerror = () => { report(-1) }
  xhr.send(e.file)
}

// The server acknowledged bytes (or, -1, dropped the entry: cancelled, consumed, failed).
port.a = (ref, received) => {
  const e = entries.get(ref)
  if (!e) return
  if (received < 0) return forget(e)
  e.acked = Math.max(e.acked, received)
  if (e.acked >= e.file.size) finish(e)
  else e.wake?.()
}

// A rejoin: the new session resumes each entry not yet finished (from what the server kept).
// A navigation: the new view has none of them.
port.j = join => {
  if (!join) return entries.forEach(forget)
  const by = new Map<string, Entry[]>()
  for (const e of entries.values()) if (!e.target) (by.get(e.name) ?? by.set(e.name, []).get(e.name)!).push(e)
  for (const [name, list] of by) declare(root, name, list.map(e => e.file), list)
}

// A submit waits for its form's uploads (started now, unless they are automatic).
// (The server tells the client to forget each one it consumes.)
port.w = el => {
  const mine = [...entries.values()].filter(e => e.form === el && !e.over)
  if (!mine.length) return
  for (const e of mine) start(e)
  return Promise.all(mine.map(e => e.ended))
}

/** `<img lv-preview="ref">` shows the picked file (an object URL: the server never serves it back). */
const previews = (): void => {
  for (const img of root.querySelectorAll(`img[${ATTR_PREVIEW}]`)) {
    const e = entries.get(img.getAttribute(ATTR_PREVIEW) as string)
    if (e && img.getAttribute('src') !== (e.url ??= URL.createObjectURL(e.file))) img.setAttribute('src', e.url)
  }
}
port.u = previews

const inside = (t: EventTarget | null): Element | null => t instanceof Element && root.contains(t) ? t : null

doc.addEventListener('change', ev => {
  const t = inside(ev.target) as HTMLInputElement | null
  const name = t?.getAttribute(ATTR_UPLOAD)
  if (t && name) declare(t, name, [...(t.files ?? [])])
})

const bare = new WeakSet<Element>()
const zone = (ev: Event): Element | null => inside(ev.target)?.closest(`[${ATTR_DROP}]`) ?? null
for (const type of ['dragenter', 'dragover', 'dragleave', 'drop']) {
  doc.addEventListener(type, ev => {
    const z = zone(ev)
    if (!z) return
    ev.preventDefault()
    // The class comes off as it came: a zone that had no class attribute gets none back.
    if (type === 'dragenter' || type === 'dragover') {
      if (!z.hasAttribute('class')) bare.add(z)
      z.classList.add(CLASS_DRAG)
    } else {
      z.classList.remove(CLASS_DRAG)
      if (bare.delete(z) && z.getAttribute('class') === '') z.removeAttribute('class')
    }
    const files = (ev as DragEvent).dataTransfer?.files
    if (type === 'drop' && files) declare(z, z.getAttribute(ATTR_DROP) as string, [...files])
  })
}

// Files picked before this code loaded.
for (const input of root.querySelectorAll<HTMLInputElement>(`input[${ATTR_UPLOAD}]`)) {
  if (input.files?.length) declare(input, input.getAttribute(ATTR_UPLOAD) as string, [...input.files])
}
