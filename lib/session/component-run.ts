import type { LiveComponentClass, ComponentId } from '../component.js'
import { errors } from '../errors.js'
import type { Session } from './actor.js'
import type { AsyncResult } from '../async-result.js'
import type { Task } from './async.js'
import type { MountedView } from './mounted.js'
import { handlerRun, step } from './run.js'

// Messages that do not come from the client for the view the page shows: its components'
// events and `sendUpdate`, and the results of its async work.

/** An event with a target: the handler of that component (the cid the client read from its root). */
export function componentEvent (s: Session, ref: number, mounted: MountedView, name: string, params: Record<string, unknown>, cid: number, used?: string[]): void | Promise<void> {
  const inst = cid === 0 ? undefined : mounted.components?.byCid(cid)
  if (inst === undefined) {
    return s.refuse(ref, new errors.TARGET_UNKNOWN(`'${name}'`, cid === 0 ? 'its lv-target matched no component' : `no component has lv-cid ${cid} (removed since?)`))
  }
  const declared = inst.entry.events.get(name)
  if (declared === undefined) return s.refuse(ref, new errors.EVENT_UNKNOWN(`${inst.entry.name} (component)`, name))
  const run = handlerRun(s, ref, name, declared, params, used, inst, inst.component)
  return run === undefined ? undefined : step(s, ref, mounted, name, true, run, undefined, inst)
}

/** `sendUpdate(Component, id, props)`: props laid over the component's, its `update`, its render. */
export function componentUpdate (s: Session, mounted: MountedView, Component: LiveComponentClass, id: ComponentId, props: object): void | Promise<void> {
  const inst = mounted.components?.findByClass(Component, id)
  if (inst === undefined) {
    s.log.warn({ view: mounted.entry.name, component: Component.name, id }, 'live view sendUpdate: no such component on the page')
    return
  }
  const c = inst.component
  const many = inst.entry.Component.updateMany
  return step(s, 0, mounted, 'update', false, () => {
    c.props = { ...c.props, ...props, id: c.props.id }
    // A class that updates in batches gets a batch of one.
    return many !== undefined ? many.call(inst.entry.Component, [{ component: c, props: c.props }]) : c.update?.(c.props)
  }, undefined, inst)
}

/** A settled `assignAsync` (the field takes the result) or `startAsync` (`handleAsync` gets it). */
export function settleAsync (s: Session, mounted: MountedView, task: Task, result: AsyncResult<unknown>): void | Promise<void> {
  if (mounted.tasks?.claim(task) !== true) return
  const key = task.key.slice(task.kind.length + 1)
  const view = mounted.view
  if (task.kind === 'start' && view.handleAsync === undefined) {
    s.log.warn({ view: mounted.entry.name, name: key }, 'live view startAsync settled but the view has no handleAsync')
    return
  }
  return step(s, 0, mounted, task.kind === 'assign' ? `assignAsync(${key})` : 'handleAsync', false, () => {
    if (task.kind === 'assign') mounted.setField(key, result)
    else return view.handleAsync!(key, result)
  })
}
