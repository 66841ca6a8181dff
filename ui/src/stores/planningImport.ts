// 数据接入 · 导入规划审批文件: one upload at a time, its progress and its report.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import type { UnlistenFn } from '@tauri-apps/api/event'
import {
  errorMessage,
  importPlanningFile,
  onImportProgress,
  type ImportProgress,
  type ImportReport,
} from '../api'

/** The planning export comes as CSV or as an Excel workbook; the hub reads no other. */
export function isImportable(fileName: string): boolean {
  return /\.(csv|xlsx)$/i.test(fileName)
}

// App-wide: an import keeps running while the clerk looks at a project in between.
export const usePlanningImportStore = defineStore('planningImport', () => {
  const running = ref(false)
  const fileName = ref<string | null>(null)
  /** Null until the hub starts delivering rows (the file is still on its way up). */
  const progress = ref<ImportProgress | null>(null)
  const report = ref<ImportReport | null>(null)
  const error = ref<string | null>(null)

  async function run(file: File): Promise<void> {
    if (running.value) return
    running.value = true
    fileName.value = file.name
    progress.value = null
    report.value = null
    error.value = null
    let unlisten: UnlistenFn | null = null
    try {
      // Listening before invoking: the first event ({ done: 0, total }) can arrive before
      // the command has even returned its promise.
      unlisten = await onImportProgress((next) => (progress.value = next))
      const bytes = new Uint8Array(await file.arrayBuffer())
      report.value = await importPlanningFile(file.name, bytes)
    } catch (e) {
      error.value = errorMessage(e)
    } finally {
      running.value = false
      unlisten?.()
    }
  }

  return { running, fileName, progress, report, error, run }
})

export type PlanningImportStore = ReturnType<typeof usePlanningImportStore>
