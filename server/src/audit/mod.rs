//! The audit trail: who changed what, who saw which credential, who signed in (or failed to),
//! and what the gate refused — kept in the database, append-only (`audit_events`, whose
//! triggers refuse updates, and deletes but the retention prune's), for administrators to
//! read, filter and export.
//!
//! The gate records (`crate::http::recorder`), so no entry point can escape it: every
//! state-changing request (API, UI server functions, the broker, the PKS API), every sign-in,
//! every refusal and every credential reveal. Request bodies are kept with every credential
//! value replaced by `[FILTERED]` ([`filter`]); uploads are kept as their size.
//!
//! Files: `mod.rs` (kinds, recording, the query's parsing, reading pages and the export),
//! `filter.rs` (what a body becomes), `retention.rs` (pruning entries older than the retention
//! period, the one way an entry leaves).

pub mod filter;
pub mod retention;

use serde::Serialize;
use serde_json::{json, Value};

use crate::store::audit::{Event, EventFilter, NewEvent};
use crate::store::Store;
use crate::{Error, Result};

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A request that changes state.
    Write,
    /// A request that hands out a credential (a value, a private key, a log bundle, a
    /// kubeconfig or a binding), whatever its method.
    Reveal,
    /// A sign-in, successful or not (the login form, the token endpoint).
    SignIn,
    SignOut,
    /// A request the gate (or a handler's finer check) refused: cross-site, role, broker
    /// credentials.
    Refusal,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Write,
        Kind::Reveal,
        Kind::SignIn,
        Kind::SignOut,
        Kind::Refusal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Write => "write",
            Kind::Reveal => "reveal",
            Kind::SignIn => "sign_in",
            Kind::SignOut => "sign_out",
            Kind::Refusal => "refusal",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What the answer meant.
pub const RESULTS: [&str; 3] = ["success", "failure", "refused"];

/// The result an HTTP status stands for: refused (401, 403), failure (other 4xx and 5xx),
/// success.
pub fn result_of(status: u16) -> &'static str {
    match status {
        401 | 403 => "refused",
        400..=u16::MAX => "failure",
        _ => "success",
    }
}

/// Largest body (as filtered JSON) an entry keeps; a bigger one is kept as its size.
pub const MAX_RECORDED_BODY: usize = 64 * 1024;

/// One request's entry, before the store stamps it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: Kind,
    pub principal: Option<String>,
    pub role: Option<String>,
    pub address: Option<String>,
    pub method: String,
    pub route: String,
    pub target: String,
    pub status: u16,
    pub result: &'static str,
    pub body: Option<Value>,
}

/// Appends `entry` to the trail. A failure to record is logged loudly and returned: the gate
/// withholds a credential reveal it could not record (`Error::AuditUnavailable`); any other
/// request's answer is already decided (a write has happened) and is not changed by it.
pub async fn record(store: &Store, entry: Entry) -> Result<()> {
    let event = NewEvent {
        principal: entry.principal,
        role: entry.role,
        address: entry.address,
        method: entry.method,
        route: entry.route,
        target: entry.target,
        status: entry.status,
        result: entry.result.to_owned(),
        kind: entry.kind.name().to_owned(),
        body: entry.body,
    };
    if let Err(err) = store.audit().append(&event).await {
        tracing::error!(
            target: "audit",
            method = %event.method,
            route = %event.route,
            principal = event.principal.as_deref().unwrap_or("-"),
            "the audit trail could not record a request: {err}"
        );
        return Err(err);
    }
    Ok(())
}

/// A request body as the trail keeps it: JSON or a form read and filtered; anything else (or
/// anything that does not parse, or whose keys the filter cannot classify) only as its size and
/// media type, never as raw bytes.
pub fn body_of(content_type: &str, bytes: &[u8]) -> Option<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let parsed = if kind == "application/json" || kind.ends_with("+json") {
        serde_json::from_slice::<Value>(bytes).ok()
    } else if kind == "application/x-www-form-urlencoded" {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .ok()
            .map(filter::form_object)
    } else {
        None
    };
    let Some(parsed) = parsed else {
        return Some(left_out(
            "not JSON or a form",
            Some(bytes.len() as u64),
            &kind,
        ));
    };
    let Some(body) = filter::filtered(parsed) else {
        return Some(left_out(
            "keys the filter cannot classify",
            Some(bytes.len() as u64),
            &kind,
        ));
    };
    if body.to_string().len() > MAX_RECORDED_BODY {
        return Some(left_out(
            "larger than the trail keeps",
            Some(bytes.len() as u64),
            &kind,
        ));
    }
    Some(body)
}

/// What an entry says of a body it does not keep (an upload, an unreadable body). Of the
/// content type only the media type is kept, and only when it looks like one: the header is
/// the client's text, its parameters (a boundary, anything) are not the trail's business.
pub fn left_out(why: &str, bytes: Option<u64>, content_type: &str) -> Value {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let media = if media.len() <= 100
        && media.bytes().filter(|&b| b == b'/').count() == 1
        && media
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/+-.".contains(&b))
    {
        media
    } else {
        "unrecognised".to_owned()
    };
    json!({"omitted": why, "bytes": bytes, "content_type": media})
}

/// An administrator's question to the trail: the filters and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub filter: EventFilter,
    /// From 1.
    pub page: i64,
    pub per_page: i64,
}

pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 500;

/// The query string's fields, each checked: an unknown field, an unknown kind or result, a
/// time that is not one, a page that is not a positive number are `422` naming the field.
/// Empty fields are no filter (the page's GET form sends every field).
pub fn parse_query(pairs: &[(String, String)]) -> Result<Query> {
    let mut query = Query {
        filter: EventFilter::default(),
        page: 1,
        per_page: DEFAULT_PER_PAGE,
    };
    for (key, value) in pairs {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "principal" => query.filter.principal = Some(value.to_owned()),
            "kind" => {
                let kind = Kind::parse(value).ok_or_else(|| {
                    Error::invalid(
                        "kind",
                        format!(
                            "'{value}' is not a kind; the kinds are {}",
                            Kind::ALL.map(Kind::name).join(", ")
                        ),
                    )
                })?;
                query.filter.kind = Some(kind.name().to_owned());
            }
            "route" => {
                if !value.starts_with('/') {
                    return Err(Error::invalid(
                        "route",
                        "a route or path starts with '/' (e.g. /api/v0/staged)",
                    ));
                }
                query.filter.route = Some(value.to_owned());
            }
            "result" => {
                if !RESULTS.contains(&value) {
                    return Err(Error::invalid(
                        "result",
                        format!(
                            "'{value}' is not a result; the results are {}",
                            RESULTS.join(", ")
                        ),
                    ));
                }
                query.filter.result = Some(value.to_owned());
            }
            "since" => query.filter.since = Some(parse_time("since", value)?),
            "until" => query.filter.until = Some(parse_time("until", value)?),
            "page" => query.page = positive("page", value, i64::MAX)?,
            "per_page" => query.per_page = positive("per_page", value, MAX_PER_PAGE)?,
            other => {
                return Err(Error::invalid(
                    other,
                    "is not a filter; the filters are principal, kind, route, result, since, \
                     until, page and per_page",
                ))
            }
        }
    }
    if let (Some(since), Some(until)) = (&query.filter.since, &query.filter.until) {
        if since >= until {
            return Err(Error::invalid("until", "must be after 'since'"));
        }
    }
    Ok(query)
}

fn positive(field: &str, value: &str, max: i64) -> Result<i64> {
    match value.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(Error::invalid(
            field,
            format!("'{value}' is not a whole number from 1 to {max}"),
        )),
    }
}

/// A time as RFC 3339 (`2026-12-05T05:00:00Z`, any offset), a date (`2026-12-05`, midnight
/// UTC) or what a browser's `datetime-local` field sends (`2026-12-05T05:00`, UTC); stored
/// form: RFC 3339 UTC to the second.
pub fn parse_time(field: &str, value: &str) -> Result<String> {
    use time::format_description::well_known::Rfc3339;
    let candidates = [
        value.to_owned(),
        format!("{value}T00:00:00Z"),
        format!("{value}:00Z"),
        format!("{value}Z"),
    ];
    candidates
        .iter()
        .find_map(|text| time::OffsetDateTime::parse(text, &Rfc3339).ok())
        .map(crate::store::audit::rfc3339)
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "'{value}' is not a time; use RFC 3339 (2026-12-05T05:00:00Z) or a date \
                     (2026-12-05)"
                ),
            )
        })
}

/// One page of the trail, as the API and the page answer it.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub audit_events: Vec<Event>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    /// How long entries are kept ([`retention`]).
    pub retention_days: u32,
}

/// The page `query` asks for, newest first; entries are kept `retention_days`.
pub async fn page(store: &Store, query: &Query, retention_days: u32) -> Result<Page> {
    let offset = (query.page - 1).saturating_mul(query.per_page);
    let (events, total) = store
        .audit()
        .page(&query.filter, offset, query.per_page)
        .await?;
    Ok(Page {
        audit_events: events,
        page: query.page,
        per_page: query.per_page,
        total,
        retention_days,
    })
}

/// How many events the export reads at a time.
pub const EXPORT_CHUNK: i64 = 500;

/// Every matching event, oldest first, as JSON lines, read a chunk at a time while the
/// answer streams (the trail can be longer than memory should hold).
pub fn export(
    store: Store,
    filter: EventFilter,
) -> impl futures_util::Stream<Item = Result<String>> + Send + 'static {
    futures_util::stream::try_unfold(Some(0_i64), move |after| {
        next_chunk(store.clone(), filter.clone(), after)
    })
}

/// The lines of the chunk after the id `after` (none when the last chunk was short), and
/// where the next chunk starts.
async fn next_chunk(
    store: Store,
    filter: EventFilter,
    after: Option<i64>,
) -> Result<Option<(String, Option<i64>)>> {
    let Some(after) = after else {
        return Ok(None);
    };
    let events = store.audit().chunk(&filter, after, EXPORT_CHUNK).await?;
    if events.is_empty() {
        return Ok(None);
    }
    let next = if (events.len() as i64) < EXPORT_CHUNK {
        None
    } else {
        events.last().map(|e| e.id)
    };
    let mut lines = String::new();
    for event in &events {
        let line = serde_json::to_string(event)
            .map_err(|e| Error::Internal(format!("writing an audit event as JSON: {e}")))?;
        lines.push_str(&line);
        lines.push('\n');
    }
    Ok(Some((lines, next)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn field_of(err: Error) -> String {
        match err {
            Error::Invalid { field, .. } => field,
            other => panic!("not a 422: {other}"),
        }
    }

    #[test]
    fn queries_parse_and_name_the_bad_field() {
        let q = parse_query(&pairs(&[
            ("principal", "admin"),
            ("kind", "reveal"),
            ("route", "/api/v0/deployed"),
            ("result", "success"),
            ("since", "2026-12-05"),
            ("until", "2026-12-05T06:30"),
            ("page", "2"),
            ("per_page", "10"),
            ("ignored_when_empty", ""),
        ]))
        .unwrap();
        assert_eq!(q.filter.principal.as_deref(), Some("admin"));
        assert_eq!(q.filter.since.as_deref(), Some("2026-12-05T00:00:00Z"));
        assert_eq!(q.filter.until.as_deref(), Some("2026-12-05T06:30:00Z"));
        assert_eq!((q.page, q.per_page), (2, 10));
        for (bad, field) in [
            (("kind", "everything"), "kind"),
            (("result", "ok"), "result"),
            (("since", "yesterday"), "since"),
            (("until", "2026-13-01"), "until"),
            (("page", "0"), "page"),
            (("per_page", "100000"), "per_page"),
            (("route", "api"), "route"),
            (("principle", "admin"), "principle"),
        ] {
            let err = parse_query(&pairs(&[bad])).unwrap_err();
            assert_eq!(field_of(err), field, "{bad:?}");
        }
        let err = parse_query(&pairs(&[
            ("since", "2026-12-05T06:00:00+01:00"),
            ("until", "2026-12-05T05:00:00Z"),
        ]))
        .unwrap_err();
        assert_eq!(field_of(err), "until", "offsets count: 06:00+01 is 05:00Z");
    }

    #[test]
    fn bodies_are_filtered_and_never_kept_raw() {
        let body = body_of(
            "application/json; charset=utf-8",
            br#"{"username": "ops", "password": "Pa55-Word-9"}"#,
        )
        .unwrap();
        assert_eq!(body["username"], "ops");
        assert_eq!(body["password"], filter::FILTERED);
        let form = body_of(
            "application/x-www-form-urlencoded",
            b"username=ops&password=Pa55-Word-9",
        )
        .unwrap();
        assert_eq!(form["password"], filter::FILTERED);
        let raw = body_of("text/plain", b"password=Pa55-Word-9").unwrap();
        assert!(!raw.to_string().contains("Pa55"), "{raw}");
        let broken = body_of("application/json", b"{\"password\": \"Pa55-Word-9\"").unwrap();
        assert!(!broken.to_string().contains("Pa55"), "{broken}");
        assert_eq!(body_of("application/json", b"  "), None);
    }

    #[test]
    fn statuses_mean_results() {
        assert_eq!(result_of(200), "success");
        assert_eq!(result_of(303), "success");
        assert_eq!(result_of(403), "refused");
        assert_eq!(result_of(401), "refused");
        assert_eq!(result_of(422), "failure");
        assert_eq!(result_of(500), "failure");
    }
}
