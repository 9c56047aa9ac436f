//! The Installation Dashboard: the Director tile and the staged products.

use leptos::prelude::*;

use crate::components::header::Header;
use crate::session::get_current_user;

#[component]
pub fn Dashboard() -> impl IntoView {
    let user = Resource::new(|| (), |_| get_current_user());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(user) => view! {
                        <Header user/>
                        <main class="page dashboard">
                            <h1>"Installation Dashboard"</h1>
                            <section class="tiles" aria-label="Products">
                                <DirectorTile/>
                            </section>
                            <section class="empty-state" aria-label="Staged products">
                                <h2>"No products staged yet"</h2>
                                <p>
                                    "Import a product (a .pivotal file) and stage it to configure it here. "
                                    "The BOSH Director tile above is always present."
                                </p>
                            </section>
                        </main>
                    }
                    .into_any(),
                    Err(_) => view! {
                        <main class="page narrow">
                            <p>"You are not logged in. " <a href="/login">"Log in"</a></p>
                        </main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The Director tile (`p-bosh`), always first on the dashboard. Its settings arrive with the
/// Director configuration forms; until then it shows that it still needs configuring.
#[component]
fn DirectorTile() -> impl IntoView {
    view! {
        <article class="tile tile-incomplete" data-product="p-bosh">
            <h3>"BOSH Director"</h3>
            <p class="tile-state">"Configuration required"</p>
        </article>
    }
}
