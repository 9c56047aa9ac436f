//! Authentication: password hashing, login throttling, and the middleware that guards every
//! route but the public few.

pub mod middleware;
pub mod password;
pub mod throttle;

/// Session key holding the logged-in user's id.
pub const SESSION_USER_ID: &str = "user_id";
