import { createApp, h } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import NotInShell from './components/shared/NotInShell.vue'
import FirstRunView from './components/session/FirstRunView.vue'
import { inDesktopShell } from './api'
import { commands } from './bindings'
import { createAppI18n } from './i18n'
import { createAppRouter } from './router'
import './styles.css'

async function boot(): Promise<void> {
  // In a plain browser (a quick look at the dev server) there is no backend to talk to:
  // say so instead of failing on the first command.
  if (!inDesktopShell()) {
    createApp(NotInShell).use(createAppI18n()).mount('#app')
    return
  }
  const stage = await commands.counterStage()
  if (stage.stage === 'first_run') {
    // Nothing else of the app runs on a PC not enrolled. Once it is, the page starts
    // again, on the signing-in screen.
    const firstRun = createApp({
      render: () => h(FirstRunView, { hubUrl: stage.hub_url, onEnrolled: () => setTimeout(() => window.location.reload(), 1500) }),
    })
    firstRun.use(createPinia()).use(createAppI18n()).mount('#app')
    return
  }
  createApp(App).use(createPinia()).use(createAppRouter()).use(createAppI18n()).mount('#app')
}

void boot()
