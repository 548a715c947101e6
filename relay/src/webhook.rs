//! `POST /webhooks/idenfy`: iDenfy's results coming in.
//!
//! In order: the HMAC over the raw body (the core's
//! [`kyc_kiosk::idenfy::webhook::verify`]), a body that decodes, a scanRef
//! this relay created, then in one transaction
//! the dedupe key (scanRef + `final` + SHA-256 of the body), the result (only
//! the `status` object and the identifiers: never `data`, `fileUrls` or
//! `clientIp`), an audit row and `NOTIFY`. It answers 200 as soon as that
//! commits; a duplicate also gets 200, so the sender stops resending.
//!
//! The `Idenfy-Event-Type` header is not covered by the signature: it is
//! only recorded (as [`EventType`] names it, `unknown` when missing or
//! unrecognised), never used to refuse a signed result. iDenfy spells it
//! `IDENTIFICATION_AUTO_FINISHED` and so on; the sandbox `AUTO_FINISHED`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use kyc_kiosk::idenfy::decode_json;
use kyc_kiosk::idenfy::webhook::{verify, EventType, Report, EVENT_TYPE_HEADER, SIGNATURE_HEADER};
use sha2::{Digest, Sha256};

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::db::CHANNEL;
use crate::server::AppState;

/// How one webhook ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
}

/// The handler.
pub async fn receive(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let sig = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !verify(&st.upstream.signing_key, &body, sig) {
        st.metrics.webhook_refused("signature");
        tracing::warn!("webhook refused: bad or missing signature");
        return (StatusCode::UNAUTHORIZED, "bad signature");
    }
    let event = EventType::parse(
        headers
            .get(EVENT_TYPE_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    )
    .as_str();
    // Only what the relay stores is decoded: the document data, file URLs
    // and the customer's IP are skipped, and nothing in them can refuse a
    // result.
    let payload: Report = match decode_json("webhook", &body) {
        Ok(p) => p,
        Err(e) => {
            st.metrics.webhook_refused("decode");
            tracing::warn!(error = %e, "webhook body does not decode");
            return (StatusCode::BAD_REQUEST, "body does not decode");
        }
    };
    let mut status = payload.status.clone();
    status.additional_steps = None;
    let status = match serde_json::to_value(&status) {
        Ok(v) => v,
        Err(e) => {
            st.metrics.webhook_refused("decode");
            tracing::warn!(error = %e, "webhook status does not encode");
            return (StatusCode::BAD_REQUEST, "body does not decode");
        }
    };
    let item = Item {
        scan_ref: payload.scan_ref.as_str().to_owned(),
        is_final: payload.is_final,
        digest: Sha256::digest(&body).to_vec(),
        client_id: payload.client_id.as_ref().map(|c| c.as_str().to_owned()),
        event,
        status,
        overall: payload.status.overall.as_str().to_owned(),
    };
    match st.ingest.store(item).await {
        Ok(Some(Outcome::Stored)) => {
            st.metrics.webhook_received();
            tracing::info!(scan_ref = %payload.scan_ref, is_final = payload.is_final, event, "webhook stored");
            (StatusCode::OK, "stored")
        }
        Ok(Some(Outcome::Duplicate)) => {
            st.metrics.webhook_refused("duplicate");
            tracing::info!(scan_ref = %payload.scan_ref, "duplicate webhook ignored");
            (StatusCode::OK, "duplicate")
        }
        Ok(None) => {
            st.metrics.webhook_refused("foreign_scan_ref");
            tracing::warn!("webhook refused: a scanRef this relay did not create");
            (StatusCode::NOT_FOUND, "unknown scanRef")
        }
        Err(e) => {
            // Not stored: the sender retries.
            st.metrics.webhook_refused("database");
            tracing::error!(error = %e, "webhook not stored");
            (StatusCode::SERVICE_UNAVAILABLE, "not stored; retry")
        }
    }
}

/// One verified webhook, as it is stored.
#[derive(Debug, Clone)]
struct Item {
    scan_ref: String,
    is_final: bool,
    digest: Vec<u8>,
    client_id: Option<String>,
    event: &'static str,
    /// Only the `status` part: `additionalSteps` may carry personal answers.
    status: serde_json::Value,
    overall: String,
}

impl Item {
    fn key(&self) -> (&str, bool, &[u8]) {
        (&self.scan_ref, self.is_final, &self.digest)
    }
}

/// How storing one webhook ended: `None` when the scanRef is not ours; an
/// error text when the batch it was in did not commit (the sender retries).
type Stored = Result<Option<Outcome>, String>;

struct Job {
    item: Item,
    reply: oneshot::Sender<Stored>,
}

/// The most webhooks one statement stores.
pub const MAX_BATCH: usize = 256;
/// Batches written at once (each on its own connection).
const WRITERS: usize = 4;

/// Group commit for webhooks: whatever arrived while the writers were busy
/// is stored by the next free writer in one statement and one commit, and
/// each sender is answered only after that commit. Under light load a batch
/// is one webhook (no waiting for company); under heavy load the statement
/// and commit cost is shared, which is where the database spent most of its
/// time per webhook. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ingest {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl Ingest {
    /// Start the batching task on `pool`; it ends when every handle is dropped.
    #[must_use]
    pub fn start(pool: PgPool) -> Self {
        let (tx, rx) = mpsc::channel(MAX_BATCH * WRITERS * 4);
        tokio::spawn(batches(pool, rx));
        Self { tx }
    }

    async fn store(&self, item: Item) -> Stored {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(Job { item, reply }).await.is_err() {
            return Err("the relay is stopping".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the batch writer stopped".into()))
    }
}

async fn batches(pool: PgPool, mut rx: mpsc::Receiver<Job>) {
    let writers = Arc::new(Semaphore::new(WRITERS));
    loop {
        let Ok(permit) = writers.clone().acquire_owned().await else {
            return;
        };
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        if rx.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            return;
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            let (items, replies): (Vec<Item>, Vec<_>) =
                jobs.into_iter().map(|j| (j.item, j.reply)).unzip();
            for (reply, stored) in replies.into_iter().zip(store_batch(&pool, &items).await) {
                let _ = reply.send(stored);
            }
            drop(permit);
        });
    }
}

/// Store `items` in one statement; one answer per item, in order.
///
/// The dedupe key, the result, the audit row, the kiosks' last-result time
/// and the `NOTIFY` (sent at commit) happen together or not at all. Copies
/// of one webhook in the same batch are stored once (the later ones are
/// duplicates); copies in two batches at once serialize on the dedupe key's
/// unique index. Rows are locked in key order (dedupe keys, then kiosks), so
/// two batches cannot deadlock.
async fn store_batch(pool: &PgPool, items: &[Item]) -> Vec<Stored> {
    let (unique, first_of) = firsts(items);
    match write(pool, items, &unique).await {
        Ok(answers) => answer_all(&first_of, &answers),
        Err(e) => vec![Err(e.to_string()); items.len()],
    }
}

/// The items to write (the first copy of each dedupe key), and for every
/// item the index of the first copy of its key.
fn firsts(items: &[Item]) -> (Vec<usize>, Vec<usize>) {
    let mut first_of: Vec<usize> = Vec::with_capacity(items.len());
    let mut unique: Vec<usize> = Vec::with_capacity(items.len());
    let mut index: HashMap<(&str, bool, &[u8]), usize> = HashMap::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let u = *index.entry(it.key()).or_insert_with(|| {
            unique.push(i);
            i
        });
        first_of.push(u);
    }
    (unique, first_of)
}

/// Every item's answer from its key's first copy: a later copy of a stored
/// webhook is a duplicate; a first copy with no answer is not ours.
fn answer_all(first_of: &[usize], answers: &HashMap<usize, Outcome>) -> Vec<Stored> {
    first_of
        .iter()
        .enumerate()
        .map(|(i, &u)| {
            Ok(match answers.get(&u) {
                Some(Outcome::Stored) if i != u => Some(Outcome::Duplicate),
                other => other.copied(),
            })
        })
        .collect()
}

/// The statement; answers by index into `items` (absent: not ours). A
/// batch of one (light load) takes a simpler statement: the batch form's
/// arrays and lock ordering cost the database more than they save for one.
async fn write(
    pool: &PgPool,
    items: &[Item],
    unique: &[usize],
) -> Result<HashMap<usize, Outcome>, sqlx::Error> {
    if let [only] = unique {
        return Ok(write_one(pool, &items[*only])
            .await?
            .map(|o| (*only, o))
            .into_iter()
            .collect());
    }
    let pick =
        |f: &dyn Fn(&Item) -> String| unique.iter().map(|&i| f(&items[i])).collect::<Vec<_>>();
    let n: Vec<i32> = unique
        .iter()
        .map(|&i| i32::try_from(i).unwrap_or(i32::MAX))
        .collect();
    let is_final: Vec<bool> = unique.iter().map(|&i| items[i].is_final).collect();
    let digest: Vec<Vec<u8>> = unique.iter().map(|&i| items[i].digest.clone()).collect();
    let client_id: Vec<Option<String>> =
        unique.iter().map(|&i| items[i].client_id.clone()).collect();
    let status: Vec<serde_json::Value> = unique.iter().map(|&i| items[i].status.clone()).collect();
    let rows: Vec<(i32, bool, i64)> = sqlx::query_as(
        "WITH i AS (SELECT * FROM unnest($1::int4[], $2::text[], $3::bool[], $4::bytea[], $5::text[], \
                                         $6::text[], $7::jsonb[], $8::text[], $9::text[]) \
                    AS t(n, scan_ref, is_final, sha, client_id, event, status, audit_event, overall)), \
         s AS (SELECT i.*, scan.kiosk_id FROM i JOIN scan USING (scan_ref)), \
         seen AS (INSERT INTO webhook_seen (scan_ref, is_final, body_sha256) \
                  SELECT scan_ref, is_final, sha FROM s ORDER BY scan_ref, is_final, sha \
                  ON CONFLICT DO NOTHING RETURNING scan_ref, is_final, body_sha256), \
         f AS (SELECT s.* FROM s JOIN seen ON seen.scan_ref = s.scan_ref \
               AND seen.is_final = s.is_final AND seen.body_sha256 = s.sha), \
         r AS (INSERT INTO result (scan_ref, kiosk_id, client_id, is_final, event, status) \
               SELECT scan_ref, kiosk_id, client_id, is_final, event, status FROM f ORDER BY n \
               RETURNING kiosk_id), \
         a AS (INSERT INTO audit (kiosk_id, scan_ref, event, is_final, overall) \
               SELECT kiosk_id, scan_ref, audit_event, is_final, overall FROM f ORDER BY n), \
         kl AS (SELECT id FROM kiosk WHERE id IN (SELECT kiosk_id FROM f) ORDER BY id FOR NO KEY UPDATE), \
         k AS (UPDATE kiosk SET last_result_at = now() FROM kl WHERE kiosk.id = kl.id), \
         x AS (SELECT pg_notify($10, d.kiosk_id::text) FROM (SELECT DISTINCT kiosk_id FROM r) d) \
         SELECT s.n, f.n IS NOT NULL, (SELECT count(*) FROM x) FROM s LEFT JOIN f ON f.n = s.n",
    )
    .bind(&n)
    .bind(pick(&|it| it.scan_ref.clone()))
    .bind(&is_final)
    .bind(&digest)
    .bind(&client_id)
    .bind(pick(&|it| it.event.to_owned()))
    .bind(&status)
    .bind(pick(&|it| format!("webhook_{}", it.event.to_ascii_lowercase())))
    .bind(pick(&|it| it.overall.clone()))
    .bind(CHANNEL)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(n, fresh, _notified)| {
            let i = usize::try_from(n).ok()?;
            Some((
                i,
                if fresh {
                    Outcome::Stored
                } else {
                    Outcome::Duplicate
                },
            ))
        })
        .collect())
}

/// One webhook: `None` when its scanRef is not ours.
async fn write_one(pool: &PgPool, it: &Item) -> Result<Option<Outcome>, sqlx::Error> {
    let (kiosk, fresh): (Option<uuid::Uuid>, bool) = sqlx::query_as(
        "WITH s AS (SELECT kiosk_id FROM scan WHERE scan_ref = $1), \
         seen AS (INSERT INTO webhook_seen (scan_ref, is_final, body_sha256) \
                  SELECT $1, $2, $3 FROM s ON CONFLICT DO NOTHING RETURNING scan_ref), \
         r AS (INSERT INTO result (scan_ref, kiosk_id, client_id, is_final, event, status) \
               SELECT $1, s.kiosk_id, $4, $2, $5, $6 FROM s, seen RETURNING kiosk_id), \
         a AS (INSERT INTO audit (kiosk_id, scan_ref, event, is_final, overall) \
               SELECT kiosk_id, $1, $7, $2, $8 FROM r), \
         k AS (UPDATE kiosk SET last_result_at = now() WHERE id IN (SELECT kiosk_id FROM r)), \
         n AS (SELECT pg_notify($9, kiosk_id::text) FROM r) \
         SELECT (SELECT kiosk_id FROM s), (SELECT count(*) FROM n) > 0",
    )
    .bind(&it.scan_ref)
    .bind(it.is_final)
    .bind(&it.digest)
    .bind(it.client_id.as_deref())
    .bind(it.event)
    .bind(&it.status)
    .bind(format!("webhook_{}", it.event.to_ascii_lowercase()))
    .bind(&it.overall)
    .bind(CHANNEL)
    .fetch_one(pool)
    .await?;
    Ok(kiosk.map(|_| {
        if fresh {
            Outcome::Stored
        } else {
            Outcome::Duplicate
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(scan_ref: &str, is_final: bool, digest: u8) -> Item {
        Item {
            scan_ref: scan_ref.into(),
            is_final,
            digest: vec![digest; 32],
            client_id: None,
            event: "AUTO_FINISHED",
            status: serde_json::Value::Null,
            overall: "APPROVED".into(),
        }
    }

    #[test]
    fn copies_in_one_batch_are_written_once_and_answered_as_duplicates() {
        let items = [
            item("a", true, 1),
            item("b", true, 1),
            item("a", true, 1),  // copy of 0
            item("a", false, 1), // another key: not final
            item("a", true, 2),  // another key: another body
            item("f", true, 1),  // foreign
            item("b", true, 1),  // copy of 1
        ];
        let (unique, first_of) = firsts(&items);
        assert_eq!(unique, [0, 1, 3, 4, 5]);
        assert_eq!(first_of, [0, 1, 0, 3, 4, 5, 1]);
        // The database stored 0, 3 and 4, had seen 1 before; 5 is not ours.
        let answers = HashMap::from([
            (0, Outcome::Stored),
            (1, Outcome::Duplicate),
            (3, Outcome::Stored),
            (4, Outcome::Stored),
        ]);
        let got: Vec<_> = answer_all(&first_of, &answers)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        use Outcome::{Duplicate as D, Stored as S};
        assert_eq!(
            got,
            [Some(S), Some(D), Some(D), Some(S), Some(S), None, Some(D)]
        );
    }
}
