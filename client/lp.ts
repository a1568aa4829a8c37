import type { JsPort } from './lazy.js'

// The long-poll chunk (loaded only when WebSockets fail): drives the stand-in socket the
// connection holds (lazy.ts `transport`) over HTTP: `POST <prefix>/lp` opens a session,
// `GET <prefix>/lp?a` polls (held by the server until there are frames; `a` acknowledges
// those received, so a lost answer is sent again), `POST <prefix>/lp/send` sends frames in
// order, a batch at a time (upload chunks in base64); the session is named by the
// `x-lv-session` header; `POST <prefix>/lp/close` (a beacon) ends it when the page goes. Any failure closes the stand-in as a
// dropped socket: the connection reconnects and rejoins.

type Stub = WebSocket & { readyState: number, url: string }
type Sent = string | { b: string }

const port = (globalThis as unknown as { __lvJs: JsPort }).__lvJs
const HOUR = 36e5
const JSON_TYPE = 'application/json'

const b64 = (d: Uint8Array): string => {
  let s = ''
  for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000))
  return btoa(s)
}

function start (t: Stub): void {
  if (t.readyState === 3) return
  // ws(s)://host/_live/ws → http(s)://host/_live/lp
  const base = t.url.replace(/^ws/, 'http').replace(/ws$/, 'lp')
  const ctl = new AbortController()
  const signal = ctl.signal
  const out: Sent[] = []
  let sid = ''
  let got = 0
  let sending = false
  const end = (code: number, reason = ''): void => {
    if (t.readyState === 3) return
    t.readyState = 3
    ctl.abort()
    removeEventListener('pagehide', bye)
    t.onclose?.({ code, reason } as CloseEvent)
  }
  const flush = async (): Promise<void> => {
    if (sending || out.length === 0 || t.readyState !== 1) return
    sending = true
    try {
      const r = await fetch(`${base}/send`, { method: 'POST', headers: { 'content-type': JSON_TYPE, 'x-lv-session': sid }, body: JSON.stringify(out.splice(0, 32)), signal })
      if (r.status !== 204) return end(1006)
    } catch {
      return end(1006)
    }
    sending = false
    void flush()
  }
  const poll = async (): Promise<void> => {
    while (t.readyState === 1) {
      let reply: { a: number, f: string[], c?: [number, string] }
      try {
        const r = await fetch(`${base}?a=${got}`, { signal, cache: 'no-store', headers: { 'x-lv-session': sid } })
        if (r.status !== 200) return end(1006)
        reply = await r.json()
      } catch {
        return end(1006)
      }
      for (let i = Math.max(0, got - reply.a); i < reply.f.length && t.readyState === 1; i++) t.onmessage?.({ data: reply.f[i] } as MessageEvent)
      got = reply.a + reply.f.length
      if (reply.c) return end(...reply.c)
    }
  }
  t.send = (d: string | ArrayBufferLike | Blob | ArrayBufferView) => {
    out.push(typeof d === 'string' ? d : { b: b64(d as Uint8Array) })
    void flush()
  }
  // Closing (or the page going): the server ends the session now, not at its heartbeat.
  const bye = (): void => {
    if (sid && t.readyState === 1) navigator.sendBeacon(`${base}/close`, new Blob([JSON.stringify({ s: sid })], { type: JSON_TYPE }))
  }
  addEventListener('pagehide', bye)
  t.close = () => {
    bye()
    end(1000)
  }
  fetch(base, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: '{}', signal })
    .then(async r => r.ok ? await r.json() as { s: string } : await Promise.reject(new Error(String(r.status))))
    .then(({ s }) => {
      if (t.readyState === 3) return
      sid = s
      t.readyState = 1
      // Chosen because sockets failed: remembered for this tab (an hour) only if a socket
      // fails now too, while HTTP works (after a restart, sockets work again: nothing kept).
      if (port.f > 2) {
        const probe = new WebSocket(t.url)
        let opened = false
        probe.onopen = () => {
          opened = true
          port.f = 0
          port.o = 1
          probe.close()
        }
        probe.onclose = () => {
          if (!opened) try { sessionStorage['lv-lp'] = Date.now() + HOUR } catch {}
        }
      }
      t.onopen?.(new Event('open'))
      void poll()
    }, () => {
      // HTTP fails too: the server is away, not the socket blocked. Sockets again next time.
      port.f = 0
      end(1006)
    })
}

port.L = start
for (const t of port.l?.splice(0) ?? []) start(t as Stub)
