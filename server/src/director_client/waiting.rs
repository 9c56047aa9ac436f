//! How long the current request has waited for the Director. The broker's answers carry it in
//! `Server-Timing` (`http/server_timing.rs`), so an operator — and the cluster benchmark — can
//! tell the broker's own time from the Director's. Counted only inside [`counted`]; a call made
//! anywhere else is not counted and costs nothing.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

tokio::task_local! {
    static WAITED: Cell<Duration>;
}

/// Runs `work`, returning its output and how long it waited for the Director's answers.
pub async fn counted<F: Future>(work: F) -> (F::Output, Duration) {
    WAITED
        .scope(Cell::new(Duration::ZERO), async {
            let output = work.await;
            (output, WAITED.with(Cell::get))
        })
        .await
}

/// Adds `waited` to the current [`counted`] scope, if there is one.
pub(super) fn add(waited: Duration) {
    let _ = WAITED.try_with(|w| w.set(w.get() + waited));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_calls_inside_the_scope_are_counted() {
        add(Duration::from_millis(500)); // outside: ignored
        let ((), waited) = counted(async {
            add(Duration::from_millis(3));
            tokio::task::yield_now().await;
            add(Duration::from_millis(4));
        })
        .await;
        assert_eq!(waited, Duration::from_millis(7));
        let ((), again) = counted(async {}).await;
        assert_eq!(again, Duration::ZERO, "each scope starts from zero");
    }
}
