// 待处理冲突: clerk commands the data centre refused, for the clerk to redo or let go.
import { reactive, ref } from 'vue'
import { discardConflict, errorMessage, listConflicts, redoConflict, type OutboxEntry } from '../api'

export function createConflictsStore() {
  /** Newest first, as list_conflicts gives them. */
  const entries = ref<OutboxEntry[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  /** Why the list itself could not be read. */
  const error = ref<string | null>(null)
  /** Why 放弃 or 重做 of one entry was refused, by command id; shown in that row. */
  const rowErrors = ref<Record<string, string>>({})
  /** The command id being discarded or redone: its buttons wait for the answer. */
  const busy = ref<string | null>(null)
  // Only the newest list may be shown: a reload triggered by a count change can overtake
  // the one triggered by the clerk's own 放弃.
  let latestRequest = 0

  async function load(): Promise<void> {
    const request = ++latestRequest
    loading.value = true
    try {
      const result = await listConflicts()
      if (request !== latestRequest) return
      entries.value = result
      loaded.value = true
      error.value = null
      // A message belongs to its row: once the row is gone, so is the message.
      const present = new Set(result.map((e) => e.command_id))
      rowErrors.value = Object.fromEntries(Object.entries(rowErrors.value).filter(([id]) => present.has(id)))
    } catch (e) {
      if (request !== latestRequest) return
      error.value = errorMessage(e)
    } finally {
      if (request === latestRequest) loading.value = false
    }
  }

  async function act(commandId: string, command: (id: string) => Promise<unknown>): Promise<void> {
    if (busy.value !== null) return
    busy.value = commandId
    const others = { ...rowErrors.value }
    delete others[commandId]
    rowErrors.value = others
    try {
      await command(commandId)
    } catch (e) {
      rowErrors.value = { ...rowErrors.value, [commandId]: errorMessage(e) }
    } finally {
      busy.value = null
    }
    await load()
  }

  /** 放弃: the refused command is not sent again. */
  function discard(commandId: string): Promise<void> {
    return act(commandId, discardConflict)
  }

  /** 重做: the command is issued again under a new id, if this counter's rules allow it. */
  function redo(commandId: string): Promise<void> {
    return act(commandId, redoConflict)
  }

  return reactive({ entries, loaded, loading, error, rowErrors, busy, load, discard, redo })
}

export type ConflictsStore = ReturnType<typeof createConflictsStore>
