// Stand-ins for `invoke` and `listen` from @tauri-apps/api, wired in with vi.mock by each
// test file. Commands are answered by per-test handlers; events are fired with `emit`.
type Handler = (args: Record<string, unknown> | undefined) => unknown
type Listener = (event: { event: string; id: number; payload: unknown }) => void

export const calls: { cmd: string; args: Record<string, unknown> | undefined }[] = []
const handlers = new Map<string, Handler>()
const listeners = new Map<string, Set<Listener>>()

export function handle(cmd: string, handler: Handler): void {
  handlers.set(cmd, handler)
}

export function callsOf(cmd: string): (Record<string, unknown> | undefined)[] {
  return calls.filter((c) => c.cmd === cmd).map((c) => c.args)
}

export function reset(): void {
  calls.length = 0
  handlers.clear()
  listeners.clear()
}

export async function invoke(cmd: string, args?: Record<string, unknown>): Promise<unknown> {
  calls.push({ cmd, args })
  const handler = handlers.get(cmd)
  // The real bridge rejects with a string, so the fake does too.
  if (!handler) throw `no handler for ${cmd}`
  return handler(args)
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
