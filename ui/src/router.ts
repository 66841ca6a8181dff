// One address per view, so a view can be opened directly (by a test, or by a link). Hash
// history: the shell serves the front end from a custom protocol, with no server to
// answer deep paths.
import { createRouter, createWebHashHistory, type RouteLocationRaw, type RouteMeta, type Router, type RouterHistory } from 'vue-router'
import type { Permission } from './session'
import { useSessionStore } from './stores/session'

declare module 'vue-router' {
  interface RouteMeta {
    /** A person needs one of these to open the view; the views without are everyone's. */
    anyOf?: readonly Permission[]
  }
}

// The views behind the other tabs load when first opened: the 项目 list, which every counter
// opens at start, does not wait for the supervisor's charts (ECharts) or the admin tables.
const IssueView = () => import('./components/documents/IssueView.vue')
const VerifyView = () => import('./components/documents/VerifyView.vue')
const AlertsView = () => import('./components/alerts/AlertsView.vue')
const AdminView = () => import('./components/admin/AdminView.vue')
const AuditView = () => import('./components/admin/AuditView.vue')
const UsersView = () => import('./components/admin/UsersView.vue')
const RolesView = () => import('./components/admin/RolesView.vue')
const PolicyView = () => import('./components/admin/PolicyView.vue')
const SessionsView = () => import('./components/admin/SessionsView.vue')
const DevicesView = () => import('./components/admin/DevicesView.vue')

export function createAppRouter(history: RouterHistory = createWebHashHistory()) {
  const router = createRouter({
    history,
    routes: [
      // projects: the list and a project's detail · admin: 数据接入 · alerts: 预警, the
      // supervisor's queue · issue: 开具, the final check and documents · verify: 验真 of a
      // scanned document.
      { path: '/', redirect: { name: 'projects' } },
      // Nothing is routed in for the list and a project's detail: the shell keeps
      // ProjectsView mounted behind every other view, so the list keeps its place, and
      // ProjectsView follows these two addresses.
      { path: '/projects', name: 'projects', components: {}, meta: { anyOf: ['project:read'] } },
      { path: '/projects/:code', name: 'project', components: {}, meta: { anyOf: ['project:read'] } },
      { path: '/issue', name: 'issue', component: IssueView, meta: { anyOf: ['document:issue'] } },
      { path: '/verify', name: 'verify', component: VerifyView },
      { path: '/alerts', name: 'alerts', component: AlertsView, meta: { anyOf: ['alert:handle'] } },
      {
        path: '/admin',
        name: 'admin',
        component: AdminView,
        meta: { anyOf: ['connector:operate', 'quarantine:correct'] },
      },
      { path: '/audit', name: 'audit', component: AuditView, meta: { anyOf: ['audit:read'] } },
      // The account screens: 用户 and 在线会话 (系统管理员), 角色与权限 and 安全策略 (安全管理员).
      { path: '/users', name: 'users', component: UsersView, meta: { anyOf: ['user:manage'] } },
      { path: '/roles', name: 'roles', component: RolesView, meta: { anyOf: ['role:grant'] } },
      { path: '/policy', name: 'policy', component: PolicyView, meta: { anyOf: ['policy:change'] } },
      { path: '/sessions', name: 'sessions', component: SessionsView, meta: { anyOf: ['user:manage'] } },
      { path: '/devices', name: 'devices', component: DevicesView, meta: { anyOf: ['device:manage'] } },
      { path: '/:unknown(.*)*', redirect: { name: 'projects' } },
    ],
  })
  // A view the person's roles do not allow leads back to their first view. With nobody
  // signed in no view shows at all; the address is checked again at sign-in (App.vue), as
  // the next person's roles may differ.
  router.beforeEach((to) => {
    const session = useSessionStore()
    return session.person === null || permits(to.meta, session.can) || { name: homeFor(router, session.can) }
  })
  return router
}

/** The views in the order a person's first view is picked from; 验真 is everyone's. */
const HOMES = ['projects', 'issue', 'alerts', 'admin', 'audit', 'users', 'roles', 'policy', 'sessions', 'devices'] as const

/** Where someone holding what `can` says starts: 项目 for the window's staff, the duty's own view for an administrator. */
export function homeFor(router: Router, can: (permission: Permission) => boolean): string {
  return HOMES.find((name) => permits(router.resolve({ name }).meta, can)) ?? 'verify'
}

/** Whether someone holding what `can` says may open a view with this meta. */
export function permits(meta: RouteMeta, can: (permission: Permission) => boolean): boolean {
  return meta.anyOf === undefined || meta.anyOf.some(can)
}

/** The address of one project's detail in the 项目 view. */
export function projectAddress(projectCode: string): RouteLocationRaw {
  return { name: 'project', params: { code: projectCode } }
}
