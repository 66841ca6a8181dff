// Runs webkit.html in WebKitGTK's MiniBrowser through WebKitWebDriver, RUNS fresh page loads
// per list, alternating, and prints the medians. Needs a display: xvfb-run -a node tests/bench/webkit.mjs
// Do not edit the app while it runs: the dev server would reload the page mid-measurement.
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

const RUNS = Number(process.env.RUNS ?? 7)
const VITE_PORT = 5199
const DRIVER_PORT = 4499
const BROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'

const vite = spawn('npx', ['vite', '--port', String(VITE_PORT), '--strictPort'], { stdio: 'ignore', detached: true })
const driver = spawn('WebKitWebDriver', [`--port=${DRIVER_PORT}`], { stdio: 'ignore', detached: true })
const stop = () => {
  for (const child of [vite, driver]) {
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {}
  }
}
process.on('exit', stop)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1))

async function wd(method, path, body) {
  const res = await fetch(`http://127.0.0.1:${DRIVER_PORT}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`)
  return json.value
}

async function until(probe, what, ms = 60_000) {
  const end = Date.now() + ms
  for (;;) {
    try {
      const value = await probe()
      if (value) return value
    } catch {}
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

await until(() => fetch(`http://127.0.0.1:${VITE_PORT}/tests/bench/webkit.html`).then((r) => r.ok), 'vite')
await until(() => wd('GET', '/status').then((v) => v.ready), 'WebKitWebDriver')
const session = await wd('POST', '/session', {
  capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: BROWSER, args: ['--automation', '--geometry=1280x800'] } } },
})
const id = session.sessionId
const results = { VirtualList: [], 'el-table-v2': [] }
try {
  // One load of each first, so vite's on-demand transforms are not timed.
  for (let i = -1; i < RUNS; i++) {
    for (const kind of Object.keys(results)) {
      await wd('POST', `/session/${id}/url`, { url: `http://127.0.0.1:${VITE_PORT}/tests/bench/webkit.html?kind=${kind}&run=${i}` })
      const result = await until(() => wd('POST', `/session/${id}/execute/sync`, { script: 'return window.__benchResult', args: [] }), kind)
      if (!result.landed) throw new Error(`${kind}: the scroll did not land on the expected row ${JSON.stringify(result)}`)
      if (i >= 0) results[kind].push(result)
    }
  }
} finally {
  await wd('DELETE', `/session/${id}`).catch(() => {})
  stop()
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const [kind, runs] of Object.entries(results)) {
  const f = (key) => `${median(runs.map((r) => r[key])).toFixed(1)} ms (${runs.map((r) => r[key].toFixed(0)).join(', ')})`
  console.log(`${kind}: first render ${f('firstRender')}; 50 screens ${f('scroll')}; worst screen ${f('worstStep')}`)
}
