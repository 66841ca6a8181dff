// One measurement in a real engine, run by webkit.mjs: ?kind=VirtualList|el-table-v2.
// First render: from mounting to the second animation frame (rows laid out and painted).
// Scrolling: the scrolling element's scrollTop moved one screen at a time, as a clerk's
// PageDown does, each step done when its rows are painted (two frames).
import '../../src/styles.css'
import { HEIGHT, ROW_HEIGHT, mountList, renderedCodes, type Kind } from './listHarness'

const SCREENS = 50
const frame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve))

async function run(): Promise<void> {
  const kind = (new URLSearchParams(location.search).get('kind') ?? 'VirtualList') as Kind
  const host = document.getElementById('host') as HTMLElement
  await frame()
  const t0 = performance.now()
  const list = await mountList(kind, host)
  await frame()
  await frame()
  const firstRender = performance.now() - t0
  const perScreen = Math.floor(HEIGHT / ROW_HEIGHT)
  let worstStep = 0
  const s0 = performance.now()
  for (let screen = 1; screen <= SCREENS; screen++) {
    const step = performance.now()
    list.scroller().scrollTop = screen * perScreen * ROW_HEIGHT
    await frame()
    await frame()
    worstStep = Math.max(worstStep, performance.now() - step)
  }
  const scroll = performance.now() - s0
  const expected = `2019-320105-47-01-${String(SCREENS * perScreen).padStart(6, '0')}`
  const landed = renderedCodes(host).includes(expected)
  ;(window as unknown as { __benchResult: unknown }).__benchResult = { kind, firstRender, scroll, worstStep, landed }
}

void run()
