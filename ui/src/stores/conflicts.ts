// 待处理冲突: clerk commands the data centre refused, for the clerk to redo or let go.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import { discardConflict, errorMessage, listConflicts, redoConflict, type OutboxEntry } from '../api'
import { createLoader } from './loader'

export const useConflictsStore = defineStore('conflicts', () => {
  /** Newest first, as list_conflicts gives them. */
  const entries = ref<OutboxEntry[]>([])
  /** Why 放弃 or 重做 of one entry was refused, by command id; shown in that row. */
  const rowErrors = ref<Record<string, string>>({})
  /** The command id being discarded or redone: its buttons wait for the answer. */
  const busy = ref<string | null>(null)
  // A reload triggered by a count change can overtake the one triggered by the clerk's own
  // 放弃: the loader shows the newest list only. Its error says why the list itself could not be read.
  const { loaded, loading, error, run } = createLoader()

  function load(): Promise<void> {
    return run(listConflicts, (result) => {
      entries.value = result
      // A message belongs to its row: once the row is gone, so is the message.
      const present = new Set(result.map((e) => e.command_id))
      rowErrors.value = Object.fromEntries(Object.entries(rowErrors.value).filter(([id]) => present.has(id)))
    })
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

  return { entries, loaded, loading, error, rowErrors, busy, load, discard, redo }
})

export type ConflictsStore = ReturnType<typeof useConflictsStore>
