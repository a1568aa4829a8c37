// The testing API under node:test and node:assert, not tap: it works with any runner.
// (tap runs this file too: node:test prints TAP when its output is not a terminal.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import liveview from '../plugin.js'
import { live } from '../testing.js'
import { Counter } from './fixtures/views.js'
import { SECRET, viewsRoot } from './helpers.js'

test('a counter, tested with node:test', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/counter', Counter)

  const page = await live(app, '/counter?start=3')
  t.after(() => page.close())
  assert.equal(page.text('#count'), '3')
  const reply = await page.click('button[lv-click=inc]')
  assert.equal(reply.kind, 'patch')
  page.assertText('#count', '4')
  ;(await page.event('nope')).assertError('FST_LIVEVIEW_EVENT_UNKNOWN')
  assert.throws(() => page.assertText('#count', '5'), assert.AssertionError)
})
