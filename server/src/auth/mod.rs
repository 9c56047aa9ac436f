//! Authentication and authorization: users and API clients ([`accounts`]), password hashing,
//! login throttling, who a request comes from ([`principal`]) and what each role may do
//! ([`roles`], the one table of access).

pub mod accounts;
pub mod password;
pub mod principal;
pub mod roles;
pub mod sessions;
pub mod throttle;

/// Session key holding the logged-in user's id.
pub const SESSION_USER_ID: &str = "user_id";
