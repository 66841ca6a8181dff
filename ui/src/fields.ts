// What the typed fields of the counter share: limits counted the way the backend counts
// them, and the keys that belong to an input method or to a half-typed text.
import type { FormItemRule } from 'element-plus'

/** Characters as the backend counts them: trimmed, by code point (a CJK extension character is one). */
export function trimmedLength(text: string): number {
  return [...text.trim()].length
}

/** Enter and Esc also commit or cancel an IME composition; that keystroke belongs to the input method. */
export function isImeKeystroke(event: KeyboardEvent): boolean {
  return event.isComposing || event.keyCode === 229
}

/**
 * Esc normally leaves the screen; in a field with typed text it only leaves the field, so
 * a reflex Esc does not throw away what was typed. The next Esc goes on as usual.
 */
export function leaveFieldKeepingText(event: KeyboardEvent): void {
  const field = event.target as HTMLInputElement | HTMLTextAreaElement
  if (field.value.trim() === '') return
  event.stopPropagation()
  field.blur()
}

/**
 * A keydown handler that submits: the clerk's Enter (or Ctrl+Enter, as bound) sends the form,
 * unless the keystroke belongs to the input method.
 */
export function submitOnKey(submit: () => Promise<void>): (event: KeyboardEvent) => void {
  return (event) => {
    if (isImeKeystroke(event)) return
    event.preventDefault()
    void submit()
  }
}

/**
 * An el-form rule for a required text the backend keeps to `max` characters, checked as the
 * backend checks it, so a blank or overlong text costs no round trip. The messages are read
 * when the rule runs, so they follow the language.
 */
export function requiredTextRule(
  trigger: FormItemRule['trigger'],
  max: number,
  required: () => string,
  tooLong: () => string,
): FormItemRule {
  return {
    trigger,
    validator: (_rule, value: string, callback) => {
      const length = trimmedLength(value)
      if (length === 0) callback(new Error(required()))
      else if (length > max) callback(new Error(tooLong()))
      else callback()
    },
  }
}
