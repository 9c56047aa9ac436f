//! The Stemcell Library over the Ops Manager API:
//!
//! - `POST /api/v0/stemcells`: multipart `stemcell[file]` (a stemcell `.tgz`, streamed to the
//!   stemcell store) and optional `stemcell[floating]` (`true` by default), as `om
//!   upload-stemcell` sends them → `{"stemcell": {file, name, os, version, infrastructure,
//!   hypervisor, …}, "existing": bool}`;
//! - `GET /api/v0/stemcells` (Tileworks): the library, `{"stemcells": [...]}`;
//!   `DELETE /api/v0/stemcells/:id` removes one;
//! - `GET/PATCH /api/v0/stemcell_assignments`: per product the staged, required and available
//!   versions of its main OS; PATCH `{"products": [{"guid", "staged_stemcell_version"}]}`;
//! - `GET/PATCH /api/v0/stemcell_associations`: the same for every OS a product uses, plus the
//!   `stemcell_library`; PATCH `{"products": [{"guid", "staged_stemcells": [{"os", "version"}]}]}`.
//!
//! PATCH requests are all or nothing; a version the product's `stemcell_criteria` do not accept
//! is a 422 naming the product and what it needs.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::{Extension, Json};
use serde_json::{json, Value};

use app::session::CurrentUser;

use super::json_body;
use crate::http::AppState;
use crate::stemcells::{ProductStemcells, Stemcell, FILE_FIELD};
use crate::{Error, Result};

/// The optional multipart field that says whether to move pins to the new stemcell.
pub const FLOATING_FIELD: &str = "stemcell[floating]";

fn library_entry(s: &Stemcell) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "os": s.os,
        "version": s.version,
        "infrastructure": s.infrastructure,
        "hypervisor": s.hypervisor,
        "file": s.filename,
        "light": s.light,
        "present_on_disk": s.present_on_disk,
        "sha256": s.sha256,
        "size": s.size,
        "imported_by": s.imported_by,
        "imported_at": s.imported_at,
    })
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    mut multipart: Multipart,
) -> Result<Json<Value>> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        Error::invalid(FILE_FIELD, format!("the upload could not be read: {e}"))
    };
    let mut upload = None;
    let mut floating = true;
    // om sends the file first and `stemcell[floating]` after it, so the file is streamed to
    // disk before the flag is known.
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some(FILE_FIELD) if upload.is_none() => {
                let mut file = state.stemcells.begin_upload(field.file_name()).await?;
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    file.write(&chunk).await?;
                }
                upload = Some(file);
            }
            Some(FLOATING_FIELD) => {
                let text = field.text().await.map_err(bad)?;
                floating = match text.trim() {
                    "true" | "" => true,
                    "false" => false,
                    other => {
                        return Err(Error::invalid(
                            FLOATING_FIELD,
                            format!("expected true or false, got '{other}'"),
                        ))
                    }
                };
            }
            _ => {}
        }
    }
    let upload = upload.ok_or_else(|| {
        Error::invalid(
            FILE_FIELD,
            format!("the multipart body has no '{FILE_FIELD}' field"),
        )
    })?;
    let imported = state
        .stemcells
        .finish_import(upload, floating, &caller.username)
        .await?;
    Ok(Json(json!({
        "stemcell": library_entry(&imported.stemcell),
        "existing": imported.existing,
        "assigned_to": imported.assigned_to,
    })))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>> {
    let list: Vec<Value> = state
        .stemcells
        .list()
        .await?
        .iter()
        .map(library_entry)
        .collect();
    Ok(Json(json!({ "stemcells": list })))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let id: i64 = id
        .parse()
        .map_err(|_| Error::NotFound(format!("stemcell {id}")))?;
    let removed = state.stemcells.delete(id, &caller.username).await?;
    Ok(Json(json!({ "deleted": library_entry(&removed) })))
}

fn assignment_entry(p: &ProductStemcells) -> Value {
    let main = p.uses.first();
    json!({
        "guid": p.guid,
        "identifier": p.identifier,
        "label": p.label,
        "staged_product_version": p.staged_product_version,
        "deployed_product_version": p.deployed_product_version,
        "is_staged_for_deletion": p.is_staged_for_deletion,
        "staged_stemcell_version": main.and_then(|u| u.staged_version.clone()),
        "deployed_stemcell_version": main.and_then(|u| u.deployed_version.clone()),
        "required_stemcell_os": main.map(|u| u.required_os.clone()),
        "required_stemcell_version": main.map(|u| u.required_version.clone()),
        "available_stemcell_versions": main.map(|u| u.available_versions.clone()).unwrap_or_default(),
        "stemcell_missing": main.is_some_and(|u| u.staged_version.is_none()),
    })
}

pub async fn assignments(State(state): State<AppState>) -> Result<Json<Value>> {
    let products: Vec<Value> = state
        .stemcells
        .product_stemcells()
        .await?
        .iter()
        .map(assignment_entry)
        .collect();
    Ok(Json(json!({ "products": products })))
}

/// The `products` list of a PATCH body.
fn products_of(body: &Value) -> Result<&Vec<Value>> {
    body.get("products")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid("products", "expected {\"products\": [...]}"))
}

fn text_at(item: &Value, key: &str, i: usize) -> Result<String> {
    item.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::invalid(format!("products[{i}].{key}"), "can't be blank"))
}

pub async fn assign(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    body: Bytes,
) -> Result<Json<Value>> {
    let body = json_body(&body)?;
    let mut requests = Vec::new();
    for (i, item) in products_of(&body)?.iter().enumerate() {
        requests.push((
            text_at(item, "guid", i)?,
            None,
            text_at(item, "staged_stemcell_version", i)?,
        ));
    }
    state
        .stemcells
        .assign(&requests, "staged_stemcell_version", &caller.username)
        .await?;
    assignments(State(state)).await
}

pub async fn associations(State(state): State<AppState>) -> Result<Json<Value>> {
    let library = state.stemcells.list().await?;
    let named = |os: &str, version: &str| {
        let name = library
            .iter()
            .filter(|s| s.os == os && s.version == version)
            .min_by_key(|s| s.light)
            .map(|s| s.name.clone());
        json!({"name": name, "os": os, "version": version})
    };
    let products: Vec<Value> = state
        .stemcells
        .product_stemcells()
        .await?
        .iter()
        .map(|p| {
            json!({
                "guid": p.guid,
                "identifier": p.identifier,
                "label": p.label,
                "staged_product_version": p.staged_product_version,
                "deployed_product_version": p.deployed_product_version,
                "is_staged_for_deletion": p.is_staged_for_deletion,
                "staged_stemcells": p.uses.iter()
                    .filter_map(|u| u.staged_version.as_deref().map(|v| named(&u.required_os, v)))
                    .collect::<Vec<_>>(),
                "deployed_stemcells": p.uses.iter()
                    .filter_map(|u| u.deployed_version.as_deref().map(|v| named(&u.required_os, v)))
                    .collect::<Vec<_>>(),
                "available_stemcells": p.uses.iter()
                    .flat_map(|u| u.available_versions.iter().map(|v| named(&u.required_os, v)))
                    .collect::<Vec<_>>(),
                "required_stemcells": p.uses.iter()
                    .map(|u| json!({
                        "os": u.required_os,
                        "version": u.required_version,
                        "enable_patch_security_updates": u.floating,
                    }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let stemcell_library: Vec<Value> = library
        .iter()
        .map(|s| {
            json!({
                "version": s.version,
                "os": s.os,
                "name": s.name,
                "infrastructure": s.infrastructure,
                "hypervisor": s.hypervisor,
                "light": s.light,
                "present_on_disk": s.present_on_disk,
            })
        })
        .collect();
    Ok(Json(
        json!({ "products": products, "stemcell_library": stemcell_library }),
    ))
}

pub async fn associate(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    body: Bytes,
) -> Result<Json<Value>> {
    let body = json_body(&body)?;
    let mut requests = Vec::new();
    for (i, item) in products_of(&body)?.iter().enumerate() {
        let guid = text_at(item, "guid", i)?;
        let staged = item
            .get("staged_stemcells")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::invalid(format!("products[{i}].staged_stemcells"), "expected a list")
            })?;
        for (j, s) in staged.iter().enumerate() {
            let at = |k: &str| {
                s.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        Error::invalid(
                            format!("products[{i}].staged_stemcells[{j}].{k}"),
                            "can't be blank",
                        )
                    })
            };
            requests.push((guid.clone(), Some(at("os")?), at("version")?));
        }
    }
    state
        .stemcells
        .assign(&requests, "staged_stemcells", &caller.username)
        .await?;
    Ok(Json(json!({})))
}
