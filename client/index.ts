// The browser client: finds the live root, joins its session, binds its events and hooks.
import { ROOT_ATTR } from '../lib/protocol.js'
import { bind } from './bindings.js'
import { js } from './lazy.js'
import { connect } from './live.js'

const boot = (): void => {
  const root = document.querySelector(`[${ROOT_ATTR}]`)
  if (!root) return
  // Hooks (in a lazy chunk, with commands) watch every update, once they are in.
  js.root = root
  const [push, patch] = connect(root, u => js.w ? js.w(u) : u())
  bind(root, js.push = push, patch)
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot)
else boot()
