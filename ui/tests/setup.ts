// Every test starts with stores of its own, as the app starts with them: a fresh Pinia is
// made active (for stores used directly) and installed in every mount (for components).
import { beforeEach } from 'vitest'
import { config } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'

beforeEach(() => {
  const pinia = createPinia()
  setActivePinia(pinia)
  config.global.plugins = [pinia]
})
