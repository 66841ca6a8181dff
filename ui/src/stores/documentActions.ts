// What can be done to a project's documents wherever they are shown (its detail, the final
// check screen): 预览, 打印, 补打 and 作废, one dialog at a time. 补打 and 作废 are clerk
// commands: their effect shows (待上传) once the project is read again.
import { computed, reactive, ref } from 'vue'
import { reprintDocument, voidDocument, type DocumentLine } from '../api'
import { createClerkCommand } from '../clerkCommand'

type Action = 'reprint' | 'void'

/** `refresh` reads the project again; awaited, so the controls wait until the effect shows. */
export function createDocumentActionsStore(projectCode: string, refresh: () => Promise<void>) {
  /** The documents the print dialog is for; null while it is closed. */
  const printing = ref<string[] | null>(null)
  const previewing = ref<string | null>(null)
  /** The document the 作废 dialog asks about. */
  const voiding = ref<DocumentLine | null>(null)
  const command = createClerkCommand(refresh)
  /** What the last command was about: its refusal is shown there (a row, or the dialog). */
  const target = ref<{ number: string; action: Action } | null>(null)

  /** The number whose command is on its way: every command waits for it. */
  const busy = computed(() => (command.busy ? (target.value?.number ?? null) : null))
  const voidRefusal = computed(() => (target.value?.action === 'void' ? command.error : null))

  function reprintError(number: string): string | null {
    const t = target.value
    return t?.action === 'reprint' && t.number === number ? command.error : null
  }

  /** Resolves to whether this counter took the command. */
  async function send(number: string, action: Action, run: () => Promise<unknown>): Promise<boolean> {
    if (command.busy) return false
    target.value = { number, action }
    return (await command.run(run)) !== null
  }

  function print(numbers: string[]): void {
    if (numbers.length > 0) printing.value = numbers
  }

  function preview(number: string): void {
    previewing.value = number
  }

  function askVoid(doc: DocumentLine): void {
    if (command.busy) return
    // A refusal belongs to the question it answered, not to the next one.
    target.value = null
    voiding.value = doc
  }

  function closeDialogs(): void {
    printing.value = null
    previewing.value = null
    voiding.value = null
  }

  /** 补打: the marked copy is made first, then it goes to the print dialog like any other. */
  async function reprint(number: string): Promise<void> {
    if (await send(number, 'reprint', () => reprintDocument(projectCode, number))) print([number])
  }

  /** 作废 with the reason the dialog checked; the dialog closes once this counter has taken it. */
  async function submitVoid(reason: string): Promise<void> {
    const doc = voiding.value
    if (!doc) return
    if (await send(doc.number, 'void', () => voidDocument(projectCode, doc.number, reason))) voiding.value = null
  }

  return reactive({ printing, previewing, voiding, voidRefusal, busy, reprintError, print, preview, askVoid, closeDialogs, reprint, submitVoid })
}

export type DocumentActionsStore = ReturnType<typeof createDocumentActionsStore>
