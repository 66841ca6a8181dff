// What an administrator's action on one row shares with the others on its screen: one at a
// time, its refusal on the screen's error line, what it did on the status line, and the
// list read again afterwards, whether it was accepted or not (someone else may have acted
// on the same row meanwhile).
import { ref } from 'vue'
import { errorMessage } from '../api'

/** What the status line says once an action was accepted: an i18n key and its values. */
export interface ActionOutcome {
  key: string
  values: Record<string, string>
}

export function createAction(reload: () => Promise<void>) {
  const busy = ref(false)
  const error = ref<string | null>(null)
  const outcome = ref<ActionOutcome | null>(null)

  /** Resolves to the command's answer, or undefined when it was refused or another action was on its way. */
  async function act<T>(command: () => Promise<T>, done: (answer: T) => ActionOutcome | null): Promise<T | undefined> {
    if (busy.value) return undefined
    busy.value = true
    error.value = null
    outcome.value = null
    let answer: T | undefined
    try {
      answer = await command()
      outcome.value = done(answer)
    } catch (e) {
      error.value = errorMessage(e)
    } finally {
      busy.value = false
    }
    await reload()
    return answer
  }

  return { busy, error, outcome, act }
}
