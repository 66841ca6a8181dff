// How the account screens name roles, permissions and data scopes in the screens' language:
// the built-in roles and every permission have words of their own; a role the security
// administrator made keeps the name it was given.
import type { DataScope, District, RoleRecord } from '../../api'
import type { Permission } from '../../session'

type Translate = (key: string) => string

const BUILTIN_ROLES = ['clerk', 'supervisor', 'system_admin', 'security_admin', 'audit_admin']

export function roleLabel(t: Translate, id: string, roles: readonly RoleRecord[] = []): string {
  if (BUILTIN_ROLES.includes(id)) return t(`accounts.role.${id}`)
  return roles.find((r) => r.id === id)?.name ?? id
}

/** `user:manage` → its words; the i18n keys spell the colon as an underscore. */
export function permissionLabel(t: Translate, permission: Permission): string {
  return t(`accounts.permission.${permission.replace(':', '_')}`)
}

export function scopeLabel(t: Translate, scope: DataScope, districts: readonly District[]): string {
  if (scope.kind === 'all') return t('accounts.roles.scopeAll')
  return scope.districts.map((code) => districts.find((d) => d.code === code)?.name ?? code).join(t('admin.listSeparator'))
}
