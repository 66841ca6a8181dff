import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// The Tauri shell loads this front end from `../ui/dist` (production) or from the
// dev server below (`tauri dev`), so the port must be fixed and known to tauri.conf.
export default defineConfig({
  plugins: [vue()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    watch: { ignored: ['**/src-tauri/**'] },
  },
  define: {
    // vue-i18n feature flags: composition API only, no devtools in the counter build.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Counter PCs run WebView2 (Windows) or WebKitGTK 4.1 (UOS / Kylin / Debian).
    target: ['chrome105', 'safari15'],
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
    restoreMocks: true,
  },
})
