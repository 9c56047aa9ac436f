//! A vCenter asked what the Director's user may see (PrivilegeVerifier), through the vSphere
//! Automation REST API the way any client signs in: a session created with the user and
//! password (`POST /api/session`; vCenter 6.7's `POST /rest/com/vmware/cis/session` when
//! `/api` is missing), the datacenter looked up by name, then the datastores by name within
//! it, and the session deleted. A user that signs in but sees neither is a user the vSphere
//! CPI cannot work with.
//!
//! The certificate is not judged, as the IaaS endpoint check does not judge it: it is the
//! CPI's concern, checked there with the CA the operator gives.

use serde_json::Value;

use super::{authority, Failure, CONNECT, WHOLE};

/// Where the two API generations keep the same things.
struct Api {
    session: &'static str,
    datacenters: &'static str,
    datastores: &'static str,
    /// The filter parameters' prefix (`filter.` on `/rest`).
    filter: &'static str,
    /// Answers wrapped in `{"value": …}` (`/rest`).
    wrapped: bool,
}

const API: Api = Api {
    session: "/api/session",
    datacenters: "/api/vcenter/datacenter",
    datastores: "/api/vcenter/datastore",
    filter: "",
    wrapped: false,
};

const REST: Api = Api {
    session: "/rest/com/vmware/cis/session",
    datacenters: "/rest/vcenter/datacenter",
    datastores: "/rest/vcenter/datastore",
    filter: "filter.",
    wrapped: true,
};

/// Signs `username` in at `host:port` and looks for `datacenter` and each of `datastores`.
pub async fn sees(
    host: &str,
    port: u16,
    username: &str,
    password: &str,
    datacenter: &str,
    datastores: &[String],
) -> Result<(), Failure> {
    let base = format!("https://{}", authority(host, port));
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT)
        .timeout(WHOLE)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .build()
        .map_err(|e| Failure::Unreachable(format!("HTTP client: {e}")))?;
    let unreachable = |what: &str, e: reqwest::Error| {
        let mut why = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            why = s.to_string();
            source = s.source();
        }
        Failure::Unreachable(format!("{what} at {base}: {why}"))
    };

    let mut api = &API;
    let mut answer = client
        .post(format!("{base}{}", api.session))
        .basic_auth(username, Some(password))
        .send()
        .await
        .map_err(|e| unreachable("signing in", e))?;
    if answer.status() == reqwest::StatusCode::NOT_FOUND {
        api = &REST;
        answer = client
            .post(format!("{base}{}", api.session))
            .basic_auth(username, Some(password))
            .send()
            .await
            .map_err(|e| unreachable("signing in", e))?;
    }
    let status = answer.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(Failure::Refused(format!(
            "POST {} answered {status}",
            api.session
        )));
    }
    if !status.is_success() {
        return Err(Failure::Unreachable(format!(
            "POST {base}{} answered {status}: not a vCenter's Automation API",
            api.session
        )));
    }
    let body: Value = answer
        .json()
        .await
        .map_err(|e| unreachable("reading the session", e))?;
    let token = unwrap(api, body)
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::Unreachable("the vCenter answered no session token".into()))?;

    let list = |path: &'static str, query: Vec<(String, String)>| {
        let client = client.clone();
        let token = token.clone();
        let base = base.clone();
        async move {
            let answer = client
                .get(format!("{base}{path}"))
                .header("vmware-api-session-id", &token)
                .query(&query)
                .send()
                .await
                .map_err(|e| Failure::Unreachable(format!("GET {path}: {e}")))?;
            let status = answer.status();
            if status == reqwest::StatusCode::UNAUTHORIZED
                || status == reqwest::StatusCode::FORBIDDEN
            {
                return Err(Failure::Refused(format!(
                    "the user may not list {path}: {status}"
                )));
            }
            if !status.is_success() {
                return Err(Failure::Unreachable(format!(
                    "GET {path} answered {status}"
                )));
            }
            answer
                .json::<Value>()
                .await
                .map_err(|e| Failure::Unreachable(format!("GET {path}: {e}")))
        }
    };
    let outcome = async {
        let found = list(
            api.datacenters,
            vec![(format!("{}names", api.filter), datacenter.to_owned())],
        )
        .await?;
        let Some(id) = unwrap(api, found)
            .as_array()
            .and_then(|list| list.iter().find(|d| d["name"] == datacenter))
            .and_then(|d| d["datacenter"].as_str())
            .map(str::to_owned)
        else {
            return Err(Failure::Unreachable(format!(
                "the user sees no datacenter '{datacenter}'"
            )));
        };
        if datastores.is_empty() {
            return Ok(());
        }
        let mut query = vec![(format!("{}datacenters", api.filter), id)];
        query.extend(
            datastores
                .iter()
                .map(|d| (format!("{}names", api.filter), d.clone())),
        );
        let found = unwrap(api, list(api.datastores, query).await?);
        let seen: Vec<&str> = found
            .as_array()
            .map(|list| list.iter().filter_map(|d| d["name"].as_str()).collect())
            .unwrap_or_default();
        let missing: Vec<&str> = datastores
            .iter()
            .map(String::as_str)
            .filter(|d| !seen.contains(d))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Failure::Unreachable(format!(
                "the user sees no datastore {} in '{datacenter}'",
                missing
                    .iter()
                    .map(|d| format!("'{d}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
    .await;
    // The session ends whatever was found (vCenter keeps a limited number per user).
    let _ = client
        .delete(format!("{base}{}", api.session))
        .header("vmware-api-session-id", &token)
        .send()
        .await;
    outcome
}

fn unwrap(api: &Api, body: Value) -> Value {
    if api.wrapped {
        body.get("value").cloned().unwrap_or(Value::Null)
    } else {
        body
    }
}
