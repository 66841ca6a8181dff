// 安全策略: the policy in force at the hub, and its change by the security administrator.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { securityPolicy, setSecurityPolicy, type SecurityPolicy } from '../api'
import { createLoader } from './loader'

export const useSecurityPolicyStore = defineStore('securityPolicy', () => {
  const policy = ref<SecurityPolicy | null>(null)
  const loader = createLoader()

  function load(): Promise<void> {
    return loader.run(securityPolicy, (found) => (policy.value = found))
  }

  /** A refusal is thrown to the form, which shows it on the field the hub names. */
  async function save(next: SecurityPolicy): Promise<void> {
    await setSecurityPolicy(next)
    policy.value = { ...next }
  }

  return { policy, loading: loader.loading, loaded: loader.loaded, error: loader.error, load, save }
})
