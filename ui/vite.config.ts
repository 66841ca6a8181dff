import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// The Tauri shell loads this front end from `../ui/dist` (production) or from the
// dev server below (`tauri dev`), so the port must be fixed and known to tauri.conf.
export default defineConfig({
  // Element Plus on demand: each `el-*` tag and `ElMessage`-style call pulls in only that
  // component and its CSS. Vitest reads this same config, so tests resolve them too.
  plugins: [
    vue(),
    AutoImport({ resolvers: [ElementPlusResolver()], dts: 'src/auto-imports.d.ts' }),
    Components({ resolvers: [ElementPlusResolver()], dts: 'src/components.d.ts', dirs: [] }),
  ],
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
    // The 预警 view's chunk carries ECharts (about 600 kB, 210 kB gzip) and loads only when
    // the view is first opened (router.ts); every other chunk stays well under this.
    chunkSizeWarningLimit: 700,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    restoreMocks: true,
    // Element Plus ships ES modules that import their CSS: Vite must transform them.
    server: { deps: { inline: ['element-plus'] } },
  },
})
