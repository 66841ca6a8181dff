// 终端: the hub's counter PCs and what the system administrator does to one. A new PC's
// enrolment code is held only until its dialog is closed: shown that once, then forgotten.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { listDevices, newDevice, revokeDevice, type DeviceListing, type EnrolmentCode, type NewDevice, type Revocation } from '../api'
import type { ActionOutcome } from './adminAction'
import { createLoader } from './loader'

export const useDevicesStore = defineStore('devices', () => {
  const devices = ref<DeviceListing[]>([])
  const code = ref<EnrolmentCode | null>(null)
  const loader = createLoader()

  function load(): Promise<void> {
    return loader.run(listDevices, (found) => (devices.value = found), { quiet: loader.loaded.value })
  }

  /** What the last revocation did, for the status line. */
  const outcome = ref<ActionOutcome | null>(null)

  /** A refusal is thrown to the form, which shows it on the field it names. */
  async function create(device: NewDevice): Promise<void> {
    code.value = await newDevice(device)
    outcome.value = null
    await load()
  }

  /** Thrown to the dialog too: a reason the hub will not take is said there. */
  async function revoke(deviceId: string, revocation: Revocation): Promise<void> {
    const done = await revokeDevice(deviceId, revocation)
    outcome.value = { key: revocation.state === 'lost' ? 'devices.lostDone' : 'devices.retiredDone', values: { device: done.name } }
    await load()
  }

  /** The dialog showing the code was closed: nobody sees it again. */
  function forgetCode(): void {
    code.value = null
  }

  return {
    devices,
    code,
    loading: loader.loading,
    loaded: loader.loaded,
    error: loader.error,
    outcome,
    load,
    create,
    revoke,
    forgetCode,
  }
})
