// Who is at the window. The backend holds the session; this store mirrors it for the screens:
// the person (null: nobody, the sign-in screen), whether the screen is locked, and what their
// roles let them do. It also locks the screen when nobody has touched the keyboard or mouse for
// the person's `idle_minutes`, leaving the work on screen as it was underneath.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import { isCommandError } from '../api'
import * as api from '../session'
import type { Permission, SignedInPerson } from '../session'

/**
 * Any of these on the window counts as someone at the counter. Listened to in the capture
 * phase: the dialogs keep their keys from bubbling past them, and typing into one is input.
 */
const INPUT_EVENTS = ['keydown', 'mousedown', 'mousemove', 'wheel', 'touchstart'] as const
const LISTENER_OPTIONS: AddEventListenerOptions = { capture: true, passive: true }

/**
 * The longest wait between looks at the clock. Timers do not count the time a PC sleeps, the
 * clock does: one that slept past the limit locks within this of waking.
 */
const IDLE_CHECK_MS = 30_000

/**
 * The backend holds no session for the screens any more: timed out there, ended by an
 * administrator, or signed out after too many wrong passwords at the lock.
 */
export function isSessionEnded(error: unknown): boolean {
  return isCommandError(error) && ['session_ended', 'not_signed_in', 'too_many_attempts', 'sign_in_expired'].includes(error.code)
}

export const useSessionStore = defineStore('session', () => {
  const person = ref<SignedInPerson | null>(null)
  /** current_person has answered: until then neither the sign-in screen nor the work shows. */
  const loaded = ref(false)
  const locked = ref(false)
  /** Signed in against the cached verifier: the sign-in screen says so until the clerk goes on. */
  const offlineNotice = ref(false)
  /**
   * Why nobody is signed in when the person did not sign out themselves (session_ended), or
   * why the session could not be read; the sign-in screen shows it in the current language.
   */
  const ended = ref<unknown>(null)

  let lastInput = 0
  let idleTimer: ReturnType<typeof setTimeout> | undefined
  let following = false

  function onInput(): void {
    lastInput = Date.now()
  }

  function checkIdle(): void {
    clearTimeout(idleTimer)
    const minutes = person.value?.idle_minutes ?? 0
    // No limit set: the policy leaves locking to the clerk (Ctrl+L).
    if (locked.value || minutes <= 0) return
    const left = lastInput + minutes * 60_000 - Date.now()
    if (left <= 0) void lock(true)
    else idleTimer = setTimeout(checkIdle, Math.min(left, IDLE_CHECK_MS))
  }

  /** Counts the idle time from now, for the person signed in and the screen unlocked. */
  function followInput(): void {
    if (!following) {
      for (const name of INPUT_EVENTS) window.addEventListener(name, onInput, LISTENER_OPTIONS)
      following = true
    }
    onInput()
    checkIdle()
  }

  function stopFollowingInput(): void {
    clearTimeout(idleTimer)
    if (!following) return
    for (const name of INPUT_EVENTS) window.removeEventListener(name, onInput, LISTENER_OPTIONS)
    following = false
  }

  function begin(signedIn: SignedInPerson): void {
    person.value = signedIn
    locked.value = false
    ended.value = null
    followInput()
  }

  /** Back to the sign-in screen; `why` is said there when it was not the person's own doing. */
  function end(why: unknown = null): void {
    stopFollowingInput()
    person.value = null
    locked.value = false
    offlineNotice.value = false
    ended.value = why
  }

  /** A failure that means the session is over ends it here too, then goes on to the caller. */
  function endIfOver(error: unknown): void {
    if (isSessionEnded(error)) end(error)
  }

  /** At start: the counter may still have a session (the app was restarted behind a lock). */
  async function load(): Promise<void> {
    try {
      const current = await api.currentPerson()
      if (!current) end()
      else if (current.locked) {
        // The screens were reloaded behind the lock: it stays until the password is given.
        person.value = current
        locked.value = true
      } else begin(current)
    } catch (e) {
      end(e)
    } finally {
      loaded.value = true
    }
  }

  /** Rejects with the backend's CommandError: the sign-in screen says it in its own words. */
  async function signIn(account: string, password: string, code: string | null): Promise<SignedInPerson> {
    const signedIn = await api.signIn(account, password, code)
    begin(signedIn)
    offlineNotice.value = signedIn.offline
    return signedIn
  }

  function acknowledgeOffline(): void {
    offlineNotice.value = false
  }

  /**
   * Signs out and back to the sign-in screen. A failure keeps the person signed in: showing
   * the sign-in screen while the backend still acts for them would let the next person work
   * in their name.
   */
  async function signOut(): Promise<void> {
    try {
      await api.signOut()
    } catch (e) {
      if (!isSessionEnded(e)) throw e
    }
    end()
  }

  /**
   * Covers the screen at once, then tells the backend. Should that fail, the screen stays
   * covered all the same: unlocking asks the backend for the password either way.
   */
  async function lock(idle = false): Promise<void> {
    if (!person.value || locked.value) return
    locked.value = true
    stopFollowingInput()
    try {
      await api.lockScreen(idle)
    } catch (e) {
      endIfOver(e)
    }
  }

  /** The same person only; rejects with the backend's CommandError (wrong_password …). */
  async function unlock(password: string): Promise<void> {
    try {
      begin(await api.unlock(password))
    } catch (e) {
      endIfOver(e)
      throw e
    }
  }

  /** Reads the person again after changing what the backend holds about them (password, second factor). */
  async function refresh(): Promise<void> {
    try {
      const current = await api.currentPerson()
      if (!current) {
        end()
        return
      }
      person.value = current
      // The policy may have set another idle limit meanwhile.
      if (!locked.value) checkIdle()
    } catch (e) {
      endIfOver(e)
      throw e
    }
  }

  function can(permission: Permission): boolean {
    return person.value?.permissions.includes(permission) ?? false
  }

  return {
    person,
    loaded,
    locked,
    offlineNotice,
    ended,
    load,
    signIn,
    acknowledgeOffline,
    signOut,
    lock,
    unlock,
    refresh,
    endIfOver,
    can,
  }
})

export type SessionStore = ReturnType<typeof useSessionStore>
