// What the typed fields of the counter share: limits counted the way the backend counts
// them, and the keys that belong to an input method or to a half-typed text.

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
