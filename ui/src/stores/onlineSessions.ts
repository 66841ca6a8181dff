// 在线会话: who is signed in at the hub now, and 强制下线 of one of them.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { endSession, listSessions, type SessionRecord } from '../api'
import { createAction } from './adminAction'
import { createLoader } from './loader'

export const useOnlineSessionsStore = defineStore('onlineSessions', () => {
  const sessions = ref<SessionRecord[]>([])
  const loader = createLoader()

  function load(): Promise<void> {
    return loader.run(listSessions, (found) => (sessions.value = found), { quiet: loader.loaded.value })
  }

  const { busy, error: actionError, outcome, act } = createAction(load)

  function end(session: SessionRecord): Promise<unknown> {
    return act(() => endSession(session.id), () => ({ key: 'accounts.sessions.ended', values: { account: session.account } }))
  }

  return {
    sessions,
    loading: loader.loading,
    loaded: loader.loaded,
    error: loader.error,
    busy,
    actionError,
    outcome,
    load,
    end,
  }
})
