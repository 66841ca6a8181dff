import { createApp } from 'vue'
import App from './App.vue'
import NotInShell from './components/NotInShell.vue'
import { inDesktopShell } from './api'
import { createAppI18n } from './i18n'
import './styles.css'

// In a plain browser (a quick look at the dev server) there is no backend to talk to:
// say so instead of failing on the first command.
createApp(inDesktopShell() ? App : NotInShell)
  .use(createAppI18n())
  .mount('#app')
