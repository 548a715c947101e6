//! kyc-kiosk-relay: the back office a fleet of branch kiosks reaches with
//! outbound connections only. It holds the iDenfy credentials, creates tokens
//! and submits images for the kiosks, receives every webhook, and streams each
//! result to the one kiosk that created the verification.
//!
//! PostgreSQL is the only state: any number of instances serve one fleet.
//! The core crate (`kyc_kiosk`) supplies the iDenfy client, its models, the
//! webhook signature and the embedded sandbox; this crate never touches a
//! camera or an image's pixels.

/// The kiosk-facing API under `/kiosk/v1/`: bearer credential, token policy, results.
pub mod api;
/// Relay settings and the upstream (live iDenfy or the embedded sandbox), read at the edge.
pub mod config;
/// The connection pool, embedded migrations and readiness.
pub mod db;
/// The IT fleet page: one row per kiosk, no personal data.
pub mod fleet;
/// Wakes long-polling kiosks: PostgreSQL `LISTEN` plus per-kiosk waiters.
pub mod hub;
/// Enrolment, credentials, revocation and the per-branch client-ID rule.
pub mod kiosks;
/// Counters and a histogram in Prometheus text format.
pub mod metrics;
/// Deleting acknowledged and stale results (a timer and the `purge` command).
pub mod purge;
/// The one listener: routes, background tasks, start and shutdown.
pub mod server;
/// `POST /webhooks/idenfy`: signature, scanRef ownership, dedupe, store, NOTIFY.
pub mod webhook;

pub use config::{PublicUrl, UpstreamConfig};
pub use server::{Running, Settings};
