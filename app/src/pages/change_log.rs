//! The Change Log, `/installations`: every Apply Changes, newest first, with its status, user,
//! times and duration, and per installation a table of its products (ACTION as Ops Manager
//! words it: ADDED, UPDATED, DELETED, NO CHANGES or FAILED; started, finished (UTC), duration)
//! and a link to its log on the progress page. Paged with plain links (`?page=&per_page=`), so
//! it works before and without hydration.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::installations::{
    format_duration, load_change_log, ChangeLog, InstallationSummary, PAGE_SIZES,
};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

#[component]
pub fn ChangeLogPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || {
        query
            .with(|q| q.get("page"))
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
    };
    let per_page = move || {
        query
            .with(|q| q.get("per_page"))
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(PAGE_SIZES[0])
    };
    let search = move || query.with(|q| q.get("q")).unwrap_or_default();
    let user = page_data::resource(|| (), |_| get_current_user());
    let log = page_data::resource(
        move || (page(), per_page(), search()),
        |(page, per_page, search)| load_change_log(page, per_page, search),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let body = match log.await {
                    Ok(log) => view! { <ChangeLogBody log/> }.into_any(),
                    Err(err) => view! {
                        <main class="page narrow">
                            <p class="form-error" role="alert">{server_message(&err)}</p>
                        </main>
                    }
                    .into_any(),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

fn page_href(page: usize, per_page: usize, search: &str) -> String {
    let mut href = format!("/installations?page={page}&per_page={per_page}");
    if !search.is_empty() {
        href.push_str("&q=");
        href.push_str(&url_encode(search));
    }
    href
}

/// Percent-encodes a query value (unreserved characters stay as they are).
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn ChangeLogBody(log: ChangeLog) -> AnyView {
    let pages = log.pages();
    let (page, per_page) = (log.page, log.per_page);
    let search = log.query.clone();
    let empty = log.installations.is_empty();
    let sizes = PAGE_SIZES
        .iter()
        .map(|&n| {
            let current = n == per_page;
            view! {
                <a href=page_href(1, n, &search) class:active=current aria-current=current.then_some("page")>{n.to_string()}</a>
            }
        })
        .collect_view();
    view! {
        <main class="page change-log">
            <p class="breadcrumb"><a href="/">"Installation Dashboard"</a> " › Change Log"</p>
            <h1>"Change Log"</h1>
            // A plain GET form: searching works before the page's script has loaded.
            <form class="change-log-search" method="get" action="/installations" role="search">
                <input type="search" name="q" value=log.query.clone() aria-label="Search the Change Log"
                    placeholder="Product, user, status, action or #id"/>
                <input type="hidden" name="per_page" value=per_page.to_string()/>
                <button type="submit">"Search"</button>
            </form>
            {empty.then(|| {
                let text = if log.query.is_empty() {
                    "No changes have been applied yet.".to_owned()
                } else {
                    format!("No installation matches \u{201c}{}\u{201d}.", log.query)
                };
                view! { <p class="muted">{text}</p> }
            })}
            <div class="installations">
                {log.installations.into_iter().map(installation_entry).collect_view()}
            </div>
            <nav class="pager" aria-label="Pages">
                <span class="muted">{format!("{} installations · page {page} of {pages}", log.total)}</span>
                {(page > 1).then(|| view! { <a href=page_href(page - 1, per_page, &log.query) rel="prev">"‹ Previous"</a> })}
                {(page < pages).then(|| view! { <a href=page_href(page + 1, per_page, &log.query) rel="next">"Next ›"</a> })}
                <span class="page-sizes">"Per page: " {sizes}</span>
            </nav>
        </main>
    }
    .into_any()
}

fn time_or_dash(t: &Option<String>) -> String {
    t.clone().unwrap_or_else(|| "—".into())
}

fn duration_or_dash(d: Option<i64>) -> String {
    d.map(format_duration).unwrap_or_else(|| "—".into())
}

fn installation_entry(i: InstallationSummary) -> AnyView {
    let total: i64 = i.products.iter().filter_map(|p| p.duration_seconds).sum();
    let has_products = !i.products.is_empty();
    let rows = i
        .products
        .iter()
        .map(|p| {
            let action = p.change_log_action();
            view! {
                <tr data-guid=p.guid.clone()>
                    <td>{p.label.clone()} " " <span class="version">{p.version.clone()}</span></td>
                    <td class=format!("action action-{}", action.to_lowercase().replace(' ', "-"))>{action}</td>
                    <td>{time_or_dash(&p.started_at)}</td>
                    <td>{time_or_dash(&p.finished_at)}</td>
                    <td>{duration_or_dash(p.duration_seconds)}</td>
                </tr>
            }
            .into_any()
        })
        .collect_view();
    let status_label = match i.status.as_str() {
        "succeeded" => "✓ Succeeded",
        "failed" => "✗ Failed",
        "running" => "… Running",
        _ => "?",
    };
    view! {
        <section class="installation-entry" data-id=i.id.to_string() data-status=i.status.clone()
            aria-label=format!("Installation {}", i.id)>
            <table class="data installation-head">
                <thead><tr><th>"Status"</th><th>"ID"</th><th>"User"</th><th>"Started"</th><th>"Finished"</th><th>"Duration"</th><th></th></tr></thead>
                <tbody>
                    <tr>
                        <td class=format!("run-status status-{}", i.status)>{status_label}</td>
                        <td>{i.id.to_string()}</td>
                        <td>{i.user_name.clone()}</td>
                        <td>{i.started_at.clone()}</td>
                        <td>{time_or_dash(&i.finished_at)}</td>
                        <td>{duration_or_dash(i.duration_seconds)}</td>
                        <td><a href=format!("/installations/{}", i.id)>"Logs"</a></td>
                    </tr>
                </tbody>
            </table>
            {i.result.clone().filter(|_| i.status == "failed").map(|r| view! { <p class="form-error">{r}</p> })}
            {has_products.then(|| view! {
                <table class="data installation-products">
                    <thead><tr><th>"Product"</th><th>"Action"</th><th>"Started (UTC)"</th><th>"Finished (UTC)"</th><th>"Duration"</th></tr></thead>
                    <tbody>
                        {rows}
                        <tr class="total"><td colspan="4">"Total"</td><td>{format_duration(total)}</td></tr>
                    </tbody>
                </table>
            }.into_any())}
        </section>
    }
    .into_any()
}
