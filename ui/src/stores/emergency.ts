// What the emergency banner stands for: active red alerts about the system itself (a
// connector down, the data centre unreachable too long, data lost), not about a project.
import { computed, reactive, ref } from 'vue'
import type { UnlistenFn } from '@tauri-apps/api/event'
import { MAX_ALERT_PAGE, listAlerts, onReplicaChanged, type AlertView } from '../api'

export function createEmergencyStore() {
  const alerts = ref<AlertView[]>([])
  /** Active red system alerts, all of them (alerts holds at most a page). */
  const total = ref(0)
  let latestRequest = 0

  /** The banner shows the newest; the queue lists them oldest first. */
  const newest = computed(() =>
    alerts.value.reduce<AlertView | null>(
      (latest, a) => (latest === null || Date.parse(a.raised_at) > Date.parse(latest.raised_at) ? a : latest),
      null,
    ),
  )

  async function load(): Promise<void> {
    const request = ++latestRequest
    try {
      const page = await listAlerts({ levels: ['red'], state: 'active', system_only: true, offset: 0, limit: MAX_ALERT_PAGE })
      if (request !== latestRequest) return
      alerts.value = page.alerts
      total.value = page.total
    } catch {
      // Keep showing what was last known: an emergency does not end because the replica
      // could not be read once, and the next replica change asks again.
    }
  }

  /** Starts following replica changes and reads the alerts; resolves to the function that stops. */
  async function attach(): Promise<UnlistenFn> {
    try {
      return await onReplicaChanged(() => void load())
    } finally {
      void load()
    }
  }

  return reactive({ total, newest, load, attach })
}

export type EmergencyStore = ReturnType<typeof createEmergencyStore>
