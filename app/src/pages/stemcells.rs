//! The Stemcell Library page, `/stemcells` (every role reads it; importing and pinning need the
//! Configure permission, which the gate checks on the upload API and on `assign_stemcell`):
//! the imported stemcells with the products that deploy with each, and every staged product's
//! stemcell needs — which OS and version its criteria ask for, what it deploys with now, and a
//! choice among the library versions that satisfy it.
//!
//! The page is whole on the server (both tables hold their data without the script); importing
//! (a streamed upload to `POST /api/v0/stemcells`, the route `om upload-stemcell` uses) and
//! pinning work once the page has hydrated (`data-hydrated`).

use leptos::prelude::*;

use crate::backend::stemcells::{
    assign_stemcell, load_stemcell_library, LibraryStemcell, ProductNeeds, StemcellLibraryPage,
};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::pages::dashboard::import::ImportStatus;
use crate::session::get_current_user;

#[component]
pub fn StemcellLibraryPage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let page = page_data::resource(|| (), |_| load_stemcell_library());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let notice = RwSignal::new(None::<Result<String, String>>);
    let import = RwSignal::new(ImportStatus::Idle);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = user.await.ok();
                let configure = user.as_ref().is_some_and(|u| u.permissions.configure);
                let header = user.map(|user| view! { <Header user/> });
                let body = match page.await {
                    Ok(data) => {
                        let ctx = Ctx { page, notice, hydrated, import, configure };
                        library_body(data, ctx).into_any()
                    }
                    Err(err) => view! {
                        <main class="page stemcells">
                            <h1>"Stemcell Library"</h1>
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

/// What the page's parts share.
#[derive(Clone, Copy)]
struct Ctx {
    page: page_data::Data<Result<StemcellLibraryPage, ServerFnError>>,
    notice: RwSignal<Option<Result<String, String>>>,
    hydrated: RwSignal<bool>,
    import: RwSignal<ImportStatus>,
    /// The role may import and pin (the gate decides regardless).
    configure: bool,
}

fn library_body(data: StemcellLibraryPage, ctx: Ctx) -> impl IntoView {
    let notice = move || {
        ctx.notice.get().map(|n| match n {
            Ok(text) => view! { <p class="notice ok" role="status">{text}</p> }.into_any(),
            Err(text) => view! { <p class="notice error" role="alert">{text}</p> }.into_any(),
        })
    };
    let stemcells = if data.stemcells.is_empty() {
        view! { <p class="muted empty">"No stemcell is imported yet."</p> }.into_any()
    } else {
        let rows = data.stemcells.into_iter().map(stemcell_row).collect_view();
        view! {
            <table class="data stemcells-table">
                <thead>
                    <tr>
                        <th>"Stemcell"</th>
                        <th>"OS"</th>
                        <th>"Version"</th>
                        <th>"Kind"</th>
                        <th>"Used by"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let products = if data.products.is_empty() {
        view! { <p class="muted empty">"No product is staged."</p> }.into_any()
    } else {
        let rows = data
            .products
            .into_iter()
            .map(|p| product_rows(p, ctx))
            .collect_view();
        view! {
            <table class="data stemcell-needs">
                <thead>
                    <tr>
                        <th>"Product"</th>
                        <th>"Needs"</th>
                        <th>"Deploys with"</th>
                        <th>"Deployed"</th>
                        <th>"Assign"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <main class="page stemcells" data-hydrated=move || ctx.hydrated.get().then_some("true")>
            <h1>"Stemcell Library"</h1>
            <p class="muted">
                "Stemcells are the base images BOSH builds every VM from. Each product's stemcell \
                 criteria say which OS and version it needs; Apply Changes uploads the stemcell \
                 each product deploys with to the Director."
            </p>
            {notice}
            {ctx.configure.then(|| import_form(ctx))}
            <section aria-label="Imported stemcells">
                <h2>"Imported stemcells"</h2>
                {stemcells}
            </section>
            <section aria-label="Products and their stemcells">
                <h2>"Products"</h2>
                {products}
            </section>
        </main>
    }
}

fn stemcell_row(s: LibraryStemcell) -> impl IntoView {
    let kind = if s.light {
        "light (manifest only)"
    } else {
        "full"
    };
    let used_by = if s.used_by.is_empty() {
        "—".to_string()
    } else {
        s.used_by.join(", ")
    };
    let key = format!("{} {}", s.os, s.version);
    view! {
        <tr data-stemcell=key>
            <td>{s.name}<br/><span class="muted">{s.filename}</span></td>
            <td>{s.os}</td>
            <td>{s.version}</td>
            <td>{kind}</td>
            <td class="used-by">{used_by}</td>
        </tr>
    }
}

fn product_rows(p: ProductNeeds, ctx: Ctx) -> impl IntoView {
    if p.needs.is_empty() {
        return view! {
            <tr data-product=p.guid.clone()>
                <td>{p.label} " " <span class="muted">{p.version}</span></td>
                <td colspan="4" class="muted">"Needs no stemcell."</td>
            </tr>
        }
        .into_any();
    }
    p.needs
        .into_iter()
        .map(|need| {
            let requirement = format!(
                "{} {}{}",
                need.os,
                need.required_version,
                if need.floating {
                    " or a later patch"
                } else {
                    " exactly"
                }
            );
            let staged = match &need.staged_version {
                Some(v) => {
                    view! { <span class="staged">{format!("{} {v}", need.os)}</span> }.into_any()
                }
                None => view! { <span class="missing">"Missing: import one"</span> }.into_any(),
            };
            let deployed = need
                .deployed_version
                .clone()
                .map(|v| format!("{} {v}", need.os))
                .unwrap_or_else(|| "—".into());
            let assign = assign_control(&p.guid, &need.os, &need, ctx);
            view! {
                <tr data-product=p.guid.clone() data-os=need.os.clone()>
                    <td>{p.label.clone()} " " <span class="muted">{p.version.clone()}</span></td>
                    <td>{requirement}</td>
                    <td>{staged}</td>
                    <td>{deployed}</td>
                    <td>{assign}</td>
                </tr>
            }
        })
        .collect_view()
        .into_any()
}

fn assign_control(
    guid: &str,
    os: &str,
    need: &crate::backend::stemcells::StemcellNeed,
    ctx: Ctx,
) -> AnyView {
    if !ctx.configure {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    if need.available_versions.is_empty() {
        return view! { <span class="muted">"No imported stemcell fits"</span> }.into_any();
    }
    let chosen = RwSignal::new(
        need.staged_version
            .clone()
            .or_else(|| need.available_versions.last().cloned())
            .unwrap_or_default(),
    );
    let options = need
        .available_versions
        .iter()
        .map(|v| {
            let selected = need.staged_version.as_deref() == Some(v.as_str());
            view! { <option value=v.clone() selected=selected>{v.clone()}</option> }
        })
        .collect_view();
    let (guid, os) = (guid.to_string(), os.to_string());
    let label = format!("{os} version");
    let on_assign = move |_| {
        let (guid, os, version) = (guid.clone(), os.clone(), chosen.get_untracked());
        let done = format!("{os} {version} assigned.");
        // One outcome shows at a time: the last import's goes.
        ctx.import.set(ImportStatus::Idle);
        leptos::task::spawn_local(async move {
            match assign_stemcell(guid, os, version).await {
                Ok(()) => {
                    ctx.notice.set(Some(Ok(done)));
                    ctx.page.refetch();
                }
                Err(err) => ctx.notice.set(Some(Err(server_message(&err)))),
            }
        });
    };
    view! {
        <span class="assign">
            <select aria-label=label on:change=move |ev| chosen.set(event_target_value(&ev))>
                {options}
            </select>
            <button type="button" disabled=move || !ctx.hydrated.get() on:click=on_assign>
                "Assign"
            </button>
        </span>
    }
    .into_any()
}

fn import_form(ctx: Ctx) -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    let status = ctx.import;
    let start = move |_| {
        // One outcome shows at a time: the last assignment's goes.
        ctx.notice.set(None);
        #[cfg(feature = "hydrate")]
        {
            use crate::pages::dashboard::import::upload;
            let target = upload::Target {
                url: "/api/v0/stemcells",
                field: "stemcell[file]",
                what: "stemcell (.tgz)",
                done: "Stemcell imported.",
            };
            let reload = Callback::new(move |()| ctx.page.refetch());
            upload::send(target, file_input, status, reload);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (file_input, status);
    };
    let busy = move || {
        !ctx.hydrated.get()
            || matches!(
                status.get(),
                ImportStatus::Uploading(_) | ImportStatus::Checking
            )
    };
    view! {
        <section class="import" aria-label="Import a stemcell">
            <h2>"Import a stemcell"</h2>
            <div class="import-row">
                <input type="file" accept=".tgz,.tar.gz" node_ref=file_input aria-label="Stemcell file (.tgz)"/>
                <button type="button" class="primary" on:click=start disabled=busy>"Import Stemcell"</button>
            </div>
            {move || match status.get() {
                ImportStatus::Idle => None,
                ImportStatus::Uploading(percent) => Some(view! {
                    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
                        <div class="progress-bar" style=format!("width: {percent}%")></div>
                        <span>{format!("Uploading… {percent}%")}</span>
                    </div>
                }.into_any()),
                ImportStatus::Checking => Some(view! { <p class="notice">"Reading the stemcell…"</p> }.into_any()),
                ImportStatus::Done(text) | ImportStatus::Warned(text, _) => Some(view! { <p class="notice ok" role="status">{text}</p> }.into_any()),
                ImportStatus::Failed(text) => Some(view! { <pre class="notice error" role="alert">{text}</pre> }.into_any()),
            }}
        </section>
    }
}
