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
//! Kept in memory: a restart forgets the counters, which only ever makes the limit more lenient
//! for a moment, and keeps failed attempts from writing to the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

#[derive(Debug)]
struct Failures {
    count: u32,
    last_at: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Throttle {
    policy: Policy,
    failures: Mutex<HashMap<ThrottleKey, Failures>>,
}

/// Entries kept before old ones are swept, so a flood of made-up names cannot grow memory forever.
const SWEEP_AT: usize = 10_000;

impl Throttle {
    pub fn new(policy: Policy) -> Self {
        Throttle {
            policy,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The keys a login attempt for `account` from `address` is checked against: the account
    /// from this address and the address; the account as a whole only when this address has
    /// been failing (so a lock others caused never stops a source with a clean record).
    pub fn login_keys(&self, account: &str, address: IpAddr) -> Vec<ThrottleKey> {
        let mut keys = vec![
            ThrottleKey::account_from(account, address),
            ThrottleKey::Address(address),
        ];
        let now = Instant::now();
        let failing = self
            .lock()
            .get(&ThrottleKey::Address(address))
            .is_some_and(|f| f.count > 0 && now.duration_since(f.last_at) < self.policy.window);
        if failing {
            keys.push(ThrottleKey::account(account));
        }
        keys
    }

    /// A failed login: counted against the account from this address, the address, and the
    /// account as a whole.
    pub fn record_login_failure(&self, account: &str, address: IpAddr) {
        self.record_failure(&[
            ThrottleKey::account_from(account, address),
            ThrottleKey::Address(address),
            ThrottleKey::account(account),
        ]);
    }

    /// A successful login clears the account's counters from this address (not the address's
    /// own, nor the account's total: one good password does not excuse guesses elsewhere).
    pub fn record_login_success(&self, account: &str, address: IpAddr) {
        self.record_success(&ThrottleKey::account_from(account, address));
    }

    /// `Err(wait)` when any of `keys` is locked right now.
    pub fn check(&self, keys: &[ThrottleKey]) -> Result<(), Duration> {
        let now = Instant::now();
        let failures = self.lock();
        let wait = keys
            .iter()
            .filter_map(|key| failures.get(key)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, keys: &[ThrottleKey]) {
        let now = Instant::now();
        let mut failures = self.lock();
        if failures.len() >= SWEEP_AT {
            let window = self.policy.window;
            failures.retain(|_, f| {
                now.duration_since(f.last_at) < window || f.locked_until.is_some_and(|u| u > now)
            });
        }
        for key in keys {
            let limit = match key {
                ThrottleKey::AccountFrom(..) => self.policy.max_account_failures,
                ThrottleKey::Account(_) => self.policy.max_account_total_failures,
                ThrottleKey::Address(_) => self.policy.max_address_failures,
            };
            let entry = failures.entry(key.clone()).or_insert(Failures {
                count: 0,
                last_at: now,
                locked_until: None,
            });
            if now.duration_since(entry.last_at) >= self.policy.window {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last_at = now;
            if entry.count >= limit {
                let doublings = (entry.count - limit).min(16);
                let lock = self
                    .policy
                    .base_lock
                    .saturating_mul(1 << doublings)
                    .min(self.policy.max_lock);
                entry.locked_until = Some(now + lock);
            }
        }
    }

    /// A successful login clears the account's counter (not the address's: one good password does
    /// not excuse a spray of guesses at other accounts).
    pub fn record_success(&self, account: &ThrottleKey) {
        self.lock().remove(account);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ThrottleKey, Failures>> {
        // A panic while holding the lock cannot leave the map inconsistent; keep using it.
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
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

    #[test]
    fn locks_an_account_after_the_limit_and_doubles() {
        let t = Throttle::new(policy());
        let from: IpAddr = "10.0.0.1".parse().unwrap();
        let key = [ThrottleKey::account_from("Admin", from)];
        t.record_failure(&key);
        t.record_failure(&key);
        assert!(t.check(&key).is_ok());
        t.record_failure(&key);
        let wait = t
            .check(&[ThrottleKey::account_from("admin", from)])
            .unwrap_err();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10));
        t.record_failure(&key);
        let wait = t.check(&key).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
    }

    #[test]
    fn the_address_limit_is_separate_and_higher() {
        let t = Throttle::new(policy());
        let addr = ThrottleKey::Address("10.0.0.1".parse().unwrap());
        for i in 0..4 {
            t.record_failure(&[ThrottleKey::account(&format!("u{i}")), addr.clone()]);
        }
        assert!(t.check(std::slice::from_ref(&addr)).is_ok());
        t.record_failure(&[ThrottleKey::account("u9"), addr.clone()]);
        assert!(t
            .check(&[ThrottleKey::account("someone-else"), addr])
            .is_err());
    }

    #[test]
    fn success_resets_the_account() {
        let t = Throttle::new(policy());
        let key = ThrottleKey::account("a");
        t.record_failure(std::slice::from_ref(&key));
        t.record_failure(std::slice::from_ref(&key));
        t.record_success(&key);
        t.record_failure(std::slice::from_ref(&key));
        t.record_failure(std::slice::from_ref(&key));
        assert!(t.check(&[key]).is_ok());
    }

    #[test]
    fn a_user_name_cannot_be_locked_out_by_someone_else() {
        let t = Throttle::new(policy());
        let attacker: IpAddr = "10.0.0.66".parse().unwrap();
        let owner: IpAddr = "10.0.0.7".parse().unwrap();
        for _ in 0..3 {
            t.record_login_failure("admin", attacker);
        }
        assert!(t.check(&t.login_keys("admin", attacker)).is_err());
        assert!(t.check(&t.login_keys("admin", owner)).is_ok());
        // A guesser spread over many addresses hits the account's total, which then stops every
        // address that fails on it, but still not a clean one.
        for i in 0..8u8 {
            t.record_login_failure("admin", IpAddr::from([10, 1, 0, i]));
        }
        let spread = IpAddr::from([10, 1, 0, 3]);
        assert!(t.check(&t.login_keys("admin", spread)).is_err());
        assert!(t.check(&t.login_keys("admin", owner)).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
