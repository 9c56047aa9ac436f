//! The [`Resolver`] that gives `(( ))` references their values during a render, and the walk
//! that substitutes them in a YAML tree.
//!
//! A [`ProductResolver`] sees one product (its metadata, staged values, guid and job plans),
//! optionally the job whose manifests are being rendered (for bare names and job accessors) and
//! the collection record being rendered (for `current_record`). Named manifests are rendered
//! with a copy of the resolver one level deeper, so a named manifest may use the same
//! references as the text that asked for it.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde_json::{json, Map, Value};

use crate::expr::{
    child_path, evaluate, index_path, to_text, Accessor, Context, Expr, JobField, Owner, Piece,
    ProductField, PropertyRef, Reference, Resolver, Template,
};
use crate::metadata::{ProductTemplate, PropertyBlueprint, PropertyType};
use crate::properties::defaults::{effective_value, fill_record_defaults, selected_option};
use crate::properties::formats::{split_comma_list, to_wildcard};
use crate::properties::{types, StagedValues};
use crate::{Error, Result};

use super::context::{NetworkAssignment, RenderContext};
use super::keys;
use super::plan::{plan_jobs, JobPlan};

/// How deep named manifests may nest (a manifest that asks for itself stops here).
const MAX_DEPTH: usize = 24;

/// A BOSH variable the render declares for a generated credential that has no value yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Placeholder {
    pub name: String,
    pub variable_type: String,
    pub options: Option<Map<String, Value>>,
}

/// State shared by every resolver of one render.
#[derive(Debug, Default)]
pub struct RenderState {
    /// Placeholders in first-use order.
    pub placeholders: RefCell<Vec<Placeholder>>,
    /// Jobs of the rendered product whose `ips`/`first_ip` a manifest read.
    pub ips_read: RefCell<BTreeSet<String>>,
    depth: Cell<usize>,
    other_plans: RefCell<BTreeMap<String, Rc<Vec<JobPlan>>>>,
}

impl RenderState {
    fn declare(&self, p: Placeholder) {
        let mut list = self.placeholders.borrow_mut();
        if !list.iter().any(|x| x.name == p.name) {
            list.push(p);
        }
    }
}

/// One product as the resolver sees it.
#[derive(Debug, Clone)]
pub struct ProductScope<'a> {
    pub template: &'a ProductTemplate,
    pub staged: &'a StagedValues,
    pub guid: &'a str,
    pub network: &'a NetworkAssignment,
    pub plans: Rc<Vec<JobPlan>>,
    /// True for the product being rendered (its missing credentials become placeholders).
    pub is_self: bool,
}

/// The collection record being rendered.
#[derive(Debug, Clone)]
struct Record<'a> {
    collection: &'a PropertyBlueprint,
    /// The record with sub-property defaults filled in.
    value: Rc<Value>,
    /// `REFERENCE[guid]` (or `[index]`), for placeholder names.
    key: String,
}

/// Resolves references for one product, job and record.
#[derive(Debug, Clone)]
pub struct ProductResolver<'a> {
    ctx: &'a RenderContext,
    scope: ProductScope<'a>,
    job: Option<&'a str>,
    record: Option<Record<'a>>,
    state: &'a RenderState,
    present: Rc<Vec<String>>,
}

fn fail(message: impl Into<String>) -> Error {
    Error::Render(message.into())
}

/// The BOSH variable name for a generated property: its reference without the leading `.`,
/// every character outside `[A-Za-z0-9_-]` turned into `_` (`.web_server.generated_secret` →
/// `web_server_generated_secret`).
pub fn placeholder_name(reference: &str) -> String {
    reference
        .trim_start_matches('.')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_matches('_')
        .to_string()
}

fn placeholder(name: &str, sub: Option<&str>) -> Value {
    Value::String(match sub {
        Some(s) => format!("(({name}.{s}))"),
        None => format!("(({name}))"),
    })
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn field(value: &Option<Value>, name: &str) -> Value {
    value
        .as_ref()
        .and_then(|v| v.get(name))
        .cloned()
        .unwrap_or(Value::Null)
}

fn has_value(type_name: &str, value: &Option<Value>) -> bool {
    value
        .as_ref()
        .is_some_and(|v| !types::is_blank(type_name, v))
}

/// Whether a generated credential has been generated: every field generation fills is set (a
/// default `{identity: NAME}` alone is not a credential yet).
fn is_generated_value(type_name: &str, value: &Option<Value>) -> bool {
    let fields = types::credential_fields(type_name);
    match value {
        None => false,
        Some(Value::Object(map)) if !fields.is_empty() => fields.iter().all(|f| {
            map.get(*f)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
        }),
        Some(v) => !types::is_blank(type_name, v),
    }
}

/// Cert and key as one text, a newline between them when the certificate lacks one.
fn concat_pems(cert: &Value, key: &Value) -> Value {
    match (cert.as_str(), key.as_str()) {
        (Some(c), Some(k)) if c.ends_with('\n') => Value::String(format!("{c}{k}")),
        (Some(c), Some(k)) => Value::String(format!("{c}\n{k}")),
        _ => Value::Null,
    }
}

impl<'a> ProductResolver<'a> {
    /// A resolver for the rendered product (no job, no record).
    pub fn new(
        ctx: &'a RenderContext,
        scope: ProductScope<'a>,
        state: &'a RenderState,
    ) -> ProductResolver<'a> {
        ProductResolver {
            ctx,
            scope,
            job: None,
            record: None,
            state,
            present: Rc::new(ctx.present_products()),
        }
    }

    /// The template of the product this resolver renders.
    pub(crate) fn template(&self) -> &'a ProductTemplate {
        self.scope.template
    }

    /// The same resolver inside job `job`'s manifests.
    pub fn in_job(&self, job: &'a str) -> ProductResolver<'a> {
        ProductResolver {
            job: Some(job),
            record: None,
            ..self.clone()
        }
    }

    /// A resolver for another product of the installation (`..name.`).
    fn other(&self, name: &str) -> Result<Option<ProductResolver<'a>>> {
        if name == self.scope.template.name {
            return Ok(Some(ProductResolver {
                job: None,
                record: None,
                ..self.clone()
            }));
        }
        let Some(other) = self.ctx.products.get(name) else {
            return Ok(None);
        };
        let network = other.network.as_ref().unwrap_or(&self.ctx.network);
        let cached = self.state.other_plans.borrow().get(name).cloned();
        let plans = match cached {
            Some(p) => p,
            None => {
                let p = Rc::new(plan_jobs(
                    &other.template,
                    &other.staged,
                    self.ctx,
                    network,
                )?);
                self.state
                    .other_plans
                    .borrow_mut()
                    .insert(name.to_string(), p.clone());
                p
            }
        };
        Ok(Some(ProductResolver {
            ctx: self.ctx,
            scope: ProductScope {
                template: &other.template,
                staged: &other.staged,
                guid: &other.guid,
                network,
                plans,
                is_self: false,
            },
            job: None,
            record: None,
            state: self.state,
            present: self.present.clone(),
        }))
    }

    fn plan(&self, job: &str) -> Option<&JobPlan> {
        self.scope.plans.iter().find(|p| p.name == job)
    }

    /// Renders a named manifest's YAML text with this resolver (and `record` as
    /// `current_record`). An absent or blank manifest is null.
    fn named_manifest(
        &self,
        text: Option<&str>,
        at: &str,
        record: Option<Record<'a>>,
    ) -> Result<Value> {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Ok(Value::Null);
        };
        let depth = self.state.depth.get();
        if depth >= MAX_DEPTH {
            return Err(fail(format!(
                "named manifest {at} nests more than {MAX_DEPTH} levels deep (does it refer to itself?)"
            )));
        }
        let doc = self.scope.template.parsed_yaml(text).map_err(|e| match e {
            Error::Yaml { at: inner, message } => Error::Yaml {
                at: format!("{at} {inner}"),
                message,
            },
            other => other,
        })?;
        let child = ProductResolver {
            record,
            ..self.clone()
        };
        self.state.depth.set(depth + 1);
        let out = render_tree(&doc, &child, at);
        self.state.depth.set(depth);
        out
    }

    fn resolve_property(&self, p: &PropertyRef) -> Result<Option<Value>> {
        if let Some(product) = &p.product {
            let Some(other) = self.other(product)? else {
                return Ok(None);
            };
            let local = PropertyRef {
                product: None,
                ..p.clone()
            };
            return other.resolve_property(&local);
        }
        let head = match &p.owner {
            Owner::CurrentRecord => return self.record_property(p),
            Owner::Global => "properties".to_string(),
            Owner::Job(j) => j.clone(),
            Owner::CurrentJob => match self.job {
                Some(j) => j.to_string(),
                None => return Ok(None),
            },
        };
        let reference = format!(".{head}.{}", p.path.join("."));
        let Some(pref) = self.scope.template.property(&reference) else {
            return Ok(None);
        };
        let value = effective_value(
            &pref.reference,
            pref.blueprint,
            self.scope.staged,
            &self.present,
        );
        self.accessor(&pref.reference, pref.blueprint, value, &p.accessor)
            .map(Some)
    }

    fn record_property(&self, p: &PropertyRef) -> Result<Option<Value>> {
        let Some(record) = &self.record else {
            return Err(fail(format!(
                "`{p}` is only available inside a collection's named manifests"
            )));
        };
        let [name] = p.path.as_slice() else {
            return Ok(None);
        };
        let Some(sub) = record
            .collection
            .sub_blueprints()
            .iter()
            .find(|b| &b.name == name)
        else {
            return Ok(None);
        };
        let value = record.value.get(name).filter(|v| !v.is_null()).cloned();
        let key = format!("{}.{}", record.key, name);
        self.accessor(&key, sub, value, &p.accessor).map(Some)
    }

    /// The value of `accessor` on a property of blueprint `bp` whose value is `value`.
    fn accessor(
        &self,
        reference: &str,
        bp: &'a PropertyBlueprint,
        value: Option<Value>,
        accessor: &Accessor,
    ) -> Result<Value> {
        let t = bp.property_type.as_str();
        let not_for = || {
            fail(format!(
                "accessor `{accessor}` does not apply to `{reference}`, a {t} property"
            ))
        };
        if !bp.configurable && types::is_generated(t) && !is_generated_value(t, &value) {
            return self.generated_placeholder(reference, bp, accessor);
        }
        let is = |types: &[&str]| types.contains(&t);
        Ok(match accessor {
            Accessor::Value => self.value_of(reference, bp, value)?,
            Accessor::ValuePresent => Value::Bool(match (&bp.property_type, &value) {
                (PropertyType::Boolean, v) => v.is_some(),
                (PropertyType::DiskTypeDropdown, Some(Value::String(s))) => {
                    !s.trim().is_empty() && !s.eq_ignore_ascii_case("automatic")
                }
                (_, v) => has_value(t, v),
            }),
            Accessor::Identity if is(&["simple_credentials", "salted_credentials"]) => {
                field(&value, "identity")
            }
            Accessor::Password if is(&["simple_credentials", "salted_credentials"]) => {
                field(&value, "password")
            }
            Accessor::Salt if t == "salted_credentials" => field(&value, "salt"),
            Accessor::Sha512HashedPassword if t == "salted_credentials" => {
                match (field(&value, "password"), field(&value, "salt")) {
                    (Value::String(pw), Value::String(salt)) => keys::sha512_crypt(&pw, &salt)
                        .map(Value::String)
                        .ok_or_else(|| fail(format!("`{reference}`: cannot hash the password")))?,
                    _ => Value::Null,
                }
            }
            Accessor::CertPem if t == "rsa_cert_credentials" => field(&value, "cert_pem"),
            Accessor::PrivateKeyPem if is(&["rsa_cert_credentials", "rsa_pkey_credentials"]) => {
                field(&value, "private_key_pem")
            }
            Accessor::CertAndPrivateKeyPems if t == "rsa_cert_credentials" => concat_pems(
                &field(&value, "cert_pem"),
                &field(&value, "private_key_pem"),
            ),
            Accessor::PublicKeyPem if is(&["rsa_cert_credentials", "rsa_pkey_credentials"]) => self
                .derived(
                    reference,
                    &value,
                    keys::public_key_pem,
                    Some("public_key_pem"),
                )?,
            Accessor::PublicKeyOpenssh if t == "rsa_pkey_credentials" => self.derived(
                reference,
                &value,
                keys::public_key_openssh,
                Some("public_key_openssh"),
            )?,
            Accessor::PublicKeyFingerprint if t == "rsa_pkey_credentials" => self.derived(
                reference,
                &value,
                keys::public_key_fingerprint,
                Some("public_key_fingerprint"),
            )?,
            Accessor::ParsedStrings
            | Accessor::ParsedIpRanges
            | Accessor::ParsedNetworkAddresses => match &value {
                Some(Value::String(s)) => Value::Array(
                    split_comma_list(s)
                        .into_iter()
                        .map(|x| Value::String(x.to_string()))
                        .collect(),
                ),
                Some(Value::Array(items)) => Value::Array(items.clone()),
                Some(other) => Value::Array(vec![other.clone()]),
                None => Value::Array(Vec::new()),
            },
            Accessor::ParsedRegex => {
                let items: Vec<String> = match &value {
                    Some(Value::String(s)) => {
                        split_comma_list(s).into_iter().map(regex::escape).collect()
                    }
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(text_of)
                        .map(|x| regex::escape(&x))
                        .collect(),
                    _ => Vec::new(),
                };
                Value::String(format!("^({})$", items.join("|")))
            }
            Accessor::ToWildcard => match value.as_ref().and_then(text_of) {
                Some(s) => Value::String(to_wildcard(&s)),
                None => Value::Null,
            },
            Accessor::SelectedOption if t == "selector" => value
                .as_ref()
                .and_then(|v| selected_option(bp, v))
                .map_or(Value::Null, |o| Value::String(o.name.clone())),
            Accessor::SelectedOptionManifest(name) if t == "selector" => {
                let Some(option) = value.as_ref().and_then(|v| selected_option(bp, v)) else {
                    return Ok(Value::Null);
                };
                let at = format!("{reference}.{}.named_manifests.{name}", option.name);
                let text = option
                    .named_manifests
                    .iter()
                    .find(|m| &m.name == name)
                    .and_then(|m| m.manifest.as_deref());
                self.named_manifest(text, &at, self.record.clone())?
            }
            Accessor::ParsedManifest(name) if t == "collection" => {
                let text = bp
                    .named_manifests()
                    .iter()
                    .find(|m| &m.name == name)
                    .and_then(|m| m.manifest.as_deref());
                let mut out = Vec::new();
                for (i, record) in self.records(bp, value).into_iter().enumerate() {
                    let key = record_key(reference, &record, i);
                    let at = format!("{reference}.named_manifests.{name}[{i}]");
                    let r = Record {
                        collection: bp,
                        value: Rc::new(record),
                        key,
                    };
                    out.push(self.named_manifest(text, &at, Some(r))?);
                }
                Value::Array(out)
            }
            Accessor::Os if t == "stemcell_selector" => value.unwrap_or(Value::Null),
            Accessor::Version if t == "stemcell_selector" => value
                .as_ref()
                .and_then(Value::as_str)
                .and_then(|os| self.ctx.stemcells.get(os))
                .map_or(Value::Null, |v| Value::String(v.clone())),
            Accessor::Assigned if t == "stemcell_selector" => Value::Bool(
                value
                    .as_ref()
                    .and_then(Value::as_str)
                    .is_some_and(|os| self.ctx.stemcells.contains_key(os)),
            ),
            // `secret` values are `{secret: …}`; real tiles (AppDirect 1.3) read the field by
            // name, as om's `((properties_x.secret))` placeholders do.
            Accessor::Other(name) if t == "secret" && name == "secret" => {
                self.value_of(reference, bp, value)?
            }
            Accessor::Other(name) => {
                return Err(fail(format!(
                    "`{reference}`: `{name}` is not an accessor this engine knows"
                )))
            }
            _ => return Err(not_for()),
        })
    }

    /// A public form derived from the stored value (a stored `public_key_pem` wins).
    fn derived(
        &self,
        reference: &str,
        value: &Option<Value>,
        derive: fn(&str) -> Option<String>,
        stored_field: Option<&str>,
    ) -> Result<Value> {
        let Some(v) = value else {
            return Ok(Value::Null);
        };
        if let Some(stored) = stored_field.and_then(|f| v.get(f)).and_then(Value::as_str) {
            return Ok(Value::String(stored.to_string()));
        }
        let source = v
            .get("cert_pem")
            .or_else(|| v.get("public_key_pem"))
            .or_else(|| v.get("private_key_pem"))
            .and_then(Value::as_str);
        let Some(source) = source else {
            return Ok(Value::Null);
        };
        derive(source)
            .or_else(|| {
                v.get("private_key_pem")
                    .and_then(Value::as_str)
                    .and_then(derive)
            })
            .map(Value::String)
            .ok_or_else(|| {
                fail(format!(
                    "`{reference}`: the stored key is not an RSA key in PEM form"
                ))
            })
    }

    /// Collection records with sub-property defaults filled in.
    fn records(&self, bp: &PropertyBlueprint, value: Option<Value>) -> Vec<Value> {
        let mut records = match value {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        fill_record_defaults(bp, &mut records, &self.present);
        records
    }

    /// The `value` accessor.
    fn value_of(
        &self,
        reference: &str,
        bp: &'a PropertyBlueprint,
        value: Option<Value>,
    ) -> Result<Value> {
        let t = bp.property_type.as_str();
        Ok(match (t, value) {
            (_, None) => Value::Null,
            ("secret", Some(Value::Object(m))) => m.get("secret").cloned().unwrap_or(Value::Null),
            ("collection", Some(v)) => {
                let mut out = Vec::new();
                for (i, record) in self.records(bp, Some(v)).into_iter().enumerate() {
                    let key = record_key(reference, &record, i);
                    let mut fields = Map::new();
                    for sub in bp.sub_blueprints() {
                        let sv = record.get(&sub.name).filter(|x| !x.is_null()).cloned();
                        let rendered = self.accessor(
                            &format!("{key}.{}", sub.name),
                            sub,
                            sv,
                            &Accessor::Value,
                        )?;
                        fields.insert(sub.name.clone(), rendered);
                    }
                    out.push(Value::Object(fields));
                }
                Value::Array(out)
            }
            ("selector", Some(v)) => {
                selected_option(bp, &v).map_or(v, |o| Value::String(o.select_value.clone()))
            }
            ("vm_type_dropdown" | "disk_type_dropdown", Some(Value::String(s)))
                if s.eq_ignore_ascii_case("automatic") =>
            {
                self.automatic_choice(bp)
                    .map_or(Value::String(s), Value::String)
            }
            (_, Some(v)) => v,
        })
    }

    /// What "Automatic" means for a VM or disk type dropdown: the first VM type with at least
    /// the blueprint's `cpu`/`ram`/`ephemeral_disk` minima, the smallest disk type of at least
    /// its `persistent_disk` minimum.
    fn automatic_choice(&self, bp: &PropertyBlueprint) -> Option<String> {
        let min = |name: &str| {
            bp.resource_definitions
                .iter()
                .find(|r| r.name == name)
                .and_then(|r| r.default)
                .unwrap_or(0)
        };
        if bp.property_type == PropertyType::VmTypeDropdown {
            let (cpu, ram, disk) = (min("cpu"), min("ram"), min("ephemeral_disk"));
            return self
                .ctx
                .director
                .config
                .effective_vm_types()
                .into_iter()
                .find(|v| {
                    i64::from(v.cpu) >= cpu
                        && i64::from(v.ram) >= ram
                        && i64::from(v.ephemeral_disk) >= disk
                })
                .map(|v| v.name);
        }
        let wanted = min("persistent_disk");
        self.ctx
            .director
            .cloud_config
            .disk_types
            .iter()
            .filter(|d| d.disk_size >= wanted)
            .min_by_key(|d| d.disk_size)
            .map(|d| d.name.clone())
    }

    /// The BOSH placeholder standing in for a generated credential that has no value yet.
    fn generated_placeholder(
        &self,
        reference: &str,
        bp: &PropertyBlueprint,
        accessor: &Accessor,
    ) -> Result<Value> {
        let t = bp.property_type.as_str();
        if !self.scope.is_self {
            return Err(fail(format!(
                "`{reference}` of product `{}` has not been generated yet (apply that product first)",
                self.scope.template.name
            )));
        }
        if *accessor == Accessor::ValuePresent {
            return Ok(Value::Bool(true));
        }
        let name = placeholder_name(reference);
        let unsupported = || {
            fail(format!(
                "`{reference}` has not been generated yet and `{accessor}` has no BOSH-variable equivalent; generate the product's credentials first"
            ))
        };
        let declare = |variable_type: &str, options: Option<Map<String, Value>>| {
            self.state.declare(Placeholder {
                name: name.clone(),
                variable_type: variable_type.into(),
                options,
            })
        };
        Ok(match t {
            "uuid" | "secret" => {
                let secret_field = t == "secret" && *accessor == Accessor::Other("secret".into());
                if !matches!(accessor, Accessor::Value) && !secret_field {
                    return Err(unsupported());
                }
                declare("password", None);
                placeholder(&name, None)
            }
            "simple_credentials" | "salted_credentials" => {
                // A default identity becomes the generated user's name.
                let username = bp
                    .default
                    .as_ref()
                    .and_then(|d| d.get("identity"))
                    .and_then(Value::as_str)
                    .map(|u| {
                        let mut o = Map::new();
                        o.insert("username".into(), Value::String(u.to_string()));
                        o
                    });
                declare("user", username);
                match accessor {
                    Accessor::Identity => placeholder(&name, Some("username")),
                    Accessor::Password => placeholder(&name, Some("password")),
                    Accessor::Value => json!({
                        "identity": placeholder(&name, Some("username")),
                        "password": placeholder(&name, Some("password")),
                    }),
                    Accessor::Salt if t == "salted_credentials" => {
                        let salt = format!("{name}_salt");
                        self.state.declare(Placeholder {
                            name: salt.clone(),
                            variable_type: "password".into(),
                            options: None,
                        });
                        placeholder(&salt, None)
                    }
                    _ => return Err(unsupported()),
                }
            }
            "rsa_cert_credentials" => {
                let domains = certificate_domains(bp);
                let mut options = Map::new();
                options.insert(
                    "ca".into(),
                    Value::String(self.ctx.ops_manager.root_ca_variable.clone()),
                );
                options.insert(
                    "common_name".into(),
                    Value::String(domains.first().cloned().unwrap_or_else(|| bp.name.clone())),
                );
                if !domains.is_empty() {
                    options.insert(
                        "alternative_names".into(),
                        Value::Array(domains.into_iter().map(Value::String).collect()),
                    );
                }
                declare("certificate", Some(options));
                match accessor {
                    Accessor::CertPem => placeholder(&name, Some("certificate")),
                    Accessor::PrivateKeyPem => placeholder(&name, Some("private_key")),
                    Accessor::CertAndPrivateKeyPems => {
                        Value::String(format!("(({name}.certificate))\n(({name}.private_key))"))
                    }
                    Accessor::Value => json!({
                        "cert_pem": placeholder(&name, Some("certificate")),
                        "private_key_pem": placeholder(&name, Some("private_key")),
                    }),
                    _ => return Err(unsupported()),
                }
            }
            "rsa_pkey_credentials" => {
                declare("rsa", None);
                match accessor {
                    Accessor::PrivateKeyPem => placeholder(&name, Some("private_key")),
                    Accessor::PublicKeyPem => placeholder(&name, Some("public_key")),
                    Accessor::Value => json!({
                        "private_key_pem": placeholder(&name, Some("private_key")),
                        "public_key_pem": placeholder(&name, Some("public_key")),
                    }),
                    _ => return Err(unsupported()),
                }
            }
            _ => return Err(unsupported()),
        })
    }

    fn resolve_job(
        &self,
        product: &Option<String>,
        job: &Option<String>,
        f: JobField,
    ) -> Result<Option<Value>> {
        if let Some(p) = product {
            let Some(other) = self.other(p)? else {
                return Ok(None);
            };
            return other.resolve_job(&None, job, f);
        }
        let Some(name) = job.as_deref().or(self.job) else {
            return Ok(None);
        };
        let Some(plan) = self.plan(name) else {
            return Ok(None);
        };
        let opt = |v: Option<i64>| v.map_or(Value::Null, Value::from);
        Ok(Some(match f {
            JobField::Name => Value::String(plan.name.clone()),
            JobField::Cpu => opt(plan.cpu),
            JobField::Ram => opt(plan.ram),
            JobField::EphemeralDisk => opt(plan.ephemeral_disk),
            JobField::PersistentDisk => Value::from(plan.persistent_disk_mb),
            JobField::Instances => Value::from(plan.instances),
            JobField::AnyInstances => Value::Bool(plan.instances > 0),
            JobField::SubnetCidrs => Value::Array(
                self.ctx
                    .director
                    .cloud_config
                    .networks
                    .iter()
                    .filter(|n| n.name == plan.network)
                    .flat_map(|n| n.subnets.iter())
                    .filter(|s| {
                        s.az_names().is_empty()
                            || plan
                                .azs
                                .iter()
                                .any(|az| s.az_names().contains(&az.as_str()))
                    })
                    .filter_map(|s| s.range.clone().map(Value::String))
                    .collect(),
            ),
            JobField::Ips | JobField::FirstIp => {
                if self.scope.is_self {
                    self.state.ips_read.borrow_mut().insert(plan.name.clone());
                }
                if f == JobField::FirstIp {
                    plan.ips
                        .first()
                        .map_or(Value::Null, |ip| Value::String(ip.clone()))
                } else {
                    Value::Array(plan.ips.iter().cloned().map(Value::String).collect())
                }
            }
            JobField::DnsNames => {
                let canon = crate::manifest_check::canonical_name;
                Value::Array(vec![Value::String(format!(
                    "q-s0.{}.{}.{}.bosh",
                    canon(&plan.name),
                    canon(&plan.network),
                    canon(self.scope.guid)
                ))])
            }
        }))
    }

    fn resolve_context(&self, context: Context, path: &[String]) -> Result<Option<Value>> {
        let Some((first, rest)) = path.split_first() else {
            return Ok(None);
        };
        let documented = context.accessors().contains(&first.as_str());
        let base = match context {
            Context::OpsManager => self.ctx.ops_manager.accessors.get(first).cloned(),
            Context::Director => self.ctx.director.accessors.get(first).cloned(),
            Context::Runtime => self.ctx.runtime.get(first).cloned(),
            Context::SelfProduct => match first.as_str() {
                "uaa_client_name" => Some(Value::String(
                    self.ctx
                        .self_context
                        .uaa_client_name
                        .clone()
                        .unwrap_or_else(|| self.scope.guid.to_string()),
                )),
                "uaa_client_secret" => Some(match &self.ctx.self_context.uaa_client_secret {
                    Some(s) => Value::String(s.clone()),
                    None => {
                        self.state.declare(Placeholder {
                            name: "uaa_client_secret".into(),
                            variable_type: "password".into(),
                            options: None,
                        });
                        placeholder("uaa_client_secret", None)
                    }
                }),
                "service_network" => Some(
                    self.scope
                        .network
                        .service_network
                        .clone()
                        .map_or(Value::Null, Value::String),
                ),
                "stemcell_version" => {
                    let criteria = self.scope.template.stemcell_criteria.as_ref();
                    Some(criteria.map_or(Value::Null, |c| {
                        Value::String(
                            self.ctx
                                .stemcells
                                .get(&c.os)
                                .cloned()
                                .unwrap_or_else(|| c.version.clone()),
                        )
                    }))
                }
                _ => None,
            },
        };
        let Some(mut value) = base.or_else(|| documented.then_some(Value::Null)) else {
            return Ok(None);
        };
        for seg in rest {
            value = match value.get(seg.as_str()) {
                Some(v) => v.clone(),
                None => return Ok(None),
            };
        }
        Ok(Some(value))
    }

    fn resolve_product(&self, product: &Option<String>, f: ProductField) -> Result<Option<Value>> {
        let scope = match product {
            None => Some(self.clone()),
            Some(p) => self.other(p)?,
        };
        let Some(r) = scope else {
            return Ok(match f {
                ProductField::Present => Some(Value::Bool(false)),
                _ => None,
            });
        };
        Ok(Some(match f {
            ProductField::DeploymentName => Value::String(r.scope.guid.to_string()),
            ProductField::NetworkName => Value::String(r.scope.network.network.clone()),
            ProductField::Present => Value::Bool(true),
        }))
    }
}

/// `REFERENCE[guid]`, or `REFERENCE[index]` for a record without a guid.
fn record_key(reference: &str, record: &Value, index: usize) -> String {
    match record
        .get("guid")
        .and_then(Value::as_str)
        .filter(|g| !g.is_empty())
    {
        Some(g) => format!("{reference}[{g}]"),
        None => format!("{reference}[{index}]"),
    }
}

/// The domains a generated certificate is for (`default: {domains: [...]}`, first = CN).
fn certificate_domains(bp: &PropertyBlueprint) -> Vec<String> {
    match bp.default.as_ref().and_then(|d| d.get("domains")) {
        Some(Value::Array(items)) => items.iter().filter_map(text_of).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

impl Resolver for ProductResolver<'_> {
    fn resolve(&self, reference: &Reference) -> Result<Option<Value>> {
        match reference {
            Reference::Property(p) => self.resolve_property(p),
            Reference::Product { product, field } => self.resolve_product(product, *field),
            Reference::Job {
                product,
                job,
                field,
            } => self.resolve_job(product, job, *field),
            Reference::Context { context, path } => self.resolve_context(*context, path),
        }
    }
}

/// Whether an expression reads a named manifest (`parsed_manifest(…)`) anywhere.
fn reads_named_manifest(expr: &Expr) -> bool {
    crate::expr::references(expr).iter().any(|r| {
        matches!(
            r,
            Reference::Property(PropertyRef {
                accessor: Accessor::ParsedManifest(_) | Accessor::SelectedOptionManifest(_),
                ..
            })
        )
    })
}

/// Evaluates one expression; resolver failures are reported with the expression and path.
fn eval(source: &str, expr: &Expr, resolver: &ProductResolver<'_>, at: &str) -> Result<Value> {
    evaluate(expr, resolver, at).map_err(|e| match e {
        Error::Render(message) => Error::Expr {
            expr: source.to_string(),
            at: at.to_string(),
            message,
        },
        other => other,
    })
}

/// Renders a string: the value of a lone expression, else the text with every expression
/// converted to text and `((( x )))` written as `((x))`.
fn render_string(s: &str, resolver: &ProductResolver<'_>, at: &str) -> Result<(Value, bool)> {
    let template = Template::parse(s, at)?;
    if let Some(expr) = template.single_expression() {
        let source = template
            .pieces
            .iter()
            .find_map(|p| match p {
                Piece::Expr { source, .. } => Some(source.as_str()),
                _ => None,
            })
            .unwrap_or_default();
        return Ok((
            eval(source, expr, resolver, at)?,
            reads_named_manifest(expr),
        ));
    }
    let mut out = String::new();
    for p in &template.pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Placeholder(name) => {
                out.push_str("((");
                out.push_str(name);
                out.push_str("))");
            }
            Piece::Expr { source, expr } => {
                out.push_str(&to_text(&eval(source, expr, resolver, at)?))
            }
        }
    }
    Ok((Value::String(out), false))
}

/// Substitutes every expression of a YAML tree (tile-metadata §7.5), node by node.
///
/// One rule goes beyond `expr::substitute`: a list element that is a lone expression reading a
/// named manifest (`parsed_manifest(…)`) and evaluating to null is dropped. That is how an
/// inactive selector option — whose named manifest is empty — contributes nothing to a list,
/// e.g. PKS's `service_catalog.plans`, exactly as Ops Manager renders it. Other nulls in lists
/// are kept.
pub fn render_tree(value: &Value, resolver: &ProductResolver<'_>, at: &str) -> Result<Value> {
    match value {
        Value::String(s) if s.contains("((") => render_string(s, resolver, at).map(|(v, _)| v),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let path = index_path(at, i);
                match item {
                    Value::String(s) if s.contains("((") => {
                        let (v, named) = render_string(s, resolver, &path)?;
                        if !(v.is_null() && named) {
                            out.push(v);
                        }
                    }
                    other => out.push(render_tree(other, resolver, &path)?),
                }
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let path = child_path(at, k);
                let key = if k.contains("((") {
                    to_text(&render_string(k, resolver, &path)?.0)
                } else {
                    k.clone()
                };
                out.insert(key, render_tree(v, resolver, &path)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}
