//! The audit trail's table (`audit_events`, migration 0012): append, a page with filters, and
//! chunked reads for the export. There is no update and no delete here, and the database
//! refuses both (triggers), so the trail is append-only whatever code runs.

use serde::Serialize;
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::Result;

/// An event to record (its id and time are the store's).
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub principal: Option<String>,
    pub role: Option<String>,
    pub address: Option<String>,
    pub method: String,
    pub route: String,
    pub target: String,
    pub status: u16,
    pub result: String,
    pub kind: String,
    /// Already filtered ([`crate::audit::filter`]).
    pub body: Option<Value>,
}

/// A recorded event, as the API and the page show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub time: String,
    pub principal: Option<String>,
    pub role: Option<String>,
    pub address: Option<String>,
    pub method: String,
    pub route: String,
    pub target: String,
    pub status: u16,
    pub result: String,
    pub kind: String,
    pub body: Option<Value>,
}

/// Which events: every set field must match (times are RFC 3339 UTC, as stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub principal: Option<String>,
    pub kind: Option<String>,
    /// The route pattern exactly, or the start of the requested path.
    pub route: Option<String>,
    pub result: Option<String>,
    /// From this time on (inclusive).
    pub since: Option<String>,
    /// Before this time (exclusive).
    pub until: Option<String>,
}

pub struct Audit<'a> {
    pool: &'a SqlitePool,
}

const COLUMNS: &str =
    "id, time, principal, role, address, method, route, target, status, result, kind, body";

impl<'a> Audit<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        Audit { pool }
    }

    /// Appends an event stamped with the current time; returns its id.
    pub async fn append(&self, event: &NewEvent) -> Result<i64> {
        let body = event.body.as_ref().map(Value::to_string);
        let done = sqlx::query(
            "INSERT INTO audit_events \
             (time, principal, role, address, method, route, target, status, result, kind, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(now_rfc3339())
        .bind(&event.principal)
        .bind(&event.role)
        .bind(&event.address)
        .bind(&event.method)
        .bind(&event.route)
        .bind(&event.target)
        .bind(i64::from(event.status))
        .bind(&event.result)
        .bind(&event.kind)
        .bind(body)
        .execute(self.pool)
        .await?;
        Ok(done.last_insert_rowid())
    }

    /// One page of the matching events, newest first, and how many match in all.
    pub async fn page(
        &self,
        filter: &EventFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Event>, i64)> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM audit_events");
        where_clause(&mut count, filter, None);
        let total: i64 = count.build().fetch_one(self.pool).await?.try_get(0)?;
        let mut select = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM audit_events"));
        where_clause(&mut select, filter, None);
        select.push(" ORDER BY id DESC LIMIT ");
        select.push_bind(limit);
        select.push(" OFFSET ");
        select.push_bind(offset);
        let rows = select.build().fetch_all(self.pool).await?;
        Ok((rows.iter().map(event).collect::<Result<_>>()?, total))
    }

    /// Up to `limit` matching events after the id `after`, oldest first: the export reads the
    /// whole trail in such chunks, never all of it at once.
    pub async fn chunk(&self, filter: &EventFilter, after: i64, limit: i64) -> Result<Vec<Event>> {
        let mut select = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM audit_events"));
        where_clause(&mut select, filter, Some(after));
        select.push(" ORDER BY id LIMIT ");
        select.push_bind(limit);
        let rows = select.build().fetch_all(self.pool).await?;
        rows.iter().map(event).collect()
    }
}

fn where_clause(query: &mut QueryBuilder<'_, Sqlite>, filter: &EventFilter, after: Option<i64>) {
    query.push(" WHERE 1 = 1");
    if let Some(after) = after {
        query.push(" AND id > ").push_bind(after);
    }
    if let Some(principal) = &filter.principal {
        query.push(" AND principal = ").push_bind(principal.clone());
    }
    if let Some(kind) = &filter.kind {
        query.push(" AND kind = ").push_bind(kind.clone());
    }
    if let Some(result) = &filter.result {
        query.push(" AND result = ").push_bind(result.clone());
    }
    if let Some(route) = &filter.route {
        query
            .push(" AND (route = ")
            .push_bind(route.clone())
            .push(" OR target LIKE ")
            .push_bind(format!("{}%", escape_like(route)))
            .push(" ESCAPE '\\')");
    }
    if let Some(since) = &filter.since {
        query.push(" AND time >= ").push_bind(since.clone());
    }
    if let Some(until) = &filter.until {
        query.push(" AND time < ").push_bind(until.clone());
    }
}

/// `text` matched literally by `LIKE … ESCAPE '\'`.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn event(row: &SqliteRow) -> Result<Event> {
    let body: Option<String> = row.try_get("body")?;
    let status: i64 = row.try_get("status")?;
    Ok(Event {
        id: row.try_get("id")?,
        time: row.try_get("time")?,
        principal: row.try_get("principal")?,
        role: row.try_get("role")?,
        address: row.try_get("address")?,
        method: row.try_get("method")?,
        route: row.try_get("route")?,
        target: row.try_get("target")?,
        status: u16::try_from(status).unwrap_or(0),
        result: row.try_get("result")?,
        kind: row.try_get("kind")?,
        // Written by `append` from a JSON value; anything else is shown as the text it is.
        body: body.map(|text| serde_json::from_str(&text).unwrap_or(Value::String(text))),
    })
}

/// The current time as stored: RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// `at` as stored: RFC 3339 in UTC to the second, so every stored time has the same width.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
