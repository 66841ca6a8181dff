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
  return createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': zhCN, en },
  })
}

/** The current UI locale, narrowed for the formatting functions. */
export function useLocale(): ComputedRef<Locale> {
  const { locale } = useI18n()
  return computed(() => (isLocale(locale.value) ? locale.value : 'zh-CN'))
}
