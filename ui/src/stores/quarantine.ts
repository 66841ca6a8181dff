// 数据接入 · 隔离区: records the connectors could not take, filtered by state, and the three
// ways to work an open one (重新校验, 更正后处理, 放弃).
import { ref } from 'vue'
import { defineStore } from 'pinia'
import {
  dismissQuarantined,
  errorMessage,
  listQuarantine,
  reprocessQuarantined,
  type DeliveryReport,
  type JsonObject,
  type QuarantineEntry,
  type QuarantineState,
} from '../api'
import { createLoader } from './loader'

/** What the last action on an entry did, for the line above the list: the entry itself usually leaves the filter. */
export type QuarantineOutcome =
  | { id: number; location: string; connector: string; action: 'reprocessed'; report: DeliveryReport }
  | { id: number; location: string; connector: string; action: 'dismissed' }

export const useQuarantineStore = defineStore('quarantine', () => {
  /** Null: every state. Open first: those are the ones to work. */
  const filter = ref<QuarantineState | null>('open')
  /** Newest first, as list_quarantine gives them. */
  const entries = ref<QuarantineEntry[]>([])
  /** Why an action on one entry was refused, by entry id; shown with that entry. */
  const rowErrors = ref<Record<number, string>>({})
  /** The entry being worked: every action waits for its answer. */
  const busy = ref<number | null>(null)
  const outcome = ref<QuarantineOutcome | null>(null)
  // A filter change can overtake the reload after an action: the loader shows the newest
  // list only. Its error says why the list itself could not be read.
  const { loaded, loading, error, run } = createLoader()

  function load(): Promise<void> {
    return run(
      () => listQuarantine(filter.value),
      (result) => {
        entries.value = result
        // A message belongs to its entry: once the entry has left the list, so has its message.
        const present = new Set(result.map((e) => String(e.id)))
        rowErrors.value = Object.fromEntries(Object.entries(rowErrors.value).filter(([id]) => present.has(id)))
      },
    )
  }

  function setFilter(state: QuarantineState | null): Promise<void> {
    if (state === filter.value && loaded.value) return Promise.resolve()
    filter.value = state
    // Entries of the previous filter must not stand under the new filter's name.
    entries.value = []
    loaded.value = false
    return load()
  }

  type Where = Pick<QuarantineOutcome, 'id' | 'location' | 'connector'>

  /** Resolves to whether the hub accepted the action. The list is read again either way. */
  async function act(id: number, command: (where: Where) => Promise<QuarantineOutcome>): Promise<boolean> {
    if (busy.value !== null) return false
    const entry = entries.value.find((e) => e.id === id)
    busy.value = id
    outcome.value = null
    const others = { ...rowErrors.value }
    delete others[id]
    rowErrors.value = others
    let accepted = false
    try {
      outcome.value = await command({ id, location: entry?.location ?? '', connector: entry?.connector ?? '' })
      accepted = true
    } catch (e) {
      rowErrors.value = { ...rowErrors.value, [id]: errorMessage(e) }
    } finally {
      busy.value = null
    }
    // Also after a refusal: the usual one is that someone else closed the entry meanwhile.
    await load()
    return accepted
  }

  /** 重新校验 (`record` null: as received) or 更正后处理 (`record`: the correction). */
  function reprocess(id: number, record: JsonObject | null): Promise<boolean> {
    return act(id, async (where) => ({ ...where, action: 'reprocessed', report: await reprocessQuarantined(id, record) }))
  }

  /** 放弃; the reason is checked by the dialog that asks for it (1–200 characters). */
  function dismiss(id: number, reason: string): Promise<boolean> {
    return act(id, async (where) => {
      await dismissQuarantined(id, reason.trim())
      return { ...where, action: 'dismissed' }
    })
  }

  return { filter, entries, loaded, loading, error, rowErrors, busy, outcome, load, setFilter, reprocess, dismiss }
})

export type QuarantineStore = ReturnType<typeof useQuarantineStore>
