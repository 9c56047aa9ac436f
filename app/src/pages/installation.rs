//! The Apply Changes progress page, `/installations/:id`: the overall status, one row per
//! product with its action, progress bar and status, and the installation log.
//!
//! The server renders the state so far; in the browser, a running installation is then followed
//! live through its server-sent-events stream (`/api/v0/installations/:id/events`, which the
//! session cookie authenticates): log lines, per-product progress, Director task events and
//! finally `finished`, after which the page reads the installation once more for its final
//! status and times. A finished installation's page shows its whole log and opens no stream.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::backend::installations::{
    format_duration, load_installation, InstallationDetail, InstallationSummary, LiveEvent,
    LogLine, ProductRunSummary,
};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

#[component]
pub fn InstallationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let user = page_data::resource(|| (), |_| get_current_user());
    let detail = page_data::resource(id, |id| async move {
        match id {
            Some(id) => load_installation(id).await,
            None => Err(ServerFnError::new("installation not found")),
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let body = match detail.await {
                    Ok(detail) => view! { <Progress detail/> }.into_any(),
                    Err(err) => view! {
                        <main class="page narrow">
                            <h1>"Installation not available"</h1>
                            <p class="form-error" role="alert">{server_message(&err)}</p>
                            <p><a href="/installations">"Change Log"</a></p>
                        </main>
                    }
                    .into_any(),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

/// The id of the Director's step in the events stream (installations/pipeline.rs).
const DIRECTOR_STEP: &str = "cloud_config";

/// The page's live state, updated by the events stream.
#[derive(Clone, Copy)]
struct Live {
    summary: RwSignal<InstallationSummary>,
    log: RwSignal<Vec<LogLine>>,
    /// Per product GUID: the Director task event last seen, as text.
    current: RwSignal<HashMap<String, String>>,
}

// The events stream is followed in the browser only.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl Live {
    fn apply(&self, event: LiveEvent) {
        match event {
            LiveEvent::Log { seq, line } => self.log.update(|log| {
                // A reconnecting stream repeats the log from the start.
                if log.last().is_none_or(|l| l.seq < seq) {
                    log.push(LogLine { seq, line });
                }
            }),
            LiveEvent::Progress { product, percent } => self.product(&product, |p| {
                p.progress = p.progress.max(percent);
                if p.status == "pending" {
                    p.status = "running".into();
                }
            }),
            // The Director's step: its cloud config, before every product.
            LiveEvent::StepStarted { id, .. } if id == DIRECTOR_STEP => self.director(|p| {
                if p.status == "pending" {
                    p.status = "running".into();
                }
            }),
            LiveEvent::StepFinished { id, status, .. } if id == DIRECTOR_STEP => {
                self.director(|p| {
                    if status == "succeeded" {
                        p.progress = 100;
                    }
                    p.status = status;
                })
            }
            LiveEvent::StepStarted {
                product: Some(product),
                ..
            } => self.product(&product, |p| {
                if p.status == "pending" {
                    p.status = "running".into();
                }
            }),
            LiveEvent::StepFinished {
                id,
                status,
                product: Some(product),
            } if id.ends_with(".deploy") => {
                self.product(&product, |p| {
                    if status == "succeeded" {
                        p.progress = 100;
                    }
                    p.status = status;
                });
                self.current.update(|c| {
                    c.remove(&product);
                });
            }
            LiveEvent::DirectorEvent { product, event } => {
                if let Some(text) = crate::backend::installations::director_event_text(&event) {
                    self.current.update(|c| {
                        c.insert(product, text);
                    });
                }
            }
            LiveEvent::Finished { status } => {
                self.summary.update(|s| s.status = status);
                self.current.update(HashMap::clear);
            }
            _ => {}
        }
    }

    fn director(&self, f: impl FnOnce(&mut ProductRunSummary)) {
        self.summary.update(|s| {
            if let Some(p) = s.products.iter_mut().find(|p| p.is_director) {
                f(p);
            }
        });
    }

    fn product(&self, guid: &str, f: impl FnOnce(&mut ProductRunSummary)) {
        self.summary.update(|s| {
            if let Some(p) = s.products.iter_mut().find(|p| p.guid == guid) {
                f(p);
            }
        });
    }
}

#[component]
fn Progress(detail: InstallationDetail) -> AnyView {
    let id = detail.installation.id;
    let running_at_render = detail.installation.status == "running";
    let live = Live {
        summary: RwSignal::new(detail.installation),
        log: RwSignal::new(detail.log),
        current: RwSignal::new(HashMap::new()),
    };
    // "true" once the browser follows the stream, "done" once it ended: browser tests wait for it.
    let stream_state = RwSignal::new(None::<&'static str>);
    // Effects run only in the browser, once the page is hydrated.
    Effect::new(move |_| {
        if running_at_render {
            follow(id, live, stream_state);
        }
    });
    // The log follows new lines while the operator is at its bottom, and stops following when
    // they scroll up to read (scrolling back down follows again).
    let log_box = NodeRef::<leptos::html::Pre>::new();
    let following = RwSignal::new(true);
    Effect::new(move |_| {
        live.log.track();
        if following.get_untracked() {
            if let Some(el) = log_box.get_untracked() {
                // After the new line is in the DOM (this effect runs after the render).
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    let status = move || live.summary.with(|s| s.status.clone());
    let products = move || {
        live.summary.with(|s| {
            s.products
                .iter()
                .cloned()
                .map(|p| product_row(p, live.current))
                .collect_view()
        })
    };
    let summary_line = move || {
        live.summary.with(|s| match s.status.as_str() {
            "running" => "Applying changes…".to_owned(),
            "succeeded" => "Changes applied".to_owned(),
            "failed" => match &s.result {
                Some(reason) => format!("Apply Changes failed: {reason}"),
                None => "Apply Changes failed".to_owned(),
            },
            other => other.to_owned(),
        })
    };
    let times = move || {
        live.summary.with(|s| {
            let mut out = format!("Started {} by {}", s.started_at, s.user_name);
            if let Some(f) = &s.finished_at {
                out.push_str(&format!(", finished {f}"));
            }
            if let Some(d) = s.duration_seconds {
                out.push_str(&format!(" ({})", format_duration(d)));
            }
            out
        })
    };
    view! {
        <main class="page installation" data-live=move || stream_state.get()>
            <p class="breadcrumb"><a href="/">"Installation Dashboard"</a> " › " <a href="/installations">"Change Log"</a> " › " {format!("Installation {id}")}</p>
            <h1>{format!("Apply Changes #{id}")}</h1>
            <section class=move || format!("install-status status-{}", status()) data-status=status aria-label="Status">
                <p class="install-summary" role="status">{summary_line}</p>
                <p class="muted">{times}</p>
                {move || (status() != "running").then(|| view! {
                    <p><a class="button" href="/installations">"View the Change Log"</a></p>
                })}
            </section>
            <section aria-label="Products">
                <h2>"Products"</h2>
                <table class="data install-products">
                    <thead><tr><th>"Product"</th><th>"Action"</th><th>"Progress"</th><th>"Status"</th></tr></thead>
                    <tbody>{products}</tbody>
                </table>
            </section>
            <section aria-label="Log">
                <h2>"Log"</h2>
                <pre class="install-log" node_ref=log_box data-lines=move || live.log.with(Vec::len)
                    data-following=move || following.get().to_string()
                    on:scroll=move |_| {
                        if let Some(el) = log_box.get_untracked() {
                            following.set(at_bottom(&el));
                        }
                    }>
                    <For each=move || live.log.get() key=|l| l.seq let:l>
                        <span class="log-line">{l.line}"\n"</span>
                    </For>
                </pre>
            </section>
        </main>
    }
    .into_any()
}

/// Whether a scrolled box shows its last line (within a few pixels).
fn at_bottom(el: &leptos::web_sys::Element) -> bool {
    el.scroll_height() - el.scroll_top() - el.client_height() <= 8
}

fn action_text(action: &str) -> &'static str {
    match action {
        "install" => "Install",
        "update" => "Update",
        "delete" => "Delete",
        _ => "No changes",
    }
}

fn product_row(p: ProductRunSummary, current: RwSignal<HashMap<String, String>>) -> AnyView {
    let guid = p.guid.clone();
    let step = move || current.with(|c| c.get(&guid).cloned());
    let width = format!("width: {}%", p.progress);
    view! {
        <tr data-guid=p.guid.clone() data-status=p.status.clone()>
            <td>{p.label.clone()} " " <span class="version">{p.version.clone()}</span></td>
            <td>{action_text(&p.action)}</td>
            <td>
                <div class="run-progress" role="progressbar" aria-label=format!("{} progress", p.label)
                    aria-valuemin="0" aria-valuemax="100" aria-valuenow=p.progress.to_string()>
                    <div class="run-progress-fill" style=width></div>
                </div>
                <span class="progress-text">{format!("{}%", p.progress)}</span>
                {move || step().map(|s| view! { <p class="progress-step muted">{s}</p> })}
            </td>
            <td class=format!("run-status status-{}", p.status)>{p.status.clone()}</td>
        </tr>
    }
    .into_any()
}

/// Follows the events stream in the browser (nothing happens on the server). On `finished`
/// the stream is closed and the installation read once more for its final times and result.
#[cfg(feature = "hydrate")]
fn follow(id: i64, live: Live, stream_state: RwSignal<Option<&'static str>>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(source) = web_sys::EventSource::new(&format!("/api/v0/installations/{id}/events"))
    else {
        return;
    };
    let source = StoredValue::new_local(Some(source));
    let names = [
        "log",
        "step_started",
        "step_finished",
        "progress",
        "director_event",
        "finished",
    ];
    for name in names {
        let callback =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
                let Some(text) = message.data().as_string() else {
                    return;
                };
                let Ok(event) = serde_json::from_str::<LiveEvent>(&text) else {
                    return;
                };
                let finished = matches!(event, LiveEvent::Finished { .. });
                live.apply(event);
                if finished {
                    source.update_value(|s| {
                        if let Some(s) = s.take() {
                            s.close();
                        }
                    });
                    leptos::task::spawn_local(async move {
                        if let Ok(detail) = load_installation(id).await {
                            live.summary.set(detail.installation);
                            live.log.update(|log| {
                                if detail.log.len() > log.len() {
                                    *log = detail.log;
                                }
                            });
                        }
                        stream_state.set(Some("done"));
                    });
                }
            });
        source.with_value(|s| {
            if let Some(s) = s {
                let _ = s.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
            }
        });
        // The listeners live as long as the page; the stream is closed on `finished` or when
        // the page goes away.
        callback.forget();
    }
    stream_state.set(Some("true"));
    on_cleanup(move || {
        source.try_update_value(|s| {
            if let Some(s) = s.take() {
                s.close();
            }
        });
    });
}

#[cfg(not(feature = "hydrate"))]
fn follow(_id: i64, _live: Live, _stream_state: RwSignal<Option<&'static str>>) {}
