//! A deployed product's Credentials tab, `/products/:guid/credentials`: the credentials the
//! product was deployed with (reference and type), each with a **Link to Credential** action
//! for the roles that may see credentials, and the names of the BOSH variables the Director's
//! config server keeps for the deployment.
//!
//! The server renders the list only. A value is fetched when the operator clicks (the
//! [`reveal_credential`] server function, audited on the server), shown under its row, and
//! removed from the page again by **Hide**: no value is ever in the server-rendered HTML or in
//! the page's serialized resources.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::backend::credentials::{
    load_product_credentials, reveal_credential, CredentialReference, CredentialsPage,
    RevealedCredential,
};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

/// Where one Link to Credential stands.
#[derive(Clone, Debug, PartialEq)]
enum Reveal {
    /// Asked the server; no answer yet.
    Loading,
    Shown(RevealedCredential),
    Failed(String),
}

#[component]
pub fn ProductCredentialsTab() -> impl IntoView {
    let params = use_params_map();
    let guid = move || params.with(|p| p.get("guid").unwrap_or_default());
    let user = page_data::resource(|| (), |_| get_current_user());
    let page = page_data::resource(guid, load_product_credentials);
    // Set once the browser has hydrated the page (effects never run on the server): the
    // actions work from then on. Browser tests wait for it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let body = match page.await {
                    Ok(page) => view! { <CredentialsBody page hydrated/> }.into_any(),
                    Err(err) => view! {
                        <main class="page narrow">
                            <h1>"Credentials not available"</h1>
                            <p class="form-error" role="alert">{server_message(&err)}</p>
                            <p><a href="/">"Back to the Installation Dashboard"</a></p>
                        </main>
                    }
                    .into_any(),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

#[component]
fn CredentialsBody(page: CredentialsPage, hydrated: RwSignal<bool>) -> AnyView {
    let settings = if page.director {
        "/director".to_owned()
    } else {
        format!("/products/{}/settings", page.guid)
    };
    let here = format!("/products/{}/credentials", page.guid);
    let status = (!page.director).then(|| {
        view! { <a href=format!("/products/{}/status", page.guid)>"Status"</a> }
    });
    let revealed = RwSignal::new(HashMap::<String, Reveal>::new());
    let content = if !page.deployed {
        view! {
            <p class="empty-state not-deployed">
                "Not deployed yet. Apply Changes to deploy this product; its credentials show here afterwards."
            </p>
        }
        .into_any()
    } else {
        let table = if page.credentials.is_empty() {
            view! { <p class="muted">"This product has no credentials."</p> }.into_any()
        } else {
            let may_reveal = page.may_reveal;
            let rows = page
                .credentials
                .iter()
                .cloned()
                .map(|c| credential_rows(c, &page.guid, may_reveal, revealed))
                .collect_view();
            view! {
                <table class="data credentials-table">
                    <thead>
                        <tr>
                            <th>"Credential"</th>
                            <th>"Type"</th>
                            {may_reveal.then(|| view! { <th>"Action"</th> })}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        };
        let note = (!page.may_reveal).then(|| {
            view! {
                <p class="muted credentials-restricted">
                    "Your role may not see credential values."
                </p>
            }
        });
        let variables = (!page.director)
            .then(|| variables_section(page.variables.clone(), page.variables_error.clone()));
        view! { {note} {table} {variables} }.into_any()
    };
    let version = page
        .version
        .clone()
        .map(|v| view! { <span class="version">{v}</span> });
    view! {
        <main class="page product-credentials" data-hydrated=move || hydrated.get().then_some("true")>
            <p class="breadcrumb"><a href="/">"Installation Dashboard"</a> " › "
                <a href=settings.clone()>{page.label.clone()}</a> " › Credentials"</p>
            <h1>{page.label.clone()} " — Credentials " {version}</h1>
            <nav class="tabs" aria-label="Product">
                <a href=settings>"Settings"</a>
                {status}
                <a class="active" aria-current="page" href=here>"Credentials"</a>
            </nav>
            {content}
        </main>
    }
    .into_any()
}

/// A credential's row and, while it is revealed, the row with its value under it.
fn credential_rows(
    c: CredentialReference,
    guid: &str,
    may_reveal: bool,
    revealed: RwSignal<HashMap<String, Reveal>>,
) -> AnyView {
    let reference = c.reference.clone();
    let action = may_reveal.then(|| {
        view! {
            <td class="action">
                <RevealAction guid=guid.to_owned() reference=reference.clone() revealed/>
            </td>
        }
    });
    let columns = if may_reveal { "3" } else { "2" };
    let key = reference.clone();
    let value_row = move || {
        let state = revealed.with(|m| m.get(&key).cloned())?;
        let cell = match state {
            Reveal::Loading => view! {
                <span class="revealing" role="status"><span class="spinner" aria-hidden="true"></span>" Fetching…"</span>
            }
            .into_any(),
            Reveal::Failed(why) => view! { <span class="form-error" role="alert">{why}</span> }.into_any(),
            Reveal::Shown(credential) => {
                let fields = credential
                    .fields
                    .into_iter()
                    .map(|f| {
                        view! {
                            <dt>{f.name.clone()}</dt>
                            <dd><pre class="credential-field" data-field=f.name>{f.value}</pre></dd>
                        }
                    })
                    .collect_view();
                view! { <dl class="credential-fields">{fields}</dl> }.into_any()
            }
        };
        Some(view! {
            <tr class="credential-value" data-value-of=key.clone()>
                <td colspan=columns>{cell}</td>
            </tr>
        })
    };
    view! {
        <tr data-reference=reference.clone()>
            <td><code>{reference.clone()}</code></td>
            <td>{c.credential_type.clone()}</td>
            {action}
        </tr>
        {value_row}
    }
    .into_any()
}

/// Link to Credential, which turns into Hide while the value shows.
#[component]
fn RevealAction(
    guid: String,
    reference: String,
    revealed: RwSignal<HashMap<String, Reveal>>,
) -> impl IntoView {
    let key = reference.clone();
    let reveal = move |_| {
        let (guid, reference) = (guid.clone(), reference.clone());
        revealed.update(|m| {
            m.insert(reference.clone(), Reveal::Loading);
        });
        leptos::task::spawn_local(async move {
            let next = match reveal_credential(guid, reference.clone()).await {
                Ok(credential) => Reveal::Shown(credential),
                Err(e) => Reveal::Failed(server_message(&e)),
            };
            // Hidden again meanwhile: keep it hidden.
            revealed.try_update(|m| {
                if m.contains_key(&reference) {
                    m.insert(reference, next);
                }
            });
        });
    };
    move || {
        let open = revealed.with(|m| m.contains_key(&key));
        if open {
            let key = key.clone();
            view! {
                <button type="button" class="link hide-credential" on:click=move |_| {
                    revealed.update(|m| {
                        m.remove(&key);
                    });
                }>"Hide"</button>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="link reveal-credential" on:click=reveal.clone()>
                    "Link to Credential"
                </button>
            }
            .into_any()
        }
    }
}

fn variables_section(names: Vec<String>, error: Option<String>) -> AnyView {
    let body = if let Some(why) = error {
        view! { <p class="form-error" role="alert">{format!("The Director did not list them: {why}")}</p> }
            .into_any()
    } else if names.is_empty() {
        view! { <p class="muted">"The deployment has no config-server variables."</p> }.into_any()
    } else {
        let items = names
            .into_iter()
            .map(|n| view! { <li><code>{n}</code></li> })
            .collect_view();
        view! { <ul class="variable-names">{items}</ul> }.into_any()
    };
    view! {
        <section class="bosh-variables">
            <h2>"BOSH variables"</h2>
            <p class="muted">
                "Kept by the Director's config server (CredHub on a real Director). The Director API "
                "lists their names only; read a value with credhub on the Director."
            </p>
            {body}
        </section>
    }
    .into_any()
}
