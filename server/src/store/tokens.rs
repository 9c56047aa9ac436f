//! Bearer tokens issued by the token endpoint.

use sqlx::AnyPool;

use super::unix_now;
use crate::secrets::{random_token, sha256_hex};
use crate::Result;

/// Who a token (or a session) acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `user` or `client`.
    pub kind: String,
    pub name: String,
    pub role: String,
}

pub struct Tokens<'a> {
    pool: &'a AnyPool,
}

impl<'a> Tokens<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Tokens { pool }
    }

    /// Issues a new token for `principal`, valid for `lifetime_secs`; returns the token text.
    pub async fn issue(&self, principal: &Principal, lifetime_secs: i64) -> Result<String> {
        let token = random_token(32);
        let now = unix_now();
        // Expired tokens are swept here rather than by a timer: issuing is rare and cheap.
        sqlx::query("DELETE FROM access_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO access_tokens (token_sha256, subject_kind, subject_name, role, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&token))
        .bind(&principal.kind)
        .bind(&principal.name)
        .bind(&principal.role)
        .bind(now + lifetime_secs)
        .execute(self.pool)
        .await?;
        Ok(token)
    }

    /// The principal of an unexpired token, or `None`. Changes to a principal delete its
    /// tokens ([`Tokens::end_for`]); besides, a token only works while its subject exists (and
    /// a user is enabled) with the role the token was issued for, so a token issued while its
    /// subject was being changed cannot outlive the change.
    pub async fn principal(&self, token: &str) -> Result<Option<Principal>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT t.subject_kind, t.subject_name, t.role FROM access_tokens AS t
             WHERE t.token_sha256 = $1 AND t.expires_at > $2
               AND ((t.subject_kind = 'user' AND EXISTS (
                        SELECT 1 FROM users AS u
                        WHERE u.username = t.subject_name AND u.role = t.role
                          AND u.disabled = 0))
                 OR (t.subject_kind = 'client' AND EXISTS (
                        SELECT 1 FROM api_clients AS c
                        WHERE c.name = t.subject_name AND c.role = t.role)))",
        )
        .bind(sha256_hex(token))
        .bind(unix_now())
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(|(kind, name, role)| Principal { kind, name, role }))
    }

    /// Ends every token of a subject (`kind` is `user` or `client`); returns how many.
    pub async fn end_for(&self, kind: &str, name: &str) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM access_tokens WHERE subject_kind = $1 AND subject_name = $2")
                .bind(kind)
                .bind(name)
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected())
    }
}
