// What the component tests do to the page: let the fake backend answer and Vue render, and
// press a key where the clerk's focus is.
import { nextTick } from 'vue'
import { settle } from './fakeTauri'

/**
 * Also lets the clock move on: Vue ignores an event stamped in the same millisecond as the
 * listener was attached (runtime-dom's `_vts <= attached`), so a key pressed on a dialog
 * that has only just opened would sometimes go unheard.
 */
export async function flush(): Promise<void> {
  await settle()
  await nextTick()
  await new Promise((resolve) => setTimeout(resolve, 1))
}

export function press(target: EventTarget, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init })
  target.dispatchEvent(event)
  return event
}

/** A form's check has run and its problems are drawn: the kit validates, then shows the message, a little later. */
export async function checked(): Promise<void> {
  await flush()
  await new Promise((resolve) => setTimeout(resolve, 120))
  await flush()
}
