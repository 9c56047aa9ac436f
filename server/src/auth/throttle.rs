//! Login throttling: after repeated failures for one user name or from one client address,
//! further attempts are refused for a while (HTTP 429 with Retry-After), growing with each failure.
//!
//! A lockout must not be a weapon: whoever knows a user name must not be able to lock that user
//! out. So a user name is locked *per client address* ([`ThrottleKey::AccountFrom`]); the
//! user's total across all addresses ([`ThrottleKey::Account`], a much higher limit) stops a
//! guesser spread over many addresses, but only for addresses that have themselves been
//! failing: a correct password from a source with no failures is always let through (see
//! [`Throttle::login_keys`]).
//!
//! Kept in the database (`store::login_failures`), so every replica sharing it counts the same
//! failures and a guesser gains nothing by spreading attempts over replicas behind a load
//! balancer. Only failures write; a login checks with a few indexed reads.

use std::net::IpAddr;
use std::time::Duration;

use crate::store::Store;
use crate::Result;

/// What a failure is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// A user name or client id (lower-cased so case variants share a counter), across all
    /// addresses.
    Account(String),
    /// A user name or client id tried from one address.
    AccountFrom(String, IpAddr),
    Address(IpAddr),
}

impl ThrottleKey {
    pub fn account(name: &str) -> Self {
        ThrottleKey::Account(name.to_lowercase())
    }

    pub fn account_from(name: &str, address: IpAddr) -> Self {
        ThrottleKey::AccountFrom(name.to_lowercase(), address)
    }

    /// The stored key. Addresses hold no spaces, so the name (last) may hold anything.
    fn stored(&self) -> String {
        match self {
            ThrottleKey::Account(name) => format!("account {name}"),
            ThrottleKey::AccountFrom(name, address) => format!("from {address} {name}"),
            ThrottleKey::Address(address) => format!("address {address}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// Failures allowed per account within `window` before locking.
    pub max_account_failures: u32,
    /// Failures allowed per client address within `window` before locking (higher: several
    /// people may share an address).
    pub max_address_failures: u32,
    /// Failures for one account across all addresses before addresses that fail on it are
    /// locked out of it (see the module documentation).
    pub max_account_total_failures: u32,
    /// Failures older than this are forgotten.
    pub window: Duration,
    /// First lock length; doubles with every further failure.
    pub base_lock: Duration,
    pub max_lock: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_account_failures: 5,
            max_address_failures: 20,
            max_account_total_failures: 50,
            window: Duration::from_secs(15 * 60),
            base_lock: Duration::from_secs(30),
            max_lock: Duration::from_secs(15 * 60),
        }
    }
}

/// The throttle over one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Throttle {
    store: Store,
    policy: Policy,
}

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Throttle {
    pub fn new(store: Store, policy: Policy) -> Self {
        Throttle { store, policy }
    }

    /// The keys a login attempt for `account` from `address` is checked against: the account
    /// from this address and the address; the account as a whole only when this address has
    /// been failing (so a lock others caused never stops a source with a clean record).
    pub async fn login_keys(&self, account: &str, address: IpAddr) -> Result<Vec<ThrottleKey>> {
        let mut keys = vec![
            ThrottleKey::account_from(account, address),
            ThrottleKey::Address(address),
        ];
        let failing = self
            .store
            .login_failures()
            .failed_since(
                &ThrottleKey::Address(address).stored(),
                now_ms() - millis(self.policy.window),
            )
            .await?;
        if failing {
            keys.push(ThrottleKey::account(account));
        }
        Ok(keys)
    }

    /// How long a login for `account` from `address` must wait (`None`: it may go ahead).
    pub async fn login_wait(&self, account: &str, address: IpAddr) -> Result<Option<Duration>> {
        let keys = self.login_keys(account, address).await?;
        self.wait(&keys).await
    }

    /// A failed login: counted against the account from this address, the address, and the
    /// account as a whole.
    pub async fn record_login_failure(&self, account: &str, address: IpAddr) -> Result<()> {
        self.record_failure(&[
            ThrottleKey::account_from(account, address),
            ThrottleKey::Address(address),
            ThrottleKey::account(account),
        ])
        .await
    }

    /// A successful login clears the account's counters from this address (not the address's
    /// own, nor the account's total: one good password does not excuse guesses elsewhere).
    pub async fn record_login_success(&self, account: &str, address: IpAddr) -> Result<()> {
        self.record_success(&ThrottleKey::account_from(account, address))
            .await
    }

    /// How long until none of `keys` is locked (`None`: none is locked now).
    pub async fn wait(&self, keys: &[ThrottleKey]) -> Result<Option<Duration>> {
        let now = now_ms();
        let mut longest: Option<i64> = None;
        for key in keys {
            if let Some(until) = self
                .store
                .login_failures()
                .locked_until(&key.stored())
                .await?
            {
                if until > now {
                    longest = Some(longest.map_or(until, |l| l.max(until)));
                }
            }
        }
        Ok(longest.map(|until| Duration::from_millis(u64::try_from(until - now).unwrap_or(0))))
    }

    pub async fn record_failure(&self, keys: &[ThrottleKey]) -> Result<()> {
        let now = now_ms();
        let forget_before = now - millis(self.policy.window);
        let failures = self.store.login_failures();
        failures.sweep(forget_before, now).await?;
        for key in keys {
            let limit = match key {
                ThrottleKey::AccountFrom(..) => self.policy.max_account_failures,
                ThrottleKey::Account(_) => self.policy.max_account_total_failures,
                ThrottleKey::Address(_) => self.policy.max_address_failures,
            };
            let stored = key.stored();
            let count = failures.record(&stored, now, forget_before).await?;
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            if count >= limit {
                let doublings = (count - limit).min(16);
                let lock = self
                    .policy
                    .base_lock
                    .saturating_mul(1 << doublings)
                    .min(self.policy.max_lock);
                failures.lock(&stored, now + millis(lock)).await?;
            }
        }
        Ok(())
    }

    /// A successful login clears the account's counter (not the address's: one good password does
    /// not excuse a spray of guesses at other accounts).
    pub async fn record_success(&self, account: &ThrottleKey) -> Result<()> {
        self.store.login_failures().clear(&account.stored()).await
    }
}

/// Whole seconds to put in Retry-After (never 0, so clients do wait).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.as_secs() == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            max_account_failures: 3,
            max_address_failures: 5,
            max_account_total_failures: 8,
            window: Duration::from_secs(60),
            base_lock: Duration::from_secs(10),
            max_lock: Duration::from_secs(100),
        }
    }

    async fn throttle() -> (tempfile::TempDir, Throttle) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        (dir, Throttle::new(store, policy()))
    }

    #[tokio::test]
    async fn locks_an_account_after_the_limit_and_doubles() {
        let (_dir, t) = throttle().await;
        let from: IpAddr = "10.0.0.1".parse().unwrap();
        let key = [ThrottleKey::account_from("Admin", from)];
        t.record_failure(&key).await.unwrap();
        t.record_failure(&key).await.unwrap();
        assert!(t.wait(&key).await.unwrap().is_none());
        t.record_failure(&key).await.unwrap();
        let wait = t
            .wait(&[ThrottleKey::account_from("admin", from)])
            .await
            .unwrap()
            .unwrap();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10));
        t.record_failure(&key).await.unwrap();
        let wait = t.wait(&key).await.unwrap().unwrap();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
    }

    #[tokio::test]
    async fn the_address_limit_is_separate_and_higher() {
        let (_dir, t) = throttle().await;
        let addr = ThrottleKey::Address("10.0.0.1".parse().unwrap());
        for i in 0..4 {
            t.record_failure(&[ThrottleKey::account(&format!("u{i}")), addr.clone()])
                .await
                .unwrap();
        }
        assert!(t.wait(std::slice::from_ref(&addr)).await.unwrap().is_none());
        t.record_failure(&[ThrottleKey::account("u9"), addr.clone()])
            .await
            .unwrap();
        assert!(t
            .wait(&[ThrottleKey::account("someone-else"), addr])
            .await
            .unwrap()
            .is_some());
    }

    #[tokio::test]
    async fn success_resets_the_account() {
        let (_dir, t) = throttle().await;
        let key = ThrottleKey::account("a");
        t.record_failure(std::slice::from_ref(&key)).await.unwrap();
        t.record_failure(std::slice::from_ref(&key)).await.unwrap();
        t.record_success(&key).await.unwrap();
        t.record_failure(std::slice::from_ref(&key)).await.unwrap();
        t.record_failure(std::slice::from_ref(&key)).await.unwrap();
        assert!(t.wait(&[key]).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_user_name_cannot_be_locked_out_by_someone_else() {
        let (_dir, t) = throttle().await;
        let attacker: IpAddr = "10.0.0.66".parse().unwrap();
        let owner: IpAddr = "10.0.0.7".parse().unwrap();
        for _ in 0..3 {
            t.record_login_failure("admin", attacker).await.unwrap();
        }
        assert!(t.login_wait("admin", attacker).await.unwrap().is_some());
        assert!(t.login_wait("admin", owner).await.unwrap().is_none());
        // A guesser spread over many addresses hits the account's total, which then stops every
        // address that fails on it, but still not a clean one.
        for i in 0..8u8 {
            t.record_login_failure("admin", IpAddr::from([10, 1, 0, i]))
                .await
                .unwrap();
        }
        let spread = IpAddr::from([10, 1, 0, 3]);
        assert!(t.login_wait("admin", spread).await.unwrap().is_some());
        assert!(t.login_wait("admin", owner).await.unwrap().is_none());
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
