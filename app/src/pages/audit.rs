//! The Audit page, `/audit` (administrators only: the gate refuses the page, its call and the
//! API to every other role; the header links it only for them): the audit trail, newest first,
//! with filters in a plain GET form and a pager of plain links, so filtering and paging work
//! before and without the page's script; an export link downloads the same selection as JSON
//! lines from the API.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::audit::{load_audit_page, AuditFilters, AuditPage, AuditRow, KINDS, RESULTS};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &str| query.with(|q| q.get(name)).unwrap_or_default();
    let filters = move || AuditFilters {
        principal: field("principal"),
        kind: field("kind"),
        route: field("route"),
        result: field("result"),
        since: field("since"),
        until: field("until"),
    };
    let user = page_data::resource(|| (), |_| get_current_user());
    let data = page_data::resource(
        move || (filters(), field("page")),
        |(f, page)| {
            load_audit_page(
                f.principal,
                f.kind,
                f.route,
                f.result,
                f.since,
                f.until,
                page,
            )
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let filters = filters();
                let body = match data.await {
                    Ok(page) => audit_body(filters, Ok(page)),
                    Err(err) => audit_body(filters, Err(server_message(&err))),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

fn audit_body(filters: AuditFilters, data: Result<AuditPage, String>) -> AnyView {
    let export = format!("/api/v0/audit_events/export?{}", filters.query(&[]));
    let form = filter_form(&filters);
    let retention = data.as_ref().ok().map(|page| {
        view! {
            <p class="audit-retention">
                {format!(
                    "Entries are kept {} days (--audit-retention-days); older ones are pruned, \
                     and each prune is recorded here as an entry of its own.",
                    page.retention_days
                )}
            </p>
        }
    });
    let results = match data {
        Ok(page) => results(&filters, page),
        Err(message) => view! { <p class="form-error" role="alert">{message}</p> }.into_any(),
    };
    view! {
        <main class="page audit">
            <h1>"Audit trail"</h1>
            <p class="muted">
                "Every change, credential reveal, sign-in and refusal, as the server recorded it. \
                 Request bodies are kept with every credential value replaced by [FILTERED]. \
                 Entries are never changed, and deleted only when their retention ends. Times \
                 are UTC."
            </p>
            {retention}
            {form}
            <p><a class="export" href=export download="tileworks-audit.jsonl">"Export as JSON lines"</a></p>
            {results}
        </main>
    }
    .into_any()
}

fn options(all: &[&'static str], selected: &str) -> impl IntoView {
    let selected = selected.to_owned();
    let any = selected.is_empty();
    view! {
        <option value="" selected=any>"any"</option>
        {all
            .iter()
            .map(|name| {
                let is = *name == selected;
                view! { <option value=*name selected=is>{*name}</option> }
            })
            .collect_view()}
    }
}

// A plain GET form: filtering works before the page's script has loaded.
fn filter_form(f: &AuditFilters) -> impl IntoView {
    view! {
        <form class="audit-filters" method="get" action="/audit" role="search">
            <label>"Principal " <input type="text" name="principal" value=f.principal.clone()/></label>
            <label>"Kind " <select name="kind">{options(&KINDS, &f.kind)}</select></label>
            <label>"Route or path " <input type="text" name="route" value=f.route.clone() placeholder="/api/v0/…"/></label>
            <label>"Result " <select name="result">{options(&RESULTS, &f.result)}</select></label>
            <label>"Since " <input type="text" name="since" value=f.since.clone() placeholder="2026-12-05T05:00:00Z"/></label>
            <label>"Until " <input type="text" name="until" value=f.until.clone() placeholder="2026-12-06"/></label>
            <button type="submit">"Filter"</button>
            " "
            <a href="/audit">"Clear"</a>
        </form>
    }
}

fn results(filters: &AuditFilters, data: AuditPage) -> AnyView {
    let pages = data.pages();
    let page = data.page;
    let href = |n: i64| format!("/audit?{}", filters.query(&[("page", n.to_string())]));
    let empty = data.rows.is_empty();
    let rows = data.rows.into_iter().map(row).collect_view();
    view! {
        {empty.then(|| view! { <p class="muted">"No entry matches."</p> })}
        <table class="data audit-table">
            <thead>
                <tr>
                    <th>"Time"</th>
                    <th>"Principal"</th>
                    <th>"Role"</th>
                    <th>"Address"</th>
                    <th>"Kind"</th>
                    <th>"Request"</th>
                    <th>"Result"</th>
                    <th>"Body"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            <span class="muted">{format!("{} entries · page {page} of {pages}", data.total)}</span>
            {(page > 1).then(|| view! { <a href=href(page - 1) rel="prev">"‹ Previous"</a> })}
            {(page < pages).then(|| view! { <a href=href(page + 1) rel="next">"Next ›"</a> })}
        </nav>
    }
    .into_any()
}

fn row(r: AuditRow) -> impl IntoView {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    let body = r.body.map(|text| {
        view! { <details><summary>"body"</summary><pre>{text}</pre></details> }
    });
    let kind_attr = r.kind.clone();
    let request = format!("{} {}", r.method, r.target);
    let result = format!("{} ({})", r.result, r.status);
    view! {
        <tr data-event=r.id.to_string() data-kind=kind_attr>
            <td>{r.time}</td>
            <td>{dash(r.principal)}</td>
            <td>{dash(r.role)}</td>
            <td>{dash(r.address)}</td>
            <td>{r.kind}</td>
            <td><code>{request}</code></td>
            <td>{result}</td>
            <td>{body}</td>
        </tr>
    }
}
