import { SCENARIOS, buildApp, openSession } from './scenarios.js'
const app = await buildApp({ limits: { eventsPerSecond: 1e9, eventBurst: 1e9 } })
for (const s of SCENARIOS) {
  const { send } = await openSession(app, s.path)
  for (let i = 0; i < 200; i++) await send(s.event)
  const us: number[] = []; let bytes = 0
  const n = s.name.includes('1000') ? 500 : 2000
  for (let i = 0; i < n; i++) { const r = await send(s.event); us.push(r.us); bytes += Buffer.byteLength(r.frame) }
  us.sort((a, b) => a - b)
  console.log(s.name.padEnd(18), 'p50', us[n >> 1]!.toFixed(1), 'p99', us[Math.floor(n * 0.99)]!.toFixed(1), 'bytes', Math.round(bytes / n))
}
await app.close()
