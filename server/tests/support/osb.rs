//! The on-demand broker as a platform reaches it (Cloud Controller, the PKS API): the Open
//! Service Broker API over HTTP basic auth with `X-Broker-API-Version`, one method per request
//! (pivotal-cf/brokerapi `api.go` is the contract: paths, query parameters, bodies), and the PKS
//! tile deployed with what the broker tests need (plan 2 active, optional quotas).

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::pks::{om_configure_product, pks_config_yaml, test_cert, PKS};
use super::{apply_succeeds, configure_director, Api, Reply};

/// The service and plan ids the bundled PKS tile writes into its catalog.
pub const SERVICE_ID: &str = "6f3c1a52-8e0d-4b7a-9c2f-1d5e8a4b7c30";

/// A broker client: the base URL of Tileworks and the broker's credentials.
#[derive(Clone)]
pub struct Osb {
    pub base: String,
    pub username: String,
    pub password: String,
    http: reqwest::Client,
}

/// Instance limits to configure on the PKS tile.
#[derive(Default, Clone, Copy)]
pub struct Quotas {
    pub global: Option<u64>,
    pub plan1: Option<u64>,
}

/// Stages, configures (plan 2 active too, quotas as given) and deploys PKS: its GUID.
pub async fn deploy_pks_for_broker(api: &Api<'_>, quotas: Quotas) -> String {
    configure_director(api).await;
    let guid = api.stage(PKS, "latest").await;
    let (cert, key) = test_cert();
    let mut config = tiles::yaml::load(&pks_config_yaml(&cert, &key)).unwrap();
    let props = config["product-properties"].as_object_mut().unwrap();
    props.insert(
        ".properties.plan2_selector".into(),
        json!({"value": "Plan Active"}),
    );
    props.insert(
        ".properties.plan2_selector.active.master_az_placement".into(),
        json!({"value": ["az1"]}),
    );
    props.insert(
        ".properties.plan2_selector.active.worker_az_placement".into(),
        json!({"value": ["az1"]}),
    );
    props.insert(
        ".properties.plan2_selector.active.master_instances".into(),
        json!({"value": 1}),
    );
    props.insert(
        ".properties.plan2_selector.active.worker_instances".into(),
        json!({"value": 2}),
    );
    if let Some(n) = quotas.global {
        props.insert(".properties.max_clusters".into(), json!({ "value": n }));
    }
    if let Some(n) = quotas.plan1 {
        props.insert(
            ".properties.plan1_selector.active.max_clusters".into(),
            json!({ "value": n }),
        );
    }
    om_configure_product(api, &config).await;
    apply_succeeds(api, json!({"deploy_products": "all"})).await;
    guid
}

impl Osb {
    /// The broker of the PKS deployment `guid`, with the credentials the deployed tile holds
    /// (read as an admin reads deployed credentials).
    pub async fn of(api: &Api<'_>, guid: &str) -> Osb {
        let r = api
            .get(&format!(
                "/api/v0/deployed/products/{guid}/credentials/.properties.odb_broker_basicauth"
            ))
            .await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        let value = &r.body["credential"]["value"];
        Osb {
            base: api.server.url.clone(),
            username: value["identity"].as_str().unwrap().to_owned(),
            password: value["password"].as_str().unwrap().to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// The same broker at another address (after a restart).
    pub fn at(&self, base: &str) -> Osb {
        Osb {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    /// A request as a platform sends it: basic auth, `X-Broker-API-Version: 2.14`.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/broker{path}", self.base))
            .basic_auth(&self.username, Some(&self.password))
            .header("X-Broker-API-Version", "2.14")
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut r = self.request(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        super::reply(r.send().await.unwrap()).await
    }

    pub async fn catalog(&self) -> Reply {
        self.send(Method::GET, "/v2/catalog", None).await
    }

    /// The id of the plan named `name` in the catalog.
    pub async fn plan_id(&self, name: &str) -> String {
        let catalog = self.catalog().await.expect(200);
        catalog["services"][0]["plans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no plan {name} in {catalog:#}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `PUT /v2/service_instances/:id?accepts_incomplete=true`.
    pub async fn provision(&self, id: &str, plan_id: &str, parameters: Value) -> Reply {
        self.send(
            Method::PUT,
            &format!("/v2/service_instances/{id}?accepts_incomplete=true"),
            Some(json!({
                "service_id": SERVICE_ID,
                "plan_id": plan_id,
                "organization_guid": "org",
                "space_guid": "space",
                "parameters": parameters,
            })),
        )
        .await
    }

    /// `PATCH /v2/service_instances/:id?accepts_incomplete=true`.
    pub async fn update(&self, id: &str, body: Value) -> Reply {
        self.send(
            Method::PATCH,
            &format!("/v2/service_instances/{id}?accepts_incomplete=true"),
            Some(body),
        )
        .await
    }

    /// `DELETE /v2/service_instances/:id?service_id&plan_id&accepts_incomplete=true`.
    pub async fn deprovision(&self, id: &str, plan_id: &str) -> Reply {
        self.send(
            Method::DELETE,
            &format!(
                "/v2/service_instances/{id}?service_id={SERVICE_ID}&plan_id={plan_id}&accepts_incomplete=true"
            ),
            None,
        )
        .await
    }

    /// `GET /v2/service_instances/:id/last_operation?operation=…`.
    pub async fn last_operation(&self, id: &str, operation: &str) -> Reply {
        let r = self
            .request(
                Method::GET,
                &format!("/v2/service_instances/{id}/last_operation"),
            )
            .query(&[("operation", operation)])
            .send()
            .await
            .unwrap();
        super::reply(r).await
    }

    /// Polls `last_operation` until the state is no longer `in progress`: the last answer.
    pub async fn wait(&self, id: &str, operation: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let r = self.last_operation(id, operation).await;
            assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
            if r.body["state"] != "in progress" {
                return r.body;
            }
            assert!(Instant::now() < deadline, "{id} still in progress");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Provisions and waits for success: the operation token.
    pub async fn provisioned(&self, id: &str, plan_id: &str, parameters: Value) -> String {
        let r = self.provision(id, plan_id, parameters).await;
        assert_eq!(r.status, 202, "{:#}", r.body);
        let operation = r.body["operation"].as_str().unwrap().to_owned();
        let last = self.wait(id, &operation).await;
        assert_eq!(last["state"], "succeeded", "{last:#}");
        operation
    }

    pub async fn instance(&self, id: &str) -> Reply {
        self.send(Method::GET, &format!("/v2/service_instances/{id}"), None)
            .await
    }

    pub async fn bind(&self, id: &str, binding: &str, plan_id: &str) -> Reply {
        self.send(
            Method::PUT,
            &format!("/v2/service_instances/{id}/service_bindings/{binding}"),
            Some(json!({"service_id": SERVICE_ID, "plan_id": plan_id, "app_guid": "app"})),
        )
        .await
    }

    pub async fn binding(&self, id: &str, binding: &str) -> Reply {
        self.send(
            Method::GET,
            &format!("/v2/service_instances/{id}/service_bindings/{binding}"),
            None,
        )
        .await
    }

    pub async fn unbind(&self, id: &str, binding: &str, plan_id: &str) -> Reply {
        self.send(
            Method::DELETE,
            &format!(
                "/v2/service_instances/{id}/service_bindings/{binding}?service_id={SERVICE_ID}&plan_id={plan_id}"
            ),
            None,
        )
        .await
    }
}
