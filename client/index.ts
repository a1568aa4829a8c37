// The browser client: finds the live root, joins its session, binds its events.
import { ROOT_ATTR } from '../lib/protocol.js'
import { bind } from './bindings.js'
import { connect } from './live.js'

const boot = (): void => {
  const root = document.querySelector(`[${ROOT_ATTR}]`)
  if (root) bind(root, connect(root))
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot)
else boot()
