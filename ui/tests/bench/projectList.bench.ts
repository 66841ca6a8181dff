// VirtualList against el-table-v2 for the 100,000-project list, in happy-dom (no layout, no
// paint: this times the Vue and DOM work each does). Run: npx vitest bench --run tests/bench
// The same lists in a real engine (WebKitGTK, as on UOS / Kylin counters): webkit.mjs.
import { bench, describe, expect } from 'vitest'
import { nextTick } from 'vue'
import { HEIGHT, ROW_HEIGHT, mountList, renderedCodes, type Kind } from './listHarness'

// happy-dom does no layout: every element is as tall as the list's box on a counter PC.
Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => HEIGHT })

const SCREENS = 50
const KINDS: Kind[] = ['VirtualList', 'el-table-v2']

async function firstRender(kind: Kind): Promise<void> {
  const host = document.body.appendChild(document.createElement('div'))
  const list = await mountList(kind, host)
  expect(renderedCodes(host)[0]).toBe('2019-320105-47-01-000000')
  list.unmount()
  host.remove()
}

async function scrollScreens(kind: Kind): Promise<void> {
  const host = document.body.appendChild(document.createElement('div'))
  const list = await mountList(kind, host)
  const perScreen = Math.floor(HEIGHT / ROW_HEIGHT)
  for (let screen = 1; screen <= SCREENS; screen++) {
    list.scrollTo(screen * perScreen * ROW_HEIGHT)
    await nextTick()
    await nextTick()
  }
  const last = `2019-320105-47-01-${String(SCREENS * perScreen).padStart(6, '0')}`
  expect(renderedCodes(host)).toContain(last)
  list.unmount()
  host.remove()
}

describe('first render of 100,000 rows', () => {
  for (const kind of KINDS) bench(kind, () => firstRender(kind), { iterations: 20, warmupIterations: 3 })
})

describe(`first render, then ${SCREENS} screens scrolled`, () => {
  for (const kind of KINDS) bench(kind, () => scrollScreens(kind), { iterations: 10, warmupIterations: 2 })
})
