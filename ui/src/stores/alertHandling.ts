// Answering alerts wherever they are listed (the project detail, the queue, the emergency
// banner): 确认 / 指派 / 备注 / 解除 through one dialog at a time, and 重新校验 of the record
// behind a validation alert. Answers are clerk commands: the backend queues them for the
// data centre, so they show at once as 待上传 once the alerts are read again.
import { reactive, ref } from 'vue'
import {
  errorMessage,
  handleAlert,
  reprocessQuarantined,
  type AlertHandling,
  type AlertStep,
  type AlertView,
  type DeliveryReport,
} from '../api'

/** What the last 重新校验 of an alert's record did. */
export type ReverifyOutcome = { report: DeliveryReport } | { error: string }

export interface AlertQuestion {
  alert: AlertView
  step: AlertStep
}

/** `refresh` reads the alerts shown again; awaited, so the controls wait until the effect shows. */
export function createAlertHandlingStore(refresh: () => Promise<void>) {
  /** What the dialog is asking about; null while no dialog is open. */
  const asking = ref<AlertQuestion | null>(null)
  /** Why the backend refused the answer in the dialog, shown there verbatim. */
  const refusal = ref<string | null>(null)
  /** The key of the alert whose command is on its way: every action waits for it. */
  const busy = ref<string | null>(null)
  /** The key of the alert whose record is being checked again. */
  const reverifying = ref<string | null>(null)
  /** By alert key. */
  const reverified = ref<Record<string, ReverifyOutcome>>({})

  function ask(alert: AlertView, step: AlertStep): void {
    if (busy.value !== null) return
    asking.value = { alert, step }
    refusal.value = null
  }

  function cancel(): void {
    asking.value = null
    refusal.value = null
  }

  /**
   * Runs one command for one alert, then reads the alerts again: after an accepted one to
   * show its effect, after a refusal because the usual one is that someone else answered
   * or resolved the alert meanwhile.
   */
  async function settle(key: string, command: () => Promise<void>): Promise<void> {
    busy.value = key
    try {
      await command()
      await refresh()
    } finally {
      busy.value = null
    }
  }

  /** Sends the dialog's answer; the dialog closes once this counter has taken it. Resolves to whether it did. */
  async function submit(handling: AlertHandling): Promise<boolean> {
    const question = asking.value
    if (!question || busy.value !== null) return false
    const { key, project_code } = question.alert
    refusal.value = null
    let accepted = false
    await settle(key, async () => {
      try {
        await handleAlert(key, project_code, handling)
      } catch (e) {
        refusal.value = errorMessage(e)
        return
      }
      accepted = true
      asking.value = null
    })
    return accepted
  }

  /** 重新校验: the quarantined record as it was received, e.g. now that its project has arrived. */
  async function reverify(alert: AlertView): Promise<void> {
    const id = alert.quarantine_id
    if (id === null || busy.value !== null) return
    reverifying.value = alert.key
    await settle(alert.key, async () => {
      let outcome: ReverifyOutcome
      try {
        outcome = { report: await reprocessQuarantined(id, null) }
      } catch (e) {
        outcome = { error: errorMessage(e) }
      } finally {
        reverifying.value = null
      }
      reverified.value = { ...reverified.value, [alert.key]: outcome }
    })
  }

  return reactive({ asking, refusal, busy, reverifying, reverified, ask, cancel, submit, reverify })
}

export type AlertHandlingStore = ReturnType<typeof createAlertHandlingStore>
