import t from 'tap'
import { Counter } from './fixtures/views.js'
import { buildApp, connect } from './helpers.js'

t.test('counter: render, join, click', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/counter', Counter) })
  const { client, html, join } = await connect(t, app, '/counter?start=3')
  t.match(html, /<strong id="count">3<\/strong>/)
  t.same(join, [1, 'mount', { id: 1, version: 0, title: 'Counter' }])
  const reply = await client.event('inc')
  t.equal(reply[1], 'p')
  t.equal(reply[2], 1)
})
