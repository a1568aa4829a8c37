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
}

// From the sources (lib/) the bundle is in dist/client; from the build (dist/lib) in ../client.
const CANDIDATES = ['../dist/client/', '../client/']

export function loadClientAsset (prefix: string): ClientAsset {
  for (const dir of CANDIDATES) {
    const base = new URL(dir, import.meta.url)
    let script: string
    let map: string
    try {
      script = readFileSync(new URL('client.js', base), 'utf8')
      map = readFileSync(new URL('client.js.map', base), 'utf8')
    } catch {
      continue
    }
    const hash = createHash('sha256').update(script).digest('base64url').slice(0, 12)
    const name = `client.${hash}.js`
    script = script.replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${name}.map\n`)
    return { url: `${prefix}/${name}`, mapUrl: `${prefix}/${name}.map`, script, map }
  }
  throw new errors.CLIENT_MISSING(fileURLToPath(new URL(CANDIDATES[0] as string, import.meta.url)))
}
