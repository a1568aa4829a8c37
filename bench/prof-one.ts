import { SCENARIOS, buildApp, openSession } from './scenarios.js'
const name = process.argv[2] ?? 'table100_edit'
const s = SCENARIOS.find((x) => x.name === name)!
const app = await buildApp({ limits: { eventsPerSecond: 1e9, eventBurst: 1e9 } })
const { send } = await openSession(app, s.path)
for (let i = 0; i < 3000; i++) await send(s.event)
await app.close()
