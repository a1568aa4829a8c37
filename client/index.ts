// The browser client: finds the live root, joins its session, binds its events and hooks.
import { ROOT_ATTR } from '../lib/protocol.js'
import { bind, type Push } from './bindings.js'
import { hooks } from './hooks.js'
import { connect, type Patch } from './live.js'

const boot = (): void => {
  const root = document.querySelector(`[${ROOT_ATTR}]`)
  if (!root) return
  // Hooks push through the connection they watch: a late-bound `push`.
  const [push, patch]: [Push, Patch] = connect(root, hooks(root, (...a) => { push(...a) }))
  bind(root, push, patch)
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot)
else boot()
