// One run of the print dialog: the printers to choose from, then the documents sent to the
// chosen one in order, followed through the command's progress channel.
import { computed, reactive, ref } from 'vue'
import { errorMessage, listPrinters, printDocuments, type Printer, type PrintProgress } from '../api'

export function createPrintJobStore() {
  const printers = ref<Printer[]>([])
  const printersLoaded = ref(false)
  /** The chosen printer's name; '' while there is none to choose. */
  const printer = ref('')
  /** Why the printers could not be listed or the run could not start, in Chinese. */
  const error = ref<string | null>(null)
  const running = ref(false)
  const finished = ref(false)
  const progress = ref<{ done: number; total: number } | null>(null)
  /** By position in the run: a progress message and the final report tell of the same document. */
  const reports = ref<Record<number, PrintProgress>>({})

  const failures = computed(() => Object.values(reports.value).filter((r) => r.error !== null))
  const printed = computed(() => Object.values(reports.value).length - failures.value.length)

  async function loadPrinters(): Promise<void> {
    try {
      printers.value = await listPrinters()
      const preferred = printers.value.find((p) => p.is_default) ?? printers.value[0]
      printer.value = preferred?.name ?? ''
      error.value = null
    } catch (e) {
      error.value = errorMessage(e)
    } finally {
      printersLoaded.value = true
    }
  }

  function record(report: PrintProgress): void {
    reports.value = { ...reports.value, [report.done]: report }
    // A message can arrive after the final report; the count only ever goes forward.
    if (!progress.value || report.done > progress.value.done) progress.value = { done: report.done, total: report.total }
  }

  async function print(numbers: string[]): Promise<void> {
    if (running.value || printer.value === '' || numbers.length === 0) return
    running.value = true
    finished.value = false
    error.value = null
    reports.value = {}
    progress.value = { done: 0, total: numbers.length }
    try {
      for (const report of await printDocuments(numbers, printer.value, record)) record(report)
      finished.value = true
    } catch (e) {
      error.value = errorMessage(e)
    } finally {
      running.value = false
    }
  }

  return reactive({ printers, printersLoaded, printer, error, running, finished, progress, failures, printed, loadPrinters, print })
}

export type PrintJobStore = ReturnType<typeof createPrintJobStore>
