// One address per view, so a view can be opened directly (by a test, or by a link). Hash
// history: the shell serves the front end from a custom protocol, with no server to
// answer deep paths.
import { createRouter, createWebHashHistory, type RouteLocationRaw, type RouterHistory } from 'vue-router'

// The views behind the other tabs load when first opened: the 项目 list, which every counter
// opens at start, does not wait for the supervisor's charts (ECharts) or the admin tables.
const IssueView = () => import('./components/documents/IssueView.vue')
const VerifyView = () => import('./components/documents/VerifyView.vue')
const AlertsView = () => import('./components/alerts/AlertsView.vue')
const AdminView = () => import('./components/admin/AdminView.vue')

export function createAppRouter(history: RouterHistory = createWebHashHistory()) {
  return createRouter({
    history,
    routes: [
      // projects: the list and a project's detail · admin: 数据接入 · alerts: 预警, the
      // supervisor's queue · issue: 开具, the final check and documents · verify: 验真 of a
      // scanned document.
      { path: '/', redirect: { name: 'projects' } },
      // Nothing is routed in for the list and a project's detail: the shell keeps
      // ProjectsView mounted behind every other view, so the list keeps its place, and
      // ProjectsView follows these two addresses.
      { path: '/projects', name: 'projects', components: {} },
      { path: '/projects/:code', name: 'project', components: {} },
      { path: '/issue', name: 'issue', component: IssueView },
      { path: '/verify', name: 'verify', component: VerifyView },
      { path: '/alerts', name: 'alerts', component: AlertsView },
      { path: '/admin', name: 'admin', component: AdminView },
      { path: '/:unknown(.*)*', redirect: { name: 'projects' } },
    ],
  })
}

/** The address of one project's detail in the 项目 view. */
export function projectAddress(projectCode: string): RouteLocationRaw {
  return { name: 'project', params: { code: projectCode } }
}
