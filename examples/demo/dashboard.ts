import { AsyncResult, LiveView, defineEvents, type DomParams } from '../../plugin.js'

export type Panel = 'sales' | 'visitors' | 'errors'

/** How long each (made-up) service takes, ms. */
const DELAYS: Record<Panel, number> = { sales: 400, visitors: 900, errors: 600 }

/** The (made-up) services: each answers after its delay. Tests put their own `wait` here. */
export const services = {
  wait: (panel: Panel, signal: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, DELAYS[panel])
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason) }, { once: true })
  })
}

/**
 * `/dashboard`: three panels that load in the background (`assignAsync`): each shows a
 * loading state, then its figure, or its error (the error-rate service always fails here).
 * Clicks keep working while they load; "Reload" loads one panel again.
 */
export class Dashboard extends LiveView {
  static template = 'dashboard'
  static title = 'Dashboard'
  static events = defineEvents<Dashboard>({ reload: true, ping: true })
  sales: AsyncResult<number> = AsyncResult.loading()
  visitors: AsyncResult<number> = AsyncResult.loading()
  errors: AsyncResult<number> = AsyncResult.loading()
  pings = 0
  loads = 0

  mount (): void {
    for (const panel of ['sales', 'visitors', 'errors'] as const) this.load(panel)
  }

  load (panel: Panel): void {
    const n = ++this.loads
    this.assignAsync(panel, async (signal) => {
      await services.wait(panel, signal)
      if (panel === 'errors') throw new Error('The metrics service did not answer.')
      return panel === 'sales' ? 1200 + n : 3400 + n
    })
  }

  reload (params: DomParams): void {
    const panel = params.panel
    if (panel === 'sales' || panel === 'visitors' || panel === 'errors') this.load(panel)
  }

  ping (): void { this.pings++ }

  context () {
    const panel = (key: Panel, title: string) => ({ key, title, state: this[key] })
    return { panels: [panel('sales', 'Sales today'), panel('visitors', 'Visitors'), panel('errors', 'Error rate')], pings: this.pings }
  }
}
