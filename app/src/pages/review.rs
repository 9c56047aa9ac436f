//! Review Pending Changes (operator-ux-security.md §1.10): every product with its checkbox (the
//! BOSH Director always included), staged version, action, warnings (coloured like the
//! dashboard: orange while not deployable, green when deployable), its errands with one-time
//! overrides for this apply only, a See changes link, and Apply Changes, which posts the
//! selection as `POST /api/v0/installations` would and opens the installation's progress page.
//! A refusal lists its reasons under each product; a running installation is linked.
//!
//! Each product also lists what it **depends on** (`requires_product_versions`, resolved on the
//! server: green met, red incompatible or required and absent, gray optional and absent) and
//! its **Changes** (the items behind the action). Checking a product checks and locks the
//! dependencies that have pending changes, since Apply Changes refuses to deploy a product
//! without them. Errors (incomplete configuration, missing stemcell, unmet required
//! dependency) stop Apply Changes; warnings (an optional dependency at another version, errand
//! overrides for a product left out) stop it unless **Ignore warnings** is checked.
//! Products with pending changes start selected, the others do not; a product that cannot
//! deploy as configured starts unselected and says why, and Apply Changes stays disabled while
//! anything that cannot deploy (the Director included) is part of the run. Each problem names
//! the form and field it concerns and links there (`components::problems`).

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use serde_json::{json, Map, Value};

use crate::backend::review::{apply_changes, load_review, ApplyOutcome, ReviewProduct};
use crate::backend::Problem;
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::components::problems::ProblemItem;
use crate::page_data;

/// Product GUID → the products that force it into the run (it has pending changes and they
/// depend on it).
type Forced = BTreeMap<String, BTreeSet<String>>;
use crate::session::get_current_user;

/// (product GUID, `run_post_deploy` or `run_pre_delete`, errand name).
type OverrideKey = (String, String, String);

/// What the Apply Changes button last produced, for the page to show.
#[derive(Clone, Debug, PartialEq)]
enum ApplyState {
    Idle,
    /// Errors by product GUID (or request field), and warnings.
    Refused(BTreeMap<String, Vec<String>>, Vec<String>),
    Running(i64),
    Failed(String),
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let review = page_data::resource(|| (), |_| load_review());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Ok(user) = user.await else {
                    return crate::components::header::not_logged_in();
                };
                let body = match review.await {
                    Ok(page) => view! { <Review products=page.products running=page.running may_apply=user.permissions.apply/> }.into_any(),
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
fn Review(
    products: Vec<ReviewProduct>,
    running: Option<i64>,
    /// Whether the role may apply (the server refuses otherwise; the button says so early).
    may_apply: bool,
) -> impl IntoView {
    let optional: Vec<String> = products
        .iter()
        .filter(|p| !p.is_director)
        .map(|p| p.guid.clone())
        .collect();
    // Products with pending changes start selected, unless something stops their deploy (they
    // say why, and Apply Changes would refuse them); one without changes may be selected to
    // deploy it again as it is (to re-run its errands).
    let selected = RwSignal::new(
        products
            .iter()
            .filter(|p| !p.is_director && p.action != "unchanged" && p.is_deployable())
            .map(|p| p.guid.clone())
            .collect::<BTreeSet<String>>(),
    );
    // The products that cannot deploy as they are: Apply Changes stays disabled while one of
    // them is part of the run (the server refuses it regardless).
    let undeployable: BTreeMap<String, String> = products
        .iter()
        .filter(|p| !p.is_deployable())
        .map(|p| (p.guid.clone(), p.label.clone()))
        .collect();
    let director_guid = products
        .iter()
        .find(|p| p.is_director)
        .map(|p| p.guid.clone());
    let dependencies: BTreeMap<String, Vec<String>> = products
        .iter()
        .map(|p| {
            (
                p.guid.clone(),
                p.forced_dependencies().map(str::to_owned).collect(),
            )
        })
        .collect();
    let forced = Memo::new(move |_| selected.with(|s| forced_by(&dependencies, s)));
    // What Apply Changes deploys: the operator's choice and what it forces.
    let effective = move || {
        let mut all = selected.get();
        all.extend(forced.with(|f| f.keys().cloned().collect::<Vec<_>>()));
        all
    };
    // The labels of what stops Apply Changes now: the Director (always part of it) and the
    // chosen products that are not deployable.
    let blocking = Memo::new(move |_| {
        let chosen = effective();
        undeployable
            .iter()
            .filter(|(guid, _)| chosen.contains(*guid) || director_guid.as_ref() == Some(*guid))
            .map(|(_, label)| label.clone())
            .collect::<Vec<_>>()
    });
    let ignore_warnings = RwSignal::new(false);
    // Warnings for the current selection, as the server would find them.
    let warning_sources: Vec<(String, Vec<String>)> = products
        .iter()
        .map(|p| {
            let optional_deps = p
                .depends_on
                .iter()
                .filter(|d| d.warns())
                .map(|d| {
                    format!(
                        "{}: optional dependency {} {}: {}",
                        p.label,
                        d.name,
                        d.requirement,
                        d.note.clone().unwrap_or_default()
                    )
                })
                .collect();
            (p.guid.clone(), optional_deps)
        })
        .collect();
    let page_warnings = move || {
        let chosen = effective();
        let mut out = Vec::new();
        for (guid, optional_deps) in &warning_sources {
            if !chosen.contains(guid) {
                continue;
            }
            out.extend(optional_deps.iter().cloned());
        }
        out
    };
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
    let all_selected = move || effective().len() == all_count;
    let everything = optional.clone();
    let toggle_all = move |checked: bool| {
        selected.set(if checked {
            everything.iter().cloned().collect()
        } else {
            BTreeSet::new()
        });
    };

    let apply = Action::new(
        move |(products, errands, ignore): &(String, String, bool)| {
            apply_changes(products.clone(), errands.clone(), *ignore)
        },
    );
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
            Ok(ApplyOutcome::Refused { reasons, warnings }) => {
                state.set(ApplyState::Refused(reasons, warnings))
            }
            Ok(ApplyOutcome::Running { id }) => state.set(ApplyState::Running(id)),
            Err(err) => state.set(ApplyState::Failed(server_message(&err))),
        }
    });
    let on_apply = move |_| {
        let chosen: Vec<String> = untrack(effective).into_iter().collect();
        let errands = errand_overrides(&chosen, &overrides.get_untracked());
        let products = serde_json::to_string(&chosen).unwrap_or_else(|_| "[]".into());
        state.set(ApplyState::Idle);
        apply.dispatch((
            products,
            errands.to_string(),
            ignore_warnings.get_untracked(),
        ));
    };

    // Set once hydrated (effects only run in the browser): the browser tests wait for it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let refusal_of = move |guid: String| {
        move || match state.get() {
            ApplyState::Refused(reasons, _) => reasons.get(&guid).cloned().unwrap_or_default(),
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
                    let guid = p.guid.clone();
                    let forced_note = {
                        let labels = labels.clone();
                        move || {
                            forced.with(|f| {
                                f.get(&guid).map(|by| {
                                    let names: Vec<&str> = by
                                        .iter()
                                        .map(|g| labels.get(g).map(String::as_str).unwrap_or(g))
                                        .collect();
                                    format!(
                                        "Required by {}: it has pending changes, so it deploys in the same Apply Changes",
                                        names.join(", ")
                                    )
                                })
                            })
                        }
                    };
                    view! {
                        <ProductRow product=p selected overrides refusal=Signal::derive(refusal)
                            forced_note=Signal::derive(forced_note)/>
                    }.into_any()
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
                ApplyState::Refused(reasons, warnings) => {
                    let labels = labels.clone();
                    Some(view! {
                        <div class="apply-notice refused" role="alert">
                            <p>"Apply Changes was refused; nothing was deployed:"</p>
                            {(!warnings.is_empty()).then(|| view! {
                                <p class="refused-warnings-title">"Warnings (check Ignore warnings to apply anyway):"</p>
                                <ul class="refused-warnings">
                                    {warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                                </ul>
                            })}
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
            {move || {
                let warnings = page_warnings();
                let refused_with_warnings =
                    matches!(state.get(), ApplyState::Refused(_, ref w) if !w.is_empty());
                (!warnings.is_empty() || refused_with_warnings).then(|| view! {
                    <div class="review-apply-warnings" role="status">
                        <p class="warning-title">"Warnings"</p>
                        <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                        <label class="choice">
                            <input type="checkbox" id="ignore-warnings"
                                prop:checked=move || ignore_warnings.get()
                                on:change=move |ev| ignore_warnings.set(event_target_checked(&ev))/>
                            "Ignore warnings"
                        </label>
                    </div>
                })
            }}
            <p class="review-legend">
                "Errors (orange, listed under a product: incomplete or invalid configuration, a missing "
                "stemcell, a required dependency not met) stop Apply Changes. Warnings (an optional "
                "dependency at an incompatible version, errand overrides for a product left out) "
                "stop it unless Ignore warnings is checked. A selected product without pending "
                "changes is deployed again as it is."
            </p>
            <div class="form-actions">
                <button type="button" class="primary apply-changes"
                    disabled=move || pending.get() || !may_apply || !blocking.with(Vec::is_empty)
                    title=(!may_apply).then_some("Your role may review changes but not apply them")
                    on:click=on_apply>
                    {move || if pending.get() { "Applying…" } else { "Apply Changes" }}
                </button>
                {move || {
                    let blocked = blocking.get();
                    (!blocked.is_empty()).then(|| view! {
                        <p class="apply-blocked" role="status">
                            {format!(
                                "Apply Changes is disabled: {} cannot deploy as configured (see the problems listed under {}). Complete {}, or untick {}.",
                                blocked.join(", "),
                                if blocked.len() == 1 { "it" } else { "each" },
                                if blocked.len() == 1 { "it" } else { "them" },
                                if blocked.len() == 1 { "it" } else { "them" },
                            )}
                        </p>
                    })
                }}
            </div>
        </div>
    }
    .into_any()
}

/// The products `selected` forces into the run, each with the products that force it:
/// dependencies with pending changes, and theirs in turn.
fn forced_by(dependencies: &BTreeMap<String, Vec<String>>, selected: &BTreeSet<String>) -> Forced {
    let mut forced = Forced::new();
    let mut queue: Vec<String> = selected.iter().cloned().collect();
    let mut seen: BTreeSet<String> = selected.clone();
    while let Some(guid) = queue.pop() {
        for dep in dependencies.get(&guid).into_iter().flatten() {
            if *dep == guid {
                continue;
            }
            forced.entry(dep.clone()).or_default().insert(guid.clone());
            if seen.insert(dep.clone()) {
                queue.push(dep.clone());
            }
        }
    }
    // What the operator chose stays theirs to untick unless something else needs it.
    forced
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
    /// Why the product is forced into the run (locked), if it is.
    forced_note: Signal<Option<String>>,
) -> impl IntoView {
    let deployable = product.is_deployable();
    let guid = product.guid.clone();
    let is_director = product.is_director;
    let locked = move || forced_note.with(Option::is_some);
    let checked = {
        let guid = guid.clone();
        move || is_director || locked() || selected.with(|s| s.contains(&guid))
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
    let mut known_warnings: Vec<String> =
        product.config_warnings.iter().map(Problem::raw).collect();
    let blocking: Vec<String> = product
        .depends_on
        .iter()
        .filter(|d| d.blocks())
        .map(|d| {
            format!(
                "{} requires {} {}: {}",
                product.name,
                d.name,
                d.requirement,
                d.note.clone().unwrap_or_default()
            )
        })
        .collect();
    known_warnings.extend(blocking.iter().cloned());
    let depends_on = product.depends_on.clone();
    let changes = product.changes.clone();
    let label = product.label.clone();
    view! {
        <li class="review-product" class:deployable=deployable class:not-deployable=!deployable
            data-guid=guid.clone() data-product=product.name.clone() data-action=product.action.clone()>
            {view! { <div class="review-head">
                <input type="checkbox" class="deploy-product"
                    aria-label=format!("Deploy {label}")
                    prop:checked=checked
                    disabled=move || is_director || locked()
                    title=move || if is_director {
                        Some("The BOSH Director is always part of Apply Changes".to_owned())
                    } else {
                        forced_note.get()
                    }
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
                    {product.config_warnings.iter().cloned().map(|problem| view! { <ProblemItem problem/> }).collect_view()}
                    // The library's reasons already begin "Missing stemcell".
                    {product.stemcell_warnings.iter().map(|w| view! { <li class="stemcell">{w.clone()}</li> }).collect_view()}
                    {blocking.iter().map(|w| view! { <li class="dependency-error">{format!("Dependency not met: {w}")}</li> }).collect_view()}
                </ul>
            }.into_any())}
            {(!product.adapter_warnings.is_empty()).then(|| view! {
                <ul class="review-adapter-warnings">
                    <li class="warning-title">
                        "Plan settings its clusters will not carry (the service adapter's warnings; they do not block Apply Changes)"
                    </li>
                    {product.adapter_warnings.iter().cloned().map(|problem| view! { <ProblemItem problem/> }).collect_view()}
                </ul>
            })}
            {(!product.job_spec_warnings.is_empty()).then(|| view! {
                <ul class="review-job-spec-warnings">
                    <li class="warning-title">
                        "Manifest properties and jobs its releases' job specs do not declare (BOSH ignores such properties; they do not block Apply Changes)"
                    </li>
                    {product.job_spec_warnings.iter().cloned().map(|problem| view! { <ProblemItem problem/> }).collect_view()}
                </ul>
            })}
            {(!deployable && !is_director).then(|| {
                let guid = guid.clone();
                view! {
                    <p class="not-selected-note">
                        {move || if selected.with(|s| s.contains(&guid)) {
                            "Selected, but it cannot deploy until the problems above are solved: Apply Changes stays disabled while it is selected."
                        } else {
                            "Not selected: it cannot deploy until the problems above are solved."
                        }}
                    </p>
                }
            })}
            {move || forced_note.get().map(|note| view! { <p class="forced-note">{note}</p> })}
            {deployable.then(|| view! { <p class="review-ok">"Ready to deploy"</p> })}
            {(!depends_on.is_empty()).then(|| view! {
                <div class="review-depends">
                    <h3>"Depends on"</h3>
                    <ul class="depends-on">
                        {depends_on.into_iter().map(|d| {
                            let detail = match (d.state.as_str(), &d.found_version) {
                                ("satisfied", Some(v)) if d.pending => format!("v{v} staged, deployed in the same Apply Changes"),
                                ("satisfied", Some(v)) => format!("v{v}"),
                                _ => d.note.clone().unwrap_or_default(),
                            };
                            view! {
                                <li class=format!("dependency dep-{}", d.colour)
                                    data-dependency=d.name.clone() data-state=d.state.clone()
                                    data-colour=d.colour.clone()>
                                    <span class="dep-name">{format!("{} {}", d.name, d.requirement)}</span>
                                    {d.optional.then(|| view! { <span class="dep-optional">" (optional)"</span> })}
                                    <span class="dep-detail">{detail}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            })}
            {(!changes.is_empty()).then(|| view! {
                <div class="review-changes">
                    <h3>"Changes"</h3>
                    <ul>
                        {changes.into_iter().map(|c| view! {
                            <li data-kind=c.kind.clone()>{c.description.clone()}</li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
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

    #[test]
    fn selecting_a_product_forces_its_pending_dependencies_transitively() {
        let deps: BTreeMap<String, Vec<String>> = [
            ("app", vec!["db"]),
            ("db", vec!["storage"]),
            ("storage", vec![]),
            ("other", vec!["other"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
        let chosen = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
        let f = forced_by(&deps, &chosen(&["app"]));
        assert_eq!(f.keys().collect::<Vec<_>>(), vec!["db", "storage"]);
        assert_eq!(f["db"], chosen(&["app"]));
        assert_eq!(f["storage"], chosen(&["db"]));
        // A selected dependency is still locked while something needs it.
        let f = forced_by(&deps, &chosen(&["app", "db"]));
        assert_eq!(f["db"], chosen(&["app"]));
        assert!(forced_by(&deps, &chosen(&["storage", "other"])).is_empty());
        assert!(forced_by(&deps, &BTreeSet::new()).is_empty());
    }
}
