//! VM extensions (`GET/PUT/DELETE /api/v0/staged/vm_extensions[/:name]`, om's
//! `create-vm-extension`, `delete-vm-extension` and `configure-director`'s
//! `vmextensions-configuration`): named cloud properties that jobs add to their VMs through
//! `additional_vm_extensions` in their resource config.
//!
//! They belong to the Director tile's settings, beside the VM types: saving one is a Director
//! change like any other (versioned, in the change log, a pending change shown by Review in the
//! cloud config's diff), and Apply Changes deploys them in the cloud config's `vm_extensions`.
//! A job's `additional_vm_extensions` may name only extensions that exist
//! ([`unknown_extensions`]), and an extension a staged job still names cannot be deleted.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tiles::cloud_config::VmExtension;

use super::{Products, Saved};
use crate::{Error, Result};

/// A VM extension as the API shows and takes it (om's `api.VMExtension`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmExtensionEntry {
    pub name: String,
    pub cloud_properties: Map<String, Value>,
}

/// Names are what BOSH accepts in a cloud config and a manifest: letters, digits, `-`, `_`, `.`.
pub fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid("name", tiles::validate::BLANK));
    }
    let fine = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !fine || name.len() > 255 {
        return Err(Error::invalid(
            "name",
            format!("'{name}' may hold only letters, digits, '-', '_' and '.' (at most 255)"),
        ));
    }
    Ok(())
}

/// The names in `additional_vm_extensions` (`value`) that are not among `known`, or the reason
/// the value is not a list of names.
pub fn unknown_extensions(value: &Value, known: &[String]) -> std::result::Result<(), String> {
    let Value::Array(items) = value else {
        if value.is_null() {
            return Ok(());
        }
        return Err("must be a list of VM extension names".into());
    };
    let mut unknown = Vec::new();
    for item in items {
        let Some(name) = item.as_str() else {
            return Err("must be a list of VM extension names".into());
        };
        if !known.iter().any(|k| k == name) {
            unknown.push(format!("'{name}'"));
        }
    }
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "there is no VM extension named {} (create it with PUT /api/v0/staged/vm_extensions/:name)",
            unknown.join(", ")
        ))
    }
}

impl Products {
    /// The staged VM extensions, in the order they were created.
    pub async fn vm_extensions(&self) -> Result<Vec<VmExtensionEntry>> {
        let view = self.director().await?;
        Ok(view
            .settings
            .vm_extensions
            .into_iter()
            .map(|e| VmExtensionEntry {
                name: e.name,
                cloud_properties: e.cloud_properties,
            })
            .collect())
    }

    /// The names of the staged VM extensions.
    pub async fn vm_extension_names(&self) -> Result<Vec<String>> {
        Ok(self
            .vm_extensions()
            .await?
            .into_iter()
            .map(|e| e.name)
            .collect())
    }

    /// One staged VM extension, or 404.
    pub async fn vm_extension(&self, name: &str) -> Result<VmExtensionEntry> {
        self.vm_extensions()
            .await?
            .into_iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Error::NotFound(format!("VM extension '{name}'")))
    }

    /// Creates the extension `entry.name` or replaces its cloud properties.
    pub async fn put_vm_extension(
        &self,
        entry: VmExtensionEntry,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        check_name(&entry.name)?;
        self.update_director(expected, actor, move |s| {
            let field = format!("vm_extensions.{}", entry.name);
            let wanted = VmExtension {
                name: entry.name.clone(),
                cloud_properties: entry.cloud_properties.clone(),
                extra: Map::new(),
            };
            match s.vm_extensions.iter_mut().find(|e| e.name == entry.name) {
                Some(existing) if *existing == wanted => Ok(vec![]),
                Some(existing) => {
                    *existing = wanted;
                    Ok(vec![field])
                }
                None => {
                    s.vm_extensions.push(wanted);
                    Ok(vec![field])
                }
            }
        })
        .await
    }

    /// Deletes the extension `name`: 404 when there is none, refused while a staged job (the
    /// Director's or a product's) still names it in `additional_vm_extensions`.
    pub async fn delete_vm_extension(
        &self,
        name: &str,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        self.vm_extension(name).await?;
        let mut users = Vec::new();
        for row in self.store().products().staged().await? {
            let product = self.load_staged(row).await?;
            for (job, rc) in &product.settings.staged.resources {
                if names_extension(rc.extra.get("additional_vm_extensions"), name) {
                    users.push(format!("{} job {job}", product.name));
                }
            }
        }
        let director = self.director().await?;
        for (job, rc) in &director.settings.resources {
            if names_extension(rc.extra.get("additional_vm_extensions"), name) {
                users.push(format!("the BOSH Director job {job}"));
            }
        }
        if !users.is_empty() {
            return Err(Error::Refused(format!(
                "the VM extension '{name}' is used by {} (remove it from their resource config first)",
                users.join(", ")
            )));
        }
        let name = name.to_owned();
        self.update_director(expected, actor, move |s| {
            let before = s.vm_extensions.len();
            s.vm_extensions.retain(|e| e.name != name);
            if s.vm_extensions.len() == before {
                return Err(Error::NotFound(format!("VM extension '{name}'")));
            }
            Ok(vec![format!("vm_extensions.{name}")])
        })
        .await
    }
}

fn names_extension(value: Option<&Value>, name: &str) -> bool {
    value
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_references() {
        assert!(check_name("public_ip-1.x").is_ok());
        assert!(matches!(check_name(" "), Err(Error::Invalid { field, .. }) if field == "name"));
        assert!(check_name("has space").is_err());
        let known = vec!["lb".to_string()];
        assert!(unknown_extensions(&json!(["lb"]), &known).is_ok());
        assert!(unknown_extensions(&json!([]), &known).is_ok());
        assert!(unknown_extensions(&Value::Null, &known).is_ok());
        let e = unknown_extensions(&json!(["lb", "nope"]), &known).unwrap_err();
        assert!(e.contains("'nope'") && !e.contains("'lb'"), "{e}");
        assert!(unknown_extensions(&json!("lb"), &known).is_err());
        assert!(unknown_extensions(&json!([1]), &known).is_err());
    }
}
