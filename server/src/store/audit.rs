//! The audit trail's table (`audit_events`, migration 0012): append, a page with filters,
//! chunked reads for the export, and the retention prune. There is no update here and no other
//! delete, and the database refuses both (triggers; migration 0025 lets a row go only when it is
//! older than the cutoff the prune records first), so the trail is append-only whatever code
//! runs.

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

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
    pool: &'a AnyPool,
}

const COLUMNS: &str =
    "id, time, principal, role, address, method, route, target, status, result, kind, body";

impl<'a> Audit<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Audit { pool }
    }

    /// Appends an event stamped with the current time; returns its id.
    pub async fn append(&self, event: &NewEvent) -> Result<i64> {
        insert(self.pool, event).await
    }

    /// The retention prune, in one transaction: records `cutoff` (RFC 3339 UTC, as stored) as
    /// the time before which rows may go, deletes those rows and, when there were any, appends
    /// the entry `entry` makes of their number. Returns that number.
    pub async fn prune_before(
        &self,
        cutoff: &str,
        entry: impl FnOnce(u64) -> NewEvent,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO audit_retention (id, prune_before) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET prune_before = excluded.prune_before",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        let pruned = sqlx::query("DELETE FROM audit_events WHERE time < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if pruned > 0 {
            insert(&mut *tx, &entry(pruned)).await?;
        }
        tx.commit().await?;
        Ok(pruned)
    }

    /// One page of the matching events, newest first, and how many match in all.
    pub async fn page(
        &self,
        filter: &EventFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Event>, i64)> {
        let (condition, binds) = where_clause(filter, None);
        let total: i64 = bind_all(
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_events{condition}")),
            &binds,
        )
        .fetch_one(self.pool)
        .await?;
        let n = binds.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events{condition} ORDER BY id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool)
            .await?;
        Ok((rows.iter().map(event).collect::<Result<_>>()?, total))
    }

    /// Up to `limit` matching events after the id `after`, oldest first: the export reads the
    /// whole trail in such chunks, never all of it at once.
    pub async fn chunk(&self, filter: &EventFilter, after: i64, limit: i64) -> Result<Vec<Event>> {
        let (condition, binds) = where_clause(filter, Some(after));
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events{condition} ORDER BY id LIMIT ${}",
            binds.len() + 1
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .bind(limit)
            .fetch_all(self.pool)
            .await?;
        rows.iter().map(event).collect()
    }
}

/// Inserts `event` stamped with the current time; its id.
async fn insert<'e, E>(executor: E, event: &NewEvent) -> Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let body = event.body.as_ref().map(Value::to_string);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_events \
         (time, principal, role, address, method, route, target, status, result, kind, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
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
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// A value the filter binds.
enum Bind {
    Int(i64),
    Text(String),
}

/// ` WHERE …` for `filter` with numbered placeholders `$1…` (PostgreSQL needs numbers; sqlx's
/// QueryBuilder over `Any` writes `?`), and the values to bind in that order.
fn where_clause(filter: &EventFilter, after: Option<i64>) -> (String, Vec<Bind>) {
    let mut sql = String::from(" WHERE 1 = 1");
    let mut binds = Vec::new();
    let mut push = |sql: &mut String, text: &str, value: Bind| {
        binds.push(value);
        sql.push_str(text);
        sql.push_str(&format!("${}", binds.len()));
    };
    if let Some(after) = after {
        push(&mut sql, " AND id > ", Bind::Int(after));
    }
    if let Some(principal) = &filter.principal {
        push(&mut sql, " AND principal = ", Bind::Text(principal.clone()));
    }
    if let Some(kind) = &filter.kind {
        push(&mut sql, " AND kind = ", Bind::Text(kind.clone()));
    }
    if let Some(result) = &filter.result {
        push(&mut sql, " AND result = ", Bind::Text(result.clone()));
    }
    if let Some(route) = &filter.route {
        push(&mut sql, " AND (route = ", Bind::Text(route.clone()));
        let pattern = format!("{}%", escape_like(route));
        push(&mut sql, " OR target LIKE ", Bind::Text(pattern));
        sql.push_str(" ESCAPE '\\')");
    }
    if let Some(since) = &filter.since {
        push(&mut sql, " AND time >= ", Bind::Text(since.clone()));
    }
    if let Some(until) = &filter.until {
        push(&mut sql, " AND time < ", Bind::Text(until.clone()));
    }
    (sql, binds)
}

/// `query` with `binds` bound in order (a query, or a scalar query).
fn bind_all<'q, Q: BindValues<'q>>(query: Q, binds: &'q [Bind]) -> Q {
    binds.iter().fold(query, |query, bind| match bind {
        Bind::Int(value) => query.bind_int(*value),
        Bind::Text(value) => query.bind_text(value),
    })
}

/// What `bind_all` needs of sqlx's two query types.
trait BindValues<'q> {
    fn bind_int(self, value: i64) -> Self;
    fn bind_text(self, value: &'q str) -> Self;
}

impl<'q> BindValues<'q> for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    fn bind_int(self, value: i64) -> Self {
        self.bind(value)
    }
    fn bind_text(self, value: &'q str) -> Self {
        self.bind(value)
    }
}

impl<'q, O> BindValues<'q>
    for sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
{
    fn bind_int(self, value: i64) -> Self {
        self.bind(value)
    }
    fn bind_text(self, value: &'q str) -> Self {
        self.bind(value)
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

fn event(row: &AnyRow) -> Result<Event> {
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
