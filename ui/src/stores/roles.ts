// 角色与权限: the roles with their permissions, a role's change, and the grants of roles to
// accounts with their data scope. The hub has the last word on each (one duty per role and
// per person, nobody grants to themselves); its refusal is shown as it says it.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { grantRole, listRoles, putRole, revokeRole, unlockUser, type DataScope, type RoleBody, type RoleRecord } from '../api'
import { createAction } from './adminAction'
import { createLoader } from './loader'

export const useRolesStore = defineStore('roles', () => {
  const roles = ref<RoleRecord[]>([])
  const loader = createLoader()

  function load(): Promise<void> {
    return loader.run(listRoles, (found) => (roles.value = found), { quiet: loader.loaded.value })
  }

  const { busy, error: actionError, outcome, act } = createAction(load)

  /** A refusal is thrown to the role's dialog, which keeps it open with the hub's words. */
  async function save(id: string, role: RoleBody): Promise<void> {
    await putRole(id, role)
    await load()
  }

  function roleName(id: string): string {
    return roles.value.find((r) => r.id === id)?.name ?? id
  }

  function grant(account: string, role: string, scope: DataScope): Promise<unknown> {
    return act(() => grantRole(account, role, scope), () => ({ key: 'accounts.roles.granted', values: { account, role: roleName(role) } }))
  }

  function revoke(account: string, role: string): Promise<unknown> {
    return act(() => revokeRole(account, role), () => ({ key: 'accounts.roles.revoked', values: { account, role: roleName(role) } }))
  }

  function unlock(account: string): Promise<unknown> {
    return act(() => unlockUser(account), () => ({ key: 'accounts.roles.unlocked', values: { account } }))
  }

  return {
    roles,
    loading: loader.loading,
    loaded: loader.loaded,
    error: loader.error,
    busy,
    actionError,
    outcome,
    load,
    save,
    grant,
    revoke,
    unlock,
  }
})
