//! What each role may do: the one table every decision about access comes from.
//!
//! Tileworks has Ops Manager's roles (`opsguide/config-rbac`): administrators and full control
//! do everything; restricted control configures and applies but never sees a credential; full
//! view reads everything, credentials included, and changes nothing; restricted view reads
//! what is not a credential. `read_only`, which earlier Tileworks versions created, is kept
//! and means restricted view (it never saw credentials).
//!
//! Requests meet this table in one place, the gate (`crate::http::gate`), which names the
//! [`Action`] of every entry point. Code that needs a finer decision (a reveal logged by the
//! credentials service, the buttons a page shows) asks [`allows`] or [`Permissions`] here;
//! nothing else decides.

use std::fmt;

use app::session::{CurrentUser, Permissions};

use crate::{Error, Result};

/// A role, as users and API clients carry it (stored as its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    FullControl,
    RestrictedControl,
    FullView,
    RestrictedView,
}

impl Role {
    /// Every role, most privileged first.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::FullControl,
        Role::RestrictedControl,
        Role::FullView,
        Role::RestrictedView,
    ];

    /// The names accepted when a user or client is created (`read_only` included, for
    /// scripts written against earlier versions).
    pub const NAMES: [&'static str; 6] = [
        "admin",
        "full_control",
        "restricted_control",
        "full_view",
        "restricted_view",
        "read_only",
    ];

    /// The role a stored name stands for; an unknown name is no role (and may do nothing).
    pub fn parse(name: &str) -> Option<Role> {
        Some(match name {
            "admin" => Role::Admin,
            "full_control" => Role::FullControl,
            "restricted_control" => Role::RestrictedControl,
            "full_view" => Role::FullView,
            "restricted_view" | "read_only" => Role::RestrictedView,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::FullControl => "full_control",
            Role::RestrictedControl => "restricted_control",
            Role::FullView => "full_view",
            Role::RestrictedView => "restricted_view",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an entry point does, as far as access is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Anything a signed-in principal may do whatever its role: see who it is, log out.
    SignedIn,
    /// Read configuration, status, logs of installations and every page; credentials only
    /// as `***` or `((placeholders))`.
    View,
    /// Change what is staged: import or delete products and stemcells, stage, configure,
    /// revert, generate a certificate into a product.
    Configure,
    /// Start Apply Changes.
    Apply,
    /// Read a credential's value, a private key, or a log bundle (logs can hold secrets).
    SeeCredentials,
    /// Create, change, disable and delete users, reset their passwords, list and revoke API
    /// clients. Ops Manager: only the Administrator manages users.
    ManageUsers,
}

impl Action {
    /// How a refusal words what was asked.
    fn described(self) -> &'static str {
        match self {
            Action::SignedIn | Action::View => "read this",
            Action::Configure => "change the configuration",
            Action::Apply => "apply changes",
            Action::SeeCredentials => "see credentials",
            Action::ManageUsers => "manage users",
        }
    }
}

/// The table: whether `role` may do `action`.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        SignedIn | View => true,
        Configure | Apply => matches!(role, Admin | FullControl | RestrictedControl),
        SeeCredentials => matches!(role, Admin | FullControl | FullView),
        ManageUsers => matches!(role, Admin),
    }
}

/// Whether the principal's role (by name) may do `action`; no known role may do nothing.
pub fn role_allows(role: &str, action: Action) -> bool {
    Role::parse(role).is_some_and(|role| allows(role, action))
}

/// `Ok` when the caller may do `action`, else `403` naming the role and what it may not do.
pub fn require(caller: &CurrentUser, action: Action) -> Result<()> {
    if role_allows(&caller.role, action) {
        Ok(())
    } else {
        Err(refusal(&caller.role, action))
    }
}

/// The `403` for a role that may not do `action`.
pub fn refusal(role: &str, action: Action) -> Error {
    Error::Forbidden(format!("the role '{role}' may not {}", action.described()))
}

/// What the UI may offer a principal: the same table, for the buttons and links a page shows
/// (hiding one is comfort, never the check).
pub fn permissions(role: &str) -> Permissions {
    Permissions {
        configure: role_allows(role, Action::Configure),
        apply: role_allows(role, Action::Apply),
        see_credentials: role_allows(role, Action::SeeCredentials),
        manage_users: role_allows(role, Action::ManageUsers),
    }
}

/// The principal a request acts for, with what its role may do.
pub fn principal(username: String, role: String) -> CurrentUser {
    let permissions = permissions(&role);
    CurrentUser {
        username,
        role,
        permissions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_ops_managers() {
        // (role, configure and apply, see credentials, manage users), from Ops Manager's RBAC
        // page.
        let expected = [
            ("admin", true, true, true),
            ("full_control", true, true, false),
            ("restricted_control", true, false, false),
            ("full_view", false, true, false),
            ("restricted_view", false, false, false),
            ("read_only", false, false, false),
        ];
        for (role, writes, credentials, users) in expected {
            assert_eq!(role_allows(role, Action::ManageUsers), users, "{role}");
            assert_eq!(permissions(role).manage_users, users, "{role}");
            assert!(role_allows(role, Action::View), "{role}");
            assert!(role_allows(role, Action::SignedIn), "{role}");
            assert_eq!(role_allows(role, Action::Configure), writes, "{role}");
            assert_eq!(role_allows(role, Action::Apply), writes, "{role}");
            assert_eq!(
                role_allows(role, Action::SeeCredentials),
                credentials,
                "{role}"
            );
        }
        for action in [
            Action::View,
            Action::Configure,
            Action::SeeCredentials,
            Action::ManageUsers,
        ] {
            assert!(!role_allows("", action));
            assert!(!role_allows("Admin", action), "names are exact");
        }
    }

    #[test]
    fn every_name_parses_and_round_trips() {
        for name in Role::NAMES {
            assert!(Role::parse(name).is_some(), "{name}");
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Some(role));
        }
    }

    #[test]
    fn refusals_name_the_role_and_the_action() {
        let caller = principal("viewer".into(), "restricted_view".into());
        let err = require(&caller, Action::Configure).unwrap_err();
        assert_eq!(
            err.to_string(),
            "forbidden: the role 'restricted_view' may not change the configuration"
        );
        assert!(require(&caller, Action::View).is_ok());
        assert!(!caller.permissions.configure);
    }
}
