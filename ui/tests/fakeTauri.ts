// Stand-ins for `invoke` and `listen` from @tauri-apps/api, wired in with vi.mock by each
// test file. Commands are answered by per-test handlers; events are fired with `emit`.
import { signedInPerson } from './fixtures'

type Args = Record<string, unknown>
/** What a command sent besides named arguments: a raw body (file uploads) and headers. */
export interface RawRequest {
  body?: Uint8Array | ArrayBuffer | number[]
  headers?: Record<string, string>
}
type Handler = (args: Args | undefined, raw: RawRequest) => unknown
type Listener = (event: { event: string; id: number; payload: unknown }) => void

export const calls: { cmd: string; args: Args | undefined; raw: RawRequest }[] = []
const handlers = new Map<string, Handler>()
const listeners = new Map<string, Set<Listener>>()

export function handle(cmd: string, handler: Handler): void {
  handlers.set(cmd, handler)
}

export function callsOf(cmd: string): (Args | undefined)[] {
  return calls.filter((c) => c.cmd === cmd).map((c) => c.args)
}

export function rawCallsOf(cmd: string): RawRequest[] {
  return calls.filter((c) => c.cmd === cmd).map((c) => c.raw)
}

export function reset(): void {
  calls.length = 0
  handlers.clear()
  listeners.clear()
  // Someone is signed in with every business permission, so a test of the work does not sign
  // in first; the sign-in tests answer otherwise.
  handle('current_person', () => signedInPerson())
}

// The real invoke takes named arguments, or a raw body (Uint8Array, ArrayBuffer, number[])
// with headers in the options.
export async function invoke(
  cmd: string,
  args?: Args | Uint8Array | ArrayBuffer | number[],
  options?: { headers?: HeadersInit },
): Promise<unknown> {
  const isRaw = args instanceof Uint8Array || args instanceof ArrayBuffer || Array.isArray(args)
  const raw: RawRequest = {
    body: isRaw ? args : undefined,
    headers: options?.headers ? Object.fromEntries(new Headers(options.headers)) : undefined,
  }
  const named = isRaw ? undefined : args
  calls.push({ cmd, args: named, raw })
  const handler = handlers.get(cmd)
  // The real bridge rejects with a string, so the fake does too.
  if (!handler) throw `no handler for ${cmd}`
  return handler(named, raw)
}

/**
 * Stands in for `Channel` from @tauri-apps/api/core: the command's handler gets it among
 * its arguments and sends the command's own progress through it.
 */
export class Channel<T> {
  onmessage: (message: T) => void = () => {}
  send(message: T): void {
    this.onmessage(message)
  }
}

export async function listen(event: string, listener: Listener): Promise<() => void> {
  const set = listeners.get(event) ?? new Set()
  set.add(listener)
  listeners.set(event, set)
  return () => set.delete(listener)
}

export function emit(event: string, payload: unknown): void {
  for (const listener of listeners.get(event) ?? []) listener({ event, id: 0, payload })
}

export function listenerCount(event: string): number {
  return listeners.get(event)?.size ?? 0
}

/** Lets pending promise chains (fake command answers and what they trigger) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

/** A promise the test resolves by hand, to control the order in which answers arrive. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (e: unknown) => void } {
  let resolve!: (value: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
