import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import NotInShell from './components/shared/NotInShell.vue'
import { inDesktopShell } from './api'
import { createAppI18n } from './i18n'
import { createAppRouter } from './router'
import './styles.css'

// In a plain browser (a quick look at the dev server) there is no backend to talk to:
// say so instead of failing on the first command.
const app = inDesktopShell() ? createApp(App).use(createPinia()).use(createAppRouter()) : createApp(NotInShell)
app.use(createAppI18n()).mount('#app')
