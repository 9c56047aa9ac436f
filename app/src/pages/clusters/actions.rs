//! A cluster's actions on the Clusters page: resize (the worker count, checked against the
//! plan's maximum as typed), upgrade (the cluster rendered again from its plan as the deployed
//! PKS tile has it now) and delete, which asks for a confirmation first. Only offered to a
//! viewer who may manage the cluster; the server decides regardless.

use leptos::prelude::*;

use super::Ctx;
use crate::backend::clusters::{
    delete_cluster, resize_cluster, upgrade_cluster, worker_count, ClusterSummary,
};

/// The actions cell of one cluster (`max`: its plan's worker maximum, when known).
#[allow(non_snake_case)]
pub fn ClusterActions(c: ClusterSummary, max: Option<u64>, ctx: Ctx) -> AnyView {
    let name = c.name.clone();
    let workers = RwSignal::new(
        c.worker_instances
            .map(|n| n.to_string())
            .unwrap_or_default(),
    );
    let armed = RwSignal::new(false);
    let running = c.busy();
    let problem = move || max.and_then(|max| worker_count(&workers.get(), max).err());
    let resize = {
        let name = name.clone();
        move |_| {
            let (name, w) = (name.clone(), workers.get_untracked());
            let done = format!("Resizing {name} to {} workers.", w.trim());
            ctx.run(done, resize_cluster(name, w));
        }
    };
    let upgrade = {
        let name = name.clone();
        move |_| {
            let name = name.clone();
            ctx.run(format!("Upgrading {name}."), upgrade_cluster(name));
        }
    };
    let remove = {
        let name = name.clone();
        move |_| {
            if !armed.get_untracked() {
                armed.set(true);
                return;
            }
            armed.set(false);
            let name = name.clone();
            ctx.run(format!("Deleting {name}."), delete_cluster(name));
        }
    };
    let cancel = move |_| armed.set(false);
    let disabled = move || ctx.busy()() || running;
    view! {
        <div class="cluster-actions">
            <input
                class="resize-workers"
                type="number"
                min="1"
                aria-label=format!("Worker nodes of {name}")
                prop:value=move || workers.get()
                on:input=move |ev| workers.set(event_target_value(&ev))
            />
            <button
                type="button"
                class="link resize"
                disabled=move || disabled() || problem().is_some()
                on:click=resize
            >
                "Resize"
            </button>
            {move || problem().map(|m| view! { <span class="field-error" role="alert">{m}</span> })}
            " "
            <button
                type="button"
                class=if c.upgrade_available { "link upgrade available" } else { "link upgrade" }
                disabled=disabled
                on:click=upgrade
            >
                "Upgrade"
            </button>
            " "
            <button type="button" class="link danger delete" disabled=disabled on:click=remove>
                {let name = name.clone(); move || if armed.get() {
                    format!("Confirm: delete {name} and its VMs")
                } else {
                    "Delete".to_owned()
                }}
            </button>
            {move || armed.get().then(|| view! {
                " "
                <button type="button" class="link cancel" on:click=cancel>"Cancel"</button>
            })}
        </div>
    }
    .into_any()
}
