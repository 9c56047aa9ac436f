//! How long a browser session lasts: it ends after a spell of inactivity (default 30 minutes,
//! refreshed by activity) and, whatever the activity, a fixed time after sign-in (default 12
//! hours). The store keeps only a digest of each session id ([`crate::store::sessions`]), so a
//! copy of the database opens no session.

use clap::Args;
use tower_sessions::{Expiry, Session};

/// Session key holding when the session signed in (Unix seconds).
pub const SIGNED_IN_AT: &str = "signed_in_at";

/// Session key holding when the session was last refreshed by activity (Unix seconds).
pub const SEEN_AT: &str = "seen_at";

#[derive(Debug, Clone, Copy, Args)]
pub struct SessionPolicy {
    /// Minutes without a request after which a browser session ends.
    #[arg(
        long = "session-idle-minutes",
        env = "TILEWORKS_SESSION_IDLE_MINUTES",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=24 * 60)
    )]
    pub idle_minutes: u32,
    /// Hours after sign-in after which a browser session ends whatever the activity.
    #[arg(
        long = "session-max-hours",
        env = "TILEWORKS_SESSION_MAX_HOURS",
        default_value_t = 12,
        value_parser = clap::value_parser!(u32).range(1..=24 * 30)
    )]
    pub max_hours: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_minutes: 30,
            max_hours: 12,
        }
    }
}

impl SessionPolicy {
    pub fn idle(&self) -> time::Duration {
        time::Duration::minutes(i64::from(self.idle_minutes))
    }

    pub fn expiry(&self) -> Expiry {
        Expiry::OnInactivity(self.idle())
    }

    fn max_age_secs(&self) -> i64 {
        i64::from(self.max_hours) * 3600
    }

    /// Whether a session signed in at `signed_in_at` (Unix seconds) is past its lifetime.
    pub fn outlived(&self, signed_in_at: i64, now: i64) -> bool {
        now - signed_in_at >= self.max_age_secs()
    }

    /// Pushes the idle expiry out after activity: a changed session is stored again with a
    /// fresh expiry (and its cookie sent again). At most once a minute per session, so pages
    /// do not each cost a database write.
    pub async fn refresh(&self, session: &Session, now: i64) -> Result<(), String> {
        let seen_at: Option<i64> = session.get(SEEN_AT).await.map_err(|e| e.to_string())?;
        if seen_at.is_none_or(|at| now - at >= 60) {
            session
                .insert(SEEN_AT, now)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_outlives_its_lifetime_whatever_the_activity() {
        let policy = SessionPolicy::default();
        assert!(!policy.outlived(1_000, 1_000 + 11 * 3600));
        assert!(policy.outlived(1_000, 1_000 + 12 * 3600));
        assert_eq!(policy.idle(), time::Duration::minutes(30));
    }
}
