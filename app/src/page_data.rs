//! The server data a page hydrates from: Leptos resources whose JSON the browser reads with the
//! same `serde_json` reader as a server function's answer.
//!
//! Leptos's default resource codec reads the JSON the server wrote into the page with
//! `serde_json::from_str`, while server functions read their answers with `from_slice`. Every
//! type a page both hydrates and fetches again (after a save, by polling) was therefore compiled
//! into the wasm twice, once per reader: half of `serde_json`'s share of the bundle, which was
//! its largest (issue 12, BENCHMARKS.md "Page loads"). [`Json`] reads with `from_slice` too.

use std::future::Future;

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

/// JSON as server functions speak it: written with `to_string`, read with `from_slice`.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A page's data: a resource carried in the server-rendered page as [`Json`].
pub type Data<T> = Resource<T, Json>;

/// [`Resource::new`] with the [`Json`] codec: `fetcher` runs on the server for the page and again
/// in the browser whenever `source` changes.
#[track_caller]
pub fn resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Data<T>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// [`OnceResource::new`] with the [`Json`] codec.
#[track_caller]
pub fn once<T>(value: impl Future<Output = T> + Send + 'static) -> OnceResource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    OnceResource::new_with_options(value, false)
}
