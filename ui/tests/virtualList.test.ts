import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { h, nextTick } from 'vue'
import VirtualList from '../src/components/shared/VirtualList.vue'

const ROW_HEIGHT = 40
const VIEWPORT_HEIGHT = 600
const OVERSCAN = 6

function mountList(count: number) {
  return mount(VirtualList, {
    props: { count, rowHeight: ROW_HEIGHT, overscan: OVERSCAN },
    slots: { row: ({ index }: { index: number }) => h('div', { class: 'item', 'data-index': index }, `row ${index}`) },
    attachTo: document.body,
  })
}

function renderedIndices(wrapper: ReturnType<typeof mountList>): number[] {
  return wrapper.findAll('.item').map((item) => Number(item.attributes('data-index')))
}

describe('VirtualList', () => {
  beforeEach(() => {
    // happy-dom does no layout: give every element the viewport height of a counter PC.
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(VIEWPORT_HEIGHT)
  })
  afterEach(() => {
    document.body.innerHTML = ''
  })

  it('renders only a window of 100,000 rows', async () => {
    const wrapper = mountList(100_000)
    await nextTick()
    const visible = VIEWPORT_HEIGHT / ROW_HEIGHT
    const indices = renderedIndices(wrapper)
    expect(indices[0]).toBe(0)
    expect(indices.length).toBe(visible + OVERSCAN)
    expect(wrapper.find('.spacer').attributes('style')).toContain(`height: ${100_000 * ROW_HEIGHT}px`)
  })

  it('moves the window when scrolled and reports the range', async () => {
    const wrapper = mountList(100_000)
    await nextTick()
    const viewport = wrapper.find('.viewport').element as HTMLElement
    viewport.scrollTop = 50_000 * ROW_HEIGHT
    await wrapper.find('.viewport').trigger('scroll')
    await nextTick()

    const indices = renderedIndices(wrapper)
    expect(indices[0]).toBe(50_000 - OVERSCAN)
    expect(indices.at(-1)).toBe(50_000 + VIEWPORT_HEIGHT / ROW_HEIGHT + OVERSCAN - 1)
    expect(indices.length).toBeLessThan(40)
    expect(wrapper.emitted('range')?.at(-1)).toEqual([50_000 - OVERSCAN, 50_000 + 15 + OVERSCAN])
  })

  it('never renders past the end of a short list', async () => {
    const wrapper = mountList(3)
    await nextTick()
    expect(renderedIndices(wrapper)).toEqual([0, 1, 2])
  })

  it('scrolls just enough to bring a row into view', async () => {
    const wrapper = mountList(100_000)
    await nextTick()
    const viewport = wrapper.find('.viewport').element as HTMLElement
    wrapper.vm.scrollToIndex(100)
    await nextTick()
    // Row 100 ends at 101 rows; the viewport's bottom edge is placed there.
    expect(viewport.scrollTop).toBe(101 * ROW_HEIGHT - VIEWPORT_HEIGHT)
    expect(renderedIndices(wrapper)).toContain(100)

    wrapper.vm.scrollToIndex(90)
    await nextTick()
    expect(viewport.scrollTop).toBe(101 * ROW_HEIGHT - VIEWPORT_HEIGHT)
  })
})
