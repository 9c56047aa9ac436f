//! Import Product: uploads a `.pivotal` to the Ops Manager API endpoint
//! (`POST /api/v0/available_products`, multipart field `product[file]`) with a progress bar.
//! An XMLHttpRequest is used because `fetch` cannot report upload progress.

use leptos::prelude::*;

/// What the upload is doing, for the progress bar and the message under it.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportStatus {
    Idle,
    /// Percent sent.
    Uploading(u32),
    /// Sent; the server is checking the tile.
    Checking,
    Done(String),
    /// Done, with warnings the answer carried: what Ops Manager tolerates in the metadata (lint
    /// warnings), then properties and jobs its releases' job specs do not declare. They inform;
    /// the import happened.
    Warned(String, AnswerWarnings),
    Failed(String),
}

/// The warnings of a successful import's answer; none for answers without them (stemcells).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnswerWarnings {
    /// `product.lint_warnings`.
    pub lint: Vec<String>,
    /// `product.job_spec_warnings`.
    pub job_spec: Vec<String>,
}

impl AnswerWarnings {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn of(body: &str) -> AnswerWarnings {
        let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let list = |pointer: &str| -> Vec<String> {
            parsed
                .as_ref()
                .and_then(|v| v.pointer(pointer))
                .and_then(|w| w.as_array())
                .map(|list| {
                    list.iter()
                        .filter_map(|w| w.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        AnswerWarnings {
            lint: list("/product/lint_warnings"),
            job_spec: list("/product/job_spec_warnings"),
        }
    }
}

/// `status` belongs to the page, not to this component: the dashboard redraws its product
/// lists (and this component with them) when an import finishes, and the outcome must outlive
/// that redraw, as must an upload still running while the lists are redrawn for another reason.
#[component]
pub fn ImportProduct(
    #[prop(into)] on_imported: Callback<()>,
    status: RwSignal<ImportStatus>,
) -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    let start = move |_| {
        #[cfg(feature = "hydrate")]
        upload::start(file_input, status, on_imported);
        #[cfg(not(feature = "hydrate"))]
        let _ = (file_input, on_imported);
    };
    let busy = move || {
        matches!(
            status.get(),
            ImportStatus::Uploading(_) | ImportStatus::Checking
        )
    };
    view! {
        <section class="import" aria-label="Import a product">
            <h2>"Import a product"</h2>
            <div class="import-row">
                <input type="file" accept=".pivotal" node_ref=file_input aria-label="Product file (.pivotal)"/>
                <button type="button" class="primary" on:click=start disabled=busy>"Import Product"</button>
            </div>
            {move || match status.get() {
                ImportStatus::Idle => None,
                ImportStatus::Uploading(percent) => Some(view! {
                    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
                        <div class="progress-bar" style=format!("width: {percent}%")></div>
                        <span>{format!("Uploading… {percent}%")}</span>
                    </div>
                }.into_any()),
                ImportStatus::Checking => Some(view! { <p class="notice">"Checking the tile…"</p> }.into_any()),
                ImportStatus::Done(text) => Some(view! { <p class="notice ok" role="status">{text}</p> }.into_any()),
                ImportStatus::Warned(text, warnings) => Some(view! {
                    <div class="notice warning import-warnings" role="status">
                        <p>{text}</p>
                        {(!warnings.lint.is_empty()).then(|| view! {
                            <p>"Its metadata has what Ops Manager tolerates; Tileworks reads it as Ops Manager does:"</p>
                            <ul>{warnings.lint.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                        })}
                        {(!warnings.job_spec.is_empty()).then(|| view! {
                            <p>"Its releases' job specs do not declare these, or could not be read (BOSH ignores undeclared properties; none of this blocks Apply Changes):"</p>
                            <ul>{warnings.job_spec.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                        })}
                    </div>
                }.into_any()),
                ImportStatus::Failed(text) => Some(view! { <pre class="notice error" role="alert">{text}</pre> }.into_any()),
            }}
        </section>
    }
}

/// Streaming uploads to the API with progress, shared with the Stemcell Library page.
#[cfg(feature = "hydrate")]
pub(crate) mod upload {
    use super::{AnswerWarnings, ImportStatus};
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    pub fn start(
        file_input: NodeRef<leptos::html::Input>,
        status: RwSignal<ImportStatus>,
        on_imported: Callback<()>,
    ) {
        let target = Target {
            url: "/api/v0/available_products",
            field: "product[file]",
            what: ".pivotal file",
            done: "Product imported.",
        };
        send(target, file_input, status, on_imported);
    }

    /// Where a file goes: the API route, its multipart field, and the page's words.
    pub struct Target {
        pub url: &'static str,
        pub field: &'static str,
        /// Named in "Choose a … first."
        pub what: &'static str,
        pub done: &'static str,
    }

    /// Posts the chosen file to `target` as multipart, reporting progress in `status`.
    pub fn send(
        target: Target,
        file_input: NodeRef<leptos::html::Input>,
        status: RwSignal<ImportStatus>,
        on_imported: Callback<()>,
    ) {
        let Some(input) = file_input.get_untracked() else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            status.set(ImportStatus::Failed(format!(
                "Choose a {} first.",
                target.what
            )));
            return;
        };
        let done = target.done;
        let result = (|| -> Result<(), wasm_bindgen::JsValue> {
            let form = web_sys::FormData::new()?;
            form.append_with_blob_and_filename(target.field, &file, &file.name())?;
            let xhr = web_sys::XmlHttpRequest::new()?;
            xhr.open("POST", target.url)?;

            let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
                move |ev: web_sys::ProgressEvent| {
                    if ev.length_computable() && ev.total() > 0.0 {
                        let percent = ((ev.loaded() / ev.total()) * 100.0).round() as u32;
                        status.set(if percent >= 100 {
                            ImportStatus::Checking
                        } else {
                            ImportStatus::Uploading(percent)
                        });
                    }
                },
            );
            xhr.upload()?
                .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            on_progress.forget();

            let done_xhr = xhr.clone();
            let on_load = Closure::<dyn FnMut()>::new(move || {
                let code = done_xhr.status().unwrap_or(0);
                let body = done_xhr.response_text().ok().flatten().unwrap_or_default();
                if (200..300).contains(&code) {
                    let warnings = AnswerWarnings::of(&body);
                    status.set(
                        if warnings.lint.is_empty() && warnings.job_spec.is_empty() {
                            ImportStatus::Done(done.into())
                        } else {
                            ImportStatus::Warned(done.into(), warnings)
                        },
                    );
                    on_imported.run(());
                } else {
                    status.set(ImportStatus::Failed(describe_failure(code, &body)));
                }
            });
            xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
            on_load.forget();

            let on_error = Closure::<dyn FnMut()>::new(move || {
                status.set(ImportStatus::Failed("The upload was interrupted.".into()));
            });
            xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            on_error.forget();

            status.set(ImportStatus::Uploading(0));
            xhr.send_with_opt_form_data(Some(&form))?;
            Ok(())
        })();
        if result.is_err() {
            status.set(ImportStatus::Failed(
                "The browser could not start the upload.".into(),
            ));
        }
    }

    /// The API answers `{"errors": {field: [messages]}}`; show every message with its field.
    fn describe_failure(code: u16, body: &str) -> String {
        let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let lines: Vec<String> = parsed
            .as_ref()
            .and_then(|v| v.get("errors"))
            .and_then(|e| e.as_object())
            .map(|errors| {
                errors
                    .iter()
                    .flat_map(|(field, messages)| {
                        let list = messages.as_array().cloned().unwrap_or_default();
                        list.into_iter().map(move |m| {
                            format!(
                                "{field}: {}",
                                m.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| m.to_string())
                            )
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if lines.is_empty() {
            format!("Import failed (HTTP {code}).")
        } else {
            format!("Import failed:\n{}", lines.join("\n"))
        }
    }
}
