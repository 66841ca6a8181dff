// 用户: the hub's accounts and what the system administrator does to one. A one-time
// password (a new account's or a reset's) is held only until its dialog is closed: it is
// shown that once and then forgotten here too.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import {
  createUser,
  listUsers,
  resetPassword,
  setUserStatus,
  unlockUser,
  type NewUser,
  type OneTimePassword,
  type UserStatus,
  type UserView,
} from '../api'
import { createAction } from './adminAction'
import { createLoader } from './loader'

export const useUsersStore = defineStore('users', () => {
  const users = ref<UserView[]>([])
  const oneTime = ref<OneTimePassword | null>(null)
  const loader = createLoader()

  function load(): Promise<void> {
    return loader.run(listUsers, (found) => (users.value = found), { quiet: loader.loaded.value })
  }

  const { busy, error: actionError, outcome, act } = createAction(load)

  /** A refusal is thrown to the form, which shows it on the field it names. */
  async function create(account: NewUser): Promise<void> {
    oneTime.value = await createUser(account)
    await load()
  }

  function setStatus(account: string, status: UserStatus): Promise<unknown> {
    return act(
      () => setUserStatus(account, status),
      () => ({ key: status === 'active' ? 'accounts.users.enabled' : 'accounts.users.disabledDone', values: { account } }),
    )
  }

  async function reset(account: string): Promise<void> {
    const made = await act(() => resetPassword(account), () => null)
    if (made) oneTime.value = made
  }

  function unlock(account: string): Promise<unknown> {
    return act(() => unlockUser(account), () => ({ key: 'accounts.users.unlocked', values: { account } }))
  }

  /** The dialog showing the one-time password was closed: nobody sees it again. */
  function forgetOneTime(): void {
    oneTime.value = null
  }

  return {
    users,
    oneTime,
    loading: loader.loading,
    loaded: loader.loaded,
    error: loader.error,
    busy,
    actionError,
    outcome,
    load,
    create,
    setStatus,
    reset,
    unlock,
    forgetOneTime,
  }
})
