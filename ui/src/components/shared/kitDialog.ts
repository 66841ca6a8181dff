// What the counter's dialogs add to el-dialog. The kit's own Esc handling is switched off
// (close-on-press-escape false): it listens on the document, where a key has already passed
// the app's global keys (F2, /, Esc back to the list), and it cannot tell an Esc that only
// leaves a field with text typed (fields.ts) from one that cancels.
import { isImeKeystroke } from '../../fields'

/**
 * For el-dialog's keydown (its attributes land on the dialog box): every key stays inside,
 * so nothing behind the dialog reacts to it; Esc cancels, unless it belongs to the IME.
 */
export function keepKeysInDialog(cancel: () => void): (event: KeyboardEvent) => void {
  return (event) => {
    event.stopPropagation()
    if (event.key !== 'Escape' || isImeKeystroke(event)) return
    event.preventDefault()
    cancel()
  }
}

/**
 * For el-dialog's open-auto-focus: the kit then puts the focus on the dialog box itself,
 * in a microtask; a task later it goes where the clerk came to type or press.
 */
export function focusAfterOpen(focus: () => void): () => void {
  return () => setTimeout(focus)
}

/**
 * Esc in a field holding the clerk's text only leaves the field, onto the dialog box (so
 * the next Esc still reaches the dialog and cancels); a reflex Esc must not lose the text.
 */
export function leaveFieldInDialog(event: Event, keep: boolean): void {
  if (!keep) return
  event.stopPropagation()
  ;(event.target as HTMLElement).closest<HTMLElement>('.el-dialog')?.focus()
}
