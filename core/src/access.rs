//! Who may do what: permissions, the roles that bundle them, the data scope of a grant,
//! and the separation of duties 等保2.0 level 3 asks for (系统管理员, 安全管理员 and
//! 审计管理员 apart from each other and from the business). Pure rules; the hub stores the
//! accounts and enforces them on every request.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One thing a person may do. The string form is what the hub's route table, the role
/// records and the audit trail carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Permission {
    #[serde(rename = "project:read")]
    ProjectRead,
    #[serde(rename = "final_check:record")]
    FinalCheckRecord,
    #[serde(rename = "document:issue")]
    DocumentIssue,
    #[serde(rename = "document:print")]
    DocumentPrint,
    #[serde(rename = "document:void")]
    DocumentVoid,
    #[serde(rename = "alert:handle")]
    AlertHandle,
    #[serde(rename = "alert:assign")]
    AlertAssign,
    #[serde(rename = "alert:escalate")]
    AlertEscalate,
    #[serde(rename = "quarantine:correct")]
    QuarantineCorrect,
    #[serde(rename = "personal:unmask")]
    PersonalUnmask,
    #[serde(rename = "user:manage")]
    UserManage,
    #[serde(rename = "device:manage")]
    DeviceManage,
    #[serde(rename = "connector:operate")]
    ConnectorOperate,
    #[serde(rename = "config:change")]
    ConfigChange,
    #[serde(rename = "role:grant")]
    RoleGrant,
    #[serde(rename = "policy:change")]
    PolicyChange,
    #[serde(rename = "user:unlock")]
    UserUnlock,
    #[serde(rename = "audit:read")]
    AuditRead,
    #[serde(rename = "audit:export")]
    AuditExport,
}

/// The four duties level 3 keeps apart: a role's permissions all belong to one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    /// The window's work: projects, documents, alerts, corrections.
    Business,
    /// 系统管理员: accounts, devices, connectors, configuration.
    System,
    /// 安全管理员: roles, policy, unlocking.
    Security,
    /// 审计管理员: the audit trail, read and exported.
    Audit,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::ProjectRead,
        Permission::FinalCheckRecord,
        Permission::DocumentIssue,
        Permission::DocumentPrint,
        Permission::DocumentVoid,
        Permission::AlertHandle,
        Permission::AlertAssign,
        Permission::AlertEscalate,
        Permission::QuarantineCorrect,
        Permission::PersonalUnmask,
        Permission::UserManage,
        Permission::DeviceManage,
        Permission::ConnectorOperate,
        Permission::ConfigChange,
        Permission::RoleGrant,
        Permission::PolicyChange,
        Permission::UserUnlock,
        Permission::AuditRead,
        Permission::AuditExport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ProjectRead => "project:read",
            Permission::FinalCheckRecord => "final_check:record",
            Permission::DocumentIssue => "document:issue",
            Permission::DocumentPrint => "document:print",
            Permission::DocumentVoid => "document:void",
            Permission::AlertHandle => "alert:handle",
            Permission::AlertAssign => "alert:assign",
            Permission::AlertEscalate => "alert:escalate",
            Permission::QuarantineCorrect => "quarantine:correct",
            Permission::PersonalUnmask => "personal:unmask",
            Permission::UserManage => "user:manage",
            Permission::DeviceManage => "device:manage",
            Permission::ConnectorOperate => "connector:operate",
            Permission::ConfigChange => "config:change",
            Permission::RoleGrant => "role:grant",
            Permission::PolicyChange => "policy:change",
            Permission::UserUnlock => "user:unlock",
            Permission::AuditRead => "audit:read",
            Permission::AuditExport => "audit:export",
        }
    }

    pub fn duty(self) -> Duty {
        match self {
            Permission::ProjectRead
            | Permission::FinalCheckRecord
            | Permission::DocumentIssue
            | Permission::DocumentPrint
            | Permission::DocumentVoid
            | Permission::AlertHandle
            | Permission::AlertAssign
            | Permission::AlertEscalate
            | Permission::QuarantineCorrect
            | Permission::PersonalUnmask => Duty::Business,
            Permission::UserManage
            | Permission::DeviceManage
            | Permission::ConnectorOperate
            | Permission::ConfigChange => Duty::System,
            Permission::RoleGrant | Permission::PolicyChange | Permission::UserUnlock => Duty::Security,
            Permission::AuditRead | Permission::AuditExport => Duty::Audit,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("不认识的权限 {0}")]
pub struct UnknownPermission(pub String);

impl FromStr for Permission {
    type Err = UnknownPermission;
    fn from_str(text: &str) -> Result<Permission, UnknownPermission> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| UnknownPermission(text.to_owned()))
    }
}

/// The roles every hub starts with. The security administrator may change their grants
/// within their duty, and add roles of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BuiltinRole {
    Clerk,
    Supervisor,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
}

const CLERK: [Permission; 5] = [
    Permission::ProjectRead,
    Permission::FinalCheckRecord,
    Permission::DocumentIssue,
    Permission::DocumentPrint,
    Permission::AlertHandle,
];

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 5] = [
        BuiltinRole::Clerk,
        BuiltinRole::Supervisor,
        BuiltinRole::SystemAdmin,
        BuiltinRole::SecurityAdmin,
        BuiltinRole::AuditAdmin,
    ];

    /// The role's id in the hub's records: `clerk`, `supervisor`, `system_admin`, …
    pub const fn id(self) -> &'static str {
        match self {
            BuiltinRole::Clerk => "clerk",
            BuiltinRole::Supervisor => "supervisor",
            BuiltinRole::SystemAdmin => "system_admin",
            BuiltinRole::SecurityAdmin => "security_admin",
            BuiltinRole::AuditAdmin => "audit_admin",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BuiltinRole::Clerk => "窗口人员",
            BuiltinRole::Supervisor => "科长",
            BuiltinRole::SystemAdmin => "系统管理员",
            BuiltinRole::SecurityAdmin => "安全管理员",
            BuiltinRole::AuditAdmin => "审计管理员",
        }
    }

    pub fn duty(self) -> Duty {
        match self {
            BuiltinRole::Clerk | BuiltinRole::Supervisor => Duty::Business,
            BuiltinRole::SystemAdmin => Duty::System,
            BuiltinRole::SecurityAdmin => Duty::Security,
            BuiltinRole::AuditAdmin => Duty::Audit,
        }
    }

    pub fn default_permissions(self) -> BTreeSet<Permission> {
        match self {
            BuiltinRole::Clerk => CLERK.into(),
            BuiltinRole::Supervisor => CLERK
                .into_iter()
                .chain([
                    Permission::DocumentVoid,
                    Permission::AlertAssign,
                    Permission::AlertEscalate,
                    Permission::QuarantineCorrect,
                    Permission::PersonalUnmask,
                ])
                .collect(),
            BuiltinRole::SystemAdmin => [
                Permission::UserManage,
                Permission::DeviceManage,
                Permission::ConnectorOperate,
                Permission::ConfigChange,
            ]
            .into(),
            BuiltinRole::SecurityAdmin => {
                [Permission::RoleGrant, Permission::PolicyChange, Permission::UserUnlock].into()
            }
            BuiltinRole::AuditAdmin => [Permission::AuditRead, Permission::AuditExport].into(),
        }
    }

    /// Whoever holds this role must sign in with a second factor, whatever the policy
    /// says of clerks.
    pub fn needs_second_factor(self) -> bool {
        self != BuiltinRole::Clerk
    }

    pub fn from_id(id: &str) -> Option<BuiltinRole> {
        BuiltinRole::ALL.into_iter().find(|r| r.id() == id)
    }
}

/// Why a set of permissions cannot be one role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("角色至少应包含一项权限")]
    Empty,
    #[error("一个角色不能同时包含{first}（{first_permission}）和{second}（{second_permission}）的权限：业务与各类管理职责须分离")]
    MixedDuties {
        first: &'static str,
        first_permission: Permission,
        second: &'static str,
        second_permission: Permission,
    },
    #[error("角色 {role} 的职责是{duty}，不能加入 {permission}")]
    OutsideDuty {
        role: String,
        duty: &'static str,
        permission: Permission,
    },
}

impl Duty {
    pub fn name(self) -> &'static str {
        match self {
            Duty::Business => "业务",
            Duty::System => "系统管理",
            Duty::Security => "安全管理",
            Duty::Audit => "审计管理",
        }
    }
}

/// The one duty `permissions` belong to, or why they cannot be one role.
pub fn duty_of(permissions: &BTreeSet<Permission>) -> Result<Duty, RoleError> {
    let mut iter = permissions.iter();
    let first = *iter.next().ok_or(RoleError::Empty)?;
    for &p in iter {
        if p.duty() != first.duty() {
            return Err(RoleError::MixedDuties {
                first: first.duty().name(),
                first_permission: first,
                second: p.duty().name(),
                second_permission: p,
            });
        }
    }
    Ok(first.duty())
}

/// Where a grant holds: the whole city, or the projects of some districts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", content = "districts", rename_all = "snake_case")]
pub enum DataScope {
    #[default]
    All,
    Districts(BTreeSet<String>),
}

impl DataScope {
    pub fn covers(&self, district: &str) -> bool {
        match self {
            DataScope::All => true,
            DataScope::Districts(districts) => districts.contains(district),
        }
    }
}

/// Why a grant of a role is refused, whatever the granter's permissions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("不能给自己授予或收回角色：请由另一位安全管理员操作")]
    ToSelf,
    #[error("该用户已有{held}职责的角色，不能再授予{wanted}职责的角色：一人不能兼任业务与管理或两类管理职责")]
    SecondDuty { held: &'static str, wanted: &'static str },
}

/// Checks a grant of a role of `wanted` duty to `grantee`, who already holds roles of
/// `held` duties, by `granter`: nobody grants to themselves, and a person keeps to one duty.
pub fn check_grant(granter: &str, grantee: &str, held: &[Duty], wanted: Duty) -> Result<(), GrantError> {
    if granter == grantee {
        return Err(GrantError::ToSelf);
    }
    if let Some(&other) = held.iter().find(|&&d| d != wanted) {
        return Err(GrantError::SecondDuty { held: other.name(), wanted: wanted.name() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_travel_as_their_strings() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.as_str()));
        }
        assert_eq!(
            "audit:delete".parse::<Permission>(),
            Err(UnknownPermission("audit:delete".into()))
        );
    }

    #[test]
    fn the_builtin_roles_grant_the_table_of_the_issue_and_keep_to_one_duty() {
        let clerk = BuiltinRole::Clerk.default_permissions();
        let supervisor = BuiltinRole::Supervisor.default_permissions();
        assert!(clerk.is_subset(&supervisor));
        assert!(supervisor.contains(&Permission::DocumentVoid) && !clerk.contains(&Permission::DocumentVoid));
        assert!(supervisor.contains(&Permission::PersonalUnmask));
        assert!(!BuiltinRole::SystemAdmin.default_permissions().contains(&Permission::RoleGrant));
        assert_eq!(
            BuiltinRole::AuditAdmin.default_permissions(),
            [Permission::AuditRead, Permission::AuditExport].into()
        );
        for role in BuiltinRole::ALL {
            assert_eq!(duty_of(&role.default_permissions()), Ok(role.duty()), "{role:?}");
            assert_eq!(BuiltinRole::from_id(role.id()), Some(role));
        }
        assert!(!BuiltinRole::Clerk.needs_second_factor());
        assert!(BuiltinRole::Supervisor.needs_second_factor());
    }

    #[test]
    fn a_role_mixing_business_and_administration_is_refused() {
        let mixed: BTreeSet<_> = [Permission::DocumentIssue, Permission::AuditRead].into();
        let err = duty_of(&mixed).unwrap_err();
        assert!(err.to_string().contains("业务") && err.to_string().contains("审计管理"), "{err}");
        let admins: BTreeSet<_> = [Permission::UserManage, Permission::RoleGrant].into();
        assert!(matches!(duty_of(&admins), Err(RoleError::MixedDuties { .. })));
        assert_eq!(duty_of(&BTreeSet::new()), Err(RoleError::Empty));
    }

    #[test]
    fn nobody_grants_to_themselves_or_gives_one_person_two_duties() {
        assert_eq!(check_grant("sec1", "sec1", &[], Duty::Business), Err(GrantError::ToSelf));
        assert!(matches!(
            check_grant("sec1", "wang", &[Duty::Business], Duty::Audit),
            Err(GrantError::SecondDuty { .. })
        ));
        assert_eq!(check_grant("sec1", "wang", &[Duty::Business], Duty::Business), Ok(()));
        assert_eq!(check_grant("sec1", "wang", &[], Duty::System), Ok(()));
    }

    #[test]
    fn a_scope_of_districts_covers_only_them() {
        let scope = DataScope::Districts(["高新区".to_owned()].into());
        assert!(scope.covers("高新区") && !scope.covers("经开区"));
        assert!(DataScope::All.covers("经开区"));
        assert_eq!(serde_json::to_string(&DataScope::All).unwrap(), r#"{"kind":"all"}"#);
        let json = serde_json::to_string(&scope).unwrap();
        assert_eq!(serde_json::from_str::<DataScope>(&json).unwrap(), scope);
    }
}
