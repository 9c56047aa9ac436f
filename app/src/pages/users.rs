//! The Users page, `/users` (administrators only: the gate refuses the page and its calls to
//! every other role, and the header links it only for them): users with their roles, created,
//! given another role, disabled, re-enabled, given a new password and deleted; API clients
//! listed and revoked. A change to a user ends that user's sessions and tokens; the server
//! refuses removing, demoting or disabling the last enabled administrator and says why.
//!
//! The page is rendered on the server with its data; its actions work once the browser has
//! hydrated it (`data-hydrated`), and until then their buttons are disabled, so a form cannot
//! submit a password anywhere by itself.

use leptos::prelude::*;
use leptos::server_fn::error::ServerFnError;

use crate::backend::users::{
    create_user, delete_user, load_users_page, reset_user_password, revoke_api_client, role_label,
    set_user_enabled, set_user_role, ApiClientSummary, UserSummary, UsersPage, MIN_PASSWORD_LEN,
    ROLES,
};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

/// What every action on the page shares: the data to reload, where to say what happened,
/// and whether the page has hydrated.
#[derive(Clone, Copy)]
struct Ctx {
    page: page_data::Data<Result<UsersPage, ServerFnError>>,
    notice: RwSignal<Option<Result<String, String>>>,
    hydrated: RwSignal<bool>,
}

impl Ctx {
    /// Runs a call; on success says `done` and reloads the lists, else shows the refusal.
    fn run<T: 'static>(
        self,
        done: String,
        call: impl std::future::Future<Output = Result<T, ServerFnError>> + 'static,
    ) {
        leptos::task::spawn_local(async move {
            match call.await {
                Ok(_) => {
                    self.notice.set(Some(Ok(done)));
                    self.page.refetch();
                }
                Err(err) => self.notice.set(Some(Err(server_message(&err)))),
            }
        });
    }

    fn busy(self) -> impl Fn() -> bool + Copy {
        move || !self.hydrated.get()
    }
}

#[component]
pub fn ManageUsersPage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let page = page_data::resource(|| (), |_| load_users_page());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let ctx = Ctx {
        page,
        notice: RwSignal::new(None),
        hydrated,
    };
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let body = match page.await {
                    Ok(data) => users_body(data, ctx).into_any(),
                    Err(err) => view! {
                        <main class="page narrow">
                            <h1>"Users"</h1>
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

fn users_body(data: UsersPage, ctx: Ctx) -> impl IntoView {
    let notice = move || {
        ctx.notice.get().map(|n| match n {
            Ok(text) => view! { <p class="notice ok" role="status">{text}</p> }.into_any(),
            Err(text) => view! { <p class="notice error" role="alert">{text}</p> }.into_any(),
        })
    };
    let you = data.you.clone();
    let rows = data
        .users
        .into_iter()
        .map(|u| {
            let me = u.username == you;
            user_row(u, me, ctx)
        })
        .collect_view();
    let clients = clients_section(data.clients, ctx);
    view! {
        <main class="page users" data-hydrated=move || ctx.hydrated.get().then_some("true")>
            <h1>"Users"</h1>
            <p class="muted">
                "Changing a user's role or password, disabling or deleting it ends its sessions \
                 and API tokens at once. There is always an enabled administrator."
            </p>
            {notice}
            <table class="data users-table">
                <thead>
                    <tr>
                        <th>"User"</th>
                        <th>"Role"</th>
                        <th>"State"</th>
                        <th>"Password"</th>
                        <th>"Actions"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {create_form(ctx)}
            {clients}
        </main>
    }
}

fn role_options(selected: String) -> impl IntoView {
    ROLES
        .iter()
        .map(|(name, label)| {
            let is = *name == selected;
            view! { <option value=*name selected=is>{*label}</option> }
        })
        .collect_view()
}

fn user_row(u: UserSummary, me: bool, ctx: Ctx) -> impl IntoView {
    let name = u.username.clone();
    let role = RwSignal::new(u.role.clone());
    let password = RwSignal::new(String::new());
    let armed = RwSignal::new(false);
    let enabled = u.enabled;
    let change_role = {
        let name = name.clone();
        move |_| {
            let (name, role) = (name.clone(), role.get_untracked());
            let done = format!(
                "{name} now has the role {}; its sessions ended.",
                role_label(&role)
            );
            ctx.run(done, set_user_role(name, role));
        }
    };
    let toggle = {
        let name = name.clone();
        move |_| {
            let name = name.clone();
            let done = if enabled {
                format!("{name} is disabled; its sessions ended.")
            } else {
                format!("{name} is enabled again.")
            };
            ctx.run(done, set_user_enabled(name, !enabled));
        }
    };
    let reset = {
        let name = name.clone();
        move |_| {
            let (name, new) = (name.clone(), password.get_untracked());
            password.set(String::new());
            let done = format!("{name} has a new password; its sessions ended.");
            ctx.run(done, reset_user_password(name, new));
        }
    };
    let remove = {
        let name = name.clone();
        move |_| {
            if !armed.get_untracked() {
                armed.set(true);
                return;
            }
            let name = name.clone();
            ctx.run(format!("{name} is deleted."), delete_user(name));
        }
    };
    let state = if enabled { "Enabled" } else { "Disabled" };
    view! {
        <tr data-user=name.clone() class:disabled=!enabled>
            <td>{name.clone()} {me.then_some(" (you)")}</td>
            <td>
                <select
                    aria-label=format!("Role of {name}")
                    on:change=move |ev| role.set(event_target_value(&ev))
                >
                    {role_options(u.role.clone())}
                </select>
                " "
                <button type="button" class="link change-role" disabled=ctx.busy() on:click=change_role>
                    "Change role"
                </button>
            </td>
            <td class="user-state">{state}</td>
            <td>
                <input
                    type="password"
                    autocomplete="new-password"
                    aria-label=format!("New password for {name}")
                    placeholder=format!("at least {MIN_PASSWORD_LEN} characters")
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                " "
                <button type="button" class="link" disabled=ctx.busy() on:click=reset>
                    "Reset password"
                </button>
            </td>
            <td class="actions">
                <button type="button" class="link" disabled=ctx.busy() on:click=toggle>
                    {if enabled { "Disable" } else { "Enable" }}
                </button>
                " "
                <button type="button" class="link danger" disabled=ctx.busy() on:click=remove>
                    {move || if armed.get() { "Confirm delete" } else { "Delete" }}
                </button>
            </td>
        </tr>
    }
}

fn create_form(ctx: Ctx) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new("restricted_view".to_owned());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, new, role) = (
            username.get_untracked(),
            password.get_untracked(),
            role.get_untracked(),
        );
        password.set(String::new());
        let done = format!("Created {name} with the role {}.", role_label(&role));
        username.set(String::new());
        ctx.run(done, create_user(name, new, role));
    };
    view! {
        <section class="create-user">
            <h2>"Create a user"</h2>
            // POST, and a submit button disabled until hydration: nothing is sent before the
            // page can send it itself.
            <form method="post" class="user-form" on:submit=submit>
                <label for="new-username">"Username"</label>
                <input
                    id="new-username"
                    type="text"
                    autocomplete="off"
                    required
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <label for="new-password">"Password"</label>
                <input
                    id="new-password"
                    type="password"
                    autocomplete="new-password"
                    required
                    minlength=MIN_PASSWORD_LEN.to_string()
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                <label for="new-role">"Role"</label>
                <select id="new-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    {role_options("restricted_view".to_owned())}
                </select>
                <button type="submit" class="primary" disabled=ctx.busy()>"Create user"</button>
            </form>
        </section>
    }
}

fn clients_section(clients: Vec<ApiClientSummary>, ctx: Ctx) -> impl IntoView {
    let body = if clients.is_empty() {
        view! {
            <p class="muted">
                "No API clients. Create one on the Tileworks machine with "
                <code>"tileworks admin create-client NAME --role ROLE"</code> "."
            </p>
        }
        .into_any()
    } else {
        let rows = clients
            .into_iter()
            .map(|c| {
                let name = c.name.clone();
                let revoke = {
                    let name = name.clone();
                    move |_| {
                        let name = name.clone();
                        ctx.run(
                            format!("API client {name} is revoked; its tokens ended."),
                            revoke_api_client(name),
                        );
                    }
                };
                view! {
                    <tr data-client=name.clone()>
                        <td>{name.clone()}</td>
                        <td>{role_label(&c.role)}</td>
                        <td>{c.created_at.clone()}</td>
                        <td>
                            <button type="button" class="link danger" disabled=ctx.busy() on:click=revoke>
                                "Revoke"
                            </button>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="data clients-table">
                <thead>
                    <tr><th>"Client"</th><th>"Role"</th><th>"Created"</th><th>"Action"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="api-clients">
            <h2>"API clients"</h2>
            {body}
        </section>
    }
}
