//! The body of `POST /api/v0/installations`, as om and the UI send it:
//! `{"deploy_products": "all"|"none"|[guids], "errands": {guid: {"run_post_deploy": {name:
//! true|false|"default"}, "run_pre_delete": {…}}}, "ignore_warnings": bool|"true"|"false"}`.
//! (om sends `ignore_warnings` as a string; `force_latest_variables` and other keys are
//! accepted and ignored.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// Which products an apply deploys. The Director's cloud config is always updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DeployProducts {
    /// `"all"` or `"none"`.
    Keyword(String),
    /// Product GUIDs.
    Some(Vec<String>),
}

impl DeployProducts {
    pub fn all() -> DeployProducts {
        DeployProducts::Keyword("all".into())
    }
}

/// A one-time errand override: run, don't run, or follow the staged rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrandOverride {
    On,
    Off,
    Default,
}

/// One product's errand overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductErrands {
    #[serde(default)]
    pub run_post_deploy: BTreeMap<String, ErrandOverride>,
    #[serde(default)]
    pub run_pre_delete: BTreeMap<String, ErrandOverride>,
}

/// What was asked, as stored with the installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyRequest {
    pub deploy_products: DeployProducts,
    #[serde(default)]
    pub errands: BTreeMap<String, ProductErrands>,
    #[serde(default)]
    pub ignore_warnings: bool,
}

impl Default for ApplyRequest {
    fn default() -> Self {
        ApplyRequest {
            deploy_products: DeployProducts::all(),
            errands: BTreeMap::new(),
            ignore_warnings: false,
        }
    }
}

fn override_of(v: &Value, at: &str) -> Result<ErrandOverride> {
    match v {
        Value::Bool(true) => Ok(ErrandOverride::On),
        Value::Bool(false) => Ok(ErrandOverride::Off),
        Value::String(s) => match s.as_str() {
            "true" | "on" => Ok(ErrandOverride::On),
            "false" | "off" => Ok(ErrandOverride::Off),
            "default" => Ok(ErrandOverride::Default),
            _ => Err(Error::invalid(at, "expected true, false or \"default\"")),
        },
        _ => Err(Error::invalid(at, "expected true, false or \"default\"")),
    }
}

fn flag(v: Option<&Value>, at: &str) -> Result<bool> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" || s.is_empty() => Ok(false),
        Some(_) => Err(Error::invalid(at, "expected true or false")),
    }
}

impl ApplyRequest {
    /// Parses a request body; an empty body means "deploy everything".
    pub fn parse(body: &Value) -> Result<ApplyRequest> {
        let body = match body {
            Value::Null => return Ok(ApplyRequest::default()),
            Value::Object(m) => m,
            _ => return Err(Error::invalid("base", "expected a JSON object")),
        };
        let deploy_products = match body.get("deploy_products") {
            None | Some(Value::Null) => DeployProducts::all(),
            Some(Value::String(s)) if s == "all" || s == "none" => {
                DeployProducts::Keyword(s.clone())
            }
            Some(Value::Array(items)) => DeployProducts::Some(
                items
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_owned).ok_or_else(|| {
                            Error::invalid("deploy_products", "expected product GUIDs")
                        })
                    })
                    .collect::<Result<_>>()?,
            ),
            Some(_) => {
                return Err(Error::invalid(
                    "deploy_products",
                    "expected \"all\", \"none\" or a list of product GUIDs",
                ))
            }
        };
        let mut errands = BTreeMap::new();
        match body.get("errands") {
            None | Some(Value::Null) => {}
            Some(Value::Object(by_product)) => {
                for (guid, phases) in by_product {
                    let Value::Object(phases) = phases else {
                        return Err(Error::invalid(
                            format!("errands.{guid}"),
                            "expected run_post_deploy and run_pre_delete maps",
                        ));
                    };
                    let mut parsed = ProductErrands::default();
                    for (phase, slot) in [
                        ("run_post_deploy", &mut parsed.run_post_deploy),
                        ("run_pre_delete", &mut parsed.run_pre_delete),
                    ] {
                        match phases.get(phase) {
                            None | Some(Value::Null) => {}
                            Some(Value::Object(list)) => {
                                for (name, v) in list {
                                    let at = format!("errands.{guid}.{phase}.{name}");
                                    slot.insert(name.clone(), override_of(v, &at)?);
                                }
                            }
                            Some(_) => {
                                return Err(Error::invalid(
                                    format!("errands.{guid}.{phase}"),
                                    "expected a map of errand names",
                                ))
                            }
                        }
                    }
                    errands.insert(guid.clone(), parsed);
                }
            }
            Some(_) => return Err(Error::invalid("errands", "expected a map by product GUID")),
        }
        Ok(ApplyRequest {
            deploy_products,
            errands,
            ignore_warnings: flag(body.get("ignore_warnings"), "ignore_warnings")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn oms_body_parses() {
        let r = ApplyRequest::parse(&json!({
            "ignore_warnings": "false",
            "force_latest_variables": false,
            "deploy_products": ["p-1"],
            "errands": {"p-1": {"run_post_deploy": {"smoke": true, "other": "default"},
                                "run_pre_delete": {"del": false}}}
        }))
        .unwrap();
        assert_eq!(r.deploy_products, DeployProducts::Some(vec!["p-1".into()]));
        assert!(!r.ignore_warnings);
        let e = &r.errands["p-1"];
        assert_eq!(e.run_post_deploy["smoke"], ErrandOverride::On);
        assert_eq!(e.run_post_deploy["other"], ErrandOverride::Default);
        assert_eq!(e.run_pre_delete["del"], ErrandOverride::Off);
    }

    #[test]
    fn defaults_and_refusals() {
        assert_eq!(
            ApplyRequest::parse(&Value::Null).unwrap(),
            ApplyRequest::default()
        );
        let none =
            ApplyRequest::parse(&json!({"deploy_products": "none", "ignore_warnings": true}))
                .unwrap();
        assert_eq!(none.deploy_products, DeployProducts::Keyword("none".into()));
        assert!(none.ignore_warnings);
        for bad in [
            json!({"deploy_products": "some"}),
            json!({"deploy_products": [1]}),
            json!({"errands": {"p": {"run_post_deploy": {"x": "maybe"}}}}),
            json!({"errands": []}),
            json!({"ignore_warnings": 3}),
            json!([]),
        ] {
            assert!(ApplyRequest::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stored_form_round_trips() {
        let r = ApplyRequest::parse(&json!({"deploy_products": ["a", "b"],
            "errands": {"a": {"run_post_deploy": {"x": false}}}}))
        .unwrap();
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<ApplyRequest>(&text).unwrap(), r);
    }
}
