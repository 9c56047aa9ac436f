//! The broker's refusals in the Open Service Broker API's terms (status, the spec's error code
//! where it names one, ODB's wording where ODB has one), as [`crate::Error::Osb`].

use crate::Error;

fn osb(status: u16, error: Option<&str>, description: impl Into<String>) -> Error {
    Error::Osb {
        status,
        error: error.map(str::to_owned),
        description: description.into(),
    }
}

/// 422 `AsyncRequired`: every operation of this broker is asynchronous.
pub fn async_required() -> Error {
    osb(
        422,
        Some("AsyncRequired"),
        "This service plan requires client support for asynchronous service operations.",
    )
}

/// 422 `ConcurrencyError`: the instance has an operation in progress.
pub fn concurrency() -> Error {
    osb(
        422,
        Some("ConcurrencyError"),
        "An operation is in progress for your service instance. Please try again later.",
    )
}

/// 422 `PlanChangeNotSupported`.
pub fn plan_change_not_supported(from: &str, to: &str) -> Error {
    osb(
        422,
        Some("PlanChangeNotSupported"),
        format!("plan_id: the plan cannot change from {from} to {to} (the plan is not updatable)"),
    )
}

/// 422 `MaintenanceInfoConflict`.
pub fn maintenance_info_conflict(asked: &str, offered: &str) -> Error {
    osb(
        422,
        Some("MaintenanceInfoConflict"),
        format!(
            "maintenance_info.version: {asked} is not the version this plan offers ({offered})"
        ),
    )
}

/// 400 for a request the broker cannot read, naming the field.
pub fn bad_request(field: &str, message: impl std::fmt::Display) -> Error {
    osb(400, None, format!("{field}: {message}"))
}

/// 422 for a value the broker or the service adapter refuses, naming the field.
pub fn invalid(field: &str, message: impl std::fmt::Display) -> Error {
    osb(422, None, format!("{field}: {message}"))
}

/// 409: the id is taken by something else.
pub fn conflict(message: impl Into<String>) -> Error {
    osb(409, None, message)
}

/// 410 Gone (deprovision or unbind of something that does not exist).
pub fn gone() -> Error {
    osb(410, None, "")
}

/// 404 with a description.
pub fn not_found(message: impl Into<String>) -> Error {
    osb(404, None, message)
}

/// 422 naming the quota that is used up and how many instances count against it.
pub fn quota(which: &str, limit: i64, count: i64) -> Error {
    osb(
        422,
        Some("QuotaExceeded"),
        format!(
            "{which} instance limit exceeded: {count} of {limit} instances exist \
             (service_instance_limit {limit}); delete a cluster or ask your operator to raise the limit"
        ),
    )
}

/// A service-adapter refusal (`tiles::Error::Invalid` names the parameter) as a 422; other
/// adapter failures are the tile's fault, not the caller's.
pub fn from_adapter(e: tiles::Error) -> Error {
    match e {
        tiles::Error::Invalid { field, message } => invalid(&field, message),
        other => Error::Internal(format!("the service adapter failed: {other}")),
    }
}
