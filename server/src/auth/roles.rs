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
//!
//! **Clusters (the PKS API, `/pks/v1`).** PKS's UAA scopes become actions:
//! [`Action::ManageClusters`] is `pks.clusters.manage` (create clusters; resize, delete and get
//! the credentials of one's *own* clusters, those the principal created) and
//! [`Action::ManageAllClusters`] is `pks.clusters.admin` (all of that on every cluster). Tileworks
//! roles map onto them: `admin` and `full_control` manage all clusters; `restricted_control`
//! manages its own and sees no other. The view roles (`full_view`, `restricted_view`) hold
//! [`Action::ViewAllClusters`], PKS's `pks.clusters.admin.read`: they list and show every
//! cluster (as they read everything else in Tileworks) and change none; a cluster's credentials
//! (a kubeconfig with an admin token) are part of managing it, so they get none.
//! [`may_see_cluster`] and [`may_manage_cluster`] are the per-cluster decisions.

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
    /// Read, filter and export the audit trail (who changed what, who saw which credential).
    /// Administrators only: the trail names every principal and what each did.
    ReadAudit,
    /// Tileworks's own settings (the Settings menu): administrators only, as Ops Manager's
    /// settings are.
    Administer,
    /// `pks.clusters.manage`: create Kubernetes clusters; resize, delete and get credentials of
    /// the clusters one created.
    ManageClusters,
    /// `pks.clusters.admin`: everything on every cluster, whoever created it.
    ManageAllClusters,
    /// `pks.clusters.admin.read`: list and show every cluster, whoever created it.
    ViewAllClusters,
    /// Read and replace Tileworks's own TLS certificate (`/api/v0/settings/ssl_certificate`).
    /// Administrators only, as in Ops Manager.
    ManageTlsCertificate,
    /// Download an export of the whole installation (`GET /api/v0/installation_asset_collection`:
    /// every credential, sealed under the data key). Administrators only, as in Ops Manager.
    ExportInstallation,
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
            Action::ReadAudit => "read the audit trail",
            Action::Administer => "change Tileworks's settings",
            Action::ManageClusters => "manage clusters",
            Action::ManageAllClusters => "manage other principals' clusters",
            Action::ViewAllClusters => "see other principals' clusters",
            Action::ManageTlsCertificate => "manage Tileworks's TLS certificate",
            Action::ExportInstallation => "export the installation",
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
        ManageUsers | ReadAudit | Administer => matches!(role, Admin),
        ManageClusters => matches!(role, Admin | FullControl | RestrictedControl),
        ManageAllClusters => matches!(role, Admin | FullControl),
        ViewAllClusters => matches!(role, Admin | FullControl | FullView | RestrictedView),
        ManageTlsCertificate => matches!(role, Admin),
        ExportInstallation => matches!(role, Admin),
    }
}

/// Whether `caller` may see the cluster `created_by` made: every cluster with
/// [`Action::ViewAllClusters`], else only its own.
pub fn may_see_cluster(caller: &CurrentUser, created_by: Option<&str>) -> bool {
    role_allows(&caller.role, Action::ViewAllClusters) || own(caller, created_by)
}

/// Whether `caller` may resize, delete or get credentials of the cluster `created_by` made:
/// every cluster with [`Action::ManageAllClusters`], its own with [`Action::ManageClusters`].
pub fn may_manage_cluster(caller: &CurrentUser, created_by: Option<&str>) -> bool {
    role_allows(&caller.role, Action::ManageAllClusters)
        || (role_allows(&caller.role, Action::ManageClusters) && own(caller, created_by))
}

fn own(caller: &CurrentUser, created_by: Option<&str>) -> bool {
    created_by == Some(caller.username.as_str())
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
        manage_clusters: role_allows(role, Action::ManageClusters),
        read_audit: role_allows(role, Action::ReadAudit),
        administer: role_allows(role, Action::Administer),
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
            assert_eq!(role_allows(role, Action::ReadAudit), users, "{role}");
            assert_eq!(permissions(role).read_audit, users, "{role}");
            assert_eq!(permissions(role).manage_users, users, "{role}");
            assert_eq!(role_allows(role, Action::Administer), users, "{role}");
            assert_eq!(permissions(role).administer, users, "{role}");
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
    fn clusters_follow_pks_scopes() {
        // (role, manage own, manage all, view all)
        let expected = [
            ("admin", true, true, true),
            ("full_control", true, true, true),
            ("restricted_control", true, false, false),
            ("full_view", false, false, true),
            ("restricted_view", false, false, true),
            ("read_only", false, false, true),
        ];
        for (role, manage, all, view) in expected {
            assert_eq!(role_allows(role, Action::ManageClusters), manage, "{role}");
            assert_eq!(role_allows(role, Action::ManageAllClusters), all, "{role}");
            assert_eq!(role_allows(role, Action::ViewAllClusters), view, "{role}");
            let me = principal("me".into(), role.into());
            assert!(may_see_cluster(&me, Some("me")), "{role}");
            assert_eq!(may_see_cluster(&me, Some("other")), view, "{role}");
            assert_eq!(may_manage_cluster(&me, Some("me")), manage, "{role}");
            assert_eq!(may_manage_cluster(&me, Some("other")), all, "{role}");
            assert_eq!(may_manage_cluster(&me, None), all, "{role}: OSB-made");
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
