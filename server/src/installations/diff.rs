//! **See changes**: what the next Apply Changes would change, as line diffs of YAML — the
//! staged rendering against what is deployed — in the shapes om's `bosh-diff` reads
//! (`GET /api/v0/products/:guid/diff`, `GET /api/v0/director/diff`).
//!
//! - A product's *manifest*: [`render_staged`]'s redacted manifest against the manifest its
//!   deployed snapshot recorded (written redacted by the pipeline).
//! - Its *runtime configs*: the ones the staged render produces against what the Director holds
//!   under the same name.
//! - Its *errands*: the staged post-deploy / pre-delete rule of each errand against the rule of
//!   the deployed snapshot (Ops Manager's page leaves these out; the API has them for the UI).
//! - The Director's *cloud config*: what the Director tile produces now against what the
//!   Director has (its latest `cloud` config), or, when the Director cannot be asked, the cloud
//!   config the last apply recorded.
//!
//! **No credential ever appears in a diff.** Both sides are redacted before they are compared:
//! every credential value of the staged configuration *and* of the deployed snapshot becomes
//! its `((placeholder))`, so a changed secret shows (at most) a placeholder line, and values
//! the Director returns in clear (runtime configs) are hidden too. Tileworks does not deploy the
//! Director itself (no `create-env`), so the Director's own manifest never differs.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use similar::{ChangeTag, DiffTag, TextDiff};

use super::render::{credential_values, redact, render_staged};
use super::Installations;
use crate::products::{director::is_secret_key, ChangeAction, ProductSettings, StagedProduct};
use crate::{Error, Result};

/// Lines of unchanged context around each change.
pub const CONTEXT_LINES: usize = 3;

/// How one document compares, in om's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffStatus {
    Same,
    Different,
    /// Nothing is deployed yet.
    ToBeInstalled,
    /// Deployed, and its deletion is staged.
    ToBeDeleted,
}

/// One document's comparison: `diff` is empty when the status is `same`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionDiff {
    pub status: DiffStatus,
    pub diff: String,
}

impl SectionDiff {
    /// Compares two YAML texts; `None` means "not there" (not deployed, or deletion staged).
    pub fn of(deployed: Option<&str>, staged: Option<&str>) -> SectionDiff {
        match (deployed, staged) {
            (None, None) => SectionDiff {
                status: DiffStatus::Same,
                diff: String::new(),
            },
            (None, Some(new)) => SectionDiff {
                status: DiffStatus::ToBeInstalled,
                diff: line_diff("", new, CONTEXT_LINES),
            },
            (Some(old), None) => SectionDiff {
                status: DiffStatus::ToBeDeleted,
                diff: line_diff(old, "", CONTEXT_LINES),
            },
            (Some(old), Some(new)) if old == new => SectionDiff {
                status: DiffStatus::Same,
                diff: String::new(),
            },
            (Some(old), Some(new)) => SectionDiff {
                status: DiffStatus::Different,
                diff: line_diff(old, new, CONTEXT_LINES),
            },
        }
    }
}

/// A named document (a runtime config, a CPI config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedDiff {
    pub name: String,
    pub status: DiffStatus,
    pub diff: String,
}

/// One errand's rule, staged against deployed (`null` where the phase does not apply, or
/// nothing is deployed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrandChange {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    pub status: DiffStatus,
    pub post_deploy: RuleChange,
    pub pre_delete: RuleChange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleChange {
    pub staged: Value,
    pub deployed: Value,
}

/// The errands section: `different` when any rule changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrandsDiff {
    pub status: DiffStatus,
    pub changes: Vec<ErrandChange>,
}

/// `GET /api/v0/products/:guid/diff`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDiff {
    pub manifest: SectionDiff,
    pub runtime_configs: Vec<NamedDiff>,
    pub errands: ErrandsDiff,
}

/// `GET /api/v0/director/diff`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectorDiff {
    pub manifest: SectionDiff,
    pub cloud_config: SectionDiff,
    pub runtime_configs: Vec<NamedDiff>,
    pub cpi_configs: Vec<NamedDiff>,
}

/// A line diff of two texts: hunks of changed lines with `context` unchanged lines around
/// them, each line prefixed `+ ` (only in `new`), `- ` (only in `old`) or `  ` (both), hunks
/// headed `@@ -old_start,len +new_start,len @@` (1-based, as unified diffs count).
pub fn line_diff(old: &str, new: &str, context: usize) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for group in diff.grouped_ops(context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_start = first.old_range().start;
        let new_start = first.new_range().start;
        let old_len = last.old_range().end - old_start;
        let new_len = last.new_range().end - new_start;
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            old_start + usize::from(old_len > 0),
            new_start + usize::from(new_len > 0),
        ));
        for op in &group {
            if op.tag() == DiffTag::Equal && group.len() == 1 {
                continue;
            }
            for change in diff.iter_changes(op) {
                let prefix = match change.tag() {
                    ChangeTag::Insert => "+ ",
                    ChangeTag::Delete => "- ",
                    ChangeTag::Equal => "  ",
                };
                out.push_str(prefix);
                out.push_str(change.value().trim_end_matches(['\n', '\r']));
                out.push('\n');
            }
        }
    }
    out
}

/// YAML text of a document, credentials replaced by their placeholders.
fn redacted_yaml(doc: &Value, secrets: &[(String, String)]) -> String {
    tiles::yaml::to_yaml_string(&redact(doc, secrets))
}

/// A product's credential values under `settings`, for `template`.
fn secrets_of(product: &StagedProduct, settings: &ProductSettings) -> Vec<(String, String)> {
    credential_values(&product.template, &settings.staged)
}

impl Installations {
    /// The errands of `product` under other settings (the deployed ones).
    fn errand_rules(&self, product: &StagedProduct, settings: &ProductSettings) -> Vec<Value> {
        let mut other = product.clone();
        other.settings = settings.clone();
        self.products()
            .errands_of(&other)
            .into_iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect()
    }

    /// `GET /api/v0/products/:guid/diff`. Not found when `guid` is no staged product. A
    /// product that cannot render yet (incomplete placement, …) is refused with why (422),
    /// unless its deletion is staged (then nothing is rendered).
    pub async fn product_diff(&self, guid: &str) -> Result<ProductDiff> {
        let products = self.products();
        if products.is_director(guid).await? {
            return Err(Error::NotFound(format!(
                "product '{guid}' (the Director's changes are at /api/v0/director/diff)"
            )));
        }
        let product = products.staged_product(guid).await?;
        let action = products.change_action(&product).await?;
        let deployed = products.deployed_settings(guid).await?;
        let deployed_manifest: Option<Value> =
            match self.store().installations().deployed_one(guid).await? {
                Some(row) => Some(
                    serde_json::from_str(&row.manifest)
                        .map_err(|e| Error::Internal(format!("stored manifest of {guid}: {e}")))?,
                ),
                None => None,
            };

        // Every secret either side may hold.
        let mut secrets = secrets_of(&product, &product.settings);
        if let Some(d) = &deployed {
            secrets.extend(secrets_of(&product, &d.settings));
        }

        let render = if action == ChangeAction::Delete {
            None
        } else {
            Some(render_staged(products, &product, &self.director().hostname()).await?)
        };
        // (Generated credentials are stored when a product is staged or configured, so the
        // staged settings already hold them; the render's own redaction covers the rest.)

        let staged_text = render
            .as_ref()
            .map(|r| redacted_yaml(&r.redacted, &secrets));
        let deployed_text = deployed_manifest
            .as_ref()
            .map(|m| redacted_yaml(m, &secrets));
        let manifest = SectionDiff::of(deployed_text.as_deref(), staged_text.as_deref());

        // Runtime configs: the staged render's against the Director's of the same name.
        let mut runtime_configs = Vec::new();
        let staged_rcs = render
            .as_ref()
            .map(|r| r.rendered.runtime_configs.clone())
            .unwrap_or_default();
        for rc in &staged_rcs {
            let current = if deployed.is_some() {
                self.director_config_text("runtime", &rc.name, &secrets)
                    .await?
            } else {
                None
            };
            let staged = redacted_yaml(&rc.config, &secrets);
            let d = SectionDiff::of(current.as_deref(), Some(&staged));
            runtime_configs.push(NamedDiff {
                name: rc.name.clone(),
                status: d.status,
                diff: d.diff,
            });
        }

        let errands = self.errands_diff(&product, deployed.as_ref().map(|d| &d.settings), action);
        Ok(ProductDiff {
            manifest,
            runtime_configs,
            errands,
        })
    }

    fn errands_diff(
        &self,
        product: &StagedProduct,
        deployed: Option<&ProductSettings>,
        action: ChangeAction,
    ) -> ErrandsDiff {
        let staged = self.errand_rules(product, &product.settings);
        let before = deployed.map(|s| self.errand_rules(product, s));
        let mut changes = Vec::new();
        for e in &staged {
            let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
            let old = before
                .as_ref()
                .and_then(|b| b.iter().find(|x| x.get("name") == e.get("name")));
            let field = |v: Option<&Value>, k: &str| {
                v.and_then(|v| v.get(k)).cloned().unwrap_or(Value::Null)
            };
            let post = RuleChange {
                staged: field(Some(e), "post_deploy"),
                deployed: field(old, "post_deploy"),
            };
            let pre = RuleChange {
                staged: field(Some(e), "pre_delete"),
                deployed: field(old, "pre_delete"),
            };
            let status = match (old, action) {
                (_, ChangeAction::Delete) => DiffStatus::ToBeDeleted,
                (None, _) => DiffStatus::ToBeInstalled,
                (Some(_), _) if post.staged == post.deployed && pre.staged == pre.deployed => {
                    DiffStatus::Same
                }
                (Some(_), _) => DiffStatus::Different,
            };
            changes.push(ErrandChange {
                name: name.to_owned(),
                label: e.get("label").and_then(Value::as_str).map(str::to_owned),
                status,
                post_deploy: post,
                pre_delete: pre,
            });
        }
        let status = match action {
            ChangeAction::Delete => DiffStatus::ToBeDeleted,
            _ if deployed.is_none() => DiffStatus::ToBeInstalled,
            _ if changes.iter().all(|c| c.status == DiffStatus::Same) => DiffStatus::Same,
            _ => DiffStatus::Different,
        };
        ErrandsDiff { status, changes }
    }

    /// The latest config of a type and name on the Director, as redacted YAML; `None` when it
    /// has none.
    async fn director_config_text(
        &self,
        kind: &str,
        name: &str,
        secrets: &[(String, String)],
    ) -> Result<Option<String>> {
        let Some(config) = self.director().client.latest_config(kind, name).await? else {
            return Ok(None);
        };
        let doc = tiles::yaml::load(&config.content)
            .map_err(|e| Error::Internal(format!("the Director's {kind} config {name}: {e}")))?;
        Ok(Some(redacted_yaml(&doc, secrets)))
    }

    /// `GET /api/v0/director/diff`. The cloud config the Director tile produces now is refused
    /// with its findings (422) while the tile is incomplete.
    pub async fn director_diff(&self) -> Result<DirectorDiff> {
        let products = self.products();
        let director = products.director().await?;
        let mut secrets: Vec<(String, String)> = Vec::new();
        let mut add_iaas = |settings: &crate::products::DirectorSettings| {
            for (k, v) in &settings.iaas_configuration {
                if let (true, Some(s)) = (is_secret_key(k), v.as_str()) {
                    if !s.is_empty() {
                        secrets.push((format!("iaas_configuration.{k}"), s.to_owned()));
                    }
                }
            }
        };
        add_iaas(&director.settings);
        let recorded = self
            .store()
            .installations()
            .deployed_one(&director.guid)
            .await?;
        if let Some(row) = &recorded {
            if let Ok(opened) = products.sealer().open_json(&row.settings) {
                if let Ok(s) = serde_json::from_value(opened) {
                    add_iaas(&s);
                }
            }
        }
        let staged = products.cloud_config().await?;
        let staged_text = redacted_yaml(&staged, &secrets);
        let current = match self
            .director_config_text(
                "cloud",
                crate::director_client::configs::DEFAULT_NAME,
                &secrets,
            )
            .await
        {
            Ok(text) => text,
            Err(e) => {
                // The Director cannot be asked: compare with what the last apply sent it.
                tracing::warn!(error = %e, "reading the Director's cloud config for a diff");
                match &recorded {
                    Some(row) => {
                        let doc: Value = serde_json::from_str(&row.manifest)
                            .map_err(|e| Error::Internal(format!("stored cloud config: {e}")))?;
                        Some(redacted_yaml(&doc, &secrets))
                    }
                    None => None,
                }
            }
        };
        // The Director's own manifest (its Security, Syslog and Resource Config sections,
        // `products/director_manifest.rs`): what the last apply's settings render to against
        // what the staged ones do, both with today's VM types and root CA.
        let vm_types = products.vm_types().await?;
        let root_ca = products.root_ca().await?.cert_pem;
        let manifest_of = |settings: &crate::products::DirectorSettings| {
            let doc = crate::products::director_manifest::director_manifest(
                settings, &vm_types, &root_ca,
            );
            redacted_yaml(&doc, &secrets)
        };
        let staged_manifest = manifest_of(&director.settings);
        let deployed_manifest = recorded
            .as_ref()
            .and_then(|row| products.sealer().open_json(&row.settings).ok())
            .and_then(|opened| serde_json::from_value(opened).ok())
            .map(|settings| manifest_of(&settings));
        Ok(DirectorDiff {
            manifest: SectionDiff::of(deployed_manifest.as_deref(), Some(&staged_manifest)),
            cloud_config: SectionDiff::of(current.as_deref(), Some(&staged_text)),
            runtime_configs: Vec::new(),
            cpi_configs: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_prefixed_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        let d = line_diff(old, new, 2);
        assert_eq!(d, "@@ -3,5 +3,5 @@\n  c\n  d\n- e\n+ E\n  f\n  g\n");
    }

    #[test]
    fn distant_changes_make_separate_hunks() {
        let old: String = (1..=20).map(|i| format!("l{i}\n")).collect();
        let new = old.replace("l2\n", "x2\n").replace("l18\n", "x18\n");
        let d = line_diff(&old, &new, 1);
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.contains("- l2\n+ x2\n"), "{d}");
        assert!(d.contains("- l18\n+ x18\n"), "{d}");
        assert!(!d.contains("l10"), "{d}");
    }

    #[test]
    fn statuses() {
        assert_eq!(SectionDiff::of(None, None).status, DiffStatus::Same);
        let same = SectionDiff::of(Some("a: 1\n"), Some("a: 1\n"));
        assert_eq!(same.status, DiffStatus::Same);
        assert!(same.diff.is_empty());
        let new = SectionDiff::of(None, Some("a: 1\nb: 2\n"));
        assert_eq!(new.status, DiffStatus::ToBeInstalled);
        assert_eq!(new.diff, "@@ -0,0 +1,2 @@\n+ a: 1\n+ b: 2\n");
        let gone = SectionDiff::of(Some("a: 1\n"), None);
        assert_eq!(gone.status, DiffStatus::ToBeDeleted);
        assert_eq!(gone.diff, "@@ -1,1 +0,0 @@\n- a: 1\n");
        let changed = SectionDiff::of(Some("a: 1\n"), Some("a: 2\n"));
        assert_eq!(changed.status, DiffStatus::Different);
        assert_eq!(
            serde_json::to_value(changed).unwrap(),
            serde_json::json!({"status": "different", "diff": "@@ -1,1 +1,1 @@\n- a: 1\n+ a: 2\n"})
        );
        assert_eq!(
            serde_json::to_value(DiffStatus::ToBeInstalled).unwrap(),
            "to_be_installed"
        );
    }

    #[test]
    fn a_text_without_final_newline_still_diffs_by_line() {
        let d = line_diff("a\nb", "a\nc", 3);
        assert_eq!(d, "@@ -1,2 +1,2 @@\n  a\n- b\n+ c\n");
    }

    #[test]
    fn secrets_are_hidden_on_both_sides() {
        let secrets = vec![
            ("p.old".to_owned(), "old-secret-value".to_owned()),
            ("p.new".to_owned(), "new-secret-value".to_owned()),
        ];
        let old = serde_json::json!({"password": "old-secret-value", "count": 1});
        let new = serde_json::json!({"password": "new-secret-value", "count": 2});
        let d = SectionDiff::of(
            Some(&redacted_yaml(&old, &secrets)),
            Some(&redacted_yaml(&new, &secrets)),
        );
        assert!(!d.diff.contains("secret-value"), "{}", d.diff);
        assert!(d.diff.contains("((p.new))"), "{}", d.diff);
        assert!(d.diff.contains("+ count: 2"), "{}", d.diff);
    }
}
