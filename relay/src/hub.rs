//! Wakes long-polling kiosks. PostgreSQL `NOTIFY` (payload: the kiosk id)
//! reaches every instance's listener, which wakes that kiosk's waiters here.
//! A notification only wakes: waiters always re-read the `result` table, and
//! after any reconnect of the listener every waiter is woken to re-read it,
//! since notifications sent while it was away are lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use crate::db::CHANNEL;

/// Per-kiosk wake-ups for one instance. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Hub {
    kiosks: Arc<Mutex<HashMap<Uuid, Arc<Notify>>>>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Notify>>> {
        self.kiosks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The waker of `kiosk` (one per kiosk, kept while the instance runs: the
    /// map is bounded by the fleet's size).
    #[must_use]
    pub fn waker(&self, kiosk: Uuid) -> Arc<Notify> {
        self.lock().entry(kiosk).or_default().clone()
    }

    /// Wake the waiters of `kiosk`.
    pub fn wake(&self, kiosk: Uuid) {
        if let Some(n) = self.lock().get(&kiosk) {
            n.notify_waiters();
        }
    }

    /// Wake every waiter (after a reconnect: they re-read the table).
    pub fn wake_all(&self) {
        for n in self.lock().values() {
            n.notify_waiters();
        }
    }
}

/// Listen on [`CHANNEL`] until `stop` turns true, reconnecting for ever.
pub async fn listen(pool: PgPool, hub: Hub, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            return;
        }
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "result listener cannot connect; retrying");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            // Same back-off as a failed connect: a database that takes the
            // connection but refuses LISTEN (a read-only standby after a
            // failover) must not be hammered in a tight loop.
            tracing::warn!(error = %e, "result listener cannot LISTEN; retrying");
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
            continue;
        }
        backoff = Duration::from_millis(100);
        tracing::debug!("result listener connected");
        // Anything announced while we were away is in the table: re-read it.
        hub.wake_all();
        loop {
            tokio::select! {
                r = listener.try_recv() => match r {
                    Ok(Some(n)) => {
                        if let Ok(id) = n.payload().parse::<Uuid>() {
                            hub.wake(id);
                        }
                    }
                    Ok(None) => {
                        // The connection dropped; the next call reconnects.
                        tracing::warn!("result listener lost its connection");
                        hub.wake_all();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "result listener failed; reconnecting");
                        hub.wake_all();
                        break;
                    }
                },
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}
