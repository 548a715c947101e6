//! Enrolment, credentials, revocation and the per-branch client-ID rule.
//!
//! A credential is `kr_` + 43 characters of base64url over 32 random bytes
//! (256 bits) from the OS. Only its SHA-256 is stored: the token is random
//! and long enough that a fast hash is as good as a slow one, and the check
//! on every request stays one indexed lookup. Authentication reads the
//! database on every request, so a revocation holds at once on every
//! instance.

use base64::Engine as _;
use rand::RngCore as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::ts;

/// Prefix of every kiosk credential (recognisable in a leaked log).
pub const CREDENTIAL_PREFIX: &str = "kr_";

/// A new kiosk: its id and the credential, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    pub id: Uuid,
    pub credential: String,
}

/// An authenticated kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kiosk {
    pub id: Uuid,
    pub name: String,
    pub branch: Option<String>,
}

/// One kiosk as `kiosk list` and the fleet page show it. Times are RFC 3339
/// UTC; `connected` means a request within the last minute.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub id: Uuid,
    pub name: String,
    pub branch: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub last_seen_at: Option<String>,
    pub app_version: Option<String>,
    pub last_result_at: Option<String>,
    pub connected: bool,
}

/// The stored form of a credential.
#[must_use]
pub fn hash(credential: &str) -> Vec<u8> {
    Sha256::digest(credential.trim().as_bytes()).to_vec()
}

fn new_credential() -> String {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    format!(
        "{CREDENTIAL_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref())
    )
}

/// Enrol a kiosk.
///
/// # Errors
/// A database error, or an empty name (as [`sqlx::Error::Protocol`]).
pub async fn add(pool: &PgPool, name: &str, branch: Option<&str>) -> Result<Enrolled, sqlx::Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(sqlx::Error::Protocol("the kiosk name is empty".into()));
    }
    let id = Uuid::new_v4();
    let credential = new_credential();
    sqlx::query("INSERT INTO kiosk (id, name, branch, credential_hash) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(name)
        .bind(branch.map(str::trim).filter(|b| !b.is_empty()))
        .bind(hash(&credential))
        .execute(pool)
        .await?;
    audit(pool, Some(id), None, "kiosk_enrolled").await?;
    Ok(Enrolled { id, credential })
}

/// Every kiosk, revoked ones included, by name.
///
/// # Errors
/// A database error.
pub async fn list(pool: &PgPool) -> Result<Vec<Listed>, sqlx::Error> {
    let sql = format!(
        "SELECT id, name, branch, {} AS created_at, {} AS revoked_at, {} AS last_seen_at, \
         app_version, {} AS last_result_at, \
         coalesce(revoked_at IS NULL AND last_seen_at > now() - interval '60 seconds', false) AS connected \
         FROM kiosk ORDER BY name, created_at",
        ts!("created_at"),
        ts!("revoked_at"),
        ts!("last_seen_at"),
        ts!("last_result_at"),
    );
    sqlx::query_as(&sql).fetch_all(pool).await
}

/// Revoke a kiosk: every later request with its credential is refused.
/// Returns false when no such (unrevoked) kiosk exists.
///
/// # Errors
/// A database error.
pub async fn revoke(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE kiosk SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
            == 1;
    if done {
        audit(pool, Some(id), None, "kiosk_revoked").await?;
    }
    Ok(done)
}

/// The kiosk holding `credential`, unless unknown or revoked; records when it
/// was last seen and the app version it reports.
///
/// # Errors
/// A database error.
pub async fn authenticate(
    pool: &PgPool,
    credential: &str,
    app_version: Option<&str>,
) -> Result<Option<Kiosk>, sqlx::Error> {
    // Read on every request (a revocation holds at once), by a plain
    // read-only query; written by a second one only when stale or the
    // version changed, so a busy kiosk's polls neither rewrite its row nor
    // wait on the webhooks updating it.
    let version = app_version.map(|v| v.chars().take(64).collect::<String>());
    let row: Option<(Uuid, String, Option<String>, bool)> = sqlx::query_as(
        "SELECT id, name, branch, \
                last_seen_at IS NULL OR last_seen_at < now() - interval '10 seconds' \
                OR app_version IS DISTINCT FROM coalesce($2, app_version) \
         FROM kiosk WHERE credential_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash(credential))
    .bind(version.as_deref())
    .fetch_optional(pool)
    .await?;
    let Some((id, name, branch, stale)) = row else {
        return Ok(None);
    };
    if stale {
        sqlx::query(
            "UPDATE kiosk SET last_seen_at = now(), app_version = coalesce($2, app_version) \
             WHERE id = $1",
        )
        .bind(id)
        .bind(version.as_deref())
        .execute(pool)
        .await?;
    }
    Ok(Some(Kiosk { id, name, branch }))
}

/// Set (or with `None`, remove) the client-ID prefix a branch's kiosks must use.
///
/// # Errors
/// A database error.
pub async fn set_branch_rule(
    pool: &PgPool,
    branch: &str,
    client_id_prefix: Option<&str>,
) -> Result<(), sqlx::Error> {
    match client_id_prefix {
        Some(p) => {
            sqlx::query(
                "INSERT INTO branch_rule (branch, client_id_prefix) VALUES ($1, $2) \
                 ON CONFLICT (branch) DO UPDATE SET client_id_prefix = excluded.client_id_prefix",
            )
            .bind(branch)
            .bind(p)
            .execute(pool)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM branch_rule WHERE branch = $1")
                .bind(branch)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// The client-ID prefix required for `branch`, if any.
///
/// # Errors
/// A database error.
pub async fn branch_prefix(pool: &PgPool, branch: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT client_id_prefix FROM branch_rule WHERE branch = $1")
        .bind(branch)
        .fetch_optional(pool)
        .await
}

/// One audit row without a result (enrolment, revocation, token, process).
///
/// # Errors
/// A database error.
pub async fn audit<'e, E: sqlx::PgExecutor<'e>>(
    ex: E,
    kiosk: Option<Uuid>,
    scan_ref: Option<&str>,
    event: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO audit (kiosk_id, scan_ref, event) VALUES ($1, $2, $3)")
        .bind(kiosk)
        .bind(scan_ref)
        .bind(event)
        .execute(ex)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_carry_256_random_bits_and_are_stored_hashed() {
        let a = new_credential();
        let b = new_credential();
        assert_ne!(a, b);
        assert!(a.starts_with(CREDENTIAL_PREFIX));
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&a[CREDENTIAL_PREFIX.len()..])
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_eq!(hash(&a).len(), 32);
        assert_ne!(hash(&a), a.as_bytes());
        assert_eq!(hash(&format!(" {a}\n")), hash(&a));
    }
}
