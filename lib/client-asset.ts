import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { errors } from './errors.js'

/** The built client script, served with long-lived caching under a content-hashed URL. */
export interface ClientAsset {
  url: string
  mapUrl: string
  script: string
  map: string
  /** The upload code (a lazy chunk: the client loads it when a page binds an upload). */
  upload: { url: string, script: string }
  /** The command code (a lazy chunk: loaded when a page has a command binding or a focus wrap). */
  js: { url: string, script: string }
  /** The long-poll fallback (a lazy chunk: loaded when WebSockets fail). */
  lp: { url: string, script: string }
  /** The development overlay (pages load it outside production; never served in production). */
  dev: { url: string, script: string }
}

/** Where the client script names the chunks' URLs (replaced when served). */
const UPLOAD_PLACEHOLDER = '__LV_UPLOAD_SRC__'
const JS_PLACEHOLDER = '__LV_JS_SRC__'
const LP_PLACEHOLDER = '__LV_LP_SRC__'

const hashOf = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 12)

// From the sources (lib/) the bundle is in dist/client; from the build (dist/lib) in ../client.
const CANDIDATES = ['../dist/client/', '../client/']

export function loadClientAsset (prefix: string): ClientAsset {
  for (const dir of CANDIDATES) {
    const base = new URL(dir, import.meta.url)
    let script: string
    let map: string
    let upload: string
    let js: string
    let dev: string
    let lp: string
    try {
      script = readFileSync(new URL('client.js', base), 'utf8')
      map = readFileSync(new URL('client.js.map', base), 'utf8')
      upload = readFileSync(new URL('upload.js', base), 'utf8')
      js = readFileSync(new URL('js.js', base), 'utf8')
      dev = readFileSync(new URL('dev.js', base), 'utf8')
      lp = readFileSync(new URL('lp.js', base), 'utf8')
    } catch {
      continue
    }
    const uploadUrl = `${prefix}/upload.${hashOf(upload)}.js`
    const jsUrl = `${prefix}/js.${hashOf(js)}.js`
    const lpUrl = `${prefix}/lp.${hashOf(lp)}.js`
    script = script.replace(UPLOAD_PLACEHOLDER, uploadUrl).replace(JS_PLACEHOLDER, jsUrl).replace(LP_PLACEHOLDER, lpUrl)
    const name = `client.${hashOf(script)}.js`
    script = script.replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${name}.map\n`)
    return { url: `${prefix}/${name}`, mapUrl: `${prefix}/${name}.map`, script, map, upload: { url: uploadUrl, script: upload }, js: { url: jsUrl, script: js }, lp: { url: lpUrl, script: lp }, dev: { url: `${prefix}/dev.${hashOf(dev)}.js`, script: dev } }
  }
  throw new errors.CLIENT_MISSING(fileURLToPath(new URL(CANDIDATES[0] as string, import.meta.url)))
}
