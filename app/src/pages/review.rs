//! Review Pending Changes (operator-ux-security.md §1.10): every product with its checkbox (the
//! BOSH Director always included), staged version, action, warnings (coloured like the
//! dashboard: orange while not deployable, green when deployable), its errands with one-time
//! overrides for this apply only, a See changes link, and Apply Changes, which posts the
//! selection as `POST /api/v0/installations` would and opens the installation's progress page.
//! A refusal lists its reasons under each product; a running installation is linked.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use serde_json::{json, Map, Value};

use crate::components::header::Header;
use crate::pages::product_settings::server_message;
use crate::review_backend::{apply_changes, load_review, ApplyOutcome, ReviewProduct};
use crate::session::get_current_user;

/// (product GUID, `run_post_deploy` or `run_pre_delete`, errand name).
type OverrideKey = (String, String, String);

/// What the Apply Changes button last produced, for the page to show.
#[derive(Clone, Debug, PartialEq)]
enum ApplyState {
    Idle,
    Refused(BTreeMap<String, Vec<String>>),
    Running(i64),
    Failed(String),
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let user = Resource::new(|| (), |_| get_current_user());
    let review = Resource::new(|| (), |_| load_review());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Ok(user) = user.await else {
                    return view! {
                        <main class="page narrow">
                            <p>"You are not logged in. " <a href="/login">"Log in"</a></p>
                        </main>
                    }
                    .into_any();
                };
                let body = match review.await {
                    Ok(page) => view! { <Review products=page.products running=page.running/> }.into_any(),
                    Err(err) => view! { <p class="form-error" role="alert">{server_message(&err)}</p> }.into_any(),
                };
                view! {
                    <Header user/>
                    <main class="page review">
                        <p class="breadcrumb"><a href="/">"Installation Dashboard"</a></p>
                        <h1>"Review Pending Changes"</h1>
                        {body}
                    </main>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn Review(products: Vec<ReviewProduct>, running: Option<i64>) -> impl IntoView {
    // Every product is selected to start with, as in Ops Manager.
    let optional: Vec<String> = products
        .iter()
        .filter(|p| !p.is_director)
        .map(|p| p.guid.clone())
        .collect();
    let selected = RwSignal::new(optional.iter().cloned().collect::<BTreeSet<String>>());
    let overrides = RwSignal::new(BTreeMap::<OverrideKey, String>::new());
    let state = RwSignal::new(match running {
        Some(id) => ApplyState::Running(id),
        None => ApplyState::Idle,
    });
    let labels: BTreeMap<String, String> = products
        .iter()
        .map(|p| (p.guid.clone(), p.label.clone()))
        .collect();

    let all_count = optional.len();
    let all_selected = move || selected.with(|s| s.len() == all_count);
    let everything = optional.clone();
    let toggle_all = move |checked: bool| {
        selected.set(if checked {
            everything.iter().cloned().collect()
        } else {
            BTreeSet::new()
        });
    };

    let apply = Action::new(move |(products, errands): &(String, String)| {
        apply_changes(products.clone(), errands.clone())
    });
    let pending = apply.pending();
    Effect::new(move |_| {
        let Some(outcome) = apply.value().get() else {
            return;
        };
        match outcome {
            Ok(ApplyOutcome::Started { id }) => {
                let navigate = leptos_router::hooks::use_navigate();
                navigate(&format!("/installations/{id}"), Default::default());
            }
            Ok(ApplyOutcome::Refused { reasons }) => state.set(ApplyState::Refused(reasons)),
            Ok(ApplyOutcome::Running { id }) => state.set(ApplyState::Running(id)),
            Err(err) => state.set(ApplyState::Failed(server_message(&err))),
        }
    });
    let on_apply = move |_| {
        let chosen: Vec<String> = selected.get_untracked().into_iter().collect();
        let errands = errand_overrides(&chosen, &overrides.get_untracked());
        let products = serde_json::to_string(&chosen).unwrap_or_else(|_| "[]".into());
        state.set(ApplyState::Idle);
        apply.dispatch((products, errands.to_string()));
    };

    // Set once hydrated (effects only run in the browser): the browser tests wait for it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let refusal_of = move |guid: String| {
        move || match state.get() {
            ApplyState::Refused(reasons) => reasons.get(&guid).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    };

    view! {
        <div class="review-layout" data-hydrated=move || hydrated.get().then_some("true")>
            <label class="choice select-all">
                <input type="checkbox" id="select-all"
                    prop:checked=all_selected
                    on:change=move |ev| toggle_all(event_target_checked(&ev))/>
                "Select All Products"
            </label>
            <ul class="review-products">
                {products.into_iter().map(|p| {
                    let refusal = refusal_of(p.guid.clone());
                    view! { <ProductRow product=p selected overrides refusal=Signal::derive(refusal)/> }.into_any()
                }).collect_view()}
            </ul>
            {move || match state.get() {
                ApplyState::Idle => None,
                ApplyState::Running(id) => Some(view! {
                    <p class="apply-notice running" role="status">
                        "An Apply Changes is running: "
                        <a href=format!("/installations/{id}")>{format!("installation {id}")}</a>
                        ". Wait for it to end before applying again."
                    </p>
                }.into_any()),
                ApplyState::Refused(reasons) => {
                    let labels = labels.clone();
                    Some(view! {
                        <div class="apply-notice refused" role="alert">
                            <p>"Apply Changes was refused; nothing was deployed:"</p>
                            <ul>
                                {reasons.into_iter().flat_map(|(key, messages)| {
                                    // Product reasons are listed under their product; others here.
                                    match labels.get(&key) {
                                        Some(label) => vec![format!(
                                            "{label}: {} {} (listed under the product)",
                                            messages.len(),
                                            if messages.len() == 1 { "problem" } else { "problems" },
                                        )],
                                        None => messages.into_iter().map(|m| format!("{key}: {m}")).collect(),
                                    }
                                }).map(|line| view! { <li>{line}</li> }).collect_view()}
                            </ul>
                        </div>
                    }.into_any())
                }
                ApplyState::Failed(message) => Some(view! {
                    <p class="form-error" role="alert">{message}</p>
                }.into_any()),
            }}
            <div class="form-actions">
                <button type="button" class="primary apply-changes" disabled=move || pending.get()
                    on:click=on_apply>
                    {move || if pending.get() { "Applying…" } else { "Apply Changes" }}
                </button>
            </div>
        </div>
    }
    .into_any()
}

/// The override map of `POST /api/v0/installations` for the chosen products.
fn errand_overrides(chosen: &[String], overrides: &BTreeMap<OverrideKey, String>) -> Value {
    let mut out = Map::new();
    for ((guid, phase, errand), choice) in overrides {
        if !chosen.contains(guid) {
            continue;
        }
        let value = match choice.as_str() {
            "on" => Value::Bool(true),
            "off" => Value::Bool(false),
            _ => Value::String("default".into()),
        };
        let phases = out.entry(guid.clone()).or_insert_with(|| json!({}));
        if let Some(list) = phases
            .as_object_mut()
            .map(|m| m.entry(phase.clone()).or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        {
            list.insert(errand.clone(), value);
        }
    }
    Value::Object(out)
}

fn action_text(action: &str) -> &'static str {
    match action {
        "install" => "Install",
        "update" => "Update",
        "delete" => "Delete",
        _ => "No pending changes",
    }
}

#[component]
fn ProductRow(
    product: ReviewProduct,
    selected: RwSignal<BTreeSet<String>>,
    overrides: RwSignal<BTreeMap<OverrideKey, String>>,
    refusal: Signal<Vec<String>>,
) -> impl IntoView {
    let deployable = product.is_deployable();
    let guid = product.guid.clone();
    let is_director = product.is_director;
    let checked = {
        let guid = guid.clone();
        move || is_director || selected.with(|s| s.contains(&guid))
    };
    let toggle = {
        let guid = guid.clone();
        move |ev| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                if on {
                    s.insert(guid.clone());
                } else {
                    s.remove(&guid);
                }
            });
        }
    };
    let changes_href = if is_director {
        "/director/changes".to_owned()
    } else {
        format!("/products/{guid}/changes")
    };
    let deleting = product.action == "delete";
    let errands: Vec<_> = product
        .errands
        .iter()
        .flat_map(|e| {
            let post = (!deleting)
                .then(|| {
                    e.post_deploy
                        .clone()
                        .map(|r| ("run_post_deploy", "Post-deploy", r))
                })
                .flatten();
            let pre = deleting
                .then(|| {
                    e.pre_delete
                        .clone()
                        .map(|r| ("run_pre_delete", "Pre-delete", r))
                })
                .flatten();
            post.into_iter()
                .chain(pre)
                .map(|(phase, phase_label, rule)| {
                    (e.name.clone(), e.label.clone(), phase, phase_label, rule)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let has_errands = !errands.is_empty();
    let known_warnings = product.config_warnings.clone();
    let label = product.label.clone();
    view! {
        <li class="review-product" class:deployable=deployable class:not-deployable=!deployable
            data-guid=guid.clone() data-product=product.name.clone() data-action=product.action.clone()>
            {view! { <div class="review-head">
                <input type="checkbox" class="deploy-product"
                    aria-label=format!("Deploy {label}")
                    prop:checked=checked
                    disabled=is_director
                    title=is_director.then_some("The BOSH Director is always part of Apply Changes")
                    on:change=toggle/>
                <h2>{product.label.clone()}</h2>
                <span class="version">{format!("v{}", product.version)}</span>
                {product.deployed_version.clone().filter(|d| *d != product.version).map(|d| view! {
                    <span class="version deployed">{format!("(deployed v{d})")}</span>
                })}
                <span class=format!("action action-{}", product.action)>{action_text(&product.action)}</span>
                <a class="see-changes" href=changes_href>"See changes"</a>
            </div> }.into_any()}
            {(!deployable).then(|| view! {
                <ul class="review-warnings">
                    {(!product.config_warnings.is_empty()).then(|| view! {
                        <li class="warning-title">"Configuration incomplete"</li>
                    })}
                    {product.config_warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}
                    {product.stemcell_warnings.iter().map(|w| view! { <li class="stemcell">{format!("Missing stemcell: {w}")}</li> }).collect_view()}
                </ul>
            }.into_any())}
            {deployable.then(|| view! { <p class="review-ok">"Ready to deploy"</p> })}
            {has_errands.then(|| view! {
                <details class="review-errands" open>
                    <summary>"Errands (this Apply Changes only)"</summary>
                    <table class="resources">
                        <tbody>
                            {errands.into_iter().map(|(name, elabel, phase, phase_label, rule)| {
                                let key: OverrideKey = (guid.clone(), phase.to_owned(), name.clone());
                                let read_key = key.clone();
                                let id = format!("errand-{guid}-{phase}-{name}");
                                view! {
                                    <tr class="errand" data-errand=name.clone()>
                                        <td><label for=id.clone()>{format!("{phase_label}: {elabel}")}</label></td>
                                        <td>
                                            <select id=id
                                                aria-label=format!("{phase_label} errand {elabel}")
                                                prop:value=move || overrides.with(|o| o.get(&read_key).cloned().unwrap_or_else(|| "default".into()))
                                                on:change=move |ev| {
                                                    let v = event_target_value(&ev);
                                                    overrides.update(|o| { o.insert(key.clone(), v); });
                                                }>
                                                <option value="default">{format!("Default ({rule})")}</option>
                                                <option value="on">"On"</option>
                                                <option value="off">"Off"</option>
                                            </select>
                                        </td>
                                    </tr>
                                }
                                .into_any()
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
            }.into_any())}
            {move || {
                let reasons = refusal.get();
                if reasons.is_empty() {
                    return None;
                }
                // What the warnings above already say is not repeated.
                let new: Vec<String> = reasons
                    .into_iter()
                    .filter(|r| !known_warnings.contains(r))
                    .collect();
                Some(view! {
                    <div class="review-refusal" role="alert">
                        <p>{if new.is_empty() {
                            "Apply Changes refused this product: complete the configuration listed above."
                        } else {
                            "Apply Changes refused this product:"
                        }}</p>
                        {(!new.is_empty()).then(|| view! {
                            <ul>{new.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                        })}
                    </div>
                })
            }}
        </li>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_take_oms_shape_for_chosen_products_only() {
        let mut o = BTreeMap::new();
        o.insert(
            ("p-1".into(), "run_post_deploy".into(), "smoke".into()),
            "on".into(),
        );
        o.insert(
            ("p-1".into(), "run_post_deploy".into(), "other".into()),
            "default".into(),
        );
        o.insert(
            ("p-1".into(), "run_pre_delete".into(), "del".into()),
            "off".into(),
        );
        o.insert(
            ("p-2".into(), "run_post_deploy".into(), "x".into()),
            "on".into(),
        );
        let v = errand_overrides(&["p-1".into()], &o);
        assert_eq!(
            v,
            json!({"p-1": {"run_post_deploy": {"smoke": true, "other": "default"},
                           "run_pre_delete": {"del": false}}})
        );
    }
}
