//! Deleting what is no longer needed: results acknowledged more than a short
//! grace ago, results nobody collected within 24 h, scans (and with them the
//! dedupe keys) after a week, and old rate-limit windows. A timer in `serve`
//! runs it, and so does `kyc-kiosk-relay purge`. The audit keeps a row for
//! every result deleted undelivered.

use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::watch;

/// How long things are kept.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// After acknowledgement. An acknowledged result is never handed out
    /// again (a kiosk acknowledges once its session has the result); the
    /// grace only keeps the purge off rows a concurrent poll may be reading.
    pub ack_grace: Duration,
    /// An uncollected result.
    pub undelivered_ttl: Duration,
    /// A scan and its dedupe keys: a webhook after this is refused as foreign.
    pub scan_ttl: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            ack_grace: Duration::from_secs(60),
            undelivered_ttl: Duration::from_secs(24 * 3600),
            scan_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What one run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Purged {
    pub acknowledged: u64,
    pub undelivered: u64,
    pub scans: u64,
}

/// One purge.
///
/// # Errors
/// A database error.
pub async fn run(pool: &PgPool, p: &Policy) -> Result<Purged, sqlx::Error> {
    let acknowledged = sqlx::query(
        "DELETE FROM result WHERE acked_at IS NOT NULL AND acked_at < now() - make_interval(secs => $1)",
    )
    .bind(p.ack_grace.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected();
    let undelivered = sqlx::query(
        "WITH d AS (DELETE FROM result \
                    WHERE acked_at IS NULL AND received_at < now() - make_interval(secs => $1) \
                    RETURNING kiosk_id, scan_ref, is_final, status->>'overall' AS overall) \
         INSERT INTO audit (kiosk_id, scan_ref, event, is_final, overall) \
         SELECT kiosk_id, scan_ref, 'result_expired_undelivered', is_final, overall FROM d",
    )
    .bind(p.undelivered_ttl.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected();
    let scans =
        sqlx::query("DELETE FROM scan WHERE created_at < now() - make_interval(secs => $1)")
            .bind(p.scan_ttl.as_secs_f64())
            .execute(pool)
            .await?
            .rows_affected();
    for table in ["token_rate", "status_rate"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE window_start < now() - interval '2 hours'"
        ))
        .execute(pool)
        .await?;
    }
    Ok(Purged {
        acknowledged,
        undelivered,
        scans,
    })
}

/// Purge every `period` until `stop` turns true.
pub async fn every(
    pool: PgPool,
    policy: Policy,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match run(&pool, &policy).await {
            Ok(p) if p != Purged::default() => tracing::info!(?p, "purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purge failed; next time"),
        }
    }
}
