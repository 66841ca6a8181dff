// One clerk command behind one control: the backend checks it against the replica and
// queues it for the data centre, so its effect shows at once (待上传) once the project is
// read again. Its refusal is shown verbatim next to that control.
import { reactive, ref } from 'vue'
import type { FormInstance } from 'element-plus'
import { errorMessage } from './api'

/** `refresh` reads the project again; awaited, so the control stays busy until the effect shows. */
export function createClerkCommand(refresh: () => Promise<void>) {
  const busy = ref(false)
  const error = ref<string | null>(null)

  /** Resolves to the backend's answer, or null when it refused (or another command is on its way). */
  async function run<T>(command: () => Promise<T>): Promise<{ answer: T } | null> {
    if (busy.value) return null
    busy.value = true
    error.value = null
    let answer: T
    try {
      answer = await command()
    } catch (e) {
      error.value = errorMessage(e)
      busy.value = false
      return null
    }
    try {
      // The backend's replica-changed event would refresh the project too; this is sooner.
      await refresh()
    } finally {
      busy.value = false
    }
    return { answer }
  }

  return reactive({ busy, error, run })
}

export type ClerkCommand = ReturnType<typeof createClerkCommand>

/**
 * A form of one text behind one clerk command: the form's rules are checked first, so a text
 * the backend would refuse costs no round trip, and the text goes trimmed. Resolves to the
 * text sent, or null when nothing was (invalid, refused, or another command on its way).
 */
export async function submitText(
  form: FormInstance | null | undefined,
  command: ClerkCommand,
  text: () => string,
  send: (text: string) => Promise<unknown>,
): Promise<string | null> {
  if (command.busy) return null
  if (!(await form?.validate().catch(() => false))) return null
  const trimmed = text().trim()
  return (await command.run(() => send(trimmed))) ? trimmed : null
}
