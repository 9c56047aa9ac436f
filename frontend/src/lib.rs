//! Browser entry point: hydrates the server-rendered page with the same `app` components.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Most pages are lazy routes whose code arrives in a split-off chunk (app's `lazy_pages!`):
    // hydration waits for the page's chunk instead of requiring all code up front.
    leptos::mount::hydrate_lazy(app::App);
}
