// What the emergency banner stands for: active red alerts about the system itself (a
// connector down, the data centre unreachable too long, data lost), not about a project.
import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import type { UnlistenFn } from '@tauri-apps/api/event'
import { MAX_ALERT_PAGE, listAlerts, type AlertView } from '../api'
import { createLoader, followReplica } from './loader'

export const useEmergencyStore = defineStore('emergency', () => {
  const alerts = ref<AlertView[]>([])
  /** Active red system alerts, all of them (alerts holds at most a page). */
  const total = ref(0)
  // A failed read is not shown: what was last known stays, since an emergency does not end
  // because the replica could not be read once, and the next replica change asks again.
  const { run } = createLoader()

  /** The banner shows the newest; the queue lists them oldest first. */
  const newest = computed(() =>
    alerts.value.reduce<AlertView | null>(
      (latest, a) => (latest === null || Date.parse(a.raised_at) > Date.parse(latest.raised_at) ? a : latest),
      null,
    ),
  )

  function load(): Promise<void> {
    return run(
      () => listAlerts({ levels: ['red'], state: 'active', system_only: true, offset: 0, limit: MAX_ALERT_PAGE }),
      (page) => {
        alerts.value = page.alerts
        total.value = page.total
      },
      { quiet: true },
    )
  }

  /** Starts following replica changes and reads the alerts; resolves to the function that stops. */
  function attach(): Promise<UnlistenFn> {
    return followReplica(
      () => void load(),
      () => void load(),
    )
  }

  return { total, newest, load, attach }
})

export type EmergencyStore = ReturnType<typeof useEmergencyStore>
