import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Eta } from 'eta'
import Fastify, { type FastifyInstance } from 'fastify'
import liveview, { type LiveStore, type LiveViewLimits, type PubSub } from '../../plugin.js'
import { Counter } from './counter.js'
import { Signup } from './signup.js'
import { Todos } from './todos.js'
import { Chat, Clock } from './chat.js'
import { Catalog } from './catalog.js'
import { Board } from './board.js'
import { InfiniteFeed } from './feed.js'
import { Dashboard } from './dashboard.js'
import { gallery, type GalleryOptions } from './gallery.js'

/**
 * The repository root: the nearest folder above this file that holds package.json.
 * The same walk works from the sources (examples/demo) and from the build (dist/examples/demo).
 */
export function findRepoRoot (from: string | URL = import.meta.url): string {
  let dir = dirname(fileURLToPath(from))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(from)}`)
    dir = parent
  }
  return dir
}

export interface DemoOptions {
  /** Fastify's logger. Default: true */
  logger?: boolean
  /** Secret that signs page tokens. Default: `LV_SECRET`; unset in development, the plugin makes one up */
  secret?: string
  /** The photo uploads page's settings (where photos go, their size limit). */
  gallery?: GalleryOptions
  /** The plugin's limits (tests tune them). */
  limits?: LiveViewLimits
  /** Broadcasts between processes (`RedisPubSub` when several run: examples/cluster). Default: this process's */
  pubsub?: PubSub
  /** Revocations and persisted state (`RedisStore` when several run). Default: this process's memory */
  store?: LiveStore
}

/** The demo app, configured and ready to `listen()` (or to `inject()` in tests). */
export async function buildDemo (options: DemoOptions = {}): Promise<FastifyInstance> {
  const root = join(findRepoRoot(), 'views')
  const app = Fastify({ logger: options.logger ?? true })
  await app.register(liveview, { root, layout: 'layout', secret: options.secret ?? process.env.LV_SECRET, limits: options.limits, pubsub: options.pubsub, store: options.store })

  // The index is a plain page: no live root, no script, no socket; same layout.
  const eta = new Eta({ views: root, cache: process.env.NODE_ENV === 'production', autoTrim: false })
  app.get('/', async (_request, reply) => {
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8')
    return eta.render('./layout', { title: 'Demos', lang: 'en', head: '', body: eta.render('./index', {}) })
  })

  app.liveView('/counter', Counter)
  app.liveView('/form', Signup)
  app.liveView('/todos', Todos)
  app.liveView('/chat', Chat)
  app.liveView('/clock', Clock)
  app.liveView('/catalog', Catalog)
  app.liveView('/board', Board)
  app.liveView('/feed', InfiniteFeed)
  app.liveView('/dashboard', Dashboard)
  app.liveView('/uploads', gallery(options.gallery))
  return app
}

async function main (): Promise<void> {
  const port = Number(process.env.PORT ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got '${process.env.PORT}'`)
  const app = await buildDemo()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down')
      app.close().then(() => process.exit(0), () => process.exit(1))
    })
  }
  await app.listen({ host: '127.0.0.1', port })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
