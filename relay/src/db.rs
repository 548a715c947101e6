//! The PostgreSQL pool, the embedded migrations and the readiness check.
//! Queries are checked at run time (`sqlx::query`), so building needs no
//! database.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};

/// The migrations in `relay/migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The channel results are announced on; the payload is the kiosk id.
pub const CHANNEL: &str = "kyc_relay_result";

/// Open a pool. Connections are checked before use, so a database restart
/// costs the requests in flight, not the pool.
///
/// # Errors
/// When the URL does not parse or the first connection fails.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(true)
        .connect(url)
        .await
}

/// Apply the embedded migrations (idempotent; instances starting together
/// serialize on the migrator's advisory lock).
///
/// # Errors
/// When a migration fails or the database is unreachable.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Why the relay is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("database unreachable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations not applied: the database is at {applied:?}, this build needs {needed}")]
    Migrations { applied: Option<i64>, needed: i64 },
}

/// The database answers and every embedded migration has been applied.
///
/// # Errors
/// [`NotReady`] saying which.
pub async fn ready(pool: &PgPool) -> Result<(), NotReady> {
    let needed = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('public._sqlx_migrations') IS NOT NULL")
            .fetch_one(pool)
            .await?;
    let applied: Option<i64> = if exists {
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?
    } else {
        None
    };
    if applied.is_some_and(|a| a >= needed) {
        Ok(())
    } else {
        Err(NotReady::Migrations { applied, needed })
    }
}

/// A timestamp column as RFC 3339 UTC text (no date crate needed).
macro_rules! ts {
    ($col:literal) => {
        concat!(
            "to_char(",
            $col,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        )
    };
}
pub(crate) use ts;
