//! `Server-Timing` on the broker's answers: the broker's own time and the time it waited for the
//! Director, apart. A platform (or the cluster benchmark, `benches/clusters.rs`) sees where a
//! slow provision went without a profiler; the Director's share is counted by
//! [`crate::director_client::waiting`].

use std::future::Future;
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use axum::response::Response;

/// Runs a broker request and adds its `Server-Timing` header:
/// `broker;dur=<ms>;desc="…", director;dur=<ms>;desc="…"` (milliseconds, as the header's
/// `dur` is).
pub async fn broker(handling: impl Future<Output = Response>) -> Response {
    let started = Instant::now();
    let (mut response, director) = crate::director_client::waiting::counted(handling).await;
    let own = started.elapsed().saturating_sub(director);
    let value = format!(
        "broker;dur={:.2};desc=\"the broker's own work\", \
         director;dur={:.2};desc=\"waiting for the Director\"",
        ms(own),
        ms(director)
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
