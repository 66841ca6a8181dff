import { computed, type ComputedRef } from 'vue'
import { createI18n, useI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'
import type { Locale } from '../format'

const STORAGE_KEY = 'yizhan.locale'

const LOCALES: readonly Locale[] = ['zh-CN', 'en']

function isLocale(value: unknown): value is Locale {
  return LOCALES.includes(value as Locale)
}

/** Chinese unless the clerk chose English on this PC before. */
export function savedLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    return isLocale(saved) ? saved : 'zh-CN'
  } catch {
    // Storage can be unavailable (locked-down profiles); the default is always usable.
    return 'zh-CN'
  }
}

export function saveLocale(locale: Locale): void {
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    // Not persisting only costs the clerk one click after a restart.
  }
}

export function createAppI18n(locale: Locale = savedLocale()) {
  document.documentElement.lang = locale
  const i18n = createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': zhCN, en },
  })
  active = i18n.global
  return i18n
}

type Translator = ReturnType<typeof createAppI18n>['global']

/** The app's translator, for text made outside components (the stores' error lines). */
let active: Translator | null = null

/**
 * A failed command's text in the current language: the screens' own for its `code`
 * (which may quote the backend's `message`), or the backend's message for a code the
 * screens do not know.
 */
export function commandErrorText(code: string, message: string): string {
  const key = `errors.${code}`
  if (!active || !active.te(key, 'zh-CN')) return message
  return active.t(key, { message })
}

/** The current UI locale, narrowed for the formatting functions. */
export function useLocale(): ComputedRef<Locale> {
  const { locale } = useI18n()
  return computed(() => (isLocale(locale.value) ? locale.value : 'zh-CN'))
}
