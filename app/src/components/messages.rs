//! How the pages word a failed server function.

use leptos::prelude::ServerFnError;

/// The text of a server function error, without the framework's prefix.
pub fn server_message(err: &ServerFnError) -> String {
    match err {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}
