// Signing in at the counter: who is at the window and what their roles let them do. The
// commands and their types are the generated contract's (bindings.ts); this module names
// them as the session store speaks.
import {
  commands,
  type Permission,
  type SecondFactorEnrolment,
  type SignedInPerson_Serialize as SignedInPerson,
} from './bindings'

export type { Permission, SecondFactorEnrolment, SignedInPerson }

/** `code` is the 动态口令, sent once the backend answered `second_factor_needed`. */
export const signIn = commands.signIn
export const signOut = commands.signOut
/** Who is signed in at this counter, or null. */
export const currentPerson = commands.currentPerson
export const lockScreen = commands.lockScreen
/** The person who locked the screen only: anyone else signs them out (切换用户) first. */
export const unlock = commands.unlock
export const changePassword = commands.changePassword
export const beginSecondFactor = commands.beginSecondFactor
/** Resolves to the 8 one-time recovery codes: the only time they are ever shown. */
export const confirmSecondFactor = commands.confirmSecondFactor
