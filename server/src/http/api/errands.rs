//! `GET/PUT /api/v0/staged/products/:guid/errands`:
//! `{"errands": [{"name", "post_deploy", "pre_delete"}]}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::json;

use app::session::CurrentUser;

use super::{expected_version, json_body, may_write, saved, version_of, with_version};
use crate::http::AppState;
use crate::{Error, Result};

pub async fn show(State(state): State<AppState>, Path(guid): Path<String>) -> Result<Response> {
    let version = version_of(&state, &guid).await?;
    let errands = state.products.errands(&guid).await?;
    Ok(with_version(json!({ "errands": errands }), version))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(guid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    may_write(&caller)?;
    let body = json_body(&body)?;
    let expected = expected_version(&headers, &body)?;
    let errands = body
        .get("errands")
        .cloned()
        .ok_or_else(|| Error::invalid("errands", "can't be blank"))?;
    let done = state
        .products
        .set_errands(&guid, &errands, expected, &caller.username)
        .await?;
    Ok(saved(done))
}
